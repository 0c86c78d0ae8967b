package trust

import (
	"context"
	"fmt"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// History is what the detectors' state is rebuilt from when the server
// starts; *store.Store implements it.
type History interface {
	// Summaries passes the stored votes with seq in (after, upTo], in
	// commit order, to fn.
	Summaries(ctx context.Context, after, upTo int64, fn func(*rlhf.Summary) error) error
	// BattlesStarted counts each contributor's stored arena battles
	// started before until, only those started after since[contributor]
	// for the contributors it names.
	BattlesStarted(ctx context.Context, since map[string]time.Time, until time.Time) (map[string]int, error)
}

// Standing is what the store says of contributors when the detectors are
// rebuilt: who is quarantined, and when each lifted quarantine was last
// lifted (the detectors forgot them then). Started is when the server
// started taking battles: those started later reach the detectors through
// Started, so the rebuild counts only earlier ones.
type Standing struct {
	Quarantined []string
	Lifted      map[string]time.Time
	Started     time.Time
}

// StandingOf returns the standing that a store's quarantine list and log
// describe, for a server that started taking battles at started.
func StandingOf(qs []rlhf.Quarantine, log []rlhf.QuarantineEvent, started time.Time) Standing {
	st := Standing{Lifted: map[string]time.Time{}, Started: started}
	for _, q := range qs {
		st.Quarantined = append(st.Quarantined, q.Contributor)
	}
	for _, ev := range log {
		if ev.Action == "lift" && ev.At.After(st.Lifted[ev.Contributor]) {
			st.Lifted[ev.Contributor] = ev.At
		}
	}
	return st
}

// Rebuild replays the stored arena votes up to seq upTo into d, in the
// order they were committed, as Observe took them, and counts the
// battles each contributor started before st.Started, so that a restart
// resets no one's tests. A contributor's votes up to their last lifted quarantine only
// add to the pairs' histories (the detectors forgot them at the lift).
// Replayed votes run no test, except that, at the end, a contributor who
// is not quarantined and whose sequential test already fails is flagged
// (the flags are returned); quarantined contributors are marked flagged.
// Addresses are not stored, so the clusters start afresh. d must not
// observe votes while it is rebuilt. It returns the votes replayed.
func (d *Detector) Rebuild(ctx context.Context, h History, upTo int64, st Standing) ([]Flag, int, error) {
	n := 0
	err := h.Summaries(ctx, 0, upTo, func(s *rlhf.Summary) error {
		if s.Source != rlhf.SourceArena {
			return nil // the detectors see the arena's votes only
		}
		o := Observation{Contributor: s.Contributor, ModelA: s.ModelA, ModelB: s.ModelB, Winner: s.Winner, At: s.Time, Gold: s.Gold}
		lifted, ok := st.Lifted[s.Contributor]
		d.mu.Lock()
		d.record(o, !ok || s.Time.After(lifted))
		d.mu.Unlock()
		n++
		return nil
	})
	if err != nil {
		return nil, n, fmt.Errorf("rebuild the detectors: %w", err)
	}
	started, err := h.BattlesStarted(ctx, st.Lifted, st.Started)
	if err != nil {
		return nil, n, fmt.Errorf("rebuild the detectors: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, battles := range started {
		d.user(id).battles += battles
	}
	for _, id := range st.Quarantined {
		d.user(id).flagged = true
	}
	var flags []Flag
	for id, u := range d.users {
		if reason := d.sequential(u); !u.flagged && len(u.votes) >= d.cfg.MinVotes && reason != "" {
			u.flagged = true
			flags = append(flags, Flag{Contributor: id, Reason: reason + " (on the stored votes, at start)"})
		}
	}
	return flags, n, nil
}
