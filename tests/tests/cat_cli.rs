//! `qabilet cat simulate` end to end: the real binary on a bank written to a temporary
//! folder (with content areas and Sympson–Hetter parameters) and on a bundled reference
//! bank: JSON and text reports, reproducibility by seed, content targets, exposure control
//! and usage errors.

use std::process::Output;

use qabilet_e2e::qabilet;

fn run(args: &[&str]) -> Output {
    qabilet().args(args).output().expect("run qabilet")
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

/// 60 2PL items over three content areas, every item with a Sympson–Hetter parameter.
fn write_bank(dir: &std::path::Path) -> String {
    let items: Vec<String> = (0..60)
        .map(|i| {
            let a = 0.6 + (i % 7) as f64 * 0.25;
            let b = -2.5 + (i as f64) * 5.0 / 59.0;
            let area = ["number", "space", "verbal"][i % 3];
            format!(
                r#"{{"id":"q{i}","model":"2pl","a":{a},"b":{b},"content":"{area}","exposure":{{"sympson_hetter":0.5}}}}"#
            )
        })
        .collect();
    let path = dir.join("bank.json");
    std::fs::write(&path, format!(r#"{{"items":[{}]}}"#, items.join(","))).expect("write bank");
    path.to_string_lossy().into_owned()
}

#[test]
fn json_report_is_complete_and_reproducible() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bank = write_bank(dir.path());
    let content = dir.path().join("content.json");
    std::fs::write(&content, r#"{"number": 0.5, "space": 0.25, "verbal": 0.25}"#).expect("write content");
    let content = content.to_string_lossy().into_owned();
    let args = [
        "cat",
        "simulate",
        "--bank",
        &bank,
        "--examinees",
        "300",
        "--seed",
        "7",
        "--max-items",
        "8",
        "--content",
        &content,
        "--format",
        "json",
    ];
    let first = run(&args);
    let report = json(&first);
    assert_eq!(first.stdout, run(&args).stdout, "same seed, same report");
    let r = &report["report"];
    assert_eq!(r["examinees"], 300);
    assert_eq!(r["mean_length"], 8.0);
    assert!(r["rmse"].as_f64().unwrap() > 0.0 && r["rmse"].as_f64().unwrap() < 1.0);
    assert!(r["bias"].as_f64().unwrap().abs() < 0.2);
    assert_eq!(r["deciles"].as_array().unwrap().len(), 10);
    let rates = r["exposure"]["rates"].as_object().unwrap();
    assert_eq!(rates.len(), 60);
    // 8 items at 0.5 / 0.25 / 0.25: exactly 4 / 2 / 2 per simulee.
    let area_sum = |k: usize| -> f64 {
        (k..60)
            .step_by(3)
            .map(|i| rates[&format!("q{i}")].as_f64().unwrap())
            .sum()
    };
    assert!(
        (area_sum(0) - 4.0).abs() < 1e-9
            && (area_sum(1) - 2.0).abs() < 1e-9
            && (area_sum(2) - 2.0).abs() < 1e-9
    );
    assert_eq!(report["config"]["content"]["number"], 0.5);

    // Another seed, another study.
    let other = json(&run(&[
        "cat",
        "simulate",
        "--bank",
        &bank,
        "--examinees",
        "300",
        "--seed",
        "8",
        "--max-items",
        "8",
        "--content",
        &content,
        "--format",
        "json",
    ]));
    assert_ne!(other["report"]["rmse"], r["rmse"]);

    // Sympson–Hetter (K = 0.5 everywhere) and randomesque lower the maximum exposure rate.
    let max_exposure = |exposure: &str| -> f64 {
        let rep = json(&run(&[
            "cat",
            "simulate",
            "--bank",
            &bank,
            "--examinees",
            "400",
            "--max-items",
            "10",
            "--exposure",
            exposure,
            "--format",
            "json",
        ]));
        rep["report"]["exposure"]["max"].as_f64().unwrap()
    };
    let none = max_exposure("none");
    assert!(max_exposure("sympson-hetter") < none);
    assert!(max_exposure("randomesque:4") < none);
}

#[test]
fn text_report_on_a_reference_bank_with_se_stopping() {
    let out = run(&[
        "cat",
        "simulate",
        "--bank",
        "qabilet-core/tests/reference/irt/banks/mixed12.json",
        "--examinees",
        "200",
        "--theta-dist",
        "uniform",
        "--se-target",
        "0.45",
        "--min-items",
        "3",
        "--max-items",
        "12",
        "--selection",
        "kl",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    for needle in [
        "bias",
        "RMSE",
        "mean SE",
        "never used",
        "over 0.2",
        "test overlap",
        "by true-theta decile",
        "se_target",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count(),
        10
    );
}

#[test]
fn usage_errors_exit_2() {
    let bank = "qabilet-core/tests/reference/irt/banks/twopl20.json";
    for args in [
        vec!["--exposure", "sympson-hetter"],
        vec!["--exposure", "randomesque:0"],
        vec!["--min-items", "30", "--max-items", "10"],
        vec!["--selection", "astrat", "--strata", "50"],
        vec!["--se-target", "-1"],
    ] {
        let mut all = vec!["cat", "simulate", "--bank", bank, "--examinees", "10"];
        all.extend(args.iter().copied());
        let out = run(&all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{all:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty());
    }
    let out = run(&[
        "cat",
        "simulate",
        "--bank",
        "no/such/bank.json",
        "--examinees",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
