package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/demo"
)

// goldPrompts have several sentences in every demo model's answer, so that
// every kind of degradation shows.
var goldPrompts = []string{
	"How do I learn Go?", "Why is the sky blue?", "What is a good way to start running?",
	"Explain what a hash table is.", "How should I store fresh herbs?", "What makes a good password?",
}

// foughtBattle is one battle as a contributor saw it over the protocol.
type foughtBattle struct {
	id      string
	answers [2]string
	frames  [2][]string // the frame types of each side, in order
	voted   map[string]any
}

// fightAndJudge runs one battle on conn, calls judge with both answers to
// choose the verdict, and returns what the contributor saw.
func fightAndJudge(conn *websocket.Conn, prompt string, judge func(answers [2]string) string) (*foughtBattle, error) {
	if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": prompt}); err != nil {
		return nil, err
	}
	fb := &foughtBattle{}
	side := map[string]int{"a": 0, "b": 1}
	for {
		var f map[string]any
		if err := conn.ReadJSON(&f); err != nil {
			return nil, err
		}
		typ, _ := f["type"].(string)
		if s, ok := side[fmt.Sprint(f["side"])]; ok {
			fb.frames[s] = append(fb.frames[s], typ)
			if typ == "token" {
				fb.answers[s] += fmt.Sprint(f["text"])
			}
		}
		switch typ {
		case "battle":
			fb.id, _ = f["battle_id"].(string)
		case "error":
			return nil, fmt.Errorf("error frame %v", f)
		case "ready":
			if err := conn.WriteJSON(map[string]any{"type": "vote", "battle_id": fb.id, "winner": judge(fb.answers)}); err != nil {
				return nil, err
			}
		case "voted":
			fb.voted = f
			return fb, nil
		}
	}
}

// carefulJudge knows every demo model's answer to the prompt: it picks the
// side that gave one of them, as a careful reader picks the answer that is
// whole and on topic.
func carefulJudge(prompt string) func([2]string) string {
	return func(ans [2]string) string {
		real := func(s string) bool {
			for _, style := range demo.Styles {
				if style(prompt) == s {
					return true
				}
			}
			return false
		}
		switch {
		case real(ans[0]) && !real(ans[1]):
			return "a"
		case real(ans[1]) && !real(ans[0]):
			return "b"
		}
		return "tie"
	}
}

// TestGoldBattlesEndToEnd runs a server where every battle is a gold
// battle, with a careful contributor and one who always clicks A, over
// real websockets against the real demo endpoint. The degraded side
// streams like a model (the same frames, a done frame), the contributors'
// gold accuracy is measured (admin API), and no gold vote is counted: the
// live leaderboard and "agora leaderboard" from the store count none, and
// the export flags every one.
func TestGoldBattlesEndToEnd(t *testing.T) {
	const admin, researcher = "gold-test-admin-token-0123456789", "gold-test-researcher"
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "agora.yaml")
	yaml := "server:\n  admin_token: " + admin + "\n  researcher_token: " + researcher +
		"\ndemo:\n  enabled: true\n  token_delay: 0s\ngold:\n  share: 1\n" + testRateLimits + testPendingCaps
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveInProcess(t, "--config", cfg, "--data", data)

	const perContributor = 36
	kinds := map[string]int{}
	ids := map[string]string{} // contributor → who
	for _, who := range []string{"careful", "clicker"} {
		conn, hello := dialAs(t, base, "")
		ids[hello["contributor_id"].(string)] = who
		conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		for i := range perContributor {
			prompt := goldPrompts[i%len(goldPrompts)]
			judge := func([2]string) string { return "a" }
			if who == "careful" {
				judge = carefulJudge(prompt)
			}
			fb, err := fightAndJudge(conn, prompt, judge)
			if err != nil {
				t.Fatalf("%s battle %d: %v", who, i, err)
			}
			a, b := fmt.Sprint(fb.voted["model_a"]), fmt.Sprint(fb.voted["model_b"])
			gold := a
			if !strings.HasPrefix(gold, "gold:") {
				gold = b
			}
			if !strings.HasPrefix(gold, "gold:") || strings.HasPrefix(a, "gold:") == strings.HasPrefix(b, "gold:") {
				t.Fatalf("revealed %q and %q: want one gold side and one model", a, b)
			}
			kinds[gold]++
			for s := range 2 {
				if n := len(fb.frames[s]); n < 2 || fb.frames[s][n-1] != "done" || slices.Contains(fb.frames[s][:n-1], "done") {
					t.Errorf("side %d frames %v: want tokens then one done", s, fb.frames[s])
				}
			}
		}
	}
	t.Logf("gold kinds: %v", kinds)
	if len(kinds) != 4 {
		t.Errorf("kinds %v: want all four in %d battles", kinds, 2*perContributor)
	}

	var gold struct {
		Contributors, Battles, Measured int
		LeastAccurate                   []struct {
			Contributor      string
			Battles, Correct int
			Accuracy         float64
		} `json:"least_accurate"`
	}
	getJSON(t, base+"/api/v1/admin/gold?min_battles=1", admin, &gold)
	t.Logf("gold: %+v", gold)
	acc := map[string]float64{}
	for _, s := range gold.LeastAccurate {
		acc[ids[s.Contributor]] = s.Accuracy
		if s.Battles < perContributor/2 {
			t.Errorf("%s: %d gold battles scored of %d", ids[s.Contributor], s.Battles, perContributor)
		}
	}
	if len(acc) != 2 || acc["careful"] != 1 || acc["clicker"] > 0.85 {
		t.Errorf("gold accuracy %v: want careful 1 and the A-clicker near 0.5", acc)
	}

	var lb struct{ Battles, Uncounted int64 }
	json.Unmarshal(waitBoard(t, base, 2*perContributor), &lb)
	if lb.Battles != 0 || lb.Uncounted != 2*perContributor {
		t.Errorf("live leaderboard %+v: want 0 battles and %d uncounted", lb, 2*perContributor)
	}
	out, _, err := runAgora(t, "leaderboard", "--data", data, "--json", "--rounds", "0")
	var cli struct{ Battles, Uncounted int64 }
	if err := errors.Join(err, json.Unmarshal([]byte(out), &cli)); err != nil || cli.Battles != 0 || cli.Uncounted != 2*perContributor {
		t.Errorf("agora leaderboard from the store: %+v (%v), want no battle counted and %d uncounted", cli, err, 2*perContributor)
	}
	rows := exportRows(t, base, researcher)
	flagged := 0
	for _, r := range rows {
		models := fmt.Sprint(r["model_a"], " ", r["model_b"])
		if kind, _ := r["gold"].(string); kind != "" && strings.Contains(models, "gold:"+kind) {
			flagged++
		}
	}
	if len(rows) != 2*perContributor || flagged != len(rows) {
		t.Errorf("export: %d rows, %d flagged gold; want %d, all", len(rows), flagged, 2*perContributor)
	}
}

// dialAs opens a websocket as a fresh identity, with the user agent if
// one is given, and returns it with its hello frame.
func dialAs(t *testing.T, base, agent string) (*websocket.Conn, map[string]any) {
	t.Helper()
	h := http.Header{}
	if agent != "" {
		h.Set("User-Agent", agent)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/arena/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var hello map[string]any
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello: %v, %v", hello, err)
	}
	return conn, hello
}

// exportRows reads the researchers' Arena JSONL export.
func exportRows(t *testing.T, base, token string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/export?format=arena-jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("export: %s", resp.Status)
	}
	var rows []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
