package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
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
// loadtest" does against "agora serve", with the server in its own
// process (process, what the command does) and in this one (in-process,
// as the in-process benchmarks run), in one run and like for like: the
// same server code and configuration (loadtestConfig, the verifiable log
// on as always in agora serve), the same client (package loadtest,
// --mode votes) over the same transport (websockets on loopback TCP),
// the same 64 contributors voting in a closed loop (rate=0, as
// BenchmarkVoteAck) or offered 2,000 votes/s (rate=2000, as
// BenchmarkVoteAckAt2k). The two take turns: agreementRounds rounds of
// b.N/agreementRounds votes each, in alternating order, so that the
// shared machine's other work falls on both alike, each round against a
// fresh server started for it. It reports each side's median votes/s, acknowledgement p50
// and p99 and processor time per vote (load tester and server: in
// process, one sum), and the median over the rounds of each round's
// ratio process / in-process: votes/s-ratio, p99-ratio, cpu-ratio (the
// agreement goal is each within 0.8–1.2). A side's cpus, votes/s times
// processor time per vote, is the processors it got: on a machine busy
// with other work, two processes (four threads running Go code) get more
// of them than one (two), and votes/s-ratio ≈ cpus ratio / cpu-ratio.
//
//	go test -run XXX -bench LoadtestAgreement -benchtime 20000x -count 3 ./cmd/agora
func BenchmarkLoadtestAgreement(b *testing.B) {
	cfg := filepath.Join(b.TempDir(), "agora.yaml")
	if err := os.WriteFile(cfg, []byte(loadtestConfig), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, rate := range []float64{0, 2000} {
		b.Run(fmt.Sprintf("rate=%g", rate), func(b *testing.B) {
			sides := []agreementSide{{name: "process"}, {name: "in-process"}}
			var ratios [3][]float64
			rounds := min(agreementRounds, b.N)
			for r := range rounds {
				jobs := b.N / rounds
				if r == 0 {
					jobs += b.N % rounds
				}
				for k := range sides {
					sides[(k+r)%2].run(b, cfg, rate, jobs)
				}
				proc, in := sides[0].reps[r], sides[1].reps[r]
				ratios[0] = append(ratios[0], proc.VotesPerSec/in.VotesPerSec)
				ratios[1] = append(ratios[1], proc.VoteAck.P99/in.VoteAck.P99)
				ratios[2] = append(ratios[2], cpuPerVote(proc)/cpuPerVote(in))
			}
			for _, side := range sides {
				side.report(b)
			}
			b.ReportMetric(median(ratios[0]), "votes/s-ratio")
			b.ReportMetric(median(ratios[1]), "p99-ratio")
			b.ReportMetric(median(ratios[2]), "cpu-ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// agreementRounds is how many turns each server takes in
// BenchmarkLoadtestAgreement.
const agreementRounds = 4

// agreementSide is one way of running the server in
// BenchmarkLoadtestAgreement and the load tester's reports of its rounds.
type agreementSide struct {
	name string // process or in-process
	reps []*loadtest.Report
	gcs  []float64 // garbage collections per 1,000 votes, server and load tester
}

// run starts a server with the configuration file cfg (a fresh one each
// round, so that neither side's store grows more, and no idle server
// counts in the other side's processor time), offers it jobs votes at
// rate (0: closed loop), and stops it.
func (s *agreementSide) run(b *testing.B, cfg string, rate float64, jobs int) {
	var base string
	var pid int
	var serverGCs func() int // the server's collections so far; nil: counted in this process
	if s.name == "process" {
		p := startSubprocessEnv(b, []string{"GODEBUG=gctrace=1"}, "serve", "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--log-level", "error", "--config", cfg)
		base, pid = p.url, p.cmd.Process.Pid
		serverGCs = func() int { return strings.Count(p.errOut.String(), "\ngc ") }
		defer func() {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
		}()
	} else {
		url, stop := serveInProcessStop(b, nil, "--config", cfg, "--log-level", "error")
		base = url
		defer stop()
	}
	gcs := gcCycles()
	if serverGCs != nil {
		gcs -= uint64(serverGCs())
	}
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Dial:         func(ctx context.Context) (loadtest.Conn, error) { return httpapi.DialArena(ctx, base, "") },
		Contributors: 64, Mode: loadtest.ModeVotes, Rate: rate, Jobs: jobs, Duration: 30 * time.Minute,
		Prompt: "How do I learn Go?", ServerPID: pid,
	})
	if err != nil {
		b.Fatal(err)
	}
	if rep.Votes != int64(jobs) || len(rep.Errors) != 0 {
		b.Fatalf("%s: %d votes of %d, errors %v", s.name, rep.Votes, jobs, rep.Errors)
	}
	gcs = gcCycles() - gcs
	if serverGCs != nil {
		gcs += uint64(serverGCs())
	}
	s.reps = append(s.reps, rep)
	s.gcs = append(s.gcs, 1000*float64(gcs)/float64(jobs))
}

// gcCycles returns this process's garbage collections so far.
func gcCycles() uint64 {
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// report reports the side's medians over its rounds.
func (s *agreementSide) report(b *testing.B) {
	var vps, p50, p99, cpu []float64
	for _, r := range s.reps {
		vps, p50, p99, cpu = append(vps, r.VotesPerSec), append(p50, r.VoteAck.P50), append(p99, r.VoteAck.P99), append(cpu, cpuPerVote(r))
	}
	b.ReportMetric(median(vps), s.name+"-votes/s")
	b.ReportMetric(median(p50), s.name+"-ack-p50-ms")
	b.ReportMetric(median(p99), s.name+"-ack-p99-ms")
	b.ReportMetric(median(cpu), s.name+"-cpu-us/vote")
	b.ReportMetric(median(vps)*median(cpu)/1e6, s.name+"-cpus")
	b.ReportMetric(median(s.gcs), s.name+"-gc/kvote")
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
