//! Norm building from a standardisation sample by continuous norming (`norms/BUILDING.md`):
//! every subtest's raw-score distribution is fitted as a smooth function of age over the
//! whole range (`continuous`), made monotone (`rearrange`), and tabulated (`subtest_tables`);
//! composites, reliabilities and base rates follow from the sample's scaled scores. The result
//! is the text of a norm folder that [`NormSet::from_files`] has already accepted.
//!
//! The work per subtest is independent: [`fit_subtest`] fits one, [`assemble`] makes the files
//! from all fits, and a caller may run the fits on several threads; [`build`] does both in turn.

mod age_cells;
mod age_curve;
mod base_rates_from_sample;
mod bfgs;
mod composite_tables;
mod continuous;
mod diagnostics;
mod distribution_regression;
mod error;
mod linalg;
mod lms;
mod normal_score_grid;
mod provenance_text;
mod rearrange;
mod reliability_from_sample;
mod subtest_tables;

pub use age_cells::Observation;
pub use base_rates_from_sample::base_rates;
pub use composite_tables::{CompositeFit, ScaledChild, composite_rows};
pub use continuous::{Candidate, ChosenModel, ContinuousOptions, LmsCandidate, SubtestFit};
pub use diagnostics::{
    BandCount, CURVE_PERCENTILES, Diagnostics, Outlier, PercentileCurve, SubtestBand, SubtestDiagnostics,
};
pub use error::BuildError;
pub use lms::LmsDegrees;
pub use normal_score_grid::NormalScoreGrid;
pub use rearrange::Repair;
pub use reliability_from_sample::{ReliabilitySource, mosier, reliability_rows};

use std::collections::BTreeMap;

use super::simulate::DAYS_PER_MONTH;
use super::{
    BaseRates, CompositeNorms, NormFiles, NormSet, NormStatus, Reliabilities, ReliabilityRow,
    StandardisationSample, SubtestNorms,
};
use crate::battery::Battery;
use crate::normal;
use crate::stats::age_bands;

/// Settings of a build; [`BuildOptions::default`] is what `qabilet norms build` uses.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildOptions {
    /// Width of the age bands of `subtests.csv`, months.
    pub band_months: u16,
    /// Width of the age bands of `reliability.csv`, months.
    pub reliability_band_months: u16,
    /// Fewest children with a score per subtest band: below it the build stops.
    pub min_children_per_band: usize,
    /// Fewer children than this in a band is a warning in the diagnostics.
    pub warn_children_per_band: usize,
    /// Fewest complete cases for alpha in a reliability band.
    pub min_children_reliability: usize,
    /// Fewest children with every member scored for a composite's norms.
    pub min_children_composite: usize,
    /// Fewest children per comparison for base rates (else no `base_rates.csv`).
    pub min_children_base_rates: usize,
    /// The continuous fit.
    pub continuous: ContinuousOptions,
    /// Stated reliabilities for subtests (or bands) without item data.
    pub explicit_reliability: Vec<ReliabilityRow>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            band_months: 3,
            reliability_band_months: 12,
            min_children_per_band: 5,
            warn_children_per_band: 30,
            min_children_reliability: 10,
            min_children_composite: 100,
            min_children_base_rates: 100,
            continuous: ContinuousOptions::default(),
            explicit_reliability: Vec::new(),
        }
    }
}

/// What the provenance must say that the sample cannot: who, when, for what.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenanceInput {
    /// Demonstration or clinical.
    pub status: NormStatus,
    /// The notice outputs must carry (required for demonstration norms).
    pub notice: String,
    /// What the norms may be used for.
    pub intended_use: String,
    /// ISO date of the build.
    pub created: String,
    /// The command that built them.
    pub generator: String,
    /// The sample file's name as recorded.
    pub sample_name: String,
    /// `sha256:<hex>` of the sample file's bytes.
    pub sample_sha256: String,
    /// Where the sample came from, in words (put before the method paragraph), e.g. that it was
    /// simulated from a stated model.
    pub sample_description: String,
}

