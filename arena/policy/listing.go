package policy

import (
	"context"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// ReserveUnlisted reserves one of lab's unlisted slots for a registration
// in progress, or refuses with rlhf.ELimit when lab is at the policy's cap.
// Call release once the registration is recorded (Registered) or failed.
func (g *Governor) ReserveUnlisted(lab string) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cap := g.pol.MaxUnlistedPerLab
	n := g.unlisted(lab) + g.pending[lab]
	if n >= cap {
		return nil, rlhf.Errorf(rlhf.ELimit, "lab %q already tests %d unlisted models, the cap of leaderboard policy version %d (max_unlisted_per_lab: %d): list or delete one first",
			lab, n, g.pol.Version, cap)
	}
	g.pending[lab]++
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.pending[lab]--; g.pending[lab] <= 0 {
			delete(g.pending, lab)
		}
	}, nil
}

// unlisted counts lab's unlisted models; g.mu must be held.
func (g *Governor) unlisted(lab string) int {
	n := 0
	for _, i := range g.current {
		if l := g.listings[i]; l.Lab == lab && l.State == Unlisted {
			n++
		}
	}
	return n
}

// Registered records that lab registered model, unlisted or listed. A
// model registered listed counts the unlisted variants tested before it,
// as listing one does.
func (g *Governor) Registered(ctx context.Context, lab, model string, unlisted bool) error {
	now := g.cfg.Now()
	l := Listing{Model: model, Lab: lab, State: Unlisted, RegisteredAt: now}
	if !unlisted {
		l.State, l.ListedAt = Listed, now
		g.mu.Lock()
		l.Variants = g.variants(lab, now) + 1
		g.mu.Unlock()
	}
	id, err := g.cfg.Store.AddListing(ctx, l)
	if err != nil {
		return err
	}
	l.ID = id
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addListing(l)
	return nil
}

// variants counts lab's unlisted registrations (withdrawn ones too) within
// the policy's window before at; g.mu must be held.
func (g *Governor) variants(lab string, at time.Time) int {
	n := 0
	from := at.Add(-g.pol.Variants.Window.D())
	for _, l := range g.listings {
		if l.Lab == lab && l.ListedAt.IsZero() && !l.RegisteredAt.Before(from) && !l.RegisteredAt.After(at) {
			n++
		}
	}
	return n
}

// List makes lab's unlisted model public ("" lab: the admin, any lab's).
// From then on its scores cannot be retracted.
func (g *Governor) List(ctx context.Context, lab, model string) (Listing, error) {
	now := g.cfg.Now()
	g.mu.Lock()
	i, ok := g.current[model]
	if !ok || (lab != "" && g.listings[i].Lab != lab) {
		g.mu.Unlock()
		return Listing{}, rlhf.Errorf(rlhf.ENotFound, "no unlisted model %q", model)
	}
	l := g.listings[i]
	if l.State != Unlisted {
		g.mu.Unlock()
		return l, rlhf.Errorf(rlhf.EConflict, "model %q is already listed", model)
	}
	l.State, l.ListedAt = Listed, now
	l.Variants = g.variants(l.Lab, now) // this one included: it was unlisted
	g.mu.Unlock()
	if err := g.cfg.Store.UpdateListing(ctx, l); err != nil {
		return Listing{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.listings[i] = l
	return l, nil
}

// listing returns the live listing record of model; g.mu must be held.
func (g *Governor) listing(model string) (Listing, bool) {
	i, ok := g.current[model]
	if !ok {
		return Listing{}, false
	}
	return g.listings[i], true
}

// MayRetract refuses, with rlhf.EConflict and the reason, to delete a
// listed model that has votes: once listed, scores cannot be retracted.
func (g *Governor) MayRetract(ctx context.Context, model string) error {
	g.mu.Lock()
	l, ok := g.listing(model)
	version := g.pol.Version
	g.mu.Unlock()
	if ok && l.State == Unlisted {
		return nil
	}
	n, err := g.cfg.Store.VotesSince(ctx, model, time.Time{})
	if err != nil || n == 0 {
		return err
	}
	return rlhf.Errorf(rlhf.EConflict, "model %q is listed and has %d votes: under leaderboard policy version %d a listed model's scores cannot be retracted; deprecate it instead (POST /api/v1/deprecations with a reason)",
		model, n, version)
}

// Deleted records that model left the registry: an unlisted one is
// withdrawn (it still counts as a tested variant).
func (g *Governor) Deleted(ctx context.Context, model string) error {
	g.mu.Lock()
	l, ok := g.listing(model)
	g.mu.Unlock()
	if !ok {
		return nil
	}
	l.State = Withdrawn
	if err := g.cfg.Store.UpdateListing(ctx, l); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.listings[g.current[model]] = l
	delete(g.current, model)
	return nil
}

// Deprecate takes model out of new battles for good and logs it with its
// reason; its ratings stay on the board, labelled deprecated. The same
// rule holds for every lab's models and the operator's: a lab (callerLab
// not "") may deprecate its own, the admin any.
func (g *Governor) Deprecate(ctx context.Context, by, callerLab, model, reason string) (Deprecation, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return Deprecation{}, rlhf.Errorf(rlhf.EInvalid, "a deprecation needs a reason (at most 2000 bytes): it is published")
	}
	lab, err := g.deprecatable(callerLab, model)
	if err != nil {
		return Deprecation{}, err
	}
	pol, _ := g.Policy()
	d := Deprecation{Model: model, Lab: lab, By: by, Reason: reason, At: g.cfg.Now().UTC(), PolicyVersion: pol.Version}
	if err := g.cfg.Store.AddDeprecation(ctx, d); err != nil {
		return Deprecation{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deprecated[model] = d
	g.cfg.Log.Info("model deprecated", "model", model, "lab", lab, "by", by, "reason", reason)
	return d, nil
}

// deprecatable returns the lab of model if callerLab may deprecate it.
func (g *Governor) deprecatable(callerLab, model string) (string, error) {
	lab, ok := g.cfg.ModelLabs()[model]
	if !ok || (callerLab != "" && lab != callerLab) {
		return "", rlhf.Errorf(rlhf.ENotFound, "no model %q", model)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if d, ok := g.deprecated[model]; ok {
		return "", rlhf.Errorf(rlhf.EConflict, "model %q was deprecated on %s", model, d.At.Format(time.DateOnly))
	}
	if l, ok := g.listing(model); ok && l.State == Unlisted {
		return "", rlhf.Errorf(rlhf.EConflict, "model %q is unlisted: delete it instead (it was never on the public board)", model)
	}
	if lab == "" {
		lab = OperatorLab
	}
	return lab, nil
}

// Deprecated reports whether model is deprecated.
func (g *Governor) Deprecated(model string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.deprecated[model]
	return ok
}

// Hidden reports whether model is off the public board: unlisted, or
// withdrawn without ever being listed.
func (g *Governor) Hidden(model string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l, ok := g.listing(model); ok {
		return l.State == Unlisted
	}
	for i := len(g.listings) - 1; i >= 0; i-- {
		if l := g.listings[i]; l.Model == model {
			return l.ListedAt.IsZero()
		}
	}
	return false
}

// Describe returns the listing state of model as the registry API shows
// it: unlisted, listed or deprecated.
func (g *Governor) Describe(model string) string {
	switch {
	case g.Deprecated(model):
		return "deprecated"
	case g.Hidden(model):
		return Unlisted
	}
	return Listed
}
