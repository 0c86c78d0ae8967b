package arena

import (
	"context"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// streamTurn streams both sides' answers to turn of bt, sending frames to
// sink, then stores the battle. It runs in its own goroutine.
func (a *Arena) streamTurn(ctx context.Context, bt *battle, turn int, sink Sink) {
	defer a.wg.Done()
	bt.mu.Lock()
	id := bt.b.ID
	sides := [2]struct {
		side  rlhf.Side
		model Model
		msgs  []rlhf.Message
		ans   rlhf.Answer
	}{
		{side: rlhf.SideA, model: bt.models[0], msgs: conversation(&bt.b, rlhf.SideA)},
		{side: rlhf.SideB, model: bt.models[1], msgs: conversation(&bt.b, rlhf.SideB)},
	}
	bt.mu.Unlock()

	var wg sync.WaitGroup
	for i := range sides {
		s := &sides[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.ans = a.streamSide(ctx, id, turn, s.side, s.model, s.msgs, sink)
		}()
	}
	wg.Wait()

	now := a.cfg.Now()
	left := ctx.Err() != nil
	bt.mu.Lock()
	t := &bt.b.Turns[turn]
	t.A, t.B = sides[0].ans, sides[1].ans
	goldPlain(bt)
	bt.streaming, bt.b.UpdatedAt, bt.doneAt = false, now, now
	bt.b.Status = rlhf.StatusReady
	if left {
		bt.b.Status = rlhf.StatusAbandoned
	}
	snap := bt.b
	snap.Turns = append([]rlhf.Turn(nil), bt.b.Turns...)
	bt.mu.Unlock()

	a.mu.Lock()
	a.streaming[snap.ContributorID]--
	if a.streaming[snap.ContributorID] == 0 {
		delete(a.streaming, snap.ContributorID)
	}
	bt.busy, bt.size = false, pendingSize(&snap)
	var victims []*battle
	if left {
		delete(a.battles, id) // nobody is there to vote
		a.dropPending(bt)
	} else {
		// The answers may have taken the contributor over the bytes cap.
		victims, _ = a.makeRoom(bt.owner, false, 0, bt)
	}
	a.mu.Unlock()

	// The contributor may have left: store the turn whatever ctx says.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := a.cfg.Store.SaveBattle(saveCtx, &snap); err != nil {
		a.log.Error("store battle turn", "battle", id, "turn", turn, "err", err)
	}
	a.abandon(saveCtx, victims)
	if !left {
		sink(Frame{Type: FrameReady, BattleID: id, Turn: intp(turn)})
	}
}

// streamSide streams one side's answer and returns it with its measures.
func (a *Arena) streamSide(ctx context.Context, id string, turn int, side rlhf.Side, m Model, msgs []rlhf.Message, sink Sink) rlhf.Answer {
	var (
		ans     rlhf.Answer
		content []byte
		start   = time.Now()
		first   time.Time
	)
	finish, tokens, err := m.Stream(ctx, msgs, func(text string) {
		if first.IsZero() {
			first = time.Now()
		}
		content = append(content, text...)
		sink(Frame{Type: FrameToken, BattleID: id, Side: side, Text: text})
	})
	ans.Duration = time.Since(start)
	if !first.IsZero() {
		ans.TTFT = first.Sub(start)
	}
	ans.Content, ans.FinishReason, ans.Tokens = string(content), finish, tokens
	if err != nil {
		ans.ErrorCode, ans.Error = rlhf.ErrorCode(err), err.Error()
		if ctx.Err() != nil {
			return ans // the contributor left; there is no one to tell
		}
		a.log.Warn("model stream failed", "battle", id, "turn", turn, "side", side, "err", err)
		f := ErrorFrame("", id, err)
		f.Side, f.Turn = side, intp(turn)
		sink(f)
		return ans
	}
	// The answer's measures wait for the vote (see AnswerStats).
	sink(Frame{Type: FrameDone, BattleID: id, Side: side, Turn: intp(turn), FinishReason: finish})
	return ans
}

// conversation returns the messages to send side s for the battle's last
// turn: every earlier prompt and that side's answer, then the new prompt.
func conversation(b *rlhf.Battle, s rlhf.Side) []rlhf.Message {
	msgs := b.Conversation(s)
	return msgs[:len(msgs)-1] // the last turn has no answer yet
}
