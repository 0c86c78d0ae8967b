package rlhf

import (
	"time"
	"unicode/utf8"
)

// Winner is the contributor's verdict on a battle.
type Winner string

// The four verdicts a contributor can give.
const (
	WinnerA       Winner = "a"
	WinnerB       Winner = "b"
	WinnerTie     Winner = "tie"
	WinnerBothBad Winner = "both_bad"
)

// Valid reports whether w is one of the four verdicts.
func (w Winner) Valid() bool {
	switch w {
	case WinnerA, WinnerB, WinnerTie, WinnerBothBad:
		return true
	}
	return false
}

// IsTie reports whether w counts as a tie in ratings (tie or both bad).
func (w Winner) IsTie() bool { return w == WinnerTie || w == WinnerBothBad }

// ArenaWinner returns the Chatbot Arena spelling of w: model_a, model_b,
// tie or "tie (bothbad)".
func (w Winner) ArenaWinner() string {
	switch w {
	case WinnerA:
		return "model_a"
	case WinnerB:
		return "model_b"
	case WinnerTie:
		return "tie"
	case WinnerBothBad:
		return "tie (bothbad)"
	}
	return ""
}

// ParseArenaWinner reads a Chatbot Arena winner label.
func ParseArenaWinner(s string) (Winner, error) {
	switch s {
	case "model_a":
		return WinnerA, nil
	case "model_b":
		return WinnerB, nil
	case "tie":
		return WinnerTie, nil
	case "tie (bothbad)", "bothbad", "both_bad":
		return WinnerBothBad, nil
	}
	return "", Errorf(EInvalid, "unknown winner %q (want model_a, model_b, tie or tie (bothbad))", s)
}

// Strength is how much better the chosen answer is, on Llama 2's four levels.
// The empty strength means the contributor did not say.
type Strength string

// Llama 2's four preference levels.
const (
	StrengthSignificant Strength = "significant"
	StrengthClear       Strength = "clear"
	StrengthSlight      Strength = "slight"
	StrengthNegligible  Strength = "negligible"
)

// Valid reports whether s is empty or one of the four levels.
func (s Strength) Valid() bool {
	switch s {
	case "", StrengthSignificant, StrengthClear, StrengthSlight, StrengthNegligible:
		return true
	}
	return false
}

// Margin returns TRL's "margin small" value for s: 1, 2/3, 1/3 or 0, and
// false when no strength was given.
func (s Strength) Margin() (float64, bool) {
	switch s {
	case StrengthSignificant:
		return 1, true
	case StrengthClear:
		return 2.0 / 3, true
	case StrengthSlight:
		return 1.0 / 3, true
	case StrengthNegligible:
		return 0, true
	}
	return 0, false
}

// Rank orders strengths from 0 (negligible or none) to 3 (significant), for
// "at least this strong" filters.
func (s Strength) Rank() int {
	switch s {
	case StrengthSignificant:
		return 3
	case StrengthClear:
		return 2
	case StrengthSlight:
		return 1
	}
	return 0
}

// MaxReasonBytes caps the free-text reason a contributor may give.
const MaxReasonBytes = 2000

// Vote is a contributor's verdict on one battle. A battle has at most one.
type Vote struct {
	ID            string    `json:"id"`
	BattleID      string    `json:"battle_id"`
	ContributorID string    `json:"contributor_id"`
	Winner        Winner    `json:"winner"`
	Strength      Strength  `json:"strength,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	// Scope and Licence are the contributor's consent for this vote
	// (consent.go): empty when none was recorded.
	Scope   Scope  `json:"scope,omitempty"`
	Licence string `json:"licence,omitempty"`
}

// Validate checks the vote's fields.
func (v *Vote) Validate() error {
	switch {
	case v.ID == "":
		return Errorf(EInvalid, "vote: missing id")
	case v.BattleID == "":
		return Errorf(EInvalid, "vote %s: missing battle id", v.ID)
	case !v.Winner.Valid():
		return Errorf(EInvalid, "winner %q is not one of a, b, tie, both_bad", v.Winner)
	case !v.Strength.Valid():
		return Errorf(EInvalid, "strength %q is not one of significant, clear, slight, negligible", v.Strength)
	case len(v.Reason) > MaxReasonBytes:
		return Errorf(EInvalid, "reason is %d bytes; at most %d", len(v.Reason), MaxReasonBytes)
	case !utf8.ValidString(v.Reason):
		return Errorf(EInvalid, "reason is not valid UTF-8")
	case v.Scope != "" && !v.Scope.Valid():
		return Errorf(EInvalid, "scope %q is not one of leaderboard, research, training", v.Scope)
	}
	return ValidLicence(v.Licence)
}
