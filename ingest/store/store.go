// Package store is Agora's system of record: battles, turns and votes in one
// SQLite file (modernc.org/sqlite, pure Go), in WAL mode with
// synchronous=FULL so that a committed vote survives a crash. Writes go
// through one goroutine that groups many callers' writes into one
// transaction (group commit), so durability does not cost throughput.
//
// It is the only package that imports the SQLite driver.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// readPragmas set up the read pool's connections (after the store's
// DSN). Readers scan whole tables for exports and leaderboards: they map
// the file and keep a larger page cache rather than pread page by page.
const readPragmas = "&_pragma=query_only(ON)&_pragma=mmap_size(1073741824)&_pragma=cache_size(-65536)"

// maxGroup is how many writes one transaction takes at the most.
const maxGroup = 512

// Store is an open SQLite database. It is safe for concurrent use.
type Store struct {
	path    string
	readDSN string  // how read's connections are opened
	write   *sql.DB // one connection, used only by the writer goroutine
	read    *sql.DB // a pool of read-only connections
	reqs    chan *writeReq
	closed  chan struct{} // closed by Close to stop the writer
	done    chan struct{} // closed when the writer has returned

	closeOnce sync.Once
	importing sync.WaitGroup // imports, until they have given the write connection its settings back (Import)

	stmts map[string]*sql.Stmt // hotQueries, prepared at Open; read-only after
	group groupStmts           // the writer's open transaction and its statements

	ledger atomic.Pointer[ledger.Encoder] // writes votes' leaves; nil: no log
	log    logWriter                      // the log's size and the open transaction's leaves; the writer's alone
	top    treeTop                        // the log's upper tree hashes read so far (log_top.go)

	onCommit atomic.Pointer[CommitObserver] // see ObserveCommits
}

// A writeReq is one caller's write: fn runs inside the group transaction
// under a savepoint of its own, so one failing write does not undo others.
type writeReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	errc chan error // receives fn's error, or the commit's
}

// groupStmts are the hot statements bound to the writer's open group
// transaction so far: each is bound once a group, not once a write.
type groupStmts struct {
	tx    atomic.Pointer[sql.Tx]  // the writer's open transaction; nil between groups
	bound map[*sql.Stmt]*sql.Stmt // the writer's alone
}

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("store is closed")

// Open opens or creates the database at path and brings its schema up to
// date.
func Open(path string) (*Store, error) {
	return open(path, SchemaVersion)
}

