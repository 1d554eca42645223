#!/usr/bin/env python3
"""Independent reference values for Mantel-Haenszel DIF (norms/DIF.md).

Computed in Python (numpy + scipy) from the written rules only, not from the Rust code.
Deterministic: fixed seed, no input files. Writes into this script's folder:

  sample.csv          simulated sample: id,language,i01..i20 (ru = reference, kk = focal,
                      other values ignored; empty cell = missing response)
  expected.csv        per item: the columns of `qabilet stats dif`
  summary.csv         examinee counts (used, excluded for missing responses, other groups)
  edge_sample.csv     small hand-built sample whose items hit every non-ok status
  edge_expected.csv   its per-item results
  edge_summary.csv    its counts

If statsmodels is importable (pip install statsmodels), alpha_MH, the continuity-corrected
MH chi-square and the Robins-Breslow-Greenland SE of ln(alpha_MH) are cross-checked against
statsmodels.stats.contingency_tables.StratifiedTable (nothing extra is written).

Run:  python3 make_dif_reference.py
Floats are written with repr() (shortest string that round-trips to the same f64).
"""

import csv
import math
import os

import numpy as np
import scipy
from scipy import stats

try:
    import statsmodels
    from statsmodels.stats.contingency_tables import StratifiedTable
except ImportError:  # the cross-check is optional
    statsmodels = None

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20260415
N_REFERENCE, N_FOCAL, N_OTHER = 2000, 1500, 60
N_ITEMS = 20
FOCAL_MEAN = -0.25           # impact: the focal group is a little less able on average
MISSING_RATE = 0.03          # share of examinees with 1-3 missing responses
# Uniform DIF: focal-group difficulty = b + shift (a = 1 for these items).
# Expected MH D-DIF is about -2.35 * a * shift.
DIF = {"i04": -0.38, "i11": 0.55, "i17": 1.00}
DESIGNED_CLASS = {"i04": ("B", "focal"), "i11": ("B", "reference"), "i17": ("C", "reference")}

DELTA_SCALE = 2.35
ALPHA = 0.05
Z95 = float(stats.norm.ppf(1 - ALPHA))   # one-sided critical value of the C rule
MARGIN = 1e-6                            # no classification decision closer than this

COLUMNS = ["item", "n_reference", "n_focal", "p_reference", "p_focal", "alpha_mh",
           "chi2_mh", "p_value", "delta_mh", "se_delta", "class", "favours", "status"]

LOG = []


def note(msg):
    LOG.append(msg)
    print(msg)


# ---------------------------------------------------------------------------------------
# The rules (norms/DIF.md), written out directly
# ---------------------------------------------------------------------------------------

