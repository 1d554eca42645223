//! The distribution-free model of continuous norming: distribution regression (Foresi &
//! Peracchi 1995; Chernozhukov, Fernández-Val & Melly 2013). For every raw threshold r the
//! probability P(X ≤ r | a) is its own probit curve Φ(η_r(a)), η_r a Legendre polynomial in
//! scaled age, so no family of shapes is imposed on the distribution at any age.
//!
//! Each curve is the LMS fit's curve for the same threshold plus a polynomial correction,
//! η_r(t) = η⁰_r(t) + Σ_k β_rk·P_k(t), with a ridge penalty ½λ·(1/B)·Σ_b (Σ_k β_rk P_k(t_b))²
//! on the correction over the B age bins: where a threshold has plenty of data the data
//! decide; where it has little (the tails, the ends of the age range) the parametric fit
//! carries it. λ → 0 is distribution regression with curves as flexible as the LMS curve plus
//! the correction, λ → ∞ the LMS fit (exactly, wherever its probit lies within ±7.5, where it is
//! clamped); the builder chooses λ by cross-validation. Each threshold is fitted by penalised Fisher
//! scoring. Curves fitted separately may cross; the builder rearranges them (see
//! `rearrange`).

use super::age_cells::AgeCells;
use super::age_curve::{self, legendre};
use super::linalg::solve_spd;
use super::lms::LmsFit;
use crate::normal;

/// Probits beyond this are treated as certain (Φ(−30) ≈ 5e-198).
const ETA_LIMIT: f64 = 30.0;

/// A fitted distribution regression.
#[derive(Debug, Clone, PartialEq)]
pub struct DrFit {
    /// Polynomial degree of each threshold's correction.
    pub degree: usize,
    /// Penalty on the corrections.
    pub lambda: f64,
    /// Correction coefficients per threshold r = 0 … raw_max − 1.
    pub coefs: Vec<Vec<f64>>,
    /// The parametric fit the corrections are added to.
    prior: LmsFit,
}

impl DrFit {
    /// η_r(t) for r = 0 … raw_max − 1.
    pub fn probits(&self, t: f64, out: &mut [f64]) {
        self.prior.probits(t, out);
        let mut basis = vec![0.0; self.degree + 1];
        legendre(t, &mut basis);
        for (z, c) in out.iter_mut().zip(&self.coefs) {
            *z = prior_probit(*z) + age_curve::eval(c, &basis);
        }
    }

    /// Fits every threshold of `cells` with corrections of `degree` to `prior`, penalised by
    /// `lambda`. `warm` (a fit of the same degree, e.g. at a neighbouring λ) speeds it up.
    pub fn fit(cells: &AgeCells, prior: &LmsFit, degree: usize, lambda: f64, warm: Option<&DrFit>) -> DrFit {
        let p = degree + 1;
        let raw_max = usize::from(cells.raw_max);
        let bins: Vec<usize> = (0..cells.bins()).collect();
        let bases: Vec<Vec<f64>> = cells
            .t
            .iter()
            .map(|&t| {
                let mut b = vec![0.0; p];
                legendre(t, &mut b);
                b
            })
            .collect();
        // Ω = (1/B)·Σ_b p_b p_bᵀ: the penalty measured on the curve, not the coefficients.
        let mut omega = vec![0.0; p * p];
        for b in &bases {
            for j in 0..p {
                for k in 0..p {
                    omega[j * p + k] += b[j] * b[k] / bins.len() as f64;
                }
            }
        }
        // Prior curves, evaluated per bin: the offsets the corrections are added to.
        let mut prior_z = vec![vec![0.0; raw_max]; bins.len()];
        for (b, z) in prior_z.iter_mut().enumerate() {
            prior.probits(cells.t[b], z);
            z.iter_mut().for_each(|v| *v = prior_probit(*v));
        }
        let beta0 = vec![0.0; p];
        // Cumulative counts: at_or_below[b] for the current threshold.
        let mut at_or_below = vec![0.0; bins.len()];
        let mut coefs = Vec::with_capacity(raw_max);
        for r in 0..raw_max {
            for b in &bins {
                at_or_below[*b] += cells.row(*b)[r];
            }
            let offsets: Vec<f64> = prior_z.iter().map(|z| z[r]).collect();
            let start = warm.map_or_else(|| beta0.clone(), |w| w.coefs[r].clone());
            let problem = Threshold {
                cells,
                bases: &bases,
                offsets: &offsets,
                at_or_below: &at_or_below,
                beta0: &beta0,
                omega: &omega,
                lambda,
            };
            coefs.push(fit_threshold(&problem, start));
        }
        DrFit {
            degree,
            lambda,
            coefs,
            prior: prior.clone(),
        }
    }
}

/// The LMS probit as an offset, kept within ±7.5 (beyond, a threshold is certain for every
/// practical purpose, and a Box–Cox tail can run off to ±∞).
fn prior_probit(z: f64) -> f64 {
    z.clamp(-ETA_LIMIT / 4.0, ETA_LIMIT / 4.0)
}

