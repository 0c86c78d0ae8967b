package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

const leaderboardUsage = `leaderboard [flags] [FILE]

Rates models from a file of battles, or from the live store when no FILE is
given. FILE is Chatbot Arena battles as a JSON array or JSONL (model_a,
model_b, winner = model_a | model_b | tie | "tie (bothbad)", optional tstamp,
judge, language, category, conv_metadata, conversation_a/b), or CSV with a
header naming those columns (LLMFAO's left, right and winner = left | right |
tie also work), or Parquet with the Arena columns (recognised by its
content). A battle with "failed": true is counted as failed, never rated. A
file with no valid battle is an error. "-" reads stdin.

Ratings are the exact Bradley–Terry maximum-likelihood fit (Newton's method
to a gradient of 1e-9; ties count as half a win) on Chatbot Arena's scale,
400·β + 1000 with mean 1000 or an anchor. Intervals are percentile bootstrap
intervals (seeded, resampling battles). Rank is 1 + the number of models
whose lower bound is above this model's upper bound. The elo column is
Arena's online Elo (K 4) in time order.`

// leaderboardFlags are the settings of one leaderboard run.
type leaderboardFlags struct {
	rounds     int
	seed       uint64
	jsonOut    bool
	ci         float64
	anchor     string
	style      bool
	ties       string
	format     string
	strict     bool
	data       string
	since      string
	until      string
	models     string
	categories string
	languages  string
	sources    string
	contrib    string
	exclude    string
	matrices   bool
	workers    int
	weighting  string
	fragility  bool
	elo        analytics.EloParams
}

func runLeaderboard(ctx context.Context, args []string, e env) error {
	fs, f := newLeaderboardFlags(e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError{fmt.Sprintf("leaderboard takes at most one FILE; got %d arguments", fs.NArg())}
	}
	opt, err := f.options()
	if err != nil {
		return err
	}
	prog := newProgress(e.stderr)
	opt.Progress = prog.update
	readStart := time.Now()
	var d analytics.Dataset
	in := inputInfo{}
	var liveStore *store.Store // the live store read, if any: its policy labels the board
	if fs.NArg() == 1 {
		if err := f.readFile(fs.Arg(0), &d, &in, e); err != nil {
			return err
		}
	} else {
		closer, err := f.readStore(ctx, &d, &in, &opt)
		if err != nil {
			return err
		}
		defer closer.Close()
		liveStore, _ = closer.(*store.Store)
	}
	in.ReadSeconds = time.Since(readStart).Seconds()
	fitStart := time.Now()
	lb, err := analytics.Compute(ctx, &d, opt)
	prog.done()
	if err != nil {
		return err
	}
	if lb, err = labelLive(ctx, lb, liveStore); err != nil {
		return err
	}
	in.FitSeconds = time.Since(fitStart).Seconds()
	if f.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(leaderboardOutput{Leaderboard: lb, Input: &in})
	}
	return writeTable(e.stdout, lb, &in)
}

