#!/usr/bin/env python3
"""Automatic item generation (AIG) for the DEMONSTRATION screener qabilet-screener-demo.

Deterministic (Python 3 standard library only, one random.Random seeded from generator.toml):
running it twice writes the same bytes. It writes, relative to this folder:

  content/<subtest>.toml         item content: stimulus, options, key, practice flag, features
  content/<subtest>/*.svg        every stimulus and option, and the animated worked example
  items/fm.json                  the Rasch item bank of the adaptive subtest fm
  standardisation/sample.csv     the simulated standardisation sample (with item scores)
  standardisation/item_parameters.csv   every scored item's features and difficulty

Item difficulty is the linear logistic test model of generator.toml, b = c + sum_k q_k eta_k,
applied to the feature counts each item is built to. No parameter was estimated from
children. Formats: norms/FORMATS.md ("Item content"); the rules: generator.toml.

Subtests
  fm  figure matrices, 3x3 (Carpenter, Just & Shell 1990): four attributes of the figure in a
      cell (shape, count, size, shade), each either fixed over the matrix or following one rule
      over rows and columns: constant in a row, progression over columns, distribution of three
      values. The bottom-right cell is missing; six options: the key, a decoy differing from
      it in one rule attribute, three variants of the decoy and one of the key.
  qs  quantity series: four groups of dots (rows of five) and a missing fifth; the rule is
      arithmetic (+d, -d), multiplicative (x2, /2), alternating or growing differences.
  pf  paper folding: a square sheet folded one to three times in halves, then punched; the
      options show the unfolded sheet. Holes sit on a 4x4 grid; unfolding mirrors each hole
      across the fold line.
"""

import csv
import io
import json
import math
import os
import random
import tomllib
from datetime import date, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
INK = "#1a1a1a"
SHADES = {"white": "#ffffff", "grey": "#8c8c8c", "black": INK}
SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}">'
# Time limit of each whole subtest when self-administered (practice and worked example not
# counted): about a minute per matrix a child sees (at most 15), 40 s per series, 48 s per
# folding item; 37 minutes in all.
TIME_LIMITS = {"fm": 900, "qs": 600, "pf": 720}
NOTICE = (
    "DEMONSTRATION: parameters from the stated generating model (generator.toml, LLTM), "
    "not calibrated on children"
)


def fmt(x):
    """A coordinate without trailing zeros."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def lltm(model, features):
    """b = c + sum_k q_k eta_k, rounded to 6 decimals (the value written everywhere)."""
    b = model["c"] + sum(model["eta"][k] * q for k, q in features.items())
    return round(b, 6)


# ---------------------------------------------------------------- figure matrices (fm)

FM_ATTRS = {
    "shape": ["circle", "square", "triangle", "diamond"],
    "count": [1, 2, 3],
    "size": ["s", "m", "l"],
    "shade": ["white", "grey", "black"],
}
FM_RADIUS = {"s": 10, "m": 16, "l": 23}
FM_PLACES = {1: [(50, 50)], 2: [(26, 50), (74, 50)], 3: [(50, 27), (26, 72), (74, 72)]}
FM_KINDS = {"shape": ["none", "constant", "distribution"]}
for _a in ("count", "size", "shade"):
    FM_KINDS[_a] = ["none", "constant", "progression", "distribution"]


def fm_shape(shape, x, y, r, fill):
    style = f'fill="{fill}" stroke="{INK}" stroke-width="3"'
    if shape == "circle":
        return f'<circle cx="{fmt(x)}" cy="{fmt(y)}" r="{fmt(r)}" {style}/>'
    if shape == "square":
        s = r * 0.88
        return f'<rect x="{fmt(x - s)}" y="{fmt(y - s)}" width="{fmt(2 * s)}" height="{fmt(2 * s)}" {style}/>'
    if shape == "triangle":
        pts = [(x, y - r), (x + r * 0.95, y + r * 0.8), (x - r * 0.95, y + r * 0.8)]
    else:
        pts = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
    return f'<polygon points="{" ".join(f"{fmt(a)},{fmt(b)}" for a, b in pts)}" {style}/>'


def fm_figure(cell, extra=""):
    """One cell's figure as a group with its attributes as data-* (read by the tests)."""
    r = FM_RADIUS[cell["size"]]
    parts = [fm_shape(cell["shape"], x, y, r, SHADES[cell["shade"]]) for x, y in FM_PLACES[cell["count"]]]
    attrs = " ".join(f'data-{a}="{cell[a]}"' for a in FM_ATTRS)
    return f'<g class="figure" {attrs}{extra}>{"".join(parts)}</g>'


