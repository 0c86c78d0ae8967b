package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// PoWConfig sets the proof of work that minting an anonymous identity
// costs (docs/protocol.md, "Proof of work"). Bits is the number of
// leading zero bits of SHA-256(challenge + ":" + counter) a solution
// needs; 0 turns the work off. TTL is how long a challenge stays valid
// (zero: 5 minutes).
type PoWConfig struct {
	Bits int
	TTL  time.Duration
	Now  func() time.Time // nil means time.Now
	// Key signs challenges: a key kept across restarts (cmd/agora derives
	// it from the server's secret) lets a challenge outlive the process
	// that issued it. Nil means a random key made at start, so that a
	// restart voids every unused challenge.
	Key []byte
	// Spent remembers redeemed challenges, so that each redeems once even
	// across restarts; nil keeps them in memory (enough with a random Key).
	Spent PoWSpent
}

// PoWSpent keeps the nonces of redeemed challenges until they expire;
// *store.Store implements it.
type PoWSpent interface {
	// SpendPoW records a challenge's nonce as redeemed and reports
	// whether it was not redeemed before.
	SpendPoW(ctx context.Context, nonce []byte, expires time.Time) (fresh bool, err error)
}

// MaxPoWBits is the most work a configuration may ask: 2^32 hashes
// expected, hours in a browser.
const MaxPoWBits = 32

// powIssuer issues HMAC-signed, expiring challenges and redeems each
// solution once.
type powIssuer struct {
	cfg PoWConfig
	key []byte

	mu   sync.Mutex           // guards used
	used map[string]time.Time // redeemed challenges' nonces, until they expire
}

