// Package loadtest drives an Agora server with simulated contributors over
// real websockets and measures what they see: time to the first token, the
// gaps between tokens, and how long votes wait for their acknowledgement.
//
// Work is offered either at a target rate (an open loop: each action has
// the moment it was due, and its latency is measured from then, so a server
// that falls behind is charged for every action it delayed) or as fast as
// the server answers (a closed loop: each contributor acts when its last
// action is done). A run is bounded both by a count and by a time.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one contributor's websocket: frames are JSON text. Close ends a
// Next in progress.
type Conn interface {
	Send(frame []byte) error
	Next() ([]byte, error)
	Close() error
}

// Mode is what the simulated contributors do.
type Mode string

const (
	// ModeBattles: each job is a whole battle: start, stream both answers,
	// maybe a follow-up turn, then a vote or (abandoned) none.
	ModeBattles Mode = "battles"
	// ModeVotes: the contributors first bring their battles to ready (not
	// measured), then each job is one vote: the vote path alone, as the
	// in-process vote benchmarks measure it.
	ModeVotes Mode = "votes"
)

// Config is one load test.
type Config struct {
	// Dial opens a contributor's connection (a fresh contributor each).
	Dial         func(ctx context.Context) (Conn, error)
	Contributors int     // connections, each its own contributor
	Mode         Mode    // default ModeBattles
	Rate         float64 // jobs offered per second; 0 is a closed loop
	Jobs         int     // stop after this many jobs (battles or votes)
	Duration     time.Duration
	// Warmup is how many jobs the run does before it measures: the first
	// Warmup jobs (in the order they are due or, in a closed loop, taken)
	// are not counted in the report's rates, latencies or processor times
	// (caches, the store's pages and the runtime's heap grow there). It
	// must be less than Jobs.
	Warmup   int
	FollowUp float64 // ModeBattles: share of battles with a follow-up turn
	Abandon  float64 // ModeBattles: share of battles left without a vote
	Prompt   string
	Seed     uint64
	// ServerPID, when not zero, is the server's process on this machine:
	// the report gives its processor time per job.
	ServerPID int
	// Progress, if set, is called about every interval with the counts so
	// far, from one goroutine.
	Progress func(Counts)
	Interval time.Duration
}

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	switch {
	case c.Dial == nil:
		return errors.New("loadtest: no Dial")
	case c.Contributors < 1:
		return fmt.Errorf("contributors must be at least 1, got %d", c.Contributors)
	case c.Mode != ModeBattles && c.Mode != ModeVotes:
		return fmt.Errorf("mode must be %q or %q, got %q", ModeBattles, ModeVotes, c.Mode)
	case c.Rate < 0:
		return fmt.Errorf("rate must not be negative, got %g", c.Rate)
	case c.Jobs < 1:
		return fmt.Errorf("the count bound must be at least 1, got %d", c.Jobs)
	case c.Duration <= 0:
		return fmt.Errorf("the time bound must be positive, got %v", c.Duration)
	case c.Warmup < 0 || c.Warmup >= c.Jobs:
		return fmt.Errorf("the warm-up must be at least 0 jobs and fewer than the count bound %d, got %d", c.Jobs, c.Warmup)
	case c.FollowUp < 0 || c.FollowUp > 1 || c.Abandon < 0 || c.Abandon > 1:
		return fmt.Errorf("follow-up and abandon shares must be in [0, 1], got %g and %g", c.FollowUp, c.Abandon)
	case c.Prompt == "":
		return errors.New("the prompt must not be empty")
	}
	return nil
}

// Counts are a run's running totals.
type Counts struct {
	Elapsed   time.Duration
	Jobs      int64 // jobs finished, successfully or not
	Battles   int64 // battles that reached ready
	Votes     int64 // votes acknowledged
	Abandoned int64
	Errors    int64
}

// run is one load test in progress.
type run struct {
	cfg   Config
	start time.Time    // when the first job was due
	jobs  chan job     // open loop of ModeBattles
	taken atomic.Int64 // jobs handed out, closed loop

	done, battles, votes, abandoned, errs atomic.Int64
	mjobs, mvotes                         atomic.Int64 // measured jobs done and votes acknowledged

	window window // the measured time and processor times

	startFrame []byte // built once

	mu      sync.Mutex // guards the fields below
	samples samples
	codes   map[string]int
}

