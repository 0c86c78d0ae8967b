package httpapi

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// Members keeps contributors' accounts (members), their passkeys, OpenID
// identities and signed-in sessions; *store.Store implements it.
type Members interface {
	CreateMember(ctx context.Context, m rlhf.Member) error
	Member(ctx context.Context, id string) (*rlhf.Member, error)
	MemberOf(ctx context.Context, contributor string) (string, error)
	LinkContributor(ctx context.Context, member, contributor string, at time.Time) error
	AddPasskey(ctx context.Context, p rlhf.Passkey) error
	Passkeys(ctx context.Context, member string) ([]rlhf.Passkey, error)
	UsePasskey(ctx context.Context, id, data []byte, at time.Time) error
	MemberByIdentity(ctx context.Context, issuer, subject string) (string, error)
	AddIdentity(ctx context.Context, issuer, subject, member string, at time.Time) error
	CreateSession(ctx context.Context, s rlhf.MemberSession) error
	Session(ctx context.Context, id string) (*rlhf.MemberSession, error) // nil when there is none
	RevokeSessions(ctx context.Context, member, id string, at time.Time) (int64, error)
}

// who is the contributor a request or connection speaks for and, when
// signed in, the member and session.
type who struct {
	contributor string
	member      string
	session     string
	memberSince time.Time // the member's creation: account-age limits count from it
}

// checkToken checks a contributor token, and for a signed-in one that its
// session is live and its member votes as its contributor. An anonymous
// token of a contributor id that now belongs to a member no longer
// counts: that id is the member's, to use signed in. renew is the token
// to hand back when the client should get a new one.
func (s *Server) checkToken(ctx context.Context, token string) (w who, renew string, err error) {
	t, err := s.cfg.Identity.CheckToken(token)
	if err != nil {
		return who{}, "", err
	}
	w.contributor = t.Contributor
	switch m := s.cfg.Members; {
	case m == nil && t.Session != "":
		return who{}, "", ErrTokenInvalid // no store to check sessions in
	case m == nil:
	case t.Session != "":
		se, err := m.Session(ctx, t.Session)
		if err != nil {
			return who{}, "", err
		}
		if se == nil || !se.RevokedAt.IsZero() {
			return who{}, "", ErrTokenRevoked
		}
		mem, err := m.Member(ctx, se.Member)
		if err != nil {
			return who{}, "", err
		}
		if mem.Contributor != t.Contributor {
			return who{}, "", ErrTokenInvalid
		}
		w.member, w.session, w.memberSince = mem.ID, se.ID, mem.CreatedAt
	default:
		owner, err := m.MemberOf(ctx, t.Contributor)
		if err != nil {
			return who{}, "", err
		}
		if owner != "" {
			return who{}, "", ErrSignInAgain
		}
	}
	return w, s.cfg.Identity.renewed(t), nil
}

// requestToken returns the contributor token a request brings: its bearer
// token, else the page's cookie.
func requestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	if ck, err := r.Cookie(tokenCookie); err == nil {
		return ck.Value
	}
	return ""
}

// setTokenCookie gives the page its contributor token.
func (s *Server) setTokenCookie(c *gin.Context, token string) {
	http.SetCookie(c.Writer, s.tokenCookie(c.Request, token))
}