/// Φ(η) and Φ(−η) from one erfc, each accurate in its own tail.
fn both_tails(eta: f64) -> (f64, f64) {
    if eta < 0.0 {
        let lower = normal::cdf(eta);
        (lower, 1.0 - lower)
    } else {
        let upper = normal::cdf(-eta);
        (1.0 - upper, upper)
    }
}

/// The penalised −log-likelihood of one threshold at `beta`, keeping η, Φ(η) and Φ(−η) of
/// every bin for the next Fisher-scoring step.
struct ThresholdState {
    beta: Vec<f64>,
    eta: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    value: f64,
}

struct Threshold<'a> {
    cells: &'a AgeCells,
    bases: &'a [Vec<f64>],
    offsets: &'a [f64],
    at_or_below: &'a [f64],
    beta0: &'a [f64],
    omega: &'a [f64],
    lambda: f64,
}

impl Threshold<'_> {
    fn state(&self, beta: Vec<f64>) -> ThresholdState {
        let bins = self.bases.len();
        let (mut eta, mut lower, mut upper) = (vec![0.0; bins], vec![0.0; bins], vec![0.0; bins]);
        let mut nll = 0.0;
        for (b, basis) in self.bases.iter().enumerate() {
            let n = self.cells.totals[b];
            if n <= 0.0 {
                continue;
            }
            eta[b] = (self.offsets[b] + age_curve::eval(&beta, basis)).clamp(-ETA_LIMIT, ETA_LIMIT);
            (lower[b], upper[b]) = both_tails(eta[b]);
            let (s, f) = (self.at_or_below[b], n - self.at_or_below[b]);
            if s > 0.0 {
                nll -= s * lower[b].ln();
            }
            if f > 0.0 {
                nll -= f * upper[b].ln();
            }
        }
        let value = nll + 0.5 * self.lambda * quad(self.omega, &beta, self.beta0);
        ThresholdState {
            beta,
            eta,
            lower,
            upper,
            value,
        }
    }
}

/// Penalised probit regression of one threshold by Fisher scoring with step halving.
fn fit_threshold(problem: &Threshold<'_>, start: Vec<f64>) -> Vec<f64> {
    let p = problem.beta0.len();
    let mut current = problem.state(start);
    let (mut info, mut grad) = (vec![0.0; p * p], vec![0.0; p]);
    for _ in 0..30 {
        info.iter_mut().for_each(|v| *v = 0.0);
        grad.iter_mut().for_each(|v| *v = 0.0);
        for (b, basis) in problem.bases.iter().enumerate() {
            let n = problem.cells.totals[b];
            if n <= 0.0 {
                continue;
            }
            let (eta, lower, upper) = (current.eta[b], current.lower[b], current.upper[b]);
            let phi = (-0.5 * eta * eta).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let s = problem.at_or_below[b];
            // ∂(−ℓ)/∂η = −s·φ/Φ(η) + (n − s)·φ/Φ(−η); expected information n·φ²/(Φ(η)Φ(−η)).
            let score = -s * phi / lower.max(1e-300) + (n - s) * phi / upper.max(1e-300);
            let w = n * phi * phi / (lower * upper).max(1e-300);
            for j in 0..p {
                grad[j] += score * basis[j];
                for k in 0..=j {
                    info[j * p + k] += w * basis[j] * basis[k];
                }
            }
        }
        // The penalty's gradient and curvature; a tiny ridge keeps λ = 0 solvable.
        for j in 0..p {
            for k in 0..p {
                grad[j] += problem.lambda * problem.omega[j * p + k] * (current.beta[k] - problem.beta0[k]);
                if k <= j {
                    info[j * p + k] += problem.lambda.max(1e-6) * problem.omega[j * p + k];
                }
            }
        }
        let mut step = grad.clone();
        if solve_spd(&mut info, &mut step, p).is_none() {
            break;
        }
        let mut t = 1.0;
        let mut moved = false;
        for _ in 0..30 {
            let trial = problem.state(current.beta.iter().zip(&step).map(|(b, s)| b - t * s).collect());
            if trial.value <= current.value {
                let change = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
                moved = current.value - trial.value > 1e-12 * current.value.abs().max(1.0) && change > 1e-9;
                current = trial;
                break;
            }
            t *= 0.5;
        }
        if !moved {
            break;
        }
    }
    current.beta
}

/// (β − β⁰)ᵀ·Ω·(β − β⁰).
fn quad(omega: &[f64], beta: &[f64], beta0: &[f64]) -> f64 {
    let p = beta.len();
    let d: Vec<f64> = beta.iter().zip(beta0).map(|(a, b)| a - b).collect();
    (0..p)
        .map(|j| (0..p).map(|k| d[j] * omega[j * p + k] * d[k]).sum::<f64>())
        .sum()
}
