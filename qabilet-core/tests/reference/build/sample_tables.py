#!/usr/bin/env python3
"""Independent reference values for the norm build's composite tables, reliability table and
base rates from the scaled scores of a standardisation sample (qabilet-core/src/norms/build/
composite_tables.rs, reliability_from_sample.rs, base_rates_from_sample.rs).

Computed in Python (numpy and scipy.special, plus the standard library) from the rules, not
from the Rust code: per child, not binned by sum; quartiles by sorting. Deterministic: fixed
seed. Reads battery.toml (this folder) and explicit.csv; writes into this folder:

  scaled_children.csv   id,age_months,weight,a1,a2,b1,b2: 300 simulated children with the
                        scaled scores the built subtest tables would give them (empty = not
                        administered)
  sample.csv            the same children as a standardisation sample: id,birth_date,
                        test_date,sex,language, the 8 item columns of a1 (0/1), weight
  sample_tables_expected.json
                        {"unweighted": CASE, "weighted": CASE}; "unweighted" takes every weight
                        as 1, "weighted" the weight column. CASE = {
                          "composites": [{composite, n, mean, sd, bandwidth, skewness,
                                          sum_min, index: [per sum], percentile: [per sum]}],
                          "reliability": [{scale, age_min_months, age_max_months, reliability,
                                           source, n, value}],
                          "base_rates": [{comparison, percent: [d = 0, 1, ...]}]}

Rules (written independently here):
  composite  children with every member scored, all ages; sums S, weights w, W = sum(w);
             m = sum(wS)/W, var = sum(w(S-m)^2)/W, sd = sqrt(var), skewness = sum(w(S-m)^3)/W/sd^3;
             n_eff = W^2/sum(w^2); quartile Q(p) = the smallest S (sorted) whose cumulative
             weight reaches p*W; IQR = Q(.75) - Q(.25);
             h = 0.9*min(sd, IQR/1.34)*n_eff^(-1/5) (sd alone when IQR = 0);
             Jones (1991) variance-corrected kernel CDF: a = sqrt(1 + h^2/var), points
             m + (S-m)/a, kernel SD h/a: F(s) = sum(w*Phi((s - point)/(h/a)))/W at every whole
             sum s = k*1 ... k*19; z = Phi^-1(F) (or -Phi^-1 of the upper tail when that is the
             smaller), F kept within [1e-15, 1-1e-15]; index = round_half_away(100 + 15z)
             clipped to 40-160; percentile = round_half_away(1000*Phi((index-100)/15))/10 kept
             within [0.1, 99.9].
  reliability  24-month bands 60-83, 84-107, 108-131, 132-143. a1: Cronbach's alpha (ddof 1)
             of the 8 items over the band's children with all 8 items (unweighted), when at
             least 20; otherwise, and for a2, b1, b2 (no item columns), the first row of
             explicit.csv for the subtest whose band holds the mid-age month (lo+hi)//2.
             Written: round_half_away(100r)/100 kept within [0.01, 0.99]. Composites: Mosier,
             1 - sum_i Var(X_i)(1 - r_i)/Var(S) over the band's children with every member
             scored, weighted variances, r_i the written subtest values of the band; value =
             unrounded; fewer than 20 children is an error.
  base_rates pairs of index composites (ai:bi): children with both complete, D = index_ai -
             index_bi from the tables above; core subtests (a1, a2, b1) against the core mean:
             children with all core scored, |D| >= d decided as |3x_i - sum| >= 3d;
             percent(d) = round_half_away(1000 * sum(w: |D| >= d)/W)/10, d = 0 ... 120 (pairs),
             0 ... 18 (subtests).

Every rounded value is checked to lie more than 1e-7 from a rounding boundary, and every
weighted quartile more than 1e-9·W from a tie, so that the exact comparisons in the Rust test
do not hinge on the last bits of a sum; the script fails otherwise (then change SEED).

Run:  python3 sample_tables.py   (numpy 2.4, scipy 1.17; byte-identical between runs)
"""

import csv
import datetime as dt
import json
import math
import os
import tomllib

import numpy as np
from scipy.special import ndtr, ndtri

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261124
N = 300
BAND_MONTHS = 24
MIN_CHILDREN = 20
ITEMS = 8
MARGIN = 1e-7


def round_half_away(x):
    return math.copysign(math.floor(abs(x) + 0.5), x)


