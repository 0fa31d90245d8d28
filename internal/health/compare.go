package health

import "math"

// Side is one side's figures for one failure kind over a window.
type Side struct {
	// Failures is F: the failing devices summed over the window's days,
	// rounded to a whole number (the API's counts are fractional).
	Failures int64 `json:"failures"`
	// Devices is N: the active devices summed over the same days, rounded.
	Devices int64 `json:"devices"`
	// Rate is F/N, failing device-days per active device-day. On the old
	// side with no failures it is 0.5/N, so that a ratio exists.
	Rate float64 `json:"rate"`
}

// Comparison is the test of one failure kind over one window.
type Comparison struct {
	New Side `json:"new"`
	Old Side `json:"old"`
	// Ratio is New.Rate / Old.Rate.
	Ratio float64 `json:"ratio"`
	// PValue is P(X >= F_new) for X ~ Binomial(F_new + F_old,
	// N_new / (N_new + N_old)): how likely this many of the failures would
	// fall on the new side if it were no worse than the old. 0 means below
	// the smallest float64.
	PValue float64 `json:"pValue"`
	// Excess is F_new - N_new × r_old: the failing devices beyond those the
	// old rate predicts.
	Excess float64 `json:"excess"`
}

// Compare tests whether the new side fails more than the old: fNew of
// nNew devices against fOld of nOld. Without devices on a side there is
// nothing to compare: the ratio and excess are 0 and the p-value 1.
func Compare(fNew, nNew, fOld, nOld int64) Comparison {
	c := Comparison{
		New:    Side{Failures: fNew, Devices: nNew},
		Old:    Side{Failures: fOld, Devices: nOld},
		PValue: 1,
	}
	if nNew <= 0 || nOld <= 0 {
		return c
	}
	c.New.Rate = float64(fNew) / float64(nNew)
	c.Old.Rate = float64(fOld) / float64(nOld)
	if fOld == 0 {
		c.Old.Rate = 0.5 / float64(nOld)
	}
	c.Ratio = c.New.Rate / c.Old.Rate
	c.Excess = float64(fNew) - float64(nNew)*c.Old.Rate
	c.PValue = BinomialUpperTail(fNew, fNew+fOld, float64(nNew), float64(nOld))
	return c
}

// roundCount rounds a sum of the API's fractional counts to a whole number.
func roundCount(v float64) int64 {
	if v <= 0 || math.IsNaN(v) {
		return 0
	}
	return int64(math.Round(v))
}
