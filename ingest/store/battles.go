package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// SaveBattle stores b and all its turns, replacing what was stored for it.
// It returns once the write is committed.
func (s *Store) SaveBattle(ctx context.Context, b *rlhf.Battle) error {
	if err := b.Validate(); err != nil {
		return err
	}
	return s.do(ctx, func(tx *sql.Tx) error { return s.saveBattle(ctx, tx, b) })
}

// SaveVote stores v together with the final state of its battle b, in one
// transaction, and returns once it is committed. It fails with
// rlhf.EConflict if the battle already has a vote.
func (s *Store) SaveVote(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	if v.BattleID != b.ID {
		return rlhf.Errorf(rlhf.EInvalid, "vote %s is for battle %s, not %s", v.ID, v.BattleID, b.ID)
	}
	var leaf *ledger.Hash // the vote's leaf, hashed here and written in its transaction
	if enc := s.ledger.Load(); enc != nil {
		h := ledger.RecordHash(enc.Vote(b, v))
		leaf = &h
	}
	summary := summaryArgs(&rlhf.Record{Battle: *b, Vote: *v}) // measured outside the writer
	return s.do(ctx, func(tx *sql.Tx) error {
		if err := s.finishBattle(ctx, tx, b); err != nil {
			return err
		}
		var index any // the leaf's index, kept on the vote's row; NULL without a log
		if leaf != nil {
			n, err := s.appendVoteLeaf(ctx, tx, v.ID, *leaf) // undone with the write if it fails
			if err != nil {
				return err
			}
			index = n
		}
		err := s.insertVoteLeaf(ctx, tx, v, leafGold(b), index)
		if isUnique(err, "votes.battle_id") {
			return rlhf.Errorf(rlhf.EConflict, "battle %s already has a vote", b.ID)
		}
		if err != nil {
			return err
		}
		return s.insertSummary(ctx, tx, v.ID, summary)
	})
}

