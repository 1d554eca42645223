//! Simulation studies of an adaptive test, reported as catsim and catR do: simulees with
//! known θ answer by the item models, and the report gives bias and RMSE of the final θ̂
//! (overall and by decile of true θ), test length, mean SE, item exposure rates and the test
//! overlap rate.
//!
//! Examinee e (0-based) draws its θ and its responses from ChaCha8 seeded with the study's
//! seed on stream 2e, and its session's random choices from stream 2e + 1, so every
//! examinee's test depends only on the seed and e.
//!
//! Exposure rate of an item: the share of examinees who were given it; its selection rate:
//! the share for whom selection chose it, whether it was then given or set aside by
//! Sympson–Hetter (the two coincide without Sympson–Hetter). Test overlap rate:
//! the mean, over all pairs of examinees, of the number of items both were given, divided by
//! the mean test length, Σ_i c_i(c_i − 1) / (N(N − 1) · L̄) with c_i the item's count (Chen,
//! Ankenmann & Spray 2003, for fixed and variable length).

use std::collections::BTreeMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::CatError;
use super::config::CatConfig;
use super::engine::{CatEngine, Next};
use super::state::CatSession;
use super::stopping::StopReason;
use crate::irt::{CategoryCurve, Estimate, Status};

/// The distribution of simulees' true θ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "distribution", rename_all = "snake_case")]
pub enum ThetaDistribution {
    /// N(mean, sd²) (Box–Muller).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Uniform on [lo, hi).
    Uniform {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
}

impl ThetaDistribution {
    /// N(0, 1).
    pub const STANDARD_NORMAL: Self = ThetaDistribution::Normal { mean: 0.0, sd: 1.0 };
    /// Uniform on [−3, 3).
    pub const UNIFORM_3: Self = ThetaDistribution::Uniform { lo: -3.0, hi: 3.0 };

    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        match *self {
            ThetaDistribution::Normal { mean, sd } => {
                let u1 = 1.0 - rng.random::<f64>(); // (0, 1]
                let u2 = rng.random::<f64>();
                mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            }
            ThetaDistribution::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
        }
    }

    fn validate(&self) -> Result<(), CatError> {
        let ok = match *self {
            ThetaDistribution::Normal { mean, sd } => mean.is_finite() && sd.is_finite() && sd >= 0.0,
            ThetaDistribution::Uniform { lo, hi } => lo.is_finite() && hi.is_finite() && lo < hi,
        };
        if ok {
            Ok(())
        } else {
            Err(CatError::Simulation(format!("invalid θ distribution {self:?}")))
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimulationSpec {
    /// Number of simulees (≥ 2, for the overlap rate).
    pub examinees: usize,
    /// Their true θ.
    pub theta: ThetaDistribution,
    /// Seed of every random draw.
    pub seed: u64,
}

/// One simulee's test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExamineeResult {
    /// True θ.
    pub true_theta: f64,
    /// Final estimate (the configured estimator).
    pub estimate: Estimate,
    /// Items given, in order (bank positions).
    pub items: Vec<usize>,
    /// Items selected but set aside by Sympson–Hetter, in order (bank positions).
    pub set_aside: Vec<usize>,
    /// Why the test ended.
    pub stop: StopReason,
}

/// Bias, RMSE and length for one tenth of the simulees by true θ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecileSummary {
    /// Lowest true θ in the decile.
    pub theta_min: f64,
    /// Highest true θ in the decile.
    pub theta_max: f64,
    /// Simulees in the decile.
    pub examinees: usize,
    /// Mean of θ̂ − θ over those with an estimate.
    pub bias: f64,
    /// √mean (θ̂ − θ)² over those with an estimate.
    pub rmse: f64,
    /// Mean test length.
    pub mean_length: f64,
}

/// Item exposure and selection rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExposureSummary {
    /// Highest exposure rate.
    pub max: f64,
    /// Highest selection rate.
    pub max_selection: f64,
    /// Share of bank items never given.
    pub never_used: f64,
    /// Share of bank items with an exposure rate above 0.2.
    pub over_0_2: f64,
    /// Exposure rate of every item, by bank position.
    pub rates: Vec<f64>,
    /// Selection rate of every item (given or set aside), by bank position.
    pub selection_rates: Vec<f64>,
}

