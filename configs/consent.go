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
	// TermsFile is the operator's terms, a Markdown file shown before a
	// contributor's first battle; TermsVersion names its version, and
	// changing it asks everyone again. Both or neither.
	TermsFile    string `yaml:"terms_file"`
	TermsVersion string `yaml:"terms_version"`
}

// Default returns the default consent as the arena records it.
func (c *Consent) Default() rlhf.Consent {
	return rlhf.Consent{Scope: rlhf.Scope(c.DefaultScope).Effective(), Licence: c.DefaultLicence}
}

func (c *Consent) validate() error {
	if c.DefaultScope != "" && !rlhf.Scope(c.DefaultScope).Valid() {
		return &FieldError{"consent.default_scope", "must be leaderboard, research or training"}
	}
	if (c.TermsFile == "") != (c.TermsVersion == "") {
		return &FieldError{"consent.terms_file", "terms_file and terms_version go together"}
	}
	if len(c.TermsVersion) > 64 {
		return &FieldError{"consent.terms_version", "at most 64 characters"}
	}
	if err := rlhf.ValidLicence(c.DefaultLicence); err != nil {
		return &FieldError{"consent.default_licence", rlhf.ErrorMessage(err)}
	}
	return nil
}
