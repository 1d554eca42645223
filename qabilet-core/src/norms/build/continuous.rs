//! Continuous norming of one subtest with model choice by cross-validation.
//!
//! 1. The LMS model (`lms`) is fitted with each candidate set of curve degrees; AIC picks one
//!    (BIC, tried first, kept too few degrees to follow a logistic growth curve at N = 3,000).
//! 2. Distribution regression (`distribution_regression`), shrunk towards that LMS fit, is
//!    fitted for a ladder of penalties λ and curve degrees.
//! 3. K-fold cross-validation scores every candidate — the LMS fit and each (degree, λ) — by
//!    the held-out log-likelihood of the children's raw scores under the repaired model (see
//!    `rearrange`), so that what is judged is what would be written. The simplest candidate
//!    within one standard error of the best is chosen (LMS first, then distribution
//!    regression from the largest penalty down) and refitted on the whole sample.
//! 4. The chosen model is evaluated on the half-month grid and rearranged so that it is
//!    monotone in raw score and in age (`rearrange`).
//!
//! Why both: a Box–Cox family with smooth age curves is efficient where it holds (it borrows
//! strength across ages and raw scores, and its tails are stable), but it misses shapes no
//! single family has — a floor at 5 turning into a ceiling at 11, a delayed subgroup, two
//! modes. Distribution regression imposes no shape at any age; shrinking it towards the LMS
//! fit keeps its tails and sparse thresholds as stable as the parametric fit's. Letting
//! held-out likelihood choose between them is the choice a psychometrician would make by
//! eye, made reproducibly.

use serde::Serialize;

use super::age_cells::{AgeCells, Observation};
use super::age_curve::AgeScale;
use super::distribution_regression::DrFit;
use super::lms::{self, LmsDegrees, LmsFit};
use super::normal_score_grid::{GRID_MONTHS, NormalScoreGrid};
use super::rearrange::{self, Repair};

/// Settings of the continuous fit.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuousOptions {
    /// Cross-validation folds (children are assigned by their position in the sample).
    pub folds: u8,
    /// Penalties λ of distribution regression towards the LMS fit, tried largest first.
    pub lambdas: Vec<f64>,
    /// Curve degrees of distribution regression.
    pub dr_degrees: Vec<usize>,
}

impl Default for ContinuousOptions {
    fn default() -> Self {
        ContinuousOptions {
            folds: 5,
            lambdas: vec![300_000.0, 30_000.0, 3_000.0, 300.0, 30.0],
            dr_degrees: vec![3, 5],
        }
    }
}

/// One model the cross-validation compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// `lms` or `distribution-regression`.
    pub family: &'static str,
    /// Curve degrees: ln M, ln S, L for LMS; the threshold curves' for distribution regression.
    pub degrees: Vec<usize>,
    /// Penalty towards the LMS fit (distribution regression only).
    pub lambda: Option<f64>,
    /// Held-out log-likelihood per child (higher is better).
    pub cv_log_lik_per_child: f64,
    /// Standard error of its held-out difference per child from the best candidate (0 for
    /// the best itself).
    pub se_vs_best: f64,
}

/// An LMS degree set and its AIC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LmsCandidate {
    /// The degrees.
    pub degrees: LmsDegrees,
    /// −2·log-likelihood + 2·parameters.
    pub aic: f64,
    /// Whether the optimiser converged.
    pub converged: bool,
}

/// The fitted model.
#[derive(Debug, Clone, PartialEq)]
pub enum ChosenModel {
    /// The LMS fit.
    Lms,
    /// Distribution regression shrunk towards the LMS fit.
    DistributionRegression(DrFit),
}