// ImportRecords stores recs in one transaction: all of them or, on error,
// none. Records whose vote id is already stored are skipped. It returns how
// many were added. It is Import for records already in memory.
func (s *Store) ImportRecords(ctx context.Context, recs []rlhf.Record) (added int, err error) {
	st, err := s.Import(ctx, func(put func(*rlhf.Record) error) error {
		for i := range recs {
			if err := put(&recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return st.Added, nil
}

const (
	finishBattleSQL = `UPDATE battles SET status = ?, updated_at = ?, identity_leak = ?
		WHERE id = ? AND (SELECT count(*) FROM turns WHERE battle_seq = battles.seq) = ?`
	voteExistsSQL   = `SELECT count(*) FROM votes WHERE id = ? OR battle_id = ?`
	insertBattleSQL = `INSERT INTO battles
		(id, contributor_id, model_a, model_b, status, created_at, updated_at, source, campaign_id, category, language, identity_leak, gold)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
			identity_leak = excluded.identity_leak, gold = excluded.gold
		RETURNING seq`
	insertTurnSQL = `INSERT OR REPLACE INTO turns
			(battle_seq, idx, prompt, at,
			 a_content, a_finish, a_tokens, a_ttft_us, a_duration_us, a_error_code, a_error,
			 b_content, b_finish, b_tokens, b_ttft_us, b_duration_us, b_error_code, b_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertVoteSQL = `INSERT INTO votes
		(id, battle_id, contributor_id, winner, strength, reason, created_at, scope, licence, leaf_scope, leaf_licence, leaf_gold, leaf)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// finishBattle stores b's final status. When every turn of b is stored
// already (the arena saves each turn as it ends), that is one small update;
// otherwise the whole battle is written.
func (s *Store) finishBattle(ctx context.Context, tx *sql.Tx, b *rlhf.Battle) error {
	res, err := s.exec(ctx, tx, finishBattleSQL, string(b.Status), ms(b.UpdatedAt), b.IdentityLeak, b.ID, len(b.Turns))
	if err != nil {
		return fmt.Errorf("finish battle %s: %w", b.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return s.saveBattle(ctx, tx, b)
	}
	return nil
}

func (s *Store) saveBattle(ctx context.Context, tx *sql.Tx, b *rlhf.Battle) error {
	source := b.Source
	if source == "" {
		source = rlhf.SourceArena
	}
	var seq int64
	err := s.queryRow(ctx, tx, insertBattleSQL,
		b.ID, b.ContributorID, b.ModelA, b.ModelB, string(b.Status), ms(b.CreatedAt), ms(b.UpdatedAt),
		source, b.CampaignID, b.Category, b.Language, b.IdentityLeak, goldValue(b)).Scan(&seq)
	if err != nil {
		return fmt.Errorf("save battle %s: %w", b.ID, err)
	}
	for i := range b.Turns {
		t := &b.Turns[i]
		_, err := s.exec(ctx, tx, insertTurnSQL,
			seq, t.Index, t.Prompt, ms(t.At),
			t.A.Content, t.A.FinishReason, t.A.Tokens, t.A.TTFT.Microseconds(), t.A.Duration.Microseconds(), t.A.ErrorCode, t.A.Error,
			t.B.Content, t.B.FinishReason, t.B.Tokens, t.B.TTFT.Microseconds(), t.B.Duration.Microseconds(), t.B.ErrorCode, t.B.Error)
		if err != nil {
			return fmt.Errorf("save battle %s turn %d: %w", b.ID, t.Index, err)
		}
	}
	return nil
}

// insertVote stores v, which has no leaf in the log; leafGold is the gold
// line of its leaf (leafGold).
func (s *Store) insertVote(ctx context.Context, tx *sql.Tx, v *rlhf.Vote, leafGold string) error {
	return s.insertVoteLeaf(ctx, tx, v, leafGold, nil)
}

// insertVoteLeaf stores v with the index of its leaf in the log (an
// int64, or nil for none).
func (s *Store) insertVoteLeaf(ctx context.Context, tx *sql.Tx, v *rlhf.Vote, leafGold string, leaf any) error {
	_, err := s.exec(ctx, tx, insertVoteSQL,
		v.ID, v.BattleID, v.ContributorID, string(v.Winner), string(v.Strength), v.Reason, ms(v.CreatedAt),
		string(v.Scope), v.Licence, string(v.Scope), v.Licence, leafGold, leaf)
	if err != nil {
		return fmt.Errorf("save vote %s: %w", v.ID, err)
	}
	return nil
}

// AbandonStale marks battles left unfinished by the last run as
// abandoned, and returns how many: those still streaming when updated
// before streamingBefore, and those waiting for a vote when updated before
// readyBefore. The server calls it at start with the time of day and the
// start of the vote window: a stream cut by a restart cannot resume, but a
// finished battle can still be voted on (see ReadyBattles).
func (s *Store) AbandonStale(ctx context.Context, streamingBefore, readyBefore time.Time) (int64, error) {
	var n int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE battles SET status = ?
			WHERE (status = ? AND updated_at < ?) OR (status = ? AND updated_at < ?)`,
			string(rlhf.StatusAbandoned), string(rlhf.StatusStreaming), ms(streamingBefore),
			string(rlhf.StatusReady), ms(readyBefore))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ReadyBattles returns the battles waiting for a vote that were updated at
// or after since, with their turns, oldest first.
func (s *Store) ReadyBattles(ctx context.Context, since time.Time) ([]*rlhf.Battle, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM battles b WHERE status = ? AND updated_at >= ?
		AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.battle_id = b.id) ORDER BY updated_at, id`,
		string(rlhf.StatusReady), ms(since))
	if err != nil {
		return nil, fmt.Errorf("list ready battles: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list ready battles: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list ready battles: %w", err)
	}
	out := make([]*rlhf.Battle, 0, len(ids))
	for _, id := range ids {
		b, err := s.Battle(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Battle returns the stored battle with the given id, with its turns.
func (s *Store) Battle(ctx context.Context, id string) (*rlhf.Battle, error) {
	var b rlhf.Battle
	var status string
	var seq, created, updated int64
	err := s.read.QueryRowContext(ctx, `SELECT seq, id, contributor_id, model_a, model_b, status, created_at, updated_at,
		source, campaign_id, category, language, identity_leak, gold FROM battles WHERE id = ?`, id).
		Scan(&seq, &b.ID, &b.ContributorID, &b.ModelA, &b.ModelB, &status, &created, &updated,
			&b.Source, &b.CampaignID, &b.Category, &b.Language, &b.IdentityLeak, goldColumn{&b})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no battle %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read battle %s: %w", id, err)
	}
	b.Status = rlhf.BattleStatus(status)
	b.CreatedAt, b.UpdatedAt = fromMS(created), fromMS(updated)
	rows, err := s.read.QueryContext(ctx, `SELECT `+turnColumns+` FROM turns WHERE battle_seq = ? ORDER BY idx`, seq)
	if err != nil {
		return nil, fmt.Errorf("read battle %s turns: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t rlhf.Turn
		if err := scanTurn(rows, &t); err != nil {
			return nil, fmt.Errorf("read battle %s turns: %w", id, err)
		}
		b.Turns = append(b.Turns, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read battle %s turns: %w", id, err)
	}
	return &b, nil
}

// VoteForBattle returns the vote on the battle with the given id.
func (s *Store) VoteForBattle(ctx context.Context, battleID string) (*rlhf.Vote, error) {
	var v rlhf.Vote
	var winner, strength string
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, battle_id, contributor_id, winner, strength, reason, created_at, scope, licence
		FROM votes WHERE battle_id = ?`, battleID).
		Scan(&v.ID, &v.BattleID, &v.ContributorID, &winner, &strength, &v.Reason, &created, &v.Scope, &v.Licence)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no vote for battle %s", battleID)
	}
	if err != nil {
		return nil, fmt.Errorf("read vote for battle %s: %w", battleID, err)
	}
	v.Winner, v.Strength, v.CreatedAt = rlhf.Winner(winner), rlhf.Strength(strength), fromMS(created)
	return &v, nil
}

// Counts returns how many battles and votes are stored.
func (s *Store) Counts(ctx context.Context) (battles, votes int64, err error) {
	err = s.read.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM battles), (SELECT count(*) FROM votes)").Scan(&battles, &votes)
	return battles, votes, err
}

const turnColumns = `idx, prompt, at,
	a_content, a_finish, a_tokens, a_ttft_us, a_duration_us, a_error_code, a_error,
	b_content, b_finish, b_tokens, b_ttft_us, b_duration_us, b_error_code, b_error`

type scanner interface{ Scan(dest ...any) error }

// scanTurn reads the turnColumns of one row into t, after any columns in
// extra.
func scanTurn(row scanner, t *rlhf.Turn, extra ...any) error {
	var at, attft, adur, bttft, bdur int64
	dest := append(extra,
		&t.Index, &t.Prompt, &at,
		&t.A.Content, &t.A.FinishReason, &t.A.Tokens, &attft, &adur, &t.A.ErrorCode, &t.A.Error,
		&t.B.Content, &t.B.FinishReason, &t.B.Tokens, &bttft, &bdur, &t.B.ErrorCode, &t.B.Error)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	t.At = fromMS(at)
	t.A.TTFT, t.A.Duration = time.Duration(attft)*time.Microsecond, time.Duration(adur)*time.Microsecond
	t.B.TTFT, t.B.Duration = time.Duration(bttft)*time.Microsecond, time.Duration(bdur)*time.Microsecond
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
