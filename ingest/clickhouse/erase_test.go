package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// TestEraseDeletesContent ships records, erases a quarter of the battles
// (one contributor's), and checks through queries that none of their
// prompts, answers or reasons is left in any table, while every other row
// is.
func TestEraseDeletesContent(t *testing.T) {
	c, _ := open(t)
	ctx := context.Background()
	mark := fmt.Sprintf("GONE%08x", rand.Uint32())
	gen := chtest.NewRecords(7)
	b, recs := batch(gen, clickhouse.NewBlockCounter(), "store1", 1, 40)
	var victim []string
	for i := range b.Records {
		r := b.Records[i].Record
		if i%4 == 0 {
			victim = append(victim, r.Battle.ID)
			r.Battle.Turns[0].Prompt = mark + " prompt"
			r.Battle.Turns[0].A.Content = mark + " answer"
			r.Vote.Reason = mark + " reason"
		} else {
			r.Vote.Reason = "kept reason"
		}
	}
	if _, err := c.Insert(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := c.Erase(ctx, victim); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	db := c.Config().Database
	turns := 0 // the others' turns
	for i, r := range recs {
		if i%4 != 0 {
			turns += len(r.Battle.Turns)
		}
	}
	for _, q := range []struct {
		sql  string
		want int
	}{
		{"SELECT toString(count()) FROM " + db + ".turns WHERE position(prompt, '" + mark + "') > 0 OR position(answer_a, '" + mark + "') > 0", 0},
		{"SELECT toString(count()) FROM " + db + ".votes WHERE position(reason, '" + mark + "') > 0", 0},
		{"SELECT toString(count()) FROM " + db + ".battles", 30},
		{"SELECT toString(count()) FROM " + db + ".votes WHERE reason = 'kept reason'", 30},
		{"SELECT toString(count()) FROM " + db + ".turns", turns},
	} {
		rows, err := c.QueryStrings(ctx, q.sql)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := strconv.Atoi(rows[0][0]); got != q.want {
			t.Errorf("%s = %d after erasure, want %d", q.sql, got, q.want)
		}
	}
}