/// Everything the continuous fit of one subtest produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SubtestFit {
    /// Children with a score.
    pub n: usize,
    /// The LMS fit on the whole sample (the chosen model, or the prior of the chosen one).
    pub lms: LmsFit,
    /// LMS degree sets and their AIC.
    pub lms_candidates: Vec<LmsCandidate>,
    /// Cross-validated candidates, in the order tried.
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the chosen one.
    pub chosen: usize,
    /// The chosen model.
    pub model: ChosenModel,
    /// Log-likelihood of the whole sample under the chosen model (after repair), per child.
    pub log_lik_per_child: f64,
    /// The norms: probits on the half-month grid, repaired.
    pub grid: NormalScoreGrid,
    /// How much the repair moved them.
    pub repair: Repair,
}

/// Fits one subtest's observations over `[age_min, age_max)` months.
pub fn fit_subtest(
    observations: &[Observation],
    raw_max: u16,
    age_min: f64,
    age_max: f64,
    options: &ContinuousOptions,
) -> SubtestFit {
    let scale = AgeScale::new(age_min, age_max);
    let all = AgeCells::new(observations, raw_max, age_min, age_max, &scale, |_| true);

    // 1. LMS degrees by AIC, each fit warm-started from the previous one.
    let mut lms_candidates = Vec::new();
    let mut best: Option<(f64, LmsFit)> = None;
    let mut previous: Option<LmsFit> = None;
    for degrees in lms::CANDIDATES {
        let start = match &previous {
            Some(p) => p.padded(degrees),
            None => LmsFit::start(&all, degrees),
        };
        let fit = LmsFit::fit(&all, degrees, start);
        let aic = 2.0 * fit.neg_log_lik + 2.0 * degrees.parameters() as f64;
        lms_candidates.push(LmsCandidate {
            degrees,
            aic,
            converged: fit.converged,
        });
        if best.as_ref().is_none_or(|(b, _)| aic < *b) {
            best = Some((aic, fit.clone()));
        }
        previous = Some(fit);
    }
    let lms_full = best
        .map(|(_, f)| f)
        .unwrap_or_else(|| unreachable!("CANDIDATES is not empty"));

    // 2–3. Cross-validation.
    let mut candidates = vec![Candidate {
        family: "lms",
        degrees: vec![
            lms_full.degrees.median,
            lms_full.degrees.spread,
            lms_full.degrees.skew,
        ],
        lambda: None,
        cv_log_lik_per_child: 0.0,
        se_vs_best: 0.0,
    }];
    for &d in &options.dr_degrees {
        for &lambda in &options.lambdas {
            candidates.push(Candidate {
                family: "distribution-regression",
                degrees: vec![d],
                lambda: Some(lambda),
                cv_log_lik_per_child: 0.0,
                se_vs_best: 0.0,
            });
        }
    }
    // Held-out log-probabilities per candidate and held-out cell (same cells, same order for
    // every candidate), with the cells' weights.
    let mut held_out: Vec<Vec<f64>> = vec![Vec::new(); candidates.len()];
    let (mut weights, mut squares): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for k in 0..options.folds {
        let train = AgeCells::new(observations, raw_max, age_min, age_max, &scale, |o| o.fold != k);
        let test = AgeCells::new(observations, raw_max, age_min, age_max, &scale, |o| o.fold == k);
        if test.total() <= 0.0 || train.total() <= 0.0 {
            continue;
        }
        for (n, sq) in test.counts.iter().zip(&test.squares) {
            if *n > 0.0 {
                weights.push(*n);
                squares.push(*sq);
            }
        }
        let lms_k = LmsFit::fit(&train, lms_full.degrees, lms_full.coefs.clone());
        held_out[0].extend(cell_log_probs(&test, |t, out| lms_k.probits(t, out)));
        let mut c = 1;
        for &d in &options.dr_degrees {
            let mut warm: Option<DrFit> = None;
            for &lambda in &options.lambdas {
                let dr = DrFit::fit(&train, &lms_k, d, lambda, warm.as_ref());
                held_out[c].extend(cell_log_probs(&test, |t, out| dr.probits(t, out)));
                warm = Some(dr);
                c += 1;
            }
        }
    }
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        for (c, lp) in candidates.iter_mut().zip(&held_out) {
            c.cv_log_lik_per_child = weights.iter().zip(lp).map(|(n, l)| n * l).sum::<f64>() / total;
        }
    }
    let best = (0..candidates.len())
        .max_by(|&a, &b| {
            candidates[a]
                .cv_log_lik_per_child
                .total_cmp(&candidates[b].cv_log_lik_per_child)
                // Ties (e.g. no folds) go to the earlier, simpler candidate.
                .then(b.cmp(&a))
        })
        .unwrap_or(0);
    if total > 0.0 {
        for c in 0..candidates.len() {
            candidates[c].se_vs_best = paired_se(&weights, &squares, &held_out[best], &held_out[c]);
        }
    }
    // One-standard-error rule (Breiman et al. 1984): the simplest candidate whose held-out
    // log-likelihood is within one standard error (of its paired difference) of the best.
    // Simplest first: LMS, then distribution regression from the largest penalty down, the
    // lower degree first at each penalty.
    let chosen = simplicity_order(&candidates, options)
        .into_iter()
        .find(|&c| {
            candidates[c].cv_log_lik_per_child
                >= candidates[best].cv_log_lik_per_child - candidates[c].se_vs_best
        })
        .unwrap_or(best);
    let model = match (candidates[chosen].family, candidates[chosen].lambda) {
        ("lms", _) | (_, None) => ChosenModel::Lms,
        (_, Some(lambda)) => ChosenModel::DistributionRegression(DrFit::fit(
            &all,
            &lms_full,
            candidates[chosen].degrees[0],
            lambda,
            None,
        )),
    };

    // 4. The grid, repaired.
    let ages = ((age_max - age_min) / GRID_MONTHS).round() as usize + 1;
    let t = usize::from(raw_max);
    let mut eta = vec![0.0; ages * t];
    for a in 0..ages {
        let x = scale.t(age_min + a as f64 * GRID_MONTHS);
        let row = &mut eta[a * t..(a + 1) * t];
        match &model {
            ChosenModel::Lms => lms_full.probits(x, row),
            ChosenModel::DistributionRegression(dr) => dr.probits(x, row),
        }
    }
    let repair = rearrange::rearrange(&mut eta, t);
    let grid = NormalScoreGrid {
        age_min,
        raw_max,
        eta,
    };
    let log_lik_per_child = log_lik(&all, |x, out| match &model {
        ChosenModel::Lms => lms_full.probits(x, out),
        ChosenModel::DistributionRegression(dr) => dr.probits(x, out),
    }) / all.total().max(f64::MIN_POSITIVE);
    SubtestFit {
        n: observations.len(),
        lms: lms_full,
        lms_candidates,
        candidates,
        chosen,
        model,
        log_lik_per_child,
        grid,
        repair,
    }
}

