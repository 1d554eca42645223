//! Internal-consistency reliability of subtests from item scores: Cronbach's alpha,
//! split-half (odd–even) with the Spearman–Brown correction, and the standard error of
//! measurement, per age band of a standardisation sample. Reference values in
//! `tests/reference/reliability/` (numpy, textbook formulas).
//!
//! Rules:
//! - alpha = k/(k − 1) · (1 − Σ σᵢ² / σ²_X) over k items, σ² sample variances (n − 1 in the
//!   denominator; the factor cancels, any consistent choice gives the same alpha), X the
//!   total of the k items (Cronbach 1951).
//! - split-half: r = Pearson correlation of the total over the odd items (1st, 3rd, … in
//!   administration order) with the total over the even items, stepped up to full length by
//!   Spearman–Brown, 2r / (1 + r) (Spearman 1910; Brown 1910).
//! - SEM = SD · √(1 − r) on a scale with standard deviation SD (the battery's scaled-score
//!   scale in [`sample_reliability`]).
//! - Examinees with a missing item are left out (listwise complete cases), so every item
//!   enters on the same examinees. Sampling weights are not used: the coefficients are
//!   those of the unweighted sample in each band.
//!
//! Degenerate cases return an explicit [`Degenerate`] reason or [`ReliabilityStatus`],
//! never NaN or an infinity.

use std::fmt;

use serde::Serialize;

use crate::battery::Battery;
use crate::norms::StandardisationSample;

/// Why a coefficient cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Degenerate {
    /// Fewer than 2 items (split-half: fewer than 2, so one half is empty).
    TooFewItems,
    /// Fewer than 2 examinees: no variance can be estimated.
    TooFewExaminees,
    /// The total score (alpha), or one half's total (split-half), does not vary.
    ZeroVariance,
    /// The halves correlate exactly −1: 2r/(1 + r) is undefined.
    PerfectNegative,
}

impl fmt::Display for Degenerate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Degenerate::TooFewItems => "fewer than 2 items",
            Degenerate::TooFewExaminees => "fewer than 2 examinees",
            Degenerate::ZeroVariance => "zero variance",
            Degenerate::PerfectNegative => "halves correlate exactly -1",
        })
    }
}

/// Mean and sum of squared deviations (two-pass, for accuracy).
fn mean_ss(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (mut n, mut sum) = (0.0, 0.0);
    for v in values.clone() {
        n += 1.0;
        sum += v;
    }
    let mean = sum / n;
    let ss = values.map(|v| (v - mean) * (v - mean)).sum();
    (mean, ss)
}

fn check(rows: &[Vec<f64>]) -> Result<usize, Degenerate> {
    let k = rows.first().map_or(0, Vec::len);
    assert!(
        rows.iter().all(|r| r.len() == k),
        "every examinee must have a score on every item"
    );
    if rows.len() < 2 {
        return Err(Degenerate::TooFewExaminees);
    }
    if k < 2 {
        return Err(Degenerate::TooFewItems);
    }
    Ok(k)
}

/// Cronbach's alpha of an examinees × items matrix (complete: every row has every item).
///
/// # Errors
/// [`Degenerate::TooFewExaminees`] below 2 rows, [`Degenerate::TooFewItems`] below 2
/// items, [`Degenerate::ZeroVariance`] when the total score is the same for everyone.
///
/// # Panics
/// When the rows have different lengths.
pub fn cronbach_alpha(rows: &[Vec<f64>]) -> Result<f64, Degenerate> {
    let k = check(rows)?;
    let (_, total_ss) = mean_ss(rows.iter().map(|r| r.iter().sum::<f64>()));
    if total_ss <= 0.0 {
        return Err(Degenerate::ZeroVariance);
    }
    let item_ss: f64 = (0..k).map(|i| mean_ss(rows.iter().map(|r| r[i])).1).sum();
    let k = k as f64;
    Ok(k / (k - 1.0) * (1.0 - item_ss / total_ss))
}

