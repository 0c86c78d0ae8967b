package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/trust"
	"github.com/agora-rlhf/agora/arena/web"
	"github.com/agora-rlhf/agora/configs"
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
}

func newWatch(ctx context.Context, store trust.QuarantineStore, log *slog.Logger) (*watch, error) {
	det := trust.NewDetector(trust.DetectorConfig{})
	q, err := trust.NewQuarantine(ctx, store, det, log)
	if err != nil {
		return nil, err
	}
	return &watch{det: det, quarantine: q}, nil
}

// started counts a battle a contributor started.
func (w *watch) started(contributor string) {
	w.quarantine.Flag(context.Background(), w.det.Started(contributor))
}

// voted runs the detectors on a committed vote.
func (w *watch) voted(r *rlhf.Record) {
	w.quarantine.Flag(context.Background(), w.det.Observe(trust.Observation{Contributor: r.Vote.ContributorID,
		ModelA: r.Battle.ModelA, ModelB: r.Battle.ModelB, Winner: r.Vote.Winner, At: r.Vote.CreatedAt}))
}

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
