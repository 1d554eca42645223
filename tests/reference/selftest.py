#!/usr/bin/env python3
"""Self-test of independent_scorer.py and compare.py on a hand-written toy battery.

Usage: python3 tests/reference/selftest.py      (exit 0 = all checks pass)

The toy battery (three subtests a, b, c; composites ab = a+b with proration of one member
and the substitution a <- c, and abc = a+b+c with proration of one member; index scale
narrowed to 55-145 to exercise clipping) is written to a temporary folder. Every expected
value below was worked out by hand from SCORING.md; the arithmetic is in the comments.
The norm-set hash was computed with the shell, independently of the Python code:
  ( for f in battery.toml subtests.csv composites.csv reliability.csv provenance.toml; do
      printf '%s\\0%s\\0' "$f" "$(stat -c %s $f)"; cat $f; done ) | sha256sum
"""

import csv
import datetime as dt
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import independent_scorer as sc  # noqa: E402

TOY = {
    "battery.toml": """\
id = "toy"
version = "0.0.1"
age_policy = "calendar-exact"
age_min_months = 60
age_max_months = 71
names = { en = "Toy battery" }

[scales]
index = { mean = 100, sd = 15, min = 55, max = 145 }

[[classification]]
id = "low"
max = 89
[[classification]]
id = "average"
min = 90
max = 109
[[classification]]
id = "high"
min = 110

[[subtest]]
id = "a"
domain = "Gc"
core = true
items = [ { id = "a1", max = 1 }, { id = "a2", max = 2 }, { id = "a3", max = 2 } ]

[[subtest]]
id = "b"
domain = "Gf"
core = true
raw_max = 4

[[subtest]]
id = "c"
domain = "Gc"
core = false
raw_max = 10

[[composite]]
id = "ab"
kind = "general"
domain = "g"
subtests = ["a", "b"]
max_prorated = 1
substitutions = [ { replace = "a", with = "c" } ]

[[composite]]
id = "abc"
kind = "index"
domain = "Gc"
subtests = ["a", "b", "c"]
max_prorated = 1
""",
    "subtests.csv": """\
subtest,age_min_months,age_max_months,raw_min,raw_max,scaled
a,60,65,0,1,7
a,60,65,2,3,10
a,60,65,4,5,13
a,66,71,0,2,7
a,66,71,3,4,10
a,66,71,5,5,13
b,60,65,0,0,1
b,60,65,1,1,5
b,60,65,2,2,10
b,60,65,3,3,15
b,60,65,4,4,19
b,66,71,0,1,1
b,66,71,2,2,8
b,66,71,3,3,12
b,66,71,4,4,19
c,60,71,0,4,8
c,60,71,5,10,12
""",
    "composites.csv": """\
composite,sum_min,sum_max,index,percentile
ab,2,10,70,2.3
ab,11,19,90,25.2
ab,20,20,100,50.0
ab,21,29,110,74.8
ab,30,38,130,97.7
abc,3,17,60,0.4
abc,18,26,80,9.1
abc,27,33,100,50.0
abc,34,40,115,84.1
abc,41,57,140,99.6
""",
    "reliability.csv": """\
scale,age_min_months,age_max_months,reliability
a,60,71,0.85
b,60,71,0.80
c,60,71,0.75
ab,60,65,0.90
ab,66,71,0.80
abc,60,71,0.95
""",
    "provenance.toml": """\
battery = "toy"
status = "demonstration"
notice = "demonstration norms — not for clinical decisions"
method = "hand-written toy"
created = "2026-11-24"
sample_size = 0
generator = "by hand"
intended_use = "self-test of the independent scorer"
""",
    "input.csv": """\
id,birth_date,test_date,c,a,b
t1,2020-01-15,2025-03-10,5,3,2
t2,2019-08-31,2025-02-28,7,,4
t3,2020-03-01,2025-03-01,,5,
t4,2020-01-01,2025-06-01,,2,0
t5,2020-01-01,2025-06-01,,6,0
t6,2020-01-01,2025-06-01,,-1,0
t7,2020-01-01,2025-06-01,,2.5,0
t8,2020-01-01,2025-06-01,x,2,0
,2020-01-01,2025-06-01,,2,0
t10,2020-02-30,2025-06-01,,2,0
t11,2025-06-02,2025-06-01,,2,0
t12,2020-07-02,2025-06-01,,2,0
t13,2019-06-01,2025-06-01,,2,0
t14,2020-01-01,2025-6-01,,2,0
t16,2020-01-01,2025-12-31,,,
t17,2020-01-31,2025-03-30,,,1
""",
}

