//! Test sessions: starting one for a child, reading one with every subtest's administration
//! state, listing those the caller may see, and pausing, resuming and finishing one. A
//! session is pinned to the norm set its battery had when it started; its examiner owns it.

use std::sync::Arc;

use qabilet_core::administration::SubtestState;
use qabilet_core::{NormSet, ScoreRequest, age};

use super::audit::Audit;
use super::children::listed;
use super::fields;
use super::idempotency::request_key;
use super::names::page_after;
use super::{App, AppError, Caller};
use crate::auth::policy::{self, Action};
use crate::store::{Child, NewSession, Page, PageRequest, Session, SessionFilter, SessionState, StateChange};

/// A session with the state of each of its battery's subtests.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// The stored session (its test date as year and month for a researcher).
    pub session: Session,
    /// The norm set it is pinned to, when the server still has it (else no subtests).
    pub norms: Option<Arc<NormSet>>,
    /// Every subtest's administration state, in battery order (override reasons withheld
    /// from a researcher).
    pub subtests: Vec<SubtestState>,
}

/// A change of a session's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Active → paused.
    Pause,
    /// Paused → active.
    Resume,
    /// Active or paused → finished (the response log is then final).
    Finish,
}

impl Transition {
    fn name(self) -> &'static str {
        match self {
            Transition::Pause => "pause_session",
            Transition::Resume => "resume_session",
            Transition::Finish => "finish_session",
        }
    }

    fn states(self) -> (Vec<SessionState>, SessionState) {
        match self {
            Transition::Pause => (vec![SessionState::Active], SessionState::Paused),
            Transition::Resume => (vec![SessionState::Paused], SessionState::Active),
            Transition::Finish => (
                vec![SessionState::Active, SessionState::Paused],
                SessionState::Finished,
            ),
        }
    }
}

impl App {
    /// Starts a session of battery `battery` (`batteries/{id}`) for child `child` on
    /// `test_date`; a retry with the same `request_id` returns the session started first.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field (a malformed name or date, an age outside the
    /// battery's norms); `NOT_FOUND`; `PERMISSION_DENIED`.
    pub async fn start_session(
        &self,
        caller: &Caller,
        child: &str,
        battery: &str,
        test_date: &str,
        request_id: &str,
    ) -> Result<SessionView, AppError> {
        let mut audit = self.audit(caller, "start_session", "sessions");
        let result = self
            .start_session_in(caller, child, battery, test_date, request_id, &mut audit)
            .await;
        self.finish(audit, result).await
    }

    async fn start_session_in(
        &self,
        caller: &Caller,
        child: &str,
        battery: &str,
        test_date: &str,
        request_id: &str,
        audit: &mut Audit,
    ) -> Result<SessionView, AppError> {
        let rid = fields::request_id(request_id)?;
        let child = self
            .child_for(caller, child, "child", Action::StartSession, audit)
            .await?;
        let norms = self.battery(battery, "battery")?;
        let test =
            age::parse_date(test_date.trim()).map_err(|e| AppError::invalid("test_date", e.to_string()))?;
        let birth = stored_date(&child.birth_date, "birth date")?;
        // The same age check as scoring: the child must be within the norms on the test date.
        ScoreRequest::new(&norms, birth, test, vec![None; norms.battery.subtests.len()])
            .map_err(|e| AppError::invalid("test_date", e.to_string()))?;
        let test_date = test.to_string();
        let request = request_key(
            caller,
            rid,
            "start_session",
            &[&child.id, &norms.battery.id, &test_date],
        );
        let created = self
            .store
            .create_session(NewSession {
                child_id: child.id.clone(),
                battery_id: norms.battery.id.clone(),
                norm_set_hash: norms.id.hash.clone(),
                test_date,
                examiner: caller.principal.subject.clone(),
                request,
            })
            .await?;
        audit.resource(format!("sessions/{}", created.record.id));
        if created.existed {
            audit.detail("retry: the session started by the first attempt");
        }
        self.session_view(caller, created.record, &child).await
    }

    /// The session named `name` with its subtests' state.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed name, `NOT_FOUND`, `PERMISSION_DENIED`.
    pub async fn get_session(&self, caller: &Caller, name: &str) -> Result<SessionView, AppError> {
        let mut audit = self.audit(caller, "get_session", name);
        let result = async {
            let (session, child) = self
                .session_for(caller, name, "name", Action::ReadSession, &mut audit)
                .await?;
            self.session_view(caller, session, &child).await
        }
        .await;
        self.finish(audit, result).await
    }

