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
	"sync"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/arena/web"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/sqlite"
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
	addr, data, config, logFormat, logLevel string
}

func runServe(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("serve", serveUsage, e)
	var f serveFlags
	fs.StringVar(&f.addr, "addr", e.getenv("AGORA_ADDR"), "listen address host:port (default from the configuration: 127.0.0.1:8080)")
	fs.StringVar(&f.data, "data", e.getenv("AGORA_DATA"), "data directory (default from the configuration: ./agora-data)")
	fs.StringVar(&f.config, "config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	fs.StringVar(&f.logFormat, "log-format", or(e.getenv("AGORA_LOG_FORMAT"), "text"), "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments; got %q", fs.Arg(0))}
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
	keys, err := modelKeys(cfg, e.getenv)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, keys, e, log)
}

// serve runs the server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg *configs.Config, keys map[string]string, e env, log *slog.Logger) error {
	store, err := openStore(cfg.Server.Data)
	if err != nil {
		return err
	}
	defer store.Close()
	// A stream cut by the last run cannot resume; a finished battle can
	// still be voted on within its vote window (restored below).
	started, window := time.Now(), cfg.Arena.VoteWindow.D()
	if n, err := store.AbandonStale(ctx, started, started.Add(-window)); err != nil {
		return fmt.Errorf("mark unfinished battles: %w", err)
	} else if n > 0 {
		log.Info("battles left unfinished by the last run are marked abandoned", "count", n)
	}
	secret, err := loadSecret(cfg.Server.Data, e.getenv("AGORA_SECRET"))
	if err != nil {
		return err
	}
	identity, err := web.NewIdentity(secret)
	if err != nil {
		return usageError{"AGORA_SECRET: " + err.Error()}
	}
	votesLog, err := openLedger(ctx, cfg, store, log)
	if err != nil {
		return err
	}
	identity.TTL = cfg.Limits.TokenTTL.D()
	proxies, err := web.ParseProxies(cfg.Limits.TrustedProxies)
	if err != nil {
		return usageError{"configuration: limits.trusted_proxies: " + err.Error()}
	}

	// Matchmaking learns from every vote, like the leaderboard: one pass
	// over the store loads both.
	policy, err := arena.NewMatcher(cfg.Matchmaking, nil)
	if err != nil {
		return usageError{"configuration: matchmaking: " + err.Error()}
	}
	learner, _ := policy.(arena.Learner)
	var records rlhf.RecordSource = store
	if learner != nil {
		records = arena.Teach(records, learner)
	}
	live, err := analytics.NewLive(ctx, records)
	if err != nil {
		return fmt.Errorf("load the leaderboard: %w", err)
	}
	log.Info("leaderboard loaded", "votes", live.Len(), "matchmaking", or(cfg.Matchmaking.Policy, "uniform"))

	// With ClickHouse configured, committed votes are shipped there, and
	// the leaderboard API reads its counts from there.
	var (
		arenaStore   arena.Store      = store
		leaderboards web.Leaderboards = live
		shipper      *ship.Shipper
	)
	chCfg := clickhouse.ConfigFromEnv(cfg.ClickHouse, e.getenv)
	if chCfg.Enabled() {
		if err := chCfg.WithDefaults().Validate(); err != nil {
			return usageError{"configuration: clickhouse: " + err.Error()}
		}
		if chCfg.Pseudonymous() { // contributor ids as exports write them
			chCfg.ContributorKey = exportKey(e.getenv, secret)
		}
		ch, err := clickhouse.Open(chCfg, log)
		if err != nil {
			return fmt.Errorf("clickhouse: %w", err)
		}
		defer ch.Close()
		shipper = ship.New(store, ch, ship.OptionsFrom(chCfg, log))
		arenaStore = admittingStore{Store: store, shipper: shipper}
		leaderboards = &clickhouseLeaderboards{ch: ch, refresh: 2 * time.Second}
		log.Info("shipping votes to ClickHouse", "addrs", chCfg.Addrs, "database", chCfg.WithDefaults().Database)
	}

	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	self := "http://" + selfAddr(ln.Addr().(*net.TCPAddr))
	files, err := raiseFileLimit()
	if err != nil {
		log.Warn("could not read the open-file limit", "err", err)
	}
	maxOpen, maxWS := connectionCaps(cfg.Limits.MaxOpenConnections, cfg.Arena.MaxConnections, files, log)
	limited := web.NewListener(ln, maxOpen)

	mp, err := newModelParts(cfg, ln.Addr().(*net.TCPAddr))
	if err != nil {
		ln.Close()
		return err
	}
	adminToken, sealer, err := labSecrets(cfg, e.getenv)
	if err != nil {
		ln.Close()
		return err
	}
	leakGuard, err := newLeakGuard(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	watch, err := newWatch(ctx, store, log)
	if err != nil {
		ln.Close()
		return err
	}
	leaderboards = quarantinedBoards{Leaderboards: leaderboards, q: watch.quarantine}
	// Committed votes reach the leaderboard and matchmaking through a
	// bounded queue that feed.Run drains: the vote path never waits on them.
	feed := analytics.NewFeed(0, func(r *rlhf.Record) {
		if err := live.Add(*r); err != nil {
			log.Warn("leaderboard skipped a vote", "vote", r.Vote.ID, "err", err)
		}
		watch.voted(r)
		if learner != nil {
			if err := learner.Observe(r); err != nil {
				log.Warn("matchmaking skipped a vote", "vote", r.Vote.ID, "err", err)
			}
		}
	}, log)
	battles, err := arena.New(arena.Config{
		Store:                    arenaStore,
		Matcher:                  mp.health.Matcher(policy),
		MaxTurns:                 cfg.Arena.MaxTurns,
		MaxPromptBytes:           cfg.Arena.MaxPromptBytes,
		MaxBattlesPerContributor: cfg.Arena.MaxBattlesPerContributor,
		MaxPendingBattles:        cfg.Limits.PendingBattles,
		MaxPendingBytes:          cfg.Limits.PendingBytes,
		VoteWindow:               cfg.Arena.VoteWindow.D(),
		Campaigns:                registry.Campaigns{Source: store},
		Guard:                    leakGuard,
		Receipts:                 votesLog,
		Votes:                    store,
		Log:                      log,
		OnStart:                  watch.started,
		OnVote:                   feed.Add,
	})
	if err != nil {
		ln.Close()
		return err
	}
	reg, err := openRegistry(ctx, cfg, keys, store, battles, mp, sealer, self, log)
	if err != nil {
		ln.Close()
		return err
	}
	if err := restoreBattles(ctx, store, battles, started.Add(-window), log); err != nil {
		ln.Close()
		return err
	}
	var demoHandler http.Handler
	if cfg.Demo.Enabled {
		demoHandler = &demo.Server{TokenDelay: cfg.Demo.TokenDelay.D(), Names: demoModelNames(cfg)}
	}
	var readyDetail func(context.Context) (any, error)
	if shipper != nil {
		readyDetail = func(context.Context) (any, error) {
			st := shipper.Status()
			return map[string]any{"clickhouse": st}, shipper.Admit()
		}
	}
	meters := newMetrics(store, shipper, mp.usage, mp.health)
	metricsToken, err := metricsToken(e.getenv)
	if err != nil {
		ln.Close()
		return err
	}
	srv, err := web.New(web.Config{
		Battles:         battles,
		Identity:        identity,
		Store:           store,
		Demo:            demoHandler,
		AllowedOrigins:  cfg.Server.AllowedOrigins,
		TrustedProxies:  proxies,
		WriteTimeout:    cfg.Limits.Timeouts.Write.D(),
		MaxBodyBytes:    cfg.Server.MaxBodyBytes,
		MaxConnections:  maxWS,
		Limits:          webLimits(cfg.Limits),
		Leaderboards:    leaderboards,
		Records:         store.ExportSource(sqlite.RecordFilter{}),
		ResearcherToken: or(e.getenv("AGORA_RESEARCHER_TOKEN"), cfg.Server.ResearcherToken),
		ExportKey:       exportKey(e.getenv, secret),
		Languages:       langdetect.New(),
		Metrics:         []web.Metrics{meters},
		MetricsToken:    metricsToken,
		Observer:        meters,
		AdminToken:      adminToken,
		Accounts:        store,
		Registry:        reg,
		Campaigns:       store,
		Usage:           mp.usage,
		Health:          mp.health,
		PromptLimits:    rlhf.PromptLimits{MaxPromptBytes: cfg.Arena.MaxPromptBytes},
		ReadyDetail:     readyDetail,
		Ledger:          votesLog,
		Quarantine:      watch.quarantine,
		Log:             log,
	})
	if err != nil {
		ln.Close()
		return err
	}
	meters.WebsocketConnections(srv.Connections)
	httpServer := newHTTPServer(srv, cfg.Limits.Timeouts, log)
	httpServer.ConnState = limited.ConnState

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	var workers sync.WaitGroup
	workers.Go(func() { battles.Run(runCtx) })
	workers.Go(func() { mp.health.Run(runCtx) })
	workers.Go(func() { votesLog.Run(runCtx) })
	workers.Go(func() { _ = feed.Run(runCtx) }) // nil: it stops only when runCtx ends
	if shipper != nil {
		workers.Go(func() {
			if err := shipper.Run(runCtx); err != nil {
				log.Error("clickhouse shipper stopped", "err", err)
			}
		})
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(limited) }()

	log.Info("serving", "url", self+"/", "data", cfg.Server.Data, "models", len(reg.Models("")), "file_limit", files, "max_open_connections", maxOpen)
	fmt.Fprintf(e.stdout, "agora: serving the arena on %s/ (data in %s)\n", self, cfg.Server.Data)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
	}

	// Shut down in order: let each websocket finish the request it is on
	// (votes in flight are committed and acknowledged), close them with
	// 1001, stop HTTP, wait for streams, then close the store.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.CloseClients(shutdownCtx); err != nil {
		log.Warn("websocket clients did not close in time", "err", err)
	}
	if err := httpServer.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	battles.Close()
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
func restoreBattles(ctx context.Context, store *sqlite.Store, battles *arena.Arena, since time.Time, log *slog.Logger) error {
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
