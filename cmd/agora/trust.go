package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/trust"
	"github.com/agora-rlhf/agora/arena/web"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/sqlite"
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
// contributors they flag.
type watch struct {
	det        *trust.Detector
	quarantine *trust.Quarantine

	mu      sync.Mutex        // guards clients
	clients map[string]client // each contributor's last websocket's address and agent
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

func newWatch(ctx context.Context, store trust.QuarantineStore, log *slog.Logger) (*watch, error) {
	det := trust.NewDetector(trust.DetectorConfig{})
	q, err := trust.NewQuarantine(ctx, store, det, log)
	if err != nil {
		return nil, err
	}
	return &watch{det: det, quarantine: q, clients: map[string]client{}}, nil
}

// started counts a battle a contributor started.
func (w *watch) started(contributor string) {
	w.quarantine.Flag(context.Background(), w.det.Started(contributor))
}

// voted runs the detectors on a committed vote.
func (w *watch) voted(r *rlhf.Record) {
	w.mu.Lock()
	cl := w.clients[r.Vote.ContributorID]
	w.mu.Unlock()
	w.quarantine.Flag(context.Background(), w.det.Observe(trust.Observation{Contributor: r.Vote.ContributorID,
		ModelA: r.Battle.ModelA, ModelB: r.Battle.ModelB, Winner: r.Vote.Winner, At: r.Vote.CreatedAt,
		Address: cl.address, Agent: cl.agent, Gold: r.Battle.IsGold()}))
}

// contributorViews are the admin views of contributors: the store's gold
// accuracy and votes, the detectors' clusters.
type contributorViews struct {
	*sqlite.Store
	det *trust.Detector
}

func (v contributorViews) Clusters(min int) []rlhf.Cluster { return v.det.Clusters(min) }

// quarantinedBoards leaves quarantined contributors out of every
// leaderboard: their votes weigh nothing while the quarantine lasts.
type quarantinedBoards struct {
	web.Leaderboards
	q *trust.Quarantine
}

func (b quarantinedBoards) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	if ex := b.q.Excluded(); len(ex) > 0 {
		opt.Filter.ExcludeContributors = append(append([]string(nil), opt.Filter.ExcludeContributors...), ex...)
	}
	return b.Leaderboards.Leaderboard(ctx, opt)
}
