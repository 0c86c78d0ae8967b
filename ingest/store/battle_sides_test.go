package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/agora-rlhf/agora/arena/policy"
	"github.com/agora-rlhf/agora/rlhf"
)

func init() {
	migrationUndo[BattleSidesMigration] = `DROP TRIGGER battle_sides_insert; DROP TRIGGER battle_sides_delete;
		DROP TRIGGER battle_sides_update_old; DROP TRIGGER battle_sides_update_new; DROP TABLE battle_sides`
}

// scanBattleSides is BattleSides as it was before battle_sides: a scan of
// every battle.
func scanBattleSides(t *testing.T, s *Store) []policy.Sides {
	t.Helper()
	rows, err := s.read.Query(`SELECT model, count(*) FROM (
			SELECT model_a AS model FROM battles WHERE source = 'arena'
			UNION ALL SELECT model_b FROM battles WHERE source = 'arena')
		GROUP BY model ORDER BY model`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []policy.Sides
	for rows.Next() {
		var c policy.Sides
		if err := rows.Scan(&c.Model, &c.Sides); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestBattleSidesKept checks that the kept counts equal a scan of the
// battles after every way battles are written: the arena's own (one at a
// time, updated as they end), imports of arena and other sources,
// erasure, a change of source or model, and a copy.
func TestBattleSidesKept(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	check := func(step string) {
		t.Helper()
		got, err := s.BattleSides(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := scanBattleSides(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %s: BattleSides = %v, a scan of the battles says %v", step, got, want)
		}
	}
	check("nothing")
	for i := range 6 {
		b := testBattle(fmt.Sprintf("own%d", i), 1)
		b.Source, b.ContributorID = rlhf.SourceArena, fmt.Sprintf("c%d", i%2)
		b.ModelA, b.ModelB = fmt.Sprintf("m%d", i%3), fmt.Sprintf("m%d", i%3+1+i%2)
		if err := s.SaveBattle(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Status = rlhf.StatusVoted
		if err := s.SaveBattle(ctx, b); err != nil { // written again as it ends
			t.Fatal(err)
		}
	}
	check("the arena's battles")
	recs := importRecs("imp", 9)
	for i := range recs {
		if i%3 != 0 {
			recs[i].Battle.Source = rlhf.SourceArena
		}
		recs[i].Battle.ModelA, recs[i].Battle.ModelB = fmt.Sprintf("m%d", i%5), "m5"
	}
	if _, err := s.Import(ctx, feed(recs, nil)); err != nil {
		t.Fatal(err)
	}
	check("an import")
	if _, err := s.Erase(ctx, "c1", &rlhf.Erasure{ID: "e1", Actor: "contributor", At: t0}); err != nil {
		t.Fatal(err)
	}
	check("an erasure")
	if _, err := s.write.Exec(`UPDATE battles SET source = 'file.jsonl', model_b = 'm9' WHERE id = 'own0'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.Exec(`UPDATE battles SET source = 'arena' WHERE id = 'imp0'`); err != nil {
		t.Fatal(err)
	}
	check("changed battles")
	if err := s.Replicate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	check("Replicate")
}
