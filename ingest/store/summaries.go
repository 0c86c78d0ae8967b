package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/agora-rlhf/agora/rlhf"
)

// SummaryMigration keeps a summary of every vote (rlhf.Summary): what
// leaderboards and matchmaking need, without the battles' text, so that
// the server loads them in time that does not grow with the text. A
// summary is written in its vote's transaction (SaveVote, Import); a
// trigger deletes it with its vote, so an erased vote leaves every
// leaderboard loaded after. Existing stores are summarized once, from
// their text, when Open first meets the new table (backfillSummaries).
const SummaryMigration = `CREATE TABLE vote_summaries (
		seq         INTEGER PRIMARY KEY, -- votes.seq
		model_a     TEXT NOT NULL,
		model_b     TEXT NOT NULL,
		winner      TEXT NOT NULL,
		failed      INTEGER NOT NULL,
		anonymous   INTEGER NOT NULL,
		at          INTEGER NOT NULL, -- Unix milliseconds, 0 unknown
		category    TEXT NOT NULL,
		language    TEXT NOT NULL,
		contributor TEXT NOT NULL,
		source      TEXT NOT NULL,
		style       BLOB -- NULL: no turns; else 8 little-endian int32, A's tokens, headers, lists, bold, then B's
	);
	CREATE TRIGGER vote_summaries_erase AFTER DELETE ON votes BEGIN
		DELETE FROM vote_summaries WHERE seq = old.seq;
	END;
	CREATE TABLE summaries_backfill (id INTEGER PRIMARY KEY CHECK (id = 1), done INTEGER NOT NULL);
	INSERT INTO summaries_backfill (id, done) VALUES (1, 0);`

