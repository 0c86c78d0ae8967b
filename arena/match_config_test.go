package arena

import (
	"context"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/agora-rlhf/agora/rlhf"
)

func TestMatchConfigYAML(t *testing.T) {
	const doc = `
policy: active
weights:
  gpt-4o: 2
  old-model: 0.5
new_model_votes: 300
new_model_boost: 4
epsilon: 0.2
refresh:
  votes: 10
  interval: 45s
`
	var c MatchConfig
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Policy != PolicyActive || c.Weights["old-model"] != 0.5 || c.NewModelVotes != 300 || c.NewModelBoost != 4 ||
		c.Epsilon != 0.2 || c.Refresh.Votes != 10 || c.Refresh.Interval != 45*time.Second {
		t.Errorf("decoded %+v", c)
	}
	m, err := NewMatcher(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := m.(*Active)
	if !ok || a.cfg.Epsilon != 0.2 || a.cfg.RefreshVotes != 10 || a.cfg.RefreshInterval != 45*time.Second {
		t.Errorf("NewMatcher(active) = %#v", m)
	}
}

func TestNewMatcher(t *testing.T) {
	for _, tc := range []struct {
		cfg  MatchConfig
		want string
	}{
		{MatchConfig{}, "arena.Uniform"},
		{MatchConfig{Policy: "uniform"}, "arena.Uniform"},
		{MatchConfig{Policy: "weighted"}, "*arena.Weighted"},
		{MatchConfig{Policy: "active"}, "*arena.Active"},
	} {
		m, err := NewMatcher(tc.cfg, nil)
		if err != nil {
			t.Fatalf("NewMatcher(%+v): %v", tc.cfg, err)
		}
		if got := typeName(m); got != tc.want {
			t.Errorf("NewMatcher(%+v) = %s, want %s", tc.cfg, got, tc.want)
		}
	}
	m, _ := NewMatcher(MatchConfig{Policy: "weighted", NewModelVotes: 7}, nil)
	if w := m.(*Weighted); w.boost != DefaultNewModelBoost || w.boostVotes != 7 {
		t.Errorf("weighted defaults: boost %g until %d votes, want %d until 7", w.boost, w.boostVotes, DefaultNewModelBoost)
	}
	m, _ = NewMatcher(MatchConfig{Policy: "active"}, nil)
	if a := m.(*Active); a.cfg.Epsilon != DefaultEpsilon || a.cfg.RefreshVotes != DefaultRefreshVotes || a.cfg.RefreshInterval != DefaultRefreshInterval {
		t.Errorf("active defaults: %+v", a.cfg)
	}
}

func typeName(m Matcher) string {
	switch m.(type) {
	case Uniform:
		return "arena.Uniform"
	case *Weighted:
		return "*arena.Weighted"
	case *Active:
		return "*arena.Active"
	}
	return "?"
}

func TestMatchConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  MatchConfig
		want string // substring of the error
	}{
		{"policy", MatchConfig{Policy: "greedy"}, `unknown policy "greedy"`},
		{"negative weight", MatchConfig{Weights: map[string]float64{"a": -1}}, `weight of "a" is -1`},
		{"empty name", MatchConfig{Weights: map[string]float64{"": 1}}, "empty model name"},
		{"votes", MatchConfig{NewModelVotes: -3}, "new_model_votes is -3"},
		{"boost below 1", MatchConfig{NewModelVotes: 10, NewModelBoost: 0.5}, "below 1"},
		{"boost without votes", MatchConfig{NewModelBoost: 3}, "new_model_votes is not"},
		{"epsilon", MatchConfig{Epsilon: 1.5}, "epsilon is 1.5"},
		{"refresh votes", MatchConfig{Refresh: MatchRefresh{Votes: -1}}, "refresh.votes is -1"},
		{"refresh interval", MatchConfig{Refresh: MatchRefresh{Interval: -time.Second}}, "refresh.interval is -1s"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tc.name, err, tc.want)
		}
		if _, err := NewMatcher(tc.cfg, nil); err == nil {
			t.Errorf("%s: NewMatcher accepted %+v", tc.name, tc.cfg)
		}
	}
}

type recordList []*rlhf.Record

func (l recordList) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	for _, r := range l {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func TestTeach(t *testing.T) {
	src := recordList{record("m00", "m01", rlhf.WinnerA), record("m01", "m01", rlhf.WinnerA), record("m00", "m02", rlhf.WinnerTie)}
	w := NewWeighted(nil, 1, 0)
	var seen int
	err := Teach(src, w).Records(context.Background(), func(*rlhf.Record) error { seen++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if seen != 3 {
		t.Errorf("consumer saw %d records, want all 3", seen)
	}
	if got := [3]int{w.Votes("m00"), w.Votes("m01"), w.Votes("m02")}; got != [3]int{2, 1, 1} {
		t.Errorf("votes learned = %v, want [2 1 1] (the self-battle skipped)", got)
	}
}
