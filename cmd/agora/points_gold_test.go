package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestPointsFollowRelease runs a server with gold battles on half of the
// battles: before any release a gold answer earns 0 points at the reveal
// and an ordinary vote 10; after a release built by the server, a gold
// answer earns what the release's share table says a right or a wrong one
// is worth (or 0, unscored), and the contributor's points agree with the
// table: its values, their total, their line in it.
func TestPointsFollowRelease(t *testing.T) {
	data, cfg := t.TempDir(), filepath.Join(t.TempDir(), "agora.yaml")
	yaml := "demo:\n  enabled: true\n  token_delay: 1ms\ngold:\n  share: 0.5\n" + testRateLimits + testPendingCaps + "log:\n  checkpoint_interval: 50ms\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startSubprocessEnv(t, []string{"AGORA_ADMIN_TOKEN=points-admin-token-1234"}, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	defer p.stop(t)
	me := newContributor(t, p.url)
	first := me.vote(t, 24) // every vote for side a
	ordinary := int64(0)
	for _, f := range first {
		if goldSideOf(f) == "" {
			ordinary++
		}
		if want := map[bool]float64{true: 10, false: 0}[goldSideOf(f) == ""]; f["points"] != want {
			t.Errorf("before any release: %s vs %s earned %v points, want %v", f["model_a"], f["model_b"], f["points"], want)
		}
	}
	// A release of the log up to the last vote's leaf.
	last := first[len(first)-1]["receipt"].(map[string]any)["leaf_index"].(float64)
	body := fmt.Sprintf(`{"log_size": %d}`, int64(last)+1)
	if code, body := call(t, "POST", p.url+"/api/v1/admin/releases", "points-admin-token-1234", body); code != http.StatusOK {
		t.Fatalf("POST /api/v1/admin/releases: %d %s", code, body)
	}
	pts := me.points(t, http.StatusOK)
	table := newestTable(t, p.url)
	q, err := ledger.TableQuality([]byte(table))
	if err != nil {
		t.Fatal(err)
	}
	values := ledger.PointValues{Vote: 10, Right: ledger.PointsOf(q.Right), Wrong: ledger.PointsOf(q.Wrong)}
	if pts.Values != values || len(pts.Shares) != 1 || pts.Shares[0].Votes != ordinary || pts.Shares[0].Gold != pts.Gold || pts.Shares[0].Right != pts.Right {
		t.Fatalf("points after the release: values %+v (table: %+v), shares %+v, gold %d/%d; %d ordinary votes\n%s", pts.Values, values, pts.Shares, pts.Right, pts.Gold, ordinary, table)
	}
	for _, f := range me.vote(t, 12) {
		want := float64(values.Vote)
		switch goldSideOf(f) {
		case "a": // the degraded side is a: side a is wrong
			want = float64(values.Wrong)
		case "b":
			want = float64(values.Right)
		}
		if f["points"] != want && !(goldSideOf(f) != "" && f["points"] == 0.0) { // 0: a gold battle left unscored
			t.Errorf("after the release: %s vs %s, voted a, earned %v points, want %v", f["model_a"], f["model_b"], f["points"], want)
		}
	}
	pts = me.points(t, http.StatusOK)
	var sum int64
	for _, r := range pts.Receipts {
		sum += int64(r.Points)
	}
	if pts.Votes != 36 || pts.Total != max(0, sum) {
		t.Errorf("points: %d votes, total %d; the receipts add up to %d", pts.Votes, pts.Total, sum)
	}
	t.Logf("values after the release %+v; %d of %d gold answers right", values, pts.Right, pts.Gold)
}

// goldSideOf returns the degraded side of a voted frame's gold battle, ""
// for an ordinary battle.
func goldSideOf(f map[string]any) string {
	for _, s := range []string{"a", "b"} {
		if m, _ := f["model_"+s].(string); strings.HasPrefix(m, rlhf.GoldModelPrefix) {
			return s
		}
	}
	return ""
}

// newestTable returns the share table of the newest release.
func newestTable(t *testing.T, base string) string {
	t.Helper()
	var list struct {
		Releases []ledger.ReleaseSummary `json:"releases"`
	}
	if err := json.Unmarshal(httpGet(t, base+"/api/v1/releases"), &list); err != nil || len(list.Releases) == 0 {
		t.Fatalf("GET /api/v1/releases: %v, %+v", err, list)
	}
	return list.Releases[len(list.Releases)-1].Shares
}
