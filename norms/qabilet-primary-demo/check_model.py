#!/usr/bin/env python3
"""Plausibility check of the developmental model of the demonstration norms.

Reads battery.toml (raw maxima) and model.toml ([model]; provenance.toml where there is no model.toml) of this folder (or of the
folder given as the first argument) and, for every subtest, evaluates the model exactly as
provenance.toml states it:

    raw score at age a ~ normal(m(a), s(a)) discretised to 0..raw_max, tails piled on 0 and raw_max
    m(a) = raw_max / (1 + exp(-(a - a50)/tau))
    s(a) = sd_at_60 + (sd_at_143 - sd_at_60)·(a - 60)/83
    a band is evaluated at its mid-age (age_min + age_max)/2 + 0.5

It prints the median and SD (as % of raw max) at 60 and 143 months, and the chance and the
midpoint percentile rank (P(X < x) + ½·P(X = x)) of raw 0 in the youngest band and of raw
max in the oldest band. Exit status 1 when a value leaves its plausibility range.
Standard library only (Python ≥ 3.11).
"""

import math
import sys
import tomllib
from pathlib import Path

# Plausibility ranges (fractions of raw max, probabilities, reliabilities). Item scores of a
# 26-30 item subtest reach the stated reliabilities (0.82-0.92) only with raw-score SDs of
# 15-25 % of the raw range (qabilet-core/examples/calibrate_demo_sd.rs), which piles up to
# about a fifth of the youngest and oldest children on raw 0 and raw max: the floors and
# ceilings the norm build's diagnostics report. The ranges allow that, and no more.
MEDIAN_60 = (0.10, 0.27)
MEDIAN_143 = (0.70, 0.90)
SD_FRACTION = (0.08, 0.26)
MAX_P_FLOOR = 0.20       # P(X = 0) in the youngest band
MAX_P_CEILING = 0.20     # P(X = raw max) in the oldest band
RELIABILITY = (0.78, 0.93)
AGE_MIN, AGE_MAX = 60, 143


def phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def median(p: dict, raw_max: int, a: float) -> float:
    return raw_max / (1.0 + math.exp(-(a - p["a50"]) / p["tau"]))


def sd(p: dict, a: float) -> float:
    return p["sd_at_60"] + (p["sd_at_143"] - p["sd_at_60"]) * (a - 60) / 83


def distribution(raw_max: int, m: float, s: float) -> list[float]:
    probs = [phi((x + 0.5 - m) / s) - phi((x - 0.5 - m) / s) for x in range(raw_max + 1)]
    probs[0] = phi((0.5 - m) / s)
    probs[raw_max] = 1.0 - phi((raw_max - 0.5 - m) / s)
    return probs


def raw_maxima(battery: dict) -> dict[str, int]:
    out = {}
    for st in battery["subtest"]:
        if "items" in st:
            out[st["id"]] = sum(item["max"] for item in st["items"])
        else:
            out[st["id"]] = st["raw_max"]
    return out


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    with open(folder / "battery.toml", "rb") as f:
        battery = tomllib.load(f)
    with open(folder / "model.toml" if (folder / "model.toml").exists() else folder / "provenance.toml", "rb") as f:
        model = tomllib.load(f)["model"]

    maxima = raw_maxima(battery)
    params = model["subtest"]
    problems = []
    if set(params) != set(maxima):
        problems.append(f"model subtests {sorted(params)} != battery subtests {sorted(maxima)}")

    band = model["band_months"]
    young = (AGE_MIN + AGE_MIN + band - 1) / 2 + 0.5    # 61.5 for 3-month bands
    old = (AGE_MAX - band + 1 + AGE_MAX) / 2 + 0.5      # 142.5
    print(f"youngest band {AGE_MIN}-{AGE_MIN + band - 1} evaluated at {young} months; "
          f"oldest band {AGE_MAX - band + 1}-{AGE_MAX} at {old} months")
    print()
    header = (f"{'sub':4} {'max':>4} {'a50':>5} {'tau':>4} | {'med60%':>6} {'med143%':>7} | "
              f"{'sd60%':>5} {'sd143%':>6} | {'P(0)@young':>10} {'PR(0)':>6} | "
              f"{'P(max)@old':>10} {'PR(max)':>7} | {'r60':>4} {'r143':>4}")
    print(header)
    print("-" * len(header))
    for sid, raw_max in maxima.items():
        p = params.get(sid)
        if p is None:
            continue
        med60 = median(p, raw_max, 60) / raw_max
        med143 = median(p, raw_max, 143) / raw_max
        sd60 = p["sd_at_60"] / raw_max
        sd143 = p["sd_at_143"] / raw_max
        p0 = distribution(raw_max, median(p, raw_max, young), sd(p, young))[0]
        pmax = distribution(raw_max, median(p, raw_max, old), sd(p, old))[raw_max]
        pr0 = 100 * 0.5 * p0                 # P(X < 0) = 0
        prmax = 100 * (1 - pmax + 0.5 * pmax)  # P(X < max) + ½·P(X = max)
        r60, r143 = p["reliability_at_60"], p["reliability_at_143"]
        print(f"{sid:4} {raw_max:4} {p['a50']:5} {p['tau']:4} | {100 * med60:6.1f} {100 * med143:7.1f} | "
              f"{100 * sd60:5.1f} {100 * sd143:6.1f} | {100 * p0:9.2f}% {pr0:6.2f} | "
              f"{100 * pmax:9.2f}% {prmax:7.2f} | {r60:4.2f} {r143:4.2f}")
        checks = [
            (MEDIAN_60[0] <= med60 <= MEDIAN_60[1], f"median at 60 = {100 * med60:.1f} % of max"),
            (MEDIAN_143[0] <= med143 <= MEDIAN_143[1], f"median at 143 = {100 * med143:.1f} % of max"),
            (SD_FRACTION[0] <= sd60 <= SD_FRACTION[1], f"SD at 60 = {100 * sd60:.1f} % of max"),
            (SD_FRACTION[0] <= sd143 <= SD_FRACTION[1], f"SD at 143 = {100 * sd143:.1f} % of max"),
            (p0 < MAX_P_FLOOR, f"P(X = 0) at {young} = {100 * p0:.2f} %"),
            (pmax < MAX_P_CEILING, f"P(X = max) at {old} = {100 * pmax:.2f} %"),
            (RELIABILITY[0] <= r60 <= RELIABILITY[1], f"reliability at 60 = {r60}"),
            (RELIABILITY[0] <= r143 <= RELIABILITY[1], f"reliability at 143 = {r143}"),
            (r60 <= r143, "reliability falls with age"),
        ]
        problems += [f"{sid}: {msg}" for ok, msg in checks if not ok]

    for key in ("within_domain_correlation", "between_domain_correlation"):
        if not 0 < model[key] < 1:
            problems.append(f"{key} = {model[key]} is not in (0, 1)")
    if not model["between_domain_correlation"] < model["within_domain_correlation"]:
        problems.append("between-domain correlation is not below the within-domain one")

    print()
    print("PR = midpoint percentile rank, P(X < x) + ½·P(X = x), in %")
    if problems:
        print("PROBLEMS:")
        for msg in problems:
            print("  " + msg)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
