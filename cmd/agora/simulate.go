package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/agora-rlhf/agora/arena/sim"
)

const simulateUsage = `simulate [flags]

Compares the arena's matchmaking policies on simulated votes. A population
of models gets true ratings (normal, --spread); simulated voters judge each
battle by Bradley–Terry on those ratings, with ties (--ties) and a share of
careless coin-flip votes (--noise). The real matchmaking code (the same
uniform, weighted and active policies as "agora serve") chooses every pair.
For each policy the leaderboard is checked every --check votes: when the
sandwich covariance of the Bradley–Terry fit puts the mean width of the 95%
intervals at or under --target-width rating points, a bootstrap of --rounds
rounds confirms it. The command prints the votes each policy needed, and how
well the leaderboard then ranks the models against the truth (Spearman,
Kendall's τ, the true top k among the fitted top k, rating RMSE).

Two scenarios run by default. "cold": every model starts with no votes.
"join": --new-models of them join an established arena, whose other models
were first paired uniformly until their own leaderboard was at the target
width; votes are counted from the moment the new models join (the
policies learn the earlier votes as "agora serve" does at start).

Everything is seeded (--seed; runs use seed, seed+1, ...): the same flags
print the same numbers. --json prints one JSON document instead of tables.`

func runSimulate(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("simulate", simulateUsage, e)
	cfg := sim.DefaultConfig()
	var policies, scenarios string
	var newModels int
	var jsonOut bool
	fs.IntVar(&cfg.Models, "models", cfg.Models, "number of models")
	fs.StringVar(&policies, "policies", strings.Join(cfg.Policies, ","), "matchmaking policies to compare: uniform, weighted, active")
	fs.StringVar(&scenarios, "scenarios", "cold,join", "scenarios: cold (every model new), join (--new-models join an established arena)")
	fs.IntVar(&newModels, "new-models", -1, "models joining late in the join scenario (default: a quarter of --models)")
	fs.Float64Var(&cfg.TargetWidth, "target-width", cfg.TargetWidth, "target mean width of the 95% intervals, in rating points")
	fs.IntVar(&cfg.MaxVotes, "max-votes", cfg.MaxVotes, "give up on a policy after this many votes")
	fs.IntVar(&cfg.Check, "check", cfg.Check, "votes between checks of the interval width")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "bootstrap rounds that confirm the width")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "independent populations (seeds seed, seed+1, ...), averaged")
	fs.Float64Var(&cfg.Spread, "spread", cfg.Spread, "standard deviation of the true ratings, in rating points")
	fs.Float64Var(&cfg.TieRate, "ties", cfg.TieRate, "tie propensity in [0, 1]: a tie with probability ties·2·min(p, 1−p)")
	fs.Float64Var(&cfg.Noise, "noise", cfg.Noise, "share of careless votes (a coin flip)")
	fs.IntVar(&cfg.TopK, "top", cfg.TopK, "size of the top set whose recovery is reported")
	fs.Float64Var(&cfg.Match.Epsilon, "epsilon", 0, "active: share of uniformly paired battles (default 0.1)")
	fs.IntVar(&cfg.Match.Refresh.Votes, "refresh-votes", 0, "active: recompute the scores every this many votes (default 20)")
	fs.IntVar(&cfg.Match.NewModelVotes, "new-model-votes", cfg.Match.NewModelVotes, "weighted: boost a model until it has this many votes")
	fs.Float64Var(&cfg.Match.NewModelBoost, "new-model-boost", 0, "weighted: the boost, a weight multiplier (default 5)")
	fs.BoolVar(&jsonOut, "json", false, "print one JSON document instead of tables")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("simulate takes no arguments; got %q", fs.Arg(0))}
	}
	cfg.Policies = splitList(policies)
	if newModels < 0 {
		newModels = max(1, cfg.Models/4)
	}
	cfg.Scenarios = nil
	for _, name := range splitList(scenarios) {
		switch name {
		case "cold":
			cfg.Scenarios = append(cfg.Scenarios, sim.Scenario{Name: "cold"})
		case "join":
			cfg.Scenarios = append(cfg.Scenarios, sim.Scenario{Name: "join", NewModels: newModels})
		default:
			return usageError{fmt.Sprintf("unknown scenario %q (want cold or join)", name)}
		}
	}
	if len(cfg.Scenarios) == 0 || len(cfg.Policies) == 0 {
		return usageError{"name at least one scenario and one policy"}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	prog := newProgress(e.stderr)
	cfg.Progress = func(p sim.Progress) {
		prog.update(fmt.Sprintf("%s %s run %d/%d: width %.1f, votes", p.Scenario, p.Policy, p.Run, p.Runs, p.Width), p.Votes, p.MaxVotes)
	}
	rep, err := sim.Run(ctx, cfg)
	prog.done()
	if err != nil {
		return err
	}
	if jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printSimulation(e.stdout, rep)
}

func printSimulation(w io.Writer, rep *sim.Report) error {
	c := rep.Config
	fmt.Fprintf(w, "%d models, true ratings sd %g; voters: ties %g, careless %g%%; target mean %g%% interval width %g points; %d run(s) from seed %d\n",
		c.Models, c.Spread, c.TieRate, 100*c.Noise, 100*c.CI, c.TargetWidth, c.Runs, c.Seed)
	for _, sc := range rep.Scenarios {
		if sc.NewModels == 0 {
			fmt.Fprintf(w, "\n%s: every model starts with no votes\n", sc.Name)
		} else {
			fmt.Fprintf(w, "\n%s: %d new models join %d established ones (votes counted from the join)\n", sc.Name, sc.NewModels, c.Models-sc.NewModels)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "policy\tvotes\t± sd\tvs uniform\treached\twidth\tspearman\tkendall\ttop-%d\trmse\tfewest/pair\tpairs in play\t\n", c.TopK)
		for _, s := range sc.Summary {
			vs := "-"
			if s.Policy != "uniform" && s.VsUniform != 0 {
				vs = fmt.Sprintf("%+.1f%%", -100*s.VsUniform)
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%d/%d\t%.1f\t%.3f\t%.3f\t%.1f\t%.1f\t%.1f\t%.0f\t\n",
				s.Policy, s.Votes, s.VotesSD, vs, s.Reached, s.Runs, s.Width, s.Spearman, s.Kendall, s.TopK, s.RMSE, s.MinPair, s.Effective)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, `
votes: mean over runs until the bootstrap confirmed the target width; vs uniform: change in votes.
width: mean bootstrap interval width then; rmse: rating error against the truth, in points.
fewest/pair: votes of the least-played pair; pairs in play: the choices were as unpredictable
as a uniform draw among this many pairs (exp of the entropy).
`)
	return err
}
