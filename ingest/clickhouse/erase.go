package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// eraseStatements returns the mutations that delete the rows of the
// given battles from the tables that hold their content: battles, turns
// (prompts and answers) and votes (reasons). In cluster mode they run on
// the local tables of every server of the cluster (see Erase).
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
//
// On a cluster it deletes on every server listed for the cluster in
// system.clusters, connecting to each directly: rows that reached another
// shard (an Agora server that moved, rows inserted through a Distributed
// table) go too, and no ZooKeeper is needed (ALTER … ON CLUSTER needs it on
// 18.16). On a replicated cluster each replica's mutation is replicated to
// the others as well, which repeats a deletion that finds nothing more.
//
// It leaves pair_counts alone: Recount replaces the affected blocks' counts.
func (c *Client) Erase(ctx context.Context, battles []string) error {
	if len(battles) == 0 {
		return nil
	}
	if c.layout.cluster == "" {
		return c.eraseHere(ctx, battles)
	}
	hosts, err := c.clusterHosts(ctx)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if err := c.eraseOn(ctx, h, battles); err != nil {
			return err
		}
	}
	return nil
}

// eraseHere runs the deletions on the server c is connected to.
func (c *Client) eraseHere(ctx context.Context, battles []string) error {
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

// eraseOn runs the deletions on the server at addr (host:port), with c's
// credentials.
func (c *Client) eraseOn(ctx context.Context, addr string, battles []string) error {
	cfg := c.cfg
	cfg.Addrs = []string{addr}
	one, err := Open(cfg, c.log)
	if err != nil {
		return fmt.Errorf("erase on %s: %w", addr, err)
	}
	defer one.Close()
	if err := one.eraseHere(ctx, battles); err != nil {
		return fmt.Errorf("erase on %s: %w", addr, err)
	}
	return nil
}

// clusterHosts returns the native address of every server of the
// client's cluster, as the connected server lists them.
func (c *Client) clusterHosts(ctx context.Context) ([]string, error) {
	rows, err := c.query(ctx, "SELECT DISTINCT host_address, port FROM system.clusters WHERE cluster = ?", c.layout.cluster)
	if err != nil {
		return nil, fmt.Errorf("list the servers of cluster %s: %w", c.layout.cluster, err)
	}
	defer rows.Close()
	var hosts []string
	for rows.Next() {
		var (
			host string
			port uint16
		)
		if err := rows.Scan(&host, &port); err != nil {
			return nil, fmt.Errorf("list the servers of cluster %s: %w", c.layout.cluster, err)
		}
		hosts = append(hosts, fmt.Sprintf("%s:%d", host, port))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the servers of cluster %s: %w", c.layout.cluster, err)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("cluster %s is not in the server's system.clusters", c.layout.cluster)
	}
	slices.Sort(hosts)
	return hosts, nil
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

// ErasedBlocks returns the pair_counts blocks of store storeID that count
// votes on the given battles: those an erasure must recount. Call it before
// Erase, while the votes are still there.
func (c *Client) ErasedBlocks(ctx context.Context, storeID string, battles []string) ([]int64, error) {
	seen := map[int64]bool{}
	q := fmt.Sprintf("SELECT DISTINCT intDiv(seq, %d) FROM %s WHERE store_id = ? AND battle_id IN ?",
		CountBlockSize, c.layout.writeTable(votesTable.name))
	for start := 0; start < len(battles); start += lookupChunk {
		rows, err := c.query(ctx, q, storeID, inList(battles[start:min(start+lookupChunk, len(battles))]))
		if err != nil {
			return nil, fmt.Errorf("find the counts of erased votes: %w", err)
		}
		for rows.Next() {
			var b uint64
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, fmt.Errorf("find the counts of erased votes: %w", err)
			}
			seen[int64(b)] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("find the counts of erased votes: %w", err)
		}
	}
	blocks := make([]int64, 0, len(seen))
	for b := range seen {
		blocks = append(blocks, b)
	}
	slices.Sort(blocks)
	return blocks, nil
}

// Recount replaces the pair counts of whole blocks of store storeID with
// counts, made again from the store after an erasure: each is written as
// Recounted, with a zero row for every pair ClickHouse counted in that
// block that counts no longer has, so that FINAL reads the new counts only.
func (c *Client) Recount(ctx context.Context, storeID string, counts []BlockCount) error {
	if len(counts) == 0 {
		return nil
	}
	if !storeIDRE.MatchString(storeID) {
		return fmt.Errorf("store id %q: want 1 to 64 letters, digits and dashes", storeID)
	}
	blocks := make([]string, len(counts))
	for i, bc := range counts {
		blocks[i] = fmt.Sprint(bc.Block)
	}
	old, err := c.countedPairs(ctx, storeID, blocks)
	if err != nil {
		return err
	}
	out := make([]BlockCount, len(counts))
	for i, bc := range counts {
		bc.Recounted = true
		bc.Pairs = withZeroPairs(bc.Pairs, old[bc.Block])
		out[i] = bc
	}
	qid := fmt.Sprintf("%srecount-%d-%08x", queryIDPrefix(storeID), counts[0].Block, time.Now().UnixNano()&0xffffffff)
	if err := c.insert(ctx, c.layout.writeTable(pairCountsTable.name), countRows(storeID, out), qid); err != nil {
		return fmt.Errorf("recount %d blocks: %w", len(counts), err)
	}
	return nil
}

// countedPairs returns the pairs pair_counts has rows for, per block.
func (c *Client) countedPairs(ctx context.Context, storeID string, blocks []string) (map[int64][][2]string, error) {
	q := "SELECT DISTINCT block, model_a, model_b FROM " + c.layout.writeTable(pairCountsTable.name) +
		" WHERE store_id = ? AND toString(block) IN ?"
	rows, err := c.query(ctx, q, storeID, inList(blocks))
	if err != nil {
		return nil, fmt.Errorf("read the counted pairs: %w", err)
	}
	defer rows.Close()
	out := map[int64][][2]string{}
	for rows.Next() {
		var (
			b    uint64
			a, z string
		)
		if err := rows.Scan(&b, &a, &z); err != nil {
			return nil, fmt.Errorf("read the counted pairs: %w", err)
		}
		out[int64(b)] = append(out[int64(b)], [2]string{a, z})
	}
	return out, rows.Err()
}

// withZeroPairs returns pairs with a zero count added for every pair of
// old it lacks, sorted by name.
func withZeroPairs(pairs []PairCount, old [][2]string) []PairCount {
	have := map[[2]string]bool{}
	for _, p := range pairs {
		have[[2]string{p.ModelA, p.ModelB}] = true
	}
	out := append([]PairCount(nil), pairs...)
	for _, k := range old {
		if !have[k] {
			have[k] = true
			out = append(out, PairCount{ModelA: k[0], ModelB: k[1]})
		}
	}
	sortPairs(out)
	return out
}
