package clickhouse_test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/rlhf"
)

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

// open starts a server and returns a migrated client on a fresh database.
func open(t *testing.T) (*clickhouse.Client, *chtest.Server) {
	t.Helper()
	srv := chtest.Start(t)
	c := openConfig(t, srv.NewConfig(t))
	if err := c.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return c, srv
}

func openConfig(t *testing.T, cfg clickhouse.Config) *clickhouse.Client {
	t.Helper()
	c, err := clickhouse.Open(cfg, testLog(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// batch makes n records numbered from seq first and counts them.
func batch(gen *chtest.Records, counter *clickhouse.BlockCounter, storeID string, first int64, n int) (*clickhouse.Batch, []rlhf.Record) {
	b := &clickhouse.Batch{StoreID: storeID}
	var recs []rlhf.Record
	for i := range n {
		r := gen.Next()
		recs = append(recs, r)
		seq := first + int64(i)
		b.Records = append(b.Records, clickhouse.SeqRecord{Seq: seq, Record: &r})
		counter.Add(seq, &r)
	}
	b.Counts = counter.Counts(first, first+int64(n)-1)
	return b, recs
}

func checkAudit(t *testing.T, what string, got clickhouse.Audit, want uint64) {
	t.Helper()
	if got.Rows != want || got.Distinct != want || got.Final != want {
		t.Errorf("%s: rows %d, distinct %d, FINAL %d; want %d each", what, got.Rows, got.Distinct, got.Final, want)
	}
}

func checkPairCounts(t *testing.T, c *clickhouse.Client, recs []rlhf.Record) {
	t.Helper()
	ctx := context.Background()
	want := chtest.CountRecords(recs)
	got, err := c.PairCounts(ctx)
	if err != nil {
		t.Fatalf("PairCounts: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("PairCounts() =\n%v\nwant\n%v", got, want)
	}
	got, err = c.PairCountsWhere(ctx, clickhouse.Filter{})
	if err != nil {
		t.Fatalf("PairCountsWhere: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("PairCountsWhere({}) =\n%v\nwant\n%v", got, want)
	}
}

func TestInsertIsIdempotent(t *testing.T) {
	c, _ := open(t)
	ctx := context.Background()
	gen := chtest.NewRecords(1)
	counter := clickhouse.NewBlockCounter()
	const store = "store-1"

	b1, recs := batch(gen, counter, store, 1, 700)
	if _, err := c.Insert(ctx, b1); err != nil {
		t.Fatalf("Insert: %v", err)
	}
	b2, more := batch(gen, counter, store, 701, 500)
	recs = append(recs, more...)
	res, err := c.Insert(ctx, b2)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if res.Votes != 500 || res.Battles != 500 || res.Turns != 500 || res.Present != 0 {
		t.Errorf("Insert = %+v, want 500 votes, battles and turns, none present", res)
	}

	// A blind retry of a batch that landed duplicates rows, but no count.
	if _, err := c.Insert(ctx, b2); err != nil {
		t.Fatalf("Insert again: %v", err)
	}
	a, err := c.AuditVotes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rows != 1700 || a.Distinct != 1200 || a.Final != 1200 {
		t.Errorf("after a blind retry: votes audit %+v, want 1700 rows, 1200 distinct and FINAL", a)
	}
	checkPairCounts(t, c, recs)

	// A retry that knows it may have landed adds nothing.
	b1.MaybeLanded = true
	res, err = c.Insert(ctx, b1)
	if err != nil {
		t.Fatalf("Insert MaybeLanded: %v", err)
	}
	if res.Votes != 0 || res.Battles != 0 || res.Turns != 0 || res.Present != 700 {
		t.Errorf("Insert(MaybeLanded) = %+v, want nothing inserted and 700 present", res)
	}
	if err := c.Exec(ctx, "OPTIMIZE TABLE "+c.Config().Database+".votes FINAL"); err != nil {
		t.Fatal(err)
	}
	a, err = c.AuditVotes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkAudit(t, "votes after merge", a, 1200)
	checkPairCounts(t, c, recs)
}

func TestInsertRejectsBadRecords(t *testing.T) {
	c, _ := open(t)
	ctx := context.Background()
	gen := chtest.NewRecords(2)
	good := gen.Next()
	bad := gen.Next()
	bad.Vote.Winner = "maybe"
	cases := []struct {
		name string
		b    clickhouse.Batch
	}{
		{"bad winner", clickhouse.Batch{StoreID: "s", Records: []clickhouse.SeqRecord{{Seq: 1, Record: &good}, {Seq: 2, Record: &bad}}}},
		{"zero seq", clickhouse.Batch{StoreID: "s", Records: []clickhouse.SeqRecord{{Seq: 0, Record: &good}}}},
		{"bad store id", clickhouse.Batch{StoreID: "a'b", Records: []clickhouse.SeqRecord{{Seq: 1, Record: &good}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Insert(ctx, &tc.b)
			if rlhf.ErrorCode(err) != rlhf.EInvalid {
				t.Errorf("Insert = %v, want an %s error", err, rlhf.EInvalid)
			}
		})
	}
	a, err := c.AuditVotes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkAudit(t, "votes", a, 0)
}

func TestPairCountsWhere(t *testing.T) {
	c, _ := open(t)
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := base
	gen := chtest.NewRecords(3, "m1", "m2", "m3", "m4")
	gen.Now = func() time.Time { at = at.Add(time.Hour); return at }
	counter := clickhouse.NewBlockCounter()
	b, recs := batch(gen, counter, "s1", 1, 300)
	if _, err := c.Insert(ctx, b); err != nil {
		t.Fatal(err)
	}
	since, until := base.Add(50*time.Hour), base.Add(200*time.Hour)
	f := clickhouse.Filter{Since: since, Until: until, Models: []string{"m1", "m2", "m3"}, Categories: []string{"coding", "math"}}
	var want []rlhf.Record
	for _, r := range recs {
		t := r.Vote.CreatedAt
		if !t.Before(since) && t.Before(until) && r.Battle.ModelA != "m4" && r.Battle.ModelB != "m4" && r.Battle.Category != "writing" {
			want = append(want, r)
		}
	}
	got, err := c.PairCountsWhere(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if w := chtest.CountRecords(want); !slices.Equal(got, w) || len(w) == 0 {
		t.Errorf("PairCountsWhere(%+v) =\n%v\nwant\n%v", f, got, w)
	}
}

func sleep() { time.Sleep(50 * time.Millisecond) }
