package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// httpGet returns the body of a 200 answer to GET url.
func httpGet(t testing.TB, url string) []byte {
	t.Helper()
	body, status, err := fetch(url)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, status, err, body)
	}
	return body
}

func fetch(url string) ([]byte, int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

// waitCheckpoint waits until the server's latest checkpoint has at least
// size leaves, and returns it.
func waitCheckpoint(t testing.TB, base, key string, size int64) *ledger.Checkpoint {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c, _, err := ledger.OpenCheckpoint(httpGet(t, base+"/log/checkpoint/latest"), key)
		if err != nil {
			t.Fatal(err)
		}
		if c.Size >= size {
			return c
		}
	}
	t.Fatalf("no checkpoint of %d leaves within 30s", size)
	return nil
}

// TestServeReceipt votes on a live server: the voted frame carries a
// receipt signed by the log's key, and the proof API proves the vote's
// leaf in a published checkpoint.
func TestServeReceipt(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	conn := dialWS(t, base)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var f map[string]any
	var err error
	for i := range 3 {
		if f, err = battleOnce(conn, fmt.Sprintf("prompt %d", i), "b"); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.Marshal(f["receipt"])
	var r rlhf.Receipt
	if err := json.Unmarshal(raw, &r); err != nil || r.Statement == "" {
		t.Fatalf("voted frame %v has no receipt", f)
	}
	key := strings.TrimSpace(string(httpGet(t, base+"/log/key")))
	index, hash, err := ledger.OpenReceipt(&r, key)
	if err != nil || index != 3 { // after the first policy's leaf and two votes
		t.Fatalf("OpenReceipt = leaf %d, %v; want leaf 3", index, err)
	}
	c := waitCheckpoint(t, base, key, 4)
	var p ledger.InclusionProof
	if err := json.Unmarshal(httpGet(t, base+"/api/v1/log/proof?vote="+f["vote_id"].(string)), &p); err != nil {
		t.Fatal(err)
	}
	if p.Index != index || p.LeafHash != hash {
		t.Errorf("proof of vote %s is for leaf %d %v, the receipt says %d %v", f["vote_id"], p.Index, p.LeafHash, index, hash)
	}
	if err := ledger.CheckInclusion(&p, c); err != nil {
		t.Error(err)
	}
	if !strings.Contains(p.Record, "winner b\n") {
		t.Errorf("record of the vote:\n%s\nwant winner b", p.Record)
	}
	var cp ledger.ConsistencyProof
	if err := json.Unmarshal(httpGet(t, base+"/api/v1/log/proof?from=1"), &cp); err != nil {
		t.Fatal(err)
	}
	old := &ledger.Checkpoint{Size: 1, Root: cp.FromRoot}
	if err := ledger.CheckConsistency(&cp, old, c); err != nil {
		t.Error(err)
	}
	if _, status, _ := fetch(base + "/api/v1/log/proof?index=99"); status != http.StatusBadRequest {
		t.Errorf("proof of a leaf beyond the tree: status %d, want 400", status)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIndependentVerifier checks a live server's log with a separate
// program (testdata/tlogcheck) that reads only the served checkpoint and
// tiles over HTTP and uses tlog's own verification functions.
func TestIndependentVerifier(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tlogcheck")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/tlogcheck").CombinedOutput(); err != nil {
		t.Fatalf("build the verifier: %v\n%s", err, out)
	}
	base := serveInProcess(t, "--config", ledgerConfig(t, ""))
	key := strings.TrimSpace(string(httpGet(t, base+"/log/key")))
	voteN(t, base, 8, 60, "early")
	old := filepath.Join(t.TempDir(), "old")
	if err := os.WriteFile(old, waitCheckpoint(t, base, key, 60).Note, 0o644); err != nil {
		t.Fatal(err)
	}
	voteN(t, base, 8, 200, "late") // into a second tile of 256 leaves
	c := waitCheckpoint(t, base, key, 260)
	leaves := fmt.Sprintf("0,59,255,256,%d", c.Size-1)
	out, err := exec.Command(bin, "-url", base, "-key", key, "-old", old, "-leaves", leaves).CombinedOutput()
	if err != nil || strings.Count(string(out), "ok leaf") != 5 || !strings.Contains(string(out), "ok consistency") {
		t.Errorf("tlogcheck: %v\n%s", err, out)
	}
	t.Logf("tlogcheck:\n%s", out)
	other, _, _ := runAgora(t, "witness", "--data", t.TempDir(), "--print-key")
	if out, err := exec.Command(bin, "-url", base, "-key", strings.TrimSpace(other)).CombinedOutput(); err == nil {
		t.Errorf("tlogcheck accepted the checkpoint under another key:\n%s", out)
	}
}

// TestLedgerSIGKILL kills a server with SIGKILL under voting, three times:
// after a restart every acknowledged vote has its leaf, proved in the new
// checkpoint, and the tree is consistent with every checkpoint published
// before the kills.
func TestLedgerSIGKILL(t *testing.T) {
	data, cfg := t.TempDir(), ledgerConfig(t, "")
	acked := map[string]string{} // battle id -> vote id
	var seen [][]byte            // checkpoint notes published before the kills
	for round := range 3 {
		p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
		stop, polled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(polled)
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if body, status, err := fetch(p.url + "/log/checkpoint/latest"); err == nil && status == 200 {
					seen = append(seen, body)
				}
			}
		}()
		got, _ := voteUntilKilled(t, p, round, 40+20*round, 2*time.Millisecond)
		close(stop)
		<-polled
		maps.Copy(acked, got)
	}
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	key := strings.TrimSpace(string(httpGet(t, p.url+"/log/key")))
	c := waitCheckpoint(t, p.url, key, int64(len(acked)))
	for battle, vote := range acked {
		var proof ledger.InclusionProof
		if err := json.Unmarshal(httpGet(t, p.url+"/api/v1/log/proof?vote="+vote), &proof); err != nil {
			t.Fatalf("vote %s on battle %s: %v", vote, battle, err)
		}
		if err := ledger.CheckInclusion(&proof, c); err != nil {
			t.Errorf("acknowledged vote %s: %v", vote, err)
		}
	}
	checked := map[int64]bool{}
	for _, msg := range seen {
		old, _, err := ledger.OpenCheckpoint(msg, key)
		if err != nil {
			t.Fatal(err)
		}
		if checked[old.Size] || old.Size == 0 {
			continue
		}
		checked[old.Size] = true
		var proof ledger.ConsistencyProof
		if err := json.Unmarshal(httpGet(t, fmt.Sprintf("%s/api/v1/log/proof?from=%d&to=%d", p.url, old.Size, c.Size)), &proof); err != nil {
			t.Fatal(err)
		}
		if err := ledger.CheckConsistency(&proof, old, c); err != nil {
			t.Errorf("checkpoint of %d leaves published before a kill: %v", old.Size, err)
		}
	}
	t.Logf("%d acknowledged votes all proved in the tree of %d leaves; consistent with %d checkpoints published before the kills", len(acked), c.Size, len(checked))
	if len(checked) < 3 {
		t.Errorf("only %d checkpoints were seen before the kills", len(checked))
	}
}