def analyse(items, groups, responses, reference="ru", focal="kk"):
    """items: ids; groups: labels; responses: list of lists of 0/1/None.
    Returns (rows, summary, checks) where rows are dicts keyed by COLUMNS."""
    used_g, used_x = [], []
    summary = {"reference": 0, "focal": 0, "missing_reference": 0, "missing_focal": 0,
               "other": 0}
    for g, x in zip(groups, responses):
        if g == reference:
            side = "reference"
        elif g == focal:
            side = "focal"
        else:
            summary["other"] += 1
            continue
        if any(v is None for v in x):
            summary["missing_" + side] += 1
            continue
        summary[side] += 1
        used_g.append(side)
        used_x.append(x)
    X = np.array(used_x, dtype=np.int64)
    is_ref = np.array([g == "reference" for g in used_g])
    total = X.sum(axis=1)                 # matching: total over ALL items, studied one included
    n_ref, n_foc = int(is_ref.sum()), int((~is_ref).sum())
    assert n_ref > 0 and n_foc > 0
    both = [k for k in range(len(items) + 1)
            if (is_ref & (total == k)).any() and (~is_ref & (total == k)).any()]
    summary["strata"] = len(both)
    rows, checks = [], []
    for j, item in enumerate(items):
        y = X[:, j]
        row = {c: "" for c in COLUMNS}
        row.update(item=item, n_reference=n_ref, n_focal=n_foc,
                   p_reference=float(y[is_ref].sum()) / n_ref,
                   p_focal=float(y[~is_ref].sum()) / n_foc)
        tables = []
        for k in both:                    # strata holding both groups only
            s = total == k
            A = int((s & is_ref & (y == 1)).sum())
            B = int((s & is_ref & (y == 0)).sum())
            C = int((s & ~is_ref & (y == 1)).sum())
            D = int((s & ~is_ref & (y == 0)).sum())
            tables.append((A, B, C, D))
        if y.sum() == 0 or y.sum() == len(y):
            row["status"] = "constant"
            rows.append(row)
            continue
        informative = [t for t in tables if t[0] + t[2] > 0 and t[1] + t[3] > 0]
        if not informative:
            row["status"] = "no_information"
            rows.append(row)
            continue
        sum_a = sum_e = sum_v = 0.0
        R = S = PR = PSQR = QS = 0.0
        for A, B, C, D in tables:
            N = A + B + C + D
            nR, nF, m1, m0 = A + B, C + D, A + C, B + D
            sum_a += A
            sum_e += nR * m1 / N
            sum_v += nR * nF * m1 * m0 / (N * N * (N - 1))
            Rk, Sk = A * D / N, B * C / N
            Pk, Qk = (A + D) / N, (B + C) / N
            R += Rk
            S += Sk
            PR += Pk * Rk
            PSQR += Pk * Sk + Qk * Rk
            QS += Qk * Sk
        dev = abs(sum_a - sum_e)
        chi2 = max(dev - 0.5, 0.0) ** 2 / sum_v
        p = float(stats.chi2.sf(chi2, 1))
        # the same p from the normal tail: chi2_1 sf(x) = erfc(sqrt(x/2))
        p2 = math.erfc(math.sqrt(chi2 / 2))
        assert p == p2 or abs(p - p2) <= 1e-13 * max(p, p2), (item, p, p2)
        row.update(chi2_mh=chi2, p_value=p)
        if R == 0 or S == 0:
            row["status"] = "unbounded"
            row["favours"] = "focal" if R == 0 else "reference"
            rows.append(row)
            continue
        alpha = R / S
        var_ln = PR / (2 * R * R) + PSQR / (2 * R * S) + QS / (2 * S * S)
        # Phillips & Holland (1987) form, as difR writes it: must agree.
        ph = sum((A * D + alpha * B * C) * (A + D + alpha * (B + C)) / (A + B + C + D) ** 2
                 for A, B, C, D in tables) / (2 * R * R)
        assert abs(ph - var_ln) <= 1e-12 * var_ln, (item, ph, var_ln)
        delta = -DELTA_SCALE * math.log(alpha)
        se = DELTA_SCALE * math.sqrt(var_ln)
        size = abs(delta)
        if size < 1 or p >= ALPHA:
            cls = "A"
        elif size >= 1.5 and size - 1 > Z95 * se:
            cls = "C"
        else:
            cls = "B"
        # no decision within MARGIN of its boundary (else rounding could flip it)
        for what, m in [("|delta| vs 1", size - 1), ("|delta| vs 1.5", size - 1.5),
                        ("p vs .05", (p - ALPHA) / ALPHA),
                        ("|delta|-1 vs z*se", size - 1 - Z95 * se)]:
            assert abs(m) > MARGIN, (item, what, m)
        row.update(alpha_mh=alpha, delta_mh=delta, se_delta=se, **{"class": cls},
                   favours="reference" if delta < 0 else "focal" if delta > 0 else "",
                   status="ok")
        rows.append(row)
        checks.append((item, tables, dev, alpha, chi2, var_ln))
    return rows, summary, checks


def cross_check(checks, label):
    if statsmodels is None:
        note(f"{label}: statsmodels not importable; cross-check skipped")
        return
    worst = {"alpha": 0.0, "chi2": 0.0, "se_ln": 0.0}
    skipped = []
    for item, tables, dev, alpha, chi2, var_ln in checks:
        arr = np.array([[[A, B], [C, D]] for A, B, C, D in tables], dtype=float)
        st = StratifiedTable(np.transpose(arr, (1, 2, 0)))
        worst["alpha"] = max(worst["alpha"], abs(st.oddsratio_pooled - alpha) / alpha)
        worst["se_ln"] = max(worst["se_ln"],
                             abs(st.logodds_pooled_se - math.sqrt(var_ln)) / math.sqrt(var_ln))
        if dev >= 0.5:   # statsmodels does not clamp |d| - 1/2 at 0; compare where equal
            sm = st.test_null_odds(correction=True).statistic
            worst["chi2"] = max(worst["chi2"], abs(sm - chi2) / max(chi2, 1e-300))
        else:
            skipped.append(item)
    note(f"{label}: statsmodels {statsmodels.__version__} StratifiedTable agrees on "
         f"{len(checks)} items: max rel diff alpha_MH {worst['alpha']:.1e}, "
         f"SE(ln alpha) {worst['se_ln']:.1e}, chi2 {worst['chi2']:.1e}"
         + (f" (chi2 not compared for {', '.join(skipped)}: |sum A - sum E| < 1/2, "
            "our clamped chi2 = 0)" if skipped else ""))
    for v in worst.values():
        assert v < 1e-12, worst


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------