def check_margin(x, what):
    """x is about to be rounded to a whole number: refuse values near a .5 boundary."""
    frac = abs(x) - math.floor(abs(x))
    if abs(frac - 0.5) < MARGIN:
        raise SystemExit(f"{what}: {x!r} lies on a rounding boundary; choose another SEED")


# --- battery ---------------------------------------------------------------------------------

with open(os.path.join(HERE, "battery.toml"), "rb") as f:
    BATTERY = tomllib.load(f)
SUBTESTS = [s["id"] for s in BATTERY["subtest"]]
CORE = [i for i, s in enumerate(BATTERY["subtest"]) if s.get("core", False)]
COMPOSITES = [(c["id"], c["kind"], [SUBTESTS.index(x) for x in c["subtests"]]) for c in BATTERY["composite"]]
AGE_MIN, AGE_MAX = BATTERY["age_min_months"], BATTERY["age_max_months"]
SCALED_MIN, SCALED_MAX = 1, 19
INDEX_MIN, INDEX_MAX = 40, 160
BANDS = [(lo, min(lo + BAND_MONTHS - 1, AGE_MAX)) for lo in range(AGE_MIN, AGE_MAX + 1, BAND_MONTHS)]


# --- simulation ------------------------------------------------------------------------------


def add_months(year, month, months):
    """(year, month) shifted by `months` (may be negative)."""
    total = year * 12 + (month - 1) + months
    return total // 12, total % 12 + 1


def simulate():
    rng = np.random.default_rng(SEED)
    rows, sample = [], []
    for i in range(N):
        age = int(rng.integers(AGE_MIN, AGE_MAX + 1))
        weight = round(float(rng.uniform(0.4, 2.5)), 3)
        g, fa, fb = rng.standard_normal(3)
        latent = []
        for s in range(len(SUBTESTS)):
            domain = fa if s < 2 else fb
            z = 0.6 * g + 0.5 * domain + 0.62 * rng.standard_normal()
            z = z + 0.12 * (z * z - 1.0)  # a little right skew
            latent.append(z)
        scaled = [int(min(max(round_half_away(10 + 3 * z), SCALED_MIN), SCALED_MAX)) for z in latent]
        given = [True] * len(SUBTESTS)
        if rng.uniform() < 0.04:
            given[0] = False  # a1 not administered
        if rng.uniform() < 0.06:
            given[3] = False  # b2 not administered
        if rng.uniform() < 0.02:
            given[2] = False  # b1 not administered
        # a1's items: Rasch-like, ability the a1 latent; difficulties spread over -1.5 ... 1.5.
        items = []
        for j in range(ITEMS):
            b = -1.5 + 3.0 * j / (ITEMS - 1)
            p = 1.0 / (1.0 + math.exp(-(1.3 * latent[0] - b)))
            items.append(int(rng.uniform() < p))
        if not given[0]:
            items = [None] * ITEMS
        elif age >= 132 and rng.uniform() < 0.8:
            items[int(rng.integers(ITEMS))] = None  # most of the oldest band miss an item
        elif rng.uniform() < 0.03:
            items[int(rng.integers(ITEMS))] = None
        # Dates: tested in 2024-2025 on day 3-28, 0-2 days after the birth day's monthly
        # anniversary: the calendar-exact age in months is exactly `age`.
        ty, tm = int(rng.integers(2024, 2026)), int(rng.integers(1, 13))
        td = int(rng.integers(3, 29))
        by, bm = add_months(ty, tm, -age)
        bd = td - int(rng.integers(0, 3))
        birth, test = dt.date(by, bm, bd), dt.date(ty, tm, td)
        cid = f"k{i + 1:03d}"
        rows.append([cid, age, weight] + [scaled[s] if given[s] else None for s in range(len(SUBTESTS))])
        sample.append([cid, birth.isoformat(), test.isoformat(), "f" if rng.uniform() < 0.5 else "m",
                       "kk" if rng.uniform() < 0.6 else "ru"] + items + [weight])
    return rows, sample


def cell(x):
    return "" if x is None else str(x)


