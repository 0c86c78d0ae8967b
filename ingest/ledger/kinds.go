package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// The records of the leaves that are not votes. Each is canonical text in
// the form of a vote's record (docs/ledger.md): a first line naming the
// kind and its version, then one "key value..." line per field, in a fixed
// order. Times are UTC with milliseconds; contributors are the log's
// pseudonyms, never ids.

// Quarantine returns the record of a quarantine decision:
//
//	quarantine 1
//	contributor <pseudonym>
//	action <quarantine|lift>
//	reason <text>
//	actor <detector|admin|…>
//	time <RFC 3339, UTC, milliseconds>
func (e *Encoder) Quarantine(ev rlhf.QuarantineEvent) []byte {
	buf := []byte("quarantine 1\n")
	buf = line(buf, "contributor", e.Pseudonym(ev.Contributor))
	buf = line(buf, "action", ev.Action)
	buf = line(buf, "reason", ev.Reason)
	buf = line(buf, "actor", ev.Actor)
	return line(buf, "time", stamp(ev.At))
}

// Tombstone is an erasure: one vote, or every vote of a contributor (Vote
// empty), no longer to be used. The vote itself may be deleted from the
// store; the tombstone says why its leaf has no content any more.
type Tombstone struct {
	Vote        string // the vote's id, or "" for all of Contributor's votes
	Contributor string // the contributor's id (written as the pseudonym)
	Reason      string
	At          time.Time
}

// Tombstone returns the record of an erasure:
//
//	tombstone 1
//	vote <vote id, or ->
//	contributor <pseudonym>
//	reason <text>
//	time <RFC 3339, UTC, milliseconds>
func (e *Encoder) Tombstone(t Tombstone) []byte {
	buf := []byte("tombstone 1\n")
	buf = line(buf, "vote", orDash(t.Vote))
	buf = line(buf, "contributor", e.Pseudonym(t.Contributor))
	buf = line(buf, "reason", t.Reason)
	return line(buf, "time", stamp(t.At))
}

// PolicyRecord returns the record of a policy change: the policy's name,
// the SHA-256 (hex) of its new text, and when it takes effect:
//
//	policy 1
//	name <name>
//	text <sha256 hex>
//	time <RFC 3339, UTC, milliseconds>
func PolicyRecord(name, textHash string, at time.Time) []byte {
	buf := []byte("policy 1\n")
	buf = line(buf, "name", name)
	buf = line(buf, "text", textHash)
	return line(buf, "time", stamp(at))
}

// Pseudonym returns the log's pseudonym of a contributor id. Pseudonyms
// of recent contributors are kept: a contributor votes many times, and an
// HMAC is a good share of a vote's record.
func (e *Encoder) Pseudonym(contributor string) string {
	e.mu.Lock()
	p, ok := e.pseudonyms[contributor]
	e.mu.Unlock()
	if ok {
		return p
	}
	p = formats.Pseudonym(e.key, contributor)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pseudonyms == nil || len(e.pseudonyms) >= maxPseudonyms {
		e.pseudonyms = make(map[string]string)
	}
	e.pseudonyms[contributor] = p
	return p
}

// maxPseudonyms is how many contributors' pseudonyms an Encoder keeps.
const maxPseudonyms = 1 << 16

// Appender appends leaves that are not votes, with their records kept by
// the store: ingest/store's Store is one.
type Appender interface {
	AppendRecords(ctx context.Context, kind Kind, refs []string, records [][]byte) (int64, error)
}

// Append appends one leaf of kind about ref with record (made by the
// Encoder's or this file's functions) and returns its index.
func Append(ctx context.Context, a Appender, kind Kind, ref string, record []byte) (int64, error) {
	if kind == KindVote || kind == KindMissing {
		return 0, rlhf.Errorf(rlhf.EInvalid, "leaves of kind %q are not appended this way", kind)
	}
	n, err := a.AppendRecords(ctx, kind, []string{ref}, [][]byte{record})
	if err != nil {
		return 0, fmt.Errorf("append a %q leaf about %s: %w", kind, ref, err)
	}
	return n, nil
}

// stamp writes t as records do: RFC 3339, UTC, to the millisecond.
func stamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
