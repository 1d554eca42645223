//! A child's scored profile as an owned value that outlives the norm set: the dates, the raw
//! scores, the norm set's identity and every score of [`super::Profile`], with the θ̂ and SE
//! behind the raw score of a subtest given adaptively. Its JSON is the object `qabilet score
//! --format json` writes for a scored row (README, Tour 1; each field's rule in
//! norms/SCORING.md), which the consultation report reads back ([`ScoredProfile::from_json`]).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::{CompositeScore, Discrepancy, Profile, ScoringOptions, StrengthsWeaknesses, SubtestScore};
use crate::age::{ChronologicalAge, Date, iso_date};
use crate::cat::StopReason;
use crate::irt::Estimator;
use crate::norms::NormSetId;
use crate::request::ScoreRequest;

/// A record that is not a scored profile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// Not the JSON of a scored profile (a field missing or of the wrong form).
    #[error("scored record: {0}")]
    Json(String),
    /// The row was not scored: `qabilet score` wrote its reason in `error`.
    #[error("scored record: the row was not scored: {0}")]
    NotScored(String),
}

/// Raw scores by subtest id, in the order given: the input's column order for `qabilet
/// score`, battery order for a session. `None` is a subtest listed but not administered. In
/// JSON an object, `{"sim": 20, "voc": null}`, whose order is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawScores(pub Vec<(String, Option<u16>)>);

impl RawScores {
    /// The raw score of `subtest`, if it was administered.
    pub fn get(&self, subtest: &str) -> Option<u16> {
        self.0
            .iter()
            .find(|(id, _)| id == subtest)
            .and_then(|(_, raw)| *raw)
    }
}

impl Serialize for RawScores {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (id, raw) in &self.0 {
            map.serialize_entry(id, raw)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for RawScores {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = RawScores;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of raw scores by subtest id")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawScores, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Option<u16>>()? {
                    out.push(entry);
                }
                Ok(RawScores(out))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// The adaptive part of a subtest's score: θ̂ and its SE after the responses given, from
/// which its raw score is the raw-score equivalent on the full form (IRT true-score
/// equating; `crate::administration` states the rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveScore {
    /// Subtest id.
    pub subtest: String,
    /// θ̂ on the bank's logistic metric, by `estimator`.
    pub theta: f64,
    /// Its standard error.
    pub se: f64,
    /// The estimator of θ̂.
    pub estimator: Estimator,
    /// Items given.
    pub items_administered: usize,
    /// Items of the full form (the bank).
    pub bank_items: usize,
    /// Why the adaptive test ended; `None` while it had not.
    pub stop: Option<StopReason>,
}

impl AdaptiveScore {
    /// The note a reader of the scores needs: that the subtest was given adaptively, θ̂ and
    /// SE, and that `raw` is the raw-score equivalent of θ̂ on the full form.
    pub fn note(&self, raw: u16) -> String {
        format!(
            "{} was given adaptively ({} of {} items, {}): θ = {:.2}, SE {:.2}; its raw score {raw} is the \
             raw-score equivalent of θ on the full form (IRT true-score equating)",
            self.subtest,
            self.items_administered,
            self.bank_items,
            match self.stop {
                Some(stop) => format!("stopped at {stop}"),
                None => "not finished".to_owned(),
            },
            self.theta,
            self.se,
        )
    }
}

/// One child's scored profile, owned. Built from a [`Profile`] with
/// [`ScoredProfile::new`]; its JSON (serde) is the object `qabilet score --format json`
/// writes for a scored row, fields in that order, without the row's `error` field (the
/// writer of a row adds it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredProfile {
    /// Record id (pseudonymous): the input row's id, or the session's name.
    pub id: String,
    /// Date of birth.
    #[serde(with = "iso_date")]
    pub birth_date: Date,
    /// Date of testing.
    #[serde(with = "iso_date")]
    pub test_date: Date,
    /// Raw scores by subtest id.
    pub raw: RawScores,
    /// The notice every output of these norms carries (demonstration norms), if any.
    pub notice: Option<String>,
    /// Battery, version and norm-set hash the scores were computed with.
    pub norm_set: NormSetId,
    /// Calendar-exact age on the test date.
    pub age: ChronologicalAge,
    /// Options the scores were computed with.
    pub options: ScoringOptions,
    /// Administered subtests, in battery order.
    pub subtests: Vec<SubtestScore>,
    /// Every composite, in battery order, computed or with the reason it is not.
    pub composites: Vec<CompositeScore>,
    /// Strengths and weaknesses, when enough core subtests were administered.
    pub strengths_weaknesses: Option<StrengthsWeaknesses>,
    /// Pairwise discrepancies of the computed index composites.
    pub discrepancies: Vec<Discrepancy>,
    /// The subtests given adaptively, in battery order (not in the JSON when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adaptive: Vec<AdaptiveScore>,
}

/// The `error` field of a row, read before the rest.
#[derive(Deserialize)]
struct RowStatus {
    #[serde(default)]
    error: Option<String>,
}

impl ScoredProfile {
    /// The owned form of `profile`, scored from `request`, under record id `id`. The raw
    /// scores are those of the administered subtests, in battery order.
    pub fn new(id: impl Into<String>, request: &ScoreRequest, profile: &Profile<'_>) -> Self {
        ScoredProfile {
            id: id.into(),
            birth_date: request.birth,
            test_date: request.test,
            raw: RawScores(
                profile
                    .subtests
                    .iter()
                    .map(|s| (s.id.to_owned(), Some(s.raw)))
                    .collect(),
            ),
            notice: profile.norm_set.notice.clone(),
            norm_set: profile.norm_set.clone(),
            age: profile.age,
            options: profile.options,
            subtests: profile.subtests.iter().map(SubtestScore::from).collect(),
            composites: profile.composites.iter().map(CompositeScore::from).collect(),
            strengths_weaknesses: profile
                .strengths_weaknesses
                .as_ref()
                .map(StrengthsWeaknesses::from),
            discrepancies: profile.discrepancies.iter().map(Discrepancy::from).collect(),
            adaptive: Vec::new(),
        }
    }

    /// Reads one row of `qabilet score --format json` (also a session's results as the
    /// service returns them).
    ///
    /// # Errors
    /// [`RecordError::NotScored`] for a row whose `error` is set, [`RecordError::Json`] for
    /// any other JSON.
    pub fn from_json(text: &str) -> Result<Self, RecordError> {
        let json = |e: serde_json::Error| RecordError::Json(e.to_string());
        if let Some(reason) = serde_json::from_str::<RowStatus>(text).map_err(json)?.error {
            return Err(RecordError::NotScored(reason));
        }
        serde_json::from_str(text).map_err(json)
    }

    /// The scores of subtest `id`, if it was administered.
    pub fn subtest(&self, id: &str) -> Option<&SubtestScore> {
        self.subtests.iter().find(|s| s.id == id)
    }

    /// The notes a reader of the scores needs: one per subtest given adaptively
    /// ([`AdaptiveScore::note`]).
    pub fn notes(&self) -> Vec<String> {
        self.adaptive
            .iter()
            .map(|a| a.note(self.subtest(&a.subtest).map_or(0, |s| s.raw)))
            .collect()
    }
}
