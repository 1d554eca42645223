//! Thresholds (`thresholds.toml`) and the classification of a domain's index on its
//! confidence interval: clear strength (lower bound ≥ 110), possible strength (index ≥ 110
//! but the interval crosses the cut), area to support (upper bound < 90), needs a closer
//! look (upper bound < 80); relative strength from the profile analysis (significant
//! against the child's own mean and base rate ≤ 10 %); and the flat profile. Cuts are data;
//! sources are in the file.

use serde::{Deserialize, Serialize};

use super::GuidanceError;
use super::parse::{error, toml_file};
use crate::ci::{ConfidenceInterval, ConfidenceLevel};

const FILE: &str = "thresholds.toml";

/// How a domain stands, as far as one rule says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StandingKind {
    /// The whole interval at or above the strength cut.
    ClearStrength,
    /// The index reaches the cut but its interval crosses it.
    PossibleStrength,
    /// A subtest of the domain significantly above the child's own mean and uncommon.
    RelativeStrength,
    /// The whole interval below the support cut.
    Support,
    /// The whole interval below the closer-look cut.
    CloserLook,
}

impl StandingKind {
    /// Whether this is one of the strengths.
    pub fn is_strength(self) -> bool {
        matches!(
            self,
            Self::ClearStrength | Self::PossibleStrength | Self::RelativeStrength
        )
    }

    /// The rule id used in traces, e.g. `thresholds.clear_strength`.
    pub fn rule(self) -> &'static str {
        match self {
            Self::ClearStrength => "thresholds.clear_strength",
            Self::PossibleStrength => "thresholds.possible_strength",
            Self::RelativeStrength => "thresholds.relative_strength",
            Self::Support => "thresholds.support",
            Self::CloserLook => "thresholds.closer_look",
        }
    }

    /// The code used in message keys, e.g. `clear-strength`.
    pub fn code(self) -> &'static str {
        match self {
            Self::ClearStrength => "clear-strength",
            Self::PossibleStrength => "possible-strength",
            Self::RelativeStrength => "relative-strength",
            Self::Support => "support",
            Self::CloserLook => "closer-look",
        }
    }
}

/// `[clear_strength]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearStrength {
    /// Lowest interval lower bound of a clear strength.
    pub ci_low_min: i32,
}

/// `[possible_strength]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PossibleStrength {
    /// Lowest index score of a possible strength.
    pub index_min: i32,
}

/// `[relative_strength]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelativeStrength {
    /// Largest α (0.05 or 0.15) at which the subtest must be significant.
    pub alpha: f64,
    /// Largest base rate (per cent of the norm sample) of an uncommon difference.
    pub base_rate_max_percent: f64,
}

/// `[support]` and `[closer_look]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BelowCut {
    /// The interval's upper bound must be below this.
    pub ci_high_max_below: i32,
}

/// `[flat]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flat {
    /// Largest α of a subtest difference that breaks flatness.
    pub alpha: f64,
    /// An interval wholly below this (upper bound < low) breaks flatness.
    pub low: i32,
    /// An interval wholly at or above this (lower bound ≥ high) breaks flatness.
    pub high: i32,
}

/// `[report]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportLimits {
    /// Most activities listed per domain.
    pub max_activities_per_domain: usize,
    /// Re-assessment after at least this many months …
    pub reassess_months_min: u32,
    /// … and at most this many.
    pub reassess_months_max: u32,
}

/// `thresholds.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    /// Level of the intervals the thresholds apply to.
    pub ci_level: ConfidenceLevel,
    /// Clear strength.
    pub clear_strength: ClearStrength,
    /// Possible strength.
    pub possible_strength: PossibleStrength,
    /// Relative strength.
    pub relative_strength: RelativeStrength,
    /// Area to support.
    pub support: BelowCut,
    /// Needs a closer look.
    pub closer_look: BelowCut,
    /// Flat profile.
    pub flat: Flat,
    /// Report limits.
    pub report: ReportLimits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    ci_level: u8,
    clear_strength: ClearStrength,
    possible_strength: PossibleStrength,
    relative_strength: RelativeStrength,
    support: BelowCut,
    closer_look: BelowCut,
    flat: Flat,
    report: ReportLimits,
}

