package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PairCounts returns the votes per ordered pair of models over every store
// that ships to this ClickHouse database (every shard, on a cluster), read
// from the small pair_counts table. Votes on battles where a side failed
// are not in it (BlockCounter leaves them out). Each vote is counted exactly once,
// however often it was shipped.
func (c *Client) PairCounts(ctx context.Context) ([]PairCount, error) {
	return c.pairCounts(ctx, pairCountsQuery(c.layout), nil)
}

// pairCountsQuery sums the newest version of every (store, block, pair)
// row. A pair whose votes were all erased keeps zero rows (see Recount),
// which HAVING leaves out.
func pairCountsQuery(l layout) string {
	return `SELECT model_a, model_b, sum(wins_a), sum(wins_b), sum(ties), sum(bothbad)
FROM ` + l.readTable(pairCountsTable.name) + ` FINAL
GROUP BY model_a, model_b
HAVING sum(wins_a) + sum(wins_b) + sum(ties) + sum(bothbad) > 0
ORDER BY model_a, model_b`
}

// Filter narrows PairCountsWhere. The zero Filter selects every vote.
type Filter struct {
	Since, Until time.Time // votes at or after Since and before Until, if set
	Models       []string  // battles whose two models are both in Models, if set
	Sources      []string  // battles from these sources ("arena" or an import's), if set
	Categories   []string  // battles of these categories, if set
	Languages    []string  // battles in these languages, if set
	// Contributors keeps only these contributors' votes, if set;
	// ExcludeContributors drops these (quarantined ones). Both take the
	// contributor ids as Agora knows them: the client pseudonymises them
	// as the shipper does.
	Contributors, ExcludeContributors []string
}

// failedBattlesQuery selects the ids of battles where a side failed: the
// SQL form of rlhf.Battle.Failed, Agora's one counting rule (turns keep
// each answer's error code in error_a and error_b, empty when it finished).
// Vote counts leave these battles out; FailedVotes counts them.
func failedBattlesQuery(l layout) string {
	return "SELECT battle_id FROM " + l.readTable(turnsTable.name) + " FINAL WHERE error_a != '' OR error_b != ''"
}

// FailedVotes returns the number of votes on battles where a side failed,
// which no count of this package includes.
func (c *Client) FailedVotes(ctx context.Context) (int64, error) {
	var n uint64
	if err := c.queryRow(ctx, failedVotesQuery(c.layout)).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse failed votes: %w", err)
	}
	return int64(n), nil
}

func failedVotesQuery(l layout) string {
	return "SELECT count() FROM " + l.readTable(votesTable.name) + " FINAL WHERE battle_id GLOBAL IN (" + failedBattlesQuery(l) + ")"
}

// countedVotes is the condition on a vote's flags of rlhf.Record.Counted:
// the battle stayed anonymous and is not a gold battle (failed battles are
// left out by failedBattlesQuery).
const countedVotes = "identity_leak = '' AND gold = ''"

// UncountedVotes returns the number of votes kept but not counted because
// their battle was not anonymous or was a gold battle (failed ones are
// FailedVotes).
func (c *Client) UncountedVotes(ctx context.Context) (int64, error) {
	var n uint64
	q := "SELECT count() FROM " + c.layout.readTable(votesTable.name) + " FINAL WHERE NOT (" + countedVotes +
		") AND battle_id GLOBAL NOT IN (" + failedBattlesQuery(c.layout) + ")"
	if err := c.queryRow(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse uncounted votes: %w", err)
	}
	return int64(n), nil
}

// PairCountsWhere returns the votes per ordered pair of models that f
// selects. It reads the votes table itself (deduplicated with FINAL), so it
// costs a scan of the selected votes; PairCounts is the cheap unfiltered
// form.
func (c *Client) PairCountsWhere(ctx context.Context, f Filter) ([]PairCount, error) {
	ps := c.pseudonyms()
	pseud := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = ps.of(id)
		}
		return out
	}
	f.Contributors, f.ExcludeContributors = pseud(f.Contributors), pseud(f.ExcludeContributors)
	q, args := pairCountsWhereQuery(c.layout, f)
	return c.pairCounts(ctx, q, args)
}

// pairCountsWhereQuery builds PairCountsWhere's query and its arguments.
func pairCountsWhereQuery(l layout, f Filter) (string, []any) {
	var conds []string
	var args []any
	if !f.Since.IsZero() {
		conds = append(conds, "created_at_ms >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		conds = append(conds, "created_at_ms < ?")
		args = append(args, f.Until.UnixMilli())
	}
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			conds = append(conds, col+" IN ?")
			args = append(args, inList(vals))
		}
	}
	in("model_a", f.Models)
	in("model_b", f.Models)
	in("source", f.Sources)
	in("category", f.Categories)
	in("language", f.Languages)
	in("contributor_id", f.Contributors)
	if len(f.ExcludeContributors) > 0 {
		conds = append(conds, "contributor_id NOT IN ?")
		args = append(args, inList(f.ExcludeContributors))
	}
	conds = append(conds, countedVotes, "battle_id GLOBAL NOT IN ("+failedBattlesQuery(l)+")")
	where := ""
	if len(conds) > 0 {
		where = "\nWHERE " + strings.Join(conds, " AND ")
	}
	return `SELECT model_a, model_b, countIf(winner = 'a'), countIf(winner = 'b'), countIf(winner = 'tie'), countIf(winner = 'both_bad')
FROM ` + l.readTable(votesTable.name) + ` FINAL` + where + `
GROUP BY model_a, model_b
ORDER BY model_a, model_b`, args
}

func (c *Client) pairCounts(ctx context.Context, q string, args []any) ([]PairCount, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse pair counts: %w", err)
	}
	defer rows.Close()
	var out []PairCount
	for rows.Next() {
		var p PairCount
		var a, b, t, bb uint64
		if err := rows.Scan(&p.ModelA, &p.ModelB, &a, &b, &t, &bb); err != nil {
			return nil, fmt.Errorf("clickhouse pair counts: %w", err)
		}
		p.WinsA, p.WinsB, p.Ties, p.BothBad = int64(a), int64(b), int64(t), int64(bb)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse pair counts: %w", err)
	}
	return out, nil
}

// Audit is what a table holds, counted three ways. For votes, all three
// equal the number of votes shipped once ClickHouse has merged; Rows is
// larger while a retried insert's duplicates are still unmerged.
type Audit struct {
	Rows     uint64 // physical rows
	Distinct uint64 // distinct keys
	Final    uint64 // rows as read with FINAL
}

// AuditVotes counts the votes table (through the Distributed table on a
// cluster).
func (c *Client) AuditVotes(ctx context.Context) (Audit, error) {
	return c.audit(ctx, votesTable.name, "id")
}

// AuditBattles counts the battles table.
func (c *Client) AuditBattles(ctx context.Context) (Audit, error) {
	return c.audit(ctx, battlesTable.name, "id")
}

// AuditTurns counts the turns table.
func (c *Client) AuditTurns(ctx context.Context) (Audit, error) {
	return c.audit(ctx, turnsTable.name, "(battle_id, idx)")
}

func (c *Client) audit(ctx context.Context, table, key string) (Audit, error) {
	var a Audit
	t := c.layout.readTable(table)
	q := fmt.Sprintf("SELECT (SELECT count() FROM %s), (SELECT uniqExact(%s) FROM %s), (SELECT count() FROM %s FINAL)", t, key, t, t)
	if err := c.queryRow(ctx, q).Scan(&a.Rows, &a.Distinct, &a.Final); err != nil {
		return a, fmt.Errorf("audit %s: %w", t, err)
	}
	return a, nil
}