HASH = "sha256:3feaf6f17e047fe4460e6fec8f95985b1a5aa6066d298c21d99dcc815e1f0483"

E = ""  # empty cell
# Default run: 95 %, true-score. z95 = 1.959963984540054.
#   ab r=.90 (60-65 months): SEE = 15*sqrt(.09) = 4.5, z*SEE = 8.8198
#   ab r=.80 (66-71 months): SEE = 15*sqrt(.16) = 6,   z*SEE = 11.7598
#   abc r=.95:               SEE = 15*sqrt(.0475) = 3.26917, z*SEE = 6.4075
DEFAULT = {
    # t1: 2020-01-15 -> 2025-03-10: +61 months = 2025-02-15, +23 days -> 5:1:23, band 60-65.
    #   a 3->10, b 2->10, c 5->12 (pct 100*Phi(2/3) = 74.75).
    #   ab = 20 -> 100 (50.0); centre 100, 100 -/+ 8.82 -> 91, 109.
    #   abc = 32 -> 100; 100 -/+ 6.41 -> 94, 106 (93.59, 106.41).
    "t1": dict(age="5:1:23", a_scaled="10", a_percentile="50.0", b_scaled="10", b_percentile="50.0",
               c_scaled="12", c_percentile="74.8",
               ab_sum="20", ab_index="100", ab_percentile="50.0", ab_ci_low="91", ab_ci_high="109",
               ab_class="average", ab_basis="complete",
               abc_sum="32", abc_index="100", abc_percentile="50.0", abc_ci_low="94", abc_ci_high="106",
               abc_class="average", abc_basis="complete"),
    # t2: 2019-08-31 -> 2025-02-28: +66 months = 2025-02-28 (month-end clamp) -> 5:6:0, band 66-71.
    #   a missing, b 4->19 (Phi(3) = 99.865), c 7->12.
    #   ab: a <- c substituted: 19+12 = 31 -> 130; r=.8: centre 124 -/+ 11.76 -> 112, 136.
    #   abc: a missing, no substitution, prorate 31*3/2 = 46.5 -> 47 -> 140; centre 138 -/+ 6.41 -> 132, 144.
    "t2": dict(age="5:6:0", a_scaled=E, a_percentile=E, b_scaled="19", b_percentile="99.9",
               c_scaled="12", c_percentile="74.8",
               ab_sum="31", ab_index="130", ab_percentile="97.7", ab_ci_low="112", ab_ci_high="136",
               ab_class="high", ab_basis="substituted",
               abc_sum="47", abc_index="140", abc_percentile="99.6", abc_ci_low="132", abc_ci_high="144",
               abc_class="high", abc_basis="prorated"),
    # t3: exactly 5:0:0. a 5->13 (Phi(1) = 84.13). ab: b missing, no substitute for b: prorate 13*2 = 26
    #   -> 110; centre 109 -/+ 8.82 -> 100, 118 (100.18, 117.82). abc: 2 missing > 1: not computed.
    "t3": dict(age="5:0:0", a_scaled="13", a_percentile="84.1", b_scaled=E, c_scaled=E,
               ab_sum="26", ab_index="110", ab_ci_low="100", ab_ci_high="118", ab_class="high",
               ab_basis="prorated", abc_sum=E, abc_index=E, abc_percentile=E, abc_ci_low=E,
               abc_ci_high=E, abc_class=E, abc_basis=E),
    # t4: 5:5:0. a 2->10, b 0->1 (Phi(-3) = 0.135 -> 0.1). ab = 11 -> 90; centre 91 -/+ 8.82 -> 82, 100.
    #   abc: c missing: 11*3/2 = 16.5 -> 17 (half AWAY from zero; half-even would give 16 -> same
    #   band, so the sum column is what shows it) -> 60; centre 62 -/+ 6.41 -> 56, 68.
    "t4": dict(age="5:5:0", b_percentile="0.1", ab_sum="11", ab_index="90", ab_ci_low="82",
               ab_ci_high="100", ab_class="average", ab_basis="complete",
               abc_sum="17", abc_index="60", abc_percentile="0.4", abc_ci_low="56", abc_ci_high="68",
               abc_class="low", abc_basis="prorated"),
    # t16: 2020-01-01 -> 2025-12-31: 71 months + 30 days, nothing administered: age only.
    "t16": dict(age="5:11:30", a_scaled=E, ab_sum=E, abc_sum=E, error=E),
    # t17: 2020-01-31 -> 2025-03-30: +61 months = 2025-02-28, +30 days -> 5:1:30 (not chained).
    #   b 1->5 (Phi(-5/3) = 4.78). ab: a missing, c not given: prorate 5*2 = 10 -> 70 (2.3);
    #   centre 73 -/+ 8.82 -> 64, 82.
    "t17": dict(age="5:1:30", b_scaled="5", b_percentile="4.8", ab_sum="10", ab_index="70",
                ab_percentile="2.3", ab_ci_low="64", ab_ci_high="82", ab_class="low", ab_basis="prorated",
                abc_sum=E),
}
BAD = ["t5", "t6", "t7", "t8", "", "t10", "t11", "t12", "t13", "t14"]

