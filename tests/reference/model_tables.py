#!/usr/bin/env python3
"""Recompute the demonstration norm tables from their stated model and compare.

The four tables of a demonstration norm folder (subtests.csv, composites.csv,
reliability.csv, base_rates.csv) are, by their provenance, computed from a developmental
model stated in words and numbers: the [model] table of provenance.toml (and its comments),
battery.toml (raw maxima, domains, core flags, composites, scales), the module doc comment
of qabilet-core/src/norms/model.rs, and the conventions of norms/SCORING.md. This script
rebuilds every row from that text alone -- its author read no generator code -- and checks
the committed files against it: integers exactly, percents and reliabilities as decimals
exactly (the value the rule rounds to, compared with the decimal written in the file).

Usage (from the repository root):

    python3 tests/reference/model_tables.py [--battery norms/qabilet-primary-demo] [-v]

Exit 0 and a summary ("subtests.csv: N rows agree", ...) when everything agrees; exit 1 and
one line per mismatch (file:line, key, expected vs found) otherwise. A computed value within
1e-9 of a rounding boundary (x.5 before round-half-away-from-zero) is flagged as a tie and
not judged; the file's value is reported next to both candidates. --strict-ties makes a
flagged tie fail the run too.

How the stated model is read (see README.md of this folder for the discussion):

  * Subtest tables. Age bands of band_months months partition age_min..age_max of the
    battery (60-62, 63-65, ..., 141-143). A band is evaluated at its mid-age
    a = (age_min + age_max)/2 + 0.5. Raw score X ~ normal(m(a), s(a)) discretised to
    0..raw_max, the tails piled on 0 and raw_max:
        m(a) = raw_max / (1 + exp(-(a - a50)/tau)),
        s(a) = sd_at_60 + (sd_at_143 - sd_at_60)(a - 60)/83.
    Raw x: p = P(X < x) + P(X = x)/2, z = Phi^-1(p), scaled = clip(round(10 + 3z), 1, 19)
    (scale from battery.toml [scales]). Consecutive raw scores with the same scaled score
    form one row.
  * Composite tables. Scaled scores multivariate normal, SD 3, correlation 1 on the
    diagonal, within_domain_correlation within a CHC domain, between_domain_correlation
    between domains. Composite of k members: SD_S = 3 sqrt(sum_ij rho_ij); for every sum s
    in k*1..k*19: index = clip(round(100 + 15 (s - 10k)/SD_S), 40, 160); percentile =
    100 Phi((index - 100)/15) rounded to one decimal, kept within [0.1, 99.9]. Consecutive
    sums with the same index form one row.
  * Reliability. Bands of reliability_band_months months, mid-age as above. Subtest
    r(a) = r60 + (r143 - r60)(a - 60)/83, rounded to two decimals. Composite (Mosier):
    1 - sum_i 3^2 (1 - r_i) / SD_S^2 with the two-decimal subtest reliabilities of the same
    band, rounded to two decimals. (Computed in exact rational arithmetic: the inputs are
    decimals, so a tie is an exact tie; it is also flagged when the float value is within
    1e-9 of the boundary.)
  * Base rates. For every pair a < b (battery order) of index composites: D normal with
    SD 15 sqrt(2 (1 - rho_AB)), rho_AB the model correlation of the two composite sums;
    percent(d) = 100 P(|D| >= d - 1/2) for d >= 1 (continuity correction 1/2), 100 for d = 0;
    d = 0 .. index max - index min. For every core subtest i (battery order) against the mean
    of all k core subtests: D = X_i - mean, Var(D) = 9 (1 - (2/k) sum_j rho_ij
    + (1/k^2) sum_jl rho_jl) (the exact variance under the correlation model; the spec's
    formula is elided), percent(d) = 100 P(|D| >= d), no continuity correction (the spec
    states it for composites only); d = 0 .. scaled max - scaled min. Percent to one decimal.

Requirements: Python >= 3.11 (tomllib) and scipy.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from scipy.special import ndtr, ndtri

TIE_EPS = 1e-9


# ----------------------------------------------------------------------------- numerics

def phi(x: float) -> float:
    return float(ndtr(x))


def phi_c(x: float) -> float:
    """Upper tail 1 - Phi(x), accurate for large x."""
    return float(ndtr(-x))


class Ties:
    """Collects values that land within TIE_EPS of a rounding boundary."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.closest: dict[str, tuple[float, tuple]] = {}   # file -> (distance, where)

    def check(self, value: float, what: str, where: tuple) -> bool:
        """True when value (already scaled so that rounding is to a whole number) is a near tie."""
        frac = abs(value) - math.floor(abs(value))
        dist = abs(frac - 0.5)
        if where[0] not in self.closest or dist < self.closest[where[0]][0]:
            self.closest[where[0]] = (dist, where)
        if dist < TIE_EPS:
            self.items.append({"what": what, "where": where, "value": value})
            return True
        return False


