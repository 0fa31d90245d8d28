package storefake

import (
	"math"
	"math/rand/v2"
)

// Poisson draws a count from Poisson(mean): by multiplying uniforms below
// a mean of 30, else by Hörmann's transformed rejection (PTRS), as numpy
// does. The simulator's failure counts come from it; it is exported so
// that tests of the health gate draw synthetic data the same way.
func Poisson(rng *rand.Rand, mean float64) int64 {
	if mean <= 0 || math.IsNaN(mean) {
		return 0
	}
	if mean < 30 {
		limit, prod := math.Exp(-mean), rng.Float64()
		var k int64
		for prod > limit {
			prod *= rng.Float64()
			k++
		}
		return k
	}
	slam, loglam := math.Sqrt(mean), math.Log(mean)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + mean + 0.43)
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -mean+k*loglam-lg {
			return int64(k)
		}
	}
}