/// A built norm folder, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltNorms {
    /// The norm files (battery.toml as given), accepted by [`NormSet::from_files`].
    pub files: NormFiles,
    /// `continuous.csv`.
    pub continuous_csv: String,
    /// The diagnostics.
    pub diagnostics: Diagnostics,
}

/// The children's scores on subtest `s` with exact ages (12·Y + M + D/30.4375 months),
/// cross-validation folds from a hash of each child's id (so the order of the file does not
/// matter), and weights rescaled to sum to the effective sample size (Σw)²/Σw² — the fits
/// then depend on the weights' ratios only, as raking or post-stratification weights on any
/// scale (population totals, fractions summing to 1) require.
///
/// # Errors
/// [`BuildError::NoScores`] when no child has a score; [`BuildError::TooFewChildren`] when a
/// table band has fewer than `options.min_children_per_band` children with a score;
/// [`BuildError::Fit`] when every child has the same raw score.
pub fn observations(
    battery: &Battery,
    sample: &StandardisationSample,
    s: usize,
    options: &BuildOptions,
) -> Result<Vec<Observation>, BuildError> {
    let folds = options.continuous.folds.max(1);
    let scored: Vec<(usize, &super::SampledChild)> = sample
        .children
        .iter()
        .enumerate()
        .filter(|(_, c)| c.raw[s].is_some())
        .collect();
    let id = &battery.subtests[s].id;
    if scored.is_empty() {
        return Err(BuildError::NoScores { subtest: id.clone() });
    }
    for (lo, hi) in age_bands(battery, options.band_months) {
        let in_band: Vec<&str> = scored
            .iter()
            .filter(|(_, c)| (lo..=hi).contains(&c.age.in_months().0))
            .map(|(_, c)| c.id.as_str())
            .collect();
        if in_band.len() < options.min_children_per_band {
            return Err(BuildError::TooFewChildren {
                what: format!("subtest '{id}'"),
                age_min_months: lo,
                age_max_months: hi,
                n: in_band.len(),
                needed: options.min_children_per_band,
                ids: in_band.iter().take(10).map(|s| (*s).to_owned()).collect(),
            });
        }
    }
    let raw = |c: &super::SampledChild| c.raw[s].unwrap_or_else(|| unreachable!("filtered on a score"));
    let first = raw(scored[0].1);
    if scored.iter().all(|(_, c)| raw(c) == first) {
        return Err(BuildError::Fit {
            subtest: id.clone(),
            detail: format!("every child has raw score {first}: there is no distribution to norm"),
        });
    }
    let weights = relative_weights(scored.iter().map(|(_, c)| c.weight));
    let (sum, sum_sq) = weights.iter().fold((0.0, 0.0), |(a, b), w| (a + w, b + w * w));
    let scale = sum / sum_sq; // Σ(scale·w) = (Σw)²/Σw²
    Ok(scored
        .iter()
        .zip(&weights)
        .map(|((_, c), w)| Observation {
            age_months: exact_age_months(c),
            raw: raw(c),
            weight: w * scale,
            fold: fold_of(&c.id, folds),
        })
        .collect())
}

/// Weights divided by the largest, so that neither tiny nor huge weights under- or overflow.
fn relative_weights(weights: impl Iterator<Item = f64> + Clone) -> Vec<f64> {
    let max = weights.clone().fold(0.0, f64::max);
    weights.map(|w| w / max).collect()
}

/// A child's cross-validation fold: FNV-1a (64-bit) of its id, modulo the folds.
fn fold_of(id: &str, folds: u8) -> u8 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(folds)) as u8
}

/// A child's exact age in months, 12·Y + M + D/30.4375: where it sits on the age axis of
/// every fit, diagnostic and chart.
pub fn exact_age_months(c: &super::SampledChild) -> f64 {
    f64::from(c.age.in_months().0) + f64::from(c.age.days) / DAYS_PER_MONTH
}