/// The report of a simulation study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationReport {
    /// Simulees.
    pub examinees: usize,
    /// Simulees with a finite final estimate (all, for EAP).
    pub estimated: usize,
    /// Mean of θ̂ − θ.
    pub bias: f64,
    /// √mean (θ̂ − θ)².
    pub rmse: f64,
    /// Correlation of θ̂ and θ.
    pub correlation: f64,
    /// Mean test length.
    pub mean_length: f64,
    /// Shortest test.
    pub min_length: usize,
    /// Longest test.
    pub max_length: usize,
    /// Mean final SE.
    pub mean_se: f64,
    /// How many tests ended for each reason.
    pub stop_reasons: BTreeMap<StopReason, usize>,
    /// Item exposure.
    pub exposure: ExposureSummary,
    /// Test overlap rate.
    pub overlap: f64,
    /// By decile of true θ, lowest first.
    pub deciles: Vec<DecileSummary>,
}

/// Simulates one test of a simulee with true θ `true_theta`: responses are drawn from the
/// item model at θ (category k where the cumulative probability first exceeds a uniform
/// draw from `responses`), the session's own choices from `choices`.
///
/// # Errors
/// [`CatError`] if `config` does not fit the bank.
pub fn simulate_examinee(
    engine: &CatEngine,
    config: &CatConfig,
    true_theta: f64,
    responses: &mut ChaCha8Rng,
    choices: ChaCha8Rng,
) -> Result<ExamineeResult, CatError> {
    let mut session = CatSession::with_rng(engine, config.clone(), choices)?;
    let mut curves = [CategoryCurve::default(); 16];
    let stop = loop {
        match engine.next_item(&mut session)? {
            Next::Stop(reason) => break reason,
            Next::Item(item) => {
                let model = &engine.bank().items[item].model;
                let m = model.max_category();
                model.curves(true_theta, &mut curves[..=m]);
                let u = responses.random::<f64>();
                let mut cumulative = 0.0;
                let mut category = m;
                for (k, c) in curves[..=m].iter().enumerate() {
                    cumulative += c.p;
                    if u < cumulative {
                        category = k;
                        break;
                    }
                }
                engine.record(&mut session, category as u32)?;
            }
        }
    };
    Ok(ExamineeResult {
        true_theta,
        estimate: engine.final_estimate(&session),
        items: session.administered().iter().map(|r| r.item).collect(),
        set_aside: session.set_aside().to_vec(),
        stop,
    })
}

