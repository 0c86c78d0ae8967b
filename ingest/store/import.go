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
// INSERTs while read goes on, so memory does not grow with the input.
// Records whose vote id, or whose battle's vote, is already stored are
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
	// The import needs its connection set up outside a transaction (see
	// begin), so it takes the write connection itself; the writer
	// goroutine waits for it like any other user of the pool.
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return ImportStats{}, fmt.Errorf("import: %w", err)
	}
	defer conn.Close()
	im := &importer{s: s, ctx: ctx, sctx: context.WithoutCancel(ctx), conn: conn, stmts: map[string]*sql.Stmt{}}
	if err := im.begin(); err != nil {
		return ImportStats{}, errors.Join(err, im.end())
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
	if rerr := im.end(); rerr != nil {
		// The connection must not go back to the pool as the import
		// left it.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return ImportStats{Read: im.st.Read}, err
	}
	return im.st, nil
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
			if rowsErr = read(im.put); rowsErr == nil {
				rowsErr = im.flush()
			}
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

	recs  []rlhf.Record // the batch; their Turns point into turns
	turns []rlhf.Turn
	args  []any
	ids   []any
}

// put copies r into the batch and writes the batch when it is full.
func (im *importer) put(r *rlhf.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("record %d: %w", im.st.Read+1, err)
	}
	im.st.Read++
	c := *r
	start := len(im.turns)
	im.turns = append(im.turns, r.Battle.Turns...)
	c.Battle.Turns = im.turns[start:len(im.turns):len(im.turns)]
	im.recs = append(im.recs, c)
	if len(im.recs) == importBatch {
		return im.flush()
	}
	return nil
}

