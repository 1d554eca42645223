//! One child's scored record as `qabilet score --format json` writes it (one JSON line), the
//! input of a consultation report: the norm set, the age, the scoring options, the
//! composites with index, percentile, interval and reliability, and the strengths and
//! weaknesses of the profile analysis. Fields the report does not use are ignored.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::age::ChronologicalAge;
use crate::ci::ConfidenceInterval;
use crate::profile::{Profile, ScoringOptions};

/// A record that cannot feed a report.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// Not the JSON `qabilet score --format json` writes.
    #[error("scored record: {0}")]
    Json(String),
    /// The age is not `Y:M:D`.
    #[error("scored record: age: {0}")]
    Age(String),
    /// The record was not scored (its `error` field).
    #[error("scored record: the row was not scored: {0}")]
    NotScored(String),
}

/// The norm set a record was scored with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormSetRef {
    /// Battery id.
    pub battery: String,
    /// Battery version.
    pub version: String,
    /// `sha256:<hex>`.
    pub hash: String,
    /// Notice of demonstration norms, if any.
    #[serde(default)]
    pub notice: Option<String>,
}

/// A computed composite's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeScores {
    /// Index score.
    pub index: i32,
    /// Percentile rank from the composite table.
    pub percentile: f64,
    /// Interval at the scoring level.
    pub ci: IntervalBounds,
    /// Reliability at the child's age.
    pub reliability: f64,
    /// Classification band id.
    pub classification: String,
}

/// Interval bounds as written in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalBounds {
    /// Lower bound.
    pub low: i32,
    /// Upper bound.
    pub high: i32,
}

impl From<IntervalBounds> for ConfidenceInterval {
    fn from(b: IntervalBounds) -> Self {
        ConfidenceInterval {
            low: b.low,
            high: b.high,
        }
    }
}

/// One composite, computed or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredComposite {
    /// Composite id.
    pub id: String,
    /// Scores, when computed.
    pub value: Option<CompositeScores>,
}

/// Base rate of a difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaseRateValue {
    /// Per cent of the norm sample with a difference at least as large.
    pub percent: f64,
    /// The difference lies beyond the table: the rate is at most `percent`.
    pub at_most: bool,
}

/// One subtest against the child's own mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubtestDifference {
    /// Subtest id.
    pub id: String,
    /// Scaled score.
    pub scaled: i32,
    /// Scaled score minus the mean.
    pub difference: f64,
    /// Smallest α at which the difference is significant: "0.05", "0.15" or none.
    pub significance: Option<String>,
    /// "strength" or "weakness" when significant.
    pub direction: Option<String>,
    /// Base rate of the difference, where the norm set has one.
    pub base_rate: Option<BaseRateValue>,
}

impl SubtestDifference {
    /// The α at which the difference is significant, as a number.
    pub fn alpha(&self) -> Option<f64> {
        self.significance.as_deref().and_then(|s| s.parse().ok())
    }
}

/// The strengths-and-weaknesses analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileAnalysis {
    /// Mean scaled score of the administered core subtests.
    pub mean: f64,
    /// Number of core subtests in the mean.
    pub k: usize,
    /// One comparison per administered core subtest.
    pub subtests: Vec<SubtestDifference>,
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    id: String,
    norm_set: NormSetRef,
    #[serde(default)]
    notice: Option<String>,
    age: Option<String>,
    options: Option<ScoringOptions>,
    #[serde(default)]
    composites: Vec<ScoredComposite>,
    #[serde(default)]
    strengths_weaknesses: Option<ProfileAnalysis>,
    #[serde(default)]
    error: Option<String>,
}

/// One child's scored record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredRecord {
    /// Record id (pseudonymous).
    pub id: String,
    /// Norm set of the scores.
    pub norm_set: NormSetRef,
    /// Notice of demonstration norms, if any.
    pub notice: Option<String>,
    /// Calendar-exact age on the test date.
    pub age: ChronologicalAge,
    /// Options the scores were computed with (interval level and method).
    pub options: ScoringOptions,
    /// Composites, in battery order.
    pub composites: Vec<ScoredComposite>,
    /// The strengths-and-weaknesses analysis, when there was one.
    pub strengths_weaknesses: Option<ProfileAnalysis>,
}

impl ScoredRecord {
    /// Reads one line of `qabilet score --format json`.
    ///
    /// # Errors
    /// [`RecordError`] when the JSON has another shape, the age is not `Y:M:D`, or the row
    /// carries an error instead of scores.
    pub fn from_json(text: &str) -> Result<Self, RecordError> {
        let raw: RawRecord = serde_json::from_str(text).map_err(|e| RecordError::Json(e.to_string()))?;
        Self::from_raw(raw)
    }

    /// The record of a profile scored in this process, through the same JSON as the CLI
    /// writes (so both paths read the same fields).
    ///
    /// # Errors
    /// As [`ScoredRecord::from_json`] (not expected for a profile of this crate).
    pub fn from_profile(id: &str, profile: &Profile<'_>) -> Result<Self, RecordError> {
        let mut value = serde_json::to_value(profile).map_err(|e| RecordError::Json(e.to_string()))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("id".into(), id.into());
            map.insert("notice".into(), profile.norm_set.notice.clone().into());
        }
        let raw: RawRecord = serde_json::from_value(value).map_err(|e| RecordError::Json(e.to_string()))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawRecord) -> Result<Self, RecordError> {
        if let Some(e) = raw.error {
            return Err(RecordError::NotScored(e));
        }
        let age = raw
            .age
            .ok_or_else(|| RecordError::Age("missing".into()))?
            .parse::<ChronologicalAge>()
            .map_err(RecordError::Age)?;
        Ok(ScoredRecord {
            id: raw.id,
            norm_set: raw.norm_set,
            notice: raw.notice,
            age,
            options: raw
                .options
                .ok_or_else(|| RecordError::Json("missing field `options`".into()))?,
            composites: raw.composites,
            strengths_weaknesses: raw.strengths_weaknesses,
        })
    }
}
