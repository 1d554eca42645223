//! What a norm build reports about itself, as data (serialised to JSON by the binary, and
//! rendered as text by [`Diagnostics::to_text`]): per subtest the models compared and the one
//! chosen, fit statistics, how far the monotone repair moved the fit, floor and ceiling
//! effects and sample sizes per band, outlying children, and percentile curves by age.

use std::fmt::Write as _;

use serde::Serialize;

use super::composite_tables::CompositeFit;
use super::continuous::{Candidate, LmsCandidate};
use super::rearrange::Repair;
use super::reliability_from_sample::ReliabilitySource;

/// Percentiles drawn as curves (the scaled scores 4, 7, 10, 13, 16 are at about 2.3, 16, 50,
/// 84 and 97.7).
pub const CURVE_PERCENTILES: [f64; 7] = [2.0, 9.0, 25.0, 50.0, 75.0, 91.0, 98.0];

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// Battery id.
    pub battery: String,
    /// Children in the sample.
    pub sample_size: usize,
    /// Whether the sample carries weights.
    pub weighted: bool,
    /// Children per table band.
    pub bands: Vec<BandCount>,
    /// Things a psychometrician should look at; none of them stopped the build.
    pub warnings: Vec<String>,
    /// Per subtest, battery order.
    pub subtests: Vec<SubtestDiagnostics>,
    /// Per composite.
    pub composites: Vec<CompositeFit>,
    /// Where every reliability came from.
    pub reliability: Vec<ReliabilitySource>,
    /// Whether `base_rates.csv` was written, and if not, why.
    pub base_rates: String,
}

/// Children in one age band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandCount {
    /// Youngest month.
    pub age_min_months: u16,
    /// Oldest month.
    pub age_max_months: u16,
    /// Children.
    pub n: usize,
}

/// One subtest's fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubtestDiagnostics {
    /// Subtest id.
    pub subtest: String,
    /// Children with a score.
    pub n: usize,
    /// Highest raw score.
    pub raw_max: u16,
    /// The chosen model in words.
    pub model: String,
    /// LMS degree sets with their AIC.
    pub lms_candidates: Vec<LmsCandidate>,
    /// Models compared by cross-validation.
    pub candidates: Vec<Candidate>,
    /// Index of the chosen candidate.
    pub chosen: usize,
    /// Log-likelihood per child of the whole sample under the chosen model.
    pub log_lik_per_child: f64,
    /// Deviance −2·log-likelihood of the whole sample.
    pub deviance: f64,
    /// Log-likelihood per child of an age-free model (the pooled raw-score distribution):
    /// the baseline of `pseudo_r2`.
    pub null_log_lik_per_child: f64,
    /// McFadden's pseudo-R² of the age model against the age-free one:
    /// 1 − ℓ(model)/ℓ(age-free).
    pub pseudo_r2: f64,
    /// Held-out log-likelihood per child of the chosen model.
    pub cv_log_lik_per_child: f64,
    /// How much the monotone repair moved the fit (probit units).
    pub repair: Repair,
    /// Whether what is written is monotone in raw score and in age (always true when the
    /// build succeeds; a violation stops it).
    pub monotone: bool,
    /// Per table band.
    pub bands: Vec<SubtestBand>,
    /// Children whose raw score is far from their age group (|z| > 3.5), at most 50.
    pub outliers: Vec<Outlier>,
    /// Children beyond the 50 listed.
    pub more_outliers: usize,
    /// Percentile curves: raw score at each of [`CURVE_PERCENTILES`] per whole month.
    pub curves: Vec<PercentileCurve>,
}

/// Floor and ceiling in one band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubtestBand {
    /// Youngest month.
    pub age_min_months: u16,
    /// Oldest month.
    pub age_max_months: u16,
    /// Children with a score.
    pub n: usize,
    /// Percent of them at raw 0.
    pub percent_at_floor: f64,
    /// Percent at raw max.
    pub percent_at_ceiling: f64,
    /// Scaled score of raw 0.
    pub scaled_of_raw_min: i32,
    /// Scaled score of raw max.
    pub scaled_of_raw_max: i32,
    /// Raw 0 scores above 2 SD below the mean (scaled ≥ 5): the subtest cannot show a low
    /// ability here.
    pub floor_effect: bool,
    /// Raw max scores below 2 SD above the mean (scaled ≤ 15).
    pub ceiling_effect: bool,
}

/// A child far from its age group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlier {
    /// Child id.
    pub id: String,
    /// Age, whole months.
    pub age_months: u16,
    /// Raw score.
    pub raw: u16,
    /// Its normal score at the child's age.
    pub z: f64,
}

