//! One subtest's administration in a session, whichever way it is given: by the fixed-form
//! rules (`qabilet_core::administration::Administration`) or adaptively from its item bank
//! (`AdaptiveAdministration`, seeded from the session and subtest ids), replayed from the
//! subtest's part of the response log; and its state as the API reports it.

use std::sync::Arc;

use qabilet_core::NormSet;
use qabilet_core::administration::{
    AdaptiveAdministration, AdaptiveNext, Administration, AdministrationError, DoneReason, Event, Next,
    Phase, adaptive_seed,
};
use qabilet_core::irt::Status as EstimateStatus;
use tonic::Status;

use super::pb;

/// A subtest's administration.
pub(super) enum SubtestAdministration {
    /// By the battery's start, reversal and discontinue rules (both boxed: their states are
    /// large and of different sizes).
    Fixed(Box<Administration>),
    /// By the CAT engine.
    Adaptive(Box<AdaptiveAdministration>),
}

impl SubtestAdministration {
    /// Subtest `index` of `norms` in session `session_id` for a child of `age_months`,
    /// after `events`.
    pub(super) fn replay(
        norms: &NormSet,
        index: usize,
        session_id: &str,
        age_months: u16,
        events: &[Event],
    ) -> Result<Self, Status> {
        let subtest = &norms.battery.subtests[index];
        let replayed = match &norms.adaptive[index] {
            Some(form) => AdaptiveAdministration::replay(
                Arc::clone(form),
                adaptive_seed(session_id, &subtest.id),
                events,
            )
            .map(|a| Self::Adaptive(Box::new(a))),
            None => Administration::replay(subtest, age_months, events).map(|a| Self::Fixed(Box::new(a))),
        };
        replayed.map_err(|e| Status::internal(format!("the log of '{}' does not replay: {e}", subtest.id)))
    }

    /// Records one event under the subtest's rules; a refused event changes nothing.
    pub(super) fn record(&mut self, event: Event) -> Result<(), AdministrationError> {
        match self {
            Self::Fixed(a) => a.record(event),
            Self::Adaptive(a) => a.record(event),
        }
    }

    /// The accepted events.
    pub(super) fn events(&self) -> &[Event] {
        match self {
            Self::Fixed(a) => a.events(),
            Self::Adaptive(a) => a.events(),
        }
    }

    /// The raw score the norms are looked up with, once anything was recorded: the rules'
    /// raw score, or an adaptive subtest's raw-score equivalent (none while θ̂ is not
    /// estimable).
    pub(super) fn raw_for_norms(&self) -> Option<u16> {
        if self.events().is_empty() {
            return None;
        }
        match self {
            Self::Fixed(a) => Some(a.raw_score().raw),
            Self::Adaptive(a) => a.result().raw_equivalent,
        }
    }

    /// The adaptive part of a subtest's normed score, for an adaptive subtest with θ̂.
    pub(super) fn adaptive_score(&self) -> Option<pb::AdaptiveScore> {
        let Self::Adaptive(a) = self else { return None };
        let r = a.result();
        let (theta, se) = (r.theta?, r.se?);
        Some(pb::AdaptiveScore {
            theta,
            theta_se: se,
            estimator: r.estimator.to_string(),
            items_administered: r.items_administered as u32,
            bank_items: a.form().engine().bank().items.len() as u32,
            stop_reason: r.stop.map(|s| s.to_string()).unwrap_or_default(),
        })
    }

    /// The state the API reports.
    pub(super) fn state(&self) -> pb::SubtestState {
        match self {
            Self::Fixed(a) => fixed_state(a),
            Self::Adaptive(a) => adaptive_state(a),
        }
    }
}

fn fixed_state(a: &Administration) -> pb::SubtestState {
    let summary = a.state();
    let raw = a.raw_score();
    let mut m = pb::SubtestState {
        subtest: summary.subtest.clone(),
        start_item: summary.start_item.clone().unwrap_or_default(),
        basal_item: summary.basal_item.clone().unwrap_or_default(),
        discontinued_after: summary.discontinued_after.clone().unwrap_or_default(),
        raw_score: u32::from(raw.raw),
        items_administered: summary.administered.len() as u32,
        overrides: summary
            .overrides
            .iter()
            .map(|o| pb::Override {
                item: o.item.clone().unwrap_or_default(),
                reason: o.reason.clone(),
            })
            .collect(),
        ..Default::default()
    };
    match &summary.next {
        Next::Item { id, phase } => {
            m.next_item = id.clone();
            m.phase = match phase {
                Phase::Forward => "forward",
                Phase::Reversal => "reversal",
            }
            .to_owned();
        }
        Next::Total { .. } => m.phase = "total".to_owned(),
        Next::Done { reason } => {
            m.done = true;
            m.done_reason = match reason {
                DoneReason::Discontinued { .. } => "discontinued",
                DoneReason::LastItem => "last_item",
                DoneReason::TotalEntered => "total_entered",
            }
            .to_owned();
        }
    }
    m
}

fn adaptive_state(a: &AdaptiveAdministration) -> pb::SubtestState {
    let r = a.result();
    let ok = r.status == EstimateStatus::Ok;
    let mut m = pb::SubtestState {
        subtest: a.form().subtest().id.clone(),
        phase: "adaptive".to_owned(),
        raw_score: r.raw_equivalent.map_or(0, u32::from),
        items_administered: r.items_administered as u32,
        adaptive: true,
        theta: r.theta.filter(|_| ok),
        theta_se: r.se.filter(|_| ok),
        estimator: r.estimator.to_string(),
        ..Default::default()
    };
    match a.next() {
        AdaptiveNext::Item { id } => m.next_item = id.clone(),
        AdaptiveNext::Done { reason } => {
            m.done = true;
            m.done_reason = reason.to_string();
        }
    }
    m
}
