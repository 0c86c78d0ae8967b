package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// ledgerConfig writes a configuration with quick demo models, quick
// checkpoints and the log settings in extra.
func ledgerConfig(t *testing.T, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agora.yaml")
	cfg := "demo:\n  enabled: true\n  token_delay: 1ms\n" + testLimits + "log:\n  checkpoint_interval: 50ms\n" + extra
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// voteN runs n battles to their votes over clients connections and
// returns the voted frames.
func voteN(t *testing.T, base string, clients, n int, tag string) []map[string]any {
	t.Helper()
	var mu sync.Mutex
	var frames []map[string]any
	var wg sync.WaitGroup
	for c := range clients {
		conn := dialWS(t, base)
		conn.SetReadDeadline(time.Now().Add(3 * time.Minute))
		wg.Go(func() {
			for i := c; i < n; i += clients {
				f, err := battleOnce(conn, fmt.Sprintf("%s prompt %d", tag, i), []string{"a", "b", "tie"}[i%3])
				if err != nil {
					t.Errorf("battle %d: %v", i, err)
					return
				}
				mu.Lock()
				frames = append(frames, f)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return frames
}

// sqlite3 runs the sqlite3 tool on the store file in data.
func sqlite3(t *testing.T, data, script string) {
	t.Helper()
	tool, err := exec.LookPath("sqlite3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sqlite3 is missing: .ci/run installs it")
		}
		t.Skip("SKIPPED: sqlite3 not found (apt-get install sqlite3)")
	}
	out, err := exec.Command(tool, filepath.Join(data, storeFile), script).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", script, err, out)
	}
}

// copyDir copies the files of a stopped server's data directory.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		in, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(to, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// stop ends a server with SIGTERM and waits for it.
func (p *subprocess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, p.errOut)
	}
}

// TestLedgerTamperEvidence edits a stopped server's SQLite file with the
// sqlite3 tool (a vote's winner changed, a vote deleted, the log cut
// short) and restarts it: agora verify and agora witness both refuse it
// and name the leaf; the untouched store passes both.
func TestLedgerTamperEvidence(t *testing.T) {
	data, cfg := t.TempDir(), ledgerConfig(t, "")
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	frames := voteN(t, p.url, 4, 40, "tamper")
	key := strings.TrimSpace(string(httpGet(t, p.url+"/log/key")))
	c := waitCheckpoint(t, p.url, key, 40)
	trusted := filepath.Join(t.TempDir(), "trusted")
	if err := os.WriteFile(trusted, c.Note, 0o644); err != nil {
		t.Fatal(err)
	}
	receipt := filepath.Join(t.TempDir(), "receipt.json")
	raw := fmt.Sprintf(`{"receipt": %s}`, mustJSON(t, frames[0]["receipt"]))
	if err := os.WriteFile(receipt, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := t.TempDir()
	out, _, err := runAgora(t, "verify", "--server", p.url, "--key", key, "--trusted", trusted, "--receipt", receipt, "--all", "--save", saved)
	if err != nil || strings.Contains(out, "FAIL") {
		t.Fatalf("verify of the untouched log: %v\n%s", err, out)
	}
	t.Logf("agora verify, untouched:\n%s", out)
	// Offline, from the saved checkpoint and tiles.
	if out, _, err := runAgora(t, "verify", "--tiles", saved, "--key", key, "--trusted", trusted, "--receipt", receipt, "--all"); err != nil {
		t.Fatalf("offline verify of the untouched log: %v\n%s", err, out)
	}
	witness := t.TempDir()
	if out, _, err := runAgora(t, "witness", "--log", p.url, "--log-key", key, "--data", witness, "--once"); err != nil || !strings.Contains(out, "cosigned") {
		t.Fatalf("witness of the untouched log: %v\n%s", err, out)
	}
	p.stop(t)

	cut := ledger.StoredHashIndex(0, 12)
	for _, tc := range []struct {
		name, script string
		leaf         int
	}{
		{"winner changed", "UPDATE votes SET winner = CASE winner WHEN 'a' THEN 'b' ELSE 'a' END WHERE id = (SELECT ref FROM log_leaves WHERE idx = 5)", 5},
		{"vote deleted", "DELETE FROM votes WHERE id = (SELECT ref FROM log_leaves WHERE idx = 9)", 9},
		{"log truncated", fmt.Sprintf(`DELETE FROM log_leaves WHERE idx >= 12; DELETE FROM log_hashes WHERE idx >= %[1]d;
			DELETE FROM log_hash_runs WHERE at >= %[1]d;
			UPDATE log_hash_runs SET hashes = substr(hashes, 1, (%[1]d - at) * 32) WHERE at + length(hashes) / 32 > %[1]d`, cut), 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, data)
			sqlite3(t, dir, tc.script)
			p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", dir, "--config", cfg)
			defer p.stop(t)
			want := fmt.Sprintf("leaf %d:", tc.leaf)
			out, _, err := runAgora(t, "verify", "--server", p.url, "--key", key, "--trusted", trusted, "--all")
			if exitCode(err) != 1 || !strings.Contains(out, "FAIL "+want) {
				t.Errorf("verify after %s: exit %d, output:\n%s\nwant exit 1 and FAIL naming %q", tc.name, exitCode(err), out, want)
			}
			t.Logf("agora verify, %s:\n%s", tc.name, out)
			// The witness that cosigned the untouched log, checking every
			// record again.
			w := copyDir(t, witness)
			out, _, err = runAgora(t, "witness", "--log", p.url, "--log-key", key, "--data", w, "--once", "--audit-all")
			if exitCode(err) != 1 || !strings.Contains(fmt.Sprint(err), want) {
				t.Errorf("witness after %s: %v, output:\n%s\nwant a refusal naming %q", tc.name, err, out, want)
			}
			t.Logf("agora witness, %s: %v", tc.name, err)
		})
	}
}