// tokenCookie is the page's cookie holding token.
func (s *Server) tokenCookie(r *http.Request, token string) *http.Cookie {
	return &http.Cookie{
		Name: tokenCookie, Value: token, Path: "/", MaxAge: int(s.cfg.Identity.ttl().Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.TrustedProxies.scheme(r) == "https",
	}
}

// caller returns who the request speaks for; an anonymous contributor
// with no or a bad token has no contributor id.
func (s *Server) requester(c *gin.Context) who {
	token := requestToken(c.Request)
	if token == "" {
		return who{}
	}
	w, _, err := s.checkToken(c.Request.Context(), token)
	if err != nil {
		return who{}
	}
	return w
}

// sameOrigin refuses a browser request sent from another site's page, so
// that no page can sign a visitor in or out behind their back.
func (s *Server) sameOrigin(c *gin.Context) error {
	if c.Request.Header.Get("Origin") != "" && !s.checkOrigin(c.Request) {
		return rlhf.Errorf(rlhf.EForbidden, "cross-origin requests cannot change who you are signed in as")
	}
	return nil
}

// signedIn is the answer to every sign-in: the member, the contributor id
// it votes as, and the new token (also set as the page's cookie).
type signedIn struct {
	Member        rlhf.Member `json:"member"`
	ContributorID string      `json:"contributor_id"`
	Token         string      `json:"token"`
}

// signIn starts a session of member m for the request's client: the
// client's anonymous contributor id, if it has one that belongs to no one,
// is linked to m (its history stays under that id and is listed as m's),
// and the client gets a signed-in token for m's own contributor id, the
// same on every device.
func (s *Server) signIn(c *gin.Context, m *rlhf.Member) (*signedIn, error) {
	ctx, now := c.Request.Context(), s.cfg.Identity.now()
	if w := s.requester(c); w.contributor != "" && w.member == "" && w.contributor != m.Contributor {
		if err := s.cfg.Members.LinkContributor(ctx, m.ID, w.contributor, now); err != nil {
			return nil, err
		}
	}
	se := rlhf.MemberSession{ID: newSessionID(), Member: m.ID, CreatedAt: now}
	if err := s.cfg.Members.CreateSession(ctx, se); err != nil {
		return nil, err
	}
	m, err := s.cfg.Members.Member(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	token := s.cfg.Identity.IssueSession(m.Contributor, se.ID)
	s.setTokenCookie(c, token)
	s.log.Info("contributor signed in", "member", m.ID, "contributor", m.Contributor)
	return &signedIn{Member: *m, ContributorID: m.Contributor, Token: token}, nil
}

// newMember creates a member named name for the request's client: it
// votes as the client's anonymous contributor id, so that the client's
// history carries over, or as a fresh id when the client has none free.
func (s *Server) newMember(c *gin.Context, id, name string) (*rlhf.Member, error) {
	contributor := ""
	if w := s.requester(c); w.contributor != "" && w.member == "" {
		contributor = w.contributor
	}
	if contributor == "" {
		contributor, _ = s.cfg.Identity.New()
	}
	if name == "" {
		name = "contributor " + id[2:10]
	}
	m := rlhf.Member{ID: id, Contributor: contributor, Name: name, CreatedAt: s.cfg.Identity.now()}
	if err := s.cfg.Members.CreateMember(c.Request.Context(), m); err != nil {
		return nil, err
	}
	s.log.Info("contributor account created", "member", m.ID, "contributor", m.Contributor)
	return &m, nil
}

// newMemberID returns a fresh member id; it is also the user handle of
// the member's passkeys.
func newMemberID() string {
	var b [12]byte
	rand.Read(b[:])
	return "m_" + hex.EncodeToString(b[:])
}

// accountState is GET /api/v1/account: who the client is, and how it may
// sign in.
type accountState struct {
	ContributorID  string       `json:"contributor_id,omitempty"`
	SignedIn       bool         `json:"signed_in"`
	Member         *rlhf.Member `json:"member,omitempty"`
	Passkeys       bool         `json:"passkeys"`         // passkey sign-up and sign-in are on
	OpenID         string       `json:"openid,omitempty"` // the OpenID Connect issuer's label, when configured
	RequireAccount bool         `json:"require_account"`  // battles need a signed-in contributor
}

func (s *Server) handleAccount(c *gin.Context) error {
	st := accountState{Passkeys: s.cfg.Members != nil && s.cfg.Passkeys != nil, RequireAccount: s.cfg.RequireAccount}
	if s.cfg.Members != nil && s.cfg.OpenID != nil {
		st.OpenID = s.cfg.OpenIDName
	}
	w := s.requester(c)
	st.ContributorID = w.contributor
	if w.member != "" {
		m, err := s.cfg.Members.Member(c.Request.Context(), w.member)
		if err != nil {
			return err
		}
		st.SignedIn, st.Member = true, m
	}
	c.JSON(http.StatusOK, st)
	return nil
}

// handleSignOut revokes the client's session and gives it a fresh
// anonymous identity. A client not signed in is answered signed_out false.
func (s *Server) handleSignOut(c *gin.Context) error {
	if err := s.sameOrigin(c); err != nil {
		return err
	}
	w := s.requester(c)
	if w.session == "" {
		c.JSON(http.StatusOK, signedOut{ContributorID: w.contributor})
		return nil
	}
	if _, err := s.cfg.Members.RevokeSessions(c.Request.Context(), w.member, w.session, s.cfg.Identity.now()); err != nil {
		return err
	}
	out := signedOut{SignedOut: true}
	out.ContributorID, out.Token = s.cfg.Identity.New()
	s.setTokenCookie(c, out.Token)
	c.JSON(http.StatusOK, out)
	return nil
}

// signedOut is the answer to a sign-out: the new anonymous identity.
type signedOut struct {
	SignedOut     bool   `json:"signed_out"`
	ContributorID string `json:"contributor_id,omitempty"`
	Token         string `json:"token,omitempty"`
}

// handleMemberGet shows a member to the admin.
func handleMemberGet(members Members) handler {
	return func(c *gin.Context) error {
		m, err := members.Member(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"member": m})
		return nil
	}
}

// handleRevokeMemberSessions signs a member out everywhere (admin).
func handleRevokeMemberSessions(members Members, now func() time.Time, log *slog.Logger) handler {
	return func(c *gin.Context) error {
		id := c.Param("id")
		if _, err := members.Member(c.Request.Context(), id); err != nil {
			return err
		}
		n, err := members.RevokeSessions(c.Request.Context(), id, "", now())
		if err != nil {
			return err
		}
		log.Info("admin revoked a member's sessions", "member", id, "sessions", n)
		c.JSON(http.StatusOK, gin.H{"member": id, "revoked": n})
		return nil
	}
}

// identify returns who the websocket request's token proves, or a fresh
// anonymous identity when it brings none. A token that is altered,
// expired or revoked also gets a fresh identity, and problem (an
// unauthorized error) says why, so that the client is told before its
// hello; any other problem means the store could not be asked. A valid
// token near its expiry is renewed.
func (s *Server) identify(r *http.Request) (w who, token string, problem error) {
	token = r.URL.Query().Get("token")
	if t := requestToken(r); t != "" {
		token = t
	}
	if token != "" {
		w, renew, err := s.checkToken(r.Context(), token)
		if err == nil {
			return w, cmp.Or(renew, token), nil
		}
		if rlhf.ErrorCode(err) != rlhf.EUnauthorized {
			return who{}, "", err
		}
		problem = err
	}
	w.contributor, token = s.cfg.Identity.New()
	return w, token, problem
}

// errAccountRequired answers battles from a contributor not signed in
// when the arena requires accounts.
var errAccountRequired = rlhf.Errorf(rlhf.EAccountRequired,
	"this arena takes battles only from signed-in contributors: sign in on the arena's page (GET /api/v1/account lists the ways), then reconnect")

// needAccount refuses a request of a client not signed in, when the
// arena requires accounts.
func (cl *client) needAccount() error {
	if cl.s.cfg.RequireAccount && cl.member == "" {
		return errAccountRequired
	}
	return nil
}
