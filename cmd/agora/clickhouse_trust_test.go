package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// TestClickHouseLeavesOutWhatTheStoreDoes runs the arena with ClickHouse,
// gold battles on, an honest contributor, and six identities voting from
// one address and user agent, which the cluster detector quarantines. The
// leaderboard read from ClickHouse counts exactly the votes the rules
// count (not gold, not quarantined), reports the gold ones as uncounted,
// and the export flags the quarantined contributors' votes.
func TestClickHouseLeavesOutWhatTheStoreDoes(t *testing.T) {
	const admin, researcher = "ch-trust-admin-token-0123456789", "ch-trust-researcher"
	ch := chtest.Start(t)
	chCfg := ch.NewConfig(t)
	dir := t.TempDir()
	path, data := filepath.Join(dir, "agora.yaml"), filepath.Join(dir, "data")
	yaml := fmt.Sprintf("server:\n  admin_token: %s\n  researcher_token: %s\ndemo:\n  enabled: true\n  token_delay: 0s\n"+
		"gold:\n  share: 0.3\nclickhouse:\n  addrs: [%q]\n  database: %s\n  flush_interval: 20ms\n",
		admin, researcher, chCfg.Addrs[0], chCfg.Database) + testRateLimits + testPendingCaps
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveInProcess(t, "--config", path, "--data", data)

	const honestVotes, sybils, sybilVotes = 24, 6, 3
	vote := func(agent string, n int, winner string) string {
		conn, hello := dialAs(t, base, agent)
		conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		for i := range n {
			if _, err := battleOnce(conn, fmt.Sprintf("question %d from %s", i, agent), winner); err != nil {
				t.Fatal(err)
			}
		}
		return hello["contributor_id"].(string)
	}
	vote("honest-browser/1", honestVotes, "a")
	sybilIDs := map[string]bool{}
	for range sybils {
		sybilIDs[vote("sybil-script/1", sybilVotes, "b")] = true
	}
	total := honestVotes + sybils*sybilVotes

	client, err := clickhouse.Open(chCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		a, err := client.AuditVotes(context.Background())
		if err == nil && a.Final == uint64(total) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ClickHouse holds %+v votes (%v), want %d", a, err, total)
		}
	}

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var list struct {
			Quarantined []struct{ Contributor, Reason string }
		}
		getJSON(t, base+"/api/v1/admin/quarantine", admin, &list)
		n := 0
		for _, q := range list.Quarantined {
			if sybilIDs[q.Contributor] {
				n++
			}
		}
		if n == sybils && len(list.Quarantined) == sybils {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("quarantined %+v, want the %d sybils", list.Quarantined, sybils)
		}
	}
	rows := exportRows(t, base, researcher)
	var counted, gold, quarantined int64
	for _, r := range rows {
		q, _ := r["quarantined"].(bool)
		switch {
		case r["gold"] != nil:
			gold++
		case !q:
			counted++
		}
		if q {
			quarantined++
		}
	}
	if quarantined != sybils*sybilVotes || len(rows) != total || gold == 0 {
		t.Errorf("export: %d rows, %d flagged quarantined, %d gold; want %d, %d, some", len(rows), quarantined, gold, total, sybils*sybilVotes)
	}
	var lb struct{ Battles, Uncounted int64 }
	getJSON(t, base+"/api/v1/leaderboard", "", &lb)
	t.Logf("ClickHouse leaderboard: %+v; export: %d counted, %d gold, %d quarantined", lb, counted, gold, quarantined)
	if lb.Battles != counted || lb.Uncounted != gold {
		t.Errorf("ClickHouse leaderboard counts %d battles, %d uncounted; want %d and %d", lb.Battles, lb.Uncounted, counted, gold)
	}
	out, _, err := runAgora(t, "leaderboard", "--data", data, "--json", "--rounds", "0")
	var cli struct {
		Battles, Uncounted int64
		Input              struct{ Quarantined int }
	}
	if err := errors.Join(err, json.Unmarshal([]byte(out), &cli)); err != nil || cli.Battles != counted || cli.Uncounted != gold || cli.Input.Quarantined != sybils {
		t.Errorf("agora leaderboard from the store: %+v (%v); want %d battles, %d uncounted, %d quarantined left out", cli, err, counted, gold, sybils)
	}
}
