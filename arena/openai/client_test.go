package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/rlhf"
)

// fakeEndpoint is an OpenAI-compatible streaming endpoint that records
// each request's JSON body and answers with the chunks of its script.
type fakeEndpoint struct {
	t *testing.T

	mu     sync.Mutex
	bodies []map[string]any

	// before runs once the request is read and before the first chunk
	// (a model loading); it may block until the client goes away.
	before func(r *http.Request)
	words  []string
	// after runs after the words and before the finish reason; a
	// returned true ends the stream there, without a finish reason.
	after func(r *http.Request) (cut bool)
	usage map[string]int // sent in a last chunk when the request asks for it
}

func (f *fakeEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("request body: %v", err)
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	if f.before != nil {
		f.before(r)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant"}}}})
	for _, word := range f.words {
		send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": word}}}})
	}
	if f.after != nil && f.after(r) {
		return
	}
	send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
	if opts, _ := body["stream_options"].(map[string]any); f.usage != nil && opts["include_usage"] == true {
		send(map[string]any{"choices": []any{}, "usage": f.usage})
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

// body returns the i-th request's body.
func (f *fakeEndpoint) body(i int) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.bodies) {
		f.t.Fatalf("%d requests, want at least %d", len(f.bodies), i+1)
	}
	return f.bodies[i]
}

func startFake(t *testing.T, f *fakeEndpoint) string {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

var hello = []rlhf.Message{{Role: "user", Content: "hello"}}

func model(base string) rlhf.EndpointModel {
	m := rlhf.EndpointModel{Name: "m", BaseURL: base, ModelID: "fake-model"}
	m.SetDefaults()
	return m
}

func TestRequestFields(t *testing.T) {
	f := &fakeEndpoint{words: []string{"ok"}}
	base := startFake(t, f)
	zero, half := float32(0), float32(0.5)
	tests := []struct {
		name            string
		temperature     *float32
		maxTokens       int
		wantTemperature any // nil: absent
		wantMaxTokens   any
	}{
		{"zero temperature is sent", &zero, 0, 0.0, nil},
		{"a temperature is sent", &half, 7, 0.5, 7.0},
		{"unset fields are not sent", nil, 0, nil, nil},
	}
	for i, tt := range tests {
		m := model(base)
		m.Temperature, m.MaxTokens = tt.temperature, tt.maxTokens
		if _, _, err := openai.New(m, "", nil).Stream(context.Background(), hello, func(string) {}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body := f.body(i)
		if got, ok := body["temperature"]; got != tt.wantTemperature || ok != (tt.wantTemperature != nil) {
			t.Errorf("%s: temperature = %v (present %v), want %v", tt.name, got, ok, tt.wantTemperature)
		}
		if got, ok := body["max_tokens"]; got != tt.wantMaxTokens || ok != (tt.wantMaxTokens != nil) {
			t.Errorf("%s: max_tokens = %v (present %v), want %v", tt.name, got, ok, tt.wantMaxTokens)
		}
		if _, ok := body["max_completion_tokens"]; ok {
			t.Errorf("%s: max_completion_tokens sent: %v", tt.name, body)
		}
		if opts, _ := body["stream_options"].(map[string]any); opts["include_usage"] != true || body["model"] != "fake-model" {
			t.Errorf("%s: body %v, want stream_options.include_usage and the model id", tt.name, body)
		}
	}
}

// TestEndpointUsageForCost: the endpoint's own token counts, not Agora's
// estimate, reach the usage figures and the cost.
func TestEndpointUsageForCost(t *testing.T) {
	f := &fakeEndpoint{words: []string{"a", "b", "c"}, usage: map[string]int{"prompt_tokens": 1000, "completion_tokens": 20, "total_tokens": 1020}}
	base := startFake(t, f)
	u, err := arena.NewUsage(arena.UsageConfig{Currency: "USD", Prices: map[string]arena.Price{"m": {InputPerMillion: 1000, OutputPerMillion: 2000}}})
	if err != nil {
		t.Fatal(err)
	}
	m := arena.Observe("m", openai.New(model(base), "", nil), u)
	_, tokens, err := m.Stream(context.Background(), hello, func(string) {})
	if err != nil || tokens != 20 {
		t.Fatalf("Stream = %d tokens, %v; want the endpoint's 20", tokens, err)
	}
	got := u.Snapshot()[0]
	if want := 1000*1000/1e6 + 20*2000/1e6; got.TokensIn != 1000 || got.TokensOut != 20 || got.Cost != want {
		t.Errorf("usage = in %d, out %d, cost %v; want 1000, 20, %v", got.TokensIn, got.TokensOut, got.Cost, want)
	}
}

// TestSlowFirstToken: a model that takes longer than the idle limit to
// send its first token (it is loading) answers within the first-token
// limit; after that, a pause longer than the idle limit fails.
func TestSlowFirstToken(t *testing.T) {
	loading := make(chan struct{})
	f := &fakeEndpoint{words: []string{"warm", " now"}, before: func(*http.Request) { <-loading }}
	base := startFake(t, f)
	m := model(base)
	m.FirstTokenTimeout, m.IdleTimeout = rlhf.Duration(time.Minute), rlhf.Duration(20*time.Millisecond)
	// The model loads for ten idle limits.
	time.AfterFunc(10*m.IdleTimeout.D(), func() { close(loading) })
	var text strings.Builder
	finish, tokens, err := openai.New(m, "", nil).Stream(context.Background(), hello, func(s string) { text.WriteString(s) })
	if err != nil || finish != "stop" || text.String() != "warm now" || tokens != 2 {
		t.Errorf("slow first token: %q, %q, %d tokens, %v; want the whole answer", text.String(), finish, tokens, err)
	}
}

func TestTimeouts(t *testing.T) {
	hang := func(r *http.Request) { <-r.Context().Done() }
	tests := []struct {
		name        string
		f           *fakeEndpoint
		first, idle time.Duration
		wantMsg     string
		wantTokens  int
	}{
		{"no first token", &fakeEndpoint{before: hang}, 50 * time.Millisecond, time.Minute, "no first token within 50ms", 0},
		{"stalls after two words", &fakeEndpoint{words: []string{"a", "b"}, after: func(r *http.Request) bool { hang(r); return true }},
			time.Minute, 50 * time.Millisecond, "sent nothing for 50ms", 2},
	}
	for _, tt := range tests {
		m := model(startFake(t, tt.f))
		m.FirstTokenTimeout, m.IdleTimeout = rlhf.Duration(tt.first), rlhf.Duration(tt.idle)
		_, tokens, err := openai.New(m, "", nil).Stream(context.Background(), hello, func(string) {})
		if rlhf.ErrorCode(err) != rlhf.ETimeout || !strings.Contains(rlhf.ErrorMessage(err), tt.wantMsg) || tokens != tt.wantTokens {
			t.Errorf("%s: %d tokens, %v; want a timeout %q after %d tokens", tt.name, tokens, err, tt.wantMsg, tt.wantTokens)
		}
	}
}

// TestTokensBeforeFailure: the text that streamed before a failure or a
// cancellation is counted.
func TestTokensBeforeFailure(t *testing.T) {
	cut := &fakeEndpoint{words: []string{"one", "two", "three"}, after: func(*http.Request) bool { return true }}
	_, tokens, err := openai.New(model(startFake(t, cut)), "", nil).Stream(context.Background(), hello, func(string) {})
	if rlhf.ErrorCode(err) != rlhf.EUpstream || tokens != 3 {
		t.Errorf("cut stream: %d tokens, %v; want an upstream error after 3 tokens", tokens, err)
	}

	slow := &fakeEndpoint{words: []string{"one", "two"}, after: func(r *http.Request) bool { <-r.Context().Done(); return true }}
	u, _ := arena.NewUsage(arena.UsageConfig{})
	m := arena.Observe("m", openai.New(model(startFake(t, slow)), "", nil), u)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, tokens, err = m.Stream(ctx, hello, func(string) {
		if n++; n == 2 {
			cancel() // the contributor leaves after two words
		}
	})
	if err == nil || tokens != 2 {
		t.Errorf("cancelled stream: %d tokens, %v; want an error after 2 tokens", tokens, err)
	}
	if got := u.Snapshot()[0]; got.TokensOut != 2 || got.Cancelled != 1 {
		t.Errorf("usage of the cancelled call: %+v, want 2 tokens out, cancelled", got)
	}
}
