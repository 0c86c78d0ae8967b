package web

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
// still honoured and exchanged for a v2 token (see Check).
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
// fails with ErrTokenInvalid or ErrTokenExpired.
func (id *Identity) Check(token string) (contributor string, renew bool, err error) {
	parts := strings.Split(token, ".")
	switch {
	case len(parts) == 3 && parts[0] == "v1" && len(parts[1]) <= 64:
		if !hmac.Equal([]byte(id.mac("agora contributor v1\x00"+parts[1])), []byte(parts[2])) {
			return "", false, ErrTokenInvalid
		}
		return parts[1], true, nil
	case len(parts) == 4 && parts[0] == "v2" && len(parts[1]) <= 64 && len(parts[2]) <= 20:
		if !hmac.Equal([]byte(id.mac("agora contributor v2\x00"+parts[1]+"\x00"+parts[2])), []byte(parts[3])) {
			return "", false, ErrTokenInvalid
		}
		exp, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			return "", false, ErrTokenInvalid
		}
		left := time.Unix(exp, 0).Sub(id.now())
		if left <= 0 {
			return "", false, ErrTokenExpired
		}
		return parts[1], left < id.ttl()/2, nil
	}
	return "", false, ErrTokenInvalid
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
