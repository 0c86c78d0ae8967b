package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// eraseStatements returns the mutations that delete the rows of the
// given battles from the tables that hold their content: battles, turns
// (prompts and answers) and votes (reasons). In cluster mode they run on
// the shard Agora writes to, where its rows are.
func (l layout) eraseStatements() []string {
	return []string{
		"ALTER TABLE " + l.writeTable(battlesTable.name) + " DELETE WHERE id IN ?",
		"ALTER TABLE " + l.writeTable(turnsTable.name) + " DELETE WHERE battle_id IN ?",
		"ALTER TABLE " + l.writeTable(votesTable.name) + " DELETE WHERE battle_id IN ?",
	}
}

// Erase deletes the rows of the given battles — a contributor's erased
// data — from ClickHouse, and waits until the deletions (asynchronous
// mutations) are done, so that the rows are gone from the parts on disk.
func (c *Client) Erase(ctx context.Context, battles []string) error {
	if len(battles) == 0 {
		return nil
	}
	for start := 0; start < len(battles); start += lookupChunk {
		chunk := inList(battles[start:min(start+lookupChunk, len(battles))])
		for _, q := range c.layout.eraseStatements() {
			if err := c.exec(ctx, q, chunk); err != nil {
				return fmt.Errorf("erase %d battles: %w", len(battles), err)
			}
		}
	}
	return c.waitMutations(ctx)
}

// waitMutations waits until no mutation of Agora's tables is pending.
func (c *Client) waitMutations(ctx context.Context) error {
	q := "SELECT count() FROM system.mutations WHERE database = ? AND is_done = 0"
	for {
		var pending uint64
		if err := c.queryRow(ctx, q, c.layout.db).Scan(&pending); err != nil {
			return fmt.Errorf("wait for deletions: %w", err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for deletions (%d pending): %w", pending, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
