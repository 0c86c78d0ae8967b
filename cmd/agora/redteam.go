package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/agora-rlhf/agora/arena/redteam"
)

const redteamUsage = `redteam [flags]

Attacks a simulated arena and shows what the defences do. Honest
contributors (Bradley–Terry voters with ties, random clickers, left-always
clickers) and attackers vote through the real matchmaking, identity-leak
guard, anomaly detectors and Bradley–Terry fits. Attacks: target-only (a
classifier of --accuracy names the models; vote for the target, skip other
battles), omnipresent (Min et al. 2025: every vote chosen to lift the target
over the model just above it), sybil (target-only from identities behind one
address) and identity (ask each model who it is, then vote for the target).

For each attack it prints the target's rank and rating without the attack,
with it and defences off (plain Bradley–Terry of every vote), and with the
defaults on (the public leaderboard: identity leaks and quarantined
contributors left out); the honest contributors wrongly quarantined; and
the attacker's cost. Seeded: the same flags print the same numbers.`

func runRedteam(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("redteam", redteamUsage, e)
	cfg := redteam.Defaults()
	var attacks string
	fs.IntVar(&cfg.Models, "models", cfg.Models, "models")
	fs.IntVar(&cfg.HonestVotes, "honest-votes", cfg.HonestVotes, "honest votes")
	fs.IntVar(&cfg.AttackVotes, "attack-votes", cfg.AttackVotes, "attack votes")
	fs.IntVar(&cfg.AttackIDs, "attackers", cfg.AttackIDs, "attacker identities")
	fs.Float64Var(&cfg.Accuracy, "accuracy", cfg.Accuracy, "the attackers' de-anonymising classifier accuracy")
	fs.IntVar(&cfg.TargetRank, "target-rank", cfg.TargetRank, "the target's true rank")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	fs.StringVar(&attacks, "attacks", strings.Join([]string{redteam.Omnipresent, redteam.TargetOnly, redteam.Sybil, redteam.Probing}, ","), "attacks to run (comma-separated)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "attack\trank before\toff\ton\trating moved off\ton\thonest flagged\tclickers flagged\tattackers flagged\tidentities\tvotes\tbattles\tleaked\tCPU\t")
	for _, a := range splitList(attacks) {
		r, err := redteam.Run(ctx, cfg, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%+.1f\t%+.1f\t%d/%d\t%d/%d\t%d/%d\t%d\t%d\t%d\t%d\t%s\t\n",
			r.Attack, r.RankBefore, r.RankOff, r.RankOn, r.RatingOff-r.RatingBefore, r.RatingOn-r.RatingBeforeOn,
			r.HonestFlagged, r.HonestIDs, r.ClickersFlagged, r.ClickersIDs, r.AttackersFlagged, r.AttackIDs,
			r.AttackIDs, r.AttackVotes, r.AttackBattles, r.AttackLeaks, r.AttackCPU.Round(1e6))
	}
	return tw.Flush()
}
