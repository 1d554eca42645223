#!/usr/bin/env python3
"""Write the score inputs examples/children.csv and tests/data/mixed.csv (deterministic).

Usage (from the repository root):
    python3 tests/reference/make_inputs.py [--battery norms/qabilet-primary-demo]

Raw scores are plausible for the child's age: the median of the developmental model in
provenance.toml ([model.subtest.<id>]: logistic median, linear SD) plus noise from a
one-factor model (general ability g, specific part e: z = 0.6 g + 0.8 e). Only
battery.toml and provenance.toml are read, so this runs before the tables exist.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import random
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from independent_scorer import add_months, calendar_age  # noqa: E402


def load(battery_dir):
    with open(os.path.join(battery_dir, "battery.toml"), "rb") as fh:
        bt = tomllib.load(fh)
    model = os.path.join(battery_dir, "model.toml")
    if not os.path.exists(model):
        model = os.path.join(battery_dir, "provenance.toml")
    with open(model, "rb") as fh:
        prov = tomllib.load(fh)
    order, rmax = [], {}
    for st in bt["subtest"]:
        order.append(st["id"])
        rmax[st["id"]] = sum(i["max"] for i in st["items"]) if st.get("items") else st["raw_max"]
    return order, rmax, prov["model"]["subtest"]


def median_sd(model, rmax, sid, months):
    p = model[sid]
    m = rmax[sid] / (1.0 + math.exp(-(months - p["a50"]) / p["tau"]))
    s = p["sd_at_60"] + (p["sd_at_143"] - p["sd_at_60"]) * (months - 60) / 83.0
    return m, s


def raw_scores(rng, model, rmax, order, months, g):
    out = {}
    for sid in order:
        m, s = median_sd(model, rmax, sid, months)
        z = 0.6 * g + 0.8 * rng.gauss(0.0, 1.0)
        out[sid] = min(rmax[sid], max(0, int(math.floor(m + z * s + 0.5))))
    return out


def months_of(birth, test):
    y, m, _ = calendar_age(birth, test)
    return 12 * y + m


def children(order, rmax, model):
    rng = random.Random(20261124)
    # fixed dates for a few calendar edge cases (month ends, leap days)
    fixed_dates = {
        2: ("2016-02-29", "2026-02-28"),   # leap-day birthday, 10:0:0 in a non-leap year
        7: ("2020-01-31", "2026-03-30"),   # 6:1:30 (Jan 31 + 1 month = Feb 28)
        11: ("2019-08-31", "2026-02-28"),  # month-end clamp: 6:6:0
        21: ("2021-02-28", "2026-02-28"),  # exactly 5:0:0
        30: ("2014-04-30", "2026-03-31"),  # 11:11:1
    }
    # g per child: mostly N(0,1); a few extremes so that every classification band occurs
    extremes = {3: -2.6, 9: 2.6, 16: -1.8, 25: 1.9, 34: 2.2, 38: -2.2}
    # not administered (empty cells), to exercise substitution, proration, non-computable
    missing = {
        5: ["voc"],            # gac: voc <- inf (substituted); vci not computed
        12: ["sim"],           # gac: sim <- inf (substituted)
        15: ["fw"],            # fri not computed; gac complete
        18: ["ds"],            # gac: ds <- ps (substituted); wmi not computed
        23: ["bd", "vp"],      # gac prorated (bd missing, no substitute); vsi not computed
        27: ["inf"],           # non-member only: everything complete
        29: ["cd", "ss"],      # gac prorated; psi not computed
        33: ["mr", "qr"],      # two substitutes needed, max 1: gac not computed
        36: ["qr"] + ["ar"],   # gac prorated; qri not computed
        37: ["voc", "cd", "ss"],  # would need substitution + proration: gac not computed
        40: ["sim", "voc", "inf"],  # gac: two missing, no substitute: not computed
    }
    rows = []
    for n in range(1, 41):
        if n in fixed_dates:
            b, t = fixed_dates[n]
            birth, test = dt.date.fromisoformat(b), dt.date.fromisoformat(t)
        else:
            while True:
                test = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 365))
                months = rng.randrange(60, 144)
                birth = add_months(test, -months) - dt.timedelta(days=rng.randrange(0, 28))
                if 2014 <= birth.year <= 2021 and 60 <= months_of(birth, test) <= 143:
                    break
        months = months_of(birth, test)
        assert 60 <= months <= 143 and 2014 <= birth.year <= 2021 and test.year == 2026
        g = extremes.get(n, rng.gauss(0.0, 1.0))
        raws = raw_scores(rng, model, rmax, order, months, g)
        for sid in missing.get(n, []):
            raws[sid] = ""
        rows.append([f"child-{n:03d}", birth.isoformat(), test.isoformat()] + [str(raws[s]) for s in order])
    return ["id", "birth_date", "test_date"] + order, rows


def mixed(order, rmax, model):
    rng = random.Random(7)
    # subtest columns: a different order and a subset (no `inf`)
    cols = ["cd", "ds", "ss", "ps", "ar", "qr", "vp", "bd", "fw", "mr", "voc", "sim"]
    assert set(cols) <= set(order)

    def typical(birth, test, g=0.0):
        birth_d, test_d = dt.date.fromisoformat(birth), dt.date.fromisoformat(test)
        r = raw_scores(rng, model, rmax, order, months_of(birth_d, test_d), g)
        return {s: str(r[s]) for s in cols}

    spec = []  # (id, birth, test, overrides or full dict)

    def add(rid, birth, test, over=None, base=None, ref=None):
        ref = ref or (birth, test)
        cells = dict(base) if base is not None else typical(*ref)
        cells.update(over or {})
        spec.append([rid, birth, test] + [cells[s] for s in cols])

    # valid rows, incl. edge ages
    add("m-01", "2018-05-14", "2026-04-20")
    add("m-02", "2021-03-15", "2026-03-15")                       # exactly 5:0:0
    add("m-03", "2014-08-01", "2026-07-31")                       # 11:11:30
    add("m-04", "2014-03-31", "2026-03-30")                       # 11:11:30 (Feb 28 + 30 days)
    add("m-05", "2020-02-29", "2025-02-28")                       # leap day: 5:0:0
    add("m-06", "2021-03-15", "2026-03-15", base={s: "0" for s in cols})                # raw 0 everywhere, youngest age
    add("m-07", "2014-08-01", "2026-07-31", base={s: str(rmax[s]) for s in cols})       # raw max everywhere, oldest age
    add("m-08", "2019-10-02", "2026-01-05", base={s: "" for s in cols})                 # nothing administered: age only
    add("m-09", "2017-06-30", "2026-05-12", {"sim": "0", "voc": str(rmax["voc"])})      # raw 0 and raw max in one row
    add("m-10", "2016-11-20", "2026-02-02", {"bd": "", "vp": ""})  # gac prorated (bd missing, substitute vp too)
    add("m-11", "2015-01-31", "2026-02-28", {"mr": ""})            # gac substituted mr <- fw
    add("m-12", "2019-12-31", "2026-06-30", {"sim": ""})           # no inf column: gac prorated; vci not computed
    add("m-13", "2020-09-09", "2026-09-09", {"ds": ""})            # gac substituted ds <- ps; wmi not computed
    # bad rows
    add("m-14", "2019-02-30", "2026-03-01", ref=("2019-03-01", "2026-03-01"))                     # invalid date (no Feb 30)
    add("m-15", "2019/03/01", "2026-03-01", ref=("2019-03-01", "2026-03-01"))   # not ISO
    add("m-16", "2019-03-01", "2026-13-01", ref=("2019-03-01", "2026-03-01"))   # month 13
    add("m-17", "", "2026-03-01", ref=("2019-03-01", "2026-03-01"))             # empty date
    add("m-18", "2026-05-02", "2026-05-01", ref=("2019-03-01", "2026-03-01"))   # test before birth
    add("m-19", "2021-04-10", "2026-03-20", ref=("2021-03-20", "2026-03-20"))   # 4:11:10
    add("m-20", "2021-03-16", "2026-03-15", ref=("2021-03-15", "2026-03-15"))   # 4:11:27 (one day short of 5:0)
    add("m-21", "2014-03-10", "2026-03-10", ref=("2014-04-10", "2026-03-10"))   # 12:0:0
    add("m-22", "2014-07-31", "2026-07-31", ref=("2014-08-01", "2026-07-31"))   # 12:0:0 (one day past 11:11:30)
    add("m-23", "2018-05-14", "2026-04-20", {"voc": str(rmax["voc"] + 1)})      # raw above maximum
    add("m-24", "2018-05-14", "2026-04-20", {"cd": str(rmax["cd"] + 20)})       # raw above maximum (raw_max subtest)
    add("m-25", "2018-05-14", "2026-04-20", {"mr": "-1"})                       # negative raw
    add("m-26", "2018-05-14", "2026-04-20", {"ds": "3.5"})                      # not a whole number
    add("m-27", "2018-05-14", "2026-04-20", {"cd": "abc"})                      # not a number
    add("", "2018-05-14", "2026-04-20")                                         # empty id
    add("m-29", "2017-01-01", "2026-01-01", {"fw": "", "vp": ""})               # valid, partial
    add("m-30", "2023-01-01", "2026-01-01", ref=("2021-01-01", "2026-01-01"))   # 3:0:0: too young
    assert len(spec) == 30, len(spec)
    return ["id", "birth_date", "test_date"] + cols, spec


def write(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {path} ({len(rows)} rows)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--battery", default="norms/qabilet-primary-demo")
    ap.add_argument("--root", default=".")
    a = ap.parse_args()
    order, rmax, model = load(a.battery)
    write(os.path.join(a.root, "examples/children.csv"), *children(order, rmax, model))
    write(os.path.join(a.root, "tests/data/mixed.csv"), *mixed(order, rmax, model))


if __name__ == "__main__":
    main()
