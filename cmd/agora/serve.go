package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/metrics"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/arena/trust"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats/langdetect"
)

const serveUsage = `serve [flags]

Runs the arena: the contributor page at /, the websocket protocol at
/api/v1/arena/ws, the built-in demo models at /demo/v1, and the health
endpoints /healthz and /readyz. With no flags it listens on 127.0.0.1:8080
and keeps its data in ./agora-data.

Environment: AGORA_ADDR, AGORA_DATA, AGORA_CONFIG, AGORA_LOG_FORMAT,
AGORA_SECRET (the key that signs contributor tokens; by default a random
key kept in DATA/secret.key), AGORA_RESEARCHER_TOKEN (the bearer token that
GET /api/v1/export requires; the export API is off without it),
AGORA_EXPORT_KEY (keys contributor pseudonyms in exports),
AGORA_ADMIN_TOKEN (the admin's bearer token for /api/v1/labs, /metrics and
every lab's models and campaigns; at least 16 characters),
AGORA_METRICS_TOKEN (the bearer token a Prometheus scraper sends for
/metrics, and nothing else; at least 16 characters), AGORA_SECRETS_KEY
(32 bytes as 64 hex digits or base64: seals the API keys labs register;
without it only keyless models can be registered), and each model's
api_key_env.`

// serveFlags are the settings of serve that flags and environment set.
type serveFlags struct {
	addr, data, config, logFormat, logLevel, policy string
	gcPercent                                       int
}

func runServe(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("serve", serveUsage, e)
	var f serveFlags
	fs.StringVar(&f.addr, "addr", e.getenv("AGORA_ADDR"), "listen address host:port (default from the configuration: 127.0.0.1:8080)")
	fs.StringVar(&f.data, "data", e.getenv("AGORA_DATA"), "data directory (default from the configuration: ./agora-data)")
	fs.StringVar(&f.config, "config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	fs.StringVar(&f.logFormat, "log-format", or(e.getenv("AGORA_LOG_FORMAT"), "text"), "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.policy, "policy", e.getenv("AGORA_POLICY"), "leaderboard policy file (default: the configuration's policy_file, else the embedded configs/policy.yaml)")
	fs.IntVar(&f.gcPercent, "gc-percent", httpapi.GCPercent, "garbage collector target, as GOGC (the GOGC environment variable wins)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments; got %q", fs.Arg(0))}
	}
	if e.getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(f.gcPercent))
	}
	log, err := newLogger(e, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	if f.addr != "" {
		cfg.Server.Addr = f.addr
	}
	if f.data != "" {
		cfg.Server.Data = f.data
	}
	if f.policy != "" {
		cfg.PolicyFile = f.policy
	}
	keys, err := modelKeys(cfg, e.getenv)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, keys, e, log)
}

