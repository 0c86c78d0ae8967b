package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPoWRedeem: a solution of a challenge this server issued redeems
// once, before it expires; anything else is refused.
func TestPoWRedeem(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	p := newPoWIssuer(PoWConfig{Bits: 10, TTL: time.Minute, Now: func() time.Time { return now }})
	c := p.issue()
	sol, err := SolveChallenge(c.Challenge, c.Bits, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.redeem(context.Background(), sol); err != nil {
		t.Fatalf("redeem a solution: %v", err)
	}
	if err := p.redeem(context.Background(), sol); err == nil || !strings.Contains(err.Error(), "used already") {
		t.Errorf("redeem twice: %v", err)
	}
	c2 := p.issue()
	weak := c2.Challenge + ":0"
	for i := 0; LeadingZeroBits(c2.Challenge, weak[len(c2.Challenge)+1:]) >= c2.Bits; i++ {
		weak = c2.Challenge + ":" + strings.Repeat("1", i+1)
	}
	other := newPoWIssuer(PoWConfig{Bits: 10})
	forged, _ := SolveChallenge(other.issue().Challenge, 10, 1<<30)
	sol2, _ := SolveChallenge(c2.Challenge, c2.Bits, 1<<30)
	tampered := strings.Replace(sol2, sol2[:4], "AAAA", 1)
	for name, s := range map[string]string{"none": "", "weak": weak, "forged": forged, "tampered": tampered,
		"no counter": c2.Challenge, "bad counter": c2.Challenge + ":x1"} {
		if err := p.redeem(context.Background(), s); err == nil {
			t.Errorf("%s: redeemed %q", name, s)
		}
	}
	now = now.Add(2 * time.Minute)
	if err := p.redeem(context.Background(), sol2); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("redeem after expiry: %v", err)
	}
}

// BenchmarkSolveChallenge solves 16-bit challenges: each op is one
// identity's work at 16 bits; 22 bits cost 64 times as much.
func BenchmarkSolveChallenge(b *testing.B) {
	p := newPoWIssuer(PoWConfig{Bits: 16})
	for b.Loop() {
		if _, err := SolveChallenge(p.issue().Challenge, 16, 1<<40); err != nil {
			b.Fatal(err)
		}
	}
}
