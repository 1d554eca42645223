#!/usr/bin/env python3
"""Independent reference values for the Qabilet scoring rules (norms/SCORING.md).

Deterministic: fixed seed, no input files. Writes the CSV files into this script's folder.
Run:  python3 make_reference.py
Needs numpy and scipy (scipy.stats.norm for Phi and Phi^-1). If mpmath is importable, the
scipy values are also cross-checked against 50-digit mpmath values (nothing written).

Floats are written with repr() (shortest string that round-trips to the same f64).
"""

import calendar
import csv
import datetime as dt
import math
import os
import random
import sys
from decimal import Decimal, ROUND_HALF_UP
from fractions import Fraction

import numpy as np
import scipy
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261124
rng = random.Random(SEED)

SCALES = {
    "scaled": dict(mean=10.0, sd=3.0, lo=1, hi=19),
    "index": dict(mean=100.0, sd=15.0, lo=40, hi=160),
}
LEVELS = [68, 90, 95, 99]


# ---------------------------------------------------------------- helpers

def phi(x):
    return float(norm.cdf(x))


def phi_inv(p):
    assert 0.0 < p < 1.0, p
    return float(norm.ppf(p))


def round_half_away(x):
    """Round half away from zero, exactly (Decimal(x) is the exact value of the f64)."""
    if isinstance(x, Fraction):  # exact rational rounding
        n, m = x.numerator, x.denominator
        q, r = divmod(abs(n), m)
        if 2 * r >= m:
            q += 1
        return q if n >= 0 else -q
    assert math.isfinite(x)
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def clip(v, lo, hi):
    return max(lo, min(hi, v))


def f(x):
    """Float -> text (shortest round-trip)."""
    return repr(float(x))


def write_csv(name, header, rows):
    path = os.path.join(HERE, name)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            assert len(r) == len(header), (name, r)
            w.writerow(r)
    print(f"{name}: {len(rows)} rows")
    return len(rows)


# ---------------------------------------------------------------- self-checks of helpers

assert round_half_away(0.5) == 1 and round_half_away(-0.5) == -1
assert round_half_away(1.5) == 2 and round_half_away(2.5) == 3 and round_half_away(-2.5) == -3
assert round_half_away(0.49999999999999994) == 0  # floor(x + 0.5) would give 1 here
assert round_half_away(-0.49999999999999994) == 0
assert round_half_away(4503599627370495.5) == 4503599627370496
assert round_half_away(Fraction(7, 2)) == 4 and round_half_away(Fraction(-7, 2)) == -4
assert round_half_away(Fraction(10, 3)) == 3 and round_half_away(Fraction(11, 3)) == 4


# ---------------------------------------------------------------- age

def add_months(d, m):
    """d + m calendar months; the day is clamped to the last day of the target month."""
    total = d.year * 12 + (d.month - 1) + m
    y, mo = divmod(total, 12)
    mo += 1
    last = calendar.monthrange(y, mo)[1]
    return dt.date(y, mo, min(d.day, last))


def age(birth, test):
    """(years, months, days, age_months) or None when test < birth.

    m = the largest m with add_months(birth, m) <= test (months counted from the birth
    date, never chained); days = test - add_months(birth, m).
    """
    if test < birth:
        return None
    m = (test.year - birth.year) * 12 + (test.month - birth.month)
    while add_months(birth, m) > test:
        m -= 1
    while add_months(birth, m + 1) <= test:  # never taken; kept for safety
        m += 1
    days = (test - add_months(birth, m)).days
    return m // 12, m % 12, days, m


def age_bruteforce(birth, test):
    if test < birth:
        return None
    m = 0
    while add_months(birth, m + 1) <= test:
        m += 1
    days = (test - add_months(birth, m)).days
    return m // 12, m % 12, days, m


