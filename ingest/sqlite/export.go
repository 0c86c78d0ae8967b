package sqlite

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
// export: the records RecordsWhere would give for f, but in the order of their
// battle ids rather than in vote order, through connections of its own
// whose memory stays the same whatever the size of the store. fn must not
// keep r.
//
// Of each record it reads only what the export formats write
// (exportFields): the battle's status, update time and campaign, and the
// turns' finish reasons, timings and error messages are left zero. Each
// column read costs SQLite's driver several calls, each taking the
// connection's lock: leaving those eleven out saves about a quarter of the
// reading.
//
// Why battle id order: turns are stored by (battle_id, idx) without a
// rowid, and a turn with more than about 1 KB of text spills onto overflow
// pages. To seek one, SQLite reads the whole record (overflow pages too)
// of every cell it compares on the way down the B-tree, so reading turns
// in vote order costs dozens of reads per battle. Instead ExportRecords
// reads three streams in battle id order and merges them: turns scanned in
// their own order (each page read once), and the votes and the battles
// each scanned in storage order and sorted by SQLite (in a temporary file
// past the page cache), which costs far fewer reads than looking each one
// up by id.
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
	turns := readTurns(rctx, ttx, exportTurnsSQL, nil, func(rows *sql.Rows, id *string, t *rlhf.Turn) error {
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

// exportTurnsSQL reads the turns of ExportRecords, in battle id order.
const exportTurnsSQL = `SELECT battle_id, idx, prompt, at,
	a_content, a_tokens, a_error_code, b_content, b_tokens, b_error_code
	FROM turns ORDER BY battle_id, idx`

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

// exportQueries returns the queries of the votes and the battles of
// ExportRecords, with f's conditions on each.
func exportQueries(f RecordFilter) (votes string, vargs []any, battles string, bargs []any) {
	vconds, vargs := f.voteConds("")
	bconds, bargs := f.battleConds("")
	if len(bconds) == 0 {
		bconds = []string{"1"}
	}
	// NOT INDEXED and the unary + keep SQLite from walking an index on
	// the id and fetching each row from wherever it is stored.
	votes = `SELECT battle_id, seq, id, contributor_id, winner, strength, reason, created_at, scope, licence,
		contributor_id IN (SELECT contributor_id FROM quarantine)
		FROM votes NOT INDEXED WHERE ` + strings.Join(vconds, " AND ") + ` ORDER BY +battle_id`
	battles = `SELECT id, contributor_id, model_a, model_b, created_at, source, category, language, identity_leak, gold
		FROM battles NOT INDEXED WHERE ` + strings.Join(bconds, " AND ") + ` ORDER BY +id`
	return votes, vargs, battles, bargs
}

// exportMerge reads the votes and battles of exportQueries in tx, merges
// them with turns, and calls fn for each battle that has a vote, a battle
// row and turns.
func exportMerge(ctx context.Context, tx *sql.Tx, f RecordFilter, turns *turnReader[string], fn func(seq int64, r *rlhf.Record) error) error {
	vq, vargs, bq, bargs := exportQueries(f)
	vrows, err := tx.QueryContext(ctx, vq, vargs...)
	if err != nil {
		return err
	}
	defer vrows.Close()
	brows, err := tx.QueryContext(ctx, bq, bargs...)
	if err != nil {
		return err
	}
	defer brows.Close()

	var (
		rec         rlhf.Record
		v           rlhf.Vote
		b           rlhf.Battle
		t           *rlhf.Turn
		tBattle     string
		haveB       = false
		haveT       = false
		bDone       = false
		tDone       = false
		emitted     int
		seq         int64
		winner      string
		strength    string
		vCreated    int64
		bCreated    int64
		quarantined bool
	)
	nextBattle := func() error {
		if !brows.Next() {
			bDone, haveB = true, false
			return brows.Err()
		}
		b = rlhf.Battle{}
		if err := brows.Scan(&b.ID, &b.ContributorID, &b.ModelA, &b.ModelB, &bCreated, &b.Source, &b.Category, &b.Language, &b.IdentityLeak, goldColumn{&b}); err != nil {
			return err
		}
		b.CreatedAt = fromMS(bCreated)
		haveB = true
		return nil
	}
	nextTurn := func() error {
		var err error
		tBattle, t, haveT, err = turns.next()
		tDone = !haveT
		return err
	}
	if err := nextBattle(); err != nil {
		return err
	}
	if err := nextTurn(); err != nil {
		return err
	}
	for vrows.Next() {
		if bDone || tDone {
			break
		}
		v = rlhf.Vote{}
		if err := vrows.Scan(&v.BattleID, &seq, &v.ID, &v.ContributorID, &winner, &strength, &v.Reason, &vCreated, &v.Scope, &v.Licence, &quarantined); err != nil {
			return err
		}
		id := v.BattleID
		for haveB && b.ID < id {
			if err := nextBattle(); err != nil {
				return err
			}
		}
		for haveT && tBattle < id {
			if err := nextTurn(); err != nil {
				return err
			}
		}
		if !haveB || b.ID != id || !haveT || tBattle != id {
			continue
		}
		v.Winner, v.Strength, v.CreatedAt = rlhf.Winner(winner), rlhf.Strength(strength), fromMS(vCreated)
		ts := rec.Battle.Turns[:0]
		rec = rlhf.Record{Battle: b, Vote: v, Quarantined: quarantined}
		for haveT && tBattle == id {
			ts = append(ts, *t)
			if err := nextTurn(); err != nil {
				return err
			}
		}
		rec.Battle.Turns = ts
		if err := fn(seq, &rec); err != nil {
			return err
		}
		if emitted++; f.Limit > 0 && emitted >= f.Limit {
			return nil
		}
	}
	return vrows.Err()
}
