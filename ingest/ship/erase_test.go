package ship_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// gatedStore holds the first read of records after seq from back, once
// it has read them, until release is closed: a batch read before an
// erasure and shipped after it.
type gatedStore struct {
	*store.Store
	from    int64
	once    sync.Once
	read    chan struct{} // closed when the held read has its records
	release chan struct{}
}

func (g *gatedStore) RecordsAfter(ctx context.Context, after int64, limit int, fn func(int64, *rlhf.Record) error) error {
	err := g.Store.RecordsAfter(ctx, after, limit, fn)
	if after >= g.from {
		g.once.Do(func() {
			close(g.read)
			<-g.release
		})
	}
	return err
}

// TestEraseWhileShipping erases a contributor while the shipper holds a
// batch read before the erasure (with their rows) and not yet shipped: the
// erasure must wait for it, so that no erased row comes back; afterwards
// ClickHouse holds exactly the store's rows, and its pair counts (the
// ClickHouse leaderboard) exactly the store's votes, also after more votes
// are shipped into the recounted block.
func TestEraseWhileShipping(t *testing.T) {
	srv := chtest.Start(t)
	c := openClient(t, srv.NewConfig(t))
	st := &gatedStore{Store: newStore(t), from: 1000, read: make(chan struct{}), release: make(chan struct{})}
	gen := chtest.NewRecords(23)
	importVotes(t, st.Store, gen, 3000)
	r := startShipper(t, st, c, ship.Options{BatchSize: 400})
	<-st.read

	ctx := context.Background()
	battles, err := st.Erase(ctx, "c7", &rlhf.Erasure{ID: "e_test", Actor: "admin", At: time.Now()})
	if err != nil && rlhf.ErrorCode(err) != rlhf.EUnavailable {
		t.Fatalf("store Erase: %v", err)
	}
	if len(battles) < 20 {
		t.Fatalf("erased %d battles, want the contributor's (about 60)", len(battles))
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Erase(ctx, battles) }()
	select {
	case err := <-errc:
		t.Fatalf("Erase returned (%v) while a batch read before it was unshipped", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(st.release)
	if err := <-errc; err != nil {
		t.Fatalf("Erase: %v", err)
	}
	waitDrained(t, r.Shipper, st.Store, 60*time.Second)
	checkExactlyOnce(t, c, allRecords(t, st.Store))
	importVotes(t, st.Store, gen, 500)
	waitDrained(t, r.Shipper, st.Store, 60*time.Second)
	checkExactlyOnce(t, c, allRecords(t, st.Store))
}
