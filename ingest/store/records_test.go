package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// variedStore returns a store of 300 records whose ids are out of vote
// order, with several models and sources and votes a minute apart, and 5
// battles without a vote (which are no records).
func variedStore(t *testing.T) *Store {
	t.Helper()
	s := openTest(t)
	ctx := context.Background()
	recs := importRecs("e", 300)
	for i := range recs {
		r := &recs[i]
		id := fmt.Sprintf("%08x", uint32(i)*2654435761)
		r.Battle.ID, r.Vote.BattleID = id, id
		r.Battle.ModelB = []string{"beta", "gamma", "delta"}[i%3]
		r.Battle.Source = []string{"arena", "file.jsonl"}[i%2]
		r.Vote.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
	}
	if _, err := s.Import(ctx, feed(recs, nil)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.SaveBattle(ctx, testBattle(fmt.Sprintf("%08x-open", uint32(i)*2654435761), 2)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// variedFilters are filters that select some, all and none of
// variedStore's records.
var variedFilters = []RecordFilter{
	{},
	{AfterSeq: 100},
	{Since: t0.Add(50 * time.Minute), Until: t0.Add(120 * time.Minute)},
	{Models: []string{"alpha", "beta"}},
	{Sources: []string{"file.jsonl"}},
	{Sources: []string{"nowhere"}},
}

// readAll returns what read gives for f, each record formatted with its
// seq after keep has cleared what should not be compared (keep may be
// nil).
func readAll(t *testing.T, read func(context.Context, RecordFilter, func(int64, *rlhf.Record) error) error, f RecordFilter, keep func(*rlhf.Record)) []string {
	t.Helper()
	var got []string
	err := read(context.Background(), f, func(seq int64, r *rlhf.Record) error {
		c := *r
		c.Battle.Turns = slices.Clone(r.Battle.Turns)
		if keep != nil {
			keep(&c)
		}
		got = append(got, fmt.Sprintf("%d %+v", seq, c))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRecordsPathsAgree checks that Records read in one query (with a
// Limit) and in two (without) give the same records, for each filter.
func TestRecordsPathsAgree(t *testing.T) {
	s := variedStore(t)
	one := func(ctx context.Context, f RecordFilter, fn func(int64, *rlhf.Record) error) error {
		return records(ctx, s.read, f, fn)
	}
	two := func(ctx context.Context, f RecordFilter, fn func(int64, *rlhf.Record) error) error {
		return recordsInTwo(ctx, s.read, f, fn)
	}
	for _, f := range variedFilters {
		want, got := readAll(t, one, f, nil), readAll(t, two, f, nil)
		if !slices.Equal(got, want) {
			t.Errorf("%+v: in two queries %d records, in one %d; first difference:\n%s", f, len(got), len(want), firstDiff(got, want))
		}
		if len(want) == 0 && len(f.Sources) == 0 {
			t.Errorf("%+v selects no records: the test checks nothing", f)
		}
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf(" got %s\nwant %s", got[i], want[i])
		}
	}
	return "(one is a prefix of the other)"
}
