//! Store records as messages: children (personal fields blank and the birth date cut to
//! year and month for a de-identified role), sessions, and timestamps (RFC 3339, UTC).

use qabilet_core::NormSet;

use super::convert;
use super::pb::{self, SessionState as PbState};
use crate::auth::Principal;
use crate::auth::policy;
use crate::store::{self, SessionState};

/// A store timestamp (Unix milliseconds) as RFC 3339.
pub fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A child as `p` may see it.
pub fn child(c: &store::Child, p: &Principal) -> pb::Child {
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
    let deidentified = policy::deidentified(p);
    let personal = |v: &Option<store::Personal>| {
        if deidentified {
            String::new()
        } else {
            v.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default()
        }
    };
    pb::Child {
        name: format!("children/{id}"),
        code: code.clone(),
        // De-identified reads give the year and month of birth only.
        birth_date: if deidentified {
            birth_date.chars().take(7).collect()
        } else {
            birth_date.clone()
        },
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
