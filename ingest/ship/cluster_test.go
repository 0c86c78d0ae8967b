package ship_test

import (
	"context"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/rlhf"
)

// pairsOf turns ClickHouse's ordered pair counts into the Bradley–Terry
// input of package analytics, ties and "both bad" as ties.
func pairsOf(counts []clickhouse.PairCount) ([]string, []analytics.Pair) {
	idx := map[string]int{}
	for _, p := range counts {
		idx[p.ModelA], idx[p.ModelB] = 0, 0
	}
	models := make([]string, 0, len(idx))
	for m := range idx {
		models = append(models, m)
	}
	sort.Strings(models)
	for i, m := range models {
		idx[m] = i
	}
	merged := map[[2]int]*analytics.Pair{}
	for _, p := range counts {
		i, j := idx[p.ModelA], idx[p.ModelB]
		wi, wj := float64(p.WinsA), float64(p.WinsB)
		if i > j {
			i, j, wi, wj = j, i, wj, wi
		}
		q := merged[[2]int{i, j}]
		if q == nil {
			q = &analytics.Pair{I: i, J: j}
			merged[[2]int{i, j}] = q
		}
		q.WinsI += wi
		q.WinsJ += wj
		q.Ties += float64(p.Ties + p.BothBad)
	}
	pairs := make([]analytics.Pair, 0, len(merged))
	for _, q := range merged {
		pairs = append(pairs, *q)
	}
	sort.Slice(pairs, func(a, b int) bool {
		return pairs[a].I < pairs[b].I || pairs[a].I == pairs[b].I && pairs[a].J < pairs[b].J
	})
	return models, pairs
}

// ratings fits Bradley–Terry and returns each model's log-strength.
func ratings(t *testing.T, models []string, pairs []analytics.Pair) map[string]float64 {
	t.Helper()
	fit, err := analytics.FitNewton(len(models), pairs, analytics.FitOptions{Prior: analytics.DefaultPrior})
	if err != nil {
		t.Fatalf("FitNewton: %v", err)
	}
	out := map[string]float64{}
	for i, m := range models {
		out[m] = fit.Beta[i]
	}
	return out
}

// Two Agora servers, each shipping to its own shard of a two-shard cluster:
// one leaderboard read through the Distributed tables equals the
// leaderboard of all their votes together.
func TestTwoShardsOneLeaderboard(t *testing.T) {
	const cluster = "agora_test"
	shards := chtest.StartCluster(t, cluster, 2)
	var (
		clients []*clickhouse.Client
		all     []rlhf.Record
		runs    []*running
	)
	db := shards[0].NewConfig(t).Database
	for i, srv := range shards {
		cfg := srv.NewConfig(t)
		cfg.Database = db
		cfg.Cluster = cluster
		c := openClient(t, cfg)
		clients = append(clients, c)
		st := newStore(t)
		gen := chtest.NewRecords(uint64(31+i), []string{
			"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
		}[i:i+6]...)
		gen.Prefix = []string{"east", "west"}[i]
		importVotes(t, st, gen, 3000+1000*i)
		r := startShipper(t, st, c, ship.Options{BatchSize: 800})
		runs = append(runs, r)
		waitDrained(t, r.Shipper, st, 60*time.Second)
		all = append(all, allRecords(t, st)...)
	}
	if runs[0].Status().StoreID == runs[1].Status().StoreID {
		t.Fatalf("both stores have id %s", runs[0].Status().StoreID)
	}

	// Through the Distributed tables, either server sees every vote.
	for i, c := range clients {
		rows, err := c.PairCountsWhere(context.Background(), clickhouse.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, p := range rows {
			n += p.Total()
		}
		if n != int64(len(all)) {
			t.Errorf("shard %d: Distributed votes table counts %d votes, want %d", i, n, len(all))
		}
	}

	wantModels, wantPairs := func() ([]string, []analytics.Pair) {
		var d analytics.Dataset
		for i := range all {
			if err := d.AddRecord(&all[i]); err != nil {
				t.Fatal(err)
			}
		}
		c := d.Count(analytics.Filter{})
		return c.Models, c.Pairs()
	}()
	want := ratings(t, wantModels, wantPairs)
	for i, c := range clients {
		checkExactlyOnce(t, c, all)
		counts, err := c.PairCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		models, pairs := pairsOf(counts)
		got := ratings(t, models, pairs)
		if len(got) != len(want) || len(models) != 7 {
			t.Fatalf("server %d: %d models rated, want %d (7)", i, len(got), len(want))
		}
		for m, w := range want {
			if g, ok := got[m]; !ok || math.Abs(g-w) > 1e-9 {
				t.Errorf("server %d: rating of %s = %v, want %v", i, m, g, w)
			}
		}
	}
	if !slices.Equal(chtest.CountRecords(all), mustPairCounts(t, clients[1])) {
		t.Errorf("the two servers read different pair counts")
	}
}

func mustPairCounts(t *testing.T, c *clickhouse.Client) []clickhouse.PairCount {
	t.Helper()
	p, err := c.PairCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}
