package arena_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/rlhf"
)

// usageCalls are the calls the usage tests record: model "a" (priced)
// has three whole answers, one failure and one cancelled call; model "b"
// one whole answer.
func usageCalls() []arena.Call {
	fail := rlhf.Errorf(rlhf.EUpstream, "the model endpoint returned an error")
	return []arena.Call{
		{Model: "a", TTFT: 10 * time.Millisecond, Duration: 100 * time.Millisecond, TokensIn: 100, TokensOut: 50},
		{Model: "a", TTFT: 20 * time.Millisecond, Duration: 300 * time.Millisecond, TokensIn: 100, TokensOut: 50},
		{Model: "a", TTFT: 30 * time.Millisecond, Duration: 3 * time.Second, TokensIn: 100, TokensOut: 50},
		{Model: "a", Err: fail, Duration: 2 * time.Second, TokensIn: 100, TokensOut: 5},
		{Model: "a", Err: context.Canceled, Cancelled: true, TTFT: 15 * time.Millisecond, Duration: time.Second, TokensIn: 100, TokensOut: 10},
		{Model: "b", TTFT: 40 * time.Millisecond, Duration: 500 * time.Millisecond, TokensIn: 7, TokensOut: 3},
	}
}

func newTestUsage(t *testing.T) *arena.Usage {
	t.Helper()
	u, err := arena.NewUsage(arena.UsageConfig{Currency: "EUR", Prices: map[string]arena.Price{
		"a":      {InputPerMillion: 2, OutputPerMillion: 8},
		"unused": {InputPerMillion: 1, OutputPerMillion: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range usageCalls() {
		u.Observe(c)
	}
	return u
}

func TestUsageSnapshot(t *testing.T) {
	snap := newTestUsage(t).Snapshot()
	if len(snap) != 3 || snap[0].Model != "a" || snap[1].Model != "b" || snap[2].Model != "unused" {
		t.Fatalf("Snapshot models = %+v, want a, b, unused in order", snap)
	}
	a := snap[0]
	wantCost := 500.0/1e6*2 + 165.0/1e6*8
	if a.Calls != 5 || a.Errors != 1 || a.Cancelled != 1 || a.TokensIn != 500 || a.TokensOut != 165 ||
		a.ErrorRate != 0.25 || !a.Priced || a.Currency != "EUR" || math.Abs(a.Cost-wantCost) > 1e-12 {
		t.Errorf("Snapshot a = %+v, want 5 calls, 1 error, 1 cancelled, 500 in, 165 out, rate 0.25, cost %v EUR", a, wantCost)
	}
	// Latency over whole answers only (100, 300, 3000 ms); TTFT over calls
	// that were not cancelled and sent text (10, 20, 30 ms).
	if want := (arena.Percentiles{Samples: 3, P50: 300, P90: 3000, P99: 3000}); !percentilesNear(a.Latency, want) {
		t.Errorf("a.Latency = %+v, want %+v", a.Latency, want)
	}
	if want := (arena.Percentiles{Samples: 3, P50: 20, P90: 30, P99: 30}); !percentilesNear(a.TTFT, want) {
		t.Errorf("a.TTFT = %+v, want %+v", a.TTFT, want)
	}
	if b := snap[1]; b.Priced || b.Cost != 0 || b.Calls != 1 || b.ErrorRate != 0 {
		t.Errorf("Snapshot b = %+v, want 1 call, no price", b)
	}
	if u := snap[2]; u.Calls != 0 || !u.Priced || u.Latency.Samples != 0 {
		t.Errorf("Snapshot unused = %+v, want zeros and a price", u)
	}
}

func percentilesNear(got, want arena.Percentiles) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	return got.Samples == want.Samples && near(got.P50, want.P50) && near(got.P90, want.P90) && near(got.P99, want.P99)
}

// TestUsagePercentilesOverRecentCalls: percentiles follow the last 1024
// calls, not the first.
func TestUsagePercentilesOverRecentCalls(t *testing.T) {
	u, err := arena.NewUsage(arena.UsageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		u.Observe(arena.Call{Model: "m", Duration: 10 * time.Second})
	}
	for range 1024 {
		u.Observe(arena.Call{Model: "m", Duration: time.Second})
	}
	if got := u.Snapshot()[0].Latency; got.Samples != 1024 || got.P99 != 1000 {
		t.Errorf("Latency = %+v, want 1024 samples all at 1000 ms", got)
	}
}

// TestObserveRealEndpoint: a call through Observe to the demo endpoint
// over HTTP is counted with its tokens and time to first token.
func TestObserveRealEndpoint(t *testing.T) {
	srv := httptest.NewServer(&demo.Server{TokenDelay: time.Millisecond})
	defer srv.Close()
	u, err := arena.NewUsage(arena.UsageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	client := openai.New(rlhf.EndpointModel{BaseURL: srv.URL + "/v1", ModelID: "verbose", MaxTokens: 64,
		ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 1 << 16}, "", nil)
	m := arena.Observe("verbose-2", client, u)
	msgs := []rlhf.Message{{Role: "user", Content: "Tell me about the sea, at some length please."}}
	var text strings.Builder
	_, tokens, err := m.Stream(context.Background(), msgs, func(s string) { text.WriteString(s) })
	if err != nil {
		t.Fatal(err)
	}
	got := u.Snapshot()[0]
	if got.Calls != 1 || got.TokensOut != uint64(tokens) || tokens == 0 || got.TokensIn == 0 || got.TTFT.Samples != 1 ||
		got.TTFT.P50 <= 0 || got.Latency.P50 < got.TTFT.P50 {
		t.Errorf("after one call of %d tokens: %+v", tokens, got)
	}
	// A caller that leaves mid-answer: counted as cancelled, not an error.
	ctx, cancel := context.WithCancel(context.Background())
	m.Stream(ctx, msgs, func(string) { cancel() })
	if got := u.Snapshot()[0]; got.Cancelled != 1 || got.Errors != 0 {
		t.Errorf("after a cancelled call: %+v, want 1 cancelled, 0 errors", got)
	}
}

// TestUsagePrometheus parses the exposition with an independent parser and
// checks the values of the recorded calls.
func TestUsagePrometheus(t *testing.T) {
	u := newTestUsage(t)
	var buf bytes.Buffer
	if err := u.WritePrometheus(&buf); err != nil {
		t.Fatal(err)
	}
	fams := parseProm(t, buf.String())
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"agora_model_calls_total", []string{"model", "a", "outcome", "ok"}, 3},
		{"agora_model_calls_total", []string{"model", "a", "outcome", "error"}, 1},
		{"agora_model_calls_total", []string{"model", "a", "outcome", "cancelled"}, 1},
		{"agora_model_calls_total", []string{"model", "unused", "outcome", "ok"}, 0},
		{"agora_model_input_tokens_total", []string{"model", "a"}, 500},
		{"agora_model_output_tokens_total", []string{"model", "a"}, 165},
		{"agora_model_output_tokens_total", []string{"model", "b"}, 3},
		{"agora_model_cost_total", []string{"model", "a", "currency", "EUR"}, 500.0/1e6*2 + 165.0/1e6*8},
		{"agora_model_request_duration_seconds_bucket", []string{"model", "a", "le", "0.1"}, 1}, // le is inclusive
		{"agora_model_request_duration_seconds_bucket", []string{"model", "a", "le", "0.25"}, 1},
		{"agora_model_request_duration_seconds_bucket", []string{"model", "a", "le", "0.5"}, 2},
		{"agora_model_request_duration_seconds_bucket", []string{"model", "a", "le", "2.5"}, 2},
		{"agora_model_request_duration_seconds_bucket", []string{"model", "a", "le", "5"}, 3},
		{"agora_model_request_duration_seconds_bucket", []string{"model", "a", "le", "+Inf"}, 3},
		{"agora_model_request_duration_seconds_sum", []string{"model", "a"}, 3.4},
		{"agora_model_request_duration_seconds_count", []string{"model", "a"}, 3},
		{"agora_model_time_to_first_token_seconds_bucket", []string{"model", "a", "le", "0.025"}, 2},
		{"agora_model_time_to_first_token_seconds_count", []string{"model", "a"}, 3},
		{"agora_model_time_to_first_token_seconds_count", []string{"model", "b"}, 1},
	}
	for _, c := range checks {
		got, ok := fams.value(c.name, c.labels...)
		if !ok {
			t.Errorf("no sample %s%v", c.name, c.labels)
		} else if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if _, ok := fams.value("agora_model_cost_total", "model", "b", "currency", "EUR"); ok {
		t.Error("a cost sample for b, which has no price")
	}
	for name, typ := range map[string]string{
		"agora_model_calls_total": "counter", "agora_model_cost_total": "counter",
		"agora_model_request_duration_seconds": "histogram", "agora_model_time_to_first_token_seconds": "histogram",
	} {
		if f := fams[name]; f == nil || f.typ != typ || f.help == "" {
			t.Errorf("family %s = %+v, want type %s with help", name, f, typ)
		}
	}
}

// TestPrometheusLabelEscaping: a model name with a quote, a backslash and
// a newline is escaped exactly as the format says, and parses back.
func TestPrometheusLabelEscaping(t *testing.T) {
	u, err := arena.NewUsage(arena.UsageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	name := "we\"ird\\name\n2"
	u.Observe(arena.Call{Model: name, TokensIn: 7})
	var buf bytes.Buffer
	if err := u.WritePrometheus(&buf); err != nil {
		t.Fatal(err)
	}
	if want := `agora_model_input_tokens_total{model="we\"ird\\name\n2"} 7` + "\n"; !strings.Contains(buf.String(), want) {
		t.Errorf("exposition lacks %q:\n%s", want, buf.String())
	}
	if got, ok := parseProm(t, buf.String()).value("agora_model_input_tokens_total", "model", name); !ok || got != 7 {
		t.Errorf("parsed back %v, %v; want 7", got, ok)
	}
}

func TestHealthPrometheus(t *testing.T) {
	clock := &healthClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	h, err := arena.NewHealth(arena.HealthConfig{Failures: 1, Now: clock.Now}, map[string]arena.Model{"up": nil, "down": nil})
	if err != nil {
		t.Fatal(err)
	}
	h.Observe(arena.Call{Model: "down", Err: errors.New("boom")})
	var buf bytes.Buffer
	if err := h.WritePrometheus(&buf); err != nil {
		t.Fatal(err)
	}
	fams := parseProm(t, buf.String())
	for _, c := range []struct {
		model, state string
		want         float64
	}{{"up", "closed", 1}, {"up", "open", 0}, {"down", "open", 1}, {"down", "closed", 0}, {"down", "half-open", 0}} {
		if got, ok := fams.value("agora_model_breaker_state", "model", c.model, "state", c.state); !ok || got != c.want {
			t.Errorf("breaker_state{%s,%s} = %v (%v), want %v", c.model, c.state, got, ok, c.want)
		}
	}
	if got, _ := fams.value("agora_model_breaker_opens_total", "model", "down"); got != 1 {
		t.Errorf("breaker_opens_total{down} = %v, want 1", got)
	}
}

func TestUsageConfigValidate(t *testing.T) {
	for _, c := range []arena.UsageConfig{
		{Currency: "usd"}, {Currency: "EURO"},
		{Prices: map[string]arena.Price{"m": {InputPerMillion: -1}}},
		{Prices: map[string]arena.Price{"m": {OutputPerMillion: math.NaN()}}},
		{Prices: map[string]arena.Price{"m": {OutputPerMillion: math.Inf(1)}}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	for _, c := range []arena.EgressConfig{{Allow: []string{"gpu-box"}}, {Allow: []string{"10.0.0.0/40"}}, {Allow: []string{":80"}}, {Allow: []string{"h:0"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	ok := arena.OperationsConfig{Egress: arena.EgressConfig{Allow: []string{"10.0.0.0/8", "::1", "gpu-box:8000", "[fd00::1]:8000"}},
		Usage: arena.UsageConfig{Currency: "USD", Prices: map[string]arena.Price{"m": {InputPerMillion: 1, OutputPerMillion: 2}}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v, want nil", ok, err)
	}
}

// promFamily is one metric family parsed from the text format.
type promFamily struct {
	name, typ, help string
	samples         []promSample
}

type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

type promFamilies map[string]*promFamily

// value returns the value of the sample name{labels}.
func (fs promFamilies) value(name string, labels ...string) (float64, bool) {
	for _, f := range fs {
		for _, s := range f.samples {
			if s.name != name || len(s.labels) != len(labels)/2 {
				continue
			}
			match := true
			for i := 0; i+1 < len(labels); i += 2 {
				match = match && s.labels[labels[i]] == labels[i+1]
			}
			if match {
				return s.value, true
			}
		}
	}
	return 0, false
}

var (
	promMetricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promLabelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)
)

// parseProm parses the Prometheus text format (0.0.4) strictly, failing t
// on anything out of place: every family has one TYPE and one HELP before
// its samples, samples of a family are together, label values use only
// the three escapes, histograms have ascending le buckets with cumulative
// counts ending in +Inf equal to _count, and a _sum.
func parseProm(t *testing.T, text string) promFamilies {
	t.Helper()
	if !strings.HasSuffix(text, "\n") {
		t.Fatalf("exposition does not end in a newline")
	}
	fams := promFamilies{}
	var cur *promFamily
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("line %d %q: %s", line, l, fmt.Sprintf(format, args...))
		}
		switch {
		case l == "":
			fail("empty line")
		case strings.HasPrefix(l, "# HELP ") || strings.HasPrefix(l, "# TYPE "):
			kind, rest := l[2:6], l[7:]
			name, arg, ok := strings.Cut(rest, " ")
			if !ok || promMetricName.FindString(name) != name {
				fail("bad metric name")
			}
			f := fams[name]
			if f == nil {
				f = &promFamily{name: name}
				fams[name] = f
			} else if len(f.samples) > 0 {
				fail("%s after the family's samples", kind)
			}
			if kind == "HELP" {
				if f.help != "" {
					fail("second HELP")
				}
				f.help = unescapeProm(t, arg, false)
			} else {
				if f.typ != "" {
					fail("second TYPE")
				}
				if !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, arg) {
					fail("unknown type %q", arg)
				}
				f.typ = arg
			}
			cur = f
		case strings.HasPrefix(l, "#"):
			// a comment
		default:
			s := parsePromSample(t, l, line)
			if cur == nil {
				fail("sample before any TYPE")
			}
			belongs := s.name == cur.name
			if cur.typ == "histogram" {
				belongs = s.name == cur.name+"_bucket" || s.name == cur.name+"_sum" || s.name == cur.name+"_count"
			}
			if !belongs {
				fail("sample of %s is not in its family's group (current family %s)", s.name, cur.name)
			}
			if cur.typ == "counter" && (s.value < 0 || !strings.HasSuffix(s.name, "_total")) {
				fail("counter sample must be >= 0 and named *_total")
			}
			cur.samples = append(cur.samples, s)
		}
	}
	for _, f := range fams {
		if f.typ == "" || f.help == "" {
			t.Fatalf("family %s lacks a TYPE or a HELP", f.name)
		}
		if f.typ == "histogram" {
			checkPromHistogram(t, f)
		}
	}
	return fams
}

func parsePromSample(t *testing.T, l string, line int) promSample {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d %q: %s", line, l, fmt.Sprintf(format, args...))
	}
	s := promSample{name: promMetricName.FindString(l), labels: map[string]string{}}
	if s.name == "" {
		fail("no metric name")
	}
	rest := l[len(s.name):]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			name := promLabelName.FindString(rest)
			if name == "" || !strings.HasPrefix(rest[len(name):], `="`) {
				fail("bad label at %q", rest)
			}
			rest = rest[len(name)+2:]
			var val strings.Builder
			for {
				if rest == "" {
					fail("unterminated label value")
				}
				c := rest[0]
				if c == '"' {
					rest = rest[1:]
					break
				}
				if c == '\\' {
					if len(rest) < 2 {
						fail("dangling backslash")
					}
					switch rest[1] {
					case '\\':
						val.WriteByte('\\')
					case '"':
						val.WriteByte('"')
					case 'n':
						val.WriteByte('\n')
					default:
						fail("unknown escape \\%c", rest[1])
					}
					rest = rest[2:]
					continue
				}
				val.WriteByte(c)
				rest = rest[1:]
			}
			if _, dup := s.labels[name]; dup {
				fail("label %s twice", name)
			}
			s.labels[name] = val.String()
			rest = strings.TrimPrefix(rest, ",")
		}
		rest = rest[1:]
	}
	if !strings.HasPrefix(rest, " ") || strings.Contains(rest[1:], " ") {
		fail("want one space and a value after the name and labels")
	}
	v, err := strconv.ParseFloat(rest[1:], 64)
	if err != nil {
		fail("bad value: %v", err)
	}
	s.value = v
	return s
}

func unescapeProm(t *testing.T, s string, quotes bool) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			t.Fatalf("dangling backslash in %q", s)
		}
		i++
		switch {
		case s[i] == '\\':
			b.WriteByte('\\')
		case s[i] == 'n':
			b.WriteByte('\n')
		case s[i] == '"' && quotes:
			b.WriteByte('"')
		default:
			t.Fatalf("unknown escape in %q", s)
		}
	}
	return b.String()
}

