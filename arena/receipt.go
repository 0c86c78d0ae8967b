package arena

import (
	"context"

	"github.com/agora-rlhf/agora/rlhf"
)

// Receipts gives the verifiable log's receipt of a committed vote.
type Receipts interface {
	Receipt(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) (*rlhf.Receipt, error)
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
