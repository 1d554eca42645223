//! One subtest of a session, whichever way the battery gives it: by the fixed-form rules
//! ([`Administration`]: start point, reversal, discontinue) or adaptively from its item bank
//! ([`AdaptiveAdministration`], seeded from the session and the subtest). Replayed from the
//! subtest's part of the session's log; yields its state, the raw score the norms are looked
//! up with and, when adaptive, θ̂ behind that raw score.

use std::sync::Arc;

use super::adaptive::{AdaptiveAdministration, adaptive_seed};
use super::fixed::Administration;
use super::state::SubtestState;
use super::{AdministrationError, Event};
use crate::norms::NormSet;
use crate::profile::AdaptiveScore;

/// A subtest's administration in a session.
#[derive(Debug, Clone)]
pub enum SubtestAdministration {
    /// By the battery's start, reversal and discontinue rules (both variants boxed: their
    /// states are large and of different sizes).
    Fixed(Box<Administration>),
    /// By the CAT engine, from the subtest's item bank (the battery's `adaptive` rule).
    Adaptive(Box<AdaptiveAdministration>),
}

impl SubtestAdministration {
    /// Subtest `index` (battery position) of `norms`, after `events`, for a child of
    /// `age_months` whole months in the session whose id is `session_id` (an adaptive
    /// subtest's random choices are drawn from [`adaptive_seed`] of the session id and the
    /// subtest id, so a replay makes the same choices).
    ///
    /// # Errors
    /// [`AdministrationError::Replay`] with the position of the first event refused, and why.
    ///
    /// # Panics
    /// When `index` is not a subtest of `norms` (a programming error).
    pub fn replay(
        norms: &NormSet,
        index: usize,
        session_id: &str,
        age_months: u16,
        events: &[Event],
    ) -> Result<Self, AdministrationError> {
        let subtest = &norms.battery.subtests[index];
        Ok(match &norms.adaptive[index] {
            Some(form) => Self::Adaptive(Box::new(AdaptiveAdministration::replay(
                Arc::clone(form),
                adaptive_seed(session_id, &subtest.id),
                events,
            )?)),
            None => Self::Fixed(Box::new(Administration::replay(subtest, age_months, events)?)),
        })
    }

    /// Records one event under the subtest's rules; a refused event changes nothing.
    ///
    /// # Errors
    /// The [`AdministrationError`] of [`Administration::record`] or
    /// [`AdaptiveAdministration::record`].
    pub fn record(&mut self, event: Event) -> Result<(), AdministrationError> {
        match self {
            Self::Fixed(a) => a.record(event),
            Self::Adaptive(a) => a.record(event),
        }
    }

    /// The accepted events, in order: the subtest's part of the log.
    pub fn events(&self) -> &[Event] {
        match self {
            Self::Fixed(a) => a.events(),
            Self::Adaptive(a) => a.events(),
        }
    }

    /// The raw score the norms are looked up with, once anything was recorded: the rules' raw
    /// score, or an adaptive subtest's raw-score equivalent of θ̂ (none while θ̂ is not
    /// estimable). `None` before the first event: the subtest was not administered.
    pub fn raw_for_norms(&self) -> Option<u16> {
        if self.events().is_empty() {
            return None;
        }
        match self {
            Self::Fixed(a) => Some(a.raw_score().raw),
            Self::Adaptive(a) => a.result().raw_equivalent,
        }
    }

    /// θ̂, SE and how the adaptive test went, for an adaptive subtest whose θ̂ exists.
    pub fn adaptive_score(&self) -> Option<AdaptiveScore> {
        let Self::Adaptive(a) = self else { return None };
        let r = a.result();
        Some(AdaptiveScore {
            subtest: a.form().subtest().id.clone(),
            theta: r.theta?,
            se: r.se?,
            estimator: r.estimator,
            items_administered: r.items_administered,
            bank_items: a.form().engine().bank().items.len(),
            stop: r.stop,
        })
    }

    /// Where the subtest stands.
    pub fn state(&self) -> SubtestState {
        match self {
            Self::Fixed(a) => SubtestState::fixed(a),
            Self::Adaptive(a) => SubtestState::adaptive(a),
        }
    }
}
