package health

import (
	"fmt"
	"math"
	"testing"
)

// The reference values come from testdata/reference.py (python3
// testdata/reference.py prints these rows): exact rational sums of the
// binomial terms (fractions.Fraction, math.comb) where n <= 3000, and
// otherwise the same sum in 60-digit floating point (mpmath), each checked
// against mpmath's incomplete beta function where that converges. None of
// them uses the Go code.
var binomialReference = []struct {
	k, n int64
	p, q float64
	want float64
}{
	{0, 10, 1, 1, 1.0},                                            // exact=beta=sum: 1.0
	{1, 1, 1, 3, 0.25},                                            // exact=beta=sum: 0.25
	{3, 10, 1, 4, 0.3222004736},                                   // exact=beta=sum: 0.3222004736
	{1, 10, 1, 1, 0.9990234375},                                   // exact=beta=sum: 0.9990234375
	{20, 240, 10000, 100000, 0.6906487459407843},                  // exact=beta=sum: 0.69064874594078433982
	{10, 10, 1, 1, 0.0009765625},                                  // exact=beta=sum: 0.0009765625
	{6, 6, 50, 1000, 1.1659615572447307e-08},                      // exact=beta=sum: 1.165961557244730702e-8
	{12, 60, 5000, 95000, 3.597700845479156e-05},                  // exact=beta=sum: 0.000035977008454791560633
	{40, 240, 10000, 100000, 0.00014037774383442566},              // exact=beta=sum: 0.00014037774383442565723
	{30, 180, 5000, 95000, 7.51443448454103e-09},                  // exact=beta=sum: 7.5144344845410297112e-9
	{25, 180, 5000, 95000, 4.105759414884969e-06},                 // exact=beta=sum: 4.1057594148849694938e-6
	{150, 150, 1, 99, 1e-300},                                     // exact=beta=sum: 1.0e-300
	{200, 250, 5, 95, 6.53921531651688e-209},                      // exact=beta=sum: 6.5392153165168793751e-209
	{300, 300, 1000, 100000, 0.0},                                 // exact=beta=sum: 5.0534487451618800831e-602
	{1, 2000, 1, 1999999, 0.0009995004163752166},                  // exact=beta=sum: 0.00099950041637521650914
	{700, 2600, 20000, 80000, 1.1392396108350337e-17},             // exact=beta=sum: 1.1392396108350336561e-17
	{2400, 3000, 1, 1, 1.8241109212670076e-253},                   // exact=beta=sum: 1.824110921267007484e-253
	{3000, 23000, 500000, 4500000, 1.2703965971235033e-49},        // beta=sum: 1.2703965971235032941e-49
	{2400, 23000, 500000, 4500000, 0.014774268765849353},          // beta=sum: 0.014774268765849353313
	{112000, 1112000, 10000000, 90000000, 0.005785447789691607},   // sum: 0.0057854477896916071747
	{113000, 1112000, 10000000, 90000000, 6.929514888261044e-09},  // sum: 6.9295148882610435728e-9
	{120000, 1112000, 10000000, 90000000, 8.689224834618991e-167}, // sum: 8.6892248346189918104e-167
	{110000, 1112000, 10000000, 90000000, 0.9999277896802312},     // sum: 0.99992778968023126439
	{400000, 1000000, 1, 2, 0.0},                                  // sum: 3.2267263541050394949e-4221
	{5, 3000000, 1, 999999, 0.18473667146047304},                  // beta=sum: 0.18473667146047304851
}

func TestBinomialUpperTailReference(t *testing.T) {
	t.Parallel()
	for _, c := range binomialReference {
		t.Run(fmt.Sprintf("k=%d,n=%d,p=%g,q=%g", c.k, c.n, c.p, c.q), func(t *testing.T) {
			t.Parallel()
			got := BinomialUpperTail(c.k, c.n, c.p, c.q)
			if !closeRel(got, c.want, 1e-12) {
				t.Errorf("BinomialUpperTail = %.17g, want %.17g (relative error %.2g)", got, c.want, math.Abs(got-c.want)/c.want)
			}
		})
	}
}

// closeRel reports whether got is within rel of want, relative to want;
// a zero want needs an exact zero.
func closeRel(got, want, rel float64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestBinomialUpperTailEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		k, n       int64
		p, q, want float64
	}{
		{"no failures on the new side", 0, 40, 1, 9, 1},
		{"negative k", -3, 40, 1, 9, 1},
		{"more than n", 41, 40, 1, 9, 0},
		{"no trials", 1, 0, 1, 1, 0},
		{"new side without devices", 1, 10, 0, 5, 0},
		{"old side without devices", 1, 10, 5, 0, 1},
		{"all on a one-in-a-million side", 3, 3, 1, 999999, 1e-18},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := BinomialUpperTail(tt.k, tt.n, tt.p, tt.q); !closeRel(got, tt.want, 1e-12) {
				t.Errorf("BinomialUpperTail(%d, %d, %g, %g) = %g, want %g", tt.k, tt.n, tt.p, tt.q, got, tt.want)
			}
		})
	}
}

// The tail never rises as k grows, and stays a probability, across a
// sweep that crosses the mean, where the continued fraction switches
// sides.
func TestBinomialUpperTailMonotone(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{1, 7, 100, 5000, 2_000_000} {
		prev := 1.0
		step := max(n/400, 1)
		for k := int64(0); k <= n+1; k += step {
			p := BinomialUpperTail(k, n, 3, 7)
			if math.IsNaN(p) || p < 0 || p > 1 || p > prev*(1+1e-12) {
				t.Fatalf("n=%d k=%d: P = %g after %g", n, k, p, prev)
			}
			prev = p
		}
	}
}
