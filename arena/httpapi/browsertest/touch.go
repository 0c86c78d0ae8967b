package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// Swipe drags one finger across the tab of ctx from (x0, y) to (x1, y),
// in CSS pixels of the viewport, through the DevTools Input domain: a
// touchstart, a touchmove half way and at the end, and a touchend, as a
// phone sends them (Chromium delivers them without touch emulation). It
// fails t on error.
func Swipe(t *testing.T, ctx context.Context, x0, x1, y float64) {
	t.Helper()
	steps := []input.DispatchTouchEventParams{
		{Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: []*input.TouchPoint{{X: x0, Y: y}}},
		{Type: input.DispatchTouchEventTypeTouchMove, TouchPoints: []*input.TouchPoint{{X: (x0 + x1) / 2, Y: y}}},
		{Type: input.DispatchTouchEventTypeTouchMove, TouchPoints: []*input.TouchPoint{{X: x1, Y: y}}},
		{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}},
	}
	for _, p := range steps {
		if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, p); err != nil {
			t.Fatalf("%s: %v", p.Type, err)
		}
	}
}
