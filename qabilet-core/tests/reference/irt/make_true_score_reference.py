#!/usr/bin/env python3
"""IRT true-score equating reference values (norms/IRT.md, qabilet_core::irt::true_score),
computed from the written rule only, not from the Rust code:

    tau(theta) = sum over items of sum_k k * P_k(theta)     (expected raw score, all items)
    raw_equivalent = round_half_away(tau), clipped to 0 ... sum of the items' maxima

Lord (1980) ch. 13; Kolen & Brennan (2014) ch. 6. Category probabilities are computed with
numpy from the model formulas of norms/IRT.md (logistic metric, D = 1). Banks: every bank in
banks/ and the demonstration battery's items/mr.json. Writes true_score.csv
(bank,theta,tau,raw_equivalent); floats with repr() (shortest round trip).

Run from this folder: python3 make_true_score_reference.py
"""

import csv
import json
import os
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "../../../../norms/qabilet-primary-demo/items/mr.json")
THETAS = [-7.5, -3.0, -1.7, -0.4, 0.0, 0.25, 1.1, 2.35, 4.0, 9.0]


def sigma(z):
    return 1.0 / (1.0 + np.exp(-z))


def categories(item, theta):
    """P_0 ... P_m of one item at theta."""
    model = item["model"]
    a = item.get("a", 1.0)
    if model in ("rasch", "2pl", "3pl"):
        p = sigma(a * (theta - item["b"]))
        if model == "3pl":
            c = item["c"]
            p = c + (1.0 - c) * p
        return np.array([1.0 - p, p])
    b = np.array(item["b"], dtype=float)
    if model == "gpcm":
        z = np.concatenate([[0.0], np.cumsum(a * (theta - b))])
        w = np.exp(z - z.max())
        return w / w.sum()
    if model == "grm":
        star = np.concatenate([[1.0], sigma(a * (theta - b)), [0.0]])
        return star[:-1] - star[1:]
    raise ValueError(model)


def tau(items, theta):
    return float(sum(np.dot(np.arange(len(p)), p) for p in (categories(i, theta) for i in items)))


def round_half_away(x):
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def main():
    banks = {}
    for name in sorted(os.listdir(os.path.join(HERE, "banks"))):
        with open(os.path.join(HERE, "banks", name)) as f:
            banks[os.path.splitext(name)[0]] = json.load(f)["items"]
    with open(DEMO) as f:
        banks["demo_mr"] = json.load(f)["items"]
    with open(os.path.join(HERE, "true_score.csv"), "w", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["bank", "theta", "tau", "raw_equivalent"])
        for name, items in banks.items():
            raw_max = sum(len(categories(i, 0.0)) - 1 for i in items)
            for theta in THETAS:
                t = tau(items, theta)
                w.writerow([name, repr(theta), repr(t), min(max(round_half_away(t), 0), raw_max)])


if __name__ == "__main__":
    main()
