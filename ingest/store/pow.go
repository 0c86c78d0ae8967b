package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PoWMigration keeps the nonces of redeemed proof-of-work challenges until
// they expire, so that a challenge redeems once even across restarts
// (httpapi.PoWSpent).
const PoWMigration = `CREATE TABLE pow_spent (
		nonce      BLOB PRIMARY KEY,
		expires_at INTEGER NOT NULL -- Unix milliseconds
	) WITHOUT ROWID;
	CREATE INDEX pow_spent_expiry ON pow_spent(expires_at);`

// SpendPoW records a challenge's nonce as redeemed until expires and
// reports whether it was not redeemed before. Nonces that expired are
// dropped on the way.
func (s *Store) SpendPoW(ctx context.Context, nonce []byte, expires time.Time) (fresh bool, err error) {
	err = s.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM pow_spent WHERE expires_at < ?", time.Now().UnixMilli()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO pow_spent (nonce, expires_at) VALUES (?, ?)", nonce, ms(expires))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("spend a proof of work: %w", err)
	}
	return fresh, nil
}
