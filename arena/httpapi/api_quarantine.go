package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// Quarantines lists quarantined contributors and lifts a quarantine;
// *trust.Quarantine implements it.
type Quarantines interface {
	List(ctx context.Context) ([]rlhf.Quarantine, []rlhf.QuarantineEvent, error)
	Lift(ctx context.Context, contributor, actor, note string) error
}

// handleListQuarantine returns the handler of GET /api/v1/admin/quarantine:
// the quarantined contributors with their reasons, and the log of every
// decision.
func handleListQuarantine(q Quarantines) handler {
	return func(c *gin.Context) error {
		qs, log, err := q.List(c.Request.Context())
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"quarantined": qs, "log": log})
		return nil
	}
}

// handleLiftQuarantine returns the handler of DELETE
// /api/v1/admin/quarantine/:contributor?note=…: the contributor's votes
// count again, and the decision is logged.
func handleLiftQuarantine(q Quarantines) handler {
	return func(c *gin.Context) error {
		note := c.Query("note")
		if len(note) > 2000 {
			return rlhf.Errorf(rlhf.EInvalid, "note is %d bytes; at most 2000", len(note))
		}
		if err := q.Lift(c.Request.Context(), c.Param("contributor"), "admin", note); err != nil {
			return err
		}
		c.Status(http.StatusNoContent)
		return nil
	}
}
