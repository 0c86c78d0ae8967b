package rlhf

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Price is what a model's tokens cost, per million tokens.
type Price struct {
	InputPerMillion  float64 `json:"input_per_million" yaml:"input_per_million"`
	OutputPerMillion float64 `json:"output_per_million" yaml:"output_per_million"`
}

// EndpointModel is a model endpoint: any OpenAI-compatible
// chat-completions API, listed in the configuration file (YAML, Lab empty)
// or registered by a lab over the API (JSON). Both decode into this one
// type; SetDefaults and Validate are the same for both. Its API key is
// never part of it: the configuration names an environment variable, and
// a lab's key is kept sealed apart and never leaves the server.
type EndpointModel struct {
	Name    string `json:"name" yaml:"name"` // public name; a lab's is "<lab>/<local name>"
	Lab     string `json:"lab" yaml:"-"`     // empty for a model of the configuration file
	BaseURL string `json:"base_url" yaml:"base_url"`
	ModelID string `json:"model" yaml:"model"` // sent to the endpoint
	// APIKeyEnv is, in the configuration only, the name of the environment
	// variable holding the key. The API can never set it.
	APIKeyEnv    string   `json:"-" yaml:"api_key_env"`
	Temperature  *float32 `json:"temperature,omitempty" yaml:"temperature"` // nil: the endpoint's default
	SystemPrompt string   `json:"system_prompt,omitempty" yaml:"system_prompt"`
	// MaxTokens caps the answer's tokens; 0 sends no cap, leaving the
	// endpoint's own.
	MaxTokens      int `json:"max_tokens,omitempty" yaml:"max_tokens"`
	MaxConcurrency int `json:"max_concurrency" yaml:"max_concurrency"`             // calls at once; 0 means no limit
	RatePerMinute  int `json:"rate_limit_per_minute" yaml:"rate_limit_per_minute"` // calls started per minute; 0 means no limit
	// The API writes durations as milliseconds, the configuration as "10s".
	ConnectTimeout    Duration  `json:"connect_timeout_ms" yaml:"connect_timeout"`
	FirstTokenTimeout Duration  `json:"first_token_timeout_ms" yaml:"first_token_timeout"` // longest wait for the first chunk (a model loading)
	IdleTimeout       Duration  `json:"idle_timeout_ms" yaml:"idle_timeout"`               // longest wait between two chunks
	MaxAnswerBytes    int       `json:"max_answer_bytes" yaml:"max_answer_bytes"`          // the answer is cut past this
	Tags              []string  `json:"tags" yaml:"tags"`                                  // free labels
	Price             *Price    `json:"price,omitempty" yaml:"price"`                      // the lab's price, for cost figures
	Paused            bool      `json:"paused" yaml:"-"`                                   // out of battles, kept in the registry
	HasKey            bool      `json:"has_api_key" yaml:"-"`                              // an API key is set (never the key)
	SealedKey         []byte    `json:"-" yaml:"-"`                                        // a lab's API key, encrypted; never sent anywhere
	CreatedAt         time.Time `json:"created_at" yaml:"-"`
	UpdatedAt         time.Time `json:"updated_at" yaml:"-"`

	// Aliases are other names the model answers to, for the identity-leak
	// guard (besides Name and ModelID).
	Aliases []string `json:"aliases,omitempty" yaml:"aliases"`
}

// endpointDefaults is the one table of defaults: SetDefaults gives each
// zero field here its value.
var endpointDefaults = EndpointModel{
	ConnectTimeout:    Duration(10 * time.Second),
	FirstTokenTimeout: Duration(2 * time.Minute),
	IdleTimeout:       Duration(30 * time.Second),
	MaxAnswerBytes:    64 << 10,
}

// SetDefaults gives each field that has a default and is zero its default.
func (m *EndpointModel) SetDefaults() {
	d := &endpointDefaults
	setZero(&m.ConnectTimeout, d.ConnectTimeout)
	setZero(&m.FirstTokenTimeout, d.FirstTokenTimeout)
	setZero(&m.IdleTimeout, d.IdleTimeout)
	setZero(&m.MaxAnswerBytes, d.MaxAnswerBytes)
	if m.Tags == nil {
		m.Tags = []string{}
	}
}

