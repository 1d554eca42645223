//! Adaptive administration of one subtest from its item bank: the CAT engine
//! ([`crate::cat`]) chooses every item, and the subtest's result is θ̂ with its SE and the
//! raw score θ̂ equates to on the full form. Like the fixed form ([`super::Administration`])
//! the state is a function of the subtest, a seed and the ordered log of [`Event`]s, so a
//! session resumes exactly after a restart ([`AdaptiveAdministration::replay`]).
//!
//! # Rules
//!
//! 1. **Next item.** Maximum Fisher information at the interim EAP θ̂ (N(0, 1) prior, 61
//!    points on [−6, 6]; norms/IRT.md), or at random among the `randomesque` best
//!    (Kingsbury & Zara 1989), drawn from ChaCha8 seeded with [`adaptive_seed`] of the
//!    session and subtest ids. The log holds no random state: replaying it redraws the same
//!    numbers in the same order, so the same items come next.
//! 2. **End.** After `max_items`, or once the interim SE ≤ `se_target` after at least
//!    `min_items`, or when no item is left ([`StopReason`], checked in that order).
//! 3. **Scores.** Only the pending item may be scored, once. An adaptive subtest's order is
//!    the engine's: a score for any other item, a total, and any override (an item out of
//!    turn, a correction) are refused ([`AdministrationError::NotPending`],
//!    [`AdministrationError::AdaptiveOverride`]); a refused event changes nothing.
//! 4. **Result.** θ̂ and SE by the rule's final estimator (default WLE, Warm 1989), and the
//!    raw-score equivalent round(τ(θ̂)) clipped to 0 … raw max, τ the expected raw score over
//!    all the bank's items (IRT true-score equating of the adaptive θ̂ to the full fixed form,
//!    whose raw scores the norms are expressed in: Lord 1980, ch. 13; Kolen & Brennan 2014,
//!    ch. 6; [`crate::irt::true_score`]).
//!
//! **Why WLE by default.** For Rasch items the number-correct score r is sufficient for θ,
//! and Warm's estimating equation is r − τ(θ) + J/(2I) = 0 with I = Σ P(1 − P) and
//! J = Σ P(1 − P)(1 − 2P), so τ(θ̂_WLE) = r + J/(2I) with |J| < I: τ(θ̂) is within ½ of r
//! and rounds to r. An adaptive test that gives the whole Rasch bank therefore equates to
//! exactly its number-correct score, and a shorter one to the full-form score the same
//! child is expected to earn. (An EAP θ̂ is shrunk towards the prior mean and would not.)
//!
//! ```
//! use std::sync::Arc;
//! use qabilet_core::administration::{AdaptiveAdministration, AdaptiveForm, AdaptiveNext, Event, adaptive_seed};
//! # fn demo(form: Arc<AdaptiveForm>) -> Result<(), qabilet_core::administration::AdministrationError> {
//! let seed = adaptive_seed("session-1", "mr");
//! let mut adaptive = AdaptiveAdministration::new(form.clone(), seed)?;
//! while let AdaptiveNext::Item { id } = adaptive.next().clone() {
//!     adaptive.record(Event::score(id, 1))?;
//! }
//! let resumed = AdaptiveAdministration::replay(form, seed, adaptive.events())?;
//! assert_eq!(resumed.result(), adaptive.result());
//! # Ok(()) }
//! ```

mod form;
mod seed;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use form::{AdaptiveForm, FormError};
pub use seed::adaptive_seed;

use super::{AdministrationError, Event};
use crate::cat::{CatSession, Interim, Next as CatNext, StopReason};
use crate::irt::{Estimator, Status};

/// What comes next in an adaptive subtest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdaptiveNext {
    /// Give this item and record its score.
    Item {
        /// Item id.
        id: String,
    },
    /// The subtest has ended.
    Done {
        /// Why.
        reason: StopReason,
    },
}

/// The result of an adaptive subtest as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdaptiveResult {
    /// Final θ̂ by `estimator`; `None` before any response or when not estimable.
    pub theta: Option<f64>,
    /// Its standard error.
    pub se: Option<f64>,
    /// Whether θ̂ exists.
    pub status: Status,
    /// The estimator of θ̂.
    pub estimator: Estimator,
    /// round(τ(θ̂)) clipped to 0 … raw max: the raw score the norms are looked up with.
    pub raw_equivalent: Option<u16>,
    /// Items scored.
    pub items_administered: usize,
    /// Why the subtest ended; `None` while it goes on.
    pub stop: Option<StopReason>,
}

/// One child's adaptive administration of one subtest.
#[derive(Debug, Clone)]
pub struct AdaptiveAdministration {
    form: Arc<AdaptiveForm>,
    session: CatSession,
    events: Vec<Event>,
    next: AdaptiveNext,
}

