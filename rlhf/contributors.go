package rlhf

import "time"

// ContributorVotes is how many votes a contributor cast, and when.
type ContributorVotes struct {
	Contributor string    `json:"contributor"`
	Votes       int       `json:"votes"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
}

// Cluster is the identities that voted from one client address with one
// user agent, as the anomaly detectors saw them since the server started.
type Cluster struct {
	Address      string   `json:"address"`
	Agent        string   `json:"agent"`
	Contributors []string `json:"contributors"`
	Flagged      int      `json:"flagged"` // how many of them the detectors flagged
}
