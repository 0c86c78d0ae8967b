package httpapi_test

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/httpapi"
)

// dialFrom opens the websocket from the loopback address from (127.0.0.x:
// the kernel routes all of 127/8 to this host), and returns the
// connection after its hello, or the HTTP status of the refusal.
func (s *setup) dialFrom(t *testing.T, from string, header http.Header) (*wsClient, int) {
	t.Helper()
	d := websocket.Dialer{NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}
	conn, resp, err := d.Dial(s.url, header)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial from %s: %v", from, err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn}
	c.hello = c.next()
	return c, http.StatusSwitchingProtocols
}

// TestAddressAtItsCapCannotLockOthersOut fills one address's connection
// cap; the next connection from it is refused, and another address still
// connects and fights a whole battle.
func TestAddressAtItsCapCannotLockOthersOut(t *testing.T) {
	s := newSetup(t, options{limits: httpapi.Limits{ConnectionsPerAddress: 3}})
	for i := range 3 {
		if _, status := s.dialFrom(t, "127.0.0.1", nil); status != http.StatusSwitchingProtocols {
			t.Fatalf("connection %d from 127.0.0.1: status %d", i, status)
		}
	}
	if _, status := s.dialFrom(t, "127.0.0.1", nil); status != http.StatusTooManyRequests {
		t.Errorf("connection over the address's cap: status %d, want 429", status)
	}
	other, status := s.dialFrom(t, "127.0.0.2", nil)
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("another address: status %d", status)
	}
	id, _ := other.start("still served")
	if f := other.vote(id, "a", nil); f["type"] != "voted" {
		t.Errorf("another address's vote = %v", f)
	}
}

// TestConnectionCapPerContributor refuses a contributor's connection over
// the cap, whatever the address.
func TestConnectionCapPerContributor(t *testing.T) {
	s := newSetup(t, options{limits: httpapi.Limits{ConnectionsPerContributor: 2}})
	first, _ := s.dialFrom(t, "127.0.0.1", nil)
	h := http.Header{"Authorization": {"Bearer " + first.hello["token"].(string)}}
	if _, status := s.dialFrom(t, "127.0.0.2", h); status != http.StatusSwitchingProtocols {
		t.Fatalf("second connection: status %d", status)
	}
	if _, status := s.dialFrom(t, "127.0.0.3", h); status != http.StatusTooManyRequests {
		t.Errorf("third connection of one contributor: status %d, want 429", status)
	}
}

// TestGlobalCapKeepsShareForNewAddresses fills the unreserved part of the
// global cap from one address: that address is refused, new addresses
// still connect until the cap itself.
func TestGlobalCapKeepsShareForNewAddresses(t *testing.T) {
	s := newSetup(t, options{maxConns: 10, limits: httpapi.Limits{NewAddressShare: 0.2}})
	for i := range 8 {
		if _, status := s.dialFrom(t, "127.0.0.1", nil); status != http.StatusSwitchingProtocols {
			t.Fatalf("connection %d: status %d", i, status)
		}
	}
	if _, status := s.dialFrom(t, "127.0.0.1", nil); status != http.StatusServiceUnavailable {
		t.Errorf("the busy address past the unreserved share: status %d, want 503", status)
	}
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		if _, status := s.dialFrom(t, from, nil); status != http.StatusSwitchingProtocols {
			t.Errorf("new address %s within the reserve: status %d", from, status)
		}
	}
	if _, status := s.dialFrom(t, "127.0.0.4", nil); status != http.StatusServiceUnavailable {
		t.Errorf("past the global cap: status %d, want 503", status)
	}
}

