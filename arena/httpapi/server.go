// Package httpapi is Agora's HTTP face: the routes, the websocket protocol
// transport, the contributor page and the health endpoints. It imports gin
// and gorilla/websocket; the battle logic lives in package arena.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// Battles is what the websocket needs from the arena.
type Battles interface {
	Start(ctx context.Context, contributor string, req arena.Request, sink arena.Sink) (string, error)
	Continue(ctx context.Context, contributor, battleID, content string, sink arena.Sink) error
	Vote(ctx context.Context, contributor string, req arena.Request) (*arena.VoteResult, error)
	MaxTurns() int
}

// Pinger reports whether the store can take writes.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config is what a Server needs. Battles, Identity and Store are
// required; each optional dependency left nil leaves out the routes that
// use it (routes.go), which then answer 404.
type Config struct {
	Battles        Battles
	Identity       *Identity
	Store          Pinger
	Demo           http.Handler // the demo models' endpoint, mounted at /demo/v1 when set
	AllowedOrigins []string     // besides the server's own origin
	// TrustedProxies are the proxies whose X-Forwarded-For,
	// CF-Connecting-IP and X-Forwarded-Proto are believed.
	TrustedProxies Proxies
	MaxBodyBytes   int64
	// WriteTimeout is the http.Server's: the time to write an answer.
	// Streaming routes (export, demo) get it afresh for every write.
	WriteTimeout   time.Duration
	MaxConnections int
	// Limits are the fair-use limits per address and contributor; the
	// zero value is none.
	Limits Limits
	Log    *slog.Logger
	WS     WSConfig
	// Leaderboards serves /api/v1/leaderboard.
	Leaderboards Leaderboards
	// Daily serves /api/v1/leaderboard/daily.
	Daily DailyVotes
	// MyGold serves /api/v1/me/gold: a contributor's own gold accuracy.
	MyGold GoldScorer
	// Records feeds GET /api/v1/export, for researchers who bring
	// ResearcherToken; ExportKey keys the contributor pseudonyms in exports.
	Records         rlhf.RecordSource
	ResearcherToken string
	ExportKey       []byte
	// Languages names the language of exported battles stored without
	// one; nil leaves it unknown.
	Languages formats.LanguageDetector
	// ExportSpill opens the scratch storage an export's duplicate filter
	// spills to past about 786,000 rows (formats.Options.Spill); nil keeps
	// every row's digest in memory.
	ExportSpill func() (formats.Spill, error)
	// Metrics are written at /metrics in Prometheus text format, for the
	// metrics role (MetricsToken) and the admin.
	Metrics []Metrics
	// AdminToken is the operator's token (AGORA_ADMIN_TOKEN); empty means
	// no admin. Accounts keeps lab and researcher accounts; nil means
	// none. ResearcherToken, above, also admits a researcher.
	AdminToken string
	Accounts   Accounts
	// Registry serves /api/v1/models; Campaigns /api/v1/campaigns. Usage
	// and Health feed labs' usage and model state.
	Registry  ModelRegistry
	Campaigns CampaignStore
	Usage     UsageSource
	Health    HealthSource
	// PromptLimits bound uploaded prompt sets (defaults: 100000 prompts of
	// 16 KiB).
	PromptLimits rlhf.PromptLimits
	// ReadyDetail, when set, adds detail to /readyz (the ClickHouse
	// shipper's state, say); a non-nil error makes the server not ready.
	ReadyDetail func(ctx context.Context) (any, error)
	// Ledger serves the verifiable log at /log/ and its proofs.
	Ledger Ledger
	// Observer hears about requests, frames and votes, for metrics;
	// MetricsToken admits the metrics role to /metrics.
	Observer     Observer
	MetricsToken string
	// Quarantine lists and lifts quarantined contributors (admin API).
	Quarantine Quarantines
	// Contributions serves contributors' points (/api/v1/me/points) and
	// the releases.
	Contributions Contributions
	// Privacy keeps contributors' consent and serves their download and
	// erasure (api_privacy.go). DefaultConsent is the
	// operator's. OnErase, when set, is called with the battles an
	// erasure deleted, to remove their copies elsewhere (ClickHouse, the
	// live leaderboard).
	Privacy        Privacy
	Terms          Terms // the operator's terms (terms.go); the zero value is none
	DefaultConsent rlhf.Consent
	OnErase        func(ctx context.Context, battles []string) error
	// Policy is the leaderboard policy in force (api_policy.go); nil: none.
	Policy Governance
	// Members keeps contributors' accounts (nil: none); Passkeys and
	// OpenID (labelled OpenIDName on the page) are the ways to sign in.
	// RequireAccount refuses battles to contributors not signed in.
	Members        Members
	Passkeys       PasskeyCeremonies
	OpenID         OpenID
	OpenIDName     string
	RequireAccount bool
	// OnConnect, when set, hears each websocket's contributor, client
	// address (IPv6 by /64) and user agent: the anomaly detectors'
	// clusters.
	OnConnect func(contributor, address, agent string)
	// Contributors answers the admin views of contributors (gold
	// accuracy, votes, clusters; api_contributors.go).
	Contributors ContributorViews
	// PoW is the proof of work a new anonymous identity costs (pow.go);
	// zero Bits is none.
	PoW PoWConfig
	// Releaser builds releases (POST /api/v1/admin/releases); nil: the
	// route is not served.
	Releaser Releaser
}

