package loadtest

import (
	"context"
	"sync"
	"time"
)

// paceVotes offers the prepared votes in an open loop as the in-process
// benchmark BenchmarkVoteAckAt2k does: vote j is due at start + j/Rate and
// goes out on connection j mod n as soon as the pacer sees it due, whether
// or not the connection's earlier votes are acknowledged; one reader a
// connection reads the acknowledgements, which come back in order. How
// long after its due time each vote went out is the report's SendLag.
//
// A reader knows from the schedule which votes its connection gets and
// when each was due, so it waits only on its socket: the pacer hands it
// nothing, and a vote sent does not wake it before its answer comes.
func (r *run) paceVotes(ctx context.Context, workers []*worker) {
	n := len(workers)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			defer w.flush()
			w.acks(ctx, i, n)
		})
	}
	var lag []time.Duration
	r.pace(ctx, func(j int, jb job) bool {
		w := workers[j%n]
		if j/n >= len(w.ready) {
			r.fail("no_battle_ready")
			return true
		}
		frame := voteFrame(w.ready[j/n])
		if jb.measured {
			lag = append(lag, time.Since(jb.due))
		}
		if err := w.conn.Send(frame); err != nil && ctx.Err() == nil {
			r.fail("connection") // its reader stops at the broken connection
		}
		return true
	})
	r.mu.Lock()
	r.samples.lag = append(r.samples.lag, lag...)
	r.mu.Unlock()
	wg.Wait()
}

// acks waits for the answers to the votes the pacer sends on connection i
// of n (votes i, i+n, i+2n, …, one for each ready battle), in order, each
// measured from its due time. It returns at the last or at a broken
// connection (a run ended early closes them).
func (w *worker) acks(ctx context.Context, i, n int) {
	for j := i; j < w.r.cfg.Jobs && j/n < len(w.ready); j += n {
		jb := w.r.job(j)
		err := w.awaitVoted(jb)
		w.r.finished(jb)
		if err != nil {
			if ctx.Err() == nil {
				w.r.fail("connection")
			}
			return
		}
	}
}
