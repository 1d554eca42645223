//! What can stop a norm build: data that cannot support a fit, and fits or tables that fail
//! the checks every built norm set must pass.

use thiserror::Error;

use crate::norms::NormError;

/// Why norms could not be built. Every variant names the subtest, composite or age region
/// concerned, and the children involved where there are any.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BuildError {
    /// The sample has no raw score for a subtest of the battery.
    #[error("subtest '{subtest}': the sample has no raw scores for it (column missing or empty)")]
    NoScores {
        /// Subtest id.
        subtest: String,
    },
    /// Too few children in an age region to fit or tabulate.
    #[error(
        "{what}: ages {age_min_months}–{age_max_months} months have {n} children{}, at least {needed} are needed",
        ids_suffix(ids)
    )]
    TooFewChildren {
        /// Subtest, composite or table concerned.
        what: String,
        /// Youngest month of the region.
        age_min_months: u16,
        /// Oldest month of the region.
        age_max_months: u16,
        /// Children found.
        n: usize,
        /// Children needed.
        needed: usize,
        /// Ids of the children found (at most ten).
        ids: Vec<String>,
    },
    /// No reliability for a subtest in a band: no item data and no explicit value.
    #[error("reliability of subtest '{subtest}' at ages {age_min_months}–{age_max_months} months: {reason}")]
    Reliability {
        /// Subtest id.
        subtest: String,
        /// Youngest month of the band.
        age_min_months: u16,
        /// Oldest month of the band.
        age_max_months: u16,
        /// Why it could not be estimated.
        reason: String,
    },
    /// A composite's norms could not be built.
    #[error("composite '{composite}': {reason}")]
    Composite {
        /// Composite id.
        composite: String,
        /// Why.
        reason: String,
    },
    /// The fitted norms of a subtest are not monotone even after repair.
    #[error("subtest '{subtest}': the fitted norms are not monotone after repair: {detail}")]
    NotMonotone {
        /// Subtest id.
        subtest: String,
        /// Where, and by how much.
        detail: String,
    },
    /// A fit failed numerically.
    #[error("subtest '{subtest}': {detail}")]
    Fit {
        /// Subtest id.
        subtest: String,
        /// What failed.
        detail: String,
    },
    /// A built table failed the scorer's own validation (a defect of the builder).
    #[error("built table failed validation: {0}")]
    Table(#[from] NormError),
}

fn ids_suffix(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(" ({})", ids.join(", "))
    }
}