// newLeaderboardFlags declares leaderboard's flags.
func newLeaderboardFlags(e env) (*flag.FlagSet, *leaderboardFlags) {
	fs := newFlagSet("leaderboard", leaderboardUsage, e)
	f := &leaderboardFlags{elo: analytics.ArenaElo()}
	fs.IntVar(&f.rounds, "rounds", 1000, "bootstrap rounds (0: no intervals)")
	fs.Uint64Var(&f.seed, "seed", 0, "bootstrap seed")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON document instead of a table")
	fs.Float64Var(&f.ci, "ci", 0.95, "confidence level of the intervals")
	fs.StringVar(&f.anchor, "anchor", "", "pin a model's rating, MODEL=RATING (Arena: mixtral-8x7b-instruct-v0.1=1114)")
	fs.BoolVar(&f.style, "style", false, "style control: Bradley–Terry with length and markdown covariates (Wald intervals)")
	fs.BoolVar(&f.fragility, "fragility", false, "fragility audit: for each pair of adjacent models, the fewest votes whose removal swaps them, and the leader's margin owed to the top 1% of contributors")
	fs.StringVar(&f.weighting, "weighting", analytics.WeightingPlain, "plain (every vote weighs one), or reliability (crowd Bradley–Terry: votes weighted by their contributor's fitted reliability, capped per contributor; intervals resample contributors)")
	fs.StringVar(&f.ties, "ties", "include", "ties: include (as half a win) or exclude")
	fs.StringVar(&f.format, "format", "", "file format: json, jsonl or csv (default: from the name or content)")
	fs.BoolVar(&f.strict, "strict", false, "fail at the first bad line instead of skipping it")
	fs.StringVar(&f.data, "data", or(e.getenv("AGORA_DATA"), "./agora-data"), "data directory of the live store, used when no FILE is given")
	fs.StringVar(&f.since, "since", "", "keep battles at or after this time (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&f.until, "until", "", "keep battles before this time (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&f.models, "models", "", "keep battles between these models (comma-separated)")
	fs.StringVar(&f.categories, "category", "", "keep these categories (comma-separated)")
	fs.StringVar(&f.languages, "language", "", "keep these languages (comma-separated)")
	fs.StringVar(&f.sources, "source", "", "keep these sources (comma-separated)")
	fs.StringVar(&f.contrib, "contributors", "", "keep only these contributors (comma-separated)")
	fs.StringVar(&f.exclude, "exclude-contributors", "", "drop these contributors (comma-separated)")
	fs.BoolVar(&f.matrices, "matrices", true, "include the pair matrices in --json output")
	fs.IntVar(&f.workers, "workers", 0, "bootstrap goroutines (default: all cores)")
	fs.Float64Var(&f.elo.K, "elo-k", f.elo.K, "online Elo K factor")
	fs.Float64Var(&f.elo.Scale, "elo-scale", f.elo.Scale, "online Elo scale")
	fs.Float64Var(&f.elo.Base, "elo-base", f.elo.Base, "online Elo base")
	fs.Float64Var(&f.elo.Initial, "elo-initial", f.elo.Initial, "online Elo initial rating")
	return fs, f
}

// readFile reads a file of battles into d, reporting its bad lines.
func (f *leaderboardFlags) readFile(file string, d *analytics.Dataset, in *inputInfo, e env) error {
	in.File = file
	failedBefore := d.Failed()
	st, format, err := readBattleFile(in.File, f.format, formats.ReadOptions{Strict: f.strict, Style: f.style}, d)
	if err != nil {
		return err
	}
	in.Format, in.Lines, in.Skipped, in.Failed = format, st.Lines, st.Bad, int(d.Failed()-failedBefore)
	for _, le := range st.Errors {
		in.Errors = append(in.Errors, le.Error())
	}
	if st.Bad > 0 {
		fmt.Fprintf(e.stderr, "agora: %s: skipped %d bad lines of %d (--strict to fail instead):\n", in.File, st.Bad, st.Lines)
		for _, le := range st.Errors {
			fmt.Fprintf(e.stderr, "  %v\n", le)
		}
		if st.Bad > len(st.Errors) {
			fmt.Fprintf(e.stderr, "  ... and %d more\n", st.Bad-len(st.Errors))
		}
	}
	if st.Records == 0 {
		return fmt.Errorf("%s: no valid battle in %d lines (%d bad)", in.File, st.Lines, st.Bad)
	}
	return nil
}

// readStore reads the live store's vote summaries into d, and narrows opt
// by its quarantine and gold accuracy; the caller closes what it returns.
func (f *leaderboardFlags) readStore(ctx context.Context, d *analytics.Dataset, in *inputInfo, opt *analytics.Options) (io.Closer, error) {
	in.Store = f.data
	src, closer, err := openLiveRecords(f.data)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (io.Closer, error) {
		closer.Close()
		return nil, err
	}
	if in.Skipped, err = analytics.LoadSummaries(ctx, src, -1, d, nil); err != nil {
		return fail(err)
	}
	if in.Quarantined, err = excludeQuarantined(ctx, src, opt); err != nil {
		return fail(err)
	}
	if err := withGoldPrior(ctx, src, opt); err != nil {
		return fail(err)
	}
	return closer, nil
}

// readBattleFile reads the battles of a file (the path "-" reads stdin)
// as summaries passed to sink: a Parquet file (by its content) row by row as
// Arena JSON, JSON, JSONL or CSV by format, else by the file's extension,
// else by its first byte. It returns the format read.
func readBattleFile(path, format string, opt formats.ReadOptions, sink formats.CountSink) (formats.ReadStats, string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			return formats.ReadStats{}, "", err
		}
		defer fh.Close()
		rows, stop, err := parquetInput(fh, false)
		if err != nil {
			return formats.ReadStats{}, "", fmt.Errorf("%s: %w", path, err)
		}
		if rows != nil {
			defer stop()
			st, err := formats.ReadCounts(rows, formats.ImportArena, opt, sink)
			return st, "parquet", pathError(path, err)
		}
		r = fh
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			opt.SizeHint = fi.Size()
		}
	}
	br := bufio.NewReaderSize(r, 1<<20)
	format = cmp.Or(format, battleFileFormat(path), formats.SniffBattles(br))
	f := formats.ImportArena
	switch format {
	case "csv":
		f = formats.ImportCSV
	case "json", "jsonl":
	default:
		return formats.ReadStats{}, "", fmt.Errorf("unknown battle file format %q (want json, jsonl or csv)", format)
	}
	st, err := formats.ReadCounts(br, f, opt, sink)
	return st, format, pathError(path, err)
}

