package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// RecordFilter narrows RecordsWhere and ExportRecords. The zero value selects every voted battle.
type RecordFilter struct {
	AfterSeq int64     // only votes with seq > AfterSeq
	Since    time.Time // votes at or after Since, if set
	Until    time.Time // votes before Until, if set
	Models   []string  // only battles whose two models are both in Models, if set
	Sources  []string  // only battles from these sources, if set
	Limit    int       // at most Limit records, if > 0
}

// where returns the WHERE clause and its arguments for f. It is a
// separate function so that the SQL can be tested as a string.
func (f RecordFilter) where() (string, []any) {
	conds, args := f.voteConds("v.")
	bconds, bargs := f.battleConds("b.")
	return "WHERE " + strings.Join(append(conds, bconds...), " AND "), append(args, bargs...)
}

// voteConds returns f's conditions on the votes table, whose columns are
// named with prefix, and their arguments.
func (f RecordFilter) voteConds(prefix string) ([]string, []any) {
	conds := []string{prefix + "seq > ?"}
	args := []any{f.AfterSeq}
	if !f.Since.IsZero() {
		conds = append(conds, prefix+"created_at >= ?")
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, prefix+"created_at < ?")
		args = append(args, ms(f.Until))
	}
	return conds, args
}

// battleConds returns f's conditions on the battles table, whose columns
// are named with prefix, and their arguments.
func (f RecordFilter) battleConds(prefix string) ([]string, []any) {
	var conds []string
	var args []any
	if len(f.Models) > 0 {
		in := placeholders(len(f.Models))
		conds = append(conds, prefix+"model_a IN "+in, prefix+"model_b IN "+in)
		for range 2 {
			for _, m := range f.Models {
				args = append(args, m)
			}
		}
	}
	if len(f.Sources) > 0 {
		conds = append(conds, prefix+"source IN "+placeholders(len(f.Sources)))
		for _, s := range f.Sources {
			args = append(args, s)
		}
	}
	return conds, args
}

func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// recordColumns are a record's vote (v) and battle (b) columns, in the
// order RecordsWhere scans them.
const recordColumns = `v.seq, v.id, v.contributor_id, v.winner, v.strength, v.reason, v.created_at,
	b.id, b.contributor_id, b.model_a, b.model_b, b.status, b.created_at, b.updated_at,
	b.source, b.campaign_id, b.category, b.language, b.identity_leak, v.scope, v.licence, b.gold`

// recordsQuery is the one query behind RecordsWhere: votes with their battles
// and turns, in vote order, one row per turn.
func recordsQuery(f RecordFilter) (string, []any) {
	where, args := f.where()
	q := `SELECT ` + recordColumns + `,
		t.` + strings.ReplaceAll(turnColumns, ",\n\t", ", t.") + `
		FROM votes v
		JOIN battles b ON b.id = v.battle_id
		JOIN turns t ON t.battle_seq = b.seq
		` + where + `
		ORDER BY v.seq, t.idx`
	return q, args
}

// Records calls fn for every voted battle, in vote order: the store is
// an rlhf.RecordSource. fn must not keep r.
func (s *Store) Records(ctx context.Context, fn func(r *rlhf.Record) error) error {
	return s.RecordsWhere(ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error { return fn(r) })
}

// RecordsWhere calls fn for every voted battle that f selects, with its seq (the
// vote's position in commit order), in seq order. It keeps few records in
// memory at a time. fn must not keep r: Records reuses it. An error from
// fn stops the scan and is returned.
//
// A read with a Limit (the shipper's batches) is one query in one
// snapshot. A read without one (the leaderboard at start, agora
// leaderboard) is two: the votes and battles on one connection and their
// turns, in the same order, on another, in a goroutine of its own, because
// seeking each vote's turns is two thirds of the cost of Records. It reads
// what one snapshot would give (see twoSnapshots).
func (s *Store) RecordsWhere(ctx context.Context, f RecordFilter, fn func(seq int64, r *rlhf.Record) error) error {
	if f.Limit > 0 {
		return records(ctx, s.read, f, fn)
	}
	// Two connections of their own, set up as the read pool's: taken one
	// at a time from the pool, concurrent reads could each hold one and
	// wait for ever for a second.
	db, err := sql.Open("sqlite", s.readDSN)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(2)
	return recordsInTwo(ctx, db, f, fn)
}

// records runs RecordsWhere's query on db.
func records(ctx context.Context, db *sql.DB, f RecordFilter, fn func(seq int64, r *rlhf.Record) error) error {
	q, args := recordsQuery(f)
	return scanRecords(ctx, db, q, args, f.Limit, fn)
}

