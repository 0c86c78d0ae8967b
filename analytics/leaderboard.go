package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options controls a leaderboard computation.
type Options struct {
	Filter Filter
	// Rounds is the number of bootstrap rounds; zero computes no intervals
	// (the bounds equal the rating).
	Rounds int
	Seed   uint64
	// CI is the coverage of the percentile interval, 0.95 for the
	// 2.5%–97.5% bounds.
	CI float64
	// Anchor, when set and present, is shifted to AnchorRating; otherwise
	// ratings have mean 1000.
	Anchor       string
	AnchorRating float64
	// Style fits Bradley–Terry with style covariates; the ratings are the
	// style-controlled ones and the intervals are Wald intervals.
	Style    bool
	Elo      EloParams
	Tol      float64 // solver gradient tolerance; zero means DefaultTol
	Workers  int     // bootstrap and style-fit goroutines; zero means GOMAXPROCS
	Matrices bool    // include the pair matrices
	// Weighting is WeightingPlain (the default when empty) or
	// WeightingReliability: crowd Bradley–Terry, with intervals from a
	// bootstrap over contributors.
	Weighting   string
	Reliability ReliabilityOptions
	// Fragility adds the fragility audit of the plain fit (see Fragility).
	Fragility bool
	// MaxAge lets a live leaderboard answer with a fit made up to this
	// long ago although votes arrived since; zero refits after any vote.
	// It does not change the result, only how fresh it must be.
	MaxAge time.Duration
	// Progress, when set, is called from any goroutine as work advances.
	Progress func(stage string, done, total int)
}

// DefaultOptions returns Chatbot Arena's conventions: 1000 bootstrap rounds,
// 95% intervals, mean rating 1000, Arena's online Elo, matrices included.
func DefaultOptions() Options {
	return Options{Rounds: 1000, CI: 0.95, Elo: ArenaElo(), Matrices: true}
}

// Leaderboard is a computed leaderboard; its JSON form is the documented
// output of "agora leaderboard --json" and GET /api/v1/leaderboard.
type Leaderboard struct {
	Method   string       `json:"method"`
	Rounds   int          `json:"rounds"`
	Seed     uint64       `json:"seed"`
	Battles  int64        `json:"battles"`
	Failed   int64        `json:"failed"` // battles where a side failed: never rated, whatever the filter
	Models   []Row        `json:"models"`
	CI       float64      `json:"ci"`
	Interval string       `json:"interval"`
	Anchor   *Anchor      `json:"anchor,omitempty"`
	Ties     string       `json:"ties"`
	Elo      EloParams    `json:"elo"`
	Solver   Solver       `json:"solver"`
	Style    *StyleReport `json:"style,omitempty"`
	Matrices *Matrices    `json:"matrices,omitempty"`
	Warnings []string     `json:"warnings"`

	// Uncounted is the number of votes kept but left out of every
	// leaderboard (rlhf.Record.Counted: not anonymous).
	Uncounted int64 `json:"uncounted"`
	// Reliability reports the reliability weighting, when used.
	Reliability *ReliabilityReport `json:"reliability,omitempty"`
	// Fragility is the fragility audit, when asked for.
	Fragility *Fragility `json:"fragility,omitempty"`
	// Policy is set when the leaderboard policy labelled the rows.
	Policy *PolicyNote `json:"policy,omitempty"`
}

// Row is one model's line.
type Row struct {
	Model   string  `json:"model"`
	Rating  float64 `json:"rating"`
	CILower float64 `json:"ci_lower"`
	CIUpper float64 `json:"ci_upper"`
	Rank    int     `json:"rank"`
	Elo     float64 `json:"elo"`
	Battles int64   `json:"battles"`
	Wins    int64   `json:"wins"`
	Losses  int64   `json:"losses"`
	Ties    int64   `json:"ties"`
	// UnadjustedRating is the plain Bradley–Terry rating, set with style
	// control and with reliability weighting.
	UnadjustedRating *float64 `json:"unadjusted_rating,omitempty"`
	// Provisional and Deprecated are the leaderboard policy's labels
	// (arena/policy): a provisional rating is not final yet, and why.
	Provisional       bool   `json:"provisional"`
	ProvisionalReason string `json:"provisional_reason,omitempty"`
	Deprecated        bool   `json:"deprecated,omitempty"`
}

// PolicyNote names the leaderboard policy whose labels a board carries.
type PolicyNote struct {
	Version    int   `json:"version"`
	MinVotes   int64 `json:"min_votes"`
	FreshVotes int64 `json:"fresh_votes"`
	Hidden     int   `json:"unlisted_hidden"` // unlisted models left out of the board
}

