#!/usr/bin/env python3
"""Independent reference values for internal-consistency reliability per age band.

Computed in Python (numpy only, plus the standard library) from the textbook formulas, not
from the Rust code. Deterministic: fixed seed; reads only the demonstration battery's
battery.toml (for item ids and maximum item scores). Writes into this script's folder:

  sample.csv    a simulated standardisation sample in the `qabilet stats reliability` input
                format: id,birth_date,test_date,sex,language,sim,inf,cd,
                sim.<item>... (24 items scored 0-2 / 0-1), inf.<item>... (28 items, 0/1), weight
  expected.csv  subtest,age_min_months,age_max_months,n,items,alpha,split_half,sem_alpha,status
                per subtest (battery order) and 12-month age band 60-71 ... 132-143

Rules (as in qabilet-core/src/stats/reliability.rs, written independently here):
  alpha      = k/(k-1) * (1 - sum of item variances / variance of the total), ddof=1
  split_half = 2r/(1+r), r = Pearson correlation of the totals of the odd items (1st, 3rd, ...
               in battery order) and the even items (np.corrcoef)
  sem_alpha  = 3 * sqrt(1 - alpha)  (the battery's scaled-score SD)
  listwise complete cases per subtest and band; fewer than 10 complete cases:
  too_few_children; fewer than 2 item columns (cd is a speed test without items): too_few_items.

Simulation: 420 children; 414 with ages uniform over 60-131 months and only 6 in 132-143 (so
that band has too few children); birth days 1-28, so the calendar-exact age in months is
exactly the months added to the birth date (the extra 0-27 days never reach the next month).
Ability theta ~ N(0,1) plus a linear age trend; dichotomous items P = logistic(theta - b);
items scored 0-2 count two steps passed independently. About 4 % of children miss one item
score (empty cell), testing listwise deletion; raw = sum of the given item scores.

Run:  python3 make_reliability_reference.py
Floats are written with repr() (shortest string that round-trips to the same f64).
"""

import csv
import datetime as dt
import math
import os
import tomllib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BATTERY = os.path.join(HERE, "..", "..", "..", "..", "norms", "qabilet-primary-demo", "battery.toml")
SEED = 20260502
N_MAIN, N_OLD = 414, 6
SUBTESTS = ["sim", "inf"]          # with item columns
SPEED = "cd"                       # raw column only
SEM_SD = 3.0
MIN_CHILDREN = 10
BANDS = [(lo, min(lo + 11, 143)) for lo in range(60, 144, 12)]


def add_months(d, months):
    total = d.year * 12 + d.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, d.day)   # d.day <= 28 here


def alpha(x):
    k = x.shape[1]
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    return k / (k - 1) * (1 - item_var / total_var)


def split_half(x):
    odd = x[:, 0::2].sum(axis=1)
    even = x[:, 1::2].sum(axis=1)
    r = np.corrcoef(odd, even)[0, 1]
    return 2 * r / (1 + r)


def main():
    with open(BATTERY, "rb") as f:
        battery = tomllib.load(f)
    subtests = {s["id"]: s for s in battery["subtest"]}
    order = [s["id"] for s in battery["subtest"]]
    items = {s: [(it["id"], it["max"]) for it in subtests[s]["items"]] for s in SUBTESTS}
    cd_max = subtests[SPEED]["raw_max"]

    rng = np.random.default_rng(SEED)
    n = N_MAIN + N_OLD
    months = np.concatenate([rng.integers(60, 132, N_MAIN), rng.integers(132, 144, N_OLD)])
    extra_days = rng.integers(0, 28, n)
    births = [dt.date(int(y), int(m), int(d)) for y, m, d in
              zip(rng.integers(2013, 2020, n), rng.integers(1, 13, n), rng.integers(1, 29, n))]
    tests = [add_months(b, int(m)) + dt.timedelta(days=int(e))
             for b, m, e in zip(births, months, extra_days)]
    theta = rng.normal(0, 1, n) + (months - 100) / 24

    scores = {}
    for s in SUBTESTS:
        cols = []
        for j, (_, mx) in enumerate(items[s]):
            b = -2.5 + 5.0 * j / len(items[s]) + rng.normal(0, 0.3)
            steps = [1 / (1 + np.exp(-(theta - b - 0.8 * t))) for t in range(mx)]
            x = sum((rng.random(n) < p).astype(int) for p in steps)
            cols.append(x)
        m = np.array(cols, dtype=float).T
        # missing item scores: about 4 % of children miss one item
        miss = rng.random(n) < 0.04
        where = rng.integers(0, len(items[s]), n)
        m[miss, where[miss]] = np.nan
        scores[s] = m
    cd = np.clip(np.round(35 + 8 * theta + rng.normal(0, 4, n)), 0, cd_max).astype(int)
    sex = rng.choice(["f", "m"], n)
    language = rng.choice(["kk", "ru"], n, p=[0.6, 0.4])
    weight = np.round(rng.uniform(0.5, 1.5, n), 3)

    header = ["id", "birth_date", "test_date", "sex", "language", "sim", "inf", "cd"]
    for s in SUBTESTS:
        header += [f"{s}.{iid}" for iid, _ in items[s]]
    header.append("weight")
    with open(os.path.join(HERE, "sample.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for i in range(n):
            row = [f"r{i + 1:04d}", births[i].isoformat(), tests[i].isoformat(), sex[i], language[i]]
            row += [str(int(np.nansum(scores[s][i]))) for s in SUBTESTS]
            row.append(str(cd[i]))
            for s in SUBTESTS:
                row += ["" if math.isnan(v) else str(int(v)) for v in scores[s][i]]
            row.append(repr(float(weight[i])))
            w.writerow(row)

    rows = []
    for s in [x for x in order if x in SUBTESTS or x == SPEED]:
        for lo, hi in BANDS:
            in_band = (months >= lo) & (months <= hi)
            if s == SPEED:
                rows.append([s, lo, hi, int(in_band.sum()), 0, "", "", "", "too_few_items"])
                continue
            m = scores[s][in_band]
            m = m[~np.isnan(m).any(axis=1)]
            k = m.shape[1]
            if len(m) < MIN_CHILDREN:
                rows.append([s, lo, hi, len(m), k, "", "", "", "too_few_children"])
                continue
            a = alpha(m)
            rows.append([s, lo, hi, len(m), k, repr(float(a)), repr(float(split_half(m))),
                         repr(float(SEM_SD * math.sqrt(1 - a))), "ok"])
    with open(os.path.join(HERE, "expected.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["subtest", "age_min_months", "age_max_months", "n", "items", "alpha",
                    "split_half", "sem_alpha", "status"])
        w.writerows(rows)
    print(f"wrote sample.csv ({n} children) and expected.csv ({len(rows)} rows)")


if __name__ == "__main__":
    main()
