package rlhf

import (
	"context"
	"time"
)

// A Summary is what leaderboards and matchmaking need of a voted battle:
// its models and verdict, whether the vote counts, when it was cast, the
// columns leaderboards filter on and both sides' style. The store keeps
// one per vote, written with the vote, so that leaderboards load without
// reading the battles' text.
type Summary struct {
	Seq            int64 // the vote's position in commit order, when stored
	ModelA, ModelB string
	Winner         Winner
	Failed         bool // a side failed (Record.Failed)
	Anonymous      bool // the battle stayed anonymous (Battle.Anonymous)
	Gold           bool // a gold battle (Battle.IsGold): it measures the contributor
	Time           time.Time
	Category       string
	Language       string
	Contributor    string
	Source         string
	StyleA, StyleB Style
	HasStyle       bool // StyleA and StyleB were measured: the battle has turns
}

// Counted reports whether the vote counts in leaderboards (see
// Record.Counted).
func (s *Summary) Counted() bool { return !s.Failed && s.Anonymous && !s.Gold }

// Summary returns r's summary. The time is the vote's (the battle's
// creation time when the vote has none), the contributor the voter (the
// battle's when the vote names none), and the style is measured from the
// answers (see Battle.Styles).
func (r *Record) Summary() Summary {
	s := Summary{
		ModelA:      r.Battle.ModelA,
		ModelB:      r.Battle.ModelB,
		Winner:      r.Vote.Winner,
		Failed:      r.Failed(),
		Anonymous:   r.Battle.Anonymous(),
		Gold:        r.Battle.IsGold(),
		Time:        r.Vote.CreatedAt,
		Category:    r.Battle.Category,
		Language:    r.Battle.Language,
		Contributor: r.Vote.ContributorID,
		Source:      r.Battle.Source,
	}
	if s.Time.IsZero() {
		s.Time = r.Battle.CreatedAt
	}
	if s.Contributor == "" {
		s.Contributor = r.Battle.ContributorID
	}
	s.StyleA, s.StyleB, s.HasStyle = r.Battle.Styles()
	return s
}

// SummarySource yields the summaries of stored votes with seq in (after,
// upTo] (all of them after after when upTo is negative), in seq order,
// to fn; it stops at fn's first error and returns it. fn must not keep s.
// The store (*store.Store) is one.
type SummarySource interface {
	Summaries(ctx context.Context, after, upTo int64, fn func(s *Summary) error) error
}
