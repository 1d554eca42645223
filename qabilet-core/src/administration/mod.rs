//! Administration of a battery to one child: which item comes next, which scores are
//! accepted, and the raw score the rules give. A subtest is given by the examiner under the
//! fixed-form rules below ([`Administration`]) or adaptively, its items chosen by the CAT
//! engine ([`AdaptiveAdministration`]); [`SubtestAdministration`] is either, with its
//! [`SubtestState`]; [`SessionAdministration`] holds every subtest of a session, built once
//! from the norm set, the dates and the session's log, and gives the raw scores to score.
//! The state is a function of the subtest, the child's age in whole months and the ordered
//! log of [`Event`]s, so a session resumes exactly after a restart
//! ([`Administration::replay`]).
//!
//! # Rules
//!
//! Wechsler-style rules (as in the WISC-V Administration and Scoring Manual, Wechsler 2014),
//! with the parameters each subtest gives in `battery.toml` (norms/FORMATS.md:
//! `start_points`, `reversal = { consecutive_perfect = n }`, `discontinue = {
//! consecutive_zeros = k }`; [`StartPoint`], [`ReversalRule`], [`DiscontinueRule`]).
//! "Consecutive in item order" means consecutive among the administered items sorted by
//! item position; in an administration without overrides these are adjacent items.
//!
//! 1. **Start point.** The item of the last `start_points` entry whose `age_min_months` ≤
//!    the child's age (the first entry starts at the battery's minimum age; a younger child
//!    starts there too). A subtest without items (a speed test with `raw_max` only) has no
//!    item administration: the engine takes one total raw score, 0 … `raw_max`.
//! 2. **Forward.** From the start item upward in item order; after a reversal, onward from
//!    the item after the highest one administered so far.
//! 3. **Reversal (basal)**, with a `reversal` rule and a start after item 1. As soon as one
//!    of the first n items from the start point (items start … start + n − 1, fewer when
//!    the subtest ends sooner) scores below its max, the items before the start are given
//!    in reverse order (start − 1, start − 2, …) until the lowest administered item and the
//!    next n − 1 administered items in item order all have full credit (the basal, at that
//!    lowest item), or item 1 has been given.
//!    When the first n items are all perfect the basal is the start item at once. Items
//!    below the basal that were not administered earn full credit; when reversal reaches
//!    item 1 without a basal there are none. A subtest without a reversal rule whose start
//!    is after item 1 has its basal at the start item (the start point presumes the earlier
//!    items passed).
//! 4. **Discontinue**, with a `discontinue` rule: the subtest ends when k consecutive items in
//!    item order among those administered (reversal items included, as the published
//!    manuals count) have scored 0 — at once, even in the middle of a reversal. The
//!    discontinue point is the last item of the lowest such run; items above it that were
//!    not administered are not reached. Credit follows the order of administration, not
//!    item order: the rule is met at one event of the log, every item first scored up to
//!    that event keeps its score (the latest, after corrections) wherever it stands — an
//!    item above the run given before the reversal reached the run included — and an item
//!    first scored after it (under an override) earns no credit wherever it stands. When a
//!    correction breaks the run, the rule no longer holds, and it is met anew at the event
//!    that completes a run again.
//! 5. **Last item.** The subtest also ends when no item follows the highest one administered.
//! 6. **Overrides.** A score for an item that is not due — past the end, skipping ahead,
//!    below the start — is accepted only with an override reason, and so is a new score for
//!    an item already scored (a correction: the new score replaces the old, the log keeps
//!    both). Every override is kept in the log and reported ([`OverrideRecord`]), also one
//!    given for an item that was due. The next item is then computed from the scores as they
//!    stand, by rules 1–5.
//! 7. **Validation.** Unknown items, scores above the item's max, totals above `raw_max`,
//!    blank override reasons, and the departures of rule 6 without a reason are refused with
//!    an [`AdministrationError`] naming the item; a refused event changes nothing.
//!
//! ```
//! use qabilet_core::administration::{Administration, AdministrationError, Event, Next};
//! use qabilet_core::battery::Subtest;
//! # fn demo(subtest: &Subtest) -> Result<(), AdministrationError> {
//! let mut administration = Administration::new(subtest, 110); // 9:2
//! while let Next::Item { id, .. } = administration.next() {
//!     let score = 1; // the child's score on item `id`
//!     administration.record(Event::score(id, score))?;
//! }
//! let stored = administration.events().to_vec();
//! let resumed = Administration::replay(subtest, 110, &stored)?;
//! assert_eq!(resumed.raw_score(), administration.raw_score());
//! # Ok(()) }
//! ```
//!
//! [`StartPoint`]: crate::battery::StartPoint
//! [`ReversalRule`]: crate::battery::ReversalRule
//! [`DiscontinueRule`]: crate::battery::DiscontinueRule

