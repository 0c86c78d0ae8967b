package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Server is an OpenAI-compatible chat-completions endpoint for the demo
// models. It streams server-sent events token by token.
type Server struct {
	// TokenDelay is the pause before each token.
	TokenDelay time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Names maps a model id to the public name it answers with when asked
	// who it is; a model without one gives its id.
	Names map[string]string
}

type chatRequest struct {
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	MaxTokens int    `json:"max_tokens"`
	Messages  []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// ServeHTTP answers POST .../chat/completions and GET .../models.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models"):
		s.models(w)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		s.complete(w, r)
	default:
		apiError(w, http.StatusNotFound, "not_found", "no such route: "+r.Method+" "+r.URL.Path)
	}
}

func (s *Server) models(w http.ResponseWriter) {
	type model struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	var list []model
	for _, id := range []string{"curt", "good", "verbose", "wrong"} {
		list = append(list, model{ID: id, Object: "model"})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": list})
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "request body is not valid JSON: "+err.Error())
		return
	}
	ans, ok := s.answer(w, &req)
	if !ok {
		return
	}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": ans.id, "object": "chat.completion", "created": ans.created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": ans.finish,
				"message": map[string]string{"role": "assistant", "content": strings.Join(ans.tokens, "")}}},
			"usage": usage(ans.promptTokens, len(ans.tokens)),
		})
		return
	}
	s.stream(w, r, &req, ans)
}

// answer is a demo model's answer to one request.
type answer struct {
	id           string
	created      int64
	tokens       []string
	finish       string // stop or length
	promptTokens int
}

// answer writes the model's answer to req, or answers the request with an
// error (an unknown model, a "fail:" prompt) and reports false.
func (s *Server) answer(w http.ResponseWriter, req *chatRequest) (*answer, bool) {
	style, ok := Styles[req.Model]
	if !ok {
		apiError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("no demo model %q", req.Model))
		return nil, false
	}
	var prompt string
	promptTokens := 0
	for _, m := range req.Messages {
		promptTokens += len(Tokens(m.Content))
		if m.Role == "user" {
			prompt = m.Content
		}
	}
	if Fails(req.Model, prompt) {
		apiError(w, http.StatusInternalServerError, "server_error", "this demo model fails \"fail:\" prompts on purpose")
		return nil, false
	}
	text := style(prompt)
	if echo, ok := Echo(prompt); ok {
		text = echo
	} else if AsksName(prompt) {
		text = s.introduce(req.Model)
	} else if AsksMarkdown(prompt) {
		text = Markdown(req.Model)
	}
	a := &answer{id: fmt.Sprintf("chatcmpl-demo-%d", s.now().UnixNano()), created: s.now().Unix(),
		tokens: Tokens(text), finish: "stop", promptTokens: promptTokens}
	if req.MaxTokens > 0 && len(a.tokens) > req.MaxTokens {
		a.tokens, a.finish = a.tokens[:req.MaxTokens], "length"
	}
	return a, true
}

// stream sends ans as server-sent events, a token per chunk, TokenDelay
// apart, until it is sent or the client leaves.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req *chatRequest, ans *answer) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		apiError(w, http.StatusInternalServerError, "server_error", "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	chunk := func(delta map[string]string, finish any) map[string]any {
		return map[string]any{"id": ans.id, "object": "chat.completion.chunk", "created": ans.created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	if !send(chunk(map[string]string{"role": "assistant", "content": ""}, nil)) {
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, tok := range ans.tokens {
		if s.TokenDelay > 0 {
			timer.Reset(s.TokenDelay)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				return
			}
		}
		if !send(chunk(map[string]string{"content": tok}, nil)) {
			return
		}
	}
	if !send(chunk(map[string]string{}, ans.finish)) {
		return
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		if !send(map[string]any{"id": ans.id, "object": "chat.completion.chunk", "created": ans.created, "model": req.Model,
			"choices": []any{}, "usage": usage(ans.promptTokens, len(ans.tokens))}) {
			return
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func usage(prompt, completion int) map[string]int {
	return map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ}})
}
