package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// SeqRecord is a voted battle with the sequence number its vote has in the
// embedded store that shipped it.
type SeqRecord struct {
	Seq    int64
	Record *rlhf.Record
}

// Batch is one shipment from one embedded store: records in ascending
// sequence order and the pair counts of every block they touch.
type Batch struct {
	// StoreID names the embedded store the records come from; sequence
	// numbers are unique only within it.
	StoreID string
	Records []SeqRecord
	Counts  []BlockCount
	// MaybeLanded says an earlier attempt at these rows may have reached
	// ClickHouse: a retry after an error, or the first batch after a
	// restart. Insert then waits until no insert of this store is still
	// running on the server and leaves out the rows ClickHouse already has.
	MaybeLanded bool
	// Attempt numbers the tries of one batch; it goes into the query ids.
	Attempt int
}

// InsertResult counts what one Insert wrote.
type InsertResult struct {
	Battles, Turns, Votes, Counts int // rows inserted per table
	Present                       int // votes left out because ClickHouse had them
}

var storeIDRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// ValidateRecord checks that r can be inserted: a complete record whose
// numbers fit the columns. One bad row spoils a whole insert, so the
// shipper checks every record before it joins a batch.
func ValidateRecord(r SeqRecord) error {
	if r.Record == nil {
		return rlhf.Errorf(rlhf.EInvalid, "seq %d: no record", r.Seq)
	}
	if r.Seq <= 0 {
		return rlhf.Errorf(rlhf.EInvalid, "vote %s: sequence number %d is not positive", r.Record.Vote.ID, r.Seq)
	}
	if err := r.Record.Validate(); err != nil {
		return fmt.Errorf("seq %d: %w", r.Seq, err)
	}
	b := &r.Record.Battle
	if len(b.Turns) > math.MaxUint16 {
		return rlhf.Errorf(rlhf.EInvalid, "battle %s: %d turns", b.ID, len(b.Turns))
	}
	for i := range b.Turns {
		t := &b.Turns[i]
		for _, a := range []*rlhf.Answer{&t.A, &t.B} {
			if a.Tokens < 0 || a.Tokens > math.MaxUint32 || a.TTFT < 0 || a.Duration < 0 {
				return rlhf.Errorf(rlhf.EInvalid, "battle %s turn %d: negative or huge token count or duration", b.ID, i)
			}
		}
	}
	return nil
}

