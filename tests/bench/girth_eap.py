"""girth (PyPI) as a second peer for the EAP benchmark (BENCHMARKS.md): the same bank and
100,000 patterns as qabilet-core/benches/irt_eap.rs, scored by girth.ability_eap with 61
quadrature points on [−6, 6] (girth uses Gauss–Legendre nodes, not an equally spaced grid,
and returns no standard errors).

    pip install girth   # in a virtualenv if you prefer
    python3 tests/bench/girth_eap.py
"""
import time

import girth
import numpy as np

from numpy_eap import bank_and_patterns


def main():
    n = 100_000
    items, x = bank_and_patterns(n)
    data = x.T.astype(int)  # girth wants items × examinees
    options = {"quadrature_bounds": (-6, 6), "quadrature_n": 61}
    girth.ability_eap(data[:, :1000], items[:, 1], items[:, 0], options)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        girth.ability_eap(data, items[:, 1], items[:, 0], options)
        times.append(time.perf_counter() - t0)
    med = sorted(times)[1]
    print(f"girth: {n} examinees in {med * 1000:.1f} ms (median of 3) = {n / med:,.0f} examinees/s")


if __name__ == "__main__":
    main()
