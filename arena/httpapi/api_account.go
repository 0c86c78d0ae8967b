package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/arena/openid"
	"github.com/agora-rlhf/agora/arena/passkey"
	"github.com/agora-rlhf/agora/rlhf"
)

// PasskeyCeremonies runs WebAuthn registration and sign-in;
// *passkey.Ceremonies implements it.
type PasskeyCeremonies interface {
	BeginRegistration(u passkey.User) (options, state []byte, err error)
	FinishRegistration(u passkey.User, state, response []byte) (passkey.Credential, error)
	BeginLogin() (options, state []byte, err error)
	FinishLogin(state, response []byte, load func(id string) (passkey.User, error)) (string, passkey.Credential, error)
}

// OpenID runs the OpenID Connect sign-in with one issuer;
// *openid.Provider implements it.
type OpenID interface {
	Issuer() string
	AuthURL(ctx context.Context, f openid.Flow) (string, error)
	Exchange(ctx context.Context, code string, f openid.Flow) (openid.Claims, error)
}

// signinCookie keeps a sign-in's sealed state between its two requests.
const (
	signinCookie = "agora_signin"
	signinPath   = "/api/v1/account/"
	signinTTL    = 10 * time.Minute
)

// ceremony is the sealed state of a passkey ceremony.
type ceremony struct {
	Kind   string `json:"kind"`   // register or login
	Member string `json:"member"` // register: the member the passkey is for
	New    bool   `json:"new"`    // register: the member is created at the finish
	Name   string `json:"name"`
	State  []byte `json:"state"` // the WebAuthn library's session data
}

func (s *Server) setSignin(c *gin.Context, purpose string, v any) error {
	sealed, err := s.cfg.Identity.seal(purpose, v, signinTTL)
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: signinCookie, Value: sealed, Path: signinPath, MaxAge: int(signinTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.TrustedProxies.scheme(c.Request) == "https"})
	return nil
}

// takeSignin opens the sign-in state sealed for purpose and clears it, so
// that each state is used once by this browser.
func (s *Server) takeSignin(c *gin.Context, purpose string, v any) error {
	ck, err := c.Request.Cookie(signinCookie)
	if err != nil {
		return errSealed
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: signinCookie, Value: "", Path: signinPath, MaxAge: -1, HttpOnly: true})
	return s.cfg.Identity.open(purpose, ck.Value, v)
}

func (s *Server) passkeysOn() error {
	if s.cfg.Members == nil || s.cfg.Passkeys == nil {
		return rlhf.Errorf(rlhf.ENotFound, "passkeys are not enabled on this server")
	}
	return nil
}

// passkeyUser returns member id as the passkey library wants it, with its
// stored passkeys.
func (s *Server) passkeyUser(ctx context.Context, id, name string) (passkey.User, error) {
	keys, err := s.cfg.Members.Passkeys(ctx, id)
	if err != nil {
		return passkey.User{}, err
	}
	u := passkey.User{ID: id, Name: name}
	for _, k := range keys {
		u.Credentials = append(u.Credentials, k.Data)
	}
	return u, nil
}

