// Package registry is the arena's runtime model registry: the models of
// the configuration file and the endpoint models that labs register over
// the API, in one place. Registering a model checks its URL against the
// egress guard and makes a real test call before the model joins battles;
// API keys are kept sealed (see Sealer) and never leave the server.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/rlhf"
)

// Arena is the set of models new battles choose from; *arena.Arena
// implements it.
type Arena interface {
	SetModel(name string, m arena.Model)
	RemoveModel(name string)
}

// Health watches models with a circuit breaker; *arena.Health implements
// it.
type Health interface {
	Set(name string, m arena.Model)
	Remove(name string)
}

// Store keeps the registered models; *store.Store implements it.
type Store interface {
	CreateModel(ctx context.Context, m *rlhf.EndpointModel) error
	UpdateModel(ctx context.Context, m *rlhf.EndpointModel) error
	DeleteModel(ctx context.Context, name string) error
	Models(ctx context.Context) ([]rlhf.EndpointModel, error)
}

// Config is what a Registry needs.
type Config struct {
	Store  Store
	Arena  Arena
	Health Health        // may be nil
	Guard  *openai.Guard // checks labs' endpoint URLs, at registration and at every connection
	// Sealer seals API keys; nil means the operator set no
	// AGORA_SECRETS_KEY, and models with an API key are refused.
	Sealer *Sealer
	// Observers see every battle call of API models (usage, health).
	Observers   []arena.Observer
	TestTimeout time.Duration    // the registration test call's limit (default 20s)
	Now         func() time.Time // default time.Now
	Log         *slog.Logger
}

// Model is a model as the registry shows it.
type Model struct {
	rlhf.EndpointModel
	Source string `json:"source"` // "config" (the configuration file) or "api"

	guard *openai.Guard // where it may connect; nil means the registry's
}

// guard returns the egress guard of m.
func (r *Registry) guard(m *Model) *openai.Guard {
	if m.guard != nil {
		return m.guard
	}
	return r.cfg.Guard
}

// Registry is the runtime model registry. It is safe for concurrent use.
type Registry struct {
	cfg Config
	log *slog.Logger

	// mu guards models and busy. It is never held across a test call or a
	// store write: a change reserves its model's name in busy, works
	// unlocked, then commits under mu. Changes to one name happen one at a
	// time; listing never waits for a change.
	mu     sync.Mutex
	models map[string]*Model
	busy   map[string]bool // names with a change in progress
}

