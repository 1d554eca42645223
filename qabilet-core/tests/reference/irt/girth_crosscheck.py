#!/usr/bin/env python3
"""Optional peer cross-check of the IRT ability estimates against girth (PyPI `girth`).

Reads banks/*.json, patterns.csv, estimates.csv and eap_dense.csv written by
make_irt_reference.py and writes peer_girth.csv:

  bank,pattern_id,estimator,girth_theta,ours_theta

Estimator labels (girth call -> our value it is compared with):
  eap        girth default EAP (41-point Gauss-Legendre on [-4.5, 4.5], N(0,1) pdf)
             -> our IRT.md EAP (61 equally spaced points on [-6, 6])
  eap_gl121  girth EAP with quadrature_n=121, quadrature_bounds=(-6, 6)
             -> our dense (adaptive quadrature) EAP from eap_dense.csv
  map        girth ability_map / ability_3pl_map (fminbound on [-6, 6], N(0,1) pdf)
             -> our MAP
  mle        girth ability_mle / ability_3pl_mle (MAP with a uniform(-7, 7) pdf, fminbound
             on [-6, 6]; nan for constant patterns) -> our MLE (empty when not_estimable)
girth has no public ability estimator for given GRM/GPCM parameters; for those banks its
internal partial-integral functions (the ones its MML routines use for their EAP abilities)
are called with our parameters.

Run (girth needs its own environment):  python -m pip install girth && python girth_crosscheck.py
"""

import csv
import json
import math
import os

import numpy as np
import girth
from girth import ability_eap, ability_map, ability_mle
from girth import ability_3pl_eap, ability_3pl_map, ability_3pl_mle
from girth.utilities import INVALID_RESPONSE
from girth.utilities.utils import _get_quadrature_points
from girth.unidimensional.polytomous.partial_integrals_poly import (
    _graded_partial_integral, _credit_partial_integral)
from girth.unidimensional.polytomous.ability_estimation_poly import _ability_eap_abstract
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))


def read_csv(name):
    with open(os.path.join(HERE, name)) as f:
        return list(csv.DictReader(f))


def main():
    pats = {}
    for r in read_csv("patterns.csv"):
        resp = [None if x == "" else int(x) for x in r["responses"].split(";")]
        pats.setdefault(r["bank"], []).append((r["pattern_id"], resp))
    ours = {}
    for r in read_csv("estimates.csv"):
        ours[(r["bank"], r["pattern_id"], r["estimator"], r["quad_points"])] = r["theta"]
    dense = {(r["bank"], r["pattern_id"]): r["theta"] for r in read_csv("eap_dense.csv")}

    rows = []
    summary = {}

    def add(bank, pid, est, g, o):
        gs = "" if (g is None or not math.isfinite(g)) else repr(float(g))
        rows.append([bank, pid, est, gs, o])
        if gs and o:
            d = abs(float(gs) - float(o))
            s = summary.setdefault((bank, est), [0.0, None, 0])
            s[2] += 1
            if d > s[0]:
                s[0], s[1] = d, pid
        elif bool(gs) != bool(o):
            summary.setdefault((bank, est + " finite-mismatch"), []).append(
                f"{pid}(girth={gs or 'nan'}, ours={o or 'not_estimable'})")

    for bank in ("rasch10", "twopl20", "threepl15", "gpcm8", "grm8"):
        with open(os.path.join(HERE, "banks", bank + ".json")) as f:
            items = json.load(f)["items"]
        plist = [(pid, resp) for pid, resp in pats[bank] if any(k is not None for k in resp)]
        ids = [p for p, _ in plist]
        n_i, n_p = len(items), len(plist)
        if bank in ("rasch10", "twopl20", "threepl15"):
            a = np.array([it.get("a", 1.0) for it in items])
            b = np.array([it["b"] for it in items])
            data = np.full((n_i, n_p), INVALID_RESPONSE, dtype=float)
            for j, (_, resp) in enumerate(plist):
                for i, k in enumerate(resp):
                    if k is not None:
                        data[i, j] = k
            if bank == "threepl15":
                c = np.array([it["c"] for it in items])
                data_nan = np.where(data == INVALID_RESPONSE, np.nan, data)
                e1 = ability_3pl_eap(data, b, a, c)
                e2 = ability_3pl_eap(data, b, a, c, {"quadrature_n": 121, "quadrature_bounds": (-6, 6)})
                mp_ = ability_3pl_map(data, b, a, c)
                ml = ability_3pl_mle(data_nan, b, a, c)
            else:
                di = data.astype(int)
                e1 = ability_eap(di, b, a)
                e2 = ability_eap(di, b, a, {"quadrature_n": 121, "quadrature_bounds": (-6, 6)})
                mp_ = ability_map(di, b, a)
                ml = ability_mle(di, b, a)
            for j, pid in enumerate(ids):
                add(bank, pid, "eap", e1[j], ours[(bank, pid, "eap", "61")])
                add(bank, pid, "eap_gl121", e2[j], dense[(bank, pid)])
                add(bank, pid, "map", mp_[j], ours[(bank, pid, "map", "")])
                add(bank, pid, "mle", ml[j], ours[(bank, pid, "mle", "")])
        else:
            for est, (qn, lo, hi) in (("eap", (41, -4.5, 4.5)), ("eap_gl121", (121, -6.0, 6.0))):
                theta, weights = _get_quadrature_points(qn, lo, hi)
                pint = np.ones((n_p, qn))
                for i, it in enumerate(items):
                    resp = np.array([0 if r[i] is None else r[i] for _, r in plist])
                    miss = np.array([r[i] is None for _, r in plist])
                    bb = np.array(it["b"], dtype=float)
                    if it["model"] == "grm":
                        betas = np.concatenate([[-10000.0], bb])
                        roll = np.concatenate([bb, [10000.0]])
                        disc = np.full(betas.size, it["a"])
                        pint *= _graded_partial_integral(theta, betas, roll, disc, resp, miss)
                    else:
                        betas = np.concatenate([[0.0], bb])
                        pint *= _credit_partial_integral(theta, betas, it["a"], resp, miss)
                est_v = _ability_eap_abstract(pint, norm(0, 1).pdf(theta) * weights, theta)
                for j, pid in enumerate(ids):
                    o = ours[(bank, pid, "eap", "61")] if est == "eap" else dense[(bank, pid)]
                    add(bank, pid, est, est_v[j], o)

    with open(os.path.join(HERE, "peer_girth.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["bank", "pattern_id", "estimator", "girth_theta", "ours_theta"])
        w.writerows(rows)
    from importlib.metadata import version
    import scipy
    print(f"girth {version('girth')}; numpy {np.__version__}; scipy {scipy.__version__}")
    for k, v in summary.items():
        if isinstance(v, list) and v and isinstance(v[0], str):
            print(k, v)
        else:
            print(f"{k}: max |girth - ours| = {v[0]:.3g} ({v[1]}), n = {v[2]}")
    print(f"peer_girth.csv: {len(rows)} rows")


if __name__ == "__main__":
    main()
