//! An adaptive subtest ready to give: the subtest, its item bank (checked against the
//! subtest's items) with the CAT engine's precomputed tables, and the CAT configuration of
//! the subtest's `adaptive` rule. Built once, when the norm set loads.

use thiserror::Error;

use crate::battery::Subtest;
use crate::cat::{CatConfig, CatEngine, CatError};
use crate::irt::{ItemBank, raw_equivalent};

/// Why a bank cannot serve an adaptive subtest.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FormError {
    /// The subtest has no `adaptive` rule.
    #[error("subtest '{0}' is not adaptive")]
    NotAdaptive(String),
    /// A bank item that the subtest does not have.
    #[error("bank item '{item}' is not an item of subtest '{subtest}'")]
    ForeignItem {
        /// Subtest id.
        subtest: String,
        /// Bank item id.
        item: String,
    },
    /// A subtest item that the bank does not have.
    #[error("item '{item}' of subtest '{subtest}' is missing from the bank")]
    MissingItem {
        /// Subtest id.
        subtest: String,
        /// Item id.
        item: String,
    },
    /// A bank item whose highest category is not the item's maximum score.
    #[error(
        "item '{item}': the bank's highest category {bank} differs from its max {battery} in battery.toml"
    )]
    MaxMismatch {
        /// Item id.
        item: String,
        /// Highest category in the bank.
        bank: usize,
        /// The item's max in battery.toml.
        battery: u16,
    },
    /// The CAT rules do not fit the bank.
    #[error("{0}")]
    Cat(#[from] CatError),
}

/// An adaptive subtest with its bank and engine; shared, read-only, by every administration.
#[derive(Debug, Clone)]
pub struct AdaptiveForm {
    subtest: Subtest,
    engine: CatEngine,
    config: CatConfig,
}

impl AdaptiveForm {
    /// The form of `subtest` (which must have an `adaptive` rule) on `bank`.
    ///
    /// # Errors
    /// [`FormError`]: the subtest is not adaptive; the bank's items are not exactly the
    /// subtest's (same ids, in any order, and each item's highest category equal to its max
    /// in battery.toml); the rule does not fit the bank.
    pub fn new(subtest: &Subtest, bank: &ItemBank) -> Result<Self, FormError> {
        let rule = subtest
            .adaptive
            .as_ref()
            .ok_or_else(|| FormError::NotAdaptive(subtest.id.clone()))?;
        for item in &bank.items {
            let Some(own) = subtest.items.iter().find(|i| i.id == item.id) else {
                return Err(FormError::ForeignItem {
                    subtest: subtest.id.clone(),
                    item: item.id.clone(),
                });
            };
            let bank_max = item.model.max_category();
            if bank_max != usize::from(own.max) {
                return Err(FormError::MaxMismatch {
                    item: item.id.clone(),
                    bank: bank_max,
                    battery: own.max,
                });
            }
        }
        if let Some(missing) = subtest.items.iter().find(|i| bank.position(&i.id).is_none()) {
            return Err(FormError::MissingItem {
                subtest: subtest.id.clone(),
                item: missing.id.clone(),
            });
        }
        let engine = CatEngine::new(bank)?;
        let config = rule.cat_config();
        config.validate(&engine)?;
        Ok(AdaptiveForm {
            subtest: subtest.clone(),
            engine,
            config,
        })
    }

    /// The subtest.
    pub fn subtest(&self) -> &Subtest {
        &self.subtest
    }

    /// The engine on the subtest's bank.
    pub fn engine(&self) -> &CatEngine {
        &self.engine
    }

    /// The CAT configuration of the subtest's `adaptive` rule.
    pub fn config(&self) -> &CatConfig {
        &self.config
    }

    /// The raw-score equivalent of θ on the full form ([`crate::irt::true_score`]).
    pub fn raw_equivalent(&self, theta: f64) -> u16 {
        raw_equivalent(self.engine.bank(), theta, self.subtest.raw_max)
    }
}
