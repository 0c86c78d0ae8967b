package store

import (
	"cmp"
	"context"
	"database/sql"

	"github.com/agora-rlhf/agora/rlhf"
)

// Records and ExportRecords read a battle's turns on a second connection,
// in a goroutine of its own, so that the turns' text is read on one core
// while the votes and battles are read on another; each merges the two
// streams on a key both are sorted by (a battle id, a vote's seq).

// twoSnapshots begins two read transactions on db, the second after the
// first has read. The second's snapshot is then the same or later: it
// holds every turn of every vote the first one sees, and those turns are
// the same in both, because a battle's turns are never written again once
// it has a vote.
func twoSnapshots(ctx context.Context, db *sql.DB) (first, second *sql.Tx, err error) {
	first, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	var n int
	if err := first.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM votes LIMIT 1)").Scan(&n); err != nil {
		first.Rollback()
		return nil, nil, err
	}
	second, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		first.Rollback()
		return nil, nil, err
	}
	return first, second, nil
}

// turnReader reads turns, each with the key it is merged on, on a
// goroutine of its own, and hands them over in batches.
type turnReader[K cmp.Ordered] struct {
	cancel context.CancelFunc
	full   chan *turnBatch[K] // batches read, in order; closed at the end
	free   chan *turnBatch[K] // batches handed back
	done   chan error         // the reading goroutine's error, once it ends
	err    error              // what done said, once next or stop read it
	ended  bool

	cur *turnBatch[K] // the batch next takes turns from
	i   int           // the next turn of cur
}

// turnBatch is a run of turns and their keys.
type turnBatch[K cmp.Ordered] struct {
	keys  []K
	turns []rlhf.Turn
}

// Turns go from the reading goroutine in turnBatches batches of
// turnBatchSize.
const (
	turnBatches   = 4
	turnBatchSize = 256
)

// readTurns starts reading the rows of q in tx, in the order of their
// keys; scan reads one row's key and turn.
func readTurns[K cmp.Ordered](ctx context.Context, tx *sql.Tx, q string, args []any, scan func(*sql.Rows, *K, *rlhf.Turn) error) *turnReader[K] {
	ctx, cancel := context.WithCancel(ctx)
	r := &turnReader[K]{
		cancel: cancel,
		full:   make(chan *turnBatch[K], turnBatches),
		free:   make(chan *turnBatch[K], turnBatches),
		done:   make(chan error, 1),
	}
	for range turnBatches {
		r.free <- &turnBatch[K]{}
	}
	go func() {
		defer close(r.full)
		r.done <- r.read(ctx, tx, q, args, scan)
	}()
	return r
}

func (r *turnReader[K]) read(ctx context.Context, tx *sql.Tx, q string, args []any, scan func(*sql.Rows, *K, *rlhf.Turn) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	b := <-r.free
	for rows.Next() {
		var key K
		var t rlhf.Turn
		if err := scan(rows, &key, &t); err != nil {
			return err
		}
		b.keys, b.turns = append(b.keys, key), append(b.turns, t)
		if len(b.turns) < turnBatchSize {
			continue
		}
		select {
		case r.full <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case b = <-r.free:
			clear(b.keys)
			clear(b.turns)
			b.keys, b.turns = b.keys[:0], b.turns[:0]
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(b.turns) > 0 {
		select {
		case r.full <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// next returns the next turn and its key, or ok false after the last one.
// t is good until the next call.
func (r *turnReader[K]) next() (key K, t *rlhf.Turn, ok bool, err error) {
	for r.cur == nil || r.i == len(r.cur.turns) {
		if r.cur != nil {
			r.free <- r.cur // never blocks: free holds every batch
			r.cur = nil
		}
		b, ok := <-r.full
		if !ok {
			var zero K
			return zero, nil, false, r.wait()
		}
		r.cur, r.i = b, 0
	}
	r.i++
	return r.cur.keys[r.i-1], &r.cur.turns[r.i-1], true, nil
}

// wait waits for the reading goroutine to end and returns its error.
func (r *turnReader[K]) wait() error {
	if !r.ended {
		for range r.full {
		}
		r.err, r.ended = <-r.done, true
	}
	return r.err
}

// stop ends the reading goroutine, if it is still running, and waits for
// it.
func (r *turnReader[K]) stop() {
	r.cancel()
	r.wait()
}
