package analytics

import (
	"math"
	"math/rand/v2"
)

// binomial draws from Binomial(n, p) exactly: inversion when n·p < 10,
// otherwise Hörmann's BTRS transformed rejection with squeeze ("The
// generation of binomial random variates", 1993), as in TensorFlow and JAX.
func binomial(r *rand.Rand, n int64, p float64) int64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(r, n, 1-p)
	case float64(n)*p < 10:
		return binomialInversion(r, n, p)
	}
	return btrs(r, n, p)
}

func binomialInversion(r *rand.Rand, n int64, p float64) int64 {
	q := 1 - p
	s := p / q
	a := float64(n+1) * s
	r0 := math.Exp(float64(n) * math.Log1p(-p))
	for {
		u := r.Float64()
		f := r0
		var x int64
		for u > f {
			u -= f
			x++
			if x > n {
				break
			}
			f *= a/float64(x) - s
		}
		if x <= n {
			return x
		}
	}
}

func btrs(r *rand.Rand, n int64, p float64) int64 {
	nf := float64(n)
	q := 1 - p
	spq := math.Sqrt(nf * p * q)
	b := 1.15 + 2.53*spq
	a := -0.0873 + 0.0248*b + 0.01*p
	c := nf*p + 0.5
	vr := 0.92 - 4.2/b
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		kf := math.Floor((2*a/us+b)*u + c)
		if kf < 0 || kf > nf {
			continue
		}
		if us >= 0.07 && v <= vr {
			return int64(kf)
		}
		// The slow path: compare with the exact log ratio of the pmf at k to
		// the pmf at the mode m.
		alpha := (2.83 + 5.1/b) * spq
		m := math.Floor((nf + 1) * p)
		v = math.Log(v * alpha / (a/(us*us) + b))
		bound := ((m+0.5)*math.Log((m+1)/(p/q*(nf-m+1))) +
			(nf+1)*math.Log((nf-m+1)/(nf-kf+1)) +
			(kf+0.5)*math.Log(p/q*(nf-kf+1)/(kf+1)) +
			stirlingTail(m) + stirlingTail(nf-m) - stirlingTail(kf) - stirlingTail(nf-kf))
		if v <= bound {
			return int64(kf)
		}
	}
}

// stirlingTail returns log(k!) − [(k+½)·log(k+1) − (k+1) + ½·log(2π)].
func stirlingTail(k float64) float64 {
	if k <= 9 {
		return stirlingTails[int(k)]
	}
	kp1 := k + 1
	kp1sq := kp1 * kp1
	return (1.0/12 - (1.0/360-1.0/1260/kp1sq)/kp1sq) / kp1
}

var stirlingTails = func() (t [10]float64) {
	for k := range t {
		kf := float64(k)
		lg, _ := math.Lgamma(kf + 1)
		t[k] = lg - ((kf+0.5)*math.Log(kf+1) - (kf + 1) + 0.5*math.Log(2*math.Pi))
	}
	return t
}()
