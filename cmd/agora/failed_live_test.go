package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/cmd/agora/agoratest"
)

// flakyEndpoint is an OpenAI-compatible streaming endpoint. Model "flaky"
// breaks off mid-answer (two chunks, then the connection drops) on any
// prompt holding "FAIL"; every other answer streams to the end.
func flakyEndpoint(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		prompt := ""
		if n := len(req.Messages); n > 0 {
			prompt = req.Messages[n-1].Content
		}
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(s string) {
			fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", req.Model, s)
			w.(http.Flusher).Flush()
		}
		chunk("Rivers ")
		chunk("carry water ")
		if req.Model == "flaky" && strings.Contains(prompt, "FAIL") {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // mid-answer: no finish, no [DONE]
			}
			return
		}
		chunk("to the sea.")
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", req.Model)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serveData runs "agora serve" in this process on the data directory
// dir, with the configuration file config and environment vars, until the
// test ends, and returns its base URL.
func serveData(t *testing.T, dir, config string, vars map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	e := env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: out, stderr: errOut}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--config", config}, e)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return waitServing(t, out, errOut)
}

// voteThrough runs one battle to its vote, voting for side a whatever
// happens to the answers, and returns the frames' types in order.
func voteThrough(conn *websocket.Conn, prompt string) ([]string, error) {
	if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": prompt}); err != nil {
		return nil, err
	}
	var id string
	var types []string
	for {
		var f map[string]any
		if err := conn.ReadJSON(&f); err != nil {
			return types, err
		}
		types = append(types, fmt.Sprint(f["type"]))
		switch f["type"] {
		case "battle":
			id = f["battle_id"].(string)
		case "error":
			if f["side"] == nil {
				return types, fmt.Errorf("error frame %v", f)
			}
		case "ready":
			if err := conn.WriteJSON(map[string]any{"type": "vote", "battle_id": id, "winner": "a"}); err != nil {
				return types, err
			}
		case "voted":
			return types, nil
		}
	}
}

// TestLiveFailedEndpoint: a real server, two models behind a real
// streaming endpoint, one of which breaks off mid-answer. The battle where
// it failed is voted on, but it is in no leaderboard and no export: both
// count it as failed.
func TestLiveFailedEndpoint(t *testing.T) {
	ep := flakyEndpoint(t)
	u, _ := url.Parse(ep.URL)
	dir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "agora.yaml")
	yaml := fmt.Sprintf(`demo:
  enabled: false
egress:
  allow: ["%s"]
health:
  failures: 100
gold:
  share: 0 # a gold battle would pit steady against itself, with no failure to see
models:
  - name: steady
    base_url: %s/v1
    model: steady
  - name: flaky
    base_url: %s/v1
    model: flaky
`, u.Host, ep.URL, ep.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	const token = "researcher-token-for-the-test"
	base := serveData(t, dir, cfg, map[string]string{"AGORA_RESEARCHER_TOKEN": token})
	conn := dialWS(t, base)
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for _, prompt := range []string{"Where do rivers go?", "Where do rivers go? FAIL", "Rivers, once more?"} {
		types, err := voteThrough(conn, prompt)
		if err != nil {
			t.Fatalf("battle %q: %v (frames %v)", prompt, err, types)
		}
		if failed := strings.Contains(strings.Join(types, " "), "error"); failed != strings.Contains(prompt, "FAIL") {
			t.Fatalf("battle %q: frames %v; want a side error only on the FAIL prompt", prompt, types)
		}
	}

	var lb struct {
		Battles int64 `json:"battles"`
		Failed  int64 `json:"failed"`
	}
	getJSON(t, base+"/api/v1/leaderboard?rounds=0", token, &lb)
	if lb.Battles != 2 || lb.Failed != 1 {
		t.Errorf("live leaderboard: %d battles, %d failed; want 2 and 1", lb.Battles, lb.Failed)
	}
	resp := get(t, base+"/api/v1/export?format=arena-jsonl", token)
	if n := strings.Count(resp, "\n"); n != 2 || strings.Contains(resp, "FAIL") {
		t.Errorf("HTTP export has %d rows (want 2) or the failed battle:\n%s", n, resp)
	}
	// The store read by the command-line tools, while the server runs.
	out := filepath.Join(t.TempDir(), "battles.jsonl")
	if _, stderr, err := runAgora(t, "export", "--data", dir, "--format", "arena-jsonl", "--output", out); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	if data := readFile(t, out); strings.Count(data, "\n") != 2 || strings.Contains(data, "FAIL") {
		t.Errorf("export holds the failed battle or not the other two:\n%s", data)
	}
	if card := readFile(t, filepath.Join(filepath.Dir(out), "README.md")); !strings.Contains(card, "never counted as votes) | 1 |") {
		t.Errorf("data card does not count the failed battle:\n%s", card)
	}
	stdout, stderr, err := runAgora(t, "leaderboard", "--data", dir, "--json", "--rounds", "0")
	if err != nil {
		t.Fatalf("leaderboard: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &lb); err != nil || lb.Battles != 2 || lb.Failed != 1 {
		t.Errorf("store leaderboard: %d battles, %d failed (%v); want 2 and 1", lb.Battles, lb.Failed, err)
	}
}

// get GETs u with an optional bearer token and returns the body of a 200
// answer; any other status fails the test.
func get(t *testing.T, u, token string) string {
	t.Helper()
	status, body := agoratest.Get(t, u, token)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", u, status, body)
	}
	return body
}

func getJSON(t *testing.T, u, token string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(get(t, u, token)), v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}
