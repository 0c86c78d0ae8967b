package loadtest

import (
	"context"
	"sync"
)

// paceVotes offers the prepared votes in an open loop as the in-process
// benchmark BenchmarkVoteAckAt2k does: vote j is due at start + j/Rate and
// goes out on connection j mod n as soon as the pacer sees it due, whether
// or not the connection's earlier votes are acknowledged; one reader a
// connection reads the acknowledgements, which come back in order.
func (r *run) paceVotes(ctx context.Context, workers []*worker) {
	n := len(workers)
	dues := make([]chan job, n)
	var wg sync.WaitGroup
	for i, w := range workers {
		dues[i] = make(chan job, len(w.ready)) // never blocks the pacer
		wg.Go(func() {
			defer w.flush()
			w.acks(ctx, dues[i])
		})
	}
	r.pace(ctx, func(j int, jb job) bool {
		w := workers[j%n]
		if j/n >= len(w.ready) {
			r.fail("no_battle_ready")
			return true
		}
		dues[j%n] <- jb
		if err := w.conn.Send(voteFrame(w.ready[j/n])); err != nil && ctx.Err() == nil {
			r.fail("connection") // its reader stops at the broken connection
		}
		return true
	})
	for _, d := range dues {
		close(d)
	}
	wg.Wait()
}

// acks waits for the acknowledgement of each vote sent on the worker's
// connection, in order, measured from its due time.
func (w *worker) acks(ctx context.Context, dues <-chan job) {
	for j := range dues {
		err := w.awaitVoted(j)
		w.r.finished(j)
		if err != nil {
			if ctx.Err() == nil {
				w.r.fail("connection")
			}
			return
		}
	}
}
