package store

import (
	"context"
	"fmt"
	"time"

	"github.com/agora-rlhf/agora/arena/policy"
)

// failedBattleSQL is true for a battle b where a side failed in some turn.
const failedBattleSQL = `EXISTS (SELECT 1 FROM turns t WHERE t.battle_seq = b.seq AND (t.a_error_code != '' OR t.b_error_code != ''))`

// BattleSides returns how many sides of the arena's own battles (not
// imported ones) each model took, voted or not, by model: kept in
// battle_sides as battles are written (BattleSidesMigration), so that
// reading them at start does not grow with the store.
func (s *Store) BattleSides(ctx context.Context) ([]policy.Sides, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT model, sides FROM battle_sides WHERE sides > 0 ORDER BY model`)
	if err != nil {
		return nil, fmt.Errorf("count battle sides: %w", err)
	}
	defer rows.Close()
	var out []policy.Sides
	for rows.Next() {
		var c policy.Sides
		if err := rows.Scan(&c.Model, &c.Sides); err != nil {
			return nil, fmt.Errorf("count battle sides: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// VotesSince counts the votes committed at or after since on anonymous
// battles of model where no side failed: the fresh votes of a model
// listed at since.
func (s *Store) VotesSince(ctx context.Context, model string, since time.Time) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM votes v JOIN battles b ON b.id = v.battle_id
		WHERE v.created_at >= ? AND (b.model_a = ? OR b.model_b = ?) AND b.identity_leak = '' AND NOT `+failedBattleSQL,
		ms(since), model, model).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count votes on %s: %w", model, err)
	}
	return n, nil
}

// VoteCounts counts the stored votes by what the leaderboard makes of
// them (policy.VoteCounts).
func (s *Store) VoteCounts(ctx context.Context) (policy.VoteCounts, error) {
	var c policy.VoteCounts
	err := s.read.QueryRowContext(ctx, `SELECT count(*),
			coalesce(sum(failed), 0),
			coalesce(sum(NOT failed AND leak), 0),
			coalesce(sum(NOT failed AND NOT leak AND quarantined), 0)
		FROM (SELECT `+failedBattleSQL+` AS failed, b.identity_leak != '' AS leak,
				v.contributor_id IN (SELECT contributor_id FROM quarantine) AS quarantined
			FROM votes v JOIN battles b ON b.id = v.battle_id)`).
		Scan(&c.Total, &c.Failed, &c.NotAnonymous, &c.Quarantined)
	if err != nil {
		return c, fmt.Errorf("count votes: %w", err)
	}
	c.Counted = c.Total - c.Failed - c.NotAnonymous - c.Quarantined
	return c, nil
}