# --ci 90 --ci-method obtained: z90 = 1.6448536; ab r=.9: 15*sqrt(.1)*z = 7.8023; r=.8: 11.0336;
# abc r=.95: 15*sqrt(.05)*z = 5.5170.
CI90_OBTAINED = {
    "t1": dict(ab_ci_low="92", ab_ci_high="108", abc_ci_low="94", abc_ci_high="106"),    # 92.20 107.80 / 94.48 105.52
    "t2": dict(ab_ci_low="119", ab_ci_high="141", abc_ci_low="134", abc_ci_high="145"),  # 118.97 141.03 / 134.48 145.52->146 clip 145
    "t4": dict(ab_ci_low="82", ab_ci_high="98", abc_ci_low="55", abc_ci_high="66"),      # 82.20 97.80 / 54.48->54 clip 55, 65.52
}
# --ci 99 --ci-method obtained: z99 = 2.5758293; ab r=.8: 15*sqrt(.2)*z = 17.279; abc: 8.6396.
CI99_OBTAINED = {
    "t2": dict(ab_ci_low="113", ab_ci_high="145", abc_ci_low="131", abc_ci_high="145"),  # 112.72, 147.28 clip; 131.36, 148.64 clip
    "t4": dict(abc_ci_low="55", abc_ci_high="69"),                                        # 51.36 clip, 68.64
}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(folder, *extra):
    out = os.path.join(folder, "out.csv")
    subprocess.run([sys.executable, os.path.join(HERE, "independent_scorer.py"), "--battery", folder,
                    "--input", os.path.join(folder, "input.csv"), "--output", out, *extra], check=True)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return out, {r["id"]: r for r in rows}


def expect(rows, table, label):
    for rid, cells in table.items():
        for col, val in cells.items():
            got = rows[rid][col]
            check(got == val, f"{label} {rid!r} {col}: expected {val!r}, got {got!r}")


