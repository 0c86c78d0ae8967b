package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/rlhf"
)

// Notice is the plain notice every contributor is shown, with or without
// the operator's terms.
const Notice = "Prompts, answers and votes you give here may be released as public data sets and used to train models, within the consent you choose. Releases already made, and models trained on them, cannot be recalled."

// TermsKeeper records contributors' acceptance of the operator's terms;
// *store.Store implements it.
type TermsKeeper interface {
	AcceptTerms(ctx context.Context, contributor, version string, at time.Time) error
	// TermsAccepted returns when the contributor accepted version, or
	// the zero time.
	TermsAccepted(ctx context.Context, contributor, version string) (time.Time, error)
}

// Terms are the operator's terms (docs/consent.md). The zero value is no
// terms: only the notice is shown and battles need no acceptance.
type Terms struct {
	Version string // changing it asks every contributor again
	Text    string // Markdown
	Keeper  TermsKeeper
}

// termsAnswer is GET /api/v1/terms's answer.
type termsAnswer struct {
	Notice     string     `json:"notice"`
	Version    string     `json:"version,omitempty"`     // empty: no terms to accept
	Text       string     `json:"text,omitempty"`        // the terms, Markdown
	AcceptedAt *time.Time `json:"accepted_at,omitempty"` // when the caller accepted this version
}

// handleTerms answers the notice and the operator's terms, and, for a
// caller with a contributor token, whether they accepted them.
func (s *Server) handleTerms(c *gin.Context) error {
	t := s.cfg.Terms
	ans := termsAnswer{Notice: Notice, Version: t.Version, Text: t.Text}
	if id, err := s.contributor(c); err == nil && t.Version != "" && t.Keeper != nil {
		at, err := t.Keeper.TermsAccepted(c.Request.Context(), id, t.Version)
		if err != nil {
			return err
		}
		if !at.IsZero() {
			ans.AcceptedAt = &at
		}
	}
	c.JSON(http.StatusOK, ans)
	return nil
}

var errNoTerms = rlhf.Errorf(rlhf.ENotFound, "this server has no terms to accept")

// acceptTermsRequest is POST /api/v1/me/terms's body.
type acceptTermsRequest struct {
	Version string `json:"version"`
}

// handleAcceptTerms records that the caller accepted the terms' version.
func (s *Server) handleAcceptTerms(c *gin.Context) error {
	id, err := s.contributor(c)
	if err != nil {
		return err
	}
	var body acceptTermsRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if err := s.acceptTerms(c.Request.Context(), id, body.Version); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"version": body.Version})
	return nil
}

// acceptTerms records a contributor's acceptance of version, which must
// be the terms in force.
func (s *Server) acceptTerms(ctx context.Context, contributor, version string) error {
	t := s.cfg.Terms
	switch {
	case t.Version == "" || t.Keeper == nil:
		return errNoTerms
	case version != t.Version:
		return rlhf.Errorf(rlhf.EConflict, "the terms in force are version %q, not %q: read them again (GET /api/v1/terms)", t.Version, version)
	}
	return t.Keeper.AcceptTerms(ctx, contributor, version, s.now())
}

// termsInfo returns what a hello says about the terms: nil when there are
// none or the contributor accepted them.
func (s *Server) termsInfo(ctx context.Context, contributor string) (*arena.TermsInfo, error) {
	t := s.cfg.Terms
	if t.Version == "" || t.Keeper == nil {
		return nil, nil
	}
	at, err := t.Keeper.TermsAccepted(ctx, contributor, t.Version)
	if err != nil || !at.IsZero() {
		return nil, err
	}
	return &arena.TermsInfo{Version: t.Version, URL: "/api/v1/terms"}, nil
}

// needTerms is the error of a start before the terms are accepted; it
// names the message to send.
func (s *Server) needTerms(ctx context.Context, contributor string) error {
	info, err := s.termsInfo(ctx, contributor)
	if err != nil || info == nil {
		return err
	}
	return rlhf.Errorf(rlhf.EForbidden, `accept the operator's terms before your first battle: read them at GET %s, then send {"type":"accept_terms","version":%q}`, info.URL, info.Version)
}