// Anchor is the model pinned to a rating.
type Anchor struct {
	Model  string  `json:"model"`
	Rating float64 `json:"rating"`
}

// Solver reports how the ratings were computed.
type Solver struct {
	Name       string  `json:"name"`
	Tol        float64 `json:"tol"`
	Iterations int     `json:"iterations"`
	Gradient   float64 `json:"gradient"`
	Prior      float64 `json:"prior"`
	// BootstrapIterations is the mean number of iterations per round.
	BootstrapIterations float64 `json:"bootstrap_iterations,omitempty"`
}

// Matrices are indexed in leaderboard order (Models).
type Matrices struct {
	Models      []string     `json:"models"`
	Battles     [][]int64    `json:"battles"`
	WinFraction [][]*float64 `json:"win_fraction"` // wins/(wins+losses), ties excluded; null without decisive battles
	Predicted   [][]*float64 `json:"predicted"`    // 1/(1+10^((R_j−R_i)/400)); null on the diagonal
}

// StyleReport gives the style coefficients: the change in log-odds of
// winning per standard deviation of each normalized feature difference.
type StyleReport struct {
	Coefficients []StyleCoefficient `json:"coefficients"`
	Battles      int64              `json:"battles"` // battles with measured style
}

// StyleCoefficient is one style feature's coefficient and standard error.
type StyleCoefficient struct {
	Feature     string  `json:"feature"`
	Coefficient float64 `json:"coefficient"`
	StdErr      float64 `json:"std_err"`
}

// ratingScale turns natural-log strengths into rating points: 400/ln 10.
var ratingScale = 400 / math.Ln10

// Compute computes the leaderboard of the battles of d that opt.Filter keeps.
func Compute(ctx context.Context, d *Dataset, opt Options) (*Leaderboard, error) {
	opt.fill()
	sel := opt.Filter.compile(d)
	progress(opt, "count", 0, 1)
	// Online Elo is sequential: run it on its own core while the counts
	// are made and the fit and bootstrap start.
	eloDone := make(chan []float64, 1)
	go func() { eloDone <- d.elo(&sel, opt.Elo) }()
	c := d.count(&sel)
	progress(opt, "count", 1, 1)
	lb, err := computeCounts(ctx, c, func() []float64 { return <-eloDone }, d, &sel, opt, RunBootstrap)
	if lb != nil {
		lb.Uncounted = d.uncounted
	}
	return lb, err
}

// fill gives zero Elo parameters and a zero confidence level their Arena
// defaults, so that a partly filled Options works.
func (o *Options) fill() {
	if o.Elo == (EloParams{}) {
		o.Elo = ArenaElo()
	}
	if o.CI == 0 {
		o.CI = 0.95
	}
}

func progress(opt Options, stage string, done, total int) {
	if opt.Progress != nil {
		opt.Progress(stage, done, total)
	}
}

// bootstrapFunc runs the bootstrap of a fit: RunBootstrap, or a live
// leaderboard's incremental one.
type bootstrapFunc func(ctx context.Context, n int, pairs []Pair, fit *Fit, opt BootstrapOptions) (*Bootstrap, error)

// computeCounts fits and assembles a leaderboard from counts, with the
// intervals boot gives; d and sel are needed only for style control,
// reliability weighting and the fragility audit.
func computeCounts(ctx context.Context, c *Counts, eloFn func() []float64, d *Dataset, sel *selector, opt Options, boot bootstrapFunc) (*Leaderboard, error) {
	// Whatever happens, wait for the Elo goroutine: d must not change
	// under it after Compute returns.
	var eloByID []float64
	eloWait := sync.OnceFunc(func() { eloByID = eloFn() })
	defer eloWait()
	if err := checkOptions(opt); err != nil {
		return nil, err
	}
	lb := newLeaderboard(c, opt)
	if c.N() == 0 {
		lb.Warnings = append(lb.Warnings, "no battles match the filter")
		return lb, nil
	}
	pairs := c.Pairs()
	fit, err := plainFit(lb, c, pairs, opt)
	if err != nil {
		return nil, err
	}
	sc := newScale(lb, c, opt)
	plain := sc.ratings(fit.Beta)
	var iv intervals
	switch {
	case opt.Style:
		iv, err = styleIntervals(ctx, lb, d, sel, c, fit, sc, opt)
	case opt.Weighting == WeightingReliability:
		iv, err = reliabilityIntervals(ctx, lb, d, sel, c, fit, sc, opt)
	case opt.Rounds > 0:
		iv, err = bootstrapIntervals(ctx, lb, pairs, fit, sc, opt, boot)
		iv.ratings = plain
	default:
		iv = intervals{ratings: plain, lower: slices.Clone(plain), upper: slices.Clone(plain)}
	}
	if err != nil {
		return nil, err
	}
	if opt.Fragility {
		if lb.Fragility, err = audit(ctx, d, sel, c, pairs, fit); err != nil {
			return nil, err
		}
	}
	eloWait()
	addRows(lb, c, iv.ratings, iv.lower, iv.upper, eloByID, opt, plain)
	return lb, nil
}

