package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/cmd/agora/agoratest"
)

// TestMain lets the test binary act as the agora binary: a test starts
// os.Args[0] with AGORA_TEST_MAIN=1 to run a real agora subprocess (which
// it can then kill).
func TestMain(m *testing.M) {
	if os.Getenv("AGORA_TEST_MAIN") == "1" {
		limitFiles(os.Getenv("AGORA_TEST_NOFILE"))
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type syncBuffer = agoratest.SyncBuffer

// waitServing waits until out shows the serving line and returns the URL.
func waitServing(t testing.TB, out *syncBuffer, errOut fmt.Stringer) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if u, ok := agoratest.ServingURL(out.String()); ok {
			return u
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server did not start; stdout:\n%s\nstderr:\n%s", out, errOut)
	return ""
}

// fastConfig writes a configuration with quick demo models and returns its path.
func fastConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agora.yaml")
	// Many contributors from one address (the tests'), as fast as they go.
	cfg := "demo:\n  enabled: true\n  token_delay: 1ms\n" + testLimits
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testRateLimits lifts the limits per address and the rate limits, for
// tests and benchmarks that run many contributors from loopback.
const testRateLimits = "limits:\n  connections_per_address: 0\n  connections_per_contributor: 0\n" +
	"  battle_starts: {per_contributor: {per_minute: 0}, per_address: {per_minute: 0}, per_new_contributor: {per_minute: 0}}\n" +
	"  votes: {per_contributor: {per_minute: 0}, per_address: {per_minute: 0}, per_new_contributor: {per_minute: 0}}\n"

// testRates is testRateLimits with gold battles off, so that every vote
// counts.
const testRates = "gold:\n  share: 0\n" + testRateLimits

// testLimits is testRates without the caps on unvoted battles either.
const testLimits = testRates + testPendingCaps

// testPendingCaps lifts the caps on unvoted battles (a line of limits:).
const testPendingCaps = "  pending_battles_per_contributor: 0\n  pending_bytes_per_contributor: 0\n"

// serveInProcess runs "agora serve" in this process until the test ends
// and returns its base URL.
func serveInProcess(t testing.TB, args ...string) string {
	t.Helper()
	return serveInProcessEnv(t, nil, args...)
}

// serveInProcessEnv is serveInProcess with the environment vars.
func serveInProcessEnv(t testing.TB, vars map[string]string, args ...string) string {
	t.Helper()
	url, stop := serveInProcessStop(t, vars, args...)
	t.Cleanup(stop)
	return url
}

// serveInProcessStop is serveInProcessEnv that leaves stopping the
// server, with the function it returns, to the caller.
func serveInProcessStop(t testing.TB, vars map[string]string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	e := env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: out, stderr: errOut}
	done := make(chan error, 1)
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)
	go func() { done <- run(ctx, args, e) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	return waitServing(t, out, errOut), stop
}

// subprocess is a real agora process.
type subprocess struct {
	cmd         *exec.Cmd
	out, errOut *syncBuffer
	url         string
}

func startSubprocess(t testing.TB, args ...string) *subprocess {
	t.Helper()
	return startSubprocessEnv(t, nil, args...)
}

// startSubprocessEnv is startSubprocess with more environment variables.
func startSubprocessEnv(t testing.TB, env []string, args ...string) *subprocess {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "AGORA_TEST_MAIN=1"), env...)
	p := &subprocess{cmd: cmd, out: &syncBuffer{}, errOut: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	p.url = waitServing(t, p.out, p.errOut)
	return p
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{nil, 2, "Commands:"},
		{[]string{"--help"}, 0, "serve"},
		{[]string{"nope"}, 2, "Commands:"},
		{[]string{"serve", "--help"}, 0, "-addr"},
		{[]string{"serve", "--bogus"}, 2, "-addr"},
		{[]string{"serve", "extra"}, 2, ""},
	}
	for _, tt := range tests {
		out := &syncBuffer{}
		e := env{getenv: func(string) string { return "" }, stdout: out, stderr: out}
		err := run(context.Background(), tt.args, e)
		if code := exitCode(err); err == nil || code != tt.wantCode {
			t.Errorf("agora %v: err %v, exit %d; want exit %d", tt.args, err, code, tt.wantCode)
		}
		if !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("agora %v printed %q, want it to contain %q", tt.args, out, tt.wantOut)
		}
	}
}

func TestServeBadConfiguration(t *testing.T) {
	tests := []struct {
		name, yaml, field string
	}{
		{"unknown field", "server:\n  adress: x\n", "adress"},
		{"no model id", "models:\n  - {name: a, base_url: 'http://h/v1'}\n  - {name: b, base_url: 'http://h/v1', model: m}\n", "models[0].model"},
		{"duplicate name", "models:\n  - {name: a, base_url: 'http://h/v1', model: m}\n  - {name: a, base_url: 'http://h/v1', model: m}\n", "models[1].name"},
		{"bad url", "models:\n  - {name: a, base_url: 'ftp://h/v1', model: m}\n  - {name: b, base_url: 'http://h/v1', model: m}\n", "models[0].base_url"},
		{"bad duration", "arena:\n  vote_window: soon\n", "duration"},
		{"bad temperature", "models:\n  - {name: a, base_url: 'http://h/v1', model: m, temperature: 7}\n  - {name: b, base_url: 'http://h/v1', model: m}\n", "models[0].temperature"},
		{"missing key", "models:\n  - {name: a, base_url: 'http://h/v1', model: m, api_key_env: NO_SUCH_KEY}\n  - {name: b, base_url: 'http://h/v1', model: m}\n", "models[0].api_key_env"},
		{"zero turns", "arena:\n  max_turns: 0\n", "arena.max_turns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			os.WriteFile(path, []byte(tt.yaml), 0o644)
			out := &syncBuffer{}
			e := env{getenv: func(string) string { return "" }, stdout: out, stderr: out}
			err := run(context.Background(), []string{"serve", "--config", path, "--data", t.TempDir()}, e)
			if exitCode(err) != 2 || !strings.Contains(fmt.Sprint(err), tt.field) {
				t.Errorf("serve with %q: %v (exit %d); want exit 2 naming %q", tt.yaml, err, exitCode(err), tt.field)
			}
		})
	}
}
