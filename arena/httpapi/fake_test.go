package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fakeEndpoint is a hand-written OpenAI-compatible chat-completions server.
// The model id in the request picks its behaviour:
//
//	ok       streams its tokens and finishes
//	ok2      the same, and then " Bye."
//	failmid  streams two tokens, then an in-stream error object
//	stall    streams one token, then sends nothing until the client goes
//	http500  answers 500 with a JSON error body naming a secret host
type fakeEndpoint struct {
	tokens []string
	delay  time.Duration

	mu        sync.Mutex // guards the fields below
	requests  []fakeRequest
	cancelled []time.Time // when a stalled request saw its context end
}

type fakeRequest struct {
	Model    string
	Messages []struct{ Role, Content string }
	Start    time.Time
}

func (f *fakeEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct{ Role, Content string }
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{Model: req.Model, Messages: req.Messages, Start: time.Now()})
	f.mu.Unlock()
	if req.Model == "http500" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"internal failure at secret-gpu-host.lab.internal","type":"server_error"}}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	chunk := func(content string, finish string) {
		fr := "null"
		if finish != "" {
			fr = `"` + finish + `"`
		}
		b, _ := json.Marshal(content)
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":%s}]}\n\n", req.Model, b, fr)
		fl.Flush()
	}
	for i, tok := range f.tokens {
		if f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
		}
		chunk(tok, "")
		switch {
		case req.Model == "failmid" && i == 1:
			fmt.Fprint(w, "data: {\"error\":{\"message\":\"model crashed on secret-gpu-host\",\"type\":\"server_error\"}}\n\n")
			fl.Flush()
			return
		case strings.HasPrefix(req.Model, "stall"):
			<-r.Context().Done()
			f.mu.Lock()
			f.cancelled = append(f.cancelled, time.Now())
			f.mu.Unlock()
			return
		}
	}
	if req.Model == "ok2" {
		chunk(" Bye.", "") // so that the two sides differ
	}
	chunk("", "stop")
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

func (f *fakeEndpoint) lastRequest(model string) fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Model == model {
			return f.requests[i]
		}
	}
	return fakeRequest{}
}

func (f *fakeEndpoint) cancellations() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.cancelled...)
}

func (f *fakeEndpoint) requestsFor(model string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if r.Model == model {
			out = append(out, r)
		}
	}
	return out
}
