package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Source is where an auditor reads a log: a server over HTTP, or a
// directory holding a saved copy (the same paths under DIR as under
// /log/ on the server).
type Source interface {
	// Read returns the file at path under /log/: "checkpoint",
	// "checkpoint/latest", "key", "tile/8/0/000".
	Read(ctx context.Context, path string) ([]byte, error)
}

// HTTPSource reads the log of the server at Base (http://host:port).
type HTTPSource struct {
	Base   string
	Client *http.Client // nil means http.DefaultClient
}

// maxLogFile caps what an auditor reads for one file: a full data tile of
// large records is well under it.
const maxLogFile = 64 << 20

func (s HTTPSource) Read(ctx context.Context, path string) ([]byte, error) {
	return s.Get(ctx, "/log/"+path)
}

// Get returns the body of a 200 answer to GET path (with its query) on
// the server.
func (s HTTPSource) Get(ctx context.Context, path string) ([]byte, error) {
	url := strings.TrimSuffix(s.Base, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLogFile))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// Post sends body to path under the server's /log/.
func (s HTTPSource) Post(ctx context.Context, path string, body []byte) error {
	url := strings.TrimSuffix(s.Base, "/") + "/log/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// DirSource reads a saved copy of a log from a directory.
type DirSource string

func (d DirSource) Read(_ context.Context, path string) ([]byte, error) {
	if strings.Contains(path, "..") {
		return nil, fmt.Errorf("bad path %q", path)
	}
	data, err := os.ReadFile(filepath.Join(string(d), filepath.FromSlash(path)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is not in the saved log %s", path, string(d))
	}
	return data, err
}

// save writes data at path under dir (a saved copy of the log).
func save(dir, path string, data []byte) error {
	file := filepath.Join(dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// tileReader reads tiles from a Source for tlog. Tiles that tlog has
// verified are saved to dir, when set.
type tileReader struct {
	ctx context.Context
	src Source
	dir string
	err error // the first error saving
}

func (r *tileReader) Height() int { return TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := r.src.Read(r.ctx, t.Path())
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("tile %s has %d bytes, want %d", t.Path(), len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	if r.dir == "" {
		return
	}
	for i, t := range tiles {
		if err := save(r.dir, t.Path(), data[i]); err != nil && r.err == nil {
			r.err = err
		}
	}
}
