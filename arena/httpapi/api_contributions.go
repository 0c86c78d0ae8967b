package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// Contributions tells contributors what they contributed, and anyone what
// the releases are; *ledger.Contributions implements it.
type Contributions interface {
	Points(ctx context.Context, contributor string) (*ledger.Points, error)
	Releases(ctx context.Context) ([]ledger.ReleaseSummary, error)
	ProveInRelease(ctx context.Context, root string, leaf int64, vote string) (*ledger.ReleaseProof, error)
}

// handlePoints serves GET /api/v1/me/points: the calling contributor's
// points, receipts and shares, and nothing about anyone else. The
// contributor is the one their token (Authorization: Bearer, or the
// page's cookie) proves.
func (s *Server) handlePoints(cs Contributions) handler {
	return func(c *gin.Context) error {
		token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if token == "" {
			token, _ = c.Cookie(tokenCookie)
		}
		if token == "" {
			return rlhf.Errorf(rlhf.EUnauthorized, "a contributor token is required (Authorization: Bearer TOKEN, the token of the hello frame)")
		}
		w, _, err := s.checkToken(c.Request.Context(), token) // a signed-out (revoked) token proves no one
		contributor := w.contributor
		if err != nil {
			return rlhf.Errorf(rlhf.EUnauthorized, "the contributor token is not valid: %v", err)
		}
		p, err := cs.Points(c.Request.Context(), contributor)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, p)
		return nil
	}
}

// handleReleases serves GET /api/v1/releases: every release in the log,
// with its record and share table.
func handleReleases(cs Contributions) handler {
	return func(c *gin.Context) error {
		rs, err := cs.Releases(c.Request.Context())
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"releases": rs})
		return nil
	}
}

// handleReleaseProof serves GET /api/v1/releases/proof?root=R&(leaf=N|vote=ID):
// the proof that a vote's leaf is in a release.
func handleReleaseProof(cs Contributions) handler {
	return func(c *gin.Context) error {
		q := c.Request.URL.Query()
		leaf, err := intParam(q.Get("leaf"), "leaf")
		if err != nil {
			return err
		}
		if q.Get("root") == "" || q.Has("leaf") == q.Has("vote") {
			return rlhf.Errorf(rlhf.EInvalid, "give root, and leaf or vote")
		}
		p, err := cs.ProveInRelease(c.Request.Context(), q.Get("root"), leaf, q.Get("vote"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, p)
		return nil
	}
}

// handleMePage serves the contributor's own page (static/me.js reads the
// /api/v1/me routes with the page's cookie).
func (s *Server) handleMePage(c *gin.Context) error {
	return s.servePage(c, "me.html")
}
