package arena

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Call is the outcome of one model call, as an Observer sees it.
type Call struct {
	Model     string
	Err       error         // nil when the answer came whole
	Cancelled bool          // the caller went away before the answer ended: says nothing of the model
	TTFT      time.Duration // time to the first text; zero when none came
	Duration  time.Duration // the whole call
	TokensIn  int           // prompt tokens: the endpoint's count, or an estimate (see Observe)
	TokensOut int           // completion tokens
}

// Observer receives the outcome of every model call. Observe must be quick
// and safe for concurrent use; *Health and *Usage implement it.
type Observer interface {
	Observe(Call)
}

// UsageModel is a Model that also reports the prompt tokens the endpoint
// counted. Observe uses it when the model implements it.
type UsageModel interface {
	StreamUsage(ctx context.Context, msgs []rlhf.Message, onText func(string)) (finishReason string, tokensIn, tokensOut int, err error)
}

// Observe returns m, named name, wrapped so that the outcome of each call
// goes to every observer. When m does not implement UsageModel, or the
// endpoint sent no count, the prompt tokens are estimated as one token per
// four bytes of the messages plus four per message.
func Observe(name string, m Model, observers ...Observer) Model {
	return &observed{name: name, m: m, obs: observers}
}

type observed struct {
	name string
	m    Model
	obs  []Observer
}

func (o *observed) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, error) {
	finish, _, out, err := o.StreamUsage(ctx, msgs, onText)
	return finish, out, err
}

func (o *observed) StreamUsage(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, int, error) {
	var first time.Time
	text := func(s string) {
		if first.IsZero() {
			first = time.Now()
		}
		onText(s)
	}
	start := time.Now()
	var (
		finish  string
		in, out int
		err     error
	)
	if um, ok := o.m.(UsageModel); ok {
		finish, in, out, err = um.StreamUsage(ctx, msgs, text)
	} else {
		finish, out, err = o.m.Stream(ctx, msgs, text)
	}
	if in == 0 {
		in = estimateTokens(msgs) // the endpoint sent no usage, or cannot
	}
	c := Call{Model: o.name, Err: err, Cancelled: err != nil && ctx.Err() != nil,
		Duration: time.Since(start), TokensIn: in, TokensOut: out}
	if !first.IsZero() {
		c.TTFT = first.Sub(start)
	}
	for _, ob := range o.obs {
		ob.Observe(c)
	}
	return finish, in, out, err
}

// estimateTokens is the usual rough count for English text: four bytes a
// token, plus a few for each message's framing.
func estimateTokens(msgs []rlhf.Message) int {
	n := 0
	for _, m := range msgs {
		n += (len(m.Content)+3)/4 + 4
	}
	return n
}

// Price is what a model's tokens cost, per million, in the configured
// currency.
type Price struct {
	InputPerMillion  float64 `yaml:"input_per_million" json:"input_per_million"`
	OutputPerMillion float64 `yaml:"output_per_million" json:"output_per_million"`
}

// Default histogram buckets, in seconds.
var (
	durationBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300}
	ttftBuckets     = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30}
)

// recentSamples is how many recent calls per model the percentiles of a
// Snapshot are computed over.
const recentSamples = 1024

// Usage counts each model's calls, tokens, latency, time to first token,
// errors and cost. It is an Observer; it is safe for concurrent use.
//
// Latency is recorded for complete answers only, and time to first token
// for every call that was not cancelled and sent text: a failed call's
// duration says how it failed, not how fast the model is. Tokens count
// for every call, cancelled or failed, since the endpoint bills them.
type Usage struct {
	currency string
	prices   map[string]Price // by model; fixed after NewUsage

	mu     sync.Mutex             // guards models
	models map[string]*modelUsage // by model name
}

type modelUsage struct {
	ok, failed, cancelled uint64
	tokensIn, tokensOut   uint64
	duration, ttft        histogram
	recentDur, recentTTFT ring
}

// histogram counts observations in fixed buckets (not cumulative).
type histogram struct {
	counts []uint64 // one per bucket, plus +Inf last
	sum    float64
	n      uint64
}

