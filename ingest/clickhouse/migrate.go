package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// CountBlockSize is how many vote sequence numbers one row group of
// pair_counts spans. See Batch and docs/clickhouse.md.
const CountBlockSize = 65536

// migration is one version of the schema. Every step is idempotent, so a
// migration that was interrupted before it was recorded is simply run again.
type migration struct {
	version int
	name    string
	steps   func(l layout) []step
}

// step is one or more statements, run in order. When ifMissing is set, the
// statements run only if that column does not exist yet: 18.16 has no
// ADD COLUMN IF NOT EXISTS.
type step struct {
	sql       []string
	ifMissing *columnRef
}

// columnRef names a column of a table of the layout's database.
type columnRef struct {
	table, column string
}

// migrations returns the schema's history, oldest first. Never edit a
// released migration; add a new one.
func migrations() []migration {
	return []migration{
		{1, "battles, turns and votes", func(l layout) []step {
			return []step{
				{sql: l.createTable(battlesTable)},
				{sql: l.createTable(turnsTable)},
				{sql: l.createTable(votesTable)},
			}
		}},
		{2, "per-pair vote counts", func(l layout) []step {
			return []step{
				{sql: l.createTable(pairCountsTable)},
				{sql: []string{backfillPairCounts(l)}},
			}
		}},
		{3, "flags of votes that are not counted", func(l layout) []step {
			var steps []step
			after := "language"
			for _, c := range voteFlagColumns {
				steps = append(steps, l.addColumn(votesTable.name, c, after)...)
				after = c.name
			}
			return steps
		}},
	}
}

// voteFlagColumns are the votes' flags that migration 3 adds: why a
// battle was not anonymous (rlhf.Battle.IdentityLeak) and its gold kind
// (rlhf.Battle.Gold). A vote with either is kept but not counted
// (rlhf.Record.Counted); votes shipped before the migration have neither.
var voteFlagColumns = []column{{"identity_leak", "String"}, {"gold", "String"}}

// backfillPairCounts fills pair_counts from the votes already shipped by an
// older schema. Each row counts the pair's votes of one block up to the
// highest sequence number among them, which is exactly what the shipper
// writes, so a later shipment of the same block replaces it.
func backfillPairCounts(l layout) string {
	return fmt.Sprintf(`INSERT INTO %s (%s)
SELECT store_id, intDiv(seq, %d) AS blk, model_a, model_b,
    countIf(winner = 'a'), countIf(winner = 'b'), countIf(winner = 'tie'), countIf(winner = 'both_bad'),
    max(seq)
FROM %s FINAL
GROUP BY store_id, blk, model_a, model_b`,
		l.writeTable(pairCountsTable.name), columnNames(pairCountsTable), CountBlockSize, l.writeTable(votesTable.name))
}

// LatestSchemaVersion is the version Migrate brings a database to.
func LatestSchemaVersion() int {
	m := migrations()
	return m[len(m)-1].version
}

// DDL returns every statement Migrate runs on an empty database for cfg, in
// order, for operators who want to read or run them by hand.
func DDL(cfg Config) []string {
	l := layoutOf(cfg)
	stmts := []string{l.createDatabase()}
	stmts = append(stmts, l.createTable(migrationsTable)[0]) // local only, as in migrate
	for _, m := range migrations() {
		for _, s := range m.steps(l) {
			stmts = append(stmts, s.sql...)
		}
	}
	return stmts
}

// Migrate creates the database and brings its schema to the latest version,
// recording each applied version in agora_migrations. Running it again
// changes nothing.
func (c *Client) Migrate(ctx context.Context) error {
	return c.migrate(ctx, migrations(), LatestSchemaVersion())
}

// migrate applies the migrations of ms up to version upTo.
func (c *Client) migrate(ctx context.Context, ms []migration, upTo int) error {
	l := c.layout
	if err := c.exec(ctx, l.createDatabase()); err != nil {
		return fmt.Errorf("create database %s: %w", l.db, err)
	}
	// The migrations table is always read and written locally: on a cluster
	// without replication each shard is migrated by the Agora servers that
	// write to it.
	if err := c.exec(ctx, l.createTable(migrationsTable)[0]); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	applied, err := c.appliedVersions(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version > upTo || applied[m.version] {
			continue
		}
		start := time.Now()
		for _, s := range m.steps(l) {
			if s.ifMissing != nil {
				ok, err := c.hasColumn(ctx, s.ifMissing.table, s.ifMissing.column)
				if err != nil {
					return fmt.Errorf("migration %d: %w", m.version, err)
				}
				if ok {
					continue
				}
			}
			for _, q := range s.sql {
				if err := c.exec(ctx, q); err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
				}
			}
		}
		if err := c.recordMigration(ctx, m); err != nil {
			return err
		}
		c.log.Info("clickhouse schema migrated", "version", m.version, "name", m.name, "took", time.Since(start))
	}
	return nil
}

func (c *Client) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := c.query(ctx, "SELECT DISTINCT version FROM "+c.layout.writeTable(migrationsTable.name))
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		applied[int(v)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	return applied, nil
}

// SchemaVersion returns the highest applied schema version, 0 for none.
func (c *Client) SchemaVersion(ctx context.Context) (int, error) {
	applied, err := c.appliedVersions(ctx)
	if err != nil {
		return 0, err
	}
	v := 0
	for a := range applied {
		v = max(v, a)
	}
	return v, nil
}

func (c *Client) recordMigration(ctx context.Context, m migration) error {
	cols := columnSet{}
	cols.add("version", []uint32{uint32(m.version)})
	cols.add("name", []string{m.name})
	cols.add("applied_at", []time.Time{time.Now().UTC()})
	if err := c.insert(ctx, c.layout.writeTable(migrationsTable.name), &cols, ""); err != nil {
		return fmt.Errorf("record migration %d: %w", m.version, err)
	}
	return nil
}

// hasColumn reports whether table t of the database has column name.
func (c *Client) hasColumn(ctx context.Context, t, name string) (bool, error) {
	var n uint64
	err := c.queryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?",
		c.layout.db, t, name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up column %s.%s: %w", t, name, err)
	}
	return n > 0, nil
}
