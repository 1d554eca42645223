#!/usr/bin/env python3
"""Independent reference implementation of `qabilet score` (CSV output and profile analysis).

Written from the rules in norms/FORMATS.md, norms/SCORING.md and the design notes
("Scoring conventions", "CLI contract") only -- never from the Rust sources -- so that
the Rust output can be checked number by number against it (see compare.py).

Usage:
    python3 independent_scorer.py --battery DIR --input CSV --output FILE
                                  [--ci 68|90|95|99] [--ci-method true-score|obtained]
                                  [--format csv|json]

--format csv (default) writes the score CSV. --format json writes JSON Lines, one object per
input row, with the profile analysis only (SCORING.md "Strengths and weaknesses" and
"Pairwise discrepancies"; the CSV does not contain it):

    {"id", "strengths_weaknesses": null | {"mean", "k", "subtests": [{"id", "scaled",
     "difference", "critical": {"0.05", "0.15"}, "significance", "direction", "base_rate"}]},
     "discrepancies": [{"a", "b", "difference", "critical", "significance", "base_rate"}],
     "error": null | str}

with base_rate = null | {"percent", "at_most"}. A bad row has "strengths_weaknesses": null,
"discrepancies": [] and the reason in "error".

Dependencies: Python >= 3.11 (tomllib) and scipy (normal CDF and quantile).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import re
import sys
import tomllib
from fractions import Fraction

from scipy.stats import norm

NORM_FILES = [
    "battery.toml",
    "subtests.csv",
    "composites.csv",
    "reliability.csv",
    "base_rates.csv",  # optional
    "provenance.toml",
]


class NormError(Exception):
    """A norm file is missing or inconsistent."""


class RowError(Exception):
    """A bad input row; the message is the reason written to `error`."""


# --------------------------------------------------------------------------- numbers


def round_half_away(x) -> int:
    """Round half away from zero. Accepts int, float or Fraction; exact for all of them."""
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"cannot round {x}")
        x = Fraction(x)  # exact binary value of the float
    sign = -1 if x < 0 else 1
    a = abs(x)
    q = math.floor(a)
    if a - q >= Fraction(1, 2):
        q += 1
    return sign * q


def clip(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def fmt_pct(x: float) -> str:
    # SCORING.md: a percentile is written to one decimal, round(10·p) half away from zero
    # (10·p computed in floating point), kept within 0.1 … 99.9.
    tenths = clip(round_half_away(x * 10.0), 1, 999)
    return f"{tenths / 10:.1f}"


def z_for_level(level: int) -> float:
    return float(norm.ppf(1.0 - (1.0 - level / 100.0) / 2.0))


# --------------------------------------------------------------------------- ages

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(text: str, what: str) -> dt.date:
    m = ISO_DATE.match(text)
    if not m:
        raise RowError(f"{what} {text!r} is not an ISO date yyyy-mm-dd")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise RowError(f"{what} {text!r} is not a valid calendar date") from None


def days_in_month(y: int, m: int) -> int:
    if m == 12:
        return 31
    return (dt.date(y, m + 1, 1) - dt.date(y, m, 1)).days


def add_months(d: dt.date, months: int) -> dt.date:
    """d + months; a day past the end of the target month lands on its last day."""
    total = d.year * 12 + (d.month - 1) + months
    y, m0 = divmod(total, 12)
    m = m0 + 1
    return dt.date(y, m, min(d.day, days_in_month(y, m)))


def calendar_age(birth: dt.date, test: dt.date) -> tuple[int, int, int]:
    """Calendar-exact (Y, M, D): birth + (12Y+M) months (counted from the birth date,
    never chained) + D days == test, with 12Y+M as large as possible."""
    if test < birth:
        raise RowError(f"test date {test.isoformat()} is before birth date {birth.isoformat()}")
    # first estimate, then correct (add_months is non-decreasing in months)
    months = (test.year - birth.year) * 12 + (test.month - birth.month)
    months = max(months, 0)
    while months > 0 and add_months(birth, months) > test:
        months -= 1
    while add_months(birth, months + 1) <= test:
        months += 1
    anchor = add_months(birth, months)
    days = (test - anchor).days
    assert 0 <= days <= 31
    y, m = divmod(months, 12)
    return y, m, days


# --------------------------------------------------------------------------- norms


def read_csv_rows(path: str, header: list[str]) -> list[tuple[int, dict]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        rows = list(reader)
    if not rows or rows[0] != header:
        raise NormError(f"{path}: line 1: header must be {','.join(header)}")
    out = []
    for lineno, r in enumerate(rows[1:], start=2):
        if not r:
            continue
        if len(r) != len(header):
            raise NormError(f"{path}: line {lineno}: expected {len(header)} fields, got {len(r)}")
        out.append((lineno, dict(zip(header, r))))
    return out


def as_int(text: str, where: str) -> int:
    if not re.fullmatch(r"-?\d+", text):
        raise NormError(f"{where}: {text!r} is not an integer")
    return int(text)


def check_partition(ranges: list[tuple[int, int]], lo: int, hi: int, what: str) -> None:
    rs = sorted(ranges)
    expect = lo
    for a, b in rs:
        if a > b:
            raise NormError(f"{what}: empty range {a}..{b}")
        if a != expect:
            raise NormError(f"{what}: gap or overlap at {expect} (range starts at {a})")
        expect = b + 1
    if expect != hi + 1:
        raise NormError(f"{what}: ranges end at {expect - 1}, expected {hi}")


class Battery:
    def __init__(self, folder: str):
        self.folder = folder
        p = lambda name: os.path.join(folder, name)  # noqa: E731
        for name in NORM_FILES:
            if name != "base_rates.csv" and not os.path.isfile(p(name)):
                raise NormError(f"{p(name)}: missing")

        # ---- norm-set hash (FORMATS.md)
        h = hashlib.sha256()
        for name in NORM_FILES:
            if not os.path.isfile(p(name)):
                continue  # only base_rates.csv may be absent
            with open(p(name), "rb") as fh:
                data = fh.read()
            h.update(name.encode("utf-8"))
            h.update(b"\0")
            h.update(str(len(data)).encode("ascii"))
            h.update(b"\0")
            h.update(data)
        # Then the item banks of adaptive subtests (`adaptive = { bank = "items/<id>.json" }`),
        # by path (FORMATS.md).
        import tomllib

        with open(p("battery.toml"), "rb") as fh:
            banks = sorted(
                st["adaptive"]["bank"] for st in tomllib.load(fh).get("subtest", []) if "adaptive" in st
            )
        for name in banks:
            with open(p(name), "rb") as fh:
                data = fh.read()
            h.update(name.encode("utf-8"))
            h.update(b"\0")
            h.update(str(len(data)).encode("ascii"))
            h.update(b"\0")
            h.update(data)
        self.norm_set = "sha256:" + h.hexdigest()

        # ---- battery.toml
        with open(p("battery.toml"), "rb") as fh:
            bt = tomllib.load(fh)
        self.id = bt["id"]
        self.version = bt["version"]
        policy = bt.get("age_policy", "calendar-exact")
        if policy != "calendar-exact":
            raise NormError(f"battery.toml: age_policy {policy!r} not implemented")
        self.age_min = int(bt["age_min_months"])
        self.age_max = int(bt["age_max_months"])
        scales = bt.get("scales", {})
        sc = {"mean": 10, "sd": 3, "min": 1, "max": 19}
        sc.update(scales.get("scaled", {}))
        ix = {"mean": 100, "sd": 15, "min": 40, "max": 160}
        ix.update(scales.get("index", {}))
        self.scaled_scale = sc
        self.index_scale = ix

        self.classification = []
        for band in bt.get("classification", []):
            self.classification.append(
                (band["id"], band.get("min"), band.get("max"))
            )

        # [profile] (FORMATS.md). The rules give no defaults; when the table or a key is
        # absent, the values of the documented example are used.
        prof = bt.get("profile", {})
        self.multiple_comparisons = prof.get("multiple_comparisons", "bonferroni")
        if self.multiple_comparisons not in ("bonferroni", "none"):
            raise NormError(f"battery.toml: [profile] multiple_comparisons {self.multiple_comparisons!r} "
                            "must be \"bonferroni\" or \"none\"")
        self.min_core_subtests = int(prof.get("min_core_subtests", 3))

        self.subtests = []  # ordered ids
        self.raw_max = {}
        self.core = []  # ordered ids of the core subtests (core = true; absent means not core)
        for st in bt.get("subtest", []):
            sid = st["id"]
            core = st.get("core", False)
            if not isinstance(core, bool):
                raise NormError(f"battery.toml: subtest {sid}: core must be true or false")
            if core:
                self.core.append(sid)
            if "items" in st and st["items"]:
                rmax = sum(int(it["max"]) for it in st["items"])
                if "raw_max" in st and int(st["raw_max"]) != rmax:
                    raise NormError(f"battery.toml: subtest {sid}: raw_max disagrees with items")
            elif "raw_max" in st:
                rmax = int(st["raw_max"])
            else:
                raise NormError(f"battery.toml: subtest {sid}: neither items nor raw_max")
            self.subtests.append(sid)
            self.raw_max[sid] = rmax
        if len(set(self.subtests)) != len(self.subtests):
            raise NormError("battery.toml: duplicate subtest id")

        self.composites = []  # list of dicts
        for c in bt.get("composite", []):
            members = list(c["subtests"])
            for m in members:
                if m not in self.raw_max:
                    raise NormError(f"battery.toml: composite {c['id']}: unknown subtest {m}")
            subs = [(s["replace"], s["with"]) for s in c.get("substitutions", [])]
            for rep, wit in subs:
                if rep not in members:
                    raise NormError(f"battery.toml: composite {c['id']}: substitution replaces non-member {rep}")
                if wit not in self.raw_max:
                    raise NormError(f"battery.toml: composite {c['id']}: unknown substitute {wit}")
            self.composites.append(
                {
                    "id": c["id"],
                    "kind": c.get("kind"),
                    "members": members,
                    "max_prorated": int(c.get("max_prorated", 0)),
                    "substitutions": subs,
                    "max_substitutions": int(c.get("max_substitutions", 1 if subs else 0)),
                }
            )

        # ---- subtests.csv: (sid) -> list of (age_lo, age_hi, raw_lo, raw_hi, scaled)
        self.sub_table: dict[str, list[tuple[int, int, int, int, int]]] = {s: [] for s in self.subtests}
        path = p("subtests.csv")
        for lineno, r in read_csv_rows(path, ["subtest", "age_min_months", "age_max_months", "raw_min", "raw_max", "scaled"]):
            w = f"{path}: line {lineno}"
            sid = r["subtest"]
            if sid not in self.sub_table:
                raise NormError(f"{w}: unknown subtest {sid}")
            vals = tuple(as_int(r[k], w) for k in ["age_min_months", "age_max_months", "raw_min", "raw_max", "scaled"])
            if not (sc["min"] <= vals[4] <= sc["max"]):
                raise NormError(f"{w}: scaled {vals[4]} outside the scaled scale")
            self.sub_table[sid].append(vals)
        for sid, rows in self.sub_table.items():
            bands = sorted({(a, b) for a, b, *_ in rows})
            check_partition(bands, self.age_min, self.age_max, f"subtests.csv {sid} age bands")
            for a, b in bands:
                rr = sorted((r[2], r[3], r[4]) for r in rows if (r[0], r[1]) == (a, b))
                check_partition([(x, y) for x, y, _ in rr], 0, self.raw_max[sid], f"subtests.csv {sid} {a}-{b} raw")
                sc_seq = [s for *_, s in rr]
                if sc_seq != sorted(sc_seq):
                    raise NormError(f"subtests.csv {sid} {a}-{b}: scaled decreases as raw rises")

        # ---- composites.csv: (cid) -> list of (sum_lo, sum_hi, index, percentile)
        self.comp_table: dict[str, list[tuple[int, int, int, float]]] = {c["id"]: [] for c in self.composites}
        path = p("composites.csv")
        for lineno, r in read_csv_rows(path, ["composite", "sum_min", "sum_max", "index", "percentile"]):
            w = f"{path}: line {lineno}"
            cid = r["composite"]
            if cid not in self.comp_table:
                raise NormError(f"{w}: unknown composite {cid}")
            pct = float(r["percentile"])
            if not (0.0 < pct < 100.0):
                raise NormError(f"{w}: percentile {pct} outside (0, 100)")
            idx = as_int(r["index"], w)
            if not (ix["min"] <= idx <= ix["max"]):
                raise NormError(f"{w}: index {idx} outside the index scale")
            self.comp_table[cid].append((as_int(r["sum_min"], w), as_int(r["sum_max"], w), idx, pct))
        for c in self.composites:
            k = len(c["members"])
            rows = sorted(self.comp_table[c["id"]])
            check_partition([(a, b) for a, b, _, _ in rows], k * sc["min"], k * sc["max"], f"composites.csv {c['id']}")
            if [r[2] for r in rows] != sorted(r[2] for r in rows) or [r[3] for r in rows] != sorted(r[3] for r in rows):
                raise NormError(f"composites.csv {c['id']}: index or percentile decreases")

        # ---- reliability.csv: (scale) -> list of (age_lo, age_hi, r)
        self.rel: dict[str, list[tuple[int, int, float]]] = {}
        path = p("reliability.csv")
        for lineno, r in read_csv_rows(path, ["scale", "age_min_months", "age_max_months", "reliability"]):
            w = f"{path}: line {lineno}"
            rel = float(r["reliability"])
            if not (0.0 < rel < 1.0):
                raise NormError(f"{w}: reliability {rel} outside (0, 1)")
            self.rel.setdefault(r["scale"], []).append(
                (as_int(r["age_min_months"], w), as_int(r["age_max_months"], w), rel)
            )
        for scale in self.subtests + [c["id"] for c in self.composites]:
            check_partition([(a, b) for a, b, _ in self.rel.get(scale, [])], self.age_min, self.age_max, f"reliability.csv {scale}")

        # ---- base_rates.csv (optional): comparison -> [percent at |D| = 0, 1, 2, ...]
        self.base_rates: dict[str, list[float]] = {}
        path = p("base_rates.csv")
        if os.path.isfile(path):
            index_ids = [c["id"] for c in self.composites if c["kind"] == "index"]
            known = {f"{a}:{b}" for a in index_ids for b in index_ids if a != b}
            known |= {f"{sid}:core_mean" for sid in self.subtests}
            for lineno, r in read_csv_rows(path, ["comparison", "abs_difference", "percent"]):
                w = f"{path}: line {lineno}"
                comp = r["comparison"]
                if comp not in known:
                    raise NormError(f"{w}: unknown comparison {comp!r}")
                d = as_int(r["abs_difference"], w)
                pct = float(r["percent"])
                if not (0.0 <= pct <= 100.0):
                    raise NormError(f"{w}: percent {pct} outside [0, 100]")
                rows = self.base_rates.setdefault(comp, [])
                if d != len(rows):
                    raise NormError(f"{w}: {comp}: abs_difference {d}, expected {len(rows)} (rows run 0, 1, 2, ... without gaps)")
                if rows and pct > rows[-1]:
                    raise NormError(f"{w}: {comp}: percent rises")
                rows.append(pct)

        # ---- provenance.toml
        with open(p("provenance.toml"), "rb") as fh:
            prov = tomllib.load(fh)
        self.notice = prov.get("notice", "") if prov.get("status") == "demonstration" else ""

    # lookups ---------------------------------------------------------------

    def scaled(self, sid: str, age_months: int, raw: int) -> int:
        for a, b, lo, hi, s in self.sub_table[sid]:
            if a <= age_months <= b and lo <= raw <= hi:
                return s
        raise NormError(f"subtests.csv: no row for {sid} age {age_months} raw {raw}")

    def index(self, cid: str, total: int) -> tuple[int, float]:
        for lo, hi, idx, pct in self.comp_table[cid]:
            if lo <= total <= hi:
                return idx, pct
        raise NormError(f"composites.csv: no row for {cid} sum {total}")

    def reliability(self, scale: str, age_months: int) -> float:
        for a, b, r in self.rel[scale]:
            if a <= age_months <= b:
                return r
        raise NormError(f"reliability.csv: no row for {scale} age {age_months}")

    def base_rate(self, comparison: str, difference) -> dict | None:
        """Base rate of |difference| (FORMATS.md): the row at floor(|D|); beyond the last row
        the last row's percent, marked "at most". None when the comparison has no rows."""
        rows = self.base_rates.get(comparison)
        if not rows:
            return None
        d = math.floor(abs(Fraction(difference)))
        if d < len(rows):
            return {"percent": rows[d], "at_most": False}
        return {"percent": rows[-1], "at_most": True}

    def classify(self, index: int) -> str:
        for bid, lo, hi in self.classification:
            if (lo is None or index >= lo) and (hi is None or index <= hi):
                return bid
        return ""


