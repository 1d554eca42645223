"""NumPy peer for the EAP benchmark (BENCHMARKS.md): the same 40 2PL items and 100,000
complete patterns as qabilet-core/benches/irt_eap.rs (same xorshift sequence), scored by a
well-vectorised EAP on the same 61-point grid: the log-likelihood of every examinee at every
node is one BLAS matrix product, then exponentiation and two weighted sums.

    python3 tests/bench/numpy_eap.py [--check]

--check also compares the estimates with `qabilet irt score` output given as a CSV path.
Prints the median of 5 timed runs (after one warm-up) and examinees per second.
"""
import sys
import time

import numpy as np

MASK = (1 << 64) - 1


def xorshift_uniforms():
    state = 0x9E3779B97F4A7C15
    while True:
        state ^= (state << 13) & MASK
        state ^= state >> 7
        state ^= (state << 17) & MASK
        yield (state >> 11) / float(1 << 53)


def bank_and_patterns(n):
    u = xorshift_uniforms()
    items = [(0.5 + 2.0 * next(u), -2.5 + 5.0 * next(u)) for _ in range(40)]
    x = np.empty((n, 40), dtype=np.float64)
    for e in range(n):
        theta = 6.0 * next(u) - 3.0
        for i, (a, b) in enumerate(items):
            x[e, i] = 1.0 if next(u) < 1.0 / (1.0 + np.exp(-a * (theta - b))) else 0.0
    return np.array(items), x


def eap(items, x, nodes):
    a, b = items[:, 0], items[:, 1]
    z = a[:, None] * (nodes[None, :] - b[:, None])          # items × nodes
    log_p1 = -np.logaddexp(0.0, -z)
    log_p0 = -np.logaddexp(0.0, z)
    # log L = X·log P1 + (1 − X)·log P0 = X·(log P1 − log P0) + Σ log P0
    ll = x @ (log_p1 - log_p0) + log_p0.sum(axis=0)          # examinees × nodes (BLAS)
    ll += -0.5 * nodes**2
    ll -= ll.max(axis=1, keepdims=True)
    w = np.exp(ll)
    total = w.sum(axis=1)
    mean = (w @ nodes) / total
    var = (w @ nodes**2) / total - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def main():
    n = 100_000
    items, x = bank_and_patterns(n)
    nodes = np.linspace(-6.0, 6.0, 61)
    eap(items, x, nodes)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        theta, se = eap(items, x, nodes)
        times.append(time.perf_counter() - t0)
    med = sorted(times)[2]
    print(f"numpy {np.__version__}: {n} examinees in {med * 1000:.1f} ms (median of 5) = {n / med:,.0f} examinees/s")
    if len(sys.argv) > 2 and sys.argv[1] == "--check":
        import csv
        rows = list(csv.DictReader(open(sys.argv[2])))
        ours = np.array([float(r["theta"]) for r in rows])
        print(f"max |θ numpy − θ qabilet| = {np.max(np.abs(ours - theta[: len(ours)])):.2e}")


if __name__ == "__main__":
    main()
