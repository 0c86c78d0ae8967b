package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (r *Registry) registerVotes() {
	r.votesAccepted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "agora_votes_accepted_total",
		Help: "Votes committed to the store and acknowledged.",
	})
	r.votesRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agora_votes_refused_total",
		Help: "Votes refused, by reason (the protocol's error code).",
	}, []string{"reason"})
	for _, reason := range RefusalReasons {
		r.votesRefused.WithLabelValues(reason)
	}
	r.reg.MustRegister(r.votesAccepted, r.votesRefused)
}

// Vote counts a vote: accepted when reason is "", else refused for reason.
func (r *Registry) Vote(reason string) {
	if reason == "" {
		r.votesAccepted.Inc()
		return
	}
	r.votesRefused.WithLabelValues(reason).Inc()
}

func (r *Registry) registerWeb() {
	r.frames = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agora_websocket_frames_total",
		Help: "Websocket frames, by direction (in from clients, out to them) and protocol type.",
	}, []string{"direction", "type"})
	r.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agora_http_requests_total",
		Help: "HTTP requests answered, by method, route (the route table's path; unmatched for none) and status code.",
	}, []string{"method", "route", "code"})
	r.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "agora_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method and route (a websocket's counts until the upgrade).",
		Buckets: latencyBuckets,
	}, []string{"method", "route"})
	r.reg.MustRegister(r.frames, r.httpRequests, r.httpDuration)
}

// WebsocketFrame counts a websocket frame: direction is "in" or "out",
// typ the protocol's frame or request type.
func (r *Registry) WebsocketFrame(direction, typ string) {
	r.frames.WithLabelValues(direction, typ).Inc()
}

// HTTPRequest counts an answered HTTP request to route ("" when no route
// matched) and how long it took.
func (r *Registry) HTTPRequest(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	if !knownMethods[method] {
		method = "other" // clients choose methods: keep the label's values few
	}
	r.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	r.httpDuration.WithLabelValues(method, route).Observe(seconds(d))
}

var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// WebsocketConnections serves f, the number of open websocket
// connections, as a gauge.
func (r *Registry) WebsocketConnections(f func() int64) {
	r.Gauge("agora_websocket_connections", "Open websocket connections.", func() float64 { return float64(f()) })
}

func (r *Registry) registerStore() {
	r.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "agora_store_commit_duration_seconds",
		Help:    "Time of one group commit of the store (its writes and the fsync), successful or not.",
		Buckets: latencyBuckets,
	})
	r.commitWrites = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "agora_store_commit_writes",
		Help:    "Writes (votes, battles, turns) that shared one group commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
	})
	r.commitErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "agora_store_commit_errors_total",
		Help: "Group commits that failed (every write in them failed).",
	})
	r.reg.MustRegister(r.commitSeconds, r.commitWrites, r.commitErrors)
}

// StoreCommit records one group commit of writes that took d; failed
// reports whether the commit failed.
func (r *Registry) StoreCommit(d time.Duration, writes int, failed bool) {
	r.commitSeconds.Observe(seconds(d))
	r.commitWrites.Observe(float64(writes))
	if failed {
		r.commitErrors.Inc()
	}
}
