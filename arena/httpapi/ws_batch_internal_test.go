package httpapi

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestTryFlushLeavesTheRest writes more than a socket takes at once
// through tryFlush, over real loopback TCP with a peer that is not
// reading: tryFlush must not wait, must keep what the socket refused
// (with a control frame written meanwhile behind it), and flush must then
// deliver every byte in order.
func TestTryFlushLeavesTheRest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	server.(*net.TCPConn).SetWriteBuffer(4096)
	raw, _ := server.(syscall.Conn).SyscallConn()
	c := &batchConn{Conn: server, raw: raw}

	frame := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: more than the socket buffers
	if !c.gatherEmpty() {
		t.Fatal("gatherEmpty: a fresh connection has nothing gathered")
	}
	c.Write(frame)
	done, err := c.tryFlush(time.Second)
	if err != nil || done {
		t.Fatalf("tryFlush of 1 MiB to a peer that does not read = %v, %v; want false, nil", done, err)
	}
	if c.gatherEmpty() {
		t.Fatal("gatherEmpty: true with the rest of a frame gathered")
	}
	c.Write([]byte("control")) // joins the rest, as a pong would
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	if err := c.flush(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if b := <-got; !bytes.Equal(b, append(frame, "control"...)) {
		t.Fatalf("peer read %d bytes, want the frame's %d then the control frame's, in order", len(b), len(frame))
	}
}