// flush writes the batch, in statements of a power of two rows so that
// only a few statement sizes are ever prepared.
func (im *importer) flush() error {
	if err := im.ctx.Err(); err != nil {
		return err
	}
	recs := im.recs
	for len(recs) > 0 {
		n := pow2Floor(len(recs))
		if err := im.write(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	// The batch's turns were copied into im.turns; Turns slices point
	// into it. Drop the references so the strings can be collected.
	clear(im.recs)
	clear(im.turns)
	im.recs, im.turns = im.recs[:0], im.turns[:0]
	return nil
}

// write stores recs. The fast path, for records new to the store, is one
// multi-row INSERT each for battles and votes and as few as possible for
// turns. One query for the batch says whether its battles are new; the
// votes of new battles can only collide on their own ids, which INSERT OR
// IGNORE counts. When some battle or vote is there already the batch's
// rows (all new) are deleted again and the batch is stored one record at a
// time, as ImportRecords does. (A savepoint per batch instead was
// measured: it journals every page the batch touches and costs several
// times the inserts.)
func (im *importer) write(recs []rlhf.Record) error {
	ids := im.ids[:0]
	for i := range recs {
		ids = append(ids, recs[i].Battle.ID)
	}
	im.ids = ids
	st, err := im.prepare(multiRow(importStoredSQL, "?", len(recs)))
	if err != nil {
		return err
	}
	var stored int
	if err := st.QueryRowContext(im.sctx, ids...).Scan(&stored); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if stored == 0 {
		ok, err := im.writeNew(recs)
		if ok || err != nil {
			return err
		}
		// A vote id is taken: undo the batch.
		for _, q := range []string{importUndoVotesSQL, importUndoBattlesSQL} {
			if _, err := im.tx.ExecContext(im.sctx, multiRow(q, "?", len(recs)), ids...); err != nil {
				return fmt.Errorf("import: %w", err)
			}
		}
	}
	if err := im.writeOneByOne(recs); err != nil {
		return err
	}
	return im.readSeqs()
}

// writeNew inserts recs, whose battles are not stored. ok is false, and
// nothing inserted yet but recs's battles and votes, when some vote id is
// stored already.
//
// Battles and votes go in one row a statement, turns and summaries in
// multi-row statements. Inside a transaction SQLite gives a multi-row
// INSERT into a table with a UNIQUE index a statement journal, which
// copies every page the statement changes that was there before it: for
// battles and votes, whose unique ids are random, that is a page of each
// index for every row, and costs four times what one-row statements do.
// Turns and summaries are appended: their statements change few old
// pages.
func (im *importer) writeNew(recs []rlhf.Record) (ok bool, err error) {
	battle, err := im.prepare(importBattleSQL)
	if err != nil {
		return false, err
	}
	vote, err := im.prepare(importVoteSQL)
	if err != nil {
		return false, err
	}
	for i := range recs {
		b, seq := &recs[i].Battle, im.battleSeq+int64(i)
		if _, err := battle.ExecContext(im.sctx, seq, b.ID, b.ContributorID, b.ModelA, b.ModelB, string(b.Status),
			ms(b.CreatedAt), ms(b.UpdatedAt), cmp.Or(b.Source, rlhf.SourceArena), b.CampaignID, b.Category, b.Language, b.IdentityLeak,
			goldValue(b)); err != nil {
			return false, fmt.Errorf("import: battle %s: %w", b.ID, err)
		}
	}
	for i := range recs {
		v := &recs[i].Vote
		res, err := vote.ExecContext(im.sctx, im.voteSeq+int64(i), v.ID, v.BattleID, v.ContributorID, string(v.Winner),
			string(v.Strength), v.Reason, ms(v.CreatedAt))
		if err != nil {
			return false, fmt.Errorf("import: vote %s: %w", v.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return false, err // the vote id is taken
		}
	}
	if err := im.importSummaries(recs, im.voteSeq); err != nil {
		return false, err
	}
	args, err := im.writeTurns(recs, im.args[:0])
	clear(args)
	im.args = args[:0]
	if err != nil {
		return false, err
	}
	im.battleSeq += int64(len(recs))
	im.voteSeq += int64(len(recs))
	im.st.Added += len(recs)
	return true, nil
}

// writeTurns inserts the turns of recs, whose battles were just inserted
// with seqs from im.battleSeq on, in statements of at most importBatch
// rows. It returns args, the buffer it used.
func (im *importer) writeTurns(recs []rlhf.Record, args []any) ([]any, error) {
	rows := 0
	put := func() error {
		for rows > 0 {
			n := pow2Floor(rows)
			if m, err := im.exec(importTurnsSQL, importTurnsValues, n, args[:n*18]); err != nil || m != n {
				return errors.Join(err, fmt.Errorf("import: %d of %d turns inserted", m, n))
			}
			args = append(args[:0], args[n*18:]...)
			rows -= n
		}
		return nil
	}
	for i := range recs {
		seq, b := im.battleSeq+int64(i), &recs[i].Battle
		for j := range b.Turns {
			t := &b.Turns[j]
			args = append(args, seq, t.Index, t.Prompt, ms(t.At),
				t.A.Content, t.A.FinishReason, t.A.Tokens, t.A.TTFT.Microseconds(), t.A.Duration.Microseconds(), t.A.ErrorCode, t.A.Error,
				t.B.Content, t.B.FinishReason, t.B.Tokens, t.B.TTFT.Microseconds(), t.B.Duration.Microseconds(), t.B.ErrorCode, t.B.Error)
			if rows++; rows == importBatch {
				if err := put(); err != nil {
					return args, err
				}
			}
		}
	}
	return args, put()
}

// writeOneByOne stores recs one at a time, skipping those already stored.
func (im *importer) writeOneByOne(recs []rlhf.Record) error {
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
		if err := s.insertSummary(ctx, tx, r.Vote.ID, summaryArgs(r)); err != nil {
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

// The fast path's statements (see writeNew). A conflict on a battle or a
// turn (which write rules out) fails the import; one on a vote id is
// counted.
const (
	importStoredSQL      = `SELECT count(*) FROM battles WHERE id IN (%s)`
	importUndoVotesSQL   = `DELETE FROM votes WHERE battle_id IN (%s)`
	importUndoBattlesSQL = `DELETE FROM battles WHERE id IN (%s)`
	importBattleSQL      = `INSERT OR FAIL INTO battles
		(seq, id, contributor_id, model_a, model_b, status, created_at, updated_at, source, campaign_id, category, language, identity_leak, gold)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	importVoteSQL = `INSERT OR IGNORE INTO votes
		(seq, id, battle_id, contributor_id, winner, strength, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	importTurnsSQL = `INSERT OR FAIL INTO turns
		(battle_seq, idx, prompt, at,
		 a_content, a_finish, a_tokens, a_ttft_us, a_duration_us, a_error_code, a_error,
		 b_content, b_finish, b_tokens, b_ttft_us, b_duration_us, b_error_code, b_error)
		VALUES %s`
	importTurnsValues = `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
)
