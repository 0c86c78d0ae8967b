package httpapi_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestExportAPI(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	id, _ := c.start("export me")
	if f := c.vote(id, "a", map[string]any{"strength": "significant"}); f["type"] != "voted" {
		t.Fatalf("vote = %v", f)
	}
	get := func(query, token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", s.http.URL+"/api/v1/export?"+query, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, tt := range []struct {
		name, query, token string
		status             int
	}{
		{"no token", "format=trl", "", http.StatusUnauthorized},
		{"wrong token", "format=trl", "guess", http.StatusUnauthorized},
		{"unknown format", "format=csv", researcherToken, http.StatusBadRequest},
		{"no parquet form", "format=trl&parquet=true", researcherToken, http.StatusBadRequest},
		{"bad time", "format=trl&since=yesterday", researcherToken, http.StatusBadRequest},
		{"bad strength", "format=trl&min_strength=huge", researcherToken, http.StatusBadRequest},
	} {
		if resp := get(tt.query, tt.token); resp.StatusCode != tt.status {
			body, _ := io.ReadAll(resp.Body)
			t.Errorf("%s: status %d (%s), want %d", tt.name, resp.StatusCode, body, tt.status)
		}
	}

	resp := get("format=arena-jsonl", researcherToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	var rows []map[string]any
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("row %q: %v", sc.Text(), err)
		}
		rows = append(rows, row)
	}
	if len(rows) != 1 || rows[0]["model_a"] != modelNames["ok"] || rows[0]["winner"] != "model_a" {
		t.Fatalf("exported rows = %v", rows)
	}
	if judge, _ := rows[0]["judge"].(string); judge == "" || strings.Contains(judge, c.hello["contributor_id"].(string)) {
		t.Errorf("judge = %q, want a pseudonym, not the contributor id", judge)
	}
	if got := resp.Trailer.Get("X-Agora-Export-Status"); got != "ok" {
		t.Errorf("trailer = %q, want ok", got)
	}

	resp = get("format=trl&margin=true", researcherToken)
	var trl map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&trl); err != nil || trl["chosen"] != "Hello there, friend." || trl["margin"] != 1.0 {
		t.Errorf("trl row = %v, %v", trl, err)
	}
}
