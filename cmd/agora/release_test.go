package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReleaseCommand builds a release of a stopped server's store twice:
// the same bytes; agora verify proves a vote in it offline, refuses a
// changed file, and, with the server running again, finds the release
// among the log's leaves.
func TestReleaseCommand(t *testing.T) {
	data, cfg := t.TempDir(), ledgerConfig(t, "")
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	voteN(t, p.url, 4, 20, "release")
	key := strings.TrimSpace(string(httpGet(t, p.url+"/log/key")))
	waitCheckpoint(t, p.url, key, 20)
	p.stop(t)

	one, two := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")
	out, _, err := runAgora(t, "release", "--data", data, "--config", cfg, "--output", one)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`log state: (\d+) leaves`).FindStringSubmatch(out)
	leaf := regexp.MustCompile(`release leaf: (\d+)`).FindStringSubmatch(out)
	if m == nil || m[1] != "20" || leaf == nil || leaf[1] != "20" {
		t.Fatalf("release output, want a state of 20 leaves and release leaf 20:\n%s", out)
	}
	if out, _, err := runAgora(t, "release", "--data", data, "--config", cfg, "--output", two, "--log-size", m[1]); err != nil || !strings.Contains(out, "release leaf: 20") {
		t.Fatalf("release again: %v\n%s", err, out)
	}
	files, _ := os.ReadDir(one)
	if len(files) != 6 {
		t.Errorf("release has %d files, want 6", len(files))
	}
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(one, f.Name()))
		b, _ := os.ReadFile(filepath.Join(two, f.Name()))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of one release", f.Name())
		}
	}
	if out, _, err := runAgora(t, "verify", "--release", one, "--leaf", "3"); err != nil || strings.Count(out, "ok ") != 3 {
		t.Errorf("verify --release: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(two, "data.jsonl"), []byte("{}\n"), 0o644)
	if out, _, err := runAgora(t, "verify", "--release", two); err == nil || !strings.Contains(out, "FAIL release file data.jsonl") {
		t.Errorf("verify of a changed release: %v\n%s", err, out)
	}
	if out, _, err := runAgora(t, "verify", "--release", one, "--leaf", "99"); err == nil || !strings.Contains(out, "FAIL leaf 99") {
		t.Errorf("verify of a leaf not in the release: %v\n%s", err, out)
	}

	p = startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	defer p.stop(t)
	waitCheckpoint(t, p.url, key, 22)
	out, _, err = runAgora(t, "verify", "--server", p.url, "--key", key, "--release", one, "--leaf", "3", "--release-leaf", leaf[1])
	if err != nil || !strings.Contains(out, "release record is leaf 20") {
		t.Errorf("verify --server --release: %v\n%s", err, out)
	}
	t.Logf("agora verify --release:\n%s", out)
}
