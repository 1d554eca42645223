//! The referral rules of the planner and the observed threshold each reduces to.
//!
//! On the index metric (mean 100, SD 15) with reliability r and cut c:
//! - `observed`: referred when the index X ≥ c;
//! - `upper90` / `upper95`: referred when the upper bound of the 90 % / 95 % true-score
//!   interval (norms/SCORING.md "Confidence intervals", here unrounded and unclipped) reaches
//!   the cut: 100 + r·(X − 100) + z·SEE ≥ c with SEE = 15·√(r(1 − r)), z = Φ⁻¹(0.95) resp.
//!   Φ⁻¹(0.975). That is X ≥ c′ = 100 + (c − 100 − z·SEE)/r.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ci::ConfidenceLevel;

/// Mean of the index metric.
pub(super) const MEAN: f64 = 100.0;
/// SD of the index metric.
pub(super) const SD: f64 = 15.0;

/// When a child passes a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// The observed index reaches the cut (the default: the plain reading of a cut).
    #[default]
    Observed,
    /// The upper bound of the 90 % true-score interval reaches the cut.
    Upper90,
    /// The upper bound of the 95 % true-score interval reaches the cut.
    Upper95,
}

impl Rule {
    /// The three rules.
    pub const ALL: [Rule; 3] = [Self::Observed, Self::Upper90, Self::Upper95];

    /// The rule's name: `observed`, `upper90`, `upper95`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Observed => "observed",
            Self::Upper90 => "upper90",
            Self::Upper95 => "upper95",
        }
    }

    /// The interval's critical z (Φ⁻¹(0.95) or Φ⁻¹(0.975)); none for `observed`.
    pub fn z(self) -> Option<f64> {
        match self {
            Self::Observed => None,
            Self::Upper90 => Some(ConfidenceLevel::P90.z()),
            Self::Upper95 => Some(ConfidenceLevel::P95.z()),
        }
    }

    /// The observed index c′ from which a child passes: X ≥ c′ ⇔ the rule refers X at `cut`.
    /// `observed`: c′ = c; upper bound rules: c′ = 100 + (c − 100 − z·15·√(r(1 − r)))/r.
    pub fn threshold(self, reliability: f64, cut: f64) -> f64 {
        match self.z() {
            None => cut,
            Some(z) => {
                let see = SD * (reliability * (1.0 - reliability)).sqrt();
                MEAN + (cut - MEAN - z * see) / reliability
            }
        }
    }

    /// The cut whose threshold is the observed index `x` (the inverse of
    /// [`Rule::threshold`]): x itself for `observed`, the upper bound of x's interval,
    /// 100 + r·(x − 100) + z·SEE, for the upper bound rules.
    pub fn cut_at(self, reliability: f64, x: f64) -> f64 {
        match self.z() {
            None => x,
            Some(z) => {
                let see = SD * (reliability * (1.0 - reliability)).sqrt();
                MEAN + reliability * (x - MEAN) + z * see
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Rule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| format!("'{s}' is not a referral rule (observed, upper90 or upper95)"))
    }
}
