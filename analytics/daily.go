package analytics

import (
	"context"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// DailyDays is how many days VotesPerDay returns.
const DailyDays = 30

// DayVotes is the votes a model had on one UTC day.
type DayVotes struct {
	Day   string `json:"day"` // YYYY-MM-DD
	Votes int64  `json:"votes"`
}

// VotesPerDay returns the counted votes on model's battles that f keeps,
// per UTC day, for the DailyDays days up to the day of the model's latest
// such vote, oldest first; days without votes have 0. Votes without a
// time are left out. A model the live votes never named is
// rlhf.ENotFound. It copies a view of the battles under the lock and
// counts outside it, O(battles).
func (l *Live) VotesPerDay(ctx context.Context, model string, f Filter) ([]DayVotes, error) {
	if err := l.waitLoaded(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	id, ok := l.data.models.lookup(model)
	data, sel := l.data.snapshot(), f.compile(&l.data)
	l.mu.Unlock()
	if !ok {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no votes for a model called %q", model)
	}
	const day = int64(24 * time.Hour)
	counts := map[int64]int64{}
	last := int64(-1 << 62)
	for i := range data.a {
		if data.t == nil || (data.a[i] != id && data.b[i] != id) || data.t[i] == noTime || !sel.keep(&data, i) {
			continue
		}
		d := data.t[i] / day
		if data.t[i] < 0 && data.t[i]%day != 0 {
			d-- // floor, for times before 1970
		}
		counts[d]++
		last = max(last, d)
	}
	out := make([]DayVotes, 0, DailyDays)
	if len(counts) == 0 {
		return out, nil
	}
	for d := last - DailyDays + 1; d <= last; d++ {
		out = append(out, DayVotes{Day: time.Unix(0, d*day).UTC().Format(time.DateOnly), Votes: counts[d]})
	}
	return out, nil
}
