// Package health is the health gate of a gradual rollout: from the Store's
// daily analytics (failing devices per package version and failure kind,
// active devices per package version) it decides whether a rollout moves
// to its next step, holds, or halts, as DESIGN.md "Health-gated rollout"
// states the rule.
//
// Everything here is pure: [Evaluate] takes the rows the analytics API
// returned, the versions of both sides, the rollout's percentage and the
// time, and returns a [Result] with the decision, its reason and the
// figures that decided it. [ReadRange] says which days to read,
// [NextStep] which percentage an advance goes to, and the Result renders
// itself as the `health` output ([Result.JSON], [Result.ShortJSON]), a
// one-line text for annotations ([Result.Figures]) and a Markdown table
// with sparklines of the daily rates ([Result.Markdown]).
//
// The statistics: per failure kind, the failing devices F and active
// devices N of each side are summed over the window; given F_new + F_old
// failures, under "the new side is no worse" each falls on the new side
// with probability N_new / (N_new + N_old), and the p-value is the
// binomial upper tail P(X >= F_new) (a one-sided exact conditional test of
// two Poisson rates), computed by [BinomialUpperTail] through the
// regularized incomplete beta function so that it stays accurate for
// millions of devices and p-values far below 1e-300 underflow to 0 rather
// than overflow.
package health