func checkPromHistogram(t *testing.T, f *promFamily) {
	t.Helper()
	type series struct {
		les        []float64
		counts     []float64
		sum, count *float64
	}
	all := map[string]*series{}
	key := func(ls map[string]string) string {
		var parts []string
		for k, v := range ls {
			if k != "le" {
				parts = append(parts, k+"="+strconv.Quote(v))
			}
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	for _, s := range f.samples {
		k := key(s.labels)
		se := all[k]
		if se == nil {
			se = &series{}
			all[k] = se
		}
		v := s.value
		switch s.name {
		case f.name + "_bucket":
			le, err := strconv.ParseFloat(s.labels["le"], 64)
			if err != nil {
				t.Fatalf("%s{%s}: bad le %q", s.name, k, s.labels["le"])
			}
			se.les = append(se.les, le)
			se.counts = append(se.counts, v)
		case f.name + "_sum":
			se.sum = &v
		case f.name + "_count":
			se.count = &v
		}
	}
	for k, se := range all {
		n := len(se.les)
		if n == 0 || !math.IsInf(se.les[n-1], 1) || se.sum == nil || se.count == nil || se.counts[n-1] != *se.count {
			t.Fatalf("histogram %s{%s}: want buckets ending in +Inf equal to _count, and _sum; got %+v", f.name, k, se)
		}
		for i := 1; i < n; i++ {
			if se.les[i] <= se.les[i-1] || se.counts[i] < se.counts[i-1] {
				t.Fatalf("histogram %s{%s}: buckets not ascending and cumulative: le %v counts %v", f.name, k, se.les, se.counts)
			}
		}
	}
}

// countingModel answers "ok" and reports the prompt tokens an endpoint
// would have counted.
type countingModel struct{ promptTokens int }

func (m countingModel) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, error) {
	f, _, out, err := m.StreamUsage(ctx, msgs, onText)
	return f, out, err
}

func (m countingModel) StreamUsage(_ context.Context, _ []rlhf.Message, onText func(string)) (string, int, int, error) {
	onText("ok")
	return "stop", m.promptTokens, 1, nil
}

// TestObservePrefersReportedPromptTokens: a model that reports prompt
// tokens is believed; one that reports none gets the estimate.
func TestObservePrefersReportedPromptTokens(t *testing.T) {
	u, err := arena.NewUsage(arena.UsageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []rlhf.Message{{Role: "user", Content: strings.Repeat("x", 400)}}
	arena.Observe("reported", countingModel{promptTokens: 123}, u).Stream(context.Background(), msgs, func(string) {})
	arena.Observe("estimated", countingModel{}, u).Stream(context.Background(), msgs, func(string) {})
	got := map[string]uint64{}
	for _, m := range u.Snapshot() {
		got[m.Model] = m.TokensIn
	}
	if got["reported"] != 123 || got["estimated"] != 104 {
		t.Errorf("TokensIn = %v, want reported 123 and estimated 104 (400/4 + 4)", got)
	}
}

func BenchmarkObserve(b *testing.B) {
	u, _ := arena.NewUsage(arena.UsageConfig{Prices: map[string]arena.Price{"m": {InputPerMillion: 1, OutputPerMillion: 2}}})
	h, _ := arena.NewHealth(arena.HealthConfig{}, map[string]arena.Model{"m": nil})
	c := arena.Call{Model: "m", TTFT: 30 * time.Millisecond, Duration: 2 * time.Second, TokensIn: 300, TokensOut: 400}
	b.ReportAllocs()
	for b.Loop() {
		u.Observe(c)
		h.Observe(c)
	}
}

func BenchmarkWritePrometheus50Models(b *testing.B) {
	u, _ := arena.NewUsage(arena.UsageConfig{})
	for i := range 50 {
		for j := range 100 {
			u.Observe(arena.Call{Model: fmt.Sprintf("model-%d", i), TTFT: time.Duration(j) * time.Millisecond,
				Duration: time.Duration(j) * 50 * time.Millisecond, TokensIn: 100, TokensOut: j})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := u.WritePrometheus(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAvailable20Models(b *testing.B) {
	models := map[string]arena.Model{}
	var names []string
	for i := range 20 {
		name := fmt.Sprintf("model-%d", i)
		models[name], names = nil, append(names, name)
	}
	h, _ := arena.NewHealth(arena.HealthConfig{}, models)
	b.ReportAllocs()
	for b.Loop() {
		h.Available(names)
	}
}