// battleFileFormat returns the format a battle file's extension names, or "".
func battleFileFormat(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "json"
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".csv":
		return "csv"
	}
	return ""
}

// pathError prefixes a read error with the file's path.
func pathError(path string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// inputInfo says what was read; it is the "input" member of --json output.
type inputInfo struct {
	File        string   `json:"file,omitempty"`
	Store       string   `json:"store,omitempty"`
	Quarantined int      `json:"quarantined,omitempty"` // the store's quarantined contributors, left out
	Format      string   `json:"format,omitempty"`
	Lines       int      `json:"lines,omitempty"`
	Skipped     int      `json:"skipped"`
	Failed      int      `json:"failed"` // battles marked failed in the file: never rated
	Errors      []string `json:"errors,omitempty"`
	ReadSeconds float64  `json:"read_seconds"`
	FitSeconds  float64  `json:"fit_seconds"`
}

// leaderboardOutput is the --json document: the leaderboard's members plus
// "input".
type leaderboardOutput struct {
	*analytics.Leaderboard
	Input *inputInfo `json:"input,omitempty"`
}

// options turns the flags into analytics options.
func (f *leaderboardFlags) options() (analytics.Options, error) {
	opt := analytics.DefaultOptions()
	opt.Rounds, opt.Seed, opt.CI, opt.Style, opt.Workers, opt.Elo = f.rounds, f.seed, f.ci, f.style, f.workers, f.elo
	opt.Matrices, opt.Fragility = f.matrices, f.fragility
	switch f.weighting {
	case analytics.WeightingPlain:
	case analytics.WeightingReliability:
		if f.style {
			return opt, usageError{"--weighting reliability and --style cannot be combined"}
		}
		opt.Weighting = f.weighting
	default:
		return opt, usageError{fmt.Sprintf("--weighting %q: want plain or reliability", f.weighting)}
	}
	if f.rounds < 0 {
		return opt, usageError{fmt.Sprintf("--rounds %d: must be 0 or more", f.rounds)}
	}
	if f.ci <= 0 || f.ci >= 1 {
		return opt, usageError{fmt.Sprintf("--ci %g: must be between 0 and 1, like 0.95", f.ci)}
	}
	if f.anchor != "" {
		i := strings.LastIndexByte(f.anchor, '=')
		if i <= 0 {
			return opt, usageError{fmt.Sprintf("--anchor %q: want MODEL=RATING", f.anchor)}
		}
		r, err := strconv.ParseFloat(f.anchor[i+1:], 64)
		if err != nil {
			return opt, usageError{fmt.Sprintf("--anchor %q: rating: %v", f.anchor, err)}
		}
		opt.Anchor, opt.AnchorRating = f.anchor[:i], r
	}
	switch f.ties {
	case "include":
	case "exclude":
		opt.Filter.ExcludeTies = true
	default:
		return opt, usageError{fmt.Sprintf("--ties %q: want include or exclude", f.ties)}
	}
	var err error
	if opt.Filter.Since, err = parseWhen("since", f.since); err != nil {
		return opt, err
	}
	if opt.Filter.Until, err = parseWhen("until", f.until); err != nil {
		return opt, err
	}
	opt.Filter.Models = splitList(f.models)
	opt.Filter.Categories = splitList(f.categories)
	opt.Filter.Languages = splitList(f.languages)
	opt.Filter.Sources = splitList(f.sources)
	opt.Filter.Contributors = splitList(f.contrib)
	opt.Filter.ExcludeContributors = splitList(f.exclude)
	return opt, nil
}

// excludeQuarantined leaves the store's quarantined contributors out of
// the leaderboard, as the live server does, and returns how many there are.
func excludeQuarantined(ctx context.Context, src any, opt *analytics.Options) (int, error) {
	store, ok := src.(interface {
		Quarantined(context.Context) ([]rlhf.Quarantine, error)
	})
	if !ok {
		return 0, nil
	}
	qs, err := store.Quarantined(ctx)
	if err != nil {
		return 0, err
	}
	for _, q := range qs {
		opt.Filter.ExcludeContributors = append(opt.Filter.ExcludeContributors, q.Contributor)
	}
	return len(qs), nil
}

func parseWhen(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--%s %q: want RFC 3339 (2024-05-01T00:00:00Z) or YYYY-MM-DD", name, s)}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// writeTable prints the readable leaderboard.
func writeTable(w io.Writer, lb *analytics.Leaderboard, in *inputInfo) error {
	method := "Bradley–Terry, exact maximum likelihood (Newton), ties as half a win"
	if lb.Ties == "excluded" {
		method = "Bradley–Terry, exact maximum likelihood (Newton), ties excluded"
	}
	if lb.Solver.Prior > 0 {
		method = strings.Replace(method, "exact maximum likelihood", fmt.Sprintf("maximum a posteriori with a weak prior (λ=%g; see warnings)", lb.Solver.Prior), 1)
	}
	interval := fmt.Sprintf("%g%% bootstrap intervals, %d rounds, seed %d", 100*lb.CI, lb.Rounds, lb.Seed)
	switch lb.Interval {
	case "wald":
		method += ", style control"
		interval = fmt.Sprintf("%g%% Wald intervals", 100*lb.CI)
	case "none":
		interval = "no intervals (--rounds 0)"
	case "bootstrap-percentile-contributors":
		interval = fmt.Sprintf("%g%% bootstrap intervals resampling contributors, %d rounds, seed %d", 100*lb.CI, lb.Rounds, lb.Seed)
	}
	if lb.Reliability != nil {
		method = strings.Replace(method, "Bradley–Terry", "crowd Bradley–Terry (votes weighted by their contributor's reliability)", 1)
	}
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "%s; %s.\n", method, interval)
	scale := "mean 1000"
	if lb.Anchor != nil {
		scale = fmt.Sprintf("%s = %g", lb.Anchor.Model, lb.Anchor.Rating)
	}
	fmt.Fprintf(bw, "%d battles, %d models; scale 400·β + 1000, %s; elo is online Elo (K %g) in time order.\n\n",
		lb.Battles, len(lb.Models), scale, lb.Elo.K)
	width := len("model")
	for _, r := range lb.Models {
		width = max(width, utf8.RuneCountInString(r.Model))
	}
	plainCol := lb.Reliability != nil // the plain Bradley–Terry rating beside the weighted one
	head := "W/L/T"
	if plainCol {
		head = fmt.Sprintf("%-11s  %7s", head, "plain")
	}
	fmt.Fprintf(bw, "%4s  %-*s  %7s  %13s  %7s  %8s  %s\n", "rank", width, "model", "rating", "interval", "elo", "battles", head)
	for _, r := range lb.Models {
		pad := width - utf8.RuneCountInString(r.Model) + len(r.Model)
		wlt := fmt.Sprintf("%d/%d/%d", r.Wins, r.Losses, r.Ties)
		if plainCol && r.UnadjustedRating != nil {
			wlt = fmt.Sprintf("%-11s  %7.1f", wlt, *r.UnadjustedRating)
		}
		fmt.Fprintf(bw, "%4d  %-*s  %7.1f  %13s  %7.1f  %8d  %s%s\n",
			r.Rank, pad, r.Model, r.Rating, fmt.Sprintf("%+.1f/%+.1f", r.CIUpper-r.Rating, r.CILower-r.Rating),
			r.Elo, r.Battles, wlt, policyLabel(r))
	}
	writeFragility(bw, lb.Fragility)
	if rel := lb.Reliability; rel != nil {
		fmt.Fprintf(bw, "\nReliability: %d contributors, %d unreliable (%d flip their votes), %d capped; threshold %.1f.\n",
			rel.Contributors, rel.Unreliable, rel.Flippers, rel.Capped, rel.Threshold)
	}
	if lb.Style != nil {
		fmt.Fprintf(bw, "\nStyle coefficients (log-odds per standard deviation; %d battles with style):\n", lb.Style.Battles)
		for _, c := range lb.Style.Coefficients {
			fmt.Fprintf(bw, "  %-8s %+.4f ± %.4f\n", c.Feature, c.Coefficient, c.StdErr)
		}
	}
	if len(lb.Warnings) > 0 {
		fmt.Fprintln(bw, "\nWarnings:")
		for _, m := range lb.Warnings {
			fmt.Fprintf(bw, "  - %s\n", m)
		}
	}
	return bw.err
}

// writeFragility prints the fragility audit, if any.
func writeFragility(w io.Writer, fr *analytics.Fragility) {
	if fr == nil {
		return
	}
	fmt.Fprintln(w, "\nFragility (plain Bradley–Terry; votes whose removal swaps adjacent models, confirmed by refits):")
	for r, p := range fr.Pairs {
		holds := fmt.Sprintf("holds unless %d votes are removed", p.VotesToSwap)
		if p.VotesToSwap < 0 {
			holds = "holds whatever votes are removed"
		}
		fmt.Fprintf(w, "  %d. %s over %s (%.1f points) %s\n", r+1, p.Upper, p.Lower, p.Margin, holds)
	}
	if l := fr.Leader; l != nil {
		fmt.Fprintf(w, "  The top %d contributor(s) (%d votes) account for %.0f%% of the leader's margin.\n", l.Contributors, l.Votes, 100*l.Share)
	}
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// progress prints stage progress on a terminal's stderr, at most ten times a
// second; it prints nothing when stderr is not a terminal.
type progress struct {
	mu    sync.Mutex // guards last and shown
	w     io.Writer
	last  time.Time
	on    bool
	shown bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(stage string, done, total int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done == total {
		p.last = now
		fmt.Fprintf(p.w, "\r%s %d/%d ", stage, done, total)
		p.shown = true
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
