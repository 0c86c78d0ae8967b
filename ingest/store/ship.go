package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// ShipMigration creates the table of shippers' cursors: how far each
// shipper (the ClickHouse shipper is "clickhouse") has delivered votes
// downstream, and the random id that names this store's rows there. It is
// written with IF NOT EXISTS so that it can run both as a numbered
// migration and on first use (ensureShipCursors).
const ShipMigration = `CREATE TABLE IF NOT EXISTS ship_cursors (
		name       TEXT PRIMARY KEY,
		store_id   TEXT NOT NULL,
		seq        INTEGER NOT NULL, -- highest vote seq acknowledged downstream
		updated_at INTEGER NOT NULL  -- Unix milliseconds
	);`

// ensureShipCursors creates the cursor table if no migration has yet.
func (s *Store) ensureShipCursors(ctx context.Context) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, ShipMigration)
		return err
	})
}

// ShipCursor returns the id that names this store's rows downstream and the
// highest vote seq that shipper name has delivered. The first call for a
// name creates the cursor at 0 with a fresh random store id.
func (s *Store) ShipCursor(ctx context.Context, name string) (storeID string, seq int64, err error) {
	if err := s.ensureShipCursors(ctx); err != nil {
		return "", 0, fmt.Errorf("ship cursor %s: %w", name, err)
	}
	err = s.do(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT store_id, seq FROM ship_cursors WHERE name = ?", name).Scan(&storeID, &seq)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		storeID, seq = newStoreID(), 0
		_, err = tx.ExecContext(ctx, "INSERT INTO ship_cursors (name, store_id, seq, updated_at) VALUES (?, ?, 0, ?)",
			name, storeID, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("ship cursor %s: %w", name, err)
	}
	return storeID, seq, nil
}

// SaveShipCursor records that shipper name has delivered every vote up to
// seq. It returns once that is committed. A cursor never moves back.
func (s *Store) SaveShipCursor(ctx context.Context, name string, seq int64) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE ship_cursors SET seq = max(seq, ?), updated_at = ? WHERE name = ?",
			seq, time.Now().UnixMilli(), name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("no cursor named %q (call ShipCursor first): %v", name, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save ship cursor %s at %d: %w", name, seq, err)
	}
	return nil
}

// RecordsAfter calls fn for at most limit voted battles whose vote seq is
// above after, in seq order. Like Records, it reuses r between calls.
func (s *Store) RecordsAfter(ctx context.Context, after int64, limit int, fn func(seq int64, r *rlhf.Record) error) error {
	return s.RecordsWhere(ctx, RecordFilter{AfterSeq: after, Limit: limit}, fn)
}

// LastSeq returns the highest committed vote seq, 0 when there is none.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM votes").Scan(&seq); err != nil {
		return 0, fmt.Errorf("last vote seq: %w", err)
	}
	return seq, nil
}

// newStoreID returns a random UUID (version 4) in its usual text form.
func newStoreID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
