package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

// ImportStats says what an Import stored.
type ImportStats struct {
	Read    int // records passed to put
	Added   int // records stored
	Present int // records skipped because their vote id or battle id was stored already
}

// importBatch is how many records one multi-row INSERT takes. Turns go in
// statements of the same number of rows. (SQLite binds at most 32,766
// parameters; a turn has 18.)
const importBatch = 128

// Import stores the records that read passes to put, in one transaction:
// all of them or, when read or a write fails, none. Records are copied as
// they come (read may reuse them) and written in batches of multi-row
// INSERTs, on a goroutine of their own, while read goes on (see pipe), so
// memory does not grow with the input. Records whose vote id, or whose
// battle's vote, is already stored (or came earlier in the input) are
// skipped and counted as Present, as in ImportRecords.
//
// The import holds the write connection for as long as read runs: other
// writes of this store wait for it (and writes from other processes wait up
// to the busy timeout). It runs in a transaction of its own, not in a group
// commit, because read cannot be run twice when a group is retried.
func (s *Store) Import(ctx context.Context, read func(put func(*rlhf.Record) error) error) (ImportStats, error) {
	select {
	case <-s.closed:
		return ImportStats{}, ErrClosed
	default:
	}
	// Close waits for the import and the restoring of its connection.
	s.importing.Add(1)
	done := s.importing.Done
	defer func() {
		if done != nil {
			done()
		}
	}()
	// The import needs its connection set up outside a transaction (see
	// begin), so it takes the write connection itself; the writer
	// goroutine waits for it like any other user of the pool.
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return ImportStats{}, fmt.Errorf("import: %w", err)
	}
	im := &importer{s: s, ctx: ctx, sctx: context.WithoutCancel(ctx), conn: conn, stmts: map[string]*sql.Stmt{}}
	if err := im.begin(); err != nil {
		err = errors.Join(err, im.restore())
		conn.Close()
		return ImportStats{}, err
	}
	err = im.run(read)
	for _, st := range im.stmts {
		st.Close()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		im.tx.Rollback()
	} else if err = im.tx.Commit(); err != nil {
		err = fmt.Errorf("import: commit: %w", err)
	}
	if err != nil {
		err = errors.Join(err, im.restore())
		conn.Close()
		return ImportStats{Read: im.st.Read}, err
	}
	// The records are committed. Restoring the connection frees the
	// import's page cache, one system call per page (a second or more
	// after a large import): it is done while the caller goes on, still
	// holding the write connection, so other writes wait for it as they
	// waited for the import, and Close waits for it.
	go func(done func()) {
		defer done()
		defer conn.Close()
		im.restore() // on failure the connection is dropped, not reused
	}(done)
	done = nil
	return im.st, nil
}

