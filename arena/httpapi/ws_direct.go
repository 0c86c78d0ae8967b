package httpapi

import (
	"io"
	"sync"

	"github.com/agora-rlhf/agora/arena"
)

// writeNow writes f at once, from the goroutine sending it, when no
// frame is queued or being written: a token then reaches the socket
// without waking the writer goroutine, and a vote's acknowledgement leaves
// as soon as its reader has it. It never waits on the client: it writes
// what the socket takes without blocking, and leaves the rest of the frame
// to the writer (batchConn.tryFlush). It reports false when f must be
// queued instead.
func (cl *client) writeNow(f *arena.Frame) bool {
	if !cl.net.direct() || !cl.wmu.TryLock() {
		return false
	}
	defer cl.wmu.Unlock()
	cl.mu.Lock()
	idle := len(cl.queue) == 0 && !cl.slow
	cl.mu.Unlock()
	if !idle || !cl.net.gatherEmpty() {
		return false // behind what is queued, or the rest of a frame
	}
	buf := framePool.Get().(*[]byte)
	defer framePool.Put(buf)
	var ok bool
	if *buf, ok = cl.write(f, (*buf)[:0]); !ok {
		cl.net.discard()
		return true // the connection failed and is closed
	}
	if cap(*buf) > maxBatch {
		*buf = nil
	}
	done, err := cl.net.tryFlush(cl.s.cfg.WS.WriteWait)
	switch {
	case err != nil:
		cl.conn.NetConn().Close()
	case !done: // the socket is full: the writer sends the rest
		select {
		case cl.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// readMessage reads the next message into a pooled buffer; give it back
// with putReadBuf once nothing refers to its bytes. (Reading each message
// into a new slice was an allocation per vote.)
func (cl *client) readMessage() (int, *[]byte, error) {
	typ, r, err := cl.conn.NextReader()
	if err != nil {
		return typ, nil, err
	}
	buf := readPool.Get().(*[]byte)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return typ, buf, nil
		}
		if err != nil {
			*buf = b
			putReadBuf(buf)
			return typ, nil, err
		}
	}
}

// readPool holds the buffers messages are read into.
var readPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func putReadBuf(buf *[]byte) {
	if cap(*buf) > 64<<10 {
		return // a large message's; let it go
	}
	readPool.Put(buf)
}
