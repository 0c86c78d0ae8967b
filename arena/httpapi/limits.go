package httpapi

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Limits are the websocket's fair-use limits: how many connections one
// client address and one contributor may hold, and how often they may
// start battles and vote. Zero fields are off.
type Limits struct {
	ConnectionsPerAddress     int
	ConnectionsPerContributor int
	// NewAddressShare is the share of MaxConnections kept for addresses
	// that hold no connection: once the rest is taken, only they may
	// connect, so that a crowd of connections from a few addresses
	// cannot lock everyone else out.
	NewAddressShare float64

	StartsPerContributor, StartsPerAddress Rate
	VotesPerContributor, VotesPerAddress   Rate
	// StartsPerNewContributor and VotesPerNewContributor are a further,
	// lower budget for new identities: anonymous contributors, and
	// members whose account is younger than NewAccountAge (limits_age.go).
	StartsPerNewContributor, VotesPerNewContributor Rate
	NewAccountAge                                   time.Duration
}

// Rate is a token bucket: one action every Every on average, up to Burst
// at once. A zero Every is no limit.
type Rate struct {
	Every time.Duration
	Burst int
}

// retryError is the cause of a rate_limited error: when to try again.
type retryError struct{ after time.Duration }

func (e *retryError) Error() string { return "retry after " + e.after.String() }

// RetryAfter returns how long the client of a rate_limited error should
// wait, or 0 for any other error.
func RetryAfter(err error) time.Duration {
	var re *retryError
	if errors.As(err, &re) {
		return re.after
	}
	return 0
}

// rateLimited returns the rate_limited error for an action refused for
// after.
func rateLimited(what string, after time.Duration) error {
	after = max(after.Round(time.Millisecond), time.Millisecond)
	return &rlhf.Error{Code: rlhf.ERateLimited, Err: &retryError{after},
		Message: fmt.Sprintf("too many %s; try again in %s", what, max(after.Round(100*time.Millisecond), 100*time.Millisecond))}
}

// limiter is a set of token buckets, one per key, kept as the theoretical
// arrival time of the next action (GCRA): one time per key, and keys whose
// bucket is full again are forgotten.
type limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex           // guards the fields below
	next    map[string]time.Time // when key's bucket is full again, as a theoretical arrival time
	sweepAt time.Time            // when to forget full buckets next
}

func newLimiter(r Rate, now func() time.Time) *limiter {
	return &limiter{rate: r, now: now, next: map[string]time.Time{}}
}

// take spends one action of key's bucket, or returns how long until it
// may act.
func (l *limiter) take(key string) (wait time.Duration, ok bool) {
	if l == nil || l.rate.Every <= 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	tat := l.next[key]
	if tat.Before(now) {
		tat = now
	}
	slack := time.Duration(l.rate.Burst-1) * l.rate.Every
	if wait := tat.Sub(now) - slack; wait > 0 {
		return wait, false
	}
	l.next[key] = tat.Add(l.rate.Every)
	return 0, true
}

// refund gives back one action that take spent.
func (l *limiter) refund(key string) {
	if l == nil || l.rate.Every <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if tat, ok := l.next[key]; ok {
		l.next[key] = tat.Add(-l.rate.Every)
	}
}

// sweep forgets the keys whose bucket is full, once a minute; l.mu must
// be held. The map thus holds only keys that acted within a bucket's
// refill time.
func (l *limiter) sweep(now time.Time) {
	if now.Before(l.sweepAt) {
		return
	}
	for k, tat := range l.next {
		if !tat.After(now) {
			delete(l.next, k)
		}
	}
	l.sweepAt = now.Add(time.Minute)
}

// action is a limited kind of request: a contributor limit and an address
// limit, both of which must allow it.
type action struct {
	what                     string // for the error: "battle starts"
	contributor, fromAddress *limiter
	newcomer                 *limiter // per contributor, for new identities only
}

// allow spends one action for contributor at addr, or returns a
// rate_limited error saying when to retry. A new identity (isNew) also
// spends from the newcomers' budget.
func (a *action) allow(contributor, addr string, isNew bool) error {
	if isNew {
		if wait, ok := a.newcomer.take(contributor); !ok {
			return rateLimited(a.what+" for a new identity (an account older than the arena's new-account age gets more)", wait)
		}
	}
	if wait, ok := a.contributor.take(contributor); !ok {
		if isNew {
			a.newcomer.refund(contributor)
		}
		return rateLimited(a.what+" for you", wait)
	}
	if wait, ok := a.fromAddress.take(addr); !ok {
		a.contributor.refund(contributor)
		if isNew {
			a.newcomer.refund(contributor)
		}
		return rateLimited(a.what+" from your address", wait)
	}
	return nil
}

// conns counts websocket connections in total, per address and per
// contributor, against the caps.
type conns struct {
	max      int // in total
	reserved int // of max, for addresses with no connection
	perAddr  int
	perContr int

	mu     sync.Mutex // guards the fields below
	total  int
	byAddr map[string]int
	byCont map[string]int
}

func newConns(max int, l Limits) *conns {
	return &conns{max: max, reserved: int(float64(max) * l.NewAddressShare),
		perAddr: l.ConnectionsPerAddress, perContr: l.ConnectionsPerContributor,
		byAddr: map[string]int{}, byCont: map[string]int{}}
}

// acquire counts one connection of contributor from addr, or refuses it.
func (c *conns) acquire(addr, contributor string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.total >= c.max:
		return rlhf.Errorf(rlhf.EUnavailable, "too many connections; try again later")
	case c.byAddr[addr] > 0 && c.total >= c.max-c.reserved:
		return rlhf.Errorf(rlhf.EUnavailable, "the server is busy; try again later")
	case c.perAddr > 0 && c.byAddr[addr] >= c.perAddr:
		return rlhf.Errorf(rlhf.ELimit, "at most %d connections from one address; close one first", c.perAddr)
	case c.perContr > 0 && c.byCont[contributor] >= c.perContr:
		return rlhf.Errorf(rlhf.ELimit, "at most %d connections for one contributor; close one first", c.perContr)
	}
	c.total++
	c.byAddr[addr]++
	c.byCont[contributor]++
	return nil
}

// release uncounts a connection that acquire counted.
func (c *conns) release(addr, contributor string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.byAddr[addr]--; c.byAddr[addr] <= 0 {
		delete(c.byAddr, addr)
	}
	if c.byCont[contributor]--; c.byCont[contributor] <= 0 {
		delete(c.byCont, contributor)
	}
}

// Load returns the number of connections counted.
func (c *conns) Load() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int64(c.total)
}
