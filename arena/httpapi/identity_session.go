package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Problems with a signed-in token, answered before a fresh identity.
var (
	ErrTokenRevoked = rlhf.Errorf(rlhf.EUnauthorized, "you were signed out (the token was revoked); you are a new contributor from now on, sign in again to vote as your account")
	ErrSignInAgain  = rlhf.Errorf(rlhf.EUnauthorized, "this contributor id belongs to an account now; sign in to use it (you are a new contributor from now on)")
)

// IssueSession returns a new signed-in token (v3) for contributor in
// member session, valid for TTL unless the session is revoked.
func (id *Identity) IssueSession(contributor, session string) string {
	exp := strconv.FormatInt(id.now().Add(id.ttl()).Unix(), 10)
	return "v3." + contributor + "." + exp + "." + session + "." + id.mac(sessionMsg(contributor, exp, session))
}

func sessionMsg(contributor, exp, session string) string {
	return "agora contributor v3\x00" + contributor + "\x00" + exp + "\x00" + session
}

// renewed returns the token to give a client that proved t: a fresh one
// when t asks for renewal, "" otherwise.
func (id *Identity) renewed(t Token) string {
	switch {
	case !t.Renew:
		return ""
	case t.Session != "":
		return id.IssueSession(t.Contributor, t.Session)
	}
	return id.Issue(t.Contributor)
}

// newSessionID returns a fresh session id.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return "s_" + hex.EncodeToString(b[:])
}

// seal returns v as JSON, with an expiry and a MAC for purpose: state that
// the client keeps between two requests and cannot change (it can read
// it). Ceremonies and sign-in flows keep their challenge this way.
func (id *Identity) seal(purpose string, v any, ttl time.Duration) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	body := base64.RawURLEncoding.EncodeToString(data) + "." + strconv.FormatInt(id.now().Add(ttl).Unix(), 10)
	return body + "." + id.mac("agora sealed\x00"+purpose+"\x00"+body), nil
}

// errSealed is sealed state that is missing, altered or too old.
var errSealed = rlhf.Errorf(rlhf.EInvalid, "the sign-in has expired or was started in another browser; start again")

// open checks sealed state from seal for purpose and decodes it into v.
func (id *Identity) open(purpose, sealed string, v any) error {
	i := strings.LastIndexByte(sealed, '.')
	if i < 0 || !hmac.Equal([]byte(id.mac("agora sealed\x00"+purpose+"\x00"+sealed[:i])), []byte(sealed[i+1:])) {
		return errSealed
	}
	data, exp, ok := strings.Cut(sealed[:i], ".")
	e, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !time.Unix(e, 0).After(id.now()) {
		return errSealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || json.Unmarshal(raw, v) != nil {
		return errSealed
	}
	return nil
}
