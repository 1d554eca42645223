//! Item responses: what the rules say comes next in a subtest, and recording a score under
//! them.
//!
//! A response is checked against the rules on the log as read, and appended only if the log
//! has not moved since (the store's expected-sequence check, in the append's own
//! transaction); when another request — in this process or on another replica sharing the
//! database — appended first, the log is read again and the response checked again. So any
//! number of replicas behave as one: the same due item scored at once through two of them is
//! recorded once, and the other call is refused by the rules (the item is no longer due). In
//! this process a per-session lock makes such re-reads rare.

use std::sync::Arc;

use qabilet_core::NormSet;
use qabilet_core::administration::{AdministrationError, Event, SubtestState};

use super::audit::Audit;
use super::fields;
use super::idempotency::request_key;
use super::names::session_name;
use super::{App, AppError, Caller};
use crate::auth::policy::{self, Action};
use crate::store::SubtestContext;
use crate::store::{NewResponse, RequestKey, Session, SessionState, StoreError};

/// Times a response is checked again after another request appended first, before the
/// caller is asked to retry.
const MAX_STALE_RETRIES: usize = 8;
/// Longest item or subtest id accepted.
const MAX_ID_CHARS: usize = 64;

/// A subtest's state in a session.
#[derive(Debug, Clone)]
pub struct SubtestView {
    /// The session (its test date as year and month for a researcher).
    pub session: Session,
    /// The norm set it is pinned to.
    pub norms: Arc<NormSet>,
    /// The subtest's position in the battery.
    pub index: usize,
    /// Its administration state (override reasons withheld from a researcher).
    pub state: SubtestState,
    /// How many responses the session's whole log holds.
    pub log_len: i64,
    /// The subtest's context as this call's append left it (none when nothing was
    /// appended, or for a researcher).
    pub(crate) appended: Option<SubtestContext>,
}

/// What lets a caller write to a session: the policy (a token's role, centre and subject),
/// or a child's ticket, bound to the one session it opened.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Grant<'a> {
    /// `auth::policy` decides.
    Policy,
    /// Only this session.
    Ticket {
        /// The session the ticket opened.
        session_id: &'a str,
    },
}

/// What the examiner records: an item's score, or a speed subtest's total.
#[derive(Debug, Clone, Default)]
pub struct ResponseInput {
    /// The item scored; empty for a speed subtest's total.
    pub item: String,
    /// The score, or the total raw score.
    pub score: u32,
    /// Why the examiner departs from the rules; empty for none.
    pub override_reason: String,
}

impl App {
    /// What the rules say comes next in subtest `subtest` of session `session`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed name or an unknown subtest; `NOT_FOUND`;
    /// `PERMISSION_DENIED`; `FAILED_PRECONDITION` when the session's norms are gone.
    pub async fn next_item(
        &self,
        caller: &Caller,
        session: &str,
        subtest: &str,
    ) -> Result<SubtestView, AppError> {
        let mut audit = self.audit(caller, "get_next_item", format!("{session}/subtests/{subtest}"));
        let result = async {
            let id = session_name(session, "session")?;
            check_id("subtest", subtest)?;
            let ctx = self.store.subtest_context(id, subtest).await?;
            audit.child(&ctx.child.id);
            self.authorize_session(caller, Action::ReadSession, &ctx.session, &ctx.child, session)?;
            let norms = self.pinned_norms(&ctx.session)?;
            let index = subtest_index(&norms, subtest)?;
            let admin = super::replay::subtest(&norms, &ctx, index)?;
            Ok(self.subtest_view(caller, ctx.session, norms, index, admin.state(), ctx.last_seq))
        }
        .await;
        self.finish(audit, result).await
    }

