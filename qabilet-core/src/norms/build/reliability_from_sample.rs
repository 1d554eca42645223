//! The reliability table from the sample: subtests by Cronbach's alpha per age band (or an
//! explicit value where alpha cannot be computed), composites by Mosier's formula.
//!
//! Rules, per band of [`age_bands`] (width `band_months` from the battery's youngest age):
//! - Subtest: Cronbach's alpha (1951) of the sample's item columns in the band
//!   ([`sample_reliability`]: listwise complete cases, unweighted). Where alpha cannot be
//!   computed (no or one item column, fewer complete cases than the minimum, no variance),
//!   the explicit value whose band contains the band's mid-age month ⌊(min + max)/2⌋.
//! - Composite: Mosier (1943), "On the reliability of a weighted composite", Psychometrika
//!   8, 161–168, for unit weights: r_C = 1 − Σᵢ Var(Xᵢ)(1 − rᵢ) / Var(S), with Var(Xᵢ) and
//!   Var(S) the weighted variances of the members' scaled scores and of their sum among the
//!   children of the band with every member scored, and rᵢ the members' values *as written
//!   in the table* (rounded), as the model-based tables do ([`crate::norms::model`]), so
//!   that the file is consistent with itself: anyone can recompute a composite's value from
//!   the subtests' rows and the sample.
//! - Written values: rounded half away from zero to two decimals and kept within
//!   [0.01, 0.99], since the format requires (0, 1).
//! - Rows: every subtest (battery order, band order), then every composite.

use serde::Serialize;

use super::BuildError;
use super::composite_tables::ScaledChild;
use crate::battery::Battery;
use crate::norms::{ReliabilityRow, StandardisationSample};
use crate::scale::round_half_away;
use crate::stats::{BandReliability, ReliabilityOptions, ReliabilityStatus, age_bands, sample_reliability};

/// Where a value of the reliability table came from, for the diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilitySource {
    /// Subtest or composite id.
    pub scale: String,
    /// Youngest month of the band.
    pub age_min_months: u16,
    /// Oldest month of the band.
    pub age_max_months: u16,
    /// `"alpha"` (the sample's items), `"explicit"` (the `--reliability` input) or
    /// `"mosier"` (a composite, from its subtests).
    pub source: String,
    /// Children the value rests on: complete cases for alpha, children with every member
    /// scored for Mosier; for an explicit value, the complete cases of the band (too few,
    /// or without items to use).
    pub n: usize,
    /// The value before rounding and clamping (an explicit value as given).
    pub value: f64,
    /// Why alpha was not used, for an explicit value.
    pub reason: Option<String>,
}

/// Rounds a reliability to two decimals, kept within [0.01, 0.99].
fn written(r: f64) -> f64 {
    (round_half_away(r * 100.0) / 100.0).clamp(0.01, 0.99)
}

/// Mosier's (1943) reliability of the unit-weighted sum of `scores` (per child, the member
/// scores in a fixed order) with sampling `weights` and member `reliabilities`:
/// 1 − Σᵢ Var(Xᵢ)(1 − rᵢ) / Var(S), S = Σᵢ Xᵢ. The variances are weighted (divisor Σw; any
/// common divisor cancels). `None` when there are no children or the sum does not vary.
///
/// # Panics
/// When `weights` and `scores` differ in length, or a child has not one score per
/// reliability.
pub fn mosier(weights: &[f64], scores: &[Vec<i32>], reliabilities: &[f64]) -> Option<f64> {
    assert_eq!(weights.len(), scores.len(), "one weight per child");
    let k = reliabilities.len();
    assert!(
        scores.iter().all(|s| s.len() == k),
        "one score per member subtest"
    );
    let total: f64 = weights.iter().sum();
    if scores.is_empty() || total.is_nan() || total <= 0.0 {
        return None;
    }
    let sum = |s: &Vec<i32>| s.iter().map(|&x| f64::from(x)).sum::<f64>();
    let mean_of = |f: &dyn Fn(&Vec<i32>) -> f64| -> f64 {
        weights.iter().zip(scores).map(|(w, s)| w * f(s)).sum::<f64>() / total
    };
    let var_of = |f: &dyn Fn(&Vec<i32>) -> f64| -> f64 {
        let m = mean_of(f);
        weights
            .iter()
            .zip(scores)
            .map(|(w, s)| w * (f(s) - m).powi(2))
            .sum::<f64>()
            / total
    };
    let var_sum = var_of(&sum);
    if var_sum.is_nan() || var_sum <= 0.0 {
        return None;
    }
    let error: f64 = (0..k)
        .map(|i| var_of(&|s: &Vec<i32>| f64::from(s[i])) * (1.0 - reliabilities[i]))
        .sum();
    Some(1.0 - error / var_sum)
}