// handlePasskeyRegisterBegin starts registering a passkey: for the
// signed-in member, or for a new member (sign-up) named by the body's
// optional {"name": ...}.
func (s *Server) handlePasskeyRegisterBegin(c *gin.Context) error {
	if err := errors.Join(s.passkeysOn(), s.sameOrigin(c)); err != nil {
		return err
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeOptional(c, &body); err != nil {
		return err
	}
	cer := ceremony{Kind: "register", Name: strings.TrimSpace(body.Name)}
	if w := s.requester(c); w.member != "" {
		m, err := s.cfg.Members.Member(c.Request.Context(), w.member)
		if err != nil {
			return err
		}
		cer.Member, cer.Name = m.ID, m.Name
	} else {
		cer.Member, cer.New = newMemberID(), true
	}
	if len(cer.Name) > 64 {
		return rlhf.Errorf(rlhf.EInvalid, "name: at most 64 bytes")
	}
	if cer.Name == "" {
		cer.Name = "contributor " + cer.Member[2:10]
	}
	u, err := s.passkeyUser(c.Request.Context(), cer.Member, cer.Name)
	if err != nil {
		return err
	}
	options, state, err := s.cfg.Passkeys.BeginRegistration(u)
	if err != nil {
		return err
	}
	cer.State = state
	if err := s.setSignin(c, "passkey", cer); err != nil {
		return err
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", options)
	return nil
}

// handlePasskeyRegisterFinish checks the browser's new credential, stores
// it (creating the member at sign-up) and signs the client in.
func (s *Server) handlePasskeyRegisterFinish(c *gin.Context) error {
	cer, response, err := s.finishing(c, "register")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	u, err := s.passkeyUser(ctx, cer.Member, cer.Name)
	if err != nil {
		return err
	}
	cred, err := s.cfg.Passkeys.FinishRegistration(u, cer.State, response)
	if err != nil {
		return ceremonyError(err)
	}
	m := &rlhf.Member{ID: cer.Member}
	if cer.New {
		if m, err = s.newMember(c, cer.Member, cer.Name); err != nil {
			return err
		}
	}
	now := s.cfg.Identity.now()
	if err := s.cfg.Members.AddPasskey(ctx, rlhf.Passkey{ID: cred.ID, Member: m.ID, Data: cred.Data, CreatedAt: now, UsedAt: now}); err != nil {
		return err
	}
	return s.respondSignIn(c, m)
}

// handlePasskeyLoginBegin starts a sign-in with any of the site's passkeys.
func (s *Server) handlePasskeyLoginBegin(c *gin.Context) error {
	if err := errors.Join(s.passkeysOn(), s.sameOrigin(c)); err != nil {
		return err
	}
	options, state, err := s.cfg.Passkeys.BeginLogin()
	if err != nil {
		return err
	}
	if err := s.setSignin(c, "passkey", ceremony{Kind: "login", State: state}); err != nil {
		return err
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", options)
	return nil
}

// handlePasskeyLoginFinish checks the browser's assertion and signs the
// client in as the passkey's member.
func (s *Server) handlePasskeyLoginFinish(c *gin.Context) error {
	cer, response, err := s.finishing(c, "login")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	load := func(id string) (passkey.User, error) {
		m, err := s.cfg.Members.Member(ctx, id)
		if err != nil {
			return passkey.User{}, err
		}
		return s.passkeyUser(ctx, m.ID, m.Name)
	}
	id, cred, err := s.cfg.Passkeys.FinishLogin(cer.State, response, load)
	if err != nil {
		return ceremonyError(err)
	}
	if err := s.cfg.Members.UsePasskey(ctx, cred.ID, cred.Data, s.cfg.Identity.now()); err != nil {
		return err
	}
	return s.respondSignIn(c, &rlhf.Member{ID: id})
}

// finishing checks a ceremony's finish request and returns the sealed
// ceremony of kind and the browser's response.
func (s *Server) finishing(c *gin.Context, kind string) (ceremony, []byte, error) {
	var cer ceremony
	if err := errors.Join(s.passkeysOn(), s.sameOrigin(c)); err != nil {
		return cer, nil, err
	}
	if err := s.takeSignin(c, "passkey", &cer); err != nil || cer.Kind != kind {
		return cer, nil, errSealed
	}
	response, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return cer, nil, rlhf.Errorf(rlhf.EInvalid, "read the browser's response: %v", err)
	}
	return cer, response, nil
}

func (s *Server) respondSignIn(c *gin.Context, m *rlhf.Member) error {
	out, err := s.signIn(c, m)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// ceremonyError turns a failed ceremony into the client's error.
func ceremonyError(err error) error {
	if errors.Is(err, passkey.ErrCeremony) {
		return &rlhf.Error{Code: rlhf.EUnauthorized, Message: "the passkey was not accepted: " + strings.TrimPrefix(err.Error(), passkey.ErrCeremony.Error()+": "), Err: err}
	}
	return err
}

// decodeOptional decodes a JSON body into v; no body leaves v as it is.
func decodeOptional(c *gin.Context, v any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, v)
}