func newPoWIssuer(cfg PoWConfig) *powIssuer {
	if cfg.Bits <= 0 {
		return nil
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key := cfg.Key
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	return &powIssuer{cfg: cfg, key: key, used: map[string]time.Time{}}
}

// Challenge is the answer of GET /api/v1/arena/challenge. Bits 0 (and no
// challenge) means the caller needs no work: the server asks none, or the
// request carries a valid contributor token.
type Challenge struct {
	Challenge string    `json:"challenge,omitempty"`
	Bits      int       `json:"bits"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// issue returns a new challenge: base64url(nonce ‖ expiry ‖ bits) "."
// base64url(HMAC-SHA-256 of that, first 16 bytes).
func (p *powIssuer) issue() Challenge {
	exp := p.cfg.Now().Add(p.cfg.TTL).Truncate(time.Second)
	payload := make([]byte, 16+8+1)
	rand.Read(payload[:16])
	binary.BigEndian.PutUint64(payload[16:24], uint64(exp.Unix()))
	payload[24] = byte(p.cfg.Bits)
	enc := base64.RawURLEncoding
	return Challenge{Challenge: enc.EncodeToString(payload) + "." + enc.EncodeToString(p.mac(payload)), Bits: p.cfg.Bits, ExpiresAt: exp}
}

func (p *powIssuer) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write(payload)
	return m.Sum(nil)[:16]
}

var errPoWRequired = rlhf.Errorf(rlhf.EForbidden, "a new identity needs proof of work: GET /api/v1/arena/challenge, solve it, and connect with ?pow=CHALLENGE:COUNTER (docs/protocol.md)")

// redeem checks a solution "CHALLENGE:COUNTER": this server's signature,
// not expired, enough work, and not redeemed before.
func (p *powIssuer) redeem(ctx context.Context, solution string) error {
	if solution == "" {
		return errPoWRequired
	}
	challenge, counter, ok := strings.Cut(solution, ":")
	b64, sig, ok2 := strings.Cut(challenge, ".")
	enc := base64.RawURLEncoding
	payload, err := enc.DecodeString(b64)
	mac, err2 := enc.DecodeString(sig)
	if !ok || !ok2 || err != nil || err2 != nil || len(payload) != 25 || !hmac.Equal(mac, p.mac(payload)) {
		return rlhf.Errorf(rlhf.EForbidden, "the proof of work's challenge is not one this server issued")
	}
	if _, err := strconv.ParseUint(counter, 10, 64); err != nil {
		return rlhf.Errorf(rlhf.EForbidden, "the proof of work's counter must be a decimal number")
	}
	now := p.cfg.Now()
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload[16:24])), 0)
	if now.After(exp) {
		return rlhf.Errorf(rlhf.EForbidden, "the proof of work's challenge expired; get a new one")
	}
	if LeadingZeroBits(challenge, counter) < int(payload[24]) {
		return rlhf.Errorf(rlhf.EForbidden, "the proof of work does not solve the challenge")
	}
	return p.spend(ctx, payload[:16], exp, now)
}

var errPoWUsed = rlhf.Errorf(rlhf.EForbidden, "this proof of work was used already; get a new challenge")

// spend marks a challenge's nonce redeemed, in p.cfg.Spent if set, else
// in memory; it fails if the nonce was redeemed before.
func (p *powIssuer) spend(ctx context.Context, nonceBytes []byte, exp, now time.Time) error {
	if p.cfg.Spent != nil {
		fresh, err := p.cfg.Spent.SpendPoW(ctx, nonceBytes, exp)
		if err != nil {
			return fmt.Errorf("redeem a proof of work: %w", err)
		}
		if !fresh {
			return errPoWUsed
		}
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	nonce := string(nonceBytes)
	if _, dup := p.used[nonce]; dup {
		return errPoWUsed
	}
	if len(p.used) >= 1024 {
		for n, e := range p.used {
			if now.After(e) {
				delete(p.used, n)
			}
		}
	}
	p.used[nonce] = exp
	return nil
}

// LeadingZeroBits returns the leading zero bits of
// SHA-256(challenge + ":" + counter): the work a solution shows.
func LeadingZeroBits(challenge, counter string) int {
	sum := sha256.Sum256([]byte(challenge + ":" + counter))
	return zeroBits(sum[:])
}

// SolveChallenge finds the first counter whose hash has bits leading zero
// bits and returns the solution "CHALLENGE:COUNTER", the reference solver
// for clients (docs/protocol.md); it gives up after maxTries counters.
func SolveChallenge(challenge string, bits int, maxTries uint64) (string, error) {
	buf := []byte(challenge + ":")
	prefix := len(buf)
	for i := range maxTries {
		buf = strconv.AppendUint(buf[:prefix], i, 10)
		sum := sha256.Sum256(buf)
		if zeroBits(sum[:]) >= bits {
			return string(buf), nil
		}
	}
	return "", rlhf.Errorf(rlhf.ELimit, "no solution in %d tries", maxTries)
}

func zeroBits(sum []byte) int {
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// handleChallenge returns a challenge to solve before connecting as a new
// identity: GET /api/v1/arena/challenge.
func (s *Server) handleChallenge(c *gin.Context) error {
	c.Header("Cache-Control", "no-store")
	if s.pow == nil || s.validToken(c.Request) {
		c.JSON(http.StatusOK, Challenge{})
		return nil
	}
	c.JSON(http.StatusOK, s.pow.issue())
	return nil
}

// validToken reports whether r brings a contributor token that checks
// (query, bearer header or the page's cookie, as identify reads them).
func (s *Server) validToken(r *http.Request) bool {
	token := r.URL.Query().Get("token")
	if t := requestToken(r); t != "" {
		token = t
	}
	if token == "" {
		return false
	}
	_, _, err := s.checkToken(r.Context(), token)
	return err == nil
}

// proveWork redeems the ?pow= solution a websocket request without a
// valid token must bring when the server asks work; true means the
// connection mints an identity earned by work, whose token the upgrade
// answer sets as the page's cookie.
func (s *Server) proveWork(r *http.Request) (bool, error) {
	if s.pow == nil || s.validToken(r) {
		return false, nil
	}
	if err := s.pow.redeem(r.Context(), r.URL.Query().Get("pow")); err != nil {
		return false, err
	}
	return true, nil
}
