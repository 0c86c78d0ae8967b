package configs

import "github.com/agora-rlhf/agora/rlhf"

// Consent is the operator's default consent for votes whose contributor
// chose none (docs/consent.md).
type Consent struct {
	// DefaultScope is leaderboard, research or training; empty is
	// rlhf.DefaultScope (research).
	DefaultScope string `yaml:"default_scope"`
	// DefaultLicence is an SPDX id, such as CC-BY-4.0.
	DefaultLicence string `yaml:"default_licence"`
}

// Default returns the default consent as the arena records it.
func (c *Consent) Default() rlhf.Consent {
	return rlhf.Consent{Scope: rlhf.Scope(c.DefaultScope).Effective(), Licence: c.DefaultLicence}
}

func (c *Consent) validate() error {
	if c.DefaultScope != "" && !rlhf.Scope(c.DefaultScope).Valid() {
		return &FieldError{"consent.default_scope", "must be leaderboard, research or training"}
	}
	if err := rlhf.ValidLicence(c.DefaultLicence); err != nil {
		return &FieldError{"consent.default_licence", rlhf.ErrorMessage(err)}
	}
	return nil
}
