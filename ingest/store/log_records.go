package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// LeafRecords returns the records of the n leaves from index from on, as
// the log serves them. A vote's record is rebuilt from the vote as stored
// now, so a vote changed in the file gives a record that no longer hashes
// to its leaf; a leaf whose vote or battle is gone gives ledger.Missing.
func (s *Store) LeafRecords(ctx context.Context, from, n int64) ([][]byte, error) {
	enc := s.ledger.Load()
	if enc == nil {
		return nil, fmt.Errorf("read leaves: the store has no ledger")
	}
	if from < 0 || n < 0 {
		return nil, rlhf.Errorf(rlhf.EInvalid, "leaves %d to %d", from, from+n-1)
	}
	leaves, err := s.readLeaves(ctx, from, n)
	if err != nil {
		return nil, err
	}
	if int64(len(leaves)) < n { // some are lost, or beyond the log's end
		size, err := s.LogSize(ctx)
		if err != nil {
			return nil, err
		}
		if from+n > size {
			return nil, rlhf.Errorf(rlhf.ENotFound, "leaves %d to %d are not in the log of %d leaves", from, from+n-1, size)
		}
	}
	if err := s.readLeafTurns(ctx, leaves); err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	for i := range out {
		l := leaves[from+int64(i)]
		switch {
		case l == nil:
			out[i] = ledger.Missing(0, "")
		case l.data != nil:
			out[i] = l.data
		case l.b == nil:
			out[i] = ledger.Missing(l.kind, l.ref)
		default:
			out[i] = enc.Vote(l.b, &l.v)
		}
	}
	return out, nil
}

// storedLeaf is a leaf read back with what its record is built from.
type storedLeaf struct {
	kind ledger.Kind
	ref  string
	data []byte
	v    rlhf.Vote
	b    *rlhf.Battle // nil when the vote or its battle is gone
}

func (s *Store) readLeaves(ctx context.Context, from, n int64) (map[int64]*storedLeaf, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT l.idx, l.kind, l.ref, l.data,
		v.id, v.battle_id, v.contributor_id, v.winner, v.strength, v.created_at, b.model_a, b.model_b,
		v.leaf_scope, v.leaf_licence, v.leaf_gold
		FROM log_leaves l
		LEFT JOIN votes v ON l.kind = ? AND v.id = l.ref
		LEFT JOIN battles b ON b.id = v.battle_id
		WHERE l.idx >= ? AND l.idx < ? ORDER BY l.idx`, int(ledger.KindVote), from, from+n)
	if err != nil {
		return nil, fmt.Errorf("read leaves: %w", err)
	}
	defer rows.Close()
	leaves := make(map[int64]*storedLeaf, n)
	for rows.Next() {
		var (
			idx                               int64
			kind                              int
			l                                 storedLeaf
			id, battle, contributor, win, str sql.NullString
			created                           sql.NullInt64
			modelA, modelB                    sql.NullString
			scope, licence, gold              sql.NullString
		)
		if err := rows.Scan(&idx, &kind, &l.ref, &l.data, &id, &battle, &contributor, &win, &str, &created, &modelA, &modelB, &scope, &licence, &gold); err != nil {
			return nil, fmt.Errorf("read leaves: %w", err)
		}
		l.kind = ledger.Kind(kind)
		if id.Valid && modelA.Valid {
			l.v = rlhf.Vote{ID: id.String, BattleID: battle.String, ContributorID: contributor.String,
				Winner: rlhf.Winner(win.String), Strength: rlhf.Strength(str.String), CreatedAt: fromMS(created.Int64),
				Scope: rlhf.Scope(scope.String), Licence: licence.String}
			l.b = &rlhf.Battle{ID: battle.String, ModelA: modelA.String, ModelB: modelB.String}
			setLeafGold(l.b, gold.String)
		}
		leaves[idx] = &l
	}
	return leaves, rows.Err()
}

// readLeafTurns reads the prompts and answers of the leaves' battles.
func (s *Store) readLeafTurns(ctx context.Context, leaves map[int64]*storedLeaf) error {
	byBattle := map[string]*rlhf.Battle{}
	var args []any
	for _, l := range leaves {
		if l.b != nil {
			byBattle[l.b.ID] = l.b
			args = append(args, l.b.ID)
		}
	}
	if len(args) == 0 {
		return nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT b.id, t.prompt, t.a_content, t.b_content
		FROM battles b JOIN turns t ON t.battle_seq = b.seq
		WHERE b.id IN `+placeholders(len(args))+` ORDER BY b.seq, t.idx`, args...)
	if err != nil {
		return fmt.Errorf("read leaves' turns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t rlhf.Turn
		if err := rows.Scan(&id, &t.Prompt, &t.A.Content, &t.B.Content); err != nil {
			return fmt.Errorf("read leaves' turns: %w", err)
		}
		b := byBattle[id]
		b.Turns = append(b.Turns, t)
	}
	return rows.Err()
}

// PutCheckpoint keeps a signed checkpoint of the log's first size leaves.
func (s *Store) PutCheckpoint(ctx context.Context, size int64, note []byte) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO log_checkpoints (size, note, at) VALUES (?, ?, strftime('%s','now') * 1000)`, size, note)
		return err
	})
}

// Cosigned replaces the newest checkpoint of size with note: the same
// checkpoint with more signatures (witnesses').
func (s *Store) Cosigned(ctx context.Context, size int64, note []byte) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE log_checkpoints SET note = ?
			WHERE seq = (SELECT max(seq) FROM log_checkpoints WHERE size = ?)`, note, size)
		return err
	})
}

// Checkpoints returns the newest limit checkpoints, newest first.
func (s *Store) Checkpoints(ctx context.Context, limit int) ([][]byte, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT note FROM log_checkpoints ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var n []byte
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
