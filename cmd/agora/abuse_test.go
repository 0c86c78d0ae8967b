package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/ingest/store"
)

// The abuse tests run a real agora against real sockets, each reproducing
// one way a single client could take the service from everyone else.

// abuseConfig writes a configuration with quick demo models and the given
// limits (YAML lines under "limits:"), and returns its path.
func abuseConfig(t testing.TB, limits string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agora.yaml")
	cfg := "demo:\n  enabled: true\n  token_delay: 1ms\ngold:\n  share: 0\nlimits:\n" + limits
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// shortTimeouts are HTTP timeouts short enough to wait for in a test.
const shortTimeouts = "  timeouts: {read_header: 300ms, read: 600ms, write: 2s, idle: 300ms}\n"

// closedWithin reads from conn until the server closes it, and returns an
// error if it is still open after limit (the test's patience, far above
// the timeouts under test).
func closedWithin(conn net.Conn, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	conn.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return time.Since(start), fmt.Errorf("still open after %s", limit)
	}
	return time.Since(start), nil
}

// TestSlowClientsClosed holds a connection in each slow way: headers that
// never end, a body that never comes, a keep-alive connection left idle.
// The server closes each within its timeout.
func TestSlowClientsClosed(t *testing.T) {
	base := serveInProcess(t, "--config", abuseConfig(t, shortTimeouts))
	addr := strings.TrimPrefix(base, "http://")
	cases := []struct {
		name, send string
		answer     bool // read one answer before waiting for the close
	}{
		{"slow header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1", false},
		{"slow body", "POST /demo/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"mo", false},
		{"idle keep-alive", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", true},
	}
	for _, tc := range cases {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, tc.send); err != nil {
			t.Fatal(err)
		}
		if tc.answer {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		took, err := closedWithin(conn, 10*time.Second)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		t.Logf("%s: closed by the server after %s", tc.name, took.Round(time.Millisecond))
	}
}

// TestRefusedBeforeBody sends a large body to a route that refuses the
// request (no token): the answer comes before any of the body is sent,
// and the server closes the connection instead of reading the body.
func TestRefusedBeforeBody(t *testing.T) {
	base := serveInProcess(t, "--config", abuseConfig(t, shortTimeouts))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /api/v1/labs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Errorf("answer = %d, Connection: close %v; want 401 and the connection closed", resp.StatusCode, resp.Close)
	}
	if _, err := closedWithin(conn, 10*time.Second); err != nil {
		t.Errorf("after the refusal: %v", err)
	}
}

// TestRetriedVoteAfterSIGKILL commits a vote, kills the server before the
// client has read the acknowledgement, restarts it, and retries the vote:
// the answer is the original voted, with the same vote_id.
func TestRetriedVoteAfterSIGKILL(t *testing.T) {
	data, cfg := t.TempDir(), fastConfig(t)
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	hello, err := dialToken(p.url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer hello.conn.Close()
	id := readyBattle(t, hello.conn, "Name a prime.")
	vote := map[string]any{"type": "vote", "battle_id": id, "winner": "a", "strength": "slight"}
	if err := hello.conn.WriteJSON(vote); err != nil {
		t.Fatal(err)
	}
	// Wait for the commit in the store (read by this process), then kill:
	// the acknowledgement is never read.
	committed := waitVote(t, filepath.Join(data, "agora.db"), id)
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()

	p = startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	again, err := dialToken(p.url, hello.token)
	if err != nil {
		t.Fatal(err)
	}
	defer again.conn.Close()
	var f map[string]any
	if err := again.conn.WriteJSON(vote); err != nil || again.conn.ReadJSON(&f) != nil {
		t.Fatalf("retry after restart: %v", err)
	}
	if f["type"] != "voted" || f["vote_id"] != committed || f["battle_id"] != id || f["model_a"] == nil {
		t.Errorf("retried vote after SIGKILL = %v; want voted with vote_id %s", f, committed)
	}
}

// readyBattle starts a battle on conn and reads until it is ready.
func readyBattle(t *testing.T, conn interface {
	WriteJSON(any) error
	ReadJSON(any) error
}, prompt string) string {
	t.Helper()
	if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": prompt}); err != nil {
		t.Fatal(err)
	}
	var id string
	for {
		var f map[string]any
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		switch f["type"] {
		case "battle":
			id = f["battle_id"].(string)
		case "error":
			t.Fatalf("error frame %v", f)
		case "ready":
			return id
		}
	}
}

// waitVote polls the store at path until battle id has a vote, and returns
// the vote's id.
func waitVote(t *testing.T, path, id string) string {
	t.Helper()
	store, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if v, err := store.VoteForBattle(context.Background(), id); err == nil {
			return v.ID
		}
	}
	t.Fatalf("the vote on %s was never committed", id)
	return ""
}

// dialFrom opens the arena websocket from the loopback address from, with
// header, and returns the connection after its hello, or the HTTP status
// of the refusal.
func dialFrom(t *testing.T, base, from string, header http.Header) (*websocket.Conn, int) {
	t.Helper()
	d := websocket.Dialer{NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/arena/ws", header)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial from %s: %v", from, err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var hello map[string]any
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello: %v, %v", hello, err)
	}
	return conn, http.StatusSwitchingProtocols
}

