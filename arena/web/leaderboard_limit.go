package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// This file is the leaderboard's own small rate limit, until the server's
// fair-use limits (per client address, with trusted proxies) can count
// leaderboard requests: then it goes.

// bucket is a token bucket: one request every Every on average, up to
// Burst at once. A zero Every is no limit.
type bucket struct {
	Every time.Duration
	Burst int
}

// addrLimiter keeps one token bucket per client address, as the
// theoretical arrival time of the next request (GCRA); addresses whose
// bucket is full again are forgotten.
type addrLimiter struct {
	rate bucket
	now  func() time.Time

	mu      sync.Mutex           // guards the fields below
	next    map[string]time.Time // by address
	sweepAt time.Time
}

func newAddrLimiter(r bucket, now func() time.Time) *addrLimiter {
	return &addrLimiter{rate: r, now: now, next: map[string]time.Time{}}
}

// take spends one request of addr's bucket, or returns how long until it
// may ask again.
func (l *addrLimiter) take(addr string) (wait time.Duration, ok bool) {
	if l.rate.Every <= 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !now.Before(l.sweepAt) {
		for k, t := range l.next {
			if !t.After(now) {
				delete(l.next, k)
			}
		}
		l.sweepAt = now.Add(time.Minute)
	}
	tat := l.next[addr]
	if tat.Before(now) {
		tat = now
	}
	slack := time.Duration(max(l.rate.Burst, 1)-1) * l.rate.Every
	if wait := tat.Sub(now) - slack; wait > 0 {
		return wait, false
	}
	l.next[addr] = tat.Add(l.rate.Every)
	return 0, true
}

// peerHost is the address of the socket r came on, without its port. It
// believes no forwarding header.
func peerHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
