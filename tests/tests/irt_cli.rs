//! `qabilet irt score` end to end: the real binary on the reference banks and patterns of
//! `qabilet-core/tests/reference/irt/` (computed with scipy), every estimator, default and
//! custom EAP grids, and bad input.

use std::collections::HashMap;

use qabilet_e2e::{qabilet, repo};

const REF: &str = "qabilet-core/tests/reference/irt";

fn read_csv(path: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(repo().join(path)).expect("reference file");
    r.records().map(|x| x.expect("record")).collect()
}

/// Writes the bank's reference patterns as `irt score` input; returns its path.
fn input_for(bank: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join(REF).join("banks").join(format!("{bank}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let mut out = format!("id,{}\n", ids.join(","));
    for r in read_csv(&format!("{REF}/patterns.csv"))
        .iter()
        .filter(|r| &r[0] == bank)
    {
        out.push_str(&format!("{},{}\n", &r[1], r[2].replace(';', ",")));
    }
    let path = dir.join(format!("{bank}.csv"));
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn every_estimator_agrees_with_the_reference_values() {
    let dir = tempfile::tempdir().unwrap();
    let estimates = read_csv(&format!("{REF}/estimates.csv"));
    let mut checked = 0;
    for bank in ["twopl20", "threepl15", "mixed12"] {
        let input = input_for(bank, dir.path());
        let bank_path = repo().join(REF).join("banks").join(format!("{bank}.json"));
        for (estimator, extra) in [
            ("eap", vec![]),
            ("eap", vec!["--quad-points", "21", "--theta-range", "-4,4"]),
            ("map", vec![]),
            ("mle", vec![]),
            ("wle", vec![]),
        ] {
            let mut args = vec![
                "irt",
                "score",
                "--bank",
                bank_path.to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--estimator",
                estimator,
            ];
            args.extend(&extra);
            let out = qabilet().args(&args).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
            let got: HashMap<String, csv::StringRecord> = reader
                .records()
                .map(|r| r.unwrap())
                .map(|r| (r[0].to_owned(), r))
                .collect();
            let points = if extra.is_empty() { "61" } else { "21" };
            for e in estimates.iter().filter(|e| &e[0] == bank && &e[2] == estimator) {
                if estimator == "eap" && &e[3] != points {
                    continue;
                }
                let row = &got[&e[1]];
                assert_eq!(&row[3], &e[8], "{bank} {} {estimator}: status", &e[1]);
                if &e[8] == "ok" {
                    for (col, refcol) in [(1, 6), (2, 7)] {
                        let (a, b): (f64, f64) = (row[col].parse().unwrap(), e[refcol].parse().unwrap());
                        assert!(
                            (a - b).abs() <= 1e-7 * b.abs().max(1.0),
                            "{bank} {} {estimator}: {a} vs {b}",
                            &e[1]
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} checked");
}

#[test]
fn bad_cells_are_reported_with_item_and_line_and_unknown_items_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let bank = repo().join(REF).join("banks/mixed12.json");
    let text = std::fs::read_to_string(&bank).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let first = json["items"][0]["id"].as_str().unwrap().to_owned();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, format!("id,{first}\nok,1\nbad,7\nworse,x\n")).unwrap();
    let out = qabilet()
        .args([
            "irt",
            "score",
            "--bank",
            bank.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "bad,,,invalid,line 3: item '{first}': category 7 is outside"
        )),
        "{text}"
    );
    assert!(text.contains("worse,,,invalid,line 4:"), "{text}");

    std::fs::write(&input, "id,no_such_item\na,1\n").unwrap();
    let out = qabilet()
        .args([
            "irt",
            "score",
            "--bank",
            bank.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("column 'no_such_item' is not an item of the bank")
    );
}

#[test]
fn malformed_banks_name_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank.json");
    std::fs::write(
        &bank,
        r#"{"items": [{"id": "a", "model": "2pl", "a": 1, "b": 0}, {"id": "g", "model": "grm", "a": 1, "b": [0.5, 0.1]}]}"#,
    )
    .unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "id,a\nx,1\n").unwrap();
    let out = qabilet()
        .args([
            "irt",
            "score",
            "--bank",
            bank.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("item 2 ('g'): grm thresholds must be strictly increasing"),
        "{stderr}"
    );
}

/// An output that is the input file is refused before anything is written: the patterns
/// survive, whichever way the path is spelt.
#[test]
fn output_onto_its_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_for("twopl20", dir.path());
    let before = std::fs::read(&input).unwrap();
    let bank = repo().join(REF).join("banks/twopl20.json");
    let same = dir.path().join(".").join("twopl20.csv");
    for output in [&input, &same] {
        let out = qabilet()
            .args(["irt", "score", "--bank", bank.to_str().unwrap(), "--input"])
            .arg(&input)
            .arg("--output")
            .arg(output)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--output") && stderr.contains("--input") && stderr.contains("same file"),
            "{stderr}"
        );
        assert_eq!(std::fs::read(&input).unwrap(), before, "the input is unchanged");
    }
}
