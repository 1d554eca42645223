//! Strengths and weaknesses: each administered core subtest against the mean of the child's
//! administered core subtests, with critical values from Davis's (1959) formula for the
//! standard error of a difference from a mean:
//! SE(Dᵢ) = √((1 − 2/k)·SEMᵢ² + (1/k²)·Σⱼ SEMⱼ²), SEMⱼ = SD·√(1 − rⱼ),
//! at α = .05 and .15, Bonferroni-corrected (α/k) where the battery says so.

use serde::{Deserialize, Serialize};

use super::{CriticalValues, Significance, significance};
use crate::norms::{BaseRate, Comparison, NormSet};

/// Above or below the child's own mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Significantly above the mean.
    Strength,
    /// Significantly below the mean.
    Weakness,
}

/// One subtest against the mean (`S`, the type of ids, as in [`super::Substituted`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubtestComparison<S = String> {
    /// Subtest id.
    pub id: S,
    /// Its scaled score.
    pub scaled: i32,
    /// Scaled score minus the mean.
    pub difference: f64,
    /// Critical values at α = .05 and .15 (after any correction).
    pub critical: CriticalValues,
    /// Smallest α at which the difference is significant.
    pub significance: Option<Significance>,
    /// Strength or weakness, when significant at .15 or better.
    pub direction: Option<Direction>,
    /// How often a difference this large occurred in the norm sample.
    pub base_rate: Option<BaseRate>,
}

/// The analysis over the administered core subtests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrengthsWeaknesses<S = String> {
    /// Mean scaled score of the administered core subtests.
    pub mean: f64,
    /// How many core subtests the mean is over.
    pub k: usize,
    /// One comparison per administered core subtest, in battery order.
    pub subtests: Vec<SubtestComparison<S>>,
}

impl From<&StrengthsWeaknesses<&str>> for StrengthsWeaknesses {
    fn from(sw: &StrengthsWeaknesses<&str>) -> Self {
        StrengthsWeaknesses {
            mean: sw.mean,
            k: sw.k,
            subtests: sw
                .subtests
                .iter()
                .map(|c| SubtestComparison {
                    id: c.id.to_owned(),
                    scaled: c.scaled,
                    difference: c.difference,
                    critical: c.critical,
                    significance: c.significance,
                    direction: c.direction,
                    base_rate: c.base_rate,
                })
                .collect(),
        }
    }
}

/// Davis's (1959) standard error of a subtest's difference from the mean of k subtests:
/// √((1 − 2/k)·SEMᵢ² + (1/k²)·Σⱼ SEMⱼ²), given SEMᵢ and Σⱼ SEMⱼ² (over all k, i included).
pub fn davis_se(sem_i: f64, sum_sq_sems: f64, k: usize) -> f64 {
    let k = k as f64;
    ((1.0 - 2.0 / k) * sem_i * sem_i + sum_sq_sems / (k * k)).sqrt()
}

pub(super) fn analyse<'n>(
    norms: &'n NormSet,
    age: u16,
    scaled: &[Option<i32>],
    z_by_k: &[[f64; 2]],
    mut subtests: Vec<SubtestComparison<&'n str>>,
) -> Option<StrengthsWeaknesses<&'n str>> {
    subtests.clear();
    let battery = &norms.battery;
    let scale = &battery.scaled_scale;
    let core = || {
        scaled
            .iter()
            .enumerate()
            .filter_map(|(s, v)| v.filter(|_| battery.subtests[s].core).map(|v| (s, v)))
    };
    let k = core().count();
    if k < battery.profile.min_core_subtests {
        return None;
    }
    let mut sum = 0i32;
    let mut sum_sq = 0.0;
    for (s, v) in core() {
        sum += v;
        let sem = norms.reliability.subtest(s, age).sem(scale);
        sum_sq += sem * sem;
    }
    let mean = f64::from(sum) / k as f64;
    let z = z_by_k[k];
    subtests.extend(core().map(|(s, v)| {
        let se = davis_se(norms.reliability.subtest(s, age).sem(scale), sum_sq, k);
        let critical = CriticalValues::new(z, se);
        let difference = f64::from(v) - mean;
        let significance = significance(difference, critical);
        SubtestComparison {
            id: battery.subtests[s].id.as_str(),
            scaled: v,
            difference,
            critical,
            significance,
            direction: significance.map(|_| {
                if difference > 0.0 {
                    Direction::Strength
                } else {
                    Direction::Weakness
                }
            }),
            base_rate: norms
                .base_rates
                .rate(Comparison::SubtestToCoreMean(s), difference),
        }
    }));
    Some(StrengthsWeaknesses { mean, k, subtests })
}
