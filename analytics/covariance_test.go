package analytics

import (
	"context"
	"math"
	"testing"
)

func TestCovarianceTwoModels(t *testing.T) {
	pairs := []Pair{{I: 0, J: 1, WinsI: 70, WinsJ: 30}}
	fit, err := FitNewton(2, pairs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// d = β0 − β1 has variance 1/(n·p·(1−p)); centred, β0 = d/2.
	want := 1 / (100 * 0.7 * 0.3) / 4
	for name, f := range map[string]func(int, []Pair, *Fit) ([]float64, error){"Covariance": Covariance, "RobustCovariance": RobustCovariance} {
		cov, err := f(2, pairs, fit)
		if err != nil {
			t.Fatal(err)
		}
		// Without ties the observed score variance is exactly p(1−p).
		for _, c := range []struct {
			i    int
			want float64
		}{{0, want}, {3, want}, {1, -want}} {
			if got := cov[c.i]; math.Abs(got-c.want) > 1e-9 {
				t.Errorf("%s[%d] = %.10g, want %.10g", name, c.i, got, c.want)
			}
		}
	}
}

// TestCovarianceAgainstBootstrap checks both estimates against the
// bootstrap on data with many ties, which the robust one accounts for.
func TestCovarianceAgainstBootstrap(t *testing.T) {
	s, err := NewSynth(SynthConfig{Models: 6, Battles: 20000, Seed: 4, TieRate: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Dataset()
	c := d.Count(Filter{})
	n, pairs := c.N(), c.Pairs()
	fit, err := FitNewton(n, pairs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := RunBootstrap(context.Background(), n, pairs, fit, BootstrapOptions{Rounds: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model, err := Covariance(n, pairs, fit)
	if err != nil {
		t.Fatal(err)
	}
	robust, err := RobustCovariance(n, pairs, fit)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < n; k++ {
		var m, v float64
		for _, b := range bs.Beta {
			m += b[k]
		}
		m /= float64(len(bs.Beta))
		for _, b := range bs.Beta {
			v += (b[k] - m) * (b[k] - m)
		}
		boot := math.Sqrt(v / float64(len(bs.Beta)-1))
		sdModel, sdRobust := math.Sqrt(model[k*n+k]), math.Sqrt(robust[k*n+k])
		if math.Abs(sdRobust/boot-1) > 0.08 {
			t.Errorf("model %d: robust sd %.5f, bootstrap sd %.5f", k, sdRobust, boot)
		}
		if sdModel < sdRobust*1.05 {
			t.Errorf("model %d: with 60%% tie propensity the model-based sd %.5f should exceed the robust %.5f", k, sdModel, sdRobust)
		}
	}
	var rowSum float64
	for j := 0; j < n; j++ {
		rowSum += robust[j]
	}
	if math.Abs(rowSum) > 1e-12 {
		t.Errorf("row 0 of the centred covariance sums to %g, want 0", rowSum)
	}
}
