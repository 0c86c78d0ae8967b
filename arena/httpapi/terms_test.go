package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/ingest/store"
)

// termsOf returns the terms of version kept by s, or none.
func termsOf(version string, s *store.Store) httpapi.Terms {
	if version == "" {
		return httpapi.Terms{}
	}
	return httpapi.Terms{Version: version, Text: "# Terms\n\nBe kind.", Keeper: s}
}

// TestTermsBeforeFirstBattle checks over a real websocket that with terms
// configured no battle starts before they are accepted, that the error
// names the message to send, that the acceptance is recorded with its
// version, and that a new version asks again.
func TestTermsBeforeFirstBattle(t *testing.T) {
	ctx := context.Background()
	s := newSetup(t, options{terms: "2026-12"})
	c := s.dial(t, nil)
	terms, _ := c.hello["terms"].(map[string]any)
	if terms["version"] != "2026-12" || terms["url"] != "/api/v1/terms" {
		t.Fatalf("hello = %v, want the terms to accept", c.hello)
	}
	c.send(map[string]any{"type": "start", "prompt": "hello"})
	f := c.next()
	if f["type"] != "error" || f["code"] != "forbidden" || !strings.Contains(f["message"].(string), `{"type":"accept_terms","version":"2026-12"}`) {
		t.Fatalf("start before accepting = %v, want an error naming accept_terms and the version", f)
	}
	c.send(map[string]any{"type": "accept_terms", "version": "2025-01"})
	if f := c.next(); f["code"] != "conflict" {
		t.Fatalf("accepting another version = %v, want conflict", f)
	}
	c.send(map[string]any{"type": "accept_terms", "version": "2026-12"})
	if f := c.next(); f["type"] != "terms_accepted" {
		t.Fatalf("accept_terms = %v, want terms_accepted", f)
	}
	if id, _ := c.start("hello"); id == "" {
		t.Fatal("no battle after accepting the terms")
	}
	contributor := c.hello["contributor_id"].(string)
	if at, err := s.store.TermsAccepted(ctx, contributor, "2026-12"); err != nil || at.IsZero() {
		t.Fatalf("TermsAccepted = %v, %v; want the acceptance recorded", at, err)
	}
	// A new version asks again: a contributor who accepted an older one.
	s2 := newSetup(t, options{terms: "2027-01"})
	if err := s2.store.AcceptTerms(ctx, contributor, "2026-12", time.Now()); err != nil {
		t.Fatal(err)
	}
	c2 := s2.dial(t, http.Header{"Authorization": {"Bearer " + c.hello["token"].(string)}})
	if c2.hello["contributor_id"] != contributor || c2.hello["terms"] == nil {
		t.Fatalf("hello after the terms changed = %v, want them asked again", c2.hello)
	}
	c2.send(map[string]any{"type": "start", "prompt": "hello"})
	if f := c2.next(); f["code"] != "forbidden" {
		t.Fatalf("start under new terms = %v, want forbidden", f)
	}
	// The page reads and accepts them over HTTP.
	tok := c2.hello["token"].(string)
	if code, body := call(t, s2, "GET", "/api/v1/terms", tok, nil); code != 200 || !strings.Contains(string(body), `"version":"2027-01"`) || strings.Contains(string(body), "accepted_at") {
		t.Fatalf("GET /api/v1/terms = %d %s", code, body)
	}
	if code, body := call(t, s2, "POST", "/api/v1/me/terms", tok, map[string]string{"version": "2027-01"}); code != 200 {
		t.Fatalf("POST /api/v1/me/terms = %d %s", code, body)
	}
	if _, body := call(t, s2, "GET", "/api/v1/terms", tok, nil); !strings.Contains(string(body), "accepted_at") {
		t.Fatalf("GET /api/v1/terms after accepting = %s, want accepted_at", body)
	}
}

// TestNoTermsByDefault checks that without terms a protocol-v1 client
// sees no terms and starts a battle at once.
func TestNoTermsByDefault(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	if _, ok := c.hello["terms"]; ok {
		t.Fatalf("hello = %v, want no terms", c.hello)
	}
	if id, _ := c.start("hello"); id == "" {
		t.Fatal("no battle")
	}
	if code, body := call(t, s, "GET", "/api/v1/terms", "", nil); code != 200 || !strings.Contains(string(body), "may be released") || strings.Contains(string(body), "version") {
		t.Fatalf("GET /api/v1/terms = %d %s, want the notice only", code, body)
	}
}