// restore gives the write connection its settings back (end) or, when
// that fails, marks it bad so that it does not go back to the pool as the
// import left it.
func (im *importer) restore() error {
	err := im.end()
	if err != nil {
		im.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}

// importRebuildBelow is the number of stored battles under which an
// import drops the records' secondary indexes (by contributor, time,
// status) and makes them again after its rows: into a new or small store,
// sorting every entry once at the end costs less than inserting them one
// by one at scattered places. In a larger store the rebuild would cost
// more than the import saves.
const importRebuildBelow = 100_000

// run passes read the importer's put and writes what is left in the batch,
// without battle_sides' triggers (see withoutSideTriggers) and, when the
// store is small, without the secondary indexes (see importRebuildBelow).
// All of it happens in the import's transaction: a
// failure or a rollback leaves the indexes as they were.
func (im *importer) run(read func(put func(*rlhf.Record) error) error) error {
	var rowsErr error
	first := im.battleSeq
	rows := func() error {
		return withoutSideTriggers(im.ctx, im.tx, first, func() error {
			rowsErr = im.pipe(read)
			return rowsErr
		})
	}
	var err error
	if first > importRebuildBelow {
		err = rows()
	} else {
		err = withoutIndexes(im.ctx, im.tx, rows)
	}
	if err != nil && rowsErr == nil {
		err = fmt.Errorf("import: %w", err)
	}
	return err
}

// importCacheKiB is the write connection's page cache during an import, in
// KiB. With the default 2 MB, pages of a long transaction spill to the WAL
// and are read back from it: most of the time of an import. The unique
// indexes of battle and vote ids take inserts at random places: at a
// million battles they hold about 150 MB, and with a cache of 32 MB each
// battle wrote and read again about 45 KB of index pages (16 KiB each),
// three times the processor time of the rows. The cache is filled only
// as pages are used.
const importCacheKiB = 256 << 10

// begin sets the write connection up for the import and starts its
// transaction: foreign keys not enforced, because SQLite gives every
// multi-row INSERT into a table with a foreign key a statement journal
// (which copies each page it changes: most of the time of an import), and
// a larger page cache. The import keeps the references right itself: a
// record's vote and turns go in with its battle (Validate checks that the
// vote is for it). end restores both.
func (im *importer) begin() error {
	ctx, c := im.ctx, im.conn
	if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&im.cacheSize); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	im.setUp = true
	for _, q := range []string{"PRAGMA foreign_keys = OFF", fmt.Sprintf("PRAGMA cache_size = -%d", importCacheKiB)} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("import: begin: %w", err)
	}
	im.tx = tx
	return im.readSeqs()
}

// readSeqs reads the seqs the next battle and vote the import writes get:
// it gives them itself, in the order of the input, so that the battles,
// turns, votes and summaries of a batch each go in one multi-row INSERT at
// the end of their tables. A vote's seq is never one a deleted vote had
// (the votes table is AUTOINCREMENT: sqlite_sequence keeps the largest).
func (im *importer) readSeqs() error {
	err := im.tx.QueryRowContext(im.ctx, `SELECT coalesce((SELECT max(seq) FROM battles), 0) + 1,
		max(coalesce((SELECT max(seq) FROM votes), 0), coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'votes'), 0)) + 1`).
		Scan(&im.battleSeq, &im.voteSeq)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// end restores the write connection's settings.
func (im *importer) end() error {
	if !im.setUp {
		return nil
	}
	ctx := context.Background()
	for _, q := range []string{"PRAGMA foreign_keys = ON", fmt.Sprintf("PRAGMA cache_size = %d", im.cacheSize)} {
		if _, err := im.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("import: restore the connection: %w", err)
		}
	}
	var fk bool
	if err := im.conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || !fk {
		return fmt.Errorf("import: foreign keys are still off (%v)", err)
	}
	return nil
}

// importer is the state of one Import.
type importer struct {
	s   *Store
	ctx context.Context
	// sctx is ctx without its cancellation, for the batches' statements:
	// the driver watches a cancellable context of each statement with a
	// goroutine of its own. flush checks ctx before each batch, and the
	// transaction ends when ctx does.
	sctx  context.Context
	conn  *sql.Conn
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // multi-row statements by text, prepared on first use
	st    ImportStats

	battleSeq int64 // the seq of the next battle written
	voteSeq   int64 // the seq of the next vote written

	cacheSize int  // the write connection's cache_size before the import
	setUp     bool // begin changed the connection's settings

	// The reader's goroutine (put) fills buf; the writer's (pipe)
	// writes the full buffers it is sent on todo and gives them back on
	// free. When a write fails the writer sets writeErr and closes
	// failed.
	buf      *importBuf
	todo     chan *importBuf
	free     chan *importBuf
	failed   chan struct{}
	writeErr error

	args []any // the writer's
}

// importBuf is a batch of records, copied by put, with what can be
// worked out of them before they are written.
type importBuf struct {
	recs  []rlhf.Record // their Turns point into turns
	turns []rlhf.Turn
	sums  []any // summaryArgs of each record, back to back
}

// reset drops the batch's records, so that their strings can be
// collected, and keeps the memory.
func (b *importBuf) reset() {
	clear(b.recs)
	clear(b.turns)
	clear(b.sums)
	b.recs, b.turns, b.sums = b.recs[:0], b.turns[:0], b.sums[:0]
}

