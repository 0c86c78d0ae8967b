package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/httpapi"
)

// dialProblem dials with a token the server does not accept: the first
// frame must be an explicit unauthorized error, the second the hello of a
// new identity.
func (s *setup) dialProblem(t *testing.T, header http.Header) *wsClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(s.url, header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn}
	if f := c.next(); f["type"] != "error" || f["code"] != "unauthorized" {
		t.Fatalf("first frame with a bad token = %v, want an unauthorized error", f)
	}
	c.hello = c.next()
	if c.hello["type"] != "hello" || c.hello["token"] == "" {
		t.Fatalf("second frame = %v, want hello with a new token", c.hello)
	}
	return c
}

func TestTokenProblemsAnsweredBeforeNewIdentity(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	token := c.hello["token"].(string)
	if !strings.HasPrefix(token, "v2.") {
		t.Fatalf("hello token %q, want a v2 token with an expiry", token)
	}
	tampered := []byte(token)
	tampered[len(tampered)-3] ^= 1
	p := s.dialProblem(t, http.Header{"Authorization": {"Bearer " + string(tampered)}})
	if p.hello["contributor_id"] == c.hello["contributor_id"] {
		t.Error("a tampered token kept its identity")
	}
	if f := p.frames[0]; !strings.Contains(f["message"].(string), "not valid") {
		t.Errorf("tampered token error = %v, want it to say the token is not valid", f)
	}

	// An expired token, from an identity with the same key and an old clock.
	key := []byte(strings.Repeat("k", 32))
	old, _ := httpapi.NewIdentity(key)
	old.Now = func() time.Time { return time.Now().Add(-2 * httpapi.DefaultTokenTTL) }
	_, expired := old.New()
	p = s.dialProblem(t, http.Header{"Authorization": {"Bearer " + expired}})
	if f := p.frames[0]; !strings.Contains(f["message"].(string), "expired") {
		t.Errorf("expired token error = %v, want it to say the token expired", f)
	}

	// A token past half its life keeps its contributor and is renewed.
	old.Now = func() time.Time { return time.Now().Add(-httpapi.DefaultTokenTTL * 3 / 4) }
	who, aging := old.New()
	r := s.dial(t, http.Header{"Authorization": {"Bearer " + aging}})
	if r.hello["contributor_id"] != who || r.hello["token"] == aging {
		t.Errorf("aging token: hello %v, want contributor %s with a renewed token", r.hello, who)
	}
}

// TestStrictFrameKeys sends keys in the wrong case and twice over a real
// websocket: each is refused with invalid, and no vote is stored.
func TestStrictFrameKeys(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	id, _ := c.start("keys")
	for _, frame := range []string{
		`{"type":"vote","battle_id":"` + id + `","Winner":"a"}`,
		`{"type":"vote","battle_id":"` + id + `","winner":"a","winner":"b"}`,
		`{"Type":"vote","battle_id":"` + id + `","winner":"a"}`,
	} {
		if err := c.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		if f := c.next(); f["type"] != "error" || f["code"] != "invalid" {
			t.Errorf("%s: answer %v, want an invalid error", frame, f)
		}
	}
	if f := c.vote(id, "b", nil); f["type"] != "voted" || f["winner"] != "b" {
		t.Errorf("the proper vote after the refused ones = %v, want voted b", f)
	}
}

// TestSecurityHeadersEverywhere checks every kind of answer: pages, static
// files, API JSON, errors and the websocket's refusal.
func TestSecurityHeadersEverywhere(t *testing.T) {
	s := newSetup(t, options{})
	for _, path := range []string{"/", "/leaderboard", "/static/app.js", "/static/style.css", "/healthz",
		"/api/v1/openapi.json", "/api/v1/labs", "/no/such/page", "/api/v1/arena/ws"} {
		resp, err := http.Get(s.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("GET %s (%d): CSP %q, X-Content-Type-Options %q, Referrer-Policy %q", path, resp.StatusCode,
				csp, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
}

// TestPagesHaveNoInlineCode checks the embedded pages: with script-src
// 'self' an inline script or style would not run, so there must be none.
func TestPagesHaveNoInlineCode(t *testing.T) {
	s := newSetup(t, options{})
	for _, path := range []string{"/", "/leaderboard"} {
		resp, err := http.Get(s.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		page := strings.ToLower(b.String())
		for _, bad := range []string{"<style", " style=", "<script>", " onclick=", " onload=", "javascript:"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s holds inline code %q", path, bad)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s CSP %q, want script-src 'self'", path, csp)
		}
	}
}

// TestOriginSchemeHostPort refuses origins that match the host but not the
// scheme or the port.
func TestOriginSchemeHostPort(t *testing.T) {
	s := newSetup(t, options{})
	host := strings.TrimPrefix(s.http.URL, "http://")
	name, port, _ := strings.Cut(host, ":")
	for _, tt := range []struct {
		origin string
		ok     bool
	}{
		{"http://" + host, true},
		{"HTTP://" + strings.ToUpper(name) + ":" + port, true},
		{"https://" + host, false},
		{"http://" + name + ":1", false},
		{"http://" + name, false},
		{"null", false},
		{"http://" + host + ".evil.example", false},
	} {
		conn, resp, err := websocket.DefaultDialer.Dial(s.url, http.Header{"Origin": {tt.origin}})
		if conn != nil {
			conn.Close()
		}
		if got := err == nil; got != tt.ok {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("Origin %q: accepted %v (status %d), want %v", tt.origin, got, status, tt.ok)
		}
	}
}
