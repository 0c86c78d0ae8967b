package clickhouse

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDDL compares the generated DDL with the golden files in testdata, so
// that every change to the schema is reviewed as SQL. Run with -update to
// accept a change.
func TestDDL(t *testing.T) {
	cases := []struct {
		file string
		cfg  Config
	}{
		{"ddl_single.sql", Config{Database: "agora"}},
		{"ddl_cluster.sql", Config{Database: "agora", Cluster: "agora_cluster"}},
		{"ddl_replicated.sql", Config{Database: "agora", Cluster: "agora_cluster", Replicated: true}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			got := strings.Join(DDL(tc.cfg), ";\n\n") + ";\n"
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("DDL(%+v) differs from %s (run go test -update to accept):\n%s", tc.cfg, path, got)
			}
		})
	}
}

// The parts of the cluster DDL that matter, checked one by one so that a
// golden file accepted by mistake is still caught.
func TestClusterDDL(t *testing.T) {
	repl := strings.Join(DDL(Config{Database: "agora", Cluster: "c1", Replicated: true}), "\n")
	plain := strings.Join(DDL(Config{Database: "agora", Cluster: "c1"}), "\n")
	single := strings.Join(DDL(Config{Database: "agora"}), "\n")
	for _, want := range []string{
		"CREATE DATABASE IF NOT EXISTS agora ON CLUSTER c1",
		"CREATE TABLE IF NOT EXISTS agora.votes_local ON CLUSTER c1",
		"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/agora/votes_local', '{replica}', version)",
		"CREATE TABLE IF NOT EXISTS agora.votes ON CLUSTER c1",
		"ENGINE = Distributed('c1', 'agora', 'votes_local', cityHash64(battle_id))",
		"ENGINE = Distributed('c1', 'agora', 'pair_counts_local', cityHash64(store_id, block))",
		"INSERT INTO agora.pair_counts_local",
		"FROM agora.votes_local FINAL",
	} {
		if !strings.Contains(repl, want) {
			t.Errorf("replicated cluster DDL lacks %q", want)
		}
	}
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS agora.votes_local\n",
		"ENGINE = ReplacingMergeTree(version)",
		"ENGINE = Distributed('c1', 'agora', 'votes_local', cityHash64(battle_id))",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("cluster DDL lacks %q", want)
		}
	}
	if strings.Contains(plain, "ON CLUSTER") || strings.Contains(plain, "Replicated") {
		t.Errorf("cluster DDL without replication uses ON CLUSTER or Replicated engines:\n%s", plain)
	}
	if strings.Contains(single, "_local") || strings.Contains(single, "Distributed") || strings.Contains(single, "ON CLUSTER") {
		t.Errorf("single-server DDL mentions cluster tables:\n%s", single)
	}
}

func TestAddColumnSteps(t *testing.T) {
	l := layout{db: "agora", cluster: "c1", replicated: true}
	steps := l.addColumn("votes", column{"flag", "UInt8"}, "reason")
	want := []string{
		"ALTER TABLE agora.votes_local ON CLUSTER c1 ADD COLUMN flag UInt8 AFTER reason",
		"ALTER TABLE agora.votes ON CLUSTER c1 ADD COLUMN flag UInt8 AFTER reason",
	}
	if len(steps) != len(want) {
		t.Fatalf("addColumn gave %d steps, want %d", len(steps), len(want))
	}
	for i, s := range steps {
		if len(s.sql) != 1 || s.sql[0] != want[i] {
			t.Errorf("step %d = %q, want %q", i, s.sql, want[i])
		}
		if s.ifMissing == nil || s.ifMissing.column != "flag" {
			t.Errorf("step %d runs unconditionally; want it only when the column is missing", i)
		}
	}
}