// serve runs the server until ctx ends, then shuts down gracefully. It
// builds the parts in order, each in a named step, then runs them.
func serve(ctx context.Context, cfg *configs.Config, keys map[string]string, e env, log *slog.Logger) error {
	store, err := openStore(cfg.Server.Data)
	if err != nil {
		return err
	}
	defer store.Close()
	// A stream cut by the last run cannot resume; a finished battle can
	// still be voted on within its vote window (restored below).
	p := &serveParts{cfg: cfg, e: e, log: log, store: store, started: time.Now()}
	if err := abandonStale(ctx, store, p.started, cfg.Arena.VoteWindow.D(), log); err != nil {
		return err
	}
	if p.secret, p.identity, p.proxies, err = serveIdentity(cfg, e); err != nil {
		return err
	}
	if p.votesLog, err = openLedger(ctx, cfg, store, log); err != nil {
		return err
	}
	if p.policy, p.learner, p.live, p.loadLive, err = loadLeaderboard(ctx, cfg, store, log); err != nil {
		return err
	}
	// With ClickHouse configured, committed votes are shipped there, and
	// the leaderboard API reads its counts from there.
	if p.ch, err = openClickHouse(cfg, e, p.secret, store, p.live, log); err != nil {
		return err
	}
	defer p.ch.close()
	if p.net, err = listen(cfg, log); err != nil {
		return err
	}
	listening := false // until Serve takes it, the listener is closed on return
	defer func() {
		if !listening {
			p.net.ln.Close()
		}
	}()
	if err := p.labParts(ctx); err != nil {
		return err
	}
	p.feed = newVoteFeed(p.live, p.watch, p.learner, log)
	if p.battles, err = newArena(p); err != nil {
		return err
	}
	self := p.net.self
	if p.reg, err = openRegistry(ctx, cfg, keys, store, p.battles, p.mp, p.sealer, self, log); err != nil {
		return err
	}
	if err := restoreBattles(ctx, store, p.battles, p.started.Add(-cfg.Arena.VoteWindow.D()), log); err != nil {
		return err
	}
	srv, err := newWebServer(p)
	if err != nil {
		return err
	}
	httpServer := newHTTPServer(srv, cfg.Limits.Timeouts, log)
	httpServer.ConnState = p.net.limited.ConnState
	listening = true
	log.Info("serving", "url", self+"/", "data", cfg.Server.Data, "models", len(p.reg.Models("")), "file_limit", p.net.files, "max_open_connections", p.net.maxOpen)
	return runServer(ctx, e, self, cfg.Server.Data, serverParts{
		http: httpServer, ln: p.net.limited, web: srv, battles: p.battles,
		workers: []func(context.Context) error{p.battles.Run, p.mp.health.Run, p.votesLog.Run, p.feed.Run, p.loadLive, p.watch.rebuild, shipperWorker(p.ch.shipper, log), srv.RunLeaderboards},
	}, log)
}

// serveParts are the parts serve builds, in the order it builds them.
type serveParts struct {
	cfg      *configs.Config
	e        env
	log      *slog.Logger
	store    *store.Store
	started  time.Time
	secret   []byte
	identity *httpapi.Identity
	proxies  httpapi.Proxies
	votesLog *ledger.Log
	policy   arena.Matcher
	learner  arena.Learner // nil when the policy does not learn
	live     *analytics.Live
	loadLive func(context.Context) error // loads live and the learner: a worker
	ch       clickhouseParts
	net      listening
	// labParts
	mp         *modelParts
	adminToken string
	sealer     *registry.Sealer
	leakGuard  *trust.Guard
	watch      *watch
	meters     *metrics.Registry
	feed       *analytics.Feed
	battles    *arena.Arena
	reg        *registry.Registry
	gov        *governor // the leaderboard policy (policy.go)
}

// listening is the server's listener and its connection caps.
type listening struct {
	ln             net.Listener
	limited        *httpapi.Listener
	self           string // the URL the server reaches itself at
	files          uint64
	maxOpen, maxWS int
}

// listen opens the listener, raises the open-file limit and caps the
// connections under it.
func listen(cfg *configs.Config, log *slog.Logger) (listening, error) {
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return listening{}, fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	l := listening{ln: ln, self: "http://" + selfAddr(ln.Addr().(*net.TCPAddr))}
	if l.files, err = raiseFileLimit(); err != nil {
		log.Warn("could not read the open-file limit", "err", err)
	}
	l.maxOpen, l.maxWS = connectionCaps(cfg.Limits.MaxOpenConnections, cfg.Arena.MaxConnections, l.files, log)
	l.limited = httpapi.NewListener(ln, l.maxOpen)
	return l, nil
}

// labParts builds the model clients' parts, the labs' secrets, the leak
// guard, the quarantine's watch and the metrics.
func (p *serveParts) labParts(ctx context.Context) error {
	var err error
	if p.mp, err = newModelParts(p.cfg, p.net.ln.Addr().(*net.TCPAddr)); err != nil {
		return err
	}
	if p.adminToken, p.sealer, err = labSecrets(p.cfg, p.e.getenv); err != nil {
		return err
	}
	if p.leakGuard, err = newLeakGuard(p.cfg); err != nil {
		return err
	}
	if p.watch, err = newWatch(ctx, p.store, p.log); err != nil {
		return err
	}
	p.meters = newMetrics(p.store, p.ch.shipper, p.mp.usage, p.mp.health)
	p.gov, err = newGovernor(ctx, p.store, p.cfg.PolicyFile, &p.reg, p.log)
	return err
}

