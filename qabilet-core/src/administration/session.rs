//! A child's session with a battery: every subtest's administration, built once from the
//! norm set, the session's id (the seed of adaptive choices), the birth and test dates and
//! the session's log grouped by subtest. The child's age is computed once and checked
//! against the battery; the session yields each subtest's state, one subtest's
//! administration, the score request of the raw scores so far and the scored profile with
//! the adaptive scores behind its raw scores.
//!
//! Rules: a subtest counts as administered once anything was recorded for it; its raw score
//! for the norms is the fixed-form rules' raw score, or for an adaptive subtest the
//! raw-score equivalent of θ̂ ([`SubtestAdministration::raw_for_norms`]). The state is a
//! function of these inputs: the same log replays to the same session.

use std::sync::Arc;

use thiserror::Error;

use super::state::SubtestState;
use super::subtest::SubtestAdministration;
use super::{AdministrationError, Event};
use crate::age::{AgeError, ChronologicalAge, Date};
use crate::norms::NormSet;
use crate::profile::{AdaptiveScore, ScoredProfile, Scorer, ScoringOptions};
use crate::request::{RowError, ScoreRequest};

/// Why a session cannot be built or scored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SessionError {
    /// The test date precedes the birth date, or the age is outside the battery's range.
    #[error(transparent)]
    Age(#[from] AgeError),
    /// A log entry names a subtest the battery does not have.
    #[error("the log names subtest '{subtest}', which battery '{battery}' does not have")]
    UnknownSubtest {
        /// The subtest named.
        subtest: String,
        /// Battery id.
        battery: String,
    },
    /// More groups of events than the battery has subtests.
    #[error("the log has {groups} groups of events, but battery '{battery}' has {subtests} subtests")]
    GroupCount {
        /// Groups given.
        groups: usize,
        /// Subtests of the battery.
        subtests: usize,
        /// Battery id.
        battery: String,
    },
    /// A subtest's log does not replay: an event the rules refuse.
    #[error("the log of '{subtest}' does not replay: event {event} of its log: {error}")]
    Replay {
        /// Subtest id.
        subtest: String,
        /// Position of the event in the subtest's log (0-based).
        event: usize,
        /// Why it is refused.
        error: AdministrationError,
    },
    /// Nothing is recorded yet: there is nothing to score.
    #[error("no subtest has a response yet")]
    NothingRecorded,
    /// The raw scores do not make a score request (not expected: the rules keep them in range).
    #[error(transparent)]
    Score(#[from] RowError),
}

/// Every subtest of one child's session.
#[derive(Debug, Clone)]
pub struct SessionAdministration {
    norms: Arc<NormSet>,
    birth: Date,
    test: Date,
    age: ChronologicalAge,
    subtests: Vec<SubtestAdministration>,
}

impl SessionAdministration {
    /// The session after its log: `events[i]` holds the events of subtest `i` (battery order)
    /// in the order recorded; subtests past the end of `events` have none. A caller that
    /// works on one subtest may give that subtest's events alone: the others then start
    /// afresh. `session_id` seeds the adaptive subtests' choices.
    ///
    /// # Errors
    /// [`SessionError::Age`] for an age outside the battery's range (or a test date before
    /// birth), [`SessionError::GroupCount`] for more groups than subtests, and
    /// [`SessionError::Replay`] naming the subtest and the event its rules refuse.
    pub fn replay(
        norms: Arc<NormSet>,
        session_id: &str,
        birth: Date,
        test: Date,
        events: Vec<Vec<Event>>,
    ) -> Result<Self, SessionError> {
        let age = norms.battery.age_on(birth, test)?;
        let n = norms.battery.subtests.len();
        if events.len() > n {
            return Err(SessionError::GroupCount {
                groups: events.len(),
                subtests: n,
                battery: norms.battery.id.clone(),
            });
        }
        let months = age.in_months().0;
        let empty: &[Event] = &[];
        let subtests = (0..n)
            .map(|index| {
                let log = events.get(index).map_or(empty, Vec::as_slice);
                SubtestAdministration::replay(&norms, index, session_id, months, log).map_err(|e| {
                    let (event, error) = match e {
                        AdministrationError::Replay { index, error } => (index, *error),
                        other => (0, other),
                    };
                    SessionError::Replay {
                        subtest: norms.battery.subtests[index].id.clone(),
                        event,
                        error,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SessionAdministration {
            norms,
            birth,
            test,
            age,
            subtests,
        })
    }

    /// A session with nothing recorded (checks the age against the battery).
    ///
    /// # Errors
    /// [`SessionError::Age`].
    pub fn start(
        norms: Arc<NormSet>,
        session_id: &str,
        birth: Date,
        test: Date,
    ) -> Result<Self, SessionError> {
        Self::replay(norms, session_id, birth, test, Vec::new())
    }

    /// Groups a log whose entries name their subtest by id into the per-subtest lists
    /// [`SessionAdministration::replay`] takes, keeping each subtest's order.
    ///
    /// # Errors
    /// [`SessionError::UnknownSubtest`] for an entry naming no subtest of the battery.
    pub fn group_log<S: AsRef<str>>(
        norms: &NormSet,
        log: impl IntoIterator<Item = (S, Event)>,
    ) -> Result<Vec<Vec<Event>>, SessionError> {
        let mut events = vec![Vec::new(); norms.battery.subtests.len()];
        for (subtest, event) in log {
            let subtest = subtest.as_ref();
            let index = norms
                .battery
                .subtest_index(subtest)
                .ok_or_else(|| SessionError::UnknownSubtest {
                    subtest: subtest.to_owned(),
                    battery: norms.battery.id.clone(),
                })?;
            events[index].push(event);
        }
        Ok(events)
    }

    /// The norm set the session is administered and scored with.
    pub fn norms(&self) -> &NormSet {
        &self.norms
    }

    /// The child's calendar-exact age on the test date.
    pub fn age(&self) -> ChronologicalAge {
        self.age
    }

    /// Subtest `index`'s administration (battery position).
    ///
    /// # Panics
    /// When `index` is not a subtest of the battery.
    pub fn subtest(&self, index: usize) -> &SubtestAdministration {
        &self.subtests[index]
    }

    /// Records one event for subtest `index` under its rules; a refused event changes
    /// nothing.
    ///
    /// # Errors
    /// The [`AdministrationError`] of [`SubtestAdministration::record`].
    ///
    /// # Panics
    /// When `index` is not a subtest of the battery.
    pub fn record(&mut self, index: usize, event: Event) -> Result<(), AdministrationError> {
        self.subtests[index].record(event)
    }

    /// Every subtest's state, in battery order.
    pub fn states(&self) -> Vec<SubtestState> {
        self.subtests.iter().map(SubtestAdministration::state).collect()
    }

    /// The raw scores so far as a score request: per subtest
    /// [`SubtestAdministration::raw_for_norms`].
    ///
    /// # Errors
    /// [`SessionError::NothingRecorded`] while no subtest has a raw score.
    pub fn score_request(&self) -> Result<ScoreRequest, SessionError> {
        let raw: Vec<Option<u16>> = self
            .subtests
            .iter()
            .map(SubtestAdministration::raw_for_norms)
            .collect();
        if raw.iter().all(Option::is_none) {
            return Err(SessionError::NothingRecorded);
        }
        Ok(ScoreRequest::new(&self.norms, self.birth, self.test, raw)?)
    }

    /// θ̂ and SE of every adaptive subtest whose θ̂ exists, in battery order.
    pub fn adaptive_scores(&self) -> Vec<AdaptiveScore> {
        self.subtests
            .iter()
            .filter_map(SubtestAdministration::adaptive_score)
            .collect()
    }

    /// The session's scored profile under record id `id`: the raw scores so far scored with
    /// `options`, with the adaptive scores behind them.
    ///
    /// # Errors
    /// As [`SessionAdministration::score_request`].
    pub fn scored_profile(&self, id: &str, options: ScoringOptions) -> Result<ScoredProfile, SessionError> {
        let request = self.score_request()?;
        let profile = Scorer::new(&self.norms, options).score(&request);
        let mut scored = ScoredProfile::new(id, &request, &profile);
        scored.adaptive = self.adaptive_scores();
        Ok(scored)
    }
}