def fm_grid(rules, rng):
    """The 3x3 cells of an item with the given rule per attribute."""
    grid = [[{} for _ in range(3)] for _ in range(3)]
    for attr, kind in rules.items():
        values = FM_ATTRS[attr]
        if kind == "none":
            v = rng.choice(values)
            cell_value = lambda r, c, v=v: v
        elif kind == "constant":
            vals = rng.sample(values, 3)
            cell_value = lambda r, c, vals=vals: vals[r]
        elif kind == "progression":
            vals = list(values) if rng.random() < 0.5 else list(reversed(values))
            cell_value = lambda r, c, vals=vals: vals[c]
        else:
            vals = rng.sample(values, 3)
            sign = rng.choice([1, -1])
            cell_value = lambda r, c, vals=vals, sign=sign: vals[(c + sign * r) % 3]
        for r in range(3):
            for c in range(3):
                grid[r][c][attr] = cell_value(r, c)
    return grid


def fm_distractors(key, rules, rng):
    """Five distractors built around a decoy, so that no option-only strategy finds the key.

    The decoy D is the key with one rule attribute changed (the likeliest slip); three
    distractors change one further attribute of D each, and one changes another attribute of
    the key. Then the option holding the most common value of every attribute, and the option
    closest to all others, is the decoy, not the key (response elimination: Arendasy &
    Sommer 2013); only the rules single out the key.
    """
    ruled = [a for a in FM_ATTRS if rules[a] != "none"]
    first = rng.choice(ruled)
    other = lambda cell, attr: rng.choice([v for v in FM_ATTRS[attr] if v != cell[attr]])
    decoy = dict(key, **{first: other(key, first)})
    rest = [a for a in FM_ATTRS if a != first]
    out = [decoy] + [dict(decoy, **{a: other(decoy, a)}) for a in rest]
    a = rng.choice(rest)
    out.append(dict(key, **{a: other(key, a)}))
    return out


def fm_stimulus(grid):
    w = 340
    parts = [SVG_OPEN.format(w=w, h=w), f'<rect width="{w}" height="{w}" fill="#ffffff"/>']
    for r in range(3):
        for c in range(3):
            x, y = 10 + 110 * c, 10 + 110 * r
            if (r, c) == (2, 2):
                parts.append(
                    f'<g class="missing" transform="translate({x},{y})"><rect x="2" y="2" width="96" height="96" '
                    f'fill="#fff7cc" stroke="{INK}" stroke-width="3" stroke-dasharray="10 7"/></g>'
                )
                continue
            parts.append(
                f'<g class="cell" data-row="{r}" data-col="{c}" transform="translate({x},{y})">'
                f'<rect x="2" y="2" width="96" height="96" fill="#ffffff" stroke="{INK}" stroke-width="2"/>'
                f"{fm_figure(grid[r][c])}</g>"
            )
    parts.append("</svg>\n")
    return "".join(parts)


def option_svg(body):
    return (
        SVG_OPEN.format(w=100, h=100)
        + f'<rect x="2" y="2" width="96" height="96" fill="#ffffff" stroke="{INK}" stroke-width="2"/>'
        + body
        + "</svg>\n"
    )


def fm_profiles():
    """Every rule profile (a kind per attribute, at least one rule), easiest first."""
    profiles = [{}]
    for attr in FM_ATTRS:
        profiles = [dict(p, **{attr: k}) for p in profiles for k in FM_KINDS[attr]]
    profiles = [p for p in profiles if any(k != "none" for k in p.values())]
    return profiles


