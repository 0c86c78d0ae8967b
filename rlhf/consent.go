package rlhf

import (
	"strings"
	"time"
)

// Scope is what a contributor allows their vote (with its prompts, answers
// and reason) to be used for. Scopes are ordered: each allows everything
// the ones before it allow.
type Scope string

// The three scopes, narrowest first.
const (
	ScopeLeaderboard Scope = "leaderboard" // counted in leaderboards; never exported or released
	ScopeResearch    Scope = "research"    // also released as research data
	ScopeTraining    Scope = "training"    // also any training use, commercial included
)

// DefaultScope is the scope of a vote for which none was recorded: votes
// stored before Agora recorded consent, and votes of a server whose
// operator set no default. Agora's notice always said that votes may be
// released for research.
const DefaultScope = ScopeResearch

// Scopes lists the scopes, narrowest first.
var Scopes = []Scope{ScopeLeaderboard, ScopeResearch, ScopeTraining}

// Valid reports whether s is one of the three scopes.
func (s Scope) Valid() bool { return s.rank() > 0 }

func (s Scope) rank() int {
	switch s {
	case ScopeLeaderboard:
		return 1
	case ScopeResearch:
		return 2
	case ScopeTraining:
		return 3
	}
	return 0
}

// Allows reports whether a vote given with scope s may be used for use:
// whether use is s or narrower. The empty scope stands for DefaultScope.
func (s Scope) Allows(use Scope) bool {
	return s.Effective().rank() >= use.Effective().rank()
}

// Effective returns s, or DefaultScope when s is empty.
func (s Scope) Effective() Scope {
	if s == "" {
		return DefaultScope
	}
	return s
}

// Narrower returns the narrower of s and t: narrowing never widens.
func (s Scope) Narrower(t Scope) Scope {
	if t.Effective().rank() < s.Effective().rank() {
		return t.Effective()
	}
	return s.Effective()
}

// ParseScope reads a scope, naming the three in its error.
func ParseScope(s string) (Scope, error) {
	if sc := Scope(strings.TrimSpace(s)); sc.Valid() {
		return sc, nil
	}
	return "", Errorf(EInvalid, "scope %q is not one of leaderboard, research, training", s)
}

// Consent is a contributor's choice for their votes: a scope and the
// licence (an SPDX id) under which released votes may be used.
type Consent struct {
	Scope   Scope     `json:"scope"`
	Licence string    `json:"licence"`
	At      time.Time `json:"at,omitzero"` // when it was chosen; zero for the operator's default
}

// Validate checks the scope and the licence.
func (c *Consent) Validate() error {
	if !c.Scope.Valid() {
		return Errorf(EInvalid, "scope %q is not one of leaderboard, research, training", c.Scope)
	}
	return ValidLicence(c.Licence)
}

// ValidLicence checks that l looks like an SPDX licence expression id: a
// short run of letters, digits, dots, hyphens and plus signs ("CC-BY-4.0",
// "Apache-2.0", "CC0-1.0"), or "LicenseRef-" followed by such a run. The
// empty licence is allowed and means the operator's.
func ValidLicence(l string) error {
	if l == "" {
		return nil
	}
	if len(l) > 64 {
		return Errorf(EInvalid, "licence id is %d bytes; at most 64", len(l))
	}
	for _, c := range l {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '+':
		default:
			return Errorf(EInvalid, "licence %q is not an SPDX id (letters, digits, '.', '-', '+'; e.g. CC-BY-4.0)", l)
		}
	}
	return nil
}

// Narrowing is a contributor's request to narrow the scope of past votes.
type Narrowing struct {
	Contributor string    `json:"-"`
	Scope       Scope     `json:"scope"`
	VoteIDs     []string  `json:"vote_ids,omitempty"` // empty: every vote of the contributor
	At          time.Time `json:"-"`
}

// Erasure is the content-free tombstone left when a contributor's data is
// deleted: what was removed, when and at whose request. It names no
// contributor and holds no text.
type Erasure struct {
	ID      string    `json:"id"`
	Battles int       `json:"battles"`
	Votes   int       `json:"votes"`
	Actor   string    `json:"actor"` // "contributor" or "admin"
	At      time.Time `json:"at"`
}

// ContributorData is everything Agora holds about one contributor: what
// a contributor downloads about themselves (and an admin for them). It
// holds no secret: no token, token hash or key, and of passkeys only
// their public ids and times.
type ContributorData struct {
	Contributor string   `json:"contributor_id"`
	Consent     *Consent `json:"consent,omitempty"` // their defaults for future votes; nil when never chosen
	Battles     []Battle `json:"battles"`           // every battle they started, voted or not, with prompts and answers
	Votes       []Vote   `json:"votes"`             // every vote they gave, with its reason and consent
	// Terms are the versions of the operator's terms they accepted.
	Terms []TermsAcceptance `json:"terms"`
	// Narrowings are their requests to narrow past votes, oldest first.
	Narrowings []NarrowingRecord `json:"narrowings"`
	// Quarantine is every quarantine decision about them, oldest first.
	Quarantine []QuarantineEvent `json:"quarantine"`
	// Gold is their accuracy on gold battles.
	Gold GoldScore `json:"gold"`
	// Account is their account, when they signed up or in.
	Account *AccountData `json:"account,omitempty"`
}

// TermsAcceptance is one accepted version of the operator's terms.
type TermsAcceptance struct {
	Version string    `json:"version"`
	At      time.Time `json:"at"`
}

// NarrowingRecord is one narrowing as kept: the scope asked for, the
// votes named (none: all of them), how many were narrowed, when.
type NarrowingRecord struct {
	Scope    Scope     `json:"scope"`
	VoteIDs  []string  `json:"vote_ids,omitempty"`
	Narrowed int       `json:"narrowed"`
	At       time.Time `json:"at"`
}

// AccountData is a contributor's account as kept: the member with its
// linked contributor ids, its passkeys (ids and times; the credential's
// data stays out), its OpenID identities and its sessions (times only:
// a session id is part of a sign-in token).
type AccountData struct {
	Member     Member          `json:"member"`
	Passkeys   []Passkey       `json:"passkeys"`
	Identities []AccountLogin  `json:"identities"`
	Sessions   []SessionRecord `json:"sessions"`
}

// AccountLogin is one OpenID Connect identity linked to an account.
type AccountLogin struct {
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject"`
	CreatedAt time.Time `json:"created_at"`
}

// SessionRecord is one signed-in device of an account.
type SessionRecord struct {
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}
