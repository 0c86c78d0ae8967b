package sqlite

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestExportRecordsEqualsRecords checks that ExportRecords gives what
// Records gives, in battle id order, for each filter.
func TestExportRecordsEqualsRecords(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recs := importRecs("e", 300)
	for i := range recs {
		r := &recs[i]
		// Ids out of vote order, some models and sources, times apart.
		id := fmt.Sprintf("%08x", uint32(i)*2654435761)
		r.Battle.ID, r.Vote.BattleID = id, id
		r.Battle.ModelB = []string{"beta", "gamma", "delta"}[i%3]
		r.Battle.Source = []string{"arena", "file.jsonl"}[i%2]
		r.Vote.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
	}
	if _, err := s.Import(ctx, feed(recs, nil)); err != nil {
		t.Fatal(err)
	}
	// Battles without a vote are not records.
	for i := range 5 {
		if err := s.SaveBattle(ctx, testBattle(fmt.Sprintf("%08x-open", uint32(i)*2654435761), 2)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []RecordFilter{
		{},
		{AfterSeq: 100},
		{Since: t0.Add(50 * time.Minute), Until: t0.Add(120 * time.Minute)},
		{Models: []string{"alpha", "beta"}},
		{Sources: []string{"file.jsonl"}},
		{Sources: []string{"nowhere"}},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			collect := func(read func(context.Context, RecordFilter, func(int64, *rlhf.Record) error) error) []string {
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
			want := collect(s.Records)
			sort.Slice(want, func(i, j int) bool { return idOf(want[i]) < idOf(want[j]) })
			got := collect(s.ExportRecords)
			if len(got) != len(want) {
				t.Fatalf("ExportRecords gave %d records, Records %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("record %d:\n got %s\nwant %s", i, got[i], want[i])
				}
			}
		})
	}
	n := 0
	if err := s.ExportRecords(ctx, RecordFilter{Limit: 7}, func(int64, *rlhf.Record) error { n++; return nil }); err != nil || n != 7 {
		t.Errorf("Limit 7: %d records, %v", n, err)
	}
}

// idOf returns the battle id in a record formatted by the test.
func idOf(s string) string {
	var seq int
	var id string
	fmt.Sscanf(s, "%d {Battle:{ID:%s", &seq, &id)
	return id
}
