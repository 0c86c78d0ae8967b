package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

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

// handleLeaderboard returns the handler of GET /api/v1/leaderboard: the
// same JSON document as "agora leaderboard --json", for the live votes.
// Query parameters: rounds, seed, ci, anchor and anchor_rating, style,
// weighting (plain or reliability), fragility (the fragility audit),
// ties (include or exclude), since and until (RFC 3339 or YYYY-MM-DD),
// models, category, language, source, contributors, exclude_contributors
// (comma-separated lists) and matrices (default true).
func handleLeaderboard(lbs Leaderboards) handler {
	return func(c *gin.Context) error {
		if lbs == nil {
			return rlhf.Errorf(rlhf.EUnavailable, "the leaderboard is not available on this server")
		}
		opt, err := leaderboardOptions(c.Request.URL.Query())
		if err != nil {
			return err
		}
		lb, err := lbs.Leaderboard(c.Request.Context(), opt)
		if err != nil {
			return fmt.Errorf("leaderboard: %w", err)
		}
		c.Header("Cache-Control", "no-cache")
		c.JSON(http.StatusOK, lb)
		return nil
	}
}

// handleLeaderboardPage serves the leaderboard page.
func (s *Server) handleLeaderboardPage(c *gin.Context) error {
	return s.servePage(c, "leaderboard.html", "default-src 'self'; img-src 'self' data:")
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