// checkOptions rejects options no leaderboard can have.
func checkOptions(opt Options) error {
	if opt.CI <= 0 || opt.CI >= 1 {
		return fmt.Errorf("confidence level %g is not between 0 and 1", opt.CI)
	}
	if opt.Rounds < 0 {
		return fmt.Errorf("bootstrap rounds %d is negative", opt.Rounds)
	}
	return nil
}

// newLeaderboard returns the leaderboard's header for counts c.
func newLeaderboard(c *Counts, opt Options) *Leaderboard {
	lb := &Leaderboard{
		Method: "bradley-terry", Rounds: opt.Rounds, Seed: opt.Seed, Battles: c.Battles, Failed: c.Failed,
		CI: opt.CI, Interval: "bootstrap-percentile", Ties: "half-win", Elo: opt.Elo,
		Models: []Row{}, Warnings: []string{},
	}
	if opt.Filter.ExcludeTies {
		lb.Ties = "excluded"
	}
	if opt.Rounds == 0 {
		lb.Interval = "none"
	}
	return lb
}

// tolerance returns the solver's gradient tolerance.
func (o *Options) tolerance() float64 {
	if o.Tol == 0 {
		return DefaultTol
	}
	return o.Tol
}

// plainFit fits Bradley–Terry to the pairs, with the weak prior when the
// exact estimate does not exist, and notes why in lb.
func plainFit(lb *Leaderboard, c *Counts, pairs []Pair, opt Options) (*Fit, error) {
	n, tol := c.N(), opt.tolerance()
	diag := Diagnose(n, pairs)
	prior := 0.0
	if !diag.Exact() {
		prior = DefaultPrior
		lb.Warnings = append(lb.Warnings, diagnosisWarnings(c, diag)...)
	}
	for i := 0; i < n; i++ {
		if w, l, t := c.Record(i); w+l+t == 1 {
			lb.Warnings = append(lb.Warnings, fmt.Sprintf("%s has a single battle: its rating is barely determined", c.Models[i]))
		}
	}
	fit, err := FitNewton(n, pairs, FitOptions{Tol: tol, Prior: prior})
	if err != nil {
		return nil, err
	}
	lb.Solver = Solver{Name: "newton", Tol: tol, Iterations: fit.Iterations, Gradient: fit.Gradient, Prior: prior}
	return fit, nil
}

// scale turns log-strengths into ratings: mean 1000, or the anchor model
// at its rating.
type scale struct {
	anchor       int // -1: none
	anchorRating float64
}

// newScale finds the anchor model, noting in lb when it has no battles.
func newScale(lb *Leaderboard, c *Counts, opt Options) scale {
	sc := scale{anchor: -1, anchorRating: opt.AnchorRating}
	if opt.Anchor == "" {
		return sc
	}
	if sc.anchor = c.Index(opt.Anchor); sc.anchor < 0 {
		lb.Warnings = append(lb.Warnings, fmt.Sprintf("anchor model %q has no battles; ratings have mean 1000 instead", opt.Anchor))
	} else {
		lb.Anchor = &Anchor{Model: opt.Anchor, Rating: opt.AnchorRating}
	}
	return sc
}

func (sc scale) ratings(beta []float64) []float64 {
	r := make([]float64, len(beta))
	var mean float64
	for i, b := range beta {
		r[i] = ratingScale * b
		mean += r[i]
	}
	mean /= float64(len(beta))
	shift := 1000 - mean
	if sc.anchor >= 0 {
		shift = sc.anchorRating - r[sc.anchor]
	}
	for i := range r {
		r[i] += shift
	}
	return r
}

// intervals are the ratings a leaderboard shows and their bounds.
type intervals struct {
	ratings, lower, upper []float64
}