def fm_features(rules):
    kinds = list(rules.values())
    return {k: kinds.count(k) for k in ("constant", "progression", "distribution")}


def make_fm(model, rng):
    profiles = fm_profiles()
    profiles.sort(key=lambda p: (lltm(model, fm_features(p)), sorted(p.items())))
    n = 40
    chosen = [profiles[round(i * (len(profiles) - 1) / (n - 1))] for i in range(n)]
    practice = [
        {"shape": "constant", "count": "none", "size": "none", "shade": "none"},
        {"shape": "none", "count": "progression", "size": "none", "shade": "none"},
    ]
    items = []
    for i, rules in enumerate(practice + chosen):
        item_id = f"fmp{i + 1}" if i < 2 else f"fm{i - 1:02d}"
        grid = fm_grid(rules, rng)
        key_cell = grid[2][2]
        options = [key_cell] + fm_distractors(key_cell, rules, rng)
        order = list(range(6))
        rng.shuffle(order)
        options = [options[j] for j in order]
        key = order.index(0)
        items.append(
            {
                "id": item_id,
                "practice": i < 2,
                "stimulus": fm_stimulus(grid),
                "options": [option_svg(fm_figure(o)) for o in options],
                "key": key,
                "features": fm_features(rules),
                "rules": ", ".join(f"{a} {k}" for a, k in rules.items() if k != "none"),
            }
        )
    return items


# ---------------------------------------------------------------- quantity series (qs)

# (first terms, answer, rule in words, features); features per generator.toml [lltm.qs].
QS_SERIES = [
    ([1, 2, 3], 4, "+1", {"step": 0, "decreasing": 0, "two_rules": 0, "multiplicative": 0, "large": 0}),
    ([2, 4, 6], 8, "+2", {"step": 1, "decreasing": 0, "two_rules": 0, "multiplicative": 0, "large": 0}),
    ([1, 2, 3, 4], 5, "+1", {"step": 0, "decreasing": 0, "two_rules": 0, "multiplicative": 0, "large": 0}),
    ([20, 19, 17, 14], 10, "-1 -2 -3 growing", {"step": 3, "decreasing": 1, "two_rules": 1, "multiplicative": 0, "large": 0}),
    ([6, 5, 4, 3], 2, "-1", {"step": 0, "decreasing": 1, "two_rules": 0, "multiplicative": 0, "large": 0}),
    ([2, 4, 6, 8], 10, "+2", {"step": 1, "decreasing": 0, "two_rules": 0, "multiplicative": 0, "large": 0}),
    ([2, 6, 4, 8], 6, "+4 -2 alternating", {"step": 3, "decreasing": 0, "two_rules": 1, "multiplicative": 0, "large": 0}),
    ([3, 5, 7, 9], 11, "+2", {"step": 1, "decreasing": 0, "two_rules": 0, "multiplicative": 0, "large": 1}),
    ([1, 3, 6, 10], 15, "+2 +3 +4 growing", {"step": 4, "decreasing": 0, "two_rules": 1, "multiplicative": 0, "large": 1}),
    ([1, 4, 7, 10], 13, "+3", {"step": 2, "decreasing": 0, "two_rules": 0, "multiplicative": 0, "large": 1}),
    ([15, 12, 9, 6], 3, "-3", {"step": 2, "decreasing": 1, "two_rules": 0, "multiplicative": 0, "large": 0}),
    ([1, 2, 4, 5], 7, "+1 +2 alternating", {"step": 1, "decreasing": 0, "two_rules": 1, "multiplicative": 0, "large": 0}),
    ([2, 6, 10, 14], 18, "+4", {"step": 3, "decreasing": 0, "two_rules": 0, "multiplicative": 0, "large": 1}),
    ([1, 4, 3, 6], 5, "+3 -1 alternating", {"step": 2, "decreasing": 0, "two_rules": 1, "multiplicative": 0, "large": 0}),
    ([1, 2, 4, 8], 16, "x2", {"step": 0, "decreasing": 0, "two_rules": 0, "multiplicative": 1, "large": 1}),
    ([16, 8, 4, 2], 1, "/2", {"step": 0, "decreasing": 1, "two_rules": 0, "multiplicative": 1, "large": 0}),
    ([1, 2, 4, 7], 11, "+1 +2 +3 growing", {"step": 3, "decreasing": 0, "two_rules": 1, "multiplicative": 0, "large": 1}),
]
QS_PRACTICE = 2