/// Split-half reliability: the correlation of odd-item and even-item totals (items 1, 3, …
/// against 2, 4, … in column order), corrected to full length by Spearman–Brown.
///
/// # Errors
/// As [`cronbach_alpha`]; [`Degenerate::ZeroVariance`] when either half's total does not
/// vary; [`Degenerate::PerfectNegative`] when the halves correlate exactly −1.
///
/// # Panics
/// When the rows have different lengths.
pub fn split_half(rows: &[Vec<f64>]) -> Result<f64, Degenerate> {
    check(rows)?;
    let half = |r: &Vec<f64>, parity: usize| -> f64 { r.iter().skip(parity).step_by(2).sum() };
    let odd: Vec<f64> = rows.iter().map(|r| half(r, 0)).collect();
    let even: Vec<f64> = rows.iter().map(|r| half(r, 1)).collect();
    let (mo, sso) = mean_ss(odd.iter().copied());
    let (me, sse) = mean_ss(even.iter().copied());
    if sso <= 0.0 || sse <= 0.0 {
        return Err(Degenerate::ZeroVariance);
    }
    let sp: f64 = odd.iter().zip(&even).map(|(o, e)| (o - mo) * (e - me)).sum();
    let r = sp / (sso * sse).sqrt();
    spearman_brown(r).ok_or(Degenerate::PerfectNegative)
}

/// The Spearman–Brown step-up of a half-test correlation to full length, 2r/(1 + r);
/// `None` where r ≤ −1 (undefined).
pub fn spearman_brown(r: f64) -> Option<f64> {
    (1.0 + r > 0.0).then(|| 2.0 * r / (1.0 + r))
}

/// Standard error of measurement SD·√(1 − r) on a scale with standard deviation `sd`
/// (a reliability above 1, possible only by rounding, counts as 1).
pub fn sem(sd: f64, reliability: f64) -> f64 {
    sd * (1.0 - reliability).max(0.0).sqrt()
}

/// Outcome of one subtest in one age band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReliabilityStatus {
    /// Alpha, split-half and SEM computed.
    Ok,
    /// The sample has fewer than 2 item columns for the subtest: nothing computed.
    TooFewItems,
    /// Fewer complete cases in the band than the minimum: nothing computed.
    TooFewChildren,
    /// Everyone in the band has the same total: nothing computed.
    ZeroVariance,
    /// Alpha and SEM computed; split-half not (a half without variance, or r = −1).
    SplitHalfUndefined,
}

impl fmt::Display for ReliabilityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReliabilityStatus::Ok => "ok",
            ReliabilityStatus::TooFewItems => "too_few_items",
            ReliabilityStatus::TooFewChildren => "too_few_children",
            ReliabilityStatus::ZeroVariance => "zero_variance",
            ReliabilityStatus::SplitHalfUndefined => "split_half_undefined",
        })
    }
}

/// Reliability of one subtest in one age band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandReliability {
    /// Subtest id.
    pub subtest: String,
    /// Youngest age of the band, whole months (inclusive).
    pub age_min_months: u16,
    /// Oldest age of the band, whole months (inclusive).
    pub age_max_months: u16,
    /// Children in the band with a score on every item column of the subtest (listwise
    /// complete cases).
    pub n: usize,
    /// Item columns of the subtest in the sample.
    pub items: usize,
    /// Cronbach's alpha.
    pub alpha: Option<f64>,
    /// Split-half (odd–even) with Spearman–Brown.
    pub split_half: Option<f64>,
    /// SEM from alpha on the scale of [`ReliabilityOptions::sem_sd`].
    pub sem_alpha: Option<f64>,
    /// What was computed, and why not the rest.
    pub status: ReliabilityStatus,
}

/// Settings of [`sample_reliability`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityOptions {
    /// Width of the age bands in months (≥ 1), from the battery's youngest age; the last
    /// band ends at the battery's oldest age and may be narrower.
    pub band_months: u16,
    /// Fewest complete cases for which coefficients are computed (at least 2 is used).
    pub min_children: usize,
    /// Standard deviation of the scale the SEM is expressed on.
    pub sem_sd: f64,
}

impl ReliabilityOptions {
    /// 12-month bands, at least 10 children, SEM on the battery's scaled-score scale.
    pub fn for_battery(battery: &Battery) -> Self {
        ReliabilityOptions {
            band_months: 12,
            min_children: 10,
            sem_sd: battery.scaled_scale.sd,
        }
    }
}

/// The age bands `(min, max)` in whole months over the battery's range.
pub fn age_bands(battery: &Battery, band_months: u16) -> Vec<(u16, u16)> {
    let step = band_months.max(1);
    let (lo, hi) = (battery.age_min.0, battery.age_max.0);
    let mut bands = Vec::new();
    let mut start = lo;
    while start <= hi {
        let end = start.saturating_add(step - 1).min(hi);
        bands.push((start, end));
        match end.checked_add(1) {
            Some(next) => start = next,
            None => break,
        }
    }
    bands
}

