//! Where one subtest of a session stands, as an interface shows it: the next item and how it
//! is given, why the subtest ended, the rule state (start, basal, discontinue point), the raw
//! score so far, the overrides with their reasons, and for an adaptive subtest θ̂ and its SE.
//! Plain data, the same for both ways a subtest is given ([`super::SubtestAdministration`]).

use serde::{Deserialize, Serialize};

use super::adaptive::AdaptiveAdministration;
use super::event::OverrideRecord;
use super::fixed::Administration;
use super::rules::{DoneReason, Next, Phase};
use crate::cat::StopReason;
use crate::irt::{Estimator, Status};

/// How the next item (or score) of a subtest is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtestPhase {
    /// Upward from the start item, or onward after a reversal.
    Forward,
    /// Below the start item, downward, looking for the basal.
    Reversal,
    /// A subtest without items: its total raw score is due.
    Total,
    /// Chosen by the adaptive engine (for as long as the subtest lasts).
    Adaptive,
}

impl SubtestPhase {
    /// The code an interface shows: `forward`, `reversal`, `total`, `adaptive`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubtestPhase::Forward => "forward",
            SubtestPhase::Reversal => "reversal",
            SubtestPhase::Total => "total",
            SubtestPhase::Adaptive => "adaptive",
        }
    }
}

/// Why a subtest has ended, whichever way it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The discontinue rule was met.
    Discontinued,
    /// No item follows the highest one administered.
    LastItem,
    /// The total of a subtest without items was entered.
    TotalEntered,
    /// Adaptive: `max_items` were given.
    MaxItems,
    /// Adaptive: the SE of θ̂ reached its target.
    SeTarget,
    /// Adaptive: no item was left to give.
    BankExhausted,
}

impl EndReason {
    /// The code an interface shows: `discontinued`, `last_item`, `total_entered`,
    /// `max_items`, `se_target`, `bank_exhausted`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Discontinued => "discontinued",
            EndReason::LastItem => "last_item",
            EndReason::TotalEntered => "total_entered",
            EndReason::MaxItems => "max_items",
            EndReason::SeTarget => "se_target",
            EndReason::BankExhausted => "bank_exhausted",
        }
    }
}

impl From<&DoneReason> for EndReason {
    fn from(d: &DoneReason) -> Self {
        match d {
            DoneReason::Discontinued { .. } => EndReason::Discontinued,
            DoneReason::LastItem => EndReason::LastItem,
            DoneReason::TotalEntered => EndReason::TotalEntered,
        }
    }
}

impl From<StopReason> for EndReason {
    fn from(s: StopReason) -> Self {
        match s {
            StopReason::MaxItems => EndReason::MaxItems,
            StopReason::SeTarget => EndReason::SeTarget,
            StopReason::BankExhausted => EndReason::BankExhausted,
        }
    }
}

/// θ̂ of an adaptive subtest after the responses so far, by its final estimator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveEstimate {
    /// θ̂; `None` before the first response or while not estimable.
    pub theta: Option<f64>,
    /// Its standard error, when θ̂ exists.
    pub se: Option<f64>,
    /// The estimator.
    pub estimator: Estimator,
}

/// Where one subtest stands under its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubtestState {
    /// Subtest id.
    pub subtest: String,
    /// The item due next (for an adaptive subtest the pending item, the only one that may be
    /// scored); `None` when the subtest has ended or takes a total.
    pub next_item: Option<String>,
    /// How the next item is given; for an adaptive subtest always
    /// [`SubtestPhase::Adaptive`]; `None` once a fixed-form subtest has ended.
    pub phase: Option<SubtestPhase>,
    /// Why the subtest ended; `None` while it goes on.
    pub done: Option<EndReason>,
    /// Start item (fixed form with items).
    pub start_item: Option<String>,
    /// Lowest item of the basal, once established (fixed form).
    pub basal_item: Option<String>,
    /// The discontinue point, once the rule is met (fixed form).
    pub discontinued_after: Option<String>,
    /// Raw score under the rules so far; for an adaptive subtest the raw-score equivalent of
    /// θ̂ (0 while θ̂ does not exist).
    pub raw_score: u16,
    /// Items scored.
    pub items_administered: usize,
    /// Every accepted override, with its reason, in log order.
    pub overrides: Vec<OverrideRecord>,
    /// θ̂ and SE, for an adaptive subtest.
    pub adaptive: Option<AdaptiveEstimate>,
}

impl SubtestState {
    /// The state of a fixed-form administration.
    pub(super) fn fixed(a: &Administration) -> Self {
        let summary = a.state();
        let raw = a.raw_score();
        let (next_item, phase, done) = match &summary.next {
            Next::Item { id, phase } => (
                Some(id.clone()),
                Some(match phase {
                    Phase::Forward => SubtestPhase::Forward,
                    Phase::Reversal => SubtestPhase::Reversal,
                }),
                None,
            ),
            Next::Total { .. } => (None, Some(SubtestPhase::Total), None),
            Next::Done { reason } => (None, None, Some(EndReason::from(reason))),
        };
        SubtestState {
            subtest: summary.subtest,
            next_item,
            phase,
            done,
            start_item: summary.start_item,
            basal_item: summary.basal_item,
            discontinued_after: summary.discontinued_after,
            raw_score: raw.raw,
            items_administered: summary.administered.len(),
            overrides: summary.overrides,
            adaptive: None,
        }
    }

    /// The state of an adaptive administration.
    pub(super) fn adaptive(a: &AdaptiveAdministration) -> Self {
        let r = a.result();
        let ok = r.status == Status::Ok;
        let (next_item, done) = match a.next() {
            super::AdaptiveNext::Item { id } => (Some(id.clone()), None),
            super::AdaptiveNext::Done { reason } => (None, Some(EndReason::from(*reason))),
        };
        SubtestState {
            subtest: a.form().subtest().id.clone(),
            next_item,
            phase: Some(SubtestPhase::Adaptive),
            done,
            start_item: None,
            basal_item: None,
            discontinued_after: None,
            raw_score: r.raw_equivalent.unwrap_or(0),
            items_administered: r.items_administered,
            overrides: Vec::new(),
            adaptive: Some(AdaptiveEstimate {
                theta: r.theta.filter(|_| ok),
                se: r.se.filter(|_| ok),
                estimator: r.estimator,
            }),
        }
    }
}
