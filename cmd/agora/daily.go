package main

import (
	"context"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/trust"
)

// quarantinedDaily counts a model's votes per day on the live leaderboard
// without the quarantined contributors' votes, as quarantinedBoards does
// for the leaderboard itself.
type quarantinedDaily struct {
	live *analytics.Live
	q    *trust.Quarantine
}

func (d quarantinedDaily) VotesPerDay(ctx context.Context, model string, f analytics.Filter) ([]analytics.DayVotes, error) {
	if ex := d.q.Excluded(); len(ex) > 0 {
		f.ExcludeContributors = append(append([]string(nil), f.ExcludeContributors...), ex...)
	}
	return d.live.VotesPerDay(ctx, model, f)
}
