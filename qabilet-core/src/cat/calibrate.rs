//! Calibration of the Sympson–Hetter exposure parameters K_i by the iterative simulation
//! procedure of Sympson & Hetter (1985), as described by van der Linden & Glas (eds.),
//! *Elements of Adaptive Testing* (2010), chapter on item-exposure control.
//!
//! K_i = P(A_i | S_i), the probability that item i is given once selection has chosen it, so
//! its exposure rate is P(A_i) = K_i · P(S_i). Starting from K_i = 1, each round simulates
//! simulees with the current K_i, records every item's selection rate P(S_i) (chosen,
//! whether then given or set aside) and exposure rate P(A_i), and sets
//!
//! ```text
//! K_i = 1               if P(S_i) ≤ r_max
//! K_i = r_max / P(S_i)  otherwise
//! ```
//!
//! The rounds stop once max_i P(A_i) ≤ r_max + tolerance (the K_i of that round are kept) or
//! after the given number of rounds (the K_i of the last update are kept).
//!
//! Round t (from 1) simulates with seed `seed + t − 1`: each round's simulees are new to
//! the K_i it tests, which were fitted to the previous round's, so the stopping check is
//! made on simulees the K_i were not fitted to. The realised P(A_i) scatter about
//! K_i · P(S_i) by the sampling error of the Sympson–Hetter lottery, about
//! √(r_max (1 − r_max) / N) per item with N simulees, and the highest of the limited items
//! lies above r_max by about twice that: the tolerance should allow for it.

use serde::Serialize;

use super::CatError;
use super::config::CatConfig;
use super::engine::CatEngine;
use super::exposure::Exposure;
use super::simulate::{SimulationSpec, ThetaDistribution, simulate};
use crate::irt::ItemBank;

/// Settings of a Sympson–Hetter calibration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CalibrationSpec {
    /// Simulees per round (≥ 2).
    pub examinees: usize,
    /// Their true θ.
    pub theta: ThetaDistribution,
    /// Target maximum exposure rate r_max, in (0, 1].
    pub r_max: f64,
    /// Most rounds (≥ 1).
    pub rounds: usize,
    /// Stop once every exposure rate is ≤ r_max + tolerance (≥ 0).
    pub tolerance: f64,
    /// Seed of the first round's simulation; round t uses `seed + t − 1`.
    pub seed: u64,
}

/// What one round of the calibration observed, with the K_i it started from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundSummary {
    /// Round number, from 1.
    pub round: usize,
    /// Items with K_i < 1 in this round.
    pub limited_items: usize,
    /// Highest selection rate max_i P(S_i).
    pub max_selection_rate: f64,
    /// Highest exposure (administration) rate max_i P(A_i).
    pub max_administration_rate: f64,
    /// Items with P(A_i) > r_max + tolerance.
    pub items_over: usize,
    /// RMSE of the final θ̂ in this round.
    pub rmse: f64,
    /// Mean test length in this round.
    pub mean_length: f64,
}

/// The result of a calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// K_i by bank position, in (0, 1].
    pub k: Vec<f64>,
    /// Every round run, in order.
    pub rounds: Vec<RoundSummary>,
    /// Whether the last round met max_i P(A_i) ≤ r_max + tolerance (then `k` are its K_i);
    /// otherwise `k` are the update after the last round, not yet checked by simulation.
    pub converged: bool,
}

/// Calibrates the Sympson–Hetter parameters K_i of `bank` for adaptive tests run by `config`
/// (its exposure control is replaced by Sympson–Hetter; K_i already in the bank are
/// ignored), by the iterative procedure of Sympson & Hetter (1985; van der Linden & Glas
/// 2010, ch. on exposure control):
///
/// 1. start with K_i = 1 for every item;
/// 2. simulate `spec.examinees` simulees with the current K_i (round t with seed
///    `spec.seed + t − 1`, wrapping) and record the selection rate P(S_i) and the exposure
///    rate P(A_i) of every item;
/// 3. stop if max_i P(A_i) ≤ r_max + tolerance, keeping these K_i;
/// 4. else set K_i = 1 where P(S_i) ≤ r_max and K_i = r_max / P(S_i) elsewhere, and repeat
///    from 2, at most `spec.rounds` rounds in all.
///
/// Pure and deterministic: the same bank, configuration and spec give the same result. The
/// limit cannot hold when the bank is too small for it (a fixed length L needs at least
/// L / r_max items); the calibration then ends with `converged` false.
///
/// # Errors
/// [`CatError::Calibration`] for r_max outside (0, 1], no rounds, a negative or non-finite
/// tolerance, or a configuration with randomesque exposure control; otherwise the errors of
/// [`simulate`].
pub fn calibrate_sympson_hetter(
    bank: &ItemBank,
    config: &CatConfig,
    spec: &CalibrationSpec,
) -> Result<Calibration, CatError> {
    if !(spec.r_max > 0.0 && spec.r_max <= 1.0) {
        return Err(CatError::Calibration(format!(
            "r_max must be in (0, 1] (got {})",
            spec.r_max
        )));
    }
    if spec.rounds == 0 {
        return Err(CatError::Calibration("at least 1 round is needed".into()));
    }
    if !(spec.tolerance.is_finite() && spec.tolerance >= 0.0) {
        return Err(CatError::Calibration(format!(
            "the tolerance must be a finite number ≥ 0 (got {})",
            spec.tolerance
        )));
    }
    if matches!(config.exposure, Exposure::Randomesque { .. }) {
        return Err(CatError::Calibration(
            "Sympson–Hetter calibration cannot be combined with randomesque exposure control".into(),
        ));
    }
    let config = CatConfig {
        exposure: Exposure::SympsonHetter,
        ..config.clone()
    };
    let mut k = vec![1.0; bank.items.len()];
    let mut rounds = Vec::with_capacity(spec.rounds);
    for round in 1..=spec.rounds {
        let engine = CatEngine::new(&bank.with_sympson_hetter(&k))?;
        let simulation = SimulationSpec {
            examinees: spec.examinees,
            theta: spec.theta,
            seed: spec.seed.wrapping_add(round as u64 - 1),
        };
        let report = simulate(&engine, &config, &simulation)?;
        let limit = spec.r_max + spec.tolerance;
        let exposure = &report.exposure;
        rounds.push(RoundSummary {
            round,
            limited_items: k.iter().filter(|&&k| k < 1.0).count(),
            max_selection_rate: exposure.max_selection,
            max_administration_rate: exposure.max,
            items_over: exposure.rates.iter().filter(|&&r| r > limit).count(),
            rmse: report.rmse,
            mean_length: report.mean_length,
        });
        if exposure.max <= limit {
            return Ok(Calibration {
                k,
                rounds,
                converged: true,
            });
        }
        for (k, &selected) in k.iter_mut().zip(&exposure.selection_rates) {
            *k = if selected <= spec.r_max {
                1.0
            } else {
                spec.r_max / selected
            };
        }
    }
    Ok(Calibration {
        k,
        rounds,
        converged: false,
    })
}
