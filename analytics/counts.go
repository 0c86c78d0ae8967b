package analytics

// Counts holds per-pair outcome counts for the models that have at least one
// battle. Everything a Bradley–Terry fit needs is in here.
type Counts struct {
	Models  []string // index i names model i
	Wins    []int64  // n×n, Wins[i*n+j] is the number of times i beat j
	Ties    []int64  // n×n symmetric, ties and both-bad votes
	Battles int64
	// Failed is the number of battles left out because a side failed
	// (rlhf.Record.Failed), whatever the filter.
	Failed int64
	// ids maps a Dataset model id to its index here, -1 when absent.
	ids []int32
}

// N returns the number of models.
func (c *Counts) N() int { return len(c.Models) }

// Played returns the number of battles between i and j.
func (c *Counts) Played(i, j int) int64 {
	n := len(c.Models)
	return c.Wins[i*n+j] + c.Wins[j*n+i] + c.Ties[i*n+j]
}

// Record returns model i's wins, losses and ties.
func (c *Counts) Record(i int) (wins, losses, ties int64) {
	n := len(c.Models)
	for j := 0; j < n; j++ {
		wins += c.Wins[i*n+j]
		losses += c.Wins[j*n+i]
		ties += c.Ties[i*n+j]
	}
	return wins, losses, ties
}

// Pairs returns the pairs i < j that played at least once.
func (c *Counts) Pairs() []Pair {
	n := len(c.Models)
	var ps []Pair
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			wi, wj, t := c.Wins[i*n+j], c.Wins[j*n+i], c.Ties[i*n+j]
			if wi+wj+t > 0 {
				ps = append(ps, Pair{I: i, J: j, WinsI: float64(wi), WinsJ: float64(wj), Ties: float64(t)})
			}
		}
	}
	return ps
}

// Count runs one counting pass over the battles of d that f keeps.
func (d *Dataset) Count(f Filter) *Counts {
	sel := f.compile(d)
	return d.count(&sel)
}

func (d *Dataset) count(sel *selector) *Counts {
	m := len(d.models.names)
	// Count on the dataset's ids first, then compact to the models present.
	wins := make([]int64, m*m)
	ties := make([]int64, m*m)
	var total int64
	all := sel.all()
	for i := range d.a {
		if !all && !sel.keep(d, i) {
			continue
		}
		a, b := int(d.a[i]), int(d.b[i])
		switch d.w[i] {
		case outA:
			wins[a*m+b]++
		case outB:
			wins[b*m+a]++
		default:
			ties[a*m+b]++
		}
		total++
	}
	return d.compact(wins, ties, total)
}

// compact turns counts indexed by dataset model ids (m×m, ties stored at
// [a][b] as they occurred) into Counts over the models that played.
func (d *Dataset) compact(wins, ties []int64, total int64) *Counts {
	m := len(d.models.names)
	present := make([]bool, m)
	for a := 0; a < m; a++ {
		for b := 0; b < m; b++ {
			if wins[a*m+b]+ties[a*m+b] > 0 {
				present[a], present[b] = true, true
			}
		}
	}
	c := &Counts{Battles: total, Failed: d.failed, ids: make([]int32, m)}
	for id := range present {
		c.ids[id] = -1
		if present[id] {
			c.ids[id] = int32(len(c.Models))
			c.Models = append(c.Models, d.models.names[id])
		}
	}
	n := len(c.Models)
	c.Wins = make([]int64, n*n)
	c.Ties = make([]int64, n*n)
	for a := 0; a < m; a++ {
		for b := 0; b < m; b++ {
			i, j := c.ids[a], c.ids[b]
			if i < 0 || j < 0 {
				continue
			}
			c.Wins[int(i)*n+int(j)] += wins[a*m+b]
			t := ties[a*m+b]
			c.Ties[int(i)*n+int(j)] += t
			c.Ties[int(j)*n+int(i)] += t
		}
	}
	return c
}

// Index returns the index of a model, or -1.
func (c *Counts) Index(model string) int {
	for i, m := range c.Models {
		if m == model {
			return i
		}
	}
	return -1
}
