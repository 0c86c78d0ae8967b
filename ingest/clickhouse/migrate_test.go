package clickhouse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// schemaSnapshot describes a database: its tables with their engines and
// columns, and the applied migrations.
func schemaSnapshot(t *testing.T, c *clickhouse.Client) [][]string {
	t.Helper()
	db := c.Config().Database
	ctx := context.Background()
	var snap [][]string
	for _, q := range []string{
		"SELECT name, engine_full FROM system.tables WHERE database = '" + db + "' ORDER BY name",
		"SELECT table, name, type FROM system.columns WHERE database = '" + db + "'", // 18.16 has no position column; rows come in column order
		"SELECT toString(version), name, toString(count()) FROM " + db + ".agora_migrations GROUP BY version, name ORDER BY version",
	} {
		rows, err := c.QueryStrings(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		snap = append(snap, rows...)
	}
	return snap
}

func TestMigrateTwiceChangesNothing(t *testing.T) {
	c, _ := open(t) // migrated once
	ctx := context.Background()
	before := schemaSnapshot(t, c)
	if err := c.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	after := schemaSnapshot(t, c)
	if !slices.EqualFunc(before, after, slices.Equal) {
		t.Errorf("schema changed by a second Migrate:\nbefore %q\nafter  %q", before, after)
	}
	v, err := c.SchemaVersion(ctx)
	if err != nil || v != clickhouse.LatestSchemaVersion() {
		t.Errorf("SchemaVersion() = %d, %v; want %d", v, err, clickhouse.LatestSchemaVersion())
	}
}

// An interrupted migration (its statements ran, its record did not) runs
// again without harm.
func TestMigrateAfterInterruption(t *testing.T) {
	c, _ := open(t)
	ctx := context.Background()
	db := c.Config().Database
	before := schemaSnapshot(t, c)
	if err := c.Exec(ctx, "ALTER TABLE "+db+".agora_migrations DELETE WHERE version >= 2"); err != nil {
		t.Fatal(err)
	}
	waitMutations(t, c)
	if v, err := c.SchemaVersion(ctx); err != nil || v != 1 {
		t.Fatalf("SchemaVersion() after deleting the record = %d, %v; want 1", v, err)
	}
	if err := c.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if after := schemaSnapshot(t, c); !slices.EqualFunc(before, after, slices.Equal) {
		t.Errorf("schema differs after re-running a migration:\nbefore %q\nafter  %q", before, after)
	}
}

func waitMutations(t *testing.T, c *clickhouse.Client) {
	t.Helper()
	for range 200 {
		rows, err := c.QueryStrings(context.Background(),
			"SELECT toString(count()) FROM system.mutations WHERE database = '"+c.Config().Database+"' AND is_done = 0")
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][0] == "0" {
			return
		}
		sleep()
	}
	t.Fatal("mutations did not finish")
}

// A database at schema version 1, with votes shipped by that version's
// Agora, upgrades: the pair counts are backfilled from the votes.
func TestUpgradeFromVersion1(t *testing.T) {
	srv := chtest.Start(t)
	c := openConfig(t, srv.NewConfig(t))
	ctx := context.Background()
	if err := c.MigrateTo(ctx, 1); err != nil {
		t.Fatalf("MigrateTo(1): %v", err)
	}
	gen := chtest.NewRecords(7)
	counter := clickhouse.NewBlockCounter()
	b, recs := batch(gen, counter, "old-store", 1, 900)
	b.Counts = nil // version 1 has no pair_counts table
	if _, err := c.Insert(ctx, b); err != nil {
		t.Fatalf("Insert at version 1: %v", err)
	}
	if err := c.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from version 1: %v", err)
	}
	checkPairCounts(t, c, recs)

	// Shipping resumes on the upgraded schema: the rest of the block
	// replaces the backfilled rows.
	b2, more := batch(gen, counter, "old-store", 901, 400)
	if _, err := c.Insert(ctx, b2); err != nil {
		t.Fatalf("Insert after upgrade: %v", err)
	}
	checkPairCounts(t, c, append(recs, more...))
	a, err := c.AuditVotes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkAudit(t, "votes", a, 1300)
}
