//! Mantel–Haenszel DIF against reference values computed outside this crate by
//! `tests/reference/dif/make_dif_reference.py` (numpy, scipy; cross-checked with statsmodels'
//! StratifiedTable; see norms/DIF.md): a simulated sample of 2,000 reference and 1,500 focal
//! examinees on 20 items, three with uniform DIF, and a small sample whose items hit every
//! status. Every number to 1e-9 (relative), classes, directions and statuses exactly.

use qabilet_core::stats::{DifReport, DifSample, Group, ItemDif};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/dif");

fn records(name: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let path = format!("{DIR}/{name}");
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let header = reader.headers().expect("header").clone();
    let rows: Vec<_> = reader.records().map(|r| r.expect("record")).collect();
    assert!(!rows.is_empty(), "{name} has no rows");
    (header, rows)
}

/// Reads a sample (`id,language,<item>…`, ru = reference, kk = focal) and analyses it.
fn analyse(name: &str) -> DifReport {
    let (header, rows) = records(name);
    assert_eq!((&header[0], &header[1]), ("id", "language"));
    let items = header.iter().skip(2).map(str::to_owned).collect();
    let mut sample = DifSample::new(items).expect("items");
    for r in &rows {
        let group = match &r[1] {
            "ru" => Group::Reference,
            "kk" => Group::Focal,
            _ => Group::Other,
        };
        let responses: Vec<Option<bool>> = r
            .iter()
            .skip(2)
            .map(|c| match c {
                "" => None,
                "0" => Some(false),
                "1" => Some(true),
                other => panic!("{other:?} in {r:?}"),
            })
            .collect();
        sample.push(group, &responses).expect("one response per item");
    }
    sample.analyse().expect("both groups present")
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
    assert!(
        a == e || (a - e).abs() <= 1e-9 * e.abs(),
        "{what}: got {a:.17e}, reference {e:.17e}"
    );
}

fn text<T: ToString>(x: Option<T>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

fn check_item(got: &ItemDif, r: &csv::StringRecord) {
    let what = |col: &str| format!("{} {col}", &r[0]);
    assert_eq!(got.item, &r[0]);
    assert_eq!(got.n_reference.to_string(), &r[1], "{}", what("n_reference"));
    assert_eq!(got.n_focal.to_string(), &r[2], "{}", what("n_focal"));
    close(Some(got.p_reference), &r[3], &what("p_reference"));
    close(Some(got.p_focal), &r[4], &what("p_focal"));
    let mh = &got.mh;
    close(mh.alpha_mh, &r[5], &what("alpha_mh"));
    close(mh.chi2_mh, &r[6], &what("chi2_mh"));
    close(mh.p_value, &r[7], &what("p_value"));
    close(mh.delta_mh, &r[8], &what("delta_mh"));
    close(mh.se_delta, &r[9], &what("se_delta"));
    assert_eq!(text(mh.class), &r[10], "{}", what("class"));
    assert_eq!(text(mh.favours), &r[11], "{}", what("favours"));
    assert_eq!(mh.status.to_string(), &r[12], "{}", what("status"));
}

fn check(sample: &str, expected: &str, summary: &str) {
    let report = analyse(sample);
    let (header, rows) = records(expected);
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        [
            "item",
            "n_reference",
            "n_focal",
            "p_reference",
            "p_focal",
            "alpha_mh",
            "chi2_mh",
            "p_value",
            "delta_mh",
            "se_delta",
            "class",
            "favours",
            "status"
        ]
    );
    assert_eq!(report.items.len(), rows.len());
    for (got, r) in report.items.iter().zip(&rows) {
        check_item(got, r);
    }
    let e = report.examinees;
    for r in records(summary).1 {
        let value: usize = r[1].parse().expect("count");
        let got = match &r[0] {
            "reference" => e.reference,
            "focal" => e.focal,
            "missing_reference" => e.missing_reference,
            "missing_focal" => e.missing_focal,
            "other" => e.other,
            "strata" => report.strata,
            key => panic!("unknown summary key {key}"),
        };
        assert_eq!(got, value, "{summary}: {}", &r[0]);
    }
}

#[test]
fn simulated_sample_agrees_with_reference() {
    check("sample.csv", "expected.csv", "summary.csv");
}

#[test]
fn edge_sample_statuses_agree_with_reference() {
    check("edge_sample.csv", "edge_expected.csv", "edge_summary.csv");
}

#[test]
fn the_three_dif_items_and_only_they_are_flagged() {
    let report = analyse("sample.csv");
    let flagged: Vec<String> = report
        .items
        .iter()
        .filter(|i| i.mh.class.is_some_and(|c| c != qabilet_core::stats::EtsClass::A))
        .map(|i| format!("{}:{}:{}", i.item, text(i.mh.class), text(i.mh.favours)))
        .collect();
    assert_eq!(flagged, ["i04:B:focal", "i11:B:reference", "i17:C:reference"]);
}
