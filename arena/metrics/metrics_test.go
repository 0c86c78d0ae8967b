package metrics

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

type textSource string

func (s textSource) WritePrometheus(w io.Writer) error {
	_, err := io.WriteString(w, string(s))
	return err
}

type failingSource struct{}

func (failingSource) WritePrometheus(io.Writer) error { return errors.New("broken") }

func TestWritePrometheus(t *testing.T) {
	r := New(BuildInfo{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.26"})
	r.AddText(textSource("# HELP agora_model_calls_total Calls.\n# TYPE agora_model_calls_total counter\nagora_model_calls_total{model=\"m\",outcome=\"ok\"} 3\n"))
	r.Vote("")
	r.Vote("conflict")
	r.HTTPRequest("GET", "", 404, time.Millisecond)
	r.HTTPRequest("BREW", "", 404, time.Millisecond)
	r.WebsocketFrame("out", "token")
	r.StoreCommit(3*time.Millisecond, 4, false)
	r.StoreCommit(time.Second, 1, true)
	r.WebsocketConnections(func() int64 { return 7 })
	r.Shipping(func() ShipStatus {
		return ShipStatus{Backlog: 10, BacklogCap: 100, Lag: 2 * time.Second, Refusing: true, Shipped: 5, LastShipAt: time.Unix(1700000000, 0)}
	})
	var buf bytes.Buffer
	if err := r.WritePrometheus(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`agora_build_info{goversion="go1.26",modified="false",revision="abc",version="v1.2.3"} 1`,
		`agora_model_calls_total{model="m",outcome="ok"} 3`,
		"agora_votes_accepted_total 1",
		`agora_votes_refused_total{reason="conflict"} 1`,
		`agora_votes_refused_total{reason="internal"} 0`,
		`agora_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`agora_http_requests_total{code="404",method="other",route="unmatched"} 1`,
		`agora_websocket_frames_total{direction="out",type="token"} 1`,
		"agora_websocket_connections 7",
		`agora_store_commit_duration_seconds_bucket{le="0.005"} 1`,
		"agora_store_commit_duration_seconds_count 2",
		"agora_store_commit_writes_sum 5",
		"agora_store_commit_errors_total 1",
		"agora_clickhouse_backlog_votes 10",
		"agora_clickhouse_backlog_cap_votes 100",
		"agora_clickhouse_lag_seconds 2",
		"agora_clickhouse_refusing 1",
		"agora_clickhouse_shipped_votes_total 5",
		"agora_clickhouse_last_ship_timestamp_seconds 1.7e+09",
		"go_goroutines ",
	} {
		if !strings.Contains(buf.String(), want+"\n") && !strings.Contains(buf.String(), "\n"+want) {
			t.Errorf("WritePrometheus lacks %q", want)
		}
	}
}

// TestWritePrometheusErrors checks that a failing source or a family
// served twice is an error and writes nothing.
func TestWritePrometheusErrors(t *testing.T) {
	for name, src := range map[string]TextSource{
		"failing":   failingSource{},
		"duplicate": textSource("# TYPE agora_votes_accepted_total counter\nagora_votes_accepted_total 1\n"),
		"garbage":   textSource("this is { not the text format\n"),
	} {
		r := New(BuildInfo{})
		r.AddText(src)
		var buf bytes.Buffer
		if err := r.WritePrometheus(&buf); err == nil || buf.Len() > 0 {
			t.Errorf("%s: WritePrometheus = %v with %d bytes written, want an error and nothing", name, err, buf.Len())
		}
	}
}
