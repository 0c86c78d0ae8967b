package clickhouse_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestUncountedAndExcluded ships votes of which some are not anonymous and
// some are gold battles to a real ClickHouse: neither the pair_counts
// table nor the filtered counts include them, UncountedVotes counts them,
// and a contributor filter keeps or drops one contributor's votes (by the
// id Agora knows, pseudonymised as shipped).
func TestUncountedAndExcluded(t *testing.T) {
	srv := chtest.Start(t)
	cfg := srv.NewConfig(t)
	cfg.ContributorKey = []byte("counted-test-key")
	c := openConfig(t, cfg)
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	gen := chtest.NewRecords(5, "m1", "m2", "m3")
	counter := clickhouse.NewBlockCounter()
	b := &clickhouse.Batch{StoreID: "s1"}
	var recs []rlhf.Record
	uncounted := 0
	for i := range 240 {
		r := gen.Next()
		r.Vote.ContributorID = fmt.Sprintf("c%d", i%6)
		r.Battle.ContributorID = r.Vote.ContributorID
		switch i % 8 {
		case 3:
			r.Battle.IdentityLeak = "the prompt asks who the model is"
		case 5:
			r.Battle.Gold, r.Battle.GoldWinner = rlhf.GoldTruncated, rlhf.SideA
		}
		if !r.Failed() && !r.Counted() {
			uncounted++
		}
		recs = append(recs, r)
	}
	for i := range recs {
		b.Records = append(b.Records, clickhouse.SeqRecord{Seq: int64(i + 1), Record: &recs[i]})
		counter.Add(int64(i+1), &recs[i])
	}
	b.Counts = counter.Counts(1, int64(len(recs)))
	if _, err := c.Insert(ctx, b); err != nil {
		t.Fatal(err)
	}
	checkPairCounts(t, c, recs) // CountRecords leaves out what Counted does
	n, err := c.UncountedVotes(ctx)
	if err != nil || n != int64(uncounted) || uncounted == 0 {
		t.Errorf("UncountedVotes = %d, %v; want %d", n, err, uncounted)
	}
	var mine, others []rlhf.Record
	for _, r := range recs {
		if r.Vote.ContributorID == "c2" {
			mine = append(mine, r)
		} else {
			others = append(others, r)
		}
	}
	for _, tc := range []struct {
		f    clickhouse.Filter
		want []rlhf.Record
	}{
		{clickhouse.Filter{Contributors: []string{"c2"}}, mine},
		{clickhouse.Filter{ExcludeContributors: []string{"c2"}}, others},
	} {
		got, err := c.PairCountsWhere(ctx, tc.f)
		if w := chtest.CountRecords(tc.want); err != nil || !slices.Equal(got, w) {
			t.Errorf("PairCountsWhere(%+v) = %v, %v\nwant %v", tc.f, got, err, w)
		}
	}
}