def qs_dots(n, x0, y0):
    """n dots in rows of five (subitisable groups), centred in a 100x100 box at (x0, y0)."""
    rows = math.ceil(n / 5)
    out = []
    for i in range(n):
        r, c = divmod(i, 5)
        in_row = min(5, n - 5 * r)
        x = x0 + 50 + (c - (in_row - 1) / 2) * 18
        y = y0 + 50 + (r - (rows - 1) / 2) * 18
        out.append(f'<circle class="dot" cx="{fmt(x)}" cy="{fmt(y)}" r="7" fill="{INK}"/>')
    return "".join(out)


def qs_stimulus(terms):
    n = len(terms) + 1
    w = 10 + 110 * n
    parts = [SVG_OPEN.format(w=w, h=120), f'<rect width="{w}" height="120" fill="#ffffff"/>']
    for i, t in enumerate(terms):
        x = 10 + 110 * i
        parts.append(
            f'<g class="term"><rect x="{x + 2}" y="12" width="96" height="96" fill="#ffffff" stroke="{INK}" '
            f'stroke-width="2"/>{qs_dots(t, x, 10)}</g>'
        )
    x = 10 + 110 * len(terms)
    parts.append(
        f'<g class="missing"><rect x="{x + 2}" y="12" width="96" height="96" fill="#fff7cc" stroke="{INK}" '
        f'stroke-width="3" stroke-dasharray="10 7"/></g>'
    )
    parts.append("</svg>\n")
    return "".join(parts)


def qs_distractors(terms, answer, rng):
    """Four counts around the answer, the likeliest errors first (the last term repeated, the
    last step repeated, a step too far), with the answer's rank among the five options drawn
    at random, so that neither "the middle one" nor "the biggest" finds the key."""
    d = terms[-1] - terms[-2]
    errors = [terms[-1], terms[-1] + d, terms[-1] - d, answer + (3 if d > 0 else -3)]
    ok = lambda v: 1 <= v <= 20 and v != answer
    below = [v for v in errors if ok(v) and v < answer]
    above = [v for v in errors if ok(v) and v > answer]
    below += [answer - k for k in range(1, 6) if ok(answer - k)]
    above += [answer + k for k in range(1, 6) if ok(answer + k)]
    below = list(dict.fromkeys(below))
    above = list(dict.fromkeys(above))
    n_below = min(rng.randrange(5), len(below))
    n_below = max(n_below, 4 - len(above))
    return below[:n_below] + above[: 4 - n_below]


def make_qs(model, rng):
    items = []
    for i, (terms, answer, rule, features) in enumerate(QS_SERIES):
        practice = i < QS_PRACTICE
        item_id = f"qsp{i + 1}" if practice else f"qs{i - QS_PRACTICE + 1:02d}"
        options = [answer] + qs_distractors(terms, answer, rng)
        order = list(range(len(options)))
        rng.shuffle(order)
        options = [options[j] for j in order]
        items.append(
            {
                "id": item_id,
                "practice": practice,
                "stimulus": qs_stimulus(terms),
                "options": [option_svg(qs_dots(v, 0, 0)) for v in options],
                "key": order.index(0),
                "features": features,
                "rules": rule,
            }
        )
    # administration order: practice first, then by difficulty (stable)
    scored = sorted(items[QS_PRACTICE:], key=lambda it: lltm(model, it["features"]))
    for j, it in enumerate(scored):
        it["id"] = f"qs{j + 1:02d}"
    return items[:QS_PRACTICE] + scored