def round_half_away(x: float) -> int:
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def round_half_away_frac(x: Fraction) -> int:
    a = abs(x)
    n = math.floor(a + Fraction(1, 2))
    return n if x >= 0 else -n


def clip(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


def dec(value_times_10n: int, places: int) -> Decimal:
    """Decimal of an integer count of 10^-places units (e.g. 873, 1 -> 87.3)."""
    return Decimal(value_times_10n).scaleb(-places)


# ----------------------------------------------------------------------------- inputs

def load(battery_dir: Path):
    battery = tomllib.loads((battery_dir / "battery.toml").read_text(encoding="utf-8"))
    # The model lives in model.toml where the folder's own norms are built from a sample
    # simulated from it, else in provenance.toml.
    model_file = battery_dir / "model.toml"
    if not model_file.exists():
        model_file = battery_dir / "provenance.toml"
    prov = tomllib.loads(model_file.read_text(encoding="utf-8"))
    model = prov["model"]
    scales = battery.get("scales", {})
    scaled = {"mean": 10, "sd": 3, "min": 1, "max": 19} | scales.get("scaled", {})
    index = {"mean": 100, "sd": 15, "min": 40, "max": 160} | scales.get("index", {})
    subtests = []
    for st in battery["subtest"]:
        if "items" in st:
            raw_max = sum(it["max"] for it in st["items"])
        else:
            raw_max = st["raw_max"]
        params = model["subtest"][st["id"]]
        subtests.append({
            "id": st["id"], "domain": st["domain"], "core": bool(st.get("core", False)),
            "raw_max": raw_max, **params,
        })
    composites = [{"id": c["id"], "kind": c["kind"], "subtests": list(c["subtests"])}
                  for c in battery["composite"]]
    return battery, model, scaled, index, subtests, composites


def bands(age_min: int, age_max: int, width: int) -> list[tuple[int, int]]:
    span = age_max - age_min + 1
    if span % width:
        raise SystemExit(f"age range {age_min}-{age_max} is not a whole number of {width}-month bands")
    return [(a, a + width - 1) for a in range(age_min, age_max + 1, width)]


def mid_age(lo: int, hi: int) -> Fraction:
    return Fraction(lo + hi, 2) + Fraction(1, 2)


# ----------------------------------------------------------------------------- model: subtests

def subtest_rows(st: dict, band: tuple[int, int], scaled: dict, ties: Ties):
    """[(raw_min, raw_max, scaled)] for one subtest and one age band; also per-raw list."""
    a = float(mid_age(*band))
    n = st["raw_max"]
    m = n / (1.0 + math.exp(-(a - st["a50"]) / st["tau"]))
    s = st["sd_at_60"] + (st["sd_at_143"] - st["sd_at_60"]) * (a - 60.0) / 83.0
    per_raw = []
    for x in range(n + 1):
        lo = (x - 0.5 - m) / s      # P(X < x) = Phi(lo) for x >= 1 (the lower tail piled on 0)
        hi = (x + 0.5 - m) / s      # P(X <= x) = Phi(hi) for x < raw_max
        below = 0.0 if x == 0 else phi(lo)
        at_or_below = 1.0 if x == n else phi(hi)
        above_lo = 1.0 if x == 0 else phi_c(lo)          # P(X >= x)
        above_hi = 0.0 if x == n else phi_c(hi)          # P(X > x)
        p = 0.5 * (below + at_or_below)                  # P(X < x) + P(X = x)/2
        q = 0.5 * (above_lo + above_hi)                  # 1 - p, computed from the upper tails
        if p <= 0.5:
            z = float(ndtri(p)) if p > 0 else -math.inf
        else:
            z = -float(ndtri(q)) if q > 0 else math.inf
        v = scaled["mean"] + scaled["sd"] * z
        if math.isfinite(v):
            ties.check(v, "scaled", ("subtests.csv", st["id"], band, x))
            sc = clip(round_half_away(v), scaled["min"], scaled["max"])
        else:
            sc = scaled["max"] if v > 0 else scaled["min"]
        per_raw.append((sc, v))
    rows = []
    for x, (sc, _) in enumerate(per_raw):
        if rows and rows[-1][2] == sc:
            rows[-1][1] = x
        else:
            rows.append([x, x, sc])
    return [tuple(r) for r in rows], per_raw


# ----------------------------------------------------------------------------- model: correlations

def rho(a: dict, b: dict, model: dict) -> Fraction:
    if a["id"] == b["id"]:
        return Fraction(1)
    if a["domain"] == b["domain"]:
        return Fraction(str(model["within_domain_correlation"]))
    return Fraction(str(model["between_domain_correlation"]))


def sum_rho(members: list[dict], model: dict) -> Fraction:
    return sum((rho(a, b, model) for a in members for b in members), Fraction(0))


def cross_rho(xs: list[dict], ys: list[dict], model: dict) -> Fraction:
    return sum((rho(a, b, model) for a in xs for b in ys), Fraction(0))


# ----------------------------------------------------------------------------- model: composites

def composite_rows(comp: dict, by_id: dict, model: dict, scaled: dict, index: dict, ties: Ties):
    members = [by_id[s] for s in comp["subtests"]]
    k = len(members)
    sd_s = scaled["sd"] * math.sqrt(float(sum_rho(members, model)))
    rows = []
    for s in range(k * scaled["min"], k * scaled["max"] + 1):
        v = index["mean"] + index["sd"] * (s - k * scaled["mean"]) / sd_s
        ties.check(v, "index", ("composites.csv", comp["id"], s))
        idx = clip(round_half_away(v), index["min"], index["max"])
        pv = 1000.0 * phi((idx - index["mean"]) / index["sd"])   # percent * 10
        ties.check(pv, "percentile", ("composites.csv", comp["id"], s))
        pct10 = clip(round_half_away(pv), 1, 999)
        if rows and rows[-1][2] == idx:
            rows[-1][1] = s
        else:
            rows.append([s, s, idx, pct10])
    return [(a, b, i, dec(p, 1)) for a, b, i, p in rows]


# ----------------------------------------------------------------------------- model: reliability

def reliability_rows(subtests: list[dict], composites: list[dict], by_id: dict, model: dict,
                     battery: dict, ties: Ties):
    out = {}          # (scale, lo, hi) -> Decimal
    exact_notes = {}  # (scale, lo, hi) -> (exact value, float value) for flagged ties
    rb = bands(battery["age_min_months"], battery["age_max_months"], model["reliability_band_months"])
    sub_r = {}
    for st in subtests:
        for band in rb:
            a = mid_age(*band)
            r60 = Fraction(str(st["reliability_at_60"]))
            r143 = Fraction(str(st["reliability_at_143"]))
            r = r60 + (r143 - r60) * (a - 60) / 83
            rf = st["reliability_at_60"] + (st["reliability_at_143"] - st["reliability_at_60"]) * (float(a) - 60.0) / 83.0
            if ties.check(rf * 100.0, "reliability", ("reliability.csv", st["id"], band)):
                exact_notes[(st["id"], *band)] = (r, rf)
            r100 = round_half_away_frac(r * 100)
            sub_r[(st["id"], band)] = Fraction(r100, 100)
            out[(st["id"], *band)] = dec(r100, 2)
    for comp in composites:
        members = [by_id[s] for s in comp["subtests"]]
        var_s = 9 * sum_rho(members, model)                      # SD_S^2, SD_i = 3
        for band in rb:
            err = sum((9 * (1 - sub_r[(m["id"], band)]) for m in members), Fraction(0))
            r = 1 - err / var_s
            rf = 1.0 - sum(9.0 * (1.0 - float(sub_r[(m["id"], band)])) for m in members) / float(var_s)
            if ties.check(rf * 100.0, "reliability", ("reliability.csv", comp["id"], band)) or (r * 100).denominator == 2:
                exact_notes[(comp["id"], *band)] = (r, rf)
                if not ties.items or ties.items[-1]["where"] != ("reliability.csv", comp["id"], band):
                    ties.items.append({"what": "reliability (exact tie)", "where": ("reliability.csv", comp["id"], band), "value": rf * 100.0})
            out[(comp["id"], *band)] = dec(round_half_away_frac(r * 100), 2)
    return out, exact_notes


# ----------------------------------------------------------------------------- model: base rates

def base_rate_rows(subtests: list[dict], composites: list[dict], by_id: dict, model: dict,
                   scaled: dict, index: dict, ties: Ties):
    out = []   # (comparison, d, Decimal percent)
    idx_comps = [c for c in composites if c["kind"] == "index"]
    for i, ca in enumerate(idx_comps):
        for cb in idx_comps[i + 1:]:
            ma = [by_id[s] for s in ca["subtests"]]
            mb = [by_id[s] for s in cb["subtests"]]
            r_ab = float(cross_rho(ma, mb, model)) / math.sqrt(float(sum_rho(ma, model) * sum_rho(mb, model)))
            sd_d = index["sd"] * math.sqrt(2.0 * (1.0 - r_ab))
            name = f"{ca['id']}:{cb['id']}"
            for d in range(0, index["max"] - index["min"] + 1):
                if d == 0:
                    pv = 1000.0
                else:
                    pv = 1000.0 * 2.0 * phi_c((d - 0.5) / sd_d)
                ties.check(pv, "percent", ("base_rates.csv", name, d))
                out.append((name, d, dec(round_half_away(pv), 1)))
    core = [st for st in subtests if st["core"]]
    k = len(core)
    total = sum_rho(core, model)
    for st in core:
        row = cross_rho([st], core, model)
        var_rel = 1 - Fraction(2, k) * row + total / (k * k)
        sd_d = scaled["sd"] * math.sqrt(float(var_rel))
        name = f"{st['id']}:core_mean"
        for d in range(0, scaled["max"] - scaled["min"] + 1):
            pv = 1000.0 if d == 0 else 1000.0 * 2.0 * phi_c(d / sd_d)
            ties.check(pv, "percent", ("base_rates.csv", name, d))
            out.append((name, d, dec(round_half_away(pv), 1)))
    return out


# ----------------------------------------------------------------------------- comparison

class Report:
    def __init__(self) -> None:
        self.mismatches: list[str] = []
        self.agree: dict[str, int] = {}
        self.notes: list[str] = []

    def bad(self, msg: str) -> None:
        self.mismatches.append(msg)


def read_csv(path: Path, header: list[str], report: Report):
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != header:
        report.bad(f"{path.name}:1: header expected {','.join(header)} found {','.join(rows[0]) if rows else '(empty)'}")
    return [(n, r) for n, r in enumerate(rows[1:], start=2)]


def parse_dec(text: str, places: int) -> Decimal | None:
    try:
        v = Decimal(text)
    except Exception:
        return None
    if v != v.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        return None   # more decimals than the rule writes
    return v


def compare_keyed(fname: str, expected: dict, found: dict, report: Report, tie_keys: set,
                  fmt_key, fmt_val, explain=None) -> None:
    """expected: key -> value; found: key -> (line, value, raw text)."""
    agree = 0
    for key, val in expected.items():
        if key not in found:
            report.bad(f"{fname}: missing row {fmt_key(key)} -> expected {fmt_val(val)}")
            continue
        line, fval, text = found[key]
        if fval == val:
            agree += 1
        elif key in tie_keys:
            report.notes.append(f"{fname}:{line}: {fmt_key(key)}: near-tie, not judged: model "
                                f"(rounded half away) {fmt_val(val)}, file {text}")
        else:
            extra = f" [{explain(key)}]" if explain else ""
            report.bad(f"{fname}:{line}: {fmt_key(key)}: expected {fmt_val(val)} found {text}{extra}")
    for key, (line, _, text) in found.items():
        if key not in expected:
            report.bad(f"{fname}:{line}: unexpected row {fmt_key(key)} ({text})")
    report.agree[fname] = agree


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = Path(__file__).resolve().parents[2]
    ap.add_argument("--battery", default=str(root / "norms" / "qabilet-primary-demo"))
    ap.add_argument("--tables", help="folder with the tables to check (default: the battery folder); "
                    "for a folder whose norms are built from a sample, the output of "
                    "`qabilet norms demo --battery DIR --out TABLES`")
    ap.add_argument("--strict-ties", action="store_true", help="a flagged near-tie fails the run")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the model parameters derived")
    args = ap.parse_args()
    bdir = Path(args.battery)
    tdir = Path(args.tables) if args.tables else bdir
    battery, model, scaled, index, subtests, composites = load(bdir)
    by_id = {st["id"]: st for st in subtests}
    ties = Ties()
    report = Report()

    # ---- subtests.csv
    sb = bands(battery["age_min_months"], battery["age_max_months"], model["band_months"])
    expected = {}
    per_raw_all = {}
    for st in subtests:
        for band in sb:
            rows, per_raw = subtest_rows(st, band, scaled, ties)
            per_raw_all[(st["id"], band)] = per_raw
            for lo, hi, sc in rows:
                expected[(st["id"], band[0], band[1], lo)] = (hi, sc)
    found = {}
    for line, r in read_csv(tdir / "subtests.csv", ["subtest", "age_min_months", "age_max_months", "raw_min", "raw_max", "scaled"], report):
        try:
            key = (r[0], int(r[1]), int(r[2]), int(r[3]))
            val = (int(r[4]), int(r[5]))
        except (IndexError, ValueError):
            report.bad(f"subtests.csv:{line}: unreadable row {','.join(r)}")
            continue
        found[key] = (line, val, ",".join(r[3:]))
    tie_rows = set()
    for t in ties.items:
        if t["where"][0] == "subtests.csv":
            _, sid, band, x = t["where"]
            for (k_id, lo, hi, rmin), (rmax, _) in expected.items():
                if k_id == sid and (lo, hi) == band and rmin <= x <= rmax:
                    tie_rows.add((k_id, lo, hi, rmin))
            # the neighbouring row may also change when a tie decides a merge
            for (k_id, lo, hi, rmin), (rmax, _) in expected.items():
                if k_id == sid and (lo, hi) == band and (rmin == x + 1 or rmax == x - 1):
                    tie_rows.add((k_id, lo, hi, rmin))

    def st_explain(key):
        sid, lo, hi, rmin = key
        rmax = expected[key][0]
        per_raw = per_raw_all[(sid, (lo, hi))]
        return "; ".join(f"raw {x}: 10+3z = {per_raw[x][1]:.6f}" for x in range(rmin, min(rmax, rmin + 2) + 1))

    compare_keyed("subtests.csv", expected, found, report, tie_rows,
                  lambda k: f"{k[0]} {k[1]}-{k[2]} raw {k[3]}",
                  lambda v: f"raw_max {v[0]} scaled {v[1]}", st_explain)

    # ---- composites.csv
    expected = {}
    for comp in composites:
        for lo, hi, idx, pct in composite_rows(comp, by_id, model, scaled, index, ties):
            expected[(comp["id"], lo)] = (hi, idx, pct)
    found = {}
    for line, r in read_csv(tdir / "composites.csv", ["composite", "sum_min", "sum_max", "index", "percentile"], report):
        try:
            key = (r[0], int(r[1]))
            pct = parse_dec(r[4], 1)
            val = (int(r[2]), int(r[3]), pct)
        except (IndexError, ValueError):
            report.bad(f"composites.csv:{line}: unreadable row {','.join(r)}")
            continue
        if val[2] is not None and ("." not in r[4] or len(r[4].split(".")[-1]) != 1):
            report.notes.append(f"composites.csv:{line}: percentile '{r[4]}' not written with one decimal; compared as a decimal")
        found[key] = (line, val, ",".join(r[1:]))
    tie_rows = {(t["where"][1], lo) for t in ties.items if t["where"][0] == "composites.csv"
                for (cid, lo), (hi, _, _) in expected.items() if cid == t["where"][1] and lo - 1 <= t["where"][2] <= hi + 1}
    compare_keyed("composites.csv", expected, found, report, tie_rows,
                  lambda k: f"{k[0]} sum {k[1]}",
                  lambda v: f"sum_max {v[0]} index {v[1]} percentile {v[2]}")

    # ---- reliability.csv
    expected, exact_notes = reliability_rows(subtests, composites, by_id, model, battery, ties)
    found = {}
    short_format = []
    for line, r in read_csv(tdir / "reliability.csv", ["scale", "age_min_months", "age_max_months", "reliability"], report):
        try:
            key = (r[0], int(r[1]), int(r[2]))
            val = parse_dec(r[3], 2)
        except (IndexError, ValueError):
            report.bad(f"reliability.csv:{line}: unreadable row {','.join(r)}")
            continue
        if val is not None and len(r[3].split(".")[-1]) != 2:
            short_format.append((line, r[3]))
        found[key] = (line, val, r[3])
    tie_rows = {k for k in exact_notes}
    compare_keyed("reliability.csv", expected, found, report, tie_rows,
                  lambda k: f"{k[0]} {k[1]}-{k[2]}", lambda v: f"{v:.2f}")
    for key, (r, rf) in exact_notes.items():
        report.notes.append(f"reliability.csv: {key[0]} {key[1]}-{key[2]}: exact Mosier value {r} = "
                            f"{float(r):.17g} (float {rf:.17g}) lies on a rounding boundary; half away "
                            f"from zero gives {expected[key]:.2f}, the file has "
                            f"{found[key][2] if key in found else '(no row)'}")
    if short_format:
        ex = ", ".join(f"line {n} '{t}'" for n, t in short_format[:3])
        report.notes.append(f"reliability.csv: {len(short_format)} values are written with fewer than two "
                            f"decimals ({ex}, ...); compared as decimals, equal in value "
                            f"(FORMATS.md shows '0.90', the file writes '0.9')")

    # ---- base_rates.csv
    path = tdir / "base_rates.csv"
    if path.exists():
        rows = base_rate_rows(subtests, composites, by_id, model, scaled, index, ties)
        expected = {(c, d): p for c, d, p in rows}
        found = {}
        odd_format = []
        for line, r in read_csv(path, ["comparison", "abs_difference", "percent"], report):
            try:
                key = (r[0], int(r[1]))
                val = parse_dec(r[2], 1)
            except (IndexError, ValueError):
                report.bad(f"base_rates.csv:{line}: unreadable row {','.join(r)}")
                continue
            if "." not in r[2] or len(r[2].split(".")[-1]) != 1:
                odd_format.append((line, r[2]))
            found[key] = (line, val, r[2])
        if odd_format:
            ex = ", ".join(f"line {n} '{t}'" for n, t in odd_format[:3])
            report.notes.append(f"base_rates.csv: {len(odd_format)} percents are not written with exactly one "
                                f"decimal ({ex}); compared as decimals")
        tie_rows = {(t["where"][1], t["where"][2]) for t in ties.items if t["where"][0] == "base_rates.csv"}
        compare_keyed("base_rates.csv", expected, found, report, tie_rows,
                      lambda k: f"{k[0]} d={k[1]}", lambda v: f"{v}")
    else:
        report.notes.append("base_rates.csv absent (optional): not checked")

    if args.verbose:
        for comp in composites:
            members = [by_id[s] for s in comp["subtests"]]
            sr = sum_rho(members, model)
            print(f"# {comp['id']}: k={len(members)} sum rho={sr} SD_S={3 * math.sqrt(float(sr)):.6f}")
        for fname, (dist, where) in ties.closest.items():
            print(f"# {fname}: closest approach to a rounding boundary {dist:.3g} at {where}")

    for t in ties.items:
        print(f"TIE: {t['what']} at {t['where']}: value {t['value']:.12f} within {TIE_EPS:g} of a rounding boundary",
              file=sys.stderr)
    for n in report.notes:
        print(f"note: {n}")
    for m in report.mismatches:
        print(f"MISMATCH {m}")
    for fname, n in report.agree.items():
        print(f"{fname}: {n} rows agree")
    fail = bool(report.mismatches) or (args.strict_ties and ties.items)
    if report.mismatches:
        print(f"{len(report.mismatches)} mismatches")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