// styleIntervals fits style control and returns its ratings with Wald
// intervals.
func styleIntervals(ctx context.Context, lb *Leaderboard, d *Dataset, sel *selector, c *Counts, fit *Fit, sc scale, opt Options) (intervals, error) {
	lb.Method = "bradley-terry-style-control"
	lb.Interval = "wald"
	sf, err := fitStyle(ctx, d, sel, c, fit.Beta, fit.Prior, opt.tolerance(), opt.Workers)
	if err != nil {
		return intervals{}, err
	}
	lb.Solver.Iterations, lb.Solver.Gradient = sf.iterations, sf.gradient
	lb.Style = &StyleReport{Battles: sf.styled}
	for k, f := range StyleFeatures {
		lb.Style.Coefficients = append(lb.Style.Coefficients, StyleCoefficient{Feature: f, Coefficient: sf.gamma[k], StdErr: sf.gammaSE[k]})
	}
	if sf.styled == 0 {
		lb.Warnings = append(lb.Warnings, "no battle has style features: style control changes nothing")
	} else if sf.styled < c.Battles {
		lb.Warnings = append(lb.Warnings, fmt.Sprintf("%d of %d battles lack style features; they enter at the mean style difference", c.Battles-sf.styled, c.Battles))
	}
	iv := intervals{ratings: sc.ratings(sf.beta)}
	iv.lower, iv.upper = make([]float64, len(iv.ratings)), make([]float64, len(iv.ratings))
	z := math.Sqrt2 * math.Erfinv(opt.CI)
	for i, r := range iv.ratings {
		half := z * ratingScale * math.Sqrt(max(sf.variance(i, sc.anchor), 0))
		iv.lower[i], iv.upper[i] = r-half, r+half
	}
	return iv, nil
}

// reliabilityIntervals fits crowd Bradley–Terry and returns its ratings
// with intervals from a bootstrap over contributors.
func reliabilityIntervals(ctx context.Context, lb *Leaderboard, d *Dataset, sel *selector, c *Counts, fit *Fit, sc scale, opt Options) (intervals, error) {
	prior := fit.Prior
	beta, rounds, rep, err := reliabilityBoard(ctx, d, sel, c, prior, opt.tolerance(), opt)
	if err != nil {
		return intervals{}, err
	}
	lb.Method, lb.Interval, lb.Reliability = "crowd-bradley-terry", "bootstrap-percentile-contributors", rep
	if rep.Prior != prior {
		lb.Solver.Prior = rep.Prior
		lb.Warnings = append(lb.Warnings, fmt.Sprintf("with unreliable contributors' votes reweighted, the exact estimate does not exist: fitted with the weak prior λ=%g", rep.Prior))
	}
	iv := intervals{ratings: sc.ratings(beta)}
	iv.lower, iv.upper = slices.Clone(iv.ratings), slices.Clone(iv.ratings)
	if len(rounds) > 0 {
		iv.lower, iv.upper = percentiles(rounds, sc.ratings, opt.CI)
	}
	return iv, nil
}

// bootstrapIntervals runs boot and returns the percentile bounds of the
// plain fit's ratings (ratings left for the caller).
func bootstrapIntervals(ctx context.Context, lb *Leaderboard, pairs []Pair, fit *Fit, sc scale, opt Options, boot bootstrapFunc) (intervals, error) {
	bo := BootstrapOptions{Rounds: opt.Rounds, Seed: opt.Seed, Workers: opt.Workers}
	if opt.Progress != nil {
		bo.Progress = func(done, total int) { opt.Progress("bootstrap", done, total) }
	}
	bs, err := boot(ctx, len(fit.Beta), pairs, fit, bo)
	if err != nil {
		return intervals{}, err
	}
	lb.Solver.BootstrapIterations = float64(bs.Iterations) / float64(opt.Rounds)
	if bs.PriorRounds > 0 {
		lb.Warnings = append(lb.Warnings, fmt.Sprintf("%d of %d bootstrap rounds had no finite exact estimate (a model with few battles lost all its losses or wins) and used the weak prior λ=%g", bs.PriorRounds, opt.Rounds, DefaultPrior))
	}
	var iv intervals
	iv.lower, iv.upper = percentiles(bs.Beta, sc.ratings, opt.CI)
	return iv, nil
}

// audit runs the fragility audit of the plain fit; the leader's share needs
// the battles (d).
func audit(ctx context.Context, d *Dataset, sel *selector, c *Counts, pairs []Pair, fit *Fit) (*Fragility, error) {
	order := make([]int, c.N())
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(fit.Beta[y], fit.Beta[x]) })
	fr, err := fragility(ctx, c, pairs, fit, order)
	if err != nil {
		return nil, fmt.Errorf("fragility audit: %w", err)
	}
	if d != nil {
		fr.Leader = leaderShare(d, sel, c, fit, order)
	}
	return fr, nil
}

