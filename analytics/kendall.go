package analytics

import "math"

// KendallTau returns Kendall's τ-b between two scorings of the same items:
// +1 when they order every pair alike, −1 when they order every pair
// oppositely. Pairs tied in either scoring are left out of the count as
// τ-b does.
func KendallTau(x, y []float64) float64 {
	var concordant, discordant, tiesX, tiesY float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			dx, dy := x[i]-x[j], y[i]-y[j]
			switch {
			case dx == 0 && dy == 0:
			case dx == 0:
				tiesX++
			case dy == 0:
				tiesY++
			case dx*dy > 0:
				concordant++
			default:
				discordant++
			}
		}
	}
	den := (concordant + discordant + tiesX) * (concordant + discordant + tiesY)
	if den == 0 {
		return 0
	}
	return (concordant - discordant) / math.Sqrt(den)
}
