package rlhf

import (
	"regexp"
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
