package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// immutable is the cache policy of a static file asked for by its version
// (?v=, as the pages link them): that URL's bytes never change.
const immutable = "public, max-age=31536000, immutable"

// asset is one embedded file as served: its bytes, its gzip encoding (nil
// when that would not be smaller) and its version, a hash of its bytes
// that is also its ETag.
type asset struct {
	raw, gz []byte
	version string
}

// assets serves the embedded static files compressed and cacheable. Each
// file is read, hashed and compressed once, when first asked for, and the
// pages' links to /static are given the files' versions.
type assets struct {
	files fs.FS
	mu    sync.Mutex // guards byName
	// byName holds the assets read so far; a page's entry is the page
	// with its links versioned.
	byName map[string]*asset
}

func newAssets(files fs.FS) *assets { return &assets{files: files, byName: map[string]*asset{}} }

// compressible lists the types worth compressing (fonts and images are
// compressed already).
var compressible = map[string]bool{".js": true, ".css": true, ".json": true, ".svg": true, ".html": true, ".txt": true, ".map": true}

// get returns the asset name (a path inside files), reading it on first
// use; page versions its links to /static first.
func (a *assets) get(name string, page bool) (*asset, error) {
	key := name
	if page {
		key = "page:" + name
	}
	a.mu.Lock()
	got, ok := a.byName[key]
	a.mu.Unlock()
	if ok {
		return got, nil
	}
	raw, err := fs.ReadFile(a.files, name)
	if err != nil {
		return nil, err
	}
	if page {
		raw = a.versionLinks(raw)
	}
	sum := sha256.Sum256(raw)
	got = &asset{raw: raw, version: hex.EncodeToString(sum[:8])}
	if compressible[path.Ext(name)] {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		zw.Write(raw)
		zw.Close()
		if buf.Len() < len(raw) {
			got.gz = buf.Bytes()
		}
	}
	a.mu.Lock()
	a.byName[key] = got
	a.mu.Unlock()
	return got, nil
}

// staticLink is a page's link to one of the static files.
var staticLink = regexp.MustCompile(`((?:src|href)="/static/)([^"?#]+)"`)

// versionLinks adds each linked static file's version to its link, so
// that a browser may keep the file for good and a new build is fetched
// anew.
func (a *assets) versionLinks(page []byte) []byte {
	return staticLink.ReplaceAllFunc(page, func(m []byte) []byte {
		sub := staticLink.FindSubmatch(m)
		f, err := a.get(string(sub[2]), false)
		if err != nil {
			return m // a broken link stays as written; the page's test finds it
		}
		return []byte(string(sub[1]) + string(sub[2]) + "?v=" + f.version + `"`)
	})
}

// serve writes f, gzip-encoded when the client takes it, answering a
// matching If-None-Match with 304.
func (f *asset) serve(c *gin.Context, contentType, cacheControl string) {
	h := c.Writer.Header()
	etag := `"` + f.version + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	h.Set("Vary", "Accept-Encoding")
	if strings.Contains(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return
	}
	body := f.raw
	if f.gz != nil && acceptsGzip(c.GetHeader("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	c.Data(http.StatusOK, contentType, body)
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip.
func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// isVersion reports whether v is written like an asset's version.
func isVersion(v string) bool {
	_, err := hex.DecodeString(v)
	return len(v) == 16 && err == nil
}

// handleStatic serves the page's static files, compressed when the
// browser takes it; asked for with their current version (?v=, as the
// pages link them) they may be cached for good, else revalidated.
func (s *Server) handleStatic(c *gin.Context) error {
	name := strings.TrimPrefix(path.Clean(c.Param("filepath")), "/")
	st, err := fs.Stat(s.static, name)
	if err != nil || st.IsDir() {
		return handleNotFound(c)
	}
	f, err := s.assets.get(name, false)
	if err != nil {
		return err
	}
	cache := "no-cache"
	switch v := c.Query("v"); {
	case v == f.version:
		cache = immutable
	case v != "" && !isVersion(v): // an older version is served as the current, uncached
		return rlhf.Errorf(rlhf.EInvalid, "v=%q is not a file version (16 hexadecimal digits)", v)
	}
	contentType := mime.TypeByExtension(path.Ext(name))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	f.serve(c, contentType, cache)
	return nil
}

// gzipped answers h's response gzip-compressed when the client takes it
// and the body is worth compressing (≥ 1 KiB), for the pages' larger JSON
// answers. The response is held in memory: for bounded answers only,
// never a stream or a websocket.
func gzipped(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !acceptsGzip(c.GetHeader("Accept-Encoding")) {
			h(c)
			return
		}
		orig := c.Writer
		held := &heldWriter{ResponseWriter: orig}
		c.Writer = held
		defer func() { c.Writer = orig }()
		h(c)
		c.Writer = orig
		body := held.body.Bytes()
		orig.Header().Add("Vary", "Accept-Encoding")
		if len(body) >= 1<<10 {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			orig.Header().Set("Content-Encoding", "gzip")
			orig.Header().Del("Content-Length")
			body = buf.Bytes()
		}
		if len(body) > 0 {
			orig.Write(body)
		}
	}
}

// heldWriter keeps a response's body for gzipped.
type heldWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *heldWriter) Write(b []byte) (int, error)       { return w.body.Write(b) }
func (w *heldWriter) WriteString(s string) (int, error) { return w.body.WriteString(s) }
func (w *heldWriter) Size() int                         { return w.body.Len() }
func (w *heldWriter) Written() bool                     { return w.body.Len() > 0 }
