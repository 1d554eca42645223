//! `Assessment`: children, sessions and item responses under the battery's administration
//! rules (`qabilet_core::administration`), with results computed from the response log
//! through `qabilet-core`, pinned to the norm set the session started with.
//!
//! Every call authenticates its bearer token, checks the role's permission on the child or
//! session (`auth::policy`) and writes an audit entry for every read or change of a child's
//! data. Responses are appended to the store's log only after the rules accept them; a
//! retried request (same `request_id`) is answered from the log without being applied twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use qabilet_core::administration::{Event, SessionAdministration, SessionError};
use qabilet_core::profile::ScoredProfile;
use qabilet_core::{Date, NormSet, ScoringOptions, age};
use tonic::{Request, Response, Status};

use super::pb;
use super::pb::assessment_server::Assessment;
use super::registry::{Registry, battery_id};
use super::requests::{page, request_id, session_id};
use super::{convert, records, status};
use crate::auth::policy::{self, Action, Owned};
use crate::auth::{Authenticator, Principal};
use crate::store::{self, AuditEntry, ChildFilter, NewChild, NewResponse, NewSession, SessionState, Store};

/// The service.
pub struct AssessmentService {
    registry: Arc<Registry>,
    store: Arc<dyn Store>,
    auth: Arc<Authenticator>,
    /// One lock per session: a response is checked against the rules and appended under it,
    /// so two concurrent responses to one session are applied one after the other. (Across
    /// replicas the store's per-session sequence keeps the log consistent; see BENCHMARKS.md.)
    session_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl AssessmentService {
    /// The service over `store`, scoring with the batteries of `registry`.
    pub fn new(registry: Arc<Registry>, store: Arc<dyn Store>, auth: Arc<Authenticator>) -> Self {
        AssessmentService {
            registry,
            store,
            auth,
            session_locks: Mutex::new(HashMap::new()),
        }
    }

    pub(super) async fn principal<T>(&self, request: &Request<T>) -> Result<Principal, Status> {
        self.auth.authenticate(request.metadata()).await
    }

    pub(super) async fn audit(
        &self,
        p: &Principal,
        action: &str,
        resource: &str,
        child_id: Option<&str>,
    ) -> Result<(), Status> {
        self.store
            .audit(AuditEntry {
                principal: p.subject.clone(),
                action: action.to_owned(),
                resource: resource.to_owned(),
                child_id: child_id.map(str::to_owned),
            })
            .await
            .map(|_| ())
            .map_err(status::store)
    }

    /// The child named `name` (`children/{id}`), if `p` may do `action` on it.
    async fn child(
        &self,
        p: &Principal,
        name: &str,
        field: &str,
        action: Action,
    ) -> Result<store::Child, Status> {
        let id = name
            .strip_prefix("children/")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| status::invalid_argument(field, "must be children/{id}"))?;
        let child = self.store.get_child(id).await.map_err(status::store)?;
        if !policy::allowed(
            p,
            action,
            Some(Owned {
                centre: &child.centre,
                owner: &child.owner,
            }),
        ) {
            return Err(Status::permission_denied(format!(
                "{name}: not permitted for this token"
            )));
        }
        Ok(child)
    }

    /// The session named `name` (`sessions/{id}`) and its child, if `p` may do `action`.
    pub(super) async fn session(
        &self,
        p: &Principal,
        name: &str,
        field: &str,
        action: Action,
    ) -> Result<(store::Session, store::Child), Status> {
        let id = session_id(name, field)?;
        let session = self.store.get_session(id).await.map_err(status::store)?;
        let child = self
            .store
            .get_child(&session.child_id)
            .await
            .map_err(status::store)?;
        authorize_session(p, name, action, &session, &child)?;
        Ok((session, child))
    }

    /// The norm set a session is pinned to; an error when the server now has other norms.
    pub(super) fn pinned_norms(&self, session: &store::Session) -> Result<Arc<NormSet>, Status> {
        let norms = self.registry.get(&session.battery_id).cloned().ok_or_else(|| {
            Status::failed_precondition(format!("battery '{}' is no longer loaded", session.battery_id))
        })?;
        if norms.id.hash != session.norm_set_hash {
            return Err(Status::failed_precondition(format!(
                "the session is pinned to norm set {} but the server has {}: load those norms to continue",
                session.norm_set_hash, norms.id.hash
            )));
        }
        Ok(norms)
    }

    /// The session's administration, replayed from its whole response log.
    async fn administration(
        &self,
        session: &store::Session,
        child: &store::Child,
        norms: Arc<NormSet>,
    ) -> Result<SessionAdministration, Status> {
        let log = self.store.responses(&session.id).await.map_err(status::store)?;
        replay(norms, session, child, &log)
    }

