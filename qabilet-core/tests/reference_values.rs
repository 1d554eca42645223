//! Every formula against reference values computed outside this crate, by
//! `tests/reference/make_reference.py` (Python, scipy; see its README). Exact integers must
//! match exactly; real numbers to 1e-12 relative (both sides use correctly rounded
//! double-precision normal quantiles).

use qabilet_core::age::{ChronologicalAge, parse_date};
use qabilet_core::ci::centre_and_half_width;
use qabilet_core::profile::{davis_se, prorate, se_difference};
use qabilet_core::scale::Scale;
use qabilet_core::{AgeError, CiMethod, ConfidenceInterval, ConfidenceLevel, normal};

fn rows(name: &str) -> Vec<csv::StringRecord> {
    let path = format!("{}/tests/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows: Vec<_> = reader.records().map(|r| r.expect("record")).collect();
    assert!(!rows.is_empty(), "{name} has no rows");
    rows
}

fn f(r: &csv::StringRecord, i: usize) -> f64 {
    r[i].parse()
        .unwrap_or_else(|_| panic!("not a number: {:?}", &r[i]))
}

fn close(actual: f64, expected: f64, tol: f64, what: &str) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tol * scale,
        "{what}: got {actual:.17}, reference {expected:.17}"
    );
}

fn scale(name: &str) -> Scale {
    match name {
        "scaled" => Scale::SCALED,
        "index" => Scale::INDEX,
        other => panic!("unknown scale {other}"),
    }
}

#[test]
fn calendar_exact_age() {
    for r in rows("age.csv") {
        let (birth, test) = (parse_date(&r[0]).unwrap(), parse_date(&r[1]).unwrap());
        let got = ChronologicalAge::between(birth, test);
        if &r[6] == "before_birth" {
            assert!(matches!(got, Err(AgeError::TestBeforeBirth { .. })), "{r:?}");
            continue;
        }
        let age = got.unwrap_or_else(|e| panic!("{r:?}: {e}"));
        let expected = (
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
            r[4].parse().unwrap(),
        );
        assert_eq!(
            (age.years, age.months, age.days),
            expected,
            "{} → {}",
            &r[0],
            &r[1]
        );
        assert_eq!(age.in_months().0, r[5].parse::<u16>().unwrap(), "{r:?}");
    }
}

#[test]
fn confidence_level_quantiles_are_exact() {
    for r in rows("quantiles.csv") {
        let level: ConfidenceLevel = r[0].parse().unwrap();
        close(level.z(), f(&r, 1), 1e-14, &format!("z at {}", &r[0]));
    }
    for r in rows("alpha_quantiles.csv") {
        close(
            normal::two_sided_z(f(&r, 0)),
            f(&r, 1),
            1e-13,
            &format!("z at alpha {}", &r[0]),
        );
    }
}

#[test]
fn z_to_score_rounds_half_away_then_clips() {
    for r in rows("z_to_score.csv") {
        let got = scale(&r[0]).score_for_z(f(&r, 1));
        assert_eq!(got, r[2].parse::<i32>().unwrap(), "{r:?}");
    }
}

#[test]
fn midpoint_normal_scores() {
    for r in rows("midpoint_z.csv") {
        let (below, equal, z) = (f(&r, 0), f(&r, 1), f(&r, 2));
        // Near p = 1 a one-ulp change of p moves z a lot: compare there on p instead.
        let p = below + equal / 2.0;
        if p > 1.0 - 1e-9 {
            close(
                normal::cdf(normal::midpoint_z(below, equal)),
                normal::cdf(z),
                1e-15,
                &format!("{r:?}"),
            );
        } else {
            close(normal::midpoint_z(below, equal), z, 1e-12, &format!("{r:?}"));
        }
    }
}

#[test]
fn subtest_percentiles() {
    for r in rows("percentile.csv") {
        let scaled: f64 = f(&r, 0);
        let pct = 100.0 * normal::cdf(Scale::SCALED.z_of(scaled));
        close(pct, f(&r, 1), 1e-12, &format!("percentile of {scaled}"));
        assert_eq!(format!("{pct:.1}"), &r[2]);
        assert_eq!(
            format!("{:.1}", qabilet_core::scale::percentile_one_decimal(pct)),
            &r[2]
        );
    }
}

#[test]
fn confidence_intervals_both_methods_all_levels() {
    for r in rows("ci.csv") {
        let s = scale(&r[0]);
        let score: i32 = r[1].parse().unwrap();
        let rel = f(&r, 2);
        let level: ConfidenceLevel = r[3].parse().unwrap();
        let method: CiMethod = r[4].parse().unwrap();
        let (centre, half) = centre_and_half_width(&s, f64::from(score), rel, level.z(), method);
        let what = format!("{r:?}");
        close(centre, f(&r, 5), 1e-13, &what);
        close(centre - half, f(&r, 6), 1e-12, &what);
        close(centre + half, f(&r, 7), 1e-12, &what);
        let ci = ConfidenceInterval::new(&s, score, rel, level, method);
        assert_eq!(
            (ci.low, ci.high),
            (r[8].parse().unwrap(), r[9].parse().unwrap()),
            "{what}"
        );
    }
}

#[test]
fn davis_critical_values() {
    for r in rows("davis.csv") {
        let k: usize = r[1].parse().unwrap();
        let sems: Vec<f64> = r[2].split(';').map(|x| x.parse().unwrap()).collect();
        assert_eq!(sems.len(), k);
        let i: usize = r[3].parse().unwrap();
        let alpha = f(&r, 4);
        let sum_sq: f64 = sems.iter().map(|s| s * s).sum();
        let se = davis_se(sems[i], sum_sq, k);
        close(se, f(&r, 6), 1e-13, &format!("SE {r:?}"));
        let z = match &r[5] {
            "none" => normal::two_sided_z(alpha),
            "bonferroni" => normal::two_sided_z(alpha / k as f64),
            other => panic!("correction {other}"),
        };
        close(z * se, f(&r, 7), 1e-12, &format!("critical {r:?}"));
    }
}

#[test]
fn pairwise_discrepancy_critical_values() {
    for r in rows("discrepancy.csv") {
        let (sem_a, sem_b) = (Scale::INDEX.sem(f(&r, 0)), Scale::INDEX.sem(f(&r, 1)));
        close(sem_a, f(&r, 3), 1e-13, "SEM a");
        close(sem_b, f(&r, 4), 1e-13, "SEM b");
        let se = se_difference(sem_a, sem_b);
        close(se, f(&r, 5), 1e-13, "SE diff");
        close(
            normal::two_sided_z(f(&r, 2)) * se,
            f(&r, 6),
            1e-12,
            &format!("{r:?}"),
        );
    }
}

#[test]
fn proration_rounds_half_away() {
    for r in rows("proration.csv") {
        let got = prorate(
            r[0].parse().unwrap(),
            r[1].parse().unwrap(),
            r[2].parse().unwrap(),
        );
        assert_eq!(got, r[3].parse::<i32>().unwrap(), "{r:?}");
    }
}
