#!/usr/bin/env python3
"""Independent reference values for the Qabilet IRT rules (norms/IRT.md).

Computed in Python (numpy + scipy) from the written rules only, not from the Rust code.
Deterministic: fixed seed, no input files. Writes into this script's folder:

  banks/*.json        item banks in the IRT.md bank format
  probabilities.csv   P_k, P_k', P_k'' per item, category and theta
  information.csv     item and test Fisher information
  patterns.csv        response patterns per bank
  estimates.csv       EAP (three grids), MAP, MLE, WLE per pattern
  eap_dense.csv       EAP / posterior SD by dense adaptive quadrature (comparison only)

Run:  python3 make_irt_reference.py
If mpmath is importable, probabilities/derivatives/information and the grid EAP are also
cross-checked against 40-digit mpmath values (nothing extra written).

Floats are written with repr() (shortest string that round-trips to the same f64).
"""

import csv
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import integrate, optimize
from scipy.special import expit, log_expit, logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
BANKS_DIR = os.path.join(HERE, "banks")
SEED = 20260311
rng = np.random.default_rng(SEED)

THETAS = [-4.0, -2.5, -1.0, -0.3, 0.0, 0.7, 1.5, 3.0, 4.5]
EAP_GRIDS = [(61, -6.0, 6.0), (21, -4.0, 4.0), (121, -6.0, 6.0)]  # first = IRT.md default
BRACKET = 20.0          # roots / maxima searched in [-20, 20]
SCAN_N = 16001          # scan grid on [-20, 20] (step 0.0025) to locate sign changes
OUTER = 400.0           # log L beyond |theta| = 20 is scanned out to here (plus the limit)
FD_TOL = 1e-6
RESID_TOL = 1e-8

LOG = []                # notes printed at the end and summarised in README


def note(msg):
    LOG.append(msg)
    print(msg)


# ---------------------------------------------------------------------------------------
# Items and models
# ---------------------------------------------------------------------------------------

class Item:
    def __init__(self, d):
        self.id = d["id"]
        self.model = d["model"]
        self.a = 1.0 if self.model == "rasch" else float(d["a"])
        self.c = float(d.get("c", 0.0))
        if self.model in ("gpcm", "grm"):
            self.b = [float(x) for x in d["b"]]
            self.m = len(self.b)
        else:
            self.b = float(d["b"])
            self.m = 1
        self.dich = self.model in ("rasch", "2pl", "3pl")

    def logp(self, th):
        """log P_k(theta), shape (m+1, n). Computed in tail-stable form."""
        th = np.atleast_1d(np.asarray(th, dtype=float))
        a = self.a
        if self.dich:
            z = a * (th - self.b)
            if self.c == 0.0:
                l1 = log_expit(z)
            else:
                l1 = np.logaddexp(math.log(self.c), math.log1p(-self.c) + log_expit(z))
            l0 = math.log1p(-self.c) + log_expit(-z)          # P0 = (1-c)(1-psi) = 1 - P1
            return np.vstack([l0, l1])
        if self.model == "gpcm":
            s = np.zeros((self.m + 1, th.size))
            for v in range(1, self.m + 1):
                s[v] = s[v - 1] + a * (th - self.b[v - 1])
            return s - logsumexp(s, axis=0)
        # grm: P_k = P*_k - P*_{k+1}, P*_k = expit(x_k)
        x = [a * (th - bk) for bk in self.b]
        out = np.empty((self.m + 1, th.size))
        out[0] = log_expit(-x[0])
        out[self.m] = log_expit(x[self.m - 1])
        for k in range(1, self.m):
            # expit(x)-expit(y) = expit(x) expit(-y) (1 - e^{-(x-y)}), x - y = a(b_{k+1}-b_k)
            gap = a * (self.b[k] - self.b[k - 1])
            out[k] = log_expit(x[k - 1]) + log_expit(-x[k]) + math.log(-math.expm1(-gap))
        return out

    def derivs(self, th):
        """(P, P', P''), each shape (m+1, n); analytic."""
        th = np.atleast_1d(np.asarray(th, dtype=float))
        a = self.a
        P = np.exp(self.logp(th))
        if self.dich:
            z = a * (th - self.b)
            psi, q = expit(z), expit(-z)
            d1 = (1.0 - self.c) * a * psi * q
            d2 = (1.0 - self.c) * a * a * psi * q * (q - psi)
            return P, np.vstack([-d1, d1]), np.vstack([-d2, d2])
        if self.model == "gpcm":
            k = np.arange(self.m + 1)[:, None]
            # dev_k = k - E[X] computed as sum_j (k - j) P_j (no cancellation at the ends)
            dev = np.einsum("kj,jn->kn", (k - k.T).astype(float), P)
            var = np.sum(P * dev * dev, axis=0)
            d1 = a * P * dev
            d2 = a * a * P * (dev * dev - var)
            return P, d1, d2
        n = th.size
        ps1 = np.zeros((self.m + 2, n))   # P*_k'  (P*_0 = 1, P*_{m+1} = 0 -> 0)
        ps2 = np.zeros((self.m + 2, n))
        for k in range(1, self.m + 1):
            x = a * (th - self.b[k - 1])
            psi, q = expit(x), expit(-x)
            ps1[k] = a * psi * q
            ps2[k] = a * a * psi * q * (q - psi)
        return P, ps1[:-1] - ps1[1:], ps2[:-1] - ps2[1:]

    def info_J(self, th):
        P, d1, d2 = self.derivs(th)
        return np.sum(d1 * d1 / P, axis=0), np.sum(d1 * d2 / P, axis=0)

    def dlogp(self, th, k):
        P, d1, _ = self.derivs(th)
        return d1[k] / P[k]

    def limit_logp(self, k, side):
        """lim log P_k(theta) for theta -> side*inf (side = -1 or +1)."""
        if self.dich:
            if side < 0:
                return math.log1p(-self.c) if k == 0 else (math.log(self.c) if self.c > 0 else -math.inf)
            return -math.inf if k == 0 else 0.0
        if side < 0:
            return 0.0 if k == 0 else -math.inf
        return 0.0 if k == self.m else -math.inf

    def to_json(self):
        d = {"id": self.id, "model": self.model}
        if self.model != "rasch":
            d["a"] = self.a
        d["b"] = self.b
        if self.model == "3pl":
            d["c"] = self.c
        return d


