package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// ExportSource is the records ExportRecords gives for f, as an
// rlhf.RecordSource: what exports read.
func (s *Store) ExportSource(f RecordFilter) rlhf.RecordSource { return exportSource{s, f} }

type exportSource struct {
	s *Store
	f RecordFilter
}

func (e exportSource) Records(ctx context.Context, fn func(r *rlhf.Record) error) error {
	return e.s.ExportRecords(ctx, e.f, func(_ int64, r *rlhf.Record) error { return fn(r) })
}

// exportPragmas set up the connection ExportRecords reads through: no
// memory map (mapped pages of the file count in the process's resident
// set, so an export of a large store would look as large as the file), a
// page cache of 2 MiB, and sorts that spill to temporary files rather than
// grow in memory (SQLite sorts in memory up to the page cache's size).
const exportPragmas = "&_pragma=query_only(ON)&_pragma=mmap_size(0)&_pragma=cache_size(-2048)&_pragma=temp_store(FILE)"

// ExportRecords is RecordsWhere for one long read of many records, such as an
// export: the records RecordsWhere would give for f, but in the order the
// battles were stored (their seq) rather than in vote order, through
// connections of its own whose memory stays the same whatever the size of
// the store. fn must not keep r.
//
// Of each record it reads only what the export formats write
// (exportFields): the battle's status, update time and campaign, and the
// turns' finish reasons, timings and error messages are left zero. Each
// column read costs SQLite's driver several calls, each taking the
// connection's lock: leaving those eleven out saves about a quarter of the
// reading.
//
// Why battle order: battles and turns are stored in it (see
// LayoutMigration), so both are read sequentially, each page once: the
// turns on one connection, in a goroutine of their own, and the battles
// with their votes (looked up by the battle, in a small index) on
// another; the two streams are merged on the battle's seq.
func (s *Store) ExportRecords(ctx context.Context, f RecordFilter, fn func(seq int64, r *rlhf.Record) error) error {
	db, err := s.exportDB()
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer db.Close()
	tx, ttx, err := twoSnapshots(ctx, db)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer tx.Rollback()
	defer ttx.Rollback()

	// Three goroutines: the turns are read on one, the votes and battles
	// read and merged with them on a second, and fn runs on the caller's.
	// Batches go from each to the next, and back to be reused, so at most
	// exportBatches batches of each kind exist.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	turns := readTurns(rctx, ttx, exportTurnsSQL, nil, func(rows *sql.Rows, id *int64, t *rlhf.Turn) error {
		var at int64
		err := rows.Scan(id, &t.Index, &t.Prompt, &at,
			&t.A.Content, &t.A.Tokens, &t.A.ErrorCode, &t.B.Content, &t.B.Tokens, &t.B.ErrorCode)
		t.At = fromMS(at)
		return err
	})
	defer turns.stop()
	full := make(chan *exportBatch, exportBatches)
	free := make(chan *exportBatch, exportBatches)
	for range exportBatches {
		free <- &exportBatch{}
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(full)
		b := <-free
		err := exportMerge(rctx, tx, f, turns, func(seq int64, r *rlhf.Record) error {
			b.add(seq, r)
			if len(b.recs) < exportBatchSize {
				return nil
			}
			full <- b
			select {
			case b = <-free:
				b.reset()
				return nil
			case <-rctx.Done():
				return rctx.Err()
			}
		})
		if err == nil && len(b.recs) > 0 {
			full <- b
		}
		readErr <- err
	}()
	var fnErr error
	for b := range full {
		for i := range b.recs {
			if fnErr == nil {
				fnErr = fn(b.seqs[i], &b.recs[i])
			}
		}
		if fnErr != nil {
			cancel()
		}
		free <- b
	}
	err = <-readErr
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	return nil
}

// exportTurnsSQL reads the turns of ExportRecords, in battle order.
const exportTurnsSQL = `SELECT battle_seq, idx, prompt, at,
	a_content, a_tokens, a_error_code, b_content, b_tokens, b_error_code
	FROM turns ORDER BY battle_seq, idx`

// exportFields clears in r what ExportRecords leaves zero.
func exportFields(r *rlhf.Record) {
	r.Battle.Status, r.Battle.UpdatedAt, r.Battle.CampaignID = "", time.Time{}, ""
	for i := range r.Battle.Turns {
		for _, a := range []*rlhf.Answer{&r.Battle.Turns[i].A, &r.Battle.Turns[i].B} {
			a.FinishReason, a.TTFT, a.Duration, a.Error = "", 0, 0, ""
		}
	}
}

// Records go from the reading goroutine to fn in exportBatches batches of
// exportBatchSize.
const (
	exportBatches   = 4
	exportBatchSize = 256
)

