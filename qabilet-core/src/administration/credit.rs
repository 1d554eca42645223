//! The raw score the rules give: each item's credit with its basis (administered, credited
//! below the basal, no credit once the subtest was discontinued, not reached), summed.
//!
//! Whether an administered item counts depends on when it was given, not on where it stands
//! in item order: the discontinue rule is met at one event of the log, and every item first
//! scored up to that event keeps its score (the latest, after corrections), while an item
//! first scored after it (which needs an override) earns nothing. This is the practice of
//! Wechsler-type manuals (WISC-V Administration and Scoring Manual, Wechsler 2014): items
//! given before the discontinue criterion is met are scored, items given after it are not.

use serde::{Deserialize, Serialize};

use super::event::OverrideRecord;
use super::rules::Progress;

/// Why an item earns the credit it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditBasis {
    /// First scored before the discontinue rule was met (or in a subtest not discontinued),
    /// wherever it stands in item order: credit = its latest score.
    Administered,
    /// Not administered, below the basal: full credit (the item's max).
    CreditedBelowBasal,
    /// First scored after the discontinue rule was met (under an override), wherever it
    /// stands in item order: no credit.
    NoCreditPastDiscontinue,
    /// Not administered and not credited: not reached, skipped, past the discontinue point,
    /// or below the start without a basal.
    NotReached,
}

/// One item's part of the raw score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemCredit {
    /// Item id.
    pub item: String,
    /// Score recorded (the last one, after corrections), if administered.
    pub score: Option<u16>,
    /// Credit counted in the raw score.
    pub credit: u16,
    /// Why.
    pub basis: CreditBasis,
}

/// The raw score with everything it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScore {
    /// Sum of the item credits, or the entered total of a subtest without items (0 until
    /// entered).
    pub raw: u16,
    /// Whether the subtest has ended; before that `raw` is the score so far.
    pub complete: bool,
    /// Every item in item order (empty for a subtest without items).
    pub items: Vec<ItemCredit>,
    /// Lowest item of the basal, below which unadministered items earn full credit.
    pub basal_item: Option<String>,
    /// The discontinue point: last item of the run of zeros; items above it that were not
    /// administered are not reached.
    pub discontinued_after: Option<String>,
    /// Position in the log (0-based) of the event that met the discontinue rule, which has
    /// held since: items first scored by a later event earn no credit.
    pub discontinued_at_event: Option<usize>,
    /// Every accepted override, in log order.
    pub overrides: Vec<OverrideRecord>,
}

/// Credits of every item under the rules. `first_scored[i]` is the position in the log of
/// the event that first scored item `i`; `discontinued_at`, that of the event that met the
/// discontinue rule (which holds since).
pub(super) fn item_credits(
    progress: &Progress,
    first_scored: &[Option<usize>],
    discontinued_at: Option<usize>,
) -> Vec<ItemCredit> {
    let basal = progress.basal();
    let discontinued = progress.discontinued_after();
    progress
        .subtest
        .items
        .iter()
        .zip(progress.scores)
        .zip(first_scored)
        .enumerate()
        .map(|(i, ((item, &score), &first))| {
            let past_discontinue = discontinued.is_some_and(|d| i > d);
            let given_after_discontinue = discontinued_at.is_some_and(|at| first.is_some_and(|f| f > at));
            let (credit, basis) = match score {
                Some(_) if given_after_discontinue => (0, CreditBasis::NoCreditPastDiscontinue),
                Some(s) => (s, CreditBasis::Administered),
                None if !past_discontinue && basal.is_some_and(|b| i < b) => {
                    (item.max, CreditBasis::CreditedBelowBasal)
                }
                None => (0, CreditBasis::NotReached),
            };
            ItemCredit {
                item: item.id.clone(),
                score,
                credit,
                basis,
            }
        })
        .collect()
}