# ---------------------------------------------------------------------------------------
# Banks
# ---------------------------------------------------------------------------------------

def r3(x):
    return float(round(float(x), 3))


def u(lo, hi):
    return r3(rng.uniform(lo, hi))


def make_steps(n, ordered, min_gap=0.35):
    while True:
        b = sorted(r3(x) for x in rng.uniform(-2.0, 2.0, size=n))
        if all(b[i + 1] - b[i] >= min_gap for i in range(n - 1)):
            break
    if not ordered:
        # swap an adjacent pair -> reversed (unordered) steps
        i = int(rng.integers(0, n - 1))
        b[i], b[i + 1] = b[i + 1], b[i]
    return b


def gen_banks():
    banks = {}
    banks["rasch10"] = [{"id": f"r{i+1}", "model": "rasch", "b": r3(x)}
                        for i, x in enumerate(np.linspace(-2.5, 2.5, 10) + rng.uniform(-0.2, 0.2, 10))]
    banks["twopl20"] = [{"id": f"t{i+1}", "model": "2pl", "a": u(0.5, 2.5), "b": u(-2.5, 2.5)}
                        for i in range(20)]
    banks["threepl15"] = [{"id": f"g{i+1}", "model": "3pl", "a": u(0.5, 2.5), "b": u(-2.5, 2.5),
                           "c": u(0.1, 0.3)} for i in range(15)]
    gp = []
    nsteps = [2, 3, 4, 2, 3, 4, 3, 2]
    unordered = {1, 2, 5, 7}
    for i, n in enumerate(nsteps):
        gp.append({"id": f"pc{i+1}", "model": "gpcm", "a": u(0.5, 2.0),
                   "b": make_steps(n, ordered=i not in unordered)})
    banks["gpcm8"] = gp
    gr = []
    for i, n in enumerate([2, 3, 4, 3, 2, 4, 3, 4]):
        gr.append({"id": f"gr{i+1}", "model": "grm", "a": u(0.5, 2.5),
                   "b": make_steps(n, ordered=True, min_gap=0.3)})
    banks["grm8"] = gr
    mx = [
        {"id": "m1", "model": "rasch", "b": u(-1.5, 0)},
        {"id": "m2", "model": "2pl", "a": u(0.5, 2.5), "b": u(-2.5, 2.5)},
        {"id": "m3", "model": "3pl", "a": u(0.5, 2.5), "b": u(-1.0, 2.0), "c": u(0.1, 0.3)},
        {"id": "m4", "model": "gpcm", "a": u(0.5, 2.0), "b": make_steps(3, ordered=False)},
        {"id": "m5", "model": "grm", "a": u(0.5, 2.5), "b": make_steps(2, ordered=True)},
        {"id": "m6", "model": "2pl", "a": u(0.5, 2.5), "b": u(-2.5, 2.5)},
        {"id": "m7", "model": "rasch", "b": u(0, 1.5)},
        {"id": "m8", "model": "3pl", "a": u(0.5, 2.5), "b": u(-2.5, 0.5), "c": u(0.1, 0.3)},
        {"id": "m9", "model": "gpcm", "a": u(0.5, 2.0), "b": make_steps(2, ordered=True)},
        {"id": "m10", "model": "grm", "a": u(0.5, 2.5), "b": make_steps(4, ordered=True)},
        {"id": "m11", "model": "2pl", "a": u(0.5, 2.5), "b": u(-2.5, 2.5)},
        {"id": "m12", "model": "3pl", "a": u(0.5, 2.5), "b": u(-2.5, 2.5), "c": u(0.1, 0.3)},
    ]
    banks["mixed12"] = mx
    return banks


