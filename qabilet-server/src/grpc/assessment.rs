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

use qabilet_core::administration::Event;
use qabilet_core::profile::Scorer;
use qabilet_core::{ChronologicalAge, NormSet, ScoreRequest, age};
use tonic::{Request, Response, Status};

use super::administer::SubtestAdministration;
use super::pb;
use super::pb::assessment_server::Assessment;
use super::registry::{Registry, battery_id};
use super::requests::{page, request_key, session_id};
use super::{convert, records, status};
use crate::auth::policy::{self, Action, Owned};
use crate::auth::{Authenticator, Principal};
use crate::store::{
    self, AuditEntry, AuditOutcome, ChildFilter, NewChild, NewResponse, NewSession, Personal, RequestKey,
    SessionState, StateChange, Store, StoreError,
};

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
            .audit(audit_entry(p, action, resource, child_id))
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

    /// Every subtest's administration, replayed from the session's response log.
    async fn administrations(
        &self,
        session: &store::Session,
        child: &store::Child,
        norms: &NormSet,
    ) -> Result<(Vec<SubtestAdministration>, Vec<store::Response>), Status> {
        let months = age_months(child, session)?;
        let log = self.store.responses(&session.id).await.map_err(status::store)?;
        let mut events: Vec<Vec<Event>> = vec![Vec::new(); norms.battery.subtests.len()];
        for r in &log {
            let s = norms
                .battery
                .subtest_index(&r.subtest)
                .ok_or_else(|| Status::internal(format!("response {} names unknown subtest", r.seq)))?;
            let event: Event = serde_json::from_str(&r.payload)
                .map_err(|e| Status::internal(format!("response {} is unreadable: {e}", r.seq)))?;
            events[s].push(event);
        }
        let admins = events
            .iter()
            .enumerate()
            .map(|(index, ev)| SubtestAdministration::replay(norms, index, &session.id, months, ev))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((admins, log))
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

    /// The normed results of session `s` (named `name`) as GetResults returns them before any
    /// de-identification: computed from the session's response log with the norm set it is
    /// pinned to; `FAILED_PRECONDITION` while nothing is recorded. Reports are built from
    /// exactly these (`profile_json`). Neither authorises nor audits: the caller does both.
    pub(super) async fn results(
        &self,
        s: &store::Session,
        child: &store::Child,
        name: &str,
    ) -> Result<pb::Profile, Status> {
        let norms = self.pinned_norms(s)?;
        let (admins, _) = self.administrations(s, child, &norms).await?;
        // A subtest counts once anything was recorded for it; its raw score is the rules'.
        // An adaptive subtest's is the raw-score equivalent of its θ̂.
        let raw: Vec<Option<u16>> = admins.iter().map(SubtestAdministration::raw_for_norms).collect();
        if raw.iter().all(Option::is_none) {
            return Err(Status::failed_precondition(format!(
                "{name} has no responses yet"
            )));
        }
        let birth =
            age::parse_date(&child.birth_date).map_err(|e| Status::internal(format!("birth date: {e}")))?;
        let test = age::parse_date(&s.test_date).map_err(|e| Status::internal(format!("test date: {e}")))?;
        let req = ScoreRequest::new(&norms, birth, test, raw.clone())
            .map_err(|e| Status::internal(e.to_string()))?;
        let profile = Scorer::new(&norms, qabilet_core::ScoringOptions::default()).score(&req);
        let scores = pb::ChildScores {
            id: name.to_owned(),
            birth_date: child.birth_date.clone(),
            test_date: s.test_date.clone(),
            raw_scores: norms
                .battery
                .subtests
                .iter()
                .zip(&raw)
                .filter_map(|(st, r)| r.map(|r| (st.id.clone(), u32::from(r))))
                .collect(),
        };
        let mut message = convert::profile(&norms, &scores, &profile);
        add_adaptive_scores(&mut message, &norms, &admins);
        Ok(message)
    }

    async fn session_message(
        &self,
        session: &store::Session,
        child: &store::Child,
    ) -> Result<pb::Session, Status> {
        let mut message = records::session(session, None);
        if let Ok(norms) = self.pinned_norms(session) {
            let (admins, _) = self.administrations(session, child, &norms).await?;
            message.norm_set = Some(convert::norm_set(&norms.id));
            message.subtests = admins.iter().map(SubtestAdministration::state).collect();
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
        let pb::SessionActionRequest {
            name,
            request_id: rid,
        } = request.into_inner();
        let (session, child) = self
            .session(&p, &name, "name", Action::ChangeSessionState)
            .await?;
        // Already there (a retry, or a second click) is answered as done.
        let change = StateChange {
            session_id: session.id.clone(),
            from: from.to_vec(),
            to,
            request: request_key(&p, rid, &[action, &name]),
        };
        let session = match self.store.set_session_state(change).await {
            Ok(changed) => changed.record,
            Err(StoreError::Conflict { .. }) => {
                return Err(Status::failed_precondition(format!(
                    "{name} is {}; {action} needs it {}",
                    session.state.as_str(),
                    from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ")
                )));
            }
            Err(e) => return Err(status::store(e)),
        };
        self.audit(&p, action, &name, Some(&child.id)).await?;
        Ok(Response::new(self.session_message(&session, &child).await?))
    }
}

/// The audit entry of a successful call by `p`.
fn audit_entry(p: &Principal, action: &str, resource: &str, child_id: Option<&str>) -> AuditEntry {
    AuditEntry {
        token_id: Some(p.token_id.clone()),
        role: Some(p.role),
        centre: p.centre.clone(),
        subject: p.subject.clone(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        child_id: child_id.map(str::to_owned),
        outcome: AuditOutcome::Ok,
        peer: None,
        detail: None,
    }
}

/// Whether `log` holds the response stored under `key` (a retry); a response stored under
/// the same token and request id for another request is `INVALID_ARGUMENT`.
fn retried(log: &[store::Response], key: &RequestKey) -> Result<bool, Status> {
    let stored = log
        .iter()
        .filter_map(|r| r.request.as_ref())
        .find(|k| k.token_id == key.token_id && k.request_id == key.request_id);
    match stored {
        Some(k) if k.fingerprint != key.fingerprint => {
            Err(status::store(StoreError::RequestReused { what: "response" }))
        }
        found => Ok(found.is_some()),
    }
}

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

/// The child's age in whole months on the session's test date.
fn age_months(child: &store::Child, session: &store::Session) -> Result<u16, Status> {
    let birth =
        age::parse_date(&child.birth_date).map_err(|e| Status::internal(format!("birth date: {e}")))?;
    let test =
        age::parse_date(&session.test_date).map_err(|e| Status::internal(format!("test date: {e}")))?;
    let a = ChronologicalAge::between(birth, test).map_err(|e| Status::internal(e.to_string()))?;
    Ok(a.in_months().0)
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
        if !["kk", "ru", "en"].contains(&c.test_language.as_str()) {
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
        let key = request_key(
            &p,
            rid,
            &[
                code,
                &c.birth_date,
                &c.sex,
                &c.test_language,
                &centre,
                &c.given_name,
                &c.family_name,
                &c.notes,
            ],
        );
        let created = self
            .store
            .create_child(NewChild {
                code: code.to_owned(),
                birth_date: c.birth_date,
                sex: opt(c.sex),
                test_language: c.test_language,
                centre,
                owner: p.subject.clone(),
                given_name: opt(c.given_name).map(Personal::new),
                family_name: opt(c.family_name).map(Personal::new),
                notes: opt(c.notes).map(Personal::new),
                request: key,
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
        let birth =
            age::parse_date(&child.birth_date).map_err(|e| Status::internal(format!("birth date: {e}")))?;
        // The same age check as scoring: the child must be within the norms on the test date.
        ScoreRequest::new(&norms, birth, test, vec![None; norms.battery.subtests.len()])
            .map_err(|e| status::invalid_argument("test_date", e.to_string()))?;
        let key = request_key(&p, rid, &[&child.id, id, &test_date]);
        let created = self
            .store
            .create_session(NewSession {
                child_id: child.id.clone(),
                battery_id: id.to_owned(),
                norm_set_hash: norms.id.hash.clone(),
                test_date,
                examiner: p.subject.clone(),
                request: key,
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
        let admin = replay_subtest(&ctx, &norms, index)?;
        Ok(Response::new(admin.state()))
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
        let key = request_key(
            &p,
            rid,
            &[&session, &subtest, &item, &score.to_string(), &override_reason],
        );
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
        let mut admin = replay_subtest(&ctx, &norms, index)?;
        // A retry of an acknowledged response: answer from the log, apply nothing.
        if let Some(k) = &key
            && retried(&ctx.responses, k)?
        {
            return Ok(Response::new(admin.state()));
        }
        if s.state != SessionState::Active {
            // A retry of a response to another subtest, acknowledged before the session was
            // paused or finished, is answered too (rare: read the whole log).
            if let Some(k) = &key {
                let all = self.store.responses(&s.id).await.map_err(status::store)?;
                if retried(&all, k)? {
                    return Ok(Response::new(admin.state()));
                }
            }
            return Err(Status::failed_precondition(format!(
                "{session} is {}: resume it first",
                s.state.as_str()
            )));
        }
        admin.record(event.clone()).map_err(status::administration)?;
        let payload = serde_json::to_string(&event).map_err(|e| Status::internal(e.to_string()))?;
        // The audit entry is written in the same transaction as the response (and not at all
        // when the store finds the request key already used). The response is stored only if
        // the log is still the one the rules were checked against (another replica may have
        // appended meanwhile: ABORTED, the client retries).
        let created = self
            .store
            .append_response(
                NewResponse {
                    session_id: s.id.clone(),
                    subtest: subtest.clone(),
                    payload,
                    after_seq: ctx.last_seq,
                    request: key,
                },
                Some(audit_entry(&p, "record_response", &session, Some(&child.id))),
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
            return Ok(Response::new(replay_subtest(&now, &norms, index)?.state()));
        }
        Ok(Response::new(admin.state()))
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

/// Subtest `index`'s administration, replayed from the context's responses (that subtest's
/// part of the session's log).
fn replay_subtest(
    ctx: &store::SubtestContext,
    norms: &NormSet,
    index: usize,
) -> Result<SubtestAdministration, Status> {
    let months = age_months(&ctx.child, &ctx.session)?;
    let events = ctx
        .responses
        .iter()
        .map(|r| {
            serde_json::from_str(&r.payload)
                .map_err(|e| Status::internal(format!("response {} is unreadable: {e}", r.seq)))
        })
        .collect::<Result<Vec<Event>, _>>()?;
    SubtestAdministration::replay(norms, index, &ctx.session.id, months, &events)
}

fn subtest_index(norms: &NormSet, id: &str) -> Result<usize, Status> {
    norms
        .battery
        .subtest_index(id)
        .ok_or_else(|| status::invalid_argument("subtest", format!("battery has no subtest '{id}'")))
}

/// Marks the adaptive subtests of `message`: θ̂ and SE on their scores, and a note each.
fn add_adaptive_scores(message: &mut pb::Profile, norms: &NormSet, admins: &[SubtestAdministration]) {
    for (subtest, admin) in norms.battery.subtests.iter().zip(admins) {
        let Some(adaptive) = admin.adaptive_score() else {
            continue;
        };
        let Some(score) = message.subtests.iter_mut().find(|s| s.subtest == subtest.id) else {
            continue;
        };
        message.notes.push(format!(
            "{} was given adaptively ({} of {} items, {}): θ = {:.2}, SE {:.2}; its raw score {} is the \
             raw-score equivalent of θ on the full form (IRT true-score equating)",
            subtest.id,
            adaptive.items_administered,
            adaptive.bank_items,
            if adaptive.stop_reason.is_empty() {
                "not finished".to_owned()
            } else {
                format!("stopped at {}", adaptive.stop_reason)
            },
            adaptive.theta,
            adaptive.theta_se,
            score.raw
        ));
        score.adaptive = Some(adaptive);
    }
}
