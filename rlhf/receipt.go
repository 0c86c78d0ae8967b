package rlhf

// Receipt is the log's promise, given when a vote is acknowledged, that
// the vote is in the verifiable log: the leaf's index and hash, and a
// statement signed by the server (a signed note) that includes both: the
// Merkle root of a batch of receipts signed together, of which this one is
// entry Batch, proved by BatchProof. Anyone can later check it against a
// checkpoint with an inclusion proof.
type Receipt struct {
	LeafIndex  int64    `json:"leaf_index"`
	LeafHash   string   `json:"leaf_hash"`             // base64, as in checkpoints
	Statement  string   `json:"statement"`             // the signed note
	Batch      int64    `json:"batch,omitempty"`       // this receipt's entry in the statement's batch
	BatchProof []string `json:"batch_proof,omitempty"` // the entry's inclusion proof in the batch (base64 hashes)
}