def gen_age():
    D = dt.date
    pairs = []

    def add(b, t):
        pairs.append((b, t))

    # Born Jan 31, tested end Feb / March, leap and non-leap years.
    for by in (2014, 2015, 2016, 2017, 2019, 2020):
        b = D(by, 1, 31)
        for ty in (by, by + 1, by + 5, by + 8):
            febl = calendar.monthrange(ty, 2)[1]
            for t in (D(ty, 2, 27), D(ty, 2, 28), D(ty, 2, febl), D(ty, 3, 1),
                      D(ty, 3, 2), D(ty, 3, 28), D(ty, 3, 29), D(ty, 3, 30), D(ty, 3, 31),
                      D(ty, 4, 1), D(ty, 4, 30), D(ty, 1, 30), D(ty, 1, 31)):
                if ty == by and t < b:
                    continue
                add(b, t)
    # Born Feb 29 (leap), tested Feb 28 / Feb 29 / Mar 1 of later years; and month-ends.
    for by in (2012, 2016, 2020):
        b = D(by, 2, 29)
        for ty in range(by, by + 13):
            febl = calendar.monthrange(ty, 2)[1]
            for t in dict.fromkeys([D(ty, 2, 28), D(ty, 2, febl), D(ty, 3, 1), D(ty, 3, 28),
                                    D(ty, 3, 29)]):  # ordered, not a set
                if t >= b:
                    add(b, t)
        add(b, D(by, 3, 31))
        add(b, D(by, 4, 28))
        add(b, D(by, 4, 29))
    # Born on the 30th / 31st of various months.
    for b in (D(2015, 3, 31), D(2016, 3, 31), D(2017, 5, 31), D(2018, 8, 31), D(2016, 10, 31),
              D(2017, 12, 31), D(2019, 1, 30), D(2020, 1, 30), D(2015, 4, 30), D(2018, 11, 30),
              D(2016, 12, 30), D(2021, 7, 31)):
        for m in (1, 2, 3, 6, 11, 12, 13, 60, 61, 143):
            a = add_months(b, m)
            add(b, a)
            add(b, a - dt.timedelta(days=1))
            add(b, a + dt.timedelta(days=1))
    # Test date == birth date, one day before birth, a year before birth.
    for b in (D(2010, 1, 1), D(2015, 6, 15), D(2016, 2, 29), D(2019, 12, 31), D(2022, 12, 31),
              D(2018, 3, 1)):
        add(b, b)
        add(b, b - dt.timedelta(days=1))
        add(b, b + dt.timedelta(days=1))
    add(D(2017, 5, 10), D(2016, 5, 10))
    add(D(2020, 1, 1), D(2019, 12, 31))
    # End of December / start of January.
    for b in (D(2015, 12, 31), D(2016, 1, 1), D(2018, 12, 30), D(2019, 1, 1), D(2020, 12, 31)):
        for ty in (b.year, b.year + 1, b.year + 5, b.year + 7, b.year + 11, b.year + 12):
            for t in (D(ty, 12, 30), D(ty, 12, 31), D(ty + 1, 1, 1), D(ty + 1, 1, 2),
                      D(ty, 1, 1), D(ty, 1, 31)):
                if t >= b - dt.timedelta(days=1):
                    add(b, t)
    # Around 5:0:0 and 11:11:30, children born 2015-2021.
    for by in range(2015, 2022):
        for b in (D(by, 1, 15), D(by, 2, 28), D(by, 6, 30), D(by, 8, 31), D(by, 11, 1)):
            five = add_months(b, 60)
            for dd in (-1, 0, 1):
                add(b, five + dt.timedelta(days=dd))
            last = add_months(b, 143)  # 11:11:0
            for dd in (28, 29, 30, 31):
                add(b, last + dt.timedelta(days=dd))
            add(b, add_months(b, 144) - dt.timedelta(days=1))
            add(b, add_months(b, 144))
    hand = len(dict.fromkeys(pairs))

    # Random pairs.
    lo, hi = D(2010, 1, 1).toordinal(), D(2022, 12, 31).toordinal()
    for _ in range(300):
        b = D.fromordinal(rng.randint(lo, hi))
        t = b + dt.timedelta(days=rng.randint(0, 14 * 365 + 3))
        add(b, t)

    rows = []
    seen = set()
    for b, t in pairs:
        if (b, t) in seen:
            continue
        seen.add((b, t))
        a = age(b, t)
        assert a == age_bruteforce(b, t), (b, t)
        if a is None:
            rows.append([b.isoformat(), t.isoformat(), "", "", "", "", "before_birth"])
            continue
        y, m, d, am = a
        assert add_months(b, 12 * y + m) + dt.timedelta(days=d) == t
        assert 0 <= m <= 11 and 0 <= d <= 30 and am == 12 * y + m
        rows.append([b.isoformat(), t.isoformat(), y, m, d, am, ""])
    # Spot checks from the written rules.
    assert age(D(2015, 1, 31), D(2015, 3, 30))[:3] == (0, 1, 30)  # the example of norms/FORMATS.md, "Ages"
    assert age(D(2015, 1, 31), D(2015, 2, 28))[:3] == (0, 1, 0)
    assert age(D(2016, 2, 29), D(2017, 2, 28))[:3] == (1, 0, 0)
    assert age(D(2016, 2, 29), D(2017, 3, 28))[:3] == (1, 0, 28)
    print(f"age: {hand} hand-picked pairs")
    return write_csv("age.csv",
                     ["birth_date", "test_date", "years", "months", "days", "age_months", "error"],
                     rows)


