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
	"encoding/json"
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
	FollowUp     float64 // ModeBattles: share of battles with a follow-up turn
	Abandon      float64 // ModeBattles: share of battles left without a vote
	Prompt       string
	Seed         uint64
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
	start time.Time
	jobs  chan time.Time // due times, open loop
	taken atomic.Int64   // jobs handed out, closed loop

	done, battles, votes, abandoned, errs atomic.Int64
	cpu, serverCPU                        time.Duration // processor time during the run: this process's, the server's

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
	r := &run{cfg: cfg, codes: map[string]int{}}
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
	cpu0, server0 := r.cpuTimes()
	stop := context.AfterFunc(ctx, func() { closeAll(conns) }) // unblocks readers
	defer stop()
	var wg sync.WaitGroup
	if cfg.Rate > 0 {
		r.jobs = make(chan time.Time, min(cfg.Jobs, 1<<16))
		wg.Go(func() { r.offer(ctx) })
	}
	for _, w := range workers {
		wg.Go(func() { w.work(ctx) })
	}
	progressDone := r.showProgress(ctx)
	wg.Wait()
	cpu1, server1 := r.cpuTimes()
	r.cpu, r.serverCPU = cpu1-cpu0, server1-server0
	cancel()
	<-progressDone
	return r.report(), nil
}

// cpuTimes returns the processor time used so far by this process and by
// the server when ServerPID names it (else zero).
func (r *run) cpuTimes() (self, server time.Duration) {
	self, _ = CPUTime(os.Getpid())
	if r.cfg.ServerPID != 0 {
		server, _ = CPUTime(r.cfg.ServerPID)
	}
	return self, server
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

// offer puts a due time on r.jobs every 1/Rate, from r.start: the open
// loop's schedule, kept whether or not the workers keep up.
func (r *run) offer(ctx context.Context) {
	defer close(r.jobs)
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	for j := range r.cfg.Jobs {
		due := r.start.Add(time.Duration(j) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return
			}
		}
		select {
		case r.jobs <- due:
		case <-ctx.Done():
			return
		}
	}
}

// next returns the due time of the worker's next job, false when there
// are no more.
func (r *run) next(ctx context.Context) (time.Time, bool) {
	if r.jobs == nil {
		if r.taken.Add(1) > int64(r.cfg.Jobs) || ctx.Err() != nil {
			return time.Time{}, false
		}
		return time.Now(), true
	}
	select {
	case due, ok := <-r.jobs:
		return due, ok
	case <-ctx.Done():
		return time.Time{}, false
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

func message(v map[string]string) []byte {
	data, _ := json.Marshal(v)
	return data
}
