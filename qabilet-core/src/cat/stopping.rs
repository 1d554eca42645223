//! When an adaptive test ends: at the maximum length; once the interim θ's standard error
//! (the EAP posterior SD) is at or below a target, but not before a minimum length; or when
//! no item is left to give.

use serde::{Deserialize, Serialize};

use super::CatError;

/// Minimum and maximum test length and an optional SE target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoppingRule {
    /// No SE-based stop before this many items.
    pub min_items: usize,
    /// Stop after this many items (≥ 1, ≥ `min_items`).
    pub max_items: usize,
    /// Stop once SE(θ̂) ≤ this (after `min_items`); `None`: fixed length `max_items`.
    pub se_target: Option<f64>,
}

impl Default for StoppingRule {
    /// A fixed-length test of 20 items.
    fn default() -> Self {
        StoppingRule {
            min_items: 1,
            max_items: 20,
            se_target: None,
        }
    }
}

/// Why a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `max_items` were given.
    MaxItems,
    /// SE(θ̂) reached the target after at least `min_items`.
    SeTarget,
    /// No item is left that may be given (all administered, set aside or outside the
    /// content targets).
    BankExhausted,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::MaxItems => "max_items",
            StopReason::SeTarget => "se_target",
            StopReason::BankExhausted => "bank_exhausted",
        })
    }
}

impl StoppingRule {
    pub(super) fn validate(&self) -> Result<(), CatError> {
        if self.max_items == 0 || self.min_items > self.max_items {
            return Err(CatError::Length {
                min: self.min_items,
                max: self.max_items,
            });
        }
        if let Some(se) = self.se_target
            && !(se.is_finite() && se > 0.0)
        {
            return Err(CatError::SeTarget(se));
        }
        Ok(())
    }

    /// The reason to stop after `given` items with interim standard error `se`, checked in
    /// this order: maximum length, then SE target (only from `min_items` on). `None`: go on
    /// (whether an item is left is the selector's question).
    pub fn check(&self, given: usize, se: f64) -> Option<StopReason> {
        if given >= self.max_items {
            Some(StopReason::MaxItems)
        } else if given >= self.min_items
            && let Some(target) = self.se_target
            && se <= target
        {
            Some(StopReason::SeTarget)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_checks() {
        let rule = StoppingRule {
            min_items: 3,
            max_items: 5,
            se_target: Some(0.4),
        };
        assert_eq!(rule.check(2, 0.1), None, "SE stop waits for min_items");
        assert_eq!(rule.check(3, 0.4), Some(StopReason::SeTarget));
        assert_eq!(rule.check(4, 0.5), None);
        assert_eq!(rule.check(5, 0.1), Some(StopReason::MaxItems));
        assert!(rule.validate().is_ok());
        let bad = StoppingRule { min_items: 6, ..rule };
        assert!(matches!(bad.validate(), Err(CatError::Length { .. })));
        let bad = StoppingRule {
            se_target: Some(0.0),
            ..rule
        };
        assert!(matches!(bad.validate(), Err(CatError::SeTarget(_))));
    }
}
