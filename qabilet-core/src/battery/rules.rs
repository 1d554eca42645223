//! Administration rules of examiner-led subtests: start points by age, the reversal (basal)
//! rule and the discontinue (ceiling) rule. The rule engine that applies them during a
//! session builds on these definitions.

use serde::{Deserialize, Serialize};

/// Where administration starts for children from a given age on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartPoint {
    /// Youngest age, in whole months, this start point applies to.
    pub age_min_months: u16,
    /// The item administered first.
    pub item: String,
}

/// Basal rule: if the first `consecutive_perfect` items from the start point do not all earn
/// full credit, administer earlier items in reverse order until that many in a row do (or
/// the first item is reached); earlier unadministered items then earn full credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReversalRule {
    /// Perfect scores in a row that establish the basal.
    pub consecutive_perfect: u16,
}

/// Ceiling rule: stop after `consecutive_zeros` zero scores in a row; later items earn no
/// credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscontinueRule {
    /// Zero scores in a row that end the subtest.
    pub consecutive_zeros: u16,
}
