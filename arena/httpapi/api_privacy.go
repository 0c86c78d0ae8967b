package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// Privacy keeps contributors' consent and serves their download and
// erasure (docs/consent.md); *store.Store implements it.
type Privacy interface {
	ConsentDefaults(ctx context.Context, contributor string) (*rlhf.Consent, error)
	SetConsentDefaults(ctx context.Context, contributor string, c rlhf.Consent) error
	NarrowVotes(ctx context.Context, n rlhf.Narrowing) (int, error)
	ContributorData(ctx context.Context, contributor string) (*rlhf.ContributorData, error)
	// Erase deletes the contributor's data, keeps e as a tombstone and
	// returns the ids of the deleted battles.
	Erase(ctx context.Context, contributor string, e *rlhf.Erasure) ([]string, error)
}

// Unrecallable is what an erasure cannot reach; every erasure answer and
// the page say it.
const Unrecallable = "Data releases made before the deletion, and models already trained on them, cannot be recalled."

var (
	noPrivacy     = rlhf.Errorf(rlhf.ENotFound, "consent and erasure are not available on this server")
	noContributor = rlhf.Errorf(rlhf.EUnauthorized, "a contributor token is required (the page's cookie, or Authorization: Bearer TOKEN with the token of the websocket's hello)")
)

// contributor returns the contributor the request's token proves. Unlike
// the websocket, it never hands out a new identity.
func (s *Server) contributor(c *gin.Context) (string, error) {
	token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if token == "" {
		token, _ = c.Cookie(tokenCookie)
	}
	if token == "" {
		return "", noContributor
	}
	w, _, err := s.checkToken(c.Request.Context(), token) // a signed-out (revoked) token proves no one
	if err != nil {
		return "", err
	}
	return w.contributor, nil
}

// privacy returns the store, the contributor the request is about (the
// caller, or the :contributor of an admin route) and who acts.
func (s *Server) privacy(c *gin.Context) (Privacy, string, string, error) {
	if s.cfg.Privacy == nil {
		return nil, "", "", noPrivacy
	}
	if id := c.Param("contributor"); id != "" {
		return s.cfg.Privacy, id, "admin", nil
	}
	id, err := s.contributor(c)
	return s.cfg.Privacy, id, "contributor", err
}

// consentAnswer is GET /api/v1/me/consent's answer.
type consentAnswer struct {
	Consent      rlhf.Consent `json:"consent"`                // what the next vote gets
	Chosen       bool         `json:"chosen"`                 // false: the operator's default applies
	Default      rlhf.Consent `json:"default"`                // the operator's default
	Scopes       []rlhf.Scope `json:"scopes"`                 // narrowest first
	Unrecallable string       `json:"unrecallable,omitempty"` // what narrowing cannot reach
}

// handleGetConsent answers the consent the caller's next vote gets.
func (s *Server) handleGetConsent(c *gin.Context) error {
	p, id, _, err := s.privacy(c)
	if err != nil {
		return err
	}
	ans := consentAnswer{Consent: s.defaultConsent(), Default: s.defaultConsent(), Scopes: rlhf.Scopes,
		Unrecallable: "Narrowing applies to releases made after it. " + Unrecallable}
	got, err := p.ConsentDefaults(c.Request.Context(), id)
	switch {
	case err == nil:
		ans.Consent, ans.Chosen = *got, true
		if got.Licence == "" {
			ans.Consent.Licence = ans.Default.Licence
		}
	case rlhf.ErrorCode(err) != rlhf.ENotFound:
		return err
	}
	c.JSON(http.StatusOK, ans)
	return nil
}

// defaultConsent is the operator's, with rlhf.DefaultScope when none is
// configured.
func (s *Server) defaultConsent() rlhf.Consent {
	d := s.cfg.DefaultConsent
	d.Scope = d.Scope.Effective()
	return d
}

// handlePutConsent sets the consent of the caller's future votes.
func (s *Server) handlePutConsent(c *gin.Context) error {
	p, id, _, err := s.privacy(c)
	if err != nil {
		return err
	}
	var body rlhf.Consent
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	body.At = s.now()
	if err := p.SetConsentDefaults(c.Request.Context(), id, body); err != nil {
		return err
	}
	c.JSON(http.StatusOK, body)
	return nil
}

// handleNarrow narrows the scope of the caller's past votes (all, or
// those named); it never widens one.
func (s *Server) handleNarrow(c *gin.Context) error {
	p, id, _, err := s.privacy(c)
	if err != nil {
		return err
	}
	var body rlhf.Narrowing
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	body.Contributor, body.At = id, s.now()
	n, err := p.NarrowVotes(c.Request.Context(), body)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"narrowed": n, "scope": body.Scope,
		"unrecallable": "Narrowing applies to releases made after it. " + Unrecallable})
	return nil
}

// handleDownload answers everything Agora holds about the contributor, as
// one JSON document.
func (s *Server) handleDownload(c *gin.Context) error {
	p, id, _, err := s.privacy(c)
	if err != nil {
		return err
	}
	d, err := p.ContributorData(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename="agora-my-data.json"`)
	c.JSON(http.StatusOK, d)
	return nil
}

// handleErase deletes everything Agora holds about the contributor, and
// answers the content-free tombstone that stays.
func (s *Server) handleErase(c *gin.Context) error {
	p, id, actor, err := s.privacy(c)
	if err != nil {
		return err
	}
	var b [8]byte
	rand.Read(b[:])
	e := &rlhf.Erasure{ID: "e_" + hex.EncodeToString(b[:]), Actor: actor, At: s.now()}
	ctx := c.Request.Context()
	battles, err := p.Erase(ctx, id, e)
	if err != nil && rlhf.ErrorCode(err) != rlhf.EUnavailable { // unavailable: deleted, but the WAL not yet cleared
		return err
	}
	s.log.Info("erased a contributor's data", "erasure", e.ID, "actor", actor, "battles", e.Battles, "votes", e.Votes)
	if s.cfg.OnErase != nil {
		if err := s.cfg.OnErase(context.WithoutCancel(ctx), battles); err != nil {
			return &rlhf.Error{Code: rlhf.EUnavailable, Err: err,
				Message: "your data was deleted from the store, but removing its copies (analytics, leaderboard) failed; the operator has been told (erasure " + e.ID + ")"}
		}
	}
	if s.public != nil {
		s.public.forget() // the published fits count the erased votes
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"erasure": e, "unrecallable": Unrecallable})
	return nil
}
