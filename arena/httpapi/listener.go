package httpapi

import (
	"container/list"
	"net"
	"net/http"
	"sync"
	"time"
)

// Listener caps the connections the accept loop holds at once, so that
// the process never runs out of file descriptors (and /healthz, the store
// and the model streams always have one).
//
// netutil.LimitListener would block the accept loop at the cap: whoever
// holds the slots (idle keep-alives, headers sent a byte at a time) then
// decides who is served next. Listener instead makes room by closing the
// oldest connection that has no request in progress (http.StateNew: its
// request's headers are not all in yet; http.StateIdle: between requests),
// once it is ShedAfter old. Holding connections open then buys an attacker
// nothing; a connection whose request is being served (a body being read,
// an answer written) is never cut, and is bounded by the server's
// timeouts. Install ConnState as the http.Server's ConnState.
type Listener struct {
	net.Listener
	max int
	// ShedAfter is how long a connection without a request in progress
	// is left alone before it may be closed to make room (default 1s:
	// any client that means to send a request has sent its headers).
	ShedAfter time.Duration

	wake chan struct{} // a slot may have freed (capacity 1)
	done chan struct{} // closed by Close

	mu     sync.Mutex // guards the fields below
	conns  *list.List // of *trackedConn, oldest first
	closed bool
}

// NewListener returns ln capped at max open connections.
func NewListener(ln net.Listener, max int) *Listener {
	return &Listener{Listener: ln, max: max, ShedAfter: time.Second,
		wake: make(chan struct{}, 1), done: make(chan struct{}), conns: list.New()}
}

// trackedConn is one accepted connection.
type trackedConn struct {
	net.Conn
	l    *Listener
	at   time.Time     // accepted
	elem *list.Element // in l.conns; nil once released (guarded by l.mu)
	idle bool          // StateNew or StateIdle (guarded by l.mu)
	once sync.Once
}

// Accept waits for a free slot, making one if it can, then accepts.
func (l *Listener) Accept() (net.Conn, error) {
	var slot *list.Element
	for slot = l.reserve(); slot == nil; slot = l.reserve() {
		select {
		case <-l.wake:
		case <-time.After(50 * time.Millisecond): // a connection may have grown old enough to shed
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.conns.Remove(slot)
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l, at: time.Now(), idle: true, elem: slot}
	slot.Value = tc
	return tc, nil
}

// reserve takes a slot (a placeholder at the back of conns), shedding the
// oldest idle connection if there is no free one; nil means none.
func (l *Listener) reserve() *list.Element {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns.Len() >= l.max && !l.shedOldest() {
		return nil
	}
	return l.conns.PushBack(nil)
}

// shedOldest closes the oldest connection without a request in progress,
// if one is old enough; l.mu must be held.
func (l *Listener) shedOldest() bool {
	cutoff := time.Now().Add(-l.ShedAfter)
	for e := l.conns.Front(); e != nil; e = e.Next() {
		tc, _ := e.Value.(*trackedConn)
		if tc == nil || !tc.idle {
			continue
		}
		if tc.at.After(cutoff) {
			return false // the rest are younger still
		}
		l.conns.Remove(e)
		tc.elem = nil
		tc.Conn.Close() // the server's goroutine sees the error and ends
		return true
	}
	return false
}

// ConnState follows each connection's state, for http.Server.ConnState.
func (l *Listener) ConnState(c net.Conn, st http.ConnState) {
	tc, ok := c.(*trackedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	tc.idle = st == http.StateNew || st == http.StateIdle
	l.mu.Unlock()
	if tc.idle {
		l.signal()
	}
}

// Close stops accepting.
func (l *Listener) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

// Open returns the number of connections held.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns.Len()
}

func (l *Listener) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Close closes the connection and frees its slot.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.elem != nil {
			c.l.conns.Remove(c.elem)
			c.elem = nil
		}
		c.l.mu.Unlock()
		c.l.signal()
	})
	return c.Conn.Close()
}
