package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// readPromptFile reads one prompt a line, skipping comments and blank lines.
func readPromptFile(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// measureKeys are the per-side measures that must wait for the vote.
var measureKeys = []string{"tokens", "ttft_ms", "duration_ms", "answers"}

// fightScanned runs one battle to its vote on conn and fails the test if
// any frame before the vote carries a per-side token count or timing. It
// returns the battle id and the voted frame.
func fightScanned(t *testing.T, conn *websocket.Conn, prompt string) (string, map[string]any, error) {
	if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": prompt}); err != nil {
		return "", nil, err
	}
	var id string
	for {
		var f map[string]any
		if err := conn.ReadJSON(&f); err != nil {
			return "", nil, err
		}
		if f["type"] == "voted" {
			return id, f, nil
		}
		for _, k := range measureKeys {
			if _, ok := f[k]; ok {
				t.Errorf("a %s frame before the vote carries %q: %v", f["type"], k, f)
			}
		}
		switch f["type"] {
		case "battle":
			id, _ = f["battle_id"].(string)
		case "error":
			return "", nil, fmt.Errorf("error frame %v", f)
		case "ready":
			if err := conn.WriteJSON(map[string]any{"type": "vote", "battle_id": id, "winner": "a"}); err != nil {
				return "", nil, err
			}
		}
	}
}

// TestIdentityGuardEndToEnd runs the repository's identity probes and
// ordinary prompts through a real server and its real demo endpoint, and
// reads the flags back from the researchers' export: at least 95% of probe
// battles and at most 2% of ordinary ones are not anonymous. Every frame
// before each vote is scanned for per-side measures, and the voted frame
// must carry them.
func TestIdentityGuardEndToEnd(t *testing.T) {
	dir := "../../arena/trust/testdata"
	probes, ordinary := readPromptFile(t, filepath.Join(dir, "probes.txt")), readPromptFile(t, filepath.Join(dir, "ordinary.txt"))
	cfg := filepath.Join(t.TempDir(), "agora.yaml")
	yaml := "server:\n  researcher_token: trust-test-researcher\ndemo:\n  enabled: true\n  token_delay: 0s\n" + testLimits
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveInProcess(t, "--config", cfg)

	kind := map[string]string{} // battle id → "probe" or "ordinary"
	var mu sync.Mutex
	jobs := make(chan [2]string)
	var wg sync.WaitGroup
	for range 4 {
		conn := dialWS(t, base)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				conn.SetReadDeadline(time.Now().Add(30 * time.Second))
				id, voted, err := fightScanned(t, conn, j[1])
				if err != nil {
					t.Errorf("battle %q: %v", j[1], err)
					continue
				}
				if ans, _ := voted["answers"].([]any); len(ans) != 2 {
					t.Errorf("voted frame %v, want the two answers' measures", voted)
				}
				mu.Lock()
				kind[id] = j[0]
				mu.Unlock()
			}
		}()
	}
	for _, p := range probes {
		jobs <- [2]string{"probe", p}
	}
	for _, p := range ordinary {
		jobs <- [2]string{"ordinary", p}
	}
	close(jobs)
	wg.Wait()

	flagged := exportedLeaks(t, base)
	counts := map[string][2]int{} // kind → flagged, total
	for id, k := range kind {
		c := counts[k]
		if flagged[id] {
			c[0]++
		}
		c[1]++
		counts[k] = c
	}
	p, o := counts["probe"], counts["ordinary"]
	t.Logf("not anonymous: %d/%d probe battles, %d/%d ordinary battles", p[0], p[1], o[0], o[1])
	if p[1] != len(probes) || o[1] != len(ordinary) {
		t.Fatalf("fought %d probe and %d ordinary battles, want %d and %d", p[1], o[1], len(probes), len(ordinary))
	}
	if p[0]*100 < 95*p[1] || o[0]*100 > 2*o[1] {
		t.Errorf("flagged %d/%d probes and %d/%d ordinary; want ≥95%% and ≤2%%", p[0], p[1], o[0], o[1])
	}
}

// exportedLeaks reads the Arena JSONL export and returns the battles whose
// "anony" is false.
func exportedLeaks(t *testing.T, base string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, row := range exportRows(t, base, "trust-test-researcher") {
		anony, ok := row["anony"].(bool)
		if !ok {
			t.Fatalf("export row %v: want anony", row)
		}
		out[fmt.Sprint(row["question_id"])] = !anony
	}
	return out
}

// TestQuarantineEndToEnd: a contributor who starts 40 battles and votes on
// none is quarantined by the live detectors; the admin API lists them with
// the reason, lifts the quarantine, and both decisions are in the log.
func TestQuarantineEndToEnd(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "agora.yaml")
	yaml := "server:\n  admin_token: trust-test-admin-token-0123456789\ndemo:\n  enabled: true\n  token_delay: 0s\n" + testLimits
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveInProcess(t, "--config", cfg)
	conn := dialWS(t, base)
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for range 40 {
		if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": "How do I learn Go?"}); err != nil {
			t.Fatal(err)
		}
		for {
			var f map[string]any
			if err := conn.ReadJSON(&f); err != nil {
				t.Fatal(err)
			}
			if f["type"] == "error" {
				t.Fatalf("error frame %v", f)
			}
			if f["type"] == "ready" {
				break
			}
		}
	}
	admin := func(method, path string, out any) int {
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set("Authorization", "Bearer trust-test-admin-token-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var list struct {
		Quarantined []struct{ Contributor, Reason string }
		Log         []struct{ Contributor, Action, Actor string }
	}
	if code := admin("GET", "/api/v1/admin/quarantine", &list); code != 200 || len(list.Quarantined) != 1 ||
		!strings.Contains(list.Quarantined[0].Reason, "votes on 0 of 40 battles") {
		t.Fatalf("GET quarantine = %d %+v, want one contributor quarantined for not voting", code, list)
	}
	who := list.Quarantined[0].Contributor
	if code := admin("DELETE", "/api/v1/admin/quarantine/"+who+"?note=checked", nil); code != 204 {
		t.Errorf("lift = %d, want 204", code)
	}
	if code := admin("DELETE", "/api/v1/admin/quarantine/"+who, nil); code != 404 {
		t.Errorf("second lift = %d, want 404", code)
	}
	admin("GET", "/api/v1/admin/quarantine", &list)
	if len(list.Quarantined) != 0 || len(list.Log) != 2 || list.Log[0].Actor != "detector" || list.Log[1].Action != "lift" {
		t.Errorf("after the lift: %+v", list)
	}
}
