package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// testLog is a real store with its log.
type testLog struct {
	store *store.Store
	key   *ledger.Key
	log   *ledger.Log
	dir   string
}

func openLog(t *testing.T, cfg ledger.Config) *testLog {
	t.Helper()
	dir := t.TempDir()
	store, err := store.Open(filepath.Join(dir, "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key, err := ledger.LoadKey(filepath.Join(dir, "log.key"), "test.example/log")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Key = store, key
	l, err := ledger.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	store.UseLedger(l.Encoder())
	if err := l.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &testLog{store: store, key: key, log: l, dir: dir}
}

// vote stores battle i with its vote and returns both.
func (tl *testLog) vote(t testing.TB, i int) (*rlhf.Battle, *rlhf.Vote) {
	t.Helper()
	b, v := battleAndVote(i)
	if err := tl.store.SaveVote(context.Background(), b, v); err != nil {
		t.Fatal(err)
	}
	return b, v
}

// voteMany stores battles from to to-1 with their votes, concurrently, so
// that the group commit takes them in a few transactions.
func (tl *testLog) voteMany(t testing.TB, from, to int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := from; i < to; i++ {
		wg.Go(func() {
			b, v := battleAndVote(i)
			if err := tl.store.SaveVote(context.Background(), b, v); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func battleAndVote(i int) (*rlhf.Battle, *rlhf.Vote) {
	b := &rlhf.Battle{
		ID: fmt.Sprintf("b%04d", i), ContributorID: fmt.Sprintf("c%d", i%3), ModelA: "alpha", ModelB: "beta two",
		Status: rlhf.StatusVoted, CreatedAt: t0, UpdatedAt: t0,
		Turns: []rlhf.Turn{{Prompt: fmt.Sprintf("prompt %d", i), At: t0,
			A: rlhf.Answer{Content: "answer a"}, B: rlhf.Answer{Content: "answer\nb \"quoted\""}}},
	}
	winners := []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerBothBad}
	v := &rlhf.Vote{ID: fmt.Sprintf("v%04d", i), BattleID: b.ID, ContributorID: b.ContributorID,
		Winner: winners[i%4], CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
	return b, v
}

func TestVoteAppendsLeaf(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	var records [][]byte
	for i := range 20 {
		b, v := tl.vote(t, i)
		records = append(records, tl.log.Encoder().Vote(b, v))
	}
	n, err := tl.store.LogSize(ctx)
	if err != nil || n != 20 {
		t.Fatalf("LogSize = %d, %v; want 20", n, err)
	}
	got, err := tl.store.LeafRecords(ctx, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if string(got[i]) != string(records[i]) {
			t.Errorf("LeafRecords[%d] =\n%s\nwant\n%s", i, got[i], records[i])
		}
	}
	// The stored tree is the tree of the records.
	var leafHashes []tlog.Hash
	for _, r := range records {
		leafHashes = append(leafHashes, tlog.RecordHash(r))
	}
	want := rootOf(t, leafHashes)
	if err := tl.log.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if c := tl.log.Latest(); c.Size != 20 || c.Root != want {
		t.Errorf("checkpoint = %d %v, want 20 %v", c.Size, c.Root, want)
	}
	if _, err := tl.store.LeafRecords(ctx, 19, 2); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("LeafRecords past the end: %v, want not_found", err)
	}
}

// rootOf computes the tree hash of leaves in memory, with tlog.
func rootOf(t *testing.T, leaves []tlog.Hash) tlog.Hash {
	t.Helper()
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, h := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), h, r)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	root, err := tlog.TreeHash(int64(len(leaves)), r)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestFailedVotesAppendNothing runs concurrent votes of which some fail
// (second votes on a battle): the group commit undoes their writes, and
// the log keeps exactly one leaf per committed vote, in a tree that
// matches them, each with a receipt that opens to its leaf.
func TestFailedVotesAppendNothing(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := map[string]bool{}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, v := battleAndVote(i / 2) // two votes per battle: one fails
			v.ID = fmt.Sprintf("v%04d-%d", i/2, i%2)
			if err := tl.store.SaveVote(ctx, b, v); err == nil {
				mu.Lock()
				committed[v.ID] = true
				mu.Unlock()
			} else if rlhf.ErrorCode(err) != rlhf.EConflict {
				t.Errorf("vote %s: %v", v.ID, err)
			}
		}()
	}
	wg.Wait()
	if len(committed) != 100 {
		t.Fatalf("%d votes committed, want 100", len(committed))
	}
	n, _ := tl.store.LogSize(ctx)
	if n != 100 {
		t.Fatalf("LogSize = %d, want 100", n)
	}
	records, err := tl.store.LeafRecords(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	var leaves []tlog.Hash
	for i, r := range records {
		id := ledger.Fields(r)[1][1]
		if !committed[id] {
			t.Errorf("leaf %d is vote %s, which was not committed:\n%s", i, id, r)
		}
		delete(committed, id)
		leaves = append(leaves, tlog.RecordHash(r))
		// Its receipt, signed with the others of its commit, opens to it.
		rc, err := tl.log.Receipt(ctx, nil, &rlhf.Vote{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if idx, h, err := ledger.OpenReceipt(rc, tl.key.VerifierKey()); err != nil || idx != int64(i) || h != leaves[i] {
			t.Errorf("receipt of vote %s opens to leaf %d %v (%v); want leaf %d %v", id, idx, h, err, i, leaves[i])
		}
	}
	if err := tl.log.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if root := rootOf(t, leaves); tl.log.Latest().Root != root {
		t.Errorf("tree root %v, want the root of the committed votes' records %v", tl.log.Latest().Root, root)
	}
}

func TestRecordFormat(t *testing.T) {
	b, v := battleAndVote(1)
	v.Strength = rlhf.StrengthClear
	got := string(ledger.NewEncoder([]byte("k")).Vote(b, v))
	want := `vote 1
id v0001
battle b0001
contributor ` + fmt.Sprint(pseudonym("k", "c1")) + `
models alpha "beta two"
winner b
strength clear
time 2026-12-01T12:00:00.001Z
consent leaderboard
licence operator-default
conversation ` + ledger.ConversationHash(b) + "\n"
	if got != want {
		t.Errorf("Vote record =\n%s\nwant\n%s", got, want)
	}
	if _, err := tlog.FormatRecord(0, []byte(got)); err != nil {
		t.Errorf("record is not valid tile record text: %v", err)
	}
	b2 := *b
	b2.Turns = []rlhf.Turn{{Prompt: "prompt 1", A: rlhf.Answer{Content: "answer a"}, B: rlhf.Answer{Content: "answer\nb \"quoted\"!"}}}
	if ledger.ConversationHash(&b2) == ledger.ConversationHash(b) {
		t.Error("ConversationHash does not change with an answer")
	}
}

func pseudonym(key, id string) string {
	return formats.Pseudonym([]byte(key), id)
}

// TestProofs checks the served proofs and tiles with tlog's own checks.
func TestProofs(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	var sizes []int64
	for _, to := range []int{1, 2, 97, 256, 300, 511, 600} {
		tl.voteMany(t, int(tl.log.Latest().Size), to)
		if err := tl.log.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, tl.log.Latest().Size)
	}
	latest := tl.log.Latest()
	for _, idx := range []int64{0, 1, 255, 256, 300, 599} {
		p, err := tl.log.ProveInclusion(ctx, idx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.LeafHash != tlog.RecordHash([]byte(p.Record)) {
			t.Errorf("leaf %d: hash %v is not its record's", idx, p.LeafHash)
		}
		if err := tlog.CheckRecord(p.Proof, latest.Size, latest.Root, idx, p.LeafHash); err != nil {
			t.Errorf("inclusion of leaf %d: %v", idx, err)
		}
	}
	for _, from := range sizes {
		p, err := tl.log.ProveConsistency(ctx, from, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p.Proof, latest.Size, latest.Root, from, p.FromRoot); err != nil {
			t.Errorf("consistency %d → %d: %v", from, latest.Size, err)
		}
	}
	p, err := tl.log.ProveVote(ctx, "v0300", 0)
	if err != nil || !strings.Contains(p.Record, "\nid v0300\n") {
		t.Errorf("ProveVote(v0300) = %+v, %v; want the leaf of vote v0300", p, err)
	}
	for _, bad := range [][2]int64{{600, 0}, {0, 601}, {-1, 0}} {
		if _, err := tl.log.ProveInclusion(ctx, bad[0], bad[1]); rlhf.ErrorCode(err) != rlhf.EInvalid {
			t.Errorf("ProveInclusion(%d, %d) = %v, want invalid", bad[0], bad[1], err)
		}
	}
}

// TestTiles reads the tree through served tiles, as a checksum database
// client does, and checks every data tile against the hash tiles.
func TestTiles(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	tl.voteMany(t, 0, 300)
	if err := tl.log.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	c := tl.log.Latest()
	r := tlog.TileHashReader(c.Tree(), tileReader{ctx, tl.log})
	root, err := tlog.TreeHash(c.Size, r)
	if err != nil || root != c.Root {
		t.Fatalf("tree hash through tiles = %v, %v; want %v", root, err, c.Root)
	}
	for _, path := range []string{"8/data/000", "8/data/001.p/44"} {
		data, err := tl.log.Tile(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		tile, _ := tlog.ParseTilePath("tile/" + path)
		for i := range tile.W {
			idx := tile.N<<8 + int64(i)
			rec, rest, ok := strings.Cut(string(data), "\n\n")
			if !ok {
				t.Fatalf("data tile %s ends before leaf %d", path, idx)
			}
			data = []byte(rest)
			h, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, idx)})
			if err != nil {
				t.Fatal(err)
			}
			if tlog.RecordHash([]byte(rec+"\n")) != h[0] {
				t.Errorf("leaf %d: data tile record does not hash to the tree's leaf", idx)
			}
		}
		if len(data) != 0 {
			t.Errorf("data tile %s has %d bytes after its records", path, len(data))
		}
	}
	for _, path := range []string{"8/0/002", "8/1/000.p/2", "8/data/001", "9/0/000", "8/0/x/1"} {
		if _, err := tl.log.Tile(ctx, path); err == nil {
			t.Errorf("Tile(%s) served a tile beyond the tree or malformed", path)
		}
	}
}

type tileReader struct {
	ctx context.Context
	l   *ledger.Log
}

func (tileReader) Height() int { return ledger.TileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range tiles {
		data, err := r.l.Tile(r.ctx, strings.TrimPrefix(t.Path(), "tile/"))
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func TestReceipt(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	tl.vote(t, 0)
	b, v := tl.vote(t, 1)
	r, err := tl.log.Receipt(ctx, b, v)
	if err != nil {
		t.Fatal(err)
	}
	idx, hash, err := ledger.OpenReceipt(r, tl.key.VerifierKey())
	if err != nil || idx != 1 || hash != tlog.RecordHash(tl.log.Encoder().Vote(b, v)) {
		t.Errorf("OpenReceipt = %d, %v, %v; want leaf 1 with its record's hash", idx, hash, err)
	}
	forged := *r
	forged.LeafIndex = 0
	if _, _, err := ledger.OpenReceipt(&forged, tl.key.VerifierKey()); err == nil {
		t.Error("a receipt whose index differs from its statement verifies")
	}
	forged = *r
	lines := strings.SplitN(r.Statement, "\n", 4) // header, origin, count, the rest
	lines[2] += "0"
	forged.Statement = strings.Join(lines, "\n")
	if _, _, err := ledger.OpenReceipt(&forged, tl.key.VerifierKey()); err == nil {
		t.Error("a receipt with an altered statement verifies")
	}
	other, _ := ledger.LoadKey(filepath.Join(t.TempDir(), "k"), "test.example/log")
	if _, _, err := ledger.OpenReceipt(r, other.VerifierKey()); err == nil {
		t.Error("a receipt verifies under another key")
	}
}

// TestCosignatures requires two witnesses: a checkpoint is final only once
// both have cosigned it; a stranger's signature does not count.
func TestCosignatures(t *testing.T) {
	dir := t.TempDir()
	w1, _ := ledger.LoadKey(filepath.Join(dir, "w1"), "witness-one")
	w2, _ := ledger.LoadKey(filepath.Join(dir, "w2"), "witness-two")
	stranger, _ := ledger.LoadKey(filepath.Join(dir, "w3"), "stranger")
	tl := openLog(t, ledger.Config{Witnesses: []string{w1.VerifierKey(), w2.VerifierKey()}, Quorum: 2})
	ctx := context.Background()
	tl.vote(t, 0)
	if err := tl.log.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if tl.log.Final() != nil {
		t.Fatal("a checkpoint is final before any witness cosigned it")
	}
	c := tl.log.Latest()
	for i, w := range []*ledger.Key{stranger, w1, w2} {
		msg, err := w.Cosign(c.Note, tl.key.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		n, err := tl.log.AddCosignature(ctx, msg)
		if err != nil || n != i {
			t.Errorf("cosignature %d: %d cosigners, %v; want %d", i, n, err, i)
		}
	}
	f := tl.log.Final()
	if f == nil || f.Size != 1 {
		t.Fatalf("final = %v after both witnesses cosigned", f)
	}
	if n := strings.Count(string(f.Note), "\n— "); n != 3 {
		t.Errorf("final checkpoint has %d signatures, want the log's and two witnesses':\n%s", n, f.Note)
	}
	if _, err := tl.log.AddCosignature(ctx, []byte("not a note")); rlhf.ErrorCode(err) != rlhf.EInvalid {
		t.Errorf("AddCosignature(garbage) = %v, want invalid", err)
	}
}
