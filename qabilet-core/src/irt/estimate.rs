//! Ability estimation with standard errors (norms/IRT.md): EAP on a quadrature grid with the
//! items' log-probabilities precomputed once per bank, MAP, MLE, and Warm's (1989) weighted
//! likelihood estimator. Patterns without a finite estimate say so; nothing is clamped.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::bank::ItemBank;
use super::model::{CategoryCurve, ItemModel};
use super::pattern::ResponsePattern;

/// The estimators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// Expected a posteriori (default).
    #[default]
    Eap,
    /// Maximum a posteriori.
    Map,
    /// Maximum likelihood.
    Mle,
    /// Warm's weighted likelihood.
    Wle,
}

impl fmt::Display for Estimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eap => "eap",
            Self::Map => "map",
            Self::Mle => "mle",
            Self::Wle => "wle",
        })
    }
}

impl FromStr for Estimator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "eap" => Ok(Self::Eap),
            "map" => Ok(Self::Map),
            "mle" => Ok(Self::Mle),
            "wle" => Ok(Self::Wle),
            _ => Err(format!("'{s}' is not an estimator (eap, map, mle or wle)")),
        }
    }
}

/// Whether an estimate exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// θ and SE are finite.
    Ok,
    /// The estimator has no finite value for this pattern (e.g. MLE of all-correct answers).
    NotEstimable,
    /// No item was administered.
    NoResponses,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::NotEstimable => "not_estimable",
            Status::NoResponses => "no_responses",
        })
    }
}

/// An ability estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// θ̂, when `status` is `Ok`.
    pub theta: Option<f64>,
    /// Its standard error, when `status` is `Ok`.
    pub se: Option<f64>,
    /// Whether the estimate exists.
    pub status: Status,
}

impl Estimate {
    fn ok(theta: f64, se: f64) -> Self {
        Estimate {
            theta: Some(theta),
            se: Some(se),
            status: Status::Ok,
        }
    }

    fn without(status: Status) -> Self {
        Estimate {
            theta: None,
            se: None,
            status,
        }
    }
}

/// A quadrature grid for EAP with every item's log-probabilities precomputed on it.
#[derive(Debug, Clone)]
///
/// Rasch, 2PL and GPCM items are exponential-family models: ln P_k(θ) = ln P_0(θ) + a·k·θ +
/// (a constant in θ), so a pattern's log-likelihood on these items is Σ ln P_0(θ) plus θ times
/// the weighted score R = Σ a·k, up to a constant that normalising the posterior removes.
/// The grid keeps Σ ln P_0 over all such items precomputed, so a complete pattern costs one
/// multiply-add per node instead of one add per item and node (BENCHMARKS.md). 3PL and GRM
/// items add their category's row.
pub struct EapGrid {
    points: Vec<f64>,
    log_prior: Vec<f64>,
    /// Per item: ln P_k(θ_q) at `offsets[item] + k·Q + q`.
    table: Vec<f64>,
    offsets: Vec<usize>,
    /// Per item: the slope a of ln P_k − ln P_0 per category step, for exponential-family items.
    slope: Vec<Option<f64>>,
    /// ln prior + Σ ln P_0 over every exponential-family item, per node.
    base: Vec<f64>,
    /// When every item is exponential-family: exp(base) per node, and max |base|.
    exp_base: Option<(Vec<f64>, f64)>,
}

