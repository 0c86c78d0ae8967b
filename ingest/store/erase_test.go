package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// personal returns a record of contributor c whose every text carries
// marker, so that a byte scan finds it wherever it is kept.
func personal(c, marker string, i int, vote bool) rlhf.Record {
	at := t0.Add(time.Duration(i) * time.Second)
	b := rlhf.Battle{ID: fmt.Sprintf("%s-b%d", c, i), ContributorID: c, ModelA: "alpha", ModelB: "beta",
		Status: rlhf.StatusVoted, CreatedAt: at, UpdatedAt: at, Source: "arena"}
	for k := range 2 {
		b.Turns = append(b.Turns, rlhf.Turn{Index: k, Prompt: fmt.Sprintf("%s prompt %d.%d", marker, i, k), At: at,
			A: rlhf.Answer{Content: fmt.Sprintf("%s answer %d.%d", marker, i, k), FinishReason: "stop", Tokens: 4},
			B: rlhf.Answer{Content: "plain answer", FinishReason: "stop", Tokens: 2}})
	}
	if !vote {
		b.Status = rlhf.StatusReady
	}
	return rlhf.Record{Battle: b, Vote: rlhf.Vote{ID: fmt.Sprintf("%s-v%d", c, i), BattleID: b.ID, ContributorID: c,
		Winner: rlhf.WinnerA, Reason: marker + " reason", CreatedAt: at, Scope: rlhf.ScopeTraining, Licence: "CC-BY-4.0"}}
}

// onDisk returns the store's file and WAL, as they are on disk.
func onDisk(t *testing.T, s *Store) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{s.Path(), s.Path() + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestEraseLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	s.UseLedger(ledger.NewEncoder([]byte("pseudonym key for the erase test")))
	mark := fmt.Sprintf("GONE%08x", rand.Uint32())
	keep := fmt.Sprintf("KEPT%08x", rand.Uint32())
	save := func(r rlhf.Record, vote bool) {
		t.Helper()
		if err := s.SaveBattle(ctx, &r.Battle); err != nil {
			t.Fatal(err)
		}
		if vote {
			if err := s.SaveVote(ctx, &r.Battle, &r.Vote); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 6 {
		save(personal("victim", mark, i, i < 5), i < 5) // 5 voted, 1 open
		save(personal("other", keep, i, true), true)
	}
	if err := s.SetConsentDefaults(ctx, "victim", rlhf.Consent{Scope: rlhf.ScopeTraining, Licence: "CC0-1.0", At: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NarrowVotes(ctx, rlhf.Narrowing{Contributor: "victim", Scope: rlhf.ScopeResearch, VoteIDs: []string{"victim-v0"}, At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx); err != nil { // the text is in the file, not only the WAL
		t.Fatal(err)
	}
	if !bytes.Contains(onDisk(t, s), []byte(mark)) {
		t.Fatal("the byte scan does not find the text before the erasure: it cannot find it after")
	}

	e := &rlhf.Erasure{ID: "e_test", Actor: "contributor", At: t0.Add(time.Hour)}
	battles, err := s.Erase(ctx, "victim", e)
	if err != nil {
		t.Fatal(err)
	}
	if len(battles) != 6 || e.Battles != 6 || e.Votes != 5 {
		t.Fatalf("Erase = %d battles (tombstone %d battles, %d votes), want 6, 6, 5", len(battles), e.Battles, e.Votes)
	}
	disk := onDisk(t, s)
	if i := bytes.Index(disk, []byte(mark)); i >= 0 {
		t.Fatalf("erased text is still on disk at byte %d: %q", i, disk[max(0, i-20):min(len(disk), i+40)])
	}
	if n := bytes.Count(disk, []byte(keep)); n == 0 {
		t.Fatal("the other contributor's text is gone from the file")
	}

	var out bytes.Buffer
	st, err := formats.Export(ctx, &out, "arena-jsonl", formats.Options{}, s.ExportSource(RecordFilter{}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), mark) || st.Rows != 6 || strings.Count(out.String(), keep) == 0 {
		t.Fatalf("export after erasure: %d rows, has erased text = %v; want the other's 6 rows only", st.Rows, strings.Contains(out.String(), mark))
	}
	d, err := s.ContributorData(ctx, "victim")
	if err != nil || len(d.Battles)+len(d.Votes) != 0 || d.Consent != nil {
		t.Fatalf("ContributorData after erasure = %+v, %v; want nothing", d, err)
	}
	checkLeavesAfterErase(t, s, e)
}

// checkLeavesAfterErase checks the log: the victim's vote leaves serve as
// missing, and the last leaf is the content-free tombstone.
func checkLeavesAfterErase(t *testing.T, s *Store, e *rlhf.Erasure) {
	t.Helper()
	ctx := context.Background()
	size, err := s.LogSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.LeafRecords(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	var missing, consent int
	for _, r := range recs {
		switch k, _ := ledger.KindOf(r); k {
		case 'm':
			missing++
		case ledger.KindConsent:
			consent++
		}
		if bytes.Contains(r, []byte("GONE")) {
			t.Errorf("a leaf holds erased text: %q", r)
		}
	}
	if want := ledger.NewEncoder([]byte("pseudonym key for the erase test")).Tombstone(erasureTombstone("victim", e)); !bytes.Equal(recs[len(recs)-1], want) {
		t.Errorf("last leaf = %q, want the tombstone %q", recs[len(recs)-1], want)
	}
	if missing != 5 || consent != 1 {
		t.Errorf("after erasure: %d missing leaves and %d consent leaves, want 5 and 1", missing, consent)
	}
}
