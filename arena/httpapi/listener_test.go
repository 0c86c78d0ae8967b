package httpapi_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/httpapi"
)

// TestListenerShedsIdleForNew fills the listener's cap with connections
// that send no request, then with one whose request is in progress: a new
// client is still served, by closing the oldest idle connection, and the
// busy one is never closed.
func TestListenerShedsIdleForNew(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := httpapi.NewListener(ln, 4)
	lim.ShedAfter = 0
	release := make(chan struct{})
	srv := &http.Server{ConnState: lim.ConnState, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	})}
	go srv.Serve(lim)
	t.Cleanup(func() { close(release); srv.Close() })
	addr := ln.Addr().String()

	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	var idle []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // headers that never end
		idle = append(idle, c)
	}
	for lim.Open() < 4 {
		time.Sleep(time.Millisecond)
	}
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close() // kept open: each new client needs a slot of its own
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("new client %d at the cap: %v", i, err)
		}
		resp.Body.Close()
		if n := lim.Open(); n > 4 {
			t.Errorf("open connections = %d, want at most 4", n)
		}
	}
	for i, c := range idle {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("idle connection %d still open", i)
			}
		}
	}
	busy.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := busy.Read(make([]byte, 1)); err == io.EOF {
		t.Error("the connection with a request in progress was closed")
	}
}
