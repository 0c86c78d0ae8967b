package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/arena/loadtest"
)

// loadtestJSON runs agora loadtest with args and --json and returns its
// report.
func loadtestJSON(t *testing.T, args ...string) *loadtest.Report {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	e := env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: out, stderr: errOut}
	if err := run(context.Background(), append([]string{"loadtest", "--json"}, args...), e); err != nil {
		t.Fatalf("agora loadtest %v: %v\n%s", args, err, errOut)
	}
	var rep loadtest.Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	return &rep
}

// TestLoadtestBattles runs whole battles, with follow-ups and abandoned
// battles, against a real server in a closed loop.
func TestLoadtestBattles(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	rep := loadtestJSON(t, "--url", base, "--contributors", "4", "--count", "40", "--follow-up", "0.5", "--abandon", "0.25")
	if rep.Jobs != 40 || rep.Votes+rep.Abandoned != 40 || rep.Abandoned == 0 || rep.Votes == 0 {
		t.Errorf("jobs %d, votes %d, abandoned %d; want 40 jobs, each voted or abandoned, some of each", rep.Jobs, rep.Votes, rep.Abandoned)
	}
	if rep.Battles <= 40 {
		t.Errorf("%d turns streamed to ready, want more than the 40 battles (follow-ups)", rep.Battles)
	}
	if rep.VoteAck.Count != int(rep.Votes) || rep.TTFT.Count != int(rep.Battles) || rep.TokenGap.Count == 0 {
		t.Errorf("samples: ack %d (votes %d), ttft %d (turns %d), token gaps %d", rep.VoteAck.Count, rep.Votes, rep.TTFT.Count, rep.Battles, rep.TokenGap.Count)
	}
	if s := rep.VoteAck; !(0 < s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max) {
		t.Errorf("vote acknowledgement quantiles out of order: %+v", s)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors %v, want none", rep.Errors)
	}
	// Votes alone, in a closed loop: a contributor that has voted its
	// share leaves the rest to the others.
	rep = loadtestJSON(t, "--url", base, "--mode", "votes", "--contributors", "3", "--count", "10", "--warmup", "4")
	if rep.Votes != 10 || rep.VoteAck.Count != 6 || rep.MeasuredJobs != 6 || len(rep.Errors) != 0 {
		t.Errorf("votes mode, closed loop: %d votes, %d measured (jobs %d), errors %v; want 10, the last 6, none", rep.Votes, rep.VoteAck.Count, rep.MeasuredJobs, rep.Errors)
	}
}

// TestLoadtestVotesOpenLoop offers votes at a steady rate to a real agora
// process, and finds its memory by the port it listens on.
func TestLoadtestVotesOpenLoop(t *testing.T) {
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--config", fastConfig(t))
	rep := loadtestJSON(t, "--url", p.url, "--mode", "votes", "--rate", "200", "--contributors", "8", "--count", "100", "--warmup", "20")
	if rep.Votes != 100 || rep.VoteAck.Count != 80 || rep.MeasuredJobs != 80 || rep.OfferedRate != 200 || len(rep.Errors) != 0 {
		t.Errorf("votes %d, acks measured %d (jobs %d) at %g/s offered, errors %v; want 100 acknowledged at 200/s, the last 80 measured, no errors",
			rep.Votes, rep.VoteAck.Count, rep.MeasuredJobs, rep.OfferedRate, rep.Errors)
	}
	if rep.WarmupSeconds < 0.09 || rep.Seconds < 0.39 || rep.ServerCPUPerJob <= 0 {
		t.Errorf("warm-up %.3f s, measured %.3f s, server %.3f ms a vote; want 0.1 s (20 votes at 200/s), at least the 0.4 s of 80 votes, and the server's processor time",
			rep.WarmupSeconds, rep.Seconds, rep.ServerCPUPerJob)
	}
	if rep.SendLag.Count != 80 {
		t.Errorf("%d votes' send lags, want the 80 measured", rep.SendLag.Count)
	}
	if rep.TTFT.Count != 0 {
		t.Errorf("votes mode measured %d first tokens; the preparation is not part of the run", rep.TTFT.Count)
	}
	if rep.ServerRSSKiB[0] <= 0 || rep.ServerRSSKiB[1] <= 0 {
		t.Errorf("server RSS %v, want it read from the local process", rep.ServerRSSKiB)
	}
}

// TestLoadtestTimeBound stops a run at its time bound long before its
// count.
func TestLoadtestTimeBound(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	rep := loadtestJSON(t, "--url", base, "--contributors", "2", "--count", "1000000000", "--duration", "1s")
	if rep.Jobs == 0 || rep.Jobs >= 1000000000 {
		t.Errorf("jobs %d, want some, stopped by the time bound", rep.Jobs)
	}
}

func TestLoadtestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"--help"}, 0, "open loop"},
		{[]string{"--rate", "-1"}, 2, "rate"},
		{[]string{"--mode", "chaos"}, 2, "mode"},
		{[]string{"--count", "0"}, 2, "count bound"},
		{[]string{"--abandon", "2"}, 2, "abandon"},
		{[]string{"--count", "10", "--warmup", "10"}, 2, "warm-up"},
		{[]string{"extra"}, 2, "no arguments"},
	}
	for _, tt := range tests {
		out := &syncBuffer{}
		e := env{getenv: func(string) string { return "" }, stdout: out, stderr: out}
		err := run(context.Background(), append([]string{"loadtest"}, tt.args...), e)
		if code := exitCode(err); err == nil || code != tt.wantCode {
			t.Errorf("agora loadtest %v: err %v, exit %d; want exit %d", tt.args, err, code, tt.wantCode)
		}
		if msg := out.String() + errString(err); !strings.Contains(msg, tt.want) {
			t.Errorf("agora loadtest %v said %q, want it to mention %q", tt.args, msg, tt.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
