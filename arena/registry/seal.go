package registry

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts labs' API keys for storage with AES-256-GCM. Each sealed
// key is bound to its model's name (as additional data), so a sealed key
// copied to another model's row does not open.
type Sealer struct {
	aead cipher.AEAD
}

// sealVersion is the first byte of every sealed key.
const sealVersion = 1

// ParseKey reads a 32-byte key written as 64 hex digits or in base64
// (standard or URL alphabet, padded or not), as AGORA_SECRETS_KEY holds it.
// The error never repeats the key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("the key must be 32 bytes written as 64 hex digits or in base64 (try: openssl rand -hex 32)")
}

// NewSealer returns a Sealer with key, which must have 32 bytes.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealing key has %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

func additionalData(name string) []byte { return []byte("agora model api key v1\x00" + name) }

// Seal encrypts the API key of model name.
func (s *Sealer) Seal(name, key string) []byte {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(key)+s.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return s.aead.Seal(out, out[1:], []byte(key), additionalData(name))
}

// Open decrypts the sealed API key of model name. It fails when the key
// was sealed with another secrets key, or for another model.
func (s *Sealer) Open(name string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return "", errors.New("sealed key is malformed")
	}
	key, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additionalData(name))
	if err != nil {
		return "", errors.New("sealed key does not open: AGORA_SECRETS_KEY differs from the one it was sealed with")
	}
	return string(key), nil
}
