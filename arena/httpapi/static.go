package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
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

// minGzip is the size from which a JSON answer is worth compressing.
const minGzip = 1 << 10

// gzipWriters keeps gzip writers for reuse: each holds a large window.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// compressJSON gzip-compresses the JSON answers (application/json) of at
// least minGzip bytes written at once (c.JSON, c.Data) for a client that
// takes gzip, and marks every JSON answer Vary: Accept-Encoding. A JSON
// answer's first write is held: a second write or a flush makes it a
// stream (an export), sent as it comes, uncompressed. An answer encoded
// already (the static files), any other type and a websocket are left
// alone.
func compressJSON(c *gin.Context) {
	w := &jsonWriter{ResponseWriter: c.Writer, gzip: acceptsGzip(c.GetHeader("Accept-Encoding"))}
	c.Writer = w
	defer w.close()
	c.Next()
}

// jsonWriter holds a JSON answer's first write until it knows whether the
// answer is written at once.
type jsonWriter struct {
	gin.ResponseWriter
	gzip    bool   // the client takes gzip
	decided bool   // whether the answer is JSON is known
	json    bool   // it is, and nothing has been sent
	held    []byte // the first write, while json
}

func (w *jsonWriter) decide() {
	w.decided = true
	h := w.Header()
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	w.json = strings.TrimSpace(ct) == "application/json" && h.Get("Content-Encoding") == "" && !w.ResponseWriter.Written()
	if w.json {
		h.Add("Vary", "Accept-Encoding")
	}
}

// stream sends what is held, uncompressed, and everything after as it
// comes.
func (w *jsonWriter) stream() error {
	w.json = false
	held := w.held
	w.held = nil
	if held != nil {
		_, err := w.ResponseWriter.Write(held)
		return err
	}
	return nil
}

func (w *jsonWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.decide()
		if w.json {
			w.held = append([]byte{}, b...)
			return len(b), nil
		}
	}
	if err := w.stream(); err != nil {
		return 0, err
	}
	return w.ResponseWriter.Write(b)
}

func (w *jsonWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

func (w *jsonWriter) Flush() {
	w.stream()
	w.ResponseWriter.Flush()
}

// Written and Size count what is held as written.
func (w *jsonWriter) Written() bool { return w.held != nil || w.ResponseWriter.Written() }
func (w *jsonWriter) Size() int {
	if w.held != nil {
		return len(w.held)
	}
	return w.ResponseWriter.Size()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *jsonWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// close sends the answer held, compressed when it is large enough and the
// client takes gzip.
func (w *jsonWriter) close() {
	if w.held == nil || !w.gzip || len(w.held) < minGzip {
		w.stream()
		return
	}
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w.ResponseWriter)
	zw.Write(w.held) // an error is the client's connection's; nothing to tell
	zw.Close()
	zw.Reset(io.Discard)
	gzipWriters.Put(zw)
	w.held = nil
}
