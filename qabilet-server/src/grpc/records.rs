//! Records as messages: children, sessions with their subtests' administration state, and
//! timestamps (RFC 3339, UTC).

use qabilet_core::NormSet;
use qabilet_core::administration::{AdaptiveEstimate, SubtestState};

use super::convert;
use super::pb::{self, SessionState as PbState};
use crate::app::SessionView;
use crate::store::{self, SessionState};

pub use crate::store::rfc3339 as time;

/// A child as the application layer returned it (already de-identified for a researcher).
pub fn child(c: &store::Child) -> pb::Child {
    let store::Child {
        id,
        code,
        birth_date,
        sex,
        test_language,
        centre,
        owner: _,
        given_name,
        family_name,
        notes,
        created_at,
    } = c;
    let personal = |v: &Option<store::Personal>| v.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default();
    pb::Child {
        name: format!("children/{id}"),
        code: code.clone(),
        birth_date: birth_date.clone(),
        sex: sex.clone().unwrap_or_default(),
        test_language: test_language.clone(),
        centre: centre.clone(),
        given_name: personal(given_name),
        family_name: personal(family_name),
        notes: personal(notes),
        create_time: time(*created_at),
    }
}

/// A session without its subtests (the service adds them).
pub fn session(s: &store::Session, norms: Option<&NormSet>) -> pb::Session {
    pb::Session {
        name: format!("sessions/{}", s.id),
        child: format!("children/{}", s.child_id),
        battery: format!("batteries/{}", s.battery_id),
        norm_set: norms.map(|n| convert::norm_set(&n.id)),
        test_date: s.test_date.clone(),
        examiner: s.examiner.clone(),
        state: match s.state {
            SessionState::Active => PbState::Active,
            SessionState::Paused => PbState::Paused,
            SessionState::Finished => PbState::Finished,
        } as i32,
        create_time: time(s.created_at),
        finish_time: s.finished_at.map(time).unwrap_or_default(),
        subtests: Vec::new(),
    }
}

/// A session with its subtests' state.
pub fn session_view(view: &SessionView) -> pb::Session {
    let mut m = session(&view.session, view.norms.as_deref());
    m.subtests = view.subtests.iter().map(subtest_state).collect();
    m
}

/// A subtest's administration state.
pub fn subtest_state(s: &SubtestState) -> pb::SubtestState {
    let SubtestState {
        subtest,
        next_item,
        phase,
        done,
        start_item,
        basal_item,
        discontinued_after,
        raw_score,
        items_administered,
        overrides,
        adaptive,
    } = s;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (theta, theta_se, estimator) = match adaptive {
        Some(AdaptiveEstimate { theta, se, estimator }) => (*theta, *se, estimator.to_string()),
        None => (None, None, String::new()),
    };
    pb::SubtestState {
        subtest: subtest.clone(),
        next_item: text(next_item),
        phase: phase.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        done: done.is_some(),
        done_reason: done.map(|d| d.as_str().to_owned()).unwrap_or_default(),
        start_item: text(start_item),
        basal_item: text(basal_item),
        discontinued_after: text(discontinued_after),
        raw_score: u32::from(*raw_score),
        items_administered: *items_administered as u32,
        overrides: overrides
            .iter()
            .map(|o| pb::Override {
                item: o.item.clone().unwrap_or_default(),
                reason: o.reason.clone(),
            })
            .collect(),
        adaptive: adaptive.is_some(),
        theta,
        theta_se,
        estimator,
    }
}
