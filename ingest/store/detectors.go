package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// battlesStartedSQL counts each contributor's arena battles started before
// its second parameter, only those started after the time the JSON object
// of its first gives the contributor (Unix milliseconds), if any.
const battlesStartedSQL = `WITH since(id, at) AS (SELECT key, value FROM json_each(?))
	SELECT b.contributor_id, count(*) FROM battles b LEFT JOIN since s ON s.id = b.contributor_id
	WHERE b.source = 'arena' AND b.created_at < ? AND (s.at IS NULL OR b.created_at > s.at)
	GROUP BY b.contributor_id`

// BattlesStarted counts each contributor's stored arena battles (every
// battle started is stored when it starts) started before until, only
// those started after since[contributor] for the contributors since
// names: the anomaly detectors rebuild their votes-per-battle test from it
// (trust.History).
func (s *Store) BattlesStarted(ctx context.Context, since map[string]time.Time, until time.Time) (map[string]int, error) {
	after := make(map[string]int64, len(since))
	for id, t := range since {
		after[id] = ms(t)
	}
	arg, err := json.Marshal(after)
	if err != nil {
		return nil, fmt.Errorf("count battles started: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, battlesStartedSQL, string(arg), ms(until))
	if err != nil {
		return nil, fmt.Errorf("count battles started: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count battles started: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count battles started: %w", err)
	}
	return out, nil
}
