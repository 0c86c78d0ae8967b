package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
)

// The floor of BenchmarkLoadtestAgreement: the least server that answers
// "agora loadtest --mode votes" — a websocket endpoint at the arena's path
// that says hello, answers each start with a battle and its ready frame
// and each vote with an acknowledgement, and does nothing else. Run in
// the benchmark's process and in a process of its own, it measures what
// the process boundary itself costs (two runtimes, threads woken across
// processes) over the same loopback TCP, client and frames.

// floorEnv, set to 1, makes this test binary a floor server: it prints
// the line "agora serve" prints and serves until killed.
const floorEnv = "AGORA_TEST_FLOOR"

func init() {
	if os.Getenv(floorEnv) != "1" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("serving the arena on http://%s/ (floor)\n", ln.Addr())
	fmt.Fprintln(os.Stderr, http.Serve(ln, floorHandler{}))
	os.Exit(1)
}

// floorHandler is the floor server's HTTP handler.
type floorHandler struct{}

func (floorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/arena/ws" {
		http.NotFound(w, r) // no proof of work
		return
	}
	conn, rw, err := upgradeFloor(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer conn.Close()
	serveFloor(rw)
}

// upgradeFloor answers a websocket handshake (RFC 6455 section 4.2.2).
func upgradeFloor(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.ReadWriter, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return nil, nil, errors.New("not a websocket handshake")
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
	return conn, rw, rw.Flush()
}

// serveFloor answers frames until the connection ends.
func serveFloor(rw *bufio.ReadWriter) {
	battles := 0
	answer := func(frames ...string) error {
		for _, f := range frames {
			writeFloorFrame(rw.Writer, f)
		}
		return rw.Flush() // one write a request, as the arena's writer
	}
	if answer(`{"type":"hello"}`) != nil {
		return
	}
	for {
		msg, err := readFloorFrame(rw.Reader)
		if err != nil {
			return
		}
		switch {
		case bytes.HasPrefix(msg, []byte(`{"type":"start"`)):
			battles++
			id := `"f` + strconv.Itoa(battles) + `"`
			err = answer(`{"type":"battle","battle_id":`+id+`,"max_turns":1}`, `{"type":"ready","battle_id":`+id+`}`)
		case bytes.HasPrefix(msg, []byte(`{"type":"vote"`)):
			err = answer(`{"type":"voted","battle_id":"f"}`)
		default:
			err = answer(`{"type":"error","code":"invalid"}`)
		}
		if err != nil {
			return
		}
	}
}

// readFloorFrame reads one masked client frame and returns its payload;
// a close frame ends the connection.
func readFloorFrame(r *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	if h[0]&0x0f == 8 {
		return nil, io.EOF
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 || h[1]&0x80 == 0 {
		return nil, errors.New("frame too large or not masked")
	}
	buf := make([]byte, 4+n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	msg := buf[4:]
	for i := range msg {
		msg[i] ^= buf[i%4]
	}
	return msg, nil
}

// writeFloorFrame writes a text frame (payloads under 64 KiB).
func writeFloorFrame(w *bufio.Writer, payload string) {
	w.WriteByte(0x81)
	if n := len(payload); n < 126 {
		w.WriteByte(byte(n))
	} else {
		w.Write([]byte{126, byte(n >> 8), byte(n)})
	}
	w.WriteString(payload)
}

// TestFloorServer runs the load tester against the floor server, so that
// the benchmark's floor is known to answer what it is asked.
func TestFloorServer(t *testing.T) {
	rep := loadtestRun(t, floorInProcess(t), 0, 4, 40, 1000, 0)
	if rep.Votes != 40 || rep.VoteAck.Count != 40 || len(rep.Errors) != 0 {
		t.Errorf("floor: %d votes, %d measured, errors %v; want 40, 40, none", rep.Votes, rep.VoteAck.Count, rep.Errors)
	}
}
