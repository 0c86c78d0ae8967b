package rlhf

import "time"

// Quarantine is a contributor whose votes weigh nothing while it lasts: an
// anomaly detector flagged them. Their votes are kept; an admin can lift
// it, and every decision is logged.
type Quarantine struct {
	Contributor string    `json:"contributor"`
	Reason      string    `json:"reason"`
	Since       time.Time `json:"since"`
}

// QuarantineEvent is one logged decision: "quarantine" or "lift".
type QuarantineEvent struct {
	Contributor string    `json:"contributor"`
	Action      string    `json:"action"`
	Reason      string    `json:"reason"`
	Actor       string    `json:"actor"` // "detector" or "admin"
	At          time.Time `json:"at"`
}