# ---------------------------------------------------------------- paper folding (pf)

# Fold codes: the half of the current region that stays. L: the right half is folded onto the
# left; R: left onto right; U: bottom onto top; D: top onto bottom.
PF_PLAN = [  # (folds, holes); practice first; three folds take one hole (eight after unfolding)
    ("L", 1), ("D", 1),
    ("L", 1), ("U", 1), ("R", 2), ("D", 2), ("LD", 1), ("RU", 1), ("L", 3),
    ("DL", 2), ("UR", 2), ("LU", 2), ("RD", 3), ("LDL", 1), ("URU", 1), ("RDL", 1), ("DLU", 1),
]
PF_PRACTICE = 2
CELL = 25.0


def pf_regions(folds):
    """The region (x0, x1, y0, y1) in grid cells before each fold, and the final one."""
    region = (0, 4, 0, 4)
    out = [region]
    for f in folds:
        x0, x1, y0, y1 = region
        mx, my = (x0 + x1) // 2, (y0 + y1) // 2
        region = {"L": (x0, mx, y0, y1), "R": (mx, x1, y0, y1), "U": (x0, x1, y0, my), "D": (x0, x1, my, y1)}[f]
        out.append(region)
    return out


def pf_unfold(folds, holes):
    regions = pf_regions(folds)
    cur = set(holes)
    for f, (x0, x1, y0, y1) in reversed(list(zip(folds, regions))):
        if f in "LR":
            cur |= {(x0 + x1 - 1 - x, y) for x, y in cur}
        else:
            cur |= {(x, y0 + y1 - 1 - y) for x, y in cur}
    return cur


def pf_sheet(region, full=False):
    x0, x1, y0, y1 = region
    return (
        f'<rect x="0" y="0" width="100" height="100" fill="none" stroke="#bbbbbb" stroke-width="1.5" '
        f'stroke-dasharray="4 4"/>' * (not full)
        + f'<rect x="{fmt(x0 * CELL)}" y="{fmt(y0 * CELL)}" width="{fmt((x1 - x0) * CELL)}" '
        f'height="{fmt((y1 - y0) * CELL)}" fill="#dff0ff" stroke="{INK}" stroke-width="2.5"/>'
    )


def pf_arrow(fold, region):
    """A curved arrow from the half that moves to the half that stays, over the fold line."""
    x0, x1, y0, y1 = (v * CELL for v in region)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    q = {"L": ((x1 + mx) / 2, my, (x0 + mx) / 2, my), "R": ((x0 + mx) / 2, my, (x1 + mx) / 2, my),
         "U": (mx, (y1 + my) / 2, mx, (y0 + my) / 2), "D": (mx, (y0 + my) / 2, mx, (y1 + my) / 2)}[fold]
    sx, sy, ex, ey = q
    if fold in "LR":
        cx, cy = (sx + ex) / 2, sy - 30
        line = f'<line x1="{fmt(mx)}" y1="{fmt(y0)}" x2="{fmt(mx)}" y2="{fmt(y1)}"'
    else:
        cx, cy = sx + 30, (sy + ey) / 2
        line = f'<line x1="{fmt(x0)}" y1="{fmt(my)}" x2="{fmt(x1)}" y2="{fmt(my)}"'
    # arrowhead: a triangle at the end, pointing along the last tangent
    tx, ty = ex - cx, ey - cy
    n = math.hypot(tx, ty)
    tx, ty = tx / n, ty / n
    head = [(ex, ey), (ex - 9 * tx + 5 * ty, ey - 9 * ty - 5 * tx), (ex - 9 * tx - 5 * ty, ey - 9 * ty + 5 * tx)]
    return (
        line + f' stroke="{INK}" stroke-width="2.5" stroke-dasharray="7 5"/>'
        f'<path d="M{fmt(sx)},{fmt(sy)} Q{fmt(cx)},{fmt(cy)} {fmt(ex)},{fmt(ey)}" fill="none" stroke="#d62828" '
        f'stroke-width="3.5"/><polygon points="{" ".join(f"{fmt(a)},{fmt(b)}" for a, b in head)}" fill="#d62828"/>'
    )