# --------------------------------------------------------------------------- scoring


def parse_raw(text: str, sid: str, rmax: int) -> int:
    if re.fullmatch(r"-\d+", text):
        raise RowError(f"{sid}: raw score {text} is negative")
    if not re.fullmatch(r"\d+", text):
        if re.fullmatch(r"-?\d*\.\d+|-?\d+\.\d*", text):
            raise RowError(f"{sid}: raw score {text!r} is not a whole number")
        raise RowError(f"{sid}: raw score {text!r} is not a number")
    raw = int(text)
    if raw > rmax:
        raise RowError(f"{sid}: raw score {raw} above the maximum {rmax}")
    return raw


def composite_sum(comp: dict, scaled: dict[str, int]):
    """Returns (sum, basis) or None when the composite cannot be computed."""
    members = comp["members"]
    k = len(members)
    missing = [m for m in members if m not in scaled]
    if not missing:
        return sum(scaled[m] for m in members), "complete"

    # substitution first: every missing member needs its own substitute, and there may be
    # at most max_substitutions of them (substitution and proration are never combined)
    if comp["substitutions"] and len(missing) <= comp["max_substitutions"]:
        used: list[str] = []
        chosen: dict[str, str] = {}
        for m in missing:
            for rep, wit in comp["substitutions"]:
                if rep == m and wit in scaled and wit not in members and wit not in used:
                    chosen[m] = wit
                    used.append(wit)
                    break
        if len(chosen) == len(missing):
            total = sum(scaled[m] for m in members if m in scaled) + sum(scaled[w] for w in used)
            return total, "substituted"

    if len(missing) <= comp["max_prorated"] and len(missing) < k:
        partial = sum(scaled[m] for m in members if m in scaled)
        total = round_half_away(Fraction(partial * k, k - len(missing)))
        return total, "prorated"
    return None


