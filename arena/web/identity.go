package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// Identity issues and checks contributor tokens: an anonymous contributor
// id signed with a server key, so that a client can prove which
// contributor it is without any account.
type Identity struct {
	key []byte
}

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
	return contributor, id.sign(contributor)
}

// Verify returns the contributor id that token proves, and whether it is
// valid.
func (id *Identity) Verify(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != "v1" || len(parts[1]) > 64 {
		return "", false
	}
	if !hmac.Equal([]byte(id.sign(parts[1])), []byte(token)) {
		return "", false
	}
	return parts[1], true
}

func (id *Identity) sign(contributor string) string {
	m := hmac.New(sha256.New, id.key)
	m.Write([]byte("agora contributor v1\x00" + contributor))
	return "v1." + contributor + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