    /// One page of sessions: those of child `child` (`children/{id}`), or without a child
    /// every session the caller may see (a psychologist's own, a centre's, all for an admin).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed name or page token, `NOT_FOUND`,
    /// `PERMISSION_DENIED`.
    pub async fn list_sessions(
        &self,
        caller: &Caller,
        child: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Session>, AppError> {
        let mut audit = self.audit(caller, "list_sessions", child.unwrap_or("sessions"));
        let result = self.list_sessions_in(caller, child, page, &mut audit).await;
        self.finish(audit, result).await
    }

    async fn list_sessions_in(
        &self,
        caller: &Caller,
        child: Option<&str>,
        page: PageRequest,
        audit: &mut Audit,
    ) -> Result<Page<Session>, AppError> {
        let page = page_after(page)?;
        let found = match child {
            None => {
                self.authorize(caller, Action::ListSessions, None, "sessions")?;
                // The store confines the list to the caller's scope, which lets through exactly
                // what the caller may read one by one (`policy::list_scope`).
                let (centre, examiner) = policy::list_scope(&caller.principal);
                self.store
                    .list_sessions(
                        SessionFilter {
                            child_id: None,
                            examiner,
                            centre,
                        },
                        page,
                    )
                    .await?
            }
            Some(name) => {
                let c = self
                    .child_for(caller, name, "child", Action::ListSessions, audit)
                    .await?;
                let mut found = self
                    .store
                    .list_sessions(
                        SessionFilter {
                            child_id: Some(c.id.clone()),
                            ..SessionFilter::default()
                        },
                        page,
                    )
                    .await?;
                // Of a child's sessions, a psychologist sees only those it examines.
                found.items.retain(|s| {
                    self.authorize_session(caller, Action::ReadSession, s, &c, name)
                        .is_ok()
                });
                found
            }
        };
        audit.detail(listed(found.items.iter().map(|s| s.id.as_str())));
        let deidentified = App::deidentified(caller);
        Ok(Page {
            items: found
                .items
                .into_iter()
                .map(|mut s| {
                    if deidentified {
                        policy::deidentify_session(&mut s);
                    }
                    s
                })
                .collect(),
            next: found.next,
        })
    }

    /// Pauses, resumes or finishes session `name`; idempotent on `request_id`, and a session
    /// already in the target state is answered as it is.
    ///
    /// # Errors
    /// `FAILED_PRECONDITION` when the session is in a state the change cannot start from;
    /// `INVALID_ARGUMENT` on `request_id` when this token used it for another request;
    /// `NOT_FOUND`, `PERMISSION_DENIED`.
    pub async fn change_session_state(
        &self,
        caller: &Caller,
        name: &str,
        transition: Transition,
        request_id: &str,
    ) -> Result<SessionView, AppError> {
        let mut audit = self.audit(caller, transition.name(), name);
        let result = async {
            let rid = fields::request_id(request_id)?;
            let (session, child) = self
                .session_for(caller, name, "name", Action::ChangeSessionState, &mut audit)
                .await?;
            let (from, to) = transition.states();
            let request = request_key(caller, rid, "change_session_state", &[&session.id, to.as_str()]);
            self.take_contexts.forget_session(&session.id);
            let changed = self
                .store
                .set_session_state(StateChange {
                    session_id: session.id.clone(),
                    from,
                    to,
                    request,
                })
                .await
                .map_err(|e| match e {
                    crate::store::StoreError::Conflict { .. } => AppError::FailedPrecondition(format!(
                        "{name} cannot be {}: {e}",
                        match transition {
                            Transition::Pause => "paused",
                            Transition::Resume => "resumed",
                            Transition::Finish => "finished",
                        }
                    )),
                    other => other.into(),
                })?;
            self.session_view(caller, changed.record, &child).await
        }
        .await;
        self.finish(audit, result).await
    }

    /// `session` as `caller` may see it, with its subtests replayed from the log.
    async fn session_view(
        &self,
        caller: &Caller,
        mut session: Session,
        child: &Child,
    ) -> Result<SessionView, AppError> {
        let (norms, subtests) = match self.pinned_norms(&session) {
            Ok(norms) => {
                let log = self.store.responses(&session.id).await?;
                let administration = super::replay::session(&norms, &session, child, &log)?;
                let mut states = administration.states();
                if App::deidentified(caller) {
                    states.iter_mut().for_each(super::replay::withhold_reasons);
                }
                (Some(norms), states)
            }
            Err(_) => (None, Vec::new()),
        };
        if App::deidentified(caller) {
            policy::deidentify_session(&mut session);
        }
        Ok(SessionView {
            session,
            norms,
            subtests,
        })
    }

    /// The norm set `session` is pinned to.
    ///
    /// # Errors
    /// `FAILED_PRECONDITION` when the server no longer has the battery, or has other norms
    /// for it.
    pub(crate) fn pinned_norms(&self, session: &Session) -> Result<Arc<NormSet>, AppError> {
        let norms = self.registry.get(&session.battery_id).cloned().ok_or_else(|| {
            AppError::FailedPrecondition(format!("battery '{}' is no longer loaded", session.battery_id))
        })?;
        if norms.id.hash != session.norm_set_hash {
            return Err(AppError::FailedPrecondition(format!(
                "the session is pinned to norm set {} but the server has {}: load those norms to continue",
                session.norm_set_hash, norms.id.hash
            )));
        }
        Ok(norms)
    }
}

/// A date the store holds (it was checked when stored).
pub(crate) fn stored_date(text: &str, what: &str) -> Result<qabilet_core::Date, AppError> {
    age::parse_date(text).map_err(|e| AppError::Internal(format!("stored {what}: {e}")))
}
