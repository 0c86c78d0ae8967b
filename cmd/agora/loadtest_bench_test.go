package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/loadtest"
)

// loadtestConfig is the server configuration of docs/BENCHMARKS.md's load
// test: demo models cut to one token a side, no rate or connection limits
// (every contributor comes from loopback), and no gold battles, as the
// in-process vote benchmarks run.
const loadtestConfig = `demo: {enabled: true, token_delay: 0s}
models:
  - {name: curt-1, base_url: "{self}/demo/v1", model: curt, max_tokens: 1}
  - {name: verbose-2, base_url: "{self}/demo/v1", model: verbose, max_tokens: 1}
  - {name: contrarian-3, base_url: "{self}/demo/v1", model: wrong, max_tokens: 1}
  - {name: helpful-4, base_url: "{self}/demo/v1", model: good, max_tokens: 1}
` + testLimits

// BenchmarkLoadtestAgreement measures the vote path the way "agora
// loadtest" does against "agora serve" (process: the server in a process
// of its own) and the way the in-process benchmarks do (in-process: the
// server in the load tester's process), in one run and like for like: the
// same server code and configuration (loadtestConfig: the verifiable log
// on, as always in agora serve; gold battles off; a fresh store in a fresh
// data directory each round; the same flags and environment), the same
// client (package loadtest, whose frames, acknowledgement check and
// pacing are the in-process benchmarks'),
// the same transport (websockets on loopback TCP: httptest listens on it
// too), the same offered load: rate=0 is BenchmarkVoteAck's closed loop
// (64 contributors each voting as soon as its last vote is acknowledged:
// throughput at saturation), rate=2000 is BenchmarkVoteAckAt2k's open loop
// (256 connections, a vote due every 0.5 ms whatever came back: the
// throughput is the offered rate by construction and latency is the
// comparison, while the server keeps up; rate=500 is the same below
// saturation on a machine busy with other work). The first agreementWarmup per cent of each round's votes
// are done but not measured.
//
// The process boundary is not free, so the run also measures its floor:
// the same client against the least server that answers it (the floor
// server of loadtest_floor_test.go) in a process of its own and in this
// one. Four sides take turns, in a rotating order, agreementRounds rounds
// of b.N/agreementRounds votes each, each against a fresh server, so that
// the machine's other work falls on all alike.
//
// Each side's median over the rounds: votes/s, acknowledgement p50 and
// p99, processor time per vote of load tester and server together
// (cpu-us/vote; in process one sum), the processors that took (cpus:
// on a machine busy with other work, two processes, four threads running
// Go code, get more of them than one with two, and a side that gets more
// acknowledges more at saturation and waits less below it), and for the
// process side the server's processor time alone and the load tester's;
// in an open loop also the median time from a vote's due time to its
// sending (send-lag-p50-ms: the load tester's own part of the wait, which
// its timerfd pacer keeps alike on both sides).
// The median over the rounds of each round's ratio process / in-process:
// votes/s-ratio, p50-ratio, p99-ratio, cpu-ratio (the raw agreement), and
// for the floor floor-p50-ratio, floor-p99-ratio and floor-cpu-ratio (what
// the boundary alone costs). Above the floor: a side's figure minus its
// floor's in the same round (process-/in-process-above-floor-us/vote and
// -p50-ms: the server's own processor time and median wait, the client's
// and the boundary's being the floor's), and the ratio process /
// in-process of those (cpu-above-floor-ratio, p50-above-floor-ratio),
// which the boundary should not change. A p50 minus a p50 is the median
// of neither distribution; it is the server's share of the median wait
// as near as quantiles give it (the floor's distribution is narrow).
// The log line gives the raw and the above-floor ratios side by side. The
// agreement goal is each ratio within 0.8–1.2.
//
//	go test -run XXX -bench 'LoadtestAgreement/rate=(0|2000)$' -benchtime 20000x -count 3 -timeout 60m ./cmd/agora
func BenchmarkLoadtestAgreement(b *testing.B) {
	cfg := filepath.Join(b.TempDir(), "agora.yaml")
	if err := os.WriteFile(cfg, []byte(loadtestConfig), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, load := range []struct {
		rate         float64
		contributors int
	}{{0, 64}, {500, 256}, {2000, 256}} {
		b.Run(fmt.Sprintf("rate=%g", load.rate), func(b *testing.B) {
			sides := agreementSides(cfg)
			rounds := min(agreementRounds, b.N)
			for r := range rounds {
				jobs := b.N / rounds
				if r == 0 {
					jobs += b.N % rounds
				}
				for k := range sides {
					sides[(k+r)%len(sides)].run(b, load.rate, load.contributors, jobs)
				}
			}
			reportAgreement(b, load.rate, sides)
		})
	}
}

// agreementRounds is how many turns each side takes in
// BenchmarkLoadtestAgreement; agreementWarmup is the share of each
// turn's votes, first, that is not measured.
const (
	agreementRounds = 4
	agreementWarmup = 10 // per cent of each turn's votes
)

// agreementSide is one way of running a server in
// BenchmarkLoadtestAgreement, and the load tester's reports of its rounds.
type agreementSide struct {
	name string
	// start starts a fresh server and returns its base URL, its process
	// when it has one of its own, and how to stop it.
	start func(b *testing.B) (base string, pid int, stop func())
	reps  []*loadtest.Report
}

// agreementSides are the process and in-process servers running the
// configuration file cfg, and the floor server in each way.
func agreementSides(cfg string) []*agreementSide {
	return []*agreementSide{
		{name: "process", start: func(b *testing.B) (string, int, func()) {
			return startAgreementProcess(b, nil, "serve", "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--log-level", "error", "--config", cfg)
		}},
		{name: "in-process", start: func(b *testing.B) (string, int, func()) {
			url, stop := serveInProcessStop(b, environ(), "--config", cfg, "--log-level", "error")
			return url, 0, stop
		}},
		{name: "floor-process", start: func(b *testing.B) (string, int, func()) {
			return startAgreementProcess(b, []string{floorEnv + "=1"})
		}},
		{name: "floor-in-process", start: func(*testing.B) (string, int, func()) {
			url, stop := floorInProcessStop()
			return url, 0, stop
		}},
	}
}

// environ is this process's environment, which a subprocess inherits:
// the in-process server reads the same (AGORA_* variables included), so
// that both sides run the same configuration.
func environ() map[string]string {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// startAgreementProcess starts this test binary as agora with args (or,
// with floorEnv set, as the floor server) and returns its URL, its
// process and how to stop it.
func startAgreementProcess(b *testing.B, env []string, args ...string) (string, int, func()) {
	p := startSubprocessEnv(b, env, args...)
	return p.url, p.cmd.Process.Pid, func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}
}

// floorInProcessStop serves the floor server in this process.
func floorInProcessStop() (string, func()) {
	s := httptest.NewServer(floorHandler{})
	return s.URL, s.Close
}

// floorInProcess is floorInProcessStop until the test ends.
func floorInProcess(t testing.TB) string {
	url, stop := floorInProcessStop()
	t.Cleanup(stop)
	return url
}

// run starts a fresh server (so that no side's store grows more than
// another's, and no idle server counts in another side's processor time),
// offers it jobs votes from contributors at rate (0: closed loop), and
// stops it.
func (s *agreementSide) run(b *testing.B, rate float64, contributors, jobs int) {
	base, pid, stop := s.start(b)
	defer stop()
	rep := loadtestRun(b, base, pid, contributors, jobs, rate, jobs*agreementWarmup/100)
	if rep.Votes != int64(jobs) || len(rep.Errors) != 0 {
		b.Fatalf("%s: %d votes of %d, errors %v", s.name, rep.Votes, jobs, rep.Errors)
	}
	s.reps = append(s.reps, rep)
}

// loadtestRun runs what "agora loadtest --mode votes" runs against base,
// with the server's process pid (0: none of its own).
func loadtestRun(tb testing.TB, base string, pid, contributors, jobs int, rate float64, warmup int) *loadtest.Report {
	tb.Helper()
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Dial:         func(ctx context.Context) (loadtest.Conn, error) { return httpapi.DialArena(ctx, base, "") },
		Contributors: contributors, Mode: loadtest.ModeVotes, Rate: rate, Jobs: jobs,
		Duration: 30 * time.Minute, Warmup: warmup, Prompt: "How do I learn Go?", ServerPID: pid,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

// reportAgreement reports each side's medians over its rounds, the
// medians of the rounds' ratios process / in-process, raw and above the
// floor, and logs the ratios side by side.
func reportAgreement(b *testing.B, rate float64, sides []*agreementSide) {
	for _, s := range sides {
		b.ReportMetric(medianOf(s.reps, votesPerSec), s.name+"-votes/s")
		b.ReportMetric(medianOf(s.reps, ackP50), s.name+"-ack-p50-ms")
		b.ReportMetric(medianOf(s.reps, ackP99), s.name+"-ack-p99-ms")
		if rate > 0 {
			b.ReportMetric(medianOf(s.reps, func(r *loadtest.Report) float64 { return r.SendLag.P50 }), s.name+"-send-lag-p50-ms")
		}
		b.ReportMetric(medianOf(s.reps, cpuPerVote), s.name+"-cpu-us/vote")
		b.ReportMetric(medianOf(s.reps, func(r *loadtest.Report) float64 { return r.VotesPerSec * cpuPerVote(r) / 1e6 }), s.name+"-cpus")
	}
	proc, in, floorProc, floorIn := sides[0].reps, sides[1].reps, sides[2].reps, sides[3].reps
	b.ReportMetric(medianOf(proc, func(r *loadtest.Report) float64 { return 1000 * r.ServerCPUPerJob }), "process-server-cpu-us/vote")
	b.ReportMetric(medianOf(proc, func(r *loadtest.Report) float64 { return 1000 * r.ClientCPUPerJob }), "process-loadtest-cpu-us/vote")
	// ratio is the median over the rounds of f's ratio process /
	// in-process; above is the same of f beyond each side's floor in the
	// same round.
	ratio := func(a, b []*loadtest.Report, f func(*loadtest.Report) float64) float64 {
		var v []float64
		for i := range a {
			v = append(v, f(a[i])/f(b[i]))
		}
		return median(v)
	}
	above := func(f func(*loadtest.Report) float64) (ratio, process, inProcess float64) {
		var r, p, q []float64
		for i := range proc {
			pv, iv := f(proc[i])-f(floorProc[i]), f(in[i])-f(floorIn[i])
			r, p, q = append(r, pv/iv), append(p, pv), append(q, iv)
		}
		return median(r), median(p), median(q)
	}
	raw := map[string]float64{}
	for _, m := range []struct {
		name string
		f    func(*loadtest.Report) float64
	}{{"votes/s", votesPerSec}, {"p50", ackP50}, {"p99", ackP99}, {"cpu", cpuPerVote}} {
		raw[m.name] = ratio(proc, in, m.f)
		b.ReportMetric(raw[m.name], m.name+"-ratio")
	}
	floorP50, floorP99, floorCPU := ratio(floorProc, floorIn, ackP50), ratio(floorProc, floorIn, ackP99), ratio(floorProc, floorIn, cpuPerVote)
	b.ReportMetric(floorP50, "floor-p50-ratio")
	b.ReportMetric(floorP99, "floor-p99-ratio")
	b.ReportMetric(floorCPU, "floor-cpu-ratio")
	cpuAbove, cpuAboveProc, cpuAboveIn := above(cpuPerVote)
	b.ReportMetric(cpuAboveProc, "process-above-floor-us/vote")
	b.ReportMetric(cpuAboveIn, "in-process-above-floor-us/vote")
	b.ReportMetric(cpuAbove, "cpu-above-floor-ratio")
	p50Above, p50AboveProc, p50AboveIn := above(ackP50)
	b.ReportMetric(p50AboveProc, "process-above-floor-p50-ms")
	b.ReportMetric(p50AboveIn, "in-process-above-floor-p50-ms")
	b.ReportMetric(p50Above, "p50-above-floor-ratio")
	b.ReportMetric(0, "ns/op")
	if b.N < agreementRounds {
		return // the one-vote trial run says nothing
	}
	b.Logf("process / in-process, median of %d rounds' ratios: votes/s %.3f; ack p50 %.3f raw, %.3f above the floor; ack p99 %.3f; "+
		"CPU per vote %.3f raw, %.3f above the floor; the floor itself: p50 %.3f, p99 %.3f, CPU per vote %.3f",
		len(proc), raw["votes/s"], raw["p50"], p50Above, raw["p99"], raw["cpu"], cpuAbove, floorP50, floorP99, floorCPU)
}

func votesPerSec(r *loadtest.Report) float64 { return r.VotesPerSec }
func ackP50(r *loadtest.Report) float64      { return r.VoteAck.P50 }
func ackP99(r *loadtest.Report) float64      { return r.VoteAck.P99 }

// medianOf returns the median of f over reps.
func medianOf(reps []*loadtest.Report, f func(*loadtest.Report) float64) float64 {
	var v []float64
	for _, r := range reps {
		v = append(v, f(r))
	}
	return median(v)
}

// cpuPerVote is the processor time per vote of the load tester and the
// server, in microseconds.
func cpuPerVote(r *loadtest.Report) float64 {
	return 1000 * (r.ClientCPUPerJob + r.ServerCPUPerJob)
}

// median returns the median of v, which it sorts.
func median(v []float64) float64 {
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}