    /// The session named `name`, its child and its responses to `subtest` (read together, in
    /// one store call), if `p` may do `action`.
    async fn subtest_context(
        &self,
        p: &Principal,
        name: &str,
        subtest: &str,
        action: Action,
    ) -> Result<store::SubtestContext, Status> {
        let id = session_id(name, "session")?;
        let ctx = self
            .store
            .subtest_context(id, subtest)
            .await
            .map_err(status::store)?;
        authorize_session(p, name, action, &ctx.session, &ctx.child)?;
        Ok(ctx)
    }

    fn lock(&self, session_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.session_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(session_id.to_owned()).or_default().clone()
    }

    /// Forgets the lock of `session_id` if nobody but the caller (who passes it in, unlocked)
    /// holds it: used when the session turned out not to exist or not to be the caller's, so
    /// the lock table does not grow with names of sessions nobody may use.
    fn forget_lock(&self, session_id: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self.session_locks.lock().unwrap_or_else(|p| p.into_inner());
        // Two references: the table's and `lock`; any other is another request's.
        if Arc::strong_count(&lock) == 2 {
            locks.remove(session_id);
        }
    }

    /// The scored profile of session `s` (named `name`): computed from the session's response
    /// log with the norm set it is pinned to; `FAILED_PRECONDITION` while nothing is recorded.
    /// Reports are built from exactly this. Neither authorises nor audits: the caller does both.
    pub(super) async fn scored(
        &self,
        s: &store::Session,
        child: &store::Child,
        name: &str,
    ) -> Result<ScoredProfile, Status> {
        let norms = self.pinned_norms(s)?;
        self.administration(s, child, norms)
            .await?
            .scored_profile(name, ScoringOptions::default())
            .map_err(|e| match e {
                SessionError::NothingRecorded => {
                    Status::failed_precondition(format!("{name} has no responses yet"))
                }
                other => Status::internal(other.to_string()),
            })
    }

    /// The normed results of session `s` as GetResults returns them before any
    /// de-identification: [`AssessmentService::scored`] as a message.
    pub(super) async fn results(
        &self,
        s: &store::Session,
        child: &store::Child,
        name: &str,
    ) -> Result<pb::Profile, Status> {
        Ok(convert::profile(&self.scored(s, child, name).await?))
    }

    async fn session_message(
        &self,
        session: &store::Session,
        child: &store::Child,
    ) -> Result<pb::Session, Status> {
        let mut message = records::session(session, None);
        if let Ok(norms) = self.pinned_norms(session) {
            message.norm_set = Some(convert::norm_set(&norms.id));
            let administration = self.administration(session, child, norms).await?;
            message.subtests = administration
                .states()
                .iter()
                .map(convert::subtest_state)
                .collect();
        }
        Ok(message)
    }

    async fn change_state(
        &self,
        request: Request<pb::SessionActionRequest>,
        from: &[SessionState],
        to: SessionState,
        action: &str,
    ) -> Result<Response<pb::Session>, Status> {
        let p = self.principal(&request).await?;
        let name = request.into_inner().name;
        let (session, child) = self
            .session(&p, &name, "name", Action::ChangeSessionState)
            .await?;
        let session = if session.state == to {
            session // already there: a retry, or a second click
        } else if from.contains(&session.state) {
            self.store
                .set_session_state(&session.id, session.state, to)
                .await
                .map_err(status::store)?
        } else {
            return Err(Status::failed_precondition(format!(
                "{name} is {}; {action} needs it {}",
                session.state.as_str(),
                from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ")
            )));
        };
        self.audit(&p, action, &name, Some(&child.id)).await?;
        Ok(Response::new(self.session_message(&session, &child).await?))
    }
}

/// The id in a session name (`sessions/{id}`).
/// Whether `p` may do `action` on the session named `name`.
fn authorize_session(
    p: &Principal,
    name: &str,
    action: Action,
    session: &store::Session,
    child: &store::Child,
) -> Result<(), Status> {
    if policy::allowed(
        p,
        action,
        Some(Owned {
            centre: &child.centre,
            owner: &session.examiner,
        }),
    ) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "{name}: not permitted for this token"
        )))
    }
}

/// A date as the store keeps it (ISO, checked when it was written).
fn stored_date(text: &str, what: &str) -> Result<Date, Status> {
    age::parse_date(text).map_err(|e| Status::internal(format!("{what}: {e}")))
}

