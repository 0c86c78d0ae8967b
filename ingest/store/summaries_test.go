package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// readSummaries returns every stored summary, in seq order.
func readSummaries(t *testing.T, s *Store) []rlhf.Summary {
	t.Helper()
	var got []rlhf.Summary
	if err := s.Summaries(context.Background(), 0, -1, func(sum *rlhf.Summary) error {
		got = append(got, *sum)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// wantSummaries returns the summaries the store's records give, with their
// seqs, in seq order: what the store must keep without reading the text.
func wantSummaries(t *testing.T, s *Store) []rlhf.Summary {
	t.Helper()
	var want []rlhf.Summary
	if err := s.RecordsWhere(context.Background(), RecordFilter{}, func(seq int64, r *rlhf.Record) error {
		sum := r.Summary()
		sum.Seq = seq
		want = append(want, sum)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return want
}

func checkSummaries(t *testing.T, s *Store, n int) {
	t.Helper()
	got, want := readSummaries(t, s), wantSummaries(t, s)
	if len(got) != n || len(want) != n {
		t.Fatalf("%d summaries stored, %d records; want %d of each", len(got), len(want), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("summary %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestSummariesWrittenWithVotes checks that SaveVote and Import keep each
// vote's summary, equal to the one its record gives, with style and the
// flags that decide whether it counts, and that deleting a vote deletes
// its summary.
func TestSummariesWrittenWithVotes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := range 3 {
		b := testBattle(fmt.Sprint("b", i), 1+i)
		b.Turns[0].B = rlhf.Answer{Content: "# Title\n- one\n- **two**", FinishReason: "stop"}
		if i == 1 {
			b.Turns[1].B.ErrorCode = rlhf.EUpstream // failed
		}
		if i == 2 {
			b.IdentityLeak = "answer named its model"
		}
		b.Status = rlhf.StatusVoted
		if err := s.SaveVote(ctx, b, testVote(b, fmt.Sprint("v", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ImportRecords(ctx, importRecs("imp", 40)); err != nil {
		t.Fatal(err)
	}
	checkSummaries(t, s, 43)
	got := readSummaries(t, s)
	if !got[0].HasStyle || got[0].StyleB.Headers != 1 || got[0].StyleB.Lists != 2 || got[0].StyleB.Bold != 1 || !got[0].Counted() {
		t.Errorf("first summary %+v: want B's style measured (1 header, 2 list items, 1 bold) and counted", got[0])
	}
	if !got[1].Failed || got[2].Anonymous || got[2].Counted() {
		t.Errorf("summaries %+v and %+v: want the first failed, the second not anonymous", got[1], got[2])
	}
	if _, err := s.write.ExecContext(ctx, `DELETE FROM votes WHERE id = 'v1'`); err != nil {
		t.Fatal(err)
	}
	checkSummaries(t, s, 42)
	upTo, n := readSummaries(t, s)[1].Seq, 0
	if err := s.Summaries(ctx, 0, upTo, func(*rlhf.Summary) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("Summaries up to seq %d: %d summaries, %v; want 2", upTo, n, err)
	}
	if err := s.RebuildSummaries(ctx); err != nil {
		t.Fatal(err)
	}
	checkSummaries(t, s, 42)
}

// TestSummariesBackfilled checks that a store written before summaries
// were kept gets them, once, when it is opened.
func TestSummariesBackfilled(t *testing.T) {
	from := openTest(t)
	ctx := context.Background()
	if _, err := from.ImportRecords(ctx, importRecs("old", 300)); err != nil {
		t.Fatal(err)
	}
	// The same records in a store of the schema before SummaryMigration.
	path := filepath.Join(t.TempDir(), "agora.db")
	oldLayoutStore(t, from, path, 11)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSummaries(t, s, 300)
}
