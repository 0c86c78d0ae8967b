package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/arena"
)

// failingMetrics fails to render.
type failingMetrics struct{}

func (failingMetrics) WritePrometheus(io.Writer) error { return errors.New("broken gauge") }

func TestHandleMetrics(t *testing.T) {
	usage, err := arena.NewUsage(arena.UsageConfig{Prices: map[string]arena.Price{"helpful-4": {InputPerMillion: 1, OutputPerMillion: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	usage.Observe(arena.Call{Model: "helpful-4", Duration: time.Second, TTFT: 50 * time.Millisecond, TokensIn: 1000, TokensOut: 500})
	health, err := arena.NewHealth(arena.HealthConfig{}, map[string]arena.Model{"helpful-4": nil})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{log: slog.New(slog.DiscardHandler)}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/metrics", s.wrap(handleMetrics(usage, health)))
	r.GET("/broken", s.wrap(handleMetrics(usage, failingMetrics{})))
	srv := httptest.NewServer(r)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != metricsContentType {
		t.Fatalf("GET /metrics: %d %q, want 200 %q", resp.StatusCode, resp.Header.Get("Content-Type"), metricsContentType)
	}
	for _, want := range []string{
		"# TYPE agora_model_calls_total counter\n",
		`agora_model_calls_total{model="helpful-4",outcome="ok"} 1` + "\n",
		`agora_model_cost_total{model="helpful-4",currency="USD"} 0.002` + "\n",
		`agora_model_request_duration_seconds_bucket{model="helpful-4",le="1"} 1` + "\n",
		`agora_model_breaker_state{model="helpful-4",state="closed"} 1` + "\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics lacks %q; body:\n%s", want, body)
		}
	}

	resp, err = http.Get(srv.URL + "/broken")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "agora_model") || strings.Contains(string(body), "broken gauge") {
		t.Errorf("GET /broken: %d %s, want a bare 500 without partial metrics or the cause", resp.StatusCode, body)
	}
}
