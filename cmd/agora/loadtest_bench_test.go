package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
// process (server=process, what the command does) and in this one
// (server=in-process, as the in-process benchmarks run), in one run and
// like for like: the same server code and configuration (loadtestConfig,
// the verifiable log on as always in agora serve), the same client
// (package loadtest, --mode votes), the same 64 contributors voting
// b.N votes in a closed loop (rate=0, as BenchmarkVoteAck) or offered at
// 2,000 votes/s (rate=2000, as BenchmarkVoteAckAt2k). Besides votes/s and
// the acknowledgement's p50 and p99 it reports the processor time per
// vote of the load tester and of the server (in process, one sum): the
// load tester shares the machine's processors with a local server.
//
//	go test -run XXX -bench LoadtestAgreement -benchtime 20000x -count 3 ./cmd/agora
func BenchmarkLoadtestAgreement(b *testing.B) {
	cfg := filepath.Join(b.TempDir(), "agora.yaml")
	if err := os.WriteFile(cfg, []byte(loadtestConfig), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, rate := range []float64{0, 2000} {
		for _, where := range []string{"process", "in-process"} {
			b.Run(fmt.Sprintf("rate=%g/server=%s", rate, where), func(b *testing.B) {
				base, pid := "", 0
				if where == "process" {
					p := startSubprocess(b, "serve", "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--log-level", "error", "--config", cfg)
					base, pid = p.url, p.cmd.Process.Pid
				} else {
					base = serveInProcess(b, "--config", cfg, "--log-level", "error")
				}
				rep, err := loadtest.Run(context.Background(), loadtest.Config{
					Dial:         func(ctx context.Context) (loadtest.Conn, error) { return httpapi.DialArena(ctx, base, "") },
					Contributors: 64, Mode: loadtest.ModeVotes, Rate: rate, Jobs: b.N, Duration: 30 * time.Minute,
					Prompt: "How do I learn Go?", ServerPID: pid,
				})
				if err != nil {
					b.Fatal(err)
				}
				if rep.Votes != int64(b.N) || len(rep.Errors) != 0 {
					b.Fatalf("%d votes of %d, errors %v", rep.Votes, b.N, rep.Errors)
				}
				b.ReportMetric(rep.VotesPerSec, "votes/s")
				b.ReportMetric(rep.VoteAck.P50, "ack-p50-ms")
				b.ReportMetric(rep.VoteAck.P99, "ack-p99-ms")
				b.ReportMetric(1000*rep.ClientCPUPerJob, "client-cpu-us/vote")
				b.ReportMetric(1000*rep.ServerCPUPerJob, "server-cpu-us/vote")
				b.ReportMetric(1000*(rep.ClientCPUPerJob+rep.ServerCPUPerJob), "cpu-us/vote")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
