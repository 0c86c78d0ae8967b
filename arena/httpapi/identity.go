package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// DefaultTokenTTL is how long a contributor token lasts unless configured.
const DefaultTokenTTL = 30 * 24 * time.Hour

// Identity issues and checks contributor tokens: an anonymous contributor
// id and an expiry, signed with a server key, so that a client can prove
// which contributor it is without any account.
//
// Tokens look like v2.CONTRIBUTOR.EXPIRY.MAC (EXPIRY in Unix seconds).
// Tokens of the first format, v1.CONTRIBUTOR.MAC, had no expiry; they are
// still honoured and exchanged for a v2 token (see Check). A signed-in
// contributor's token, v3.CONTRIBUTOR.EXPIRY.SESSION.MAC, also names the
// member's session, so that signing out revokes it (identity_session.go).
type Identity struct {
	// TTL is how long a new token lasts (default DefaultTokenTTL). A
	// token used after half its life is renewed.
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	key []byte
}

// Token problems, answered to the client before it gets a new identity.
var (
	ErrTokenInvalid = rlhf.Errorf(rlhf.EUnauthorized, "the contributor token is not valid (altered, or from another server); you are a new contributor from now on")
	ErrTokenExpired = rlhf.Errorf(rlhf.EUnauthorized, "the contributor token has expired; you are a new contributor from now on")
)

// NewIdentity returns an Identity that signs with key (at least 32 bytes).
func NewIdentity(key []byte) (*Identity, error) {
	if len(key) < 32 {
		return nil, errors.New("identity key must have at least 32 bytes")
	}
	return &Identity{key: key}, nil
}

// New returns a fresh contributor id and its token.
func (id *Identity) New() (contributor, token string) {
	var b [12]byte
	rand.Read(b[:])
	contributor = "c_" + hex.EncodeToString(b[:])
	return contributor, id.Issue(contributor)
}

// Issue returns a new token for contributor, valid for TTL.
func (id *Identity) Issue(contributor string) string {
	exp := strconv.FormatInt(id.now().Add(id.ttl()).Unix(), 10)
	return "v2." + contributor + "." + exp + "." + id.mac("agora contributor v2\x00"+contributor+"\x00"+exp)
}

// Verify returns the contributor id that token proves, and whether it is
// valid.
func (id *Identity) Verify(token string) (string, bool) {
	c, _, err := id.Check(token)
	return c, err == nil
}

// Check returns the contributor that token proves, and whether the client
// should get a renewed token (a v1 token, or one past half its life). It
// fails with ErrTokenInvalid or ErrTokenExpired. A signed-in token (v3)
// also names a session, which only the store can say is not revoked: the
// server checks it with CheckToken.
func (id *Identity) Check(token string) (contributor string, renew bool, err error) {
	t, err := id.CheckToken(token)
	return t.Contributor, t.Renew, err
}

// Token is what a valid contributor token proves.
type Token struct {
	Contributor string
	Session     string // a signed-in member's session (v3 tokens); "" for anonymous ones
	Renew       bool   // the client should get a new token
}

// CheckToken checks token's signature and expiry and returns what it
// proves. Tokens look like v1.CONTRIBUTOR.MAC, v2.CONTRIBUTOR.EXPIRY.MAC
// or, signed in, v3.CONTRIBUTOR.EXPIRY.SESSION.MAC.
func (id *Identity) CheckToken(token string) (Token, error) {
	parts := strings.Split(token, ".")
	switch {
	case len(parts) == 3 && parts[0] == "v1" && len(parts[1]) <= 64:
		if !hmac.Equal([]byte(id.mac("agora contributor v1\x00"+parts[1])), []byte(parts[2])) {
			return Token{}, ErrTokenInvalid
		}
		return Token{Contributor: parts[1], Renew: true}, nil
	case len(parts) == 4 && parts[0] == "v2" && len(parts[1]) <= 64 && len(parts[2]) <= 20:
		if !hmac.Equal([]byte(id.mac("agora contributor v2\x00"+parts[1]+"\x00"+parts[2])), []byte(parts[3])) {
			return Token{}, ErrTokenInvalid
		}
		return id.unexpired(Token{Contributor: parts[1]}, parts[2])
	case len(parts) == 5 && parts[0] == "v3" && len(parts[1]) <= 64 && len(parts[2]) <= 20 && len(parts[3]) <= 64:
		if !hmac.Equal([]byte(id.mac(sessionMsg(parts[1], parts[2], parts[3]))), []byte(parts[4])) {
			return Token{}, ErrTokenInvalid
		}
		return id.unexpired(Token{Contributor: parts[1], Session: parts[3]}, parts[2])
	}
	return Token{}, ErrTokenInvalid
}

// unexpired returns t if its expiry exp (Unix seconds) has not passed,
// asking for renewal past half its life.
func (id *Identity) unexpired(t Token, exp string) (Token, error) {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return Token{}, ErrTokenInvalid
	}
	left := time.Unix(e, 0).Sub(id.now())
	if left <= 0 {
		return Token{}, ErrTokenExpired
	}
	t.Renew = left < id.ttl()/2
	return t, nil
}

func (id *Identity) mac(msg string) string {
	m := hmac.New(sha256.New, id.key)
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (id *Identity) ttl() time.Duration {
	if id.TTL <= 0 {
		return DefaultTokenTTL
	}
	return id.TTL
}

func (id *Identity) now() time.Time {
	if id.Now == nil {
		return time.Now()
	}
	return id.Now()
}
