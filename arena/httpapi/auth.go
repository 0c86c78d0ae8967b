package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// Role is one kind of caller, and a set of roles is what a route admits.
//
// Contributors are anonymous: anyone is one (the websocket hands out a
// contributor identity), so a route open to contributors is open to all.
// Labs and researchers have accounts, created by the admin, and send
// their account's API token; the admin sends the operator's admin token.
type Role uint8

// The roles.
const (
	RoleContributor Role = 1 << iota
	RoleResearcher
	RoleLab
	RoleAdmin
	RoleMetrics // the monitoring system's scraper: /metrics only
)

// Sets of roles that routes admit.
const (
	Anyone            = RoleContributor | RoleResearcher | RoleLab | RoleAdmin
	LabOrAdmin        = RoleLab | RoleAdmin
	ResearcherOrAdmin = RoleResearcher | RoleAdmin
	AdminOnly         = RoleAdmin
	MetricsOrAdmin    = RoleMetrics | RoleAdmin
)

var roleNames = []struct {
	r    Role
	name string
}{{RoleContributor, "contributor"}, {RoleResearcher, "researcher"}, {RoleLab, "lab"}, {RoleAdmin, "admin"}, {RoleMetrics, "metrics"}}

// Names returns the names of the roles in r, in a fixed order.
func (r Role) Names() []string {
	var out []string
	for _, rn := range roleNames {
		if r&rn.r != 0 {
			out = append(out, rn.name)
		}
	}
	return out
}

func (r Role) String() string { return strings.Join(r.Names(), "|") }

// Accounts keeps lab and researcher accounts and their API tokens (as
// hashes); *store.Store implements it.
type Accounts interface {
	CreateAccount(ctx context.Context, a *rlhf.Account) error
	Account(ctx context.Context, id string) (*rlhf.Account, error)
	Accounts(ctx context.Context, kind rlhf.AccountKind) ([]rlhf.Account, error)
	AddToken(ctx context.Context, id, hash string, at time.Time) error
	AccountByToken(ctx context.Context, hash string) (*rlhf.Account, error)
	DisableAccount(ctx context.Context, id string) error
	RevokeTokens(ctx context.Context, id string) (int64, error)
}

// principal is who made a request: one role and, for labs and
// researchers with an account, the account.
type principal struct {
	role    Role
	account *rlhf.Account // nil for the admin, contributors and the configured researcher token
}

// lab returns the lab whose things the principal may see: its account id,
// or "" (everything) for the admin.
func (p *principal) lab() string {
	if p.role == RoleLab && p.account != nil {
		return p.account.ID
	}
	return ""
}

const principalKey = "agora.principal"

// tokenPrefix starts every account API token, so that they are easy to
// recognize (by people and by secret scanners) and never mistaken for a
// contributor token.
const tokenPrefix = "agora_"

// newToken returns a fresh API token and the hash that is stored for it.
// Tokens are 32 random bytes, so a plain SHA-256 is enough to keep them:
// there is nothing to guess.
func newToken() (token, hash string) {
	var b [32]byte
	rand.Read(b[:])
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// authorize admits a request to a route open to access, or answers 401
// (no or unknown credentials) or 403 (a role the route does not admit).
// Routes open to contributors are open to all and look at no token.
func (s *Server) authorize(access Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if access&RoleContributor != 0 {
			c.Next()
			return
		}
		p, err := s.principal(c.Request)
		if err == nil && p.role&access == 0 {
			err = rlhf.Errorf(rlhf.EForbidden, "this needs the %s role", strings.Join(access.Names(), " or "))
		}
		if err != nil {
			s.writeError(c, err)
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

// errNoToken is the answer to a request without usable credentials.
var errNoToken = rlhf.Errorf(rlhf.EUnauthorized, "an API token is required (Authorization: Bearer TOKEN)")

// principal works out who sent r from its bearer token.
func (s *Server) principal(r *http.Request) (*principal, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, errNoToken
	}
	if equalToken(token, s.cfg.AdminToken) {
		return &principal{role: RoleAdmin}, nil
	}
	if equalToken(token, s.cfg.ResearcherToken) {
		return &principal{role: RoleResearcher}, nil
	}
	if equalToken(token, s.cfg.MetricsToken) {
		return &principal{role: RoleMetrics}, nil
	}
	if !strings.HasPrefix(token, tokenPrefix) || s.cfg.Accounts == nil {
		return nil, errNoToken
	}
	a, err := s.cfg.Accounts.AccountByToken(r.Context(), hashToken(token))
	if rlhf.ErrorCode(err) == rlhf.EUnauthorized {
		return nil, errNoToken
	}
	if err != nil {
		return nil, err
	}
	switch a.Kind {
	case rlhf.KindLab:
		return &principal{role: RoleLab, account: a}, nil
	case rlhf.KindResearcher:
		return &principal{role: RoleResearcher, account: a}, nil
	}
	return nil, errNoToken
}

// equalToken reports whether got is the configured token want; an unset
// token matches nothing.
func equalToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// caller returns the principal that authorize admitted.
func caller(c *gin.Context) *principal {
	if v, ok := c.Get(principalKey); ok {
		return v.(*principal)
	}
	return &principal{role: RoleContributor}
}