# ---------------------------------------------------------------- quantiles

def level_z(level):
    return phi_inv(1.0 - (1.0 - level / 100.0) / 2.0)


def two_sided_z(alpha):
    return phi_inv(1.0 - alpha / 2.0)


def gen_quantiles():
    rows = [[L, f(level_z(L))] for L in LEVELS]
    assert abs(level_z(95) - 1.959963984540054) < 1e-15
    n1 = write_csv("quantiles.csv", ["level", "z"], rows)
    alphas = [0.05, 0.15]
    for base in (0.05, 0.15):
        for k in range(2, 14):
            alphas.append(base / k)  # the f64 quotient, as Rust computes it
    rows = [[f(a), f(two_sided_z(a))] for a in alphas]
    n2 = write_csv("alpha_quantiles.csv", ["alpha", "z"], rows)
    return n1, n2


# ---------------------------------------------------------------- z -> score

def z_to_score(scale, z):
    s = SCALES[scale]
    x = s["mean"] + s["sd"] * z  # separate multiply and add, no FMA
    return clip(round_half_away(x), s["lo"], s["hi"])


def gen_z_to_score():
    rows = []
    stats = {"half_candidates": 0, "half_kept": 0}
    for scale, s in SCALES.items():
        mean, sd = s["mean"], s["sd"]
        zs = []
        # Exact-half candidates: z = (h - mean)/sd for every half h in a wide range,
        # plus z = j/(2*sd); keep a z only when mean + sd*z is exactly h in float64.
        span = int(sd * 8)
        halves = [mean + j + 0.5 for j in range(-span - 1, span + 1)]
        cands = []
        for h in halves:
            cands.append((h - mean) / sd)
        for j in range(-2 * span - 1, 2 * span + 2, 2):
            cands.append(j / (2 * sd))
            cands.append((j * 0.5) / sd)
        for z in dict.fromkeys(cands):
            stats["half_candidates"] += 1
            x = mean + sd * z
            if x - math.floor(x) == 0.5 and Fraction(x) == Fraction(math.floor(x)) + Fraction(1, 2):
                zs.append(z)
                stats["half_kept"] += 1
        # Whole scores, tails, zero, clip boundaries.
        zs += [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0, 5.0, -5.0, 6.0, -6.0,
               7.5, -7.5, 8.0, -8.0, 0.1, -0.1, 0.2, -0.2, 1 / 3, -1 / 3, 2 / 3, -2 / 3,
               0.49 / sd, -0.49 / sd, 0.51 / sd, -0.51 / sd]
        for j in range(-span, span + 1):
            zs.append(j / sd)
        # Random z.
        for _ in range(200):
            zs.append(rng.uniform(-4.0, 4.0))
        for _ in range(20):
            zs.append(rng.uniform(-8.0, 8.0))
        for z in dict.fromkeys(zs):
            rows.append([scale, f(z), z_to_score(scale, z)])
    # Documented expectations.
    assert z_to_score("scaled", -0.5) == 9  # 8.5 -> 9 (half away from zero on the score)
    assert z_to_score("scaled", 0.5) == 12  # 11.5 -> 12
    assert z_to_score("index", -0.5) == 93 and z_to_score("index", 0.5) == 108
    assert z_to_score("scaled", -8.0) == 1 and z_to_score("index", 8.0) == 160
    print(f"z_to_score: {stats['half_kept']} of {stats['half_candidates']} exact-half "
          f"candidates kept (mean + sd*z exactly x.5 in f64)")
    return write_csv("z_to_score.csv", ["scale", "z", "score"], rows), stats


