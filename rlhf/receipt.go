package rlhf

// Receipt is the log's promise, given when a vote is acknowledged, that
// the vote is in the verifiable log: the leaf's index and hash, and a
// statement signed by the server (a signed note) that says both. Anyone
// can later check it against a checkpoint with an inclusion proof.
type Receipt struct {
	LeafIndex int64  `json:"leaf_index"`
	LeafHash  string `json:"leaf_hash"` // base64, as in checkpoints
	Statement string `json:"statement"` // the signed note
}