// pipe passes read the importer's put and writes the batches put fills
// on a goroutine of its own, so that reading, decoding, checking and
// summarizing the next batch (on the caller's goroutine) go on while
// SQLite writes this one. Two batches are in memory at most.
func (im *importer) pipe(read func(put func(*rlhf.Record) error) error) error {
	im.todo, im.free, im.failed = make(chan *importBuf), make(chan *importBuf, 2), make(chan struct{})
	im.buf = &importBuf{}
	im.free <- &importBuf{}
	written := make(chan struct{})
	go func() {
		defer close(written)
		for b := range im.todo {
			if im.writeErr == nil {
				if im.writeErr = im.flush(b); im.writeErr != nil {
					close(im.failed)
				}
			}
			b.reset()
			im.free <- b
		}
	}()
	err := read(im.put)
	if err == nil && len(im.buf.recs) > 0 {
		err = im.send()
	}
	close(im.todo)
	<-written
	if err == nil {
		err = im.writeErr
	}
	return err
}

// send hands the full buffer to the writer and takes an empty one.
func (im *importer) send() error {
	select {
	case im.todo <- im.buf:
	case <-im.failed:
		return im.writeErr
	}
	im.buf = <-im.free
	return nil
}

// put copies r into the batch and writes the batch when it is full.
func (im *importer) put(r *rlhf.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("record %d: %w", im.st.Read+1, err)
	}
	im.st.Read++
	b := im.buf
	c := *r
	start := len(b.turns)
	b.turns = append(b.turns, r.Battle.Turns...)
	c.Battle.Turns = b.turns[start:len(b.turns):len(b.turns)]
	b.recs = append(b.recs, c)
	b.sums = append(b.sums, summaryArgs(r)...)
	if len(b.recs) == importBatch {
		return im.send()
	}
	return nil
}

// flush writes the batch, in statements of a power of two rows so that
// only a few statement sizes are ever prepared.
func (im *importer) flush(b *importBuf) error {
	if err := im.ctx.Err(); err != nil {
		return err
	}
	recs, sums := b.recs, b.sums
	for len(recs) > 0 {
		n := pow2Floor(len(recs))
		if err := im.write(recs[:n], sums[:n*summaryCount]); err != nil {
			// The transaction ends when ctx does, maybe in the
			// middle of the batch: say why.
			return cmp.Or(im.ctx.Err(), err)
		}
		recs, sums = recs[n:], sums[n*summaryCount:]
	}
	return nil
}