# ---------------------------------------------------------------- midpoint z

def gen_midpoint():
    cases = []
    # From counts in norm groups of realistic sizes.
    for n in (50, 100, 150, 200, 220, 1000, 2200):
        for _ in range(20):
            below = rng.randint(0, n - 1)
            equal = rng.randint(1, n - below)
            cases.append((below / n, equal / n))
        cases.append((0.0, 1 / n))
        cases.append(((n - 1) / n, 1 / n))
        cases.append((0.0, 1.0))  # everyone has the same score: p = 0.5
    # Tiny and near-one probabilities.
    for e in (1e-3, 1e-5, 1e-7, 1e-9, 1e-10, 1e-12, 1e-14, 1e-15):
        cases.append((0.0, 2 * e))
        cases.append((e, 0.0))
        cases.append((e, e))
        cases.append((1.0 - 2 * e, 2 * e))
        cases.append((1.0 - e, 0.0))
        cases.append((1.0 - 2 * e, e))
    cases += [(0.0, 5e-300), (1e-300, 0.0), (0.0, 1e-20), (0.5, 0.0), (0.25, 0.5),
              (0.4, 0.2), (0.3, 0.0), (0.7, 0.0), (0.975, 0.0), (0.025, 0.0), (0.95, 0.05)]
    # Random probabilities across the whole range, also on a log scale.
    while len(cases) < 200:
        pb = rng.random()
        pe = rng.random() * (1.0 - pb)
        cases.append((pb, pe))
    for _ in range(10):
        cases.append((10 ** rng.uniform(-16, -2), 0.0))
        cases.append((1.0 - 10 ** rng.uniform(-15, -2), 0.0))
    rows = []
    for pb, pe in dict.fromkeys(cases):
        p = pb + pe / 2.0
        if not (0.0 < p < 1.0) or pb + pe > 1.0 + 1e-15:
            continue
        rows.append([f(pb), f(pe), f(phi_inv(p))])
    return write_csv("midpoint_z.csv", ["p_below", "p_equal", "z"], rows)


# ---------------------------------------------------------------- percentile

def gen_percentile():
    rows = []
    for s in range(1, 20):
        pct = 100.0 * phi((s - 10) / 3.0)
        txt = f"{pct:.1f}"
        # distance of the value from a one-decimal rounding boundary (robustness note)
        frac = (pct * 10) - math.floor(pct * 10)
        assert abs(frac - 0.5) > 1e-6, (s, pct)
        rows.append([s, f(pct), txt])
    return write_csv("percentile.csv", ["scaled", "percentile", "percentile_1dp"], rows)


# ---------------------------------------------------------------- confidence intervals

CI_NEAR_TIE = 1e-9


def ci(scale, X, r, level, method):
    s = SCALES[scale]
    M, S = s["mean"], s["sd"]
    z = level_z(level)
    if method == "true-score":
        centre = M + r * (X - M)
        half = z * (S * math.sqrt(r * (1.0 - r)))
    else:
        centre = float(X)
        half = z * (S * math.sqrt(1.0 - r))
    lo_e, hi_e = centre - half, centre + half
    lo = clip(round_half_away(lo_e), s["lo"], s["hi"])
    hi = clip(round_half_away(hi_e), s["lo"], s["hi"])
    return centre, lo_e, hi_e, lo, hi


def near_tie(x):
    return abs((x - math.floor(x)) - 0.5) < CI_NEAR_TIE


