package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

func TestVotesPerDay(t *testing.T) {
	var d Dataset
	day := func(n int, h int) time.Time { return time.Date(2026, 11, 1+n, h, 0, 0, 0, time.UTC) }
	add := func(a, b string, at time.Time, lang string) {
		t.Helper()
		if err := d.Add(Battle{ModelA: a, ModelB: b, Winner: rlhf.WinnerA, Time: at, Language: lang}); err != nil {
			t.Fatal(err)
		}
	}
	add("m1", "m2", day(0, 1), "English")
	add("m2", "m1", day(0, 23), "Spanish")
	add("m1", "m3", day(35, 12), "English")
	add("m2", "m3", day(36, 12), "English") // not m1's
	add("m1", "m2", time.Time{}, "English") // no time: left out
	l := newLiveDataset(&d)

	got, err := l.VotesPerDay(context.Background(), "m1", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != DailyDays || got[len(got)-1] != (DayVotes{"2026-12-06", 1}) || got[0].Day != "2026-11-07" {
		t.Fatalf("VotesPerDay(m1) = %v, want %d days ending 2026-12-06 with 1", got, DailyDays)
	}
	var total int64
	for _, v := range got {
		total += v.Votes
	}
	if total != 1 {
		t.Errorf("VotesPerDay(m1) counts %d votes in its 30 days, want 1 (two are older)", total)
	}
	got, _ = l.VotesPerDay(context.Background(), "m2", Filter{Languages: []string{"Spanish"}})
	if len(got) != DailyDays || got[len(got)-1] != (DayVotes{"2026-11-01", 1}) {
		t.Errorf("VotesPerDay(m2, Spanish) ends %v, want 2026-11-01 with 1", got[len(got)-1])
	}
	if got, _ := l.VotesPerDay(context.Background(), "m3", Filter{Languages: []string{"Arabic"}}); len(got) != 0 {
		t.Errorf("VotesPerDay(m3, Arabic) = %v, want no days", got)
	}
	if _, err := l.VotesPerDay(context.Background(), "nobody", Filter{}); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("VotesPerDay(nobody) error %v, want not_found", err)
	}
}