def check_bank(name, items):
    ids = [it.id for it in items]
    assert len(set(ids)) == len(ids) and all(ids)
    for it in items:
        assert it.a > 0 and math.isfinite(it.a)
        if it.model == "3pl":
            assert 0 <= it.c < 1
        if it.model == "grm":
            assert all(it.b[i] < it.b[i + 1] for i in range(it.m - 1))
        if it.model == "gpcm":
            assert it.m >= 1
    if name == "twopl20":
        assert all(0.5 <= it.a <= 2.5 and -2.5 <= it.b <= 2.5 for it in items)
    if name == "threepl15":
        assert all(0.1 <= it.c <= 0.3 for it in items)
    if name == "gpcm8":
        assert all(2 <= it.m <= 4 for it in items)
        assert sum(any(it.b[i] > it.b[i + 1] for i in range(it.m - 1)) for it in items) >= 2
    if name == "grm8":
        assert all(2 <= it.m <= 4 for it in items)


# ---------------------------------------------------------------------------------------
# Pattern-level functions (missing items are left out of every sum)
# ---------------------------------------------------------------------------------------

class Pattern:
    def __init__(self, items, resp):
        self.items = items
        self.resp = resp
        self.adm = [(it, k) for it, k in zip(items, resp) if k is not None]

    def loglik(self, th):
        th = np.atleast_1d(np.asarray(th, dtype=float))
        out = np.zeros(th.size)
        for it, k in self.adm:
            out += it.logp(th)[k]
        return out

    def score(self, th):
        th = np.atleast_1d(np.asarray(th, dtype=float))
        out = np.zeros(th.size)
        for it, k in self.adm:
            out += it.dlogp(th, k)
        return out

    def info_J(self, th):
        th = np.atleast_1d(np.asarray(th, dtype=float))
        I = np.zeros(th.size)
        J = np.zeros(th.size)
        for it, _ in self.adm:
            i, j = it.info_J(th)
            I += i
            J += j
        return I, J

    def wle_fn(self, th):
        I, J = self.info_J(th)
        return self.score(th) + J / (2.0 * I)

    def map_fn(self, th):
        th = np.atleast_1d(np.asarray(th, dtype=float))
        return self.score(th) - th

    def all_min(self):
        return all(k == 0 for _, k in self.adm)

    def all_max(self):
        return all(k == it.m for it, k in self.adm)

    def limit_ll(self, side):
        return sum(it.limit_logp(k, side) for it, k in self.adm)


def scalar(f):
    return lambda t: float(f(np.array([t]))[0])


def down_roots(fn, lo=-BRACKET, hi=BRACKET, n=SCAN_N):
    """Roots of fn in [lo, hi] where fn goes from + to - (maxima of the objective);
    also returns the up-crossings (minima). brentq after checking the sign change."""
    g = np.linspace(lo, hi, n)
    f = fn(g)
    assert np.all(np.isfinite(f)), "non-finite estimating function on the scan grid"
    fs = scalar(fn)
    downs, ups = [], []
    for i in range(n - 1):
        f0, f1 = f[i], f[i + 1]
        if f0 > 0 and f1 <= 0:
            if f1 == 0:
                r = g[i + 1]
            else:
                r = optimize.brentq(fs, g[i], g[i + 1], xtol=1e-15, rtol=4 * np.finfo(float).eps,
                                    maxiter=500)
            downs.append(r)
        elif f0 < 0 and f1 >= 0:
            ups.append(g[i + 1] if f1 == 0 else optimize.brentq(
                fs, g[i], g[i + 1], xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))
    return downs, ups, f[0], f[-1]


# ---------------------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------------------

def grid_points(Q, lo, hi):
    # theta_q = lo + q (hi - lo) / (Q - 1), q = 0 .. Q-1
    return np.array([lo + q * (hi - lo) / (Q - 1) for q in range(Q)])


def eap_grid(pat, Q, lo, hi):
    th = grid_points(Q, lo, hi)
    ll = pat.loglik(th)                       # sum of per-item log P on the grid
    L = np.exp(ll - ll.max())                 # exponentiated after subtracting the max
    w = np.exp(-0.5 * th * th)                # phi(theta_q) without 1/sqrt(2 pi)
    wl = w * L
    den = wl.sum()
    t = (th * wl).sum() / den
    se = math.sqrt(((th - t) ** 2 * wl).sum() / den)
    return float(t), se


