package configs

import (
	"strings"
	"testing"
	"time"
)

func TestParsePolicyDefault(t *testing.T) {
	p, err := ParsePolicy(DefaultPolicy)
	if err != nil {
		t.Fatalf("ParsePolicy(default): %v", err)
	}
	if p.Version != 1 || p.MinVotes != 30 || p.MaxUnlistedPerLab != 3 || p.Variants.MoreThan != 3 ||
		p.Variants.FreshVotes != 100 || p.Variants.Window.D() != 720*time.Hour || p.Sampling.Target != "equal" {
		t.Errorf("ParsePolicy(default) = %+v", p)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	const base = "version: 2\nmin_votes: 10\nmax_unlisted_per_lab: 2\nvariants: {more_than: 1, window: 1h, fresh_votes: 5}\n"
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "empty"},
		{"missing", "version: 1\n", "min_votes is missing"},
		{"unknown", base + "sampling: {target: equal, tolerance: 0.1}\nextra: 1\n", "extra"},
		{"version", strings.Replace(base, "version: 2", "version: 0", 1) + "sampling: {target: equal, tolerance: 0.1}\n", "version"},
		{"window", strings.Replace(base, "1h", "soon", 1) + "sampling: {target: equal, tolerance: 0.1}\n", "duration"},
		{"target", base + "sampling: {target: most, tolerance: 0.1}\n", "equal or shares"},
		{"sum", base + "sampling: {target: shares, shares: {a: 0.7, b: 0.6}, tolerance: 0.1}\n", "sum to 1.300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParsePolicy(%q) = %v, want an error naming %q", tc.text, err, tc.want)
			}
		})
	}
	if _, err := ParsePolicy([]byte(base + "sampling: {target: shares, shares: {a: 0.5}, tolerance: 0.1}\n")); err != nil {
		t.Errorf("ParsePolicy(shares) = %v", err)
	}
}
