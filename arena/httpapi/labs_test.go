package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

const adminToken = "admin-secret-token-0123456789"

// metricsToken admits the metrics role (AGORA_METRICS_TOKEN).
const metricsToken = "metrics-scraper-token-0123456789"

// labEndpoint is a hand-written OpenAI-compatible endpoint for labs'
// models. It streams "Hello from <model>" to a request with the right key
// (the key of the model id in keys; no key for ids not in it), and
// answers 401 otherwise with a body that echoes the key it got, as some
// providers do.
type labEndpoint struct {
	mu    sync.Mutex // guards keys and seen
	keys  map[string]string
	seen  []string // the Authorization headers received
	calls int
}

func (f *labEndpoint) setKey(model, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[model] = key
}

func (f *labEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	f.seen = append(f.seen, auth)
	f.calls++
	want, hasKey := f.keys[req.Model]
	f.mu.Unlock()
	if hasKey && auth != "Bearer "+want {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error","code":"invalid_api_key"}}`,
			strings.TrimPrefix(auth, "Bearer "))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for i, tok := range []string{"Hello", " from ", req.Model} {
		finish := "null"
		if i == 2 {
			finish = `"stop"`
		}
		b, _ := json.Marshal(tok)
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":%s}]}\n\n", b, finish)
		fl.Flush()
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// labSetup is a whole server: a real SQLite file, the arena with two
// configured models, the registry, and HTTP on loopback.
type labSetup struct {
	t        testing.TB
	dir      string
	url      string
	store    *store.Store
	arena    *arena.Arena
	registry *registry.Registry
	srv      *httpapi.Server
	endpoint *labEndpoint
	epURL    string
	logs     *syncBuffer
	bodies   *syncBuffer // every response body the tests read
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// labOption adds to newLabSetup's wiring: it may wrap the arena's
// matcher and change the server's configuration, given the store and the
// registry (reg returns nil until the registry is open).
type labOption func(store *store.Store, reg func() *registry.Registry) (matcher func(arena.Matcher) arena.Matcher, config func(*httpapi.Config))

func newLabSetup(t testing.TB, opts ...labOption) *labSetup {
	t.Helper()
	ls := &labSetup{t: t, dir: t.TempDir(), endpoint: &labEndpoint{keys: map[string]string{}}, logs: &syncBuffer{}, bodies: &syncBuffer{}}
	ep := httptest.NewServer(ls.endpoint)
	t.Cleanup(ep.Close)
	ls.epURL = ep.URL + "/v1"
	log := slog.New(slog.NewTextHandler(ls.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := store.Open(filepath.Join(ls.dir, "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	ls.store = store
	guard, err := openai.NewGuard(openai.GuardConfig{Allow: []string{strings.TrimPrefix(ep.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	usage, _ := arena.NewUsage(arena.UsageConfig{})
	health, _ := arena.NewHealth(arena.HealthConfig{}, nil)
	matcher, configs := health.Matcher(arena.Uniform{}), []func(*httpapi.Config){}
	for _, o := range opts {
		wrap, config := o(store, func() *registry.Registry { return ls.registry })
		matcher, configs = wrap(matcher), append(configs, config)
	}
	a, err := arena.New(arena.Config{Store: store, Matcher: matcher,
		Campaigns: registry.Campaigns{Source: store}, MaxTurns: 2, MaxPromptBytes: 4096, MaxBattlesPerContributor: 3,
		VoteWindow: time.Hour, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ls.arena = a
	key := bytes.Repeat([]byte{7}, 32)
	sealer, _ := registry.NewSealer(key)
	reg, err := registry.New(registry.Config{Store: store, Arena: a, Health: health, Guard: guard, Sealer: sealer,
		Observers: []arena.Observer{health, usage}, TestTimeout: 5 * time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"base-1", "base-2"} {
		m := rlhf.EndpointModel{Name: name, BaseURL: ls.epURL, ModelID: name, MaxTokens: 10, IdleTimeout: rlhf.Duration(5 * time.Second)}
		if err := reg.AddConfigModel(context.Background(), m, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ls.registry = reg
	identity, _ := httpapi.NewIdentity(bytes.Repeat([]byte("k"), 32))
	cfg := httpapi.Config{Battles: a, Identity: identity, Store: store, Log: log,
		Demo:    http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "demo") }),
		Records: store, ResearcherToken: researcherToken, ExportKey: []byte("export key"),
		AdminToken: adminToken, Accounts: store, Registry: reg, Campaigns: store, Usage: usage, Health: health,
		Metrics: []httpapi.Metrics{usage, health}, MetricsToken: metricsToken}
	for _, config := range configs {
		config(&cfg)
	}
	srv, err := httpapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	ls.url, ls.srv = hs.URL, srv
	stopBoards := runLeaderboards(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.CloseClients(ctx)
		hs.Close()
		stopBoards()
		a.Close()
		store.Close()
	})
	return ls
}

// do sends a request and returns the status and body; the body is kept
// for the canary check.
func (ls *labSetup) do(method, path, token, contentType string, body any) (int, []byte) {
	ls.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req, err := http.NewRequest(method, ls.url+path, rd)
	if err != nil {
		ls.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ls.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(ls.bodies, "%s %s %d %v\n%s\n", method, path, resp.StatusCode, resp.Header, data)
	return resp.StatusCode, data
}

// must is do that fails the test unless the status is want, and decodes
// the body into out (when not nil).
func (ls *labSetup) must(want int, method, path, token string, body, out any) {
	ls.t.Helper()
	status, data := ls.do(method, path, token, "", body)
	if status != want {
		ls.t.Fatalf("%s %s = %d %s, want %d", method, path, status, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			ls.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// account creates an account of kind ("labs" or "researchers") and
// returns its token.
func (ls *labSetup) account(kind, id string) string {
	ls.t.Helper()
	var got struct {
		Account rlhf.Account
		Token   string
	}
	ls.must(http.StatusCreated, "POST", "/api/v1/"+kind, adminToken, map[string]any{"id": id, "name": id + " inc."}, &got)
	if !strings.HasPrefix(got.Token, "agora_") || got.Account.ID != id {
		ls.t.Fatalf("create account %s = %+v", id, got)
	}
	return got.Token
}

// model registers model local of the lab with token.
func (ls *labSetup) model(token, local, key string) {
	ls.t.Helper()
	if key != "" {
		ls.endpoint.setKey(local, key)
	}
	body := map[string]any{"name": local, "base_url": ls.epURL, "model": local, "max_tokens": 20, "tags": []string{"test"}}
	if key != "" {
		body["api_key"] = key
	}
	var got struct {
		Model struct{ Name string }
		Test  registry.TestResult
	}
	ls.must(http.StatusCreated, "POST", "/api/v1/models", token, body, &got)
	if !got.Test.OK {
		ls.t.Fatalf("register %s: test call %+v", local, got.Test)
	}
}

// dialWS opens a contributor websocket.
func (ls *labSetup) dialWS(t *testing.T) *wsClient {
	t.Helper()
	s := &setup{url: "ws" + strings.TrimPrefix(ls.url, "http") + "/api/v1/arena/ws"}
	return s.dial(t, nil)
}

func TestLabCannotSeeOrTouchAnotherLab(t *testing.T) {
	ls := newLabSetup(t)
	acme, rival := ls.account("labs", "acme"), ls.account("labs", "rival")
	ls.model(acme, "secret-model", "")

	// A lab sees its own model; the rival sees nothing, and every path to
	// acme's model answers the rival exactly like a model that does not
	// exist.
	var list struct {
		Models []struct{ Name, Source string }
	}
	ls.must(200, "GET", "/api/v1/models", acme, nil, &list)
	if len(list.Models) != 1 || list.Models[0].Name != "acme/secret-model" || list.Models[0].Source != "api" {
		t.Errorf("acme's models = %+v, want [acme/secret-model]", list.Models)
	}
	ls.must(200, "GET", "/api/v1/models", rival, nil, &list)
	if len(list.Models) != 0 {
		t.Errorf("rival's models = %+v, want none", list.Models)
	}
	for _, op := range []struct{ method, suffix string }{
		{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/pause"}, {"POST", "/resume"},
	} {
		var body any
		if op.method == "PATCH" {
			body = map[string]any{"max_tokens": 5}
		}
		st1, b1 := ls.do(op.method, "/api/v1/models/acme/secret-model"+op.suffix, rival, "", body)
		st2, b2 := ls.do(op.method, "/api/v1/models/acme/no-such-model"+op.suffix, rival, "", body)
		if st1 != http.StatusNotFound || st1 != st2 || !bytes.Equal(b1, b2) {
			t.Errorf("rival %s acme's model%s = %d %s; a missing model = %d %s; want the same 404", op.method, op.suffix, st1, b1, st2, b2)
		}
	}
	// The rival's usage lists nothing of acme's.
	var usage struct{ Usage []struct{ Model string } }
	ls.must(200, "GET", "/api/v1/usage", rival, nil, &usage)
	if len(usage.Usage) != 0 {
		t.Errorf("rival's usage = %+v, want none", usage.Usage)
	}
	// A rival's campaign cannot name acme's model; the error is the one
	// for a model that does not exist.
	_, b1 := ls.do("POST", "/api/v1/campaigns", rival, "", map[string]any{"name": "x", "models": []string{"acme/secret-model", "base-1"}, "vote_target": 5})
	_, b2 := ls.do("POST", "/api/v1/campaigns", rival, "", map[string]any{"name": "x", "models": []string{"acme/nothing-here", "base-1"}, "vote_target": 5})
	if !bytes.Equal(bytes.ReplaceAll(b1, []byte("secret-model"), []byte("nothing-here")), b2) {
		t.Errorf("campaign with acme's model: %s; with a missing model: %s; want the same answer", b1, b2)
	}
	// Campaigns: acme's is invisible to the rival.
	var camp struct{ Campaign rlhf.Campaign }
	ls.must(201, "POST", "/api/v1/campaigns", acme, map[string]any{"name": "c", "models": []string{"acme/secret-model", "base-1"}, "vote_target": 5}, &camp)
	var camps struct{ Campaigns []rlhf.Campaign }
	ls.must(200, "GET", "/api/v1/campaigns", rival, nil, &camps)
	if len(camps.Campaigns) != 0 {
		t.Errorf("rival's campaigns = %+v, want none", camps.Campaigns)
	}
	for _, op := range []struct{ method, suffix string }{
		{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"GET", "/prompts"}, {"PUT", "/prompts"}, {"POST", "/start"}, {"POST", "/pause"}, {"GET", "/progress"},
	} {
		var body any
		ct := ""
		switch {
		case op.method == "PATCH":
			body = map[string]any{"vote_target": 1}
		case op.method == "PUT":
			body, ct = `{"text":"hi"}`, "application/jsonl"
		}
		st1, b1 := ls.do(op.method, "/api/v1/campaigns/"+camp.Campaign.ID+op.suffix, rival, ct, body)
		st2, b2 := ls.do(op.method, "/api/v1/campaigns/cmp_00000000000000000000000000000000"+op.suffix, rival, ct, body)
		if st1 != http.StatusNotFound || st1 != st2 || !bytes.Equal(b1, b2) {
			t.Errorf("rival %s acme's campaign%s = %d %s; a missing one = %d %s; want the same 404", op.method, op.suffix, st1, b1, st2, b2)
		}
	}
	// acme's model is untouched.
	var one struct {
		Model struct {
			MaxTokens int `json:"max_tokens"`
			Paused    bool
		}
	}
	ls.must(200, "GET", "/api/v1/models/acme/secret-model", acme, nil, &one)
	if one.Model.MaxTokens != 20 || one.Model.Paused {
		t.Errorf("acme's model after the rival's attempts = %+v", one.Model)
	}
	// The admin sees every model, the configured ones too.
	ls.must(200, "GET", "/api/v1/models", adminToken, nil, &list)
	if len(list.Models) != 3 {
		t.Errorf("admin's models = %+v, want 3", list.Models)
	}
}

func TestModelLifecycle(t *testing.T) {
	ls := newLabSetup(t)
	acme := ls.account("labs", "acme")
	ls.model(acme, "m1", "")
	if got := ls.arena.Models(); strings.Join(got, ",") != "acme/m1,base-1,base-2" {
		t.Fatalf("arena models = %v", got)
	}
	var got struct {
		Model struct {
			Paused    bool
			MaxTokens int `json:"max_tokens"`
		}
		Test *registry.TestResult
	}
	ls.must(200, "POST", "/api/v1/models/acme/m1/pause", acme, nil, &got)
	if !got.Model.Paused || strings.Contains(strings.Join(ls.arena.Models(), ","), "acme/m1") {
		t.Errorf("after pause: model %+v, arena %v", got.Model, ls.arena.Models())
	}
	ls.must(200, "POST", "/api/v1/models/acme/m1/resume", acme, nil, &got)
	if got.Model.Paused || got.Test == nil || !got.Test.OK || !strings.Contains(strings.Join(ls.arena.Models(), ","), "acme/m1") {
		t.Errorf("after resume: model %+v test %+v, arena %v", got.Model, got.Test, ls.arena.Models())
	}
	ls.must(200, "PATCH", "/api/v1/models/acme/m1", acme, map[string]any{"max_tokens": 33}, &got)
	if got.Model.MaxTokens != 33 {
		t.Errorf("after patch: %+v", got.Model)
	}
	// A failing test call is a summary, and nothing is saved.
	ls.endpoint.setKey("m2", "right-key")
	status, body := ls.do("POST", "/api/v1/models", acme, "", map[string]any{"name": "m2", "base_url": ls.epURL, "model": "m2", "api_key": "wrong-key"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "test call") || strings.Contains(string(body), "wrong-key") ||
		strings.Contains(string(body), "Incorrect API key") {
		t.Errorf("register with a bad key = %d %s; want 400 with a summary and no upstream text", status, body)
	}
	if status, _ := ls.do("GET", "/api/v1/models/acme/m2", acme, "", nil); status != http.StatusNotFound {
		t.Errorf("model with a failed test call was saved: GET = %d", status)
	}
	// SSRF: a metadata address is refused before any call.
	calls := ls.endpoint.calls
	status, body = ls.do("POST", "/api/v1/models", acme, "", map[string]any{"name": "m3", "base_url": "http://169.254.169.254/v1", "model": "x"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "not allowed") {
		t.Errorf("register a metadata URL = %d %s, want 400", status, body)
	}
	if ls.endpoint.calls != calls {
		t.Errorf("a refused registration called an endpoint")
	}
	ls.must(204, "DELETE", "/api/v1/models/acme/m1", acme, nil, nil)
	if strings.Contains(strings.Join(ls.arena.Models(), ","), "acme/m1") {
		t.Errorf("deleted model still in the arena: %v", ls.arena.Models())
	}
	// Disabling the lab revokes its token and pauses its models.
	ls.model(acme, "m4", "")
	ls.must(200, "DELETE", "/api/v1/labs/acme", adminToken, nil, nil)
	if status, _ := ls.do("GET", "/api/v1/models", acme, "", nil); status != http.StatusUnauthorized {
		t.Errorf("disabled lab's token: GET = %d, want 401", status)
	}
	if strings.Contains(strings.Join(ls.arena.Models(), ","), "acme/m4") {
		t.Errorf("disabled lab's model still in the arena: %v", ls.arena.Models())
	}
}

func TestKeysNeedASecretsKey(t *testing.T) {
	ls := newLabSetup(t)
	// A registry without a Sealer refuses keys but takes keyless models.
	reg, err := registry.New(registry.Config{Store: ls.store, Arena: ls.arena, Guard: mustGuard(t, ls.epURL)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.store.Account(context.Background(), "acme"); err == nil {
		t.Fatal("unexpected account")
	}
	ls.account("labs", "acme")
	m := rlhf.EndpointModel{Name: "acme/k", Lab: "acme", BaseURL: ls.epURL, ModelID: "k", MaxTokens: 5, ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 100}
	if _, _, err := reg.Create(context.Background(), m, "sk-some-key"); rlhf.ErrorCode(err) != rlhf.EUnavailable || !strings.Contains(err.Error(), "AGORA_SECRETS_KEY") {
		t.Errorf("Create with a key and no sealer = %v, want unavailable naming AGORA_SECRETS_KEY", err)
	}
	if _, _, err := reg.Create(context.Background(), m, ""); err != nil {
		t.Errorf("Create without a key and no sealer = %v", err)
	}
}

func mustGuard(t *testing.T, epURL string) *openai.Guard {
	t.Helper()
	u, _ := url.Parse(epURL)
	g, err := openai.NewGuard(openai.GuardConfig{Allow: []string{u.Host}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCanaryKeyAppearsNowhere registers a model with a canary API key,
// runs battles with it, exports, and looks for the key in every response
// body, the log, the export and the database files: it must appear only
// in what the endpoint received.
func TestCanaryKeyAppearsNowhere(t *testing.T) {
	ls := newLabSetup(t)
	canary := "sk-canary-" + rand.Text()
	acme := ls.account("labs", "acme")
	ls.model(acme, "keyed", canary)

	// Battles between the keyed model and a configured one, through the
	// websocket, voted.
	var camp struct{ Campaign rlhf.Campaign }
	ls.must(201, "POST", "/api/v1/campaigns", acme, map[string]any{"name": "canary", "models": []string{"acme/keyed", "base-1"}, "vote_target": 10}, &camp)
	ls.must(200, "PUT", "/api/v1/campaigns/"+camp.Campaign.ID+"/prompts?format=jsonl", acme, `{"text":"say hi"}`, nil)
	ls.must(200, "POST", "/api/v1/campaigns/"+camp.Campaign.ID+"/start", acme, nil, nil)
	c := ls.dialWS(t)
	for range 3 {
		c.send(map[string]any{"type": "start", "campaign": camp.Campaign.ID})
		id := c.until("battle")["battle_id"].(string)
		text := c.readTurn(id)
		if !strings.Contains(text["a"]+text["b"], "keyed") {
			t.Fatalf("battle %s texts %v: the keyed model did not answer", id, text)
		}
		c.vote(id, "a", nil)
	}
	// A key change to a wrong key fails the test call (the endpoint echoes
	// the key it got); then the right one again.
	wrong := canary + "-wrong"
	if st, _ := ls.do("PATCH", "/api/v1/models/acme/keyed", acme, "", map[string]any{"api_key": wrong}); st != http.StatusBadRequest {
		t.Errorf("PATCH with a wrong key = %d, want 400", st)
	}
	// The model's stored key still works, and errors from an endpoint that
	// echoes the key are redacted: make the endpoint expect another key.
	ls.endpoint.setKey("keyed", "something-else")
	c.send(map[string]any{"type": "start", "campaign": camp.Campaign.ID})
	c.until("battle")
	for f := c.next(); f["type"] != "ready"; f = c.next() {
	}
	ls.endpoint.setKey("keyed", canary)

	ls.do("GET", "/api/v1/models", acme, "", nil)
	ls.do("GET", "/api/v1/models/acme/keyed", acme, "", nil)
	ls.do("GET", "/api/v1/models", adminToken, "", nil)
	ls.do("GET", "/api/v1/usage", acme, "", nil)
	ls.do("GET", "/api/v1/campaigns/"+camp.Campaign.ID+"/progress", acme, "", nil)
	ls.do("GET", "/metrics", adminToken, "", nil)
	for _, f := range []string{"arena-jsonl", "trl", "dpo-jsonl"} {
		ls.do("GET", "/api/v1/export?format="+f, researcherToken, "", nil)
	}
	seen := 0
	ls.endpoint.mu.Lock()
	for _, h := range ls.endpoint.seen {
		if h == "Bearer "+canary {
			seen++
		}
	}
	ls.endpoint.mu.Unlock()
	if seen == 0 {
		t.Fatal("the endpoint never received the canary key: the test proves nothing")
	}
	for name, text := range map[string]string{"responses": ls.bodies.String(), "log": ls.logs.String(), "frames": strings.Join(c.raw, "\n")} {
		if n := strings.Count(text, canary); n != 0 {
			t.Errorf("the canary key appears %d times in the %s", n, name)
		}
	}
	// The database files, while the store is open (the WAL holds the
	// recent writes) and after it is closed (checkpointed into the file).
	files, _ := filepath.Glob(filepath.Join(ls.dir, "agora.db*"))
	if len(files) < 2 {
		t.Fatalf("database files %v, want the file and its WAL", files)
	}
	ls.store.Close()
	closed, _ := filepath.Glob(filepath.Join(ls.dir, "agora.db*"))
	for _, f := range append(files, closed...) {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue // the WAL is gone after the checkpoint at close
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(data, []byte(canary)); n != 0 {
			t.Errorf("the canary key appears %d times in %s", n, filepath.Base(f))
		}
		if bytes.Contains(data, []byte("Incorrect API key provided: [redacted]")) {
			t.Logf("%s holds the redacted upstream error", filepath.Base(f))
		}
	}
}