def eap_dense(pat):
    """Posterior mean / SD under the N(0,1) prior by adaptive quadrature over the real line
    (scipy.integrate.quad_vec on (-inf, inf), split at the posterior mode), and, as an
    independent check, a 2001-point trapezoid grid on [-10, 10]."""
    g = np.linspace(-12, 12, 24001)
    lp = pat.loglik(g) - 0.5 * g * g
    mx, at = float(lp.max()), float(g[np.argmax(lp)])
    ll1 = scalar(pat.loglik)

    def vec(t):
        d = math.exp(ll1(t) - 0.5 * t * t - mx)
        u_ = t - at
        return np.array([d, u_ * d, u_ * u_ * d])

    opts = dict(epsabs=0.0, epsrel=1e-13, limit=2000)
    tot = np.zeros(3)
    for a_, b_ in [(-np.inf, at - 6), (at - 6, at), (at, at + 6), (at + 6, np.inf)]:
        tot += integrate.quad_vec(vec, a_, b_, **opts)[0]
    mu = tot[1] / tot[0]
    m1 = at + mu
    var = tot[2] / tot[0] - mu * mu
    gg = np.linspace(-10, 10, 2001)
    d = np.exp(pat.loglik(gg) - 0.5 * gg * gg - mx)
    zz = np.trapezoid(d, gg)
    mm1 = np.trapezoid(gg * d, gg) / zz
    mm2 = np.trapezoid((gg - mm1) ** 2 * d, gg) / zz
    return m1, math.sqrt(var), abs(m1 - mm1), abs(math.sqrt(var) - math.sqrt(mm2))


STATS = {"resid": {"map": (0.0, None), "mle": (0.0, None), "wle": (0.0, None)},
         "multimodal": [], "close_calls": []}


def record_resid(est, val, key):
    if abs(val) > STATS["resid"][est][0]:
        STATS["resid"][est] = (abs(val), key)
    assert abs(val) < RESID_TOL, (est, key, val)


def stationary(downs, ups, obj, chosen):
    pts = sorted([(float(r), "max") for r in downs] + [(float(r), "min") for r in ups])
    return [(t, kind, obj(t), t == chosen) for t, kind in pts]


def est_map(pat, key):
    downs, ups, _, fhi = down_roots(pat.map_fn)
    assert downs, ("MAP: no root in [-20, 20]", key)
    obj = scalar(lambda t: pat.loglik(t) - 0.5 * t * t)
    vals = [obj(r) for r in downs]
    th = downs[int(np.argmax(vals))]
    if len(downs) > 1:
        STATS["multimodal"].append((key, "map", stationary(downs, ups, obj, th)))
    record_resid("map", scalar(pat.map_fn)(th), key)
    I, _ = pat.info_J(th)
    return th, 1.0 / math.sqrt(float(I[0]) + 1.0)


def est_mle(pat, key, info=None):
    if pat.all_min() or pat.all_max():
        return None, "all-min/all-max"
    downs, ups, flo, fhi = down_roots(pat.score)
    lls = scalar(pat.loglik)
    # supremum of log L outside the interior: limits at +-inf and a scan of |theta| in [20, OUTER]
    out_lo = max(pat.limit_ll(-1), float(pat.loglik(np.linspace(-OUTER, -BRACKET, 4001)).max()))
    out_hi = max(pat.limit_ll(+1), float(pat.loglik(np.linspace(BRACKET, OUTER, 4001)).max()))
    outer = max(out_lo, out_hi)
    if not downs:
        return None, f"no interior maximum (score at -20: {flo:.3g}, at +20: {fhi:.3g})"
    vals = [lls(r) for r in downs]
    best = int(np.argmax(vals))
    th, v = downs[best], vals[best]
    if len(downs) > 1:
        STATS["multimodal"].append((key, "mle", stationary(downs, ups, lls, th)))
    if info is not None:
        info.update(interior=v, limit_lo=pat.limit_ll(-1), limit_hi=pat.limit_ll(+1), outer=outer,
                    score_lo=flo, score_hi=fhi)
    if abs(v - outer) < 1e-6:
        STATS["close_calls"].append((key, v, outer))
    if v <= outer:
        return None, f"interior max logL {v!r} <= sup outside [-20,20] {outer!r}"
    record_resid("mle", scalar(pat.score)(th), key)
    I, _ = pat.info_J(th)
    return (th, 1.0 / math.sqrt(float(I[0]))), "ok"


