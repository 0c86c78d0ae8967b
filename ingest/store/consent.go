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

// ConsentMigration records each vote's consent (docs/consent.md): its
// scope and licence now (narrowing changes the scope) and as the vote's
// leaf was signed with (never changes; empty for votes from before, whose
// leaves carry the ledger's placeholders). It also keeps contributors'
// defaults, their acceptance of the operator's terms, and the tombstones of
// erasures.
const ConsentMigration = `ALTER TABLE votes ADD COLUMN scope TEXT NOT NULL DEFAULT '';
	ALTER TABLE votes ADD COLUMN licence TEXT NOT NULL DEFAULT '';
	ALTER TABLE votes ADD COLUMN leaf_scope TEXT NOT NULL DEFAULT '';
	ALTER TABLE votes ADD COLUMN leaf_licence TEXT NOT NULL DEFAULT '';
	CREATE INDEX battles_contributor ON battles(contributor_id);
	CREATE TABLE consent_defaults (
		contributor_id TEXT PRIMARY KEY,
		scope          TEXT NOT NULL,
		licence        TEXT NOT NULL,
		at             INTEGER NOT NULL
	);
	CREATE TABLE terms_accepted (
		contributor_id TEXT NOT NULL,
		version        TEXT NOT NULL,
		at             INTEGER NOT NULL,
		PRIMARY KEY (contributor_id, version)
	);
	CREATE TABLE erasures (
		id      TEXT PRIMARY KEY,
		battles INTEGER NOT NULL,
		votes   INTEGER NOT NULL,
		actor   TEXT NOT NULL,
		at      INTEGER NOT NULL
	);`

// ConsentDefaults returns the consent a contributor chose for their future
// votes, or rlhf.ENotFound when they chose none.
func (s *Store) ConsentDefaults(ctx context.Context, contributor string) (*rlhf.Consent, error) {
	var c rlhf.Consent
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT scope, licence, at FROM consent_defaults WHERE contributor_id = ?`, contributor).
		Scan(&c.Scope, &c.Licence, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no consent chosen")
	}
	if err != nil {
		return nil, fmt.Errorf("read consent of %s: %w", contributor, err)
	}
	c.At = fromMS(at)
	return &c, nil
}

// SetConsentDefaults keeps c as the consent of a contributor's future
// votes. Votes already given keep theirs (see NarrowVotes).
func (s *Store) SetConsentDefaults(ctx context.Context, contributor string, c rlhf.Consent) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO consent_defaults (contributor_id, scope, licence, at) VALUES (?, ?, ?, ?)`,
			contributor, string(c.Scope), c.Licence, ms(c.At))
		if err != nil {
			return fmt.Errorf("save consent of %s: %w", contributor, err)
		}
		return nil
	})
}

// NarrowVotes narrows the scope of a contributor's past votes to n.Scope:
// the votes named in n.VoteIDs, or all of them when it names none. A vote
// whose scope is already as narrow or narrower is left as it is, so that
// nothing is ever widened. Each narrowed vote gets a consent leaf in the
// log (when the store has one). It returns how many votes were narrowed;
// a named vote that is not the contributor's is rlhf.ENotFound.
func (s *Store) NarrowVotes(ctx context.Context, n rlhf.Narrowing) (int, error) {
	if !n.Scope.Valid() {
		return 0, rlhf.Errorf(rlhf.EInvalid, "scope %q is not one of leaderboard, research, training", n.Scope)
	}
	var narrowed int
	err := s.do(ctx, func(tx *sql.Tx) error {
		narrowed = 0
		ids, err := s.votesToNarrow(ctx, tx, n)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE votes SET scope = ? WHERE id = ?`, string(n.Scope), id); err != nil {
				return fmt.Errorf("narrow vote %s: %w", id, err)
			}
			if s.ledger.Load() != nil {
				rec := ledger.Narrow(id, n.Scope, n.At)
				if _, err := s.appendLeaf(ctx, tx, ledger.KindConsent, id, rec, rec); err != nil {
					return err
				}
			}
			narrowed++
		}
		return recordNarrowing(ctx, tx, n, narrowed)
	})
	return narrowed, err
}

// votesToNarrow returns the ids of the votes n narrows: the contributor's
// (all, or those named) whose scope is wider than n.Scope.
func (s *Store) votesToNarrow(ctx context.Context, tx *sql.Tx, n rlhf.Narrowing) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, scope FROM votes WHERE contributor_id = ? ORDER BY seq`, n.Contributor)
	if err != nil {
		return nil, fmt.Errorf("read votes of %s: %w", n.Contributor, err)
	}
	defer rows.Close()
	all, want := len(n.VoteIDs) == 0, map[string]bool{}
	for _, id := range n.VoteIDs {
		want[id] = true
	}
	var ids []string
	for rows.Next() {
		var id string
		var scope rlhf.Scope
		if err := rows.Scan(&id, &scope); err != nil {
			return nil, fmt.Errorf("read votes of %s: %w", n.Contributor, err)
		}
		if !all && !want[id] {
			continue
		}
		delete(want, id)
		if scope.Narrower(n.Scope) != scope.Effective() {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read votes of %s: %w", n.Contributor, err)
	}
	for id := range want {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no vote %s of yours", id)
	}
	return ids, nil
}

// AcceptTerms records that a contributor accepted version of the
// operator's terms at time at (the first acceptance of a version stays).
func (s *Store) AcceptTerms(ctx context.Context, contributor, version string, at time.Time) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO terms_accepted (contributor_id, version, at) VALUES (?, ?, ?)`,
			contributor, version, ms(at))
		if err != nil {
			return fmt.Errorf("record terms of %s: %w", contributor, err)
		}
		return nil
	})
}

// TermsAccepted returns when a contributor accepted version of the
// operator's terms, or the zero time when they have not.
func (s *Store) TermsAccepted(ctx context.Context, contributor, version string) (time.Time, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT at FROM terms_accepted WHERE contributor_id = ? AND version = ?`, contributor, version).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read terms of %s: %w", contributor, err)
	}
	return fromMS(at), nil
}
