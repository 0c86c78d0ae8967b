package arena

import (
	"context"

	"github.com/agora-rlhf/agora/rlhf"
)

// Receipts gives the verifiable log's receipt of a committed vote.
type Receipts interface {
	Receipt(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) (*rlhf.Receipt, error)
}

// Points gives the points a committed vote v on battle b earns.
type Points interface {
	VotePoints(b *rlhf.Battle, v *rlhf.Vote) int
}

// seal adds to the answer to a committed vote what the server gives for
// it: the log's receipt and the vote's points.
func (a *Arena) seal(ctx context.Context, res *VoteResult, b *rlhf.Battle, v *rlhf.Vote) {
	res.Receipt = a.receipt(ctx, b, v)
	if a.cfg.Points != nil {
		p := a.cfg.Points.VotePoints(b, v)
		res.Points = &p
	}
}

// receipt returns the log's receipt of v, or nil when there is no log or
// it cannot give one now: the vote is committed, with its leaf, either
// way, and its proof can be asked for later by its id.
func (a *Arena) receipt(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) *rlhf.Receipt {
	if a.cfg.Receipts == nil {
		return nil
	}
	r, err := a.cfg.Receipts.Receipt(context.WithoutCancel(ctx), b, v)
	if err != nil {
		a.log.Warn("no receipt for a committed vote", "vote", v.ID, "err", err)
		return nil
	}
	return r
}
