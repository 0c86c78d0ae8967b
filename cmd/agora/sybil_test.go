package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/demo"
)

// honestOrder is how the honest contributors rank the demo models' styles,
// best first.
var honestOrder = []string{"good", "curt", "verbose", "wrong"}

// honestJudge reads both answers, tells which demo style wrote each, and
// prefers the better one by honestOrder; one vote in ten is random.
func honestJudge(prompt string, rng *mrand.Rand) func([2]string) string {
	rank := func(ans string) int {
		for i, id := range honestOrder {
			if demo.Styles[id](prompt) == ans {
				return i
			}
		}
		return len(honestOrder)
	}
	return func(ans [2]string) string {
		if rng.IntN(10) == 0 {
			return []string{"a", "b", "tie"}[rng.IntN(3)]
		}
		ra, rb := rank(ans[0]), rank(ans[1])
		switch {
		case ra < rb:
			return "a"
		case rb < ra:
			return "b"
		}
		return "tie"
	}
}

// waitBoard waits until the public leaderboard, published from the live
// one a moment after the votes, has seen votes votes (counted or not) and
// returns it.
func waitBoard(t *testing.T, base string, votes int64) []byte {
	t.Helper()
	var body []byte
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		resp, err := http.Get(base + "/api/v1/leaderboard")
		if err != nil {
			t.Fatal(err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			continue // the board's limit: ask again a second later
		}
		var lb struct{ Battles, Uncounted int64 }
		if err := json.Unmarshal(body, &lb); err == nil && resp.StatusCode == http.StatusOK && lb.Battles+lb.Uncounted >= votes {
			return body
		}
	}
	t.Fatalf("the public leaderboard never saw %d votes: %s", votes, body)
	return nil
}

// boardRank returns the rank of model on a leaderboard JSON, and its
// battles in all.
func boardRank(t *testing.T, body []byte, model string) (rank int, battles int64) {
	t.Helper()
	var lb struct {
		Battles int64
		Models  []struct {
			Model string
			Rank  int
		}
	}
	if err := json.Unmarshal(body, &lb); err != nil {
		t.Fatalf("leaderboard: %v: %s", err, body)
	}
	for _, m := range lb.Models {
		if m.Model == model {
			return m.Rank, lb.Battles
		}
	}
	t.Fatalf("%s is not on the leaderboard %s", model, body)
	return 0, 0
}

