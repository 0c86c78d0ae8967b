package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/loadtest"
)

const loadtestUsage = `loadtest [flags]

Drives an Agora server with simulated contributors over real websockets,
one connection and one fresh contributor each, and reports what they saw.

--mode battles (the default): each job is a whole battle. The contributor
sends start, reads both answers as they stream, sends a follow-up message in
a share of battles (--follow-up), and votes, or leaves the battle without a
vote in a share of them (--abandon).
--mode votes: the contributors first bring their share of --count battles to
ready (not measured), then each job is one vote: the vote path alone, as the
in-process benchmarks BenchmarkVoteAck and BenchmarkVoteAckAt10k measure it.

--rate R offers R jobs a second, whether or not earlier ones are done (an
open loop): each latency runs from the moment its action was due, so a
server that falls behind is charged for every action it delayed. --rate 0
(the default) is a closed loop: each contributor starts its next job when
the last is done, which measures throughput at saturation.

In --mode votes at a --rate, one pacer sends each vote when it is due,
round robin over the connections, without waiting for the connection's
earlier votes, as BenchmarkVoteAckAt2k does; the frames are the in-process
benchmarks' (the type first), and an acknowledgement is read no further
than its type, as theirs is. The pacer wakes once a millisecond, on Linux
from a timerfd (precise however idle the load tester is), and the report
says how long after its due time each vote was sent: the load tester's
own part of the acknowledgement's latency.

The run stops after --count jobs or --duration (which includes the
preparation of --mode votes), whichever comes first. Its first --warmup
jobs are done but not measured. It shows a progress line on a
terminal and ends with a report over the measured part: jobs and votes per
second; p50, p90, p99 and max of the time to the first token (from when the
start was due), of the relay (the gaps between a side's tokens), and of
vote acknowledgement (from when the vote was due); errors by code; the
processor time per job of the load tester and, when local, the server; and,
when the server runs on this machine, its resident memory before and after
(--pid, or found by the port it listens on). --json prints the report as
JSON.

A server's default limits (configs/agora.yaml, limits:) hold each client
address and contributor to a few battles and votes a minute, so a load test
from one machine is mostly answered rate_limited: run the server under test
with those limits set to 0 (see docs/BENCHMARKS.md).

Each battle costs the server's models real work: point it only at servers
you run, and at demo or test models.`

func runLoadtest(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("loadtest", loadtestUsage, e)
	var cfg loadtest.Config
	var base, mode string
	var pid int
	var jsonOut bool
	fs.StringVar(&base, "url", "http://127.0.0.1:8080", "the Agora server's base URL")
	fs.IntVar(&cfg.Contributors, "contributors", 32, "simulated contributors, one connection each")
	fs.StringVar(&mode, "mode", string(loadtest.ModeBattles), "what a job is: battles (start, stream, vote) or votes (the vote alone)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "jobs offered per second (open loop); 0 is a closed loop at saturation")
	fs.IntVar(&cfg.Jobs, "count", 1000, "stop after this many jobs")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "stop after this long")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "do but do not measure this many jobs first")
	fs.Float64Var(&cfg.FollowUp, "follow-up", 0.2, "battles: share with a follow-up message")
	fs.Float64Var(&cfg.Abandon, "abandon", 0.1, "battles: share left without a vote")
	fs.StringVar(&cfg.Prompt, "prompt", "How do I learn Go?", "the prompt (and follow-up message) of every battle")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed of the follow-up and abandon choices")
	fs.IntVar(&pid, "pid", 0, "the server's process id, for its memory (default: the local process listening on the URL's port)")
	fs.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("loadtest takes no arguments; got %q", fs.Arg(0))}
	}
	cfg.Mode = loadtest.Mode(mode)
	cfg.Dial = func(ctx context.Context) (loadtest.Conn, error) { return httpapi.DialArena(ctx, base, "") }
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if pid == 0 {
		pid = localServer(base)
	}
	prog := newProgress(e.stderr)
	if prog.on {
		cfg.Progress = func(c loadtest.Counts) {
			fmt.Fprintf(e.stderr, "\r%5.1fs  jobs %d/%d  battles %d  votes %d  abandoned %d  errors %d ",
				c.Elapsed.Seconds(), c.Jobs, cfg.Jobs, c.Battles, c.Votes, c.Abandoned, c.Errors)
			prog.shown = true
		}
	}
	before, _ := serverRSS(pid)
	cfg.ServerPID = pid
	rep, err := loadtest.Run(ctx, cfg)
	prog.done()
	if err != nil {
		return err
	}
	after, _ := serverRSS(pid)
	rep.ServerRSSKiB = [2]int64{before, after}
	if jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(e.stdout)
}

// localServer returns the process listening on base's port when base's
// host is this machine's loopback, or 0.
func localServer(base string) int {
	u, err := url.Parse(base)
	if err != nil {
		return 0
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	pid, _ := loadtest.ListeningPID(p)
	return pid
}

func serverRSS(pid int) (int64, error) {
	if pid == 0 {
		return 0, nil
	}
	return loadtest.RSS(pid)
}
