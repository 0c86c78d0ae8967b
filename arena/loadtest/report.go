package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// samples are latencies as measured, unsorted.
type samples struct {
	ttft, gap, ack, lag []time.Duration
}

func (s *samples) add(o *samples) {
	s.ttft = append(s.ttft, o.ttft...)
	s.gap = append(s.gap, o.gap...)
	s.ack = append(s.ack, o.ack...)
	s.lag = append(s.lag, o.lag...)
}

// Summary is a latency distribution, in milliseconds.
type Summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// summarize sorts lat and returns its quantiles (nearest rank).
func summarize(lat []time.Duration) Summary {
	if len(lat) == 0 {
		return Summary{}
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		i := int(p*float64(len(lat))+0.5) - 1
		return ms(lat[min(max(i, 0), len(lat)-1)])
	}
	return Summary{Count: len(lat), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(lat[len(lat)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Report is what a load test measured.
type Report struct {
	Mode         Mode    `json:"mode"`
	Contributors int     `json:"contributors"`
	OfferedRate  float64 `json:"offered_per_s"` // 0: closed loop
	// WarmupSeconds is the start of the run that is not measured;
	// Seconds is the rest, over which the rates, latencies and processor
	// times are measured, of the jobs due in it (MeasuredJobs).
	WarmupSeconds float64 `json:"warmup_s"`
	Seconds       float64 `json:"seconds"`
	MeasuredJobs  int64   `json:"measured_jobs"`
	// Jobs, Battles, Votes and Abandoned count the whole run, warm-up
	// included.
	Jobs        int64   `json:"jobs"`
	Battles     int64   `json:"battles"` // battles (and follow-up turns) streamed to ready
	Votes       int64   `json:"votes"`
	Abandoned   int64   `json:"abandoned"`
	JobsPerSec  float64 `json:"jobs_per_s"`
	VotesPerSec float64 `json:"votes_per_s"`
	// TTFT runs from when a start or follow-up was due to its first token;
	// TokenGap is the time between two tokens of one side (the model's
	// pace plus the relay's jitter); VoteAck runs from when a vote was due
	// to its acknowledgement.
	TTFT     Summary `json:"ttft"`
	TokenGap Summary `json:"token_gap"`
	VoteAck  Summary `json:"vote_ack"`
	// SendLag, in an open loop of votes, runs from when a vote was due
	// to when the load tester sent it (the pacer wakes once a
	// millisecond): the part of VoteAck that is the load tester's.
	SendLag Summary        `json:"send_lag"`
	Errors  map[string]int `json:"errors"` // by code; "connection" for a broken connection
	// ServerRSSKiB is the server's resident memory before and after the
	// run, when the server is a local process (zero otherwise).
	ServerRSSKiB [2]int64 `json:"server_rss_kib"`
	// ClientCPUPerJob is the processor time (user and system) this
	// process used per job during the run, in milliseconds: the load
	// tester's own cost, which shares the machine with a local server
	// (and includes the server's when it runs in this process).
	// ServerCPUPerJob is the server's, when Config.ServerPID names it.
	ClientCPUPerJob float64 `json:"client_cpu_ms_per_job"`
	ServerCPUPerJob float64 `json:"server_cpu_ms_per_job,omitempty"`
	// CPUNotMeasured says why the processor times could not be read
	// (both are then zero); empty when they were.
	CPUNotMeasured string `json:"cpu_not_measured,omitempty"`
}

func (r *run) report() *Report {
	c := r.counts()
	r.mu.Lock()
	defer r.mu.Unlock()
	w := &r.window
	secs, jobs := w.closed.Sub(w.opened).Seconds(), r.mjobs.Load()
	rep := &Report{
		Mode: r.cfg.Mode, Contributors: r.cfg.Contributors, OfferedRate: r.cfg.Rate,
		WarmupSeconds: w.opened.Sub(r.start).Seconds(), Seconds: secs, MeasuredJobs: jobs,
		Jobs: c.Jobs, Battles: c.Battles, Votes: c.Votes, Abandoned: c.Abandoned,
		JobsPerSec: rate(jobs, secs), VotesPerSec: rate(r.mvotes.Load(), secs),
		TTFT: summarize(r.samples.ttft), TokenGap: summarize(r.samples.gap), VoteAck: summarize(r.samples.ack),
		SendLag:         summarize(r.samples.lag),
		Errors:          maps.Clone(r.codes),
		ClientCPUPerJob: perJob(w.cpu, jobs),
		ServerCPUPerJob: perJob(w.serverCPU, jobs),
	}
	if w.cpuErr != nil {
		rep.ClientCPUPerJob, rep.ServerCPUPerJob, rep.CPUNotMeasured = 0, 0, w.cpuErr.Error()
	}
	return rep
}

// rate returns n per second over secs, 0 over no time.
func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// perJob returns d per job in milliseconds.
func perJob(d time.Duration, jobs int64) float64 {
	if jobs == 0 {
		return 0
	}
	return ms(d) / float64(jobs)
}

// WriteText writes the report for people.
func (rep *Report) WriteText(w io.Writer) error {
	loop := "closed loop (as fast as answered)"
	if rep.OfferedRate > 0 {
		loop = fmt.Sprintf("open loop at %g %s/s offered", rep.OfferedRate, rep.Mode)
	}
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("%s, %d contributors, %s, %.1f s measured after %.1f s of warm-up (%d jobs)\n",
		rep.Mode, rep.Contributors, loop, rep.Seconds, rep.WarmupSeconds, rep.MeasuredJobs)
	p("measured: %.1f jobs/s, %.1f votes/s acknowledged\n", rep.JobsPerSec, rep.VotesPerSec)
	p("whole run: jobs %d  battles %d  votes %d  abandoned %d\n", rep.Jobs, rep.Battles, rep.Votes, rep.Abandoned)
	p("%-22s %8s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90", "p99", "max")
	type latency struct {
		name string
		s    Summary
	}
	lats := []latency{{"time to first token", rep.TTFT}, {"relay (token gap)", rep.TokenGap}, {"vote acknowledgement", rep.VoteAck}}
	if rep.SendLag.Count > 0 { // an open loop of votes
		lats = append(lats, latency{"vote sent after due", rep.SendLag})
	}
	for _, l := range lats {
		p("%-22s %8d %9.2f %9.2f %9.2f %9.2f\n", l.name, l.s.Count, l.s.P50, l.s.P90, l.s.P99, l.s.Max)
	}
	if len(rep.Errors) == 0 {
		p("errors: none\n")
	}
	for _, code := range slices.Sorted(maps.Keys(rep.Errors)) {
		p("errors %s: %d\n", code, rep.Errors[code])
	}
	switch {
	case rep.CPUNotMeasured != "":
		p("processor time per job: not measured (%s)\n", rep.CPUNotMeasured)
	case rep.ServerCPUPerJob > 0:
		p("processor time per job: %.3f ms in the load tester, %.3f ms in the server\n", rep.ClientCPUPerJob, rep.ServerCPUPerJob)
	default:
		p("processor time per job: %.3f ms in the load tester\n", rep.ClientCPUPerJob)
	}
	if rep.ServerRSSKiB[1] > 0 {
		p("server RSS: %.1f MiB before, %.1f MiB after\n", float64(rep.ServerRSSKiB[0])/1024, float64(rep.ServerRSSKiB[1])/1024)
	}
	return err
}
