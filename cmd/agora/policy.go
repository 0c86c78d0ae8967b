package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/policy"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/store"
)

// governor is the leaderboard policy's governor (serve.go's parts name
// their matchmaking policy "policy").
type governor = policy.Governor

// newGovernor returns the leaderboard policy's governor over store, with
// the policy file path ("" for the embedded default) put in force as
// policy.Governor.Start says. reg is read when labs' models are looked up,
// after the registry is opened.
func newGovernor(ctx context.Context, store *store.Store, path string, reg **registry.Registry, log *slog.Logger) (*policy.Governor, error) {
	g, err := policy.New(ctx, policy.Config{
		Store: store,
		Parse: configs.ParsePolicy,
		ModelLabs: func() map[string]string {
			if *reg == nil {
				return map[string]string{}
			}
			return modelLabs((*reg).Models(""))
		},
		Releases: storeReleases(store),
		Log:      log,
	})
	if err != nil {
		return nil, err
	}
	text, source := configs.DefaultPolicy, "(embedded default)"
	if path != "" {
		if text, err = os.ReadFile(path); err != nil {
			return nil, usageError{fmt.Sprintf("policy file: %v", err)}
		}
		source = path
	}
	if err := g.Start(ctx, text, source); err != nil {
		return nil, usageError{err.Error()}
	}
	return g, nil
}

// modelLabs maps each model to its lab ("" for the configuration's).
func modelLabs(ms []registry.Model) map[string]string {
	out := make(map[string]string, len(ms))
	for _, m := range ms {
		out[m.Name] = m.Lab
	}
	return out
}

// labelStoreBoard labels lb, fitted from store, by the policy
// recorded there (the embedded default when none is): what
// "agora leaderboard" prints for a live store.
func labelStoreBoard(ctx context.Context, store *store.Store, lb *analytics.Leaderboard) (*analytics.Leaderboard, error) {
	g, err := policy.New(ctx, policy.Config{
		Store: store,
		Parse: configs.ParsePolicy,
		ModelLabs: func() map[string]string {
			ms, err := store.Models(ctx)
			out := map[string]string{}
			if err == nil {
				for _, m := range ms {
					out[m.Name] = m.Lab
				}
			}
			return out
		},
	})
	if err != nil {
		return nil, err
	}
	if err := g.Load(ctx, configs.DefaultPolicy); err != nil {
		return nil, err
	}
	return g.Label(ctx, lb)
}

// labelLive labels lb by the policy of the live store it was read from;
// a board read from a file (store nil) is returned as it is.
func labelLive(ctx context.Context, lb *analytics.Leaderboard, store *store.Store) (*analytics.Leaderboard, error) {
	if store == nil {
		return lb, nil
	}
	return labelStoreBoard(ctx, store, lb)
}

// policyLabel is the table's note on a row: provisional or deprecated.
func policyLabel(r analytics.Row) string {
	switch {
	case r.Deprecated && r.Provisional:
		return "  deprecated, provisional: " + r.ProvisionalReason
	case r.Deprecated:
		return "  deprecated"
	case r.Provisional:
		return "  provisional: " + r.ProvisionalReason
	}
	return ""
}

// labelledBoards labels every leaderboard of lbs by gov's policy in force.
func labelledBoards(lbs httpapi.Leaderboards, gov *policy.Governor) httpapi.Leaderboards {
	return policy.Boards{Inner: lbs, Gov: gov}
}

// storeReleases lists the releases kept in store for the transparency
// report, from their release records (docs/ledger.md): root, votes,
// format, and the scope when the record names it; the licences of their
// votes, as their data cards count them.
func storeReleases(store *store.Store) func(context.Context) ([]policy.Release, error) {
	return func(ctx context.Context) ([]policy.Release, error) {
		rs, err := store.Releases(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]policy.Release, 0, len(rs))
		for _, r := range rs {
			rel := policy.Release{ID: r.Root.String(), Leaf: r.Leaf, Licences: []policy.ReleaseLicence{}}
			var ids []string
			for _, l := range r.Licences {
				rel.Licences = append(rel.Licences, policy.ReleaseLicence{Licence: l.Licence, Votes: l.Votes})
				ids = append(ids, l.Licence)
			}
			rel.Licence = strings.Join(ids, ", ") // unless the record names one
			for l := range strings.Lines(string(r.Record)) {
				key, value, _ := strings.Cut(strings.TrimSpace(l), " ")
				switch key {
				case "votes":
					rel.Votes, _ = strconv.ParseInt(value, 10, 64)
				case "format":
					rel.Format = value
				case "licence", "license":
					rel.Licence = value
				case "scope":
					rel.Scope = value
				}
			}
			out = append(out, rel)
		}
		return out, nil
	}
}