// TestRateLimitedWithRetryTime starts battles faster than the limits
// allow, per contributor and per address: the excess gets rate_limited
// with a retry time, and another address is not affected.
func TestRateLimitedWithRetryTime(t *testing.T) {
	s := newSetup(t, options{maxBattles: 10, limits: httpapi.Limits{
		StartsPerContributor: httpapi.Rate{Every: time.Minute, Burst: 2},
		StartsPerAddress:     httpapi.Rate{Every: time.Minute, Burst: 3},
		VotesPerContributor:  httpapi.Rate{Every: time.Minute, Burst: 1},
	}})
	c, _ := s.dialFrom(t, "127.0.0.1", nil)
	id, _ := c.start("one")
	c.start("two")
	c.send(map[string]any{"type": "start", "prompt": "three"})
	checkRateLimited(t, c.next(), "for you")

	c2, _ := s.dialFrom(t, "127.0.0.1", nil) // a fresh identity, same address
	c2.start("three")
	c2.send(map[string]any{"type": "start", "prompt": "four"})
	checkRateLimited(t, c2.next(), "from your address")

	c3, _ := s.dialFrom(t, "127.0.0.2", nil)
	c3.start("elsewhere")

	if f := c.vote(id, "a", nil); f["type"] != "voted" {
		t.Fatalf("first vote = %v", f)
	}
	checkRateLimited(t, c.vote(id, "a", nil), "votes for you")
}

func checkRateLimited(t *testing.T, f map[string]any, want string) {
	t.Helper()
	ms, _ := f["retry_after_ms"].(float64)
	if f["type"] != "error" || f["code"] != "rate_limited" || ms <= 0 || ms > 60000 ||
		!strings.Contains(f["message"].(string), want) {
		t.Errorf("over the limit: %v; want rate_limited %q with retry_after_ms in (0, 60000]", f, want)
	}
}

// TestTrustedProxiesOnly counts connections by the forwarded address only
// when they come from a trusted proxy: a spoofed X-Forwarded-For from
// anywhere else is ignored.
func TestTrustedProxiesOnly(t *testing.T) {
	proxies, _ := httpapi.ParseProxies([]string{"127.0.0.3/32"})
	s := newSetup(t, options{proxies: proxies, limits: httpapi.Limits{ConnectionsPerAddress: 1}})
	xff := func(a string) http.Header { return http.Header{"X-Forwarded-For": {a}} }
	if _, status := s.dialFrom(t, "127.0.0.1", xff("203.0.113.7")); status != http.StatusSwitchingProtocols {
		t.Fatalf("first connection: status %d", status)
	}
	if _, status := s.dialFrom(t, "127.0.0.1", xff("203.0.113.8")); status != http.StatusTooManyRequests {
		t.Errorf("spoofed X-Forwarded-For from an untrusted peer: status %d, want 429 (counted as 127.0.0.1)", status)
	}
	for _, tt := range []struct {
		h    http.Header
		want int
	}{
		{xff("198.51.100.1, 203.0.113.7"), http.StatusSwitchingProtocols},
		{xff("203.0.113.8"), http.StatusSwitchingProtocols},
		{xff("10.9.9.9, 203.0.113.7"), http.StatusTooManyRequests}, // the left part is the client's to write
		{http.Header{"Cf-Connecting-Ip": {"203.0.113.9"}}, http.StatusSwitchingProtocols},
		{http.Header{"Cf-Connecting-Ip": {"203.0.113.9"}}, http.StatusTooManyRequests},
	} {
		if _, status := s.dialFrom(t, "127.0.0.3", tt.h); status != tt.want {
			t.Errorf("from the trusted proxy with %v: status %d, want %d", tt.h, status, tt.want)
		}
	}
}

// TestParseProxies reads CIDRs and addresses and refuses anything else.
func TestParseProxies(t *testing.T) {
	ps, err := httpapi.ParseProxies([]string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"})
	want := httpapi.Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::/32")}
	if err != nil || len(ps) != len(want) {
		t.Fatalf("ParseProxies = %v, %v", ps, err)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("ParseProxies[%d] = %v, want %v", i, ps[i], want[i])
		}
	}
	if _, err := httpapi.ParseProxies([]string{"proxy.example"}); err == nil {
		t.Error("a host name was accepted as a proxy")
	}
}