    /// Records one response in subtest `subtest` of session `session` under the rules; a
    /// retry with the same `request_id` is answered from the log, applied once.
    ///
    /// # Errors
    /// `FAILED_PRECONDITION` when the rules refuse it (an item not due without an override
    /// reason, a second score) or the session is not active; `INVALID_ARGUMENT` naming the
    /// field (unknown item, a score above the item's maximum, a reason too long or with
    /// hidden characters, a request id this token used for another response); `NOT_FOUND`;
    /// `PERMISSION_DENIED`; `UNAVAILABLE` when other requests kept appending first.
    pub async fn record_response(
        &self,
        caller: &Caller,
        session: &str,
        subtest: &str,
        input: ResponseInput,
        request_id: &str,
    ) -> Result<SubtestView, AppError> {
        let mut audit = self.audit(caller, "record_response", format!("{session}/subtests/{subtest}"));
        let result = self
            .record_response_in(
                caller,
                Grant::Policy,
                session,
                subtest,
                None,
                input,
                request_id,
                &mut audit,
            )
            .await;
        self.finish(audit, result).await
    }

    /// Records a response in a session `caller` may write to by `grant`; `read` is the
    /// session's context for the subtest when the caller has just read it (it is read here
    /// otherwise, and again whenever the append finds it stale).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_response_in(
        &self,
        caller: &Caller,
        grant: Grant<'_>,
        session: &str,
        subtest: &str,
        read: Option<SubtestContext>,
        input: ResponseInput,
        request_id: &str,
        audit: &mut Audit,
    ) -> Result<SubtestView, AppError> {
        let id = session_name(session, "session")?;
        check_id("subtest", subtest)?;
        check_id("item", &input.item)?;
        let rid = fields::request_id(request_id)?;
        let score = u16::try_from(input.score).map_err(|_| AppError::invalid("score", "too large"))?;
        let reason = fields::free_text(
            "override_reason",
            &input.override_reason,
            fields::MAX_REASON_CHARS,
        )?;
        let event = if input.item.is_empty() {
            Event::Total {
                raw: score,
                override_reason: reason.clone(),
            }
        } else {
            Event::Score {
                item: input.item.clone(),
                score,
                override_reason: reason.clone(),
            }
        };
        let payload = serde_json::to_string(&event).map_err(|e| AppError::Internal(e.to_string()))?;
        let request = request_key(caller, rid, "record_response", &[id, subtest, &payload]);

        // Authorized before the session's lock is taken: nobody may queue on the lock of a
        // session it cannot write to.
        let mut ctx = match read {
            Some(ctx) if ctx.session.id == id => ctx,
            _ => self.store.subtest_context(id, subtest).await?,
        };
        audit.child(&ctx.child.id);
        match grant {
            Grant::Policy => {
                self.authorize_session(caller, Action::RecordResponse, &ctx.session, &ctx.child, session)?;
            }
            Grant::Ticket { session_id } if session_id == ctx.session.id => {}
            Grant::Ticket { .. } => return Err(AppError::denied(session)),
        }
        let lock = self.session_lock(id);
        let _held = lock.lock().await;
        for attempt in 0..MAX_STALE_RETRIES {
            if attempt > 0 {
                ctx = self.store.subtest_context(id, subtest).await?;
            }
            let norms = self.pinned_norms(&ctx.session)?;
            let index = subtest_index(&norms, subtest)?;
            let mut admin = super::replay::subtest(&norms, &ctx, index)?;
            // A retry of a response this subtest's log holds: answered from the log (the
            // rules would refuse the item as already scored), whatever the session's state.
            if let Some(key) = &request
                && let Some(prior) = ctx.responses.iter().find(|r| {
                    r.request
                        .as_ref()
                        .is_some_and(|k| k.token_id == key.token_id && k.request_id == key.request_id)
                })
            {
                if prior
                    .request
                    .as_ref()
                    .is_some_and(|k| k.fingerprint != key.fingerprint)
                {
                    return Err(StoreError::RequestReused { what: "response" }.into());
                }
                audit.detail("retry: answered from the log");
                return Ok(self.subtest_view(caller, ctx.session, norms, index, admin.state(), ctx.last_seq));
            }
            if ctx.session.state != SessionState::Active {
                return Err(not_active(session, ctx.session.state));
            }
            // Every appended event has passed the rules on the log it is appended after.
            if let Err(refused) = admin.record(event.clone()) {
                return Err(self.refusal(id, request.as_ref(), refused).await);
            }
            let appended = self
                .store
                .append_response(
                    NewResponse {
                        session_id: id.to_owned(),
                        subtest: subtest.to_owned(),
                        payload: payload.clone(),
                        request: request.clone(),
                        after_seq: ctx.last_seq,
                    },
                    Some(audit.entry_for_write()),
                )
                .await;
            match appended {
                Ok(created) if !created.existed => {
                    audit.written();
                    let len = created.record.seq;
                    let mut after = ctx;
                    after.last_seq = created.record.seq;
                    after.responses.push(created.record);
                    let mut view =
                        self.subtest_view(caller, after.session.clone(), norms, index, admin.state(), len);
                    if !App::deidentified(caller) {
                        view.appended = Some(after);
                    }
                    return Ok(view);
                }
                Ok(_) => {
                    // Stored meanwhile under this key (a retry racing its original): nothing
                    // applied; answer from the log as it is now.
                    audit.detail("retry: answered from the log");
                    let now = self.store.subtest_context(id, subtest).await?;
                    let state = super::replay::subtest(&norms, &now, index)?.state();
                    return Ok(self.subtest_view(caller, now.session, norms, index, state, now.last_seq));
                }
                // The log moved, or the session was paused or finished, since it was read:
                // read it again and check again.
                Err(StoreError::Stale { .. } | StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable(format!(
            "{session} is being written by other requests; retry with the same request_id"
        )))
    }

    /// The error of a response the rules refuse; a request id this token used for another
    /// response (in another subtest) is named as such rather than as the rules' refusal.
    async fn refusal(
        &self,
        session_id: &str,
        request: Option<&RequestKey>,
        refused: AdministrationError,
    ) -> AppError {
        if let Some(key) = request
            && let Ok(log) = self.store.responses(session_id).await
            && log.iter().any(|r| {
                r.request
                    .as_ref()
                    .is_some_and(|k| k.token_id == key.token_id && k.request_id == key.request_id)
            })
        {
            return StoreError::RequestReused { what: "response" }.into();
        }
        administration_error(refused)
    }

    fn subtest_view(
        &self,
        caller: &Caller,
        mut session: Session,
        norms: Arc<NormSet>,
        index: usize,
        mut state: SubtestState,
        log_len: i64,
    ) -> SubtestView {
        if App::deidentified(caller) {
            super::replay::withhold_reasons(&mut state);
            policy::deidentify_session(&mut session);
        }
        SubtestView {
            session,
            norms,
            index,
            state,
            log_len,
            appended: None,
        }
    }

    /// The in-process lock of session `id`.
    fn session_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .session_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget locks nobody holds, so the table does not grow with every session ever seen.
        if locks.len() > 1024 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(id.to_owned()).or_default().clone()
    }
}