def confidence_interval(x: int, mean: float, sd: float, r: float, z: float, method: str, lo: int, hi: int):
    if method == "true-score":
        centre = mean + r * (x - mean)
        see = sd * math.sqrt(r * (1.0 - r))
        a, b = centre - z * see, centre + z * see
    else:
        se = sd * math.sqrt(1.0 - r)
        a, b = x - z * se, x + z * se
    for bound in (a, b):
        frac = abs(bound) - math.floor(abs(bound))
        if abs(frac - 0.5) < 1e-9:
            print(f"warning: CI bound {bound!r} is within 1e-9 of a rounding tie; "
                  "implementations may legitimately differ here", file=sys.stderr)
    return clip(round_half_away(a), lo, hi), clip(round_half_away(b), lo, hi)


def output_header(bat: Battery, input_header: list[str]) -> list[str]:
    cols = list(input_header) + ["age"]
    for sid in bat.subtests:
        cols += [f"{sid}_scaled", f"{sid}_percentile"]
    for c in bat.composites:
        cid = c["id"]
        cols += [f"{cid}_{x}" for x in ("sum", "index", "percentile", "ci_low", "ci_high", "class", "basis")]
    cols += ["battery", "battery_version", "norm_set", "notice", "error"]
    return cols


def score_row(bat: Battery, header: list[str], row: list[str], level: int, method: str,
              detail: dict | None = None) -> dict[str, str]:
    """The derived CSV cells of one row. When `detail` is given it receives the age in
    months, the scaled scores and the index scores of the computed composites (for the
    profile analysis)."""
    cells = dict(zip(header, row))
    out: dict[str, str] = {}
    if cells.get("id", "") == "":
        raise RowError("id is empty")
    birth = parse_date(cells["birth_date"], "birth date")
    test = parse_date(cells["test_date"], "test date")
    y, m, d = calendar_age(birth, test)
    months = 12 * y + m
    if not (bat.age_min <= months <= bat.age_max):
        raise RowError(
            f"age {y}:{m}:{d} ({months} months) outside the battery's range "
            f"{bat.age_min}-{bat.age_max} months"
        )
    raws: dict[str, int] = {}
    for sid in bat.subtests:
        text = cells.get(sid, "")
        if text == "":
            continue
        raws[sid] = parse_raw(text, sid, bat.raw_max[sid])

    out["age"] = f"{y}:{m}:{d}"
    sc = bat.scaled_scale
    scaled: dict[str, int] = {}
    for sid in bat.subtests:
        if sid in raws:
            s = bat.scaled(sid, months, raws[sid])
            scaled[sid] = s
            out[f"{sid}_scaled"] = str(s)
            out[f"{sid}_percentile"] = fmt_pct(100.0 * float(norm.cdf((s - sc["mean"]) / sc["sd"])))

    ix = bat.index_scale
    z = z_for_level(level)
    indices: dict[str, int] = {}
    for c in bat.composites:
        cid = c["id"]
        res = composite_sum(c, scaled)
        if res is None:
            continue
        total, basis = res
        idx, pct = bat.index(cid, total)
        r = bat.reliability(cid, months)
        lo, hi = confidence_interval(idx, ix["mean"], ix["sd"], r, z, method, ix["min"], ix["max"])
        out[f"{cid}_sum"] = str(total)
        out[f"{cid}_index"] = str(idx)
        out[f"{cid}_percentile"] = fmt_pct(pct)
        out[f"{cid}_ci_low"] = str(lo)
        out[f"{cid}_ci_high"] = str(hi)
        out[f"{cid}_class"] = bat.classify(idx)
        out[f"{cid}_basis"] = basis
        indices[cid] = idx
    if detail is not None:
        detail.update(months=months, scaled=scaled, indices=indices)
    return out