func setZero[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Clone returns a copy of m that shares no memory with it.
func (m *EndpointModel) Clone() EndpointModel {
	c := *m
	c.Tags = slices.Clone(m.Tags)
	c.Aliases = slices.Clone(m.Aliases)
	c.SealedKey = slices.Clone(m.SealedKey)
	if m.Temperature != nil {
		t := *m.Temperature
		c.Temperature = &t
	}
	if m.Price != nil {
		p := *m.Price
		c.Price = &p
	}
	return c
}

// ModelName returns the public name of a lab's model.
func ModelName(lab, local string) string { return lab + "/" + local }

// SplitModelName returns the lab and the local part of a lab model's
// public name, and whether name has that form.
func SplitModelName(name string) (lab, local string, ok bool) {
	lab, local, ok = strings.Cut(name, "/")
	return lab, local, ok && ValidSlug(lab) && ValidSlug(local)
}

// FieldProblem is what is wrong with one field of an EndpointModel, which
// it names as the API (JSON) and as the configuration file (YAML) spell it.
type FieldProblem struct {
	JSON, YAML string
	Msg        string // without the field's name: "must be 0 to 2"
}

// Validate checks m's fields (not whether its endpoint is reachable or
// allowed: the registry does that). Its error names the field as the API
// spells it; Problem gives both spellings.
func (m *EndpointModel) Validate() error {
	if p := m.Problem(); p != nil {
		return Errorf(EInvalid, "%s %s", p.JSON, p.Msg)
	}
	return nil
}

// Problem returns the first wrong field of m, or nil.
func (m *EndpointModel) Problem() *FieldProblem {
	if p := m.nameProblem(); p != nil {
		return p
	}
	for _, c := range m.checks() {
		if c.bad {
			return &FieldProblem{JSON: c.json, YAML: c.yaml, Msg: c.msg}
		}
	}
	return nil
}

// check is one rule of Validate.
type check struct {
	bad        bool
	json, yaml string
	msg        string
}

func (m *EndpointModel) checks() []check {
	t, p := m.Temperature, m.Price
	return []check{
		{m.ModelID == "" || len(m.ModelID) > 256, "model", "model", "is required (the id sent to the endpoint), at most 256 bytes"},
		{m.MaxTokens < 0 || m.MaxTokens > 1<<20, "max_tokens", "max_tokens", fmt.Sprintf("must be 0 (the endpoint's own limit) to %d", 1<<20)},
		{m.MaxConcurrency < 0 || m.MaxConcurrency > 10000, "max_concurrency", "max_concurrency", "must be 0 (no limit) to 10000"},
		{m.RatePerMinute < 0 || m.RatePerMinute > 1e6, "rate_limit_per_minute", "rate_limit_per_minute", "must be 0 (no limit) to 1000000"},
		m.ConnectTimeout.check("connect_timeout", 2*time.Minute),
		m.FirstTokenTimeout.check("first_token_timeout", 30*time.Minute),
		m.IdleTimeout.check("idle_timeout", 10*time.Minute),
		{m.MaxAnswerBytes < 1 || m.MaxAnswerBytes > 1<<24, "max_answer_bytes", "max_answer_bytes", fmt.Sprintf("must be 1 to %d", 1<<24)},
		{t != nil && !(*t >= 0 && *t <= 2), "temperature", "temperature", "must be between 0 and 2"},
		{len(m.SystemPrompt) > 64<<10 || !utf8.ValidString(m.SystemPrompt), "system_prompt", "system_prompt", "must be valid UTF-8 of at most 64 KiB"},
		{!validTags(m.Tags), "tags", "tags", "must be at most 32, each valid UTF-8 of 1 to 64 bytes"},
		{!validTags(m.Aliases), "aliases", "aliases", "must be at most 32, each valid UTF-8 of 1 to 64 bytes"},
		{p != nil && !(p.InputPerMillion >= 0 && p.OutputPerMillion >= 0), "price", "price", "must be zero or more"},
		{!httpURL(m.BaseURL), "base_url", "base_url", "must be an http(s) URL like https://api.example.com/v1"},
	}
}

// nameProblem checks the name: a lab's model is "<lab>/<slug>", a
// configured model's name is any short text.
func (m *EndpointModel) nameProblem() *FieldProblem {
	if m.Lab == "" {
		if m.Name == "" || len(m.Name) > 256 || !utf8.ValidString(m.Name) {
			return &FieldProblem{"name", "name", "is required: valid UTF-8 of at most 256 bytes"}
		}
		return nil
	}
	lab, _, ok := SplitModelName(m.Name)
	switch {
	case !ok:
		return &FieldProblem{"name", "name", fmt.Sprintf("%q must be a lab id, a slash and 1 to 32 lower-case letters, digits and hyphens", m.Name)}
	case lab != m.Lab:
		return &FieldProblem{"name", "name", fmt.Sprintf("%q does not belong to lab %q", m.Name, m.Lab)}
	}
	return nil
}

func validTags(tags []string) bool {
	if len(tags) > 32 {
		return false
	}
	for _, t := range tags {
		if t == "" || len(t) > 64 || !utf8.ValidString(t) {
			return false
		}
	}
	return true
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Duration is a length of time. In JSON (the API) it is a whole number of
// milliseconds, or a string like "10s"; in text (the configuration file's
// YAML) a string like "10s" or "2m".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as milliseconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Duration(d).Milliseconds(), 10), nil
}

// UnmarshalJSON reads milliseconds, or a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		return d.UnmarshalText([]byte(s))
	}
	ms, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || ms > int64(time.Duration(1<<62)/time.Millisecond) || ms < 0 {
		return Errorf(EInvalid, "a duration must be a whole number of milliseconds or a string like \"10s\", not %s", b)
	}
	*d = Duration(time.Duration(ms) * time.Millisecond)
	return nil
}

// MarshalText writes d like "10s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration string like "20ms" or "1m30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return Errorf(EInvalid, "%q is not a duration like 20ms or 1h", b)
	}
	*d = Duration(v)
	return nil
}

// check is Validate's rule for a timeout named name (in YAML; name_ms in
// JSON): at least a millisecond, at most max.
func (d Duration) check(name string, max time.Duration) check {
	return check{d < Duration(time.Millisecond) || d > Duration(max), name + "_ms", name,
		fmt.Sprintf("must be 1ms to %s", max)}
}