// write stores recs, with sums their summaryArgs. The fast path, for
// records new to the store, is one multi-row INSERT each for battles,
// votes and summaries and as few as possible for turns (writeNew). Their
// battles and votes go in OR IGNORE: when fewer rows go in than recs has,
// some battle or vote id is stored already (or comes twice in recs), and
// the batch's rows, all new, are deleted again (they are the rows with
// the largest seqs) and the batch is stored one record at a time, as
// ImportRecords does. (A savepoint per batch instead was measured: it
// journals every page the batch touches and costs several times the
// inserts.)
func (im *importer) write(recs []rlhf.Record, sums []any) error {
	ok, err := im.writeNew(recs, sums)
	if ok || err != nil {
		return err
	}
	for _, undo := range []struct {
		table string
		from  int64
	}{{"votes", im.voteSeq}, {"battles", im.battleSeq}} {
		if _, err := im.tx.ExecContext(im.sctx, `DELETE FROM `+undo.table+` WHERE seq >= ?`, undo.from); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if err := im.writeOneByOne(recs, sums); err != nil {
		return err
	}
	return im.readSeqs()
}

// writeNew inserts recs. ok is false, and nothing inserted yet but some
// of recs's battles and votes, when some battle or vote id is stored
// already.
//
// Each table's rows go in multi-row statements. Battles and votes get
// their seqs from SQLite (the largest plus one, as readSeqs counts them:
// the import holds the write connection), checked after each statement:
// inside a transaction SQLite gives a multi-row INSERT that binds an
// INTEGER PRIMARY KEY a statement journal (the value might not be an
// integer), which copies every page the statement changes that was there
// before it: for battles and votes, whose unique ids are random, a page
// of each index for every row, four times the cost of the inserts.
func (im *importer) writeNew(recs []rlhf.Record, sums []any) (ok bool, err error) {
	args := im.args[:0]
	defer func() { clear(args); im.args = args[:0] }()
	for i := range recs {
		b := &recs[i].Battle
		args = append(args, b.ID, b.ContributorID, b.ModelA, b.ModelB, string(b.Status),
			ms(b.CreatedAt), ms(b.UpdatedAt), cmp.Or(b.Source, rlhf.SourceArena), b.CampaignID, b.Category, b.Language, b.IdentityLeak,
			goldValue(b))
	}
	if n, err := im.insertSeqs(importBattlesSQL, importBattlesValues, len(recs), args, im.battleSeq); err != nil || n != len(recs) {
		return false, err // without an error, a battle id is taken
	}
	args = args[:0]
	for i := range recs {
		v := &recs[i].Vote
		args = append(args, v.ID, v.BattleID, v.ContributorID, string(v.Winner), string(v.Strength), v.Reason, ms(v.CreatedAt))
	}
	if n, err := im.insertSeqs(importVotesSQL, importVotesValues, len(recs), args, im.voteSeq); err != nil || n != len(recs) {
		return false, err // without an error, a vote id is taken
	}
	if err := im.importSummaries(sums, im.voteSeq); err != nil {
		return false, err
	}
	if args, err = im.writeTurns(recs, args[:0]); err != nil {
		return false, err
	}
	im.battleSeq += int64(len(recs))
	im.voteSeq += int64(len(recs))
	im.st.Added += len(recs)
	return true, nil
}

// insertSeqs runs the multi-row INSERT head with rows copies of values
// and args, into a table whose rows SQLite numbers, and returns how many
// rows it inserted. It fails if, all inserted, they are not numbered
// from first on.
func (im *importer) insertSeqs(head, values string, rows int, args []any, first int64) (int, error) {
	st, err := im.prepare(multiRow(head, values, rows))
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(im.sctx, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil || n != int64(rows) {
		return int(n), err
	}
	if last, err := res.LastInsertId(); err != nil || last != first+n-1 {
		return int(n), errors.Join(fmt.Errorf("import: rows numbered up to %d, want %d to %d", last, first, first+n-1), err)
	}
	return int(n), nil
}

// writeTurns inserts the turns of recs, whose battles were just inserted
// with seqs from im.battleSeq on, in statements of at most importBatch
// rows. It returns args, the buffer it used. Turns with no answer
// metadata (an imported conversation: no finish reason, tokens, times or
// errors) go in statements that bind 6 values a row instead of 18, the
// rest written as constants: the same rows.
func (im *importer) writeTurns(recs []rlhf.Record, args []any) ([]any, error) {
	rows, bare := 0, false
	put := func() error {
		values, width := importTurnsValues, 18
		if bare {
			values, width = importBareTurnsValues, 6
		}
		for rows > 0 {
			n := pow2Floor(rows)
			if m, err := im.exec(importTurnsSQL, values, n, args[:n*width]); err != nil || m != n {
				return errors.Join(err, fmt.Errorf("import: %d of %d turns inserted", m, n))
			}
			args = append(args[:0], args[n*width:]...)
			rows -= n
		}
		return nil
	}
	for i := range recs {
		seq, b := im.battleSeq+int64(i), &recs[i].Battle
		for j := range b.Turns {
			t := &b.Turns[j]
			if isBare := bareAnswer(&t.A) && bareAnswer(&t.B); isBare != bare {
				if err := put(); err != nil {
					return args, err
				}
				bare = isBare
			}
			if bare {
				args = append(args, seq, t.Index, t.Prompt, ms(t.At), t.A.Content, t.B.Content)
			} else {
				args = append(args, seq, t.Index, t.Prompt, ms(t.At),
					t.A.Content, t.A.FinishReason, t.A.Tokens, t.A.TTFT.Microseconds(), t.A.Duration.Microseconds(), t.A.ErrorCode, t.A.Error,
					t.B.Content, t.B.FinishReason, t.B.Tokens, t.B.TTFT.Microseconds(), t.B.Duration.Microseconds(), t.B.ErrorCode, t.B.Error)
			}
			if rows++; rows == importBatch {
				if err := put(); err != nil {
					return args, err
				}
			}
		}
	}
	return args, put()
}

// bareAnswer reports whether a has nothing but its content: the columns
// importBareTurnsValues writes as constants are all empty or zero.
func bareAnswer(a *rlhf.Answer) bool {
	return a.FinishReason == "" && a.Tokens == 0 && a.TTFT.Microseconds() == 0 && a.Duration.Microseconds() == 0 &&
		a.ErrorCode == "" && a.Error == ""
}

// writeOneByOne stores recs one at a time, skipping those already stored.
func (im *importer) writeOneByOne(recs []rlhf.Record, sums []any) error {
	s, ctx, tx := im.s, im.ctx, im.tx
	for i := range recs {
		r := &recs[i]
		var n int
		if err := tx.StmtContext(ctx, s.stmts[voteExistsSQL]).QueryRowContext(ctx, r.Vote.ID, r.Battle.ID).Scan(&n); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if n > 0 {
			im.st.Present++
			continue
		}
		if err := s.saveBattle(ctx, tx, &r.Battle); err != nil {
			return err
		}
		if err := s.insertVote(ctx, tx, &r.Vote, ""); err != nil {
			return err
		}
		if err := s.insertSummary(ctx, tx, r.Vote.ID, sums[i*summaryCount:(i+1)*summaryCount]); err != nil {
			return err
		}
		im.st.Added++
	}
	return nil
}

// exec runs the multi-row statement head with rows copies of values and
// args, and returns how many rows it changed.
func (im *importer) exec(head, values string, rows int, args []any) (int, error) {
	st, err := im.prepare(multiRow(head, values, rows))
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(im.sctx, args...)
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (im *importer) prepare(q string) (*sql.Stmt, error) {
	if st, ok := im.stmts[q]; ok {
		return st, nil
	}
	st, err := im.tx.PrepareContext(im.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("import: prepare: %w", err)
	}
	im.stmts[q] = st
	return st, nil
}

// multiRow returns head with rows copies of values, comma-separated, in
// place of its %s.
func multiRow(head, values string, rows int) string {
	return fmt.Sprintf(head, strings.TrimSuffix(strings.Repeat(values+",", rows), ","))
}

func pow2Floor(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

// The fast path's statements (see writeNew). A battle or vote id taken
// is counted (see write); a conflict on a turn, which that rules out,
// fails the import.
const (
	importBattlesSQL = `INSERT OR IGNORE INTO battles
		(id, contributor_id, model_a, model_b, status, created_at, updated_at, source, campaign_id, category, language, identity_leak, gold)
		VALUES %s`
	importBattlesValues = `(?,?,?,?,?,?,?,?,?,?,?,?,?)`
	importVotesSQL      = `INSERT OR IGNORE INTO votes
		(id, battle_id, contributor_id, winner, strength, reason, created_at)
		VALUES %s`
	importVotesValues = `(?,?,?,?,?,?,?)`
	importTurnsSQL    = `INSERT OR FAIL INTO turns
		(battle_seq, idx, prompt, at,
		 a_content, a_finish, a_tokens, a_ttft_us, a_duration_us, a_error_code, a_error,
		 b_content, b_finish, b_tokens, b_ttft_us, b_duration_us, b_error_code, b_error)
		VALUES %s`
	importTurnsValues = `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	// importBareTurnsValues is importTurnsValues for turns with
	// bareAnswer answers.
	importBareTurnsValues = `(?,?,?,?,?,'',0,0,0,'','',?,'',0,0,0,'','')`
)
