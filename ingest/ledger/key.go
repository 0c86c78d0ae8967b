package ledger

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Key is an ed25519 signing key in the note format, kept in a file of the
// data directory. Its name is the log's origin (or the witness's name).
type Key struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string // the verifier key, "name+hash+base64": what others trust
	skey     string
}

// LoadKey reads the signing key in file, or makes one named name (when
// name is empty, "agora-" and eight random hex digits) and keeps it there.
// A key whose name differs from a non-empty name is an error: the name is
// part of every signature already made.
func LoadKey(file, name string) (*Key, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return newKey(file, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read the signing key: %w", err)
	}
	k, err := parseKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", file, err)
	}
	if name != "" && k.Name() != name {
		return nil, fmt.Errorf("signing key %s is named %q, not %q: the name cannot change once the key signs", file, k.Name(), name)
	}
	return k, nil
}

func newKey(file, name string) (*Key, error) {
	if name == "" {
		var b [4]byte
		rand.Read(b[:])
		name = "agora-" + hex.EncodeToString(b[:])
	}
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, fmt.Errorf("make a signing key named %q: %w", name, err)
	}
	k, err := parseKey(skey)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, fmt.Errorf("keep the signing key: %w", err)
	}
	if err := os.WriteFile(file, []byte(skey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep the signing key: %w", err)
	}
	return k, nil
}

// parseKey reads a note private key ("PRIVATE+KEY+name+hash+base64").
func parseKey(skey string) (*Key, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("not a note signing key: %w", err)
	}
	// The verifier key is the private key's name, hash and the public half.
	vkey, err := verifierKey(signer, skey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Key{signer: signer, verifier: verifier, vkey: vkey, skey: skey}, nil
}

// Name returns the key's name: the log's origin.
func (k *Key) Name() string { return k.signer.Name() }

// VerifierKey returns the public key in the note format, name+hash+base64.
func (k *Key) VerifierKey() string { return k.vkey }

// Sign signs text as a note.
func (k *Key) Sign(text string) ([]byte, error) {
	return note.Sign(&note.Note{Text: text}, k.signer)
}

// PseudonymKey returns the key of the contributor pseudonyms in the log's
// records: derived from the signing key, so it lasts as long as the log.
func (k *Key) PseudonymKey() []byte {
	m := hmac.New(sha256.New, []byte(k.skey))
	m.Write([]byte("agora ledger pseudonyms"))
	return m.Sum(nil)
}

// verifierKey derives the verifier key of a note private key.
func verifierKey(signer note.Signer, skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("malformed signing key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("signing key is not an ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(signer.Name(), pub)
}

// Cosign adds k's signature to msg, a note signed by the key logKey (a
// verifier key), keeping the signatures it has.
func (k *Key) Cosign(msg []byte, logKey string) ([]byte, error) {
	v, err := note.NewVerifier(logKey)
	if err != nil {
		return nil, fmt.Errorf("log key %q: %w", logKey, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("open the note to cosign: %w", err)
	}
	return note.Sign(n, k.signer)
}
