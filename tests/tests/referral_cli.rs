//! `qabilet referral plan` end to end: the real binary's JSON on grid points of the
//! independent scipy reference (qabilet-core/tests/reference/referral_plan/expected.csv),
//! one and two stages under every rule, figure by figure; the text table; and the exit-2
//! refusals, each naming its flag.

use std::process::Output;

use qabilet_e2e::{qabilet, referral_reference};

fn run(args: &[&str]) -> Output {
    let mut all = vec!["referral", "plan"];
    all.extend_from_slice(args);
    qabilet().args(&all).output().expect("run qabilet")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const FIGURES: [&str; 10] = [
    "referred_rate",
    "above_rate",
    "sensitivity",
    "ppv",
    "stage2_referred_rate",
    "stage2_sensitivity",
    "stage2_ppv",
    "overall_referred_rate",
    "overall_sensitivity",
    "overall_ppv",
];

#[test]
fn json_figures_agree_with_the_scipy_reference() {
    let points: [[&str; 6]; 8] = [
        ["observed", "0.7", "110", "115", "", ""],
        ["observed", "0.9", "130", "130", "", ""],
        ["upper90", "0.85", "125", "120", "", ""],
        ["upper95", "0.95", "135", "130", "", ""],
        ["observed", "0.8", "120", "130", "0.95", "130"],
        ["upper90", "0.7", "110", "120", "0.9", "125"],
        ["upper95", "0.85", "125", "130", "0.95", "135"],
        ["upper90", "0.8", "110", "130", "0.9", "135"],
    ];
    let mut max_diff: f64 = 0.0;
    for key in points {
        let [rule, r, c, t, r2, c2] = key;
        let mut args = vec![
            "--rule",
            rule,
            "--reliability",
            r,
            "--cut",
            c,
            "--above",
            t,
            "--format",
            "json",
        ];
        if !r2.is_empty() {
            args.extend_from_slice(&["--stage2-reliability", r2, "--stage2-cut", c2]);
        }
        let out = run(&args);
        assert!(out.status.success(), "{key:?}: {}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let object = json.as_object().expect("one object");
        // The inputs echoed.
        assert_eq!(object["rule"], rule, "{key:?}");
        for (name, value) in [
            ("reliability", r),
            ("cut", c),
            ("above", t),
            ("stage2_reliability", r2),
            ("stage2_cut", c2),
        ] {
            if value.is_empty() {
                assert!(!object.contains_key(name), "{key:?}: {name} for one stage");
            } else {
                let given: f64 = value.parse().expect("number");
                assert_eq!(object[name].as_f64(), Some(given), "{key:?} {name}");
            }
        }
        let expected = referral_reference(key);
        let mut seen = 0;
        for (name, cell) in &expected {
            if !FIGURES.contains(&name.as_str()) {
                continue;
            }
            if cell.is_empty() {
                assert!(
                    !object.contains_key(name.as_str()),
                    "{key:?}: {name} for one stage"
                );
                continue;
            }
            let e: f64 = cell.parse().expect("reference number");
            let a = object[name.as_str()]
                .as_f64()
                .unwrap_or_else(|| panic!("{key:?}: {name} missing or not a number"));
            let d = (a - e).abs();
            assert!(d <= 1e-6, "{key:?} {name}: {a} vs reference {e}");
            max_diff = max_diff.max(d);
            seen += 1;
        }
        let inputs = if r2.is_empty() { 4 } else { 6 };
        assert_eq!(
            object.len(),
            inputs + seen,
            "{key:?}: exactly the inputs and the figures"
        );
    }
    assert!(max_diff <= 1e-9, "max |difference| {max_diff:e}");
}

#[test]
fn no_one_referred_gives_a_null_ppv() {
    let out = run(&[
        "--rule",
        "upper95",
        "--reliability",
        "0.0001",
        "--cut",
        "160",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["referred_rate"].as_f64(), Some(0.0));
    assert!(json["ppv"].is_null());
}

#[test]
fn text_output_is_a_table_of_the_stages() {
    let out = run(&[
        "--reliability",
        "0.8",
        "--cut",
        "115",
        "--stage2-reliability",
        "0.95",
        "--stage2-cut",
        "130",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    for needle in [
        "stage 1",
        "stage 2 alone",
        "both stages",
        "sensitivity",
        "PPV",
        "Truly above 130",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

#[test]
fn out_of_range_flags_exit_2_naming_the_flag() {
    let cases: [(&[&str], &str); 8] = [
        (&["--reliability", "1", "--cut", "120"], "--reliability"),
        (&["--reliability", "0", "--cut", "120"], "--reliability"),
        (&["--reliability", "-0.3", "--cut", "120"], "--reliability"),
        (&["--reliability", "0.9", "--cut", "39"], "--cut"),
        (
            &["--reliability", "0.9", "--cut", "120", "--above", "161"],
            "--above",
        ),
        (
            &[
                "--reliability",
                "0.9",
                "--cut",
                "120",
                "--stage2-reliability",
                "1.2",
                "--stage2-cut",
                "130",
            ],
            "--stage2-reliability",
        ),
        (
            &[
                "--reliability",
                "0.9",
                "--cut",
                "120",
                "--stage2-reliability",
                "0.9",
                "--stage2-cut",
                "170",
            ],
            "--stage2-cut",
        ),
        (
            &["--reliability", "0.9", "--cut", "120", "--stage2-cut", "130"],
            "--stage2-reliability",
        ),
    ];
    for (args, flag) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: wrote output");
    }
}
