package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// importRecs returns n records with 1 to 3 turns, ids prefix0…
func importRecs(prefix string, n int) []rlhf.Record {
	recs := make([]rlhf.Record, n)
	for i := range recs {
		b := testBattle(fmt.Sprintf("%s%d", prefix, i), 1+i%3)
		b.Status, b.Source = rlhf.StatusVoted, "file.jsonl"
		recs[i] = rlhf.Record{Battle: *b, Vote: *testVote(b, fmt.Sprintf("%s-v%d", prefix, i))}
	}
	return recs
}

// feed returns a read function that passes recs to put one at a time
// through one reused record, as the format readers do, and then fails
// with err if it is not nil.
func feed(recs []rlhf.Record, err error) func(func(*rlhf.Record) error) error {
	return func(put func(*rlhf.Record) error) error {
		var r rlhf.Record
		for i := range recs {
			r = recs[i]
			r.Battle.Turns = append(r.Battle.Turns[:0:0], recs[i].Battle.Turns...)
			if err := put(&r); err != nil {
				return err
			}
			r.Battle.Turns[0].Prompt = "overwritten by the reader"
		}
		return err
	}
}

func countVotes(t *testing.T, s *Store) int64 {
	t.Helper()
	_, votes, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return votes
}

func TestImportStreamsAndCounts(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recs := importRecs("i", 3*importBatch+7)
	st, err := s.Import(ctx, feed(recs, nil))
	if err != nil || st != (ImportStats{Read: len(recs), Added: len(recs)}) {
		t.Fatalf("Import = %+v, %v; want all %d added", st, err, len(recs))
	}
	var got []rlhf.Record
	err = s.RecordsWhere(ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error {
		c := *r
		c.Battle.Turns = append([]rlhf.Turn(nil), r.Battle.Turns...)
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("read back %d records, want %d", len(got), len(recs))
	}
	for i := range recs {
		if g, w := fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", recs[i]); g != w {
			t.Fatalf("record %d:\n got %s\nwant %s", i, g, w)
		}
	}

	// Again, mixed with new ones: only the new ones are added, in every
	// batch (each has some records present).
	more := importRecs("j", 2*importBatch)
	var mixed []rlhf.Record
	for i := range more {
		mixed = append(mixed, more[i], recs[i])
	}
	st, err = s.Import(ctx, feed(mixed, nil))
	if err != nil || st != (ImportStats{Read: len(mixed), Added: len(more), Present: len(more)}) {
		t.Fatalf("Import mixed = %+v, %v; want %d added, %d present", st, err, len(more), len(more))
	}
	st, err = s.Import(ctx, feed(recs, nil))
	if err != nil || st.Added != 0 || st.Present != len(recs) {
		t.Fatalf("Import again = %+v, %v; want nothing added", st, err)
	}
	if n := countVotes(t, s); n != int64(len(recs)+len(more)) {
		t.Errorf("%d votes stored, want %d", n, len(recs)+len(more))
	}
}

