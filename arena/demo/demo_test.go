package demo_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestDemoModelsThroughClient streams every demo model through the same
// client that calls labs' endpoints, over real HTTP.
func TestDemoModelsThroughClient(t *testing.T) {
	srv := httptest.NewServer(&demo.Server{TokenDelay: time.Millisecond})
	defer srv.Close()
	msgs := []rlhf.Message{{Role: "user", Content: "How do I bake bread?"}}
	answers := map[string]string{}
	for id := range demo.Styles {
		c := openai.New(rlhf.EndpointModel{BaseURL: srv.URL + "/demo/v1", ModelID: id, MaxTokens: 1000,
			ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 1 << 16}, "", nil)
		var got strings.Builder
		finish, tokens, err := c.Stream(context.Background(), msgs, func(s string) { got.WriteString(s) })
		if err != nil || finish != "stop" || tokens < 1 {
			t.Fatalf("%s: finish %q, %d tokens, %v", id, finish, tokens, err)
		}
		if want := demo.Styles[id]("How do I bake bread?"); got.String() != want {
			t.Errorf("%s streamed %q, want %q", id, got.String(), want)
		}
		answers[id] = got.String()
	}
	// The styles are distinct: the verbose one is the longest, the curt one
	// the shortest.
	if !(len(answers["curt"]) < len(answers["wrong"]) && len(answers["good"]) < len(answers["verbose"])) {
		t.Errorf("answer lengths do not match the styles: %v", map[string]int{
			"curt": len(answers["curt"]), "wrong": len(answers["wrong"]), "good": len(answers["good"]), "verbose": len(answers["verbose"])})
	}
}

func TestDemoCaps(t *testing.T) {
	srv := httptest.NewServer(&demo.Server{})
	defer srv.Close()
	msgs := []rlhf.Message{{Role: "user", Content: "Tell me everything"}}
	c := openai.New(rlhf.EndpointModel{BaseURL: srv.URL + "/demo/v1", ModelID: "verbose", MaxTokens: 5,
		ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 1 << 16}, "", nil)
	finish, tokens, err := c.Stream(context.Background(), msgs, func(string) {})
	if err != nil || finish != "length" || tokens != 5 {
		t.Errorf("max_tokens 5: finish %q, %d tokens, %v; want length, 5", finish, tokens, err)
	}
	c = openai.New(rlhf.EndpointModel{BaseURL: srv.URL + "/demo/v1", ModelID: "verbose", MaxTokens: 1000,
		ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 40}, "", nil)
	var got strings.Builder
	finish, _, err = c.Stream(context.Background(), msgs, func(s string) { got.WriteString(s) })
	if err != nil || finish != "length" || got.Len() > 40 {
		t.Errorf("max answer 40 bytes: finish %q, %d bytes, %v", finish, got.Len(), err)
	}
	c = openai.New(rlhf.EndpointModel{BaseURL: srv.URL + "/demo/v1", ModelID: "no-such-model", MaxTokens: 10,
		ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 40}, "", nil)
	_, _, err = c.Stream(context.Background(), msgs, func(string) {})
	if rlhf.ErrorCode(err) != rlhf.EUpstream || strings.Contains(rlhf.ErrorMessage(err), "no-such-model") {
		t.Errorf("unknown model: %v (client message %q)", err, rlhf.ErrorMessage(err))
	}
}

// TestIntroduce asks the demo models who they are, over real HTTP: each
// answers with its public name, or its id when it has none.
func TestIntroduce(t *testing.T) {
	for _, p := range []string{"Who are you?", "What's your name?", "¿Quién eres?", "你是谁"} {
		if !demo.AsksName(p) {
			t.Errorf("AsksName(%q) = false, want true", p)
		}
	}
	for _, p := range []string{"What are your thoughts on tea?", "An interesting fact", "Teach yourself guitar"} {
		if demo.AsksName(p) {
			t.Errorf("AsksName(%q) = true, want false", p)
		}
	}
	srv := httptest.NewServer(&demo.Server{Names: map[string]string{"good": "helpful-4"}})
	defer srv.Close()
	msgs := []rlhf.Message{{Role: "user", Content: "Who are you?"}}
	for id, want := range map[string]string{"good": "I am helpful-4,", "curt": "I am curt,"} {
		c := openai.New(rlhf.EndpointModel{BaseURL: srv.URL + "/demo/v1", ModelID: id, MaxTokens: 100,
			ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 1 << 16}, "", nil)
		var got strings.Builder
		if _, _, err := c.Stream(context.Background(), msgs, func(s string) { got.WriteString(s) }); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got.String(), want) {
			t.Errorf("%s answered %q, want it to start %q", id, got.String(), want)
		}
	}
}

// TestShowcasePrompts checks the special prompts every demo model honours.
func TestShowcasePrompts(t *testing.T) {
	srv := httptest.NewServer(&demo.Server{})
	defer srv.Close()
	ask := func(model, prompt string) (string, error) {
		c := openai.New(rlhf.EndpointModel{BaseURL: srv.URL + "/demo/v1", ModelID: model, MaxTokens: 1000,
			ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 1 << 16}, "", nil)
		var got strings.Builder
		_, _, err := c.Stream(context.Background(), []rlhf.Message{{Role: "user", Content: prompt}}, func(s string) { got.WriteString(s) })
		return got.String(), err
	}
	for model := range demo.Styles {
		if got, err := ask(model, "echo: <b>as is</b>\n$x$"); err != nil || got != "<b>as is</b>\n$x$" {
			t.Errorf("%s echo: %q, %v", model, got, err)
		}
		got, err := ask(model, "Show me some markdown")
		for _, part := range []string{"## ", "1. ", "- ", "| Go |", "```go", "$$"} {
			if err != nil || !strings.Contains(got, part) {
				t.Errorf("%s markdown: %q lacks %q (%v)", model, got, part, err)
			}
		}
		_, err = ask(model, "fail: please")
		if fails := model == "curt" || model == "verbose"; fails != (err != nil) {
			t.Errorf("%s on a fail: prompt: error %v, want failing %v", model, err, fails)
		}
	}
}
