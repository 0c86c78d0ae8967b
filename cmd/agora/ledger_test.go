package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	if err != nil || index != 2 {
		t.Fatalf("OpenReceipt = leaf %d, %v; want leaf 2", index, err)
	}
	c := waitCheckpoint(t, base, key, 3)
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