const (
	summaryColumns = `model_a, model_b, winner, failed, anonymous, at, category, language, contributor, source, style, gold`
	// insertSummarySQL follows the vote's INSERT on the same connection:
	// last_insert_rowid() is the vote's seq.
	insertSummarySQL = `INSERT OR REPLACE INTO vote_summaries (seq, ` + summaryColumns + `)
		VALUES (last_insert_rowid(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// importSummariesSQL takes rows of (vote seq, summary columns).
	importSummariesSQL    = `INSERT OR REPLACE INTO vote_summaries (seq, ` + summaryColumns + `) VALUES %s`
	importSummariesValues = `(?,?,?,?,?,?,?,?,?,?,?,?,?)`
	backfillSummarySQL    = `INSERT OR IGNORE INTO vote_summaries (seq, ` + summaryColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	summariesSQL = `SELECT seq, ` + summaryColumns + ` FROM vote_summaries WHERE seq > ? AND seq <= ? ORDER BY seq`
)

// summaryCount is the number of summaryColumns.
const summaryCount = 12

// summaryArgs returns the summary columns of r, in summaryColumns order.
func summaryArgs(r *rlhf.Record) []any {
	s := r.Summary()
	source := s.Source
	if source == "" {
		source = rlhf.SourceArena
	}
	var style []byte
	if s.HasStyle {
		style = make([]byte, 0, 32)
		for _, st := range []rlhf.Style{s.StyleA, s.StyleB} {
			for _, v := range []int{st.Tokens, st.Headers, st.Lists, st.Bold} {
				style = binary.LittleEndian.AppendUint32(style, uint32(int32(min(v, 1<<31-1))))
			}
		}
	}
	return []any{s.ModelA, s.ModelB, string(s.Winner), s.Failed, s.Anonymous, ms(s.Time),
		s.Category, s.Language, s.Contributor, source, style, s.Gold}
}

// insertSummary writes a vote's summary columns (summaryArgs); the vote
// must be the last row inserted in tx.
func (s *Store) insertSummary(ctx context.Context, tx *sql.Tx, voteID string, args []any) error {
	if _, err := s.exec(ctx, tx, insertSummarySQL, args...); err != nil {
		return fmt.Errorf("save the summary of vote %s: %w", voteID, err)
	}
	return nil
}

// Summaries calls fn for the summary of every stored vote with seq in
// (after, upTo], or every one after after when upTo < 0, in seq order:
// the store is an rlhf.SummarySource. fn must not keep s; its strings may
// be kept.
func (s *Store) Summaries(ctx context.Context, after, upTo int64, fn func(s *rlhf.Summary) error) error {
	if upTo < 0 {
		upTo = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, summariesSQL, after, upTo)
	if err != nil {
		return fmt.Errorf("read vote summaries: %w", err)
	}
	defer rows.Close()
	in := interner{}
	var (
		sum                                     rlhf.Summary
		at                                      int64
		ma, mb, w, cat, lang, contrib, src, sty sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&sum.Seq, &ma, &mb, &w, &sum.Failed, &sum.Anonymous, &at, &cat, &lang, &contrib, &src, &sty, &sum.Gold); err != nil {
			return fmt.Errorf("read vote summaries: %w", err)
		}
		sum.ModelA, sum.ModelB, sum.Winner = in.get(ma), in.get(mb), rlhf.Winner(in.get(w))
		sum.Time = fromMS(at)
		sum.Category, sum.Language, sum.Contributor, sum.Source = in.get(cat), in.get(lang), in.get(contrib), in.get(src)
		sum.StyleA, sum.StyleB, sum.HasStyle = decodeStyle(sty)
		if err := fn(&sum); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read vote summaries: %w", err)
	}
	return nil
}

// MaxVoteSeq returns the seq of the last vote committed, 0 when none is.
// Votes committed later have larger seqs.
func (s *Store) MaxVoteSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT max(seq) FROM votes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read the last vote: %w", err)
	}
	return seq.Int64, nil
}

// decodeStyle reads a style column; ok is false for NULL (or malformed).
func decodeStyle(b []byte) (a, c rlhf.Style, ok bool) {
	if len(b) != 32 {
		return a, c, false
	}
	v := func(i int) int { return int(int32(binary.LittleEndian.Uint32(b[4*i:]))) }
	a = rlhf.Style{Tokens: v(0), Headers: v(1), Lists: v(2), Bold: v(3)}
	c = rlhf.Style{Tokens: v(4), Headers: v(5), Lists: v(6), Bold: v(7)}
	return a, c, true
}

// interner returns one string per distinct byte sequence, so that the
// summaries' repeated names are allocated once.
type interner map[string]string

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < 1<<20 {
		in[s] = s
	}
	return s
}

// backfillSummaries summarizes, once, the votes stored before the store
// kept summaries: it reads them with their text, as the leaderboard did at
// start, in batches of group commits. A store whose backfill is done
// returns at once.
func (s *Store) backfillSummaries(ctx context.Context) error {
	var done bool
	if err := s.read.QueryRowContext(ctx, `SELECT done FROM summaries_backfill`).Scan(&done); err != nil {
		return fmt.Errorf("summarize stored votes: %w", err)
	}
	if done {
		return nil
	}
	var batch [][]any
	flush := func() error {
		rows := batch
		batch = nil
		return s.do(ctx, func(tx *sql.Tx) error {
			for _, args := range rows {
				if _, err := tx.ExecContext(ctx, backfillSummarySQL, args...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := s.RecordsWhere(ctx, RecordFilter{}, func(seq int64, r *rlhf.Record) error {
		batch = append(batch, append([]any{seq}, summaryArgs(r)...))
		if len(batch) < 4096 {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = s.do(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE summaries_backfill SET done = 1`)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("summarize stored votes: %w", err)
	}
	return nil
}

// RebuildSummaries recomputes every vote's summary from the stored
// battles and votes, in one transaction: summaries of votes no longer
// stored go, and each stored vote's is written afresh. The trigger of
// SummaryMigration already deletes a vote's summary with the vote; this
// is for repairs after changes made otherwise.
func (s *Store) RebuildSummaries(ctx context.Context) error {
	if err := s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM vote_summaries; UPDATE summaries_backfill SET done = 0`)
		return err
	}); err != nil {
		return fmt.Errorf("rebuild vote summaries: %w", err)
	}
	return s.backfillSummaries(ctx)
}

// importSummaries writes summaries, the summaryArgs of records whose votes
// tx has just inserted with seqs from first on, back to back.
func (im *importer) importSummaries(sums []any, first int64) error {
	n := len(sums) / summaryCount
	args := make([]any, 0, n*(summaryCount+1))
	for i := 0; i < n; i++ {
		args = append(append(args, first+int64(i)), sums[i*summaryCount:(i+1)*summaryCount]...)
	}
	st, err := im.prepare(multiRow(importSummariesSQL, importSummariesValues, n))
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(im.sctx, args...); err != nil {
		return fmt.Errorf("import: vote summaries: %w", err)
	}
	return nil
}