/// Alpha, split-half and SEM of every subtest that has a raw or item column in the sample,
/// per age band, from the subtest's item columns. Rows in battery order, then band order.
pub fn sample_reliability(
    battery: &Battery,
    sample: &StandardisationSample,
    options: &ReliabilityOptions,
) -> Vec<BandReliability> {
    let bands = age_bands(battery, options.band_months);
    let min_children = options.min_children.max(2);
    let mut out = Vec::new();
    for (s, subtest) in battery.subtests.iter().enumerate() {
        let columns: Vec<usize> = sample
            .item_columns
            .get(s)
            .map(|c| (0..c.len()).filter(|&i| c[i]).collect())
            .unwrap_or_default();
        if columns.is_empty() && !sample.raw_columns.get(s).copied().unwrap_or(false) {
            continue;
        }
        for &(lo, hi) in &bands {
            let in_band = sample.children.iter().filter(|c| {
                let m = c.age.in_months().0;
                (lo..=hi).contains(&m)
            });
            let rows: Vec<Vec<f64>> = if columns.is_empty() {
                in_band
                    .filter(|c| c.raw[s].is_some())
                    .map(|_| Vec::new())
                    .collect()
            } else {
                in_band
                    .filter_map(|c| {
                        columns
                            .iter()
                            .map(|&i| c.items[s][i].map(f64::from))
                            .collect::<Option<Vec<f64>>>()
                    })
                    .collect()
            };
            let mut row = BandReliability {
                subtest: subtest.id.clone(),
                age_min_months: lo,
                age_max_months: hi,
                n: rows.len(),
                items: columns.len(),
                alpha: None,
                split_half: None,
                sem_alpha: None,
                status: ReliabilityStatus::Ok,
            };
            row.status = if columns.len() < 2 {
                ReliabilityStatus::TooFewItems
            } else if rows.len() < min_children {
                ReliabilityStatus::TooFewChildren
            } else {
                match cronbach_alpha(&rows) {
                    Ok(alpha) => {
                        row.alpha = Some(alpha);
                        row.sem_alpha = Some(sem(options.sem_sd, alpha));
                        row.split_half = split_half(&rows).ok();
                        if row.split_half.is_some() {
                            ReliabilityStatus::Ok
                        } else {
                            ReliabilityStatus::SplitHalfUndefined
                        }
                    }
                    // Only zero variance is possible here: rows ≥ 2 and items ≥ 2.
                    Err(_) => ReliabilityStatus::ZeroVariance,
                }
            };
            out.push(row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[&[f64]]) -> Vec<Vec<f64>> {
        rows.iter().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn alpha_of_a_textbook_matrix() {
        // Items 1–3 for 4 examinees (a Guttman pattern). Item variances (n − 1): 1/4, 1/3,
        // 1/4 → Σ = 5/6; totals 0, 1, 2, 3 → variance 5/3; alpha = 3/2 · (1 − 1/2) = 0.75.
        let x = m(&[&[0., 0., 0.], &[1., 0., 0.], &[1., 1., 0.], &[1., 1., 1.]]);
        let a = cronbach_alpha(&x).unwrap();
        assert!((a - 0.75).abs() < 1e-15, "{a}");
    }

    #[test]
    fn parallel_halves_give_split_half_one() {
        let x = m(&[&[0., 0.], &[1., 1.], &[2., 2.]]);
        assert!((split_half(&x).unwrap() - 1.0).abs() < 1e-15);
        assert!((cronbach_alpha(&x).unwrap() - 1.0).abs() < 1e-15);
        assert_eq!(sem(3.0, 1.0), 0.0);
        assert_eq!(sem(3.0, 0.75), 1.5);
    }

    #[test]
    fn degenerate_inputs_have_reasons_not_nan() {
        assert_eq!(cronbach_alpha(&m(&[&[1., 0.]])), Err(Degenerate::TooFewExaminees));
        assert_eq!(cronbach_alpha(&m(&[&[1.], &[0.]])), Err(Degenerate::TooFewItems));
        assert_eq!(split_half(&m(&[&[1.], &[0.]])), Err(Degenerate::TooFewItems));
        let flat = m(&[&[1., 0.], &[1., 0.], &[1., 0.]]);
        assert_eq!(cronbach_alpha(&flat), Err(Degenerate::ZeroVariance));
        // Totals constant though items vary: alpha has zero total variance too.
        let opposed = m(&[&[1., 0.], &[0., 1.], &[1., 0.]]);
        assert_eq!(cronbach_alpha(&opposed), Err(Degenerate::ZeroVariance));
        // One half constant, the total varies: alpha exists, split-half does not.
        let half_flat = m(&[&[1., 0., 0.], &[1., 1., 0.], &[1., 1., 1.]]);
        assert!(cronbach_alpha(&half_flat).is_ok());
        let odd_flat = m(&[&[1., 0., 1.], &[1., 1., 1.], &[1., 2., 1.]]);
        assert_eq!(split_half(&odd_flat), Err(Degenerate::ZeroVariance));
        let anti = m(&[&[0., 2., 1.], &[1., 1., 1.], &[2., 0., 1.], &[3., 0., 2.]]);
        assert!(split_half(&anti).is_ok());
        assert_eq!(spearman_brown(-1.0), None);
        assert_eq!(spearman_brown(0.5), Some(2.0 / 3.0));
    }

    #[test]
    fn bands_cover_the_range() {
        let b = Battery::from_toml(include_str!("../../../norms/qabilet-primary-demo/battery.toml")).unwrap();
        let bands = age_bands(&b, 12);
        assert_eq!(bands.len(), 7);
        assert_eq!((bands[0], bands[6]), ((60, 71), (132, 143)));
        let bands = age_bands(&b, 36);
        assert_eq!(bands, [(60, 95), (96, 131), (132, 143)]);
        assert_eq!(age_bands(&b, 0).len(), 84);
    }

    fn sample(rows: &[&str]) -> (Battery, StandardisationSample) {
        let b = Battery::from_toml(include_str!("../../../norms/qabilet-primary-demo/battery.toml")).unwrap();
        let text = std::iter::once("id,birth_date,test_date,sex,language,cd,inf.inf01,inf.inf02,mr.mr01")
            .chain(rows.iter().copied())
            .collect::<Vec<_>>()
            .join("\n");
        let s = StandardisationSample::parse(&b, &text).unwrap();
        (b, s)
    }

    #[test]
    fn bands_get_explicit_statuses() {
        let (b, s) = sample(&[
            "a,2019-01-10,2025-02-01,f,kk,10,1,1,1",
            "b,2019-01-10,2025-02-01,f,kk,11,0,0,0",
            "c,2019-01-10,2025-02-01,f,kk,,1,,1",
            "d,2017-01-10,2025-02-01,f,kk,12,1,0,1",
            "e,2017-01-10,2025-02-01,f,kk,12,0,1,1",
        ]);
        let opts = ReliabilityOptions {
            min_children: 2,
            ..ReliabilityOptions::for_battery(&b)
        };
        let rows = sample_reliability(&b, &s, &opts);
        let at = |id: &str, lo: u16| {
            rows.iter()
                .find(|r| r.subtest == id && r.age_min_months == lo)
                .unwrap()
        };
        // inf at 72–83: a, b complete (c lacks inf02), items 1,1 and 0,0 → alpha 1.
        let inf6 = at("inf", 72);
        assert_eq!((inf6.n, inf6.items, inf6.status), (2, 2, ReliabilityStatus::Ok));
        assert_eq!(inf6.alpha, Some(1.0));
        assert_eq!(inf6.sem_alpha, Some(0.0));
        // inf at 96–107: d, e have totals 1 and 1 → zero variance.
        assert_eq!(at("inf", 96).status, ReliabilityStatus::ZeroVariance);
        assert_eq!(at("inf", 96).alpha, None);
        assert_eq!(at("inf", 60).status, ReliabilityStatus::TooFewChildren);
        // mr has one item column; cd is a speed test without items.
        assert_eq!(at("mr", 72).status, ReliabilityStatus::TooFewItems);
        let cd = at("cd", 72);
        assert_eq!(
            (cd.n, cd.items, cd.status),
            (2, 0, ReliabilityStatus::TooFewItems)
        );
        // Subtests with no column at all are not reported.
        assert!(rows.iter().all(|r| r.subtest != "voc"));
        assert_eq!(rows.len(), 3 * 7);
        assert!(rows.iter().all(|r| r.alpha.is_none_or(f64::is_finite)));
    }
}
