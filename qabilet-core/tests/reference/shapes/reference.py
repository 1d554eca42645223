"""Independent reference values for the known truths of tests/support/shapes.rs.

Re-implements every shape from its definition (not from Rust output) with scipy and writes
shapes_reference.csv: subtest, age (months), raw, F(raw | age) = P(X <= raw | age), and the
midpoint normal score z = Phi^-1((F(raw - 1) + F(raw)) / 2), F(-1) = 0.

Run:  python3 reference.py   (needs numpy and scipy; writes next to this script)

Definitions (t = (a - 60) / 84):
  LMS (Box-Cox, Cole & Green 1992): latent Y > 0 with ((Y/M)^L - 1)/(L S) ~ N(0, 1);
    raw x observed when Y - 1 is in [x - 1/2, x + 1/2); tails piled on 0 and raw_max, so
    F(r) = Phi(z_LMS(r + 1.5)) for r < raw_max and F(raw_max) = 1.
  bb: beta-binomial(n = 40, alpha = p phi, beta = (1 - p) phi), phi = 8,
    logit p linear in t from logit 0.12 to logit 0.88.
  delay / bimodal: mixtures of discretised normals, F_part(r) = Phi((r + 0.5 - median)/sd)
    for r < raw_max, F(raw_max) = 1; a delayed part reads its median curve at a - delay.
"""

import csv
import math
import os

import numpy as np
from scipy.stats import betabinom, norm

AGES = [60.5, 80.25, 101.5, 122.0, 143.5]


def t_of(a):
    return (a - 60.0) / 84.0


def linear(at60, at144):
    return lambda a: at60 + (at144 - at60) * t_of(a)


def logistic(lo, hi, centre, width):
    return lambda a: lo + (hi - lo) * (1.0 / (1.0 + math.exp((centre - a) / width)))


def gompertz(lo, hi, b, c):
    return lambda a: lo + (hi - lo) * math.exp(-b * math.exp(-c * (a - 60.0)))


# ----- kind A: LMS ------------------------------------------------------------------------

LMS = {
    # name: (raw_max, M(a), S(a), L(a))
    "lms20": (20, logistic(0.5, 17.5, 90.0, 14.0), linear(0.55, 0.20), linear(0.3, 0.8)),
    "lms30": (30, gompertz(3.0, 23.0, 2.0, 0.03), linear(0.30, 0.20), linear(2.0, -0.5)),
    "lms45": (45, logistic(4.0, 40.0, 100.0, 20.0), linear(0.35, 0.15), linear(1.0, 0.2)),
    "lms60": (60, logistic(8.0, 65.0, 92.0, 20.0), linear(0.30, 0.07), linear(1.2, 1.8)),
}


def lms_cdf(raw_max, m, s, l, a):
    M, S, L = m(a), s(a), l(a)
    y = np.arange(raw_max) + 1.5
    if L == 0.0:
        z = np.log(y / M) / S
    else:
        z = ((y / M) ** L - 1.0) / (L * S)
    return np.append(norm.cdf(z), 1.0)


# ----- kind B ------------------------------------------------------------------------------


def bb_cdf(a):
    n, phi = 40, 8.0
    lo, hi = math.log(0.12 / 0.88), math.log(0.88 / 0.12)
    p = 1.0 / (1.0 + math.exp(-(lo + (hi - lo) * t_of(a))))
    pmf = betabinom.pmf(np.arange(n + 1), n, p * phi, (1.0 - p) * phi)
    # Sum from the nearer end (1 - F keeps its accuracy in the upper tail), normalised.
    total = pmf.sum()
    out = []
    for r in range(n):
        below, above = pmf[: r + 1].sum(), pmf[r + 1 :].sum()
        out.append(below / total if below <= above else 1.0 - above / total)
    return np.array(out + [1.0])


def mixture_cdf(raw_max, parts, a):
    """parts: (weight(a), median(a), sd(a), delay)."""
    x = np.arange(raw_max) + 0.5
    weights = [w(a) for w, _, _, _ in parts]
    f = sum(w * norm.cdf((x - med(a - d)) / sd(a)) for w, (_, med, sd, d) in zip(weights, parts))
    return np.append(f / sum(weights), 1.0)


GROWTH = logistic(2.0, 32.0, 96.0, 18.0)
const = lambda v: (lambda a: v)  # noqa: E731

DELAY = [
    (const(0.8), GROWTH, linear(2.5, 4.0), 0.0),
    (const(0.2), GROWTH, const(4.5), 24.0),
]
BIMODAL = [
    (linear(0.7, 0.3), linear(11.0, 19.0), linear(3.0, 3.5), 0.0),
    (linear(0.3, 0.7), linear(31.0, 39.0), linear(3.5, 4.0), 0.0),
]

SHAPES = {name: (lambda a, p=params: lms_cdf(*p, a)) for name, params in LMS.items()}
SHAPES["bb"] = bb_cdf
SHAPES["delay"] = lambda a: mixture_cdf(36, DELAY, a)
SHAPES["bimodal"] = lambda a: mixture_cdf(50, BIMODAL, a)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shapes_reference.csv")
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["subtest", "age", "raw", "cdf", "z"])
        for name, cdf in SHAPES.items():
            for a in AGES:
                f = cdf(a)
                below = np.concatenate(([0.0], f[:-1]))
                z = norm.ppf((below + f) / 2.0)
                for r in range(len(f)):
                    w.writerow([name, repr(a), r, repr(float(f[r])), repr(float(z[r]))])


if __name__ == "__main__":
    main()
