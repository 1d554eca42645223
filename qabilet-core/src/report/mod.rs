//! The consultation report as data: summary, profile with confidence bands, strengths,
//! areas to support, how the child learns best, activities, directions (development
//! directions, worlds of work or career clusters by age), the stage-2 referral decision,
//! interests and caveats. Text is never a sentence here: every item carries a message key
//! of `norms/guidance/texts/{kk,ru,en}.ftl` with its arguments, and a trace naming the rules
//! and the scores that produced it. Rendering (HTML, PDF) belongs to the server.

mod build;
mod item_id;
mod keys;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use build::consultation;
pub use item_id::{EditableItem, Section};
pub use keys::{RENDERER_KEYS, message_keys};

use crate::guidance::{Evidence, Offer, ReferralOutcome, SingleIndexRate, StandingKind};

/// A message argument: a number or a text (a message key's argument values).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    /// A whole number (scores, bounds, ages, counts).
    Int(i64),
    /// A decimal number (percentages).
    Number(f64),
    /// A message key to be resolved first (e.g. a domain's name), or an id.
    Text(String),
}

/// A sentence: a message key of the `.ftl` files with its arguments. Arguments whose name
/// ends in `_key` hold message keys the renderer resolves before formatting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Message key, e.g. `strength-clear-strength`.
    pub key: String,
    /// Named arguments.
    pub args: BTreeMap<String, Arg>,
}

impl Message {
    /// A message without arguments.
    pub fn new(key: impl Into<String>) -> Self {
        Message {
            key: key.into(),
            args: BTreeMap::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, name: &str, value: Arg) -> Self {
        self.args.insert(name.into(), value);
        self
    }
}

/// One step of a trace: a rule and the facts it used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStep {
    /// Rule id, e.g. `thresholds.clear_strength` or `age_gates.age-10-11`.
    pub rule: String,
    /// The guidance file (or scored-record field) that states the rule.
    pub source: String,
    /// The scores, bounds and cuts used, by name.
    pub facts: BTreeMap<String, Arg>,
}

impl TraceStep {
    /// A step of `rule` stated in `source`.
    pub fn new(rule: impl Into<String>, source: impl Into<String>) -> Self {
        TraceStep {
            rule: rule.into(),
            source: source.into(),
            facts: BTreeMap::new(),
        }
    }

    /// Adds a fact.
    pub fn fact(mut self, name: &str, value: Arg) -> Self {
        self.facts.insert(name.into(), value);
        self
    }
}

/// An item of the report: a sentence and why it is there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The sentence.
    pub message: Message,
    /// The rules and scores that produced it (never empty).
    pub trace: Vec<TraceStep>,
}

/// One domain's row of the profile chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileRow {
    /// Domain key of `domains.toml`.
    pub domain: String,
    /// Message key of the domain's name.
    pub name_key: String,
    /// Composite id of the battery.
    pub composite: String,
    /// Index score.
    pub index: i32,
    /// Percentile rank.
    pub percentile: f64,
    /// Interval at the thresholds' level (90 %), recomputed from index and reliability.
    pub ci_low: i32,
    /// Upper bound of that interval.
    pub ci_high: i32,
    /// Classification band id of the battery.
    pub classification: String,
    /// How the domain stands, where a threshold rule applies.
    pub standing: Vec<StandingKind>,
    /// The sentence of the row.
    pub message: Message,
    /// How the interval was computed and classified.
    pub trace: Vec<TraceStep>,
}

/// A domain that stands out (a strength, an area to support, or a learning note).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainItem {
    /// Domain key.
    pub domain: String,
    /// Every rule that applies, the reported one first.
    pub kinds: Vec<StandingKind>,
    /// The sentence.
    pub message: Message,
    /// Rules and scores.
    pub trace: Vec<TraceStep>,
}

/// Why an activity is suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityPurpose {
    /// To develop a strength.
    Develop,
    /// To support an area or a way of learning.
    Support,
    /// Broad exploration (flat profile or no strength).
    Explore,
}

/// A suggested activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityItem {
    /// Domain key, or `broad`.
    pub domain: String,
    /// Activity key (`activities.csv`).
    pub activity: String,
    /// Why it is suggested.
    pub purpose: ActivityPurpose,
    /// Evidence tag; its text is `evidence-<tag>`.
    pub evidence: Evidence,
    /// Citation key of `norms/guidance/README.md`.
    pub source: String,
    /// The sentence (`activity-<key>`).
    pub message: Message,
    /// Rules and scores.
    pub trace: Vec<TraceStep>,
}

/// What kind of direction an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionKind {
    /// A development direction for a domain.
    DevelopmentDirection,
    /// A broad world of work (7–9).
    WorldOfWork,
    /// A career cluster to explore (10–11).
    CareerCluster,
    /// Broad exploration, no ranking (flat profile or no strength).
    BroadExploration,
}

