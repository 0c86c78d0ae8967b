package store

import (
	"context"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestIdentityLeakKept stores a vote on a battle that was not anonymous,
// by the arena's path (turns first, then the vote) and by import, and
// reads the flag back through every reader.
func TestIdentityLeakKept(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	b := testBattle("b1", 1)
	if err := s.SaveBattle(ctx, b); err != nil {
		t.Fatal(err)
	}
	b.Status, b.IdentityLeak = rlhf.StatusVoted, "turn 0: the prompt asks who the model is"
	if err := s.SaveVote(ctx, b, testVote(b, "v1")); err != nil {
		t.Fatal(err)
	}
	imp := testBattle("b2", 1)
	imp.Status, imp.IdentityLeak = rlhf.StatusVoted, "imported with anony false"
	if _, err := s.ImportRecords(ctx, []rlhf.Record{{Battle: *imp, Vote: *testVote(imp, "v2")}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"b1": b.IdentityLeak, "b2": imp.IdentityLeak}
	for id, leak := range want {
		got, err := s.Battle(ctx, id)
		if err != nil || got.IdentityLeak != leak {
			t.Errorf("Battle(%s).IdentityLeak = %q, %v; want %q", id, got.IdentityLeak, err, leak)
		}
	}
	for name, read := range map[string]func(context.Context, RecordFilter, func(int64, *rlhf.Record) error) error{
		"RecordsWhere": s.RecordsWhere, "ExportRecords": s.ExportRecords,
		"Records with a limit": func(ctx context.Context, f RecordFilter, fn func(int64, *rlhf.Record) error) error {
			f.Limit = 10
			return s.RecordsWhere(ctx, f, fn)
		},
	} {
		seen := 0
		err := read(ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error {
			seen++
			if r.Battle.IdentityLeak != want[r.Battle.ID] || r.Counted() {
				t.Errorf("%s: battle %s leak %q, counted %v; want %q, not counted", name, r.Battle.ID, r.Battle.IdentityLeak, r.Counted(), want[r.Battle.ID])
			}
			return nil
		})
		if err != nil || seen != 2 {
			t.Errorf("%s read %d records, %v; want 2", name, seen, err)
		}
	}
}
