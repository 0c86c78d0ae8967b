package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
)

// TestServeWithClickHouse runs the arena with ClickHouse configured: the
// votes reach ClickHouse, and the leaderboard API reads its counts there.
func TestServeWithClickHouse(t *testing.T) {
	base, chCfg := serveWithClickHouse(t)
	conn := dialWS(t, base)
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	const votes = 6
	for i := range votes {
		if _, err := battleOnce(conn, fmt.Sprintf("question %d", i), []string{"a", "b", "tie"}[i%3]); err != nil {
			t.Fatal(err)
		}
	}

	client, err := clickhouse.Open(chCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var shipped int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		pcs, err := client.PairCounts(context.Background())
		if err != nil {
			continue // the shipper may not have created the schema yet
		}
		shipped = 0
		for _, p := range pcs {
			shipped += p.WinsA + p.WinsB + p.Ties + p.BothBad
		}
		if shipped == votes {
			break
		}
	}
	if shipped != votes {
		t.Fatalf("ClickHouse counts %d votes, want %d", shipped, votes)
	}

	resp, err := http.Get(base + "/api/v1/leaderboard")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lb struct {
		Battles  int64    `json:"battles"`
		Warnings []string `json:"warnings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&lb); err != nil || resp.StatusCode != 200 {
		t.Fatalf("leaderboard: status %d, %v", resp.StatusCode, err)
	}
	if lb.Battles != votes || !strings.Contains(strings.Join(lb.Warnings, " "), "per-pair counts") {
		t.Errorf("leaderboard from ClickHouse: %d battles, warnings %q; want %d battles from counts", lb.Battles, lb.Warnings, votes)
	}
	resp2, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var ready map[string]any
	json.NewDecoder(resp2.Body).Decode(&ready)
	if resp2.StatusCode != 200 || ready["detail"] == nil {
		t.Errorf("readyz = %d %v, want 200 with the shipper's detail", resp2.StatusCode, ready)
	}
}
