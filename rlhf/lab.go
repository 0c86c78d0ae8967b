package rlhf

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// AccountKind is the kind of an account that an admin creates.
type AccountKind string

// Account kinds. Labs register models and run campaigns; researchers
// export training data. Admins and contributors have no accounts: the
// admin token comes from the operator, and contributors are anonymous.
const (
	KindLab        AccountKind = "lab"
	KindResearcher AccountKind = "researcher"
)

// Valid reports whether k is a known kind.
func (k AccountKind) Valid() bool { return k == KindLab || k == KindResearcher }

// Account is a lab's or a researcher's account. Its ID is chosen by the
// admin and, for a lab, prefixes the public names of its models
// ("acme/llama-3").
type Account struct {
	ID        string      `json:"id"`
	Kind      AccountKind `json:"kind"`
	Name      string      `json:"name"` // display name
	CreatedAt time.Time   `json:"created_at"`
	Disabled  bool        `json:"disabled"` // tokens revoked; its models are out of battles
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidSlug reports whether s may be an account id or the local part of a
// model name: 1 to 32 lower-case letters, digits and hyphens, not starting
// with a hyphen.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Validate checks a.
func (a *Account) Validate() error {
	switch {
	case !ValidSlug(a.ID):
		return Errorf(EInvalid, "id %q must be 1 to 32 lower-case letters, digits and hyphens", a.ID)
	case !a.Kind.Valid():
		return Errorf(EInvalid, "kind %q must be lab or researcher", a.Kind)
	case len(a.Name) > 200 || !utf8.ValidString(a.Name):
		return Errorf(EInvalid, "name must be valid UTF-8 of at most 200 bytes")
	}
	return nil
}

// Price is what a model's tokens cost, per million tokens.
type Price struct {
	InputPerMillion  float64 `json:"input_per_million"`
	OutputPerMillion float64 `json:"output_per_million"`
}

// EndpointModel is a model endpoint that a lab registered: everything
// about it except its API key, which is kept sealed apart and never leaves
// the server.
type EndpointModel struct {
	Name           string    `json:"name"` // public name, "<lab>/<local name>"
	Lab            string    `json:"lab"`
	BaseURL        string    `json:"base_url"` // ends in /v1
	ModelID        string    `json:"model"`    // sent to the endpoint
	Temperature    *float32  `json:"temperature,omitempty"`
	SystemPrompt   string    `json:"system_prompt,omitempty"`
	MaxTokens      int       `json:"max_tokens"`
	MaxConcurrency int       `json:"max_concurrency"`       // calls at once; 0 means no limit
	RatePerMinute  int       `json:"rate_limit_per_minute"` // calls started per minute; 0 means no limit
	ConnectTimeout int       `json:"connect_timeout_ms"`    // milliseconds
	IdleTimeout    int       `json:"idle_timeout_ms"`       // milliseconds: longest wait for a chunk
	MaxAnswerBytes int       `json:"max_answer_bytes"`      // the answer is cut past this
	Tags           []string  `json:"tags"`                  // free labels for the lab
	Price          *Price    `json:"price,omitempty"`       // for cost figures
	Paused         bool      `json:"paused"`                // out of battles, kept in the registry
	HasKey         bool      `json:"has_api_key"`           // an API key is stored (never the key)
	SealedKey      []byte    `json:"-"`                     // the API key, encrypted; never sent anywhere
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	// Aliases are other names the model answers to, for the identity-leak
	// guard (besides Name and ModelID).
	Aliases []string `json:"aliases,omitempty"`
}

// ModelName returns the public name of a lab's model.
func ModelName(lab, local string) string { return lab + "/" + local }

// SplitModelName returns the lab and the local part of a lab model's
// public name, and whether name has that form.
func SplitModelName(name string) (lab, local string, ok bool) {
	lab, local, ok = strings.Cut(name, "/")
	return lab, local, ok && ValidSlug(lab) && ValidSlug(local)
}

// Validate checks m's fields (not whether its endpoint is reachable or
// allowed: the registry does that).
func (m *EndpointModel) Validate() error {
	lab, _, ok := SplitModelName(m.Name)
	switch {
	case !ok:
		return Errorf(EInvalid, "name %q must be a lab id, a slash and 1 to 32 lower-case letters, digits and hyphens", m.Name)
	case lab != m.Lab:
		return Errorf(EInvalid, "name %q does not belong to lab %q", m.Name, m.Lab)
	case m.ModelID == "" || len(m.ModelID) > 256:
		return Errorf(EInvalid, "model (the id sent to the endpoint) is required, at most 256 bytes")
	case m.MaxTokens < 1 || m.MaxTokens > 1<<20:
		return Errorf(EInvalid, "max_tokens must be 1 to %d", 1<<20)
	case m.MaxConcurrency < 0 || m.MaxConcurrency > 10000:
		return Errorf(EInvalid, "max_concurrency must be 0 (no limit) to 10000")
	case m.RatePerMinute < 0 || m.RatePerMinute > 1e6:
		return Errorf(EInvalid, "rate_limit_per_minute must be 0 (no limit) to 1000000")
	case m.ConnectTimeout < 1 || m.ConnectTimeout > 120_000:
		return Errorf(EInvalid, "connect_timeout_ms must be 1 to 120000")
	case m.IdleTimeout < 1 || m.IdleTimeout > 600_000:
		return Errorf(EInvalid, "idle_timeout_ms must be 1 to 600000")
	case m.MaxAnswerBytes < 1 || m.MaxAnswerBytes > 1<<24:
		return Errorf(EInvalid, "max_answer_bytes must be 1 to %d", 1<<24)
	case m.Temperature != nil && (*m.Temperature < 0 || *m.Temperature > 2):
		return Errorf(EInvalid, "temperature must be between 0 and 2")
	case len(m.SystemPrompt) > 64<<10 || !utf8.ValidString(m.SystemPrompt):
		return Errorf(EInvalid, "system_prompt must be valid UTF-8 of at most 64 KiB")
	case len(m.Tags) > 32:
		return Errorf(EInvalid, "at most 32 tags")
	}
	for _, t := range m.Tags {
		if t == "" || len(t) > 64 || !utf8.ValidString(t) {
			return Errorf(EInvalid, "a tag must be valid UTF-8 of 1 to 64 bytes")
		}
	}
	if p := m.Price; p != nil && (p.InputPerMillion < 0 || p.OutputPerMillion < 0 || p.InputPerMillion != p.InputPerMillion || p.OutputPerMillion != p.OutputPerMillion) {
		return Errorf(EInvalid, "prices must be zero or more")
	}
	u, err := url.Parse(m.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EInvalid, "base_url must be an http(s) URL like https://api.example.com/v1")
	}
	return nil
}
