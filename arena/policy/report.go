package policy

import (
	"context"
	"maps"
	"math"
	"slices"
	"time"
)

// Release is a data release and its licence, as the transparency report
// lists it.
type Release struct {
	ID      string `json:"id"`       // the release root
	Leaf    int64  `json:"log_leaf"` // the release's leaf in the verifiable log
	Licence string `json:"licence"`  // "" when the release record names none
	// Licences are the release's votes by licence (SPDX ids), from its
	// data card; empty for releases kept before they were counted.
	Licences []ReleaseLicence `json:"licences"`
	Scope    string           `json:"scope,omitempty"`
	Format   string           `json:"format,omitempty"`
	Votes    int64            `json:"votes"`
	At       time.Time        `json:"at,omitzero"`
}

// ReleaseLicence is how many of a release's votes are under one licence.
type ReleaseLicence struct {
	Licence string `json:"licence"` // SPDX id; NOASSERTION when the votes name none
	Votes   int64  `json:"votes"`
}

// Report is the public transparency report (GET /api/v1/transparency).
type Report struct {
	Policy       Policy        `json:"policy"`
	InForce      Change        `json:"in_force"`
	History      []Change      `json:"history"` // oldest first
	Deprecations []Deprecation `json:"deprecations"`
	Shares       []LabShare    `json:"shares"`
	Sides        int64         `json:"battle_sides"` // every lab's sides together
	Votes        VoteCounts    `json:"votes"`
	Unlisted     []LabUnlisted `json:"unlisted"`
	Releases     []Release     `json:"releases"`
	At           time.Time     `json:"generated_at"`
}

// LabShare is a lab's share of battle sides against the policy's target.
type LabShare struct {
	Lab       string  `json:"lab"`
	Sides     int64   `json:"battle_sides"`
	Share     float64 `json:"share"`
	Target    float64 `json:"target"`
	OffTarget bool    `json:"off_target"` // further from Target than the policy's tolerance
}

// LabUnlisted is how many unlisted models a lab tests now, against the cap.
type LabUnlisted struct {
	Lab      string `json:"lab"`
	Unlisted int    `json:"unlisted"`
	Cap      int    `json:"cap"`
}

// Report builds the transparency report from the store and the policy in
// force.
func (g *Governor) Report(ctx context.Context) (*Report, error) {
	pol, inForce := g.Policy()
	r := &Report{Policy: pol, InForce: inForce, At: g.cfg.Now().UTC(), Releases: []Release{}}
	var err error
	if r.History, err = g.History(ctx); err != nil {
		return nil, err
	}
	if r.Deprecations, err = g.cfg.Store.Deprecations(ctx); err != nil {
		return nil, err
	}
	if r.Votes, err = g.cfg.Store.VoteCounts(ctx); err != nil {
		return nil, err
	}
	if r.Shares, r.Sides, err = g.shares(ctx, &pol); err != nil {
		return nil, err
	}
	if g.cfg.Releases != nil {
		if r.Releases, err = g.cfg.Releases(ctx); err != nil {
			return nil, err
		}
	}
	r.Unlisted = g.unlistedByLab(pol.MaxUnlistedPerLab)
	r.History = orEmpty(r.History)
	r.Deprecations = orEmpty(r.Deprecations)
	r.Releases = orEmpty(r.Releases)
	for i := range r.Releases {
		r.Releases[i].Licences = orEmpty(r.Releases[i].Licences)
	}
	return r, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// labOf returns the lab of model: the registry's, else the one its
// listing or deprecation names, else "operator".
func (g *Governor) labOf(labs map[string]string, model string) string {
	if lab, ok := labs[model]; ok && lab != "" {
		return lab
	} else if ok {
		return OperatorLab
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := len(g.listings) - 1; i >= 0; i-- {
		if g.listings[i].Model == model {
			return g.listings[i].Lab
		}
	}
	if d, ok := g.deprecated[model]; ok {
		return d.Lab
	}
	return OperatorLab
}

// shares counts each lab's battle sides and sets its target.
func (g *Governor) shares(ctx context.Context, pol *Policy) ([]LabShare, int64, error) {
	sides, err := g.cfg.Store.BattleSides(ctx)
	if err != nil {
		return nil, 0, err
	}
	labs := g.cfg.ModelLabs()
	count := map[string]int64{}
	var total int64
	for _, s := range sides {
		count[g.labOf(labs, s.Model)] += s.Sides
		total += s.Sides
	}
	active := map[string]bool{} // labs with a model that may battle now
	for model := range labs {
		if !g.Deprecated(model) {
			active[g.labOf(labs, model)] = true
			count[g.labOf(labs, model)] += 0
		}
	}
	targets := pol.Sampling.targets(active)
	out := make([]LabShare, 0, len(count))
	for _, lab := range slices.Sorted(maps.Keys(count)) {
		s := LabShare{Lab: lab, Sides: count[lab], Target: targets[lab]}
		if total > 0 {
			s.Share = float64(s.Sides) / float64(total)
		}
		s.OffTarget = total > 0 && math.Abs(s.Share-s.Target) > pol.Sampling.Tolerance
		out = append(out, s)
	}
	return out, total, nil
}

// targets returns each active lab's target share: equal shares, or the
// policy's, with labs it does not name sharing the rest equally.
func (s Sampling) targets(active map[string]bool) map[string]float64 {
	out := map[string]float64{}
	rest, unnamed := 1.0, 0
	for lab := range active {
		if v, ok := s.Shares[lab]; ok && s.Target == "shares" {
			out[lab] = v
			rest -= v
		} else {
			unnamed++
		}
	}
	for lab := range active {
		if _, ok := out[lab]; !ok && unnamed > 0 {
			out[lab] = max(rest, 0) / float64(unnamed)
		}
	}
	return out
}

// unlistedByLab counts each lab's unlisted models.
func (g *Governor) unlistedByLab(cap int) []LabUnlisted {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := map[string]int{}
	for _, i := range g.current {
		if l := g.listings[i]; l.State == Unlisted {
			n[l.Lab]++
		}
	}
	out := []LabUnlisted{}
	for _, lab := range slices.Sorted(maps.Keys(n)) {
		out = append(out, LabUnlisted{Lab: lab, Unlisted: n[lab], Cap: cap})
	}
	return out
}
