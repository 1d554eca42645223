//! Confidence intervals for normed scores: the true-score method (default) and the
//! obtained-score method, at 68, 90, 95 or 99 %.
//!
//! True-score (Dudek 1979; the estimated-true-score interval of Wechsler manuals):
//! centre = M + r(X − M), SEE = SD·√(r(1 − r)), CI = centre ± z·SEE.
//! Obtained-score: CI = X ± z·SD·√(1 − r). Bounds are rounded half away from zero, then
//! clipped to the scale.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::normal;
use crate::scale::{Scale, round_half_away};

/// The coverage of a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ConfidenceLevel {
    /// 68 %.
    #[serde(rename = "68")]
    P68,
    /// 90 %.
    #[serde(rename = "90")]
    P90,
    /// 95 % (the default).
    #[default]
    #[serde(rename = "95")]
    P95,
    /// 99 %.
    #[serde(rename = "99")]
    P99,
}

impl ConfidenceLevel {
    /// All levels, narrowest first.
    pub const ALL: [ConfidenceLevel; 4] = [Self::P68, Self::P90, Self::P95, Self::P99];

    /// The coverage in percent.
    pub fn percent(self) -> u8 {
        match self {
            Self::P68 => 68,
            Self::P90 => 90,
            Self::P95 => 95,
            Self::P99 => 99,
        }
    }

    /// The exact two-sided normal quantile Φ⁻¹(1 − (1 − L)/2), e.g. 1.959963984540054 at 95 %.
    pub fn z(self) -> f64 {
        normal::two_sided_z(1.0 - f64::from(self.percent()) / 100.0)
    }
}

impl fmt::Display for ConfidenceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.percent())
    }
}

impl FromStr for ConfidenceLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.percent().to_string() == s.trim_end_matches('%'))
            .ok_or_else(|| format!("'{s}' is not a confidence level (68, 90, 95 or 99)"))
    }
}

/// How an interval is centred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiMethod {
    /// Centred on the estimated true score, width from the standard error of estimation.
    #[default]
    TrueScore,
    /// Centred on the obtained score, width from the standard error of measurement.
    Obtained,
}

impl fmt::Display for CiMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TrueScore => "true-score",
            Self::Obtained => "obtained",
        })
    }
}

impl FromStr for CiMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "true-score" => Ok(Self::TrueScore),
            "obtained" => Ok(Self::Obtained),
            _ => Err(format!("'{s}' is not a CI method (true-score or obtained)")),
        }
    }
}

/// A confidence interval in whole scores on the score's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Lower bound.
    pub low: i32,
    /// Upper bound.
    pub high: i32,
}

/// A reliability coefficient with the square roots that intervals and SEMs need, computed
/// once when norms load rather than for every score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Precision {
    /// Reliability r.
    pub r: f64,
    /// √(1 − r): the SEM in SD units.
    pub sqrt_error: f64,
    /// √(r(1 − r)): the standard error of estimation in SD units.
    pub sqrt_estimation: f64,
}

impl Precision {
    /// Precomputes the roots of reliability `r`.
    pub fn new(r: f64) -> Self {
        Precision {
            r,
            sqrt_error: (1.0 - r).sqrt(),
            sqrt_estimation: (r * (1.0 - r)).sqrt(),
        }
    }

    /// Standard error of measurement on `scale`: SD·√(1 − r).
    pub fn sem(&self, scale: &Scale) -> f64 {
        scale.sd * self.sqrt_error
    }
}

/// The unrounded centre and half-width of an interval around `score`.
pub fn centre_and_half_width(
    scale: &Scale,
    score: f64,
    reliability: f64,
    z: f64,
    method: CiMethod,
) -> (f64, f64) {
    centre_and_half_width_at(scale, score, &Precision::new(reliability), z, method)
}

fn centre_and_half_width_at(
    scale: &Scale,
    score: f64,
    p: &Precision,
    z: f64,
    method: CiMethod,
) -> (f64, f64) {
    match method {
        CiMethod::TrueScore => (
            scale.mean + p.r * (score - scale.mean),
            z * scale.sd * p.sqrt_estimation,
        ),
        CiMethod::Obtained => (score, z * scale.sd * p.sqrt_error),
    }
}

impl ConfidenceInterval {
    /// The interval around `score` on `scale` for a scale of reliability `reliability`.
    ///
    /// ```
    /// use qabilet_core::{ConfidenceInterval, ConfidenceLevel, CiMethod, scale::Scale};
    /// let ci = ConfidenceInterval::new(&Scale::INDEX, 130, 0.9, ConfidenceLevel::P95, CiMethod::TrueScore);
    /// // centre 127, SEE 4.5, ± 8.82
    /// assert_eq!((ci.low, ci.high), (118, 136));
    /// ```
    pub fn new(
        scale: &Scale,
        score: i32,
        reliability: f64,
        level: ConfidenceLevel,
        method: CiMethod,
    ) -> Self {
        Self::with_precision(scale, score, &Precision::new(reliability), level.z(), method)
    }

    /// As [`ConfidenceInterval::new`] with a precomputed critical z and precision.
    pub fn with_precision(
        scale: &Scale,
        score: i32,
        precision: &Precision,
        z: f64,
        method: CiMethod,
    ) -> Self {
        let (centre, half) = centre_and_half_width_at(scale, f64::from(score), precision, z, method);
        ConfidenceInterval {
            low: scale.clip(round_half_away(centre - half)),
            high: scale.clip(round_half_away(centre + half)),
        }
    }
}