def gen_ci():
    rels = [0.70, 0.80, 0.85, 0.90, 0.95, 0.97]
    scores = {
        "scaled": list(range(1, 20)),
        "index": sorted(set(range(40, 161, 3)) | {41, 50, 69, 70, 85, 99, 100, 101, 115,
                                                   130, 131, 145, 159, 160}),
    }
    rows, dropped = [], []
    for scale in ("scaled", "index"):
        for X in scores[scale]:
            for r in rels:
                for L in LEVELS:
                    for method in ("true-score", "obtained"):
                        c, le, he, lo, hi = ci(scale, X, r, L, method)
                        if near_tie(le) or near_tie(he):
                            dropped.append((scale, X, r, L, method, le, he))
                            continue
                        assert lo <= hi
                        rows.append([scale, X, f(r), L, method, f(c), f(le), f(he), lo, hi])
    gap = min(abs((float(x) - math.floor(float(x))) - 0.5) for r in rows for x in (r[6], r[7]))
    print(f"ci: closest unrounded bound is {gap:.3g} away from a .5 tie")
    print(f"ci: {len(dropped)} rows dropped as within {CI_NEAR_TIE} of a .5 tie: {dropped}")
    return write_csv("ci.csv", ["scale", "score", "reliability", "level", "method", "centre",
                                "low_exact", "high_exact", "low", "high"], rows), dropped


# ---------------------------------------------------------------- Davis (1959)

def davis_se(sems, i):
    k = len(sems)
    total = sum(s * s for s in sems)
    return math.sqrt((1.0 - 2.0 / k) * sems[i] ** 2 + (1.0 / (k * k)) * total)


def verify_davis():
    """Var(e_i - mean(e)) for independent e_j ~ (0, SEM_j^2) equals the Davis formula."""
    # Exact algebra with rationals: coefficients of e_i is (1 - 1/k), of e_j (j != i) is -1/k.
    r2 = random.Random(SEED + 1)
    for _ in range(200):
        k = r2.randint(2, 13)
        var = [Fraction(r2.randint(1, 400), r2.randint(1, 100)) for _ in range(k)]
        for i in range(k):
            direct = sum(((1 - Fraction(1, k)) if j == i else Fraction(-1, k)) ** 2 * var[j]
                         for j in range(k))
            davis = (1 - Fraction(2, k)) * var[i] + Fraction(1, k * k) * sum(var)
            assert direct == davis
    # Monte Carlo.
    gen = np.random.default_rng(SEED)
    worst = 0.0
    for k in (3, 5, 8, 13):
        rel = gen.uniform(0.6, 0.95, size=k)
        sems = 3.0 * np.sqrt(1.0 - rel)
        e = gen.normal(0.0, 1.0, size=(400_000, k)) * sems
        d = e - e.mean(axis=1, keepdims=True)
        emp = d.var(axis=0)
        for i in range(k):
            ratio = emp[i] / davis_se(list(sems), i) ** 2
            worst = max(worst, abs(ratio - 1.0))
    assert worst < 0.01, worst
    print(f"davis: exact rational check passed; Monte Carlo (400k draws) max rel. error of "
          f"variance {worst:.4f}")
    return worst


def gen_davis():
    mc = verify_davis()
    rows = []
    ks = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    cases = []
    for k in ks:  # one case per k with "typical" reliabilities
        cases.append([rng.choice([0.70, 0.75, 0.78, 0.80, 0.82, 0.85, 0.88, 0.90, 0.92, 0.95])
                      for _ in range(k)])
    for k in ks:  # one with continuous random reliabilities
        cases.append([round(rng.uniform(0.55, 0.96), 3) for _ in range(k)])
    for k in (3, 6, 10, 13):  # all equal
        cases.append([0.85] * k)
    while len(cases) < 40:
        k = rng.randint(3, 13)
        cases.append([round(rng.uniform(0.5, 0.98), 2) for _ in range(k)])
    for c, rel in enumerate(cases, start=1):
        k = len(rel)
        sems = [3.0 * math.sqrt(1.0 - r) for r in rel]
        sems_txt = ";".join(f(s) for s in sems)
        for i in range(k):
            se = davis_se(sems, i)
            for alpha in (0.05, 0.15):
                for corr in ("none", "bonferroni"):
                    a = alpha if corr == "none" else alpha / k
                    z = phi_inv(1.0 - a / 2.0)
                    rows.append([c, k, sems_txt, i, f(alpha), corr, f(se), f(z * se)])
    # equal SEMs: SE(D) = SEM*sqrt((k-1)/k)
    s = 3.0 * math.sqrt(0.15)
    assert abs(davis_se([s] * 6, 2) - s * math.sqrt(5 / 6)) < 1e-12
    return write_csv("davis.csv", ["case", "k", "sems", "i", "alpha", "correction", "se_diff",
                                   "critical"], rows), len(cases), mc


