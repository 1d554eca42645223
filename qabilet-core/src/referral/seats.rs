//! Filling a number of stage-2 seats from a cohort's stage-1 scores, and the truly able
//! children the resulting cut is expected to leave out.
//!
//! Children pass from the top score down. Children tied on a score pass or stay out
//! together: the passing set is the largest set of the form {x ≥ s} with at most `seats`
//! children (so a tie across the last seat leaves that seat, and maybe more, empty). Every
//! cut whose threshold c′ lies in (the highest score left out, the lowest score passing]
//! passes exactly these children; [`SeatPlan::cut`] is the rule's cut whose threshold is the
//! lowest passing score (inclusive: the cut a psychologist can state as "the last child in
//! scored s"), and [`SeatPlan::cut_left_out`] the exclusive lower end of those cuts.
//!
//! Expected missed: Σ over children left out of P(truly above t | X = x), with the true score
//! given the observed score from the national population model of norms/REFERRAL.md:
//! T | X = x ~ N(100 + r(x − 100), 15²·r(1 − r)), so P(Z ≥ a | X = x) =
//! Φ((√r·(x − 100)/15 − a)/√(1 − r)). That assumes the cohort's children are drawn from the
//! norm population; a cohort from a selected population (e.g. an invited class) has another
//! prior, and these expectations are then only indicative.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{INDEX_MAX, INDEX_MIN, IndexPoint, ReferralError, Reliability, Rule, rule};
use crate::normal;

/// The seats taken and expected misses in one subgroup.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SubgroupSeats {
    /// Children of the subgroup in the cohort.
    pub children: usize,
    /// Of them, passing.
    pub passing: usize,
    /// Expected number of truly able children among those left out.
    pub expected_missed: f64,
}

/// The cut that fills the seats and what it leaves out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeatPlan<G: Ord> {
    /// Children passing (≤ the seats).
    pub passing: usize,
    /// Per child, in the cohort's order: passes or not.
    pub passes: Vec<bool>,
    /// The rule's cut at the lowest passing score; `None` when no child passes.
    pub cut: Option<f64>,
    /// The rule's cut at the highest score left out (cuts above it, up to `cut`, pass the
    /// same children); `None` when every child passes.
    pub cut_left_out: Option<f64>,
    /// The lowest passing stage-1 score.
    pub lowest_passing: Option<f64>,
    /// The highest stage-1 score left out.
    pub highest_left_out: Option<f64>,
    /// Expected number of truly able children left out, over the cohort.
    pub expected_missed: f64,
    /// The same by subgroup.
    pub subgroups: BTreeMap<G, SubgroupSeats>,
}

/// Fills `seats` from `children` (stage-1 index score, subgroup label) under `rule` with the
/// stage-1 `reliability`; "truly able" means truly above `above`.
///
/// ```
/// use qabilet_core::referral::{Field, IndexPoint, Reliability, Rule, fill_seats};
/// let r = Reliability::new(Field::Reliability, 0.8).unwrap();
/// let t = IndexPoint::new(Field::Above, 130.0).unwrap();
/// let cohort = [(131.0, "a"), (128.0, "b"), (128.0, "a"), (120.0, "b")];
/// let plan = fill_seats(Rule::Observed, r, t, 2, &cohort).unwrap();
/// // The two children tied at 128 cannot share the second seat.
/// assert_eq!((plan.passing, plan.cut, plan.cut_left_out), (1, Some(131.0), Some(128.0)));
/// ```
///
/// # Errors
/// [`ReferralError::Score`] for a score outside 40–160 (or not a number).
pub fn fill_seats<G: Ord + Clone>(
    rule: Rule,
    reliability: Reliability,
    above: IndexPoint,
    seats: usize,
    children: &[(f64, G)],
) -> Result<SeatPlan<G>, ReferralError> {
    if let Some((child, &(value, _))) = children
        .iter()
        .enumerate()
        .find(|(_, (x, _))| !(INDEX_MIN..=INDEX_MAX).contains(x))
    {
        return Err(ReferralError::Score { child, value });
    }
    let n = children.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| children[j].0.total_cmp(&children[i].0));
    let score = |rank: usize| children[order[rank]].0;
    let mut passing = seats.min(n);
    while passing > 0 && passing < n && score(passing - 1) == score(passing) {
        passing -= 1;
    }
    let mut passes = vec![false; n];
    for &i in &order[..passing] {
        passes[i] = true;
    }
    let lowest_passing = passing.checked_sub(1).map(score);
    let highest_left_out = (passing < n).then(|| score(passing));

    let r = reliability.get();
    let (loading, error, a) = (r.sqrt(), (1.0 - r).sqrt(), above.standardised());
    let mut subgroups: BTreeMap<G, SubgroupSeats> = BTreeMap::new();
    let mut expected_missed = 0.0;
    for ((x, group), &passed) in children.iter().zip(&passes) {
        let entry = subgroups.entry(group.clone()).or_default();
        entry.children += 1;
        if passed {
            entry.passing += 1;
        } else {
            let y = (x - rule::MEAN) / rule::SD;
            let able = normal::cdf((loading * y - a) / error);
            entry.expected_missed += able;
            expected_missed += able;
        }
    }
    Ok(SeatPlan {
        passing,
        passes,
        cut: lowest_passing.map(|x| rule.cut_at(r, x)),
        cut_left_out: highest_left_out.map(|x| rule.cut_at(r, x)),
        lowest_passing,
        highest_left_out,
        expected_missed,
        subgroups,
    })
}
