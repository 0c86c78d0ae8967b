package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/agora-rlhf/agora/arena/policy"
	"github.com/agora-rlhf/agora/ingest/ledger"
)

// PolicyMigration keeps the leaderboard policy's history, the listing
// state of labs' models, and the deprecation log (docs/policy.md).
const PolicyMigration = `CREATE TABLE policy_changes (
		version INTEGER PRIMARY KEY,
		text    TEXT NOT NULL,   -- the policy file as given
		sha256  TEXT NOT NULL,
		by      TEXT NOT NULL,
		reason  TEXT NOT NULL,
		at      INTEGER NOT NULL, -- Unix milliseconds
		leaf    INTEGER NOT NULL  -- its leaf in the verifiable log; -1 for a first policy recorded before it was logged
	);
	CREATE TABLE model_listings (
		id            INTEGER PRIMARY KEY AUTOINCREMENT,
		model         TEXT NOT NULL,
		lab           TEXT NOT NULL,
		state         TEXT NOT NULL, -- unlisted, listed or withdrawn
		registered_at INTEGER NOT NULL,
		listed_at     INTEGER NOT NULL DEFAULT 0,
		variants      INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX model_listings_lab ON model_listings(lab, registered_at);
	CREATE TABLE deprecations (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		model          TEXT NOT NULL,
		lab            TEXT NOT NULL,
		by             TEXT NOT NULL,
		reason         TEXT NOT NULL,
		at             INTEGER NOT NULL,
		policy_version INTEGER NOT NULL
	);`

// AddPolicyChange records c, a new policy in force, and, when logged,
// appends its leaf to the verifiable log in the same transaction
// (ledger.PolicyRecord: its name with the version, the SHA-256 of its
// text, the time). It returns c with its SHA-256 and leaf index set (-1
// when not logged).
func (s *Store) AddPolicyChange(ctx context.Context, c policy.Change, logged bool) (policy.Change, error) {
	sum := sha256.Sum256([]byte(c.Text))
	c.SHA256 = hex.EncodeToString(sum[:])
	c.At = c.At.UTC().Truncate(time.Millisecond)
	rec := ledger.PolicyRecord(fmt.Sprintf("leaderboard-policy/v%d", c.Version), c.SHA256, c.At)
	err := s.do(ctx, func(tx *sql.Tx) error {
		c.Leaf = -1
		if logged {
			n, err := s.appendLeaf(ctx, tx, ledger.KindPolicy, fmt.Sprintf("policy/%d", c.Version), rec, rec)
			if err != nil {
				return err
			}
			c.Leaf = n
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO policy_changes (version, text, sha256, by, reason, at, leaf)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Version, c.Text, c.SHA256, c.By, c.Reason, ms(c.At), c.Leaf)
		return err
	})
	if err != nil {
		return c, fmt.Errorf("record policy version %d: %w", c.Version, err)
	}
	return c, nil
}

// PolicyChanges returns every recorded policy, oldest first.
func (s *Store) PolicyChanges(ctx context.Context) ([]policy.Change, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT version, text, sha256, by, reason, at, leaf FROM policy_changes ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read policy history: %w", err)
	}
	defer rows.Close()
	var out []policy.Change
	for rows.Next() {
		var c policy.Change
		var at int64
		if err := rows.Scan(&c.Version, &c.Text, &c.SHA256, &c.By, &c.Reason, &at, &c.Leaf); err != nil {
			return nil, fmt.Errorf("read policy history: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddListing records a new registration of a lab's model and returns its
// id.
func (s *Store) AddListing(ctx context.Context, l policy.Listing) (int64, error) {
	var id int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO model_listings (model, lab, state, registered_at, listed_at, variants)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, l.Model, l.Lab, l.State, ms(l.RegisteredAt), ms(l.ListedAt), l.Variants).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("record the listing of %s: %w", l.Model, err)
	}
	return id, nil
}

// UpdateListing stores the state, listing time and variants of listing
// l.ID.
func (s *Store) UpdateListing(ctx context.Context, l policy.Listing) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE model_listings SET state = ?, listed_at = ?, variants = ? WHERE id = ?`,
			l.State, ms(l.ListedAt), l.Variants, l.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("update the listing of %s: %w", l.Model, err)
	}
	return nil
}

// Listings returns every listing record, oldest first.
func (s *Store) Listings(ctx context.Context) ([]policy.Listing, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, model, lab, state, registered_at, listed_at, variants FROM model_listings ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read listings: %w", err)
	}
	defer rows.Close()
	var out []policy.Listing
	for rows.Next() {
		var l policy.Listing
		var reg, listed int64
		if err := rows.Scan(&l.ID, &l.Model, &l.Lab, &l.State, &reg, &listed, &l.Variants); err != nil {
			return nil, fmt.Errorf("read listings: %w", err)
		}
		l.RegisteredAt, l.ListedAt = fromMS(reg), fromMS(listed)
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddDeprecation appends d to the deprecation log.
func (s *Store) AddDeprecation(ctx context.Context, d policy.Deprecation) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO deprecations (model, lab, by, reason, at, policy_version) VALUES (?, ?, ?, ?, ?, ?)`,
			d.Model, d.Lab, d.By, d.Reason, ms(d.At), d.PolicyVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("record the deprecation of %s: %w", d.Model, err)
	}
	return nil
}

// Deprecations returns the deprecation log, oldest first.
func (s *Store) Deprecations(ctx context.Context) ([]policy.Deprecation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT model, lab, by, reason, at, policy_version FROM deprecations ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read deprecations: %w", err)
	}
	defer rows.Close()
	var out []policy.Deprecation
	for rows.Next() {
		var d policy.Deprecation
		var at int64
		if err := rows.Scan(&d.Model, &d.Lab, &d.By, &d.Reason, &at, &d.PolicyVersion); err != nil {
			return nil, fmt.Errorf("read deprecations: %w", err)
		}
		d.At = fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
