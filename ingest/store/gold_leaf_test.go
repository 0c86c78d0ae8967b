package store

import (
	"bytes"
	"context"
	"database/sql"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// migrationUndo undoes the migrations after LogRunsMigration, for tests
// that make a store as it was before one.
var migrationUndo = map[string]string{
	GoldLeafMigration: `ALTER TABLE votes DROP COLUMN leaf_gold`,
}

// TestGoldLeaf: a vote on a gold battle gets a "vote 2" leaf with its gold
// line (the right side, or - when the battle is not scored), rebuilt from
// the store to the same bytes; a vote whose leaf was written before the
// gold line existed (leaf_gold empty) is rebuilt as the "vote 1" record it
// was, so old leaves still verify.
func TestGoldLeaf(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	enc := ledger.NewEncoder([]byte("gold leaf key"))
	s.UseLedger(enc)
	cases := []struct {
		gold, right, errCode string
		want                 string // the gold line, "" for none
	}{
		{"", "", "", ""},
		{rlhf.GoldTruncated, "a", "", "gold truncated a\n"},
		{rlhf.GoldShuffled, "", "", "gold shuffled -\n"},          // came out whole: not scored
		{rlhf.GoldOffTopic, "b", "timeout", "gold off_topic -\n"}, // a turn failed: not scored
	}
	var saved [][]byte
	for i, c := range cases {
		r := personal("c", "m", i, true)
		b, v := &r.Battle, &r.Vote
		if c.gold != "" {
			b.Gold, b.GoldWinner, b.ModelB = c.gold, rlhf.Side(c.right), rlhf.GoldModelPrefix+c.gold
			b.Turns[1].B.ErrorCode = c.errCode
		}
		if err := s.SaveVote(ctx, b, v); err != nil {
			t.Fatal(err)
		}
		rec := enc.Vote(b, v)
		if got := bytes.HasSuffix(rec, []byte(c.want)) && (c.want == "") == bytes.HasPrefix(rec, []byte("vote 1\n")); !got {
			t.Errorf("case %d: record\n%s\nwant version %v and gold line %q", i, rec, c.want == "", c.want)
		}
		saved = append(saved, rec)
	}
	checkLeaves(t, s, saved)
	// A gold vote as stored before the gold line: its leaf is a vote 1.
	if err := s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE votes SET leaf_gold = '' WHERE id = 'c-v1'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.LeafRecords(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.Replace(bytes.TrimSuffix(saved[1], []byte(cases[1].want)), []byte("vote 2"), []byte("vote 1"), 1)
	if !bytes.Equal(recs[0], old) {
		t.Errorf("a gold vote logged before the gold line is rebuilt as\n%s\nwant\n%s", recs[0], old)
	}
}

// checkLeaves checks that the store's leaves are want, and hash to the
// tree it keeps.
func checkLeaves(t *testing.T, s *Store, want [][]byte) {
	t.Helper()
	ctx := context.Background()
	recs, err := s.LeafRecords(ctx, 0, int64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		h, err := s.ReadHashes(ctx, []int64{ledger.StoredHashIndex(0, int64(i))})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec, want[i]) || ledger.RecordHash(rec) != h[0] {
			t.Errorf("leaf %d: %s\nwant\n%s", i, rec, want[i])
		}
	}
}
