package httpapi

import (
	"net/netip"
	"testing"
	"time"
)

func TestAddrKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
	} {
		if got := addrKey(netip.MustParseAddr(tt.in)); got != tt.want {
			t.Errorf("addrKey(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestLimiter spends a bucket, waits out the retry time it gives, and
// checks that a refund gives an action back.
func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(Rate{Every: 10 * time.Second, Burst: 3}, func() time.Time { return now })
	for i := range 3 {
		if _, ok := l.take("k"); !ok {
			t.Fatalf("take %d of a burst of 3 refused", i)
		}
	}
	wait, ok := l.take("k")
	if ok || wait != 10*time.Second {
		t.Fatalf("fourth take = %v, %v; want refused for 10s", wait, ok)
	}
	if _, ok := l.take("other"); !ok {
		t.Error("another key was refused")
	}
	now = now.Add(wait)
	if _, ok := l.take("k"); !ok {
		t.Error("refused after the retry time")
	}
	if _, ok := l.take("k"); ok {
		t.Error("a second take right after the retry time was allowed")
	}
	l.refund("k")
	if _, ok := l.take("k"); !ok {
		t.Error("refused after a refund")
	}
	now = now.Add(time.Hour)
	l.take("fresh")
	if len(l.next) != 1 {
		t.Errorf("after an hour the limiter keeps %d keys, want 1 (full buckets forgotten)", len(l.next))
	}
}
