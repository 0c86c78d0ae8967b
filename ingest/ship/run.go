package ship

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/rlhf"
)

// Run ships until ctx ends and then returns nil. It never gives up on a
// failing store or ClickHouse: it retries with backoff and reports the
// failures in Status and the log. Run must not be called twice at once.
func (s *Shipper) Run(ctx context.Context) error {
	storeID, cursor, ok := s.loadCursor(ctx)
	if !ok {
		return nil
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.watch(ctx) })
	s.log.Info("clickhouse shipper starting", "store_id", storeID, "cursor", cursor, "last_seq", s.lastSeq.Load())
	counter, ok := s.prepare(ctx, cursor)
	if !ok {
		return nil
	}
	// The first batch after a start may have landed before a crash kept the
	// cursor from moving.
	l := &shipLoop{s: s, storeID: storeID, cursor: cursor, counter: counter, maybeLanded: true}
	defer l.stop()
	for l.step(ctx) {
	}
	return nil
}

// loadCursor reads where shipping stopped and notes it in the status.
// ok is false when ctx ended first.
func (s *Shipper) loadCursor(ctx context.Context) (storeID string, cursor int64, ok bool) {
	if !s.retry(ctx, "read ship cursor", func() error {
		var err error
		storeID, cursor, err = s.src.ShipCursor(ctx, s.opt.Name)
		return err
	}) {
		return "", 0, false
	}
	s.cursor.Store(cursor)
	s.raiseLastSeq(cursor, s.opt.Now())
	s.mu.Lock()
	s.st.StoreID = storeID
	s.mu.Unlock()
	s.pollLastSeq(ctx)
	return storeID, cursor, true
}

// prepare brings ClickHouse's schema up to date and counts the shipped
// part of the current block. ok is false when ctx ended first.
func (s *Shipper) prepare(ctx context.Context, cursor int64) (*clickhouse.BlockCounter, bool) {
	if !s.retry(ctx, "migrate clickhouse schema", func() error { return s.sink.Migrate(ctx) }) {
		return nil, false
	}
	var counter *clickhouse.BlockCounter
	if !s.retry(ctx, "count the shipped part of the current block", func() error {
		var err error
		counter, err = s.replay(ctx, cursor)
		return err
	}) {
		return nil, false
	}
	return counter, true
}

// shipLoop is Run's state between batches.
type shipLoop struct {
	s           *Shipper
	storeID     string
	cursor      int64
	counter     *clickhouse.BlockCounter
	maybeLanded bool // the next batch may have landed already
	lastFlush   time.Time
	prefetch    chan readResult // the next batch, being read while one ships
}

// stop waits for a batch being read.
func (l *shipLoop) stop() {
	if l.prefetch != nil {
		<-l.prefetch
	}
}

// step reads and ships one batch, and reports whether to go on.
func (l *shipLoop) step(ctx context.Context) bool {
	s := l.s
	if !l.eraseQueued(ctx) {
		return false
	}
	rr, ok := l.next(ctx)
	if !ok {
		return false
	}
	if rr.err != nil {
		if ctx.Err() != nil {
			return false
		}
		s.noteError(rr.err)
		s.log.Warn("read votes to ship", "err", rr.err)
		return s.sleep(ctx, s.opt.MinBackoff)
	}
	l.lastFlush = s.opt.Now()
	if rr.through <= l.cursor {
		return true
	}
	if len(rr.batch.Records) > 0 {
		if t := rr.batch.Records[0].Record.Vote.CreatedAt; !t.IsZero() {
			s.pendingSince.Store(t.UnixNano())
		}
	}
	if len(rr.batch.Records) == s.opt.BatchSize {
		// More is probably waiting: read it while this batch ships.
		// The counter is not touched by anything else until it is back.
		ch, after := make(chan readResult, 1), rr.through
		l.prefetch = ch
		go func() { ch <- s.read(ctx, l.storeID, after, l.counter) }()
	}
	if len(rr.batch.Records) > 0 {
		rr.batch.MaybeLanded = l.maybeLanded
		if !s.ship(ctx, rr.batch) {
			return false
		}
	}
	return l.advance(ctx, rr.through)
}

