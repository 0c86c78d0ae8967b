package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// ColorScheme emulates the system's light or dark colour scheme, as
// prefers-color-scheme reports it to the page.
func ColorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
	if err != nil {
		t.Fatal(err)
	}
}

// Axe runs axe-core (arena/httpapi/browsertest/js, installed by npm ci) on
// the page in ctx and returns its violations, one line each: the rule,
// its help and the elements. In CI a missing axe-core fails the test;
// elsewhere the test is skipped, loudly.
func Axe(t *testing.T, ctx context.Context) []string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(self), "js", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is not installed (npm ci --prefix arena/httpapi/browsertest/js): %v", err)
		}
		t.Skipf("SKIPPED: axe-core is not installed (npm ci --prefix arena/httpapi/browsertest/js): %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[Void](string(src))); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	return Run(t, ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then((r) =>
		r.violations.map((v) => v.id + " (" + v.help + "): " + v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\s+/g, " ")).join(" | ")))`,
		chromedp.EvalAwaitPromise))
}

// Void is the value of an action whose value does not matter.
type Void = chromedp.Void