def write_inputs(rows, sample):
    with open(os.path.join(HERE, "scaled_children.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "age_months", "weight"] + SUBTESTS)
        for r in rows:
            w.writerow([cell(x) for x in r])
    items = [it["id"] for it in BATTERY["subtest"][0]["items"]]
    with open(os.path.join(HERE, "sample.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "birth_date", "test_date", "sex", "language"] + [f"a1.{i}" for i in items] + ["weight"])
        for r in sample:
            w.writerow([cell(x) for x in r])


def read_inputs():
    """Reads the files back: the reference is computed from what the Rust test reads."""
    children = []
    with open(os.path.join(HERE, "scaled_children.csv"), newline="") as f:
        for r in csv.DictReader(f):
            children.append({
                "id": r["id"],
                "age": int(r["age_months"]),
                "weight": float(r["weight"]),
                "scaled": [int(r[s]) if r[s] != "" else None for s in SUBTESTS],
            })
    items = {}
    with open(os.path.join(HERE, "sample.csv"), newline="") as f:
        for r in csv.DictReader(f):
            cols = [k for k in r if k.startswith("a1.")]
            items[r["id"]] = [int(r[k]) if r[k] != "" else None for k in cols]
    explicit = []
    with open(os.path.join(HERE, "explicit.csv"), newline="") as f:
        for r in csv.DictReader(f):
            explicit.append((r["scale"], int(r["age_min_months"]), int(r["age_max_months"]), float(r["reliability"])))
    return children, items, explicit


# --- composite tables ------------------------------------------------------------------------


def composite_table(cid, members, children, weighted):
    S, w = [], []
    for c in children:
        xs = [c["scaled"][s] for s in members]
        if all(x is not None for x in xs):
            S.append(float(sum(xs)))
            w.append(c["weight"] if weighted else 1.0)
    S, w = np.array(S), np.array(w)
    W = w.sum()
    m = float((w * S).sum() / W)
    var = float((w * (S - m) ** 2).sum() / W)
    sd = math.sqrt(var)
    skew = float((w * (S - m) ** 3).sum() / W) / sd**3
    n_eff = W * W / float((w * w).sum())
    order = np.argsort(S, kind="stable")
    cum = np.cumsum(w[order])

    def quantile(p):
        target = p * W
        gap = np.abs(cum - target).min()
        if weighted and gap < 1e-9 * W:
            raise SystemExit(f"{cid}: the {p} quartile is a near tie; choose another SEED")
        return S[order][int(np.searchsorted(cum, target, side="left"))]

    iqr = quantile(0.75) - quantile(0.25)
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    h = 0.9 * spread * n_eff ** (-0.2)
    a = math.sqrt(1.0 + h * h / var)
    points, width = m + (S - m) / a, h / a
    k = len(members)
    index, percentile = [], []
    for s in range(k * SCALED_MIN, k * SCALED_MAX + 1):
        lower = float((w * ndtr((s - points) / width)).sum() / W)
        upper = float((w * ndtr((points - s) / width)).sum() / W)
        if lower <= upper:
            z = ndtri(min(max(lower, 1e-15), 1 - 1e-15))
        else:
            z = -ndtri(min(max(upper, 1e-15), 1 - 1e-15))
        raw = 100.0 + 15.0 * float(z)
        if INDEX_MIN - 0.5 < raw < INDEX_MAX + 0.5:
            check_margin(raw, f"{cid} index at sum {s}")
        idx = int(min(max(round_half_away(raw), INDEX_MIN), INDEX_MAX))
        p = 1000.0 * float(ndtr((idx - 100) / 15.0))
        check_margin(p, f"{cid} percentile of index {idx}")
        index.append(idx)
        percentile.append(min(max(round_half_away(p) / 10.0, 0.1), 99.9))
    fit = {"composite": cid, "n": len(S), "mean": m, "sd": sd, "bandwidth": h, "skewness": skew,
           "sum_min": k * SCALED_MIN, "index": index, "percentile": percentile}
    return fit


# --- reliability -----------------------------------------------------------------------------


def cronbach_alpha(x):
    x = np.array(x, dtype=float)
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def written(r):
    check_margin(100 * r, f"reliability {r}")
    return min(max(round_half_away(100 * r) / 100, 0.01), 0.99)


def reliability(children, items, explicit, weighted):
    rows = []
    table = {}
    for s, sid in enumerate(SUBTESTS):
        for lo, hi in BANDS:
            value, source, n = None, None, 0
            if s == 0:  # a1 has item columns
                complete = [items[c["id"]] for c in children
                            if lo <= c["age"] <= hi and all(v is not None for v in items[c["id"]])]
                n = len(complete)
                if n >= MIN_CHILDREN:
                    value, source = float(cronbach_alpha(complete)), "alpha"
            if value is None:
                mid = (lo + hi) // 2
                value = next(r for (sc, a, b, r) in explicit if sc == sid and a <= mid <= b)
                source = "explicit"
            table[(s, lo)] = written(value)
            rows.append({"scale": sid, "age_min_months": lo, "age_max_months": hi,
                         "reliability": table[(s, lo)], "source": source, "n": n, "value": value})
    for cid, _, members in COMPOSITES:
        for lo, hi in BANDS:
            X, w = [], []
            for c in children:
                xs = [c["scaled"][s] for s in members]
                if lo <= c["age"] <= hi and all(x is not None for x in xs):
                    X.append(xs)
                    w.append(c["weight"] if weighted else 1.0)
            if len(X) < MIN_CHILDREN:
                raise SystemExit(f"{cid} {lo}-{hi}: too few children")
            X, w = np.array(X, dtype=float), np.array(w)
            W = w.sum()

            def wvar(v):
                m = (w * v).sum() / W
                return float((w * (v - m) ** 2).sum() / W)

            var_s = wvar(X.sum(axis=1))
            err = sum(wvar(X[:, i]) * (1 - table[(s, lo)]) for i, s in enumerate(members))
            value = 1 - err / var_s
            rows.append({"scale": cid, "age_min_months": lo, "age_max_months": hi,
                         "reliability": written(value), "source": "mosier", "n": len(X), "value": value})
    return rows


# --- base rates ------------------------------------------------------------------------------


def percent(weights, hits, what):
    p = 1000.0 * float(np.sum(weights[hits])) / float(np.sum(weights))
    check_margin(p, what)
    return round_half_away(p) / 10.0


def base_rates(children, tables, weighted):
    out = []
    indexes = [(cid, members) for cid, kind, members in COMPOSITES if kind == "index"]
    for ia in range(len(indexes)):
        for ib in range(ia + 1, len(indexes)):
            (a, ma), (b, mb) = indexes[ia], indexes[ib]
            D, w = [], []
            for c in children:
                xa, xb = [c["scaled"][s] for s in ma], [c["scaled"][s] for s in mb]
                if all(x is not None for x in xa + xb):
                    ta, tb = tables[a], tables[b]
                    D.append(ta["index"][sum(xa) - ta["sum_min"]] - tb["index"][sum(xb) - tb["sum_min"]])
                    w.append(c["weight"] if weighted else 1.0)
            D, w = np.abs(np.array(D)), np.array(w)
            pcts = [percent(w, D >= d, f"{a}:{b} at {d}") for d in range(INDEX_MAX - INDEX_MIN + 1)]
            out.append({"comparison": f"{a}:{b}", "percent": pcts})
    k = len(CORE)
    complete = [c for c in children if all(c["scaled"][s] is not None for s in CORE)]
    w = np.array([c["weight"] if weighted else 1.0 for c in complete])
    for i in CORE:
        # |x_i - mean| >= d  <=>  |k x_i - sum| >= k d, in whole numbers.
        t = np.array([abs(k * c["scaled"][i] - sum(c["scaled"][s] for s in CORE)) for c in complete])
        pcts = [percent(w, t >= k * d, f"{SUBTESTS[i]}:core_mean at {d}") for d in range(SCALED_MAX - SCALED_MIN + 1)]
        out.append({"comparison": f"{SUBTESTS[i]}:core_mean", "percent": pcts})
    return out


def main():
    rows, sample = simulate()
    write_inputs(rows, sample)
    children, items, explicit = read_inputs()
    expected = {}
    for name, weighted in (("unweighted", False), ("weighted", True)):
        composites = [composite_table(cid, members, children, weighted) for cid, _, members in COMPOSITES]
        tables = {t["composite"]: t for t in composites}
        expected[name] = {
            "composites": composites,
            "reliability": reliability(children, items, explicit, weighted),
            "base_rates": base_rates(children, tables, weighted),
        }
    with open(os.path.join(HERE, "sample_tables_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    for name, case in expected.items():
        srcs = [(r["scale"], r["age_min_months"], r["source"], r["n"]) for r in case["reliability"]]
        print(name, [(c["composite"], c["n"], round(float(c["bandwidth"]), 3), round(c["skewness"], 3)) for c in case["composites"]])
        print(" ", [s for s in srcs if s[0] == "a1"])


if __name__ == "__main__":
    main()