// exportBatch holds copies of records; their turns live in turns.
type exportBatch struct {
	seqs  []int64
	recs  []rlhf.Record
	turns []rlhf.Turn
}

func (b *exportBatch) add(seq int64, r *rlhf.Record) {
	b.seqs = append(b.seqs, seq)
	c := *r
	start := len(b.turns)
	b.turns = append(b.turns, r.Battle.Turns...)
	c.Battle.Turns = b.turns[start:len(b.turns):len(b.turns)]
	b.recs = append(b.recs, c)
}

func (b *exportBatch) reset() {
	clear(b.recs)
	clear(b.turns)
	b.seqs, b.recs, b.turns = b.seqs[:0], b.recs[:0], b.turns[:0]
}

// exportDB opens the connection ExportRecords and ExportCount read
// through.
func (s *Store) exportDB() (*sql.DB, error) {
	dsn := "file:" + (&url.URL{Path: s.path}).EscapedPath() + "?_pragma=busy_timeout(10000)" + exportPragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	return db, nil
}

// ExportCount returns how many votes are stored, read like ExportRecords
// (Counts reads through the memory-mapped pool).
func (s *Store) ExportCount(ctx context.Context) (int64, error) {
	db, err := s.exportDB()
	if err != nil {
		return 0, fmt.Errorf("count votes: %w", err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM votes").Scan(&n); err != nil {
		return 0, fmt.Errorf("count votes: %w", err)
	}
	return n, nil
}

// exportQuery returns the query of the battles and votes of
// ExportRecords, with f's conditions, in battle order. CROSS JOIN keeps
// the battles the outer loop: they are scanned in the order they are
// stored, and each one's vote is found in the index of votes by battle.
func exportQuery(f RecordFilter) (string, []any) {
	vconds, args := f.voteConds("v.")
	bconds, bargs := f.battleConds("b.")
	q := `SELECT b.seq, v.seq, v.id, v.contributor_id, v.winner, v.strength, v.reason, v.created_at, v.scope, v.licence,
		v.contributor_id IN (SELECT contributor_id FROM quarantine),
		b.id, b.contributor_id, b.model_a, b.model_b, b.created_at, b.source, b.category, b.language, b.identity_leak, b.gold
		FROM battles b CROSS JOIN votes v ON v.battle_id = b.id
		WHERE ` + strings.Join(append(vconds, bconds...), " AND ") + ` ORDER BY b.seq`
	return q, append(args, bargs...)
}

// scanExport reads a row of exportQuery into r (all but its turns) and
// returns the battle's seq and the vote's.
func scanExport(rows *sql.Rows, r *rlhf.Record) (battle, vote int64, err error) {
	var winner, strength string
	var vCreated, bCreated int64
	v, b := &r.Vote, &r.Battle
	err = rows.Scan(&battle, &vote, &v.ID, &v.ContributorID, &winner, &strength, &v.Reason, &vCreated, &v.Scope, &v.Licence,
		&r.Quarantined, &b.ID, &b.ContributorID, &b.ModelA, &b.ModelB, &bCreated, &b.Source, &b.Category, &b.Language,
		&b.IdentityLeak, goldColumn{b})
	v.BattleID = b.ID
	v.Winner, v.Strength, v.CreatedAt = rlhf.Winner(winner), rlhf.Strength(strength), fromMS(vCreated)
	b.CreatedAt = fromMS(bCreated)
	return battle, vote, err
}

// exportMerge reads the battles and votes of exportQuery in tx, merges
// them with turns, and calls fn for each battle that has a vote and turns.
func exportMerge(ctx context.Context, tx *sql.Tx, f RecordFilter, turns *turnReader[int64], fn func(seq int64, r *rlhf.Record) error) error {
	q, args := exportQuery(f)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	tBattle, t, haveT, err := turns.next()
	var rec rlhf.Record
	var battle, seq int64
	for emitted := 0; err == nil && haveT && rows.Next(); {
		ts := rec.Battle.Turns[:0]
		rec = rlhf.Record{}
		if battle, seq, err = scanExport(rows, &rec); err != nil {
			return err
		}
		for err == nil && haveT && tBattle < battle {
			tBattle, t, haveT, err = turns.next()
		}
		for err == nil && haveT && tBattle == battle {
			ts = append(ts, *t)
			tBattle, t, haveT, err = turns.next()
		}
		if err != nil {
			return err
		}
		if rec.Battle.Turns = ts; len(ts) == 0 {
			continue
		}
		if err := fn(seq, &rec); err != nil {
			return err
		}
		if emitted++; f.Limit > 0 && emitted >= f.Limit {
			return nil
		}
	}
	if err != nil {
		return err
	}
	return rows.Err()
}
