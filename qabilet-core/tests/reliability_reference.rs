//! Reliability per age band against reference values computed outside this crate by
//! `tests/reference/reliability/make_reliability_reference.py` (numpy, textbook formulas):
//! a simulated standardisation sample of 420 children on the demonstration battery with item
//! columns for `sim` (24 items, 0–2) and `inf` (28 items, 0/1), a speed test `cd` without
//! items, missing item scores and a sparse oldest band. Alpha, split-half and SEM to 1e-9;
//! n, item counts and statuses exactly.

use qabilet_core::Battery;
use qabilet_core::norms::StandardisationSample;
use qabilet_core::stats::{ReliabilityOptions, sample_reliability};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/reliability");
const BATTERY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../norms/qabilet-primary-demo/battery.toml"
);

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn close(actual: Option<f64>, expected: &str, what: &str) {
    if expected.is_empty() {
        assert_eq!(actual, None, "{what}: expected no value");
        return;
    }
    let e: f64 = expected
        .parse()
        .unwrap_or_else(|_| panic!("{what}: {expected:?}"));
    let a = actual.unwrap_or_else(|| panic!("{what}: no value, reference {e}"));
    assert!((a - e).abs() <= 1e-9, "{what}: got {a:.17e}, reference {e:.17e}");
}

#[test]
fn matches_the_numpy_reference() {
    let battery = Battery::from_toml(&read(BATTERY)).expect("demo battery");
    let sample = StandardisationSample::parse(&battery, &read(&format!("{DIR}/sample.csv")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sample.children.len(), 420);
    assert!(sample.weighted);
    let results = sample_reliability(&battery, &sample, &ReliabilityOptions::for_battery(&battery));

    let expected_path = format!("{DIR}/expected.csv");
    let mut reader = csv::Reader::from_path(&expected_path).expect("expected.csv");
    let expected: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(results.len(), expected.len(), "rows");
    let mut ok = 0;
    for (r, e) in results.iter().zip(&expected) {
        let what = format!("{} {}–{}", &e[0], &e[1], &e[2]);
        assert_eq!(
            (
                r.subtest.as_str(),
                r.age_min_months.to_string(),
                r.age_max_months.to_string(),
                r.n.to_string(),
                r.items.to_string(),
                r.status.to_string()
            ),
            (
                &e[0],
                e[1].to_owned(),
                e[2].to_owned(),
                e[3].to_owned(),
                e[4].to_owned(),
                e[8].to_owned()
            ),
            "{what}"
        );
        close(r.alpha, &e[5], &format!("{what} alpha"));
        close(r.split_half, &e[6], &format!("{what} split_half"));
        close(r.sem_alpha, &e[7], &format!("{what} sem_alpha"));
        ok += usize::from(r.alpha.is_some());
    }
    assert_eq!(ok, 12, "bands with coefficients");
}