func open(path string, version int) (*Store, error) {
	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	if err := newFilePageSize(path, file); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	dsn := file + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	// The writer keeps savepoint journals in memory, not in temp files.
	// (A larger page cache was tried and measured slower: the driver's
	// allocator madvises freed cache pages.) It overwrites deleted and
	// replaced content with zeros (secure_delete), so that an erased
	// contributor's text does not stay in free space (erase.go).
	write, err := sql.Open("sqlite", dsn+"&_pragma=temp_store(MEMORY)&_pragma=secure_delete(ON)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	ctx := context.Background()
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var mode string
	if err := write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		write.Close()
		return nil, fmt.Errorf("open %s: cannot use WAL journal (got %q): %v", path, mode, err)
	}
	if err := migrate(ctx, write, version); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	readDSN := dsn + readPragmas
	read, err := sql.Open("sqlite", readDSN)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	s := &Store{
		path:    path,
		readDSN: readDSN,
		write:   write,
		read:    read,
		reqs:    make(chan *writeReq, maxGroup),
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
		stmts:   map[string]*sql.Stmt{},
		group:   groupStmts{bound: map[*sql.Stmt]*sql.Stmt{}},
	}
	if version < SchemaVersion {
		// Only tests open an old schema, to upgrade it: no writes happen.
	} else if err := s.prepare(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	go s.writer()
	if version == SchemaVersion {
		if err := s.backfillSummaries(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	return s, nil
}

// newFilePageSize gives a database file that is new (missing or empty)
// 16 KiB pages, and puts it in WAL mode, which fixes the page size. A turn
// with 2 KB of text then fits in its page instead of spilling onto an
// overflow page, which halves the pages an export reads. An existing file
// keeps its page size: only a VACUUM could change it.
func newFilePageSize(path, file string) error {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", file+"?_pragma=page_size(16384)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA journal_mode = WAL"); err != nil {
		return fmt.Errorf("set up a new file: %w", err)
	}
	return db.Close()
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close waits for writes already queued, then closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	<-s.done
	s.importing.Wait()
	for _, st := range s.stmts {
		st.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

// do runs fn in the next group transaction and returns once that
// transaction is committed (and so, with synchronous=FULL, on disk).
func (s *Store) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	select {
	case s.reqs <- req:
	case <-s.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the write is committed or failed by the writer whatever
	// happens to ctx: wait for the outcome so that no caller mistakes a
	// committed write for a lost one.
	return <-req.errc
}

// writer is the one goroutine that writes. It takes every request waiting,
// runs them in one transaction and commits once for all of them.
func (s *Store) writer() {
	defer close(s.done)
	group := make([]*writeReq, 0, maxGroup)
	for {
		group = group[:0]
		select {
		case req := <-s.reqs:
			group = append(group, req)
		case <-s.closed:
			// Drain what was queued before Close.
			for {
				select {
				case req := <-s.reqs:
					s.commit([]*writeReq{req})
				default:
					return
				}
			}
		}
	fill:
		for len(group) < maxGroup {
			select {
			case req := <-s.reqs:
				group = append(group, req)
			default:
				break fill
			}
		}
		s.commit(group)
	}
}

// commit runs group in one transaction and commits once for all. It
// first runs every write straight, which is the common case; if any write
// fails, it rolls back and runs them again each under its own savepoint, so
// that a failing write (a second vote, say) undoes only itself. Each caller
// gets its own error; a failed commit fails them all.
func (s *Store) commit(group []*writeReq) {
	start := time.Now()
	errs, ok := s.runGroup(group, false)
	if !ok {
		errs, _ = s.runGroup(group, true)
	}
	s.observeCommit(time.Since(start), group, errs)
	for i, req := range group {
		req.errc <- errs[i]
	}
}

// runGroup runs group in one transaction. Without savepoints it gives up
// (ok false, nothing committed) at the first failing write.
func (s *Store) runGroup(group []*writeReq, savepoints bool) (errs []error, ok bool) {
	ctx := context.Background()
	errs = make([]error, len(group))
	fail := func(err error) ([]error, bool) {
		for i := range errs {
			errs[i] = err
		}
		return errs, true
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fail(&groupError{"begin", err})
	}
	s.group.tx.Store(tx)
	defer s.endGroup()
	// Leaves appended by a write that is undone are undone too.
	logMark := s.log.size
	for i, req := range group {
		if err := req.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !savepoints {
			if err := req.fn(tx); err != nil {
				tx.Rollback()
				s.undoLog(logMark)
				return nil, false
			}
			continue
		}
		if _, err := s.exec(ctx, tx, "SAVEPOINT w"); err != nil {
			errs[i] = err
			continue
		}
		writeMark := s.log.size
		if err := s.runWrite(ctx, tx, req); err != nil {
			errs[i] = err
			s.undoLog(writeMark)
			if _, rerr := s.exec(ctx, tx, "ROLLBACK TO w"); rerr != nil {
				errs[i] = errors.Join(err, rerr)
			}
		}
		if _, err := s.exec(ctx, tx, "RELEASE w"); err != nil && errs[i] == nil {
			errs[i] = err
		}
	}
	if !savepoints {
		if err := s.flushLog(ctx, tx); err != nil { // run again with savepoints: the failing write fails alone
			tx.Rollback()
			s.undoLog(logMark)
			return nil, false
		}
	}
	if err := tx.Commit(); err != nil {
		s.undoLog(logMark)
		return fail(&groupError{"commit", err})
	}
	s.logCommitted()
	return errs, true
}

// hotQueries are prepared once at Open, on the one write connection,
// so SQLite compiles them once instead of on every write: a good share of
// a vote's cost. (They cannot be prepared later: inside a transaction the
// connection is taken.)
var hotQueries = []string{
	"SAVEPOINT w", "ROLLBACK TO w", "RELEASE w",
	insertBattleSQL, insertTurnSQL, insertVoteSQL, voteExistsSQL, finishBattleSQL, insertSummarySQL,
}

func (s *Store) prepare(ctx context.Context) error {
	for _, q := range append(hotQueries, logQueries()...) {
		st, err := s.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return s.loadLogSize(ctx)
}

// endGroup forgets the group transaction's statements (the transaction
// closed them as it ended).
func (s *Store) endGroup() {
	s.group.tx.Store(nil)
	clear(s.group.bound)
}

// exec runs query in tx, as a prepared statement when it is a hot one.
//
// The statement is not cancelled with ctx: once the writer has taken a
// write into its group, the write runs to the end (see do). A cancellable
// context would also cost the driver a goroutine and a progress handler
// per statement, on the one goroutine every write waits for.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := s.hot(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRow runs query in tx, as a prepared statement when it is a hot
// one, and returns its first row (see exec).
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := s.hot(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// hot returns query's prepared statement bound to tx, or nil when query
// is not a hot one. In the writer's group transaction, a statement is
// bound once and used by every write of the group.
func (s *Store) hot(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	st, ok := s.stmts[query]
	if !ok {
		return nil
	}
	if tx != s.group.tx.Load() {
		return tx.StmtContext(ctx, st)
	}
	bound, ok := s.group.bound[st]
	if !ok {
		bound = tx.StmtContext(ctx, st)
		s.group.bound[st] = bound
	}
	return bound
}

// isUnique reports whether err is a UNIQUE constraint failure on column
// (table.column).
func isUnique(err error, column string) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: "+column)
}

// Ping reports whether the store can commit a write.
func (s *Store) Ping(ctx context.Context) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO health (id, at) VALUES (1, ?)", time.Now().UnixMilli())
		return err
	})
}