func (h *histogram) observe(bounds []float64, v float64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(bounds)+1)
	}
	i, _ := slices.BinarySearch(bounds, v) // first bound >= v: le semantics
	h.counts[i]++
	h.sum += v
	h.n++
}

// ring keeps the last recentSamples values.
type ring struct {
	vals []float64
	next int
}

func (r *ring) add(v float64) {
	if len(r.vals) < recentSamples {
		r.vals = append(r.vals, v)
		return
	}
	r.vals[r.next] = v
	r.next = (r.next + 1) % recentSamples
}

// NewUsage returns a Usage for cfg. Models with a price are listed (at
// zero) from the start; others appear with their first call.
func NewUsage(cfg UsageConfig) (*Usage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u := &Usage{currency: cfg.Currency, prices: map[string]Price{}, models: map[string]*modelUsage{}}
	if u.currency == "" {
		u.currency = "USD"
	}
	for name, p := range cfg.Prices {
		u.prices[name] = p
		u.models[name] = &modelUsage{}
	}
	return u, nil
}

// Observe records c.
func (u *Usage) Observe(c Call) {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.models[c.Model]
	if m == nil {
		m = &modelUsage{}
		u.models[c.Model] = m
	}
	m.tokensIn += uint64(max(c.TokensIn, 0))
	m.tokensOut += uint64(max(c.TokensOut, 0))
	switch {
	case c.Cancelled:
		m.cancelled++
		return
	case c.Err != nil:
		m.failed++
	default:
		m.ok++
		m.duration.observe(durationBuckets, c.Duration.Seconds())
		m.recentDur.add(c.Duration.Seconds())
	}
	if c.TTFT > 0 {
		m.ttft.observe(ttftBuckets, c.TTFT.Seconds())
		m.recentTTFT.add(c.TTFT.Seconds())
	}
}

// ModelUsage is one model's usage since the server started.
type ModelUsage struct {
	Model     string  `json:"model"`
	Calls     uint64  `json:"calls"`     // all calls, cancelled ones included
	Errors    uint64  `json:"errors"`    // calls that failed
	Cancelled uint64  `json:"cancelled"` // calls the contributor left
	ErrorRate float64 `json:"error_rate"`
	TokensIn  uint64  `json:"tokens_in"`
	TokensOut uint64  `json:"tokens_out"`
	// Latency and TTFT are over the last 1024 complete answers (Latency)
	// or answers that sent text (TTFT).
	Latency  Percentiles `json:"latency"`
	TTFT     Percentiles `json:"ttft"`
	Cost     float64     `json:"cost"`     // from the configured price; 0 without one
	Currency string      `json:"currency"` // of Cost
	Priced   bool        `json:"priced"`   // whether a price is configured
}

// Percentiles of a duration, in milliseconds; all zero without samples.
type Percentiles struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P99     float64 `json:"p99_ms"`
}

// Snapshot returns every model's usage, sorted by model name.
func (u *Usage) Snapshot() []ModelUsage {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]ModelUsage, 0, len(u.models))
	for _, name := range u.names() {
		m := u.models[name]
		mu := ModelUsage{
			Model: name, Calls: m.ok + m.failed + m.cancelled, Errors: m.failed, Cancelled: m.cancelled,
			TokensIn: m.tokensIn, TokensOut: m.tokensOut,
			Latency: percentiles(m.recentDur.vals), TTFT: percentiles(m.recentTTFT.vals),
			Currency: u.currency,
		}
		if judged := m.ok + m.failed; judged > 0 {
			mu.ErrorRate = float64(m.failed) / float64(judged)
		}
		mu.Cost, mu.Priced = u.cost(name, m)
		out = append(out, mu)
	}
	return out
}