// TestSybilAttackLive is issue 11's live acceptance: a real server, honest
// contributors, then a bounded sybil script over real websockets — fresh
// identities, identity-probe prompts, always voting for one demo model
// (the last of the honest leaderboard). The default public leaderboard
// keeps the target's rank (moved by at most 1); the attack's votes are
// stored, exported as not anonymous, and every sybil identity is
// quarantined as one cluster. The same votes with the defences off (the
// export read back as anonymous) do lift the target, so the attack is one
// that matters.
func TestSybilAttackLive(t *testing.T) {
	const admin, researcher = "sybil-test-admin-token-0123456789", "sybil-test-researcher"
	const target = "contrarian-3" // the demo model "wrong"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agora.yaml")
	yaml := "server:\n  admin_token: " + admin + "\n  researcher_token: " + researcher +
		"\ndemo:\n  enabled: true\n  token_delay: 0s\n" + testLimits
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveInProcess(t, "--config", cfg)
	ordinary := readPromptFile(t, "../../arena/trust/testdata/ordinary.txt")
	var probes []string
	for _, p := range readPromptFile(t, "../../arena/trust/testdata/probes.txt") {
		if demo.AsksName(p) {
			probes = append(probes, p)
		}
	}

	const honest, honestBattles = 8, 40
	rng := mrand.New(mrand.NewPCG(11, 11))
	for h := range honest {
		conn, _ := dialAs(t, base, fmt.Sprintf("honest-browser/%d", h))
		conn.SetReadDeadline(time.Now().Add(120 * time.Second))
		for i := range honestBattles {
			p := ordinary[(h*honestBattles+i)%len(ordinary)]
			if _, err := fightAndJudge(conn, p, honestJudge(p, rng)); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := waitBoard(t, base, honest*honestBattles)
	rankBefore, battlesBefore := boardRank(t, before, target)

	const sybils, sybilBattles = 30, 8
	ids := map[string]bool{}
	attackVotes := 0
	for s := range sybils {
		conn, hello := dialAs(t, base, "sybil-script/1")
		ids[hello["contributor_id"].(string)] = true
		conn.SetReadDeadline(time.Now().Add(120 * time.Second))
		for i := range sybilBattles {
			judge := func(ans [2]string) string {
				switch {
				case strings.Contains(ans[0], target):
					return "a"
				case strings.Contains(ans[1], target):
					return "b"
				}
				return "both_bad"
			}
			if _, err := fightAndJudge(conn, probes[(s*sybilBattles+i)%len(probes)], judge); err != nil {
				t.Fatal(err)
			}
			attackVotes++
		}
	}
	quarantined := waitQuarantined(t, base, admin, ids)
	after := waitBoard(t, base, int64(honest*honestBattles+attackVotes))
	rankAfter, battlesAfter := boardRank(t, after, target)

	rows := exportRows(t, base, researcher)
	leaked := 0
	for _, r := range rows {
		if r["anony"] == false {
			leaked++
		}
	}
	undefended := rankWithoutDefences(t, dir, rows, target)
	t.Logf("target %s: rank %d before, %d after with the defaults, %d with every vote counted; board battles %d → %d; "+
		"attack: %d identities, %d votes, %d exported not anonymous, %d quarantined",
		target, rankBefore, rankAfter, undefended, battlesBefore, battlesAfter, sybils, attackVotes, leaked, quarantined)
	if d := rankAfter - rankBefore; d < -1 || d > 1 {
		t.Errorf("the target moved from rank %d to %d", rankBefore, rankAfter)
	}
	if len(rows) != honest*honestBattles+attackVotes || leaked != attackVotes {
		t.Errorf("export: %d rows, %d not anonymous; want %d stored, the %d attack votes flagged", len(rows), leaked, honest*honestBattles+attackVotes, attackVotes)
	}
	if quarantined != sybils {
		t.Errorf("%d of %d sybil identities quarantined", quarantined, sybils)
	}
	if undefended >= rankBefore {
		t.Errorf("with every vote counted the target ranks %d (before %d): the attack is too weak to test anything", undefended, rankBefore)
	}
	var clusters struct {
		Clusters []struct {
			Agent        string
			Contributors []string
			Flagged      int
		}
	}
	getJSON(t, base+"/api/v1/admin/clusters", admin, &clusters)
	if len(clusters.Clusters) == 0 || clusters.Clusters[0].Agent != "sybil-script/1" ||
		len(clusters.Clusters[0].Contributors) != sybils || clusters.Clusters[0].Flagged != sybils {
		t.Errorf("clusters %+v: want the %d sybils first, all flagged", clusters, sybils)
	}
}

// waitQuarantined waits until the detectors (fed through a queue) have
// quarantined the identities of ids they will, and returns how many.
func waitQuarantined(t *testing.T, base, admin string, ids map[string]bool) int {
	t.Helper()
	n := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var list struct {
			Quarantined []struct{ Contributor string }
		}
		getJSON(t, base+"/api/v1/admin/quarantine", admin, &list)
		n = 0
		for _, q := range list.Quarantined {
			if ids[q.Contributor] {
				n++
			}
		}
		if n == len(ids) {
			break
		}
	}
	return n
}

// rankWithoutDefences returns the target's rank on "agora leaderboard"
// over the exported rows with every vote marked anonymous: the
// leaderboard an arena without the identity-leak guard would show.
func rankWithoutDefences(t *testing.T, dir string, rows []map[string]any, target string) int {
	t.Helper()
	var buf bytes.Buffer
	for _, r := range rows {
		r["anony"] = true
		b, _ := json.Marshal(r)
		buf.Write(append(b, '\n'))
	}
	path := filepath.Join(dir, "undefended.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runAgora(t, "leaderboard", "--json", "--rounds", "0", path)
	if err != nil {
		t.Fatal(errors.Join(err, errors.New(out)))
	}
	r, _ := boardRank(t, []byte(out), target)
	return r
}
