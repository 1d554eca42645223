//! Writes a synthetic `qabilet score` input of N children for benchmarks:
//! `cargo run --release -p qabilet-server --example synthetic_sample -- 1000000 > big.csv`.
//! Ages are spread over 5:0–11:11 and raw scores over each subtest's range (demo battery);
//! a fixed linear congruential sequence makes the file the same on every run.

use std::io::{BufWriter, Write};

const SUBTESTS: [(&str, u64); 13] = [
    ("sim", 44),
    ("voc", 54),
    ("inf", 28),
    ("mr", 30),
    ("fw", 30),
    ("bd", 46),
    ("vp", 26),
    ("qr", 28),
    ("ar", 30),
    ("ds", 27),
    ("ps", 49),
    ("cd", 75),
    ("ss", 45),
];

fn main() -> std::io::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % m
    };
    write!(out, "id,birth_date,test_date")?;
    for (id, _) in SUBTESTS {
        write!(out, ",{id}")?;
    }
    writeln!(out)?;
    for i in 0..n {
        // Born 2015-01 … 2020-12 (day 1–28), tested in 2026: ages 5:0 … 11:11.
        let birth_year = 2015 + next(6);
        let birth_month = 1 + next(12);
        let day = 1 + next(28);
        let test_month = 1 + next(12);
        write!(
            out,
            "c{i},{birth_year}-{birth_month:02}-{day:02},2026-{test_month:02}-{:02}",
            1 + next(28)
        )?;
        for (_, max) in SUBTESTS {
            write!(out, ",{}", next(max + 1))?;
        }
        writeln!(out)?;
    }
    out.flush()
}
