package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// TestEraseWithClickHouse erases one of two contributors on a server that
// ships to ClickHouse: when the DELETE answers, the leaderboard (read from
// ClickHouse's pair counts) has lost exactly their votes and kept the
// other's.
func TestEraseWithClickHouse(t *testing.T) {
	base, chCfg := serveWithClickHouse(t)
	gone, stays := newContributor(t, base), newContributor(t, base)
	gone.vote(t, 4)
	stays.vote(t, 3)

	client, err := clickhouse.Open(chCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	total := func() int64 {
		pcs, err := client.PairCounts(context.Background())
		if err != nil {
			return -1 // the shipper may not have created the schema yet
		}
		var n int64
		for _, p := range pcs {
			n += p.Total()
		}
		return n
	}
	for deadline := time.Now().Add(60 * time.Second); total() != 7; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ClickHouse counts %d votes, want 7", total())
		}
	}
	if n := leaderboardBattles(t, base); n != 7 {
		t.Fatalf("leaderboard before the erasure: %d battles, want 7", n)
	}

	req, _ := http.NewRequest("DELETE", base+"/api/v1/me/data", nil)
	req.Header.Set("Authorization", "Bearer "+gone.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /api/v1/me/data = %d, want 200", resp.StatusCode)
	}
	if n := total(); n != 3 {
		t.Errorf("ClickHouse pair counts after the erasure: %d votes, want the other contributor's 3", n)
	}
	if n := leaderboardBattles(t, base); n != 3 {
		t.Errorf("leaderboard after the erasure: %d battles, want the other contributor's 3", n)
	}
}

// serveWithClickHouse runs the demo arena in process, without gold
// battles, shipping to a fresh ClickHouse server.
func serveWithClickHouse(t *testing.T) (string, clickhouse.Config) {
	t.Helper()
	chCfg := chtest.Start(t).NewConfig(t)
	path := filepath.Join(t.TempDir(), "agora.yaml")
	yaml := fmt.Sprintf("demo:\n  enabled: true\n  token_delay: 1ms\ngold:\n  share: 0\nclickhouse:\n  addrs: [%q]\n  database: %s\n  flush_interval: 20ms\n",
		chCfg.Addrs[0], chCfg.Database)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return serveInProcess(t, "--config", path), chCfg
}

// leaderboardBattles returns the battles the public leaderboard counts.
func leaderboardBattles(t *testing.T, base string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/leaderboard")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lb struct {
		Battles int64 `json:"battles"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&lb); err != nil || resp.StatusCode != 200 {
		t.Fatalf("leaderboard: status %d, %v", resp.StatusCode, err)
	}
	return lb.Battles
}
