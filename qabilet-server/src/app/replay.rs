//! Replay: a session's administration rebuilt from its stored response log by the core's
//! rules (`qabilet_core::administration`). The log is the only state; this is where stored
//! records meet the core's session types.

use std::sync::Arc;

use qabilet_core::NormSet;
use qabilet_core::administration::{Event, SessionAdministration, SubtestAdministration, SubtestState};

use super::AppError;
use super::sessions::stored_date;
use crate::store::{Child, Response, Session, SubtestContext};

/// The event of a stored response.
fn event(r: &Response) -> Result<Event, AppError> {
    serde_json::from_str(&r.payload).map_err(|e| {
        AppError::Internal(format!(
            "response {} of session {} is unreadable: {e}",
            r.seq, r.session_id
        ))
    })
}

/// The whole session, replayed from its log.
pub(crate) fn session(
    norms: &Arc<NormSet>,
    session: &Session,
    child: &Child,
    log: &[Response],
) -> Result<SessionAdministration, AppError> {
    let birth = stored_date(&child.birth_date, "birth date")?;
    let test = stored_date(&session.test_date, "test date")?;
    let entries = log
        .iter()
        .map(|r| event(r).map(|e| (r.subtest.as_str(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    let fault = |e: &dyn std::fmt::Display| AppError::Internal(format!("session {}: {e}", session.id));
    let events = SessionAdministration::group_log(norms, entries).map_err(|e| fault(&e))?;
    SessionAdministration::replay(norms.clone(), &session.id, birth, test, events).map_err(|e| fault(&e))
}

/// Subtest `index` of the session of `ctx`, replayed from that subtest's part of the log.
pub(crate) fn subtest(
    norms: &NormSet,
    ctx: &SubtestContext,
    index: usize,
) -> Result<SubtestAdministration, AppError> {
    let birth = stored_date(&ctx.child.birth_date, "birth date")?;
    let test = stored_date(&ctx.session.test_date, "test date")?;
    let fault = |e: &dyn std::fmt::Display| AppError::Internal(format!("session {}: {e}", ctx.session.id));
    let age = norms.battery.age_on(birth, test).map_err(|e| fault(&e))?;
    let events = ctx.responses.iter().map(event).collect::<Result<Vec<_>, _>>()?;
    SubtestAdministration::replay(norms, index, &ctx.session.id, age.in_months().0, &events)
        .map_err(|e| fault(&e))
}

/// Removes the examiners' free-text override reasons (kept: which items were overridden).
pub(crate) fn withhold_reasons(state: &mut SubtestState) {
    for o in &mut state.overrides {
        o.reason.clear();
    }
}