def cell(v):
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_csv(name, header, rows):
    with open(os.path.join(HERE, name), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([cell(x) for x in r])


def write_sample(name, items, ids, groups, responses):
    write_csv(name, ["id", "language"] + items,
              [[i, g] + ["" if v is None else v for v in x]
               for i, g, x in zip(ids, groups, responses)])


def write_results(prefix, rows, summary):
    write_csv(f"{prefix}expected.csv", COLUMNS, [[r[c] for c in COLUMNS] for r in rows])
    write_csv(f"{prefix}summary.csv", ["key", "value"], list(summary.items()))


# ---------------------------------------------------------------------------------------
# Main sample: 2PL responses with known uniform DIF
# ---------------------------------------------------------------------------------------

def main_sample():
    rng = np.random.default_rng(SEED)
    items = [f"i{j:02d}" for j in range(1, N_ITEMS + 1)]
    a = rng.uniform(0.7, 1.6, N_ITEMS)
    b = np.linspace(-1.8, 1.8, N_ITEMS) + rng.normal(0, 0.15, N_ITEMS)
    for it in DIF:
        a[items.index(it)] = 1.0
    labels = (["ru"] * N_REFERENCE + ["kk"] * N_FOCAL
              + ["en"] * (N_OTHER - 10) + [""] * 10)
    order = rng.permutation(len(labels))           # groups interleaved in the file
    labels = [labels[i] for i in order]
    theta = np.array([rng.normal(FOCAL_MEAN if g == "kk" else 0.0, 1.0) for g in labels])
    responses, ids = [], []
    for n, (g, t) in enumerate(zip(labels, theta)):
        bb = b.copy()
        if g == "kk":
            for it, shift in DIF.items():
                bb[items.index(it)] += shift
        prob = 1 / (1 + np.exp(-a * (t - bb)))
        x = [int(v) for v in (rng.random(N_ITEMS) < prob)]
        if rng.random() < MISSING_RATE:
            for j in rng.choice(N_ITEMS, size=int(rng.integers(1, 4)), replace=False):
                x[j] = None
        responses.append(x)
        ids.append(f"c{n + 1:04d}")
    write_sample("sample.csv", items, ids, labels, responses)
    rows, summary, checks = analyse(items, labels, responses)
    write_results("", rows, summary)
    note(f"sample: {len(ids)} rows; used reference {summary['reference']}, focal "
         f"{summary['focal']}; excluded for missing {summary['missing_reference']} + "
         f"{summary['missing_focal']}; other groups {summary['other']}; "
         f"{summary['strata']} strata with both groups")
    for r in rows:
        mark = f"  <- DIF shift {DIF[r['item']]:+}" if r["item"] in DIF else ""
        note(f"  {r['item']}: delta {r['delta_mh']:+.3f} se {r['se_delta']:.3f} "
             f"chi2 {r['chi2_mh']:.2f} p {r['p_value']:.2e} class {r['class']} "
             f"favours {r['favours']}{mark}")
    for it, (cls, fav) in DESIGNED_CLASS.items():
        r = next(r for r in rows if r["item"] == it)
        assert (r["class"], r["favours"]) == (cls, fav), (it, r)
    others = [r for r in rows if r["item"] not in DIF]
    assert all(r["class"] == "A" for r in others), [r["item"] for r in others if r["class"] != "A"]
    cross_check(checks, "sample")


# ---------------------------------------------------------------------------------------
# Edge sample: every non-ok status, missing responses, other groups
# ---------------------------------------------------------------------------------------

def edge_sample():
    rng = np.random.default_rng(SEED + 1)
    items = ["e1", "e2", "e3", "e4", "e5", "e6"]
    groups, responses, ids = [], [], []
    for n in range(48):
        g = "ru" if n % 2 == 0 else "kk"
        e1 = int(rng.random() < (0.7 if g == "ru" else 0.45))
        e6 = int(rng.random() < 0.5)
        e2, e3 = 1, 0                                  # constant: all correct / all wrong
        e5 = 1 if g == "kk" else int(rng.random() < 0.6)   # focal all correct -> alpha = 0
        base = e1 + e2 + e3 + e5 + e6
        e4 = int(base >= 3)      # correct exactly in the strata above 3: constant in each
        groups.append(g)
        responses.append([e1, e2, e3, e4, e5, e6])
    groups += ["kk", "ru", "en", ""]
    responses += [[1, 1, None, 0, 1, 0], [None, None, None, None, None, None],
                  [1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0]]
    ids = [f"e{n + 1:03d}" for n in range(len(groups))]
    write_sample("edge_sample.csv", items, ids, groups, responses)
    rows, summary, checks = analyse(items, groups, responses)
    write_results("edge_", rows, summary)
    statuses = {r["item"]: r["status"] for r in rows}
    note(f"edge sample: statuses {statuses}")
    assert statuses == {"e1": "ok", "e2": "constant", "e3": "constant",
                        "e4": "no_information", "e5": "unbounded", "e6": "ok"}, statuses
    cross_check(checks, "edge sample")


if __name__ == "__main__":
    note(f"numpy {np.__version__}, scipy {scipy.__version__}, seed {SEED}, z95 {Z95!r}")
    main_sample()
    edge_sample()