mod adaptive;
mod credit;
mod event;
mod fixed;
mod rules;
mod session;
mod state;
mod subtest;

use thiserror::Error;

pub use adaptive::{
    AdaptiveAdministration, AdaptiveForm, AdaptiveNext, AdaptiveResult, FormError, adaptive_seed,
};
pub use credit::{CreditBasis, ItemCredit, RawScore};
pub use event::{Event, OverrideKind, OverrideRecord};
pub use fixed::{Administration, Summary};
pub use rules::{DoneReason, Next, Phase};
pub use session::{SessionAdministration, SessionError};
pub use state::{AdaptiveEstimate, EndReason, SubtestPhase, SubtestState};
pub use subtest::SubtestAdministration;

/// Why an event is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdministrationError {
    /// The subtest has no item with this id (a subtest without items has none).
    #[error("subtest '{subtest}' has no item '{item}'")]
    UnknownItem {
        /// Subtest id.
        subtest: String,
        /// Item id given.
        item: String,
    },
    /// A score above the item's maximum.
    #[error("item '{item}': score {score} is above the item's maximum {max}")]
    ScoreAboveMax {
        /// Item id.
        item: String,
        /// Score given.
        score: u16,
        /// The item's maximum.
        max: u16,
    },
    /// A total for a subtest scored item by item.
    #[error("subtest '{subtest}' is scored item by item, not by a total")]
    TotalNotAccepted {
        /// Subtest id.
        subtest: String,
    },
    /// A total above the subtest's `raw_max`.
    #[error("subtest '{subtest}': total {raw} is above raw_max {max}")]
    TotalAboveMax {
        /// Subtest id.
        subtest: String,
        /// Total given.
        raw: u16,
        /// The subtest's `raw_max`.
        max: u16,
    },
    /// An override whose reason is blank.
    #[error("{}: an override needs a reason", item.as_deref().map_or("the total".to_owned(), |i| format!("item '{i}'")))]
    EmptyOverrideReason {
        /// Item id; `None` for the total of a subtest without items.
        item: Option<String>,
    },
    /// A score, without an override, for an item the rules do not make due.
    #[error(
        "item '{got}' is not due ({}); scoring it needs an override reason",
        expected.as_deref().map_or("the subtest has ended".to_owned(), |e| format!("'{e}' is"))
    )]
    NotDue {
        /// The item that is due; `None` when the subtest has ended.
        expected: Option<String>,
        /// The item scored.
        got: String,
    },
    /// A second score, without an override, for an item already scored.
    #[error("item '{item}' is already scored; a correction needs an override reason")]
    AlreadyScored {
        /// Item id.
        item: String,
    },
    /// A second total, without an override.
    #[error("subtest '{subtest}': the total is already entered; a correction needs an override reason")]
    TotalAlreadyEntered {
        /// Subtest id.
        subtest: String,
    },
    /// An adaptive subtest: a score for an item other than the pending one (or after the
    /// end). The engine chooses the order; there are no overrides.
    #[error(
        "item '{got}' is not the pending item of this adaptive subtest ({})",
        expected.as_deref().map_or("the subtest has ended".to_owned(), |e| format!("'{e}' is"))
    )]
    NotPending {
        /// The pending item; `None` when the subtest has ended.
        expected: Option<String>,
        /// The item scored.
        got: String,
    },
    /// An adaptive subtest: an override reason, which it does not accept.
    #[error(
        "subtest '{subtest}' is adaptive: its items come in the engine's order, so no override (item '{item}') is accepted"
    )]
    AdaptiveOverride {
        /// Subtest id.
        subtest: String,
        /// Item id.
        item: String,
    },
    /// The adaptive engine refused a step (a form the engine does not accept).
    #[error("adaptive subtest '{subtest}': {reason}")]
    Adaptive {
        /// Subtest id.
        subtest: String,
        /// The engine's reason.
        reason: String,
    },
    /// An event of a replayed log is refused.
    #[error("event {index} of the log: {error}")]
    Replay {
        /// Position of the event in the log (0-based).
        index: usize,
        /// Why it is refused.
        error: Box<AdministrationError>,
    },
}

/// Records `events` in order through `record`, as a replay does: the first event refused
/// stops it, reported as [`AdministrationError::Replay`] with its position in the log.
fn replay_log(
    events: &[Event],
    mut record: impl FnMut(Event) -> Result<(), AdministrationError>,
) -> Result<(), AdministrationError> {
    for (index, event) in events.iter().enumerate() {
        record(event.clone()).map_err(|error| AdministrationError::Replay {
            index,
            error: Box::new(error),
        })?;
    }
    Ok(())
}