fn age_range(battery: &Battery) -> (f64, f64) {
    (f64::from(battery.age_min.0), f64::from(battery.age_max.0) + 1.0)
}

/// Fits subtest `s` (battery position) continuously over the battery's age range.
///
/// # Errors
/// As [`observations`].
pub fn fit_subtest(
    battery: &Battery,
    sample: &StandardisationSample,
    s: usize,
    options: &BuildOptions,
) -> Result<SubtestFit, BuildError> {
    let obs = observations(battery, sample, s, options)?;
    let (lo, hi) = age_range(battery);
    Ok(continuous::fit_subtest(
        &obs,
        battery.subtests[s].raw_max,
        lo,
        hi,
        &options.continuous,
    ))
}

/// The files of a battery folder that a build carries into the built norm set unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarriedFiles {
    /// `battery.toml`.
    pub battery_toml: String,
    /// The item banks of adaptive subtests, by path (as [`NormFiles::item_banks`]).
    pub item_banks: BTreeMap<String, String>,
    /// The item content files, by path (as [`NormFiles::content`]).
    pub content: BTreeMap<String, Vec<u8>>,
}

/// Builds every file from the subtests' fits (battery order). The [`CarriedFiles`] are carried
/// into the built norm set unchanged.
///
/// # Errors
/// [`BuildError`] for fits that are not monotone after repair, composites, reliabilities or
/// band sizes the sample cannot support, and (a defect) tables the scorer rejects.
///
/// # Panics
/// When `fits` does not hold one fit per subtest of the battery, in battery order.
pub fn assemble(
    carried: &CarriedFiles,
    battery: &Battery,
    sample: &StandardisationSample,
    fits: &[SubtestFit],
    options: &BuildOptions,
    provenance: &ProvenanceInput,
) -> Result<BuiltNorms, BuildError> {
    assert_eq!(
        fits.len(),
        battery.subtests.len(),
        "one fit per subtest, in battery order"
    );
    let mut subtest_rows = Vec::new();
    let mut continuous_csv = String::from(subtest_tables::CONTINUOUS_HEADER);
    for (s, fit) in fits.iter().enumerate() {
        let id = &battery.subtests[s].id;
        if let Some(detail) = subtest_tables::monotonicity_violation(&fit.grid) {
            return Err(BuildError::NotMonotone {
                subtest: id.clone(),
                detail,
            });
        }
        subtest_rows.extend(subtest_tables::subtest_rows(
            battery,
            s,
            &fit.grid,
            options.band_months,
        ));
        subtest_tables::append_continuous(&mut continuous_csv, battery, id, &fit.grid);
    }
    let subtests_csv = super::subtest_norms::write_rows(&subtest_rows);
    let subtest_norms = SubtestNorms::parse(battery, &subtests_csv)?;
    let weights = relative_weights(sample.children.iter().map(|c| c.weight));
    let children: Vec<ScaledChild> = sample
        .children
        .iter()
        .zip(&weights)
        .map(|(c, &weight)| {
            let age = c.age.in_months().0;
            ScaledChild {
                id: c.id.clone(),
                age_months: age,
                weight,
                scaled: c
                    .raw
                    .iter()
                    .enumerate()
                    .map(|(s, r)| r.map(|r| subtest_norms.scaled(s, age, r)))
                    .collect(),
            }
        })
        .collect();
    let (composite_rows, composite_fits) =
        composite_rows(battery, &children, options.min_children_composite)?;
    let composites_csv = super::composite_norms::write_rows(&composite_rows);
    let composite_norms = CompositeNorms::parse(battery, &composites_csv)?;
    let (reliability, reliability_sources) = reliability_rows(
        battery,
        sample,
        &children,
        &options.explicit_reliability,
        options.reliability_band_months,
        options.min_children_reliability,
    )?;
    let reliability_csv = super::reliability::write_rows(&reliability);
    Reliabilities::parse(battery, &reliability_csv)?;
    let (base_rates_csv, base_rates_status) = match base_rates(
        battery,
        &children,
        &composite_norms,
        options.min_children_base_rates,
    ) {
        Ok(tables) => {
            let rates = BaseRates::from_tables(battery, tables)?;
            (Some(rates.to_csv()), "written from the sample".to_owned())
        }
        Err(reason) => (None, format!("not written: {reason}")),
    };
    let diagnostics = diagnostics_of(
        battery,
        sample,
        fits,
        &subtest_norms,
        options,
        composite_fits,
        reliability_sources,
        base_rates_status,
    );
    let provenance_toml = provenance_text::provenance_toml(&battery.id, provenance, options, &diagnostics);
    let files = NormFiles {
        battery_toml: carried.battery_toml.clone(),
        subtests_csv,
        composites_csv,
        reliability_csv,
        base_rates_csv,
        provenance_toml,
        item_banks: carried.item_banks.clone(),
        content: carried.content.clone(),
    };
    NormSet::from_files(&files)?;
    Ok(BuiltNorms {
        files,
        continuous_csv,
        diagnostics,
    })
}