// newArena builds the arena: battles, votes and their hooks.
func newArena(p *serveParts) (*arena.Arena, error) {
	cfg := p.cfg
	return arena.New(arena.Config{
		Store:                    p.ch.arenaStore,
		Matcher:                  p.gov.Matcher(p.mp.health.Matcher(p.policy)),
		MaxTurns:                 cfg.Arena.MaxTurns,
		MaxPromptBytes:           cfg.Arena.MaxPromptBytes,
		MaxBattlesPerContributor: cfg.Arena.MaxBattlesPerContributor,
		MaxPendingBattles:        cfg.Limits.PendingBattles,
		MaxPendingBytes:          cfg.Limits.PendingBytes,
		VoteWindow:               cfg.Arena.VoteWindow.D(),
		Campaigns:                registry.Campaigns{Source: p.store},
		Guard:                    p.leakGuard,
		Receipts:                 p.votesLog,
		Points:                   newContributions(p.store, p.votesLog, p.watch.quarantine),
		Votes:                    p.store,
		Consents:                 p.store,
		DefaultConsent:           cfg.Consent.Default(),
		Gold:                     cfg.Gold,
		Languages:                langdetect.New(),
		Log:                      p.log,
		OnStart:                  p.watch.started,
		OnVote:                   p.feed.Add,
	})
}

// newWebServer builds the HTTP API over the parts.
func newWebServer(p *serveParts) (*httpapi.Server, error) {
	cfg, e := p.cfg, p.e
	var demoHandler http.Handler
	if cfg.Demo.Enabled {
		demoHandler = &demo.Server{TokenDelay: cfg.Demo.TokenDelay.D(), Names: demoModelNames(cfg)}
	}
	metricsToken, err := metricsToken(e.getenv)
	if err != nil {
		return nil, err
	}
	terms, err := loadTerms(&cfg.Consent, p.store)
	if err != nil {
		return nil, err
	}
	passkeys, openID, err := signInMethods(cfg.Contributors, listenAddr(cfg.Server.Addr, p.net.ln.Addr()), e.getenv)
	if err != nil {
		return nil, err
	}
	srv, err := httpapi.New(httpapi.Config{
		Battles:         p.battles,
		Identity:        p.identity,
		Store:           p.store,
		Demo:            demoHandler,
		AllowedOrigins:  cfg.Server.AllowedOrigins,
		TrustedProxies:  p.proxies,
		WriteTimeout:    cfg.Limits.Timeouts.Write.D(),
		MaxBodyBytes:    cfg.Server.MaxBodyBytes,
		MaxConnections:  p.net.maxWS,
		Limits:          webLimits(cfg.Limits),
		Leaderboards:    labelledBoards(quarantinedBoards{Leaderboards: reliabilityBoards{p.ch.leaderboards, p.store, p.watch.det.Clusters}, q: p.watch.quarantine}, p.gov),
		Daily:           quarantinedDaily{live: p.live, q: p.watch.quarantine},
		MyGold:          p.store,
		Records:         p.store.ExportSource(store.RecordFilter{}),
		ResearcherToken: or(e.getenv("AGORA_RESEARCHER_TOKEN"), cfg.Server.ResearcherToken),
		ExportKey:       exportKey(e.getenv, p.secret),
		Languages:       langdetect.New(),
		ExportSpill:     tempSpill,
		Metrics:         []httpapi.Metrics{p.meters},
		MetricsToken:    metricsToken,
		Observer:        p.meters,
		AdminToken:      p.adminToken,
		Accounts:        p.store,
		Registry:        p.reg,
		Campaigns:       p.store,
		Usage:           p.mp.usage,
		Health:          p.mp.health,
		PromptLimits:    rlhf.PromptLimits{MaxPromptBytes: cfg.Arena.MaxPromptBytes},
		ReadyDetail:     shipperReadiness(p.ch.shipper),
		Ledger:          p.votesLog,
		Quarantine:      p.watch.quarantine,
		Contributions:   newContributions(p.store, p.votesLog, p.watch.quarantine),
		Privacy:         p.store,
		Terms:           terms,
		DefaultConsent:  cfg.Consent.Default(),
		OnErase:         onErase(p.ch, p.live, p.store),
		Policy:          p.gov,
		Members:         p.store,
		Passkeys:        passkeys,
		OpenID:          openID,
		OpenIDName:      or(cfg.Contributors.OIDC.Name, "OpenID"),
		RequireAccount:  cfg.Contributors.RequireAccount,
		OnConnect:       p.watch.connected,
		PoW:             powConfig(cfg.ProofOfWork, p.secret, p.store),
		Contributors:    contributorViews{Store: p.store, det: p.watch.det},
		Releaser:        newServerReleaser(p.store, p.votesLog, cfg.Server.Data, exportLicence(cfg)),
		Log:             p.log,
	})
	if err != nil {
		return nil, err
	}
	p.meters.WebsocketConnections(srv.Connections)
	return srv, nil
}

