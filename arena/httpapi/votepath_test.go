package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// synthRecords is a RecordSource of n synthetic voted records with one turn
// each, so that every battle has style features.
type synthRecords struct {
	models, n int
}

func (s synthRecords) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	synth, err := analytics.NewSynth(analytics.SynthConfig{Models: s.models, Battles: s.n, Seed: 9, TieRate: 0.3})
	if err != nil {
		return err
	}
	i := 0
	return synth.Generate(func(b *analytics.Battle) error {
		i++
		r := rlhf.Record{
			Battle: rlhf.Battle{ModelA: b.ModelA, ModelB: b.ModelB, Turns: []rlhf.Turn{{
				A: rlhf.Answer{Content: "answer", Tokens: 20 + i%61}, B: rlhf.Answer{Content: "- an\n- answer", Tokens: 20 + i%37}}}},
			Vote: rlhf.Vote{ContributorID: "u", Winner: b.Winner, CreatedAt: b.Time},
		}
		return fn(&r)
	})
}

// liveFeed returns a live leaderboard over n synthetic battles and the feed
// that passes it committed votes, running until the test ends.
func liveFeed(tb testing.TB, n int) (*analytics.Live, *analytics.Feed, func()) {
	tb.Helper()
	live, err := analytics.NewLive(context.Background(), synthRecords{models: 50, n: n})
	if err != nil {
		tb.Fatal(err)
	}
	feed := analytics.NewFeed(0, func(r *rlhf.Record) {
		if err := live.Add(*r); err != nil {
			tb.Error(err)
		}
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- feed.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-ran; err != nil {
			tb.Error(err)
		}
	}
	return live, feed, stop
}

// TestVoteAckedDuringStyleFit votes while a style-controlled leaderboard
// over a million battles is being fitted, with the fit held in progress
// until the vote is acknowledged: the acknowledgement must not wait for the
// fit. (When the vote path added the vote to the leaderboard under the lock
// the fit held, this test timed out.) The vote reaches the leaderboard
// through the feed, in the next fit.
func TestVoteAckedDuringStyleFit(t *testing.T) {
	const battles = 1_000_000
	live, feed, stop := liveFeed(t, battles)
	s := newSetup(t, options{onVote: feed.Add})
	c := s.dial(t, nil)
	id, _ := c.start("Which is longer?")

	fitting, acked, fitted := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	opt := analytics.DefaultOptions()
	opt.Style = true
	opt.Progress = func(stage string, done, _ int) {
		if stage == "fit" && done == 0 {
			close(fitting)
			select {
			case <-acked:
			case <-time.After(60 * time.Second):
				t.Error("the vote was not acknowledged while the style fit ran")
			}
		}
	}
	go func() {
		lb, err := live.Leaderboard(context.Background(), opt)
		if err == nil && lb.Battles != battles {
			err = fmt.Errorf("fitted %d battles, want the %d held when the fit started", lb.Battles, battles)
		}
		fitted <- err
	}()
	<-fitting
	if f := c.vote(id, "a", nil); f["type"] != "voted" {
		t.Fatalf("vote answered %v, want voted", f)
	}
	select {
	case err := <-fitted:
		t.Fatalf("the fit finished (%v) before the vote was acknowledged", err)
	default:
	}
	close(acked)
	if err := <-fitted; err != nil {
		t.Fatal(err)
	}
	stop() // passes on every queued vote
	if got := live.Len(); got != battles+1 {
		t.Errorf("leaderboard holds %d battles after the vote, want %d", got, battles+1)
	}
}