# --------------------------------------------------------------------------- profile

ALPHAS = (Fraction(5, 100), Fraction(15, 100))  # ascending: the smallest significant one is named


def alpha_key(alpha: Fraction) -> str:
    return f"{float(alpha):.2f}"


def check_tie(d, crit: float, what: str) -> None:
    if abs(abs(float(d)) - crit) < 1e-9:
        print(f"warning: {what}: |D| = {float(abs(d))!r} is within 1e-9 of the critical value "
              f"{crit!r}; implementations may legitimately differ here", file=sys.stderr)


def significance(d, crits: dict[str, float], what: str) -> str | None:
    """The smallest alpha at which |D| >= critical value, else None."""
    for a in ALPHAS:
        check_tie(d, crits[alpha_key(a)], what)
    for a in ALPHAS:
        if abs(d) >= crits[alpha_key(a)]:
            return alpha_key(a)
    return None


def strengths_weaknesses(bat: Battery, months: int, scaled: dict[str, int]) -> dict | None:
    """SCORING.md "Strengths and weaknesses (Davis 1959)"."""
    core = [sid for sid in bat.core if sid in scaled]  # administered core subtests, battery order
    k = len(core)
    if k < bat.min_core_subtests or k < 2:
        return None
    total = sum(scaled[sid] for sid in core)
    mean = Fraction(total, k)  # exact; written as a float
    sd = bat.scaled_scale["sd"]
    sem = {sid: sd * math.sqrt(1.0 - bat.reliability(sid, months)) for sid in core}
    sum_sem2 = sum(sem[sid] ** 2 for sid in core)
    subtests = []
    for sid in core:
        d = scaled[sid] - mean  # exact Fraction
        se = math.sqrt((1.0 - 2.0 / k) * sem[sid] ** 2 + sum_sem2 / k**2)
        crits = {}
        for a in ALPHAS:
            a_prime = a / k if bat.multiple_comparisons == "bonferroni" else a
            crits[alpha_key(a)] = float(norm.isf(float(a_prime) / 2.0)) * se
        sig = significance(d, crits, f"{sid} against the core mean")
        direction = None
        if sig is not None:
            direction = "strength" if d > 0 else "weakness"
        subtests.append(
            {
                "id": sid,
                "scaled": scaled[sid],
                "difference": float(d),
                "critical": crits,
                "significance": sig,
                "direction": direction,
                "base_rate": bat.base_rate(f"{sid}:core_mean", d),
            }
        )
    return {"mean": float(mean), "k": k, "subtests": subtests}