// Run runs the load test and returns its report. It returns early, with
// what it measured, when ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeBattles
	}
	if cfg.Interval == 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	r := &run{cfg: cfg, codes: map[string]int{},
		startFrame: appendQuoted([]byte(`{"type":"start","prompt":`), cfg.Prompt, "}")}
	conns, err := r.dialAll(ctx)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	workers, err := r.prepare(ctx, conns)
	if err != nil {
		return nil, err
	}
	r.start = time.Now()
	r.window.open(r)
	stop := context.AfterFunc(ctx, func() { closeAll(conns) }) // unblocks readers
	defer stop()
	progressDone := r.showProgress(ctx)
	r.work(ctx, workers)
	r.window.close(r)
	cancel()
	<-progressDone
	return r.report(), nil
}

// work runs the jobs: in an open loop of votes, one pacer sends every
// vote when it is due, round robin over the connections, and one reader a
// connection waits for their acknowledgements in order (as the in-process
// benchmark BenchmarkVoteAckAt2k does); otherwise each worker does one job
// at a time, taking the next due time (open loop) or the next job when
// its last is done (closed loop).
func (r *run) work(ctx context.Context, workers []*worker) {
	var wg sync.WaitGroup
	if r.cfg.Mode == ModeVotes && r.cfg.Rate > 0 {
		r.paceVotes(ctx, workers)
		return
	}
	if r.cfg.Rate > 0 {
		r.jobs = make(chan job, min(r.cfg.Jobs, 1<<16))
		wg.Go(func() {
			defer close(r.jobs)
			r.pace(ctx, func(_ int, j job) bool {
				select {
				case r.jobs <- j:
					return true
				case <-ctx.Done():
					return false
				}
			})
		})
	}
	for _, w := range workers {
		wg.Go(func() { w.work(ctx) })
	}
	wg.Wait()
}

// job is one job's due time, and whether it is measured (not warm-up).
type job struct {
	due      time.Time
	measured bool
}

// finished counts job j as done.
func (r *run) finished(j job) {
	r.done.Add(1)
	if j.measured {
		r.mjobs.Add(1)
	}
}

// window is the measured part of a run: from the end of the warm-up to
// the end, with the processor times used in it.
type window struct {
	mu             sync.Mutex
	timer          *time.Timer
	opened, closed time.Time
	cpu0, server0  time.Duration
	cpu, serverCPU time.Duration // this process's and the server's
	cpuErr         error         // why they could not be read, if so
}

// open starts the window when job Warmup is due: at once without a
// warm-up; in an open loop when the schedule says; in a closed loop when
// that job is taken (see next).
func (w *window) open(r *run) {
	switch {
	case r.cfg.Warmup == 0:
		w.openAt(r, r.start)
	case r.cfg.Rate > 0:
		at := r.start.Add(time.Duration(r.cfg.Warmup) * r.interval())
		w.mu.Lock()
		w.timer = time.AfterFunc(time.Until(at), func() { w.openAt(r, at) })
		w.mu.Unlock()
	}
}

// openAt starts the window at, now.
func (w *window) openAt(r *run, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed.IsZero() {
		return // the run ended first
	}
	w.opened = at
	w.cpu0, w.server0, w.cpuErr = r.cpuTimes()
}

// close ends the window; a run that ended within its warm-up measured
// nothing.
func (w *window) close(r *run) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.closed = time.Now()
	if w.opened.IsZero() {
		w.opened = w.closed
		return
	}
	cpu1, server1, err := r.cpuTimes()
	if w.cpuErr == nil {
		w.cpuErr = err
	}
	w.cpu, w.serverCPU = cpu1-w.cpu0, server1-w.server0
}

// cpuTimes returns the processor time used so far by this process and by
// the server when ServerPID names it (else zero), or why they cannot be
// read (a host without /proc, a server it cannot see).
func (r *run) cpuTimes() (self, server time.Duration, err error) {
	self, err = CPUTime(os.Getpid())
	if err == nil && r.cfg.ServerPID != 0 {
		server, err = CPUTime(r.cfg.ServerPID)
	}
	return self, server, err
}

