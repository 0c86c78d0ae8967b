package trust

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// QuarantineStore keeps quarantine decisions durably; *store.Store
// implements it.
type QuarantineStore interface {
	Quarantine(ctx context.Context, q rlhf.Quarantine, actor string) error
	LiftQuarantine(ctx context.Context, ev rlhf.QuarantineEvent) error
	Quarantined(ctx context.Context) ([]rlhf.Quarantine, error)
	QuarantineLog(ctx context.Context) ([]rlhf.QuarantineEvent, error)
}

// Quarantine is the set of quarantined contributors: their votes are kept
// but weigh nothing on the leaderboard. Flags come from the detectors;
// lifting is an admin's decision, and both are logged. It is safe for
// concurrent use.
type Quarantine struct {
	store QuarantineStore
	det   *Detector // told to forget a contributor whose quarantine is lifted
	log   *slog.Logger
	now   func() time.Time

	mu  sync.Mutex // guards ids
	ids map[string]bool
}

// NewQuarantine loads the quarantined contributors from store.
func NewQuarantine(ctx context.Context, store QuarantineStore, det *Detector, log *slog.Logger) (*Quarantine, error) {
	qs, err := store.Quarantined(ctx)
	if err != nil {
		return nil, err
	}
	q := &Quarantine{store: store, det: det, log: log, now: time.Now, ids: map[string]bool{}}
	for _, e := range qs {
		q.ids[e.Contributor] = true
	}
	return q, nil
}

// Flag quarantines the contributors of flags.
func (q *Quarantine) Flag(ctx context.Context, flags []Flag) {
	for _, f := range flags {
		err := q.store.Quarantine(ctx, rlhf.Quarantine{Contributor: f.Contributor, Reason: f.Reason, Since: q.now()}, "detector")
		if err != nil {
			q.log.Error("quarantine", "contributor", f.Contributor, "err", err)
			continue
		}
		q.mu.Lock()
		q.ids[f.Contributor] = true
		q.mu.Unlock()
		q.log.Warn("contributor quarantined", "contributor", f.Contributor, "reason", f.Reason)
	}
}

// Lift ends a contributor's quarantine: their votes count again and the
// detectors start afresh on them.
func (q *Quarantine) Lift(ctx context.Context, contributor, actor, note string) error {
	err := q.store.LiftQuarantine(ctx, rlhf.QuarantineEvent{Contributor: contributor, Reason: note, Actor: actor, At: q.now()})
	if err != nil {
		return err
	}
	q.mu.Lock()
	delete(q.ids, contributor)
	q.mu.Unlock()
	if q.det != nil {
		q.det.Forget(contributor)
	}
	q.log.Info("quarantine lifted", "contributor", contributor, "actor", actor, "note", note)
	return nil
}

// Has reports whether contributor is quarantined.
func (q *Quarantine) Has(contributor string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ids[contributor]
}

// Excluded returns the quarantined contributors, sorted.
func (q *Quarantine) Excluded() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]string, 0, len(q.ids))
	for id := range q.ids {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// List returns the quarantined contributors with their reasons, and the
// log of every decision.
func (q *Quarantine) List(ctx context.Context) ([]rlhf.Quarantine, []rlhf.QuarantineEvent, error) {
	qs, err := q.store.Quarantined(ctx)
	if err != nil {
		return nil, nil, err
	}
	evs, err := q.store.QuarantineLog(ctx)
	return qs, evs, err
}
