package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are applied in order; migrations[i] takes a database from
// version i to version i+1. The version lives in PRAGMA user_version.
// Never edit a migration that has shipped: append a new one.
var migrations = []string{
	// 1: battles, their turns, and votes.
	`CREATE TABLE battles (
		id             TEXT PRIMARY KEY,
		contributor_id TEXT NOT NULL,
		model_a        TEXT NOT NULL,
		model_b        TEXT NOT NULL,
		status         TEXT NOT NULL,
		created_at     INTEGER NOT NULL, -- Unix milliseconds
		updated_at     INTEGER NOT NULL
	);
	CREATE TABLE turns (
		battle_id     TEXT NOT NULL REFERENCES battles(id),
		idx           INTEGER NOT NULL,
		prompt        TEXT NOT NULL,
		at            INTEGER NOT NULL,
		a_content     TEXT NOT NULL,
		a_finish      TEXT NOT NULL,
		a_tokens      INTEGER NOT NULL,
		a_ttft_us     INTEGER NOT NULL,
		a_duration_us INTEGER NOT NULL,
		a_error_code  TEXT NOT NULL,
		a_error       TEXT NOT NULL,
		b_content     TEXT NOT NULL,
		b_finish      TEXT NOT NULL,
		b_tokens      INTEGER NOT NULL,
		b_ttft_us     INTEGER NOT NULL,
		b_duration_us INTEGER NOT NULL,
		b_error_code  TEXT NOT NULL,
		b_error       TEXT NOT NULL,
		PRIMARY KEY (battle_id, idx)
	) WITHOUT ROWID;
	CREATE TABLE votes (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		id             TEXT NOT NULL UNIQUE,
		battle_id      TEXT NOT NULL UNIQUE REFERENCES battles(id),
		contributor_id TEXT NOT NULL,
		winner         TEXT NOT NULL,
		strength       TEXT NOT NULL,
		reason         TEXT NOT NULL,
		created_at     INTEGER NOT NULL
	);
	CREATE TABLE health (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		at INTEGER NOT NULL
	);`,
	// 2: where a battle came from, and what it was about.
	`ALTER TABLE battles ADD COLUMN source TEXT NOT NULL DEFAULT 'arena';
	ALTER TABLE battles ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE battles ADD COLUMN category TEXT NOT NULL DEFAULT '';
	ALTER TABLE battles ADD COLUMN language TEXT NOT NULL DEFAULT '';
	CREATE INDEX battles_status ON battles(status, updated_at);
	CREATE INDEX votes_created ON votes(created_at);`,
	// 3: shippers' cursors (ship.go).
	ShipMigration,
	// 4: accounts and tokens, the model registry, campaigns (accounts.go).
	LabsMigration,
	// 5: why a battle was not anonymous (trust.go).
	LeakMigration,
	// 6: the verifiable log (log.go).
	LogMigration,
	// 7: quarantined contributors and the log of decisions (quarantine.go).
	QuarantineMigration,
	// 8: releases appended to the log (releases.go).
	ReleaseMigration,
	// 9: votes by contributor, for their points (releases.go).
	PointsMigration,
	// 10: votes' consent, contributors' defaults, terms, erasures (consent.go).
	ConsentMigration,
	// 11: the leaderboard policy's history, listings and deprecations (policy.go).
	PolicyMigration,
	// 12: a summary of every vote, for leaderboards (summaries.go).
	SummaryMigration,
	// 13: contributors' accounts, passkeys, OpenID identities, sessions (members.go).
	MembersMigration,
	// 14: gold battles (gold.go).
	GoldMigration,
	// 15: contributors' narrowings, for their download (download.go).
	NarrowingMigration,
	// 16: redeemed proof-of-work challenges (pow.go).
	PoWMigration,
	// 17: battles and turns laid out in the order they are written (layout.go).
	LayoutMigration,
	// 18: releases keyed by root and state of the log, with their licences (releases.go).
	ReleaseKeyMigration,
	// 19: the log's tree hashes in runs, a row per commit (log_runs.go).
	LogRunsMigration,
	// 20: the gold line of each vote's leaf (gold_leaf.go).
	GoldLeafMigration,
	// 21: the sides each model took in the arena's battles (battle_sides.go).
	BattleSidesMigration,
	// 22: each vote's leaf index on its row; no index of leaves by reference (log_vote_leaf.go).
	VoteLeafMigration,
	// 23: the tree hashes a leaf's append stores, in the leaf's row (log_leaf_hashes.go).
	LeafHashesMigration,
}

// SchemaVersion is the schema version this code writes.
var SchemaVersion = len(migrations)

// migrate brings db up to version target, one transaction per migration.
// Foreign keys are off while it runs and checked before each migration
// commits, as SQLite asks of a migration that rebuilds a table (its
// procedure for making other kinds of table schema changes).
func migrate(ctx context.Context, db *sql.DB, target int) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	var version int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade agora", version, len(migrations))
	}
	if version >= target {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		if _, ferr := conn.ExecContext(context.Background(), "PRAGMA foreign_keys = ON"); ferr != nil && err == nil {
			err = fmt.Errorf("migrate: %w", ferr)
		}
	}()
	for v := version; v < target; v++ {
		if err := migrateOne(ctx, conn, v); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}

// migrateOne runs migrations[v] in a transaction of its own on conn.
func migrateOne(ctx context.Context, conn *sql.Conn, v int) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return err
	}
	var table, parent string
	var rowid sql.NullInt64
	var fk int
	err = tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &rowid, &parent, &fk)
	if err == nil {
		return fmt.Errorf("a row of %s (rowid %d) refers to no row of %s", table, rowid.Int64, parent)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return err
	}
	return tx.Commit()
}
