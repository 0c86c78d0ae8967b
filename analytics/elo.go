package analytics

import (
	"context"
	"math"
)

// EloParams are the parameters of online Elo.
type EloParams struct {
	K       float64 `json:"k"`
	Scale   float64 `json:"scale"`
	Base    float64 `json:"base"`
	Initial float64 `json:"initial"`
}

// ArenaElo returns Chatbot Arena's online Elo parameters: K 4, scale 400,
// base 10, initial rating 1000.
func ArenaElo() EloParams { return EloParams{K: 4, Scale: 400, Base: 10, Initial: 1000} }

// elo holds running ratings.
type elo struct {
	p       EloParams
	lnBase  float64
	ratings []float64
}

func newElo(p EloParams, n int) *elo {
	e := &elo{p: p, lnBase: math.Log(p.Base), ratings: make([]float64, n)}
	for i := range e.ratings {
		e.ratings[i] = p.Initial
	}
	return e
}

// update applies one battle with score sa for a (1 win, 0.5 tie, 0 loss),
// exactly as FastChat's compute_online_elo does it.
func (e *elo) update(a, b int, sa float64) {
	ra, rb := e.ratings[a], e.ratings[b]
	ea := 1 / (1 + math.Exp(e.lnBase*(rb-ra)/e.p.Scale))
	eb := 1 / (1 + math.Exp(e.lnBase*(ra-rb)/e.p.Scale))
	e.ratings[a] += e.p.K * (sa - ea)
	e.ratings[b] += e.p.K * (1 - sa - eb)
}

func (e *elo) grow(n int) {
	for len(e.ratings) < n {
		e.ratings = append(e.ratings, e.p.Initial)
	}
}

var eloScore = [4]float64{outA: 1, outB: 0, outTie: 0.5, outBothBad: 0.5}

// OnlineElo runs online Elo over battles in the given order and returns each
// model's final rating.
func OnlineElo(battles []Battle, p EloParams) map[string]float64 {
	var names symbols
	e := newElo(p, 0)
	for i := range battles {
		b := &battles[i]
		a, c := names.id(b.ModelA), names.id(b.ModelB)
		e.grow(len(names.names))
		e.update(int(a), int(c), eloScore[outcomeOf(b.Winner)])
	}
	out := make(map[string]float64, len(names.names))
	for i, n := range names.names {
		out[n] = e.ratings[i]
	}
	return out
}

// elo runs online Elo over the battles sel keeps, in time order (file order
// among equal or missing times), and returns ratings by dataset model id.
func (d *Dataset) elo(sel *selector, p EloParams) []float64 {
	return d.eloPaced(context.Background(), sel, p)
}

// eloPaced is elo with a checkpoint every eloSlice battles, so that a paced
// fit (Paced) sleeps during it as during the rest of the fit. It always
// runs to the end: once ctx ends it no longer sleeps, and the caller
// finds ctx's error at its next checkpoint.
func (d *Dataset) eloPaced(ctx context.Context, sel *selector, p EloParams) []float64 {
	e := newElo(p, len(d.models.names))
	all := sel.all()
	seen := 0
	d.inOrder(func(i int) {
		if seen++; seen%eloSlice == 0 {
			_ = checkpoint(ctx) // ctx's error is the caller's to see
		}
		if all || sel.keep(d, i) {
			e.update(int(d.a[i]), int(d.b[i]), eloScore[d.w[i]])
		}
	})
	return e.ratings
}

// eloSlice is how many battles Elo visits between two checkpoints (about
// a millisecond).
const eloSlice = 1 << 15
