package sqlite

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestRecordsPathsAgree checks that Records read in one query (with a
// Limit) and in two (without) give the same records, for each filter.
func TestRecordsPathsAgree(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recs := importRecs("p", 300)
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
		if err := s.SaveBattle(ctx, testBattle(fmt.Sprintf("open%d", i), 2)); err != nil {
			t.Fatal(err)
		}
	}
	collect := func(read func(context.Context, RecordFilter, func(int64, *rlhf.Record) error) error, f RecordFilter) []string {
		var got []string
		err := read(ctx, f, func(seq int64, r *rlhf.Record) error {
			got = append(got, fmt.Sprintf("%d %+v", seq, *r))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	one := func(ctx context.Context, f RecordFilter, fn func(int64, *rlhf.Record) error) error {
		return records(ctx, s.read, f, fn)
	}
	two := func(ctx context.Context, f RecordFilter, fn func(int64, *rlhf.Record) error) error {
		return recordsInTwo(ctx, s.read, f, fn)
	}
	for _, f := range []RecordFilter{
		{},
		{AfterSeq: 100},
		{Since: t0.Add(50 * time.Minute), Until: t0.Add(120 * time.Minute)},
		{Models: []string{"alpha", "beta"}},
		{Sources: []string{"file.jsonl"}},
		{Sources: []string{"nowhere"}},
	} {
		want, got := collect(one, f), collect(two, f)
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
