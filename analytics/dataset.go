package analytics

import (
	"cmp"
	"math"
	"slices"

	"github.com/agora-rlhf/agora/rlhf"
)

// Outcome codes stored per battle.
const (
	outA       uint8 = iota // model A won
	outB                    // model B won
	outTie                  // tie
	outBothBad              // tie, both bad
)

func outcomeOf(w rlhf.Winner) uint8 {
	switch w {
	case rlhf.WinnerA:
		return outA
	case rlhf.WinnerB:
		return outB
	case rlhf.WinnerTie:
		return outTie
	}
	return outBothBad
}

// noTime marks a battle without a timestamp.
const noTime = math.MinInt64

// Number of style features, in the order tokens, headers, lists, bold.
const numStyle = 4

// missingStyle in a battle's first style slot marks a battle without style
// features (a NaN, which no measured difference can be).
var missingStyle = float32(math.NaN())

// StyleFeatures names the style-control covariates in coefficient order.
var StyleFeatures = [numStyle]string{"tokens", "headers", "lists", "bold"}

// Dataset holds battles in compact columns: about 17 bytes per battle, plus
// 4 bytes for each of category, language, contributor and source once any
// battle has one, plus 16 bytes when style features are present. Names are
// interned. The zero Dataset is empty and ready to use. A Dataset is not safe
// for concurrent use; Live wraps one with a lock.
type Dataset struct {
	models      symbols
	a, b        []int32
	w           []uint8
	t           []int64 // nil until a battle has a time; noTime for unknown
	category    column
	language    column
	contributor column
	source      column
	style       []float32 // numStyle per battle: (A−B)/(A+B+1), nil until a battle has style; missingStyle marks none
	styled      int       // battles with style features
	timed       int       // battles with a time
	lastTime    int64
	unordered   bool  // some time is earlier than the one before
	uncounted   int64 // records AddRecord left out (rlhf.Record.Counted) other than failed ones
	failed      int64 // battles where a side failed (rlhf.Record.Failed): counted apart, never rated
}

// Len returns the number of battles.
func (d *Dataset) Len() int { return len(d.a) }

// Models returns the model names seen so far, in order of first appearance.
func (d *Dataset) Models() []string { return slices.Clone(d.models.names) }

// Add appends a battle after validating it.
func (d *Dataset) Add(b Battle) error {
	if err := b.Validate(); err != nil {
		return err
	}
	t := int64(noTime)
	if !b.Time.IsZero() {
		t = b.Time.UnixNano()
	}
	var st *[numStyle]float32
	if b.HasStyle {
		st = &[numStyle]float32{
			styleDiff(b.StyleA.Tokens, b.StyleB.Tokens),
			styleDiff(b.StyleA.Headers, b.StyleB.Headers),
			styleDiff(b.StyleA.Lists, b.StyleB.Lists),
			styleDiff(b.StyleA.Bold, b.StyleB.Bold),
		}
	}
	d.add(d.models.id(b.ModelA), d.models.id(b.ModelB), outcomeOf(b.Winner), t,
		b.Category, b.Language, b.Contributor, b.Source, st)
	return nil
}

// AddRecord appends the battle of a voted record, unless the record is
// not counted (rlhf.Record.Counted): a battle where a side failed is
// counted in Failed, any other uncounted record in Uncounted.
func (d *Dataset) AddRecord(r *rlhf.Record) error {
	s := r.Summary()
	return d.AddSummary(&s)
}

// Uncounted returns the number of records AddRecord left out, other than
// failed ones.
func (d *Dataset) Uncounted() int64 { return d.uncounted }

// Failed returns the number of battles left out of the ratings because a
// side failed.
func (d *Dataset) Failed() int64 { return d.failed }

// Grow makes room for n more battles in the fixed columns, so that a
// reader that knows the size of its input does not copy them while
// appending (see formats.CountSink).
func (d *Dataset) Grow(n int) {
	d.a = slices.Grow(d.a, n)
	d.b = slices.Grow(d.b, n)
	d.w = slices.Grow(d.w, n)
	if d.t != nil {
		d.t = slices.Grow(d.t, n)
	}
}

// styleDiff is Arena's normalized difference (A−B)/(A+B+1).
func styleDiff(a, b int) float32 {
	return float32(float64(a-b) / float64(a+b+1))
}