/// Why the sample gives no alpha for a subtest in a band.
fn why_no_alpha(estimate: Option<&BandReliability>, min_children: usize) -> String {
    let Some(e) = estimate else {
        return "the sample has no raw or item columns for it".to_owned();
    };
    match e.status {
        ReliabilityStatus::TooFewItems => format!(
            "the sample has {} item column{} for it, at least 2 are needed",
            e.items,
            if e.items == 1 { "" } else { "s" }
        ),
        ReliabilityStatus::TooFewChildren => format!(
            "{} children in the band have every item score, at least {} are needed",
            e.n,
            min_children.max(2)
        ),
        ReliabilityStatus::ZeroVariance => {
            format!("all {} children in the band have the same total item score", e.n)
        }
        ReliabilityStatus::Ok | ReliabilityStatus::SplitHalfUndefined => "alpha is not available".to_owned(),
    }
}

/// `reliability.csv` rows from the sample (see the module documentation for the rules),
/// with where each value came from.
///
/// `explicit` holds `reliability.csv` rows for subtests, in bands of their own; the row used
/// for a band is the first whose band contains the band's mid-age month ⌊(min + max)/2⌋.
/// Rows naming anything but a subtest of the battery are not used: composite values always
/// come from Mosier's formula.
///
/// # Errors
/// - [`BuildError::Reliability`] when a subtest has neither alpha nor an explicit value for
///   a band (the reason says why alpha could not be computed), or the explicit value used is
///   not strictly between 0 and 1.
/// - [`BuildError::TooFewChildren`] when fewer than `min_children` children of a band have
///   every member of a composite scored.
/// - [`BuildError::Composite`] when their sum does not vary (Mosier's formula is undefined).
pub fn reliability_rows(
    battery: &Battery,
    sample: &StandardisationSample,
    children: &[ScaledChild],
    explicit: &[ReliabilityRow],
    band_months: u16,
    min_children: usize,
) -> Result<(Vec<ReliabilityRow>, Vec<ReliabilitySource>), BuildError> {
    let bands = age_bands(battery, band_months);
    let options = ReliabilityOptions {
        band_months,
        min_children,
        sem_sd: battery.scaled_scale.sd,
    };
    let estimates = sample_reliability(battery, sample, &options);
    let mut rows = Vec::new();
    let mut sources = Vec::new();
    // Written (rounded) subtest values, per subtest and band, for Mosier.
    let mut table: Vec<Vec<f64>> = Vec::with_capacity(battery.subtests.len());
    for subtest in &battery.subtests {
        let mut by_band = Vec::with_capacity(bands.len());
        for &(lo, hi) in &bands {
            let estimate = estimates
                .iter()
                .find(|e| e.subtest == subtest.id && e.age_min_months == lo);
            let n = estimate.map_or(0, |e| e.n);
            let (value, source, reason) = match estimate.and_then(|e| e.alpha) {
                Some(alpha) => (alpha, "alpha", None),
                None => {
                    let why = why_no_alpha(estimate, min_children);
                    let mid = (lo + hi) / 2;
                    let problem = |reason: String| BuildError::Reliability {
                        subtest: subtest.id.clone(),
                        age_min_months: lo,
                        age_max_months: hi,
                        reason,
                    };
                    let row = explicit.iter().find(|r| {
                        r.scale == subtest.id && r.age_min_months <= mid && mid <= r.age_max_months
                    });
                    let Some(row) = row else {
                        return Err(problem(format!(
                            "Cronbach's alpha cannot be computed ({why}) and no explicit value covers \
                             month {mid}; --reliability FILE can supply one"
                        )));
                    };
                    if !(row.reliability > 0.0 && row.reliability < 1.0) {
                        return Err(problem(format!(
                            "the explicit value {} (ages {}–{}) is not strictly between 0 and 1",
                            row.reliability, row.age_min_months, row.age_max_months
                        )));
                    }
                    (row.reliability, "explicit", Some(why))
                }
            };
            let r = written(value);
            by_band.push(r);
            rows.push(ReliabilityRow {
                scale: subtest.id.clone(),
                age_min_months: lo,
                age_max_months: hi,
                reliability: r,
            });
            sources.push(ReliabilitySource {
                scale: subtest.id.clone(),
                age_min_months: lo,
                age_max_months: hi,
                source: source.to_owned(),
                n,
                value,
                reason,
            });
        }
        table.push(by_band);
    }
    for c in &battery.composites {
        for (b, &(lo, hi)) in bands.iter().enumerate() {
            let complete: Vec<(&ScaledChild, Vec<i32>)> = children
                .iter()
                .filter(|k| (lo..=hi).contains(&k.age_months))
                .filter_map(|k| {
                    let scores: Option<Vec<i32>> = c.subtests.iter().map(|&s| k.score(s)).collect();
                    scores.map(|s| (k, s))
                })
                .collect();
            if complete.len() < min_children {
                return Err(BuildError::TooFewChildren {
                    what: format!("composite '{}' reliability", c.id),
                    age_min_months: lo,
                    age_max_months: hi,
                    n: complete.len(),
                    needed: min_children,
                    ids: complete.iter().take(10).map(|(k, _)| k.id.clone()).collect(),
                });
            }
            let weights: Vec<f64> = complete.iter().map(|(k, _)| k.weight).collect();
            let scores: Vec<Vec<i32>> = complete.into_iter().map(|(_, s)| s).collect();
            let members: Vec<f64> = c.subtests.iter().map(|&s| table[s][b]).collect();
            let Some(value) = mosier(&weights, &scores, &members) else {
                return Err(BuildError::Composite {
                    composite: c.id.clone(),
                    reason: format!(
                        "ages {lo}–{hi} months: the sum of scaled scores does not vary among the {} \
                         children with every member scored, so its reliability is undefined",
                        scores.len()
                    ),
                });
            };
            rows.push(ReliabilityRow {
                scale: c.id.clone(),
                age_min_months: lo,
                age_max_months: hi,
                reliability: written(value),
            });
            sources.push(ReliabilitySource {
                scale: c.id.clone(),
                age_min_months: lo,
                age_max_months: hi,
                source: "mosier".to_owned(),
                n: scores.len(),
                value,
                reason: None,
            });
        }
    }
    Ok((rows, sources))
}

