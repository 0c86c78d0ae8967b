package analytics

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// memSummaries is a hand-written SummarySource over records, seq = index+1.
type memSummaries []rlhf.Record

func (s memSummaries) Summaries(ctx context.Context, after, upTo int64, fn func(*rlhf.Summary) error) error {
	for i := range s {
		seq := int64(i + 1)
		if seq <= after || upTo >= 0 && seq > upTo {
			continue
		}
		sum := s[i].Summary()
		sum.Seq = seq
		if err := fn(&sum); err != nil {
			return err
		}
	}
	return nil
}

// TestLiveLoadEqualsRecords checks that a live leaderboard loaded from
// summaries, with votes added while it loads, gives the leaderboard a
// live one loaded from the full records gives, style control included,
// and that a leaderboard asked for during the load waits for it.
func TestLiveLoadEqualsRecords(t *testing.T) {
	s, _ := NewSynth(SynthConfig{Models: 6, Battles: 1500, Seed: 3, TieRate: 0.3})
	var recs []rlhf.Record
	s.Generate(func(b *Battle) error {
		r := record(len(recs), b.ModelA, b.ModelB, b.Winner, b.Time)
		r.Battle.Turns[0].A.Content = "# Head\n- item"
		switch len(recs) % 50 {
		case 7:
			r.Battle.Turns[0].B.ErrorCode = rlhf.EUpstream
		case 9:
			r.Battle.IdentityLeak = "named"
		}
		recs = append(recs, r)
		return nil
	})
	ctx := context.Background()
	want, err := NewLive(ctx, memSource(recs))
	if err != nil {
		t.Fatal(err)
	}
	live := NewLiveLoading()
	for _, r := range recs[1200:] { // committed after the load's last seq
		if err := live.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	early, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := live.Leaderboard(early, DefaultOptions()); err == nil {
		t.Fatal("Leaderboard answered before the load")
	}
	observed := 0
	if err := live.Load(ctx, memSummaries(recs), 1200, func(*rlhf.Summary) { observed++ }); err != nil {
		t.Fatal(err)
	}
	if observed != 1200 || live.Len() != want.Len() {
		t.Fatalf("observed %d summaries, %d battles held; want 1200 and %d", observed, live.Len(), want.Len())
	}
	for _, style := range []bool{false, true} {
		opt := DefaultOptions()
		opt.Rounds, opt.Style = 50, style
		got, err := live.Leaderboard(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := want.Leaderboard(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("style=%v: loaded from summaries %+v,\nwant %+v", style, got.Models, exp.Models)
		}
	}
}
