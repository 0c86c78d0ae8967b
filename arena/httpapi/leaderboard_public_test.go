package httpapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// gatedBoards is a Leaderboards whose fits wait for the test: each call
// is announced on calls and returns when the test sends on release.
type gatedBoards struct {
	calls   chan analytics.Options
	release chan struct{}
	mu      sync.Mutex
	fits    int
}

func newGatedBoards() *gatedBoards {
	return &gatedBoards{calls: make(chan analytics.Options, 64), release: make(chan struct{})}
}

func (g *gatedBoards) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	g.calls <- opt
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fits++
	method := "bradley-terry"
	if opt.Style {
		method = "bradley-terry-style-control"
	}
	return &analytics.Leaderboard{Method: method, Battles: int64(g.fits)}, nil
}

// startPublic runs the published boards of lbs with a clock the test sets
// and a wait the test chooses, until the test ends.
func startPublic(t *testing.T, lbs Leaderboards, wait time.Duration) (p *publicBoards, advance func(time.Duration)) {
	t.Helper()
	p = newPublicBoards(lbs)
	now := time.Unix(1e9, 0)
	var mu sync.Mutex
	p.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance = func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	p.wait, p.tick = wait, time.Hour // the test calls schedule
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p, advance
}

// TestPublicBoardsFitOnlyInTheWorker: requests never fit, and do not set
// the pace of the refits. The standard variants are fitted first, one at
// a time, on one goroutine; the first request for one asks for a refit
// (a fit nobody asked for is no fresher than any), and many requests
// share it; from then on the board is wanted and every request is served
// its last fit at once, however old, while the worker's schedule refits
// it; a variant not fitted yet answers rate_limited once the wait is
// over; a board nobody asked for in keep is refitted again when asked for
// once it is maxAge old, served stale if the refit does not come in time.
func TestPublicBoardsFitOnlyInTheWorker(t *testing.T) {
	g := newGatedBoards()
	p, advance := startPublic(t, g, time.Hour)
	ctx := context.Background()
	plain, _ := leaderboardOptions(nil)
	styled := plain
	styled.Style = true
	for _, style := range []bool{false, true} { // the standard variants, queued at start: fits 1, 2
		if opt := <-g.calls; opt.Style != style || opt.Workers != 1 || !opt.Matrices {
			t.Fatalf("fit %+v: want style %v, one worker, matrices", opt, style)
		}
		g.release <- struct{}{}
	}
	waitFor(t, p.idle)
	// The first requests for the default variant wait for its refit, all
	// for the one fit (3).
	got := make([]*analytics.Leaderboard, 8)
	var wg sync.WaitGroup
	wg.Go(func() { got[0], _ = p.get(ctx, plain) })
	<-g.calls
	for i := 1; i < len(got); i++ {
		wg.Go(func() { got[i], _ = p.get(ctx, plain) })
	}
	g.release <- struct{}{}
	wg.Wait()
	for i, lb := range got {
		if lb == nil || lb.Battles != 3 && (i == 0 || lb.Battles != 1) {
			t.Fatalf("request %d got %+v; want the refit, or the start's fit once the refit was asked for", i, lb)
		}
	}
	// Wanted, it is served at once, however old, and requests queue no
	// refit: the schedule does.
	for range 3 {
		advance(p.maxAge)
		if lb, _ := p.get(ctx, plain); lb == nil || lb.Battles != 3 || !p.idle() {
			t.Fatalf("wanted board, %v later: %+v, worker idle %v; want fit 3 at once, no refit queued", p.maxAge, lb, p.idle())
		}
	}
	p.schedule() // refits the default variant (4), not the style one: nobody asked for it
	<-g.calls
	g.release <- struct{}{}
	waitFor(t, p.idle)
	if lb, _ := p.get(ctx, plain); lb == nil || lb.Battles != 4 {
		t.Fatalf("after the schedule's refit: %+v; want fit 4", lb)
	}

	p.mu.Lock()
	p.wait = time.Millisecond
	p.mu.Unlock()
	other := plain
	other.Filter.Categories = []string{"coding"}
	if _, err := p.get(ctx, other); rlhf.ErrorCode(err) != rlhf.ERateLimited || RetryAfter(err) <= 0 {
		t.Fatalf("a variant never fitted: %v; want rate_limited with a retry", err)
	}
	<-g.calls // the category variant, fitting (5): the worker is busy
	advance(p.keep)
	if lb, _ := p.get(ctx, plain); lb == nil || lb.Battles != 4 {
		t.Fatalf("stale board nobody wanted, worker busy: %+v; want the old fit", lb)
	}
	if lb, _ := p.get(ctx, styled); lb == nil || lb.Battles != 2 {
		t.Fatalf("style board fitted at start, worker busy: %+v; want the start's fit", lb)
	}
	g.release <- struct{}{} // the category variant: fit 5
	for range 2 {           // then the default's and the style's refits: 6, 7
		<-g.calls
		g.release <- struct{}{}
	}
	waitFor(t, p.idle)
	for _, c := range []struct {
		opt  analytics.Options
		want int64
	}{{other, 5}, {plain, 6}, {styled, 7}} {
		if lb, _ := p.get(ctx, c.opt); lb == nil || lb.Battles != c.want {
			t.Errorf("after the refits %+v: %+v; want fit %d", c.opt.Filter, lb, c.want)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.calls) != 0 || g.fits != 7 {
		t.Errorf("%d fits, %d more asked; want 7 in all", g.fits, len(g.calls))
	}
}

// TestPublicBoardsForget: after an erasure no published fit is served;
// the next request waits for a new one.
func TestPublicBoardsForget(t *testing.T) {
	g := newGatedBoards()
	p, _ := startPublic(t, g, time.Hour)
	plain, _ := leaderboardOptions(nil)
	for range 2 {
		<-g.calls
		g.release <- struct{}{}
	}
	waitFor(t, p.idle)
	p.forget()
	res := make(chan *analytics.Leaderboard)
	go func() { lb, _ := p.get(context.Background(), plain); res <- lb }()
	<-g.calls
	g.release <- struct{}{}
	if lb := <-res; lb.Battles != 3 {
		t.Errorf("after forget: %+v; want a new fit", lb)
	}
}

// TestTarpit: a refused request is held for its wait, up to maxTarpit,
// and told the rest; when every slot is taken it is answered at once.
func TestTarpit(t *testing.T) {
	tp := newTarpit()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if left := tp.hold(ctx, 5*time.Second); left <= 0 || left > 5*time.Second {
		t.Errorf("held with a cancelled request: %v left of 5s", left)
	}
	for range tarpitSlots {
		tp <- struct{}{}
	}
	if left := tp.hold(context.Background(), 5*time.Second); left != 5*time.Second {
		t.Errorf("no slot free: %v left, want all 5s (answered at once)", left)
	}
}

// waitFor polls cond until it holds (the test's deadline bounds it).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}
