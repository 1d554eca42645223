//! `qabilet cat simulate` and `qabilet cat calibrate` end to end: the real binary on a bank
//! written to a temporary folder (with content areas and Sympson–Hetter parameters) and on a
//! bundled reference bank: JSON and text reports, reproducibility by seed, content targets,
//! exposure control, Sympson–Hetter calibration written back into the bank and checked by a
//! fresh simulation, and usage errors.

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

#[test]
fn calibrate_writes_sympson_hetter_parameters_that_hold_the_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bank = write_bank(dir.path());
    let out = dir.path().join("bank_sh.json").to_string_lossy().into_owned();
    // 5-item tests on 60 items; 2,000 simulees per round, at most 15 rounds, stopping at
    // max P(A) ≤ 0.25 + 0.02. The bank's own K = 0.5 are ignored.
    let calibrate = run(&[
        "cat",
        "calibrate",
        "--bank",
        &bank,
        "--r-max",
        "0.25",
        "--examinees",
        "2000",
        "--rounds",
        "15",
        "--max-items",
        "5",
        "--out",
        &out,
    ]);
    let stderr = String::from_utf8_lossy(&calibrate.stderr);
    assert!(calibrate.status.success(), "{stderr}");
    assert!(calibrate.stdout.is_empty());
    assert!(
        stderr.contains("max P(S)") && stderr.contains("max P(A)"),
        "{stderr}"
    );
    assert!(stderr.contains("converged in round"), "{stderr}");
    // Round 1 (every K = 1) is pure maximum information: max P(A) = 1.
    let first = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .expect("round 1");
    assert_eq!(first.split_whitespace().nth(3), Some("1.0000"), "{first}");

    // Every item keeps its fields and gains its K.
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bank).expect("read bank")).expect("JSON");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read output")).expect("JSON");
    let (original, written) = (
        original["items"].as_array().unwrap(),
        written["items"].as_array().unwrap(),
    );
    assert_eq!(original.len(), written.len());
    let mut limited = 0;
    for (o, w) in original.iter().zip(written) {
        for field in ["id", "model", "a", "b", "content"] {
            assert_eq!(o[field], w[field], "{field}");
        }
        let k = w["exposure"]["sympson_hetter"].as_f64().expect("K");
        assert!(k > 0.0 && k <= 1.0, "{k}");
        limited += usize::from(k < 1.0);
    }
    assert!(limited > 0);

    // Fresh simulees (another seed) on the written bank.
    let max_exposure = |exposure: &str| -> f64 {
        let rep = json(&run(&[
            "cat",
            "simulate",
            "--bank",
            &out,
            "--examinees",
            "2000",
            "--seed",
            "1000",
            "--max-items",
            "5",
            "--exposure",
            exposure,
            "--format",
            "json",
        ]));
        rep["report"]["exposure"]["max"].as_f64().unwrap()
    };
    let controlled = max_exposure("sympson-hetter");
    assert!(controlled <= 0.25 + 0.03, "max exposure {controlled}");
    assert_eq!(max_exposure("none"), 1.0);

    // Usage errors.
    for r_max in ["0", "1.5", "nan"] {
        let o = run(&[
            "cat",
            "calibrate",
            "--bank",
            &bank,
            "--r-max",
            r_max,
            "--examinees",
            "10",
            "--rounds",
            "2",
            "--out",
            &out,
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// `--out` naming the bank is refused before anything is written: the bank survives (write
/// the calibrated bank elsewhere, then replace it).
#[test]
fn calibrate_out_onto_the_bank_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bank = write_bank(dir.path());
    let before = std::fs::read(&bank).expect("read bank");
    let o = run(&[
        "cat",
        "calibrate",
        "--bank",
        &bank,
        "--r-max",
        "0.25",
        "--examinees",
        "100",
        "--rounds",
        "1",
        "--max-items",
        "5",
        "--out",
        &bank,
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--out") && stderr.contains("--bank") && stderr.contains("same file"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&bank).expect("read bank"), before);
}