// abandonStale marks the battles the last run left streaming as abandoned,
// and those waiting for a vote beyond their window.
func abandonStale(ctx context.Context, store *store.Store, started time.Time, window time.Duration, log *slog.Logger) error {
	n, err := store.AbandonStale(ctx, started, started.Add(-window))
	if err != nil {
		return fmt.Errorf("mark unfinished battles: %w", err)
	}
	if n > 0 {
		log.Info("battles left unfinished by the last run are marked abandoned", "count", n)
	}
	return nil
}

// serveIdentity returns the server's secret, the identity that signs
// contributor tokens with it, and the trusted proxies.
func serveIdentity(cfg *configs.Config, e env) ([]byte, *httpapi.Identity, httpapi.Proxies, error) {
	secret, err := loadSecret(cfg.Server.Data, e.getenv("AGORA_SECRET"))
	if err != nil {
		return nil, nil, nil, err
	}
	identity, err := httpapi.NewIdentity(secret)
	if err != nil {
		return nil, nil, nil, usageError{"AGORA_SECRET: " + err.Error()}
	}
	identity.TTL = cfg.Limits.TokenTTL.D()
	proxies, err := httpapi.ParseProxies(cfg.Limits.TrustedProxies)
	if err != nil {
		return nil, nil, nil, usageError{"configuration: limits.trusted_proxies: " + err.Error()}
	}
	return secret, identity, proxies, nil
}

// loadLeaderboard builds the matchmaking policy and the live leaderboard,
// and returns the worker that loads both from the store's vote summaries
// (not the battles' text) while the server runs: start-up does not wait
// for it, whatever the size of the store. Votes committed after the last
// one stored now reach both through the vote feed instead.
func loadLeaderboard(ctx context.Context, cfg *configs.Config, store *store.Store, log *slog.Logger) (arena.Matcher, arena.Learner, *analytics.Live, func(context.Context) error, error) {
	policy, err := arena.NewMatcher(cfg.Matchmaking, nil)
	if err != nil {
		return nil, nil, nil, nil, usageError{"configuration: matchmaking: " + err.Error()}
	}
	learner, _ := policy.(arena.Learner)
	upTo, err := store.MaxVoteSeq(ctx)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("load the leaderboard: %w", err)
	}
	live := analytics.NewLiveLoading()
	var observe func(*rlhf.Summary)
	if learner != nil {
		observe = func(s *rlhf.Summary) {
			_ = learner.Observe(&rlhf.Record{Battle: rlhf.Battle{ModelA: s.ModelA, ModelB: s.ModelB}, Vote: rlhf.Vote{Winner: s.Winner}})
		}
	}
	load := func(ctx context.Context) error {
		start := time.Now()
		if err := live.Load(ctx, store, upTo, observe); err != nil {
			log.Error("the leaderboard did not load", "err", err)
			return nil
		}
		log.Info("leaderboard loaded", "votes", live.Len(), "seconds", time.Since(start).Seconds(), "matchmaking", or(cfg.Matchmaking.Policy, "uniform"))
		return nil
	}
	return policy, learner, live, load, nil
}

