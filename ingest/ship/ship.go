// Package ship moves committed votes, with their battles and conversations,
// from Agora's embedded store to ClickHouse.
//
// A vote is acknowledged to its contributor once the embedded store has it
// on disk; the Shipper follows the store's vote sequence numbers with a
// cursor that it advances, durably, only after ClickHouse has acknowledged
// the rows. Everything it sends is idempotent (see clickhouse.Insert), so a
// retry after an ambiguous failure, or a restart after a crash, never
// counts a vote twice. When ClickHouse stays away so long that the backlog
// reaches its cap, Admit refuses new votes.
package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/rlhf"
)

// Source is the embedded store as the shipper sees it.
type Source interface {
	// RecordsAfter calls fn for at most limit voted battles with vote seq
	// above after, in seq order. fn must not keep r.
	RecordsAfter(ctx context.Context, after int64, limit int, fn func(seq int64, r *rlhf.Record) error) error
	// LastSeq returns the highest committed vote seq.
	LastSeq(ctx context.Context) (int64, error)
	// ShipCursor returns the store's downstream id and the cursor of
	// shipper name, creating both on first use.
	ShipCursor(ctx context.Context, name string) (storeID string, seq int64, err error)
	// SaveShipCursor durably moves the cursor of shipper name to seq.
	SaveShipCursor(ctx context.Context, name string, seq int64) error
}

// Sink is ClickHouse as the shipper sees it; *clickhouse.Client is one.
type Sink interface {
	Migrate(ctx context.Context) error
	Insert(ctx context.Context, b *clickhouse.Batch) (clickhouse.InsertResult, error)
	// ErasedBlocks, Erase and Recount serve Shipper.Erase.
	ErasedBlocks(ctx context.Context, storeID string, battles []string) ([]int64, error)
	Erase(ctx context.Context, battles []string) error
	Recount(ctx context.Context, storeID string, counts []clickhouse.BlockCount) error
}

// Options configure a Shipper. Zero fields take the defaults of
// clickhouse.Config.
type Options struct {
	Name          string // cursor name in the store; "clickhouse" by default
	BatchSize     int
	FlushInterval time.Duration
	BacklogCap    int64
	MinBackoff    time.Duration // first retry delay; 100ms by default
	MaxBackoff    time.Duration // longest retry delay; 10s by default
	PollInterval  time.Duration // how often the store's last seq is read; 250ms by default
	Log           *slog.Logger
	Now           func() time.Time
	// Shipped, if set, is called after every batch ClickHouse acknowledged,
	// from the shipper's goroutine. Benchmarks measure lag with it.
	Shipped func(Shipment)
}

// OptionsFrom returns the Options of a ClickHouse configuration.
func OptionsFrom(c clickhouse.Config, log *slog.Logger) Options {
	c = c.WithDefaults()
	return Options{BatchSize: c.BatchSize, FlushInterval: c.FlushInterval, BacklogCap: c.BacklogCap, Log: log}
}

// Shipment describes one acknowledged batch.
type Shipment struct {
	First, Last int64     // sequence numbers of its first and last vote
	Votes       int       // votes in the batch (including those ClickHouse had)
	Attempts    int       // inserts it took
	At          time.Time // when ClickHouse acknowledged it
	// Oldest and Newest are the creation times of its oldest and newest vote.
	Oldest, Newest time.Time
}

// Status is the shipper's state for /readyz and logs.
type Status struct {
	StoreID    string        `json:"store_id"`
	Cursor     int64         `json:"cursor"`   // highest seq ClickHouse acknowledged
	LastSeq    int64         `json:"last_seq"` // highest seq committed locally
	Backlog    int64         `json:"backlog"`  // LastSeq - Cursor, an upper bound of unshipped votes
	BacklogCap int64         `json:"backlog_cap"`
	Lag        time.Duration `json:"lag"`      // how long the oldest unshipped vote has waited
	Refusing   bool          `json:"refusing"` // new votes are refused (backlog at its cap)

	ShippedVotes   int64 `json:"shipped_votes"`
	ShippedBattles int64 `json:"shipped_battles"`
	ShippedTurns   int64 `json:"shipped_turns"`
	Present        int64 `json:"present"` // votes a retry found already in ClickHouse
	Invalid        int64 `json:"invalid"` // records that could not be shipped (logged)
	Batches        int64 `json:"batches"`
	Errors         int64 `json:"errors"`

	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	LastShipAt  time.Time `json:"last_ship_at,omitzero"`
}

