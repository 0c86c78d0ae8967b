package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/analytics"
)

// DailyVotes counts a model's counted votes per day; *analytics.Live
// implements it (cmd/agora leaves out the quarantined contributors, as the
// leaderboard does).
type DailyVotes interface {
	VotesPerDay(ctx context.Context, model string, f analytics.Filter) ([]analytics.DayVotes, error)
}

// votesPerDay is the answer of GET /api/v1/leaderboard/daily.
type votesPerDay struct {
	Model string               `json:"model"`
	Days  []analytics.DayVotes `json:"days"`
}

// maxModelName bounds the model parameter.
const maxModelName = 256

// handleVotesPerDay returns the handler of GET /api/v1/leaderboard/daily:
// a model's votes per day over the last analytics.DailyDays days of its
// votes, for the leaderboard page's model view. Public, like the published
// leaderboard: the same rate limit and the same category or language cut.
func handleVotesPerDay(api leaderboardAPI) handler {
	return func(c *gin.Context) error {
		if err := api.allow(c.Request); err != nil {
			return err
		}
		q := c.Request.URL.Query()
		model := q.Get("model")
		if model == "" || len(model) > maxModelName {
			return badParam(q, "model", "a model's name from the leaderboard")
		}
		if err := publicCut(q); err != nil {
			return err
		}
		f := analytics.Filter{Categories: queryList(q, "category"), Languages: queryList(q, "language")}
		days, err := api.daily.VotesPerDay(c.Request.Context(), model, f)
		if err != nil {
			return err
		}
		c.Header("Cache-Control", "no-cache")
		c.JSON(http.StatusOK, votesPerDay{Model: model, Days: days})
		return nil
	}
}
