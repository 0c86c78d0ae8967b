package httpapi

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// batchConn is the connection under a client's websocket. While its
// writer collects, the frames the websocket writes gather in one buffer
// and reach the socket in one write: a write to a socket costs more than
// the frame in it, and frames queue up in bursts (both sides' tokens, a
// token and the done after it). Control frames the reader answers (pong,
// close) join the batch if one is gathering, else go out at once.
type batchConn struct {
	net.Conn
	raw     syscall.RawConn // the socket's, for tryFlush; nil if Conn is no socket
	mu      sync.Mutex
	collect bool
	buf     []byte
}

// maxBatch is about the most a batch gathers before it is written.
const maxBatch = 64 << 10

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.collect {
		if c.buf == nil {
			c.buf = (*batchPool.Get().(*[]byte))[:0]
		}
		c.buf = append(c.buf, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// direct reports whether tryFlush can write to the socket without
// waiting (the connection is a socket).
func (c *batchConn) direct() bool { return c.raw != nil }

// gatherEmpty starts a batch if nothing is gathered, and reports whether
// it did: a batch still holding the rest of a frame must be flushed first.
func (c *batchConn) gatherEmpty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.collect {
		return false
	}
	c.collect = true
	return true
}

// tryFlush writes as much of the batch as the socket takes now, without
// waiting, and reports whether that was all of it. Whatever is left stays
// gathered, and control frames join it behind, until flush writes it.
func (c *batchConn) tryFlush(wait time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Conn.SetWriteDeadline(time.Now().Add(wait)) // rc.Write refuses at once after a past deadline
	var n int
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), c.buf)
		return true // never wait for the socket
	})
	if err == nil && werr != nil && werr != syscall.EAGAIN && werr != syscall.EINTR {
		err = werr
	}
	if err != nil {
		return false, err
	}
	n = max(n, 0)
	if n < len(c.buf) {
		c.buf = c.buf[:copy(c.buf, c.buf[n:])]
		return false, nil
	}
	putBatch(c.buf)
	c.buf, c.collect = nil, false
	return true, nil
}

// gather starts a batch.
func (c *batchConn) gather() {
	c.mu.Lock()
	c.collect = true
	c.mu.Unlock()
}

// full reports whether the batch is big enough to be written now.
func (c *batchConn) full() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf) >= maxBatch
}

// flush writes the batch within wait and ends it. The buffer is dropped
// when it is empty afterwards, so an idle connection holds none.
func (c *batchConn) flush(wait time.Duration) error {
	c.mu.Lock()
	data := c.buf
	c.buf, c.collect = nil, false
	c.mu.Unlock()
	if data == nil {
		return nil
	}
	defer putBatch(data)
	c.Conn.SetWriteDeadline(time.Now().Add(wait))
	_, err := c.Conn.Write(data)
	return err
}

// batchPool holds the buffers batches gather in, between batches.
var batchPool = sync.Pool{New: func() any { return new([]byte) }}

func putBatch(b []byte) {
	if cap(b) > 2*maxBatch {
		return // a burst's; let it go
	}
	batchPool.Put(&b)
}

// discard ends the batch without writing it: the connection has failed.
func (c *batchConn) discard() {
	c.mu.Lock()
	data := c.buf
	c.buf, c.collect = nil, false
	c.mu.Unlock()
	if data != nil {
		putBatch(data)
	}
}

// batchHijacker hands the websocket upgrader a batchConn in place of the
// hijacked connection.
type batchHijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *batchHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: conn}
	if sc, ok := conn.(syscall.Conn); ok {
		h.conn.raw, _ = sc.SyscallConn()
	}
	return h.conn, rw, nil
}
