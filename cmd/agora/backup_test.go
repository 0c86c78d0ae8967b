package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupRestore backs up a store while the server is serving it,
// restores the copy into a fresh data directory, and finds the same
// leaderboard and the same export in both.
func TestBackupRestore(t *testing.T) {
	data, backups := t.TempDir(), t.TempDir()
	base := serveInProcess(t, "--config", fastConfig(t), "--data", data)
	conn := dialWS(t, base)
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for i := range 6 {
		if _, err := battleOnce(conn, "question "+strings.Repeat("?", i), []string{"a", "b", "tie"}[i%3]); err != nil {
			t.Fatal(err)
		}
	}
	// The server is still running, its websocket open.
	out, errOut, err := runAgora(t, "backup", "--data", data, backups)
	if err != nil {
		t.Fatalf("agora backup: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "6 votes") {
		t.Errorf("agora backup said %q, want 6 votes", out)
	}
	files, _ := filepath.Glob(filepath.Join(backups, "agora-*.db"))
	if len(files) != 1 {
		t.Fatalf("backup files %v, want one agora-TIME.db", files)
	}
	if _, _, err := runAgora(t, "backup", "--data", data, files[0]); err == nil {
		t.Error("agora backup over an existing file succeeded, want an error")
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if out, errOut, err := runAgora(t, "restore", "--data", restored, files[0]); err != nil || !strings.Contains(out, "6 votes") {
		t.Fatalf("agora restore: %q %v\n%s", out, err, errOut)
	}
	if _, _, err := runAgora(t, "restore", "--data", restored, files[0]); err == nil {
		t.Error("agora restore into a directory that has a store succeeded, want an error")
	}
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("pseudonym key for the test"), 0o600)
	for _, args := range [][]string{
		{"leaderboard", "--json", "--rounds", "50"},
		{"export", "--format", "arena-jsonl", "--key-file", key, "--output", "-"},
		{"export", "--format", "trl", "--key-file", key, "--output", "-", "--no-card"},
	} {
		want, _, err := runAgora(t, append(args, "--data", data)...)
		if err != nil {
			t.Fatalf("%v on the original: %v", args, err)
		}
		got, _, err := runAgora(t, append(args, "--data", restored)...)
		if err != nil {
			t.Fatalf("%v on the restored store: %v", args, err)
		}
		if args[0] == "leaderboard" {
			got, want = withoutInput(t, got), withoutInput(t, want)
		}
		if got != want || len(want) < 100 {
			t.Errorf("%v: the restored store gives\n%s\nthe original\n%s", args, got, want)
		}
	}

	// A file that is not a store is refused, and nothing is left behind.
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o644)
	fresh := filepath.Join(t.TempDir(), "fresh")
	if _, _, err := runAgora(t, "restore", "--data", fresh, junk); err == nil {
		t.Error("agora restore of a junk file succeeded")
	}
	if left, _ := filepath.Glob(filepath.Join(fresh, "*")); len(left) > 0 {
		t.Errorf("a refused restore left %v", left)
	}
}

// withoutInput drops the "input" section of a leaderboard (the store's
// path and timings) from its JSON.
func withoutInput(t *testing.T, doc string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("leaderboard --json: %v", err)
	}
	delete(m, "input")
	out, _ := json.MarshalIndent(m, "", "  ")
	return string(out)
}
