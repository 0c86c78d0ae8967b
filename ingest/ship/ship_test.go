package ship_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		shipperChild()
		return
	}
	goleak.VerifyTestMain(m)
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return nil
}

func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	return openStore(t, filepath.Join(t.TempDir(), "agora.db"))
}

// importVotes stores n new records in chunks, as a bulk setup.
func importVotes(t testing.TB, st *store.Store, gen *chtest.Records, n int) {
	t.Helper()
	for done := 0; done < n; {
		k := min(n-done, 2000)
		recs := make([]rlhf.Record, k)
		for i := range recs {
			recs[i] = gen.Next()
		}
		added, err := st.ImportRecords(context.Background(), recs)
		if err != nil || added != k {
			t.Fatalf("ImportRecords = %d, %v; want %d", added, err, k)
		}
		done += k
	}
}

func openClient(t testing.TB, cfg clickhouse.Config) *clickhouse.Client {
	t.Helper()
	c, err := clickhouse.Open(cfg, testLog(t))
	if err != nil {
		t.Fatalf("clickhouse.Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// running is a shipper running in the background.
type running struct {
	*ship.Shipper
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// stop stops the shipper and waits for Run to return; only the first call
// does anything.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

func startShipper(t testing.TB, st ship.Source, sink ship.Sink, opt ship.Options) *running {
	t.Helper()
	if opt.Log == nil {
		opt.Log = testLog(t)
	}
	if opt.MaxBackoff == 0 {
		opt.MaxBackoff = 300 * time.Millisecond
	}
	if opt.FlushInterval == 0 {
		opt.FlushInterval = 20 * time.Millisecond
	}
	if opt.PollInterval == 0 {
		opt.PollInterval = 20 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Shipper: ship.New(st, sink, opt), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- r.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// waitDrained waits until the shipper has shipped everything the store
// holds.
func waitDrained(t testing.TB, sh *ship.Shipper, st *store.Store, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		last, err := st.LastSeq(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s := sh.Status()
		if s.Cursor >= last && s.Backlog == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained after %v: last seq %d, status %+v", timeout, last, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// allRecords reads every record of the store.
func allRecords(t testing.TB, st *store.Store) []rlhf.Record {
	t.Helper()
	var recs []rlhf.Record
	err := st.RecordsWhere(context.Background(), store.RecordFilter{}, func(seq int64, r *rlhf.Record) error {
		c := *r
		c.Battle.Turns = slices.Clone(r.Battle.Turns)
		recs = append(recs, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkExactlyOnce checks that ClickHouse holds every vote of recs once:
// physical rows, distinct ids and FINAL all equal, and the pair counts
// equal counts made from recs.
func checkExactlyOnce(t testing.TB, c *clickhouse.Client, recs []rlhf.Record) {
	t.Helper()
	ctx := context.Background()
	want := uint64(len(recs))
	turns := uint64(0)
	for _, r := range recs {
		turns += uint64(len(r.Battle.Turns))
	}
	for _, a := range []struct {
		what  string
		audit func(context.Context) (clickhouse.Audit, error)
		want  uint64
	}{
		{"votes", c.AuditVotes, want},
		{"battles", c.AuditBattles, want},
		{"turns", c.AuditTurns, turns},
	} {
		got, err := a.audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rows != a.want || got.Distinct != a.want || got.Final != a.want {
			t.Errorf("%s: %d rows, %d distinct, %d FINAL; want %d each", a.what, got.Rows, got.Distinct, got.Final, a.want)
		}
	}
	wantCounts := chtest.CountRecords(recs)
	got, err := c.PairCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantCounts) {
		t.Errorf("PairCounts() =\n%v\nwant\n%v", got, wantCounts)
	}
}

func TestShipsEveryVoteOnce(t *testing.T) {
	srv := chtest.Start(t)
	cfg := srv.NewConfig(t)
	c := openClient(t, cfg)
	st := newStore(t)
	gen := chtest.NewRecords(11)
	gen.Turns = 2
	importVotes(t, st, gen, 3000)

	r := startShipper(t, st, c, ship.Options{BatchSize: 700})
	waitDrained(t, r.Shipper, st, 60*time.Second)
	recs := allRecords(t, st)
	checkExactlyOnce(t, c, recs)
	s := r.Status()
	if s.ShippedVotes != 3000 || s.ShippedBattles != 3000 || s.ShippedTurns != 6000 || s.Batches < 5 || s.Errors != 0 {
		t.Errorf("Status() = %+v, want 3000 votes and battles, 6000 turns, at least 5 batches, no errors", s)
	}
	r.stop(t)

	// The cursor is on disk: a new shipper ships only what is new.
	_, cursor, err := st.ShipCursor(context.Background(), "clickhouse")
	if err != nil || cursor != 3000 {
		t.Fatalf("ShipCursor = %d, %v; want 3000", cursor, err)
	}
	importVotes(t, st, gen, 700)
	r = startShipper(t, st, c, ship.Options{BatchSize: 700})
	waitDrained(t, r.Shipper, st, 60*time.Second)
	if s := r.Status(); s.ShippedVotes != 700 {
		t.Errorf("after a restart, shipped %d votes, want 700", s.ShippedVotes)
	}
	checkExactlyOnce(t, c, allRecords(t, st))
}

// voter casts votes one by one through SaveVote, like contributors, until
// stopped, and counts the acknowledged ones.
type voter struct {
	acked  atomic.Int64
	stopc  chan struct{}
	wg     sync.WaitGroup
	errMu  sync.Mutex
	errors []error
}

func startVoting(t testing.TB, st *store.Store, sh *ship.Shipper, gen *chtest.Records, workers int, every time.Duration) *voter {
	v := &voter{stopc: make(chan struct{})}
	var genMu sync.Mutex
	for range workers {
		v.wg.Go(func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-v.stopc:
					return
				case <-tick.C:
				}
				if err := sh.Admit(); err != nil {
					continue // refused: not acknowledged
				}
				genMu.Lock()
				r := gen.Next()
				genMu.Unlock()
				if err := st.SaveVote(context.Background(), &r.Battle, &r.Vote); err != nil {
					v.errMu.Lock()
					v.errors = append(v.errors, err)
					v.errMu.Unlock()
					continue
				}
				v.acked.Add(1)
				sh.Notify()
			}
		})
	}
	t.Cleanup(v.stop)
	return v
}

func (v *voter) stop() {
	select {
	case <-v.stopc:
	default:
		close(v.stopc)
	}
	v.wg.Wait()
}

func TestClickHouseKilledDuringVoting(t *testing.T) {
	srv := chtest.Start(t)
	cfg := srv.NewConfig(t)
	c := openClient(t, cfg)
	st := newStore(t)
	r := startShipper(t, st, c, ship.Options{BatchSize: 300})
	v := startVoting(t, st, r.Shipper, chtest.NewRecords(12), 4, 2*time.Millisecond)

	time.Sleep(700 * time.Millisecond)
	srv.Kill()
	killedAt := v.acked.Load()
	// Voting must go on while ClickHouse is down: wait for 100 more
	// acknowledgements, however slow the machine, but not forever.
	for deadline := time.Now().Add(30 * time.Second); v.acked.Load()-killedAt < 100; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d votes accepted in 30 s while ClickHouse was down; want voting to go on", v.acked.Load()-killedAt)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := r.Status(); s.Backlog == 0 || s.Errors == 0 {
		t.Errorf("while ClickHouse is down: Status() = %+v, want a backlog and errors", s)
	}
	srv.Restart()
	time.Sleep(700 * time.Millisecond)
	v.stop()

	waitDrained(t, r.Shipper, st, 60*time.Second)
	recs := allRecords(t, st)
	if int64(len(recs)) != v.acked.Load() {
		t.Fatalf("store has %d votes, %d acknowledged", len(recs), v.acked.Load())
	}
	if len(v.errors) > 0 {
		t.Errorf("%d votes failed to save, first: %v", len(v.errors), v.errors[0])
	}
	checkExactlyOnce(t, c, recs)
	if s := r.Status(); s.Backlog != 0 || s.Lag != 0 || s.Refusing {
		t.Errorf("after recovery: Status() = %+v, want no backlog, no lag", s)
	}
	t.Logf("%d votes, %d of them after the kill; status %+v", len(recs), v.acked.Load()-killedAt, r.Status())
}

// A connection cut after ClickHouse has received the votes insert, before
// Agora hears back: the retry finds the votes and adds none twice.
func TestConnectionCutAfterInsert(t *testing.T) {
	srv := chtest.Start(t)
	proxy := chtest.NewProxy(t, srv.Addr)
	cfg := srv.NewConfig(t)
	direct := openClient(t, cfg)
	if err := direct.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	viaProxy := cfg
	viaProxy.Addrs = []string{proxy.Addr}
	c := openClient(t, viaProxy)

	st := newStore(t)
	gen := chtest.NewRecords(13)
	importVotes(t, st, gen, 1500)
	proxy.CutAfter("INSERT INTO "+cfg.Database+".votes (", 4096, 500*time.Millisecond)

	r := startShipper(t, st, c, ship.Options{BatchSize: 1500})
	waitDrained(t, r.Shipper, st, 60*time.Second)
	if proxy.Cuts() != 1 {
		t.Fatalf("proxy cut %d connections, want 1", proxy.Cuts())
	}
	s := r.Status()
	if s.Errors == 0 || s.Present != 1500 || s.ShippedVotes != 0 {
		t.Errorf("Status() = %+v; want an error, then all 1500 votes found present by the retry and none inserted again", s)
	}
	checkExactlyOnce(t, direct, allRecords(t, st))
}

func TestBacklogCapRefusesVotes(t *testing.T) {
	srv := chtest.Start(t)
	proxy := chtest.NewProxy(t, srv.Addr)
	cfg := srv.NewConfig(t)
	cfg.Addrs = []string{proxy.Addr}
	c := openClient(t, cfg)
	st := newStore(t)
	gen := chtest.NewRecords(14)
	r := startShipper(t, st, c, ship.Options{BatchSize: 50, BacklogCap: 200})
	importVotes(t, st, gen, 100)
	waitDrained(t, r.Shipper, st, 30*time.Second)

	proxy.SetDown(true)
	importVotes(t, st, gen, 250)
	r.Notify()
	deadline := time.Now().Add(10 * time.Second)
	for r.Admit() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("Admit() still accepts with ClickHouse down and 250 votes waiting; status %+v", r.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	err := r.Admit()
	if rlhf.ErrorCode(err) != rlhf.EUnavailable || !errors.Is(err, ship.ErrBacklogFull) {
		t.Errorf("Admit() = %v, want an %s error wrapping ErrBacklogFull", err, rlhf.EUnavailable)
	}
	if s := r.Status(); !s.Refusing || s.Backlog < 200 || r.Healthy() {
		t.Errorf("Status() = %+v, Healthy() = %v; want refusing with a backlog of at least 200", s, r.Healthy())
	}

	proxy.SetDown(false)
	waitDrained(t, r.Shipper, st, 30*time.Second)
	if err := r.Admit(); err != nil {
		t.Errorf("Admit() after recovery = %v, want nil", err)
	}
	direct := openClient(t, srv.NewConfig(t))
	_ = direct
	cfg.Addrs = []string{srv.Addr}
	checkExactlyOnce(t, openClient(t, cfg), allRecords(t, st))
}
