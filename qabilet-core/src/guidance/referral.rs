//! Stage-2 referral (`referral.toml`): referred when the general composite's or any listed
//! domain index's interval (90 %) has its lower bound at or above the cut (120); uncertain
//! when not referred and some listed interval contains the cut (lower < cut ≤ upper); not
//! referred otherwise. Also the expected referral rate of one index under the norms.

use serde::{Deserialize, Serialize};

use super::parse::{error, toml_file};
use super::{DomainRule, GuidanceError};
use crate::battery::Domain;
use crate::ci::{CiMethod, ConfidenceInterval, ConfidenceLevel};
use crate::normal;
use crate::scale::Scale;

const FILE: &str = "referral.toml";

/// The decision of the referral rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralOutcome {
    /// Some interval lies wholly at or above the cut.
    Referred,
    /// None does, but some interval contains the cut.
    Uncertain,
    /// Every interval lies below the cut.
    NotReferred,
}

impl ReferralOutcome {
    /// The code used in message keys.
    pub fn code(self) -> &'static str {
        match self {
            Self::Referred => "referred",
            Self::Uncertain => "uncertain",
            Self::NotReferred => "not-referred",
        }
    }
}

/// `[expected_any]`: rates of the "any listed index" rule in the standardisation sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAny {
    /// Battery whose norms the rates were computed with.
    pub battery: String,
    /// The sample file.
    pub sample: String,
    /// Children scored.
    pub n: u32,
    /// Per cent referred.
    pub referred_percent: f64,
    /// Per cent uncertain.
    pub uncertain_percent: f64,
}

/// `referral.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferralRules {
    /// Level of the intervals.
    pub ci_level: ConfidenceLevel,
    /// The cut on the index scale.
    pub cut: i32,
    /// CHC codes of the composites that count.
    pub chc: Vec<Domain>,
    /// Expected rates of the whole rule.
    pub expected_any: ExpectedAny,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReferral {
    ci_level: u8,
    cut: i32,
    chc: Vec<Domain>,
    expected_any: ExpectedAny,
}

pub(super) fn parse(text: &str, domains: &[DomainRule]) -> Result<ReferralRules, GuidanceError> {
    let raw: RawReferral = toml_file(FILE, text)?;
    if let Some(c) = raw.chc.iter().find(|c| !domains.iter().any(|d| d.chc == **c)) {
        return Err(error(
            FILE,
            None,
            "chc",
            format!("{c:?} is not the CHC code of a domain"),
        ));
    }
    if raw.chc.is_empty() {
        return Err(error(FILE, None, "chc", "no composites count"));
    }
    let e = &raw.expected_any;
    if ![e.referred_percent, e.uncertain_percent]
        .iter()
        .all(|p| (0.0..=100.0).contains(p))
    {
        return Err(error(
            FILE,
            None,
            "expected_any",
            "percentages must lie within 0–100",
        ));
    }
    Ok(ReferralRules {
        ci_level: super::thresholds::level(FILE, "ci_level", raw.ci_level)?,
        cut: raw.cut,
        chc: raw.chc,
        expected_any: raw.expected_any,
    })
}

impl ReferralRules {
    /// The outcome for one interval: referred when `ci.low ≥ cut`, uncertain when
    /// `ci.low < cut ≤ ci.high`, not referred otherwise.
    pub fn outcome(&self, ci: ConfidenceInterval) -> ReferralOutcome {
        if ci.low >= self.cut {
            ReferralOutcome::Referred
        } else if ci.high >= self.cut {
            ReferralOutcome::Uncertain
        } else {
            ReferralOutcome::NotReferred
        }
    }

    /// The outcome over several intervals: the most favourable single outcome.
    pub fn combine(outcomes: impl IntoIterator<Item = ReferralOutcome>) -> ReferralOutcome {
        outcomes
            .into_iter()
            .fold(ReferralOutcome::NotReferred, |acc, o| match (acc, o) {
                (ReferralOutcome::Referred, _) | (_, ReferralOutcome::Referred) => ReferralOutcome::Referred,
                (ReferralOutcome::Uncertain, _) | (_, ReferralOutcome::Uncertain) => {
                    ReferralOutcome::Uncertain
                }
                _ => ReferralOutcome::NotReferred,
            })
    }
}

/// The expected referral rate of a single index under the norms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SingleIndexRate {
    /// The smallest index whose interval's lower bound reaches the cut, if any on the scale.
    pub min_index_referred: Option<i32>,
    /// The smallest index whose interval's upper bound reaches the cut, if any.
    pub min_index_uncertain: Option<i32>,
    /// P(referred), a proportion.
    pub referred: f64,
    /// P(uncertain), a proportion.
    pub uncertain: f64,
}

/// The expected rate at which one index alone is referred or uncertain under the norms'
/// model of that index: the index is normal with the scale's mean and SD, reported as the
/// whole score nearest (clipped to the scale), so P(index ≥ x) = 1 − Φ((x − ½ − M)/SD) for
/// x inside the scale. x* is the smallest index whose interval (at `level` by `method`,
/// reliability `reliability`, as [`ConfidenceInterval::new`]) has lower bound ≥ `cut`;
/// P(referred) = P(index ≥ x*), and P(uncertain) = P(x_u ≤ index < x*) with x_u the smallest
/// index whose upper bound is ≥ `cut`. Interval bounds never fall as the index rises, so
/// these sets are upper tails. Checked against scipy in `tests/reference/referral_rate.csv`.
pub fn expected_single_index_rate(
    scale: &Scale,
    reliability: f64,
    level: ConfidenceLevel,
    method: CiMethod,
    cut: i32,
) -> SingleIndexRate {
    let first = |ok: &dyn Fn(ConfidenceInterval) -> bool| {
        (scale.min..=scale.max).find(|&x| ok(ConfidenceInterval::new(scale, x, reliability, level, method)))
    };
    let tail = |x: Option<i32>| match x {
        None => 0.0,
        Some(x) if x <= scale.min => 1.0,
        Some(x) => 1.0 - normal::cdf((f64::from(x) - 0.5 - scale.mean) / scale.sd),
    };
    let min_index_referred = first(&|ci| ci.low >= cut);
    let min_index_uncertain = first(&|ci| ci.high >= cut);
    let referred = tail(min_index_referred);
    SingleIndexRate {
        min_index_referred,
        min_index_uncertain,
        referred,
        uncertain: tail(min_index_uncertain) - referred,
    }
}