// Insert writes a batch: battles, their turns, votes and pair counts, each
// table in one batch insert. The rows are idempotent: inserting the same
// batch again adds no vote that FINAL or argMax would count twice, and with
// MaybeLanded set it adds no row at all unless a previous attempt is still
// being written by the server.
func (c *Client) Insert(ctx context.Context, b *Batch) (InsertResult, error) {
	var res InsertResult
	if !storeIDRE.MatchString(b.StoreID) {
		return res, rlhf.Errorf(rlhf.EInvalid, "store id %q: want 1 to 64 letters, digits and dashes", b.StoreID)
	}
	for _, r := range b.Records {
		if err := ValidateRecord(r); err != nil {
			return res, err
		}
	}
	if len(b.Records) == 0 && len(b.Counts) == 0 {
		return res, nil
	}
	var present presentRows
	if b.MaybeLanded && len(b.Records) > 0 {
		if err := c.waitInserts(ctx, b.StoreID); err != nil {
			return res, err
		}
		var err error
		if present, err = c.presentRows(ctx, b.Records); err != nil {
			return res, err
		}
	}
	first := int64(0)
	if len(b.Records) > 0 {
		first = b.Records[0].Seq
	} else {
		first = b.Counts[0].Block * CountBlockSize
	}
	// Query ids name the store, so that waitInserts finds them, and end
	// with a random part: the server refuses an id that it still lists as
	// running, as it may for a moment after acknowledging an insert.
	nonce := rand.Uint32()
	qid := func(table string) string {
		return fmt.Sprintf("%s%d-%d-%s-%08x", queryIDPrefix(b.StoreID), first, b.Attempt, table, nonce)
	}

	battles, turns, votes := c.rows(b, present, &res)
	counts := countRows(b.StoreID, b.Counts)
	for _, bc := range b.Counts {
		res.Counts += len(bc.Pairs)
	}
	// The four inserts are independent (each is idempotent on its own), so
	// they run at once: the server writes one table while the client
	// encodes another.
	l := c.layout
	inserts := []struct {
		table string
		rows  int
		cols  *columnSet
	}{
		{battlesTable.name, res.Battles, battles},
		{turnsTable.name, res.Turns, turns},
		{votesTable.name, res.Votes, votes},
		{pairCountsTable.name, res.Counts, counts},
	}
	errs := make([]error, len(inserts))
	var wg sync.WaitGroup
	for i, in := range inserts {
		if in.rows == 0 {
			continue
		}
		wg.Go(func() {
			errs[i] = c.insert(ctx, l.writeTable(in.table), in.cols, qid(in.table))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	return res, nil
}

// queryIDPrefix starts the query id of every insert from one store.
func queryIDPrefix(storeID string) string { return "agora-ship-" + storeID + "-" }

// waitInserts waits until the server runs no insert of this store: an
// attempt that failed on our side (a cut connection, a deadline) may still
// be writing on the server's, and rows it has not committed yet would look
// missing.
func (c *Client) waitInserts(ctx context.Context, storeID string) error {
	deadline := time.Now().Add(c.cfg.ReadTimeout)
	for {
		var n uint64
		err := c.queryRow(ctx, "SELECT count() FROM system.processes WHERE query_id LIKE ?", queryIDPrefix(storeID)+"%").Scan(&n)
		if err != nil {
			return fmt.Errorf("look for running inserts: %w", err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d inserts of store %s still running after %v", n, storeID, c.cfg.ReadTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// presentRows is what ClickHouse already has of a batch.
type presentRows struct {
	battles, turns, votes map[string]bool // battle ids, battle ids with turns, vote ids
}

// lookupChunk bounds the ids per lookup query: 18.16 parses at most
// max_query_size (256 KiB) of query text.
const lookupChunk = 1000

func (c *Client) presentRows(ctx context.Context, recs []SeqRecord) (presentRows, error) {
	p := presentRows{battles: map[string]bool{}, turns: map[string]bool{}, votes: map[string]bool{}}
	l := c.layout
	for start := 0; start < len(recs); start += lookupChunk {
		chunk := recs[start:min(start+lookupChunk, len(recs))]
		battleIDs := make([]string, len(chunk))
		voteIDs := make([]string, len(chunk))
		for i, r := range chunk {
			battleIDs[i] = r.Record.Battle.ID
			voteIDs[i] = r.Record.Vote.ID
		}
		lookups := []struct {
			q   string
			ids []string
			set map[string]bool
		}{
			{"SELECT id FROM " + l.writeTable(battlesTable.name) + " WHERE id IN ?", battleIDs, p.battles},
			{"SELECT DISTINCT battle_id FROM " + l.writeTable(turnsTable.name) + " WHERE battle_id IN ?", battleIDs, p.turns},
			{"SELECT id FROM " + l.writeTable(votesTable.name) + " WHERE id IN ?", voteIDs, p.votes},
		}
		for _, lk := range lookups {
			if err := c.collect(ctx, lk.q, lk.ids, lk.set); err != nil {
				return p, fmt.Errorf("look up shipped rows: %w", err)
			}
		}
	}
	return p, nil
}

func (c *Client) collect(ctx context.Context, q string, ids []string, set map[string]bool) error {
	rows, err := c.query(ctx, q, inList(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		set[id] = true
	}
	return rows.Err()
}

// rows builds the column sets of a batch from the tables' column lists
// (columns.go), leaving out what is present, and counts them into res.
// Rows go in the order of each table's ORDER BY key: the server then finds
// each block already sorted and writes it without permuting it.
func (c *Client) rows(b *Batch, present presentRows, res *InsertResult) (battles, turns, votes *columnSet) {
	n := len(b.Records)
	bCols, tCols, vCols := newColumns(battleColumns(), n), newColumns(turnColumns(), n), newColumns(voteColumns(c.noVoteFlags), n)
	ps := c.pseudonyms()
	for _, i := range sortedBy(b.Records, func(r *rlhf.Record) string { return r.Battle.ID }) {
		bt := &b.Records[i].Record.Battle
		version := uint64(max(bt.UpdatedAt.UnixMilli(), 0))
		if !present.battles[bt.ID] {
			res.Battles++
			bCols.add(battleRow{store: b.StoreID, contributor: ps.of(bt.ContributorID), b: bt, version: version})
		}
		if !present.turns[bt.ID] {
			for i := range bt.Turns {
				res.Turns++
				tCols.add(turnRow{b: bt, t: &bt.Turns[i], version: version})
			}
		}
	}
	for _, i := range sortedBy(b.Records, func(r *rlhf.Record) string { return r.Vote.ID }) {
		sr := b.Records[i]
		v := &sr.Record.Vote
		if present.votes[v.ID] {
			res.Present++
			continue
		}
		res.Votes++
		vCols.add(voteRow{store: b.StoreID, contributor: ps.of(v.ContributorID), seq: sr.Seq, b: &sr.Record.Battle, v: v})
	}
	return bCols.set(), tCols.set(), vCols.set()
}

func countRows(storeID string, counts []BlockCount) *columnSet {
	var (
		store, modelA, modelB                  []string
		block, winsA, winsB, ties, bad, versio []uint64
	)
	for _, bc := range counts {
		for _, p := range bc.Pairs {
			store = append(store, storeID)
			block = append(block, uint64(bc.Block))
			modelA = append(modelA, p.ModelA)
			modelB = append(modelB, p.ModelB)
			winsA = append(winsA, uint64(p.WinsA))
			winsB = append(winsB, uint64(p.WinsB))
			ties = append(ties, uint64(p.Ties))
			bad = append(bad, uint64(p.BothBad))
			versio = append(versio, bc.version())
		}
	}
	cs := &columnSet{}
	cs.add("store_id", store)
	cs.add("block", block)
	cs.add("model_a", modelA)
	cs.add("model_b", modelB)
	cs.add("wins_a", winsA)
	cs.add("wins_b", winsB)
	cs.add("ties", ties)
	cs.add("bothbad", bad)
	cs.add("version", versio)
	return cs
}

// sortedBy returns the indexes of recs in ascending order of key.
func sortedBy(recs []SeqRecord, key func(*rlhf.Record) string) []int {
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return strings.Compare(key(recs[i].Record), key(recs[j].Record)) })
	return idx
}

func millis32(d time.Duration) uint32 {
	return uint32(min(d.Milliseconds(), math.MaxUint32))
}

// dateTime clamps t to what DateTime holds (1970 to 2105) in UTC.
func dateTime(t time.Time) time.Time {
	switch {
	case t.Unix() < 0:
		return time.Unix(0, 0).UTC()
	case t.Unix() > math.MaxUint32:
		return time.Unix(math.MaxUint32, 0).UTC()
	}
	return t.UTC()
}
