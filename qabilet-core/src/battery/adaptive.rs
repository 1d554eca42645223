//! An adaptive subtest's rule in `battery.toml`: the item bank it draws from and when the
//! computerised adaptive test ends (norms/FORMATS.md, `adaptive = { … }`). Checked against the
//! subtest when the battery is parsed; the bank itself is checked when the norm set loads.

use serde::Serialize;

use crate::cat::{CatConfig, Exposure, Selection, StoppingRule};
use crate::irt::Estimator;

/// How an adaptive subtest is given: items chosen by maximum Fisher information at the
/// interim EAP θ̂ (`qabilet_core::cat`), optionally at random among the `randomesque` best
/// (Kingsbury & Zara 1989); the test ends after `max_items`, or once the interim SE is at or
/// below `se_target` after at least `min_items`, or when the bank is exhausted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdaptiveRule {
    /// The bank file, relative to the battery folder: always `items/<subtest>.json`.
    pub bank: String,
    /// No SE-based stop before this many items (≥ 1).
    pub min_items: usize,
    /// At most this many items (min_items ≤ max_items ≤ the subtest's items).
    pub max_items: usize,
    /// Stop once the interim SE(θ̂) ≤ this (> 0); `None`: fixed length `max_items`.
    pub se_target: Option<f64>,
    /// Estimator of the final θ̂ (default WLE, whose true-score equivalent of a whole form
    /// is the number-correct score for Rasch items: see `administration::adaptive`).
    pub final_estimator: Estimator,
    /// Randomesque exposure control: the item is drawn among this many best (1: none).
    pub randomesque: usize,
}

impl AdaptiveRule {
    /// The `qabilet_core::cat` configuration this rule stands for.
    pub fn cat_config(&self) -> CatConfig {
        CatConfig {
            selection: Selection::Mfi,
            exposure: if self.randomesque > 1 {
                Exposure::Randomesque { n: self.randomesque }
            } else {
                Exposure::None
            },
            content: None,
            stopping: StoppingRule {
                min_items: self.min_items,
                max_items: self.max_items,
                se_target: self.se_target,
            },
            final_estimator: self.final_estimator,
        }
    }
}

/// `adaptive = { … }` as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdaptive {
    bank: String,
    #[serde(default = "one")]
    min_items: usize,
    max_items: usize,
    se_target: Option<f64>,
    final_estimator: Option<String>,
    #[serde(default = "one")]
    randomesque: usize,
}

fn one() -> usize {
    1
}

impl RawAdaptive {
    /// Checks the rule of subtest `subtest` with `items` items; the reason on failure.
    pub(super) fn check(self, subtest: &str, items: usize) -> Result<AdaptiveRule, String> {
        let expected = format!("items/{subtest}.json");
        if self.bank != expected {
            return Err(format!(
                "adaptive.bank must be \"{expected}\" (got \"{}\")",
                self.bank
            ));
        }
        if items == 0 {
            return Err("an adaptive subtest needs items".into());
        }
        if self.min_items == 0 || self.min_items > self.max_items || self.max_items > items {
            return Err(format!(
                "adaptive: need 1 ≤ min_items ≤ max_items ≤ {items} items (got min_items {}, max_items {})",
                self.min_items, self.max_items
            ));
        }
        if let Some(se) = self.se_target
            && !(se.is_finite() && se > 0.0)
        {
            return Err(format!("adaptive.se_target must be a positive number (got {se})"));
        }
        if self.randomesque == 0 || self.randomesque > items {
            return Err(format!(
                "adaptive.randomesque must be 1 … {items} (got {})",
                self.randomesque
            ));
        }
        let final_estimator = match self.final_estimator {
            None => Estimator::Wle,
            Some(text) => text
                .parse()
                .map_err(|e| format!("adaptive.final_estimator: {e}"))?,
        };
        Ok(AdaptiveRule {
            bank: self.bank,
            min_items: self.min_items,
            max_items: self.max_items,
            se_target: self.se_target,
            final_estimator,
            randomesque: self.randomesque,
        })
    }
}
