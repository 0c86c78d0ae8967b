package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// Leaderboards computes leaderboards of the live votes; *analytics.Live
// implements it.
type Leaderboards interface {
	Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error)
}

// maxLeaderboardRounds caps the bootstrap rounds a request may ask for.
const maxLeaderboardRounds = 10000

// The public leaderboard's price. Anyone may read the published fits:
// the default options, with or without style control (style) and pair
// matrices (matrices, which cost nothing: they are cut from the one fit),
// for all battles or one category or language (leaderboard_cuts.go).
// A published fit is refitted at most every publicMaxAge while votes
// arrive and visitors ask for it, by one paced worker on its own
// schedule, never by a request (leaderboard_public.go).
// Any other parameter asks for a fit of its own, and needs a researcher's
// or the admin's token. Every request, public or not, counts against its
// client address's bucket of leaderboardRate, and a refused one is held
// before its answer (tarpit); and fits run one at a time on half the
// processors (analytics.Live), the published ones on a quarter of one,
// so that leaderboards cannot take the vote path's processor time.
var (
	publicParams    = map[string]bool{"style": true, "matrices": true, "category": true, "language": true}
	publicMaxAge    = 5 * time.Second
	leaderboardRate = Rate{Every: 500 * time.Millisecond, Burst: 10}
)

// leaderboardAPI is what GET /api/v1/leaderboard and its daily votes use.
type leaderboardAPI struct {
	lbs    Leaderboards
	daily  DailyVotes    // votes per day (leaderboard_daily.go); may be nil
	public *publicBoards // the published fits, for requests with public parameters only
	// allow spends one request of the client's rate limit.
	allow func(*http.Request) error
	// researcher reports whether the request carries a researcher's or
	// the admin's token; a token that is not valid is an error.
	researcher func(*http.Request) (bool, error)
	unfit      *onceLog // reasons a leaderboard could not be fitted
}

// handleLeaderboard returns the handler of GET /api/v1/leaderboard: the
// same JSON document as "agora leaderboard --json", for the live votes.
// Query parameters: style and matrices (default true), and one category or
// language of a known set (leaderboard_cuts.go), for everyone; with
// a researcher token also rounds, seed, ci, anchor and anchor_rating,
// weighting (plain or reliability), fragility (the fragility audit), ties
// (include or exclude), since and until (RFC 3339 or YYYY-MM-DD), models,
// category, language, source, contributors and exclude_contributors
// (comma-separated lists).
func handleLeaderboard(api leaderboardAPI) handler {
	return func(c *gin.Context) error {
		if err := api.allow(c.Request); err != nil {
			return err // rate_limited: the error writer adds Retry-After
		}
		q := c.Request.URL.Query()
		public, err := api.isPublic(c.Request, q)
		if err != nil {
			return err
		}
		opt, err := leaderboardOptions(q)
		if err != nil {
			return err
		}
		matrices := opt.Matrices
		var lb *analytics.Leaderboard
		if public {
			lb, err = api.public.get(c.Request.Context(), opt) // leaderboard_public.go
		} else {
			lb, err = api.lbs.Leaderboard(c.Request.Context(), opt)
		}
		if err != nil {
			if rlhf.ErrorCode(err) == rlhf.EInvalid {
				api.unfit.warn("the leaderboard cannot be fitted", err)
				return err
			}
			return fmt.Errorf("leaderboard: %w", err)
		}
		if !matrices && lb.Matrices != nil {
			cut := *lb
			cut.Matrices = nil
			lb = &cut
		}
		c.Header("Cache-Control", "no-cache")
		c.JSON(http.StatusOK, lb)
		return nil
	}
}

// isPublic reports whether a request is served the published fits: it
// names only public parameters, or else must carry a researcher's token.
func (api leaderboardAPI) isPublic(r *http.Request, q url.Values) (bool, error) {
	var custom []string
	for name := range q {
		if !publicParams[name] {
			custom = append(custom, name)
		}
	}
	cut := publicCut(q)
	if len(custom) == 0 && cut == nil {
		return true, nil
	}
	ok, err := api.researcher(r)
	if err != nil {
		return false, err
	}
	if !ok && len(custom) == 0 {
		return false, cut
	}
	if !ok {
		slices.Sort(custom)
		code := rlhf.EForbidden
		if r.Header.Get("Authorization") == "" {
			code = rlhf.EUnauthorized
		}
		return false, rlhf.Errorf(code, "anyone may read the published leaderboards (style, matrices, one category or language); %s need a researcher token",
			strings.Join(custom, ", "))
	}
	return false, nil
}

