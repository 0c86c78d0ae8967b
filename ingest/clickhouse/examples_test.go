package clickhouse_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/rlhf"
)

func num(v any) float64 {
	var f float64
	fmt.Sscan(fmt.Sprint(v), &f)
	return f
}

// TestExampleQueries runs every query of examples.sql on shipped votes
// (some shipped twice, unmerged) and checks their numbers against the
// records.
func TestExampleQueries(t *testing.T) {
	c, _ := open(t)
	ctx := context.Background()
	gen := chtest.NewRecords(5)
	gen.Turns = 2
	gen.FailEvery = 25
	counter := clickhouse.NewBlockCounter()
	b, all := batch(gen, counter, "store-x", 1, 600)
	// recs are the votes that count; failed are never counted as votes.
	var recs, failed []rlhf.Record
	for _, r := range all {
		if r.Failed() {
			failed = append(failed, r)
		} else {
			recs = append(recs, r)
		}
	}
	if len(failed) == 0 {
		t.Fatal("the generator made no failed battle")
	}
	for range 2 { // the second time as a blind retry
		if _, err := c.Insert(ctx, b); err != nil {
			t.Fatal(err)
		}
	}

	checks := map[string]func(t *testing.T, rows []map[string]any){
		"win_rates_per_pair": func(t *testing.T, rows []map[string]any) {
			total := 0.0
			for _, r := range rows {
				total += num(r["votes"])
				if num(r["votes"]) != num(r["a_wins"])+num(r["b_wins"])+num(r["tie_votes"]) {
					t.Errorf("row %v: votes is not the sum of wins and ties", r)
				}
			}
			if total != float64(len(recs)) {
				t.Errorf("votes add up to %v, want %d", total, len(recs))
			}
		},
		"model_records": func(t *testing.T, rows []map[string]any) {
			total := 0.0
			for _, r := range rows {
				total += num(r["battles"])
			}
			if total != 2*float64(len(recs)) {
				t.Errorf("battles add up to %v, want %d (two sides per vote)", total, 2*len(recs))
			}
		},
		"votes_per_day": func(t *testing.T, rows []map[string]any) {
			total := 0.0
			for _, r := range rows {
				total += num(r["votes"])
			}
			if total != float64(len(recs)) {
				t.Errorf("votes add up to %v, want %d", total, len(recs))
			}
		},
		"answer_lengths_per_model": func(t *testing.T, rows []map[string]any) {
			want := map[string]float64{} // every answer, failed or not
			for _, r := range all {
				want[r.Battle.ModelA] += float64(len(r.Battle.Turns))
				want[r.Battle.ModelB] += float64(len(r.Battle.Turns))
			}
			for _, r := range rows {
				m := r["model"].(string)
				if num(r["answers"]) != want[m] {
					t.Errorf("%s: %v answers, want %v", m, r["answers"], want[m])
				}
				if num(r["mean_chars"]) <= 0 {
					t.Errorf("%s: mean length %v", m, r["mean_chars"])
				}
			}
			if len(rows) != len(want) {
				t.Errorf("%d models, want %d", len(rows), len(want))
			}
		},
		"contributor_activity": func(t *testing.T, rows []map[string]any) {
			want := map[string]float64{}
			for _, r := range recs {
				want[r.Vote.ContributorID]++
			}
			for _, r := range rows {
				if id := r["contributor_id"].(string); num(r["votes"]) != want[id] {
					t.Errorf("%s: %v votes, want %v", id, r["votes"], want[id])
				}
			}
		},
		"length_vs_verdict": func(t *testing.T, rows []map[string]any) {
			want := map[string]float64{}
			for _, r := range recs {
				want[string(r.Vote.Winner)]++
			}
			for _, r := range rows {
				if w := r["winner"].(string); num(r["votes"]) != want[w] {
					t.Errorf("%s: %v votes, want %v", w, r["votes"], want[w])
				}
			}
		},
		"latest_battles_argmax": func(t *testing.T, rows []map[string]any) {
			if len(rows) != 100 {
				t.Errorf("%d rows, want 100", len(rows))
			}
			for _, r := range rows {
				if r["last_status"] != string(rlhf.StatusVoted) || num(r["turn_count"]) != 2 {
					t.Errorf("row %v, want a voted battle with 2 turns", r)
				}
			}
		},
		"failed_votes_per_model": func(t *testing.T, rows []map[string]any) {
			want := map[string]float64{}
			for _, r := range failed {
				want[r.Battle.ModelB]++ // the generator fails side b
			}
			got := map[string]float64{}
			for _, r := range rows {
				got[r["model"].(string)] = num(r["failed_votes"])
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("failed votes per model = %v, want %v", got, want)
			}
		},
		"votes_per_store": func(t *testing.T, rows []map[string]any) {
			if len(rows) != 1 || num(rows[0]["votes"]) != float64(len(all)) || num(rows[0]["last_seq"]) != float64(len(all)) {
				t.Errorf("rows %v, want one store with %d votes up to seq %d", rows, len(all), len(all))
			}
		},
		"exactly_once_audit": func(t *testing.T, rows []map[string]any) {
			r := rows[0]
			if num(r["physical_rows"]) != 2*float64(len(all)) || num(r["distinct_ids"]) != float64(len(all)) || num(r["final_rows"]) != float64(len(all)) {
				t.Errorf("audit %v, want %d physical rows (a blind retry) and %d distinct and final", r, 2*len(all), len(all))
			}
		},
	}
	n, err := c.FailedVotes(ctx)
	if err != nil || n != int64(len(failed)) {
		t.Errorf("FailedVotes() = %d, %v; want %d", n, err, len(failed))
	}
	checkPairCounts(t, c, all)
	where, err := c.PairCountsWhere(ctx, clickhouse.Filter{Sources: []string{rlhf.SourceArena}})
	if err != nil || !reflect.DeepEqual(where, chtest.CountRecords(all)) {
		t.Errorf("PairCountsWhere = %v, %v; want %v (failed battles left out)", where, err, chtest.CountRecords(all))
	}
	queries := clickhouse.ExampleQueries(c.Config().Database)
	if len(queries) != len(checks) {
		t.Errorf("examples.sql has %d queries, the test checks %d", len(queries), len(checks))
	}
	for _, q := range queries {
		t.Run(q.Name, func(t *testing.T) {
			if q.Doc == "" || strings.Contains(q.SQL, "agora.") {
				t.Errorf("query %s: doc %q, SQL still reads database agora", q.Name, q.Doc)
			}
			rows, err := c.QueryMaps(ctx, q.SQL)
			if err != nil {
				t.Fatalf("%s: %v\n%s", q.Name, err, q.SQL)
			}
			if len(rows) == 0 {
				t.Fatalf("%s returned no rows", q.Name)
			}
			check := checks[q.Name]
			if check == nil {
				t.Fatalf("no check for %s", q.Name)
			}
			check(t, rows)
		})
	}
}
