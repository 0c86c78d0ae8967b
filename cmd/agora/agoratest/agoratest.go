// Package agoratest holds what the tests that run the agora binary share:
// those of cmd/agora and of the deployment kit (configs/deploy).
package agoratest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for one writer and many readers: a
// running server's output, read while it writes.
type SyncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingRE = regexp.MustCompile(`serving the arena on (http://[^ ]+)/ `)

// ServingURL returns the base URL that `agora serve` printed in out, if
// it has.
func ServingURL(out string) (string, bool) {
	m := servingRE.FindStringSubmatch(out)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Get sends a GET with an optional bearer token and returns the status
// and the body, whatever the status.
func Get(t testing.TB, url, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