#[cfg(test)]
mod tests {
    use super::super::composite_tables::tests::{battery, children};
    use super::*;
    use crate::norms::Reliabilities;

    /// A sample of `n` children aged 60 + (i mod 84) months with item columns for `inf`
    /// only; item j of child i is 1 when (i·7 + j·3) mod 10 < 5 + (i mod 5) − 2 (varied
    /// totals, positively related items).
    fn sample(b: &Battery, n: usize) -> StandardisationSample {
        let items: Vec<String> = (1..=6).map(|j| format!("inf.inf{j:02}")).collect();
        let mut text = format!("id,birth_date,test_date,sex,language,{}\n", items.join(","));
        for i in 0..n {
            let months = 60 + (i % 84) as i32;
            let total = 2025 * 12 + 11 - months;
            let birth = format!("{}-{:02}-10", total / 12, total % 12 + 1);
            let level = (i % 5) as i32 + 3;
            let cells: Vec<String> = (0..6)
                .map(|j| u8::from(((i as i32) * 7 + j * 3) % 10 < level).to_string())
                .collect();
            text.push_str(&format!("c{i},{birth},2025-12-15,f,kk,{}\n", cells.join(",")));
        }
        let s = StandardisationSample::parse(b, &text).unwrap_or_else(|e| panic!("{e}"));
        for (i, c) in s.children.iter().enumerate() {
            assert_eq!(c.age.in_months().0, 60 + (i % 84) as u16, "{}", c.id);
        }
        s
    }

