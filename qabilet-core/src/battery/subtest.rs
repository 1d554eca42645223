//! A subtest: its identity, CHC domain, items and administration rules.

use serde::{Deserialize, Serialize};

use super::adaptive::AdaptiveRule;
use super::rules::{DiscontinueRule, ReversalRule, StartPoint};
use crate::text::LocalizedText;

/// A broad ability of the Cattell–Horn–Carroll (CHC) model (Schneider & McGrew 2018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Domain {
    /// Comprehension-knowledge (verbal).
    Gc,
    /// Fluid reasoning.
    Gf,
    /// Visual-spatial processing.
    Gv,
    /// Quantitative knowledge and reasoning.
    Gq,
    /// Working memory capacity.
    Gwm,
    /// Processing speed.
    Gs,
    /// Auditory processing.
    Ga,
    /// Learning efficiency (long-term storage).
    Gl,
    /// Retrieval fluency.
    Gr,
    /// Reading and writing.
    Grw,
    /// General ability (for general composites).
    #[serde(rename = "g")]
    General,
}

/// One item of a subtest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Item id, unique within the battery.
    pub id: String,
    /// Highest score the item can earn (0 … max).
    pub max: u16,
}

/// A subtest as the battery defines it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subtest {
    /// Id; also the column name in score input.
    pub id: String,
    /// CHC broad ability measured.
    pub domain: Domain,
    /// Whether it counts in the mean for strengths and weaknesses.
    pub core: bool,
    /// Names in kk, ru, en.
    pub names: LocalizedText,
    /// Time limit, for timed subtests.
    pub time_limit_seconds: Option<u32>,
    /// Items in administration order (empty for speed tests scored by count).
    pub items: Vec<Item>,
    /// Highest possible raw score.
    pub raw_max: u16,
    /// Start points by age, ascending.
    pub start_points: Vec<StartPoint>,
    /// Basal rule, if any.
    pub reversal: Option<ReversalRule>,
    /// Discontinue rule, if any.
    pub discontinue: Option<DiscontinueRule>,
    /// Adaptive administration from an item bank, if the subtest is adaptive (the start
    /// points and rules above then describe the fixed form only).
    pub adaptive: Option<AdaptiveRule>,
    /// The item content file (`content/<subtest>.toml`), for a subtest whose items the
    /// child answers alone on screen (norms/FORMATS.md, "Item content").
    pub content: Option<String>,
}
