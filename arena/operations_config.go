package arena

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// OperationsConfig is the proposed configuration for what operators set
// about model endpoints: where they may connect (egress), when a failing
// model is paused (health), and what tokens cost (usage). In YAML:
//
//	egress:
//	  allow: []            # CIDRs ("10.1.0.0/16"), IPs, or host:port ("gpu-box:8000")
//	                       # model endpoints may reach besides public addresses;
//	                       # the demo models always reach this server's own /demo/v1
//	health:
//	  failures: 5          # consecutive failures or timeouts that pause a model
//	  error_rate: 0.5      # ... or this share of failed calls over the window
//	  min_calls: 20        #     once the window has this many calls
//	  window: 5m
//	  cooldown: 30s        # pause before the first probe; doubles after each failed probe
//	  max_cooldown: 10m
//	  probe_timeout: 30s
//	usage:
//	  currency: USD
//	  prices:              # per million tokens, by model name
//	    helpful-4: {input_per_million: 0.15, output_per_million: 0.60}
type OperationsConfig struct {
	Egress EgressConfig `yaml:"egress"`
	Health HealthConfig `yaml:"health"`
	Usage  UsageConfig  `yaml:"usage"`
}

// Validate checks every section.
func (c *OperationsConfig) Validate() error {
	if err := c.Egress.Validate(); err != nil {
		return err
	}
	if err := c.Health.Validate(); err != nil {
		return err
	}
	return c.Usage.Validate()
}

// EgressConfig is the operator's allow-list for model endpoints; see
// openai.GuardConfig, which enforces it.
type EgressConfig struct {
	Allow []string `yaml:"allow"`
}

// Validate checks that every entry is a CIDR range, an IP address or
// host:port with a port from 1 to 65535.
func (c *EgressConfig) Validate() error {
	for i, e := range c.Allow {
		if _, err := netip.ParsePrefix(e); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(e); err == nil {
			continue
		}
		host, port, err := net.SplitHostPort(e)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("egress.allow[%d]: %q is not a CIDR range (10.1.0.0/16), an IP address or host:port (gpu-box:8000)", i, e)
		}
	}
	return nil
}

// HealthConfig sets when a model's circuit breaker opens (pausing the
// model) and how it recovers. Zero fields take the defaults shown in
// OperationsConfig.
type HealthConfig struct {
	Disabled     bool          `yaml:"disabled"`      // never pause a model
	Failures     int           `yaml:"failures"`      // consecutive failed calls that open the breaker
	ErrorRate    float64       `yaml:"error_rate"`    // share of failed calls in Window that opens it; 1 means only all
	MinCalls     int           `yaml:"min_calls"`     // calls in Window before ErrorRate applies
	Window       time.Duration `yaml:"window"`        // for ErrorRate
	Cooldown     time.Duration `yaml:"cooldown"`      // first pause before a probe
	MaxCooldown  time.Duration `yaml:"max_cooldown"`  // the pause doubles after each failed probe, up to this
	ProbeTimeout time.Duration `yaml:"probe_timeout"` // a probe with no text by then has failed
	// ProbeEvery is how often Run looks for probes that are due (default
	// 1s). Now is the clock (default time.Now). Neither is in the file.
	ProbeEvery time.Duration    `yaml:"-"`
	Now        func() time.Time `yaml:"-"`
}

// Validate checks c; zero values are fine (they take the defaults).
func (c *HealthConfig) Validate() error {
	switch {
	case c.Failures < 0:
		return fmt.Errorf("health.failures: must be at least 1 (or 0 for the default)")
	case math.IsNaN(c.ErrorRate) || c.ErrorRate < 0 || c.ErrorRate > 1:
		return fmt.Errorf("health.error_rate: must be between 0 and 1, not %v", c.ErrorRate)
	case c.MinCalls < 0:
		return fmt.Errorf("health.min_calls: must not be negative")
	case c.Window < 0, c.Cooldown < 0, c.MaxCooldown < 0, c.ProbeTimeout < 0, c.ProbeEvery < 0:
		return fmt.Errorf("health: window, cooldown, max_cooldown and probe_timeout must not be negative")
	case c.Window != 0 && c.Window < time.Second:
		return fmt.Errorf("health.window: must be at least 1s, not %v", c.Window)
	case c.MaxCooldown > 0 && c.Cooldown > c.MaxCooldown:
		return fmt.Errorf("health.cooldown: %v is longer than max_cooldown %v", c.Cooldown, c.MaxCooldown)
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c HealthConfig) withDefaults() HealthConfig {
	if c.Failures == 0 {
		c.Failures = 5
	}
	if c.ErrorRate == 0 {
		c.ErrorRate = 0.5
	}
	if c.MinCalls == 0 {
		c.MinCalls = 20
	}
	if c.Window == 0 {
		c.Window = 5 * time.Minute
	}
	if c.Cooldown == 0 {
		c.Cooldown = 30 * time.Second
	}
	if c.MaxCooldown == 0 {
		c.MaxCooldown = max(10*time.Minute, c.Cooldown)
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = 30 * time.Second
	}
	if c.ProbeEvery == 0 {
		c.ProbeEvery = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// UsageConfig sets the prices that usage costs are computed from.
type UsageConfig struct {
	Currency string           `yaml:"currency"` // ISO 4217 code; default USD
	Prices   map[string]Price `yaml:"prices"`   // by model name
}

// Validate checks c.
func (c *UsageConfig) Validate() error {
	if c.Currency != "" {
		ok := len(c.Currency) == 3
		for _, r := range c.Currency {
			ok = ok && r >= 'A' && r <= 'Z'
		}
		if !ok {
			return fmt.Errorf("usage.currency: %q is not a three-letter code like USD", c.Currency)
		}
	}
	for name, p := range c.Prices {
		for _, v := range []float64{p.InputPerMillion, p.OutputPerMillion} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("usage.prices[%q]: prices must be zero or more, not %v", name, v)
			}
		}
	}
	return nil
}
