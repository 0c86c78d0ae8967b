package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

// GoldMigration adds a battle's gold kind and right side (rlhf.Battle's
// Gold and GoldWinner), kept in one column as "a:truncated"; empty for an
// ordinary battle. Vote summaries say whether the vote was on a gold
// battle (rlhf.Summary.Gold), so that summary-fed leaderboards leave it out.
const GoldMigration = `ALTER TABLE battles ADD COLUMN gold TEXT NOT NULL DEFAULT '';
	ALTER TABLE vote_summaries ADD COLUMN gold INTEGER NOT NULL DEFAULT 0;`

// goldValue is the gold column of b.
func goldValue(b *rlhf.Battle) string {
	if b.Gold == "" {
		return ""
	}
	return string(b.GoldWinner) + ":" + b.Gold
}

// goldColumn scans the gold column into a battle.
type goldColumn struct{ b *rlhf.Battle }

func (g goldColumn) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
	default:
		return fmt.Errorf("gold column: unexpected %T", src)
	}
	side, kind, ok := strings.Cut(s, ":")
	if s != "" && !ok {
		return fmt.Errorf("gold column: %q is not side:kind", s)
	}
	g.b.Gold, g.b.GoldWinner = kind, rlhf.Side(side)
	return nil
}

// goldScoresSQL counts each contributor's gold battles and right answers:
// rlhf.Record.GoldScored and GoldCorrect in SQL. The gold column starts
// with the right side, so its first letter is compared with the winner.
const goldScoresSQL = `SELECT v.contributor_id, count(*), sum(v.winner = substr(b.gold, 1, 1))
	FROM votes v JOIN battles b ON b.id = v.battle_id
	WHERE b.gold != '' AND substr(b.gold, 1, 1) IN ('a', 'b') %s
	AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.battle_seq = b.seq AND (t.a_error_code != '' OR t.b_error_code != ''))
	GROUP BY v.contributor_id ORDER BY v.contributor_id`

// GoldScores returns every contributor's measured gold accuracy, sorted by
// contributor: the one function the API, the admin views and reliability
// weighting read it through.
func (s *Store) GoldScores(ctx context.Context) ([]rlhf.GoldScore, error) {
	return s.goldScores(ctx, "")
}

// GoldScore returns one contributor's gold accuracy; a contributor with no
// gold battle has a score of zero battles.
func (s *Store) GoldScore(ctx context.Context, contributor string) (rlhf.GoldScore, error) {
	scores, err := s.goldScores(ctx, "AND v.contributor_id = ?", contributor)
	if err != nil || len(scores) == 0 {
		return rlhf.NewGoldScore(contributor, 0, 0), err
	}
	return scores[0], nil
}

func (s *Store) goldScores(ctx context.Context, cond string, args ...any) ([]rlhf.GoldScore, error) {
	rows, err := s.read.QueryContext(ctx, fmt.Sprintf(goldScoresSQL, cond), args...)
	if err != nil {
		return nil, fmt.Errorf("read gold scores: %w", err)
	}
	defer rows.Close()
	var out []rlhf.GoldScore
	for rows.Next() {
		var id string
		var n, correct int
		if err := rows.Scan(&id, &n, &correct); err != nil {
			return nil, fmt.Errorf("read gold scores: %w", err)
		}
		out = append(out, rlhf.NewGoldScore(id, n, correct))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read gold scores: %w", err)
	}
	return out, nil
}

// ContributorVotes returns the limit contributors with the most votes,
// most first (ties by id), with their first and last vote.
func (s *Store) ContributorVotes(ctx context.Context, limit int) ([]rlhf.ContributorVotes, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT contributor_id, count(*), min(created_at), max(created_at)
		FROM votes GROUP BY contributor_id ORDER BY count(*) DESC, contributor_id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read votes per contributor: %w", err)
	}
	defer rows.Close()
	var out []rlhf.ContributorVotes
	for rows.Next() {
		var c rlhf.ContributorVotes
		var first, last int64
		if err := rows.Scan(&c.Contributor, &c.Votes, &first, &last); err != nil {
			return nil, fmt.Errorf("read votes per contributor: %w", err)
		}
		c.First, c.Last = fromMS(first), fromMS(last)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read votes per contributor: %w", err)
	}
	return out, nil
}