def pf_holes(holes, cls):
    return "".join(
        f'<circle class="{cls}" cx="{fmt((x + 0.5) * CELL)}" cy="{fmt((y + 0.5) * CELL)}" r="7" fill="{INK}"/>'
        for x, y in sorted(holes, key=lambda h: (h[1], h[0]))
    )


def pf_stimulus(folds, holes):
    regions = pf_regions(folds)
    n = len(folds) + 1
    w = 10 + 130 * n
    parts = [SVG_OPEN.format(w=w, h=140), f'<rect width="{w}" height="140" fill="#ffffff"/>']
    for i, fold in enumerate(folds):
        parts.append(
            f'<g class="fold" data-fold="{fold}" transform="translate({20 + 130 * i},20)">'
            f"{pf_sheet(regions[i], full=i == 0)}{pf_arrow(fold, regions[i])}</g>"
        )
    parts.append(
        f'<g class="punched" transform="translate({20 + 130 * len(folds)},20)">{pf_sheet(regions[-1])}'
        f'{pf_holes(holes, "punch")}</g>'
    )
    parts.append("</svg>\n")
    return "".join(parts)


def pf_option(holes):
    return (
        SVG_OPEN.format(w=120, h=120)
        + f'<g transform="translate(10,10)">{pf_sheet((0, 4, 0, 4), full=True)}{pf_holes(holes, "hole")}</g></svg>\n'
    )


def pf_distractors(folds, holes, key, rng):
    key = frozenset(key)
    mirror_x = frozenset((3 - x, y) for x, y in key)
    mirror_y = frozenset((x, 3 - y) for x, y in key)
    cands = [frozenset(holes), frozenset(pf_unfold(folds[-1:], holes)) if len(folds) > 1 else None]
    wrong_axis = "".join({"L": "U", "R": "D", "U": "L", "D": "R"}[f] for f in folds)
    cands.append(frozenset(pf_unfold(wrong_axis, holes)) if len(set(wrong_axis)) == len(set(folds)) else None)
    cands += [mirror_x, mirror_y]
    ks = sorted(key)
    rng.shuffle(ks)
    cands.append(key - {ks[0]})
    free = sorted({(x, y) for x in range(4) for y in range(4)} - key)
    if free:
        cands.append(key | {rng.choice(free)})
        cands.append((key - {ks[0]}) | {rng.choice(free)})
    out = []
    for c in cands:
        if c and c != key and c not in out:
            out.append(c)
    return out[:4]


def make_pf(model, rng):
    items = []
    for i, (folds, nholes) in enumerate(PF_PLAN):
        practice = i < PF_PRACTICE
        region = pf_regions(folds)[-1]
        cells = [(x, y) for x in range(region[0], region[1]) for y in range(region[2], region[3])]
        holes = sorted(rng.sample(cells, nholes))
        key = pf_unfold(folds, holes)
        options = [key] + pf_distractors(folds, holes, key, rng)
        assert len(options) == 5, folds
        order = list(range(5))
        rng.shuffle(order)
        options = [options[j] for j in order]
        items.append(
            {
                "id": f"pfp{i + 1}" if practice else "",
                "practice": practice,
                "stimulus": pf_stimulus(folds, holes),
                "options": [pf_option(o) for o in options],
                "key": order.index(0),
                "features": {"folds": len(folds), "extra_holes": nholes - 1},
                "rules": f"folds {' '.join(folds)}, {nholes} hole(s)",
            }
        )
    scored = sorted(items[PF_PRACTICE:], key=lambda it: lltm(model, it["features"]))
    for j, it in enumerate(scored):
        it["id"] = f"pf{j + 1:02d}"
    return items[:PF_PRACTICE] + scored


# ---------------------------------------------------------------- worked examples