func (d *Dataset) add(a, b int32, w uint8, t int64, cat, lang, contrib, src string, st *[numStyle]float32) {
	i := d.addCore(a, b, w, t, st)
	d.category.add(i, cat)
	d.language.add(i, lang)
	d.contributor.add(i, contrib)
	d.source.add(i, src)
}

// addCore appends the fixed columns and returns the new battle's index.
func (d *Dataset) addCore(a, b int32, w uint8, t int64, st *[numStyle]float32) int {
	i := len(d.a)
	d.a = append(d.a, a)
	d.b = append(d.b, b)
	d.w = append(d.w, w)
	if t != noTime {
		if d.t == nil {
			d.t = make([]int64, i, max(16, cap(d.a)))
			for k := range d.t {
				d.t[k] = noTime
			}
		}
		if d.timed > 0 && t < d.lastTime {
			d.unordered = true
		}
		d.lastTime = t
		d.timed++
	}
	if d.t != nil {
		d.t = append(d.t, t)
	}
	if st != nil {
		if d.style == nil {
			d.style = make([]float32, numStyle*i, numStyle*max(16, cap(d.a)))
			for k := 0; k < i; k++ {
				d.style[numStyle*k] = missingStyle
			}
		}
		d.styled++
	}
	if d.style != nil {
		if st == nil {
			st = &[numStyle]float32{missingStyle}
		}
		d.style = append(d.style, st[:]...)
	}
	return i
}

// inOrder calls fn with every battle's index in time order: a stable
// sort by time, so that equal times keep file order, and a battle without
// a time sorts with the timed battle before it, keeping its place among
// its neighbours. Only the battles after the longest ordered prefix are
// sorted (live votes come nearly in order: a few late ones at the end),
// and merged with the prefix as they are visited, so the cost is a pass
// plus a sort of that tail, and nothing the size of d is allocated.
func (d *Dataset) inOrder(fn func(i int)) {
	n := len(d.a)
	if d.t == nil || !d.unordered {
		for i := range n {
			fn(i)
		}
		return
	}
	key := func(i int, last int64) int64 {
		if d.t[i] != noTime {
			return d.t[i]
		}
		return last
	}
	p, last := 0, int64(noTime)
	for ; p < n; p++ {
		k := key(p, last)
		if k < last {
			break
		}
		last = k
	}
	tail, keys := make([]int32, n-p), make([]int64, n-p)
	for j := range tail {
		tail[j], last = int32(p+j), key(p+j, last)
		keys[j] = last
	}
	slices.SortStableFunc(tail, func(x, y int32) int { return cmp.Compare(keys[int(x)-p], keys[int(y)-p]) })
	j, last := 0, int64(noTime)
	for i := 0; i < p; i++ {
		k := key(i, last)
		for ; j < len(tail) && keys[int(tail[j])-p] < k; j++ {
			fn(int(tail[j]))
		}
		fn(i)
		last = k
	}
	for ; j < len(tail); j++ {
		fn(int(tail[j]))
	}
}

// symbols interns strings as dense int32 ids.
type symbols struct {
	ids   map[string]int32
	names []string
}

func (s *symbols) id(name string) int32 {
	if id, ok := s.ids[name]; ok {
		return id
	}
	if s.ids == nil {
		s.ids = make(map[string]int32)
	}
	id := int32(len(s.names))
	s.ids[name] = id
	s.names = append(s.names, name)
	return id
}

// lookup returns the id of name and whether it is known.
func (s *symbols) lookup(name string) (int32, bool) {
	id, ok := s.ids[name]
	return id, ok
}

// column is an optional interned string column. Id 0 is the empty string;
// ids stays nil while every value is empty.
type column struct {
	sym symbols
	ids []int32
}

func (c *column) add(i int, v string) {
	if v == "" && c.ids == nil {
		return
	}
	if c.ids == nil {
		c.sym.id("")
		c.ids = make([]int32, i, max(16, i+i/4))
	}
	c.ids = append(c.ids, c.sym.id(v))
}

// at returns the id of battle i's value (0 for empty).
func (c *column) at(i int) int32 {
	if c.ids == nil {
		return 0
	}
	return c.ids[i]
}