// clickhouseParts are the store the arena writes to, the leaderboards the
// API reads and the shipper: the SQLite store and the live leaderboard
// alone without ClickHouse.
type clickhouseParts struct {
	arenaStore   arena.Store
	leaderboards httpapi.Leaderboards
	shipper      *ship.Shipper // nil without ClickHouse
	close        func()
}

// openClickHouse connects to ClickHouse when it is configured.
func openClickHouse(cfg *configs.Config, e env, secret []byte, store *store.Store, live *analytics.Live, log *slog.Logger) (clickhouseParts, error) {
	parts := clickhouseParts{arenaStore: store, leaderboards: live, close: func() {}}
	chCfg := clickhouse.ConfigFromEnv(cfg.ClickHouse, e.getenv)
	if !chCfg.Enabled() {
		return parts, nil
	}
	if err := chCfg.WithDefaults().Validate(); err != nil {
		return parts, usageError{"configuration: clickhouse: " + err.Error()}
	}
	if chCfg.Pseudonymous() { // contributor ids as exports write them
		chCfg.ContributorKey = exportKey(e.getenv, secret)
	}
	ch, err := clickhouse.Open(chCfg, log)
	if err != nil {
		return parts, fmt.Errorf("clickhouse: %w", err)
	}
	parts.close = func() { ch.Close() }
	parts.shipper = ship.New(store, ch, ship.OptionsFrom(chCfg, log))
	parts.arenaStore = admittingStore{Store: store, shipper: parts.shipper}
	parts.leaderboards = analytics.NewCountsBoard(clickhouseCounts{ch}, 2*time.Second)
	log.Info("shipping votes to ClickHouse", "addrs", chCfg.Addrs, "database", chCfg.WithDefaults().Database)
	return parts, nil
}

// newVoteFeed passes committed votes to the leaderboard, the quarantine's
// detectors and matchmaking through a bounded queue that feed.Run drains:
// the vote path never waits on them.
func newVoteFeed(live *analytics.Live, watch *watch, learner arena.Learner, log *slog.Logger) *analytics.Feed {
	return analytics.NewFeed(0, func(r *rlhf.Record) {
		if err := live.Add(*r); err != nil {
			log.Warn("leaderboard skipped a vote", "vote", r.Vote.ID, "err", err)
		}
		watch.voted(r)
		if learner != nil && !r.Battle.IsGold() {
			if err := learner.Observe(r); err != nil {
				log.Warn("matchmaking skipped a vote", "vote", r.Vote.ID, "err", err)
			}
		}
	}, log)
}

// shipperReadiness makes /readyz report the shipper's state, if any.
func shipperReadiness(shipper *ship.Shipper) func(context.Context) (any, error) {
	if shipper == nil {
		return nil
	}
	return func(context.Context) (any, error) {
		st := shipper.Status()
		return map[string]any{"clickhouse": st}, shipper.Admit()
	}
}

// shipperWorker runs the shipper, if any, until ctx ends.
func shipperWorker(shipper *ship.Shipper, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		if shipper == nil {
			return nil
		}
		if err := shipper.Run(ctx); err != nil {
			log.Error("clickhouse shipper stopped", "err", err)
		}
		return nil
	}
}

// serverParts are what runServer runs and stops.
type serverParts struct {
	http    *http.Server
	ln      net.Listener
	web     *httpapi.Server
	battles *arena.Arena
	// workers are the long-lived goroutines, each until its context
	// ends; their errors are theirs to log.
	workers []func(context.Context) error
}