// next returns the batch read ahead, or waits for work and reads one.
// ok is false when ctx ended first.
func (l *shipLoop) next(ctx context.Context) (rr readResult, ok bool) {
	if l.prefetch != nil {
		rr = <-l.prefetch
		l.prefetch = nil
		l.counter.Forget(clickhouse.BlockOf(l.cursor + 1)) // safe: the reader is done
		return rr, true
	}
	if !l.s.waitForWork(ctx, l.lastFlush) {
		return readResult{}, false
	}
	return l.s.read(ctx, l.storeID, l.cursor, l.counter), true
}

// advance moves the cursor past a shipped batch and saves it.
func (l *shipLoop) advance(ctx context.Context, through int64) bool {
	s := l.s
	l.cursor = through
	s.cursor.Store(l.cursor)
	l.maybeLanded = false
	if err := s.src.SaveShipCursor(ctx, s.opt.Name, l.cursor); err != nil {
		if ctx.Err() != nil {
			return false
		}
		// ClickHouse has the rows; only a restart would ship them again,
		// and the next batch will look before it writes.
		s.noteError(err)
		s.log.Error("save ship cursor", "cursor", l.cursor, "err", err)
		l.maybeLanded = true
	}
	if l.prefetch == nil {
		l.counter.Forget(clickhouse.BlockOf(l.cursor + 1))
	}
	if s.backlog() == 0 {
		s.pendingSince.Store(0)
	}
	return true
}

// readResult is a batch read from the store, or why it could not be.
type readResult struct {
	batch   *clickhouse.Batch
	through int64
	err     error
}

// replay counts the votes of the current block that were shipped before
// cursor, so that the block's pair counts stay complete.
func (s *Shipper) replay(ctx context.Context, cursor int64) (*clickhouse.BlockCounter, error) {
	return s.countSeqs(ctx, clickhouse.BlockOf(cursor+1)*clickhouse.CountBlockSize, cursor)
}

