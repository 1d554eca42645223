//! IRT against reference values computed outside this crate by
//! `tests/reference/irt/make_irt_reference.py` (numpy, scipy; see its README): category
//! probabilities and derivatives, item and test information, and EAP (same grid), MAP, MLE
//! and WLE estimates with standard errors and statuses, including missing responses and
//! extreme patterns.

use std::collections::HashMap;

use qabilet_core::irt::{
    CategoryCurve, EapGrid, Estimator, ItemBank, ResponsePattern, Status, item_information, point_estimate,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/irt");

fn rows(name: &str) -> Vec<csv::StringRecord> {
    let path = format!("{DIR}/{name}");
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows: Vec<_> = reader.records().map(|r| r.expect("record")).collect();
    assert!(!rows.is_empty(), "{name} has no rows");
    rows
}

fn banks() -> HashMap<String, ItemBank> {
    let mut banks = HashMap::new();
    for entry in std::fs::read_dir(format!("{DIR}/banks")).expect("banks folder") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        banks.insert(
            name,
            ItemBank::from_json(&text).unwrap_or_else(|e| panic!("{path:?}: {e}")),
        );
    }
    assert!(!banks.is_empty());
    banks
}

fn f(r: &csv::StringRecord, i: usize) -> f64 {
    r[i].parse()
        .unwrap_or_else(|_| panic!("not a number: {:?} in {r:?}", &r[i]))
}

fn close(actual: f64, expected: f64, tol: f64, what: &str) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tol * scale,
        "{what}: got {actual:.15e}, reference {expected:.15e}"
    );
}

#[test]
fn category_probabilities_and_derivatives() {
    let banks = banks();
    let mut curves = vec![CategoryCurve::default(); 16];
    for r in rows("probabilities.csv") {
        let bank = &banks[&r[0]];
        let item = &bank.items[bank.position(&r[1]).expect("item")];
        let (theta, k) = (f(&r, 2), r[3].parse::<usize>().unwrap());
        let m = item.model.max_category();
        item.model.curves(theta, &mut curves[..=m]);
        let what = format!("{r:?}");
        close(curves[k].p, f(&r, 4), 1e-12, &what);
        close(curves[k].dp, f(&r, 5), 1e-10, &what);
        close(curves[k].d2p, f(&r, 6), 1e-9, &what);
    }
}

#[test]
fn item_and_test_information() {
    let banks = banks();
    for r in rows("information.csv") {
        let bank = &banks[&r[0]];
        let theta = f(&r, 2);
        let info = if &r[1] == "*" {
            bank.items.iter().map(|i| item_information(&i.model, theta)).sum()
        } else {
            item_information(&bank.items[bank.position(&r[1]).expect("item")].model, theta)
        };
        close(info, f(&r, 3), 1e-11, &format!("{r:?}"));
    }
}

fn patterns(banks: &HashMap<String, ItemBank>) -> HashMap<(String, String), ResponsePattern> {
    rows("patterns.csv")
        .into_iter()
        .map(|r| {
            let bank = &banks[&r[0]];
            let responses = r[2]
                .split(';')
                .map(|c| {
                    if c.is_empty() {
                        None
                    } else {
                        Some(c.parse().unwrap())
                    }
                })
                .collect();
            let pattern = ResponsePattern::new(bank, responses).unwrap_or_else(|e| panic!("{r:?}: {e}"));
            ((r[0].to_owned(), r[1].to_owned()), pattern)
        })
        .collect()
}

#[test]
fn estimates_of_every_estimator_and_pattern() {
    let banks = banks();
    let patterns = patterns(&banks);
    let mut grids: HashMap<(String, usize, String, String), EapGrid> = HashMap::new();
    let mut scratch = qabilet_core::irt::EapScratch::default();
    let (mut checked, mut statuses) = (0, HashMap::new());
    let mut failures = Vec::new();
    for r in rows("estimates.csv") {
        let bank = &banks[&r[0]];
        let pattern = &patterns[&(r[0].to_owned(), r[1].to_owned())];
        let estimator: Estimator = r[2].parse().unwrap();
        let estimate = if estimator == Estimator::Eap {
            let points: usize = r[3].parse().unwrap();
            let key = (r[0].to_owned(), points, r[4].to_owned(), r[5].to_owned());
            let grid = grids
                .entry(key)
                .or_insert_with(|| EapGrid::new(bank, points, f(&r, 4), f(&r, 5)).unwrap());
            grid.estimate(pattern, &mut scratch)
        } else {
            point_estimate(bank, pattern, estimator)
        };
        let what = format!("{r:?}");
        let expected_status = match &r[8] {
            "ok" => Status::Ok,
            "not_estimable" => Status::NotEstimable,
            "no_responses" => Status::NoResponses,
            other => panic!("status {other}"),
        };
        *statuses.entry(r[8].to_owned()).or_insert(0) += 1;
        checked += 1;
        if estimate.status != expected_status {
            failures.push(format!("{what}: got {estimate:?}"));
            continue;
        }
        if expected_status == Status::Ok {
            // Same-grid EAP must agree to 1e-6 (the bar); in practice far closer.
            let tol = if estimator == Estimator::Eap { 1e-9 } else { 1e-7 };
            let (t, se) = (estimate.theta.unwrap(), estimate.se.unwrap());
            let scale = |x: f64| x.abs().max(1.0);
            if (t - f(&r, 6)).abs() > tol * scale(f(&r, 6)) || (se - f(&r, 7)).abs() > tol * scale(f(&r, 7)) {
                failures.push(format!("{what}: got θ {t}, SE {se}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 100, "only {checked} estimates checked");
    assert!(
        statuses.get("not_estimable").copied().unwrap_or(0) > 0,
        "no not_estimable case: {statuses:?}"
    );
}

/// IRT true-score equating (`irt::true_score`) against `true_score.csv` from
/// `make_true_score_reference.py`: τ(θ) over all items, and its rounded, clipped raw-score
/// equivalent, for every reference bank and the demonstration battery's mr bank.
#[test]
fn true_score_equating_matches_reference() {
    let mut banks = banks();
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../norms/qabilet-primary-demo/items/mr.json"
    );
    banks.insert(
        "demo_mr".into(),
        ItemBank::from_json(&std::fs::read_to_string(demo).unwrap()).unwrap(),
    );
    let rows = rows("true_score.csv");
    for r in &rows {
        let bank = &banks[&r[0]];
        let theta = f(r, 1);
        let raw_max: usize = bank.items.iter().map(|i| i.model.max_category()).sum();
        let tau = qabilet_core::irt::expected_score(bank, theta);
        assert!((tau - f(r, 2)).abs() < 1e-10, "{r:?}: τ = {tau}");
        let raw = qabilet_core::irt::raw_equivalent(bank, theta, raw_max as u16);
        assert_eq!(raw.to_string(), r[3].to_string(), "{r:?}");
    }
    assert!(rows.len() >= 60);
}
