// Package metrics holds the metrics an operator watches and alerts on, in
// the Prometheus format: votes, websockets, HTTP requests, store commits,
// ClickHouse shipping, the Go runtime, the process and the build. It is the
// only package that imports the Prometheus client library.
//
// Other packages record through small interfaces of their own (or plain
// funcs) that *Registry satisfies; cmd/agora wires them. Sources that
// already write the text format (per-model usage and circuit breakers)
// are added with AddText and served beside the rest.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TextSource writes whole metric families in the Prometheus text format;
// *arena.Usage and *arena.Health are ones.
type TextSource interface {
	WritePrometheus(w io.Writer) error
}

// BuildInfo describes the running binary, for agora_build_info.
type BuildInfo struct {
	Version   string // the module version, "(devel)" for a local build
	Revision  string // the VCS revision, "" when unknown
	Time      string // the revision's commit time (RFC 3339), "" when unknown
	Modified  bool   // the work tree had changes
	GoVersion string
}

// RefusalReasons are the reasons a vote is refused for (the protocol's
// error codes); each has a series from the start, so that rates work
// before the first refusal.
var RefusalReasons = []string{"invalid", "not_found", "conflict", "not_ready", "limit", "unavailable", "unauthorized", "forbidden", "upstream", "timeout", "internal"}

// Registry holds every metric of the server. Its recording methods are
// safe for concurrent use.
type Registry struct {
	reg *prometheus.Registry

	mu   sync.Mutex // guards text
	text []TextSource

	votesAccepted prometheus.Counter
	votesRefused  *prometheus.CounterVec
	frames        *prometheus.CounterVec
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	commitSeconds prometheus.Histogram
	commitWrites  prometheus.Histogram
	commitErrors  prometheus.Counter
}

// New returns a Registry with the Go runtime, process and build metrics
// registered.
func New(build BuildInfo) *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "agora_build_info",
		Help: "Always 1; the labels describe the running binary.",
		ConstLabels: prometheus.Labels{
			"version": build.Version, "revision": build.Revision, "modified": strconv.FormatBool(build.Modified),
			"goversion": build.GoVersion,
		},
	}, func() float64 { return 1 }))
	r.registerVotes()
	r.registerWeb()
	r.registerStore()
	return r
}

// AddText serves src's families beside the registry's own.
func (r *Registry) AddText(src TextSource) {
	r.mu.Lock()
	r.text = append(r.text, src)
	r.mu.Unlock()
}

// Gauge registers a gauge whose value f reports at each scrape.
func (r *Registry) Gauge(name, help string, f func() float64) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// WritePrometheus writes every metric in the Prometheus text format
// (version 0.0.4), families sorted by name. A name served twice, or a
// source that fails, is an error and nothing is written.
func (r *Registry) WritePrometheus(w io.Writer) error {
	families, err := prometheus.Gatherers{r.reg, prometheus.GathererFunc(r.gatherText)}.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("encode metric %s: %w", f.GetName(), err)
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// gatherText reads the text sources' families.
func (r *Registry) gatherText() ([]*dto.MetricFamily, error) {
	r.mu.Lock()
	srcs := append([]TextSource(nil), r.text...)
	r.mu.Unlock()
	var buf bytes.Buffer
	for _, s := range srcs {
		if err := s.WritePrometheus(&buf); err != nil {
			return nil, err
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(&buf)
	if err != nil {
		return nil, fmt.Errorf("parse text metrics: %w", err)
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	return out, nil
}

// latencyBuckets span a fast commit or request (1 ms) to a stuck one (10 s).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func seconds(d time.Duration) float64 { return d.Seconds() }
