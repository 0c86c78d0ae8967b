package arena

import (
	"context"
	"errors"
	"io"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// BreakerState is the state of a model's circuit breaker.
type BreakerState int

// The breaker states. A closed breaker lets the model into battles; an
// open one keeps it out until a probe is due; a half-open one is being
// probed, and stays out of battles until the probe succeeds.
const (
	Closed BreakerState = iota
	Open
	HalfOpen
)

var breakerStateNames = [...]string{Closed: "closed", Open: "open", HalfOpen: "half-open"}

func (s BreakerState) String() string {
	if int(s) < len(breakerStateNames) {
		return breakerStateNames[s]
	}
	return "unknown"
}

// MarshalText writes s as its name, for JSON.
func (s BreakerState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Health keeps a circuit breaker per model. It observes every battle call
// (it is an Observer: wrap models with Observe); a model whose calls fail
// or time out Failures times in a row, or at ErrorRate or more over Window,
// is paused: Available, and so the Matcher wrapper, leave it out of new
// battles. After Cooldown, Run probes it with a real, tiny completion call
// (one short prompt, cancelled at the first streamed text); success closes
// the breaker, failure pauses the model again for twice as long, up to
// MaxCooldown. Calls the contributor cancelled count neither way.
//
// Probes are real calls rather than a battle let through, so that no
// contributor is handed a model that is probably broken.
type Health struct {
	cfg HealthConfig

	mu       sync.Mutex          // guards the fields below
	models   map[string]Model    // what probes call, by name
	breakers map[string]*breaker // by model name; one for every model in models
}

// windowSlots is how many time slots the error-rate window is kept in.
const windowSlots = 10

type breaker struct {
	state     BreakerState
	since     time.Time // when it entered state
	retryAt   time.Time // open: when a probe is due
	fails     int       // consecutive failed calls
	reopens   int       // failed probes since it last opened from closed
	opens     uint64    // times it opened from closed, ever
	slots     [windowSlots]slot
	lastError string // the client-safe message of the last failure
}

// slot counts outcomes in one slot of the window.
type slot struct {
	n         int64 // slot number: time / (window / windowSlots)
	ok, fails int
}

// NewHealth returns a Health for cfg watching models (what probes call;
// pass the models themselves, not the Observe wrappers, so that probes are
// not counted as usage).
func NewHealth(cfg HealthConfig, models map[string]Model) (*Health, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Health{cfg: cfg.withDefaults(), models: map[string]Model{}, breakers: map[string]*breaker{}}
	for name, m := range models {
		h.Set(name, m)
	}
	return h, nil
}

// Set watches model m as name, or replaces the model of a watched name
// (keeping its breaker).
func (h *Health) Set(name string, m Model) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.models[name] = m
	if h.breakers[name] == nil {
		h.breakers[name] = &breaker{since: h.cfg.Now()}
	}
}

// Remove stops watching name.
func (h *Health) Remove(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.models, name)
	delete(h.breakers, name)
}

// Observe records the outcome of a battle call. Outcomes for a model whose
// breaker is not closed are ignored (they began before it opened), as are
// cancelled calls and models Health does not watch.
func (h *Health) Observe(c Call) {
	if h.cfg.Disabled || c.Cancelled {
		return
	}
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.breakers[c.Model]
	if b == nil || b.state != Closed {
		return
	}
	s := b.slot(now, h.cfg.Window)
	if c.Err == nil {
		s.ok++
		b.fails = 0
		return
	}
	s.fails++
	b.fails++
	b.lastError = safeMessage(c.Err)
	calls, fails := b.window(now, h.cfg.Window)
	if b.fails >= h.cfg.Failures || (calls >= h.cfg.MinCalls && float64(fails) >= h.cfg.ErrorRate*float64(calls)) {
		b.opens++
		b.reopens = 0
		h.open(b, now)
	}
}

// open pauses b from now, for a cool-down that doubles with each failed
// probe.
func (h *Health) open(b *breaker, now time.Time) {
	cool := h.cfg.Cooldown
	for i := 0; i < b.reopens && cool < h.cfg.MaxCooldown; i++ {
		cool *= 2
	}
	b.state, b.since, b.retryAt = Open, now, now.Add(min(cool, h.cfg.MaxCooldown))
}

// slot returns the window slot for now, emptied if it held an older slot.
func (b *breaker) slot(now time.Time, window time.Duration) *slot {
	n := now.UnixNano() / int64(window/windowSlots)
	s := &b.slots[n%windowSlots]
	if s.n != n {
		*s = slot{n: n}
	}
	return s
}

// window returns the calls and failures in the window ending at now.
func (b *breaker) window(now time.Time, window time.Duration) (calls, fails int) {
	n := now.UnixNano() / int64(window/windowSlots)
	for _, s := range b.slots {
		if s.n > n-windowSlots && s.n <= n {
			calls += s.ok + s.fails
			fails += s.fails
		}
	}
	return calls, fails
}

// safeMessage returns the part of err that may be shown to a lab.
func safeMessage(err error) string {
	var e *rlhf.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "the model call failed"
}

// Available returns the names, in order, that may be put in a battle: those
// whose breaker is closed, and any Health does not watch.
func (h *Health) Available(names []string) []string {
	if h.cfg.Disabled {
		return names
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(names))
	for _, name := range names {
		if b := h.breakers[name]; b == nil || b.state == Closed {
			out = append(out, name)
		}
	}
	return out
}