def nested(svg, x, y, w, h):
    """An SVG document placed as a nested <svg> element at (x, y), scaled to w x h."""
    head, body = svg.split(">", 1)
    vb = head.split('viewBox="')[1].split('"')[0]
    body = body.rsplit("</svg>", 1)[0]
    return f'<svg x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" viewBox="{vb}">{body}</svg>'


def worked_example(item):
    """The first practice item solved in a loop: a pointer moves to the key, which is ringed.

    SMIL animation only (no script): 6 s per loop; the pointer travels in the first 2.5 s,
    the ring appears at 3 s.
    """
    stim = item["stimulus"]
    sw, sh = (int(v) for v in stim.split('viewBox="0 0 ')[1].split('"')[0].split())
    n = len(item["options"])
    ow = 100
    width = max(sw, n * (ow + 10) + 10) + 20
    scale = min(1.0, (width - 20) / sw)
    top_h = sh * scale
    oy = top_h + 30
    height = oy + ow + 20
    parts = [SVG_OPEN.format(w=fmt(width), h=fmt(height)), f'<rect width="{fmt(width)}" height="{fmt(height)}" fill="#ffffff"/>']
    parts.append(nested(stim, (width - sw * scale) / 2, 10, sw * scale, top_h))
    x0 = (width - (n * (ow + 10) - 10)) / 2
    for j, opt in enumerate(item["options"]):
        parts.append(nested(opt, x0 + j * (ow + 10), oy, ow, ow))
    kx = x0 + item["key"] * (ow + 10)
    cx, cy = kx + ow / 2, oy + ow / 2
    parts.append(
        f'<rect x="{fmt(kx - 5)}" y="{fmt(oy - 5)}" width="{ow + 10}" height="{ow + 10}" rx="10" fill="none" '
        f'stroke="#2a9d3f" stroke-width="6" opacity="0"><animate attributeName="opacity" dur="6s" '
        f'repeatCount="indefinite" values="0;0;1;1;0" keyTimes="0;0.5;0.55;0.95;1"/></rect>'
    )
    sx, sy = width / 2, height - 5
    parts.append(
        f'<g class="pointer"><circle r="14" transform="translate({fmt(sx)} {fmt(sy)})" fill="#f4a261" '
        f'stroke="{INK}" stroke-width="3" opacity="0.9">'
        f'<animateTransform attributeName="transform" type="translate" dur="6s" repeatCount="indefinite" '
        f'values="{fmt(sx)} {fmt(sy)};{fmt(cx)} {fmt(cy)};{fmt(cx)} {fmt(cy)}" keyTimes="0;0.42;1"/>'
        f'<animate attributeName="r" dur="6s" repeatCount="indefinite" values="14;14;9;14;14" '
        f'keyTimes="0;0.45;0.5;0.55;1"/></circle></g>'
    )
    parts.append("</svg>\n")
    return "".join(parts)


# ---------------------------------------------------------------- writing


def write(rel, text):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)


def write_content(subtest, items, model):
    lines = [
        f"# Item content of subtest {subtest} (format: norms/FORMATS.md, \"Item content\").",
        f"# Written by generate.py from generator.toml; do not edit by hand. {NOTICE}.",
        "# key: 0-based index of the correct option. features: the item's counts of the",
        f"# difficulty features of generator.toml [lltm.{subtest}] (b = c + sum q * eta).",
        "",
        f'subtest = "{subtest}"',
        f"time_limit_seconds = {TIME_LIMITS[subtest]}",
        f'example = "content/{subtest}/example.svg"',
        "",
    ]
    for it in items:
        base = f"content/{subtest}/{it['id']}"
        write(f"{base}.svg", it["stimulus"])
        opts = []
        for j, o in enumerate(it["options"]):
            write(f"{base}-{j + 1}.svg", o)
            opts.append(f"{base}-{j + 1}.svg")
        feats = ", ".join(f"{k} = {v}" for k, v in it["features"].items())
        lines += [
            "[[item]]",
            f'id = "{it["id"]}"',
            *(["practice = true"] if it["practice"] else []),
            f'stimulus = "{base}.svg"',
            "options = [" + ", ".join(toml_str(o) for o in opts) + "]",
            f"key = {it['key']}",
            f"features = {{ {feats} }}",
            f"# rules: {it['rules']}; b = {lltm(model, it['features'])}",
            "",
        ]
    write(f"content/{subtest}.toml", "\n".join(lines))
    write(f"content/{subtest}/example.svg", worked_example(items[0]))


