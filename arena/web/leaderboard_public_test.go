package web

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
	p.wait = wait
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p, advance
}

// TestPublicBoardsFitOnlyInTheWorker: requests never fit. The standard
// variants are fitted first, one at a time, on one paced goroutine; many
// requests for a variant share one fit; a variant not fitted yet while
// the worker is busy answers rate_limited; a board older than maxAge is
// served stale when its refit does not come in time, and the refit is
// done once for all who asked.
func TestPublicBoardsFitOnlyInTheWorker(t *testing.T) {
	g := newGatedBoards()
	p, advance := startPublic(t, g, time.Hour)
	ctx := context.Background()
	plain, _ := leaderboardOptions(nil)
	styled := plain
	styled.Style = true

	first := <-g.calls // the default variant, queued at start
	if first.Style || first.Workers != 1 || !first.Matrices {
		t.Fatalf("first fit %+v: want the default variant, one worker, matrices", first)
	}
	var wg sync.WaitGroup
	got := make([]*analytics.Leaderboard, 8)
	for i := range got {
		wg.Go(func() { got[i], _ = p.get(ctx, plain) })
	}
	g.release <- struct{}{} // the default fit ends: every request gets it, waiting or not
	wg.Wait()
	for i, lb := range got {
		if lb == nil || lb.Battles != 1 {
			t.Fatalf("request %d got %+v; want the one fit", i, lb)
		}
	}
	second := <-g.calls // the style variant, queued at start, now fitting
	if !second.Style {
		t.Fatalf("second fit %+v: want style", second)
	}
	// While the worker is busy, a new variant cannot be had at once.
	p.wait = time.Millisecond
	other := plain
	other.Filter.Categories = []string{"coding"}
	_, err := p.get(ctx, other)
	if rlhf.ErrorCode(err) != rlhf.ERateLimited || RetryAfter(err) <= 0 {
		t.Fatalf("a variant never fitted, worker busy: %v; want rate_limited with a retry", err)
	}
	// The default board, fresh, is served without a fit; once older than
	// maxAge it is served stale while its refit waits for the worker.
	if lb, _ := p.get(ctx, plain); lb.Battles != 1 {
		t.Fatalf("fresh board %+v", lb)
	}
	advance(p.maxAge)
	if lb, _ := p.get(ctx, plain); lb == nil || lb.Battles != 1 {
		t.Fatalf("stale board while busy: %+v; want the old fit", lb)
	}
	g.release <- struct{}{} // style
	for range 2 {           // the category variant, then the default's refit, each once
		<-g.calls
		g.release <- struct{}{}
	}
	waitFor(t, p.idle)
	if lb, _ := p.get(ctx, plain); lb.Battles != 4 {
		t.Errorf("after its refit the default board is %+v; want the fourth fit", lb)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.calls) != 0 || g.fits != 4 {
		t.Errorf("%d fits, %d more asked; want 4 in all", g.fits, len(g.calls))
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
