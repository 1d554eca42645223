//! IRT true-score equating: the expected raw score of a whole form at θ (the test
//! characteristic curve, TCC) and the raw score it equates an ability estimate to.
//!
//! τ(θ) = Σ_i E[X_i | θ] = Σ_i Σ_k k·P_ik(θ) over every item of the bank, whether it was
//! administered or not. The raw-score equivalent of θ̂ is τ(θ̂) rounded half away from zero
//! and clipped to 0 … raw max: the number-correct score on the full form that an examinee of
//! ability θ̂ is expected to earn (Lord 1980, *Applications of item response theory to
//! practical testing problems*, ch. 13; Kolen & Brennan 2014, *Test equating, scaling, and
//! linking*, 3rd ed., ch. 6, "IRT true score equating"). τ is strictly increasing in θ for
//! every model of norms/IRT.md (a > 0), so the equivalent never falls as θ̂ rises.

use super::bank::ItemBank;
use super::model::{self, CategoryCurve};
use crate::scale::round_half_away;

/// τ(θ): the expected raw score over all the bank's items at θ.
pub fn expected_score(bank: &ItemBank, theta: f64) -> f64 {
    let (mut stack, mut heap) = ([CategoryCurve::default(); 16], Vec::new());
    bank.items
        .iter()
        .map(|item| {
            let curves = model::curve_buffer(item.model.max_category(), &mut stack, &mut heap);
            item.model.curves(theta, curves);
            curves
                .iter()
                .enumerate()
                .map(|(k, c)| k as f64 * c.p)
                .sum::<f64>()
        })
        .sum()
}

/// The raw-score equivalent of θ: τ(θ) rounded half away from zero, clipped to
/// 0 … `raw_max`.
pub fn raw_equivalent(bank: &ItemBank, theta: f64, raw_max: u16) -> u16 {
    let tau = round_half_away(expected_score(bank, theta));
    tau.clamp(0.0, f64::from(raw_max)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(json: &str) -> ItemBank {
        ItemBank::from_json(json).unwrap()
    }

    #[test]
    fn one_rasch_item_is_its_probability() {
        let b = bank(r#"{"items":[{"id":"i","model":"rasch","b":0.5}]}"#);
        let p = 1.0 / (1.0 + (-(1.2_f64 - 0.5)).exp());
        assert!((expected_score(&b, 1.2) - p).abs() < 1e-15);
    }

    #[test]
    fn a_partial_credit_item_counts_its_categories() {
        // GPCM with a = 1, steps 0 and 0, at θ = 0: P ∝ 1, 1, 1, so E[X] = 1.
        let b = bank(r#"{"items":[{"id":"p","model":"gpcm","a":1.0,"b":[0.0,0.0]}]}"#);
        assert!((expected_score(&b, 0.0) - 1.0).abs() < 1e-12);
        assert_eq!(raw_equivalent(&b, 40.0, 2), 2);
        assert_eq!(raw_equivalent(&b, -40.0, 2), 0);
    }
}
