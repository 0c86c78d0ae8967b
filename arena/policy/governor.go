package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Store keeps the policy's history, the listings and the deprecation log,
// and counts battles and votes; *store.Store implements it.
type Store interface {
	AddPolicyChange(ctx context.Context, c Change, logged bool) (Change, error)
	PolicyChanges(ctx context.Context) ([]Change, error)
	AddListing(ctx context.Context, l Listing) (int64, error)
	UpdateListing(ctx context.Context, l Listing) error
	Listings(ctx context.Context) ([]Listing, error)
	AddDeprecation(ctx context.Context, d Deprecation) error
	Deprecations(ctx context.Context) ([]Deprecation, error)
	BattleSides(ctx context.Context) ([]Sides, error)
	VotesSince(ctx context.Context, model string, since time.Time) (int64, error)
	VoteCounts(ctx context.Context) (VoteCounts, error)
}

// Config is what a Governor needs.
type Config struct {
	Store Store
	// Parse reads a policy file (configs.ParsePolicy).
	Parse func([]byte) (*Policy, error)
	// ModelLabs returns the lab of every model in the registry, by name:
	// "" for the operator's configured models.
	ModelLabs func() map[string]string
	// Releases lists the data releases and their licences; nil: none.
	Releases func(ctx context.Context) ([]Release, error)
	Now      func() time.Time // default time.Now
	Log      *slog.Logger
}

// Governor enforces the leaderboard policy in force, records its changes,
// and answers for listings and deprecations. It is safe for concurrent
// use.
type Governor struct {
	cfg   Config
	steer *steering // battle sides per model, for the matcher; has its own lock

	mu         sync.Mutex // guards the fields below
	pol        *Policy
	change     Change                 // the record of pol
	listings   []Listing              // every registration, oldest first
	current    map[string]int         // model → index in listings of its live record
	deprecated map[string]Deprecation // by model
	pending    map[string]int         // lab → unlisted registrations in progress
}

// New returns a Governor with the history in cfg.Store. Call Start before
// serving.
func New(ctx context.Context, cfg Config) (*Governor, error) {
	if cfg.Store == nil || cfg.Parse == nil || cfg.ModelLabs == nil {
		return nil, errors.New("policy: Store, Parse and ModelLabs are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	g := &Governor{cfg: cfg, current: map[string]int{}, deprecated: map[string]Deprecation{}, pending: map[string]int{}}
	ls, err := cfg.Store.Listings(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		g.addListing(l)
	}
	ds, err := cfg.Store.Deprecations(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		g.deprecated[d.Model] = d
	}
	sides, err := cfg.Store.BattleSides(ctx)
	if err != nil {
		return nil, err
	}
	g.steer = newSteering(sides)
	return g, nil
}

// addListing keeps l, the newest record of its model; g.mu must be held
// (or g not yet shared).
func (g *Governor) addListing(l Listing) {
	g.listings = append(g.listings, l)
	if l.State == Withdrawn {
		delete(g.current, l.Model)
		return
	}
	g.current[l.Model] = len(g.listings) - 1
}

// Start puts a policy in force at start: the newest recorded one, or text
// (the policy file, from source) when nothing is recorded yet or when text
// has a higher version than the newest recorded. A file with another text
// but no higher version is ignored, with a warning: a change must raise
// the version.
func (g *Governor) Start(ctx context.Context, text []byte, source string) error {
	p, err := g.cfg.Parse(text)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	history, err := g.cfg.Store.PolicyChanges(ctx)
	if err != nil {
		return err
	}
	if n := len(history); n > 0 {
		last := history[n-1]
		if p.Version <= last.Version {
			if sum := sha256.Sum256(text); hex.EncodeToString(sum[:]) != last.SHA256 {
				g.cfg.Log.Warn("the policy file differs from the policy in force but does not raise its version: ignored",
					"file", source, "file_version", p.Version, "in_force", last.Version)
			}
			return g.use(last)
		}
	}
	// Every policy put in force, a store's first included, goes into the
	// verifiable log: the log then shows which rules governed its votes
	// from the first one on.
	_, err = g.record(ctx, p, text, "operator", "policy file "+source+" at start")
	return err
}

// use puts the recorded policy c in force.
func (g *Governor) use(c Change) error {
	p, err := g.cfg.Parse([]byte(c.Text))
	if err != nil {
		return fmt.Errorf("recorded policy version %d: %w", c.Version, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pol, g.change = p, c
	return nil
}

// record stores p (whose file is text) as the policy in force, in the
// verifiable log.
func (g *Governor) record(ctx context.Context, p *Policy, text []byte, by, reason string) (Change, error) {
	c, err := g.cfg.Store.AddPolicyChange(ctx, Change{Version: p.Version, Text: string(text), By: by, Reason: reason, At: g.cfg.Now()}, true)
	if err != nil {
		return c, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pol, g.change = p, c
	g.cfg.Log.Info("leaderboard policy in force", "version", c.Version, "by", by, "reason", reason, "log_leaf", c.Leaf)
	return c, nil
}

// Change puts the policy file text in force: an admin's action, recorded
// with who made it and why. Its version must be higher than the one in
// force.
func (g *Governor) Change(ctx context.Context, text []byte, by, reason string) (Change, error) {
	by, reason = strings.TrimSpace(by), strings.TrimSpace(reason)
	if by == "" || reason == "" || len(by) > 200 || len(reason) > 2000 {
		return Change{}, rlhf.Errorf(rlhf.EInvalid, "a policy change needs by (who, at most 200 bytes) and reason (why, at most 2000 bytes)")
	}
	p, err := g.cfg.Parse(text)
	if err != nil {
		return Change{}, rlhf.Errorf(rlhf.EInvalid, "%s", err.Error())
	}
	if cur, _ := g.Policy(); p.Version <= cur.Version {
		return Change{}, rlhf.Errorf(rlhf.EConflict, "policy version %d is in force: a change must raise the version (to %d or more)", cur.Version, cur.Version+1)
	}
	return g.record(ctx, p, text, by, reason)
}

// Policy returns the policy in force and its record.
func (g *Governor) Policy() (Policy, Change) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pol == nil {
		return Policy{}, Change{}
	}
	return *g.pol, g.change
}

// History returns every recorded policy, oldest first.
func (g *Governor) History(ctx context.Context) ([]Change, error) {
	return g.cfg.Store.PolicyChanges(ctx)
}

// Load puts in force the newest recorded policy, or fallback when none is
// recorded, without recording anything: for readers of a store, like
// "agora leaderboard".
func (g *Governor) Load(ctx context.Context, fallback []byte) error {
	history, err := g.cfg.Store.PolicyChanges(ctx)
	if err != nil {
		return err
	}
	if n := len(history); n > 0 {
		return g.use(history[n-1])
	}
	return g.use(Change{Version: 0, Text: string(fallback), By: "default", Reason: "no policy recorded in this store"})
}