/// Raw score at one percentile, by month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PercentileCurve {
    /// The percentile.
    pub percentile: f64,
    /// Raw score (interpolated between whole scores on the z scale) at each month's mid-point,
    /// from the battery's youngest month.
    pub raw: Vec<f64>,
}

impl Diagnostics {
    /// A plain-text report for a person.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "Norm build diagnostics: {}", self.battery);
        let _ = writeln!(
            o,
            "Sample: {} children{}",
            self.sample_size,
            if self.weighted { " (weighted)" } else { "" }
        );
        let smallest = self.bands.iter().min_by_key(|b| b.n);
        if let Some(b) = smallest {
            let _ = writeln!(
                o,
                "Smallest band: {}–{} months, {} children",
                b.age_min_months, b.age_max_months, b.n
            );
        }
        let _ = writeln!(o, "\nWarnings:");
        if self.warnings.is_empty() {
            let _ = writeln!(o, "  none");
        }
        for w in &self.warnings {
            let _ = writeln!(o, "  - {w}");
        }
        let _ = writeln!(o, "\nSubtests:");
        for s in &self.subtests {
            let _ = writeln!(o, "\n  {} (n = {}, raw 0–{})", s.subtest, s.n, s.raw_max);
            let _ = writeln!(o, "    model: {}", s.model);
            let _ = writeln!(
                o,
                "    log-likelihood per child {:.4} (cross-validated {:.4}), deviance {:.1}, pseudo-R² {:.3}",
                s.log_lik_per_child, s.cv_log_lik_per_child, s.deviance, s.pseudo_r2
            );
            let _ = writeln!(
                o,
                "    candidates (held-out log-likelihood per child, ± standard error of the difference from the best; * chosen: the simplest within one SE):"
            );
            for (i, c) in s.candidates.iter().enumerate() {
                let lambda = c.lambda.map(|l| format!(", λ = {l}")).unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      {} {} degrees {:?}{lambda}: {:.5} ± {:.5}",
                    if i == s.chosen { "*" } else { " " },
                    c.family,
                    c.degrees,
                    c.cv_log_lik_per_child,
                    c.se_vs_best
                );
            }
            let r = &s.repair;
            let _ = writeln!(
                o,
                "    monotone repair: {} cells moved in raw score (max {:.3}), {} in age (max {:.3}); written norms monotone: {}",
                r.cells_moved_in_raw,
                r.max_shift_in_raw,
                r.cells_moved_in_age,
                r.max_shift_in_age,
                s.monotone
            );
            let floors: Vec<String> = s
                .bands
                .iter()
                .filter(|b| b.floor_effect)
                .map(|b| format!("{}–{}", b.age_min_months, b.age_max_months))
                .collect();
            let ceilings: Vec<String> = s
                .bands
                .iter()
                .filter(|b| b.ceiling_effect)
                .map(|b| format!("{}–{}", b.age_min_months, b.age_max_months))
                .collect();
            let list = |v: &[String]| {
                if v.is_empty() {
                    "none".to_owned()
                } else {
                    v.join(", ")
                }
            };
            let _ = writeln!(
                o,
                "    floor effect (raw 0 scaled ≥ 5) in bands: {}",
                list(&floors)
            );
            let _ = writeln!(
                o,
                "    ceiling effect (raw max scaled ≤ 15) in bands: {}",
                list(&ceilings)
            );
            let _ = writeln!(
                o,
                "    outliers (|z| > 3.5): {}",
                s.outliers.len() + s.more_outliers
            );
            for x in &s.outliers {
                let _ = writeln!(
                    o,
                    "      {} age {} months raw {} z {:.2}",
                    x.id, x.age_months, x.raw, x.z
                );
            }
        }
        let _ = writeln!(o, "\nComposites (distribution of sums of scaled scores):");
        for c in &self.composites {
            let _ = writeln!(
                o,
                "  {}: n = {}, mean {:.2}, SD {:.2}, bandwidth {:.3}, skewness {:.3}",
                c.composite, c.n, c.mean, c.sd, c.bandwidth, c.skewness
            );
        }
        let _ = writeln!(o, "\nReliability:");
        for r in &self.reliability {
            let _ = writeln!(
                o,
                "  {} {}–{} months: {:.4} ({}, n = {}){}",
                r.scale,
                r.age_min_months,
                r.age_max_months,
                r.value,
                r.source,
                r.n,
                r.reason.as_deref().map(|x| format!(" — {x}")).unwrap_or_default()
            );
        }
        let _ = writeln!(o, "\nBase rates: {}", self.base_rates);
        o
    }
}
