package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestBattlesStarted counts each contributor's arena battles up to a
// time, after the given time for those named, and leaves imported battles
// out.
func TestBattlesStarted(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i, who := range []string{"c1", "c1", "c1", "c2", "c2"} {
		b := testBattle(fmt.Sprintf("bs%d", i), 1)
		b.ContributorID, b.CreatedAt = who, t0.Add(time.Duration(i)*time.Minute)
		if err := s.SaveBattle(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	imp := testBattle("imported", 1)
	imp.Source = "file.jsonl"
	if err := s.SaveBattle(ctx, imp); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		since map[string]time.Time
		until time.Time
		want  string
	}{
		{nil, t0.Add(time.Hour), "map[c1:3 c2:2]"},
		{map[string]time.Time{"c1": t0.Add(90 * time.Second), "c9": t0}, t0.Add(time.Hour), "map[c1:1 c2:2]"},
		{nil, t0.Add(4 * time.Minute), "map[c1:3 c2:1]"},
	} {
		got, err := s.BattlesStarted(ctx, tc.since, tc.until)
		if err != nil || fmt.Sprint(got) != tc.want {
			t.Errorf("BattlesStarted(%v, %v) = %v, %v; want %s", tc.since, tc.until, got, err, tc.want)
		}
	}
}
