#!/usr/bin/env python3
"""Reference values of the binomial upper tail P(X >= k), X ~ Binomial(n, p/(p+q)),
for TestBinomialUpperTailReference (binomial_test.go). Run: python3 reference.py

Two independent computations, neither shared with the Go code:
  exact  - the sum over j >= k of C(n, j) p^j q^(n-j) / (p+q)^n in rational
           arithmetic (fractions.Fraction, math.comb), rounded once to a float;
           used where n <= 3000 (it is slow beyond).
  sum    - for larger n, the same sum in 60-digit floating point (mpmath):
           the term at j = k from log-gammas, the others by the ratio of
           neighbouring terms, summed outwards until they no longer count
           (the lower tail, subtracted from 1, when k is below the mean).
  beta   - the regularized incomplete beta I_x(k, n-k+1) at 60 digits
           (mpmath.betainc, a hypergeometric series), where it converges.
Every pair that exists must agree to 1e-30 relative, or the script fails.
The printed lines are Go table rows {k, n, p, q, want}; want is the exact value
when there is one, else the sum's, as the nearest float64 (0 when it is below
the smallest subnormal); the comment says which and shows 20 digits.
"""
import math
from fractions import Fraction

import mpmath

mpmath.mp.dps = 60

CASES = [
    # k, n, p, q
    (0, 10, 1, 1),
    (1, 1, 1, 3),
    (3, 10, 1, 4),
    (1, 10, 1, 1),           # below the mean: 1 - 2^-10
    (20, 240, 10000, 100000),
    (10, 10, 1, 1),
    (6, 6, 50, 1000),        # old side without failures: 6 of 6 on a 4.8% side
    (12, 60, 5000, 95000),   # a small flight, no worse than the old side
    (40, 240, 10000, 100000),
    (30, 180, 5000, 95000),
    (25, 180, 5000, 95000),
    (150, 150, 1, 99),       # 0.01^150 = 1e-300
    (200, 250, 5, 95),
    (300, 300, 1000, 100000),  # below the smallest float64: 0
    (1, 2000, 1, 1999999),
    (700, 2600, 20000, 80000),
    (2400, 3000, 1, 1),
    (3000, 23000, 500000, 4500000),
    (2400, 23000, 500000, 4500000),
    (112000, 1112000, 10000000, 90000000),
    (113000, 1112000, 10000000, 90000000),
    (120000, 1112000, 10000000, 90000000),
    (110000, 1112000, 10000000, 90000000),
    (400000, 1000000, 1, 2),
    (5, 3000000, 1, 999999),
]


def exact(k, n, p, q):
    if k <= 0 or k > n:
        return Fraction(int(k <= 0))
    num = sum(math.comb(n, j) * p**j * q**(n - j) for j in range(k, n + 1))
    return Fraction(num, (p + q) ** n)


def by_sum(k, n, p, q):
    if k <= 0 or k > n:
        return mpmath.mpf(int(k <= 0))
    x = mpmath.mpf(p) / (p + q)
    y = mpmath.mpf(q) / (p + q)

    def term(j):
        return mpmath.exp(mpmath.loggamma(n + 1) - mpmath.loggamma(j + 1) - mpmath.loggamma(n - j + 1)
                          + j * mpmath.log(x) + (n - j) * mpmath.log(y))

    eps = mpmath.mpf(10) ** -50
    if k > n * x:  # upper tail, terms fall from j = k on
        t = term(k)
        total, j = t, k
        while j < n:
            t *= (n - j) * x / ((j + 1) * y)
            j += 1
            total += t
            if t < total * eps:
                break
        return total
    # lower tail P(X <= k-1), terms fall from j = k-1 down
    t = term(k - 1)
    total, j = t, k - 1
    while j > 0:
        t *= j * y / ((n - j + 1) * x)
        j -= 1
        total += t
        if t < total * eps:
            break
    return 1 - total


def by_beta(k, n, p, q):
    if k <= 0 or k > n:
        return mpmath.mpf(int(k <= 0))
    x = mpmath.mpf(p) / (p + q)
    try:
        return mpmath.betainc(k, n - k + 1, 0, x, regularized=True)
    except mpmath.libmp.libhyper.NoConvergence:
        return None


def agree(a, b):
    if a == 0 or b == 0:
        return a == b
    return abs(a - b) / abs(a) < mpmath.mpf("1e-30")


def to_float(v):
    # mpmath keeps exponents far below float64's; below the smallest
    # subnormal the float is 0.
    if v < mpmath.mpf("2.4703282292062328e-324"):
        return 0.0
    return float(mpmath.nstr(v, 40, min_fixed=1, max_fixed=0))


for k, n, p, q in CASES:
    s = by_sum(k, n, p, q)
    b = by_beta(k, n, p, q)
    checks = ["sum"]
    if b is not None:
        assert agree(s, b), ("beta", k, n, p, q, s, b)
        checks.append("beta")
    if n <= 3000:
        e = exact(k, n, p, q)
        assert agree(mpmath.mpf(e.numerator) / e.denominator, s), ("exact", k, n, p, q)
        checks.append("exact")
        want = float(e)
    else:
        want = to_float(s)
    print(f"\t{{{k}, {n}, {p}, {q}, {want!r}}}, // {'='.join(reversed(checks))}: {mpmath.nstr(s, 20)}")
