package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/agora-rlhf/agora/rlhf"
)

// Placeholders for a vote's consent scope and licence when the vote
// records none (votes stored before Agora recorded consent were signed with
// them): such a vote may be used for the leaderboard, under the licence the
// operator states for its releases.
const (
	DefaultConsent = "leaderboard"
	DefaultLicence = "operator-default"
)

// Encoder writes the canonical records of leaves (docs/ledger.md). Its key
// turns contributor ids into pseudonyms. The store also tells it which
// votes' leaves each transaction committed (Committed).
type Encoder struct {
	key       []byte
	committed func([]CommittedVote) // set by the Log that made the encoder

	mu         sync.Mutex        // guards pseudonyms
	pseudonyms map[string]string // contributor id → pseudonym, for recent ones
}

// A CommittedVote is a vote whose leaf the store has just committed.
type CommittedVote struct {
	ID    string
	Index int64
	Hash  Hash // the leaf hash
}

// Committed tells the log that one transaction committed votes' leaves:
// the Log that made e signs their receipts together, now (receipt.go). The
// store calls it after each commit, before the votes are acknowledged; it
// must not keep votes.
func (e *Encoder) Committed(votes []CommittedVote) {
	if e.committed != nil && len(votes) > 0 {
		e.committed(votes)
	}
}

// NewEncoder returns an Encoder whose pseudonyms are keyed by key.
func NewEncoder(key []byte) *Encoder { return &Encoder{key: append([]byte(nil), key...)} }

// Vote returns the record of v, the vote on battle b:
//
//	vote 1
//	id <vote id>
//	battle <battle id>
//	contributor <pseudonym>
//	models <model a> <model b>
//	winner <a|b|tie|both_bad>
//	strength <strength, or ->
//	time <the vote's time, RFC 3339 in UTC with milliseconds>
//	consent <scope>
//	licence <licence>
//	conversation <SHA-256 of both conversations, hex>
//
// Every line ends in a newline; values are written as they are when they
// are printable ASCII without spaces or quotes, and Go-quoted otherwise.
//
// A vote on a gold battle (b.Gold set) is written as "vote 2": the same
// lines, then one more that says what the battle measured, so that a
// release's shares can score it from the log alone:
//
//	gold <kind> <the right side, a or b; - when the battle is not scored>
//
// (rlhf.Record.GoldScored: a degraded side that came out whole, or a turn
// that failed, leaves the battle unscored). Votes on gold battles logged
// before this line existed are "vote 1": the store keeps, per vote, the
// gold line its leaf was written with (empty for those).
func (e *Encoder) Vote(b *rlhf.Battle, v *rlhf.Vote) []byte {
	strength := orDash(string(v.Strength))
	buf := make([]byte, 0, 512)
	if b.IsGold() {
		buf = append(buf, "vote 2\n"...)
	} else {
		buf = append(buf, "vote 1\n"...)
	}
	buf = line(buf, "id", v.ID)
	buf = line(buf, "battle", v.BattleID)
	buf = line(buf, "contributor", e.Pseudonym(v.ContributorID))
	buf = line(buf, "models", b.ModelA, b.ModelB)
	buf = line(buf, "winner", string(v.Winner))
	buf = line(buf, "strength", strength)
	buf = line(buf, "time", stamp(v.CreatedAt))
	buf = line(buf, "consent", or(string(v.Scope), DefaultConsent))
	buf = line(buf, "licence", or(v.Licence, DefaultLicence))
	buf = line(buf, "conversation", ConversationHash(b))
	if b.IsGold() {
		buf = line(buf, "gold", b.Gold, GoldSide(b))
	}
	return buf
}

// GoldSide is the right side of gold battle b as its vote's leaf says it:
// "a" or "b" when the battle is scored, "-" when it is not (its degraded
// side came out whole, or a turn failed).
func GoldSide(b *rlhf.Battle) string {
	if b.GoldWinner.Valid() && !b.Failed() {
		return string(b.GoldWinner)
	}
	return "-"
}

// Missing returns the record served for a leaf whose content the store
// has lost (a deleted vote, say): it names the leaf's kind and reference,
// and hashes to nothing in the tree.
func Missing(kind Kind, ref string) []byte {
	k := "-" // the leaf's row itself is gone
	if kind != 0 {
		k = string(rune(kind))
	}
	return line(line([]byte("missing 1\n"), "kind", k), "ref", ref)
}

// ConversationHash returns the SHA-256, in hex, of both conversations of
// b: for each turn in order, its prompt, side A's answer and side B's
// answer, each preceded by its length in bytes as 8 bytes big-endian.
func ConversationHash(b *rlhf.Battle) string {
	h := sha256.New()
	var buf [512]byte // strings go through it, so that none is copied to the heap
	put := func(s string) {
		binary.BigEndian.PutUint64(buf[:8], uint64(len(s)))
		h.Write(buf[:8])
		for len(s) > 0 {
			k := copy(buf[:], s)
			h.Write(buf[:k])
			s = s[k:]
		}
	}
	for i := range b.Turns {
		t := &b.Turns[i]
		put(t.Prompt)
		put(t.A.Content)
		put(t.B.Content)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// line appends "key v1 v2...\n".
func line(buf []byte, key string, values ...string) []byte {
	buf = append(buf, key...)
	for _, v := range values {
		buf = append(buf, ' ')
		buf = appendValue(buf, v)
	}
	return append(buf, '\n')
}

// appendValue appends v as it is when it is printable ASCII without
// spaces, quotes or backslashes, and Go-quoted otherwise.
func appendValue(buf []byte, v string) []byte {
	if v == "" {
		return append(buf, `""`...)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(buf, v)
		}
	}
	return append(buf, v...)
}

// Fields reads a record's lines as key and values, for printing. It is
// lenient: a value that does not unquote is kept as it is.
func Fields(record []byte) [][]string {
	var out [][]string
	for _, ln := range strings.Split(strings.TrimSuffix(string(record), "\n"), "\n") {
		var f []string
		rest := ln
		for rest != "" {
			var v string
			if rest[0] == '"' {
				q, err := strconv.QuotedPrefix(rest)
				if err != nil {
					f = append(f, rest)
					break
				}
				v, _ = strconv.Unquote(q)
				rest = rest[len(q):]
			} else {
				v, rest, _ = strings.Cut(rest, " ")
				f = append(f, v)
				continue
			}
			f = append(f, v)
			rest = strings.TrimPrefix(rest, " ")
		}
		out = append(out, f)
	}
	return out
}

// KindOf returns the kind of a record: its first byte.
func KindOf(record []byte) (Kind, error) {
	if len(record) == 0 {
		return 0, fmt.Errorf("empty record")
	}
	return Kind(record[0]), nil
}
