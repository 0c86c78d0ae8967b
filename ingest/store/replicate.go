package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// Replicate adds times copies of every stored battle with its vote, turns
// and vote summary, under new ids, in one transaction: copy k of a battle
// id X is "r00000k-X" (of a vote id likewise), its seq the battle's plus k
// times the largest battle seq (votes likewise), its times (not the
// turns') the battle's plus k times the span of the battles' times. It is for benchmarks that
// need a store of many millions of battles: SQLite copies the rows itself,
// appended in order, many times faster than importing them. Stores must
// hold votes only of battles (as imports make them).
func (s *Store) Replicate(ctx context.Context, times int) error {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("replicate: %w", err)
	}
	defer conn.Close()
	im := &importer{s: s, ctx: ctx, conn: conn}
	if err := im.begin(); err != nil {
		return errors.Join(err, im.end())
	}
	// The copies go into the unique indexes of ids at a few places: a
	// large page cache keeps those pages from spilling to the WAL. The
	// other indexes are dropped and made again after the copies (see
	// replicate).
	if _, err := im.tx.ExecContext(ctx, "PRAGMA cache_size = -1048576"); err != nil {
		im.tx.Rollback()
		return errors.Join(fmt.Errorf("replicate: %w", err), im.end())
	}
	err = withoutIndexes(ctx, im.tx, func() error { return replicate(ctx, im.tx, times) })
	if err != nil {
		im.tx.Rollback()
	} else if err = im.tx.Commit(); err != nil {
		err = fmt.Errorf("replicate: commit: %w", err)
	}
	if rerr := im.end(); rerr != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
		err = errors.Join(err, rerr)
	}
	return err
}

// withoutIndexes runs copyRows with the indexes the records' tables were
// given by CREATE INDEX dropped, and makes them again after it: copies
// would go into them (by contributor, by time, by status) at thousands of
// places at once, while making an index sorts its entries once. The unique
// indexes of ids (the tables' own constraints) stay. tx must hold the
// store's write lock: readers see the indexes as they were until it
// commits, and a rollback keeps them.
func withoutIndexes(ctx context.Context, tx *sql.Tx, copyRows func() error) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
		AND tbl_name IN ('battles', 'turns', 'votes', 'vote_summaries') ORDER BY name`)
	if err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	var names, makeSQL []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return fmt.Errorf("indexes: %w", err)
		}
		names, makeSQL = append(names, name), append(makeSQL, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return fmt.Errorf("drop index %s: %w", name, err)
		}
	}
	if err := copyRows(); err != nil {
		return err
	}
	for i, q := range makeSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("make index %s again: %w", names[i], err)
		}
	}
	return nil
}

// replicate runs Replicate's copies in tx.
func replicate(ctx context.Context, tx *sql.Tx, times int) error {
	var battles, votes int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM battles`).Scan(&battles); err != nil {
		return fmt.Errorf("replicate: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM votes`).Scan(&votes); err != nil {
		return fmt.Errorf("replicate: %w", err)
	}
	// Copy k's times are the originals' plus k times their span.
	var span int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(created_at) - min(created_at), 0) + 1 FROM battles`).Scan(&span); err != nil {
		return fmt.Errorf("replicate: %w", err)
	}
	for k := int64(1); k <= int64(times); k++ {
		// How each table's key columns change in copy k, and which rows
		// are the originals; the other columns are copied as they are.
		prefix := fmt.Sprintf("'r%06d-' || ", k)
		later := fmt.Sprintf("%d * ?1 + ", k) // after the originals' last time
		tables := []struct {
			name, orig string
			key        map[string]string
		}{
			{"battles", fmt.Sprint("seq <= ", battles), map[string]string{"seq": fmt.Sprint("seq + ", k*battles), "id": prefix + "id",
				"created_at": later + "created_at", "updated_at": later + "updated_at"}},
			{"turns", fmt.Sprint("battle_seq <= ", battles), map[string]string{"battle_seq": fmt.Sprint("battle_seq + ", k*battles)}},
			{"votes", fmt.Sprint("seq <= ", votes), map[string]string{"seq": fmt.Sprint("seq + ", k*votes), "id": prefix + "id", "battle_id": prefix + "battle_id",
				"created_at": later + "created_at"}},
			{"vote_summaries", fmt.Sprint("seq <= ", votes), map[string]string{"seq": fmt.Sprint("seq + ", k*votes), "at": "CASE at WHEN 0 THEN 0 ELSE " + later + "at END"}},
		}
		for _, t := range tables {
			q, err := copyQuery(ctx, tx, t.name, t.orig, t.key)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q, span); err != nil {
				return fmt.Errorf("replicate %s: %w", t.name, err)
			}
		}
	}
	return nil
}

// copyQuery returns an INSERT … SELECT copying the rows of table that
// orig selects, in the order of orig's column, with key's expressions in
// place of its columns.
func copyQuery(ctx context.Context, tx *sql.Tx, table, orig string, key map[string]string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return "", fmt.Errorf("replicate: %w", err)
	}
	defer rows.Close()
	var cols, exprs []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", fmt.Errorf("replicate: %w", err)
		}
		cols = append(cols, c)
		exprs = append(exprs, c)
		if e, ok := key[c]; ok {
			exprs[len(exprs)-1] = e
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("replicate: %w", err)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s ORDER BY %s",
		table, strings.Join(cols, ", "), strings.Join(exprs, ", "), table, orig, strings.Fields(orig)[0]), nil
}