def est_wle(pat, key):
    downs, ups, flo, fhi = down_roots(pat.wle_fn)
    if not downs:
        return None, f"no root (f(-20)={flo:.3g}, f(20)={fhi:.3g}, up-crossings {len(ups)})"
    if len(downs) > 1:
        # several roots: take the one maximising the antiderivative of the estimating function
        fs = scalar(pat.wle_fn)
        t0 = float(downs[0])

        def anti(t):
            return integrate.quad(fs, t0, t, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
        vals = [anti(r) for r in downs]
        th = downs[int(np.argmax(vals))]
        STATS["multimodal"].append((key, "wle", stationary(downs, ups, anti, th)))
    else:
        th = downs[0]
    if ups and len(downs) <= 1:
        STATS["multimodal"].append((key, "wle", [(float(x), "min", "", False) for x in ups]))
    record_resid("wle", scalar(pat.wle_fn)(th), key)
    I, _ = pat.info_J(th)
    return (th, 1.0 / math.sqrt(float(I[0]))), "ok"


# ---------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------

def draw(items, theta):
    out = []
    for it in items:
        P = np.exp(it.logp(theta)[:, 0])
        out.append(int(rng.choice(it.m + 1, p=P / P.sum())))
    return out


def gen_patterns(name, items):
    pats = []
    n = len(items)
    for j in range(25):
        theta = float(rng.normal(0, 1)) if j < 15 else float(rng.uniform(-3, 3))
        resp = draw(items, theta)
        if j % 3 == 0:   # 9 of 25 with 20-40 % missing
            rate = rng.uniform(0.2, 0.4)
            nmiss = max(1, int(round(rate * n)))
            for i in rng.choice(n, size=nmiss, replace=False):
                resp[int(i)] = None
        pats.append((f"r{j+1:02d}", resp))
    pats.append(("all_min", [0] * n))
    pats.append(("all_max", [it.m for it in items]))
    single = [None] * n
    poly = [i for i, it in enumerate(items) if it.model == "grm"] + \
        [i for i, it in enumerate(items) if it.model == "gpcm" and it.b == sorted(it.b)]
    if poly:
        single[poly[0]] = 1                  # middle category: interior MLE
    else:
        single[n // 2] = 0
    pats.append(("single", single))
    unord = [i for i, it in enumerate(items) if it.model == "gpcm" and it.b != sorted(it.b)]
    if unord:
        # a single GPCM item with unordered steps, middle category: the WLE estimating
        # function has three roots (two down-crossings) -- see README
        wm = [None] * n
        wm[unord[0]] = 1
        if Pattern(items, wm).adm and len(down_roots(Pattern(items, wm).wle_fn)[0]) > 1:
            pats.append(("wle_multiroot", wm))
    one_max = [None] * n
    one_max[-1] = items[-1].m
    pats.append(("one_max", one_max))
    pats.append(("none", [None] * n))
    # patterns with a partly-missing extreme
    pm = [0] * n
    for i in range(0, n, 3):
        pm[i] = None
    pats.append(("min_missing", pm))
    if name in ("threepl15", "mixed12"):
        order = sorted(range(n), key=lambda i: items[i].b if items[i].dich else np.mean(items[i].b))
        three = [i for i in order if items[i].model == "3pl"]
        # likelihood peaking at -inf: wrong on every item except the two hardest 3PL items
        neg = [0] * n
        for i in three[-2:]:
            neg[i] = 1
        pats.append(("neg_inf", neg))
        # interior maximum: right on the easier half, wrong on the harder half
        inter = [None] * n
        for r, i in enumerate(order):
            inter[i] = items[i].m if r < n // 2 else 0
        pats.append(("interior", inter))
        # guessing-style pattern: wrong on the easy items, right on the hard ones
        inv = [None] * n
        for r, i in enumerate(order):
            inv[i] = 0 if r < n // 2 else items[i].m
        pats.append(("reversed", inv))
    if name == "threepl15":
        pats.extend(search_3pl_cases(items))
    return pats


def search_3pl_cases(items):
    """Deterministic search (own seed) for three 3PL likelihood shapes:
    mle_local_below_limit: an interior local maximum whose log L is below the limit at -inf
                           (MLE not_estimable),
    mle_rising_at_lo:      log L still rising towards -inf at theta = -20, but the interior
                           maximum is above that limit (MLE ok),
    mle_bimodal:           two interior local maxima, both above the limit (MLE = the higher)."""
    r = np.random.default_rng(SEED + 1)
    n = len(items)
    found = {}
    for _ in range(50000):
        th = r.uniform(-4, 1)
        resp = [int(r.random() < float(np.exp(it.logp(th)[1, 0]))) for it in items]
        if r.random() < 0.5:
            for i in r.choice(n, size=int(r.integers(0, 8)), replace=False):
                resp[int(i)] = None
        pat = Pattern(items, resp)
        if not pat.adm or pat.all_min() or pat.all_max():
            continue
        downs, _, flo, _ = down_roots(pat.score, n=4001)
        if not downs:
            continue
        lim = pat.limit_ll(-1)
        vals = sorted(float(pat.loglik(x)[0]) for x in downs)
        v = vals[-1]
        if v < lim - 0.01 and "mle_local_below_limit" not in found:
            found["mle_local_below_limit"] = resp
        if v > lim + 0.01 and flo < 0 and len(downs) == 1 and "mle_rising_at_lo" not in found:
            found["mle_rising_at_lo"] = resp
        if len(downs) > 1 and vals[0] > lim + 0.01 and vals[1] - vals[0] > 0.01 \
                and "mle_bimodal" not in found:
            found["mle_bimodal"] = resp
        if len(found) == 3:
            break
    assert len(found) == 3, found.keys()
    return [(k, found[k]) for k in ("mle_local_below_limit", "mle_rising_at_lo", "mle_bimodal")]


def fmt_resp(resp):
    return ";".join("" if k is None else str(k) for k in resp)


def fr(x):
    return repr(float(x))


# ---------------------------------------------------------------------------------------
# mpmath cross-check (optional)
# ---------------------------------------------------------------------------------------

def mp_item_probs(it, th, mp):
    """P_k as mpmath functions of theta, from the formulas in IRT.md literally."""
    a = mp.mpf(it.a)

    def P(t, k):
        t = mp.mpf(t)
        if it.dich:
            p1 = mp.mpf(it.c) + (1 - mp.mpf(it.c)) / (1 + mp.exp(-a * (t - mp.mpf(it.b))))
            return p1 if k == 1 else 1 - p1
        if it.model == "gpcm":
            s = [mp.mpf(0)]
            for bv in it.b:
                s.append(s[-1] + a * (t - mp.mpf(bv)))
            e = [mp.exp(x) for x in s]
            return e[k] / mp.fsum(e)
        ps = [mp.mpf(1)] + [1 / (1 + mp.exp(-a * (t - mp.mpf(bk)))) for bk in it.b] + [mp.mpf(0)]
        return ps[k] - ps[k + 1]
    return P


# ---------------------------------------------------------------------------------------

def write_csv(fname, header, rows):
    with open(os.path.join(HERE, fname), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return len(rows)


def main():
    os.makedirs(BANKS_DIR, exist_ok=True)
    raw = gen_banks()
    banks = {}
    for name, lst in raw.items():
        with open(os.path.join(BANKS_DIR, name + ".json"), "w") as f:
            f.write('{"items": [\n')
            f.write(",\n".join("  " + json.dumps(Item(d).to_json()) for d in lst))
            f.write("\n]}\n")
        # re-read the file: the values used are exactly those a parser of the file sees
        with open(os.path.join(BANKS_DIR, name + ".json")) as f:
            items = [Item(d) for d in json.load(f)["items"]]
        check_bank(name, items)
        banks[name] = items

    counts = {}

    # ---- probabilities + information ----------------------------------------------------
    prob_rows, info_rows = [], []
    th = np.array(THETAS)
    worst_fd = [0.0, 0.0]
    for name, items in banks.items():
        tot = np.zeros(th.size)
        for it in items:
            P, d1, d2 = it.derivs(th)
            assert np.allclose(P.sum(axis=0), 1.0, atol=1e-14, rtol=0)
            # central finite differences
            # 5-point central stencils, h = 1e-3 (truncation O(h^4), rounding ~1e-10)
            h = 1e-3
            Pm2, Pm1 = it.derivs(th - 2 * h)[0], it.derivs(th - h)[0]
            Pp1, Pp2 = it.derivs(th + h)[0], it.derivs(th + 2 * h)[0]
            fd1 = (Pm2 - 8 * Pm1 + 8 * Pp1 - Pp2) / (12 * h)
            fd2 = (-Pm2 + 16 * Pm1 - 30 * P + 16 * Pp1 - Pp2) / (12 * h * h)
            e1, e2 = np.abs(fd1 - d1).max(), np.abs(fd2 - d2).max()
            worst_fd[0], worst_fd[1] = max(worst_fd[0], e1), max(worst_fd[1], e2)
            assert e1 < FD_TOL and e2 < FD_TOL, (name, it.id, e1, e2)
            info = np.sum(d1 * d1 / P, axis=0)
            tot += info
            for j, t in enumerate(THETAS):
                for k in range(it.m + 1):
                    prob_rows.append([name, it.id, fr(t), k, fr(P[k, j]), fr(d1[k, j]), fr(d2[k, j])])
                info_rows.append([name, it.id, fr(t), fr(info[j])])
        for j, t in enumerate(THETAS):
            info_rows.append([name, "*", fr(t), fr(tot[j])])
    note(f"finite-difference check: worst |P' - FD| = {worst_fd[0]:.3g}, "
         f"worst |P'' - FD| = {worst_fd[1]:.3g} (tolerance {FD_TOL})")
    counts["probabilities.csv"] = write_csv("probabilities.csv",
                                            ["bank", "item", "theta", "category", "p", "dp", "d2p"],
                                            prob_rows)
    counts["information.csv"] = write_csv("information.csv", ["bank", "item", "theta", "info"],
                                          info_rows)

    # ---- patterns ------------------------------------------------------------------------
    all_pats = {}
    pat_rows = []
    for name, items in banks.items():
        all_pats[name] = gen_patterns(name, items)
        for pid, resp in all_pats[name]:
            pat_rows.append([name, pid, fmt_resp(resp)])
    counts["patterns.csv"] = write_csv("patterns.csv", ["bank", "pattern_id", "responses"], pat_rows)

    # ---- estimates -------------------------------------------------------------------------
    est_rows, dense_rows = [], []
    results = {}
    max_dense = {g: (0.0, 0.0, None) for g in EAP_GRIDS}
    max_dense_check = 0.0
    mle_reasons = {}
    for name, items in banks.items():
        for pid, resp in all_pats[name]:
            key = f"{name}/{pid}"
            pat = Pattern(items, resp)
            r = results[key] = {}
            if not pat.adm:
                for Q, lo, hi in EAP_GRIDS:
                    est_rows.append([name, pid, "eap", Q, fr(lo), fr(hi), "", "", "no_responses"])
                for e in ("map", "mle", "wle"):
                    est_rows.append([name, pid, e, "", "", "", "", "", "no_responses"])
                continue
            dt, ds, c1, c2 = eap_dense(pat)
            max_dense_check = max(max_dense_check, c1, c2)
            dense_rows.append([name, pid, fr(dt), fr(ds)])
            for Q, lo, hi in EAP_GRIDS:
                t, s = eap_grid(pat, Q, lo, hi)
                r[("eap", Q, lo, hi)] = (t, s)
                est_rows.append([name, pid, "eap", Q, fr(lo), fr(hi), fr(t), fr(s), "ok"])
                m = max_dense[(Q, lo, hi)]
                max_dense[(Q, lo, hi)] = (max(m[0], abs(t - dt)), max(m[1], abs(s - ds)),
                                          key if abs(t - dt) > m[0] else m[2])
            r["dense"] = (dt, ds)
            t, s = est_map(pat, key)
            r["map"] = (t, s)
            est_rows.append([name, pid, "map", "", "", "", fr(t), fr(s), "ok"])
            info = {}
            res, why = est_mle(pat, key, info)
            mle_reasons[key] = (why, info)
            r["mle"] = res
            if res is None:
                est_rows.append([name, pid, "mle", "", "", "", "", "", "not_estimable"])
            else:
                est_rows.append([name, pid, "mle", "", "", "", fr(res[0]), fr(res[1]), "ok"])
            res, why = est_wle(pat, key)
            r["wle"] = res
            if res is None:
                note(f"WLE not estimable: {key}: {why}")
                est_rows.append([name, pid, "wle", "", "", "", "", "", "not_estimable"])
            else:
                est_rows.append([name, pid, "wle", "", "", "", fr(res[0]), fr(res[1]), "ok"])
    counts["estimates.csv"] = write_csv(
        "estimates.csv",
        ["bank", "pattern_id", "estimator", "quad_points", "theta_lo", "theta_hi", "theta", "se", "status"],
        est_rows)
    counts["eap_dense.csv"] = write_csv("eap_dense.csv", ["bank", "pattern_id", "theta", "se"], dense_rows)

    # ---- reports and sanity checks ---------------------------------------------------------
    for e, (v, k) in STATS["resid"].items():
        note(f"worst estimating-equation residual {e}: {v:.3g} ({k})")
    note(f"dense EAP: adaptive quad vs 2001-point trapezoid on [-10,10]: max diff {max_dense_check:.3g}")
    for g, (dt, ds, k) in max_dense.items():
        note(f"grid EAP Q={g[0]} on [{g[1]},{g[2]}] vs dense: max |theta diff| {dt:.3g} ({k}), "
             f"max |SE diff| {ds:.3g}")
    mr = []
    for k, e, pts in STATS["multimodal"]:
        note(f"multiple stationary points: {k} {e}: {pts}")
        b, p = k.split("/")
        for t, kind, ob, ch in pts:
            mr.append([b, p, e, kind, fr(t), "" if ob == "" else fr(ob), "yes" if ch else "no"])
    counts["multiple_roots.csv"] = write_csv(
        "multiple_roots.csv", ["bank", "pattern_id", "estimator", "kind", "theta", "objective", "chosen"], mr)
    for k, v, o in STATS["close_calls"]:
        note(f"MLE close call (interior max vs outer sup within 1e-6): {k}: {v!r} vs {o!r}")

    # MLE not_estimable list
    for key, (why, info) in mle_reasons.items():
        if why != "ok":
            note(f"MLE not_estimable {key}: {why}")
    # specific checks
    for name in banks:
        assert results[f"{name}/all_max"]["mle"] is None
        assert results[f"{name}/all_min"]["mle"] is None
        assert results[f"{name}/one_max"]["mle"] is None
    for name in ("rasch10", "twopl20", "gpcm8", "grm8", "mixed12"):
        for pid in ("all_min", "all_max", "one_max", "min_missing"):
            assert results[f"{name}/{pid}"]["wle"] is not None, (name, pid)
    for name in ("threepl15", "mixed12"):
        why, info = mle_reasons[f"{name}/neg_inf"]
        assert results[f"{name}/neg_inf"]["mle"] is None, (name, why)
        note(f"{name}/neg_inf: {why}; limit log L at -inf = {Pattern(banks[name], dict(all_pats[name])['neg_inf']).limit_ll(-1)!r}")
        why, info = mle_reasons[f"{name}/interior"]
        assert results[f"{name}/interior"]["mle"] is not None
        note(f"{name}/interior: interior max log L {info['interior']!r} > limit at -inf {info['limit_lo']!r}")
    assert results["threepl15/mle_local_below_limit"]["mle"] is None
    assert results["threepl15/mle_rising_at_lo"]["mle"] is not None
    assert results["threepl15/mle_bimodal"]["mle"] is not None
    for k in ("mle_local_below_limit", "mle_rising_at_lo", "mle_bimodal"):
        why, info = mle_reasons["threepl15/" + k]
        note(f"threepl15/{k}: MLE {why}; {info}")
    # shrinkage and SE ~ 1/sqrt(I)
    shrink_bad, n_cmp = [], 0
    se_ratio = []
    for key, r in results.items():
        if r.get("mle") is not None and ("eap", 61, -6.0, 6.0) in r:
            n_cmp += 1
            te = r[("eap", 61, -6.0, 6.0)][0]
            tm = r["mle"][0]
            if not (abs(te) <= abs(tm) + 1e-12):
                shrink_bad.append((key, te, tm))
            if r["map"] is not None and not (abs(r["map"][0]) <= abs(tm) + 1e-12):
                shrink_bad.append((key + " (map)", r["map"][0], tm))
            se_ratio.append(r[("eap", 61, -6.0, 6.0)][1] * 1.0 / r["mle"][1])
    note(f"shrinkage: {n_cmp} patterns with finite MLE; |EAP| or |MAP| > |MLE| in {len(shrink_bad)}: {shrink_bad}")
    if se_ratio:
        note(f"EAP posterior SD / MLE SE: min {min(se_ratio):.3f}, median {float(np.median(se_ratio)):.3f}, max {max(se_ratio):.3f}")
    rat = {nm: [] for nm in banks}
    for key, r in results.items():
        if "map" in r:
            rat[key.split("/")[0]].append(r[("eap", 61, -6.0, 6.0)][1] / r["map"][1])
    for nm, v in rat.items():
        note(f"{nm}: EAP posterior SD / MAP SE 1/sqrt(I+1): min {min(v):.3f}, median "
             f"{float(np.median(v)):.3f}, max {max(v):.3f}")

    # ---- optional mpmath cross-check -------------------------------------------------------
    try:
        import mpmath as mp
    except ImportError:
        mp = None
    if mp is not None:
        mp.mp.dps = 40
        worst = {"p_abs": 0.0, "p_rel": 0.0, "dp_abs": 0.0, "dp_rel": 0.0, "d2p_abs": 0.0,
                 "d2p_rel": 0.0, "info": 0.0}
        for name, items in banks.items():
            for it in items:
                P, d1, d2 = it.derivs(th)
                f = mp_item_probs(it, th, mp)
                for j, t in enumerate(THETAS):
                    inf = mp.mpf(0)
                    for k in range(it.m + 1):
                        p0 = f(t, k)
                        p1 = mp.diff(lambda x: f(x, k), mp.mpf(t), 1)
                        p2 = mp.diff(lambda x: f(x, k), mp.mpf(t), 2)
                        inf += p1 * p1 / p0
                        for nm, ours, ref in (("p", P[k, j], p0), ("dp", d1[k, j], p1), ("d2p", d2[k, j], p2)):
                            err = abs(mp.mpf(ours) - ref)
                            worst[nm + "_abs"] = max(worst[nm + "_abs"], float(err))
                            if abs(ref) > 1e-8:
                                worst[nm + "_rel"] = max(worst[nm + "_rel"], float(err / abs(ref)))
                    ours_i = float(np.sum(d1[:, j] ** 2 / P[:, j]))
                    worst["info"] = max(worst["info"], float(abs(mp.mpf(ours_i) - inf) / inf))
        note("mpmath (40 digits) error of probabilities.csv/information.csv (rel: where |ref| > 1e-8; info: rel): "
             + ", ".join(f"{k} {v:.3g}" for k, v in worst.items()))
        # grid EAP in 40 digits on the 61-point default grid
        we = [0.0, 0.0]
        for name, items in banks.items():
            for pid, resp in all_pats[name]:
                key = f"{name}/{pid}"
                pat = Pattern(items, resp)
                if not pat.adm:
                    continue
                for Q, lo, hi in EAP_GRIDS:
                    num = den = mp.mpf(0)
                    pts = [mp.mpf(lo) + q * (mp.mpf(hi) - mp.mpf(lo)) / (Q - 1) for q in range(Q)]
                    fs = [(it_, mp_item_probs(it_, None, mp), k) for it_, k in pat.adm]
                    wl = []
                    for t in pts:
                        L = mp.mpf(1)
                        for it_, f, k in fs:
                            L *= f(t, k)
                        wl.append(mp.exp(-t * t / 2) * L)
                    den = mp.fsum(wl)
                    m1 = mp.fsum(t * x for t, x in zip(pts, wl)) / den
                    sd = mp.sqrt(mp.fsum((t - m1) ** 2 * x for t, x in zip(pts, wl)) / den)
                    t64, s64 = results[key][("eap", Q, lo, hi)]
                    we[0] = max(we[0], float(abs(mp.mpf(t64) - m1)))
                    we[1] = max(we[1], float(abs(mp.mpf(s64) - sd)))
        note(f"mpmath (40 digits) grid EAP, all three grids: max |theta err| {we[0]:.3g}, max |SE err| {we[1]:.3g}")

    for f, n in counts.items():
        note(f"{f}: {n} rows")
    note(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, seed {SEED}")


if __name__ == "__main__":
    main()
