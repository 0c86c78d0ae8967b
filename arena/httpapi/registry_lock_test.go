package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/arena/registry"
)

// hangingEndpoint is an OpenAI-compatible endpoint whose answer waits
// until release is closed; called is closed on its first request.
type hangingEndpoint struct {
	once            sync.Once
	called, release chan struct{}
}

func (h *hangingEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() { close(h.called) })
	select {
	case <-h.release:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
}

// TestHangingTestCallDoesNotBlockListing registers a model whose test call
// hangs: while it hangs, listing models answers, and a second registration
// of the same name is a conflict; once the call returns, the model is
// registered. (When the registry held its lock across the test call,
// listing waited for it and this test failed.)
func TestHangingTestCallDoesNotBlockListing(t *testing.T) {
	ls := newLabSetup(t)
	acme := ls.account("labs", "acme")
	hang := &hangingEndpoint{called: make(chan struct{}), release: make(chan struct{})}
	hs := httptest.NewServer(hang)
	t.Cleanup(hs.Close)
	defer close(hang.release) // also on failure, before hs.Close
	guard, err := openai.NewGuard(openai.GuardConfig{Allow: []string{strings.TrimPrefix(hs.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.Config{Store: ls.store, Arena: ls.arena, Guard: guard, TestTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	identity, _ := httpapi.NewIdentity(bytes.Repeat([]byte("k"), 32))
	srv, err := httpapi.New(httpapi.Config{Battles: ls.arena, Identity: identity, Store: ls.store, AdminToken: adminToken,
		Accounts: ls.store, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(srv)
	t.Cleanup(api.Close)
	request := func(ctx context.Context, method, body string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, method, api.URL+"/api/v1/models", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+acme)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	model := fmt.Sprintf(`{"name":"slow","base_url":%q,"model":"slow","max_tokens":5,"idle_timeout_ms":600000}`, hs.URL+"/v1")
	created := make(chan string, 1)
	go func() {
		code, body := request(context.Background(), "POST", model)
		created <- fmt.Sprint(code, " ", body)
	}()
	<-hang.called
	// The test call hangs for as long as this test lets it: a listing
	// that waits for it is cut off here, far sooner.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, body := request(ctx, "GET", "")
	if code != http.StatusOK || !strings.Contains(body, `"models"`) {
		t.Fatalf("GET /api/v1/models during a hanging test call = %d %s, want 200 with the list", code, body)
	}
	if strings.Contains(body, "acme/slow") {
		t.Errorf("the model is listed before its test call returned: %s", body)
	}
	if code, body := request(ctx, "POST", model); code != http.StatusConflict {
		t.Errorf("registering the same name during the test call = %d %s, want 409", code, body)
	}
	hang.release <- struct{}{} // not closed: the deferred close still runs
	if got := <-created; !strings.HasPrefix(got, "201 ") {
		t.Fatalf("registration after the test call returned = %s, want 201", got)
	}
	_, body = request(ctx, "GET", "")
	var list struct{ Models []struct{ Name string } }
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Models) != 1 || list.Models[0].Name != "acme/slow" {
		t.Errorf("models after registration = %s (%v), want acme/slow", body, err)
	}
}
