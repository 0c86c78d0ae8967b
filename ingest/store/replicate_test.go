package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestReplicate checks that each copy holds every record as it was, under
// the copy's ids, with its summary, and that the store takes votes after.
func TestReplicate(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recs := importRecs("b", 7)
	if _, err := s.Import(ctx, feed(recs, nil)); err != nil {
		t.Fatal(err)
	}
	indexes := func() string {
		var all string
		if err := s.read.QueryRow(`SELECT group_concat(name || ': ' || sql, '; ') FROM
			(SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)`).Scan(&all); err != nil {
			t.Fatal(err)
		}
		return all
	}
	before := indexes()
	if err := s.Replicate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if after := indexes(); after != before || !strings.Contains(after, "battles_contributor") {
		t.Fatalf("indexes after Replicate:\n%s\nbefore:\n%s", after, before)
	}
	if got := countVotes(t, s); got != 21 {
		t.Fatalf("%d votes after two copies of 7, want 21", got)
	}
	stored := map[string]rlhf.Record{}
	err := s.Records(ctx, func(r *rlhf.Record) error {
		c := *r
		c.Battle.Turns = append([]rlhf.Turn(nil), r.Battle.Turns...)
		stored[r.Vote.ID] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		prefix := ""
		if k > 0 {
			prefix = fmt.Sprintf("r%06d-", k)
		}
		for _, want := range recs {
			got, ok := stored[prefix+want.Vote.ID]
			if !ok {
				t.Fatalf("copy %d of vote %s is missing", k, want.Vote.ID)
			}
			if got.Battle.ID != prefix+want.Battle.ID || got.Vote.BattleID != got.Battle.ID {
				t.Errorf("copy %d of %s: battle %s, vote's battle %s", k, want.Battle.ID, got.Battle.ID, got.Vote.BattleID)
			}
			got.Battle.ID, got.Vote.ID, got.Vote.BattleID = want.Battle.ID, want.Vote.ID, want.Vote.BattleID
			// The battles' times span a millisecond: copy k is k ms later.
			later := time.Duration(k) * time.Millisecond
			if orig := stored[want.Vote.ID]; got.Battle.CreatedAt.Sub(orig.Battle.CreatedAt) != later ||
				got.Battle.UpdatedAt.Sub(orig.Battle.UpdatedAt) != later || got.Vote.CreatedAt.Sub(orig.Vote.CreatedAt) != later {
				t.Errorf("copy %d of %s: times %v %v %v, want %v after the original's", k, want.Battle.ID,
					got.Battle.CreatedAt, got.Battle.UpdatedAt, got.Vote.CreatedAt, later)
			}
			got.Battle.CreatedAt, got.Battle.UpdatedAt, got.Vote.CreatedAt = want.Battle.CreatedAt, want.Battle.UpdatedAt, want.Vote.CreatedAt
			if orig := stored[want.Vote.ID]; !reflect.DeepEqual(got, orig) || !reflect.DeepEqual(got.Battle.Turns, want.Battle.Turns) {
				t.Errorf("copy %d of %s differs:\n%+v\nwant\n%+v", k, want.Battle.ID, got, orig)
			}
		}
	}
	summaries := 0
	err = s.Summaries(ctx, 0, -1, func(sum *rlhf.Summary) error {
		summaries++
		if sum.ModelA != "alpha" || sum.ModelB != "beta" || sum.Winner != rlhf.WinnerA || !sum.HasStyle {
			return fmt.Errorf("summary %d is %+v", sum.Seq, sum)
		}
		return nil
	})
	if err != nil || summaries != 21 {
		t.Fatalf("%d summaries (%v), want 21", summaries, err)
	}
	more := importRecs("c", 2)
	if st, err := s.Import(ctx, feed(more, nil)); err != nil || st.Added != 2 {
		t.Fatalf("import after the copies: %+v %v", st, err)
	}
}
