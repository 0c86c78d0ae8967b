package arena_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/rlhf"
)

// healthClock is a clock the test moves by hand.
type healthClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *healthClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *healthClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// healthStore keeps the battles in memory.
type healthStore struct {
	mu      sync.Mutex // guards battles
	battles map[string]rlhf.Battle
}

func (s *healthStore) SaveBattle(_ context.Context, b *rlhf.Battle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.battles[b.ID] = *b
	return nil
}

func (s *healthStore) SaveVote(context.Context, *rlhf.Battle, *rlhf.Vote) error { return nil }

func (s *healthStore) battle(id string) rlhf.Battle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.battles[id]
}

// flakyEndpoint is an OpenAI-compatible endpoint (the demo models) that
// can be made to fail with 500 or to stall.
type flakyEndpoint struct {
	*httptest.Server
	mode     atomic.Value  // "ok", "fail" or "stall"
	stop     chan struct{} // closed at the end of the test: stalled requests return
	requests atomic.Int64
}

func newFlakyEndpoint(t *testing.T) *flakyEndpoint {
	t.Helper()
	f := &flakyEndpoint{stop: make(chan struct{})}
	f.mode.Store("ok")
	healthy := &demo.Server{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		switch f.mode.Load() {
		case "fail":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
		case "stall":
			io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
			select {
			case <-r.Context().Done():
			case <-f.stop:
			}
		default:
			healthy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(func() {
		close(f.stop)
		f.Close()
	})
	return f
}

// client returns a client of f that waits up to first for the first token.
func (f *flakyEndpoint) client(first time.Duration) *openai.Client {
	return openai.New(rlhf.EndpointModel{BaseURL: f.URL + "/v1", ModelID: "good", MaxTokens: 64,
		ConnectTimeout: rlhf.Duration(time.Second), FirstTokenTimeout: rlhf.Duration(first), IdleTimeout: rlhf.Duration(200 * time.Millisecond), MaxAnswerBytes: 4096}, "", nil)
}

// healthArena is an arena over three models on real HTTP endpoints, one of
// them flaky, with a Health watching all three.
type healthArena struct {
	arena  *arena.Arena
	health *arena.Health
	clock  *healthClock
	store  *healthStore
	flaky  *flakyEndpoint
	n      int
}

func newHealthArena(t *testing.T, cfg arena.HealthConfig) *healthArena {
	t.Helper()
	good := newFlakyEndpoint(t)
	ha := &healthArena{clock: &healthClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		store: &healthStore{battles: map[string]rlhf.Battle{}}, flaky: newFlakyEndpoint(t)}
	raw := map[string]arena.Model{"good-1": good.client(5 * time.Second), "good-2": good.client(5 * time.Second), "flaky": ha.flaky.client(time.Second)}
	cfg.Now = ha.clock.Now
	h, err := arena.NewHealth(cfg, raw)
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]arena.Model{}
	for name, m := range raw {
		models[name] = arena.Observe(name, m, h)
	}
	a, err := arena.New(arena.Config{
		Models: models, Store: ha.store, Matcher: h.Matcher(arena.Uniform{}),
		MaxTurns: 1, MaxPromptBytes: 1000, MaxBattlesPerContributor: 1, VoteWindow: time.Hour,
		Now: ha.clock.Now, Rand: mrand.New(mrand.NewPCG(1, 2)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ha.arena, ha.health = a, h
	return ha
}

// battle runs one battle to the end of its turn and returns its models.
func (ha *healthArena) battle(t *testing.T) (string, string) {
	t.Helper()
	ha.n++
	ready := make(chan struct{}, 1)
	id, err := ha.arena.Start(context.Background(), fmt.Sprintf("contributor-%d", ha.n), arena.Request{Prompt: "Say hello."}, func(f arena.Frame) {
		if f.Type == arena.FrameReady {
			ready <- struct{}{}
		}
	})
	if err != nil {
		t.Fatalf("Start battle %d: %v", ha.n, err)
	}
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("battle %d did not finish", ha.n)
	}
	b := ha.store.battle(id)
	return b.ModelA, b.ModelB
}

func (ha *healthArena) state(t *testing.T, name string) arena.BreakerState {
	t.Helper()
	s, ok := ha.health.State(name)
	if !ok {
		t.Fatalf("State(%q): not watched", name)
	}
	return s
}

// TestBreakerPausesAndRecovers is the acceptance test: a failing endpoint
// is paused after Failures failed battles, no battle is started with it
// while it is paused (and failed probes keep it paused, for longer), and it
// comes back after the cool-down once it is healthy.
func TestBreakerPausesAndRecovers(t *testing.T) {
	ha := newHealthArena(t, arena.HealthConfig{Failures: 3, MinCalls: 1000, Cooldown: 30 * time.Second, MaxCooldown: 5 * time.Minute})
	ha.flaky.mode.Store("fail")

	// Battles until the flaky model has failed three times.
	failures := 0
	for i := 0; i < 100 && ha.state(t, "flaky") == arena.Closed; i++ {
		a, b := ha.battle(t)
		if a == "flaky" || b == "flaky" {
			failures++
		}
	}
	if got := ha.state(t, "flaky"); got != arena.Open {
		t.Fatalf("after %d failed battles the flaky model's breaker is %v, want open", failures, got)
	}
	if failures != 3 {
		t.Errorf("breaker opened after %d failures, want 3", failures)
	}

	// While it is paused, no battle includes it.
	requests := ha.flaky.requests.Load()
	for range 60 {
		if a, b := ha.battle(t); a == "flaky" || b == "flaky" {
			t.Fatalf("battle %d paired %s and %s while flaky is paused", ha.n, a, b)
		}
	}
	if n := ha.flaky.requests.Load() - requests; n != 0 {
		t.Errorf("the paused endpoint got %d requests, want 0", n)
	}

	// Before the cool-down, no probe.
	ha.clock.Advance(29 * time.Second)
	ha.health.ProbeDue(context.Background())
	if n := ha.flaky.requests.Load() - requests; n != 0 {
		t.Errorf("the endpoint was probed %d times before the cool-down ended", n)
	}

	// After it, a probe; the endpoint still fails, so it stays paused for
	// twice as long.
	ha.clock.Advance(time.Second)
	ha.health.ProbeDue(context.Background())
	if n := ha.flaky.requests.Load() - requests; n != 1 {
		t.Errorf("the endpoint got %d probe requests, want 1", n)
	}
	if got := ha.state(t, "flaky"); got != arena.Open {
		t.Fatalf("after a failed probe the breaker is %v, want open", got)
	}
	snap := snapshotOf(t, ha.health, "flaky")
	if want := ha.clock.Now().Add(time.Minute); snap.RetryAt == nil || !snap.RetryAt.Equal(want) {
		t.Errorf("after one failed probe RetryAt = %v, want %v (the cool-down doubled)", snap.RetryAt, want)
	}
	if snap.LastError == "" || snap.Opens != 1 {
		t.Errorf("Snapshot = %+v, want a last error and 1 opening", snap)
	}
	for range 20 {
		if a, b := ha.battle(t); a == "flaky" || b == "flaky" {
			t.Fatalf("battle paired %s and %s after a failed probe", a, b)
		}
	}

	// The endpoint recovers; the next probe closes the breaker and the
	// model is back in battles.
	ha.flaky.mode.Store("ok")
	ha.clock.Advance(time.Minute)
	ha.health.ProbeDue(context.Background())
	if got := ha.state(t, "flaky"); got != arena.Closed {
		t.Fatalf("after a good probe the breaker is %v, want closed", got)
	}
	seen := false
	for i := 0; i < 50 && !seen; i++ {
		a, b := ha.battle(t)
		seen = a == "flaky" || b == "flaky"
	}
	if !seen {
		t.Error("the recovered model was in none of 50 battles")
	}
}

// TestBreakerCountsTimeouts: an endpoint that stalls (the client's idle
// timeout fires) opens the breaker like one that fails.
func TestBreakerCountsTimeouts(t *testing.T) {
	ha := newHealthArena(t, arena.HealthConfig{Failures: 2, MinCalls: 1000})
	ha.flaky.mode.Store("stall")
	for i := 0; i < 100 && ha.state(t, "flaky") == arena.Closed; i++ {
		ha.battle(t)
	}
	if got := ha.state(t, "flaky"); got != arena.Open {
		t.Fatalf("the stalling model's breaker is %v, want open", got)
	}
	if got := snapshotOf(t, ha.health, "flaky").LastError; got == "" {
		t.Error("LastError is empty, want the timeout's message")
	}
}

func snapshotOf(t *testing.T, h *arena.Health, name string) arena.ModelHealth {
	t.Helper()
	for _, mh := range h.Snapshot() {
		if mh.Model == name {
			return mh
		}
	}
	t.Fatalf("Snapshot has no %q", name)
	return arena.ModelHealth{}
}

// TestBreakerErrorRate: the error-rate rule opens the breaker once the
// window has MinCalls calls, and old outcomes slide out of the window.
func TestBreakerErrorRate(t *testing.T) {
	clock := &healthClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	h, err := arena.NewHealth(arena.HealthConfig{Failures: 100, ErrorRate: 0.5, MinCalls: 10, Window: time.Minute, Now: clock.Now},
		map[string]arena.Model{"m": nil})
	if err != nil {
		t.Fatal(err)
	}
	fail := errors.New("boom")
	// 6 failures (fewer than MinCalls calls), then a minute later 4 of 9
	// calls fail: were the old ones still counted, 10 of 15 would have
	// opened the breaker.
	for range 6 {
		h.Observe(arena.Call{Model: "m", Err: fail})
	}
	clock.Advance(time.Minute + time.Second)
	for i := range 9 {
		if i%2 == 0 {
			h.Observe(arena.Call{Model: "m"})
		} else {
			h.Observe(arena.Call{Model: "m", Err: fail})
		}
	}
	if s, _ := h.State("m"); s != arena.Closed {
		t.Fatalf("after 4 failures in 9 calls the breaker is %v, want closed", s)
	}
	// Cancelled calls count neither way.
	for range 20 {
		h.Observe(arena.Call{Model: "m", Err: context.Canceled, Cancelled: true})
	}
	if s, _ := h.State("m"); s != arena.Closed {
		t.Fatalf("after cancelled calls the breaker is %v, want closed", s)
	}
	h.Observe(arena.Call{Model: "m", Err: fail}) // 5 of 10: at the rate
	if s, _ := h.State("m"); s != arena.Open {
		t.Fatalf("after 5 failures in 10 calls the breaker is %v, want open", s)
	}
	if got := h.Available([]string{"a", "m", "b"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Available = %v, want [a b]", got)
	}
	if _, _, err := h.Matcher(arena.Uniform{}).Pair([]string{"m", "x"}, mrand.New(mrand.NewPCG(1, 1))); rlhf.ErrorCode(err) != rlhf.EUnavailable {
		t.Errorf("Pair with one healthy model = %v, want an %q error", err, rlhf.EUnavailable)
	}
}

func TestHealthConfigValidate(t *testing.T) {
	bad := []arena.HealthConfig{
		{Failures: -1}, {ErrorRate: 1.5}, {ErrorRate: -0.1}, {MinCalls: -1}, {Window: time.Millisecond},
		{Cooldown: -time.Second}, {Cooldown: time.Hour, MaxCooldown: time.Minute},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if err := (&arena.HealthConfig{}).Validate(); err != nil {
		t.Errorf("Validate(zero) = %v, want nil", err)
	}
}

// TestOperationsConfigYAML decodes the example in OperationsConfig's
// documentation (and docs/operations.md) strictly.
func TestOperationsConfigYAML(t *testing.T) {
	const doc = `
egress:
  allow: ["10.1.0.0/16", "gpu-box:8000"]
health:
  failures: 5
  error_rate: 0.5
  min_calls: 20
  window: 5m
  cooldown: 30s
  max_cooldown: 10m
  probe_timeout: 30s
usage:
  currency: USD
  prices:
    helpful-4: {input_per_million: 0.15, output_per_million: 0.60}
`
	var c arena.OperationsConfig
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Health.Window != 5*time.Minute || c.Health.Cooldown != 30*time.Second || c.Health.Failures != 5 ||
		c.Usage.Prices["helpful-4"].OutputPerMillion != 0.60 || len(c.Egress.Allow) != 2 {
		t.Errorf("decoded %+v", c)
	}
}

// TestHealthRun: Run probes a paused model once its cool-down is over, and
// returns when its context ends.
func TestHealthRun(t *testing.T) {
	ep := newFlakyEndpoint(t)
	clock := &healthClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	h, err := arena.NewHealth(arena.HealthConfig{Failures: 1, ProbeEvery: 5 * time.Millisecond, Now: clock.Now},
		map[string]arena.Model{"m": ep.client(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	h.Observe(arena.Call{Model: "m", Err: errors.New("boom")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	clock.Advance(time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for s, _ := h.State("m"); s != arena.Closed; s, _ = h.State("m") {
		if time.Now().After(deadline) {
			t.Fatalf("the breaker is still %v 10 s after the cool-down ended", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
