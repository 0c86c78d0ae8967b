package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Store keeps the log: its leaves and tree hashes (written with the votes
// themselves), and its checkpoints. ingest/store's Store is one.
type Store interface {
	LogSize(ctx context.Context) (int64, error)
	ReadHashes(ctx context.Context, indexes []int64) ([]Hash, error)
	LeafRecords(ctx context.Context, from, n int64) ([][]byte, error)
	LeafIndex(ctx context.Context, voteID string) (int64, error)
	// VoteLeaf returns the index and leaf hash of a vote's leaf.
	VoteLeaf(ctx context.Context, id string) (int64, Hash, error)
	PutCheckpoint(ctx context.Context, size int64, note []byte) error
	Cosigned(ctx context.Context, size int64, note []byte) error
	Checkpoints(ctx context.Context, limit int) ([][]byte, error)
}

// Config is what a Log needs.
type Config struct {
	Store Store
	Key   *Key
	// Interval is the least time between two checkpoints (default 1s).
	Interval time.Duration
	// Witnesses are the verifier keys of the witnesses whose cosignatures
	// count; Quorum of them must cosign a checkpoint before it is final.
	Witnesses []string
	Quorum    int
	Now       func() time.Time // nil means time.Now
	Log       *slog.Logger
}

// recentCheckpoints is how many checkpoints a Log keeps in memory for
// witnesses to cosign.
const recentCheckpoints = 128

// Log publishes signed checkpoints of the store's tree, serves its tiles
// and proofs, signs receipts and collects witnesses' cosignatures. It is
// safe for concurrent use.
type Log struct {
	cfg       Config
	enc       *Encoder
	witnesses map[string]bool // "name+hash" of each configured witness
	verifiers note.Verifiers  // the log's key and the witnesses'

	cosign sync.Mutex // held by AddCosignature, so that merges do not race

	receipts receiptCache // receipts signed at commit, until Receipt asks

	mu     sync.Mutex    // guards the fields below
	recent []*Checkpoint // newest last
	final  *Checkpoint   // newest checkpoint cosigned by Quorum witnesses
}

// New returns the Log of cfg.Store, with the checkpoints it keeps.
func New(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Store == nil || cfg.Key == nil {
		return nil, errors.New("ledger: need a store and a key")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Quorum < 0 || cfg.Quorum > len(cfg.Witnesses) {
		return nil, fmt.Errorf("ledger: a quorum of %d witnesses out of %d", cfg.Quorum, len(cfg.Witnesses))
	}
	l := &Log{cfg: cfg, enc: NewEncoder(cfg.Key.PseudonymKey()), witnesses: map[string]bool{}}
	l.enc.committed = l.signCommitted
	list := []note.Verifier{cfg.Key.verifier}
	for _, w := range cfg.Witnesses {
		v, err := note.NewVerifier(w)
		if err != nil {
			return nil, fmt.Errorf("ledger: witness key %q: %w", w, err)
		}
		list = append(list, v)
		l.witnesses[nameHash(v.Name(), v.KeyHash())] = true
	}
	l.verifiers = note.VerifierList(list...)
	if err := l.load(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func nameHash(name string, hash uint32) string { return fmt.Sprintf("%s+%08x", name, hash) }

// Encoder returns the encoder of the log's records, for the store.
func (l *Log) Encoder() *Encoder { return l.enc }

// PseudonymKey returns the key of the log's contributor pseudonyms, which
// releases use for their data's judges.
func (l *Log) PseudonymKey() []byte { return l.cfg.Key.PseudonymKey() }

// Origin returns the log's origin line.
func (l *Log) Origin() string { return l.cfg.Key.Name() }

// VerifierKey returns the log's public key in the note format.
func (l *Log) VerifierKey() string { return l.cfg.Key.VerifierKey() }

// load reads the checkpoints the store keeps.
func (l *Log) load(ctx context.Context) error {
	notes, err := l.cfg.Store.Checkpoints(ctx, recentCheckpoints)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(notes) - 1; i >= 0; i-- {
		c, _, err := OpenCheckpoint(notes[i], l.VerifierKey())
		if err != nil {
			return fmt.Errorf("stored checkpoint: %w", err)
		}
		l.recent = append(l.recent, c)
		if l.cosigners(c) >= l.cfg.Quorum {
			l.final = c
		}
	}
	return nil
}

// Check compares the store's tree with the last checkpoint published,
// and says which leaves differ: a store cut short, or rewritten.
func (l *Log) Check(ctx context.Context) error {
	last := l.Latest()
	if last == nil {
		return nil
	}
	n, err := l.cfg.Store.LogSize(ctx)
	if err != nil {
		return err
	}
	if n < last.Size {
		return fmt.Errorf("the log has %d leaves, fewer than the %d of its last checkpoint: leaves %d to %d are missing", n, last.Size, n, last.Size-1)
	}
	root, err := tlog.TreeHash(last.Size, l.hashReader(ctx))
	if err != nil {
		return fmt.Errorf("hash the log's first %d leaves: %w", last.Size, err)
	}
	if root != last.Root {
		return fmt.Errorf("the log's first %d leaves no longer hash to its last checkpoint's root", last.Size)
	}
	return nil
}

// Run publishes a checkpoint every interval while the log grows, until ctx
// ends.
func (l *Log) Run(ctx context.Context) error {
	tick := time.NewTicker(l.cfg.Interval)
	defer tick.Stop()
	for {
		if err := l.Publish(ctx); err != nil && ctx.Err() == nil {
			l.cfg.Log.Error("publish a checkpoint", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Publish signs and keeps a checkpoint of the store's tree, unless the
// latest one already covers it, and returns it.
func (l *Log) Publish(ctx context.Context) error {
	n, err := l.cfg.Store.LogSize(ctx)
	if err != nil {
		return err
	}
	root, err := tlog.TreeHash(n, l.hashReader(ctx))
	if err != nil {
		return fmt.Errorf("hash the tree of %d leaves: %w", n, err)
	}
	if last := l.Latest(); last != nil && last.Size == n && last.Root == root {
		return nil
	}
	at := l.cfg.Now().UTC().Truncate(time.Second)
	text := checkpointText(l.Origin(), n, root, at)
	msg, err := l.cfg.Key.Sign(text)
	if err != nil {
		return fmt.Errorf("sign a checkpoint: %w", err)
	}
	if err := l.cfg.Store.PutCheckpoint(ctx, n, msg); err != nil {
		return fmt.Errorf("keep a checkpoint: %w", err)
	}
	c := &Checkpoint{Origin: l.Origin(), Size: n, Root: root, Time: at, Note: msg}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent = append(l.recent, c)
	if len(l.recent) > recentCheckpoints {
		l.recent = l.recent[1:]
	}
	if l.cfg.Quorum == 0 {
		l.final = c
	}
	return nil
}

// Latest returns the newest checkpoint, or nil before the first.
func (l *Log) Latest() *Checkpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recent) == 0 {
		return nil
	}
	return l.recent[len(l.recent)-1]
}

// Final returns the newest checkpoint cosigned by the quorum of
// witnesses (the newest of all when no witness is required), or nil.
func (l *Log) Final() *Checkpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.final
}

// hashReader reads the store's tree hashes for tlog.
func (l *Log) hashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return l.cfg.Store.ReadHashes(ctx, indexes)
	})
}
