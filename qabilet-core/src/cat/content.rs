//! Content balancing by target proportions (Kingsbury & Zara 1989): before each item, the
//! content area whose share of the items given so far falls furthest below its target
//! (largest target − administered share) is chosen, and the item is selected within it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CatError;
use super::engine::CatEngine;

/// Tolerance on the sum of the target proportions (people write 0.33, 0.33, 0.34).
const SUM_TOLERANCE: f64 = 1e-3;

/// Target share of each content area, e.g. `{"number": 0.5, "space": 0.3, "verbal": 0.2}`.
///
/// Areas are bank `content` tags. Proportions are in [0, 1] and sum to 1 (± 0.001); they
/// are used as given. Items whose area has no target, a target of 0, or no content tag at
/// all are never selected while content balancing is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentTargets(pub BTreeMap<String, f64>);

impl ContentTargets {
    pub(super) fn validate(&self, engine: &CatEngine) -> Result<(), CatError> {
        if self.0.is_empty() {
            return Err(CatError::ContentSum(0.0));
        }
        for (area, &p) in &self.0 {
            if !(0.0..=1.0).contains(&p) {
                return Err(CatError::ContentProportion {
                    area: area.clone(),
                    proportion: p,
                });
            }
            if engine.area(area).is_none() {
                return Err(CatError::ContentArea(area.clone()));
            }
        }
        let sum: f64 = self.0.values().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(CatError::ContentSum(sum));
        }
        Ok(())
    }

    /// The area to draw the next item from: among areas with a positive target that still
    /// have an open item (`open(area)`), the one with the largest shortfall
    /// target − given_in_area / given (the share is 0 before the first item); ties go to the
    /// first area in name order. `given_in(area)` counts the items given in an area.
    /// `None` when no targeted area has an open item.
    pub fn choose(
        &self,
        given: usize,
        given_in: impl Fn(&str) -> usize,
        open: impl Fn(&str) -> bool,
    ) -> Option<&str> {
        let mut best: Option<(&str, f64)> = None;
        for (area, &target) in &self.0 {
            if target <= 0.0 || !open(area) {
                continue;
            }
            let share = if given == 0 {
                0.0
            } else {
                given_in(area) as f64 / given as f64
            };
            let shortfall = target - share;
            if best.is_none_or(|(_, s)| shortfall > s) {
                best = Some((area, shortfall));
            }
        }
        best.map(|(a, _)| a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_shortfall_first() {
        let t = ContentTargets(BTreeMap::from([
            ("number".to_owned(), 0.5),
            ("space".to_owned(), 0.3),
            ("verbal".to_owned(), 0.2),
        ]));
        // Nothing given: the largest target.
        assert_eq!(t.choose(0, |_| 0, |_| true), Some("number"));
        // 2 number, 0 space, 0 verbal of 2: space short by 0.3, verbal by 0.2.
        let given = |a: &str| if a == "number" { 2 } else { 0 };
        assert_eq!(t.choose(2, given, |_| true), Some("space"));
        // space has nothing open: verbal.
        assert_eq!(t.choose(2, given, |a| a != "space"), Some("verbal"));
        assert_eq!(t.choose(2, given, |_| false), None);
    }
}
