//! A response pattern checked against its bank: one category (or "not administered") per
//! item, each within the item's range.

use thiserror::Error;

use super::bank::ItemBank;

/// Why a pattern does not fit its bank.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatternError {
    /// Not one entry per item.
    #[error("{given} responses for a bank of {items} items")]
    Length {
        /// Entries given.
        given: usize,
        /// Items in the bank.
        items: usize,
    },
    /// A category above the item's highest.
    #[error("item '{item}': category {category} is outside 0–{max}")]
    Category {
        /// Item id.
        item: String,
        /// Category given.
        category: u32,
        /// Highest category of the item.
        max: usize,
    },
}

/// Categories by bank position; `None` = not administered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsePattern {
    responses: Vec<Option<u8>>,
}

impl ResponsePattern {
    /// Checks one category (or `None`) per item of `bank`.
    ///
    /// # Errors
    /// [`PatternError`] for a wrong length or a category outside an item's range.
    pub fn new(bank: &ItemBank, responses: Vec<Option<u32>>) -> Result<Self, PatternError> {
        if responses.len() != bank.items.len() {
            return Err(PatternError::Length {
                given: responses.len(),
                items: bank.items.len(),
            });
        }
        let mut checked = Vec::with_capacity(responses.len());
        for (item, r) in bank.items.iter().zip(responses) {
            let max = item.model.max_category();
            checked.push(match r {
                None => None,
                Some(k) if (k as usize) <= max => Some(k as u8),
                Some(k) => {
                    return Err(PatternError::Category {
                        item: item.id.clone(),
                        category: k,
                        max,
                    });
                }
            });
        }
        Ok(ResponsePattern { responses: checked })
    }

    /// Administered items as (bank position, category).
    pub fn administered(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.responses
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|k| (i, usize::from(k))))
    }

    /// The categories by bank position.
    pub fn responses(&self) -> &[Option<u8>] {
        &self.responses
    }
}