func (u *Usage) names() []string {
	names := make([]string, 0, len(u.models))
	for name := range u.models {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (u *Usage) cost(name string, m *modelUsage) (float64, bool) {
	p, ok := u.prices[name]
	if !ok {
		return 0, false
	}
	return float64(m.tokensIn)/1e6*p.InputPerMillion + float64(m.tokensOut)/1e6*p.OutputPerMillion, true
}

// percentiles returns the nearest-rank percentiles of vals (in seconds)
// in milliseconds.
func percentiles(vals []float64) Percentiles {
	if len(vals) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)] * 1000
	}
	return Percentiles{Samples: len(s), P50: rank(0.50), P90: rank(0.90), P99: rank(0.99)}
}

// WritePrometheus writes the usage in the Prometheus text exposition
// format (version 0.0.4).
func (u *Usage) WritePrometheus(w io.Writer) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	p := newPromWriter(w)
	names := u.names()

	p.family("agora_model_calls_total", "counter", "Model calls by outcome: ok (a whole answer), error, or cancelled (the contributor left).")
	for _, name := range names {
		m := u.models[name]
		for _, o := range []struct {
			outcome string
			n       uint64
		}{{"ok", m.ok}, {"error", m.failed}, {"cancelled", m.cancelled}} {
			p.sample("agora_model_calls_total", labels{"model", name, "outcome", o.outcome}, float64(o.n))
		}
	}
	p.family("agora_model_input_tokens_total", "counter", "Prompt tokens sent to the model (the endpoint's count, or an estimate of four bytes a token).")
	for _, name := range names {
		p.sample("agora_model_input_tokens_total", labels{"model", name}, float64(u.models[name].tokensIn))
	}
	p.family("agora_model_output_tokens_total", "counter", "Completion tokens the model returned.")
	for _, name := range names {
		p.sample("agora_model_output_tokens_total", labels{"model", name}, float64(u.models[name].tokensOut))
	}
	p.family("agora_model_cost_total", "counter", "Cost of the model's tokens at the configured prices, in the currency named by the label.")
	for _, name := range names {
		if c, ok := u.cost(name, u.models[name]); ok {
			p.sample("agora_model_cost_total", labels{"model", name, "currency", u.currency}, c)
		}
	}
	p.family("agora_model_request_duration_seconds", "histogram", "Duration of model calls that returned a whole answer.")
	for _, name := range names {
		p.histogram("agora_model_request_duration_seconds", labels{"model", name}, durationBuckets, &u.models[name].duration)
	}
	p.family("agora_model_time_to_first_token_seconds", "histogram", "Time from the request to the first streamed text.")
	for _, name := range names {
		p.histogram("agora_model_time_to_first_token_seconds", labels{"model", name}, ttftBuckets, &u.models[name].ttft)
	}
	return p.flush()
}

// labels are alternating label names and values.
type labels []string

// promWriter writes the Prometheus text format, remembering the first
// error.
type promWriter struct {
	w   *bufio.Writer
	err error
}

func newPromWriter(w io.Writer) *promWriter { return &promWriter{w: bufio.NewWriter(w)} }

func (p *promWriter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *promWriter) family(name, typ, help string) {
	p.printf("# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

func (p *promWriter) sample(name string, ls labels, v float64) {
	p.printf("%s%s %s\n", name, formatLabels(ls), formatFloat(v))
}

func (p *promWriter) histogram(name string, ls labels, bounds []float64, h *histogram) {
	var cum uint64
	for i, b := range bounds {
		if h.counts != nil {
			cum += h.counts[i]
		}
		p.sample(name+"_bucket", append(slices.Clip(ls), "le", formatFloat(b)), float64(cum))
	}
	p.sample(name+"_bucket", append(slices.Clip(ls), "le", "+Inf"), float64(h.n))
	p.sample(name+"_sum", ls, h.sum)
	p.sample(name+"_count", ls, float64(h.n))
}

func (p *promWriter) flush() error {
	if p.err != nil {
		return fmt.Errorf("write metrics: %w", p.err)
	}
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

func formatLabels(ls labels) string {
	if len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(ls); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ls[i])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(ls[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

// formatFloat writes v as the text format wants it: shortest exact
// decimal, and +Inf, -Inf, NaN spelled out.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64) // counts stay plain integers
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
