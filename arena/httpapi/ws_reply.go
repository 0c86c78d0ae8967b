package httpapi

import (
	"io"
	"sync"

	"github.com/agora-rlhf/agora/arena"
)

// reply sends f, the answer to the request the reader is handling. When
// no frame is queued or being written, the reader writes it itself: a
// vote's acknowledgement then leaves at once, without waking the writer
// goroutine (one goroutine switch less on the path every vote waits on).
// Otherwise f is queued behind the others, as sink does. Either way the
// client's frames keep their order. A slow client can only hold up its
// own reader (for at most the write timeout, or until sink drops it);
// streams never write, they queue.
func (cl *client) reply(f arena.Frame) {
	if !cl.wmu.TryLock() {
		cl.sink(f)
		return
	}
	cl.mu.Lock()
	idle := len(cl.queue) == 0 && !cl.slow
	cl.mu.Unlock()
	if !idle {
		cl.wmu.Unlock()
		cl.sink(f)
		return
	}
	defer cl.wmu.Unlock()
	buf := framePool.Get().(*[]byte)
	defer framePool.Put(buf)
	*buf, _ = cl.write(&f, (*buf)[:0]) // a failed write closed the connection
	if cap(*buf) > maxBatch {
		*buf = nil
	}
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
