package storefake

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The sampler's mean and variance are Poisson's, below and above the
// switch between its two methods.
func TestPoissonSampler(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for _, mean := range []float64{0.5, 12, 29.9, 30, 250, 40000} {
		const n = 20000
		var sum, sq float64
		for range n {
			k := float64(Poisson(rng, mean))
			sum += k
			sq += k * k
		}
		m := sum / n
		v := sq/n - m*m
		// Five standard errors of the mean, and 10% on the variance.
		if math.Abs(m-mean) > 5*math.Sqrt(mean/n) || math.Abs(v-mean) > 0.1*mean {
			t.Errorf("Poisson(%g): mean %g, variance %g", mean, m, v)
		}
	}
}
