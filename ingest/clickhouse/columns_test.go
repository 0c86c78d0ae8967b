package clickhouse

import (
	"slices"
	"testing"
)

// TestInsertColumnsAreTheSchemas checks that each insert sends exactly its
// table's columns (inserts name their columns, so the order is free), and
// that votes inserted as before migration 3 leave out its columns.
func TestInsertColumnsAreTheSchemas(t *testing.T) {
	names := func(cols []column) []string {
		var out []string
		for _, c := range cols {
			out = append(out, c.name)
		}
		return out
	}
	insertNames := func(cs *columnSet) []string { return cs.names }
	for _, tc := range []struct {
		table string
		got   []string
		want  []string
	}{
		{"battles", insertNames(newColumns(battleColumns(), 0).set()), names(battlesTable.columns)},
		{"turns", insertNames(newColumns(turnColumns(), 0).set()), names(turnsTable.columns)},
		{"votes before migration 3", insertNames(newColumns(voteColumns(true), 0).set()), names(votesTable.columns)},
		{"votes", insertNames(newColumns(voteColumns(false), 0).set()), names(append(slices.Clone(votesTable.columns), voteFlagColumns...))},
	} {
		got, want := slices.Sorted(slices.Values(tc.got)), slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: insert columns %v, want the schema's %v", tc.table, got, want)
		}
	}
}
