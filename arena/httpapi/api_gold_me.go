package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// GoldScorer measures one contributor's accuracy on gold battles (the
// arena's check battles, arena/gold.go); *store.Store implements it.
type GoldScorer interface {
	GoldScore(ctx context.Context, contributor string) (rlhf.GoldScore, error)
}

// handleMyGold serves GET /api/v1/me/gold: the calling contributor's
// gold battles, how many they judged as a careful reader would, and the
// accuracy Agora estimates from them; nothing about anyone else.
// contributor gives the contributor the request's token proves.
func handleMyGold(g GoldScorer, contributor func(c *gin.Context) (string, error)) handler {
	return func(c *gin.Context) error {
		id, err := contributor(c)
		if err != nil {
			return err
		}
		score, err := g.GoldScore(c.Request.Context(), id)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, score)
		return nil
	}
}
