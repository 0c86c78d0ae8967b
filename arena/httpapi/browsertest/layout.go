package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// SlowPhone makes the tab of ctx load pages as Lighthouse's phone preset
// pictures a phone: the CPU slowed four times, and 150 ms round trips at
// 1.6 Mbit/s down, 750 kbit/s up. Content that arrives late then arrives
// visibly late, as on a real phone. It fails t on error.
func SlowPhone(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: 4})
	if err == nil {
		_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	}
	if err == nil {
		_, err = chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Latency: 150, DownloadThroughput: 1.6e6 / 8, UploadThroughput: 750e3 / 8}}})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// LayoutShift is one of a page's layout shifts, as Chromium reports it:
// its score (the share of the screen that moved times how far) and the
// elements that moved.
type LayoutShift struct {
	Value    float64  `json:"value"`
	At       float64  `json:"at"` // ms after the navigation began
	Input    bool     `json:"input"`
	Elements []string `json:"elements"`
}

func (s LayoutShift) String() string {
	return fmt.Sprintf("%.4f at %.0f ms (after input: %v): %s", s.Value, s.At, s.Input, strings.Join(s.Elements, ", "))
}

// layoutShifts reads the page's layout shifts so far (the observer's
// buffer), naming each moved element by tag, id and class.
const layoutShifts = `new Promise((resolve) => {
  const name = (n) => !n ? "(gone)" : n.nodeType !== 1 ? n.nodeName :
    n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") + (n.className && typeof n.className === "string" ? "." + n.className.trim().split(/\s+/).join(".") : "");
  new PerformanceObserver((list, obs) => {
    obs.disconnect();
    resolve(list.getEntries().map((e) => ({ value: e.value, at: e.startTime, input: e.hadRecentInput,
      elements: (e.sources || []).map((s) => name(s.node)) })));
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve([]), 500); // no shift at all: the observer is never called
})`

// LayoutShifts returns the layout shifts of the page in the tab of ctx
// since it was loaded. It fails t on error.
func LayoutShifts(t *testing.T, ctx context.Context) []LayoutShift {
	t.Helper()
	return Run(t, ctx, chromedp.Evaluate[[]LayoutShift](layoutShifts, chromedp.EvalAwaitPromise))
}
