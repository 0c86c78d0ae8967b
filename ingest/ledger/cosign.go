package ledger

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-rlhf/agora/rlhf"
)

// cosigners counts the configured witnesses that have signed c's note
// (the signatures were checked when the note was opened or merged).
func (l *Log) cosigners(c *Checkpoint) int {
	n, err := note.Open(c.Note, l.verifiers)
	if err != nil {
		return 0
	}
	count := 0
	for _, s := range n.Sigs {
		if l.witnesses[nameHash(s.Name, s.Hash)] {
			count++
		}
	}
	return count
}

// AddCosignature takes a checkpoint note that a witness has cosigned: the
// text of one of the log's recent checkpoints, with the witness's
// signature. Signatures of keys that are not configured witnesses are
// dropped. It returns how many witnesses have cosigned that checkpoint.
func (l *Log) AddCosignature(ctx context.Context, msg []byte) (int, error) {
	n, err := note.Open(msg, l.verifiers)
	if err != nil {
		return 0, rlhf.Errorf(rlhf.EInvalid, "cosigned checkpoint: %v", err)
	}
	l.cosign.Lock()
	defer l.cosign.Unlock()
	l.mu.Lock()
	var c *Checkpoint
	for i := len(l.recent) - 1; i >= 0; i-- {
		if t := l.recent[i].Note; len(t) > len(n.Text) && string(t[:len(n.Text)]) == n.Text && t[len(n.Text)] == '\n' {
			c = l.recent[i]
			break
		}
	}
	l.mu.Unlock()
	if c == nil {
		return 0, rlhf.Errorf(rlhf.ENotFound, "no recent checkpoint has that text")
	}
	have, err := note.Open(c.Note, l.verifiers)
	if err != nil {
		return 0, fmt.Errorf("open a stored checkpoint: %w", err)
	}
	sigs := have.Sigs
	for _, s := range n.Sigs {
		if l.witnesses[nameHash(s.Name, s.Hash)] {
			sigs = append(sigs, s)
		}
	}
	merged, err := note.Sign(&note.Note{Text: have.Text, Sigs: dedupe(sigs)})
	if err != nil {
		return 0, fmt.Errorf("merge cosignatures: %w", err)
	}
	if err := l.cfg.Store.Cosigned(ctx, c.Size, merged); err != nil {
		return 0, fmt.Errorf("keep cosignatures: %w", err)
	}
	// Checkpoints handed out are never changed: the cosigned one replaces
	// the old.
	cosigned := *c
	cosigned.Note = merged
	count := l.cosigners(&cosigned)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.recent {
		if l.recent[i] == c {
			l.recent[i] = &cosigned
		}
	}
	if l.final == c || count >= l.cfg.Quorum && (l.final == nil || c.Size >= l.final.Size) {
		l.final = &cosigned
	}
	return count, nil
}

// dedupe drops repeated signatures by one key, keeping the first.
func dedupe(sigs []note.Signature) []note.Signature {
	seen := map[string]bool{}
	var out []note.Signature
	for _, s := range sigs {
		if k := nameHash(s.Name, s.Hash); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
