package analytics

import (
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Style is what style control measures in one side's answers (see
// rlhf.Style).
type Style = rlhf.Style

// MeasureStyle counts markdown headers, list items and bold spans in text
// the way Chatbot Arena does (see rlhf.MeasureStyle).
func MeasureStyle(text string) Style { return rlhf.MeasureStyle(text) }

// Battle is one rated comparison, reduced to what leaderboards need.
type Battle struct {
	ModelA, ModelB string
	Winner         rlhf.Winner
	Time           time.Time // zero when unknown
	Category       string
	Language       string
	Contributor    string
	Source         string
	StyleA, StyleB Style
	HasStyle       bool // StyleA and StyleB were measured
}

// Validate checks that the battle can be rated.
func (b *Battle) Validate() error {
	switch {
	case b.ModelA == "" || b.ModelB == "":
		return rlhf.Errorf(rlhf.EInvalid, "missing model name")
	case b.ModelA == b.ModelB:
		return rlhf.Errorf(rlhf.EInvalid, "model %q battles itself", b.ModelA)
	case !b.Winner.Valid():
		return rlhf.Errorf(rlhf.EInvalid, "unknown winner %q", b.Winner)
	}
	return nil
}

// FromRecord returns the battle of a voted record (see FromSummary).
func FromRecord(r *rlhf.Record) Battle {
	s := r.Summary()
	return FromSummary(&s)
}

// FromSummary returns the battle of a vote's summary: the vote's time, the
// contributor who voted, and both sides' style when it was measured.
func FromSummary(s *rlhf.Summary) Battle {
	return Battle{
		ModelA:      s.ModelA,
		ModelB:      s.ModelB,
		Winner:      s.Winner,
		Time:        s.Time,
		Category:    s.Category,
		Language:    s.Language,
		Contributor: s.Contributor,
		Source:      s.Source,
		StyleA:      s.StyleA,
		StyleB:      s.StyleB,
		HasStyle:    s.HasStyle,
	}
}
