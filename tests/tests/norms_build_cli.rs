//! `qabilet norms build` end to end: the real binary builds a norm folder from a simulated
//! standardisation sample, `qabilet norms check` and `qabilet score` load and use it, the
//! build is reproducible byte for byte, and bad samples stop it with a message naming what
//! is wrong and where.

use std::path::Path;
use std::process::Output;

use qabilet_e2e::qabilet;

const BATTERY: &str = "norms/qabilet-primary-demo";
/// Stated reliabilities of the speeded subtests, which have no item columns.
const STATED: &str = "scale,age_min_months,age_max_months,reliability\ncd,60,143,0.82\nss,60,143,0.80\n";

fn run(args: &[&str]) -> Output {
    qabilet().args(args).output().expect("run qabilet")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn failed(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stderr.clone()).expect("utf-8")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Simulates `n` children with items into `dir/sample.csv` and writes the stated reliabilities.
fn sample(dir: &Path, n: &str) {
    ok(&run(&[
        "norms",
        "simulate",
        "--battery",
        BATTERY,
        "--n",
        n,
        "--seed",
        "3",
        "--items",
        "--out",
        path(&dir.join("sample.csv")),
    ]));
    std::fs::write(dir.join("stated.csv"), STATED).expect("write");
}

fn build(dir: &Path, sample: &str, out: &str, extra: &[&str]) -> Output {
    let (sample, out, stated) = (dir.join(sample), dir.join(out), dir.join("stated.csv"));
    let mut args = vec![
        "norms",
        "build",
        "--sample",
        path(&sample),
        "--battery",
        BATTERY,
        "--out",
        path(&out),
        "--created",
        "2026-11-29",
    ];
    args.extend_from_slice(&["--reliability", path(&stated)]);
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn built_norms_load_score_and_rebuild_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tmp");
    sample(dir.path(), "1500");
    let o = build(dir.path(), "sample.csv", "a", &[]);
    ok(&o);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(
        log.contains("fitted voc") && log.contains("wrote demonstration norms"),
        "{log}"
    );
    let a = dir.path().join("a");
    for f in [
        "battery.toml",
        "subtests.csv",
        "composites.csv",
        "reliability.csv",
        "base_rates.csv",
        "provenance.toml",
        "continuous.csv",
        "diagnostics/report.txt",
        "diagnostics/report.json",
        "diagnostics/voc.svg",
    ] {
        assert!(a.join(f).is_file(), "{f} missing");
    }
    let check = ok(&run(&["norms", "check", "--battery", path(&a)]));
    assert!(check.contains("demonstration (sample size 1500)"), "{check}");
    // The scorer uses the built tables: its output names their norm-set hash.
    let hash = check
        .lines()
        .find_map(|l| l.strip_prefix("norm set:"))
        .expect("hash line")
        .trim()
        .to_owned();
    let scored = ok(&run(&[
        "score",
        "--battery",
        path(&a),
        "--input",
        "examples/children.csv",
        "--format",
        "json",
    ]));
    assert!(
        scored.lines().count() > 1 && scored.lines().all(|l| l.contains(&hash)),
        "{scored}"
    );
    // continuous.csv: every month 60–143 and every raw score of every subtest.
    let continuous = std::fs::read_to_string(a.join("continuous.csv")).expect("read");
    let voc_rows = continuous.lines().filter(|l| l.starts_with("voc,")).count();
    assert_eq!(voc_rows, 84 * 55, "voc has raw 0–54");
    // The diagnostics JSON parses and names the chosen model of every subtest.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("diagnostics/report.json")).expect("read"))
            .expect("json");
    assert_eq!(json["subtests"].as_array().expect("subtests").len(), 13);
    // What is written is monotone: z rises with raw score at every month and falls with age at
    // every raw score (read back from continuous.csv, not from the builder's own flag).
    let mut z: std::collections::BTreeMap<(String, u32, u32), f64> = std::collections::BTreeMap::new();
    for line in continuous.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        z.insert(
            (
                f[0].to_owned(),
                f[1].parse().expect("month"),
                f[2].parse().expect("raw"),
            ),
            f[3].parse().expect("z"),
        );
    }
    for ((subtest, month, raw), value) in &z {
        if *raw > 0 {
            assert!(
                z[&(subtest.clone(), *month, raw - 1)] <= *value,
                "{subtest} {month} {raw}"
            );
        }
        if *month > 60 {
            assert!(
                z[&(subtest.clone(), month - 1, *raw)] >= *value,
                "{subtest} {month} {raw}"
            );
        }
    }
    // Same sample, same options, one thread instead of all: the same bytes (the provenance
    // differs only in --out).
    ok(&build(dir.path(), "sample.csv", "b", &["--threads", "1"]));
    let b = dir.path().join("b");
    for f in [
        "subtests.csv",
        "composites.csv",
        "reliability.csv",
        "base_rates.csv",
        "continuous.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).expect("a"),
            std::fs::read(b.join(f)).expect("b"),
            "{f}"
        );
    }
    let prov = |d: &Path, out: &str| {
        std::fs::read_to_string(d.join("provenance.toml"))
            .expect("read")
            .replace(out, "OUT")
    };
    assert_eq!(prov(&a, path(&a)), prov(&b, path(&b)));
}