// scanRecords runs q, whose rows are recordsQuery's columns with the turns
// of each vote together, and calls fn for each record, at most limit if it
// is > 0.
func scanRecords(ctx context.Context, db *sql.DB, q string, args []any, limit int, fn func(seq int64, r *rlhf.Record) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	var (
		rec     rlhf.Record
		cur     int64 = -1
		emitted int
	)
	flush := func() error {
		if cur < 0 {
			return nil
		}
		emitted++
		return fn(cur, &rec)
	}
	for rows.Next() {
		var (
			seq                          int64
			winner, strength, status     string
			vCreated, bCreated, bUpdated int64
			t                            rlhf.Turn
		)
		var v rlhf.Vote
		var b rlhf.Battle
		err := scanTurn(rows, &t,
			&seq, &v.ID, &v.ContributorID, &winner, &strength, &v.Reason, &vCreated,
			&b.ID, &b.ContributorID, &b.ModelA, &b.ModelB, &status, &bCreated, &bUpdated,
			&b.Source, &b.CampaignID, &b.Category, &b.Language, &b.IdentityLeak, &v.Scope, &v.Licence, goldColumn{&b})
		if err != nil {
			return fmt.Errorf("read records: %w", err)
		}
		if seq != cur {
			if err := flush(); err != nil {
				return err
			}
			if limit > 0 && emitted >= limit {
				return nil
			}
			v.BattleID = b.ID
			v.Winner, v.Strength, v.CreatedAt = rlhf.Winner(winner), rlhf.Strength(strength), fromMS(vCreated)
			b.Status = rlhf.BattleStatus(status)
			b.CreatedAt, b.UpdatedAt = fromMS(bCreated), fromMS(bUpdated)
			b.Turns = rec.Battle.Turns[:0]
			rec = rlhf.Record{Battle: b, Vote: v}
			cur = seq
		}
		rec.Battle.Turns = append(rec.Battle.Turns, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	return flush()
}

// recordsInTwo is Records read on two connections of db.
func recordsInTwo(ctx context.Context, db *sql.DB, f RecordFilter, fn func(seq int64, r *rlhf.Record) error) error {
	tx, ttx, err := twoSnapshots(ctx, db)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer tx.Rollback()
	defer ttx.Rollback()

	// The turns of the votes f selects.
	vconds, args := f.voteConds("v.")
	bconds, bargs := f.battleConds("b.")
	where := "WHERE " + strings.Join(append(vconds, bconds...), " AND ")
	args = append(args, bargs...)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	turns := readTurns(rctx, ttx, `SELECT v.seq, t.`+strings.ReplaceAll(turnColumns, ",\n\t", ", t.")+`
		FROM votes v JOIN battles b ON b.id = v.battle_id JOIN turns t ON t.battle_seq = b.seq `+where+`
		ORDER BY v.seq, t.idx`, args,
		func(rows *sql.Rows, seq *int64, t *rlhf.Turn) error { return scanTurn(rows, t, seq) })
	defer turns.stop()

	rows, err := tx.QueryContext(ctx, `SELECT `+recordColumns+`
		FROM votes v JOIN battles b ON b.id = v.battle_id `+where+`
		ORDER BY v.seq`, args...)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	var (
		rec            rlhf.Record
		tSeq           int64
		t              *rlhf.Turn
		haveT          bool
		tErr           error
		winner, status string
		strength       string
		vc, bc, bu     int64
	)
	nextTurn := func() { tSeq, t, haveT, tErr = turns.next() }
	nextTurn()
	for rows.Next() && tErr == nil {
		var seq int64
		ts := rec.Battle.Turns[:0]
		rec = rlhf.Record{}
		v, b := &rec.Vote, &rec.Battle
		if err := rows.Scan(&seq, &v.ID, &v.ContributorID, &winner, &strength, &v.Reason, &vc,
			&b.ID, &b.ContributorID, &b.ModelA, &b.ModelB, &status, &bc, &bu,
			&b.Source, &b.CampaignID, &b.Category, &b.Language, &b.IdentityLeak, &v.Scope, &v.Licence, goldColumn{b}); err != nil {
			return fmt.Errorf("read records: %w", err)
		}
		v.BattleID = b.ID
		v.Winner, v.Strength, v.CreatedAt = rlhf.Winner(winner), rlhf.Strength(strength), fromMS(vc)
		b.Status, b.CreatedAt, b.UpdatedAt = rlhf.BattleStatus(status), fromMS(bc), fromMS(bu)
		for haveT && tSeq < seq {
			nextTurn()
		}
		for haveT && tSeq == seq {
			ts = append(ts, *t)
			nextTurn()
		}
		b.Turns = ts
		if tErr != nil {
			break // the turns may be cut short
		}
		if len(ts) == 0 {
			continue // as the join of records: a vote without turns is no record
		}
		if err := fn(seq, &rec); err != nil {
			return err
		}
	}
	if tErr != nil {
		return fmt.Errorf("read records: %w", tErr)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	return nil
}
