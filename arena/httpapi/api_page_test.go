package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
)

// TestAPIPageServed checks the API page over real HTTP: the page, under
// the pages' content security policy, and every file it loads, from
// /static alone.
func TestAPIPageServed(t *testing.T) {
	_, hs := openAPIServer(t)
	page, resp := get(t, hs.URL+"/api/docs")
	if csp := resp.Header.Get("Content-Security-Policy"); csp != pageCSP {
		t.Errorf("Content-Security-Policy = %q, want the pages' %q", csp, pageCSP)
	}
	for _, file := range []string{"/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css", "/static/api.js", "/static/api.css"} {
		if !strings.Contains(page, `"`+file+"?v=") {
			t.Errorf("the page does not load %s (by its version)", file)
		}
		if body, _ := get(t, hs.URL+file); len(body) == 0 {
			t.Errorf("%s is empty", file)
		}
	}
	if strings.Contains(page, "://") {
		t.Errorf("the page names another origin:\n%s", page)
	}
}

func get(t *testing.T, url string) (string, *http.Response) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, %v", url, resp.StatusCode, err)
	}
	return string(body), resp
}

// TestAPIPageInChromium opens the API page in a real browser: Swagger UI
// renders every operation of the served document, with no error and
// nothing refused by the content security policy; an operation opens.
func TestAPIPageInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	_, hs := openAPIServer(t)
	_, d := servedDoc(t, hs)
	problems := browsertest.Problems(t, ctx)
	var want int
	paths, _ := d.root["paths"].(map[string]any)
	for _, item := range paths {
		for m := range item.(map[string]any) {
			if strings.Contains(strings.Join(httpMethods, " "), m) {
				want++
			}
		}
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(hs.URL+"/api/docs"),
		chromedp.WaitVisible(chromedp.CSS(`#operations-arena-getLeaderboard`)),
		chromedp.Click(chromedp.CSS(`#operations-arena-getLeaderboard .opblock-summary-control`)),
		chromedp.WaitVisible(chromedp.CSS(`#operations-arena-getLeaderboard .parameters`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	ids := browsertest.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.opblock')].map(e => e.id)`))
	if len(ids) != want {
		t.Errorf("the page shows %d operations, want %d (the document's)", len(ids), want)
	}
	text := browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS(`#operations-arena-getLeaderboard .parameters`)))
	for _, p := range []string{"rounds", "exclude_contributors"} {
		if !strings.Contains(text, p) {
			t.Errorf("getLeaderboard's parameters %q lack %s", text, p)
		}
	}
	// The first screen only: a full one of the long page is slow.
	browsertest.SaveScreenshot(t, "api.png", browsertest.Run(t, ctx, chromedp.CaptureScreenshot()))
	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}
}
