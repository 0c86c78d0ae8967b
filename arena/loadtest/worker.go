package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// worker is one simulated contributor on its own connection.
type worker struct {
	r     *run
	conn  Conn
	rng   *rand.Rand
	ready []string // ModeVotes: battles waiting for their vote
	s     samples  // merged into the run's at the end
	turns int      // the server's max_turns, from the first battle frame
}

// work does jobs until there are none or the connection fails.
func (w *worker) work(ctx context.Context) {
	defer w.flush()
	for {
		if w.r.cfg.Mode == ModeVotes && len(w.ready) == 0 {
			return // this worker's share is voted; the others take the rest
		}
		j, ok := w.r.next(ctx)
		if !ok {
			return
		}
		var err error
		if w.r.cfg.Mode == ModeVotes {
			err = w.voteReady(j)
		} else {
			err = w.battle(j)
		}
		w.r.finished(j)
		if err != nil {
			if ctx.Err() == nil {
				w.r.fail("connection")
			}
			return
		}
	}
}

func (w *worker) flush() {
	w.r.mu.Lock()
	w.r.samples.add(&w.s)
	w.r.mu.Unlock()
}

// battle runs one whole battle whose start was due at due. It returns an
// error only when the connection failed; refusals are counted by code.
func (w *worker) battle(j job) error {
	if err := w.conn.Send(w.r.startFrame); err != nil {
		return err
	}
	id, ok, err := w.stream(j)
	if err != nil || !ok {
		return err
	}
	if w.turns > 1 && w.rng.Float64() < w.r.cfg.FollowUp {
		if err := w.conn.Send(messageFrame(id, w.r.cfg.Prompt)); err != nil {
			return err
		}
		if _, ok, err = w.stream(job{time.Now(), j.measured}); err != nil || !ok {
			return err
		}
	}
	if w.rng.Float64() < w.r.cfg.Abandon {
		w.r.abandoned.Add(1)
		return nil
	}
	return w.vote(id, job{time.Now(), j.measured})
}

// stream reads one turn's frames up to ready, recording the time to the
// first token (from due) and the gaps between each side's tokens. ok is
// false when the server refused the request.
func (w *worker) stream(j job) (id string, ok bool, err error) {
	var first bool
	last := map[string]time.Time{}
	for {
		f, err := w.read()
		if err != nil {
			return "", false, err
		}
		now := time.Now()
		switch f.Type {
		case "battle":
			id, w.turns = f.BattleID, f.MaxTurns
		case "token":
			if !first && j.measured {
				w.s.ttft = append(w.s.ttft, now.Sub(j.due))
			}
			first = true
			if t, seen := last[f.Side]; seen && j.measured {
				w.s.gap = append(w.s.gap, now.Sub(t))
			}
			last[f.Side] = now
		case "error":
			w.r.fail(f.Code)
			if f.Side == "" { // the request was refused
				return id, false, nil
			}
		case "ready":
			w.r.battles.Add(1)
			return f.BattleID, true, nil
		}
	}
}

// vote votes on battle id and waits for the acknowledgement, measured from
// j's due time when j is measured.
func (w *worker) vote(id string, j job) error {
	if err := w.conn.Send(voteFrame(id)); err != nil {
		return err
	}
	return w.awaitVoted(j)
}

// awaitVoted reads frames up to a vote's acknowledgement or refusal and
// records the acknowledgement's latency from j's due time when j is
// measured. It returns an error only when the connection failed.
func (w *worker) awaitVoted(j job) error {
	for {
		data, err := w.conn.Next()
		if err != nil {
			return err
		}
		if isVoted(data) {
			if j.measured {
				w.s.ack = append(w.s.ack, time.Since(j.due))
				w.r.mvotes.Add(1)
			}
			w.r.votes.Add(1)
			return nil
		}
		f, err := decode(data)
		if err != nil {
			return err
		}
		if f.Type == "error" {
			w.r.fail(f.Code)
			return nil
		}
	}
}

// voteReady votes on the next prepared battle.
func (w *worker) voteReady(j job) error {
	if len(w.ready) == 0 {
		w.r.fail("no_battle_ready")
		return nil
	}
	id := w.ready[0]
	w.ready = w.ready[1:]
	return w.vote(id, j)
}

// readyBattles starts n battles one after another and keeps them ready for
// their votes.
func (w *worker) readyBattles(ctx context.Context, n int) error {
	for range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := w.conn.Send(w.r.startFrame); err != nil {
			return err
		}
		id, ok, err := w.stream(job{}) // not measured
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("a battle to vote on was refused (see the error counts)")
		}
		w.ready = append(w.ready, id)
	}
	return nil
}

func (w *worker) read() (frame, error) {
	data, err := w.conn.Next()
	if err != nil {
		return frame{}, err
	}
	return decode(data)
}

// decode decodes a server frame.
func decode(data []byte) (frame, error) {
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("server frame %.100q: %w", data, err)
	}
	return f, nil
}