// countSeqs counts the valid records with sequence numbers from first to
// last, both included, read from the store.
func (s *Shipper) countSeqs(ctx context.Context, first, last int64) (*clickhouse.BlockCounter, error) {
	counter := clickhouse.NewBlockCounter()
	if first > last {
		return counter, nil
	}
	errDone := errors.New("done")
	err := s.src.RecordsAfter(ctx, first-1, int(last-first+1), func(seq int64, r *rlhf.Record) error {
		if seq > last {
			return errDone
		}
		if clickhouse.ValidateRecord(clickhouse.SeqRecord{Seq: seq, Record: r}) == nil {
			counter.Add(seq, r)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return nil, err
	}
	return counter, nil
}

// waitForWork waits until a full batch is waiting, or a partial one has
// waited a flush interval. It reports false when ctx ended.
func (s *Shipper) waitForWork(ctx context.Context, lastFlush time.Time) bool {
	for {
		backlog := s.backlog()
		next := lastFlush.Add(s.opt.FlushInterval)
		now := s.opt.Now()
		if backlog >= int64(s.opt.BatchSize) || backlog > 0 && !now.Before(next) || s.erasePending() {
			return true
		}
		wait := s.opt.PollInterval
		if backlog > 0 {
			wait = min(next.Sub(now), wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// watch keeps lastSeq current, whatever Run is busy with, so that Admit
// sees the backlog grow while ClickHouse is away. It polls the store every
// PollInterval and after Notify, and wakes Run when a full batch waits.
func (s *Shipper) watch(ctx context.Context) {
	const minGap = 5 * time.Millisecond
	t := time.NewTicker(s.opt.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.nudge:
		case <-t.C:
		}
		s.pollLastSeq(ctx)
		if s.backlog() >= int64(s.opt.BatchSize) {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
		if !s.sleep(ctx, minGap) {
			return
		}
	}
}

func (s *Shipper) pollLastSeq(ctx context.Context) {
	seq, err := s.src.LastSeq(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.noteError(err)
			s.log.Warn("read last vote seq", "err", err)
		}
		return
	}
	s.raiseLastSeq(seq, s.opt.Now())
}

// read reads the next batch after cursor and counts it into counter. It
// returns the batch and the sequence number the cursor may move to once it
// is shipped: past invalid records too, and past gaps left by aborted
// writes when the read reached the end.
func (s *Shipper) read(ctx context.Context, storeID string, cursor int64, counter *clickhouse.BlockCounter) readResult {
	known := s.lastSeq.Load() // committed, so visible to the read below
	b := &clickhouse.Batch{StoreID: storeID}
	through := cursor
	n := 0
	err := s.src.RecordsAfter(ctx, cursor, s.opt.BatchSize, func(seq int64, r *rlhf.Record) error {
		n++
		through = seq
		sr := clickhouse.SeqRecord{Seq: seq, Record: copyRecord(r)}
		if err := clickhouse.ValidateRecord(sr); err != nil {
			s.mu.Lock()
			s.st.Invalid++
			s.mu.Unlock()
			s.noteError(err)
			s.log.Error("vote cannot be shipped to clickhouse; skipped", "seq", seq, "vote", r.Vote.ID, "err", err)
			return nil
		}
		b.Records = append(b.Records, sr)
		return nil
	})
	if err != nil {
		return readResult{err: err}
	}
	if n < s.opt.BatchSize {
		through = max(through, known)
	}
	for _, sr := range b.Records {
		counter.Add(sr.Seq, sr.Record)
	}
	if len(b.Records) > 0 {
		b.Counts = counter.Counts(b.Records[0].Seq, b.Records[len(b.Records)-1].Seq)
	}
	return readResult{batch: b, through: through}
}

// copyRecord returns a copy of r that shares nothing with it.
func copyRecord(r *rlhf.Record) *rlhf.Record {
	c := *r
	c.Battle.Turns = append([]rlhf.Turn(nil), r.Battle.Turns...)
	return &c
}

// ship inserts b until ClickHouse acknowledges it. It reports false when ctx
// ended first.
func (s *Shipper) ship(ctx context.Context, b *clickhouse.Batch) bool {
	start := s.opt.Now()
	for attempt := 1; ; attempt++ {
		b.Attempt = attempt
		b.MaybeLanded = b.MaybeLanded || attempt > 1
		res, err := s.sink.Insert(ctx, b)
		if err == nil {
			s.shipped(b, res, attempt, start)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.noteError(err)
		d := s.backoff(attempt)
		s.log.Warn("ship votes to clickhouse", "first", b.Records[0].Seq, "votes", len(b.Records),
			"attempt", attempt, "retry_in", d.Round(time.Millisecond), "backlog", s.backlog(), "err", err)
		if !s.sleep(ctx, d) {
			return false
		}
	}
}

func (s *Shipper) shipped(b *clickhouse.Batch, res clickhouse.InsertResult, attempts int, start time.Time) {
	now := s.opt.Now()
	first, last := b.Records[0], b.Records[len(b.Records)-1]
	sh := Shipment{
		First: first.Seq, Last: last.Seq, Votes: len(b.Records), Attempts: attempts, At: now,
		Oldest: first.Record.Vote.CreatedAt, Newest: last.Record.Vote.CreatedAt,
	}
	s.mu.Lock()
	s.st.ShippedVotes += int64(res.Votes)
	s.st.ShippedBattles += int64(res.Battles)
	s.st.ShippedTurns += int64(res.Turns)
	s.st.Present += int64(res.Present)
	s.st.Batches++
	s.st.LastShipAt = now
	s.mu.Unlock()
	if attempts > 1 {
		s.log.Info("clickhouse shipping recovered", "attempts", attempts, "after", now.Sub(start).Round(time.Millisecond),
			"votes", len(b.Records), "already_present", res.Present)
	} else {
		s.log.Debug("shipped to clickhouse", "first", sh.First, "last", sh.Last, "votes", res.Votes,
			"took", now.Sub(start).Round(time.Millisecond))
	}
	if s.opt.Shipped != nil {
		s.opt.Shipped(sh)
	}
}

// retry runs fn until it succeeds, with backoff. It reports false when ctx
// ended first.
func (s *Shipper) retry(ctx context.Context, what string, fn func() error) bool {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.noteError(err)
		d := s.backoff(attempt)
		s.log.Warn(what, "attempt", attempt, "retry_in", d.Round(time.Millisecond), "err", err)
		if !s.sleep(ctx, d) {
			return false
		}
	}
}

// backoff returns the delay before retry number attempt: doubling from
// MinBackoff up to MaxBackoff, with a quarter of jitter either way.
func (s *Shipper) backoff(attempt int) time.Duration {
	d := s.opt.MinBackoff
	for i := 1; i < attempt && d < s.opt.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opt.MaxBackoff)
	return d - d/4 + rand.N(d/2+1)
}

func (s *Shipper) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
