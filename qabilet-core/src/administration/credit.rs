//! The raw score the rules give: each item's credit with its basis (administered, credited
//! below the basal, no credit past the discontinue point, not reached), summed.

use serde::{Deserialize, Serialize};

use super::event::OverrideRecord;
use super::rules::Progress;

/// Why an item earns the credit it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditBasis {
    /// Administered at or below the discontinue point: credit = its score.
    Administered,
    /// Not administered, below the basal: full credit (the item's max).
    CreditedBelowBasal,
    /// Administered above the discontinue point (under an override): no credit.
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
    /// The discontinue point: last item of the run of zeros; items above it earn no credit.
    pub discontinued_after: Option<String>,
    /// Every accepted override, in log order.
    pub overrides: Vec<OverrideRecord>,
}

/// Credits of every item under the rules.
pub(super) fn item_credits(progress: &Progress) -> Vec<ItemCredit> {
    let basal = progress.basal();
    let discontinued = progress.discontinued_after();
    progress
        .subtest
        .items
        .iter()
        .zip(progress.scores)
        .enumerate()
        .map(|(i, (item, &score))| {
            let past_discontinue = discontinued.is_some_and(|d| i > d);
            let (credit, basis) = match score {
                Some(_) if past_discontinue => (0, CreditBasis::NoCreditPastDiscontinue),
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