#[test]
fn bad_samples_are_refused_with_the_rows_and_reasons() {
    let dir = tempfile::tempdir().expect("tmp");
    sample(dir.path(), "600");
    let text = std::fs::read_to_string(dir.path().join("sample.csv")).expect("read");
    let lines: Vec<&str> = text.lines().collect();

    // A repeated id and a non-numeric raw score: both reported, with line numbers.
    let mut bad = lines.clone();
    let second_id = lines[2].split(',').next().expect("id").to_owned();
    let dup = lines[3].replacen(lines[3].split(',').next().expect("id"), &second_id, 1);
    bad[3] = &dup;
    let header: Vec<&str> = lines[0].split(',').collect();
    let voc = header.iter().position(|h| *h == "voc").expect("voc column");
    let mut cells: Vec<&str> = lines[5].split(',').collect();
    cells[voc] = "many";
    let row5 = cells.join(",");
    bad[5] = &row5;
    std::fs::write(dir.path().join("bad.csv"), bad.join("\n") + "\n").expect("write");
    let err = failed(&build(dir.path(), "bad.csv", "out", &[]));
    assert!(err.contains(":4") && err.contains(&second_id), "{err}");
    assert!(err.contains(":6") && err.contains("voc"), "{err}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing is written for a bad sample"
    );

    // No child younger than 6: the first band cannot be fitted, and the message names it.
    let test_col = header.iter().position(|h| *h == "test_date").expect("test_date");
    let birth_col = header
        .iter()
        .position(|h| *h == "birth_date")
        .expect("birth_date");
    let older: Vec<&str> = std::iter::once(lines[0])
        .chain(lines[1..].iter().copied().filter(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let (b, t) = (&c[birth_col][..4], &c[test_col][..4]);
            t.parse::<i32>().expect("year") - b.parse::<i32>().expect("year") >= 7
        }))
        .collect();
    std::fs::write(dir.path().join("older.csv"), older.join("\n") + "\n").expect("write");
    let err = failed(&build(dir.path(), "older.csv", "out", &[]));
    assert!(
        err.contains("ages 60–62 months") && err.contains("at least 5"),
        "{err}"
    );

    // Subtests without item columns need stated reliabilities.
    let (sample, out) = (dir.path().join("sample.csv"), dir.path().join("out"));
    let err = failed(&run(&[
        "norms",
        "build",
        "--sample",
        path(&sample),
        "--battery",
        BATTERY,
        "--out",
        path(&out),
    ]));
    assert!(err.contains("'cd'") && err.contains("--reliability"), "{err}");
    assert!(!out.exists());
}

/// A norm file written into `--out` that is the `--reliability` file given is refused before
/// anything is written: the stated reliabilities survive.
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    sample(dir.path(), "1500");
    let out = dir.path().join("n");
    std::fs::create_dir(&out).expect("mkdir");
    let stated = out.join("reliability.csv");
    std::fs::write(&stated, STATED).expect("write");
    let o = run(&[
        "norms",
        "build",
        "--sample",
        path(&dir.path().join("sample.csv")),
        "--battery",
        BATTERY,
        "--out",
        path(&out),
        "--reliability",
        path(&stated),
        "--created",
        "2026-11-29",
    ]);
    let err = failed(&o);
    assert!(
        err.contains("--out") && err.contains("--reliability") && err.contains("same file"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&stated).expect("read"), STATED);
    assert_eq!(
        std::fs::read_dir(&out).expect("list").count(),
        1,
        "nothing else written"
    );
}
