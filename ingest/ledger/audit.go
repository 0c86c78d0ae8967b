package ledger

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Auditor checks a log from its signed checkpoints and tiles alone, as
// any third party can.
type Auditor struct {
	Src Source
	Key string // the log's verifier key
	// Save, when set, is a directory where the checkpoint and every tile
	// verified are saved: a copy of the log that DirSource reads offline.
	Save string
}

// LeafError is a check that failed at one leaf of the log.
type LeafError struct {
	Index int64
	Msg   string
}

func (e *LeafError) Error() string { return fmt.Sprintf("leaf %d: %s", e.Index, e.Msg) }

// Checkpoint reads and verifies the checkpoint at path ("checkpoint" or
// "checkpoint/latest").
func (a *Auditor) Checkpoint(ctx context.Context, path string) (*Checkpoint, error) {
	msg, err := a.Src.Read(ctx, path)
	if err != nil {
		return nil, err
	}
	c, _, err := OpenCheckpoint(msg, a.Key)
	if err != nil {
		return nil, err
	}
	if a.Save != "" {
		if err := save(a.Save, "checkpoint", msg); err != nil {
			return nil, err
		}
		if err := save(a.Save, "key", []byte(a.Key+"\n")); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// hashes reads c's tree through verified tiles.
func (a *Auditor) hashes(ctx context.Context, c *Checkpoint) (tlog.HashReader, *tileReader) {
	tr := &tileReader{ctx: ctx, src: a.Src, dir: a.Save}
	return tlog.TileHashReader(c.Tree(), tr), tr
}

// CheckConsistent checks that c's tree extends old's: nothing old
// published was changed or removed.
func (a *Auditor) CheckConsistent(ctx context.Context, old, c *Checkpoint) error {
	switch {
	case c.Size < old.Size:
		return &LeafError{Index: c.Size, Msg: fmt.Sprintf("the log now has %d leaves, fewer than the %d of the checkpoint trusted before: leaves %d to %d are gone", c.Size, old.Size, c.Size, old.Size-1)}
	case c.Size == old.Size && c.Root != old.Root:
		return fmt.Errorf("two different roots for the tree of %d leaves (%v trusted, %v now): the log was rewritten", c.Size, old.Root, c.Root)
	case c.Size == old.Size, old.Size == 0:
		return nil
	}
	r, _ := a.hashes(ctx, c)
	proof, err := tlog.ProveTree(c.Size, old.Size, r)
	if err != nil {
		return fmt.Errorf("read the consistency proof from %d to %d leaves: %w", old.Size, c.Size, err)
	}
	if err := tlog.CheckTree(proof, c.Size, c.Root, old.Size, old.Root); err != nil {
		return fmt.Errorf("the tree of %d leaves does not extend the trusted tree of %d: the log was rewritten (%v)", c.Size, old.Size, err)
	}
	return nil
}

// CheckInclusion checks, with an inclusion proof read from c's tiles,
// that leaf index of c's tree has hash want.
func (a *Auditor) CheckInclusion(ctx context.Context, c *Checkpoint, index int64, want Hash) error {
	if index >= c.Size {
		return &LeafError{Index: index, Msg: fmt.Sprintf("not in the tree of %d leaves", c.Size)}
	}
	r, _ := a.hashes(ctx, c)
	proof, err := tlog.ProveRecord(c.Size, index, r)
	if err != nil {
		return fmt.Errorf("read the inclusion proof of leaf %d: %w", index, err)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, index, want); err != nil {
		return &LeafError{Index: index, Msg: fmt.Sprintf("the tree of %d leaves does not hold hash %v there", c.Size, want)}
	}
	return nil
}

// CheckRecords checks that the records served for leaves from to to-1
// hash to the leaves of c's tree, and returns the first that does not as
// a *LeafError. It calls progress, when set, after each tile.
func (a *Auditor) CheckRecords(ctx context.Context, c *Checkpoint, from, to int64, progress func(done int64)) error {
	r, tr := a.hashes(ctx, c)
	for n := from >> TileHeight; n<<TileHeight < min(to, c.Size); n++ {
		start := n << TileHeight
		t := tlog.Tile{H: TileHeight, L: -1, N: n, W: int(min(1<<TileHeight, c.Size-start))}
		data, err := a.Src.Read(ctx, t.Path())
		if err != nil {
			return fmt.Errorf("leaves %d to %d: %w", start, start+int64(t.W)-1, err)
		}
		indexes := make([]int64, t.W)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		leaves, err := r.ReadHashes(indexes)
		if err != nil {
			return fmt.Errorf("leaves %d to %d: %w", start, start+int64(t.W)-1, err)
		}
		if err := checkDataTile(data, start, leaves, max(from, start)); err != nil {
			return err
		}
		if a.Save != "" {
			if err := save(a.Save, t.Path(), data); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(min(to, start+int64(t.W)))
		}
	}
	return tr.err
}

// checkDataTile checks the records of a data tile whose first leaf is
// start against the tree's leaf hashes, from leaf from on.
func checkDataTile(data []byte, start int64, leaves []Hash, from int64) error {
	for i, want := range leaves {
		idx := start + int64(i)
		rec, rest, ok := bytes.Cut(data, []byte("\n\n"))
		if !ok {
			return &LeafError{Index: idx, Msg: "the data tile ends before this leaf's record"}
		}
		data = rest
		rec = append(rec, '\n')
		if idx < from {
			continue
		}
		if got := RecordHash(rec); got != want {
			return &LeafError{Index: idx, Msg: recordMismatch(rec, got, want)}
		}
	}
	return nil
}

// recordMismatch says why a record does not hash to its leaf.
func recordMismatch(rec []byte, got, want Hash) string {
	if k, _ := KindOf(rec); k == KindMissing {
		return fmt.Sprintf("the store no longer has this leaf's content (it serves %q)", bytes.TrimSpace(rec))
	}
	id := ""
	for _, f := range Fields(rec) {
		if len(f) == 2 && f[0] == "id" {
			id = " (vote " + f[1] + ")"
		}
	}
	return fmt.Sprintf("the record served%s hashes to %v, but the tree holds %v: the stored vote was changed", id, got, want)
}
