package clickhouse_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestEraseOnEveryShard erases, through a client connected to one shard
// of a two-shard cluster without replication, battles whose rows are on
// both shards: they go from both, and every other row stays.
func TestEraseOnEveryShard(t *testing.T) {
	const cluster = "agora_erase"
	shards := chtest.StartCluster(t, cluster, 2)
	ctx := context.Background()
	db := shards[0].NewConfig(t).Database
	gen := chtest.NewRecords(41)
	var clients []*clickhouse.Client
	var erased []string
	for i, srv := range shards {
		cfg := srv.NewConfig(t)
		cfg.Database, cfg.Cluster = db, cluster
		c := openConfig(t, cfg)
		if err := c.Migrate(ctx); err != nil {
			t.Fatalf("Migrate shard %d: %v", i, err)
		}
		clients = append(clients, c)
		recs := make([]rlhf.Record, 10)
		for k := range recs {
			recs[k] = gen.Next()
			if k < 3 {
				erased = append(erased, recs[k].Battle.ID)
			}
		}
		if _, err := c.Insert(ctx, seqBatch(clickhouse.NewBlockCounter(), fmt.Sprintf("store%d", i), 1, recs)); err != nil {
			t.Fatal(err)
		}
	}
	if err := clients[0].Erase(ctx, erased); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	for i, c := range clients {
		for _, q := range []struct {
			table string
			want  int
		}{{"battles_local", 7}, {"votes_local", 7}, {"turns_local", 7}} {
			rows, err := c.QueryStrings(ctx, "SELECT toString(count()) FROM "+db+"."+q.table)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := strconv.Atoi(rows[0][0]); got != q.want {
				t.Errorf("shard %d: %s has %d rows after the erasure, want %d", i, q.table, got, q.want)
			}
		}
	}
}
