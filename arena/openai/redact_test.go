package openai_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestUpstreamErrorRedactedBeforeTruncation has an endpoint echo the API
// key in its error where the 200-character cut falls in the middle of the
// key: no part of the key may reach the error that is logged and stored.
func TestUpstreamErrorRedactedBeforeTruncation(t *testing.T) {
	const key = "sk-CANARY-9f8e7d6c5b4a39281706"
	for _, at := range []int{0, 180, 190, 199, 200} {
		msg := strings.Repeat("x", at) + key + " is not a valid key"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"message":%q,"type":"invalid_request_error","code":"invalid_api_key"}}`, msg)
		}))
		c := openai.New(rlhf.EndpointModel{Name: "m", BaseURL: srv.URL + "/v1", ModelID: "m", MaxTokens: 10}, key, nil)
		_, _, err := c.Stream(context.Background(), []rlhf.Message{{Role: "user", Content: "hi"}}, func(string) {})
		srv.Close()
		if err == nil {
			t.Fatalf("key at %d: no error", at)
		}
		for n := 6; n <= len(key); n++ {
			if strings.Contains(err.Error(), key[:n]) {
				t.Errorf("key at %d: error %q holds %q, the first %d bytes of the key", at, err, key[:n], n)
				break
			}
		}
		if at == 0 && !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("key at 0: error %q, want the key replaced by [redacted]", err)
		}
	}
}