// runServer starts the workers and the HTTP server, waits for ctx to end
// or the server to fail, then shuts down in order: let each websocket
// finish the request it is on (votes in flight are committed and
// acknowledged), close them with 1001, stop HTTP, wait for streams, then
// stop the workers. The caller closes the store after.
func runServer(ctx context.Context, e env, self, data string, p serverParts, log *slog.Logger) error {
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	var workers sync.WaitGroup
	for _, w := range p.workers {
		workers.Go(func() { _ = w(runCtx) })
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- p.http.Serve(p.ln) }()
	fmt.Fprintf(e.stdout, "agora: serving the arena on %s/ (data in %s)\n", self, data)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.web.CloseClients(shutdownCtx); err != nil {
		log.Warn("websocket clients did not close in time", "err", err)
	}
	if err := p.http.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	p.battles.Close()
	stopRun()
	workers.Wait()
	log.Info("stopped")
	return runErr
}

// selfAddr is the address the server can reach itself at: the listener's,
// with an unspecified IP replaced by loopback.
func selfAddr(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// loadConfig reads the configuration file, or the embedded default.
func loadConfig(path string) (*configs.Config, error) {
	data := configs.Default
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, usageError{fmt.Sprintf("read configuration: %v", err)}
		}
	}
	cfg, err := configs.Parse(data)
	if err != nil {
		name := path
		if name == "" {
			name = "embedded configs/agora.yaml"
		}
		return nil, usageError{fmt.Sprintf("configuration %s: %v", name, err)}
	}
	return cfg, nil
}

// modelKeys reads each model's API key from the environment variable its
// api_key_env names. A named variable that is unset is a configuration error.
func modelKeys(cfg *configs.Config, getenv func(string) string) (map[string]string, error) {
	keys := map[string]string{}
	for i, m := range cfg.Models {
		if m.APIKeyEnv == "" {
			continue
		}
		k := getenv(m.APIKeyEnv)
		if k == "" {
			return nil, usageError{fmt.Sprintf("configuration: models[%d].api_key_env: environment variable %s is not set", i, m.APIKeyEnv)}
		}
		keys[m.Name] = k
	}
	return keys, nil
}

// loadSecret returns the server's secret key: AGORA_SECRET when set, else
// the key kept in dir (made on first run). It signs contributor tokens and,
// unless AGORA_EXPORT_KEY is set, keys the pseudonyms of exports.
func loadSecret(dir, secret string) ([]byte, error) {
	if secret != "" {
		return []byte(secret), nil
	}
	path := filepath.Join(dir, "secret.key")
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return key, nil
}

// exportKey keys contributor pseudonyms in exports served over HTTP:
// AGORA_EXPORT_KEY when set (so that they match "agora export"), else a key
// derived from the server's secret, stable across restarts.
func exportKey(getenv func(string) string, secret []byte) []byte {
	if k := getenv("AGORA_EXPORT_KEY"); k != "" {
		return []byte(k)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("agora export pseudonyms"))
	return m.Sum(nil)
}

func newLogger(e env, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format %q: want text or json", format)}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// restoreBattles gives the arena back the battles that were waiting for a
// vote when the last run stopped and are still within their vote window.
func restoreBattles(ctx context.Context, store *store.Store, battles *arena.Arena, since time.Time, log *slog.Logger) error {
	ready, err := store.ReadyBattles(ctx, since)
	if err != nil {
		return fmt.Errorf("restore battles waiting for a vote: %w", err)
	}
	restored := 0
	for _, b := range ready {
		// One odd stored battle must not keep the server from starting:
		// it stays in the store as it is, and cannot be voted on.
		if err := battles.Restore(ctx, b); err != nil {
			log.Warn("battle not restored", "battle", b.ID, "err", err)
			continue
		}
		restored++
	}
	if restored > 0 {
		log.Info("battles waiting for a vote are restored", "count", restored)
	}
	return nil
}