// Matcher returns inner restricted to the available models: a battle is
// never started with a paused model.
func (h *Health) Matcher(inner Matcher) Matcher {
	if inner == nil {
		inner = Uniform{}
	}
	return healthMatcher{h: h, inner: inner}
}

type healthMatcher struct {
	h     *Health
	inner Matcher
}

func (m healthMatcher) Pair(models []string, rng *mrand.Rand) (string, string, error) {
	return m.inner.Pair(m.h.Available(models), rng)
}

// State returns name's breaker state, and whether Health watches name.
func (h *Health) State(name string) (BreakerState, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b := h.breakers[name]; b != nil {
		return b.state, true
	}
	return Closed, false
}

// ProbeDue probes every paused model whose cool-down is over, and waits
// for the probes. Run calls it; tests call it after moving the clock.
func (h *Health) ProbeDue(ctx context.Context) {
	now := h.cfg.Now()
	type probe struct {
		name string
		m    Model
		b    *breaker
	}
	var due []probe
	h.mu.Lock()
	for name, b := range h.breakers {
		if b.state == Open && !now.Before(b.retryAt) {
			b.state, b.since = HalfOpen, now
			due = append(due, probe{name, h.models[name], b})
		}
	}
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, p := range due {
		wg.Go(func() {
			err := h.probe(ctx, p.m)
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			now := h.cfg.Now()
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.breakers[p.name] != p.b || p.b.state != HalfOpen {
				return // removed or replaced meanwhile
			}
			switch {
			case ctx.Err() != nil:
				p.b.state = Open // not judged: probe again next time
			case err == nil:
				*p.b = breaker{state: Closed, since: now, opens: p.b.opens}
			default:
				p.b.reopens++
				p.b.lastError = safeMessage(err)
				h.open(p.b, now)
			}
		})
	}
	wg.Wait()
}

// probePrompt is the whole conversation of a probe.
var probePrompt = []rlhf.Message{{Role: "user", Content: "Reply with one word: ok"}}

// probe calls m once and reports whether it streamed any text in time.
func (h *Health) probe(ctx context.Context, m Model) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.ProbeTimeout)
	defer cancel()
	if m == nil {
		return errors.New("no model to probe")
	}
	var got atomic.Bool
	_, _, err := m.Stream(ctx, probePrompt, func(string) {
		if got.CompareAndSwap(false, true) {
			cancel() // one piece of text is proof enough; stop paying for tokens
		}
	})
	switch {
	case got.Load():
		return nil
	case err != nil:
		return err
	}
	return rlhf.Errorf(rlhf.EUpstream, "the model answered the probe with no text")
}

// Run probes paused models when their cool-down ends, until ctx ends.
func (h *Health) Run(ctx context.Context) error {
	if h.cfg.Disabled {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(h.cfg.ProbeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			h.ProbeDue(ctx)
		}
	}
}

// ModelHealth is a model's breaker as a lab or operator sees it.
type ModelHealth struct {
	Model               string       `json:"model"`
	State               BreakerState `json:"state"`
	Since               time.Time    `json:"since"`              // when it entered State
	RetryAt             *time.Time   `json:"retry_at,omitempty"` // open: when the next probe is due
	ConsecutiveFailures int          `json:"consecutive_failures"`
	WindowCalls         int          `json:"window_calls"`
	WindowErrors        int          `json:"window_errors"`
	Opens               uint64       `json:"opens"`                // times paused since the server started
	LastError           string       `json:"last_error,omitempty"` // never names the endpoint
}

// Snapshot returns every watched model's breaker, sorted by name.
func (h *Health) Snapshot() []ModelHealth {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]ModelHealth, 0, len(h.breakers))
	for name, b := range h.breakers {
		mh := ModelHealth{Model: name, State: b.state, Since: b.since, ConsecutiveFailures: b.fails,
			Opens: b.opens, LastError: b.lastError}
		mh.WindowCalls, mh.WindowErrors = b.window(now, h.cfg.Window)
		if b.state == Open {
			t := b.retryAt
			mh.RetryAt = &t
		}
		out = append(out, mh)
	}
	slices.SortFunc(out, func(a, b ModelHealth) int { return strings.Compare(a.Model, b.Model) })
	return out
}

// WritePrometheus writes the breakers in the Prometheus text format: a
// 0/1 gauge per state (the one with 1 is current) and the times opened.
func (h *Health) WritePrometheus(w io.Writer) error {
	snap := h.Snapshot()
	p := newPromWriter(w)
	p.family("agora_model_breaker_state", "gauge", "1 for the current state of the model's circuit breaker (closed, open, half-open), 0 for the others.")
	for _, mh := range snap {
		for s := Closed; s <= HalfOpen; s++ {
			v := 0.0
			if mh.State == s {
				v = 1
			}
			p.sample("agora_model_breaker_state", labels{"model", mh.Model, "state", s.String()}, v)
		}
	}
	p.family("agora_model_breaker_opens_total", "counter", "Times the model's circuit breaker opened (the model was paused).")
	for _, mh := range snap {
		p.sample("agora_model_breaker_opens_total", labels{"model", mh.Model}, float64(mh.Opens))
	}
	return p.flush()
}
