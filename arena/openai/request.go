package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// requestFields are the fields of m that go into every request body
// through bodyFields rather than through go-openai's request type: its
// temperature is dropped when 0 (omitempty), and its max_tokens is
// deprecated for max_completion_tokens, which few OpenAI-compatible
// servers other than OpenAI's read. A field m leaves unset is not sent,
// so the endpoint's own default holds.
func requestFields(m *rlhf.EndpointModel) map[string]json.RawMessage {
	fields := map[string]json.RawMessage{}
	if m.Temperature != nil {
		fields["temperature"], _ = json.Marshal(*m.Temperature)
	}
	if m.MaxTokens > 0 {
		fields["max_tokens"], _ = json.Marshal(m.MaxTokens)
	}
	return fields
}

// bodyFields is the HTTP client go-openai sends through (its one hook on
// requests): it sets fields in each JSON request body.
type bodyFields struct {
	fields map[string]json.RawMessage
	client *http.Client
}

// Do sets the fields in req's body and sends it.
func (b bodyFields) Do(req *http.Request) (*http.Response, error) {
	if len(b.fields) == 0 || req.Body == nil {
		return b.client.Do(req)
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	for k, v := range b.fields {
		body[k] = v
	}
	if data, err = json.Marshal(body); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	req.ContentLength = int64(len(data))
	return b.client.Do(req)
}

// stalled is the cause of a call cancelled because the endpoint went
// quiet; msg is safe to show a contributor.
type stalled struct{ msg string }

func (s *stalled) Error() string { return s.msg }

// watchdog cancels a call whose first token does not come within first
// (a model may take long to load), or whose next chunk after that does
// not come within idle.
type watchdog struct {
	cancel      func(error)
	first, idle time.Duration

	mu      sync.Mutex // guards started and t
	started bool       // the first token came
	t       *time.Timer
}

func watch(cancel func(error), first, idle time.Duration) *watchdog {
	w := &watchdog{cancel: cancel, first: first, idle: idle}
	w.t = time.AfterFunc(first, w.fire)
	return w
}

func (w *watchdog) fire() {
	w.mu.Lock()
	msg := fmt.Sprintf("the model sent no first token within %s", w.first)
	if w.started {
		msg = fmt.Sprintf("the model sent nothing for %s", w.idle)
	}
	w.mu.Unlock()
	w.cancel(&stalled{msg})
}

// chunk notes a chunk of the stream; token says whether it carried
// generated text. Until the first token, only the first-token limit runs.
func (w *watchdog) chunk(token bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started && !token {
		return
	}
	w.started = true
	w.t.Reset(w.idle)
}

func (w *watchdog) stop() { w.t.Stop() }
