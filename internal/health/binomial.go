package health

import "math"

// BinomialUpperTail returns P(X >= k) for X ~ Binomial(n, p/(p+q)): the
// success probability is given as two non-negative weights p and q (device
// counts, say), so that neither it nor its complement is rounded away when
// one side is tiny. It is 1 for k <= 0 and 0 for k > n.
//
// The tail is the regularized incomplete beta function I_x(k, n-k+1),
// evaluated in log space with a continued fraction, so it is accurate to
// about 1e-12 relative for any n a float64 can count, and a value below the
// smallest float64 (about 1e-308, or 5e-324 subnormal) is returned as 0,
// never as NaN or Inf.
func BinomialUpperTail(k, n int64, p, q float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case q <= 0:
		return 1
	}
	x, y := p/(p+q), q/(p+q)
	return regIncBeta(float64(k), float64(n-k+1), x, y)
}

// regIncBeta is I_x(a, b) for y = 1-x, both given so that neither is a
// difference of nearly equal numbers.
func regIncBeta(a, b, x, y float64) float64 {
	if x <= 0 {
		return 0
	}
	if y <= 0 {
		return 1
	}
	// The continued fraction converges fast below the mean of the beta
	// distribution; above it, the symmetry I_x(a,b) = 1 - I_y(b,a) does.
	// Above the mean the tail is large, so the subtraction loses nothing
	// that matters.
	if x > (a+1)/(a+b+2) {
		return 1 - regIncBeta(b, a, y, x)
	}
	logFront := logBetaFront(a, b, x, y) - math.Log(a)
	if logFront < minLogFloat {
		return 0
	}
	return math.Exp(logFront) * betaContinuedFraction(a, b, x)
}

// logBetaFront is log(x^a · y^b / B(a, b)). With a and b in the millions
// its terms are each about a million while their sum is a few hundred at
// most (or p underflows anyway), so for large a and b it is computed from
// the gap d = x·b - y·a between the observed and expected count, through
// terms that are small themselves (Loader's deviance form), instead of
// letting a million-sized sum cancel.
func logBetaFront(a, b, x, y float64) float64 {
	if min(a, b) < 10 {
		return a*logOf(x, y) + b*logOf(y, x) - lnBeta(a, b)
	}
	d := x*b - y*a
	corr := stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(a+b)
	return deviance(a, d) + deviance(b, -d) + 0.5*math.Log(a*b/(a+b)) - lnSqrt2Pi - corr
}

// deviance is n·log1p(t/n) - t, by its series when t/n is small, where
// log1p(t/n) and t/n would cancel.
func deviance(n, t float64) float64 {
	u := t / n
	if math.Abs(u) >= 0.1 {
		return n*math.Log1p(u) - t
	}
	// log1p(u) - u = -u²/2 + u³/3 - u⁴/4 + ...
	var sum float64
	term := -u
	for j := 2.0; j < 40; j++ {
		term *= -u
		next := sum - term/j
		if next == sum {
			break
		}
		sum = next
	}
	return n * sum
}

// logOf is log(v) for v = 1-w: near 1, log1p(-w) keeps the digits that
// log(v) would lose, which matter once multiplied by a million trials.
func logOf(v, w float64) float64 {
	if v < 0.5 {
		return math.Log(v)
	}
	return math.Log1p(-w)
}

// minLogFloat is the log of the smallest positive float64 (subnormal).
var minLogFloat = math.Log(math.SmallestNonzeroFloat64)

// betaContinuedFraction evaluates the continued fraction of I_x(a, b) by
// the modified Lentz method (Numerical Recipes, betacf). It needs
// O(sqrt(max(a, b))) terms near the mean and far fewer in the tails.
func betaContinuedFraction(a, b, x float64) float64 {
	const (
		eps  = 1e-15
		tiny = 1e-300
	)
	maxIter := 1000 + int(10*math.Sqrt(max(a, b)))
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		var del float64
		c, d, del = lentzStep(fm*(b-fm)*x/((qam+m2)*(a+m2)), c, d)
		h *= del
		c, d, del = lentzStep(-(a+fm)*(qab+fm)*x/((a+m2)*(qap+m2)), c, d)
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// lentzStep takes one partial numerator aa of the continued fraction and
// returns the new c and d and the factor the value is multiplied by.
func lentzStep(aa, c, d float64) (float64, float64, float64) {
	const tiny = 1e-300
	d = 1 + aa*d
	if math.Abs(d) < tiny {
		d = tiny
	}
	c = 1 + aa/c
	if math.Abs(c) < tiny {
		c = tiny
	}
	d = 1 / d
	return c, d, d * c
}

// lnSqrt2Pi is log(sqrt(2*pi)).
const lnSqrt2Pi = 0.918938533204672741780329736406

// lnBeta is log B(a, b) for a, b > 0. For large arguments the three
// log-gammas are each about a·log(a) while their sum is small, so it uses
// Stirling's formula with the correction terms kept apart (as R's lbeta
// does), which keeps the result accurate to a few ulps of itself.
func lnBeta(a, b float64) float64 {
	p, q := min(a, b), max(a, b)
	switch {
	case p >= 10:
		corr := stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p+q)
		return -0.5*math.Log(q) + lnSqrt2Pi + corr + (p-0.5)*math.Log(p/(p+q)) + q*math.Log1p(-p/(p+q))
	case q >= 10:
		corr := stirlingCorrection(q) - stirlingCorrection(p+q)
		lgp, _ := math.Lgamma(p)
		return lgp + corr + p - p*math.Log(p+q) + (q-0.5)*math.Log1p(-p/(p+q))
	default:
		lgp, _ := math.Lgamma(p)
		lgq, _ := math.Lgamma(q)
		lgpq, _ := math.Lgamma(p + q)
		return lgp + lgq - lgpq
	}
}

// stirlingCorrection is log Γ(x) - ((x-0.5)·log(x) - x + log(sqrt(2π)))
// for x >= 10, from the asymptotic series; the terms kept make it exact to
// about 1e-16 at x = 10 and better above.
func stirlingCorrection(x float64) float64 {
	z := 1 / (x * x)
	// Coefficients B_2k / (2k(2k-1)) of the Stirling series.
	s := 1.0/156*z - 691.0/360360
	s = s*z + 1.0/1188
	s = s*z - 1.0/1680
	s = s*z + 1.0/1260
	s = s*z - 1.0/360
	s = s*z + 1.0/12
	return s / x
}