// addRows fills lb's rows, in rating order, and its matrices.
func addRows(lb *Leaderboard, c *Counts, ratings, lower, upper, eloByID []float64, opt Options, plain []float64) {
	n := c.N()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		switch {
		case ratings[x] > ratings[y]:
			return -1
		case ratings[x] < ratings[y]:
			return 1
		}
		return strings.Compare(c.Models[x], c.Models[y])
	})
	for _, i := range order {
		w, l, t := c.Record(i)
		row := Row{
			Model: c.Models[i], Rating: ratings[i], CILower: lower[i], CIUpper: upper[i],
			Rank: 1, Battles: w + l + t, Wins: w, Losses: l, Ties: t,
		}
		for j := 0; j < n; j++ {
			if lower[j] > upper[i] {
				row.Rank++
			}
		}
		row.Elo = opt.Elo.Initial
		for id, k := range c.ids {
			if int(k) == i && id < len(eloByID) {
				row.Elo = eloByID[id]
			}
		}
		if opt.Style || opt.Weighting == WeightingReliability {
			u := plain[i]
			row.UnadjustedRating = &u
		}
		lb.Models = append(lb.Models, row)
	}
	if opt.Matrices {
		lb.Matrices = matrices(c, order, ratings)
	}
}

// percentiles returns the percentile interval of each model's rating over
// the bootstrap rounds.
func percentiles(rounds [][]float64, toRatings func([]float64) []float64, ci float64) (lower, upper []float64) {
	n := len(rounds[0])
	samples := make([][]float64, n)
	for i := range samples {
		samples[i] = make([]float64, len(rounds))
	}
	for r, beta := range rounds {
		for i, v := range toRatings(beta) {
			samples[i][r] = v
		}
	}
	lower, upper = make([]float64, n), make([]float64, n)
	lo, hi := (1-ci)/2, 1-(1-ci)/2
	for i, s := range samples {
		slices.Sort(s)
		lower[i], upper[i] = Quantile(s, lo), Quantile(s, hi)
	}
	return lower, upper
}

func diagnosisWarnings(c *Counts, d *Diagnosis) []string {
	names := func(ix []int) string {
		s := make([]string, len(ix))
		for k, i := range ix {
			s[k] = c.Models[i]
		}
		slices.Sort(s)
		if len(s) > 10 {
			return strings.Join(s[:10], ", ") + fmt.Sprintf(" and %d more", len(s)-10)
		}
		return strings.Join(s, ", ")
	}
	var w []string
	if len(d.Components) > 1 {
		w = append(w, fmt.Sprintf("the comparison graph has %d disconnected parts: ratings in different parts are not comparable (each part is centred by the prior)", len(d.Components)))
	}
	if len(d.Unbeaten) > 0 {
		w = append(w, "never lost nor tied: "+names(d.Unbeaten)+" (their ratings are bounded only by the prior)")
	}
	if len(d.Winless) > 0 {
		w = append(w, "never won nor tied: "+names(d.Winless)+" (their ratings are bounded only by the prior)")
	}
	w = append(w, fmt.Sprintf("the exact Bradley–Terry estimate does not exist (%d strongly connected parts): fitted with a weak Normal(0, 10²) prior on log-strengths (ridge λ=%g)", len(d.Strong), DefaultPrior))
	return w
}

func matrices(c *Counts, order []int, ratings []float64) *Matrices {
	n := c.N()
	m := &Matrices{
		Models:      make([]string, n),
		Battles:     make([][]int64, n),
		WinFraction: make([][]*float64, n),
		Predicted:   make([][]*float64, n),
	}
	for r, i := range order {
		m.Models[r] = c.Models[i]
		m.Battles[r] = make([]int64, n)
		m.WinFraction[r] = make([]*float64, n)
		m.Predicted[r] = make([]*float64, n)
		for s, j := range order {
			if i == j {
				continue
			}
			m.Battles[r][s] = c.Played(i, j)
			if w, l := c.Wins[i*n+j], c.Wins[j*n+i]; w+l > 0 {
				f := float64(w) / float64(w+l)
				m.WinFraction[r][s] = &f
			}
			p := 1 / (1 + math.Pow(10, (ratings[j]-ratings[i])/400))
			m.Predicted[r][s] = &p
		}
	}
	return m
}