impl EapGrid {
    /// `points` equally spaced nodes on [lo, hi] with an N(0, 1) prior (weights φ(θ_q)).
    ///
    /// # Errors
    /// A message when fewer than 2 points are asked for or the range is empty or not finite.
    pub fn new(bank: &ItemBank, points: usize, lo: f64, hi: f64) -> Result<Self, String> {
        if points < 2 || !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(format!(
                "a grid needs at least 2 points on a finite range lo < hi (got {points} on [{lo}, {hi}])"
            ));
        }
        let step = (hi - lo) / (points - 1) as f64;
        let nodes: Vec<f64> = (0..points).map(|q| lo + step * q as f64).collect();
        let log_prior: Vec<f64> = nodes.iter().map(|t| -0.5 * t * t).collect();
        let mut table = Vec::new();
        let mut offsets = Vec::with_capacity(bank.items.len());
        let mut logs = [0.0; 16];
        for item in &bank.items {
            offsets.push(table.len());
            let m = item.model.max_category();
            let start = table.len();
            table.resize(start + (m + 1) * points, 0.0);
            for (q, &theta) in nodes.iter().enumerate() {
                item.model.log_probabilities(theta, &mut logs[..=m]);
                for (k, &lp) in logs[..=m].iter().enumerate() {
                    table[start + k * points + q] = lp;
                }
            }
        }
        let slope: Vec<Option<f64>> = bank
            .items
            .iter()
            .map(|item| match item.model {
                ItemModel::Rasch { .. } | ItemModel::TwoPl { .. } | ItemModel::Gpcm { .. } => {
                    Some(item.model.a())
                }
                ItemModel::ThreePl { .. } | ItemModel::Grm { .. } => None,
            })
            .collect();
        let mut base: Vec<f64> = log_prior.clone();
        for (item, s) in slope.iter().enumerate() {
            if s.is_some() {
                for (b, lp) in base.iter_mut().zip(&table[offsets[item]..offsets[item] + points]) {
                    *b += lp;
                }
            }
        }
        let exp_base = slope.iter().all(Option::is_some).then(|| {
            let bound = base.iter().fold(0.0f64, |m, b| m.max(b.abs()));
            (base.iter().map(|b| b.exp()).collect(), bound)
        });
        Ok(EapGrid {
            points: nodes,
            log_prior,
            table,
            offsets,
            slope,
            base,
            exp_base,
        })
    }

    /// The grid's nodes θ_q, ascending.
    pub fn points(&self) -> &[f64] {
        &self.points
    }

    /// ln of the prior weight at each node, −θ_q²/2 (normalising constants cancel).
    pub fn log_prior(&self) -> &[f64] {
        &self.log_prior
    }

    /// ln P_k(θ_q) of bank item `item`, category `category`, at every node.
    ///
    /// # Panics
    /// If `item` is not a bank position or `category` exceeds the item's highest category.
    pub fn log_probabilities(&self, item: usize, category: usize) -> &[f64] {
        let q = self.points.len();
        let start = self.offsets[item] + category * q;
        let end = self.offsets.get(item + 1).copied().unwrap_or(self.table.len());
        assert!(
            start + q <= end,
            "category {category} is outside item {item}'s range"
        );
        &self.table[start..start + q]
    }

    /// The EAP estimate and posterior SD of `pattern`; `scratch` is reused between calls.
    pub fn estimate(&self, pattern: &ResponsePattern, scratch: &mut EapScratch) -> Estimate {
        let q_count = self.points.len();
        let (rows, linear_given, linear_missing) = (
            &mut scratch.rows,
            &mut scratch.linear_given,
            &mut scratch.linear_missing,
        );
        rows.clear();
        linear_given.clear();
        linear_missing.clear();
        let mut weighted_score = 0.0;
        for (item, response) in pattern.responses().iter().enumerate() {
            match (self.slope[item], response) {
                (Some(a), Some(k)) => {
                    weighted_score += a * f64::from(*k);
                    linear_given.push(self.offsets[item]);
                }
                (Some(_), None) => linear_missing.push(self.offsets[item]),
                (None, Some(k)) => rows.push(self.offsets[item] + usize::from(*k) * q_count),
                (None, None) => {}
            }
        }
        if rows.is_empty() && linear_given.is_empty() {
            return Estimate::without(Status::NoResponses);
        }
        if rows.is_empty()
            && linear_missing.is_empty()
            && let Some(estimate) =
                self.complete_exponential_family(weighted_score, &mut scratch.log_posterior)
        {
            return estimate;
        }
        // Σ ln P_0 over the administered exponential-family items: from the precomputed sum
        // less the missing ones, or from the prior plus the given ones, whichever is shorter.
        let (start, minus): (&[f64], &[usize]) = if linear_missing.len() <= linear_given.len() {
            (&self.base, linear_missing)
        } else {
            rows.extend_from_slice(linear_given);
            (&self.log_prior, &[])
        };
        scratch.log_posterior.clear();
        scratch.log_posterior.extend_from_slice(start);
        // Sum rows block by block, so that each block's running sums stay in registers
        // across all items (measured: BENCHMARKS.md).
        const BLOCK: usize = 8;
        let full = q_count / BLOCK * BLOCK;
        for at in (0..full).step_by(BLOCK) {
            let mut acc = [0.0; BLOCK];
            acc.copy_from_slice(&scratch.log_posterior[at..at + BLOCK]);
            for &row in rows.iter() {
                for (a, v) in acc.iter_mut().zip(&self.table[row + at..row + at + BLOCK]) {
                    *a += v;
                }
            }
            for &row in minus {
                for (a, v) in acc.iter_mut().zip(&self.table[row + at..row + at + BLOCK]) {
                    *a -= v;
                }
            }
            scratch.log_posterior[at..at + BLOCK].copy_from_slice(&acc);
        }
        for q in full..q_count {
            let added: f64 = rows.iter().map(|&row| self.table[row + q]).sum();
            let removed: f64 = minus.iter().map(|&row| self.table[row + q]).sum();
            scratch.log_posterior[q] += added - removed;
        }
        if weighted_score != 0.0 {
            for (lp, theta) in scratch.log_posterior.iter_mut().zip(&self.points) {
                *lp += weighted_score * theta;
            }
        }
        let scratch = &mut scratch.log_posterior;
        let max = scratch.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut total, mut first) = (0.0, 0.0);
        for (w, &theta) in scratch.iter_mut().zip(&self.points) {
            let log_ratio = *w - max;
            // A node below e^−37 (8.5e-17) of the mode's weight is under half an ulp of the
            // total (≥ 1); all such nodes together move θ̂ and its SD by less than 1e-14
            // relative, so their exp() is skipped.
            *w = if log_ratio < -37.0 { 0.0 } else { log_ratio.exp() };
            total += *w;
            first += *w * theta;
        }
        let mean = first / total;
        let var: f64 = scratch
            .iter()
            .zip(&self.points)
            .map(|(w, t)| w * (t - mean) * (t - mean))
            .sum::<f64>()
            / total;
        Estimate::ok(mean, var.sqrt())
    }
}

