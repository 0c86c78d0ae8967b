package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func testBattle(id string, turns int) *rlhf.Battle {
	b := &rlhf.Battle{
		ID: id, ContributorID: "c1", ModelA: "alpha", ModelB: "beta",
		Status: rlhf.StatusReady, CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
		Category: "coding", Language: "English",
	}
	for i := range turns {
		b.Turns = append(b.Turns, rlhf.Turn{
			Index: i, Prompt: fmt.Sprintf("prompt %d", i), At: t0,
			A: rlhf.Answer{Content: "answer a", FinishReason: "stop", Tokens: 2, TTFT: 1500 * time.Microsecond, Duration: 30 * time.Millisecond},
			B: rlhf.Answer{Content: "", Tokens: 0, ErrorCode: rlhf.EUpstream, Error: "upstream said 500"},
		})
	}
	return b
}

func testVote(b *rlhf.Battle, id string) *rlhf.Vote {
	return &rlhf.Vote{ID: id, BattleID: b.ID, ContributorID: b.ContributorID, Winner: rlhf.WinnerA,
		Strength: rlhf.StrengthClear, Reason: "better", CreatedAt: t0.Add(2 * time.Second)}
}

func TestSaveVoteRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	b := testBattle("b1", 2)
	if err := s.SaveBattle(ctx, b); err != nil {
		t.Fatal(err)
	}
	b.Status = rlhf.StatusVoted
	v := testVote(b, "v1")
	if err := s.SaveVote(ctx, b, v); err != nil {
		t.Fatal(err)
	}
	got, err := s.Battle(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	b.Source = rlhf.SourceArena
	if fmt.Sprint(*got) != fmt.Sprint(*b) {
		t.Errorf("Battle(b1) =\n%+v\nwant\n%+v", *got, *b)
	}
	gotV, err := s.VoteForBattle(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if *gotV != *v {
		t.Errorf("VoteForBattle(b1) = %+v, want %+v", *gotV, *v)
	}
	err = s.SaveVote(ctx, b, testVote(b, "v2"))
	if code := rlhf.ErrorCode(err); code != rlhf.EConflict {
		t.Errorf("second SaveVote: code %q (%v), want %q", code, err, rlhf.EConflict)
	}
	if _, err := s.Battle(ctx, "nope"); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("Battle(nope) error = %v, want not_found", err)
	}
}

