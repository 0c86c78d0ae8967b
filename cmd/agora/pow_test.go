package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/httpapi"
)

// serveUntilStopped runs "agora serve" with args in this process and
// returns its base URL and a function that stops it and waits.
func serveUntilStopped(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	e := env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: out, stderr: errOut}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), e) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return waitServing(t, out, errOut), stop
}

// powSolution gets a challenge from base and solves it.
func powSolution(t *testing.T, base string) string {
	t.Helper()
	var c httpapi.Challenge
	getJSON(t, base+"/api/v1/arena/challenge", "", &c)
	sol, err := httpapi.SolveChallenge(c.Challenge, c.Bits, 1<<30)
	if err != nil || c.Bits != 8 {
		t.Fatalf("challenge %+v: %v", c, err)
	}
	return sol
}

// dialPoW opens the arena's websocket with a proof of work and returns
// the upgrade's status.
func dialPoW(t *testing.T, base, solution string) int {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/arena/ws?pow=" + url.QueryEscape(solution)
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if conn != nil {
		conn.Close()
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	return resp.StatusCode
}

// TestProofOfWorkSurvivesRestart: a challenge issued by one server is
// redeemed by the next one on the same data directory, once; a solution
// redeemed before the restart is refused after it.
func TestProofOfWorkSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "agora.yaml")
	if err := os.WriteFile(cfg, []byte("proof_of_work:\n  bits: 8\n"+testRateLimits), 0o644); err != nil {
		t.Fatal(err)
	}
	base, stop := serveUntilStopped(t, "--config", cfg, "--data", data)
	unused, used := powSolution(t, base), powSolution(t, base)
	if code := dialPoW(t, base, used); code != http.StatusSwitchingProtocols {
		t.Fatalf("server 1, a fresh solution: status %d, want 101", code)
	}
	stop()

	base, _ = serveUntilStopped(t, "--config", cfg, "--data", data)
	for _, tc := range []struct {
		name, solution string
		want           int
	}{
		{"a challenge of server 1, unused", unused, http.StatusSwitchingProtocols},
		{"the same again", unused, http.StatusForbidden},
		{"redeemed by server 1", used, http.StatusForbidden},
		{"a challenge of server 2", powSolution(t, base), http.StatusSwitchingProtocols},
	} {
		if code := dialPoW(t, base, tc.solution); code != tc.want {
			t.Errorf("server 2, %s: status %d, want %d", tc.name, code, tc.want)
		}
	}
}