/// [`fit_subtest`] for every subtest in turn, then [`assemble`].
///
/// # Errors
/// As those.
pub fn build(
    carried: &CarriedFiles,
    battery: &Battery,
    sample: &StandardisationSample,
    options: &BuildOptions,
    provenance: &ProvenanceInput,
) -> Result<BuiltNorms, BuildError> {
    let fits = (0..battery.subtests.len())
        .map(|s| fit_subtest(battery, sample, s, options))
        .collect::<Result<Vec<_>, _>>()?;
    assemble(carried, battery, sample, &fits, options, provenance)
}

/// Children whose score is at least this far from their age group are listed.
const OUTLIER_Z: f64 = 3.5;
/// At most this many are listed per subtest.
const MAX_OUTLIERS: usize = 50;

#[allow(clippy::too_many_arguments)]
fn diagnostics_of(
    battery: &Battery,
    sample: &StandardisationSample,
    fits: &[SubtestFit],
    norms: &SubtestNorms,
    options: &BuildOptions,
    composites: Vec<CompositeFit>,
    reliability: Vec<ReliabilitySource>,
    base_rates: String,
) -> Diagnostics {
    let bands_of = age_bands(battery, options.band_months);
    let in_band = |c: &super::SampledChild, lo: u16, hi: u16| (lo..=hi).contains(&c.age.in_months().0);
    let bands: Vec<BandCount> = bands_of
        .iter()
        .map(|&(lo, hi)| BandCount {
            age_min_months: lo,
            age_max_months: hi,
            n: sample.children.iter().filter(|c| in_band(c, lo, hi)).count(),
        })
        .collect();
    let mut warnings = Vec::new();
    for b in &bands {
        if b.n < options.warn_children_per_band {
            warnings.push(format!(
                "ages {}–{} months: {} children (fewer than {})",
                b.age_min_months, b.age_max_months, b.n, options.warn_children_per_band
            ));
        }
    }
    let scale = battery.scaled_scale;
    let mut subtests = Vec::new();
    for (s, fit) in fits.iter().enumerate() {
        let subtest = &battery.subtests[s];
        let raw_max = subtest.raw_max;
        let mut sb = Vec::new();
        for &(lo, hi) in &bands_of {
            let scores: Vec<(u16, f64)> = sample
                .children
                .iter()
                .filter(|c| in_band(c, lo, hi))
                .filter_map(|c| c.raw[s].map(|r| (r, c.weight)))
                .collect();
            let total: f64 = scores.iter().map(|(_, w)| w).sum();
            let pct = |x: u16| {
                100.0
                    * scores
                        .iter()
                        .filter(|(r, _)| *r == x)
                        .map(|(_, w)| w)
                        .sum::<f64>()
                    / total.max(f64::MIN_POSITIVE)
            };
            let (low, high) = (norms.scaled(s, lo, 0), norms.scaled(s, lo, raw_max));
            sb.push(SubtestBand {
                age_min_months: lo,
                age_max_months: hi,
                n: scores.len(),
                percent_at_floor: pct(0),
                percent_at_ceiling: pct(raw_max),
                scaled_of_raw_min: low,
                scaled_of_raw_max: high,
                floor_effect: scale.z_of(f64::from(low)) > -2.0 + 1e-9,
                ceiling_effect: scale.z_of(f64::from(high)) < 2.0 - 1e-9,
            });
        }
        for b in sb.iter().filter(|b| b.n < options.warn_children_per_band) {
            warnings.push(format!(
                "subtest '{}', ages {}–{} months: {} children with a score (fewer than {})",
                subtest.id, b.age_min_months, b.age_max_months, b.n, options.warn_children_per_band
            ));
        }
        if !fit.lms.converged {
            warnings.push(format!(
                "subtest '{}': the LMS fit did not meet its convergence test",
                subtest.id
            ));
        }
        let mut outliers = Vec::new();
        let mut more = 0;
        for c in &sample.children {
            let Some(raw) = c.raw[s] else { continue };
            let age = exact_age_months(c);
            let a = fit
                .grid
                .row_of(((age * 2.0).round() / 2.0).min(fit.grid.age(fit.grid.ages() - 1)));
            let Some(a) = a else { continue };
            let z = fit.grid.z(a, raw);
            if z.abs() > OUTLIER_Z {
                if outliers.len() < MAX_OUTLIERS {
                    outliers.push(Outlier {
                        id: c.id.clone(),
                        age_months: c.age.in_months().0,
                        raw,
                        z,
                    });
                } else {
                    more += 1;
                }
            }
        }
        let (mut pooled, mut total) = (vec![0.0; usize::from(raw_max) + 1], 0.0);
        for c in &sample.children {
            if let Some(r) = c.raw[s] {
                pooled[usize::from(r)] += c.weight;
                total += c.weight;
            }
        }
        let null: f64 = pooled
            .iter()
            .filter(|&&n| n > 0.0)
            .map(|&n| n * (n / total).ln())
            .sum::<f64>()
            / total.max(f64::MIN_POSITIVE);
        let curves = CURVE_PERCENTILES
            .iter()
            .map(|&p| PercentileCurve {
                percentile: p,
                raw: (battery.age_min.0..=battery.age_max.0)
                    .map(|m| {
                        let a = fit.grid.row_of(f64::from(m) + 0.5).unwrap_or(0);
                        raw_at_z(&fit.grid, a, normal::quantile(p / 100.0))
                    })
                    .collect(),
            })
            .collect();
        let c = &fit.candidates[fit.chosen];
        let model = match &fit.model {
            ChosenModel::Lms => format!(
                "LMS (Box-Cox) with degrees ln M {}, ln S {}, L {}",
                fit.lms.degrees.median, fit.lms.degrees.spread, fit.lms.degrees.skew
            ),
            ChosenModel::DistributionRegression(dr) => format!(
                "distribution regression, threshold curves of degree {}, penalty λ = {} towards LMS ({}, {}, {})",
                dr.degree, dr.lambda, fit.lms.degrees.median, fit.lms.degrees.spread, fit.lms.degrees.skew
            ),
        };
        subtests.push(SubtestDiagnostics {
            subtest: subtest.id.clone(),
            n: fit.n,
            raw_max,
            model,
            lms_candidates: fit.lms_candidates.clone(),
            candidates: fit.candidates.clone(),
            chosen: fit.chosen,
            log_lik_per_child: fit.log_lik_per_child,
            deviance: -2.0 * fit.log_lik_per_child * total,
            null_log_lik_per_child: null,
            pseudo_r2: if null < 0.0 {
                1.0 - fit.log_lik_per_child / null
            } else {
                0.0
            },
            cv_log_lik_per_child: c.cv_log_lik_per_child,
            repair: fit.repair,
            monotone: true,
            bands: sb,
            outliers,
            more_outliers: more,
            curves,
        });
    }
    Diagnostics {
        battery: battery.id.clone(),
        sample_size: sample.children.len(),
        weighted: sample.weighted,
        bands,
        warnings,
        subtests,
        composites,
        reliability,
        base_rates,
    }
}

