package ledger

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a signed statement of the log's size and root hash (C2SP
// tlog-checkpoint): the origin line, the size in decimal, the root hash
// in base64, then an extension line with the time it was made.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
	Time   time.Time
	Note   []byte // the signed note, with any cosignatures
}

// Tree returns the checkpoint's tree, for tlog's proofs.
func (c *Checkpoint) Tree() tlog.Tree { return tlog.Tree{N: c.Size, Hash: c.Root} }

// checkpointText formats a checkpoint's body.
func checkpointText(origin string, size int64, root Hash, at time.Time) string {
	return fmt.Sprintf("%s\n%d\n%s\ntime %s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]), at.UTC().Format(time.RFC3339))
}

// ParseCheckpoint reads the body of a checkpoint note.
func ParseCheckpoint(text string) (*Checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return nil, fmt.Errorf("malformed checkpoint: want origin, size and root hash lines")
	}
	c := &Checkpoint{Origin: lines[0]}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return nil, fmt.Errorf("malformed checkpoint: size %q", lines[1])
	}
	c.Size = n
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != len(c.Root) {
		return nil, fmt.Errorf("malformed checkpoint: root hash %q", lines[2])
	}
	copy(c.Root[:], root)
	for _, ext := range lines[3 : len(lines)-1] {
		if v, ok := strings.CutPrefix(ext, "time "); ok {
			if c.Time, err = time.Parse(time.RFC3339, v); err != nil {
				return nil, fmt.Errorf("malformed checkpoint: time %q", v)
			}
		}
	}
	if c.Origin == "" {
		return nil, fmt.Errorf("malformed checkpoint: no origin")
	}
	return c, nil
}

// OpenCheckpoint verifies a signed checkpoint note with the log's
// verifier key and reads it. Signatures of other keys (witnesses') are
// kept in the note but not checked here.
func OpenCheckpoint(msg []byte, logKey string) (*Checkpoint, *note.Note, error) {
	v, err := note.NewVerifier(logKey)
	if err != nil {
		return nil, nil, fmt.Errorf("log key %q: %w", logKey, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return nil, nil, err
	}
	if c.Origin != v.Name() {
		return nil, nil, fmt.Errorf("checkpoint is for log %q, but the key is %q's", c.Origin, v.Name())
	}
	c.Note = msg
	return c, n, nil
}
