//! The optional interest questionnaire (`interests.toml`) and a child's answers: liking for
//! each world of work rated 1–5 by a parent or the child, blended with abilities only from
//! age 10 (at younger ages ignored, and the report says so). Interests reorder career
//! clusters that already have an ability basis; they never add one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::parse::{error, toml_file};
use super::{AgeGates, GuidanceError};

const FILE: &str = "interests.toml";

/// `interests.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterestRules {
    /// Youngest whole year of age at which interests are blended.
    pub age_min_years: u16,
    /// Lowest rating.
    pub rating_min: u8,
    /// Highest rating.
    pub rating_max: u8,
    /// Weight of the ability fit.
    pub ability_weight: f64,
    /// Weight of the interest fit.
    pub interest_weight: f64,
    /// The worlds rated.
    pub worlds: Vec<String>,
}

pub(super) fn parse(text: &str, gates: &AgeGates) -> Result<InterestRules, GuidanceError> {
    let rules: InterestRules = toml_file(FILE, text)?;
    if rules.rating_min >= rules.rating_max {
        return Err(error(FILE, None, "rating_max", "not above rating_min"));
    }
    let w = rules.ability_weight + rules.interest_weight;
    if rules.ability_weight < 0.0 || rules.interest_weight < 0.0 || (w - 1.0).abs() > 1e-9 {
        return Err(error(
            FILE,
            None,
            "interest_weight",
            "weights must be non-negative and sum to 1",
        ));
    }
    let mut expected: Vec<&str> = gates.worlds.iter().map(|w| w.key.as_str()).collect();
    let mut got: Vec<&str> = rules.worlds.iter().map(String::as_str).collect();
    expected.sort_unstable();
    got.sort_unstable();
    if expected != got {
        return Err(error(
            FILE,
            None,
            "worlds",
            "must be exactly the worlds of age_gates.toml",
        ));
    }
    Ok(rules)
}

/// Who answered the questionnaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Respondent {
    /// A parent or carer.
    Parent,
    /// The child.
    Child,
}

/// A child's interest ratings, e.g.
/// `{"respondent": "child", "ratings": {"people": 4, "things": 2, "data": 3, "ideas": 5}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interests {
    /// Who answered.
    pub respondent: Respondent,
    /// Rating per world of work.
    pub ratings: BTreeMap<String, u8>,
}

/// A questionnaire that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InterestsError {
    /// Not the JSON shape above.
    #[error("interests: {0}")]
    Json(String),
    /// A world missing, unknown, or rated outside the scale.
    #[error("interests: {field}: {reason}")]
    Invalid {
        /// The world concerned.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

impl Interests {
    /// Parses the JSON form and checks it against the questionnaire: every world rated once,
    /// within the scale.
    ///
    /// # Errors
    /// [`InterestsError`] naming the world and the reason.
    pub fn from_json(text: &str, rules: &InterestRules) -> Result<Self, InterestsError> {
        let i: Interests = serde_json::from_str(text).map_err(|e| InterestsError::Json(e.to_string()))?;
        i.check(rules)?;
        Ok(i)
    }

    /// Checks the ratings against the questionnaire.
    ///
    /// # Errors
    /// [`InterestsError::Invalid`] for a missing or unknown world or a rating off the scale.
    pub fn check(&self, rules: &InterestRules) -> Result<(), InterestsError> {
        let invalid = |field: &str, reason: &str| InterestsError::Invalid {
            field: field.into(),
            reason: reason.into(),
        };
        for w in &rules.worlds {
            match self.ratings.get(w) {
                None => return Err(invalid(w, "not rated")),
                Some(r) if !(rules.rating_min..=rules.rating_max).contains(r) => {
                    return Err(invalid(w, "rating off the scale"));
                }
                Some(_) => {}
            }
        }
        if let Some(w) = self.ratings.keys().find(|k| !rules.worlds.contains(k)) {
            return Err(invalid(w, "not a world of the questionnaire"));
        }
        Ok(())
    }
}

impl InterestRules {
    /// The interest fit of a set of worlds: (mean rating − midpoint) / half-range, in −1 … 1.
    /// `None` when no world of the set is rated.
    pub fn fit(&self, interests: &Interests, worlds: &[String]) -> Option<f64> {
        let ratings: Vec<f64> = worlds
            .iter()
            .filter_map(|w| interests.ratings.get(w))
            .map(|&r| f64::from(r))
            .collect();
        if ratings.is_empty() {
            return None;
        }
        let mean = ratings.iter().sum::<f64>() / ratings.len() as f64;
        let mid = (f64::from(self.rating_min) + f64::from(self.rating_max)) / 2.0;
        let half = (f64::from(self.rating_max) - f64::from(self.rating_min)) / 2.0;
        Some((mean - mid) / half)
    }

    /// Whether interests are blended at `years`.
    pub fn applies_at(&self, years: u16) -> bool {
        years >= self.age_min_years
    }
}