/// Smallest probability a held-out score is given (a model that rules out an observed score
/// pays ln 1e-12 ≈ −27.6 for it).
const HELD_OUT_FLOOR: f64 = 1e-12;

/// ln P(X = x | bin) of every cell of `cells` with children (bins in order, raw scores in
/// order) under `probits`, after the same monotone repair as the written norms (rearranged
/// over the bins, which ascend in age): cross-validation judges what would be written, so a
/// candidate that needs a large repair pays for it.
fn cell_log_probs(cells: &AgeCells, probits: impl Fn(f64, &mut [f64])) -> Vec<f64> {
    let t = usize::from(cells.raw_max);
    let mut eta = vec![0.0; t * cells.bins()];
    for b in 0..cells.bins() {
        probits(cells.t[b], &mut eta[b * t..(b + 1) * t]);
    }
    rearrange::rearrange(&mut eta, t);
    let mut out = Vec::new();
    for b in 0..cells.bins() {
        let row = &eta[b * t..(b + 1) * t];
        for (x, &n) in cells.row(b).iter().enumerate() {
            if n > 0.0 {
                let lo = if x == 0 { f64::NEG_INFINITY } else { row[x - 1] };
                let hi = if x == t { f64::INFINITY } else { row[x] };
                out.push(lms::interval(lo, hi).max(HELD_OUT_FLOOR).ln());
            }
        }
    }
    out
}

