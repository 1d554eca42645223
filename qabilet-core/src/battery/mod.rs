//! Battery definitions, read from `battery.toml`: subtests with their items and
//! administration rules, composites with substitution and proration allowances, score scales,
//! classification bands and texts. Parsed and checked once; the rest of the crate trusts a
//! [`Battery`].

mod adaptive;
mod classification;
mod composite;
pub mod content;
mod parse;
mod rules;
mod subtest;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use adaptive::AdaptiveRule;
pub use classification::{Classification, ClassificationBand};
pub use composite::{Composite, CompositeKind, Substitution};
pub use rules::{DiscontinueRule, ReversalRule, StartPoint};
pub use subtest::{Domain, Item, Subtest};

use crate::age::{AgeError, AgeInMonths, ChronologicalAge, Date};
use crate::scale::Scale;
use crate::text::LocalizedText;

/// Suffixes of each subtest's columns in `qabilet score` output (`voc_scaled`, …).
pub const SUBTEST_SCORE_COLUMNS: [&str; 2] = ["scaled", "percentile"];

/// Suffixes of each composite's columns in `qabilet score` output (`vci_index`, …).
pub const COMPOSITE_SCORE_COLUMNS: [&str; 7] = [
    "sum",
    "index",
    "percentile",
    "ci_low",
    "ci_high",
    "class",
    "basis",
];

/// A problem in `battery.toml`, with the line where it was found when known.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("battery.toml{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct BatteryError {
    /// 1-based line, when the problem can be pinned to one.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

/// How a battery computes the age that selects norms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgePolicy {
    /// Calendar-exact Y:M:D, no rounding (norms/FORMATS.md, "Ages").
    #[default]
    CalendarExact,
}

/// How strengths and weaknesses correct for testing every subtest against the mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MultipleComparisons {
    /// Each comparison at the nominal α.
    #[default]
    None,
    /// α divided by the number of comparisons (Silverstein 1982).
    Bonferroni,
}

/// Battery-wide rules of profile analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRules {
    /// Correction for strengths/weaknesses.
    #[serde(default)]
    pub multiple_comparisons: MultipleComparisons,
    /// Fewest administered core subtests for a strengths/weaknesses analysis.
    #[serde(default = "default_min_core")]
    pub min_core_subtests: usize,
}

fn default_min_core() -> usize {
    3
}

impl Default for ProfileRules {
    fn default() -> Self {
        ProfileRules {
            multiple_comparisons: MultipleComparisons::None,
            min_core_subtests: default_min_core(),
        }
    }
}

/// A validated battery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Battery {
    /// Id, e.g. `qabilet-primary-demo`.
    pub id: String,
    /// Version of the battery definition.
    pub version: String,
    /// Names in kk, ru, en.
    pub names: LocalizedText,
    /// Age policy for norm lookup.
    pub age_policy: AgePolicy,
    /// Youngest age covered.
    pub age_min: AgeInMonths,
    /// Oldest age covered.
    pub age_max: AgeInMonths,
    /// Subtest scale (mean 10, SD 3, 1–19 by default).
    pub scaled_scale: Scale,
    /// Composite scale (mean 100, SD 15, 40–160 by default).
    pub index_scale: Scale,
    /// Rules of profile analysis.
    pub profile: ProfileRules,
    /// Classification bands of index scores.
    pub classification: Classification,
    /// Subtests in battery order.
    pub subtests: Vec<Subtest>,
    /// Composites in battery order.
    pub composites: Vec<Composite>,
}

impl Battery {
    /// Parses and checks `battery.toml`.
    ///
    /// # Errors
    /// A [`BatteryError`] naming the line (where known) and the reason: TOML syntax, unknown
    /// or missing fields, duplicate ids, references to unknown subtests or items, start points
    /// out of order, classification bands that leave gaps.
    pub fn from_toml(text: &str) -> Result<Self, BatteryError> {
        parse::parse(text)
    }

    /// Position of the subtest with this id.
    pub fn subtest_index(&self, id: &str) -> Option<usize> {
        self.subtests.iter().position(|s| s.id == id)
    }

    /// The item-bank files the battery's adaptive subtests name (`items/<subtest>.json`), in
    /// battery order: the files a norm set reads besides its tables.
    pub fn item_bank_files(&self) -> Vec<&str> {
        self.subtests
            .iter()
            .filter_map(|s| s.adaptive.as_ref().map(|a| a.bank.as_str()))
            .collect()
    }

    /// The item content files the battery's subtests name (`content/<subtest>.toml`), in
    /// battery order.
    pub fn content_files(&self) -> Vec<&str> {
        self.subtests
            .iter()
            .filter_map(|s| s.content.as_deref())
            .collect()
    }

    /// Position of the composite with this id.
    pub fn composite_index(&self, id: &str) -> Option<usize> {
        self.composites.iter().position(|c| c.id == id)
    }

    /// The calendar-exact age on `test` of a child born on `birth`, which must lie within
    /// the battery's range of whole months (`age_min_months` … `age_max_months`): an age
    /// outside it is an error, never a clamp (norms/SCORING.md).
    ///
    /// # Errors
    /// [`AgeError::TestBeforeBirth`] or [`AgeError::OutsideNorms`].
    pub fn age_on(&self, birth: Date, test: Date) -> Result<ChronologicalAge, AgeError> {
        let age = ChronologicalAge::between(birth, test)?;
        let months = age.in_months();
        if months < self.age_min || months > self.age_max {
            return Err(AgeError::OutsideNorms {
                age,
                min: self.age_min,
                max: self.age_max,
            });
        }
        Ok(age)
    }
}
