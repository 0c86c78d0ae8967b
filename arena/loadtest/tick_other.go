//go:build !linux

package loadtest

import (
	"context"
	"time"
)

// newTicker returns a ticker of period until ctx ends.
func newTicker(ctx context.Context, period time.Duration) ticker { return newTimeTicker(ctx, period) }