impl EapGrid {
    /// EAP of a pattern answering every item of an all-exponential-family bank, whose
    /// posterior is exp(base(θ_q))·exp(R·θ_q): the first factor precomputed, the second a
    /// geometric sequence over the equally spaced nodes (exp(R·θ_lo)·exp(R·step)^q). Two
    /// exp() calls per examinee instead of one per node, exact to a few ulps. `None` where
    /// a factor could leave the double range (|ln| > 700), to take the general path.
    fn complete_exponential_family(&self, weighted_score: f64, weights: &mut Vec<f64>) -> Option<Estimate> {
        let (exp_base, base_bound) = self.exp_base.as_ref()?;
        let (lo, hi) = (self.points[0], self.points[self.points.len() - 1]);
        let reach = weighted_score.abs() * lo.abs().max(hi.abs());
        if base_bound + reach > 700.0 {
            return None;
        }
        let step = (hi - lo) / (self.points.len() - 1) as f64;
        let ratio = (weighted_score * step).exp();
        let mut factor = (weighted_score * lo).exp();
        weights.clear();
        let (mut total, mut first) = (0.0, 0.0);
        for (e, &theta) in exp_base.iter().zip(&self.points) {
            let w = e * factor;
            factor *= ratio;
            weights.push(w);
            total += w;
            first += w * theta;
        }
        if !(total > 0.0 && total.is_finite()) {
            return None;
        }
        let mean = first / total;
        let var: f64 = weights
            .iter()
            .zip(&self.points)
            .map(|(w, t)| w * (t - mean) * (t - mean))
            .sum::<f64>()
            / total;
        Some(Estimate::ok(mean, var.sqrt()))
    }
}

