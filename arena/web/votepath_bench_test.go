package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/analytics"
)

// benchVotesAt offers votes at 500/s over 32 connections, in two phases
// of b.N votes each: quiet, then with load running (load starts it and
// returns its stop). It reports each phase's acknowledgement p50 and p99
// and the ratio of the p99s. The live leaderboard holds 1,000,000 battles
// and takes the votes through its feed, as in agora serve.
func benchVotesAt(b *testing.B, load func(ctx context.Context, s *setup, live *analytics.Live)) {
	const clients, rate = 32, 500
	live, feed, stop := liveFeed(b, 1_000_000)
	defer stop()
	s := newSetup(&testing.T{}, options{tokens: []string{"x"}, maxBattles: 1 << 20, onVote: feed.Add, leaderboards: live})
	defer s.cleanup()
	per := b.N/clients + 1
	conns, ids := readyBattles(b, s, clients, 2*per)
	quiet, loaded := make([][]string, clients), make([][]string, clients)
	for i := range ids {
		quiet[i], loaded[i] = ids[i][:per], ids[i][per:]
	}
	b.ResetTimer()
	q := slices.Concat(paceVotes(b, conns, quiet, rate)...)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { load(ctx, s, live) })
	l := slices.Concat(paceVotes(b, conns, loaded, rate)...)
	cancel()
	wg.Wait()
	b.StopTimer()
	qp, lp := quantiles(q), quantiles(l)
	b.ReportMetric(qp[0], "quiet-p50-ms")
	b.ReportMetric(qp[1], "quiet-p99-ms")
	b.ReportMetric(lp[0], "loaded-p50-ms")
	b.ReportMetric(lp[1], "loaded-p99-ms")
	b.ReportMetric(lp[1]/qp[1], "p99-ratio")
	b.ReportMetric(0, "ns/op")
}

// quantiles returns the p50 and p99 of lat in milliseconds.
func quantiles(lat []time.Duration) [2]float64 {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	return [2]float64{q(0.50), q(0.99)}
}

// BenchmarkVoteAckDuringStyleFit compares vote acknowledgements without
// and with style-controlled leaderboards over 1,000,000 battles being
// fitted back to back (every vote makes the last fit stale).
//
//	go test -run XXX -bench VoteAckDuringStyleFit -benchtime 4000x ./arena/web
func BenchmarkVoteAckDuringStyleFit(b *testing.B) {
	fits := 0
	benchVotesAt(b, func(ctx context.Context, _ *setup, live *analytics.Live) {
		opt := analytics.DefaultOptions()
		opt.Style = true
		for ctx.Err() == nil {
			if _, err := live.Leaderboard(ctx, opt); err != nil && ctx.Err() == nil {
				b.Error(err)
				return
			}
			fits++
		}
	})
	b.ReportMetric(float64(fits), "fits")
}

// BenchmarkVoteAckLeaderboardFlood compares vote acknowledgements without
// and with 4 clients asking the public leaderboard, as fast as they can,
// for random parameters (seeds, rounds, filters, style).
//
//	go test -run XXX -bench VoteAckLeaderboardFlood -benchtime 4000x ./arena/web
func BenchmarkVoteAckLeaderboardFlood(b *testing.B) {
	var mu sync.Mutex
	codes := map[int]int{}
	benchVotesAt(b, func(ctx context.Context, s *setup, _ *analytics.Live) {
		var wg sync.WaitGroup
		for k := range 4 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(k), 1))
				for ctx.Err() == nil {
					code := floodOnce(ctx, s.http.URL, rng)
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	})
	for code, n := range codes {
		b.ReportMetric(float64(n), fmt.Sprintf("http-%d", code))
	}
}

// floodOnce asks for one leaderboard with random parameters and returns
// the status (0 when the request failed).
func floodOnce(ctx context.Context, base string, rng *rand.Rand) int {
	params := []string{
		fmt.Sprint("seed=", rng.Uint64()), fmt.Sprint("rounds=", rng.IntN(10001)),
		fmt.Sprint("style=", rng.IntN(2) == 0), "ties=exclude", "category=x", fmt.Sprint("matrices=", rng.IntN(2) == 0),
	}
	rng.Shuffle(len(params), func(i, j int) { params[i], params[j] = params[j], params[i] })
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/leaderboard?"+strings.Join(params[:1+rng.IntN(3)], "&"), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	var sink [4096]byte
	for {
		if _, err := res.Body.Read(sink[:]); err != nil {
			break
		}
	}
	return res.StatusCode
}

// paceVotes offers every vote of ids at rate votes/s, round robin over the
// connections (ids[i] are conns[i]'s ready battles), from one pacer that
// sends every vote that is due once a millisecond, as BenchmarkVoteAckAt10k
// does. It returns each connection's acknowledgement latencies, measured
// from when the vote was due.
func paceVotes(b *testing.B, conns []*websocket.Conn, ids [][]string, rate int) [][]time.Duration {
	b.Helper()
	clients, perClient := len(conns), len(ids[0])
	total := perClient * clients
	lat := make([][]time.Duration, clients)
	dues := make([]chan time.Time, clients)
	var wg sync.WaitGroup
	for i, conn := range conns {
		dues[i] = make(chan time.Time, perClient)
		wg.Go(func() { // acks come back in order on one connection
			for due := range dues[i] {
				if err := readVoted(conn); err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(due))
			}
		})
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for j := 0; j < total; {
		for now := time.Now(); j < total; j++ {
			due := start.Add(time.Duration(j) * interval)
			if due.After(now) {
				break
			}
			dues[j%clients] <- due
			if err := conns[j%clients].WriteMessage(websocket.TextMessage, voteMsg(ids[j%clients][j/clients])); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(time.Millisecond)
	}
	for _, due := range dues {
		close(due)
	}
	wg.Wait()
	return lat
}
