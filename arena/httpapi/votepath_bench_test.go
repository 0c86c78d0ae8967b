package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/rlhf"
)

// benchVotesAt offers 2·b.N votes at 500/s over 32 connections while
// quiet and loaded blocks alternate: a loaded block runs load for
// benchBlock (its context then ends), and lasts until settle reports the
// server done with the work load caused (fits it asked for); the quiet
// block after it lasts as long (at least benchBlock), so that each side
// gets about half the votes. Each vote counts in the block it was due in.
// Blocks of a second or two put the shared machine's other work on both
// sides alike, which two long phases do not. It reports each side's
// acknowledgement p50 and p99, the ratio of the p99s and each side's
// share of the votes; and each side's processor use and GC cycles per
// second (phaseMeter), what the load costs the process, which the
// machine's other work changes far less than it changes latencies. The live leaderboard holds 1,000,000 battles and
// takes the votes through its feed, as in agora serve.
func benchVotesAt(b *testing.B, load func(ctx context.Context, s *setup, live *analytics.Live), settle func(s *setup) bool) {
	benchVotesWarm(b, nil, load, settle)
}

// benchVotesWarm is benchVotesAt calling warm, when not nil, before the
// blocks start, and waiting for the published leaderboards' worker to
// be idle after it.
func benchVotesWarm(b *testing.B, warm func(s *setup), load func(ctx context.Context, s *setup, live *analytics.Live), settle func(s *setup) bool) {
	const clients, rate = 32, 500
	live, feed, stop := liveFeed(b, 1_000_000)
	defer stop()
	s := newSetup(&testing.T{}, options{tokens: []string{"x"}, maxBattles: 1 << 20, onVote: feed.Add, leaderboards: live})
	defer s.cleanup()
	conns, ids := readyBattles(b, s, clients, 2*(b.N/clients+1))
	if warm != nil {
		warm(s)
	}
	for !httpapi.LeaderboardsIdle(s.server) { // the standard variants' first fits, and warm's
		time.Sleep(10 * time.Millisecond)
	}
	var loaded atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.ResetTimer()
	meter := phaseMeter{fits: func() int { return httpapi.LeaderboardFits(s.server) }}
	meter.mark(0)
	wg.Go(func() {
		for quiet := benchBlock; sleepCtx(ctx, quiet); {
			start := time.Now()
			meter.mark(1)
			loaded.Store(true)
			lctx, lcancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { load(lctx, s, live); close(done) }()
			sleepCtx(ctx, benchBlock)
			lcancel()
			<-done
			for ctx.Err() == nil && settle != nil && !settle(s) {
				time.Sleep(10 * time.Millisecond)
			}
			loaded.Store(false)
			meter.mark(0)
			quiet = max(benchBlock, time.Since(start))
		}
	})
	lat, _ := paceVotes(b, conns, ids, rate, func() int {
		if loaded.Load() {
			return 1
		}
		return 0
	})
	cancel()
	wg.Wait()
	meter.mark(-1)
	b.StopTimer()
	qp, lp := quantiles(lat[0]), quantiles(lat[1])
	b.ReportMetric(qp[0], "quiet-p50-ms")
	b.ReportMetric(qp[1], "quiet-p99-ms")
	b.ReportMetric(lp[0], "loaded-p50-ms")
	b.ReportMetric(lp[1], "loaded-p99-ms")
	b.ReportMetric(lp[1]/qp[1], "p99-ratio")
	b.ReportMetric(float64(len(lat[1]))/float64(len(lat[0])+len(lat[1])), "loaded-share")
	meter.report(b)
	b.ReportMetric(0, "ns/op")
}

// phaseMeter sums, for the quiet (0) and loaded (1) blocks, the time, this
// process's processor time and the garbage collector's cycles: what the
// load costs the process, which the machine's other work does not change
// as it changes latencies; and the published leaderboards' fits (fits
// counts them). The processor time is the whole process's: the clients
// (the votes' and the load's) run in it too.
type phaseMeter struct {
	fits   func() int
	phase  int // the phase running since the last mark; -1: none yet
	at     time.Time
	cpu    time.Duration
	cycles uint64
	fitted int
	wall   [2]time.Duration
	used   [2]time.Duration
	gcs    [2]uint64
	refits [2]int
}

// mark ends the phase running and starts phase (-1: none).
func (m *phaseMeter) mark(phase int) {
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(sample)
	now, cpu, cycles, fitted := time.Now(), cpuTime(), sample[0].Value.Uint64(), m.fits()
	if !m.at.IsZero() && m.phase >= 0 {
		m.wall[m.phase] += now.Sub(m.at)
		m.used[m.phase] += cpu - m.cpu
		m.gcs[m.phase] += cycles - m.cycles
		m.refits[m.phase] += fitted - m.fitted
	}
	m.phase, m.at, m.cpu, m.cycles, m.fitted = phase, now, cpu, cycles, fitted
}