// TestAddressCapDoesNotLockOthersOut fills one address's connection cap
// on a real server with the default limits, from fresh identities and
// with spoofed X-Forwarded-For headers: the address is refused beyond its
// cap, and another address connects and finishes a battle.
func TestAddressCapDoesNotLockOthersOut(t *testing.T) {
	base := serveInProcess(t, "--config", abuseConfig(t, "  connections_per_address: 32\n"))
	for i := range 32 {
		spoof := http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i)}}
		if _, status := dialFrom(t, base, "127.0.0.1", spoof); status != http.StatusSwitchingProtocols {
			t.Fatalf("connection %d: status %d", i, status)
		}
	}
	for _, h := range []http.Header{nil, {"X-Forwarded-For": {"198.51.100.1"}}, {"Cf-Connecting-Ip": {"198.51.100.2"}}} {
		if _, status := dialFrom(t, base, "127.0.0.1", h); status != http.StatusTooManyRequests {
			t.Errorf("connection 33 with %v: status %d, want 429 (a spoofed header from an untrusted peer is ignored)", h, status)
		}
	}
	conn, status := dialFrom(t, base, "127.0.0.2", nil)
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("another address: status %d", status)
	}
	if f, err := battleOnce(conn, "Still open for others?", "a"); err != nil || f["type"] != "voted" {
		t.Errorf("another address's battle: %v, %v", f, err)
	}
}

// TestScriptOverTheLimitIsRateLimited starts battles from one identity as
// fast as it can against the default limits: past the burst the answer is
// rate_limited with a retry time.
func TestScriptOverTheLimitIsRateLimited(t *testing.T) {
	base := serveInProcess(t, "--config", abuseConfig(t, ""))
	conn, _ := dialFrom(t, base, "127.0.0.1", nil)
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("100 battles from one identity and never rate limited")
		}
		f, err := battleOnce(conn, fmt.Sprintf("script %d", i), "a")
		if err == nil {
			continue
		}
		if !strings.Contains(err.Error(), "rate_limited") || !strings.Contains(err.Error(), "retry_after_ms") {
			t.Fatalf("battle %d: %v, %v; want rate_limited with retry_after_ms", i, f, err)
		}
		t.Logf("rate limited after %d battles: %v", i, err)
		return
	}
}

// TestPendingCapOnRealServer starts battles and never votes: beyond the
// cap the oldest are abandoned, the newest can still be voted on.
func TestPendingCapOnRealServer(t *testing.T) {
	base := serveInProcess(t, "--config", abuseConfig(t, "  pending_battles_per_contributor: 5\n"+
		"  battle_starts: {per_contributor: {per_minute: 0}, per_address: {per_minute: 0}, per_new_contributor: {per_minute: 0}}\n"))
	conn, _ := dialFrom(t, base, "127.0.0.1", nil)
	var ids []string
	for i := range 12 {
		ids = append(ids, readyBattle(t, conn, fmt.Sprintf("never voted %d", i)))
	}
	for i, id := range ids {
		var f map[string]any
		if err := conn.WriteJSON(map[string]any{"type": "vote", "battle_id": id, "winner": "tie"}); err != nil || conn.ReadJSON(&f) != nil {
			t.Fatal(err)
		}
		want := "not_found"
		if i >= len(ids)-5 {
			want = "voted"
		}
		if got := f["type"]; got != want && f["code"] != want {
			t.Errorf("vote on battle %d of %d: %v, want %s", i, len(ids), f, want)
		}
	}
}

// TestManySlowConnectionsUnderFileLimit runs a real agora with a file
// limit of 512 and opens 600 connections that hold it: headers sent a
// byte short, bodies that never come, keep-alive connections left idle.
// /healthz still answers, a contributor still fights a battle, and the
// process never runs out of descriptors.
func TestManySlowConnectionsUnderFileLimit(t *testing.T) {
	// The default timeouts: the slow connections outlive the test, so
	// only the accept loop's cap and shedding keep the server up.
	cfg := filepath.Join(t.TempDir(), "agora.yaml")
	if err := os.WriteFile(cfg, []byte("demo:\n  enabled: true\n  token_delay: 1ms\n"+testLimits), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startSubprocessEnv(t, []string{"AGORA_TEST_NOFILE=512"}, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--config", cfg)
	addr := strings.TrimPrefix(p.url, "http://")
	holds := []string{
		"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1",
		"POST /demo/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"mo",
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", // answered, then left idle
	}
	for i := range 600 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer conn.Close()
		io.WriteString(conn, holds[i%len(holds)])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(p.url + "/healthz")
	if err != nil {
		t.Fatalf("/healthz with 600 slow connections and a file limit of 512: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	conn := dialWS(t, p.url)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := battleOnce(conn, "Still serving?", "b"); err != nil {
		t.Errorf("a battle beside 600 slow connections: %v", err)
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	t.Logf("the server holds %d descriptors of 512", len(fds))
	if strings.Contains(p.errOut.String(), "too many open files") {
		t.Errorf("the server ran out of descriptors:\n%s", p.errOut)
	}
}
