#!/usr/bin/env python3
"""Reference figures of the referral planner (norms/REFERRAL.md;
qabilet_core::referral), computed from the written model only, not from the Rust code.

Model (classical test theory, standardised): latent true score Z ~ N(0, 1); stage k observes
Y_k = sqrt(r_k) Z + sqrt(1 - r_k) e_k with independent e_k ~ N(0, 1); the index is
X_k = 100 + 15 Y_k. A child is truly above t when Z >= a = (t - 100) / 15.

Rules reduce to an observed threshold X >= c':
  observed  c' = c
  upper90   c' = 100 + (c - 100 - z SEE) / r, z = Phi^-1(0.95),  SEE = 15 sqrt(r (1 - r))
  upper95   the same with z = Phi^-1(0.975)
(the upper bound of the unrounded, unclipped true-score interval reaches the cut).

One stage, y = (c' - 100) / 15:
  referred_rate = P(Y >= y) = Phi(-y);  above_rate = Phi(-a)
  joint = P(Y >= y, Z >= a): bivariate normal upper orthant, correlation sqrt(r), by Owen's T
          (scipy.special.owens_t), the primary value;
  sensitivity = joint / above_rate;  ppv = joint / referred_rate.
Two stages (conjunctive: referred when both pass), g_k(z) = Phi((sqrt(r_k) z - y_k)/sqrt(1 - r_k)):
  overall_referred_rate = integral over R of phi(z) g_1(z) g_2(z) dz
  overall joint         = integral over [a, inf) of the same
  by scipy.integrate.quad (epsabs 1e-15, epsrel 1e-13), with the transition points
  y_k / sqrt(r_k) and a as break points.
Stage-2 figures alone are the one-stage figures of stage 2.

Checks at generation time (the script stops if one fails):
  * one-stage joint: Owen's T vs quad of phi(z) g(z) over [a, inf): |diff| <= 1e-13;
    vs scipy.stats.multivariate_normal (randomised QMC, abseps 1e-10): |diff| <= 1e-8;
  * two-stage integrals: quad vs mpmath.quad at 30 digits (when mpmath is installed):
    |diff| <= 1e-14; vs the trivariate scipy.stats.multivariate_normal CDF of (Y1, Y2, Z)
    (QMC, abseps 1e-10): |diff| <= 1e-7.

Writes expected.csv beside this script (floats with repr(); empty cells for the stage-2
columns of one-stage rows). Deterministic (the QMC cross-check's seed is fixed and its result
is not written).   Run: python3 make_referral_plan_reference.py
"""

import csv
import math
import os

import numpy as np
import scipy
from scipy import integrate, special
from scipy.stats import multivariate_normal, norm

try:
    import mpmath
except ImportError:  # the cross-check is optional
    mpmath = None

HERE = os.path.dirname(os.path.abspath(__file__))
RELS = [0.70, 0.80, 0.85, 0.90, 0.95]
CUTS = [110, 120, 125, 130, 135]
ABOVE = [115, 120, 130]
RULES = ["observed", "upper90", "upper95"]
Z = {"observed": None, "upper90": float(norm.ppf(0.95)), "upper95": float(norm.ppf(0.975))}
# Two-stage combinations: (r1, c1, r2, c2, t) under every rule.
TWO = [
    (r1, c1, r2, c2, t)
    for r1 in (0.70, 0.80, 0.85)
    for c1 in (110, 120, 125)
    for r2 in (0.90, 0.95)
    for c2 in (125, 130, 135)
    for t in (120, 130)
]


def threshold(rule, r, c):
    if rule == "observed":
        return float(c)
    see = 15.0 * math.sqrt(r * (1.0 - r))
    return 100.0 + (c - 100.0 - Z[rule] * see) / r


def bvn_upper(h, k, rho):
    """P(U >= h, V >= k) for standard normals with correlation rho, by Owen's T
    (Owen 1956): Phi2(x, y; rho) = (Phi(x) + Phi(y))/2 - T(x, ax) - T(y, ay) - beta."""
    x, y = -h, -k
    assert x != 0.0 and y != 0.0
    s = math.sqrt(1.0 - rho * rho)
    ax = (y - rho * x) / (x * s)
    ay = (x - rho * y) / (y * s)
    beta = 0.5 if x * y < 0.0 else 0.0
    return 0.5 * (norm.cdf(x) + norm.cdf(y)) - special.owens_t(x, ax) - special.owens_t(y, ay) - beta


def g(z, r, y):
    return norm.cdf((math.sqrt(r) * z - y) / math.sqrt(1.0 - r))


def quad(f, lo, hi, points):
    pts = sorted(p for p in set(points) if lo < p < hi)
    edges = [lo] + pts + [hi]
    total = 0.0
    for a, b in zip(edges, edges[1:]):
        val, _ = integrate.quad(f, a, b, epsabs=1e-15, epsrel=1e-13, limit=500)
        total += val
    return total