// report reports each phase's processor use (in processors), GC cycles
// and published leaderboards' fits per second.
func (m *phaseMeter) report(b *testing.B) {
	for k, name := range []string{"quiet", "loaded"} {
		if secs := m.wall[k].Seconds(); secs > 0 {
			b.ReportMetric(m.used[k].Seconds()/secs, name+"-cpus")
			b.ReportMetric(float64(m.gcs[k])/secs, name+"-gc/s")
			b.ReportMetric(float64(m.refits[k])/secs, name+"-fits/s")
		}
	}
}

// benchBlock is the length of benchVotesAt's quiet and loaded blocks.
const benchBlock = 1500 * time.Millisecond

// sleepCtx sleeps for d and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// quantiles returns the p50 and p99 of lat in milliseconds.
func quantiles(lat []time.Duration) [2]float64 {
	if len(lat) == 0 {
		return [2]float64{}
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	return [2]float64{q(0.50), q(0.99)}
}

// BenchmarkVoteAckBlocks is benchVotesAt with nothing in the loaded
// blocks: its p99-ratio is the noise of the comparison on this machine
// at this moment. Run it beside the others.
//
//	go test -run XXX -bench 'VoteAck(Blocks|LeaderboardFlood)$' -benchtime 20000x -count 3 ./arena/httpapi
func BenchmarkVoteAckBlocks(b *testing.B) {
	benchVotesAt(b, func(ctx context.Context, _ *setup, _ *analytics.Live) { <-ctx.Done() }, nil)
}

// BenchmarkVoteAckDuringStyleFit compares vote acknowledgements without
// and with style-controlled leaderboards over 1,000,000 battles being
// fitted back to back (every vote makes the last fit stale): share=1 as a
// researcher's fit runs (one worker per two processors, unpaced),
// share=0.25 as the published leaderboards' worker runs (one worker
// paced to a quarter of a processor, analytics.Paced).
//
//	go test -run XXX -bench VoteAckDuringStyleFit -benchtime 4000x ./arena/httpapi
func BenchmarkVoteAckDuringStyleFit(b *testing.B) {
	for _, share := range []float64{1, 0.25} {
		b.Run(fmt.Sprint("share=", share), func(b *testing.B) {
			var fits, cut atomic.Int64
			benchVotesAt(b, func(ctx context.Context, _ *setup, live *analytics.Live) {
				opt := analytics.DefaultOptions()
				opt.Style = true
				if share < 1 {
					opt.Workers = 1
				}
				for ctx.Err() == nil {
					_, err := live.Leaderboard(analytics.Paced(ctx, share), opt)
					switch {
					case err == nil:
						fits.Add(1)
					case ctx.Err() != nil:
						cut.Add(1) // the block ended mid-fit
					default:
						b.Error(err)
						return
					}
				}
			}, nil)
			b.ReportMetric(float64(fits.Load()), "fits")
			b.ReportMetric(float64(cut.Load()), "fits-cut")
		})
	}
}

// BenchmarkVoteAckLeaderboardFlood compares vote acknowledgements without
// and with 4 clients, from 4 client addresses (so 4 rate-limit buckets),
// asking the public leaderboard as fast as they are answered for random
// parameters (floodParams): published variants, and seeds, rounds and
// filters that need a researcher token. Before the blocks start, a
// visitor asks once for each published variant the flood reaches
// (floodVariants), as visitors of the leaderboard's pages do: the
// published leaderboards' worker then refits them on its schedule while
// votes arrive, in the quiet blocks as in the loaded ones, and what the
// comparison measures is what the flood adds to that. A loaded block ends
// with its 1.5 s of requests (no settle): were the flood to cause refits,
// they would show as more fits per second on the loaded side than on the
// quiet one (waiting for the worker to be idle would instead start every
// quiet block with the worker's schedule behind it, and charge that
// schedule to the flood). Besides the latencies it reports the answers by status (http-0: the request failed;
// cut: the block ended while it waited, for a refit or in the tarpit) and
// each side's published fits per second. The flood's clients run in the
// process: their processor time counts in loaded-cpus.
//
//	go test -run XXX -bench VoteAckLeaderboardFlood -benchtime 20000x ./arena/httpapi
func BenchmarkVoteAckLeaderboardFlood(b *testing.B) {
	var mu sync.Mutex
	codes := map[string]int{}
	benchVotesWarm(b, func(s *setup) {
		for i, q := range floodVariants() {
			client := clientFrom(net.IPv4(127, 0, 1, byte(1+i)))
			for code := ""; code != "http-200"; time.Sleep(100 * time.Millisecond) {
				if code = floodGet(context.Background(), client, s.http.URL, q); code == "http-0" {
					b.Fatal("the visitor's request failed")
				}
			}
			client.CloseIdleConnections()
		}
	}, func(ctx context.Context, s *setup, _ *analytics.Live) {
		var wg sync.WaitGroup
		for k := range 4 {
			wg.Go(func() {
				client := clientFrom(net.IPv4(127, 0, 0, byte(2+k)))
				defer client.CloseIdleConnections()
				rng := rand.New(rand.NewPCG(uint64(k), 1))
				for ctx.Err() == nil {
					code := floodGet(ctx, client, s.http.URL, strings.Join(floodParams(rng), "&"))
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}, nil)
	for code, n := range codes {
		b.ReportMetric(float64(n), code)
	}
}

// clientFrom returns an HTTP client whose connections come from ip (any
// of 127/8 on loopback).
func clientFrom(ip net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// floodVariants returns the query of every published variant floodParams
// can ask for.
func floodVariants() []string {
	var qs []string
	for _, style := range []string{"true", "false"} {
		cuts := []string{""}
		for _, c := range rlhf.PromptCategories {
			cuts = append(cuts, "&category="+c)
		}
		for _, l := range floodLanguages {
			cuts = append(cuts, "&language="+l)
		}
		for _, cut := range cuts {
			qs = append(qs, "style="+style+cut)
		}
	}
	return qs
}

// floodLanguages are the languages floodParams asks for.
var floodLanguages = []string{"English", "Chinese", "French"}

// floodParams returns random leaderboard parameters: half the time only
// public ones (a published variant: style and matrices on or off, perhaps
// one known category or language), else besides them some of those the
// issue's flood used, which need a researcher token: a random seed,
// rounds up to 10,000, ties excluded, an unknown category.
func floodParams(rng *rand.Rand) []string {
	params := []string{fmt.Sprint("style=", rng.IntN(2) == 0), fmt.Sprint("matrices=", rng.IntN(2) == 0)}
	switch rng.IntN(3) {
	case 0:
		params = append(params, "category="+rlhf.PromptCategories[rng.IntN(len(rlhf.PromptCategories))])
	case 1:
		params = append(params, "language="+floodLanguages[rng.IntN(len(floodLanguages))])
	}
	if rng.IntN(2) == 0 {
		heavy := []string{fmt.Sprint("seed=", rng.Uint64()), fmt.Sprint("rounds=", rng.IntN(10001)), "ties=exclude", "category=x"}
		rng.Shuffle(len(heavy), func(i, j int) { heavy[i], heavy[j] = heavy[j], heavy[i] })
		params = append(params, heavy[:1+rng.IntN(len(heavy))]...)
	}
	rng.Shuffle(len(params), func(i, j int) { params[i], params[j] = params[j], params[i] })
	return params
}

// floodGet asks for the leaderboard with query q and returns its
// answer's name: http- and the status, cut when ctx ended first, or
// http-0 when the request failed otherwise.
func floodGet(ctx context.Context, client *http.Client, base, q string) string {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/leaderboard?"+q, nil)
	if err != nil {
		panic(err)
	}
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "cut"
		}
		return "http-0"
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil && ctx.Err() != nil {
		return "cut"
	}
	return fmt.Sprint("http-", res.StatusCode)
}

// paceVotes offers every vote of ids at rate votes/s, round robin over the
// connections (ids[i] are conns[i]'s ready battles), from one pacer that
// sends every vote that is due once a millisecond, as BenchmarkVoteAckAt10k
// does. It returns the acknowledgement latencies, measured from when each
// vote was due, by the phase (0 or 1) phase gave when it was sent, and the
// size of the first connection's last acknowledgement.
func paceVotes(b *testing.B, conns []*websocket.Conn, ids [][]string, rate int, phase func() int) (lat [2][]time.Duration, ackBytes int) {
	b.Helper()
	type due struct {
		at    time.Time
		phase int
	}
	clients, perClient := len(conns), len(ids[0])
	total := perClient * clients
	each := make([][2][]time.Duration, clients)
	dues := make([]chan due, clients)
	var wg sync.WaitGroup
	for i, conn := range conns {
		dues[i] = make(chan due, perClient)
		wg.Go(func() { // acks come back in order on one connection
			for d := range dues[i] {
				n, err := readAck(conn)
				if err != nil {
					b.Error(err)
					return
				}
				each[i][d.phase] = append(each[i][d.phase], time.Since(d.at))
				if i == 0 {
					ackBytes = n
				}
			}
		})
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for j := 0; j < total; {
		for now := time.Now(); j < total; j++ {
			at := start.Add(time.Duration(j) * interval)
			if at.After(now) {
				break
			}
			dues[j%clients] <- due{at, phase()}
			if err := conns[j%clients].WriteMessage(websocket.TextMessage, voteMsg(ids[j%clients][j/clients])); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(time.Millisecond)
	}
	for _, d := range dues {
		close(d)
	}
	wg.Wait()
	for _, l := range each {
		lat[0], lat[1] = append(lat[0], l[0]...), append(lat[1], l[1]...)
	}
	return lat, ackBytes
}
