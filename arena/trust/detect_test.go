package trust

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestDetector feeds honest Bradley–Terry voters, a voter who always backs
// the weakest model, a flipper, a contributor who skips most battles and a
// swarm behind one address: the honest are not flagged, the others are.
func TestDetector(t *testing.T) {
	d := NewDetector(DetectorConfig{Seed: 1})
	rng := rand.New(rand.NewPCG(1, 2))
	strength := []float64{0, 100, 200, 300, 400}
	flagged := map[string]string{}
	vote := func(who, addr string, choose func(a, b int, aWins bool) rlhf.Winner) {
		a := rng.IntN(5)
		b := (a + 1 + rng.IntN(4)) % 5
		p := 1 / (1 + math.Pow(10, (strength[b]-strength[a])/400)) // P(a wins)
		w := choose(a, b, rng.Float64() < p)
		for _, f := range d.Observe(Observation{Contributor: who, ModelA: fmt.Sprint("m", a), ModelB: fmt.Sprint("m", b), Winner: w, Address: addr, Agent: "x"}) {
			flagged[f.Contributor] = f.Reason
		}
	}
	honest := func(a, b int, aWins bool) rlhf.Winner {
		if aWins {
			return rlhf.WinnerA
		}
		return rlhf.WinnerB
	}
	for range 60 {
		for k := range 100 {
			vote(fmt.Sprint("honest-", k), fmt.Sprint("10.0.0.", k), honest)
		}
		vote("flipper", "10.1.0.1", func(a, b int, aWins bool) rlhf.Winner { return honest(a, b, !aWins) })
		vote("backs-m0", "10.1.0.2", func(a, b int, aWins bool) rlhf.Winner {
			switch {
			case a == 0:
				return rlhf.WinnerA
			case b == 0:
				return rlhf.WinnerB
			}
			return honest(a, b, aWins)
		})
	}
	for k := range 8 {
		vote(fmt.Sprint("swarm-", k), "203.0.113.7", honest)
	}
	for range 50 {
		for _, f := range d.Started("skipper") {
			flagged[f.Contributor] = f.Reason
		}
	}
	honestFlagged := 0
	for who, why := range flagged {
		if len(who) > 7 && who[:7] == "honest-" {
			honestFlagged++
			t.Logf("honest contributor flagged: %s: %s", who, why)
		}
	}
	if honestFlagged > 1 {
		t.Errorf("%d of 100 honest contributors flagged, want at most 1", honestFlagged)
	}
	for _, who := range []string{"flipper", "backs-m0", "skipper", "swarm-0", "swarm-7"} {
		if flagged[who] == "" {
			t.Errorf("%s not flagged", who)
		} else {
			t.Logf("%s: %s", who, flagged[who])
		}
	}
	d.Forget("flipper")
	if d.users["flipper"] != nil {
		t.Error("Forget kept the contributor's state")
	}
}
