//! One composite of a profile: the member subtests' scaled scores summed — with an allowed
//! substitute standing in for a missing member, or the sum prorated when the battery allows
//! it (never both) — and converted to an index score with interval and classification.

use serde::{Deserialize, Serialize};

use crate::battery::Substitution;
use crate::ci::{CiMethod, ConfidenceInterval};
use crate::norms::NormSet;
use crate::scale::round_half_away;

/// How a composite's sum was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Every member administered.
    Complete,
    /// Missing members prorated: round(sum · k / (k − missing)).
    Prorated,
    /// A supplemental subtest stood in for a missing member.
    Substituted,
}

impl Basis {
    /// The code written to output.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Complete => "complete",
            Basis::Prorated => "prorated",
            Basis::Substituted => "substituted",
        }
    }
}

/// A substitute used in place of a missing member. `S` is the type of ids: `&str` borrowed
/// from the norm set in a [`super::Profile`], `String` in a [`super::ScoredProfile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Substituted<S = String> {
    /// The missing member.
    pub replaced: S,
    /// The subtest that stood in.
    pub with: S,
}

/// The scores of a computed composite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeValue<S = String> {
    /// How the sum was formed.
    pub basis: Basis,
    /// Sum of scaled scores looked up (after proration).
    pub sum: i32,
    /// Index score.
    pub index: i32,
    /// Percentile rank, from the composite table.
    pub percentile: f64,
    /// Confidence interval.
    pub ci: ConfidenceInterval,
    /// Classification band id.
    pub classification: S,
    /// Reliability used, at the child's age.
    pub reliability: f64,
}

/// A composite of the profile, computed or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeScore<S = String> {
    /// Composite id.
    pub id: S,
    /// The scores, when the composite could be computed.
    pub value: Option<CompositeValue<S>>,
    /// Members not administered (prorated or, when `value` is `None`, the reason).
    pub missing: Vec<S>,
    /// Substitutes used.
    pub substituted: Vec<Substituted<S>>,
}

impl From<&CompositeScore<&str>> for CompositeScore {
    fn from(c: &CompositeScore<&str>) -> Self {
        CompositeScore {
            id: c.id.to_owned(),
            value: c.value.as_ref().map(|v| CompositeValue {
                basis: v.basis,
                sum: v.sum,
                index: v.index,
                percentile: v.percentile,
                ci: v.ci,
                classification: v.classification.to_owned(),
                reliability: v.reliability,
            }),
            missing: c.missing.iter().map(|&m| m.to_owned()).collect(),
            substituted: c
                .substituted
                .iter()
                .map(|s| Substituted {
                    replaced: s.replaced.to_owned(),
                    with: s.with.to_owned(),
                })
                .collect(),
        }
    }
}

/// Gives each of `missing` a distinct administered substitute (pushed onto `used`, in the
/// order of `missing`), trying each member's substitutes in the battery's order and
/// backtracking when a choice leaves a later member without one. False when no complete
/// assignment exists.
fn assign_substitutes(
    missing: &[usize],
    substitutions: &[Substitution],
    scaled: &[Option<i32>],
    used: &mut Vec<usize>,
) -> bool {
    let Some((&member, rest)) = missing.split_first() else {
        return true;
    };
    for sub in substitutions.iter().filter(|s| s.replace == member) {
        if scaled[sub.with].is_none() || used.contains(&sub.with) {
            continue;
        }
        used.push(sub.with);
        if assign_substitutes(rest, substitutions, scaled, used) {
            return true;
        }
        used.pop();
    }
    false
}

/// The prorated sum of a composite of `k` subtests with `missing` not administered:
/// round(sum · k / (k − missing)), half away from zero. `missing` must be below `k`.
pub fn prorate(sum: i32, k: usize, missing: usize) -> i32 {
    let k = k as f64;
    round_half_away(f64::from(sum) * k / (k - missing as f64)) as i32
}

pub(super) fn score<'n>(
    norms: &'n NormSet,
    c: usize,
    age: u16,
    scaled: &[Option<i32>],
    ci_z: f64,
    method: CiMethod,
) -> CompositeScore<&'n str> {
    let battery = &norms.battery;
    let composite = &battery.composites[c];
    let ids = |s: usize| battery.subtests[s].id.as_str();
    let mut sum = 0;
    let mut missing_count = 0;
    for &s in &composite.subtests {
        match scaled[s] {
            Some(v) => sum += v,
            None => missing_count += 1,
        }
    }
    let mut result = CompositeScore {
        id: composite.id.as_str(),
        value: None,
        missing: Vec::new(),
        substituted: Vec::new(),
    };
    let mut basis = Basis::Complete;
    if missing_count > 0 {
        let missing: Vec<usize> = composite
            .subtests
            .iter()
            .copied()
            .filter(|&s| scaled[s].is_none())
            .collect();
        // Substitution first: every missing member gets its own administered substitute,
        // within the battery's limit, preferring substitutes in the order listed.
        let mut used: Vec<usize> = Vec::with_capacity(missing.len());
        let all_substituted = missing.len() <= composite.max_substitutions
            && assign_substitutes(&missing, &composite.substitutions, scaled, &mut used);
        let mut sub_sum = sum;
        if all_substituted {
            for (&m, &with) in missing.iter().zip(&used) {
                sub_sum += scaled[with].unwrap_or(0);
                result.substituted.push(Substituted {
                    replaced: ids(m),
                    with: ids(with),
                });
            }
        }
        if all_substituted {
            sum = sub_sum;
            basis = Basis::Substituted;
        } else {
            result.substituted.clear();
            result.missing = missing.iter().map(|&m| ids(m)).collect();
            if missing.len() > composite.max_prorated {
                return result;
            }
            sum = prorate(sum, composite.subtests.len(), missing.len());
            basis = Basis::Prorated;
        }
    }
    let (index, percentile) = norms.composites.lookup(c, sum);
    let precision = norms.reliability.composite(c, age);
    result.value = Some(CompositeValue {
        basis,
        sum,
        index,
        percentile,
        ci: ConfidenceInterval::with_precision(&battery.index_scale, index, precision, ci_z, method),
        classification: battery.classification.band_of(index).id.as_str(),
        reliability: precision.r,
    });
    result
}
