package analytics

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestPacedSleepsItsShare drives a paced context with a clock the test
// moves: Err sleeps only once the fit has worked a slice, then three
// times its work at a share of a quarter, and reports the parent's end.
func TestPacedSleepsItsShare(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pc := Paced(ctx, 0.25)
	p := pc.Value(pacerKey{}).(*pacer)
	now := time.Unix(0, 0)
	var slept []time.Duration
	p.now = func() time.Time { return now }
	p.sleep = func(d time.Duration) { slept = append(slept, d); now = now.Add(d) }
	p.since = now

	now = now.Add(pacedSlice / 2)
	if err := checkpoint(pc); err != nil || len(slept) != 0 {
		t.Fatalf("after half a slice: err %v, slept %v; want no sleep", err, slept)
	}
	now = now.Add(pacedSlice) // 1.5 slices of work in all
	if err := checkpoint(pc); err != nil || len(slept) != 1 || slept[0] != 3*pacedSlice*3/2 {
		t.Fatalf("after 1.5 slices: err %v, slept %v; want one sleep of %v", err, slept, 3*pacedSlice*3/2)
	}
	now = now.Add(10 * time.Millisecond)
	checkpoint(pc)
	if len(slept) != 2 || slept[1] != 30*time.Millisecond {
		t.Fatalf("after 10ms more: slept %v; want 30ms", slept)
	}
	var work time.Duration = pacedSlice*3/2 + 10*time.Millisecond
	if share := float64(work) / float64(work+p.slept); share != 0.25 {
		t.Errorf("work share %.3f, want 0.25", share)
	}
	cancel()
	if err := checkpoint(pc); err != context.Canceled {
		t.Errorf("after cancel: %v", err)
	}
	if got := Paced(ctx, 1); got != ctx {
		t.Error("a share of 1 paces")
	}
}

// TestPacedFitEqualsUnpaced checks that pacing changes when a fit works,
// not what it computes: the same leaderboard with and without, and the
// paced fit slept.
func TestPacedFitEqualsUnpaced(t *testing.T) {
	s, err := NewSynth(SynthConfig{Models: 6, Battles: 3000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	d := &Dataset{}
	s.Generate(func(b *Battle) error { return d.Add(*b) })
	opt := DefaultOptions()
	opt.Rounds, opt.Workers = 200, 1
	plain, err := Compute(context.Background(), d, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := Paced(context.Background(), 0.5)
	p := ctx.Value(pacerKey{}).(*pacer)
	now := time.Unix(0, 0)
	p.now = func() time.Time { now = now.Add(time.Millisecond); return now } // every checkpoint a millisecond of work
	p.sleep = func(time.Duration) {}
	p.since = now
	slow, err := Compute(ctx, d, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain.Models, slow.Models) {
		t.Errorf("rows %+v unpaced, %+v paced", plain.Models, slow.Models)
	}
	if p.slept < time.Duration(opt.Rounds)*time.Millisecond/2 {
		t.Errorf("the paced fit slept %v over %d rounds; want a sleep every other round at least", p.slept, opt.Rounds)
	}
}