    fn explicit(b: &Battery, value: f64) -> Vec<ReliabilityRow> {
        b.subtests
            .iter()
            .flat_map(|s| {
                [(60, 95, value), (96, 143, value + 0.05)].map(|(lo, hi, r)| ReliabilityRow {
                    scale: s.id.clone(),
                    age_min_months: lo,
                    age_max_months: hi,
                    reliability: r,
                })
            })
            .collect()
    }

    #[test]
    fn mosier_matches_the_formula_by_hand() {
        // X1 = 0, 2, 4 (var 8/3), X2 = 1, 1, 4 (var 2), S = 1, 3, 8 (var 26/3);
        // r = 0.8, 0.5: 1 − (8/3·0.2 + 2·0.5)/(26/3) = 1 − (1.6/3 + 1)/(26/3) = 1 − 4.6/26.
        let scores = vec![vec![0, 1], vec![2, 1], vec![4, 4]];
        let r = mosier(&[1.0, 1.0, 1.0], &scores, &[0.8, 0.5]).unwrap();
        assert!((r - (1.0 - 4.6 / 26.0)).abs() < 1e-15, "{r}");
        // Weight 2 on the first child equals that child twice.
        let twice = vec![vec![0, 1], vec![0, 1], vec![2, 1], vec![4, 4]];
        let a = mosier(&[2.0, 1.0, 1.0], &scores, &[0.8, 0.5]).unwrap();
        let b = mosier(&[1.0; 4], &twice, &[0.8, 0.5]).unwrap();
        assert!((a - b).abs() < 1e-15);
        assert_eq!(mosier(&[1.0, 1.0], &[vec![3, 4], vec![3, 4]], &[0.8, 0.5]), None);
        assert_eq!(mosier(&[], &[], &[0.8]), None);
    }

