package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/rlhf"
)

// sortedDemoNames are the demo models' public names, sorted.
var sortedDemoNames = []string{"contrarian-3", "curt-1", "helpful-4", "verbose-2"}

// TestDetectorsSurviveRestart: an attacker whose four stored votes go
// against every pair's history is flagged by their fifth vote, cast after
// a restart, as if the server had never stopped (the sequential test needs
// five votes; a detector that started afresh would have seen one).
func TestDetectorsSurviveRestart(t *testing.T) {
	const admin = "restart-test-admin-token-0123456789"
	dir := t.TempDir()
	data, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "agora.yaml")
	yaml := "server:\n  admin_token: " + admin + "\ndemo:\n  enabled: true\n  token_delay: 0s\n" + testLimits
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	base, stop := serveUntilStopped(t, "--config", cfg, "--data", data)
	conn, hello := dialAs(t, base, "")
	conn.Close()
	attacker, token := hello["contributor_id"].(string), hello["token"].(string)
	stop()

	// Stored: 20 honest votes for the first name of every pair, then the
	// attacker's four votes for the second.
	var votes []storedVote
	for i, a := range sortedDemoNames {
		for _, b := range sortedDemoNames[i+1:] {
			for k := range 20 {
				votes = append(votes, storedVote{contributor: fmt.Sprint("honest-", k), modelA: a, modelB: b, winner: rlhf.WinnerA})
			}
		}
	}
	for _, pair := range [][2]string{{"curt-1", "verbose-2"}, {"contrarian-3", "helpful-4"}, {"curt-1", "helpful-4"}, {"contrarian-3", "verbose-2"}} {
		votes = append(votes, storedVote{contributor: attacker, modelA: pair[0], modelB: pair[1], winner: rlhf.WinnerB})
	}
	storeVotes(t, data, time.Now().Add(-time.Hour).Truncate(time.Second), votes)

	base, _ = serveUntilStopped(t, "--config", cfg, "--data", data)
	h := http.Header{"Authorization": {"Bearer " + token}}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/arena/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var again map[string]any
	if err := conn.ReadJSON(&again); err != nil || again["contributor_id"] != attacker {
		t.Fatalf("hello after the restart %v, %v; want contributor %s", again, err, attacker)
	}
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	// Every answer names its model: vote for the later name, against the
	// history.
	judge := func(ans [2]string) string {
		side := [2]int{-1, -1}
		for s := range 2 {
			side[s] = slices.IndexFunc(sortedDemoNames, func(n string) bool { return strings.Contains(ans[s], n) })
		}
		if side[1] > side[0] {
			return "b"
		}
		return "a"
	}
	if _, err := fightAndJudge(conn, "Who are you?", judge); err != nil {
		t.Fatal(err)
	}
	if n := waitQuarantined(t, base, admin, map[string]bool{attacker: true}); n != 1 {
		t.Fatalf("the attacker's fifth vote, after the restart: not quarantined")
	}
	var list struct {
		Quarantined []struct{ Contributor, Reason string }
	}
	getJSON(t, base+"/api/v1/admin/quarantine", admin, &list)
	t.Logf("quarantined: %+v", list.Quarantined)
	if len(list.Quarantined) != 1 || !strings.Contains(list.Quarantined[0].Reason, "sequential test") ||
		!strings.Contains(list.Quarantined[0].Reason, "over 5 votes") {
		t.Errorf("quarantined %+v: want the attacker alone, by the sequential test over 5 votes", list.Quarantined)
	}
}
