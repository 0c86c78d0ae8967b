package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/rlhf"
)

// serveWithEnv runs "agora serve" in process with environment vars.
func serveWithEnv(t *testing.T, vars map[string]string) string {
	t.Helper()
	return serveWith(t, fastConfig(t), vars)
}

// serveWith runs "agora serve" in process with the configuration file
// config and environment vars.
func serveWith(t *testing.T, config string, vars map[string]string) string {
	t.Helper()
	return serveData(t, t.TempDir(), config, vars)
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

// TestModelFromYAMLAndAPI: the same model, written in the configuration
// file and registered by a lab over the API, decodes into equal values,
// its defaults too.
func TestModelFromYAMLAndAPI(t *testing.T) {
	ep := httptest.NewServer(&demo.Server{})
	t.Cleanup(ep.Close)
	host := strings.TrimPrefix(ep.URL, "http://")
	const full = `base_url: "URL/v1", model: good, temperature: 0, system_prompt: "Be brief.", max_tokens: 50,
      max_concurrency: 2, rate_limit_per_minute: 600, connect_timeout: 2s, first_token_timeout: 90s, idle_timeout: 15s,
      max_answer_bytes: 4096, tags: [a, b], price: {input_per_million: 1.5, output_per_million: 3}`
	yaml := "demo: {enabled: true, token_delay: 1ms}\ngold: {share: 0}\negress: {allow: [\"" + host + "\"]}\nmodels:\n" +
		"  - {name: full, " + strings.ReplaceAll(full, "URL", ep.URL) + "}\n" +
		"  - {name: least, base_url: \"" + ep.URL + "/v1\", model: good}\n"
	path := filepath.Join(t.TempDir(), "agora.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	const admin = "the-admin-token-for-tests"
	base := serveWith(t, path, map[string]string{"AGORA_ADMIN_TOKEN": admin})
	if st, body := call(t, "POST", base+"/api/v1/labs", admin, `{"id":"acme","name":"Acme"}`); st != http.StatusCreated {
		t.Fatalf("create lab = %d %s", st, body)
	}
	for _, body := range []string{
		`{"lab":"acme","name":"full","base_url":"` + ep.URL + `/v1","model":"good","temperature":0,"system_prompt":"Be brief.",
		"max_tokens":50,"max_concurrency":2,"rate_limit_per_minute":600,"connect_timeout_ms":2000,"first_token_timeout_ms":90000,
		"idle_timeout_ms":15000,"max_answer_bytes":4096,"tags":["a","b"],"price":{"input_per_million":1.5,"output_per_million":3}}`,
		`{"lab":"acme","name":"least","base_url":"` + ep.URL + `/v1","model":"good"}`,
	} {
		if st, out := call(t, "POST", base+"/api/v1/models", admin, body); st != http.StatusCreated {
			t.Fatalf("register %s = %d %s", body, st, out)
		}
	}
	st, body := call(t, "GET", base+"/api/v1/models", admin, "")
	var list struct {
		Models []struct {
			rlhf.EndpointModel
			Source string
		}
	}
	if err := json.Unmarshal([]byte(body), &list); st != http.StatusOK || err != nil {
		t.Fatalf("list models = %d %s (%v)", st, body, err)
	}
	got := map[string]rlhf.EndpointModel{}
	for _, m := range list.Models {
		m.EndpointModel.Lab, m.CreatedAt, m.UpdatedAt = "", time.Time{}, time.Time{}
		got[m.Source+":"+strings.TrimPrefix(m.Name, "acme/")] = m.EndpointModel
	}
	for _, name := range []string{"full", "least"} {
		fromYAML, fromAPI := got["config:"+name], got["api:"+name]
		fromAPI.Name = name
		if fromYAML.ModelID == "" || !reflect.DeepEqual(fromYAML, fromAPI) {
			t.Errorf("model %s\nfrom YAML %+v\nfrom API  %+v\nwant equal", name, fromYAML, fromAPI)
		}
	}
	if m := got["config:full"]; m.Temperature == nil || *m.Temperature != 0 || m.FirstTokenTimeout.D() != 90*time.Second {
		t.Errorf("the full model lost its zero temperature or first-token timeout: %+v", m)
	}
}

// TestOneConfiguredModelStarts: a configuration with one model starts (labs
// may register the rest), and a battle says why it cannot begin.
func TestOneConfiguredModelStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agora.yaml")
	yaml := "demo: {enabled: true, token_delay: 1ms}\ngold: {share: 0}\nmodels:\n  - {name: only-1, base_url: \"{self}/demo/v1\", model: good}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	conn := dialWS(t, serveWith(t, path, nil))
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := battleOnce(conn, "hello", "a")
	if err == nil || !strings.Contains(err.Error(), "unavailable") || !strings.Contains(err.Error(), "fewer than two models") {
		t.Errorf("a battle with one model = %v, want an unavailable error saying fewer than two models", err)
	}
}
