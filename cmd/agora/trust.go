package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/trust"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// newLeakGuard returns the identity-leak guard, knowing the configured
// models' ids and aliases. Models that labs register are known by their
// public names (see trust.Guard).
func newLeakGuard(cfg *configs.Config) (*trust.Guard, error) {
	words, err := trust.DefaultWords()
	if err != nil {
		return nil, err
	}
	g := trust.NewGuard(words)
	for _, m := range cfg.Models {
		g.SetIdentity(m.Name, m.ModelID, m.Aliases)
	}
	return g, nil
}

// demoModelNames maps each built-in demo model's id to the public name the
// configuration gives it, so that a demo model asked who it is answers
// with its name.
func demoModelNames(cfg *configs.Config) map[string]string {
	names := map[string]string{}
	for _, m := range cfg.Models {
		if strings.HasPrefix(m.BaseURL, "{self}/demo/") {
			names[m.ModelID] = m.Name
		}
	}
	return names
}

// watch runs the anomaly detectors on the live votes and quarantines the
// contributors they flag. At start, its rebuild worker replays the stored
// votes into the detectors; what arrives meanwhile waits in pending, so
// the detectors see every vote in commit order.
type watch struct {
	det        *trust.Detector
	quarantine *trust.Quarantine
	rebuild    func(context.Context) error // the worker main runs once

	mu      sync.Mutex        // guards clients, pending and ready
	clients map[string]client // each contributor's last websocket's address and agent
	pending []watchEvent      // battles started and votes cast while the detectors were rebuilt
	ready   bool              // the detectors are rebuilt: events go to them at once
}

// watchEvent is a battle started by a contributor, or a vote.
type watchEvent struct {
	started string
	vote    *trust.Observation
}

// client is where a contributor connected from.
type client struct{ address, agent string }

// maxClients bounds watch.clients: past it, the map starts afresh (an
// identity not seen since loses its address until it connects again).
const maxClients = 1 << 20

// connected notes where a contributor's websocket came from, for the
// detectors' clusters.
func (w *watch) connected(contributor, address, agent string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.clients) >= maxClients {
		w.clients = map[string]client{}
	}
	w.clients[contributor] = client{address, agent}
}

// watchStore is what the watch reads and writes; *store.Store
// implements it.
type watchStore interface {
	trust.QuarantineStore
	trust.History
	MaxVoteSeq(ctx context.Context) (int64, error)
}

// newWatch returns the watch, with the worker that rebuilds its detectors
// from the votes stored now (votes committed later reach it through the
// vote feed).
func newWatch(ctx context.Context, store watchStore, log *slog.Logger) (*watch, error) {
	det := trust.NewDetector(trust.DetectorConfig{})
	q, err := trust.NewQuarantine(ctx, store, det, log)
	if err != nil {
		return nil, err
	}
	started := time.Now() // before the server takes any battle
	upTo, err := store.MaxVoteSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("rebuild the detectors: %w", err)
	}
	w := &watch{det: det, quarantine: q, clients: map[string]client{}}
	w.rebuild = func(ctx context.Context) error {
		defer w.drain()
		start := time.Now()
		n, err := w.replay(ctx, store, upTo, started)
		if err != nil {
			log.Error("the detectors were not rebuilt from the stored votes", "err", err)
			return nil
		}
		log.Info("detectors rebuilt", "votes", n, "seconds", time.Since(start).Seconds())
		return nil
	}
	return w, nil
}

// replay rebuilds the detectors from the votes of store up to seq upTo
// and the battles started before started, and quarantines whom the
// rebuilt state flags.
func (w *watch) replay(ctx context.Context, store watchStore, upTo int64, started time.Time) (int, error) {
	qs, err := store.Quarantined(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := store.QuarantineLog(ctx)
	if err != nil {
		return 0, err
	}
	flags, n, err := w.det.Rebuild(ctx, store, upTo, trust.StandingOf(qs, evs, started))
	w.quarantine.Flag(ctx, flags)
	return n, err
}

// hold keeps ev for the detectors while they are rebuilt, and reports
// whether it did.
func (w *watch) hold(ev watchEvent) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.ready {
		w.pending = append(w.pending, ev)
	}
	return !w.ready
}

// drain passes the events held during the rebuild to the detectors, in
// order, until none is left; then events go to them at once.
func (w *watch) drain() {
	for {
		w.mu.Lock()
		evs := w.pending
		w.pending = nil
		w.ready = len(evs) == 0
		w.mu.Unlock()
		if len(evs) == 0 {
			return
		}
		for _, ev := range evs {
			w.pass(ev)
		}
	}
}

// pass gives one event to the detectors and quarantines whom they flag.
func (w *watch) pass(ev watchEvent) {
	if ev.vote != nil {
		w.quarantine.Flag(context.Background(), w.det.Observe(*ev.vote))
		return
	}
	w.quarantine.Flag(context.Background(), w.det.Started(ev.started))
}

// started counts a battle a contributor started.
func (w *watch) started(contributor string) {
	if ev := (watchEvent{started: contributor}); !w.hold(ev) {
		w.pass(ev)
	}
}

// voted runs the detectors on a committed vote.
func (w *watch) voted(r *rlhf.Record) {
	w.mu.Lock()
	cl := w.clients[r.Vote.ContributorID]
	w.mu.Unlock()
	ev := watchEvent{vote: &trust.Observation{Contributor: r.Vote.ContributorID,
		ModelA: r.Battle.ModelA, ModelB: r.Battle.ModelB, Winner: r.Vote.Winner, At: r.Vote.CreatedAt,
		Address: cl.address, Agent: cl.agent, Gold: r.Battle.IsGold()}}
	if !w.hold(ev) {
		w.pass(ev)
	}
}

// contributorViews are the admin views of contributors: the store's gold
// accuracy and votes, the detectors' clusters.
type contributorViews struct {
	*store.Store
	det *trust.Detector
}

func (v contributorViews) Clusters(min int) []rlhf.Cluster { return v.det.Clusters(min) }

// quarantinedBoards leaves quarantined contributors out of every
// leaderboard: their votes weigh nothing while the quarantine lasts.
type quarantinedBoards struct {
	httpapi.Leaderboards
	q *trust.Quarantine
}

func (b quarantinedBoards) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	if ex := b.q.Excluded(); len(ex) > 0 {
		opt.Filter.ExcludeContributors = append(append([]string(nil), opt.Filter.ExcludeContributors...), ex...)
	}
	return b.Leaderboards.Leaderboard(ctx, opt)
}
