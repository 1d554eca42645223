//! Item-selection criteria: each scores the open candidates at the interim θ̂ and the best
//! (or, for randomesque exposure control, the best few) are kept.
//!
//! - Maximum Fisher information (default): I_i(θ̂) = Σ_k P_ik′(θ̂)²/P_ik(θ̂).
//! - Kullback–Leibler information (Chang & Ying 1996): KL_i(θ̂) = ∫ Σ_k P_ik(θ̂)
//!   ln[P_ik(θ̂)/P_ik(θ)] dθ over θ̂ ± δ, δ = 3/√n with n the number of items given (n = 1
//!   before the first), by Simpson's rule on 10 intervals.
//! - a-stratified (Chang & Ying 1999): items are ranked by discrimination a (ascending,
//!   ties by bank order) and cut into K strata of equal size; item n + 1 of a test of at most
//!   L items comes from stratum ⌊nK/L⌋ (so the test climbs from low-a to high-a strata), and
//!   within it the item whose location b (the mean step or threshold for polytomous items)
//!   is closest to θ̂. A stratum without a candidate passes to the next higher one, then to
//!   the lower ones.
//!
//! Ties go to the lower bank position, so selection is deterministic.

use serde::{Deserialize, Serialize};

use super::CatError;
use super::available::{Availability, ItemSet};
use super::engine::CatEngine;

/// Simpson intervals of the KL integral.
const KL_INTERVALS: usize = 10;

/// The selection criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Selection {
    /// Maximum Fisher information at θ̂.
    #[default]
    Mfi,
    /// Kullback–Leibler information over θ̂ ± 3/√n (Chang & Ying 1996).
    Kl,
    /// a-stratified, b closest to θ̂ (Chang & Ying 1999).
    AStratified {
        /// Number of strata K (1 ≤ K ≤ bank size).
        strata: usize,
    },
}

impl Selection {
    pub(super) fn validate(&self, items: usize) -> Result<(), CatError> {
        match *self {
            Selection::AStratified { strata } if strata == 0 || strata > items => {
                Err(CatError::Strata { strata, items })
            }
            _ => Ok(()),
        }
    }
}

/// Where to look and how many to keep.
pub(super) struct Query<'a> {
    pub available: &'a Availability,
    pub mask: Option<&'a ItemSet>,
    pub theta: f64,
    pub given: usize,
    pub max_items: usize,
    pub keep: usize,
}

/// Fills `out` with up to `q.keep` candidates as (score, item), best first.
pub(super) fn rank(engine: &CatEngine, selection: Selection, q: &Query<'_>, out: &mut Vec<(f64, usize)>) {
    out.clear();
    let keep = q.keep.max(1);
    match selection {
        Selection::Mfi => {
            for item in q.available.iter_masked(q.mask) {
                keep_top(out, keep, engine.information(item, q.theta), item);
            }
        }
        Selection::Kl => {
            let delta = 3.0 / (q.given.max(1) as f64).sqrt();
            for item in q.available.iter_masked(q.mask) {
                keep_top(out, keep, kl_information(engine, item, q.theta, delta), item);
            }
        }
        Selection::AStratified { strata } => {
            let n = engine.bank().items.len();
            let stage = (q.given * strata / q.max_items.max(1)).min(strata - 1);
            let order = (stage..strata).chain((0..stage).rev());
            for stratum in order {
                let (lo, hi) = (stratum * n / strata, (stratum + 1) * n / strata);
                for item in q.available.iter_masked(q.mask) {
                    let r = engine.a_rank(item);
                    if (lo..hi).contains(&r) {
                        let score = -(engine.location(item) - q.theta).abs();
                        keep_top(out, keep, score, item);
                    }
                }
                if !out.is_empty() {
                    break;
                }
            }
        }
    }
}

/// Inserts (score, item) into the best-first list `out` of at most `keep`; an equal score
/// goes after those already there (items arrive in bank order, so the lower position wins).
#[inline]
fn keep_top(out: &mut Vec<(f64, usize)>, keep: usize, score: f64, item: usize) {
    if out.len() == keep && out.last().is_some_and(|&(s, _)| score <= s) {
        return;
    }
    let at = out.iter().position(|&(s, _)| score > s).unwrap_or(out.len());
    out.insert(at, (score, item));
    out.truncate(keep);
}

/// KL_i(θ̂) = ∫_{θ̂−δ}^{θ̂+δ} Σ_k P_k(θ̂) [ln P_k(θ̂) − ln P_k(θ)] dθ (Simpson's rule).
pub(super) fn kl_information(engine: &CatEngine, item: usize, theta: f64, delta: f64) -> f64 {
    let model = &engine.bank().items[item].model;
    let m = model.max_category();
    let (mut at_hat, mut at) = ([0.0; 16], [0.0; 16]);
    model.log_probabilities(theta, &mut at_hat[..=m]);
    let h = 2.0 * delta / KL_INTERVALS as f64;
    let mut total = 0.0;
    for j in 0..=KL_INTERVALS {
        let t = theta - delta + h * j as f64;
        model.log_probabilities(t, &mut at[..=m]);
        let kl: f64 = (0..=m).map(|k| at_hat[k].exp() * (at_hat[k] - at[k])).sum();
        let w = if j == 0 || j == KL_INTERVALS {
            1.0
        } else if j % 2 == 1 {
            4.0
        } else {
            2.0
        };
        total += w * kl;
    }
    total * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_top_orders_and_breaks_ties_by_position() {
        let mut out = Vec::new();
        for (item, score) in [1.0, 3.0, 2.0, 3.0, 0.5].into_iter().enumerate() {
            keep_top(&mut out, 3, score, item);
        }
        assert_eq!(out, vec![(3.0, 1), (3.0, 3), (2.0, 2)]);
        let mut one = Vec::new();
        for (item, score) in [1.0, 3.0, 3.0].into_iter().enumerate() {
            keep_top(&mut one, 1, score, item);
        }
        assert_eq!(one, vec![(3.0, 1)]);
    }
}