func TestRecords(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := range 5 {
		b := testBattle(fmt.Sprintf("b%d", i), 1+i%3)
		if i == 3 {
			b.ModelB = "gamma"
		}
		if err := s.SaveVote(ctx, b, testVote(b, fmt.Sprintf("v%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// A battle without a vote is not a record.
	if err := s.SaveBattle(ctx, testBattle("unvoted", 1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    RecordFilter
		want []string
	}{
		{"all", RecordFilter{}, []string{"b0", "b1", "b2", "b3", "b4"}},
		{"after", RecordFilter{AfterSeq: 2}, []string{"b2", "b3", "b4"}},
		{"limit", RecordFilter{Limit: 2}, []string{"b0", "b1"}},
		{"models", RecordFilter{Models: []string{"alpha", "beta"}}, []string{"b0", "b1", "b2", "b4"}},
		{"sources", RecordFilter{Sources: []string{"elsewhere"}}, nil},
		{"until", RecordFilter{Until: t0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := s.RecordsWhere(ctx, tt.f, func(seq int64, r *rlhf.Record) error {
				if len(r.Battle.Turns) != 1+int(seq-1)%3 {
					t.Errorf("record %s has %d turns, want %d", r.Battle.ID, len(r.Battle.Turns), 1+int(seq-1)%3)
				}
				if err := r.Validate(); err != nil {
					t.Errorf("record %s: %v", r.Battle.ID, err)
				}
				got = append(got, r.Battle.ID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Records(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func TestImportRecordsAllOrNothing(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var recs []rlhf.Record
	for i := range 3 {
		b := testBattle(fmt.Sprintf("imp%d", i), 1)
		b.Source = "file.jsonl"
		recs = append(recs, rlhf.Record{Battle: *b, Vote: *testVote(b, fmt.Sprintf("iv%d", i))})
	}
	n, err := s.ImportRecords(ctx, recs)
	if err != nil || n != 3 {
		t.Fatalf("ImportRecords = %d, %v; want 3, nil", n, err)
	}
	n, err = s.ImportRecords(ctx, recs)
	if err != nil || n != 0 {
		t.Fatalf("ImportRecords again = %d, %v; want 0, nil", n, err)
	}
	bad := testBattle("imp9", 1)
	more := []rlhf.Record{{Battle: *bad, Vote: *testVote(bad, "iv9")}, recs[0]}
	more[1].Battle.ID = "imp10"
	more[1].Vote.ID = "iv10"
	more[1].Vote.BattleID = "imp9" // the vote's battle is already taken by the first record
	if _, err := s.ImportRecords(ctx, more); err == nil {
		t.Fatal("ImportRecords with a bad record succeeded")
	}
	if _, err := s.Battle(ctx, "imp9"); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("after a failed import, battle imp9 is stored (err %v)", err)
	}
}

// TestGroupCommitConcurrent votes from many goroutines and checks that every
// acknowledged vote is stored once, also after reopening the file.
func TestGroupCommitConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agora.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := testBattle(fmt.Sprintf("g%d", i), 1)
			errs <- s.SaveVote(ctx, b, testVote(b, fmt.Sprintf("gv%d", i)))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveBattle(ctx, testBattle("late", 1)); err != ErrClosed {
		t.Errorf("SaveBattle after Close = %v, want ErrClosed", err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	battles, votes, err := s.Counts(ctx)
	if err != nil || battles != n || votes != n {
		t.Errorf("Counts = %d, %d, %v; want %d, %d", battles, votes, err, n, n)
	}
}

// TestPageSize checks that a new file gets 16 KiB pages, in WAL mode, and
// that a file made with another page size keeps it.
func TestPageSize(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var size int
	var mode string
	if err := s.read.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil || size != 16384 {
		t.Errorf("page size of a new store = %d, %v; want 16384", size, err)
	}
	if err := s.read.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode of a new store = %q, %v; want wal", mode, err)
	}

	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE made_elsewhere (x)"); err != nil { // 4 KiB pages, SQLite's default
		t.Fatal(err)
	}
	db.Close()
	old, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.read.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil || size != 4096 {
		t.Errorf("page size of an existing file = %d, %v; want its 4096 kept", size, err)
	}
}

func TestUpgradeFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agora.db")
	old, err := open(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = old.write.ExecContext(ctx, `INSERT INTO battles (id, contributor_id, model_a, model_b, status, created_at, updated_at)
		VALUES ('old', 'c', 'x', 'y', 'ready', 1, 2)`)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version int
	s.read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	if version != SchemaVersion {
		t.Errorf("schema version after upgrade = %d, want %d", version, SchemaVersion)
	}
	var source string
	if err := s.read.QueryRowContext(ctx, "SELECT source FROM battles WHERE id = 'old'").Scan(&source); err != nil || source != rlhf.SourceArena {
		t.Errorf("old battle's source = %q, %v; want %q", source, err, rlhf.SourceArena)
	}
	// Opening again changes nothing.
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func TestPingAndAbandon(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// updated at t0+1s: streaming, ready but old, ready and recent, voted.
	streaming := testBattle("streaming", 1)
	streaming.Status = rlhf.StatusStreaming
	old := testBattle("old", 1)
	recent := testBattle("recent", 2)
	recent.UpdatedAt = t0.Add(time.Hour)
	voted := testBattle("voted", 1)
	for _, b := range []*rlhf.Battle{streaming, old, recent, voted} {
		if err := s.SaveBattle(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	voted.Status = rlhf.StatusVoted
	if err := s.SaveVote(ctx, voted, testVote(voted, "v")); err != nil {
		t.Fatal(err)
	}
	// A restart at t0+2h with a 90-minute vote window.
	n, err := s.AbandonStale(ctx, t0.Add(2*time.Hour), t0.Add(30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("AbandonStale = %d, %v; want 2", n, err)
	}
	for id, want := range map[string]rlhf.BattleStatus{"streaming": rlhf.StatusAbandoned, "old": rlhf.StatusAbandoned,
		"recent": rlhf.StatusReady, "voted": rlhf.StatusVoted} {
		got, err := s.Battle(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want {
			t.Errorf("%s: status = %q, want %q", id, got.Status, want)
		}
	}
	ready, err := s.ReadyBattles(ctx, t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(ready) != 1 || ready[0].ID != "recent" || len(ready[0].Turns) != 2 || ready[0].ModelA != "alpha" {
		t.Fatalf("ReadyBattles = %+v; want the one recent battle with its 2 turns", ready)
	}
}