// startWitness runs "agora witness" as a process of its own.
func startWitness(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"witness"}, args...)...)
	cmd.Env = append(os.Environ(), "AGORA_TEST_MAIN=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

// TestWitnessFollowsLiveServer runs a witness as a separate process
// beside a server that requires its cosignature: under steady voting the
// final checkpoint keeps up, cosigned. Then a server started from an older
// copy of the same data (same key) grows a different history; the witness
// refuses it and names the first leaf rewritten.
func TestWitnessFollowsLiveServer(t *testing.T) {
	wdir := t.TempDir()
	wkey, _, err := runAgora(t, "witness", "--data", wdir, "--name", "witness.test", "--print-key")
	if err != nil {
		t.Fatal(err)
	}
	cfg := ledgerConfig(t, fmt.Sprintf("  witnesses: [%q]\n  witness_quorum: 1\n", strings.TrimSpace(wkey)))
	data := t.TempDir()
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	voteN(t, p.url, 4, 20, "before the fork")
	key := strings.TrimSpace(string(httpGet(t, p.url+"/log/key")))
	waitCheckpoint(t, p.url, key, 21) // the first policy's leaf and 20 votes
	if _, status, _ := fetch(p.url + "/log/checkpoint"); status != 404 {
		t.Errorf("GET /log/checkpoint before any witness: %d, want 404 (no final checkpoint)", status)
	}
	p.stop(t)
	fork := copyDir(t, data) // the same log at 21 leaves

	p = startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	w, wout := startWitness(t, "--log", p.url, "--log-key", key, "--data", wdir, "--interval", "50ms")
	voteN(t, p.url, 4, 60, "witnessed") // steady voting while the witness follows
	latest := waitCheckpoint(t, p.url, key, 81)
	final := waitFinal(t, p.url, key, latest.Size)
	if n := strings.Count(string(final.Note), "\n— "); n != 2 {
		t.Errorf("final checkpoint has %d signatures, want the log's and the witness's:\n%s", n, final.Note)
	}
	if n := strings.Count(wout.String(), "cosigned"); n < 2 {
		t.Errorf("the witness cosigned %d checkpoints under voting, want several:\n%s", n, wout)
	}
	w.Process.Signal(syscall.SIGTERM)
	if err := w.Wait(); err != nil {
		t.Errorf("witness exit: %v\n%s", err, wout)
	}
	p.stop(t)

	f := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", fork, "--config", cfg)
	voteN(t, f.url, 4, 80, "forked history")
	waitCheckpoint(t, f.url, key, 101)
	out, _, err := runAgora(t, "witness", "--log", f.url, "--log-key", key, "--data", wdir, "--once")
	if exitCode(err) != 1 || !strings.Contains(fmt.Sprint(err), "leaf 21:") {
		t.Errorf("witness of the forked history: %v\n%s\nwant a refusal naming leaf 21", err, out)
	}
	t.Logf("agora witness, forked history: %v", err)
}

// waitFinal waits until the server's final checkpoint has size leaves.
func waitFinal(t *testing.T, base, key string, size int64) *ledger.Checkpoint {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		body, status, err := fetch(base + "/log/checkpoint")
		if err != nil || status != 200 {
			continue
		}
		c, _, err := ledger.OpenCheckpoint(body, key)
		if err != nil {
			t.Fatal(err)
		}
		if c.Size >= size {
			return c
		}
	}
	t.Fatalf("no final checkpoint of %d leaves within 30s", size)
	return nil
}
