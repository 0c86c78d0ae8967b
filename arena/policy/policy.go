// Package policy is the leaderboard's policy as code: the rules of listing,
// private testing, retraction, deprecation and sampling fairness that the
// server enforces on every lab alike, and the transparency report that
// publishes them (docs/policy.md).
package policy

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Policy is one version of the leaderboard's policy. configs.ParsePolicy
// reads it from YAML; its JSON form is how the API shows it.
type Policy struct {
	// Version increases with every change; a change must raise it.
	Version int `yaml:"version" json:"version"`
	// MinVotes is the number of counted votes a model needs before its
	// rating is final; until then it is labelled provisional.
	MinVotes int64 `yaml:"min_votes" json:"min_votes"`
	// MaxUnlistedPerLab caps the unlisted models (tested anonymously,
	// hidden from the public board) a lab may have at once.
	MaxUnlistedPerLab int `yaml:"max_unlisted_per_lab" json:"max_unlisted_per_lab"`
	// Variants is the rule against best-of-N selection: a lab that tested
	// more than MoreThan models within Window before listing one gets
	// that one labelled provisional until FreshVotes votes after listing.
	Variants Variants `yaml:"variants" json:"variants"`
	// Sampling is each lab's target share of battles.
	Sampling Sampling `yaml:"sampling" json:"sampling"`
}

// Variants is the fresh-votes rule for labs that tested many variants.
type Variants struct {
	MoreThan   int      `yaml:"more_than" json:"more_than"`
	Window     Duration `yaml:"window" json:"window"`
	FreshVotes int64    `yaml:"fresh_votes" json:"fresh_votes"`
}

// Sampling is the target share of battles of each lab.
type Sampling struct {
	// Target is "equal" (every lab with models in battles the same share)
	// or "shares" (the Shares below; labs not named share the rest).
	Target string `yaml:"target" json:"target"`
	// Shares are fractions of all battle sides, by lab; the operator's own
	// (configured) models are the lab "operator".
	Shares map[string]float64 `yaml:"shares" json:"shares,omitempty"`
	// Tolerance is how far from its target a share may drift before the
	// report flags it.
	Tolerance float64 `yaml:"tolerance" json:"tolerance"`
}

// Duration is a time.Duration written as "720h" in YAML and JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes d as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration like "720h".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("a duration like 720h: %w", err)
	}
	*d = Duration(v)
	return nil
}

// OperatorLab is the lab name of the operator's configured models in
// battle shares and deprecations.
const OperatorLab = "operator"

// Validate reports the first field of p that is out of range.
func (p *Policy) Validate() error {
	bad := func(field, want string) error {
		return rlhf.Errorf(rlhf.EInvalid, "policy: %s must be %s", field, want)
	}
	switch {
	case p.Version < 1:
		return bad("version", "a positive integer")
	case p.MinVotes < 0:
		return bad("min_votes", "zero or more")
	case p.MaxUnlistedPerLab < 0:
		return bad("max_unlisted_per_lab", "zero or more (0: no unlisted testing)")
	case p.Variants.MoreThan < 0 || p.Variants.FreshVotes < 0 || p.Variants.Window < 0:
		return bad("variants", "more_than, window and fresh_votes of zero or more")
	case p.Sampling.Tolerance < 0 || p.Sampling.Tolerance > 1:
		return bad("sampling.tolerance", "a fraction from 0 to 1")
	}
	switch p.Sampling.Target {
	case "equal":
		if len(p.Sampling.Shares) > 0 {
			return bad("sampling.shares", "empty when the target is equal")
		}
	case "shares":
		sum := 0.0
		for _, lab := range slices.Sorted(maps.Keys(p.Sampling.Shares)) {
			v := p.Sampling.Shares[lab]
			if v < 0 || v > 1 {
				return bad("sampling.shares."+lab, "a fraction from 0 to 1")
			}
			sum += v
		}
		if sum > 1+1e-9 {
			return bad("sampling.shares", fmt.Sprintf("fractions summing to at most 1 (they sum to %.3f)", sum))
		}
	default:
		return bad("sampling.target", "equal or shares")
	}
	return nil
}
