package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// oldLayoutStore makes at path a store of schema version (11 on),
// laid out as before LayoutMigration, that holds from's battles, turns and
// votes, and from version 12 on their summaries. Its tables are made by
// the shipped migrations themselves.
func oldLayoutStore(t *testing.T, from *Store, path string, version int) {
	t.Helper()
	old, err := open(path, version)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	ctx := context.Background()
	conn, err := old.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	battle := "id, contributor_id, model_a, model_b, status, created_at, updated_at, source, campaign_id, category, language, identity_leak"
	summary := strings.TrimSuffix(summaryColumns, ", gold")
	if version >= 14 {
		battle, summary = battle+", gold", summaryColumns
	}
	votes := "seq, id, battle_id, contributor_id, winner, strength, reason, created_at, scope, licence, leaf_scope, leaf_licence"
	stmts := []string{
		`INSERT INTO battles (` + battle + `) SELECT ` + battle + ` FROM n.battles ORDER BY seq`,
		`INSERT INTO turns SELECT b.id, t.` + strings.ReplaceAll(turnColumns, ",\n\t", ", t.") + `
			FROM n.turns t JOIN n.battles b ON b.seq = t.battle_seq`,
		`INSERT INTO votes (` + votes + `) SELECT ` + votes + ` FROM n.votes`,
	}
	if version >= 12 {
		stmts = append(stmts, `INSERT INTO vote_summaries (seq, `+summary+`) SELECT seq, `+summary+` FROM n.vote_summaries`,
			`UPDATE summaries_backfill SET done = 1`)
	}
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS n`, from.path); err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := conn.ExecContext(ctx, `DETACH DATABASE n`); err != nil {
		t.Fatal(err)
	}
}

// TestLayoutMigration checks that a store laid out as before
// LayoutMigration opens, migrates and keeps every record, battle and
// summary equal, and takes new ones after.
func TestLayoutMigration(t *testing.T) {
	s := variedStore(t)
	ctx := context.Background()
	// Battles saved turn by turn and voted on, as the arena does.
	var open []string
	for i := range 5 {
		b := testBattle(fmt.Sprintf("arena-%d", i), 3)
		open = append(open, b.ID)
		if err := s.SaveBattle(ctx, b); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			b.Status = rlhf.StatusVoted
			if err := s.SaveVote(ctx, b, testVote(b, "arena-v"+b.ID)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := layoutContents(t, s, open)
	path := filepath.Join(t.TempDir(), "old.db")
	oldLayoutStore(t, s, path, slices.Index(migrations, LayoutMigration)) // the version before it (later ones follow)
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got := layoutContents(t, m, open)
	for name := range want {
		if !slices.Equal(got[name], want[name]) {
			t.Errorf("%s after the migration:\n got %q\nwant %q", name, got[name], want[name])
		}
	}
	if g, w := schemaOf(t, m), schemaOf(t, s); !reflect.DeepEqual(g, w) {
		t.Errorf("migrated schema:\n%s\nnew store's:\n%s", g, w)
	}
	// The migrated store takes battles and votes, and reads them back.
	b := testBattle("after", 2)
	b.Status, b.Source = rlhf.StatusVoted, rlhf.SourceArena
	if err := m.SaveVote(ctx, b, testVote(b, "after-v")); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Battle(ctx, "after"); err != nil || !reflect.DeepEqual(got, b) {
		t.Errorf("battle saved after the migration = %+v, %v; want %+v", *got, err, *b)
	}
}

// layoutContents returns what s gives of its records (both ways), of the
// battles named, and of its summaries, each as strings to compare.
func layoutContents(t *testing.T, s *Store, battles []string) map[string][]string {
	t.Helper()
	out := map[string][]string{
		"RecordsWhere":  readAll(t, s.RecordsWhere, RecordFilter{}, nil),
		"ExportRecords": readAll(t, s.ExportRecords, RecordFilter{}, nil),
	}
	for _, id := range battles {
		b, err := s.Battle(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out["Battle"] = append(out["Battle"], fmt.Sprintf("%+v", *b))
	}
	for _, sum := range readSummaries(t, s) {
		out["Summaries"] = append(out["Summaries"], fmt.Sprintf("%+v", sum))
	}
	if len(out["RecordsWhere"]) < 300 || len(out["Summaries"]) < 300 {
		t.Fatalf("%d records, %d summaries: the test reads too few", len(out["RecordsWhere"]), len(out["Summaries"]))
	}
	return out
}

// schemaOf returns the columns and indexes of s's battles and turns.
func schemaOf(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT m.name, p.cid, p.name, p.type, p."notnull", coalesce(p.dflt_value, ''), p.pk
			FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.name IN ('battles', 'turns') ORDER BY 1, 2`,
		`SELECT m.name, l.name, l."unique", l.partial, '', '', '' FROM sqlite_schema m, pragma_index_list(m.name) l
			WHERE m.name IN ('battles', 'turns') ORDER BY 1, 2`,
	} {
		rows, err := s.read.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c [7]any
			if err := rows.Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6]); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(c))
		}
		rows.Close()
	}
	return out
}
