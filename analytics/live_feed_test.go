package analytics

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// styledLive returns a live leaderboard over n synthetic battles with
// style features.
func styledLive(t testing.TB, n int) (*Live, *Synth) {
	t.Helper()
	s, err := NewSynth(SynthConfig{Models: 20, Battles: n, Seed: 8, TieRate: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Dataset()
	d.style = make([]float32, numStyle*d.Len())
	for i := range d.style {
		d.style[i] = float32(i%17-8) / 9
	}
	d.styled = d.Len()
	return newLiveDataset(d), s
}

// TestLiveAddDuringStyleFit holds a style-controlled fit in progress until
// votes are added: Add must not wait for the fit. (When the fit held the
// leaderboard's lock, Add waited for it and this test timed out.)
func TestLiveAddDuringStyleFit(t *testing.T) {
	live, s := styledLive(t, 20000)
	before := live.Len()
	fitting, added := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(added)
		<-fitting
		at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 10 {
			if err := live.Add(record(i, s.Models[0], s.Models[1+i%3], rlhf.WinnerA, at)); err != nil {
				t.Error(err)
			}
		}
	}()
	opt := DefaultOptions()
	opt.Style = true
	started := false
	opt.Progress = func(stage string, done, _ int) {
		if stage != "fit" || done != 0 {
			return
		}
		started = true
		close(fitting)
		select {
		case <-added:
		case <-time.After(30 * time.Second):
			t.Error("Add waited for the style fit")
		}
	}
	lb, err := live.Leaderboard(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !started {
		t.Fatal("the fit never reported its start")
	}
	<-added
	if lb.Battles != int64(before) || live.Len() != before+10 {
		t.Errorf("fit over %d battles, live holds %d; want the %d held when the fit started, then %d", lb.Battles, live.Len(), before, before+10)
	}
	// The votes added during the fit are in the next one.
	opt.Progress = nil
	if lb, err = live.Leaderboard(context.Background(), opt); err != nil || lb.Battles != int64(before+10) {
		t.Errorf("after the fit: %d battles (%v), want %d", lb.Battles, err, before+10)
	}
}

// TestLiveConcurrentFits adds votes, with new models, while plain,
// filtered and style-controlled boards are fitted concurrently: -race finds
// any read of the battles that is not on a snapshot.
func TestLiveConcurrentFits(t *testing.T) {
	live, s := styledLive(t, 3000)
	ctx := context.Background()
	var wg sync.WaitGroup
	for k := range 3 {
		wg.Go(func() {
			opt := DefaultOptions()
			opt.Rounds = 50
			opt.Style = k == 1
			if k == 2 {
				opt.Filter.Contributors = []string{"u1", "u2"}
			}
			for range 10 {
				if _, err := live.Leaderboard(ctx, opt); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 500 {
		b := s.Models[i%len(s.Models)]
		if i%50 == 0 {
			b = fmt.Sprint("new-model-", i)
		}
		if err := live.Add(record(i, s.Models[(i+1)%len(s.Models)], b, rlhf.WinnerB, at.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	lb, err := live.Leaderboard(ctx, DefaultOptions())
	if err != nil || lb.Battles != 3500 {
		t.Fatalf("final board: %v battles (%v), want 3500", lb, err)
	}
}

// TestFeed checks the feed's queue: votes are applied in order by Run, a
// full queue holds Add back until Run makes room, and the votes still
// queued when Run stops are applied, as are votes added after.
func TestFeed(t *testing.T) {
	var mu sync.Mutex
	var got []string
	gate := make(chan struct{})
	apply := func(r *rlhf.Record) {
		<-gate
		mu.Lock()
		got = append(got, r.Vote.ID)
		mu.Unlock()
	}
	f := NewFeed(2, apply, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error)
	go func() { ran <- f.Run(ctx) }()
	rec := func(i int) *rlhf.Record { return &rlhf.Record{Vote: rlhf.Vote{ID: fmt.Sprint("v", i)}} }
	// Run takes v0 and blocks in apply; v1 and v2 fill the queue.
	f.Add(rec(0))
	for len(f.queue) > 0 {
		time.Sleep(time.Millisecond)
	}
	f.Add(rec(1))
	f.Add(rec(2))
	waited := make(chan struct{})
	go func() { f.Add(rec(3)); close(waited) }()
	for f.Waits() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-waited:
		t.Fatal("Add returned with the queue full")
	default:
	}
	close(gate) // apply runs freely from now on
	<-waited
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	f.Add(rec(4)) // after Run: applied in place
	want := []string{"v0", "v1", "v2", "v3", "v4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("applied %v, want %v", got, want)
	}
	if f.Waits() != 1 {
		t.Errorf("Waits() = %d, want 1", f.Waits())
	}
}

// TestLiveUnfittableKept asks for a fit that cannot be done: the error is
// an rlhf.EInvalid with the reason, and asking again without new votes
// returns it without fitting again.
func TestLiveUnfittableKept(t *testing.T) {
	live, _ := styledLive(t, 2000)
	fits := 0
	opt := DefaultOptions()
	opt.Style, opt.CI = true, 1.5 // no such confidence level: the fit refuses it
	opt.Progress = func(stage string, done, _ int) {
		if stage == "fit" && done == 0 {
			fits++
		}
	}
	for range 3 {
		_, err := live.Leaderboard(context.Background(), opt)
		if rlhf.ErrorCode(err) != rlhf.EInvalid || !strings.Contains(err.Error(), "cannot be fitted") {
			t.Fatalf("Leaderboard = %v, want invalid: cannot be fitted", err)
		}
	}
	if fits != 1 {
		t.Errorf("%d fits for 3 requests without new votes, want 1", fits)
	}
}
