package clickhouse

import "context"

// SelectedPairCounts returns the votes per ordered pair of models that f
// selects, read the cheapest way: with no filter but excluded contributors,
// from the small pair_counts table less the excluded contributors' votes
// (counted from the votes table); with any other filter, from the votes
// table (PairCountsWhere).
func (c *Client) SelectedPairCounts(ctx context.Context, f Filter) ([]PairCount, error) {
	if !f.Since.IsZero() || !f.Until.IsZero() || len(f.Models)+len(f.Sources)+len(f.Categories)+len(f.Languages)+len(f.Contributors) > 0 {
		return c.PairCountsWhere(ctx, f)
	}
	pcs, err := c.PairCounts(ctx)
	if err != nil || len(f.ExcludeContributors) == 0 {
		return pcs, err
	}
	ex, err := c.PairCountsWhere(ctx, Filter{Contributors: f.ExcludeContributors})
	if err != nil {
		return nil, err
	}
	return subtractCounts(pcs, ex), nil
}

// subtractCounts returns pcs less ex, pair by pair, never below zero (the
// two are read one after the other while votes arrive).
func subtractCounts(pcs, ex []PairCount) []PairCount {
	less := map[[2]string]PairCount{}
	for _, p := range ex {
		less[[2]string{p.ModelA, p.ModelB}] = p
	}
	out := make([]PairCount, 0, len(pcs))
	for _, p := range pcs {
		e := less[[2]string{p.ModelA, p.ModelB}]
		p.WinsA, p.WinsB = max(p.WinsA-e.WinsA, 0), max(p.WinsB-e.WinsB, 0)
		p.Ties, p.BothBad = max(p.Ties-e.Ties, 0), max(p.BothBad-e.BothBad, 0)
		if p.Total() > 0 {
			out = append(out, p)
		}
	}
	return out
}
