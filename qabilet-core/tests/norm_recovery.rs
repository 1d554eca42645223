//! Continuous norming recovers known truths (issue 3's correctness evidence): simulated
//! standardisation samples of N = 3,000 spread uniformly over 5:0–11:11 from the shapes of
//! `support/shapes.rs`, fitted subtest by subtest, and the fitted z compared with the true z
//! over every (whole month at mid-month, raw score) cell.
//!
//! Targets: Box–Cox shapes with floors, ceilings and changing skew — RMSE ≤ 0.07 where
//! |z| ≤ 2.5 and ≤ 0.15 over the whole grid (both z clipped to ±3.5); shapes no parametric
//! family fits — RMSE ≤ 0.10 where |z| ≤ 2.5. Errors must shrink as N grows, and what is
//! written must be monotone in raw score and in age.

#[path = "support/shapes.rs"]
mod shapes;

use qabilet_core::battery::Battery;
use qabilet_core::norms::StandardisationSample;
use qabilet_core::norms::build::{BuildOptions, SubtestFit, fit_subtest};

fn fits(truths: &[&dyn shapes::Truth], kind: &str, n: usize, seed: u64) -> Vec<SubtestFit> {
    let battery = Battery::from_toml(&shapes::battery_toml(kind, truths)).expect("battery");
    let sample = StandardisationSample::parse(
        &battery,
        &shapes::sample_csv(truths, &shapes::simulate(truths, n, seed, 0.7)),
    )
    .expect("sample");
    (0..truths.len())
        .map(|s| fit_subtest(&battery, &sample, s, &BuildOptions::default()).expect("fit"))
        .collect()
}

fn recovery(truths: &[&dyn shapes::Truth], fits: &[SubtestFit]) -> shapes::Recovery {
    let parts: Vec<_> = truths
        .iter()
        .zip(fits)
        .map(|(t, f)| {
            shapes::recovery(*t, |m, x| {
                f.grid.z(f.grid.row_of(f64::from(m) + 0.5).expect("grid"), x)
            })
        })
        .collect();
    shapes::combine(&parts)
}

fn assert_monotone(fit: &SubtestFit) {
    let g = &fit.grid;
    for a in 0..g.ages() {
        for x in 1..=g.raw_max {
            assert!(g.z(a, x) >= g.z(a, x - 1) - 1e-12, "raw {x} at age {}", g.age(a));
        }
    }
    for x in 0..=g.raw_max {
        for a in 1..g.ages() {
            assert!(g.z(a, x) <= g.z(a - 1, x) + 1e-12, "raw {x} at age {}", g.age(a));
        }
    }
}

#[test]
fn box_cox_shapes_are_recovered_within_the_targets() {
    let battery = shapes::lms_battery();
    let truths = shapes::refs(&battery);
    let fitted = fits(&truths, "recovery-lms", 3000, 20261129);
    let r = recovery(&truths, &fitted);
    eprintln!("LMS shapes, N = 3000: {r:?}");
    assert!(r.rmse_central <= 0.07, "central RMSE {}", r.rmse_central);
    assert!(r.rmse_all <= 0.15, "whole-grid RMSE {}", r.rmse_all);
    // The parametric family holds here: the one-standard-error rule keeps it everywhere.
    assert!(fitted.iter().all(|f| f.candidates[f.chosen].family == "lms"));
    fitted.iter().for_each(assert_monotone);
}

#[test]
fn shapes_no_family_fits_are_recovered_by_model_choice() {
    let battery = shapes::nonparametric_battery();
    let truths = shapes::refs(&battery);
    let fitted = fits(&truths, "recovery-nonparametric", 3000, 20261129);
    let r = recovery(&truths, &fitted);
    eprintln!("nonparametric shapes, N = 3000: {r:?}");
    assert!(r.rmse_central <= 0.10, "central RMSE {}", r.rmse_central);
    // Distribution regression is chosen where the parametric family misses.
    assert!(
        fitted
            .iter()
            .any(|f| f.candidates[f.chosen].family == "distribution-regression")
    );
    fitted.iter().for_each(assert_monotone);
}

#[test]
fn errors_shrink_as_the_sample_grows() {
    for (kind, battery) in [
        ("recovery-lms", shapes::lms_battery()),
        ("recovery-nonparametric", shapes::nonparametric_battery()),
    ] {
        let truths = shapes::refs(&battery);
        let small = recovery(&truths, &fits(&truths, kind, 1000, 7));
        let large = recovery(&truths, &fits(&truths, kind, 10000, 7));
        eprintln!("{kind}: N = 1000: {small:?}\nN = 10000: {large:?}");
        assert!(
            large.rmse_central < 0.75 * small.rmse_central,
            "{kind}: {small:?} → {large:?}"
        );
        assert!(large.rmse_all < small.rmse_all, "{kind}: {small:?} → {large:?}");
    }
}