/// The raw score at normal score `z` at grid row `a`, linear in z between whole scores.
fn raw_at_z(grid: &NormalScoreGrid, a: usize, z: f64) -> f64 {
    if z <= grid.z(a, 0) {
        return 0.0;
    }
    for x in 1..=grid.raw_max {
        let (z0, z1) = (grid.z(a, x - 1), grid.z(a, x));
        if z <= z1 {
            return f64::from(x - 1) + if z1 > z0 { (z - z0) / (z1 - z0) } else { 1.0 };
        }
    }
    f64::from(grid.raw_max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::norms::model::DevelopmentalModel;
    use crate::norms::simulate::{SimulationOptions, simulate, to_csv};

    const BATTERY: &str = include_str!("../../../../norms/qabilet-primary-demo/battery.toml");
    const MODEL: &str = include_str!("../../../../norms/qabilet-primary-demo/model.toml");

    /// A simulated sample with a weight column: `scale`·(1 + i mod 3) for child i.
    fn weighted_sample(battery: &Battery, scale: f64, reversed: bool) -> StandardisationSample {
        let model = DevelopmentalModel::from_provenance(battery, MODEL).expect("model");
        let children = simulate(battery, &model, &SimulationOptions::new(400, 3)).expect("simulate");
        let text = to_csv(battery, &children, false);
        let mut lines = text.lines();
        let mut out = format!("{},weight\n", lines.next().expect("header"));
        let mut rows: Vec<String> = lines
            .enumerate()
            .map(|(i, l)| format!("{l},{}", scale * (1.0 + (i % 3) as f64)))
            .collect();
        if reversed {
            rows.reverse();
        }
        out.push_str(&rows.join("\n"));
        StandardisationSample::parse(battery, &out).expect("sample")
    }

    #[test]
    fn fits_see_the_weights_ratios_and_not_the_file_order() {
        let battery = Battery::from_toml(BATTERY).expect("battery");
        let options = BuildOptions::default();
        // Children tied on age and raw score are told apart by their weights.
        let key = |o: &Observation| (o.age_months.to_bits(), o.raw, o.weight.to_bits());
        let mut base =
            observations(&battery, &weighted_sample(&battery, 1.0, false), 0, &options).expect("obs");
        base.sort_by_key(key);
        for (scale, reversed) in [(1e-300, false), (1e300, false), (1000.0, true)] {
            let mut other = observations(&battery, &weighted_sample(&battery, scale, reversed), 0, &options)
                .expect("obs");
            other.sort_by_key(key);
            assert_eq!(base.len(), other.len());
            for (a, b) in base.iter().zip(&other) {
                assert!(
                    (a.weight - b.weight).abs() < 1e-12 * a.weight,
                    "scale {scale}: {a:?} vs {b:?}"
                );
                assert_eq!(a.fold, b.fold, "folds follow the child, not the row");
            }
        }
        // Weights sum to the effective sample size (Σw)²/Σw².
        let sum: f64 = base.iter().map(|o| o.weight).sum();
        let raw: Vec<f64> = (0..base.len()).map(|i| 1.0 + (i % 3) as f64).collect();
        let n_eff = raw.iter().sum::<f64>().powi(2) / raw.iter().map(|w| w * w).sum::<f64>();
        assert!((sum - n_eff).abs() < 1e-9 * n_eff, "{sum} vs {n_eff}");
    }
}
