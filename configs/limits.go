package configs

import (
	"fmt"
	"net/netip"
	"time"
)

// Limits keep one client from taking the server away from everyone else:
// which proxies are believed about a client's address, how long contributor
// tokens last, HTTP timeouts, connection caps, rate limits and caps on
// unvoted battles. docs/operations.md says what each costs an attacker.
// A cap or rate of 0 is off.
type Limits struct {
	// TrustedProxies are CIDRs or addresses of reverse proxies and CDNs:
	// only from them are X-Forwarded-For, CF-Connecting-IP and
	// X-Forwarded-Proto believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	TokenTTL       Duration `yaml:"token_ttl"`
	Timeouts       Timeouts `yaml:"timeouts"`
	// MaxOpenConnections caps the TCP connections held at once (all
	// routes); 0 means the process's file limit less a reserve.
	MaxOpenConnections        int        `yaml:"max_open_connections"`
	ConnectionsPerAddress     int        `yaml:"connections_per_address"`
	ConnectionsPerContributor int        `yaml:"connections_per_contributor"`
	NewAddressShare           float64    `yaml:"new_address_share"`
	PendingBattles            int        `yaml:"pending_battles_per_contributor"`
	PendingBytes              int64      `yaml:"pending_bytes_per_contributor"`
	BattleStarts              RateLimits `yaml:"battle_starts"`
	Votes                     RateLimits `yaml:"votes"`
	// NewAccountAge is how long a member counts as new: until then (and
	// anonymous contributors always) the per_new_contributor rates apply
	// on top of the others.
	NewAccountAge Duration `yaml:"new_account_age"`
}

// Timeouts are the HTTP server's.
type Timeouts struct {
	ReadHeader Duration `yaml:"read_header"` // the request line and headers
	Read       Duration `yaml:"read"`        // the whole request, body included
	Write      Duration `yaml:"write"`       // an answer; streaming routes get it per write
	Idle       Duration `yaml:"idle"`        // a keep-alive connection between requests
}

// RateLimits are one action's limits per contributor and per address, and
// a lower one per new identity (anonymous, or an account younger than
// new_account_age).
type RateLimits struct {
	PerContributor    Rate `yaml:"per_contributor"`
	PerAddress        Rate `yaml:"per_address"`
	PerNewContributor Rate `yaml:"per_new_contributor"`
}

// Rate is a token bucket: PerMinute sustained, up to Burst at once.
type Rate struct {
	PerMinute float64 `yaml:"per_minute"`
	Burst     int     `yaml:"burst"`
}

// Every returns the time between two actions at the sustained rate.
func (r Rate) Every() time.Duration {
	if r.PerMinute <= 0 {
		return 0
	}
	return time.Duration(float64(time.Minute) / r.PerMinute)
}

// Validate checks l and returns a *FieldError naming the wrong field.
func (l *Limits) Validate() error {
	for _, p := range l.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return &FieldError{"limits.trusted_proxies", fmt.Sprintf("%q is not a CIDR or an IP address", p)}
			}
		}
	}
	durations := []struct {
		name string
		d    Duration
	}{{"token_ttl", l.TokenTTL}, {"timeouts.read_header", l.Timeouts.ReadHeader}, {"timeouts.read", l.Timeouts.Read},
		{"timeouts.write", l.Timeouts.Write}, {"timeouts.idle", l.Timeouts.Idle}}
	for _, d := range durations {
		if d.d <= 0 {
			return &FieldError{"limits." + d.name, "must be positive"}
		}
	}
	switch {
	case l.Timeouts.Read < l.Timeouts.ReadHeader:
		return &FieldError{"limits.timeouts.read", "must be at least timeouts.read_header (it includes the headers)"}
	case l.MaxOpenConnections < 0, l.ConnectionsPerAddress < 0, l.ConnectionsPerContributor < 0:
		return &FieldError{"limits", "connection caps must not be negative (0 is off)"}
	case l.NewAddressShare < 0 || l.NewAddressShare >= 1:
		return &FieldError{"limits.new_address_share", "must be at least 0 and less than 1"}
	case l.NewAccountAge < 0:
		return &FieldError{"limits.new_account_age", "must not be negative (0: accounts are never new)"}
	case l.PendingBattles < 0 || l.PendingBytes < 0:
		return &FieldError{"limits.pending_battles_per_contributor", "pending caps must not be negative (0 is off)"}
	}
	rates := []struct {
		name string
		r    Rate
	}{{"battle_starts.per_contributor", l.BattleStarts.PerContributor}, {"battle_starts.per_address", l.BattleStarts.PerAddress},
		{"votes.per_contributor", l.Votes.PerContributor}, {"votes.per_address", l.Votes.PerAddress},
		{"battle_starts.per_new_contributor", l.BattleStarts.PerNewContributor}, {"votes.per_new_contributor", l.Votes.PerNewContributor}}
	for _, r := range rates {
		if r.r.PerMinute < 0 || r.r.Burst < 0 || (r.r.PerMinute > 0 && r.r.Burst < 1) {
			return &FieldError{"limits." + r.name, "per_minute and burst must not be negative, and a rate needs a burst of at least 1"}
		}
	}
	return nil
}
