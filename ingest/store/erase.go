package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// contributorBattles selects the ids of a contributor's battles: those
// they started, and those of their votes.
const contributorBattles = `SELECT id FROM battles WHERE contributor_id = ?1
	UNION SELECT battle_id FROM votes WHERE contributor_id = ?1`

// ContributorData returns everything the store holds about a contributor:
// their battles (voted or not) with every turn, their votes, their
// consent defaults and the records of addRecords.
func (s *Store) ContributorData(ctx context.Context, contributor string) (*rlhf.ContributorData, error) {
	d := &rlhf.ContributorData{Contributor: contributor, Battles: []rlhf.Battle{}, Votes: []rlhf.Vote{}}
	c, err := s.ConsentDefaults(ctx, contributor)
	switch {
	case err == nil:
		d.Consent = c
	case rlhf.ErrorCode(err) != rlhf.ENotFound:
		return nil, err
	}
	ids, err := s.strings(ctx, contributorBattles+` ORDER BY 1`, contributor)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		b, err := s.Battle(ctx, id)
		if err != nil {
			return nil, err
		}
		d.Battles = append(d.Battles, *b)
		v, err := s.VoteForBattle(ctx, id)
		switch {
		case err == nil:
			d.Votes = append(d.Votes, *v)
		case rlhf.ErrorCode(err) != rlhf.ENotFound:
			return nil, err
		}
	}
	if err := s.addRecords(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// strings returns the one text column of query's rows.
func (s *Store) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Erase deletes everything the store holds about a contributor — their
// battles with every prompt and answer, their votes with their reasons,
// their consent defaults, terms acceptances and narrowings — and keeps e, filled in
// with the counts, as a content-free tombstone (with its leaf in the log,
// when the store has one). The deleted votes' own leaves then serve as
// missing. Deleted content is overwritten in the file (the write
// connection runs with secure_delete) and the WAL is checkpointed and
// truncated afterwards, so that no copy stays on disk. It returns the ids
// of the deleted battles, for the other places they were copied to.
func (s *Store) Erase(ctx context.Context, contributor string, e *rlhf.Erasure) ([]string, error) {
	var battles []string
	err := s.do(ctx, func(tx *sql.Tx) error {
		var err error
		battles, err = eraseRows(ctx, tx, contributor, e)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO erasures (id, battles, votes, actor, at) VALUES (?, ?, ?, ?, ?)`,
			e.ID, e.Battles, e.Votes, e.Actor, ms(e.At)); err != nil {
			return fmt.Errorf("erase: keep the tombstone: %w", err)
		}
		enc := s.ledger.Load()
		if enc == nil {
			return nil
		}
		rec := enc.Tombstone(erasureTombstone(contributor, e))
		_, err = s.appendLeaf(ctx, tx, ledger.KindTombstone, e.ID, rec, rec)
		return err
	})
	if err != nil {
		return nil, err
	}
	return battles, s.Checkpoint(ctx)
}

// erasureTombstone is the log's tombstone of erasure e: all of the
// contributor's votes, with the counts and who asked in its reason.
func erasureTombstone(contributor string, e *rlhf.Erasure) ledger.Tombstone {
	return ledger.Tombstone{Contributor: contributor, At: e.At,
		Reason: fmt.Sprintf("erasure %s: %d battles and %d votes deleted at the request of the %s", e.ID, e.Battles, e.Votes, e.Actor)}
}

// eraseRows deletes a contributor's rows in tx and counts them into e.
func eraseRows(ctx context.Context, tx *sql.Tx, contributor string, e *rlhf.Erasure) ([]string, error) {
	rows, err := tx.QueryContext(ctx, contributorBattles, contributor)
	if err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	var battles []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("erase: %w", err)
		}
		battles = append(battles, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	e.Battles = len(battles)
	const in = `(SELECT value FROM json_each(?))`
	list := jsonList(battles)
	res, err := tx.ExecContext(ctx, `DELETE FROM votes WHERE contributor_id = ? OR battle_id IN `+in, contributor, list)
	if err != nil {
		return nil, fmt.Errorf("erase votes: %w", err)
	}
	n, _ := res.RowsAffected()
	e.Votes = int(n)
	for _, q := range []string{
		`DELETE FROM turns WHERE battle_seq IN (SELECT seq FROM battles WHERE id IN ` + in + `)`,
		`DELETE FROM battles WHERE id IN ` + in,
	} {
		if _, err := tx.ExecContext(ctx, q, list); err != nil {
			return nil, fmt.Errorf("erase: %w", err)
		}
	}
	for _, table := range []string{"consent_defaults", "terms_accepted", "narrowings"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE contributor_id = ?`, contributor); err != nil {
			return nil, fmt.Errorf("erase %s: %w", table, err)
		}
	}
	return battles, nil
}

// jsonList returns ids as a JSON array, for json_each.
func jsonList(ids []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q", id)
	}
	b.WriteByte(']')
	return b.String()
}

// Checkpoint copies the WAL into the database file and truncates the WAL
// to zero bytes, so that pages holding deleted content are no longer on
// disk. It waits (up to the busy timeout) for readers of older snapshots;
// it fails if some still hold the WAL.
func (s *Store) Checkpoint(ctx context.Context) error {
	db, err := sql.Open("sqlite", strings.TrimSuffix(s.readDSN, readPragmas))
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer db.Close()
	var busy, logFrames, done int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return rlhf.Errorf(rlhf.EUnavailable, "the store's log could not be cleared (readers still busy): try again")
	}
	return nil
}