// onceLog logs each distinct reason once, not once per request.
type onceLog struct {
	log *slog.Logger

	mu   sync.Mutex // guards seen
	seen map[string]bool
}

func (o *onceLog) warn(msg string, err error) {
	reason := rlhf.ErrorMessage(err)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[reason] {
		return
	}
	if len(o.seen) >= 64 || o.seen == nil {
		o.seen = map[string]bool{}
	}
	o.seen[reason] = true
	o.log.Warn(msg, "err", err)
}

// newLeaderboardAPI wires the leaderboards' price to s: its client
// addresses, its tokens and its log, with rate per client address.
func (s *Server) newLeaderboardAPI(lbs Leaderboards, daily DailyVotes, rate Rate) leaderboardAPI {
	limit, tarpit := newLimiter(rate, time.Now), newTarpit()
	return leaderboardAPI{
		lbs:    lbs,
		daily:  daily,
		public: s.public,
		allow: func(r *http.Request) error {
			addr := addrKey(s.cfg.TrustedProxies.clientAddr(r))
			if wait, ok := limit.take(addr); !ok {
				return rateLimited("leaderboard requests", tarpit.hold(r.Context(), wait))
			}
			return nil
		},
		researcher: func(r *http.Request) (bool, error) {
			if r.Header.Get("Authorization") == "" {
				return false, nil
			}
			p, err := s.principal(r)
			if err != nil {
				return false, err
			}
			return p.role&ResearcherOrAdmin != 0, nil
		},
		unfit: &onceLog{log: s.log},
	}
}

// handleLeaderboardPage serves the leaderboard page.
func (s *Server) handleLeaderboardPage(c *gin.Context) error {
	return s.servePage(c, "leaderboard.html")
}

// leaderboardOptions reads the query parameters of GET /api/v1/leaderboard.
func leaderboardOptions(q url.Values) (analytics.Options, error) {
	opt := analytics.DefaultOptions()
	bad := func(name, want string) error { return badParam(q, name, want) }
	if v := q.Get("rounds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxLeaderboardRounds {
			return opt, bad("rounds", fmt.Sprintf("an integer from 0 to %d", maxLeaderboardRounds))
		}
		opt.Rounds = n
	}
	if v := q.Get("seed"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return opt, bad("seed", "a non-negative integer")
		}
		opt.Seed = n
	}
	if v := q.Get("ci"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f < 1) {
			return opt, bad("ci", "a number between 0 and 1, like 0.95")
		}
		opt.CI = f
	}
	if v := q.Get("anchor"); v != "" {
		f, err := strconv.ParseFloat(q.Get("anchor_rating"), 64)
		if err != nil {
			return opt, bad("anchor_rating", "a rating for the anchor model, like 1114")
		}
		opt.Anchor, opt.AnchorRating = v, f
	}
	for name, dst := range map[string]*bool{"style": &opt.Style, "matrices": &opt.Matrices, "fragility": &opt.Fragility} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return opt, bad(name, "true or false")
			}
			*dst = b
		}
	}
	switch w := q.Get("weighting"); w {
	case "", analytics.WeightingPlain:
	case analytics.WeightingReliability:
		opt.Weighting = w
	default:
		return opt, bad("weighting", "plain or reliability")
	}
	switch q.Get("ties") {
	case "", "include":
	case "exclude":
		opt.Filter.ExcludeTies = true
	default:
		return opt, bad("ties", "include or exclude")
	}
	var err error
	if opt.Filter.Since, err = queryTime(q, "since"); err != nil {
		return opt, err
	}
	if opt.Filter.Until, err = queryTime(q, "until"); err != nil {
		return opt, err
	}
	for name, dst := range map[string]*[]string{
		"models": &opt.Filter.Models, "category": &opt.Filter.Categories, "language": &opt.Filter.Languages,
		"source": &opt.Filter.Sources, "contributors": &opt.Filter.Contributors,
		"exclude_contributors": &opt.Filter.ExcludeContributors,
	} {
		*dst = queryList(q, name)
	}
	return opt, nil
}
