package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestCompressJSON serves answers of each kind through compressJSON and
// reads them as sent: a JSON answer of at least minGzip bytes written at
// once is gzip-compressed for a client that takes gzip (and plain for
// one that does not); a small one, a streamed one, another type and one
// encoded already are sent as written. Every JSON answer varies on
// Accept-Encoding.
func TestCompressJSON(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	big := `{"x":"` + strings.Repeat("abc", minGzip) + `"}`
	engine := gin.New()
	engine.Use(compressJSON)
	engine.GET("/big", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(big)) })
	engine.GET("/small", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"a": 1}) })
	engine.GET("/stream", func(c *gin.Context) {
		c.Header("Content-Type", "application/json")
		c.Status(http.StatusOK)
		c.Writer.Write([]byte(big[:minGzip+10]))
		c.Writer.Flush()
		c.Writer.Write([]byte(big[minGzip+10:]))
	})
	engine.GET("/text", func(c *gin.Context) { c.Data(http.StatusOK, "text/plain", []byte(big)) })
	engine.GET("/encoded", func(c *gin.Context) {
		c.Header("Content-Encoding", "identity")
		c.Data(http.StatusOK, "application/json", []byte(big))
	})
	srv := httptest.NewServer(engine)
	defer srv.Close()
	get := func(path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", accept)
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		defer client.CloseIdleConnections()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			body = zr
		}
		var out bytes.Buffer
		if _, err := io.Copy(&out, body); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp, out.String()
	}
	for _, c := range []struct {
		path, accept, encoding string
		vary                   bool
	}{
		{"/big", "gzip, deflate", "gzip", true},
		{"/big", "gzip;q=0", "", true},
		{"/small", "gzip", "", true},
		{"/stream", "gzip", "", true},
		{"/text", "gzip", "", false},
		{"/encoded", "gzip", "identity", false},
	} {
		resp, body := get(c.path, c.accept)
		if enc := resp.Header.Get("Content-Encoding"); enc != c.encoding {
			t.Errorf("%s (Accept-Encoding: %s): Content-Encoding %q, want %q", c.path, c.accept, enc, c.encoding)
		}
		if vary := strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding"); vary != c.vary {
			t.Errorf("%s: Vary %q", c.path, resp.Header.Get("Vary"))
		}
		if want := map[bool]string{true: big, false: `{"a":1}`}[c.path != "/small"]; body != want {
			t.Errorf("%s (Accept-Encoding: %s): %d bytes, not the %d written", c.path, c.accept, len(body), len(want))
		}
	}
}
