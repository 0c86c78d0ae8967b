package policy

import "time"

// Change is one recorded change of the policy in force: who made it, when
// and why, the policy's text and its SHA-256, and the index of its leaf in
// the verifiable log (-1 only for a first policy recorded by a version of
// Agora that did not log it).
type Change struct {
	Version int       `json:"version"`
	SHA256  string    `json:"sha256"`
	By      string    `json:"by"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	Leaf    int64     `json:"log_leaf"`
	Text    string    `json:"text"`
}

// Listing states of a lab's registered model.
const (
	Unlisted  = "unlisted"  // tested anonymously, off the public board
	Listed    = "listed"    // on the public board; its scores stay
	Withdrawn = "withdrawn" // an unlisted model its lab deleted
)

// Listing is the listing record of one registration of a lab's model.
// Models with no record (the operator's, or registered listed) are listed.
type Listing struct {
	ID           int64     `json:"-"`
	Model        string    `json:"model"`
	Lab          string    `json:"lab"`
	State        string    `json:"state"`
	RegisteredAt time.Time `json:"registered_at"`
	ListedAt     time.Time `json:"listed_at,omitzero"`
	// Variants is how many models the lab tested within the policy's
	// window before listing this one, this one included.
	Variants int `json:"variants_tested,omitempty"`
}

// Deprecation is an entry of the deprecation log.
type Deprecation struct {
	Model         string    `json:"model"`
	Lab           string    `json:"lab"`
	By            string    `json:"by"`
	Reason        string    `json:"reason"`
	At            time.Time `json:"at"`
	PolicyVersion int       `json:"policy_version"`
}

// VoteCounts counts the stored votes by what the leaderboard makes of
// them. Total = Counted + Failed + Quarantined + NotAnonymous, each vote
// in the first of those that applies (failed, then not anonymous, then
// quarantined).
type VoteCounts struct {
	Total        int64 `json:"total"`
	Counted      int64 `json:"counted"`
	Failed       int64 `json:"failed"`
	NotAnonymous int64 `json:"not_anonymous"`
	Quarantined  int64 `json:"quarantined"`
}

// Sides is how many battle sides a model took.
type Sides struct {
	Model string
	Sides int64
}