    #[test]
    fn alpha_where_items_allow_explicit_elsewhere() {
        let b = battery();
        let s = sample(&b, 840);
        let kids = children(&b, 840, 2);
        let (rows, sources) = reliability_rows(&b, &s, &kids, &explicit(&b, 0.8), 24, 20).expect("built");
        let bands = age_bands(&b, 24);
        assert_eq!(bands, [(60, 83), (84, 107), (108, 131), (132, 143)]);
        let n = b.subtests.len() + b.composites.len();
        assert_eq!(rows.len(), n * 4);
        assert_eq!(sources.len(), n * 4);
        let lines = rows.iter().cloned().enumerate().collect();
        Reliabilities::from_rows(&b, lines).expect("a valid reliability.csv");
        let inf = b.subtest_index("inf").unwrap();
        for (i, (r, src)) in rows.iter().zip(&sources).enumerate() {
            assert_eq!(
                (&r.scale, r.age_min_months, r.age_max_months),
                (&src.scale, src.age_min_months, src.age_max_months)
            );
            let (subtest, band) = (i / 4, i % 4);
            if subtest == inf {
                assert_eq!(src.source, "alpha");
                assert_eq!(src.n, if band == 3 { 120 } else { 240 });
            } else if subtest < b.subtests.len() {
                assert_eq!(src.source, "explicit");
                // Mid-ages 71, 95, 119, 137: the first two in 60–95.
                assert_eq!(r.reliability, if band < 2 { 0.8 } else { 0.85 });
                assert_eq!(
                    src.reason.as_deref(),
                    Some("the sample has no raw or item columns for it")
                );
            } else {
                assert_eq!(src.source, "mosier");
                assert!(r.reliability > 0.8 && r.reliability < 0.99, "{r:?}");
            }
            assert_eq!(r.reliability, written(src.value));
        }
        // The composite values use the written subtest values: recompute one.
        let gac = b.composite_index("gac").unwrap();
        let c = &b.composites[gac];
        let (scores, weights): (Vec<Vec<i32>>, Vec<f64>) = kids
            .iter()
            .filter(|k| (84..=107).contains(&k.age_months))
            .map(|k| {
                (
                    c.subtests.iter().map(|&s| k.score(s).unwrap()).collect(),
                    k.weight,
                )
            })
            .unzip();
        let members: Vec<f64> = c.subtests.iter().map(|&s| rows[s * 4 + 1].reliability).collect();
        let expected = mosier(&weights, &scores, &members).unwrap();
        let at = b.subtests.len() * 4 + gac * 4 + 1;
        assert_eq!(sources[at].value, expected);
        assert_eq!(sources[at].n, 240);
    }

    #[test]
    fn missing_values_name_subtest_band_and_reason() {
        let b = battery();
        let s = sample(&b, 840);
        let kids = children(&b, 840, 2);
        // No explicit values at all: the first subtest without items fails.
        let err = reliability_rows(&b, &s, &kids, &[], 24, 20).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, BuildError::Reliability { subtest, age_min_months: 60, age_max_months: 83, .. } if subtest == "sim"),
            "{text}"
        );
        assert!(
            text.contains("no raw or item columns") && text.contains("--reliability FILE"),
            "{text}"
        );
        // More children needed than the band has: inf's alpha is unavailable too.
        let only_sim: Vec<ReliabilityRow> = explicit(&b, 0.8)
            .into_iter()
            .filter(|r| r.scale != "inf")
            .collect();
        let err = reliability_rows(&b, &s, &kids, &only_sim, 24, 300).unwrap_err();
        assert!(
            err.to_string()
                .contains("240 children in the band have every item score, at least 300 are needed"),
            "{err}"
        );
        // Explicit values outside (0, 1) are refused.
        let mut bad = explicit(&b, 0.8);
        bad[0].reliability = 1.0;
        let err = reliability_rows(&b, &s, &kids, &bad, 24, 20).unwrap_err();
        assert!(err.to_string().contains("not strictly between 0 and 1"), "{err}");
    }

    #[test]
    fn composites_need_enough_children_per_band() {
        let b = battery();
        let s = sample(&b, 840);
        let mut kids = children(&b, 840, 2);
        let voc = b.subtest_index("voc").unwrap();
        for k in kids.iter_mut().filter(|k| k.age_months >= 132) {
            k.scaled[voc] = None;
        }
        kids[839].scaled[voc] = Some(10);
        let err = reliability_rows(&b, &s, &kids, &explicit(&b, 0.8), 24, 20).unwrap_err();
        assert_eq!(
            err,
            BuildError::TooFewChildren {
                what: "composite 'vci' reliability".to_owned(),
                age_min_months: 132,
                age_max_months: 143,
                n: 1,
                needed: 20,
                ids: vec!["c839".to_owned()],
            }
        );
    }

    #[test]
    fn values_are_rounded_and_clamped() {
        assert_eq!(written(0.845), 0.85);
        assert_eq!(written(0.8449), 0.84);
        assert_eq!(written(0.999), 0.99);
        assert_eq!(written(-0.3), 0.01);
        assert_eq!(written(0.004), 0.01);
    }
}
