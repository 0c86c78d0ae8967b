package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Witness follows another server's log: it checks each new checkpoint
// against the last one it cosigned (a consistency proof from the tiles),
// checks every new leaf's record against the tree, cosigns, and hands the
// cosignature back. It never cosigns two different roots for one size, nor
// a log that shrank or was rewritten.
type Witness struct {
	Key    *Key
	Log    HTTPSource
	LogKey string // the log's verifier key
	Dir    string // the witness's state and the tiles it has verified
	// ReAudit makes the next step check every leaf's record again, not
	// only the leaves added since the last checkpoint cosigned.
	ReAudit bool
	// Report, when set, is told of each checkpoint cosigned.
	Report func(c *Checkpoint, audited int64)
}

// witnessState is what a witness keeps between runs (DIR/state.json).
type witnessState struct {
	LogKey  string `json:"log_key"`
	Size    int64  `json:"size"`
	Root    Hash   `json:"root"`
	Audited int64  `json:"audited"` // leaves whose records were checked
}

// Refusal is a checkpoint a witness will not cosign: the log broke its
// promise. It names the leaf when it can.
type Refusal struct{ Err error }

func (r *Refusal) Error() string { return "refused to cosign: " + r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

func (w *Witness) statePath() string { return filepath.Join(w.Dir, "state.json") }

func (w *Witness) load() (*witnessState, error) {
	data, err := os.ReadFile(w.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return &witnessState{LogKey: w.LogKey}, nil
	}
	if err != nil {
		return nil, err
	}
	var st witnessState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("witness state %s: %w", w.statePath(), err)
	}
	if st.LogKey != w.LogKey {
		return nil, fmt.Errorf("witness state %s follows the log of key %s, not %s", w.statePath(), st.LogKey, w.LogKey)
	}
	return &st, nil
}

// store writes st durably before anything is cosigned under it.
func (w *Witness) store(st *witnessState) error {
	data, _ := json.MarshalIndent(st, "", "  ")
	tmp := w.statePath() + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, w.statePath())
}

// Step checks the log's latest checkpoint and cosigns it. A *Refusal
// means the log broke its promise; other errors may pass.
func (w *Witness) Step(ctx context.Context) error {
	st, err := w.load()
	if err != nil {
		return err
	}
	a := &Auditor{Src: w.Log, Key: w.LogKey, Save: filepath.Join(w.Dir, "tiles")}
	c, err := a.Checkpoint(ctx, "checkpoint/latest")
	if err != nil {
		return err
	}
	if w.ReAudit {
		st.Audited = 0
	}
	old := &Checkpoint{Size: st.Size, Root: st.Root}
	if err := a.CheckConsistent(ctx, old, c); err != nil {
		return &Refusal{w.locate(ctx, a, old, c, err)}
	}
	if err := a.CheckRecords(ctx, c, st.Audited, c.Size, nil); err != nil {
		var le *LeafError
		if errors.As(err, &le) {
			return &Refusal{err}
		}
		return err
	}
	st.Size, st.Root, st.Audited = c.Size, c.Root, c.Size
	w.ReAudit = false
	if err := w.store(st); err != nil {
		return fmt.Errorf("keep the witness state: %w", err)
	}
	msg, err := w.Key.Cosign(c.Note, w.LogKey)
	if err != nil {
		return err
	}
	if err := w.Log.Post(ctx, "cosignature", msg); err != nil {
		return err
	}
	if w.Report != nil {
		w.Report(c, st.Audited)
	}
	return nil
}

// locate names the first leaf where the log's tree now differs from the
// tree the witness saw, from the tiles it saved then, when it can.
func (w *Witness) locate(ctx context.Context, a *Auditor, old, c *Checkpoint, err error) error {
	var le *LeafError
	if errors.As(err, &le) || c.Size < old.Size || old.Size == 0 {
		return err
	}
	saved := &Auditor{Src: DirSource(a.Save), Key: a.Key}
	oldR, _ := saved.hashes(ctx, old)
	newR, _ := a.hashes(ctx, c)
	for start := int64(0); start < old.Size; start += 1 << TileHeight {
		var x []int64
		for i := start; i < min(old.Size, start+1<<TileHeight); i++ {
			x = append(x, StoredHashIndex(0, i))
		}
		h1, err1 := oldR.ReadHashes(x)
		h2, err2 := newR.ReadHashes(x)
		if err1 != nil || err2 != nil {
			return err
		}
		for i := range h1 {
			if h1[i] != h2[i] {
				return &LeafError{Index: start + int64(i), Msg: fmt.Sprintf("rewritten: the tree of %d leaves cosigned before held %v here, the log now holds %v (%v)", old.Size, h1[i], h2[i], err)}
			}
		}
	}
	return err
}

// Run steps every interval until ctx ends or the log is refused.
func (w *Witness) Run(ctx context.Context, interval time.Duration, onError func(error)) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := w.Step(ctx); err != nil {
			var r *Refusal
			if errors.As(err, &r) {
				return err
			}
			if ctx.Err() == nil && onError != nil {
				onError(err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
