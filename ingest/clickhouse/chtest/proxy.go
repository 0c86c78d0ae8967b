package chtest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy relays TCP connections to a target and can cut one of them at a
// chosen moment, to give a client the ambiguous failure of a connection
// that drops after the server received a request.
type Proxy struct {
	Addr string // where clients connect

	target string
	ln     net.Listener

	mu    sync.Mutex // guards the fields below
	conns map[net.Conn]bool
	cut   *cutRule
	cuts  int
	down  bool
}

// cutRule arms a cut: the first connection whose client sends marker and
// then at least after more bytes stops receiving the server's replies, and
// is closed hold later.
type cutRule struct {
	marker []byte
	after  int
	hold   time.Duration
}

// NewProxy starts a proxy to target and closes it when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// CutAfter arms the proxy: on the first connection whose client sends
// marker followed by at least after more bytes, every byte the client sends
// still reaches the server, but the server's replies are dropped, and hold
// later both sides are closed. Before a cut, marker must not be seen again
// by another rule; each call arms one cut.
func (p *Proxy) CutAfter(marker string, after int, hold time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = &cutRule{marker: []byte(marker), after: after, hold: hold}
}

// Cuts returns how many connections were cut.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// SetDown makes the proxy refuse new connections and drop open ones
// (down), or relay again.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	var open []net.Conn
	if down {
		for c := range p.conns {
			open = append(open, c)
		}
	}
	p.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.SetDown(true)
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		go p.relay(c)
	}
}

func (p *Proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) relay(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		client.Close()
		return
	}
	p.track(client, true)
	p.track(server, true)
	defer func() {
		client.Close()
		server.Close()
		p.track(client, false)
		p.track(server, false)
	}()
	var blackhole atomic.Bool // set: the server's bytes are dropped
	go relayBack(server, client, &blackhole)
	p.relayForth(client, server, &blackhole)
}

// relayBack copies the server's bytes to the client, dropping them once
// blackhole is set.
func relayBack(server, client net.Conn, blackhole *atomic.Bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 && !blackhole.Load() {
			if _, err := client.Write(buf[:n]); err != nil {
				server.Close()
				return
			}
		}
		if err != nil {
			client.Close()
			return
		}
	}
}

// relayForth copies the client's bytes to the server, always, watching
// for the armed marker: once the rule's bytes past it have gone, the
// server's answers are blackholed, and both ends are cut after the rule's
// hold.
func (p *Proxy) relayForth(client, server net.Conn, blackhole *atomic.Bool) {
	var w markerWatch
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
			if w.rule == nil {
				p.mu.Lock()
				w.rule = p.cut
				p.mu.Unlock()
			}
			if w.sent(buf[:n]) && p.claim(w.rule) {
				blackhole.Store(true)
				hold := w.rule.hold
				go func() {
					// Keep relaying the client's bytes for hold, then cut.
					time.Sleep(hold)
					client.Close()
					server.Close()
				}()
				w = markerWatch{}
			}
		}
		if err != nil {
			if err != io.EOF {
				server.Close()
			}
			return
		}
	}
}

// markerWatch finds a cut rule's marker in a stream of writes and counts
// the bytes sent after it.
type markerWatch struct {
	rule   *cutRule
	window []byte // the tail of what the client sent, to find the marker across reads
	found  bool   // the marker has been sent
	seen   int    // bytes sent since the marker
}

// sent notes b as sent, and reports whether the rule's bytes past its
// marker have all gone.
func (w *markerWatch) sent(b []byte) bool {
	switch {
	case w.rule == nil:
		return false
	case !w.found:
		w.window = append(w.window, b...)
		if i := bytes.Index(w.window, w.rule.marker); i >= 0 {
			w.found, w.seen = true, len(w.window)-i-len(w.rule.marker)
		} else if len(w.window) > len(w.rule.marker) {
			w.window = append(w.window[:0], w.window[len(w.window)-len(w.rule.marker):]...)
		}
	default:
		w.seen += len(b)
	}
	return w.found && w.seen >= w.rule.after
}

// claim disarms rule for the connection that triggered it, reporting false
// if another connection got there first.
func (p *Proxy) claim(rule *cutRule) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut != rule {
		return false
	}
	p.cut = nil
	p.cuts++
	return true
}