fn not_active(session: &str, state: SessionState) -> AppError {
    AppError::FailedPrecondition(format!("{session} is {}: resume it first", state.as_str()))
}

fn check_id(field: &str, id: &str) -> Result<(), AppError> {
    if id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_ID_CHARS} characters, no control characters"),
        ));
    }
    Ok(())
}

pub(crate) fn subtest_index(norms: &NormSet, id: &str) -> Result<usize, AppError> {
    norms
        .battery
        .subtest_index(id)
        .ok_or_else(|| AppError::invalid("subtest", format!("the battery has no subtest '{id}'")))
}

/// A refusal of the rules: a state error when the item is not due or already scored, bad
/// input otherwise.
fn administration_error(e: AdministrationError) -> AppError {
    match &e {
        AdministrationError::NotDue { .. }
        | AdministrationError::NotPending { .. }
        | AdministrationError::AlreadyScored { .. }
        | AdministrationError::TotalAlreadyEntered { .. } => AppError::FailedPrecondition(e.to_string()),
        AdministrationError::AdaptiveOverride { .. } | AdministrationError::EmptyOverrideReason { .. } => {
            AppError::invalid("override_reason", e.to_string())
        }
        AdministrationError::Adaptive { .. } | AdministrationError::Replay { .. } => {
            AppError::Internal(e.to_string())
        }
        AdministrationError::UnknownItem { .. } => AppError::invalid("item", e.to_string()),
        _ => AppError::invalid("score", e.to_string()),
    }
}
