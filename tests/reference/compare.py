#!/usr/bin/env python3
"""Compare two `qabilet score` CSV outputs cell by cell.

Usage: python3 compare.py CSV_A CSV_B

Headers must be identical and the row counts equal. Every cell must be equal as text,
except the `error` column, where only emptiness must agree (the wording of a reason is
free). Prints each mismatch (row id, column, both values) and exits 1 on any mismatch;
otherwise prints "N rows, M cells agree" and exits 0.
"""

import csv
import sys


def load(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise SystemExit(f"{path}: empty file")
    return rows[0], rows[1:]


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path_a, path_b = argv[1], argv[2]
    head_a, rows_a = load(path_a)
    head_b, rows_b = load(path_b)

    mismatches = 0
    if head_a != head_b:
        print("header mismatch:")
        print(f"  {path_a}: {','.join(head_a)}")
        print(f"  {path_b}: {','.join(head_b)}")
        only_a = [c for c in head_a if c not in head_b]
        only_b = [c for c in head_b if c not in head_a]
        if only_a:
            print(f"  only in {path_a}: {', '.join(only_a)}")
        if only_b:
            print(f"  only in {path_b}: {', '.join(only_b)}")
        if not only_a and not only_b:
            print("  (same columns, different order)")
        return 1
    if len(rows_a) != len(rows_b):
        print(f"row count mismatch: {path_a} has {len(rows_a)}, {path_b} has {len(rows_b)}")
        mismatches += 1

    id_col = head_a.index("id") if "id" in head_a else None
    cells = 0
    for n, (ra, rb) in enumerate(zip(rows_a, rows_b), start=1):
        if len(ra) != len(head_a) or len(rb) != len(head_a):
            print(f"row {n}: field count {len(ra)} vs {len(rb)} (header has {len(head_a)})")
            mismatches += 1
            continue
        rid = ra[id_col] if id_col is not None else ""
        label = f"row {n} (id {rid!r})"
        for col, va, vb in zip(head_a, ra, rb):
            cells += 1
            if col == "error":
                ok = (va == "") == (vb == "")
            else:
                ok = va == vb
            if not ok:
                mismatches += 1
                print(f"{label}, column {col}: {va!r} != {vb!r}")

    if mismatches:
        print(f"{mismatches} mismatch(es)")
        return 1
    print(f"{len(rows_a)} rows, {cells} cells agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
