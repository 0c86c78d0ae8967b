package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/agora-rlhf/agora/rlhf"
)

// QuarantineMigration keeps quarantined contributors and the log of every
// quarantine and lift.
const QuarantineMigration = `CREATE TABLE quarantine (
		contributor_id TEXT PRIMARY KEY,
		reason         TEXT NOT NULL,
		since          INTEGER NOT NULL -- Unix milliseconds
	);
	CREATE TABLE quarantine_log (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		contributor_id TEXT NOT NULL,
		action         TEXT NOT NULL, -- quarantine or lift
		reason         TEXT NOT NULL,
		actor          TEXT NOT NULL,
		at             INTEGER NOT NULL
	);`

// Quarantine puts a contributor in quarantine and logs it; a contributor
// already there keeps their first reason.
func (s *Store) Quarantine(ctx context.Context, q rlhf.Quarantine, actor string) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO quarantine (contributor_id, reason, since) VALUES (?, ?, ?)`,
			q.Contributor, q.Reason, ms(q.Since))
		if err != nil {
			return fmt.Errorf("quarantine %s: %w", q.Contributor, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.logQuarantine(ctx, tx, rlhf.QuarantineEvent{Contributor: q.Contributor, Action: "quarantine", Reason: q.Reason, Actor: actor, At: q.Since})
	})
}

// LiftQuarantine ends a contributor's quarantine and logs it, or answers
// rlhf.ENotFound.
func (s *Store) LiftQuarantine(ctx context.Context, ev rlhf.QuarantineEvent) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM quarantine WHERE contributor_id = ?`, ev.Contributor)
		if err != nil {
			return fmt.Errorf("lift quarantine of %s: %w", ev.Contributor, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rlhf.Errorf(rlhf.ENotFound, "contributor %s is not quarantined", ev.Contributor)
		}
		ev.Action = "lift"
		return s.logQuarantine(ctx, tx, ev)
	})
}

func (s *Store) logQuarantine(ctx context.Context, tx *sql.Tx, ev rlhf.QuarantineEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO quarantine_log (contributor_id, action, reason, actor, at) VALUES (?, ?, ?, ?, ?)`,
		ev.Contributor, ev.Action, ev.Reason, ev.Actor, ms(ev.At))
	if err != nil {
		return fmt.Errorf("log quarantine of %s: %w", ev.Contributor, err)
	}
	return s.appendQuarantineLeaf(ctx, tx, ev)
}

// Quarantined returns the contributors in quarantine, oldest first.
func (s *Store) Quarantined(ctx context.Context) ([]rlhf.Quarantine, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT contributor_id, reason, since FROM quarantine ORDER BY since, contributor_id`)
	if err != nil {
		return nil, fmt.Errorf("read quarantine: %w", err)
	}
	defer rows.Close()
	out := []rlhf.Quarantine{}
	for rows.Next() {
		var q rlhf.Quarantine
		var since int64
		if err := rows.Scan(&q.Contributor, &q.Reason, &since); err != nil {
			return nil, fmt.Errorf("read quarantine: %w", err)
		}
		q.Since = fromMS(since)
		out = append(out, q)
	}
	return out, rows.Err()
}

// QuarantineLog returns every logged decision, oldest first.
func (s *Store) QuarantineLog(ctx context.Context) ([]rlhf.QuarantineEvent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT contributor_id, action, reason, actor, at FROM quarantine_log ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read quarantine log: %w", err)
	}
	defer rows.Close()
	out := []rlhf.QuarantineEvent{}
	for rows.Next() {
		var ev rlhf.QuarantineEvent
		var at int64
		if err := rows.Scan(&ev.Contributor, &ev.Action, &ev.Reason, &ev.Actor, &at); err != nil {
			return nil, fmt.Errorf("read quarantine log: %w", err)
		}
		ev.At = fromMS(at)
		out = append(out, ev)
	}
	return out, rows.Err()
}
