// Package configs holds Agora's configuration: the file format, its
// defaults and its validation. The default file, agora.yaml, is embedded in
// the binary so that one command runs the whole arena.
package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/rlhf"
)

// Default is the embedded default configuration file.
//
//go:embed agora.yaml
var Default []byte

// Config is the whole configuration file.
type Config struct {
	Server Server               `yaml:"server"`
	Arena  Arena                `yaml:"arena"`
	Demo   Demo                 `yaml:"demo"`
	Models []rlhf.EndpointModel `yaml:"models"`
	Limits Limits               `yaml:"limits"`
	// Contributors configures contributors' accounts (contributors.go).
	Contributors Contributors `yaml:"contributors"`

	Matchmaking            arena.MatchConfig `yaml:"matchmaking"`
	Gold                   arena.GoldConfig  `yaml:"gold"`
	ProofOfWork            ProofOfWork       `yaml:"proof_of_work"`
	arena.OperationsConfig `yaml:",inline"`  // egress, health, usage
	ClickHouse             clickhouse.Config `yaml:"clickhouse"`
	Log                    Log               `yaml:"log"`
	Consent                Consent           `yaml:"consent"` // consent.go
	// Export is decoded by "agora export" (licence, contributors).
	Export yaml.Node `yaml:"export"`
	// PolicyFile is the leaderboard policy file (policy.yaml's format);
	// "" is the embedded default, DefaultPolicy.
	PolicyFile string `yaml:"policy_file"`
}

// Server configures the HTTP listener and the store.
type Server struct {
	Addr            string   `yaml:"addr"`
	Data            string   `yaml:"data"`
	AllowedOrigins  []string `yaml:"allowed_origins"`
	MaxBodyBytes    int64    `yaml:"max_body_bytes"`
	ResearcherToken string   `yaml:"researcher_token"` // a researcher without an account; prefer AGORA_RESEARCHER_TOKEN
	AdminToken      string   `yaml:"admin_token"`      // the admin's token; prefer AGORA_ADMIN_TOKEN
}

// Arena configures battles.
type Arena struct {
	MaxTurns                 int      `yaml:"max_turns"`
	MaxPromptBytes           int      `yaml:"max_prompt_bytes"`
	MaxBattlesPerContributor int      `yaml:"max_battles_per_contributor"`
	MaxConnections           int      `yaml:"max_connections"`
	VoteWindow               Duration `yaml:"vote_window"`
}

// Demo configures the built-in demo models' endpoint.
type Demo struct {
	Enabled    bool     `yaml:"enabled"`
	TokenDelay Duration `yaml:"token_delay"`
}

// Duration is a time.Duration written as "20ms" or "1h" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 20ms or 1h", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// FieldError names the configuration field that is wrong.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Parse reads a configuration file over the defaults: fields the file does
// not set keep their default values, and models come from the file alone
// when it lists any. Unknown fields are errors.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := decodeStrict(Default, &c); err != nil {
		return nil, fmt.Errorf("embedded default configuration: %w", err)
	}
	defaultModels := c.Models
	c.Models = nil
	if err := decodeStrict(data, &c); err != nil {
		return nil, err
	}
	if c.Models == nil {
		c.Models = defaultModels
	}
	c.fillDefaults()
	return &c, c.Validate()
}

func decodeStrict(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// fillDefaults sets per-model defaults.
func (c *Config) fillDefaults() {
	for i := range c.Models {
		c.Models[i].SetDefaults()
	}
}

// Validate checks every field and returns a *FieldError naming the first
// wrong one.
func (c *Config) Validate() error {
	switch {
	case c.Server.Addr == "":
		return &FieldError{"server.addr", "must be host:port"}
	case c.Server.Data == "":
		return &FieldError{"server.data", "must name a directory"}
	case c.Server.MaxBodyBytes <= 0:
		return &FieldError{"server.max_body_bytes", "must be positive"}
	case c.Arena.MaxTurns < 1:
		return &FieldError{"arena.max_turns", "must be at least 1"}
	case c.Arena.MaxPromptBytes < 1:
		return &FieldError{"arena.max_prompt_bytes", "must be positive"}
	case c.Arena.MaxBattlesPerContributor < 1:
		return &FieldError{"arena.max_battles_per_contributor", "must be at least 1"}
	case c.Arena.MaxConnections < 1:
		return &FieldError{"arena.max_connections", "must be at least 1"}
	case c.Arena.VoteWindow <= 0:
		return &FieldError{"arena.vote_window", "must be positive"}
	case c.Demo.TokenDelay < 0:
		return &FieldError{"demo.token_delay", "must not be negative"}
	}
	for _, o := range c.Server.AllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" {
			return &FieldError{"server.allowed_origins", fmt.Sprintf("%q is not an origin like https://example.org", o)}
		}
	}
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if err := c.Contributors.validate(); err != nil {
		return err
	}
	if err := c.Matchmaking.Validate(); err != nil {
		return &FieldError{"matchmaking", err.Error()}
	}
	if err := c.ProofOfWork.validate(); err != nil {
		return err
	}
	if err := c.Gold.Validate(); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		return &FieldError{"gold." + field, msg}
	}
	if err := c.Log.validate(); err != nil {
		return err
	}
	if err := c.Consent.validate(); err != nil {
		return err
	}
	if err := c.OperationsConfig.Validate(); err != nil {
		return &FieldError{"egress/health/usage", err.Error()}
	}
	if c.ClickHouse.Enabled() {
		if err := c.ClickHouse.WithDefaults().Validate(); err != nil {
			return &FieldError{"clickhouse", err.Error()}
		}
	}
	return c.validateModels()
}

// validateModels checks each model as the API checks a lab's, and that
// names are unique and the demo endpoint is on when used. Fewer than two
// models is fine: labs may register the others (a battle that finds
// fewer than two says so).
func (c *Config) validateModels() error {
	seen := map[string]bool{}
	for i := range c.Models {
		m := c.Models[i]
		field := func(name string) string { return fmt.Sprintf("models[%d].%s", i, name) }
		m.BaseURL = ResolveBaseURL(&m, "http://self")
		if p := m.Problem(); p != nil {
			return &FieldError{field(p.YAML), p.Msg}
		}
		switch {
		case seen[m.Name]:
			return &FieldError{field("name"), fmt.Sprintf("%q is used twice", m.Name)}
		case m.APIKeyEnv != "" && strings.ContainsAny(m.APIKeyEnv, " =$"):
			return &FieldError{field("api_key_env"), "must be the name of an environment variable, not the key"}
		case IsDemo(&c.Models[i]) && !c.Demo.Enabled:
			return &FieldError{field("base_url"), "uses the built-in demo endpoint, but demo.enabled is false"}
		}
		seen[m.Name] = true
	}
	return nil
}

// IsDemo reports whether m, a model of the configuration, is served by
// this process's demo endpoint.
func IsDemo(m *rlhf.EndpointModel) bool { return strings.HasPrefix(m.BaseURL, "{self}") }

// ResolveBaseURL returns m's base URL with {self} replaced by self.
func ResolveBaseURL(m *rlhf.EndpointModel, self string) string {
	return strings.ReplaceAll(m.BaseURL, "{self}", strings.TrimSuffix(self, "/"))
}