/// A development direction, world of work or career cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectionItem {
    /// What it is.
    pub kind: DirectionKind,
    /// Domain, world or cluster key.
    pub key: String,
    /// ISCO-08 unit groups (clusters only).
    pub isco08: Vec<String>,
    /// O*NET-SOC codes (clusters only).
    pub onet_soc: Vec<String>,
    /// Atlas of new professions sector, where known (clusters only).
    pub atlas_sector: Option<String>,
    /// Fit used to order clusters (clusters only; worlds and directions are not ranked).
    pub fit: Option<f64>,
    /// The sentence.
    pub message: Message,
    /// Rules and scores.
    pub trace: Vec<TraceStep>,
}

/// The expected referral rate shown with the decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectedRate {
    /// Composite id.
    pub composite: String,
    /// Under the normal model of this index at the child's age.
    pub rate: SingleIndexRate,
}

/// The stage-2 referral decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referral {
    /// The decision.
    pub outcome: ReferralOutcome,
    /// The sentence.
    pub message: Message,
    /// Expected rates of each counted index alone, under the norms' normal model.
    pub single_index_rates: Vec<ExpectedRate>,
    /// The sentences stating the expected rates and their methods.
    pub rate_messages: Vec<Message>,
    /// Rules and scores.
    pub trace: Vec<TraceStep>,
}

/// What a report was made with, so that it can be made again and a changed rule or sentence
/// never changes it silently: the norm set the scores were computed with, the guidance
/// tables and texts its rules and sentences come from, and the software that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFingerprint {
    /// `sha256:<hex>` over the norm files (the record's norm set).
    pub norm_set_hash: String,
    /// `sha256:<hex>` over the guidance files, tables and texts
    /// ([`crate::guidance::GuidanceFiles::hash`]).
    pub guidance_hash: String,
    /// The version of the software that made the report, as its caller names it.
    pub software_version: String,
}

/// The consultation report of one child.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationReport {
    /// Record id.
    pub record_id: String,
    /// Battery id.
    pub battery: String,
    /// Battery version.
    pub version: String,
    /// What the report was made with: the norm set, the guidance and the software.
    pub fingerprint: ReportFingerprint,
    /// Notice of demonstration norms, if any.
    pub notice: Option<String>,
    /// Age `Y:M:D`.
    pub age: String,
    /// Whole years of age (the gates' age).
    pub age_years: u16,
    /// The age gate applied.
    pub gate: String,
    /// What the gate offers.
    pub offers: Offer,
    /// Level of every interval in the report (per cent).
    pub ci_level: u8,
    /// Whether the profile is flat (broad exploration, no ranking).
    pub flat: bool,
    /// Summary sentences.
    pub summary: Vec<Item>,
    /// One row per computed composite with a domain of `domains.toml`, battery order.
    pub profile: Vec<ProfileRow>,
    /// Strengths (ability domains).
    pub strengths: Vec<DomainItem>,
    /// Areas to support (ability domains).
    pub support: Vec<DomainItem>,
    /// How the child learns best (working memory, processing speed).
    pub learning: Vec<DomainItem>,
    /// Suggested activities.
    pub activities: Vec<ActivityItem>,
    /// Development directions, worlds of work or career clusters.
    pub directions: Vec<DirectionItem>,
    /// Stage-2 referral.
    pub referral: Referral,
    /// What was done with interests.
    pub interests: Item,
    /// Caveats (always present).
    pub caveats: Vec<Item>,
}

impl ConsultationReport {
    /// Every message of the report with its trace, in reading order (for checks and for
    /// renderers that list sources).
    pub fn messages(&self) -> Vec<(&Message, &[TraceStep])> {
        let mut out: Vec<(&Message, &[TraceStep])> = Vec::new();
        out.extend(self.summary.iter().map(|i| (&i.message, i.trace.as_slice())));
        out.extend(self.profile.iter().map(|i| (&i.message, i.trace.as_slice())));
        for list in [&self.strengths, &self.support, &self.learning] {
            out.extend(list.iter().map(|i| (&i.message, i.trace.as_slice())));
        }
        out.extend(self.activities.iter().map(|i| (&i.message, i.trace.as_slice())));
        out.extend(self.directions.iter().map(|i| (&i.message, i.trace.as_slice())));
        out.push((&self.referral.message, &self.referral.trace));
        out.extend(
            self.referral
                .rate_messages
                .iter()
                .map(|m| (m, self.referral.trace.as_slice())),
        );
        out.push((&self.interests.message, &self.interests.trace));
        out.extend(self.caveats.iter().map(|i| (&i.message, i.trace.as_slice())));
        out
    }
}

/// A record and tables that cannot make a report.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReportError {
    /// The record was scored with another battery than the one given.
    #[error("the record was scored with battery '{record}', not '{given}'")]
    BatteryMismatch {
        /// Battery of the record.
        record: String,
        /// Battery given.
        given: String,
    },
    /// No age gate covers the child's age.
    #[error("no age gate of age_gates.toml covers {0} years")]
    NoAgeGate(u16),
    /// A composite of the record is not in the battery.
    #[error("composite '{0}' of the record is not in the battery")]
    UnknownComposite(String),
    /// Interests that do not fit the questionnaire.
    #[error(transparent)]
    Interests(#[from] crate::guidance::InterestsError),
}
