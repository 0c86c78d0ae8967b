package arena

import (
	"context"
	"slices"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// A contributor's pending battles are those without a vote that the arena
// keeps: streaming, or waiting for the vote. Their number and the bytes of
// their prompts and answers are capped (Config.MaxPendingBattles and
// MaxPendingBytes), so that one contributor who starts battles and never
// votes holds a bounded share of memory. Over a cap, the contributor's
// oldest battle that is not streaming is abandoned to make room; a battle
// that cannot make room (all the others stream) is refused.

// pendingSize is the bytes of b's prompts and answers, the measure of
// MaxPendingBytes.
func pendingSize(b *rlhf.Battle) int64 {
	var n int64
	for i := range b.Turns {
		t := &b.Turns[i]
		n += int64(len(t.Prompt) + len(t.A.Content) + len(t.B.Content))
	}
	return n
}

// addPending counts bt among its owner's pending battles, as the newest;
// a.mu must be held.
func (a *Arena) addPending(bt *battle) {
	a.pending[bt.owner] = append(a.pending[bt.owner], bt)
}

// dropPending takes bt out of its owner's pending battles (it was voted
// on, or left); a.mu must be held.
func (a *Arena) dropPending(bt *battle) {
	list := a.pending[bt.owner]
	if i := slices.Index(list, bt); i >= 0 {
		list = slices.Delete(list, i, i+1) // in place: nothing else holds the list
	}
	if len(list) == 0 {
		delete(a.pending, bt.owner)
		return
	}
	a.pending[bt.owner] = list
}

// makeRoom chooses the pending battles of contributor to abandon so that
// one more battle (when adding) and extra more bytes fit within the caps,
// oldest first, never keep nor a streaming one. It takes the chosen
// battles out of the arena and returns them, for abandon; or, when no
// choice makes room, it changes nothing and returns an rlhf.ELimit error.
// a.mu must be held.
func (a *Arena) makeRoom(contributor string, adding bool, extra int64, keep *battle) ([]*battle, error) {
	maxN, maxBytes := a.cfg.MaxPendingBattles, a.cfg.MaxPendingBytes
	list := a.pending[contributor]
	n, bytes := len(list), extra
	if adding {
		n++
	}
	for _, p := range list {
		bytes += p.size
	}
	var victims []*battle
	for _, p := range list {
		if (maxN <= 0 || n <= maxN) && (maxBytes <= 0 || bytes <= maxBytes) {
			break
		}
		if p == keep || p.busy {
			continue
		}
		victims = append(victims, p)
		n--
		bytes -= p.size
	}
	if (maxN > 0 && n > maxN) || (maxBytes > 0 && bytes > maxBytes) {
		return nil, rlhf.Errorf(rlhf.ELimit, "too many unvoted battles are still streaming; vote on or wait for one first")
	}
	for _, v := range victims {
		v.gone = true
		delete(a.battles, v.id)
		a.dropPending(v)
	}
	return victims, nil
}

// abandon marks the battles that makeRoom chose abandoned, in memory and
// in the store. A battle voted on (or continued) in the meantime is left as
// it is: the vote won the race.
func (a *Arena) abandon(ctx context.Context, victims []*battle) {
	if len(victims) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, bt := range victims {
		bt.mu.Lock()
		if bt.vote != nil || bt.streaming {
			bt.mu.Unlock()
			continue
		}
		bt.b.Status, bt.b.UpdatedAt = rlhf.StatusAbandoned, a.cfg.Now()
		snap := bt.b
		snap.Turns = append([]rlhf.Turn(nil), bt.b.Turns...)
		bt.mu.Unlock()
		if err := a.cfg.Store.SaveBattle(ctx, &snap); err != nil {
			a.log.Warn("mark battle abandoned", "battle", snap.ID, "err", err)
		}
	}
	a.log.Debug("pending battles over the cap abandoned", "contributor", victims[0].owner, "count", len(victims))
}
