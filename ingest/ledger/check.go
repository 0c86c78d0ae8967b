package ledger

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// CheckInclusion checks that p proves its leaf in c's tree, and that the
// leaf's record hashes to the leaf hash.
func CheckInclusion(p *InclusionProof, c *Checkpoint) error {
	if p.TreeSize != c.Size {
		return fmt.Errorf("leaf %d: the proof is for a tree of %d leaves, the checkpoint has %d", p.Index, p.TreeSize, c.Size)
	}
	if err := tlog.CheckRecord(p.Proof, c.Size, c.Root, p.Index, p.LeafHash); err != nil {
		return fmt.Errorf("leaf %d is not in the tree of %d leaves: %w", p.Index, c.Size, err)
	}
	if h := RecordHash([]byte(p.Record)); h != p.LeafHash {
		return fmt.Errorf("leaf %d: its record as served hashes to %v, but the tree holds %v: the stored vote was changed or lost", p.Index, h, p.LeafHash)
	}
	return nil
}

// CheckConsistency checks that p proves the tree of old a prefix of the
// tree of c.
func CheckConsistency(p *ConsistencyProof, old, c *Checkpoint) error {
	if p.From != old.Size || p.To != c.Size {
		return fmt.Errorf("the proof is from %d to %d leaves, not from %d to %d", p.From, p.To, old.Size, c.Size)
	}
	if err := tlog.CheckTree(p.Proof, c.Size, c.Root, old.Size, old.Root); err != nil {
		return fmt.Errorf("the tree of %d leaves does not extend the trusted tree of %d: %w", c.Size, old.Size, err)
	}
	return nil
}
