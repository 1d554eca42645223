#!/usr/bin/env python3
"""Reference values for qabilet_core::iin, computed without the crate (Python 3 stdlib only).

Writes iin_reference.csv beside this script; tests/iin_reference.rs checks every row.
Run: python3 qabilet-core/tests/data/iin_reference.py

Rule (Government resolution of the Republic of Kazakhstan No. 406 of 22 May 2007, Rules for
forming the identification number; weights as in the public validator valery1707/kaz-person-id):
12 ASCII digits after trimming surrounding U+0020 spaces; digits 1-6 YYMMDD; digit 7 century
and sex (1/2 18xx, 3/4 19xx, 5/6 20xx; odd male, even female; 0 and 7-9 refused); digits
8-11 serial; digit 12 = sum(d_i * i, i = 1..11) mod 11, or if that is 10, sum with weights
3,4,5,6,7,8,9,10,11,1,2 mod 11; if again 10, not issued. Checks in order: length, digits,
century digit, date, check digit.

Columns: input, outcome (valid or the error kind), detail (wrong_length: characters found;
not_a_digit: 1-based position; invalid_century_digit: the digit; check_digit:
expected/found), birth_date (ISO), sex (male/female), hmac (HMAC-SHA-256 of the 12 digits
under TEST_KEY, lowercase hex). The last three only for valid rows.
"""

import csv
import datetime
import hashlib
import hmac
import os

# The fixed test key (40 ASCII bytes); tests/iin_reference.rs uses the same.
TEST_KEY = b"qabilet-iin-reference-key-0123456789abcd"
assert len(TEST_KEY) == 40

W1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
W2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
DIGITS = "0123456789"

# RFC 4231 section 4.3, test case 2: the HMAC used here is the standard one.
assert (
    hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).hexdigest()
    == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
)


def passes(first11):
    d = [int(c) for c in first11]
    s1 = sum(a * b for a, b in zip(d, W1)) % 11
    s2 = sum(a * b for a, b in zip(d, W2)) % 11
    return s1, s2


def check(first11):
    s1, s2 = passes(first11)
    if s1 < 10:
        return s1
    if s2 < 10:
        return s2
    return None


def classify(text):
    t = text.strip(" ")
    if len(t) != 12:
        return ("wrong_length", str(len(t)), "", "", "")
    for i, c in enumerate(t):
        if c not in DIGITS:
            return ("not_a_digit", str(i + 1), "", "", "")
    c7 = int(t[6])
    if c7 not in range(1, 7):
        return ("invalid_century_digit", str(c7), "", "", "")
    year = 1800 + 100 * ((c7 - 1) // 2) + int(t[0:2])
    try:
        born = datetime.date(year, int(t[2:4]), int(t[4:6]))
    except ValueError:
        return ("impossible_date", "", "", "", "")
    k = check(t[:11])
    if k is None:
        return ("not_issued", "", "", "", "")
    if k != int(t[11]):
        return ("check_digit", f"{k}/{t[11]}", "", "", "")
    sex = "male" if c7 % 2 == 1 else "female"
    mac = hmac.new(TEST_KEY, t.encode("ascii"), hashlib.sha256).hexdigest()
    return ("valid", "", born.isoformat(), sex, mac)


def make(born, sex, serial):
    c7 = {18: 1, 19: 3, 20: 5}[born.year // 100] + (1 if sex == "female" else 0)
    first = f"{born.year % 100:02}{born.month:02}{born.day:02}{c7}{serial:04}"
    k = check(first)
    return None if k is None else first + str(k)


def find(born, sex, want):
    """The first serial whose first 11 digits take the pass `want`
    ("first", "second" or "none")."""
    c7 = {18: 1, 19: 3, 20: 5}[born.year // 100] + (1 if sex == "female" else 0)
    for serial in range(10000):
        first = f"{born.year % 100:02}{born.month:02}{born.day:02}{c7}{serial:04}"
        s1, s2 = passes(first)
        kind = "first" if s1 < 10 else "second" if s2 < 10 else "none"
        if kind == want:
            return first + (str(check(first)) if want != "none" else "0")
    raise AssertionError("no serial")


D = datetime.date
cases = []
# Children born 2014-2021, both sexes.
for i, (y, m, d) in enumerate(
    [(2014, 1, 15), (2014, 12, 31), (2015, 6, 1), (2016, 2, 29), (2017, 9, 9), (2018, 3, 8),
     (2019, 11, 30), (2020, 2, 29), (2021, 7, 4), (2021, 12, 1)]
):
    for sex in ("male", "female"):
        for serial in (i * 37 + 1, 9000 + i):
            s = make(D(y, m, d), sex, serial)
            if s is not None:
                cases.append(s)
# Published valid numbers (valery1707/kaz-person-id tests): 1900s and 1800s.
cases += ["871008401427", "760212350620", "800416300257", "680503450037", "800416100254", "680503250034"]
cases += [make(D(1999, 12, 31), "female", 42), make(D(1900, 1, 1), "male", 1), make(D(2000, 2, 29), "female", 7)]
# The second pass decides (first sum mod 11 is 10), valid; and not issued (both 10).
cases += [find(D(2016, 5, 20), "male", "second"), find(D(2019, 10, 2), "female", "second")]
cases += [find(D(2016, 5, 20), "male", "none"), find(D(2020, 1, 31), "female", "none")]
# A wrong check digit, and a second-pass number with a wrong check digit.
v = make(D(2018, 3, 8), "female", 123)
cases.append(v[:11] + str((int(v[11]) + 1) % 10))
v = find(D(2016, 5, 20), "male", "second")
cases.append(v[:11] + str((int(v[11]) + 3) % 10))
# Digit 11 has weight 11 = 0 (mod 11) in the first pass: changing it keeps a valid number.
v = make(D(2017, 4, 12), "male", 4560)
cases += [v, v[:10] + "9" + v[11]]
# Surrounding spaces are trimmed; nothing else is.
cases += ["  871008401427 ", "\t871008401427", "871008401427\n", "871008 401427", "\u00a0871008401427"]
# Wrong length.
cases += ["", "   ", "87100840142", "8710084014270", "1234"]
# Not a digit: a letter, a Cyrillic O for 0, a full-width digit, a sign.
cases += ["8710084014x7", "87100840\u041e427", "\uff18" + "71008401427", "+87100840142", "87-008401427"]
# Century digit 0, 7, 8, 9.
cases += ["871008001427", "871008701427", "871008801427", "871008901427"]
# Impossible dates: 31 February, month 13, month 00, day 00, 29 February 1900, 31 April.
first = ["140231" + "5" + "0001", "141301" + "6" + "0001", "140001" + "5" + "0001",
         "140100" + "5" + "0001", "000229" + "3" + "0001", "150431" + "6" + "0001"]
cases += [f + "0" for f in first]

rows = [[c, *classify(c)] for c in cases]
kinds = {r[1] for r in rows}
assert kinds == {"valid", "wrong_length", "not_a_digit", "invalid_century_digit",
                 "impossible_date", "check_digit", "not_issued"}, kinds
assert len(rows) >= 40
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iin_reference.csv")
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(["input", "outcome", "detail", "birth_date", "sex", "hmac"])
    w.writerows(rows)
print(f"{len(rows)} rows, {sum(r[1] == 'valid' for r in rows)} valid -> {out}")
