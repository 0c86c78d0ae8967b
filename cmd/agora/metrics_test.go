package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/cmd/agora/agoratest"
)

const testMetricsToken = "metrics-token-for-the-scraper"

// scrape GETs /metrics with token and returns the status and body.
func scrape(t *testing.T, base, token string) (int, string) {
	t.Helper()
	return agoratest.Get(t, base+"/metrics", token)
}

// sampleValue returns the value of the sample line that starts with
// series (a name and its labels as written), or -1 without one.
func sampleValue(body, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestServeMetrics runs a battle, a vote and a refused vote on a real
// server, scrapes /metrics with the metrics token and checks the counts.
// (configs/deploy lints a real scrape with promtool.)
func TestServeMetrics(t *testing.T) {
	base := serveInProcessEnv(t, map[string]string{"AGORA_METRICS_TOKEN": testMetricsToken}, "--config", fastConfig(t))
	if status, _ := scrape(t, base, ""); status != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token = %d, want 401", status)
	}
	conn := dialWS(t, base)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := battleOnce(conn, "How do I learn Go?", "a"); err != nil {
		t.Fatal(err)
	}
	conn.WriteJSON(map[string]any{"type": "vote", "battle_id": "no-such-battle", "winner": "a"})
	var refusal map[string]any
	if err := conn.ReadJSON(&refusal); err != nil || refusal["type"] != "error" {
		t.Fatalf("vote on an unknown battle: %v %v, want an error frame", refusal, err)
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
	}

	status, body := scrape(t, base, testMetricsToken)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics with the metrics token = %d %s", status, body)
	}
	for series, want := range map[string]float64{
		`agora_votes_accepted_total`:                                                  1,
		`agora_votes_refused_total{reason="not_found"}`:                               1,
		`agora_votes_refused_total{reason="conflict"}`:                                0,
		`agora_websocket_frames_total{direction="in",type="vote"}`:                    2,
		`agora_websocket_frames_total{direction="in",type="start"}`:                   1,
		`agora_websocket_frames_total{direction="out",type="voted"}`:                  1,
		`agora_websocket_connections`:                                                 1,
		`agora_http_requests_total{code="200",method="GET",route="/healthz"}`:         1,
		`agora_http_requests_total{code="401",method="GET",route="/metrics"}`:         1,
		`agora_http_requests_total{code="101",method="GET",route="/api/v1/arena/ws"}`: 1,
		`agora_store_commit_errors_total`:                                             0,
		`agora_model_breaker_state{model="curt-1",state="closed"}`:                    1,
		`agora_build_info{goversion="` + readBuildInfo().GoVersion + `",modified=`:    -2, // present
	} {
		got := sampleValue(body, series)
		if want == -2 {
			if !strings.Contains(body, "\n"+series) {
				t.Errorf("no %s in the scrape", series)
			}
			continue
		}
		if got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, name := range []string{"agora_store_commit_duration_seconds_count", "agora_model_calls_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("no %s in the scrape", name)
		}
	}
	if n := sampleValue(body, "agora_store_commit_duration_seconds_count"); n < 2 {
		t.Errorf("agora_store_commit_duration_seconds_count = %v, want at least 2 (the battle and its vote)", n)
	}

}

// TestMetricsTokenTooShort refuses a guessable metrics token at start.
func TestMetricsTokenTooShort(t *testing.T) {
	if _, err := metricsToken(func(string) string { return "short" }); exitCode(err) != 2 {
		t.Errorf("metricsToken(short) = %v, want a usage error", err)
	}
}