def unit_checks():
    r = sc.round_half_away
    for x, want in [(2.5, 3), (-2.5, -3), (0.5, 1), (-0.5, -1), (1.4999999999999998, 1), (3.5, 4),
                    (Fraction(33, 2), 17), (Fraction(-33, 2), -17), (0.49999999999999994, 0), (7, 7)]:
        check(r(x) == want, f"round_half_away({x}) = {r(x)}, want {want}")
    d = dt.date.fromisoformat
    for b, t, want in [("2020-01-31", "2020-03-30", (0, 1, 30)), ("2020-01-31", "2020-02-29", (0, 1, 0)),
                       ("2016-02-29", "2017-02-28", (1, 0, 0)), ("2016-02-29", "2017-03-28", (1, 0, 28)),
                       ("2016-02-29", "2017-03-29", (1, 1, 0)), ("2014-08-01", "2026-07-31", (11, 11, 30)),
                       ("2014-03-31", "2026-03-30", (11, 11, 30)), ("2014-03-31", "2026-03-31", (12, 0, 0)),
                       ("2020-05-05", "2020-05-05", (0, 0, 0)), ("2019-12-31", "2020-01-30", (0, 0, 30))]:
        got = sc.calendar_age(d(b), d(t))
        check(got == want, f"calendar_age({b}, {t}) = {got}, want {want}")
    check(abs(sc.z_for_level(95) - 1.959963984540054) < 1e-12, "z95")
    check(abs(sc.z_for_level(68) - 0.994457883209753) < 1e-12, "z68")
    # composite rules on a gac-like composite: 7 members, one substitute each, max 1 sub, max 1 prorated
    comp = dict(members=["m1", "m2", "m3"], max_prorated=1, max_substitutions=1,
                substitutions=[("m1", "s1"), ("m1", "s2"), ("m2", "s1"), ("m3", "m2")])
    cs = sc.composite_sum
    check(cs(comp, dict(m1=10, m2=10, m3=10)) == (30, "complete"), "complete")
    check(cs(comp, dict(m2=10, m3=10, s1=5, s2=19)) == (25, "substituted"), "first listed substitute")
    check(cs(comp, dict(m2=10, m3=10, s2=19)) == (39, "substituted"), "second substitute when first absent")
    check(cs(comp, dict(m1=10, m2=11)) == (32, "prorated"), "member as substitute refused -> prorate 21*3/2=31.5->32")
    check(cs(comp, dict(m3=10, s1=5, s2=7)) is None, "two missing, max 1 substitution, max 1 prorated")
    check(cs(comp, dict(m2=9, m3=10)) == (29, "prorated"), "prorate 19*3/2 = 28.5 -> 29")


def compare_checks(folder, out):
    cmp = [sys.executable, os.path.join(HERE, "compare.py")]
    same = subprocess.run(cmp + [out, out], capture_output=True, text=True)
    check(same.returncode == 0 and "16 rows, 512 cells agree" in same.stdout, f"compare same: {same.stdout}")
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    err = rows[0].index("error")
    reworded = [list(r) for r in rows]
    for r in reworded[1:]:
        if r[err]:
            r[err] = "some other wording"
    p2 = os.path.join(folder, "reworded.csv")
    with open(p2, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(reworded)
    res = subprocess.run(cmp + [out, p2], capture_output=True, text=True)
    check(res.returncode == 0, "compare: error wording must not matter")
    reworded[1][err] = "now an error"
    reworded[2][rows[0].index("ab_index")] = "999"
    with open(p2, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(reworded)
    res = subprocess.run(cmp + [out, p2], capture_output=True, text=True)
    check(res.returncode == 1 and res.stdout.count("!=") == 2, f"compare must report 2 mismatches: {res.stdout}")


def main():
    unit_checks()
    with tempfile.TemporaryDirectory() as folder:
        for name, text in TOY.items():
            with open(os.path.join(folder, name), "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        out, rows = run(folder)
        header = list(next(csv.reader(open(out, encoding="utf-8"))))
        want_header = (["id", "birth_date", "test_date", "c", "a", "b", "age",
                        "a_scaled", "a_percentile", "b_scaled", "b_percentile", "c_scaled", "c_percentile"]
                       + [f"{c}_{x}" for c in ("ab", "abc")
                          for x in ("sum", "index", "percentile", "ci_low", "ci_high", "class", "basis")]
                       + ["battery", "battery_version", "norm_set", "notice", "error"])
        check(header == want_header, f"header {header}")
        expect(rows, DEFAULT, "default")
        for rid, r in rows.items():
            check(r["norm_set"] == HASH, f"{rid!r} norm_set {r['norm_set']}")
            check(r["notice"] == "demonstration norms — not for clinical decisions", f"{rid!r} notice")
            check(r["battery"] == "toy" and r["battery_version"] == "0.0.1", f"{rid!r} battery")
            if rid in BAD:
                check(r["error"] != "", f"{rid!r} must be a bad row")
                derived = [c for c in want_header[7 - 1:] if c not in ("battery", "battery_version", "norm_set", "notice", "error")]
                check(all(r[c] == "" for c in derived), f"{rid!r} bad row with derived cells")
            else:
                check(r["error"] == "", f"{rid!r} unexpected error {r['error']}")
        _, rows90 = run(folder, "--ci", "90", "--ci-method", "obtained")
        expect(rows90, CI90_OBTAINED, "ci90-obtained")
        _, rows99 = run(folder, "--ci", "99", "--ci-method", "obtained")
        expect(rows99, CI99_OBTAINED, "ci99-obtained")
        compare_checks(folder, out)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("selftest: all checks pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
