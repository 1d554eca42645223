//! The norm build's composite tables, reliability table and base rates against reference
//! values computed outside this crate by `tests/reference/build/sample_tables.py` (numpy and
//! scipy, from the rules, per child rather than binned): 300 simulated children of a
//! four-subtest battery (`battery.toml` there), with missing subtests, item columns for one
//! subtest (alpha in three bands, too few complete cases in the oldest, where the explicit
//! value applies) and sampling weights; once unweighted (every weight 1), once weighted.
//!
//! Index scores, percentiles, written reliabilities and base-rate percents exactly (the
//! script checks that none lies near a rounding boundary); the fits' moments and bandwidths,
//! alpha and the unrounded Mosier values to 1e-9.

use qabilet_core::Battery;
use qabilet_core::norms::build::{
    ReliabilitySource, ScaledChild, base_rates, composite_rows, mosier, reliability_rows,
};
use qabilet_core::norms::{BaseRates, CompositeNorms, Reliabilities, ReliabilityRow, StandardisationSample};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/build");
const BAND_MONTHS: u16 = 24;
const MIN_CHILDREN: usize = 20;

fn read(name: &str) -> String {
    let path = format!("{DIR}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Inputs {
    battery: Battery,
    children: Vec<ScaledChild>,
    sample: StandardisationSample,
    explicit: Vec<ReliabilityRow>,
    expected: Value,
}

fn inputs() -> Inputs {
    let battery = Battery::from_toml(&read("battery.toml")).expect("reference battery");
    let mut children = Vec::new();
    let text = read("scaled_children.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let subtests: Vec<&str> = battery.subtests.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(&header.iter().collect::<Vec<_>>()[3..], subtests.as_slice());
    for record in reader.records() {
        let r = record.expect("record");
        children.push(ScaledChild {
            id: r[0].to_owned(),
            age_months: r[1].parse().expect("age"),
            weight: r[2].parse().expect("weight"),
            scaled: (3..r.len())
                .map(|i| (!r[i].is_empty()).then(|| r[i].parse().expect("scaled")))
                .collect(),
        });
    }
    let sample =
        StandardisationSample::parse(&battery, &read("sample.csv")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sample.children.len(), children.len());
    for (s, c) in sample.children.iter().zip(&children) {
        assert_eq!(
            (s.id.as_str(), s.age.in_months().0, s.weight),
            (c.id.as_str(), c.age_months, c.weight)
        );
    }
    let text = read("explicit.csv");
    let explicit = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.expect("record");
            ReliabilityRow {
                scale: r[0].to_owned(),
                age_min_months: r[1].parse().expect("age"),
                age_max_months: r[2].parse().expect("age"),
                reliability: r[3].parse().expect("reliability"),
            }
        })
        .collect();
    let expected = serde_json::from_str(&read("sample_tables_expected.json")).expect("expected JSON");
    Inputs {
        battery,
        children,
        sample,
        explicit,
        expected,
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(actual: f64, expected: &Value, what: &str) {
    let e = f(expected);
    assert!(
        (actual - e).abs() <= 1e-9 * e.abs().max(1.0),
        "{what}: got {actual:.17e}, reference {e:.17e}"
    );
}

fn check_case(name: &str, weighted: bool) {
    let Inputs {
        battery,
        mut children,
        sample,
        explicit,
        expected,
    } = inputs();
    if !weighted {
        for c in &mut children {
            c.weight = 1.0;
        }
    }
    let expected = &expected[name];

    // Composite tables.
    let (rows, fits) = composite_rows(&battery, &children, MIN_CHILDREN).expect("composite tables");
    let norms = CompositeNorms::from_rows(&battery, rows.iter().cloned().enumerate().collect())
        .expect("a valid composites.csv");
    let exp_composites = expected["composites"].as_array().expect("composites");
    assert_eq!(fits.len(), exp_composites.len());
    let mut distinct = std::collections::BTreeSet::new();
    for (c, (fit, e)) in fits.iter().zip(exp_composites).enumerate() {
        let what = format!("{name} {}", fit.composite);
        assert_eq!(fit.composite, e["composite"].as_str().unwrap(), "{what}");
        assert_eq!(fit.n as u64, e["n"].as_u64().unwrap(), "{what} n");
        close(fit.mean, &e["mean"], &format!("{what} mean"));
        close(fit.sd, &e["sd"], &format!("{what} sd"));
        close(fit.bandwidth, &e["bandwidth"], &format!("{what} bandwidth"));
        close(fit.skewness, &e["skewness"], &format!("{what} skewness"));
        let sum_min = e["sum_min"].as_i64().unwrap() as i32;
        let (index, percentile) = (
            e["index"].as_array().unwrap(),
            e["percentile"].as_array().unwrap(),
        );
        assert_eq!(
            index.len(),
            18 * battery.composites[c].subtests.len() + 1,
            "{what}"
        );
        for (j, (i, p)) in index.iter().zip(percentile).enumerate() {
            let sum = sum_min + j as i32;
            let (got_i, got_p) = norms.lookup(c, sum);
            assert_eq!(i64::from(got_i), i.as_i64().unwrap(), "{what} index at sum {sum}");
            assert_eq!(got_p, f(p), "{what} percentile at sum {sum}");
            distinct.insert(got_i);
        }
    }
    assert!(
        distinct.len() > 50,
        "the tables span the scale: {}",
        distinct.len()
    );

    // Reliability.
    let (rel_rows, sources) =
        reliability_rows(&battery, &sample, &children, &explicit, BAND_MONTHS, MIN_CHILDREN)
            .expect("reliability table");
    Reliabilities::from_rows(&battery, rel_rows.iter().cloned().enumerate().collect())
        .expect("a valid reliability.csv");
    let exp_rel = expected["reliability"].as_array().expect("reliability");
    assert_eq!(rel_rows.len(), exp_rel.len());
    let mut by_source = std::collections::BTreeMap::new();
    for ((r, s), e) in rel_rows.iter().zip(&sources).zip(exp_rel) {
        let what = format!("{name} {} {}–{}", r.scale, r.age_min_months, r.age_max_months);
        let ReliabilitySource {
            scale,
            age_min_months,
            age_max_months,
            source,
            n,
            value,
            ..
        } = s;
        assert_eq!(
            (r.scale.as_str(), r.age_min_months, r.age_max_months),
            (scale.as_str(), *age_min_months, *age_max_months)
        );
        assert_eq!(
            (
                scale.as_str(),
                u64::from(*age_min_months),
                u64::from(*age_max_months),
                source.as_str(),
                *n as u64
            ),
            (
                e["scale"].as_str().unwrap(),
                e["age_min_months"].as_u64().unwrap(),
                e["age_max_months"].as_u64().unwrap(),
                e["source"].as_str().unwrap(),
                e["n"].as_u64().unwrap()
            ),
            "{what}"
        );
        assert_eq!(r.reliability, f(&e["reliability"]), "{what} written value");
        close(*value, &e["value"], &format!("{what} value"));
        *by_source.entry(source.clone()).or_insert(0) += 1;
    }
    assert_eq!(
        by_source.into_iter().collect::<Vec<_>>(),
        [
            ("alpha".to_owned(), 3),
            ("explicit".to_owned(), 13),
            ("mosier".to_owned(), 12)
        ]
    );

    // Mosier directly, for one composite and band, from the written subtest values.
    let gen_at = battery.composite_index("gen").unwrap();
    let members = &battery.composites[gen_at].subtests;
    let (scores, weights): (Vec<Vec<i32>>, Vec<f64>) = children
        .iter()
        .filter(|c| (108..=131).contains(&c.age_months))
        .filter_map(|c| {
            let s: Option<Vec<i32>> = members.iter().map(|&m| c.scaled[m]).collect();
            s.map(|s| (s, c.weight))
        })
        .unzip();
    let band = 2;
    let r: Vec<f64> = members
        .iter()
        .map(|&m| rel_rows[m * 4 + band].reliability)
        .collect();
    let row = battery.subtests.len() * 4 + gen_at * 4 + band;
    close(
        mosier(&weights, &scores, &r).expect("defined"),
        &exp_rel[row]["value"],
        &format!("{name} mosier(gen, 108–131)"),
    );

    // Base rates.
    let tables = base_rates(&battery, &children, &norms, MIN_CHILDREN).expect("base rates");
    BaseRates::from_tables(&battery, tables.clone()).expect("a valid base_rates.csv");
    let exp_rates = expected["base_rates"].as_array().expect("base_rates");
    assert_eq!(tables.len(), exp_rates.len());
    for ((id, percents), e) in tables.iter().zip(exp_rates) {
        assert_eq!(id, e["comparison"].as_str().unwrap());
        let want: Vec<f64> = e["percent"].as_array().unwrap().iter().map(f).collect();
        assert_eq!(percents, &want, "{name} {id}");
    }
}

#[test]
fn unweighted_sample_matches_the_reference() {
    check_case("unweighted", false);
}

#[test]
fn weighted_sample_matches_the_reference() {
    check_case("weighted", true);
}

#[test]
fn weights_change_the_tables() {
    // Guard against a reference that would pass whatever the weights: the two cases differ.
    let expected = inputs().expected;
    let (u, w) = (&expected["unweighted"], &expected["weighted"]);
    assert_ne!(u["composites"][0]["index"], w["composites"][0]["index"]);
    assert_ne!(u["base_rates"][0]["percent"], w["base_rates"][0]["percent"]);
    assert_ne!(u["reliability"][16]["value"], w["reliability"][16]["value"]);
}
