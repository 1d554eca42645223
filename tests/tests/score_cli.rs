//! `qabilet score` end to end: the real binary on the bundled inputs, checked number by
//! number against the independent Python scorer's output (tests/reference/), plus the
//! contract's error handling.

use std::io::Write;
use std::process::{Output, Stdio};

use qabilet_e2e::{csv_mismatches, qabilet, repo};

const DEMO: &str = "norms/qabilet-primary-demo";

fn run(args: &[&str]) -> Output {
    qabilet().args(args).output().expect("run qabilet")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(repo().join("tests/data").join(name)).expect("expected file")
}

fn assert_agrees(args: &[&str], expected_file: &str) {
    let out = run(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mismatches = csv_mismatches(&stdout(&out), &expected(expected_file));
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn example_children_agree_with_independent_scorer() {
    assert_agrees(
        &["score", "--battery", DEMO, "--input", "examples/children.csv"],
        "children.expected.csv",
    );
}

#[test]
fn ci90_obtained_agrees_with_independent_scorer() {
    assert_agrees(
        &[
            "score",
            "--battery",
            DEMO,
            "--input",
            "examples/children.csv",
            "--ci",
            "90",
            "--ci-method",
            "obtained",
        ],
        "children.ci90-obtained.expected.csv",
    );
}

#[test]
fn bad_rows_are_reported_in_their_cells_and_the_rest_scored() {
    assert_agrees(
        &["score", "--battery", DEMO, "--input", "tests/data/mixed.csv"],
        "mixed.expected.csv",
    );
    let out = run(&["score", "--battery", DEMO, "--input", "tests/data/mixed.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("16 rows had errors"), "{stderr}");
    let text = stdout(&out);
    assert!(text.contains("voc: raw score 55 is outside 0–54"), "{text}");
    assert!(text.contains("is outside the norms' range 5:0–11:11"));
}

#[test]
fn strict_stops_at_first_bad_row_with_exit_2() {
    let out = run(&[
        "score",
        "--battery",
        DEMO,
        "--input",
        "tests/data/mixed.csv",
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tests/data/mixed.csv:15:"), "{stderr}");
    assert!(
        stderr.contains("birth_date: '2019-02-30' is not a calendar date"),
        "{stderr}"
    );
    // Rows before the bad one were written.
    assert_eq!(stdout(&out).lines().count(), 1 + 13);
}

#[test]
fn reads_stdin_and_writes_stdout() {
    let mut child = qabilet()
        .args(["score", "--battery", DEMO, "--input", "-", "--output", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let input = std::fs::read(repo().join("examples/children.csv")).expect("input");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert!(csv_mismatches(&stdout(&out), &expected("children.expected.csv")).is_empty());
}

#[test]
fn json_lines_carry_profile_norm_set_and_notice() {
    let out = run(&[
        "score",
        "--battery",
        DEMO,
        "--input",
        "tests/data/mixed.csv",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 30);
    let first = &lines[0];
    assert_eq!(
        first["notice"],
        "demonstration norms — not for clinical decisions"
    );
    assert_eq!(first["norm_set"]["battery"], "qabilet-primary-demo");
    assert!(first["norm_set"]["hash"].as_str().unwrap().starts_with("sha256:"));
    assert!(first["error"].is_null());
    let subtests = first["subtests"].as_array().unwrap();
    assert!(subtests.iter().all(|s| s["ci"]["low"].is_i64()));
    assert_eq!(first["composites"].as_array().unwrap().len(), 7);
    assert_eq!(first["options"]["ci_level"], "95");
    // Raw cells are echoed in input column order, as numbers.
    let raw = first["raw"].as_object().unwrap();
    assert!(raw.values().all(|v| v.is_u64() || v.is_null()));
    let bad = lines.iter().find(|l| l["id"] == "m-23").expect("bad row");
    assert!(bad.get("subtests").is_none());
    assert_eq!(bad["norm_set"]["battery"], "qabilet-primary-demo");
    assert!(bad["error"].as_str().unwrap().contains("outside 0–54"));
}

#[test]
fn unknown_or_missing_columns_stop_with_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("in.csv");
    std::fs::write(
        &path,
        "id,birth_date,test_date,vocab\nc1,2019-01-01,2026-01-01,3\n",
    )
    .expect("write");
    let out = run(&["score", "--battery", DEMO, "--input", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":1: unknown column 'vocab'"), "{stderr}");

    std::fs::write(&path, "id,test_date,voc\nc1,2026-01-01,3\n").expect("write");
    let out = run(&["score", "--battery", DEMO, "--input", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing column 'birth_date'"));
}

#[test]
fn ragged_rows_are_bad_rows_not_lost() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("in.csv");
    std::fs::write(
        &path,
        "id,birth_date,test_date,voc\nc1,2019-01-01,2026-01-01\nc2,2019-01-01,2026-01-01,20\n",
    )
    .expect("write");
    let out = run(&["score", "--battery", DEMO, "--input", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = stdout(&out);
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0]
            .iter()
            .next_back()
            .unwrap()
            .contains("row has 3 fields, the header has 4")
    );
    assert!(rows[1].iter().next_back().unwrap().is_empty());
}

#[test]
fn broken_norm_files_are_reported_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    for f in [
        "battery.toml",
        "subtests.csv",
        "composites.csv",
        "reliability.csv",
        "base_rates.csv",
        "provenance.toml",
        "items/mr.json",
    ] {
        std::fs::create_dir_all(dir.path().join("items")).expect("items/");
        std::fs::copy(repo().join(DEMO).join(f), dir.path().join(f)).expect("copy");
    }
    let subtests = std::fs::read_to_string(dir.path().join("subtests.csv")).unwrap();
    // Drop line 3: a raw range of sim at 60–62 disappears, leaving a gap.
    let broken: Vec<&str> = subtests
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(dir.path().join("subtests.csv"), broken.join("\n") + "\n").unwrap();
    let out = run(&[
        "score",
        "--battery",
        dir.path().to_str().unwrap(),
        "--input",
        "examples/children.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("subtests.csv:3: raw ranges of 'sim' at ages 60–62: gap"),
        "{stderr}"
    );
}

#[test]
fn model_tables_are_written_elsewhere_never_over_built_norms() {
    // The model's own tables (the truth the built norms are judged against) are valid norms.
    let dir = tempfile::tempdir().expect("tmp");
    let out = run(&[
        "norms",
        "demo",
        "--battery",
        DEMO,
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let check = run(&["norms", "check", "--battery", dir.path().to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(stdout(&check).contains("sample size 0"));
    // The demo folder's norms are built from a sample: `norms demo` refuses to overwrite them.
    let refused = run(&["norms", "demo", "--battery", DEMO]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("built from a sample"));
}

/// The committed demonstration norms are exactly what `qabilet norms build` writes from the
/// committed simulated sample (norms/qabilet-primary-demo/standardisation/rebuild.sh).
#[test]
fn demo_norms_are_built_from_the_committed_sample() {
    let dir = tempfile::tempdir().expect("tmp");
    let out_dir = dir.path().to_str().unwrap();
    let s = format!("{DEMO}/standardisation");
    let description = std::fs::read_to_string(repo().join(&s).join("description.txt")).unwrap();
    let out = run(&[
        "norms",
        "build",
        "--sample",
        &format!("{s}/sample.csv"),
        "--battery",
        DEMO,
        "--out",
        out_dir,
        "--reliability",
        &format!("{s}/stated_reliability.csv"),
        "--sample-description",
        &description,
        "--created",
        "2026-11-29",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in [
        "subtests.csv",
        "composites.csv",
        "reliability.csv",
        "base_rates.csv",
        "continuous.csv",
        "diagnostics/report.txt",
        "diagnostics/report.json",
        "diagnostics/voc.svg",
    ] {
        let built = std::fs::read(dir.path().join(f)).unwrap();
        let committed = std::fs::read(repo().join(DEMO).join(f)).unwrap();
        assert!(
            built == committed,
            "{f} differs from the build's output: run {s}/rebuild.sh"
        );
    }
    // provenance.toml records the command; only --out differs.
    let built = std::fs::read_to_string(dir.path().join("provenance.toml")).unwrap();
    let committed = std::fs::read_to_string(repo().join(DEMO).join("provenance.toml")).unwrap();
    assert_eq!(built.replace(out_dir, DEMO), committed);
}

/// The screener's norms are what `qabilet norms build` writes from its committed sample, and a
/// build into another folder carries the item content along: that folder loads, and with the
/// committed provenance.toml (which names the other --out) it is the same norm set.
#[test]
fn screener_norms_are_built_from_the_committed_sample_and_carry_the_content() {
    const SCREENER: &str = "norms/qabilet-screener-demo";
    let dir = tempfile::tempdir().expect("tmp");
    let out_dir = dir.path().to_str().unwrap();
    let s = format!("{SCREENER}/standardisation");
    let description = std::fs::read_to_string(repo().join(&s).join("description.txt")).unwrap();
    let out = run(&[
        "norms",
        "build",
        "--sample",
        &format!("{s}/sample.csv"),
        "--battery",
        SCREENER,
        "--out",
        out_dir,
        "--sample-description",
        &description,
        "--created",
        "2026-12-01",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in [
        "subtests.csv",
        "composites.csv",
        "reliability.csv",
        "base_rates.csv",
        "continuous.csv",
        "diagnostics/report.txt",
        "items/fm.json",
        "content/fm.toml",
        "content/pf/example.svg",
    ] {
        let built = std::fs::read(dir.path().join(f)).unwrap();
        let committed = std::fs::read(repo().join(SCREENER).join(f)).unwrap();
        assert!(
            built == committed,
            "{f} differs from the build's output: run {s}/rebuild.sh"
        );
    }
    let built = std::fs::read_to_string(dir.path().join("provenance.toml")).unwrap();
    let committed = std::fs::read_to_string(repo().join(SCREENER).join("provenance.toml")).unwrap();
    assert_eq!(built.replace(out_dir, SCREENER), committed);
    let hash = |folder: &str| {
        let out = run(&["norms", "check", "--battery", folder]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .find(|l| l.starts_with("norm set:"))
            .expect("hash line")
            .to_owned()
    };
    // provenance.toml names --out; with the committed one the two folders are the same norm set.
    std::fs::write(dir.path().join("provenance.toml"), committed).unwrap();
    assert_eq!(hash(out_dir), hash(SCREENER));
}

#[test]
fn norms_check_prints_identity() {
    let out = run(&["norms", "check", "--battery", DEMO]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("qabilet-primary-demo 0.1.0"));
    assert!(text.contains("notice:     demonstration norms — not for clinical decisions"));
}

/// Many batches scored in parallel come back in input order, bad rows included.
#[test]
fn large_inputs_keep_input_order_across_batches() {
    let mixed = std::fs::read_to_string(repo().join("tests/data/mixed.csv")).unwrap();
    let expected_text = expected("mixed.expected.csv");
    let (header, body) = mixed.split_once('\n').unwrap();
    let (expected_header, expected_body) = expected_text.split_once('\n').unwrap();
    let copies = 700; // 21,000 rows: several batches of 4,096
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.csv");
    std::fs::write(&input, format!("{header}\n{}", body.repeat(copies))).unwrap();
    let out = run(&["score", "--battery", DEMO, "--input", input.to_str().unwrap()]);
    assert!(out.status.success());
    let mismatches = csv_mismatches(
        &stdout(&out),
        &format!("{expected_header}\n{}", expected_body.repeat(copies)),
    );
    assert!(
        mismatches.is_empty(),
        "{}",
        mismatches[..mismatches.len().min(10)].join("\n")
    );
}

/// `--strict` stops at the first bad row in input order, even when later batches finish first.
#[test]
fn strict_stops_at_the_first_bad_row_beyond_the_first_batch() {
    let children = std::fs::read_to_string(repo().join("examples/children.csv")).unwrap();
    let (header, body) = children.split_once('\n').unwrap();
    let good: Vec<&str> = body.lines().collect();
    let mut text = format!("{header}\n");
    for i in 0..10_000 {
        if i == 9_000 || i == 9_500 {
            text.push_str("bad,2019-01-01,2026-01-01,999\n");
        } else {
            text.push_str(good[i % good.len()]);
            text.push('\n');
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("strict.csv");
    std::fs::write(&input, text).unwrap();
    let out = run(&[
        "score",
        "--battery",
        DEMO,
        "--input",
        input.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("strict.csv:9002:"));
    assert_eq!(stdout(&out).lines().count(), 1 + 9_000);
}

#[test]
fn missing_files_exit_2_naming_the_file() {
    let out = run(&["score", "--battery", DEMO, "--input", "no/such/file.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/file.csv"));
    let out = run(&[
        "score",
        "--battery",
        "norms/no-such-battery",
        "--input",
        "examples/children.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("norms/no-such-battery/battery.toml"));
}

// ---------------------------------------------------------------------------------------
// Profile analysis: strengths and weaknesses (Davis 1959) and pairwise discrepancies with
// base rates, checked against the independent Python scorer's `--format json` output
// (tests/reference/README.md, "Profile analysis").

/// Profile fields of the binary's JSON lines that differ from the independent scorer's.
/// Missing fields in the binary's output count as null (no analysis) or `[]` (no pairs).
fn profile_mismatches(actual: &str, expected: &str) -> Vec<String> {
    use serde_json::Value;
    fn lines(text: &str) -> Vec<Value> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }
    fn float(out: &mut Vec<String>, at: &str, a: &Value, e: &Value) {
        match (a.as_f64(), e.as_f64()) {
            (Some(x), Some(y)) if (x - y).abs() <= 1e-9 => {}
            _ => out.push(format!("{at}: {a} ≠ expected {e}")),
        }
    }
    fn exact(out: &mut Vec<String>, at: &str, a: &Value, e: &Value) {
        if a != e {
            out.push(format!("{at}: {a} ≠ expected {e}"));
        }
    }
    fn critical(out: &mut Vec<String>, at: &str, a: &Value, e: &Value) {
        let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        if keys(a) != keys(e) {
            out.push(format!("{at}.critical: {a} ≠ expected {e}"));
            return;
        }
        for alpha in ["0.05", "0.15"] {
            float(out, &format!("{at}.critical.{alpha}"), &a[alpha], &e[alpha]);
        }
    }
    fn base_rate(out: &mut Vec<String>, at: &str, a: &Value, e: &Value) {
        if a.is_null() || e.is_null() {
            exact(out, &format!("{at}.base_rate"), a, e);
            return;
        }
        float(
            out,
            &format!("{at}.base_rate.percent"),
            &a["percent"],
            &e["percent"],
        );
        exact(
            out,
            &format!("{at}.base_rate.at_most"),
            &a["at_most"],
            &e["at_most"],
        );
    }
    fn ids(list: &[Value], keys: &[&str]) -> Vec<String> {
        list.iter()
            .map(|v| {
                keys.iter()
                    .map(|k| v[*k].to_string())
                    .collect::<Vec<_>>()
                    .join(":")
            })
            .collect()
    }

    let (actual, expected) = (lines(actual), lines(expected));
    let mut out = Vec::new();
    if actual.len() != expected.len() {
        out.push(format!(
            "row counts differ: {} vs expected {}",
            actual.len(),
            expected.len()
        ));
    }
    let empty = Vec::new();
    for (a, e) in actual.iter().zip(&expected) {
        let row = e["id"].to_string();
        exact(&mut out, &format!("{row} id"), &a["id"], &e["id"]);
        // The two implementations word their errors differently: only presence must agree.
        if a["error"].is_null() != e["error"].is_null() {
            out.push(format!("{row} error: {} ≠ expected {}", a["error"], e["error"]));
        }

        let (asw, esw) = (&a["strengths_weaknesses"], &e["strengths_weaknesses"]);
        if asw.is_null() || esw.is_null() {
            if asw.is_null() != esw.is_null() {
                out.push(format!("{row} strengths_weaknesses: {asw} ≠ expected {esw}"));
            }
        } else {
            float(&mut out, &format!("{row} mean"), &asw["mean"], &esw["mean"]);
            exact(&mut out, &format!("{row} k"), &asw["k"], &esw["k"]);
            let (al, el) = (
                asw["subtests"].as_array().unwrap_or(&empty),
                esw["subtests"].as_array().unwrap_or(&empty),
            );
            let (aid, eid) = (ids(al, &["id"]), ids(el, &["id"]));
            if aid != eid {
                out.push(format!("{row} subtests: {aid:?} ≠ expected {eid:?}"));
            } else {
                for (x, y) in al.iter().zip(el) {
                    let at = format!("{row} {}", y["id"]);
                    exact(&mut out, &format!("{at}.scaled"), &x["scaled"], &y["scaled"]);
                    float(
                        &mut out,
                        &format!("{at}.difference"),
                        &x["difference"],
                        &y["difference"],
                    );
                    critical(&mut out, &at, &x["critical"], &y["critical"]);
                    exact(
                        &mut out,
                        &format!("{at}.significance"),
                        &x["significance"],
                        &y["significance"],
                    );
                    exact(
                        &mut out,
                        &format!("{at}.direction"),
                        &x["direction"],
                        &y["direction"],
                    );
                    base_rate(&mut out, &at, &x["base_rate"], &y["base_rate"]);
                }
            }
        }

        let (al, el) = (
            a["discrepancies"].as_array().unwrap_or(&empty),
            e["discrepancies"].as_array().unwrap_or(&empty),
        );
        let (apairs, epairs) = (ids(al, &["a", "b"]), ids(el, &["a", "b"]));
        if apairs != epairs {
            out.push(format!("{row} discrepancies: {apairs:?} ≠ expected {epairs:?}"));
            continue;
        }
        for (x, y) in al.iter().zip(el) {
            let at = format!("{row} {}:{}", y["a"], y["b"]);
            // Index scores are whole numbers, so their difference must agree exactly.
            match (x["difference"].as_f64(), y["difference"].as_f64()) {
                (Some(p), Some(q)) if p == q && p.fract() == 0.0 => {}
                _ => out.push(format!(
                    "{at}.difference: {} ≠ expected {}",
                    x["difference"], y["difference"]
                )),
            }
            critical(&mut out, &at, &x["critical"], &y["critical"]);
            exact(
                &mut out,
                &format!("{at}.significance"),
                &x["significance"],
                &y["significance"],
            );
            base_rate(&mut out, &at, &x["base_rate"], &y["base_rate"]);
        }
    }
    out
}

fn assert_profile_agrees(battery: &str, input: &str, expected_file: &str) {
    let out = run(&[
        "score",
        "--battery",
        battery,
        "--input",
        input,
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mismatches = profile_mismatches(&stdout(&out), &expected(expected_file));
    assert!(
        mismatches.is_empty(),
        "{input}: {} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn profile_analysis_agrees_with_independent_scorer() {
    assert_profile_agrees(DEMO, "examples/children.csv", "children.profile.expected.jsonl");
    assert_profile_agrees(DEMO, "tests/data/mixed.csv", "mixed.profile.expected.jsonl");
}

/// The demo's base-rate tables reach every possible difference, so "at most" never occurs
/// with them: here `base_rates.csv` keeps only |D| = 0, 1, 2 of every comparison.
#[test]
fn profile_base_rates_beyond_the_table_are_at_most() {
    let dir = tempfile::tempdir().expect("tmp");
    for f in [
        "battery.toml",
        "subtests.csv",
        "composites.csv",
        "reliability.csv",
        "provenance.toml",
        "items/mr.json",
    ] {
        std::fs::create_dir_all(dir.path().join("items")).expect("items/");
        std::fs::copy(repo().join(DEMO).join(f), dir.path().join(f)).expect("copy");
    }
    let rates = std::fs::read_to_string(repo().join(DEMO).join("base_rates.csv")).expect("base rates");
    let kept: Vec<&str> = rates
        .lines()
        .enumerate()
        .filter(|(i, l)| {
            *i == 0
                || l.split(',')
                    .nth(1)
                    .and_then(|d| d.parse::<u32>().ok())
                    .is_some_and(|d| d <= 2)
        })
        .map(|(_, l)| l)
        .collect();
    std::fs::write(dir.path().join("base_rates.csv"), kept.join("\n") + "\n").expect("write");
    let expected_text = expected("children.profile-base-rates-0-2.expected.jsonl");
    assert!(
        expected_text.contains("\"at_most\": true"),
        "the expected file must exercise 'at most'"
    );
    assert_profile_agrees(
        dir.path().to_str().unwrap(),
        "examples/children.csv",
        "children.profile-base-rates-0-2.expected.jsonl",
    );
}

/// A reader that stops early (`| head`) ends the run promptly and quietly, with one worker
/// or several (review finding: the pipeline used to wait forever on a full queue).
#[test]
fn a_closed_output_pipe_ends_the_run() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let children = std::fs::read_to_string(repo().join("examples/children.csv")).unwrap();
    let (header, body) = children.split_once('\n').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.csv");
    std::fs::write(&input, format!("{header}\n{}", body.repeat(2_000))).unwrap(); // 80,000 rows
    for threads in ["1", "2"] {
        let mut child = qabilet()
            .args([
                "score",
                "--battery",
                DEMO,
                "--input",
                input.to_str().unwrap(),
                "--threads",
                threads,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 100];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("qabilet --threads {threads} still running 60 s after its reader went away");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "--threads {threads}: {status}");
    }
}

#[test]
fn refuses_to_write_over_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("same.csv");
    std::fs::copy(repo().join("examples/children.csv"), &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let p = path.to_str().unwrap();
    let out = run(&["score", "--battery", DEMO, "--input", p, "--output", p]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--output") && stderr.contains("--input") && stderr.contains("same file"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// "The same file" is the same device and inode: an output that is a hard link to the input
/// is refused, and the input survives.
#[cfg(unix)]
#[test]
fn refuses_an_output_hard_linked_to_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let (input, link) = (dir.path().join("in.csv"), dir.path().join("out.csv"));
    std::fs::copy(repo().join("examples/children.csv"), &input).unwrap();
    std::fs::hard_link(&input, &link).unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = run(&[
        "score",
        "--battery",
        DEMO,
        "--input",
        input.to_str().unwrap(),
        "--output",
        link.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("same file"), "{stderr}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// A folder is recognised whatever its spelling: `norms demo --out sub/../<battery>` still
/// refuses to write the model's tables over norms built from a sample.
#[test]
fn model_tables_never_replace_built_norms_under_another_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let battery = dir.path().join("battery");
    copy_dir(&repo().join(DEMO), &battery);
    let before = std::fs::read(battery.join("subtests.csv")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let spelt = format!("{}/sub/../battery", dir.path().display());
    let out = run(&[
        "norms",
        "demo",
        "--battery",
        battery.to_str().unwrap(),
        "--out",
        &spelt,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("built from a sample"), "{stderr}");
    assert_eq!(std::fs::read(battery.join("subtests.csv")).unwrap(), before);
}

/// Copies the files of folder `from` (and its subfolders) into `to`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_bad_header_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.csv"), dir.path().join("out.csv"));
    std::fs::write(&input, "id,birth,test_date\n").unwrap();
    std::fs::write(&output, "precious\n").unwrap();
    let out = run(&[
        "score",
        "--battery",
        DEMO,
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "precious\n");
}

#[test]
fn a_bad_model_never_replaces_good_tables() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["battery.toml", "model.toml"] {
        std::fs::copy(repo().join(DEMO).join(f), dir.path().join(f)).unwrap();
    }
    let model = dir.path().join("model.toml");
    let text = std::fs::read_to_string(&model).unwrap();
    std::fs::write(
        &model,
        text.replace(
            "within_domain_correlation = 0.60",
            "within_domain_correlation = -0.9",
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("tables");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("base_rates.csv"), "precious\n").unwrap();
    let out = run(&[
        "norms",
        "demo",
        "--battery",
        dir.path().to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("correlations need"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("base_rates.csv")).unwrap(),
        "precious\n"
    );
}

/// A simulated standardisation sample (`norms simulate`) scores as it is: its sex and
/// language columns are echoed, not rejected.
#[test]
fn sample_format_columns_are_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sample.csv");
    std::fs::write(
        &input,
        "id,birth_date,test_date,sex,language,sim,voc\nc1,2019-03-14,2026-05-02,F,kk,18,21\n",
    )
    .unwrap();
    let out = run(&[
        "score",
        "--battery",
        DEMO,
        "--input",
        input.to_str().unwrap(),
        "--strict",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&row[col("sex")], "F");
    assert_eq!(&row[col("language")], "kk");
    assert!(row[col("error")].is_empty());
    // The extra columns change nothing in the scores.
    let plain = dir.path().join("plain.csv");
    std::fs::write(
        &plain,
        "id,birth_date,test_date,sim,voc\nc1,2019-03-14,2026-05-02,18,21\n",
    )
    .unwrap();
    let out = run(&[
        "score",
        "--battery",
        DEMO,
        "--input",
        plain.to_str().unwrap(),
        "--strict",
    ]);
    let text = stdout(&out);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let plain_header = reader.headers().unwrap().clone();
    let plain_row = reader.records().next().unwrap().unwrap();
    let plain_col = |name: &str| plain_header.iter().position(|h| h == name).unwrap();
    for c in [
        "sim_scaled",
        "voc_scaled",
        "vci_index",
        "vci_ci_low",
        "vci_ci_high",
    ] {
        assert_eq!(&row[col(c)], &plain_row[plain_col(c)], "{c}");
    }
}
