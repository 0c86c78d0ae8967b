package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/agora-rlhf/agora/arena/trust"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/store"
)

// logKeyFile is the log's signing key's file inside the data directory.
const logKeyFile = "log.key"

// openLedger opens the verifiable log of the store in the data directory,
// makes every vote from now on append its leaf, and publishes a checkpoint
// of the tree as it is. A tree that no longer matches its last checkpoint
// is logged loudly, and published as it is: witnesses and auditors then
// see the break.
func openLedger(ctx context.Context, cfg *configs.Config, store *store.Store, log *slog.Logger) (*ledger.Log, error) {
	key, err := ledger.LoadKey(filepath.Join(cfg.Server.Data, logKeyFile), cfg.Log.Origin)
	if err != nil {
		return nil, usageError{"configuration: log.origin: " + err.Error()}
	}
	l, err := ledger.New(ctx, ledger.Config{
		Store:     store,
		Key:       key,
		Interval:  cfg.Log.CheckpointInterval.D(),
		Witnesses: cfg.Log.Witnesses,
		Quorum:    cfg.Log.WitnessQuorum,
		Log:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("open the verifiable log (a store's checkpoints verify only with the %s that signed them: after a restore, put back the one kept with the backups): %w", logKeyFile, err)
	}
	store.UseLedger(l.Encoder())
	if err := l.Check(ctx); err != nil {
		log.Error("the verifiable log does not match its last checkpoint", "err", err)
	}
	if err := l.Publish(ctx); err != nil {
		return nil, fmt.Errorf("publish a checkpoint: %w", err)
	}
	log.Info("verifiable log", "origin", l.Origin(), "key", l.VerifierKey(), "leaves", l.Latest().Size)
	return l, nil
}

// newContributions answers contributors about their points, receipts and
// shares, from the store and its log; a quarantined contributor's votes
// earn nothing while the quarantine lasts.
func newContributions(store *store.Store, l *ledger.Log, q *trust.Quarantine) *ledger.Contributions {
	var quarantined func(string) bool
	if q != nil {
		quarantined = q.Has
	}
	return ledger.NewContributions(store, l.Encoder(), quarantined)
}
