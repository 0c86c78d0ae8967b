package analytics

// Diagnosis says whether the exact Bradley–Terry estimate exists.
type Diagnosis struct {
	// Components are the weakly connected parts of the comparison graph
	// (models linked by any battle). More than one means ratings in
	// different parts cannot be compared.
	Components [][]int
	// Strong are the strongly connected parts of the "won or tied against"
	// graph. The exact estimate is finite iff there is exactly one.
	Strong [][]int
	// Unbeaten lists models that never lost nor tied; Winless models that
	// never won nor tied.
	Unbeaten, Winless []int
}

// Exact reports whether the maximum-likelihood estimate exists and is
// finite (Zermelo 1929, Ford 1957).
func (d *Diagnosis) Exact() bool { return len(d.Strong) <= 1 }

// Diagnose checks the comparison graph of n models.
func Diagnose(n int, pairs []Pair) *Diagnosis {
	d := &Diagnosis{}
	adj := make([][]int, n) // i → j when i won or tied against j
	und := make([][]int, n) // any battle
	won := make([]bool, n)  // won or tied at least once
	lost := make([]bool, n) // lost or tied at least once
	for _, p := range pairs {
		if p.WinsI+p.WinsJ+p.Ties == 0 {
			continue
		}
		und[p.I] = append(und[p.I], p.J)
		und[p.J] = append(und[p.J], p.I)
		if p.WinsI+p.Ties > 0 {
			adj[p.I] = append(adj[p.I], p.J)
			won[p.I], lost[p.J] = true, true
		}
		if p.WinsJ+p.Ties > 0 {
			adj[p.J] = append(adj[p.J], p.I)
			won[p.J], lost[p.I] = true, true
		}
	}
	for i := 0; i < n; i++ {
		if !lost[i] && won[i] {
			d.Unbeaten = append(d.Unbeaten, i)
		}
		if !won[i] && lost[i] {
			d.Winless = append(d.Winless, i)
		}
	}
	d.Components = components(n, und)
	d.Strong = tarjan(n, adj)
	return d
}

func components(n int, adj [][]int) [][]int {
	seen := make([]bool, n)
	var out [][]int
	for s := 0; s < n; s++ {
		if seen[s] {
			continue
		}
		comp := []int{s}
		seen[s] = true
		for k := 0; k < len(comp); k++ {
			for _, j := range adj[comp[k]] {
				if !seen[j] {
					seen[j] = true
					comp = append(comp, j)
				}
			}
		}
		out = append(out, comp)
	}
	return out
}

// tarjan returns the strongly connected components, iteratively.
func tarjan(n int, adj [][]int) [][]int {
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	type frame struct{ v, e int }
	for s := 0; s < n; s++ {
		if index[s] >= 0 {
			continue
		}
		call := []frame{{s, 0}}
		index[s], low[s] = next, next
		next++
		stack = append(stack, s)
		onStack[s] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.e < len(adj[v]) {
				w := adj[v][f.e]
				f.e++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				out = append(out, comp)
			}
		}
	}
	return out
}