def mp_quad(stages, lo):
    mpmath.mp.dps = 30

    def f(z):
        v = mpmath.npdf(z)
        for r, y in stages:
            v *= mpmath.ncdf((mpmath.sqrt(r) * z - y) / mpmath.sqrt(1 - r))
        return v

    pts = sorted({float(y / math.sqrt(r)) for r, y in stages} | ({lo} if lo is not None else set()))
    start = mpmath.mpf(lo) if lo is not None else -mpmath.inf
    edges = [start] + [mpmath.mpf(p) for p in pts if lo is None or p > lo] + [mpmath.inf]
    return float(mpmath.quad(f, edges))


RNG = np.random.default_rng(20261124)


def qmc_upper(y, cov):
    """P(W >= y) for W ~ N(0, cov) by scipy's QMC multivariate normal CDF of -W."""
    return float(multivariate_normal(mean=np.zeros(len(y)), cov=cov, abseps=1e-10, releps=1e-10,
                                     maxpts=10_000_000).cdf(-np.asarray(y), rng=RNG))


def ratio(num, den):
    return num / den if den > 0.0 else None


def fmt(x):
    return "" if x is None else repr(float(x))


def one_stage(rule, r, c, t):
    y = (threshold(rule, r, c) - 100.0) / 15.0
    a = (t - 100.0) / 15.0
    referred, above = float(norm.sf(y)), float(norm.sf(a))
    joint = float(bvn_upper(y, a, math.sqrt(r)))
    check = quad(lambda z: norm.pdf(z) * g(z, r, y), a, np.inf, [y / math.sqrt(r)])
    assert abs(joint - check) <= 1e-13, (rule, r, c, t, joint, check)
    rho = math.sqrt(r)
    qmc = qmc_upper([y, a], [[1.0, rho], [rho, 1.0]])
    assert abs(joint - qmc) <= 1e-8, (rule, r, c, t, joint, qmc)
    return y, referred, above, joint


def main():
    header = ["rule", "reliability", "cut", "above", "stage2_reliability", "stage2_cut",
              "threshold", "stage2_threshold", "referred_rate", "above_rate", "sensitivity", "ppv",
              "stage2_referred_rate", "stage2_sensitivity", "stage2_ppv",
              "overall_referred_rate", "overall_sensitivity", "overall_ppv"]
    rows = []
    max_mp = max_qmc2 = 0.0
    for rule in RULES:
        for r in RELS:
            for c in CUTS:
                for t in ABOVE:
                    y, referred, above, joint = one_stage(rule, r, c, t)
                    rows.append([rule, repr(r), c, t, "", "", fmt(100.0 + 15.0 * y), "",
                                 fmt(referred), fmt(above), fmt(joint / above),
                                 fmt(ratio(joint, referred))] + [""] * 6)
        for r1, c1, r2, c2, t in TWO:
            y1, ref1, above, joint1 = one_stage(rule, r1, c1, t)
            y2, ref2, _, joint2 = one_stage(rule, r2, c2, t)
            a = (t - 100.0) / 15.0
            f = lambda z: norm.pdf(z) * g(z, r1, y1) * g(z, r2, y2)
            pts = [y1 / math.sqrt(r1), y2 / math.sqrt(r2)]
            upper = quad(f, a, np.inf, pts)
            overall = quad(f, -np.inf, a, pts) + upper
            if mpmath is not None:
                mp_upper = mp_quad([(r1, y1), (r2, y2)], a)
                mp_all = mp_quad([(r1, y1), (r2, y2)], None)
                d = max(abs(mp_upper - upper), abs(mp_all - overall))
                assert d <= 1e-14, (rule, r1, c1, r2, c2, t, d)
                max_mp = max(max_mp, d)
            # Trivariate (Y1, Y2, Z): cov(Y1, Y2) = sqrt(r1 r2), cov(Yk, Z) = sqrt(rk).
            s1, s2 = math.sqrt(r1), math.sqrt(r2)
            cov = [[1.0, s1 * s2, s1], [s1 * s2, 1.0, s2], [s1, s2, 1.0]]
            q_upper = qmc_upper([y1, y2, a], cov)
            q_all = qmc_upper([y1, y2], [[1.0, s1 * s2], [s1 * s2, 1.0]])
            d = max(abs(q_upper - upper), abs(q_all - overall))
            assert d <= 1e-7, (rule, r1, c1, r2, c2, t, d)
            max_qmc2 = max(max_qmc2, d)
            rows.append([rule, repr(r1), c1, t, repr(r2), c2, fmt(100.0 + 15.0 * y1),
                         fmt(100.0 + 15.0 * y2), fmt(ref1), fmt(above), fmt(joint1 / above),
                         fmt(ratio(joint1, ref1)), fmt(ref2), fmt(joint2 / above),
                         fmt(ratio(joint2, ref2)), fmt(overall), fmt(upper / above),
                         fmt(ratio(upper, overall))])
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"expected.csv: {len(rows)} rows (scipy {scipy.__version__}); "
          f"two-stage quad vs mpmath max |diff| {max_mp:.1e}, vs QMC {max_qmc2:.1e}")


if __name__ == "__main__":
    main()