// dialAll opens every contributor's connection.
func (r *run) dialAll(ctx context.Context) ([]Conn, error) {
	conns := make([]Conn, 0, r.cfg.Contributors)
	for range r.cfg.Contributors {
		c, err := r.cfg.Dial(ctx)
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("open contributor %d of %d: %w", len(conns)+1, r.cfg.Contributors, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// prepare makes one worker per connection; in ModeVotes it first brings
// each worker's share of the battles to ready.
func (r *run) prepare(ctx context.Context, conns []Conn) ([]*worker, error) {
	workers := make([]*worker, len(conns))
	for i, c := range conns {
		workers[i] = &worker{r: r, conn: c, rng: rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)))}
	}
	if r.cfg.Mode != ModeVotes {
		return workers, nil
	}
	per := (r.cfg.Jobs + len(conns) - 1) / len(conns)
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Go(func() { errs[i] = w.readyBattles(ctx, per) })
	}
	wg.Wait()
	for _, err := range errs { // the first says it; the others are alike
		if err != nil {
			return nil, fmt.Errorf("prepare battles to vote on: %w", err)
		}
	}
	for _, w := range workers {
		w.s = samples{} // the preparation is not measured
	}
	r.battles.Store(0)
	return workers, nil
}

// pace calls send(j, job) for each job j in turn once it is due, every
// 1/Rate from r.start, kept whether or not earlier jobs are done: the open
// loop's schedule. Like the in-process benchmarks' pacer it wakes once a
// millisecond (on a ticker: see tick.go) and sends every job that has
// come due. It stops after the
// last job, when ctx ends or when send returns false.
func (r *run) pace(ctx context.Context, send func(j int, jb job) bool) {
	tick := newTicker(ctx, time.Millisecond)
	defer tick.stop()
	for j := 0; ; {
		now := time.Now()
		for ; j < r.cfg.Jobs; j++ {
			jb := r.job(j)
			if jb.due.After(now) {
				break
			}
			if !send(j, jb) {
				return
			}
		}
		if j == r.cfg.Jobs {
			return
		}
		if !tick.wait() {
			return
		}
	}
}

// job is job j of an open loop: when it is due, and whether it is
// measured.
func (r *run) job(j int) job {
	return job{r.start.Add(time.Duration(j) * r.interval()), j >= r.cfg.Warmup}
}

// interval is the time between two jobs' due times in an open loop.
func (r *run) interval() time.Duration { return time.Duration(float64(time.Second) / r.cfg.Rate) }

// next returns the worker's next job, false when there are no more.
func (r *run) next(ctx context.Context) (job, bool) {
	if r.jobs == nil {
		n := r.taken.Add(1)
		if n > int64(r.cfg.Jobs) || ctx.Err() != nil {
			return job{}, false
		}
		j := job{time.Now(), n > int64(r.cfg.Warmup)}
		if n == int64(r.cfg.Warmup)+1 && n > 1 {
			r.window.openAt(r, j.due)
		}
		return j, true
	}
	select {
	case j, ok := <-r.jobs:
		return j, ok
	case <-ctx.Done():
		return job{}, false
	}
}

// fail counts an error by its code.
func (r *run) fail(code string) {
	r.errs.Add(1)
	r.mu.Lock()
	r.codes[code]++
	r.mu.Unlock()
}

func (r *run) counts() Counts {
	return Counts{Elapsed: time.Since(r.start), Jobs: r.done.Load(), Battles: r.battles.Load(),
		Votes: r.votes.Load(), Abandoned: r.abandoned.Load(), Errors: r.errs.Load()}
}

// showProgress calls cfg.Progress every interval until ctx ends; the
// channel it returns is closed after the last call.
func (r *run) showProgress(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if r.cfg.Progress == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(r.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.cfg.Progress(r.counts())
			case <-ctx.Done():
				return
			}
		}
	}()
	return done
}

// frame is the part of a server frame the contributors read.
type frame struct {
	Type     string `json:"type"`
	BattleID string `json:"battle_id"`
	Side     string `json:"side"`
	Code     string `json:"code"`
	Request  string `json:"request"`
	MaxTurns int    `json:"max_turns"`
}