# ---------------------------------------------------------------- pairwise discrepancies

def gen_discrepancy():
    grid = [0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.95, 0.97]
    pairs = [(0.90, 0.90), (0.95, 0.95), (0.80, 0.97), (0.97, 0.80), (0.70, 0.70),
             (0.86, 0.93), (0.91, 0.88), (0.99, 0.99), (0.50, 0.60)]
    while len(pairs) < 30:
        pairs.append((rng.choice(grid), round(rng.uniform(0.75, 0.98), 2)))
    rows = []
    for ra, rb in pairs:
        sa, sb = 15.0 * math.sqrt(1.0 - ra), 15.0 * math.sqrt(1.0 - rb)
        se = math.sqrt(sa * sa + sb * sb)
        for alpha in (0.05, 0.15):
            rows.append([f(ra), f(rb), f(alpha), f(sa), f(sb), f(se),
                         f(two_sided_z(alpha) * se)])
    return write_csv("discrepancy.csv", ["r_a", "r_b", "alpha", "sem_a", "sem_b", "se_diff",
                                         "critical"], rows)


# ---------------------------------------------------------------- proration

def gen_proration():
    rows = []
    lo, hi = SCALES["scaled"]["lo"], SCALES["scaled"]["hi"]
    halves = 0
    for k in range(2, 9):
        for missing in (1, 2):
            if missing >= k:
                continue
            n = k - missing
            for s in range(n * lo, n * hi + 1):
                exact = Fraction(s * k, n)
                p = round_half_away(exact)
                # the f64 computation gives the same answer
                assert round_half_away(s * k / n) == p, (s, k, missing)
                halves += exact.denominator == 2
                rows.append([s, k, missing, p])
    print(f"proration: {halves} rows with an exact .5 before rounding")
    return write_csv("proration.csv", ["sum", "k", "missing", "prorated"], rows)


# ---------------------------------------------------------------- optional mpmath cross-check

def cross_check_mpmath():
    try:
        import mpmath
    except ImportError:
        print("mpmath not available: cross-check skipped")
        return None
    mpmath.mp.dps = 50
    worst_ppf = worst_cdf = 0.0
    for name in ("midpoint_z.csv", "quantiles.csv", "alpha_quantiles.csv"):
        with open(os.path.join(HERE, name)) as fh:
            for row in csv.DictReader(fh):
                if name == "midpoint_z.csv":
                    p = float(row["p_below"]) + float(row["p_equal"]) / 2.0
                elif name == "quantiles.csv":
                    p = 1.0 - (1.0 - int(row["level"]) / 100.0) / 2.0
                else:
                    p = 1.0 - float(row["alpha"]) / 2.0
                pm = mpmath.mpf(p)
                exact = mpmath.sqrt(2) * mpmath.erfinv(2 * pm - 1) if 1e-300 < p < 1 else None
                if p < 1e-6:
                    # erfinv loses accuracy near -1 even at 50 digits; solve Phi(z) = p instead
                    exact = mpmath.findroot(lambda t: mpmath.ncdf(t) - pm, float(row["z"]))
                z = float(row["z"])
                worst_ppf = max(worst_ppf, abs(z - float(exact)) / max(1.0, abs(float(exact))))
    with open(os.path.join(HERE, "percentile.csv")) as fh:
        for row in csv.DictReader(fh):
            s = int(row["scaled"])
            exact = 100 * mpmath.ncdf(mpmath.mpf(s - 10) / 3)
            worst_cdf = max(worst_cdf, abs(float(row["percentile"]) - float(exact)) / float(exact))
            assert f"{float(exact):.1f}" == row["percentile_1dp"]
    print(f"mpmath cross-check: max rel. error of scipy ppf {worst_ppf:.3g}, "
          f"of 100*cdf {worst_cdf:.3g}")
    return worst_ppf, worst_cdf


def main():
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"seed {SEED}")
    gen_age()
    gen_quantiles()
    gen_z_to_score()
    gen_midpoint()
    gen_percentile()
    gen_ci()
    gen_davis()
    gen_discrepancy()
    gen_proration()
    cross_check_mpmath()


if __name__ == "__main__":
    main()