/// Buffers [`EapGrid::estimate`] reuses from one pattern to the next.
#[derive(Debug, Clone, Default)]
pub struct EapScratch {
    log_posterior: Vec<f64>,
    rows: Vec<usize>,
    linear_given: Vec<usize>,
    linear_missing: Vec<usize>,
}

/// log L, its derivative (the score), test information and Warm's J at one θ.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    log_lik: f64,
    score: f64,
    info: f64,
    j: f64,
}

fn sums(bank: &ItemBank, pattern: &ResponsePattern, theta: f64) -> Sums {
    let mut curves = [CategoryCurve::default(); 16];
    let mut s = Sums::default();
    for (item, k) in pattern.administered() {
        let model = &bank.items[item].model;
        let m = model.max_category();
        model.curves(theta, &mut curves[..=m]);
        let observed = curves[k];
        s.log_lik += observed.p.ln();
        s.score += observed.dp / observed.p;
        for c in &curves[..=m] {
            if c.p > 0.0 {
                s.info += c.dp * c.dp / c.p;
                s.j += c.dp * c.d2p / c.p;
            }
        }
    }
    s
}

/// Test information Σ_items Σ_k P_k′²/P_k at θ over the administered items of `pattern`.
pub fn test_information(bank: &ItemBank, pattern: &ResponsePattern, theta: f64) -> f64 {
    sums(bank, pattern, theta).info
}

/// The function whose root the estimator's θ̂ is: the score ∂log L/∂θ (MLE), the score
/// minus θ (MAP, N(0, 1) prior), or the score plus J/(2I) (WLE, Warm 1989). For EAP, the
/// score (EAP solves no equation; the value is given for diagnostics).
pub fn estimating_equation(
    bank: &ItemBank,
    pattern: &ResponsePattern,
    estimator: Estimator,
    theta: f64,
) -> f64 {
    let s = sums(bank, pattern, theta);
    match estimator {
        Estimator::Mle | Estimator::Eap => s.score,
        Estimator::Map => s.score - theta,
        Estimator::Wle => s.score + s.j / (2.0 * s.info),
    }
}

/// Search range and grid of the point estimators (norms/IRT.md).
const LIMIT: f64 = 20.0;
const SCAN_STEP: f64 = 0.25;

