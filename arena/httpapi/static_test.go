package httpapi_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// get requests url with the headers (name, value pairs) through a
// transport that leaves the encoding alone, and returns the answer and
// its body as sent.
func getRaw(t *testing.T, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// gunzip returns the gzip-compressed b uncompressed, failing t if it is
// not gzip.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStaticCompressedAndVersioned: the pages link their static files by
// version; those are compressed for a browser that takes gzip, cached for
// good at their version and revalidated (ETag, 304) otherwise.
func TestStaticCompressedAndVersioned(t *testing.T) {
	s := newSetup(t, options{})
	resp, page := getRaw(t, s.http.URL+"/", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("the arena page is not compressed: %v", resp.Header)
	}
	html := gunzip(t, page)
	link := regexp.MustCompile(`src="(/static/app\.js\?v=[0-9a-f]{16})"`).FindSubmatch(html)
	if link == nil {
		t.Fatalf("the page does not link app.js by version:\n%s", html)
	}
	versioned := s.http.URL + string(link[1])

	resp, gz := getRaw(t, versioned, "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("versioned app.js: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("app.js is served as %q", resp.Header.Get("Content-Type"))
	}
	resp, plain := getRaw(t, s.http.URL+"/static/app.js", "Accept-Encoding", "gzip;q=0")
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Cache-Control") != "no-cache" || len(plain) <= len(gz) {
		t.Errorf("unversioned app.js without gzip: %d bytes (gzip %d), %v", len(plain), len(gz), resp.Header)
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := getRaw(t, s.http.URL+"/static/app.js", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("app.js with If-None-Match %s: %d, want 304", etag, resp.StatusCode)
	}
	if resp, _ := getRaw(t, s.http.URL+"/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2", "Accept-Encoding", "gzip"); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("a font (compressed already) is served %d %v", resp.StatusCode, resp.Header)
	}
	for path, want := range map[string]int{"/static/app.js?v=nothex": http.StatusBadRequest, "/static/app.js?v=0000000000000000": http.StatusOK,
		"/static/nothere.js": http.StatusNotFound, "/static/vendor": http.StatusNotFound, "/static/../pages.go": http.StatusNotFound} {
		if resp, _ := getRaw(t, s.http.URL+path); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestLeaderboardCompressed: the leaderboard's JSON, which the page
// fetches, comes gzip-compressed to a client that takes it, and plain to
// one that does not.
func TestLeaderboardCompressed(t *testing.T) {
	s := newPagesSetup(t)
	resp, gz := getRaw(t, s.http.URL+"/api/v1/leaderboard", "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("leaderboard with gzip: %d %v", resp.StatusCode, resp.Header)
	}
	unzipped := gunzip(t, gz)
	resp, plain := getRaw(t, s.http.URL+"/api/v1/leaderboard")
	if resp.Header.Get("Content-Encoding") != "" || string(plain) != string(unzipped) || !strings.HasPrefix(string(plain), "{") {
		t.Errorf("leaderboard without gzip: %v; %d bytes, the gzip answer unzipped %d", resp.Header, len(plain), len(unzipped))
	}
	t.Logf("leaderboard JSON: %d bytes, %d gzip-compressed", len(plain), len(gz))
}
