package clickhouse

import (
	"slices"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// The inserted tables' columns, one table each: a column's name and how a
// row's value is taken. Insert sends exactly these columns, in this order.

// battleRow is one row of the battles table.
type battleRow struct {
	store, contributor string
	b                  *rlhf.Battle
	version            uint64
}

// turnRow is one row of the turns table.
type turnRow struct {
	b       *rlhf.Battle
	t       *rlhf.Turn
	version uint64
}

// voteRow is one row of the votes table.
type voteRow struct {
	store, contributor string
	seq                int64
	b                  *rlhf.Battle
	v                  *rlhf.Vote
}

func battleColumns() []insertColumn[battleRow] {
	return []insertColumn[battleRow]{
		col("store_id", func(r battleRow) string { return r.store }),
		col("id", func(r battleRow) string { return r.b.ID }),
		col("contributor_id", func(r battleRow) string { return r.contributor }),
		col("model_a", func(r battleRow) string { return r.b.ModelA }),
		col("model_b", func(r battleRow) string { return r.b.ModelB }),
		col("status", func(r battleRow) string { return string(r.b.Status) }),
		col("source", func(r battleRow) string { return r.b.Source }),
		col("campaign_id", func(r battleRow) string { return r.b.CampaignID }),
		col("category", func(r battleRow) string { return r.b.Category }),
		col("language", func(r battleRow) string { return r.b.Language }),
		col("turns", func(r battleRow) uint16 { return uint16(len(r.b.Turns)) }),
		col("created_at", func(r battleRow) time.Time { return dateTime(r.b.CreatedAt) }),
		col("created_at_ms", func(r battleRow) int64 { return r.b.CreatedAt.UnixMilli() }),
		col("updated_at", func(r battleRow) time.Time { return dateTime(r.b.UpdatedAt) }),
		col("updated_at_ms", func(r battleRow) int64 { return r.b.UpdatedAt.UnixMilli() }),
		col("version", func(r battleRow) uint64 { return r.version }),
	}
}

func turnColumns() []insertColumn[turnRow] {
	return []insertColumn[turnRow]{
		col("battle_id", func(r turnRow) string { return r.b.ID }),
		col("idx", func(r turnRow) uint16 { return uint16(r.t.Index) }),
		col("model_a", func(r turnRow) string { return r.b.ModelA }),
		col("model_b", func(r turnRow) string { return r.b.ModelB }),
		col("prompt", func(r turnRow) string { return r.t.Prompt }),
		col("at", func(r turnRow) time.Time { return dateTime(r.t.At) }),
		col("at_ms", func(r turnRow) int64 { return r.t.At.UnixMilli() }),
		col("answer_a", func(r turnRow) string { return r.t.A.Content }),
		col("answer_b", func(r turnRow) string { return r.t.B.Content }),
		col("finish_a", func(r turnRow) string { return r.t.A.FinishReason }),
		col("finish_b", func(r turnRow) string { return r.t.B.FinishReason }),
		col("error_a", func(r turnRow) string { return r.t.A.ErrorCode }),
		col("error_b", func(r turnRow) string { return r.t.B.ErrorCode }),
		col("tokens_a", func(r turnRow) uint32 { return uint32(r.t.A.Tokens) }),
		col("tokens_b", func(r turnRow) uint32 { return uint32(r.t.B.Tokens) }),
		col("ttft_a_ms", func(r turnRow) uint32 { return millis32(r.t.A.TTFT) }),
		col("ttft_b_ms", func(r turnRow) uint32 { return millis32(r.t.B.TTFT) }),
		col("duration_a_ms", func(r turnRow) uint32 { return millis32(r.t.A.Duration) }),
		col("duration_b_ms", func(r turnRow) uint32 { return millis32(r.t.B.Duration) }),
		col("battle_created_at", func(r turnRow) time.Time { return dateTime(r.b.CreatedAt) }),
		col("version", func(r turnRow) uint64 { return r.version }),
	}
}

// voteColumns are the votes table's columns; legacy leaves out the ones a
// table made before the vote flags lacks (identity_leak, gold).
func voteColumns(legacy bool) []insertColumn[voteRow] {
	cols := []insertColumn[voteRow]{
		col("store_id", func(r voteRow) string { return r.store }),
		col("seq", func(r voteRow) uint64 { return uint64(r.seq) }),
		col("id", func(r voteRow) string { return r.v.ID }),
		col("battle_id", func(r voteRow) string { return r.b.ID }),
		col("contributor_id", func(r voteRow) string { return r.contributor }),
		col("model_a", func(r voteRow) string { return r.b.ModelA }),
		col("model_b", func(r voteRow) string { return r.b.ModelB }),
		col("winner", func(r voteRow) string { return string(r.v.Winner) }),
		col("strength", func(r voteRow) string { return string(r.v.Strength) }),
		col("reason", func(r voteRow) string { return r.v.Reason }),
		col("source", func(r voteRow) string { return r.b.Source }),
		col("category", func(r voteRow) string { return r.b.Category }),
		col("language", func(r voteRow) string { return r.b.Language }),
		col("identity_leak", func(r voteRow) string { return r.b.IdentityLeak }),
		col("gold", func(r voteRow) string { return r.b.Gold }),
		col("created_at", func(r voteRow) time.Time { return dateTime(r.v.CreatedAt) }),
		col("created_at_ms", func(r voteRow) int64 { return r.v.CreatedAt.UnixMilli() }),
		col("version", func(r voteRow) uint64 { return uint64(r.seq) }),
	}
	if legacy {
		cols = slices.DeleteFunc(cols, func(c insertColumn[voteRow]) bool {
			return c.name() == "identity_leak" || c.name() == "gold"
		})
	}
	return cols
}

// insertColumn is one column of an insert, gathering its values row by row.
type insertColumn[R any] interface {
	name() string
	grow(n int)
	add(row R)
	addTo(cs *columnSet)
}

// col returns the column name whose value in a row is of(row).
func col[R, T any](name string, of func(R) T) insertColumn[R] {
	return &typedColumn[R, T]{n: name, of: of}
}

type typedColumn[R, T any] struct {
	n    string
	of   func(R) T
	vals []T
}

func (c *typedColumn[R, T]) name() string        { return c.n }
func (c *typedColumn[R, T]) grow(n int)          { c.vals = slices.Grow(c.vals, n) }
func (c *typedColumn[R, T]) add(row R)           { c.vals = append(c.vals, c.of(row)) }
func (c *typedColumn[R, T]) addTo(cs *columnSet) { cs.add(c.n, c.vals) }

// columnsOf gathers rows into a column set.
type columnsOf[R any] []insertColumn[R]

func newColumns[R any](cols []insertColumn[R], n int) columnsOf[R] {
	for _, c := range cols {
		c.grow(n)
	}
	return cols
}

func (cols columnsOf[R]) add(row R) {
	for _, c := range cols {
		c.add(row)
	}
}

func (cols columnsOf[R]) set() *columnSet {
	cs := &columnSet{}
	for _, c := range cols {
		c.addTo(cs)
	}
	return cs
}
