package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/arena/openid"
	"github.com/agora-rlhf/agora/rlhf"
)

func (s *Server) openIDOn() error {
	if s.cfg.Members == nil || s.cfg.OpenID == nil {
		return rlhf.Errorf(rlhf.ENotFound, "OpenID Connect sign-in is not configured on this server")
	}
	return nil
}

// handleOpenIDLogin sends the browser to the issuer, keeping the flow's
// state, nonce and PKCE verifier sealed in a cookie for the callback.
func (s *Server) handleOpenIDLogin(c *gin.Context) error {
	if err := s.openIDOn(); err != nil {
		return err
	}
	f := openid.NewFlow()
	u, err := s.cfg.OpenID.AuthURL(c.Request.Context(), f)
	if err != nil {
		return &rlhf.Error{Code: rlhf.EUpstream, Message: "the sign-in service cannot be reached; try again later", Err: err}
	}
	if err := s.setSignin(c, "openid", f); err != nil {
		return err
	}
	c.Redirect(http.StatusFound, u)
	return nil
}

// handleOpenIDCallback finishes the flow: it checks state, exchanges the
// code (with the PKCE verifier) and verifies the id token (with the
// nonce), then signs the client in as the member linked to the issuer's
// subject, creating one at the first sign-in, and sends it to the page.
func (s *Server) handleOpenIDCallback(c *gin.Context) error {
	if err := s.openIDOn(); err != nil {
		return err
	}
	var f openid.Flow
	if err := s.takeSignin(c, "openid", &f); err != nil {
		return err
	}
	if e := c.Query("error"); e != "" {
		return rlhf.Errorf(rlhf.EUnauthorized, "the sign-in service refused: %.200s", e)
	}
	if c.Query("state") != f.State {
		return rlhf.Errorf(rlhf.EUnauthorized, "the sign-in does not match the one this browser started; start again")
	}
	ctx := c.Request.Context()
	claims, err := s.cfg.OpenID.Exchange(ctx, c.Query("code"), f)
	if err != nil {
		return &rlhf.Error{Code: rlhf.EUnauthorized, Message: "the sign-in service's answer was not accepted", Err: err}
	}
	id, err := s.cfg.Members.MemberByIdentity(ctx, claims.Issuer, claims.Subject)
	if err != nil {
		return err
	}
	m := &rlhf.Member{ID: id}
	if id == "" {
		if m, err = s.newMember(c, newMemberID(), claims.Name); err != nil {
			return err
		}
		if err := s.cfg.Members.AddIdentity(ctx, claims.Issuer, claims.Subject, m.ID, s.cfg.Identity.now()); err != nil {
			return err
		}
	}
	if _, err := s.signIn(c, m); err != nil {
		return err
	}
	c.Redirect(http.StatusFound, "/")
	return nil
}
