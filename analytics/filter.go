package analytics

import (
	"time"
)

// Filter selects the battles a leaderboard is computed from. The zero Filter
// keeps every battle. List fields keep a battle whose value is in the list;
// an empty list does not filter.
type Filter struct {
	Since, Until        time.Time // keep battles at or after Since and before Until; zero is open
	Models              []string  // keep battles whose two models are both listed
	Categories          []string
	Languages           []string
	ExcludeTies         bool     // drop ties and both-bad votes
	Contributors        []string // keep only these contributors
	ExcludeContributors []string // drop these contributors (flagged ones)
	Sources             []string
}

// IsZero reports whether f keeps every battle.
func (f *Filter) IsZero() bool {
	return f.Since.IsZero() && f.Until.IsZero() && len(f.Models) == 0 && len(f.Categories) == 0 &&
		len(f.Languages) == 0 && !f.ExcludeTies && len(f.Contributors) == 0 &&
		len(f.ExcludeContributors) == 0 && len(f.Sources) == 0
}

// selector is a Filter compiled against one Dataset's symbol tables.
type selector struct {
	since, until int64
	timed        bool
	models       []bool // by model id; nil keeps all
	category     []bool
	language     []bool
	contributor  []bool
	exclude      []bool // contributors to drop
	source       []bool
	noTies       bool
	none         bool // nothing can match (a listed value never occurs)
}

func (f *Filter) compile(d *Dataset) selector {
	s := selector{noTies: f.ExcludeTies, since: noTime, until: noTime}
	if !f.Since.IsZero() {
		s.since, s.timed = f.Since.UnixNano(), true
	}
	if !f.Until.IsZero() {
		s.until, s.timed = f.Until.UnixNano(), true
	}
	set := func(names []string, sym *symbols) []bool {
		if len(names) == 0 {
			return nil
		}
		keep := make([]bool, len(sym.names))
		any := false
		for _, n := range names {
			if id, ok := sym.lookup(n); ok {
				keep[id] = true
				any = true
			}
		}
		if !any {
			s.none = true
		}
		return keep
	}
	s.models = set(f.Models, &d.models)
	s.category = set(f.Categories, &d.category.sym)
	s.language = set(f.Languages, &d.language.sym)
	s.contributor = set(f.Contributors, &d.contributor.sym)
	s.source = set(f.Sources, &d.source.sym)
	if len(f.ExcludeContributors) > 0 {
		s.exclude = make([]bool, len(d.contributor.sym.names))
		for _, n := range f.ExcludeContributors {
			if id, ok := d.contributor.sym.lookup(n); ok {
				s.exclude[id] = true
			}
		}
	}
	// A list over a column no battle has filled can only match "" (id 0
	// absent): nothing matches unless "" was listed.
	return s
}

// all reports whether the selector keeps every battle.
func (s *selector) all() bool {
	return !s.timed && s.models == nil && s.category == nil && s.language == nil &&
		s.contributor == nil && s.exclude == nil && s.source == nil && !s.noTies && !s.none
}

// keep reports whether battle i of d passes.
func (s *selector) keep(d *Dataset, i int) bool {
	if s.none {
		return false
	}
	if s.noTies && d.w[i] >= outTie {
		return false
	}
	if s.models != nil && (!s.models[d.a[i]] || !s.models[d.b[i]]) {
		return false
	}
	if s.timed {
		if d.t == nil || d.t[i] == noTime {
			return false
		}
		t := d.t[i]
		if s.since != noTime && t < s.since || s.until != noTime && t >= s.until {
			return false
		}
	}
	if s.category != nil && !s.category[d.category.at(i)] {
		return false
	}
	if s.language != nil && !s.language[d.language.at(i)] {
		return false
	}
	if s.source != nil && !s.source[d.source.at(i)] {
		return false
	}
	if s.contributor != nil || s.exclude != nil {
		c := d.contributor.at(i)
		if s.contributor != nil && !s.contributor[c] || s.exclude != nil && s.exclude[c] {
			return false
		}
	}
	return true
}