// Shipper ships one store to ClickHouse. Run it with Run; ask it with Admit,
// Healthy and Status from any goroutine.
type Shipper struct {
	src  Source
	sink Sink
	opt  Options
	log  *slog.Logger

	nudge chan struct{} // Notify to the watcher; buffered, one pending at most
	wake  chan struct{} // watcher to Run: a full batch waits; buffered likewise

	// Read from any goroutine.
	cursor       atomic.Int64
	lastSeq      atomic.Int64
	pendingSince atomic.Int64 // Unix ns creation time of the oldest unshipped vote; 0 if none known

	mu sync.Mutex // guards st
	st Status

	emu      sync.Mutex // guards erasures
	erasures []*eraseRequest
}

// New returns a shipper from src to sink.
func New(src Source, sink Sink, opt Options) *Shipper {
	if opt.Name == "" {
		opt.Name = "clickhouse"
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = clickhouse.DefaultBatchSize
	}
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = clickhouse.DefaultFlushInterval
	}
	if opt.BacklogCap <= 0 {
		opt.BacklogCap = clickhouse.DefaultBacklogCap
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 100 * time.Millisecond
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(10*time.Second, opt.MinBackoff)
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 250 * time.Millisecond
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Shipper{src: src, sink: sink, opt: opt, log: opt.Log.With("component", "clickhouse-shipper"), nudge: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
	s.st.BacklogCap = opt.BacklogCap
	return s
}

// Notify tells the shipper that a vote was committed, so that the backlog
// Admit checks is current and a full batch ships without waiting. Calling
// it is optional: the shipper also polls the store every PollInterval.
// Bursts of calls cost at most one look at the store per 5ms.
func (s *Shipper) Notify() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

func (s *Shipper) raiseLastSeq(seq int64, now time.Time) {
	for {
		old := s.lastSeq.Load()
		if seq <= old {
			return
		}
		if s.lastSeq.CompareAndSwap(old, seq) {
			if old <= s.cursor.Load() {
				// The backlog was empty: the oldest unshipped vote is about
				// this old at most.
				s.pendingSince.CompareAndSwap(0, now.UnixNano())
			}
			return
		}
	}
}

func (s *Shipper) backlog() int64 { return max(s.lastSeq.Load()-s.cursor.Load(), 0) }

// ErrBacklogFull is the cause inside the error Admit returns.
var ErrBacklogFull = errors.New("clickhouse shipping backlog is full")

// Admit returns nil if a new vote may be accepted, and an rlhf.EUnavailable
// error if the backlog of votes not yet in ClickHouse has reached its cap:
// the server must answer 503 then rather than take votes it cannot ship.
func (s *Shipper) Admit() error {
	if b := s.backlog(); b >= s.opt.BacklogCap {
		return &rlhf.Error{
			Code:    rlhf.EUnavailable,
			Message: "votes are paused while the analytics store catches up; please retry in a minute",
			Err:     fmt.Errorf("%w: %d unshipped votes, cap %d", ErrBacklogFull, b, s.opt.BacklogCap),
		}
	}
	return nil
}

// Healthy reports whether new votes are accepted, that is whether the
// backlog is below its cap.
func (s *Shipper) Healthy() bool { return s.Admit() == nil }

// Backlog returns how many committed votes are not yet in ClickHouse (an
// upper bound: aborted writes leave gaps in the sequence numbers).
func (s *Shipper) Backlog() int64 { return s.backlog() }

// Status returns a snapshot of the shipper's state.
func (s *Shipper) Status() Status {
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	st.Cursor = s.cursor.Load()
	st.LastSeq = max(s.lastSeq.Load(), st.Cursor)
	st.Backlog = s.backlog()
	st.Refusing = st.Backlog >= s.opt.BacklogCap
	if since := s.pendingSince.Load(); since != 0 && st.Backlog > 0 {
		st.Lag = max(s.opt.Now().Sub(time.Unix(0, since)), 0)
	}
	return st
}

func (s *Shipper) noteError(err error) {
	s.mu.Lock()
	s.st.Errors++
	s.st.LastError = err.Error()
	s.st.LastErrorAt = s.opt.Now()
	s.mu.Unlock()
}
