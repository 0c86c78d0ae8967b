package analytics

import (
	"math"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

func TestOnlineEloByHand(t *testing.T) {
	battles := []Battle{
		{ModelA: "x", ModelB: "y", Winner: rlhf.WinnerA},
		{ModelA: "y", ModelB: "z", Winner: rlhf.WinnerTie},
		{ModelA: "z", ModelB: "x", Winner: rlhf.WinnerBothBad},
		{ModelA: "x", ModelB: "z", Winner: rlhf.WinnerB},
	}
	// By hand with K=4, scale 400, base 10, start 1000:
	// 1. x beats y at equal ratings: E=0.5, x=1002, y=998.
	// 2. y (998) ties z (1000): E_y = 1/(1+10^(2/400)), y += 4(0.5−E_y), z −= the same.
	// 3. z ties x (1002), 4. z beats x: the same formula.
	exp := func(ra, rb float64) float64 { return 1 / (1 + math.Pow(10, (rb-ra)/400)) }
	x, y, z := 1000.0, 1000.0, 1000.0
	step := func(ra, rb *float64, sa float64) {
		ea, eb := exp(*ra, *rb), exp(*rb, *ra)
		*ra += 4 * (sa - ea)
		*rb += 4 * (1 - sa - eb)
	}
	step(&x, &y, 1)
	if x != 1002 || y != 998 {
		t.Fatalf("hand computation broken: x=%v y=%v", x, y)
	}
	step(&y, &z, 0.5)
	step(&z, &x, 0.5)
	step(&x, &z, 0)
	got := OnlineElo(battles, ArenaElo())
	for name, want := range map[string]float64{"x": x, "y": y, "z": z} {
		if math.Abs(got[name]-want) > 1e-12 {
			t.Errorf("OnlineElo()[%s] = %.12f, want %.12f", name, got[name], want)
		}
	}
	// The Dataset path, in time order, agrees.
	var d Dataset
	for _, b := range battles {
		if err := d.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	sel := (&Filter{}).compile(&d)
	r := d.elo(&sel, ArenaElo())
	for i, name := range d.models.names {
		if math.Abs(r[i]-got[name]) > 1e-12 {
			t.Errorf("Dataset elo[%s] = %v, want %v", name, r[i], got[name])
		}
	}
}
