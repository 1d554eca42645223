#!/usr/bin/env python3
"""Reference values of the expected stage-2 referral rate of a single index
(norms/guidance/referral.toml; qabilet_core::guidance::referral::expected_single_index_rate),
computed from the written rule only, not from the Rust code.

Rule: the index is N(100, 15) reported as the nearest whole score in 40..160. Its interval at
level L (90 %) by the true-score method (centre = 100 + r(X - 100), half-width =
z * 15 * sqrt(r(1 - r))) or the obtained-score method (X +/- z * 15 * sqrt(1 - r)) has bounds
rounded half away from zero, then clipped to 40..160. x* = the smallest index whose lower bound
is >= cut; x_u = the smallest whose upper bound is >= cut. P(referred) = P(index >= x*) =
1 - Phi((x* - 0.5 - 100) / 15); P(uncertain) = P(index >= x_u) - P(referred).

Reliabilities: every composite reliability of norms/qabilet-primary-demo/reliability.csv,
plus 0.80, 0.85, 0.90, 0.95, 0.98. Writes referral_rate.csv (floats with repr()).
Needs scipy (scipy.stats.norm).
"""

import csv
import math
import os
from decimal import Decimal, ROUND_HALF_UP

import scipy
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
MEAN, SD, LO, HI = 100.0, 15.0, 40, 160
LEVEL, CUT = 90, 120


def round_half_away(x):
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def interval(x, r, z, method):
    if method == "true-score":
        centre, half = MEAN + r * (x - MEAN), z * SD * math.sqrt(r * (1.0 - r))
    else:
        centre, half = float(x), z * SD * math.sqrt(1.0 - r)
    clip = lambda v: min(max(v, LO), HI)
    return clip(round_half_away(centre - half)), clip(round_half_away(centre + half))


def tail(x):
    if x is None:
        return 0.0
    if x <= LO:
        return 1.0
    return float(norm.sf((x - 0.5 - MEAN) / SD))


def main():
    z = float(norm.ppf(1.0 - (1.0 - LEVEL / 100.0) / 2.0))
    with open(os.path.join(ROOT, "norms", "qabilet-primary-demo", "reliability.csv")) as f:
        composites = {"vci", "fri", "vsi", "qri", "wmi", "psi", "gac"}
        rels = {float(row["reliability"]) for row in csv.DictReader(f) if row["scale"] in composites}
    rels |= {0.80, 0.85, 0.90, 0.95, 0.98}
    rows = []
    for method in ("true-score", "obtained"):
        for r in sorted(rels):
            first = lambda ok: next((x for x in range(LO, HI + 1) if ok(interval(x, r, z, method))), None)
            x_ref = first(lambda ci: ci[0] >= CUT)
            x_unc = first(lambda ci: ci[1] >= CUT)
            referred = tail(x_ref)
            uncertain = tail(x_unc) - referred
            rows.append([repr(r), LEVEL, method, CUT, "" if x_ref is None else x_ref,
                         "" if x_unc is None else x_unc, repr(referred), repr(uncertain)])
    with open(os.path.join(HERE, "referral_rate.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["reliability", "level", "method", "cut", "min_index_referred",
                    "min_index_uncertain", "referred", "uncertain"])
        w.writerows(rows)
    print(f"referral_rate.csv: {len(rows)} rows (scipy {scipy.__version__})")


if __name__ == "__main__":
    main()