/// The session's administration after `responses` (its whole log, or one subtest's part of
/// it): the dates and the events read from the store, the rules the core's.
fn replay(
    norms: Arc<NormSet>,
    session: &store::Session,
    child: &store::Child,
    responses: &[store::Response],
) -> Result<SessionAdministration, Status> {
    let birth = stored_date(&child.birth_date, "birth date")?;
    let test = stored_date(&session.test_date, "test date")?;
    let log = responses
        .iter()
        .map(|r| {
            serde_json::from_str::<Event>(&r.payload)
                .map(|e| (r.subtest.as_str(), e))
                .map_err(|e| Status::internal(format!("response {} is unreadable: {e}", r.seq)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let internal = |e: SessionError| Status::internal(e.to_string());
    let events = SessionAdministration::group_log(&norms, log).map_err(internal)?;
    SessionAdministration::replay(norms, &session.id, birth, test, events).map_err(internal)
}

#[tonic::async_trait]
impl Assessment for AssessmentService {
    async fn create_child(
        &self,
        request: Request<pb::CreateChildRequest>,
    ) -> Result<Response<pb::Child>, Status> {
        let p = self.principal(&request).await?;
        if !policy::allowed(&p, Action::CreateChild, None) {
            return Err(Status::permission_denied("this token may not create children"));
        }
        let pb::CreateChildRequest {
            child,
            request_id: rid,
        } = request.into_inner();
        let c = child.ok_or_else(|| status::invalid_argument("child", "required"))?;
        let code = c.code.trim();
        if code.is_empty() || code.len() > 64 {
            return Err(status::invalid_argument("child.code", "1 to 64 characters"));
        }
        age::parse_date(&c.birth_date)
            .map_err(|e| status::invalid_argument("child.birth_date", e.to_string()))?;
        if c.test_language.parse::<qabilet_core::Lang>().is_err() {
            return Err(status::invalid_argument(
                "child.test_language",
                "must be kk, ru or en",
            ));
        }
        let centre = if p.centre == "*" && !c.centre.is_empty() {
            c.centre.clone()
        } else {
            p.centre.clone()
        };
        let opt = |s: String| (!s.trim().is_empty()).then_some(s);
        let created = self
            .store
            .create_child(NewChild {
                code: code.to_owned(),
                birth_date: c.birth_date,
                sex: opt(c.sex),
                test_language: c.test_language,
                centre,
                owner: p.subject.clone(),
                given_name: opt(c.given_name),
                family_name: opt(c.family_name),
                notes: opt(c.notes),
                request_id: request_id(rid),
            })
            .await
            .map_err(status::store)?;
        let child = created.record;
        self.audit(
            &p,
            "create_child",
            &format!("children/{}", child.id),
            Some(&child.id),
        )
        .await?;
        Ok(Response::new(records::child(&child, &p)))
    }

    async fn get_child(&self, request: Request<pb::GetChildRequest>) -> Result<Response<pb::Child>, Status> {
        let p = self.principal(&request).await?;
        let name = request.into_inner().name;
        let child = self.child(&p, &name, "name", Action::ReadChild).await?;
        self.audit(&p, "read_child", &name, Some(&child.id)).await?;
        Ok(Response::new(records::child(&child, &p)))
    }

    async fn list_children(
        &self,
        request: Request<pb::ListChildrenRequest>,
    ) -> Result<Response<pb::ListChildrenResponse>, Status> {
        let p = self.principal(&request).await?;
        if !policy::allowed(&p, Action::ListChildren, None) {
            return Err(Status::permission_denied("this token may not list children"));
        }
        let pb::ListChildrenRequest {
            page_size,
            page_token,
            code_prefix,
        } = request.into_inner();
        let (centre, owner) = policy::list_scope(&p);
        let filter = ChildFilter {
            centre,
            owner,
            code_prefix: (!code_prefix.is_empty()).then_some(code_prefix),
        };
        let found = self
            .store
            .list_children(filter, page(page_size, page_token)?)
            .await
            .map_err(status::store)?;
        for c in &found.items {
            self.audit(&p, "list_children", &format!("children/{}", c.id), Some(&c.id))
                .await?;
        }
        Ok(Response::new(pb::ListChildrenResponse {
            children: found.items.iter().map(|c| records::child(c, &p)).collect(),
            next_page_token: found.next.unwrap_or_default(),
        }))
    }

    async fn start_session(
        &self,
        request: Request<pb::StartSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let p = self.principal(&request).await?;
        let pb::StartSessionRequest {
            child,
            battery,
            test_date,
            request_id: rid,
        } = request.into_inner();
        let child = self.child(&p, &child, "child", Action::StartSession).await?;
        let id = battery_id(&battery)
            .ok_or_else(|| status::invalid_argument("battery", "must be batteries/{id}"))?;
        let norms = self
            .registry
            .get(id)
            .cloned()
            .ok_or_else(|| status::not_found("battery", &battery))?;
        let test =
            age::parse_date(&test_date).map_err(|e| status::invalid_argument("test_date", e.to_string()))?;
        let birth = stored_date(&child.birth_date, "birth date")?;
        // The same age check as scoring: the child must be within the norms on the test date.
        norms
            .battery
            .age_on(birth, test)
            .map_err(|e| status::invalid_argument("test_date", e.to_string()))?;
        let created = self
            .store
            .create_session(NewSession {
                child_id: child.id.clone(),
                battery_id: id.to_owned(),
                norm_set_hash: norms.id.hash.clone(),
                test_date,
                examiner: p.subject.clone(),
                request_id: request_id(rid),
            })
            .await
            .map_err(status::store)?;
        let session = created.record;
        self.audit(
            &p,
            "start_session",
            &format!("sessions/{}", session.id),
            Some(&child.id),
        )
        .await?;
        Ok(Response::new(self.session_message(&session, &child).await?))
    }

    async fn get_session(
        &self,
        request: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let p = self.principal(&request).await?;
        let name = request.into_inner().name;
        let (session, child) = self.session(&p, &name, "name", Action::ReadSession).await?;
        self.audit(&p, "read_session", &name, Some(&child.id)).await?;
        let mut message = self.session_message(&session, &child).await?;
        if policy::deidentified(&p) {
            message.test_date.truncate(7);
        }
        Ok(Response::new(message))
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let p = self.principal(&request).await?;
        let pb::ListSessionsRequest {
            page_size,
            page_token,
            child,
        } = request.into_inner();
        let page = page(page_size, page_token)?;
        let filter = if child.is_empty() {
            // Without a child: every session the caller may see — a psychologist's own, a
            // supervisor's, integrator's or researcher's centre, everything for an admin.
            let (centre, examiner) = policy::list_scope(&p);
            store::SessionFilter {
                child_id: None,
                examiner,
                centre,
            }
        } else {
            let c = self.child(&p, &child, "child", Action::ListSessions).await?;
            store::SessionFilter {
                child_id: Some(c.id),
                ..Default::default()
            }
        };
        let found = self
            .store
            .list_sessions(filter, page)
            .await
            .map_err(status::store)?;
        let mut sessions = Vec::with_capacity(found.items.len());
        for s in &found.items {
            let c = self.store.get_child(&s.child_id).await.map_err(status::store)?;
            if !policy::allowed(
                &p,
                Action::ReadSession,
                Some(Owned {
                    centre: &c.centre,
                    owner: &s.examiner,
                }),
            ) {
                continue;
            }
            self.audit(&p, "list_sessions", &format!("sessions/{}", s.id), Some(&c.id))
                .await?;
            let mut message = records::session(s, self.registry.get(&s.battery_id).map(|n| n.as_ref()));
            if policy::deidentified(&p) {
                // Year and month only, as the child's birth date (see `policy::deidentified`).
                message.test_date.truncate(7);
            }
            sessions.push(message);
        }
        Ok(Response::new(pb::ListSessionsResponse {
            sessions,
            next_page_token: found.next.unwrap_or_default(),
        }))
    }

    async fn pause_session(
        &self,
        request: Request<pb::SessionActionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.change_state(request, &[SessionState::Active], SessionState::Paused, "pause")
            .await
    }

    async fn resume_session(
        &self,
        request: Request<pb::SessionActionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.change_state(request, &[SessionState::Paused], SessionState::Active, "resume")
            .await
    }

    async fn finish_session(
        &self,
        request: Request<pb::SessionActionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.change_state(
            request,
            &[SessionState::Active, SessionState::Paused],
            SessionState::Finished,
            "finish",
        )
        .await
    }

    async fn get_next_item(
        &self,
        request: Request<pb::GetNextItemRequest>,
    ) -> Result<Response<pb::SubtestState>, Status> {
        let p = self.principal(&request).await?;
        let pb::GetNextItemRequest { session, subtest } = request.into_inner();
        let ctx = self
            .subtest_context(&p, &session, &subtest, Action::ReadSession)
            .await?;
        let norms = self.pinned_norms(&ctx.session)?;
        let index = subtest_index(&norms, &subtest)?;
        let admin = replay_subtest(&ctx, norms)?;
        Ok(Response::new(state(&admin, index)))
    }

    async fn record_response(
        &self,
        request: Request<pb::RecordResponseRequest>,
    ) -> Result<Response<pb::SubtestState>, Status> {
        let p = self.principal(&request).await?;
        let pb::RecordResponseRequest {
            session,
            subtest,
            item,
            score,
            override_reason,
            request_id: rid,
        } = request.into_inner();
        let id = session_id(&session, "session")?;
        // The session's lock is taken before its log is read: a response is checked against
        // the rules and appended under it, so two concurrent responses to one session are
        // applied one after the other. The session, its child and this subtest's part of the
        // log (all the rules need) come in one read.
        let lock = self.lock(id);
        let guard = lock.clone().lock_owned().await;
        let ctx = match self
            .subtest_context(&p, &session, &subtest, Action::RecordResponse)
            .await
        {
            Ok(ctx) => ctx,
            Err(e) => {
                drop(guard);
                self.forget_lock(id, lock);
                return Err(e);
            }
        };
        let _guard = guard;
        let (s, child) = (&ctx.session, &ctx.child);
        let norms = self.pinned_norms(s)?;
        let index = subtest_index(&norms, &subtest)?;
        let score = u16::try_from(score).map_err(|_| status::invalid_argument("score", "too large"))?;
        let reason = (!override_reason.trim().is_empty()).then_some(override_reason);
        let event = if item.is_empty() {
            Event::Total {
                raw: score,
                override_reason: reason,
            }
        } else {
            Event::Score {
                item,
                score,
                override_reason: reason,
            }
        };
        let rid = request_id(rid);
        let mut admin = replay_subtest(&ctx, Arc::clone(&norms))?;
        // A retry of an acknowledged response: answer from the log, apply nothing.
        if rid.is_some() && ctx.responses.iter().any(|r| r.request_id == rid) {
            return Ok(Response::new(state(&admin, index)));
        }
        if s.state != SessionState::Active {
            // A retry of a response to another subtest, acknowledged before the session was
            // paused or finished, is answered too (rare: read the whole log).
            if rid.is_some() {
                let all = self.store.responses(&s.id).await.map_err(status::store)?;
                if all.iter().any(|r| r.request_id == rid) {
                    return Ok(Response::new(state(&admin, index)));
                }
            }
            return Err(Status::failed_precondition(format!(
                "{session} is {}: resume it first",
                s.state.as_str()
            )));
        }
        admin
            .record(index, event.clone())
            .map_err(status::administration)?;
        let payload = serde_json::to_string(&event).map_err(|e| Status::internal(e.to_string()))?;
        // The audit entry is written in the same transaction as the response (and not at all
        // when the store finds the request id already used).
        let created = self
            .store
            .append_response(
                NewResponse {
                    session_id: s.id.clone(),
                    subtest: subtest.clone(),
                    payload,
                    request_id: rid,
                },
                Some(AuditEntry {
                    principal: p.subject.clone(),
                    action: "record_response".to_owned(),
                    resource: session.clone(),
                    child_id: Some(child.id.clone()),
                }),
            )
            .await
            .map_err(status::store)?;
        if created.existed {
            // The request id was used by a response stored meanwhile (by another replica) or
            // to another subtest: nothing was applied, answer from the log as it is.
            let now = self
                .store
                .subtest_context(&s.id, &subtest)
                .await
                .map_err(status::store)?;
            return Ok(Response::new(state(&replay_subtest(&now, norms)?, index)));
        }
        Ok(Response::new(state(&admin, index)))
    }

    async fn get_results(
        &self,
        request: Request<pb::GetResultsRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let p = self.principal(&request).await?;
        let session = request.into_inner().session;
        let (s, child) = self.session(&p, &session, "session", Action::ReadResults).await?;
        let mut results = self.results(&s, &child, &session).await?;
        self.audit(&p, "read_results", &session, Some(&child.id)).await?;
        if policy::deidentified(&p) {
            convert::deidentify_profile(&mut results);
        }
        Ok(Response::new(results))
    }
}

/// The session as far as one subtest goes: replayed from the context's responses (that
/// subtest's part of the session's log).
fn replay_subtest(ctx: &store::SubtestContext, norms: Arc<NormSet>) -> Result<SessionAdministration, Status> {
    replay(norms, &ctx.session, &ctx.child, &ctx.responses)
}

/// Subtest `index`'s state as the API reports it.
fn state(admin: &SessionAdministration, index: usize) -> pb::SubtestState {
    convert::subtest_state(&admin.subtest(index).state())
}

fn subtest_index(norms: &NormSet, id: &str) -> Result<usize, Status> {
    norms
        .battery
        .subtest_index(id)
        .ok_or_else(|| status::invalid_argument("subtest", format!("battery has no subtest '{id}'")))
}