/// The level with this percentage, or an error for `field` of `file`.
pub(super) fn level(file: &'static str, field: &str, percent: u8) -> Result<ConfidenceLevel, GuidanceError> {
    ConfidenceLevel::ALL
        .into_iter()
        .find(|l| l.percent() == percent)
        .ok_or_else(|| error(file, None, field, format!("{percent} is not 68, 90, 95 or 99")))
}

fn check_alpha(field: &str, alpha: f64) -> Result<(), GuidanceError> {
    if alpha == 0.05 || alpha == 0.15 {
        Ok(())
    } else {
        Err(error(
            FILE,
            None,
            field,
            format!("{alpha} is not 0.05 or 0.15 (the levels of profile analysis)"),
        ))
    }
}

pub(super) fn parse(text: &str) -> Result<Thresholds, GuidanceError> {
    let raw: RawThresholds = toml_file(FILE, text)?;
    check_alpha("relative_strength.alpha", raw.relative_strength.alpha)?;
    check_alpha("flat.alpha", raw.flat.alpha)?;
    if !(0.0..=100.0).contains(&raw.relative_strength.base_rate_max_percent) {
        return Err(error(
            FILE,
            None,
            "relative_strength.base_rate_max_percent",
            "not within 0–100",
        ));
    }
    if raw.closer_look.ci_high_max_below > raw.support.ci_high_max_below {
        return Err(error(
            FILE,
            None,
            "closer_look.ci_high_max_below",
            "above the support cut",
        ));
    }
    if raw.flat.low >= raw.flat.high {
        return Err(error(FILE, None, "flat.low", "not below flat.high"));
    }
    let r = &raw.report;
    if r.max_activities_per_domain == 0 || r.reassess_months_min > r.reassess_months_max {
        return Err(error(
            FILE,
            None,
            "report",
            "no activities, or re-assessment months out of order",
        ));
    }
    Ok(Thresholds {
        ci_level: level(FILE, "ci_level", raw.ci_level)?,
        clear_strength: raw.clear_strength,
        possible_strength: raw.possible_strength,
        relative_strength: raw.relative_strength,
        support: raw.support,
        closer_look: raw.closer_look,
        flat: raw.flat,
        report: raw.report,
    })
}

impl Thresholds {
    /// The standing of an index score from its interval alone (relative strength comes from
    /// the profile analysis, see [`Thresholds::is_relative_strength`]): clear strength when
    /// the lower bound reaches the cut; possible strength when the index reaches the cut but
    /// the interval crosses it; needs a closer look when the upper bound is below the
    /// closer-look cut; area to support when it is below the support cut; otherwise none.
    pub fn classify(&self, index: i32, ci: ConfidenceInterval) -> Option<StandingKind> {
        if ci.low >= self.clear_strength.ci_low_min {
            Some(StandingKind::ClearStrength)
        } else if index >= self.possible_strength.index_min {
            Some(StandingKind::PossibleStrength)
        } else if ci.high < self.closer_look.ci_high_max_below {
            Some(StandingKind::CloserLook)
        } else if ci.high < self.support.ci_high_max_below {
            Some(StandingKind::Support)
        } else {
            None
        }
    }

    /// Whether a subtest comparison is a relative strength: a strength against the child's
    /// own mean significant at `alpha` or better, with a base rate at most the cut (a rate
    /// marked "at most" counts: its true rate is lower still). No base rate: not uncommon.
    pub fn is_relative_strength(
        &self,
        significant_at: Option<f64>,
        strength: bool,
        base_rate: Option<f64>,
    ) -> bool {
        strength
            && significant_at.is_some_and(|a| a <= self.relative_strength.alpha)
            && base_rate.is_some_and(|p| p <= self.relative_strength.base_rate_max_percent)
    }

    /// Whether an interval lies wholly outside the flat band.
    pub fn breaks_flatness(&self, ci: ConfidenceInterval) -> bool {
        ci.high < self.flat.low || ci.low >= self.flat.high
    }
}