def discrepancies(bat: Battery, months: int, indices: dict[str, int]) -> list[dict]:
    """SCORING.md "Pairwise discrepancies"."""
    ids = [c["id"] for c in bat.composites if c["kind"] == "index" and c["id"] in indices]
    sd = bat.index_scale["sd"]
    out = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            d = indices[a] - indices[b]
            sem_a = sd * math.sqrt(1.0 - bat.reliability(a, months))
            sem_b = sd * math.sqrt(1.0 - bat.reliability(b, months))
            se = math.sqrt(sem_a**2 + sem_b**2)
            crits = {alpha_key(al): float(norm.isf(float(al) / 2.0)) * se for al in ALPHAS}
            out.append(
                {
                    "a": a,
                    "b": b,
                    "difference": d,
                    "critical": crits,
                    "significance": significance(d, crits, f"{a}-{b}"),
                    "base_rate": bat.base_rate(f"{a}:{b}", d),
                }
            )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--battery", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--ci", type=int, choices=[68, 90, 95, 99], default=95)
    ap.add_argument("--ci-method", choices=["true-score", "obtained"], default="true-score")
    ap.add_argument("--format", choices=["csv", "json"], default="csv",
                    help="csv: the score CSV; json: JSON Lines with the profile analysis")
    args = ap.parse_args(argv)

    try:
        bat = Battery(args.battery)
    except (NormError, KeyError, tomllib.TOMLDecodeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    with open(args.input, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        print("error: empty input", file=sys.stderr)
        return 2
    header = rows[0]
    if header[:3] != ["id", "birth_date", "test_date"]:
        print("error: input must start with id,birth_date,test_date", file=sys.stderr)
        return 2
    if len(set(header)) != len(header):
        print("error: duplicate input column", file=sys.stderr)
        return 2
    for col in header[3:]:
        if col not in bat.raw_max:
            print(f"error: input column {col!r} is not a subtest of {bat.id}", file=sys.stderr)
            return 2

    out_header = output_header(bat, header)
    derived = out_header[len(header):]
    out_rows = []
    profiles = []
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            print(f"error: {args.input}: line {lineno}: {len(row)} fields, header has {len(header)}", file=sys.stderr)
            return 2
        profile = {"id": row[0], "strengths_weaknesses": None, "discrepancies": [], "error": None}
        detail: dict = {}
        meta = {
            "battery": bat.id,
            "battery_version": bat.version,
            "norm_set": bat.norm_set,
            "notice": bat.notice,
        }
        try:
            scores = score_row(bat, header, row, args.ci, args.ci_method, detail)
            scores.update(meta)
            scores["error"] = ""
            profile["strengths_weaknesses"] = strengths_weaknesses(bat, detail["months"], detail["scaled"])
            profile["discrepancies"] = discrepancies(bat, detail["months"], detail["indices"])
        except RowError as e:
            scores = dict(meta)
            scores["error"] = str(e)
            profile["error"] = str(e)
        out_rows.append(list(row) + [scores.get(c, "") for c in derived])
        profiles.append(profile)

    if args.format == "json":
        with open(args.output, "w", newline="", encoding="utf-8") as fh:
            for profile in profiles:
                fh.write(json.dumps(profile, ensure_ascii=False) + "\n")
        return 0

    with open(args.output, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(out_header)
        w.writerows(out_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