impl AdaptiveAdministration {
    /// A new administration of `form`, its random choices drawn from `seed` (use
    /// [`adaptive_seed`] of the session and subtest).
    ///
    /// # Errors
    /// [`AdministrationError::Adaptive`] if the engine refuses the form's configuration
    /// (it cannot: the form checked it).
    pub fn new(form: Arc<AdaptiveForm>, seed: u64) -> Result<Self, AdministrationError> {
        let session = CatSession::new(form.engine(), form.config().clone(), seed)
            .map_err(|e| engine_error(&form, e))?;
        let mut administration = AdaptiveAdministration {
            form,
            session,
            events: Vec::new(),
            next: AdaptiveNext::Done {
                reason: StopReason::BankExhausted,
            },
        };
        administration.advance()?;
        Ok(administration)
    }

    /// The administration after `events`, recorded in order: how a session resumes.
    ///
    /// # Errors
    /// [`AdministrationError::Replay`] with the position of the first event refused, and why.
    pub fn replay(form: Arc<AdaptiveForm>, seed: u64, events: &[Event]) -> Result<Self, AdministrationError> {
        let mut administration = Self::new(form, seed)?;
        super::replay_log(events, |event| administration.record(event))?;
        Ok(administration)
    }

    /// Asks the engine for the next item (selecting it, which may draw random numbers).
    fn advance(&mut self) -> Result<(), AdministrationError> {
        let next = self
            .form
            .engine()
            .next_item(&mut self.session)
            .map_err(|e| engine_error(&self.form, e))?;
        self.next = match next {
            CatNext::Item(i) => AdaptiveNext::Item {
                id: self.form.engine().bank().items[i].id.clone(),
            },
            CatNext::Stop(reason) => AdaptiveNext::Done { reason },
        };
        Ok(())
    }

    /// The form administered.
    pub fn form(&self) -> &AdaptiveForm {
        &self.form
    }

    /// The accepted events, in order: the log to store.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The item pending, or why the subtest has ended.
    pub fn next(&self) -> &AdaptiveNext {
        &self.next
    }

    /// Items scored, in order, with their scores.
    pub fn administered(&self) -> Vec<(String, u16)> {
        let bank = self.form.engine().bank();
        self.session
            .administered()
            .iter()
            .map(|r| (bank.items[r.item].id.clone(), u16::from(r.response)))
            .collect()
    }

    /// The interim EAP θ̂ and posterior SD that selection and the SE stop use.
    pub fn interim(&self) -> Interim {
        self.session.interim()
    }

    /// Records the score of the pending item; a refused event changes nothing.
    ///
    /// # Errors
    /// [`AdministrationError`]: a total ([`AdministrationError::TotalNotAccepted`]), an
    /// unknown item, a score above the item's max, any override reason
    /// ([`AdministrationError::AdaptiveOverride`]), an item that is not the pending one
    /// ([`AdministrationError::NotPending`], also when the subtest has ended).
    pub fn record(&mut self, event: Event) -> Result<(), AdministrationError> {
        let subtest = self.form.subtest();
        let (item, score) = match &event {
            Event::Total { .. } => {
                return Err(AdministrationError::TotalNotAccepted {
                    subtest: subtest.id.clone(),
                });
            }
            Event::Score { item, score, .. } => (item.as_str(), *score),
        };
        let own =
            subtest
                .items
                .iter()
                .find(|i| i.id == item)
                .ok_or_else(|| AdministrationError::UnknownItem {
                    subtest: subtest.id.clone(),
                    item: item.to_owned(),
                })?;
        if score > own.max {
            return Err(AdministrationError::ScoreAboveMax {
                item: item.to_owned(),
                score,
                max: own.max,
            });
        }
        if event.override_reason().is_some() {
            return Err(AdministrationError::AdaptiveOverride {
                subtest: subtest.id.clone(),
                item: item.to_owned(),
            });
        }
        match &self.next {
            AdaptiveNext::Item { id } if id == item => {}
            AdaptiveNext::Item { id } => {
                return Err(AdministrationError::NotPending {
                    expected: Some(id.clone()),
                    got: item.to_owned(),
                });
            }
            AdaptiveNext::Done { .. } => {
                return Err(AdministrationError::NotPending {
                    expected: None,
                    got: item.to_owned(),
                });
            }
        }
        self.form
            .engine()
            .record(&mut self.session, u32::from(score))
            .map_err(|e| engine_error(&self.form, e))?;
        self.events.push(event);
        self.advance()
    }

    /// θ̂, SE and the raw-score equivalent after the responses so far (rule 4).
    pub fn result(&self) -> AdaptiveResult {
        let estimate = self.form.engine().final_estimate(&self.session);
        AdaptiveResult {
            theta: estimate.theta,
            se: estimate.se,
            status: estimate.status,
            estimator: self.form.config().final_estimator,
            raw_equivalent: estimate.theta.map(|t| self.form.raw_equivalent(t)),
            items_administered: self.session.administered().len(),
            stop: match self.next {
                AdaptiveNext::Done { reason } => Some(reason),
                AdaptiveNext::Item { .. } => None,
            },
        }
    }
}

fn engine_error(form: &AdaptiveForm, e: crate::cat::CatError) -> AdministrationError {
    AdministrationError::Adaptive {
        subtest: form.subtest().id.clone(),
        reason: e.to_string(),
    }
}