func TestImportAllOrNothing(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recs := importRecs("a", 3)
	if _, err := s.Import(ctx, feed(recs, nil)); err != nil {
		t.Fatal(err)
	}
	bad := testBattle("a9", 1)
	bad.Status = rlhf.StatusVoted
	taken := recs[0]
	taken.Battle.ID, taken.Vote.ID, taken.Vote.BattleID = "a10", "a-v10", "a10"
	taken.Vote.ID = recs[1].Vote.ID // a vote id that is stored, on a new battle: skipped

	for _, tc := range []struct {
		name string
		recs []rlhf.Record
		err  error
	}{
		// The read fails after several batches were written.
		{"read error", importRecs("b", 5*importBatch), errors.New("line 641: truncated JSON")},
		// A record that fails validation after a batch was written.
		{"invalid record", append(importRecs("c", importBatch+1), rlhf.Record{Battle: *bad, Vote: rlhf.Vote{ID: "x", BattleID: "other"}}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Import(ctx, feed(tc.recs, tc.err))
			if err == nil {
				t.Fatal("Import succeeded")
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if n := countVotes(t, s); n != 3 {
				t.Errorf("%d votes stored after a failed import, want 3", n)
			}
			if _, err := s.Battle(ctx, tc.recs[0].Battle.ID); rlhf.ErrorCode(err) != rlhf.ENotFound {
				t.Errorf("battle %s stored after a failed import (err %v)", tc.recs[0].Battle.ID, err)
			}
		})
	}

	st, err := s.Import(ctx, feed([]rlhf.Record{taken}, nil))
	if err != nil || st.Added != 0 || st.Present != 1 {
		t.Errorf("Import of a stored vote id on a new battle = %+v, %v; want it present", st, err)
	}
	// The store still takes votes afterwards.
	b := testBattle("after", 1)
	b.Status = rlhf.StatusVoted
	if err := s.SaveVote(ctx, b, testVote(b, "after-v")); err != nil {
		t.Fatal(err)
	}
}

func TestImportCancelled(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	recs := importRecs("k", 3*importBatch)
	_, err := s.Import(ctx, func(put func(*rlhf.Record) error) error {
		return feed(recs, nil)(func(r *rlhf.Record) error {
			if r.Battle.ID == "k300" {
				cancel()
			}
			return put(r)
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := countVotes(t, s); n != 0 {
		t.Errorf("%d votes stored after a cancelled import", n)
	}
}

// schemaObjects returns the store's index and trigger definitions on the
// records' tables.
func schemaObjects(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.write.Query(`SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type IN ('index', 'trigger')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	objs := map[string]string{}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		objs[name] = q
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestImportKeepsIndexesAndTriggers checks that an import into a small
// store, which drops the secondary indexes and battle_sides' triggers
// while it writes (run), leaves them as they were after it fails, after it
// succeeds and after it falls back to one record at a time (a vote id
// taken in a batch of new battles), and that the kept counts agree.
func TestImportKeepsIndexesAndTriggers(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	want := schemaObjects(t, s)
	if want["battles_contributor"] == "" || want["battle_sides_insert"] == "" {
		t.Fatalf("the store has no battles_contributor index or battle_sides_insert trigger: %v", want)
	}
	check := func(step string) {
		t.Helper()
		if got := schemaObjects(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %s: indexes and triggers %v, want %v", step, got, want)
		}
		got, err := s.BattleSides(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := scanBattleSides(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %s: BattleSides = %v, a scan of the battles says %v", step, got, want)
		}
	}
	arena := func(recs []rlhf.Record) []rlhf.Record {
		for i := range recs {
			recs[i].Battle.Source = rlhf.SourceArena
		}
		return recs
	}
	if _, err := s.Import(ctx, feed(arena(importRecs("f", 3*importBatch)), errors.New("truncated"))); err == nil {
		t.Fatal("Import succeeded")
	}
	check("a failed import")
	if _, err := s.Import(ctx, feed(arena(importRecs("g", 2*importBatch+5)), nil)); err != nil {
		t.Fatal(err)
	}
	check("an import")
	recs := arena(importRecs("h", 10))
	recs[7].Vote.ID = recs[2].Vote.ID
	st, err := s.Import(ctx, feed(recs, nil))
	if err != nil || st.Added != 9 || st.Present != 1 {
		t.Fatalf("Import with a vote id twice = %+v, %v; want 9 added, 1 present", st, err)
	}
	check("an import of a vote id twice")
	recs = arena(importRecs("d", 10))
	recs[6].Battle.ID, recs[6].Vote.BattleID, recs[6].Battle.ModelA = recs[3].Battle.ID, recs[3].Battle.ID, "gamma"
	st, err = s.Import(ctx, feed(recs, nil))
	if err != nil || st.Added != 9 || st.Present != 1 {
		t.Fatalf("Import with a battle id twice = %+v, %v; want 9 added, 1 present", st, err)
	}
	if b, err := s.Battle(ctx, recs[3].Battle.ID); err != nil || b.ModelA != recs[3].Battle.ModelA {
		t.Fatalf("battle %s after an import of its id twice = %+v, %v; want the first", recs[3].Battle.ID, b, err)
	}
	check("an import of a battle id twice")
	rows, err := s.write.Query(`EXPLAIN QUERY PLAN SELECT id FROM battles WHERE contributor_id = 'x'`)
	if err != nil {
		t.Fatal(err)
	}
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "; "
	}
	rows.Close()
	if !strings.Contains(plan, "battles_contributor") {
		t.Errorf("a query by contributor does not use battles_contributor after imports: %s", plan)
	}
}

// storeContents returns what a store holds of its records, as text: every
// record with its seq, every vote summary, the kept sides and the counts.
func storeContents(t *testing.T, s *Store) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	err := s.RecordsWhere(ctx, RecordFilter{}, func(seq int64, r *rlhf.Record) error {
		out = append(out, fmt.Sprintf("record %d %+v", seq, *r))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Summaries(ctx, 0, -1, func(sum *rlhf.Summary) error {
		out = append(out, fmt.Sprintf("summary %+v", *sum))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sides, err := s.BattleSides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	battles, votes, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, fmt.Sprintf("sides %v", sides), fmt.Sprintf("counts %d %d", battles, votes))
}

// TestImportSameAsVotes checks that an import stores what saving the same
// records vote by vote stores: records, turns (with and without answer
// metadata, in one batch), summaries with style features, the arena's
// sides and the counts, in the same order; and that the secondary indexes
// are the ones a store that never imported has.
func TestImportSameAsVotes(t *testing.T) {
	ctx := context.Background()
	recs := importRecs("s", 2*importBatch+9)
	for i := range recs {
		b := &recs[i].Battle
		if i%3 == 0 {
			b.Source = rlhf.SourceArena
		}
		if i%4 < 2 { // bare turns, as imported conversations have
			for j := range b.Turns {
				tu := &b.Turns[j]
				tu.A = rlhf.Answer{Content: fmt.Sprintf("## Answer\n\n- **%d**", i)}
				tu.B = rlhf.Answer{Content: "b"}
			}
		}
	}
	imported, voted := openTest(t), openTest(t)
	if st, err := imported.Import(ctx, feed(recs, nil)); err != nil || st.Added != len(recs) {
		t.Fatalf("Import = %+v, %v", st, err)
	}
	for i := range recs {
		r := recs[i]
		if err := voted.SaveVote(ctx, &r.Battle, &r.Vote); err != nil {
			t.Fatal(err)
		}
	}
	got, want := storeContents(t, imported), storeContents(t, voted)
	if len(got) != len(want) {
		t.Fatalf("the import holds %d items, the votes %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("item %d:\nimported %s\n   voted %s", i, got[i], want[i])
		}
	}
	if g, w := schemaObjects(t, imported), schemaObjects(t, voted); !reflect.DeepEqual(g, w) {
		t.Errorf("indexes and triggers after an import %v, after votes %v", g, w)
	}
}
