package clickhouse

import (
	"fmt"
	"strings"
)

// column is one column of a table: its name and ClickHouse type.
type column struct {
	name, typ string
}

// table describes one logical table. In cluster mode it becomes a local
// table <name>_local on every shard and a Distributed table <name> over them.
type table struct {
	name        string
	columns     []column
	engine      string // ReplacingMergeTree; Replicated is prefixed in replicated mode
	version     string // the ReplacingMergeTree version column
	partitionBy string // empty: one partition
	orderBy     string
	shardKey    string // Distributed sharding key; Agora itself writes to local tables
}

// layout is how the logical tables map onto servers: one server, or a
// cluster with or without replication.
type layout struct {
	db         string
	cluster    string
	replicated bool
}

func layoutOf(c Config) layout {
	return layout{db: c.Database, cluster: c.Cluster, replicated: c.Replicated}
}

// readTable is the table queries read: the Distributed table in cluster
// mode, which sees every shard.
func (l layout) readTable(name string) string { return l.db + "." + name }

// writeTable is the table Agora inserts into: on a cluster, the local table
// of the shard Agora is connected to. Inserting through a Distributed table
// would queue the rows on the receiving server and acknowledge them before
// they reach their shard.
func (l layout) writeTable(name string) string {
	if l.cluster != "" {
		return l.db + "." + name + "_local"
	}
	return l.db + "." + name
}

// onCluster is the ON CLUSTER clause of DDL, used only with replication:
// distributed DDL needs ZooKeeper or ClickHouse Keeper, which replicated
// clusters have anyway.
func (l layout) onCluster() string {
	if l.replicated {
		return " ON CLUSTER " + l.cluster
	}
	return ""
}

// createDatabase returns the CREATE DATABASE statement.
func (l layout) createDatabase() string {
	return "CREATE DATABASE IF NOT EXISTS " + l.db + l.onCluster()
}

// createTable returns the statements that create t: one on a single server,
// the local table and the Distributed table on a cluster.
func (l layout) createTable(t table) []string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = "    " + c.name + " " + c.typ
	}
	colList := "(\n" + strings.Join(cols, ",\n") + "\n)"

	engine := t.engine + "(" + t.version + ")"
	if l.replicated {
		engine = fmt.Sprintf("Replicated%s('/clickhouse/tables/{shard}/%s/%s_local', '{replica}', %s)",
			t.engine, l.db, t.name, t.version)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s%s\n%s\nENGINE = %s", l.writeTable(t.name), l.onCluster(), colList, engine)
	if t.partitionBy != "" {
		fmt.Fprintf(&b, "\nPARTITION BY %s", t.partitionBy)
	}
	fmt.Fprintf(&b, "\nORDER BY (%s)", t.orderBy)
	stmts := []string{b.String()}
	if l.cluster != "" {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s\n%s\nENGINE = Distributed('%s', '%s', '%s_local', %s)",
			l.readTable(t.name), l.onCluster(), colList, l.cluster, l.db, t.name, t.shardKey))
	}
	return stmts
}

// addColumn returns the steps that add c to t after column after: the local
// table first, then the Distributed table. Each runs only if its table lacks
// the column.
func (l layout) addColumn(t string, c column, after string) []step {
	stmt := func(name string) string {
		s := fmt.Sprintf("ALTER TABLE %s.%s%s ADD COLUMN %s %s", l.db, name, l.onCluster(), c.name, c.typ)
		if after != "" {
			s += " AFTER " + after
		}
		return s
	}
	names := []string{t}
	if l.cluster != "" {
		names = []string{t + "_local", t}
	}
	var steps []step
	for _, n := range names {
		steps = append(steps, step{sql: []string{stmt(n)}, ifMissing: &columnRef{table: n, column: c.name}})
	}
	return steps
}

// The tables. Their columns are documented in docs/clickhouse.md; keep the
// two in step.
var (
	battlesTable = table{
		name: "battles",
		columns: []column{
			{"store_id", "String"},
			{"id", "String"},
			{"contributor_id", "String"},
			{"model_a", "String"},
			{"model_b", "String"},
			{"status", "String"},
			{"source", "String"},
			{"campaign_id", "String"},
			{"category", "String"},
			{"language", "String"},
			{"turns", "UInt16"},
			{"created_at", "DateTime('UTC')"},
			{"created_at_ms", "Int64"},
			{"updated_at", "DateTime('UTC')"},
			{"updated_at_ms", "Int64"},
			{"version", "UInt64"},
		},
		engine:      "ReplacingMergeTree",
		version:     "version",
		partitionBy: "toYYYYMM(created_at)",
		orderBy:     "id",
		shardKey:    "cityHash64(id)",
	}

	turnsTable = table{
		name: "turns",
		columns: []column{
			{"battle_id", "String"},
			{"idx", "UInt16"},
			{"model_a", "String"},
			{"model_b", "String"},
			{"prompt", "String"},
			{"at", "DateTime('UTC')"},
			{"at_ms", "Int64"},
			{"answer_a", "String"},
			{"answer_b", "String"},
			{"finish_a", "String"},
			{"finish_b", "String"},
			{"error_a", "String"},
			{"error_b", "String"},
			{"tokens_a", "UInt32"},
			{"tokens_b", "UInt32"},
			{"ttft_a_ms", "UInt32"},
			{"ttft_b_ms", "UInt32"},
			{"duration_a_ms", "UInt32"},
			{"duration_b_ms", "UInt32"},
			{"battle_created_at", "DateTime('UTC')"},
			{"version", "UInt64"},
		},
		engine:      "ReplacingMergeTree",
		version:     "version",
		partitionBy: "toYYYYMM(battle_created_at)",
		orderBy:     "battle_id, idx",
		shardKey:    "cityHash64(battle_id)",
	}

	votesTable = table{
		name: "votes",
		columns: []column{
			{"store_id", "String"},
			{"seq", "UInt64"},
			{"id", "String"},
			{"battle_id", "String"},
			{"contributor_id", "String"},
			{"model_a", "String"},
			{"model_b", "String"},
			{"winner", "Enum8('a' = 1, 'b' = 2, 'tie' = 3, 'both_bad' = 4)"},
			{"strength", "String"},
			{"reason", "String"},
			{"source", "String"},
			{"category", "String"},
			{"language", "String"},
			{"created_at", "DateTime('UTC')"},
			{"created_at_ms", "Int64"},
			{"version", "UInt64"},
		},
		engine:      "ReplacingMergeTree",
		version:     "version",
		partitionBy: "toYYYYMM(created_at)",
		orderBy:     "id",
		shardKey:    "cityHash64(battle_id)",
	}

	pairCountsTable = table{
		name: "pair_counts",
		columns: []column{
			{"store_id", "String"},
			{"block", "UInt64"},
			{"model_a", "String"},
			{"model_b", "String"},
			{"wins_a", "UInt64"},
			{"wins_b", "UInt64"},
			{"ties", "UInt64"},
			{"bothbad", "UInt64"},
			{"version", "UInt64"},
		},
		engine:   "ReplacingMergeTree",
		version:  "version",
		orderBy:  "store_id, block, model_a, model_b",
		shardKey: "cityHash64(store_id, block)",
	}

	migrationsTable = table{
		name: "agora_migrations",
		columns: []column{
			{"version", "UInt32"},
			{"name", "String"},
			{"applied_at", "DateTime('UTC')"},
		},
		engine:   "ReplacingMergeTree",
		version:  "applied_at",
		orderBy:  "version",
		shardKey: "version",
	}
)

// columnNames returns t's column names joined for an INSERT column list.
func columnNames(t table) string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}