/// Runs a simulation study and summarises it.
///
/// # Errors
/// [`CatError`] if `config` does not fit the bank, fewer than 2 simulees are asked for, or
/// the θ distribution is invalid.
pub fn simulate(
    engine: &CatEngine,
    config: &CatConfig,
    spec: &SimulationSpec,
) -> Result<SimulationReport, CatError> {
    if spec.examinees < 2 {
        return Err(CatError::Simulation("at least 2 examinees are needed".into()));
    }
    spec.theta.validate()?;
    config.validate(engine)?;
    let results = (0..spec.examinees)
        .map(|e| {
            let mut responses = ChaCha8Rng::seed_from_u64(spec.seed);
            responses.set_stream(2 * e as u64);
            let mut choices = ChaCha8Rng::seed_from_u64(spec.seed);
            choices.set_stream(2 * e as u64 + 1);
            let theta = spec.theta.draw(&mut responses);
            simulate_examinee(engine, config, theta, &mut responses, choices)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(summarise(engine.bank().items.len(), &results))
}

/// The report of simulated tests on a bank of `bank_items` items (`results` non-empty).
pub fn summarise(bank_items: usize, results: &[ExamineeResult]) -> SimulationReport {
    let n = results.len();
    let errors: Vec<(f64, f64)> = results
        .iter()
        .filter(|r| r.estimate.status == Status::Ok)
        .filter_map(|r| r.estimate.theta.map(|t| (t, r.true_theta)))
        .collect();
    let (bias, rmse) = bias_rmse(&errors);
    let lengths: Vec<usize> = results.iter().map(|r| r.items.len()).collect();
    let mean_length = lengths.iter().sum::<usize>() as f64 / n as f64;
    let ses: Vec<f64> = results.iter().filter_map(|r| r.estimate.se).collect();
    let mean_se = mean(&ses);
    let mut stop_reasons = BTreeMap::new();
    for r in results {
        *stop_reasons.entry(r.stop).or_insert(0) += 1;
    }
    let mut counts = vec![0usize; bank_items];
    let mut selected = vec![0usize; bank_items];
    for r in results {
        for &i in &r.items {
            counts[i] += 1;
            selected[i] += 1;
        }
        for &i in &r.set_aside {
            selected[i] += 1;
        }
    }
    let rates: Vec<f64> = counts.iter().map(|&c| c as f64 / n as f64).collect();
    let selection_rates: Vec<f64> = selected.iter().map(|&c| c as f64 / n as f64).collect();
    let share =
        |f: &dyn Fn(f64) -> bool| rates.iter().filter(|&&r| f(r)).count() as f64 / bank_items.max(1) as f64;
    let exposure = ExposureSummary {
        max: rates.iter().copied().fold(0.0, f64::max),
        max_selection: selection_rates.iter().copied().fold(0.0, f64::max),
        never_used: share(&|r| r == 0.0),
        over_0_2: share(&|r| r > 0.2),
        rates: rates.clone(),
        selection_rates,
    };
    let pairs_shared: f64 = counts.iter().map(|&c| c as f64 * (c as f64 - 1.0)).sum();
    let overlap = if n > 1 && mean_length > 0.0 {
        pairs_shared / (n as f64 * (n as f64 - 1.0) * mean_length)
    } else {
        0.0
    };
    let mut by_theta: Vec<&ExamineeResult> = results.iter().collect();
    by_theta.sort_by(|a, b| a.true_theta.total_cmp(&b.true_theta));
    let deciles = (0..10)
        .filter_map(|d| {
            let group = &by_theta[d * n / 10..(d + 1) * n / 10];
            let (first, last) = (group.first()?, group.last()?);
            let errors: Vec<(f64, f64)> = group
                .iter()
                .filter(|r| r.estimate.status == Status::Ok)
                .filter_map(|r| r.estimate.theta.map(|t| (t, r.true_theta)))
                .collect();
            let (bias, rmse) = bias_rmse(&errors);
            Some(DecileSummary {
                theta_min: first.true_theta,
                theta_max: last.true_theta,
                examinees: group.len(),
                bias,
                rmse,
                mean_length: group.iter().map(|r| r.items.len()).sum::<usize>() as f64 / group.len() as f64,
            })
        })
        .collect();
    SimulationReport {
        examinees: n,
        estimated: errors.len(),
        bias,
        rmse,
        correlation: correlation(&errors),
        mean_length,
        min_length: lengths.iter().copied().min().unwrap_or(0),
        max_length: lengths.iter().copied().max().unwrap_or(0),
        mean_se,
        stop_reasons,
        exposure,
        overlap,
        deciles,
    }
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Mean and root mean square of θ̂ − θ over (θ̂, θ) pairs.
fn bias_rmse(pairs: &[(f64, f64)]) -> (f64, f64) {
    let diffs: Vec<f64> = pairs.iter().map(|(e, t)| e - t).collect();
    let squares: Vec<f64> = diffs.iter().map(|d| d * d).collect();
    (mean(&diffs), mean(&squares).sqrt())
}

fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let (xs, ys): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let (mx, my) = (mean(&xs), mean(&ys));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    sxy / (sxx * syy).sqrt()
}
