package analytics

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeCounts is a CountsSource that counts its reads; each read waits for
// release when it is set.
type fakeCounts struct {
	mu      sync.Mutex
	reads   int
	err     error
	started chan struct{} // gets a value as each read starts, if set
	release chan struct{}
}

func (f *fakeCounts) Counts(ctx context.Context, _ Filter) (*Counts, int64, error) {
	f.mu.Lock()
	f.reads++
	err := f.err
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	if err != nil {
		return nil, 0, err
	}
	c := NewCounts([]string{"x", "y"})
	c.Add("x", "y", 3, 1, 1)
	return c, 2, nil
}

func (f *fakeCounts) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func TestCountsBoardKeepsAndRefreshes(t *testing.T) {
	src := &fakeCounts{}
	b := NewCountsBoard(src, time.Minute)
	now := time.Unix(1000, 0)
	b.now = func() time.Time { return now }
	ctx, opt := context.Background(), Options{Rounds: 0}
	lb, err := b.Leaderboard(ctx, opt)
	if err != nil || lb.Uncounted != 2 || lb.Battles != 5 {
		t.Fatalf("Leaderboard = %+v, %v; want 5 battles, 2 uncounted", lb, err)
	}
	b.Leaderboard(ctx, opt)
	if src.count() != 1 {
		t.Errorf("%d reads within the refresh interval, want 1", src.count())
	}
	now = now.Add(time.Minute)
	b.Leaderboard(ctx, opt)
	if src.count() != 2 {
		t.Errorf("%d reads after the refresh interval, want 2", src.count())
	}
	b.Forget()
	b.Leaderboard(ctx, opt)
	if src.count() != 3 {
		t.Errorf("%d reads after Forget, want 3", src.count())
	}
	if _, err := b.Leaderboard(ctx, Options{Style: true}); err == nil {
		t.Errorf("a style board from counts: no error")
	}
}

func TestCountsBoardDoesNotKeepErrors(t *testing.T) {
	src := &fakeCounts{err: errors.New("down")}
	b := NewCountsBoard(src, time.Hour)
	for range 2 {
		if _, err := b.Leaderboard(context.Background(), Options{}); err == nil {
			t.Fatal("no error from a failing source")
		}
	}
	if src.count() != 2 {
		t.Errorf("%d reads after two failures, want 2 (a failure is not kept)", src.count())
	}
}

// TestCountsBoardLeaderCancelled cancels the request that reads for
// others: a request still waiting reads again rather than fail.
func TestCountsBoardLeaderCancelled(t *testing.T) {
	src := &fakeCounts{started: make(chan struct{}, 2), release: make(chan struct{})}
	b := NewCountsBoard(src, time.Hour)
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error)
	go func() {
		_, err := b.Leaderboard(leaderCtx, Options{})
		leaderDone <- err
	}()
	<-src.started
	followerDone := make(chan error)
	go func() {
		_, err := b.Leaderboard(context.Background(), Options{})
		followerDone <- err
	}()
	for {
		b.mu.Lock()
		waiting := len(b.boards) == 1
		b.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: %v, want context.Canceled", err)
	}
	<-src.started // the follower's own read
	close(src.release)
	if err := <-followerDone; err != nil {
		t.Errorf("follower: %v, want its own board", err)
	}
}

// TestCountsBoardDropsExpired keeps only the boards younger than the
// refresh interval once another is asked for.
func TestCountsBoardDropsExpired(t *testing.T) {
	b := NewCountsBoard(&fakeCounts{}, time.Minute)
	now := time.Unix(1000, 0)
	b.now = func() time.Time { return now }
	ctx := context.Background()
	for seed := range uint64(5) {
		if _, err := b.Leaderboard(ctx, Options{Seed: seed + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.boards) != 5 {
		t.Fatalf("%d boards kept within the refresh interval, want 5", len(b.boards))
	}
	now = now.Add(time.Minute)
	if _, err := b.Leaderboard(ctx, Options{Seed: 9}); err != nil {
		t.Fatal(err)
	}
	if len(b.boards) != 1 {
		t.Errorf("%d boards kept after the refresh interval, want 1 (the new one)", len(b.boards))
	}
}