/// Σ n·ln P(X = x | bin) over `cells` (see [`cell_log_probs`]).
fn log_lik(cells: &AgeCells, probits: impl Fn(f64, &mut [f64])) -> f64 {
    let lp = cell_log_probs(cells, probits);
    cells
        .counts
        .iter()
        .filter(|&&n| n > 0.0)
        .zip(&lp)
        .map(|(n, l)| n * l)
        .sum()
}

/// Standard error of the weighted mean of the paired differences a − b, one per cell, each
/// cell standing for children of total weight `weights` and Σw² `squares` (all children of a
/// cell have the same difference): √(Σ_cells Σw²·(d − d̄)²) / W.
fn paired_se(weights: &[f64], squares: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let total: f64 = weights.iter().sum();
    let mean = weights
        .iter()
        .zip(a.iter().zip(b))
        .map(|(n, (x, y))| n * (x - y))
        .sum::<f64>()
        / total;
    let var: f64 = squares
        .iter()
        .zip(a.iter().zip(b))
        .map(|(sq, (x, y))| sq * (x - y - mean).powi(2))
        .sum();
    var.sqrt() / total
}

/// Candidate indices from the simplest: LMS (0), then distribution regression by descending
/// penalty, the lower degree first (candidates are laid out degree-major, penalty-minor).
fn simplicity_order(candidates: &[Candidate], options: &ContinuousOptions) -> Vec<usize> {
    let mut order = vec![0];
    let mut by_penalty: Vec<usize> = (1..candidates.len()).collect();
    by_penalty.sort_by(|&a, &b| {
        let (la, lb) = (
            candidates[a].lambda.unwrap_or(f64::INFINITY),
            candidates[b].lambda.unwrap_or(f64::INFINITY),
        );
        lb.total_cmp(&la)
            .then(candidates[a].degrees.cmp(&candidates[b].degrees))
    });
    order.extend(by_penalty);
    debug_assert_eq!(order.len(), 1 + options.dr_degrees.len() * options.lambdas.len());
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small sample: raw scores rising with age, a little spread. Child i comes
    /// `copies(i)` times with weight `weight(i)`.
    fn observations(copies: impl Fn(u32) -> usize, weight: impl Fn(u32) -> f64) -> Vec<Observation> {
        let mut out = Vec::new();
        for i in 0..600u32 {
            let age = 60.0 + f64::from(i % 84) + 0.4;
            let raw = ((age - 60.0) / 4.0 + f64::from(i % 7)).round() as u16;
            for _ in 0..copies(i) {
                out.push(Observation {
                    age_months: age,
                    raw: raw.min(30),
                    weight: weight(i),
                    fold: 0,
                });
            }
        }
        out
    }

    #[test]
    fn a_weight_counts_as_that_many_copies() {
        // One fold: no cross-validation, so the samples see exactly the same fits. Children
        // whose spread term i % 7 is high weigh 4, the others 1.
        let options = ContinuousOptions {
            folds: 1,
            ..ContinuousOptions::default()
        };
        let heavy = |i: u32| i % 7 >= 4;
        let weighted = fit_subtest(
            &observations(|_| 1, |i| if heavy(i) { 4.0 } else { 1.0 }),
            30,
            60.0,
            144.0,
            &options,
        );
        let copied = fit_subtest(
            &observations(|i| if heavy(i) { 4 } else { 1 }, |_| 1.0),
            30,
            60.0,
            144.0,
            &options,
        );
        assert_eq!(weighted.lms.degrees, copied.lms.degrees);
        for (a, b) in weighted.grid.eta.iter().zip(&copied.grid.eta) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        // The weights are not ignored: unweighted, the same children give other norms.
        let unweighted = fit_subtest(&observations(|_| 1, |_| 1.0), 30, 60.0, 144.0, &options);
        let moved = weighted
            .grid
            .eta
            .iter()
            .zip(&unweighted.grid.eta)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(moved > 0.1, "largest difference {moved}");
    }
}
