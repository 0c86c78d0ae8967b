package loadtest

import (
	"context"
	"testing"
)

// TestTicker ticks from a timerfd on Linux, and stops waiting when its
// context ends.
func TestTicker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tick := newTicker(ctx, 1e6)
	defer tick.stop()
	if _, ok := tick.(*fdTicker); !ok {
		t.Fatalf("newTicker = %T, want a timerfd's", tick)
	}
	for i := range 5 {
		if !tick.wait() {
			t.Fatalf("tick %d: wait returned false before the context ended", i)
		}
	}
	cancel()
	for tick.wait() { // a tick already counted may still be read
	}
	if tick.wait() {
		t.Error("wait after the context ended returned true")
	}
}