// WSConfig tunes websocket connections. Zero fields take the defaults.
type WSConfig struct {
	ReadLimit  int64         // largest client frame; larger closes with 1009 (default 64 KiB)
	WriteWait  time.Duration // time allowed to write a frame (default 10s)
	PongWait   time.Duration // a peer silent this long is dropped (default 60s)
	PingPeriod time.Duration // (default 9/10 of PongWait)
	SendQueue  int           // frames queued for a client before it counts as slow (default 4096)
}

func (c *WSConfig) fill() {
	if c.ReadLimit == 0 {
		c.ReadLimit = 64 << 10
	}
	if c.WriteWait == 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.PongWait == 0 {
		c.PongWait = 60 * time.Second
	}
	if c.PingPeriod == 0 {
		c.PingPeriod = c.PongWait * 9 / 10
	}
	if c.SendQueue == 0 {
		c.SendQueue = 4096
	}
}

// Server serves Agora over HTTP.
type Server struct {
	cfg      Config
	log      *slog.Logger
	engine   *gin.Engine
	upgrader websocket.Upgrader
	allowed  map[string]bool // allowed origins, besides same-origin
	static   fs.FS
	assets   *assets // static, compressed and versioned

	conns         *conns
	pow           *powIssuer    // nil without proof of work
	public        *publicBoards // the published leaderboards; nil without Leaderboards
	starts, votes action
	mu            sync.Mutex // guards clients and closing
	clients       map[*client]struct{}
	closing       bool
	clientWG      sync.WaitGroup // one per connected client
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Battles == nil || cfg.Identity == nil || cfg.Store == nil {
		return nil, errors.New("web: Battles, Identity and Store are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 10000
	}
	cfg.WS.fill()
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	if cfg.PromptLimits.MaxPrompts <= 0 {
		cfg.PromptLimits.MaxPrompts = 100000
	}
	if cfg.PromptLimits.MaxPromptBytes <= 0 {
		cfg.PromptLimits.MaxPromptBytes = 16 << 10
	}
	s := &Server{cfg: cfg, log: cfg.Log, allowed: map[string]bool{}, clients: map[*client]struct{}{},
		conns: newConns(cfg.MaxConnections, cfg.Limits),
		pow:   newPoWIssuer(cfg.PoW),
		starts: action{"battle starts", newLimiter(cfg.Limits.StartsPerContributor, time.Now), newLimiter(cfg.Limits.StartsPerAddress, time.Now),
			newLimiter(cfg.Limits.StartsPerNewContributor, time.Now)},
		votes: action{"votes", newLimiter(cfg.Limits.VotesPerContributor, time.Now), newLimiter(cfg.Limits.VotesPerAddress, time.Now),
			newLimiter(cfg.Limits.VotesPerNewContributor, time.Now)},
	}
	if cfg.Leaderboards != nil {
		s.public = newPublicBoards(cfg.Leaderboards)
	}
	for _, o := range cfg.AllowedOrigins {
		n, ok := normalOrigin(o)
		if !ok {
			return nil, fmt.Errorf("web: allowed origin %q is not like https://example.org", o)
		}
		s.allowed[n] = true
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	s.static = static
	s.assets = newAssets(static)
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}
	gin.SetMode(gin.ReleaseMode)
	s.engine = gin.New()
	s.engine.SetTrustedProxies(nil)                                                                   // client addresses come from clientAddr alone
	s.engine.Use(s.observeRequests, gin.Recovery(), securityHeaders, logRequests(s.log), s.limitBody) // observed outermost: a panic counts as its 500
	// JSON answers gzip-compressed for clients that take it (static.go).
	s.engine.Use(compressJSON)
	s.addRoutes(s.engine)
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// limitBody caps every request body at MaxBodyBytes.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	}
	c.Next()
}

// checkOrigin allows browsers only from the server's own origin or an
// allowed one, comparing scheme, host and port. Clients that send no
// Origin are not browsers and cannot be hijacked through one.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	o, ok := normalOrigin(origin)
	if !ok {
		return false
	}
	if self, ok := normalOrigin(s.cfg.TrustedProxies.scheme(r) + "://" + r.Host); ok && o == self {
		return true
	}
	return s.allowed[o]
}

// CloseClients ends every websocket connection: each finishes the request
// it is handling (so a vote in flight is committed and acknowledged), then
// is closed with 1001 (going away). It returns when all are gone or ctx ends.
func (s *Server) CloseClients(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for c := range s.clients {
		c.shutdown()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.clientWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
