package ledger

import (
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// KindConsent is the leaf of a narrowed vote: the contributor narrowed the
// scope of a vote they gave earlier (its vote leaf keeps the scope it was
// given with).
const KindConsent Kind = 'c'

// Narrow returns the record of vote voteID narrowed to scope at time at:
//
//	consent 1
//	vote <vote id>
//	scope <leaderboard|research|training>
//	time <RFC 3339 in UTC with milliseconds>
func Narrow(voteID string, scope rlhf.Scope, at time.Time) []byte {
	buf := append(make([]byte, 0, 128), "consent 1\n"...)
	buf = line(buf, "vote", voteID)
	buf = line(buf, "scope", string(scope))
	return line(buf, "time", stamp(at))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
