package clickhouse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// pseudonyms turns contributor ids into what the contributor_id columns
// hold: the pseudonym an export under the same key writes (the first 16
// bytes of HMAC-SHA-256(key, id), in hex; formats.Pseudonym), remembered
// for the batch. A nil *pseudonyms, for a configuration that opts out,
// leaves ids as they are.
type pseudonyms struct {
	mac  hash.Hash
	sum  []byte
	memo map[string]string
}

// pseudonyms returns the pseudonyms of one batch, or nil without a key.
func (c *Client) pseudonyms() *pseudonyms {
	if len(c.cfg.ContributorKey) == 0 {
		return nil
	}
	return &pseudonyms{mac: hmac.New(sha256.New, c.cfg.ContributorKey), memo: map[string]string{}}
}

// of returns the pseudonym of id.
func (p *pseudonyms) of(id string) string {
	if p == nil || id == "" {
		return id
	}
	if s, ok := p.memo[id]; ok {
		return s
	}
	p.mac.Reset()
	p.mac.Write([]byte(id))
	p.sum = p.mac.Sum(p.sum[:0])
	s := hex.EncodeToString(p.sum[:16])
	p.memo[id] = s
	return s
}
