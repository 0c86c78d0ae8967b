package loadtest

import (
	"context"
	"time"
)

// A ticker wakes the pacer once a period. The runtime's timers are not
// precise enough for it: a Go process with nothing to run sleeps in the
// network poller, whose timeout is in whole milliseconds (a timer due in
// 0.3 ms wakes it after 1 ms, one due in 1.7 ms after 1 ms and then
// another), so a load tester in a process of its own, idle between ticks,
// sent votes later after they were due than one sharing its process with
// a busy server, whose running threads look at the timers often. On Linux
// the ticks come from a timerfd, which the poller wakes on to the
// kernel's timer slack (50 µs) however idle the process is; elsewhere
// from a time.Ticker. (A process doing nothing else, votes due every 0.5
// ms and sent at the next tick, on the loaded 2-core test machine: sent
// a median 0.85–0.98 ms after due on a time.Ticker, 0.54–0.68 ms on a
// timerfd, where 0.5 ms is the tick's own share.)
type ticker interface {
	wait() bool // blocks until the next tick; false once ctx ended
	stop()
}

// timeTicker is a ticker of the runtime's timers.
type timeTicker struct {
	ctx context.Context
	t   *time.Ticker
}

func newTimeTicker(ctx context.Context, period time.Duration) timeTicker {
	return timeTicker{ctx, time.NewTicker(period)}
}

func (t timeTicker) wait() bool {
	select {
	case <-t.t.C:
		return true
	case <-t.ctx.Done():
		return false
	}
}

func (t timeTicker) stop() { t.t.Stop() }
