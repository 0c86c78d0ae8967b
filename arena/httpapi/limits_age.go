package httpapi

import "time"

// isNew reports whether the client is a new identity for the limits: an
// anonymous contributor (free to mint, so never trusted with more), or a
// member whose account is younger than Limits.NewAccountAge.
func (cl *client) isNew() bool {
	if cl.member == "" {
		return true
	}
	return time.Since(cl.memberSince) < cl.s.cfg.Limits.NewAccountAge
}
