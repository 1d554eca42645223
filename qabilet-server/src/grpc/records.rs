//! Records as messages: children, sessions with their subtests' administration state, and
//! timestamps (RFC 3339, UTC).

use qabilet_core::NormSet;

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
    let personal =
        |v: &Option<store::Personal>| v.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default();
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
    m.subtests = view.subtests.iter().map(convert::subtest_state).collect();
    m
}
