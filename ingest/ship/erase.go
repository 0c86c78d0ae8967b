package ship

import (
	"context"
	"fmt"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
)

// eraseRequest is one erasure waiting for the shipper's loop.
type eraseRequest struct {
	battles []string
	done    chan error // buffered: the loop never waits for the asker
}

// Erase deletes the rows of the given battles — a contributor's data, just
// deleted from the embedded store — from ClickHouse, and recounts the
// pair_counts blocks that counted their votes, so that the ClickHouse
// leaderboard drops exactly those votes.
//
// It runs in the shipper's own loop, between two batches: no batch is in
// flight then, and a batch read ahead of the erasure (which may hold the
// erased rows) is dropped and read again from the store, which no longer
// has them. So a shipment can never put erased rows back. When ctx ends
// first, Erase returns its error but the erasure stays queued: the loop
// runs it as soon as ClickHouse answers (while this process runs).
func (s *Shipper) Erase(ctx context.Context, battles []string) error {
	if len(battles) == 0 {
		return nil
	}
	req := &eraseRequest{battles: append([]string(nil), battles...), done: make(chan error, 1)}
	s.emu.Lock()
	s.erasures = append(s.erasures, req)
	s.emu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("erase %d battles from clickhouse: not done yet, still queued for when it answers: %w", len(battles), ctx.Err())
	}
}

// erasePending reports whether an erasure waits for the loop.
func (s *Shipper) erasePending() bool {
	s.emu.Lock()
	defer s.emu.Unlock()
	return len(s.erasures) > 0
}

// eraseQueued runs the erasures waiting for the loop. It reports false
// when ctx ended first.
func (l *shipLoop) eraseQueued(ctx context.Context) bool {
	s := l.s
	s.emu.Lock()
	reqs := s.erasures
	s.erasures = nil
	s.emu.Unlock()
	if len(reqs) == 0 {
		return true
	}
	if l.prefetch != nil { // read before the erasure, perhaps with its rows
		<-l.prefetch
		l.prefetch = nil
	}
	var battles []string
	for _, r := range reqs {
		battles = append(battles, r.battles...)
	}
	err := l.erase(ctx, battles)
	for _, r := range reqs {
		r.done <- err
	}
	if err != nil {
		return false
	}
	s.log.Info("erased battles from clickhouse", "battles", len(battles), "requests", len(reqs))
	return true
}

// erase deletes battles from ClickHouse and recounts what counted them,
// each step retried until it succeeds; only the end of ctx stops it.
func (l *shipLoop) erase(ctx context.Context, battles []string) error {
	s := l.s
	var blocks []int64
	var counts []clickhouse.BlockCount
	var counter *clickhouse.BlockCounter
	steps := []struct {
		what string
		fn   func() error
	}{
		{"find the counts of erased votes", func() (err error) {
			blocks, err = s.sink.ErasedBlocks(ctx, l.storeID, battles)
			return err
		}},
		{"erase battles from clickhouse", func() error { return s.sink.Erase(ctx, battles) }},
		{"recount after an erasure", func() (err error) {
			counts, err = s.recount(ctx, blocks, l.cursor)
			return err
		}},
		{"write the recounted pair counts", func() error { return s.sink.Recount(ctx, l.storeID, counts) }},
		{"count the shipped part of the current block", func() (err error) {
			counter, err = s.replay(ctx, l.cursor)
			return err
		}},
	}
	for _, st := range steps {
		if !s.retry(ctx, st.what, st.fn) {
			return fmt.Errorf("erase %d battles from clickhouse: %s: %w", len(battles), st.what, ctx.Err())
		}
	}
	l.counter = counter
	return nil
}

// recount counts again, from the store, the votes of each block up to
// cursor (what ClickHouse has of it).
func (s *Shipper) recount(ctx context.Context, blocks []int64, cursor int64) ([]clickhouse.BlockCount, error) {
	var out []clickhouse.BlockCount
	for _, b := range blocks {
		start := b * clickhouse.CountBlockSize
		end := min(start+clickhouse.CountBlockSize-1, cursor)
		if start > end {
			continue
		}
		counter, err := s.countSeqs(ctx, start, end)
		if err != nil {
			return nil, err
		}
		bc := clickhouse.BlockCount{Block: b}
		if got := counter.Counts(start, end); len(got) == 1 {
			bc = got[0]
		}
		bc.Through = end
		out = append(out, bc)
	}
	return out, nil
}
