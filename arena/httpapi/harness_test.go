package httpapi_test

import (
	"context"
	"encoding/json"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of http.DefaultTransport-like pools
		// are closed in Cleanup, but their reader may still be exiting.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

const researcherToken = "researcher-secret-token"

// fixedPair puts model a on side A and b on side B.
type fixedPair struct{ a, b string }

func (p fixedPair) Pair([]string, *mrand.Rand) (string, string, error) { return p.a, p.b, nil }

// setup is one arena behind a real HTTP listener.
type setup struct {
	url      string // ws:// URL of the websocket
	http     *httptest.Server
	store    *store.Store
	fake     *fakeEndpoint
	battles  *arena.Arena
	server   *httpapi.Server
	endpoint *httptest.Server
	cleanup  func() // benchmarks call it; tests leave it to t.Cleanup
}

type options struct {
	modelA, modelB string // fake model ids on sides A and B
	idle           time.Duration
	ws             httpapi.WSConfig
	maxBattles     int
	tokens         []string
	delay          time.Duration
	maxAnswer      int                           // bytes; default 64 KiB
	wrap           func(arena.Model) arena.Model // if set, wraps every model
	onVote         func(*rlhf.Record)            // the arena's OnVote
	ledger         bool                          // keep the verifiable log: leaves, receipts, checkpoints
	leaderboards   httpapi.Leaderboards          // serves /api/v1/leaderboard when set
	limits         httpapi.Limits
	maxConns       int
	proxies        httpapi.Proxies
	privacy        bool                                              // consent, download and erasure (the store), with the operator default below
	onErase        func(ctx context.Context, battles []string) error // httpapi.Config.OnErase
	// accounts, when set, turns on contributors' accounts: it gets the
	// server's page origin (http://localhost:PORT) and returns the
	// sign-in methods.
	accounts       func(t *testing.T, origin string) (httpapi.PasskeyCeremonies, httpapi.OpenID)
	requireAccount bool
	terms          string // the terms' version; the store keeps acceptances
	pow            httpapi.PoWConfig
	gold           arena.GoldConfig // gold battles; zero is none
}

// testConsent is the operator's default consent in setups with privacy.
var testConsent = rlhf.Consent{Scope: rlhf.ScopeResearch, Licence: "CC-BY-4.0"}

// modelNames maps the fake model ids to the public names the arena uses.
// The tests check that none of these reaches a client before the vote.
var modelNames = map[string]string{"ok": "ok-model-alpha", "ok2": "ok-model-beta", "failmid": "flaky-model-gamma", "stall": "stalling-model-delta", "stall2": "stalling-model-zeta", "http500": "broken-model-epsilon"}

func newSetup(t *testing.T, o options) *setup {
	t.Helper()
	return newSetupWith(t, o, "")
}

// newSetupWith is newSetup with the models' endpoint at endpointURL; empty
// means a fresh fakeEndpoint.
func newSetupWith(t *testing.T, o options, endpointURL string) *setup {
	t.Helper()
	if o.modelA == "" {
		o.modelA, o.modelB = "ok", "ok2"
	}
	if o.idle == 0 {
		o.idle = 5 * time.Second
	}
	if o.maxAnswer == 0 {
		o.maxAnswer = 1 << 16
	}
	if o.maxBattles == 0 {
		o.maxBattles = 3
	}
	if o.tokens == nil {
		o.tokens = []string{"Hello", " there", ",", " friend", "."}
	}
	fake := &fakeEndpoint{tokens: o.tokens, delay: o.delay}
	endpoint := httptest.NewServer(fake)
	if endpointURL == "" {
		endpointURL = endpoint.URL
	}
	dir, err := os.MkdirTemp("", "agora-web-test")
	if err != nil {
		t.Fatal(err)
	}
	store, err := store.Open(filepath.Join(dir, "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]arena.Model{}
	for id, name := range modelNames {
		models[name] = openai.New(rlhf.EndpointModel{BaseURL: endpointURL + "/v1", ModelID: id, MaxTokens: 100,
			ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(o.idle), MaxAnswerBytes: o.maxAnswer}, "", nil)
		if o.wrap != nil {
			models[name] = o.wrap(models[name])
		}
	}
	receipts, votesLog, stopLog := openLedger(t, o.ledger, dir, store)
	battles, err := arena.New(arena.Config{
		Models: models, Store: store, Matcher: fixedPair{modelNames[o.modelA], modelNames[o.modelB]},
		MaxTurns: 3, MaxPromptBytes: 4096, MaxBattlesPerContributor: o.maxBattles, VoteWindow: time.Hour,
		OnVote:   o.onVote,
		Receipts: receipts,
		Consents: consents(o.privacy, store), DefaultConsent: testConsent, Gold: o.gold,
	})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte(strings.Repeat("k", 32))
	identity, _ := httpapi.NewIdentity(key)
	hs := httptest.NewUnstartedServer(nil) // its listener, and so its port, first: passkeys need the origin
	cfg := httpapi.Config{Battles: battles, Identity: identity, Store: store, WS: o.ws, MaxBodyBytes: 1 << 16,
		Limits: o.limits, MaxConnections: o.maxConns, TrustedProxies: o.proxies,
		Records: store, ResearcherToken: researcherToken, ExportKey: []byte("export key"), Ledger: votesLog,
		Leaderboards: o.leaderboards, DefaultConsent: testConsent, OnErase: o.onErase, MyGold: store,
		Contributions: contributionsOf(votesLog, store),
		Privacy:       privacyOf(o.privacy, store), Terms: termsOf(o.terms, store), AdminToken: map[bool]string{true: adminToken}[o.privacy || o.accounts != nil],
		RequireAccount: o.requireAccount, PoW: o.pow}
	if o.accounts != nil {
		_, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
		cfg.Members, cfg.OpenIDName = store, "Test IdP"
		cfg.Passkeys, cfg.OpenID = o.accounts(t, "http://localhost:"+port)
	}
	srv, err := httpapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv
	hs.Start()
	stopBoards := runLeaderboards(srv)
	s := &setup{url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/api/v1/arena/ws", http: hs, store: store,
		fake: fake, battles: battles, server: srv, endpoint: endpoint}
	s.cleanup = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.CloseClients(ctx)
		hs.Close()
		stopBoards()
		battles.Close()
		stopLog()
		store.Close()
		endpoint.Close()
		os.RemoveAll(dir)
	}
	t.Cleanup(s.cleanup)
	return s
}

// runLeaderboards runs srv's published leaderboards' worker, as main
// does, until the returned stop is called.
func runLeaderboards(srv *httpapi.Server) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.RunLeaderboards(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// openLedger gives store a verifiable log that publishes a checkpoint every
// second, when on (else nil interfaces); stop ends it.
func openLedger(t *testing.T, on bool, dir string, store *store.Store) (arena.Receipts, httpapi.Ledger, func()) {
	if !on {
		return nil, nil, func() {}
	}
	l := useLedger(t, dir, store)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	return l, l, func() { cancel(); <-done }
}

// useLedger makes store write the verifiable log's leaves, signed with a
// key kept in dir, and returns the log.
func useLedger(t testing.TB, dir string, store *store.Store) *ledger.Log {
	key, err := ledger.LoadKey(filepath.Join(dir, "log.key"), "bench.example/log")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(context.Background(), ledger.Config{Store: store, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	store.UseLedger(l.Encoder())
	return l
}

// wsClient is a test websocket client that records every frame it reads.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	frames []map[string]any
	raw    []string
	hello  map[string]any
}

func (s *setup) dial(t *testing.T, header http.Header) *wsClient {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(s.url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn}
	c.hello = c.next()
	if c.hello["type"] != "hello" {
		t.Fatalf("first frame = %v, want hello", c.hello)
	}
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatalf("send %v: %v", v, err)
	}
}

// next reads one frame, failing the test after 10 seconds.
func (c *wsClient) next() map[string]any {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		c.t.Fatalf("frame %q is not JSON: %v", data, err)
	}
	c.frames = append(c.frames, f)
	c.raw = append(c.raw, string(data))
	return f
}

// until reads frames until one has type typ, and returns it.
func (c *wsClient) until(typ string) map[string]any {
	c.t.Helper()
	for {
		f := c.next()
		if f["type"] == typ {
			return f
		}
	}
}

// start begins a battle and reads until it is ready for a vote. It returns
// the battle id and each side's streamed text.
func (c *wsClient) start(prompt string) (id string, text map[string]string) {
	c.t.Helper()
	c.send(map[string]any{"type": "start", "prompt": prompt})
	b := c.until("battle")
	id = b["battle_id"].(string)
	text = c.readTurn(id)
	return id, text
}

// readTurn reads one turn's frames up to "ready", checking that both sides
// finished, and returns each side's text.
func (c *wsClient) readTurn(id string) map[string]string {
	c.t.Helper()
	text := map[string]string{}
	ended := map[string]bool{}
	for {
		f := c.next()
		switch f["type"] {
		case "token":
			if f["battle_id"] != id {
				c.t.Fatalf("token for battle %v, want %s", f["battle_id"], id)
			}
			text[f["side"].(string)] += f["text"].(string)
		case "done", "error":
			if f["side"] == nil {
				c.t.Fatalf("unexpected error frame %v", f)
			}
			ended[f["side"].(string)] = true
		case "ready":
			if !ended["a"] || !ended["b"] {
				c.t.Fatalf("ready before both sides ended: %v", ended)
			}
			return text
		}
	}
}

// vote votes and returns the server's answer frame.
func (c *wsClient) vote(id, winner string, extra map[string]any) map[string]any {
	c.t.Helper()
	msg := map[string]any{"type": "vote", "battle_id": id, "winner": winner}
	for k, v := range extra {
		msg[k] = v
	}
	c.send(msg)
	return c.next()
}
