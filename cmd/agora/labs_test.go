package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// serveWithEnv runs "agora serve" in process with environment vars.
func serveWithEnv(t *testing.T, vars map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	e := env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: out, stderr: errOut}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--config", fastConfig(t)}, e)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return waitServing(t, out, errOut)
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestServeLabAPI checks the wiring of accounts, the registry and the
// admin-only /metrics in the real server.
func TestServeLabAPI(t *testing.T) {
	const admin = "the-admin-token-for-tests"
	base := serveWithEnv(t, map[string]string{"AGORA_ADMIN_TOKEN": admin,
		"AGORA_SECRETS_KEY": strings.Repeat("ab", 32)})
	if st, _ := call(t, "GET", base+"/metrics", "", ""); st != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token = %d, want 401", st)
	}
	if st, body := call(t, "GET", base+"/metrics", admin, ""); st != 200 || !strings.Contains(body, "agora_model") {
		t.Errorf("GET /metrics as admin = %d %.200s", st, body)
	}
	st, body := call(t, "POST", base+"/api/v1/labs", admin, `{"id":"acme","name":"Acme"}`)
	var created struct{ Token string }
	if st != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || created.Token == "" {
		t.Fatalf("create lab = %d %s", st, body)
	}
	// The admin sees the configured demo models in the registry.
	if st, body := call(t, "GET", base+"/api/v1/models", admin, ""); st != 200 || !strings.Contains(body, `"curt-1"`) || !strings.Contains(body, `"source":"config"`) {
		t.Errorf("admin's models = %d %.300s", st, body)
	}
	// The lab may not point a model at the server itself (or anything on
	// loopback), even though the demo models may.
	st, body = call(t, "POST", base+"/api/v1/models", created.Token,
		`{"name":"sneaky","base_url":"`+base+`/demo/v1","model":"good","api_key":"sk-x"}`)
	if st != http.StatusBadRequest || !strings.Contains(body, "not allowed") {
		t.Errorf("register a loopback model = %d %s, want 400", st, body)
	}
	if st, body := call(t, "GET", base+"/api/v1/models", created.Token, ""); st != 200 || strings.Contains(body, "curt-1") {
		t.Errorf("lab's models = %d %s, want its own only", st, body)
	}
}

func TestLabSecretsErrors(t *testing.T) {
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	for _, vars := range []map[string]string{
		{"AGORA_ADMIN_TOKEN": "short"},
		{"AGORA_SECRETS_KEY": "not-a-key"},
	} {
		if _, _, err := labSecrets(cfg, func(k string) string { return vars[k] }); err == nil {
			t.Errorf("labSecrets(%v) succeeded", vars)
		} else if strings.Contains(err.Error(), "not-a-key") {
			t.Errorf("labSecrets error %q repeats the key", err)
		}
	}
	if tok, s, err := labSecrets(cfg, func(string) string { return "" }); err != nil || tok != "" || s != nil {
		t.Errorf("labSecrets(nothing set) = %q, %v, %v; want no admin, no sealer", tok, s, err)
	}
}
