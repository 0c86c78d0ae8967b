package clickhouse_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// TestContributorPseudonyms: with a contributor key, the battles and votes
// tables hold each contributor's pseudonym exactly as an export under the
// same key writes it, never the id; an operator who opts out gets the ids.
func TestContributorPseudonyms(t *testing.T) {
	srv := chtest.Start(t)
	key := []byte("the export key")
	for _, tt := range []struct {
		name string
		key  []byte
		want func(id string) string
	}{
		{"pseudonym", key, func(id string) string { return formats.Pseudonym(key, id) }},
		{"raw", nil, func(id string) string { return id }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := srv.NewConfig(t)
			cfg.ContributorKey = tt.key
			c := openConfig(t, cfg)
			ctx := context.Background()
			if err := c.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			b, recs := batch(chtest.NewRecords(3), clickhouse.NewBlockCounter(), "store-1", 1, 300)
			if _, err := c.Insert(ctx, b); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{} // battle or vote id -> its contributor column
			for _, r := range recs {
				want["battle "+r.Battle.ID] = tt.want(r.Battle.ContributorID)
				want["vote "+r.Vote.ID] = tt.want(r.Vote.ContributorID)
			}
			got := map[string]string{}
			for _, table := range []string{"battle", "vote"} {
				rows, err := c.QueryStrings(ctx, fmt.Sprintf("SELECT id, contributor_id FROM %s.%ss", cfg.Database, table))
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range rows {
					got[table+" "+row[0]] = row[1]
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for k, w := range want {
				if got[k] != w {
					t.Fatalf("%s: contributor_id %q, want %q", k, got[k], w)
				}
			}
		})
	}
}

func TestContributorsConfig(t *testing.T) {
	for _, v := range []string{"", "pseudonym", "raw"} {
		c := clickhouse.Config{Addrs: []string{"localhost:9000"}, Contributors: v}.WithDefaults()
		if err := c.Validate(); err != nil {
			t.Errorf("contributors %q: %v", v, err)
		}
		if got := c.Pseudonymous(); got != (v != "raw") {
			t.Errorf("contributors %q: Pseudonymous() = %v", v, got)
		}
	}
	c := clickhouse.Config{Addrs: []string{"localhost:9000"}, Contributors: "hashed"}.WithDefaults()
	if err := c.Validate(); err == nil {
		t.Error("contributors \"hashed\" was accepted")
	}
}