/// MAP, MLE or WLE of `pattern` (EAP is [`EapGrid::estimate`]).
pub fn point_estimate(bank: &ItemBank, pattern: &ResponsePattern, estimator: Estimator) -> Estimate {
    let administered: Vec<(usize, usize)> = pattern.administered().collect();
    if administered.is_empty() {
        return Estimate::without(Status::NoResponses);
    }
    let all_min = administered.iter().all(|&(_, k)| k == 0);
    let all_max = administered
        .iter()
        .all(|&(i, k)| k == bank.items[i].model.max_category());
    let grid: Vec<f64> = (0..=((2.0 * LIMIT / SCAN_STEP) as usize))
        .map(|n| -LIMIT + SCAN_STEP * n as f64)
        .collect();
    match estimator {
        Estimator::Mle => {
            if all_min || all_max {
                return Estimate::without(Status::NotEstimable);
            }
            let Some(theta) = maximise(bank, pattern, &grid, |s, _| s.log_lik, |s, _| s.score) else {
                return Estimate::without(Status::NotEstimable);
            };
            finish(theta, sums(bank, pattern, theta).info)
        }
        Estimator::Map => {
            // log L + log φ; the prior makes the posterior vanish towards ±20, so the mode is
            // interior for every pattern.
            let log_posterior = |s: &Sums, t: f64| s.log_lik - 0.5 * t * t;
            match maximise(bank, pattern, &grid, log_posterior, |s, t| s.score - t) {
                Some(theta) => finish(theta, sums(bank, pattern, theta).info + 1.0),
                None => Estimate::without(Status::NotEstimable),
            }
        }
        Estimator::Wle => {
            let f = |s: &Sums| s.score + s.j / (2.0 * s.info);
            // Roots where f falls through zero. Among several (3PL), the WLE is the one where
            // the antiderivative of f — the weighted log-likelihood — is highest: the integral
            // of f between consecutive roots (composite Simpson) says which.
            let values: Vec<(f64, f64)> = grid.iter().map(|&t| (t, f(&sums(bank, pattern, t)))).collect();
            let roots: Vec<f64> = values
                .windows(2)
                .filter(|w| w[0].1 > 0.0 && w[1].1 <= 0.0)
                .map(|w| bisect(w[0].0, w[1].0, |t| f(&sums(bank, pattern, t))))
                .collect();
            let mut best: Option<(f64, f64)> = None;
            let mut height = 0.0;
            for (n, &root) in roots.iter().enumerate() {
                if n > 0 {
                    height += simpson(roots[n - 1], root, |t| f(&sums(bank, pattern, t)));
                }
                if best.is_none_or(|(_, b)| height > b) {
                    best = Some((root, height));
                }
            }
            match best {
                Some((theta, _)) => finish(theta, sums(bank, pattern, theta).info),
                None => Estimate::without(Status::NotEstimable),
            }
        }
        Estimator::Eap => unreachable!("EAP is computed on its grid by EapGrid::estimate"),
    }
}

fn finish(theta: f64, information: f64) -> Estimate {
    if information > 0.0 && information.is_finite() {
        Estimate::ok(theta, 1.0 / information.sqrt())
    } else {
        Estimate::without(Status::NotEstimable)
    }
}

/// The interior maximum of `objective` over θ ∈ [−20, 20]: the best grid point, refined by
/// bisection on `derivative` between its neighbours. `None` when the best grid point is an
/// end of the range (the maximum lies at or beyond ±20, or at −∞).
fn maximise(
    bank: &ItemBank,
    pattern: &ResponsePattern,
    grid: &[f64],
    objective: impl Fn(&Sums, f64) -> f64,
    derivative: impl Fn(&Sums, f64) -> f64,
) -> Option<f64> {
    let values: Vec<f64> = grid
        .iter()
        .map(|&t| objective(&sums(bank, pattern, t), t))
        .collect();
    let best = (0..values.len()).fold(0, |b, i| if values[i] > values[b] { i } else { b });
    if best == 0 || best == values.len() - 1 {
        return None;
    }
    let (lo, hi) = (grid[best - 1], grid[best + 1]);
    let d = |t: f64| derivative(&sums(bank, pattern, t), t);
    if d(lo) > 0.0 && d(hi) < 0.0 {
        Some(bisect(lo, hi, d))
    } else {
        Some(grid[best])
    }
}

/// ∫ f over [a, b] by composite Simpson's rule with steps of at most 0.005.
fn simpson(a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
    let n = (((b - a) / 0.005).ceil() as usize).max(2).next_multiple_of(2);
    let h = (b - a) / n as f64;
    let inner: f64 = (1..n)
        .map(|i| f(a + h * i as f64) * if i % 2 == 1 { 4.0 } else { 2.0 })
        .sum();
    (f(a) + inner + f(b)) * h / 3.0
}

/// The root of a function falling through zero on [lo, hi], by bisection to 1e-12.
fn bisect(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    while hi - lo > 1e-12 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}