def write_bank(items, model):
    prov = (
        "DEMONSTRATION item bank, not calibrated on children: Rasch items (logistic metric, D = 1, a = 1) "
        "whose difficulties come from the stated generating model, the linear logistic test model "
        "b = c + sum_k q_k eta_k of generator.toml [lltm.fm] (Fischer 1973) applied to each item's rule "
        "counts (features in content/fm.toml). Written by generate.py; the test screener_demo checks "
        "every b against the formula. The demonstration sample's fm item scores were simulated from "
        "this model, so the raw-score equivalent of theta is on the scale of the raw-score norms."
    )
    rows = [
        json.dumps({"id": it["id"], "model": "rasch", "b": lltm(model, it["features"])})
        for it in items
        if not it["practice"]
    ]
    write("items/fm.json", '{\n  "provenance": ' + json.dumps(prov) + ',\n  "items": [\n    ' + ",\n    ".join(rows) + "\n  ]\n}\n")


def add_months(d, months):
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


def write_sample(cfg, subtests, rng):
    """The simulated standardisation sample: ages uniform, theta by the ability model, Rasch items."""
    ab = cfg["ability"]
    rho = ab["correlation"]
    n = cfg["sample"]["n"]
    cols = ["id", "birth_date", "test_date", "sex", "language"] + [s for s, _, _ in subtests]
    for s, items, _ in subtests:
        cols += [f"{s}.{it['id']}" for it in items]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    year_start = date(2026, 1, 1)
    for child in range(n):
        test = year_start + timedelta(days=rng.randrange(365))
        months = rng.randrange(60, 144)
        days = rng.randrange(28)
        birth = add_months(test - timedelta(days=days), -months)
        age = months + days / 30.4375
        mu = ab["mu_low"] + (ab["mu_high"] - ab["mu_low"]) / (1 + math.exp(-(age - ab["a50"]) / ab["tau"]))
        g = rng.gauss(0, 1)
        sex = rng.choice("MF")
        lang = rng.choice(["kk", "ru"])
        raws, scores = [], []
        for s, items, model in subtests:
            theta = mu + ab["sd"] * (math.sqrt(rho) * g + math.sqrt(1 - rho) * rng.gauss(0, 1))
            xs = []
            for it in items:
                b = lltm(model, it["features"])
                xs.append(1 if rng.random() < 1 / (1 + math.exp(-(theta - b))) else 0)
            raws.append(sum(xs))
            scores += xs
        w.writerow([f"scr-{child + 1:06d}", birth.isoformat(), test.isoformat(), sex, lang] + raws + scores)
    write("standardisation/sample.csv", out.getvalue())


def write_parameters(subtests):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["subtest", "item", "b", "features"])
    for s, items, model in subtests:
        for it in items:
            feats = " ".join(f"{k}={v}" for k, v in it["features"].items())
            w.writerow([s, it["id"], lltm(model, it["features"]), feats])
    write("standardisation/item_parameters.csv", out.getvalue())


def main():
    with open(os.path.join(HERE, "generator.toml"), "rb") as f:
        cfg = tomllib.load(f)
    rng = random.Random(cfg["seed"])
    models = cfg["lltm"]
    made = {"fm": make_fm(models["fm"], rng), "qs": make_qs(models["qs"], rng), "pf": make_pf(models["pf"], rng)}
    for s, items in made.items():
        write_content(s, items, models[s])
    write_bank(made["fm"], models["fm"])
    scored = [(s, [it for it in items if not it["practice"]], models[s]) for s, items in made.items()]
    write_parameters(scored)
    write_sample(cfg, scored, rng)


if __name__ == "__main__":
    main()
