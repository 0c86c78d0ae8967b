package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// TestClickHouseBoardCoalesces asks a ClickHouse leaderboard for the same
// board from many goroutines at once, with nothing kept: the server sees
// the queries of one board (counted by ClickHouse itself, in
// system.events), not one set per request. A board with a filter and
// excluded contributors is counted as the unfiltered one less theirs.
func TestClickHouseBoardCoalesces(t *testing.T) {
	srv := chtest.Start(t)
	ch, err := clickhouse.Open(srv.NewConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	ctx := context.Background()
	if err := ch.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	gen, counter := chtest.NewRecords(7, "m1", "m2", "m3", "m4"), clickhouse.NewBlockCounter()
	b := &clickhouse.Batch{StoreID: "s"}
	for i := range 300 {
		r := gen.Next()
		b.Records = append(b.Records, clickhouse.SeqRecord{Seq: int64(i + 1), Record: &r})
		counter.Add(int64(i+1), &r)
	}
	b.Counts = counter.Counts(1, 300)
	if _, err := ch.Insert(ctx, b); err != nil {
		t.Fatal(err)
	}

	board := analytics.NewCountsBoard(clickhouseCounts{ch}, time.Hour)
	opt := analytics.DefaultOptions()
	opt.Rounds = 20
	selects := func() int64 {
		t.Helper()
		n, err := srv.Event("SelectQuery")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := selects()
	want, err := board.Leaderboard(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	one := selects() - before // one board's queries, and the count's own
	if len(want.Models) != 4 || want.Battles == 0 {
		t.Fatalf("board of %d models over %d battles, want 4 models", len(want.Models), want.Battles)
	}

	const requests = 16
	board.Forget()
	before = selects()
	var wg sync.WaitGroup
	boards := make([]*analytics.Leaderboard, requests)
	errs := make([]error, requests)
	for i := range requests {
		wg.Go(func() { boards[i], errs[i] = board.Leaderboard(ctx, opt) })
	}
	wg.Wait()
	if got := selects() - before; got != one {
		t.Errorf("%d concurrent misses made %d queries (with the count's own), one board makes %d", requests, got, one)
	}
	for i := range requests {
		if errs[i] != nil || boards[i] != boards[0] {
			t.Fatalf("request %d: %v, board %p, want the shared board %p", i, errs[i], boards[i], boards[0])
		}
	}
	if boards[0].Battles != want.Battles {
		t.Errorf("after Forget: %d battles, want %d", boards[0].Battles, want.Battles)
	}
	if _, err := board.Leaderboard(ctx, opt); err != nil || selects()-before != one+1 {
		t.Errorf("a kept board asked ClickHouse again (%v)", err)
	}
}