// New returns a Registry for cfg. Call AddConfigModel for the configured
// models and Load for the registered ones.
func New(cfg Config) (*Registry, error) {
	if cfg.Store == nil || cfg.Arena == nil || cfg.Guard == nil {
		return nil, errors.New("registry: Store, Arena and Guard are required")
	}
	if cfg.TestTimeout <= 0 {
		cfg.TestTimeout = 20 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Registry{cfg: cfg, log: cfg.Log, models: map[string]*Model{}, busy: map[string]bool{}}, nil
}

// AddConfigModel puts m, a model of the configuration file, into battles
// through the same construction as registered models (limits, usage,
// circuit breaker, redaction of apiKey), connecting only where guard
// allows (nil: the registry's guard). Only admins see it, and it cannot
// be changed over the API.
func (r *Registry) AddConfigModel(ctx context.Context, m rlhf.EndpointModel, apiKey string, guard *openai.Guard) error {
	m = m.Clone()
	m.SetDefaults()
	m.SealedKey, m.Lab, m.HasKey = nil, "", apiKey != ""
	if err := m.Validate(); err != nil {
		return err
	}
	rm := &Model{EndpointModel: m, Source: "config", guard: guard}
	if err := r.guard(rm).CheckURL(ctx, m.BaseURL); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.models[m.Name] != nil {
		return rlhf.Errorf(rlhf.EConflict, "model %q is listed twice", m.Name)
	}
	r.models[m.Name] = rm
	r.install(rm, apiKey)
	return nil
}

// Load reads the registered models from the store and puts the ones not
// paused into the arena. No test calls are made: a model that fails is
// paused by its circuit breaker. A model whose key does not open is left
// out and logged.
func (r *Registry) Load(ctx context.Context) error {
	ms, err := r.cfg.Store.Models(ctx)
	if err != nil {
		return fmt.Errorf("load registered models: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range ms {
		ms[i].SetDefaults() // fields added since it was stored
		m := &Model{EndpointModel: ms[i], Source: "api"}
		r.models[m.Name] = m
		if m.Paused {
			continue
		}
		if err := r.activate(m); err != nil {
			r.log.Error("registered model left out of battles", "model", m.Name, "err", err)
		}
	}
	return nil
}

// Models returns the models that lab may see, sorted by name: its own, or
// every model (configured ones too) when lab is "".
func (r *Registry) Models(lab string) []Model {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []Model{}
	for _, m := range r.models {
		if lab == "" || m.Lab == lab {
			c := *m
			c.SealedKey = nil
			c.Tags = slices.Clone(m.Tags)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Model) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Model returns model name if lab may see it (lab "" sees all). Any other
// lab's model is "no such model", exactly like one that does not exist.
func (r *Registry) Model(lab, name string) (Model, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.models[name]
	if m == nil || (lab != "" && m.Lab != lab) {
		return Model{}, errNoModel
	}
	c := *m
	c.SealedKey = nil
	return c, nil
}

var errNoModel = rlhf.Errorf(rlhf.ENotFound, "no such model")

// TestResult is the outcome of a registration's test call.
type TestResult struct {
	OK         bool   `json:"ok"`
	TTFTMillis int64  `json:"ttft_ms,omitempty"`
	Error      string `json:"error,omitempty"` // a summary; never the endpoint's own words
}

// Create registers m with apiKey ("" for none). Unless m is paused, a test
// call must succeed first; its result is returned either way. m.Lab must
// be set by the caller (the lab making the request).
func (r *Registry) Create(ctx context.Context, m rlhf.EndpointModel, apiKey string) (Model, *TestResult, error) {
	m = m.Clone()
	m.SetDefaults()
	now := r.cfg.Now()
	m.CreatedAt, m.UpdatedAt, m.SealedKey, m.HasKey = now, now, nil, apiKey != ""
	if err := r.check(ctx, &m, apiKey); err != nil {
		return Model{}, nil, err
	}
	if err := r.reserve(m.Name, func(old *Model) error {
		if old != nil {
			return rlhf.Errorf(rlhf.EConflict, "model %q exists", m.Name)
		}
		return nil
	}); err != nil {
		return Model{}, nil, err
	}
	defer r.release(m.Name)
	var test *TestResult
	if !m.Paused {
		if test = r.testCall(ctx, &m, apiKey); !test.OK {
			return Model{}, test, testFailed(test)
		}
	}
	if apiKey != "" {
		m.SealedKey = r.cfg.Sealer.Seal(m.Name, apiKey)
	}
	if err := r.cfg.Store.CreateModel(ctx, &m); err != nil {
		return Model{}, test, err
	}
	rm := &Model{EndpointModel: m, Source: "api"}
	r.commit(rm, apiKey)
	r.log.Info("model registered", "model", m.Name, "lab", m.Lab, "paused", m.Paused)
	return r.view(rm), test, nil
}

// Update replaces the settings of lab's model name with those change
// makes; apiKey, when not nil, replaces the API key ("" removes it).
// Unless the model ends up paused, a test call must succeed first.
func (r *Registry) Update(ctx context.Context, lab, name string, change func(*rlhf.EndpointModel), apiKey *string) (Model, *TestResult, error) {
	var old *Model
	if err := r.reserve(name, func(m *Model) error {
		old = m
		return r.mayChange(m, lab)
	}); err != nil {
		return Model{}, nil, err
	}
	defer r.release(name)
	m := old.EndpointModel.Clone()
	change(&m)
	m.Name, m.Lab, m.CreatedAt, m.UpdatedAt = old.Name, old.Lab, old.CreatedAt, r.cfg.Now()
	key := ""
	if apiKey != nil {
		key = *apiKey
		m.HasKey = key != ""
	} else if old.HasKey {
		k, err := r.open(old)
		if err != nil {
			return Model{}, nil, err
		}
		key = k
	}
	if err := r.check(ctx, &m, key); err != nil {
		return Model{}, nil, err
	}
	var test *TestResult
	if !m.Paused {
		if test = r.testCall(ctx, &m, key); !test.OK {
			return Model{}, test, testFailed(test)
		}
	}
	m.SealedKey = old.SealedKey
	if apiKey != nil {
		m.SealedKey = nil
		if key != "" {
			m.SealedKey = r.cfg.Sealer.Seal(m.Name, key)
		}
	}
	if err := r.cfg.Store.UpdateModel(ctx, &m); err != nil {
		return Model{}, test, err
	}
	rm := &Model{EndpointModel: m, Source: "api"}
	r.commit(rm, key)
	r.log.Info("model updated", "model", name, "paused", m.Paused)
	return r.view(rm), test, nil
}

// SetPaused pauses lab's model name (out of new battles, kept in the
// registry) or resumes it, after a test call.
func (r *Registry) SetPaused(ctx context.Context, lab, name string, paused bool) (Model, *TestResult, error) {
	return r.Update(ctx, lab, name, func(m *rlhf.EndpointModel) { m.Paused = paused }, nil)
}

// Delete removes lab's model name from the registry and from battles.
// Battles and votes that name it stay.
func (r *Registry) Delete(ctx context.Context, lab, name string) error {
	if err := r.reserve(name, func(m *Model) error { return r.mayChange(m, lab) }); err != nil {
		return err
	}
	defer r.release(name)
	if err := r.cfg.Store.DeleteModel(ctx, name); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.models, name)
	r.uninstall(name)
	r.mu.Unlock()
	r.log.Info("model deleted", "model", name)
	return nil
}

// PauseLab takes every model of lab out of battles and marks it paused:
// the admin disabled the lab.
func (r *Registry) PauseLab(ctx context.Context, lab string) error {
	r.mu.Lock()
	var names []string
	for name, m := range r.models {
		if m.Lab == lab && !m.Paused {
			names = append(names, name)
		}
	}
	r.mu.Unlock()
	for _, name := range names {
		if _, _, err := r.SetPaused(ctx, lab, name, true); err != nil {
			return fmt.Errorf("pause %s: %w", name, err)
		}
	}
	return nil
}

// reserve marks name as being changed, after ok accepts its current model
// (nil when there is none). A name already being changed is a conflict.
func (r *Registry) reserve(name string, ok func(*Model) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy[name] {
		return rlhf.Errorf(rlhf.EConflict, "model %q is being changed by another request; try again", name)
	}
	if err := ok(r.models[name]); err != nil {
		return err
	}
	r.busy[name] = true
	return nil
}

// release ends the change of name that reserve started.
func (r *Registry) release(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.busy, name)
}

// mayChange reports, as an error, whether lab may change m over the API.
func (r *Registry) mayChange(m *Model, lab string) error {
	if m == nil || m.Source != "api" || (lab != "" && m.Lab != lab) {
		return errNoModel
	}
	return nil
}

// commit makes m the registry's model of its name, in battles unless it
// is paused; its name must be reserved.
func (r *Registry) commit(m *Model, apiKey string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.models[m.Name] = m
	if m.Paused {
		r.uninstall(m.Name)
	} else {
		r.install(m, apiKey)
	}
}

// view returns a copy of m without its sealed key.
func (r *Registry) view(m *Model) Model {
	c := *m
	c.SealedKey = nil
	return c
}

// check validates m and its URL, and that its key can be kept.
func (r *Registry) check(ctx context.Context, m *rlhf.EndpointModel, apiKey string) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if apiKey != "" && r.cfg.Sealer == nil {
		return rlhf.Errorf(rlhf.EUnavailable, "this server cannot keep API keys: its operator has not set AGORA_SECRETS_KEY; register a model without a key, or ask the operator")
	}
	if len(apiKey) > 4096 || strings.ContainsAny(apiKey, "\r\n") {
		return rlhf.Errorf(rlhf.EInvalid, "api_key must be one line of at most 4096 bytes")
	}
	return r.cfg.Guard.CheckURL(ctx, m.BaseURL)
}

// open returns the API key of m.
func (r *Registry) open(m *Model) (string, error) {
	if r.cfg.Sealer == nil {
		return "", rlhf.Errorf(rlhf.EUnavailable, "this server cannot open API keys: its operator has not set AGORA_SECRETS_KEY")
	}
	key, err := r.cfg.Sealer.Open(m.Name, m.SealedKey)
	if err != nil {
		return "", &rlhf.Error{Code: rlhf.EUnavailable, Message: "the stored API key cannot be read; set a new one", Err: err}
	}
	return key, nil
}

// client returns the running client of m, the one construction for
// configured and registered models: the endpoint client through m's egress
// guard, its errors cleaned of apiKey. install adds the limits and the
// usage and health observers.
func (r *Registry) client(m *Model, apiKey string) arena.Model {
	return redact(openai.New(m.EndpointModel, apiKey, r.guard(m)), apiKey)
}

// activate opens m's key and installs it; r.mu must be held.
func (r *Registry) activate(m *Model) error {
	key := ""
	if m.HasKey {
		k, err := r.open(m)
		if err != nil {
			return err
		}
		key = k
	}
	r.install(m, key)
	return nil
}

// install puts m into battles and under the circuit breaker; r.mu must be
// held.
func (r *Registry) install(m *Model, apiKey string) {
	c := r.client(m, apiKey)
	if r.cfg.Health != nil {
		r.cfg.Health.Set(m.Name, c) // probes call the model itself, uncounted
	}
	r.cfg.Arena.SetModel(m.Name, limit(arena.Observe(m.Name, c, r.cfg.Observers...), m.MaxConcurrency, m.RatePerMinute, m.IdleTimeout.D()))
}

// uninstall takes name out of battles and the circuit breaker; r.mu must
// be held.
func (r *Registry) uninstall(name string) {
	r.cfg.Arena.RemoveModel(name)
	if r.cfg.Health != nil {
		r.cfg.Health.Remove(name)
	}
}

// testPrompt is the whole conversation of a registration's test call.
var testPrompt = []rlhf.Message{{Role: "user", Content: "Reply with one word: ok"}}

// testCall calls m once, through the egress guard, and reports whether
// text came back. The failure it reports is the client-safe summary of the
// error (its code and message), never what the endpoint sent.
func (r *Registry) testCall(ctx context.Context, m *rlhf.EndpointModel, apiKey string) *TestResult {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.TestTimeout)
	defer cancel()
	start := time.Now()
	var first time.Duration
	var got bool
	var mu sync.Mutex
	_, _, err := r.client(&Model{EndpointModel: *m}, apiKey).Stream(ctx, testPrompt, func(string) {
		mu.Lock()
		defer mu.Unlock()
		if !got {
			got, first = true, time.Since(start)
			cancel() // text came back: that is all a test needs
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if err == nil || got {
		return &TestResult{OK: true, TTFTMillis: first.Milliseconds()}
	}
	if ctx.Err() != nil && rlhf.ErrorCode(err) != rlhf.ETimeout {
		err = rlhf.Errorf(rlhf.ETimeout, "no answer within %s", r.cfg.TestTimeout)
	}
	r.log.Info("model test call failed", "model", m.Name, "err", redactErr(err, apiKey))
	return &TestResult{Error: fmt.Sprintf("%s: %s", rlhf.ErrorCode(err), rlhf.ErrorMessage(err))}
}

// testFailed is the error for a failed test call.
func testFailed(t *TestResult) error {
	return rlhf.Errorf(rlhf.EInvalid, "the test call to the endpoint failed (%s); the model was not saved", t.Error)
}
