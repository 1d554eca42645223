//! The store's operations, written once for both backends over a [`Conn`] with the
//! statements of `sql.rs`: tokens, console sessions, children, sessions and their state
//! changes, the response log's reads and the reason an append was refused, report edits and
//! the audit log. A backend only chooses the connection each runs on (a reader, the writer,
//! a transaction) and commits.
//!
//! Idempotent writes follow one pattern: look the key up (a retry is answered from what is
//! stored, before any other check), insert with `ON CONFLICT (token_id, request_id) DO
//! NOTHING`, and when nothing was inserted look the key up again (a concurrent request
//! stored it first) before blaming anything else. The unique index on the key is what keeps
//! two replicas from both inserting.

use super::conn::{Conn, Statement};
use super::error::{db, is_unique_violation};
use super::rows::{self, Get};
use super::{
    AuditEntry, AuditFilter, AuditRecord, Child, ChildFilter, ConsoleSession, Created, NewChild,
    NewConsoleSession, NewReportEdit, NewResponse, NewSession, NewToken, Page, PageRequest, Personal,
    ReportEdit, RequestKey, Response, Session, SessionChange, SessionFilter, SessionState, StateChange,
    StoreError, Token, new_id, now_ms, seq_cursor, sql,
};

/// The row a write with `RETURNING` must give back.
fn returned<R>(row: Option<R>, context: &str) -> Result<R, StoreError> {
    row.ok_or_else(|| StoreError::Backend(format!("{context}: no row returned")))
}

fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_owned(),
    }
}

/// `stmt` with the key's token and request id bound next (NULLs without a key).
pub(super) fn with_key<'a>(stmt: Statement<'a>, key: Option<&'a RequestKey>) -> Statement<'a> {
    stmt.opt_text(key.map(|k| k.token_id.as_str()))
        .opt_text(key.map(|k| k.request_id.as_str()))
}

/// `stmt` with the new response's columns bound next, in `response_cols!` order (its seq
/// as `after_seq`, which the statement turns into `after_seq + 1`), recorded at `at`.
pub(crate) fn with_response<'a>(stmt: Statement<'a>, new: &'a NewResponse, at: i64) -> Statement<'a> {
    let key = new.request.as_ref();
    stmt.text(&new.session_id)
        .int(new.after_seq)
        .text(&new.subtest)
        .text(&new.payload)
        .opt_text(key.map(|k| k.token_id.as_str()))
        .opt_text(key.map(|k| k.request_id.as_str()))
        .opt_text(key.map(|k| k.fingerprint.as_str()))
        .int(at)
}

/// `stmt` with `at` and the entry's fields bound next, in `audit_insert_cols!` order (NULLs
/// without an entry).
pub(crate) fn with_audit<'a>(stmt: Statement<'a>, at: i64, entry: Option<&'a AuditEntry>) -> Statement<'a> {
    stmt.opt_int(entry.map(|_| at))
        .opt_text(entry.and_then(|e| e.token_id.as_deref()))
        .opt_text(entry.and_then(|e| e.role.map(|r| r.as_str())))
        .opt_text(entry.map(|e| e.centre.as_str()))
        .opt_text(entry.map(|e| e.subject.as_str()))
        .opt_text(entry.map(|e| e.action.as_str()))
        .opt_text(entry.map(|e| e.resource.as_str()))
        .opt_text(entry.and_then(|e| e.child_id.as_deref()))
        .opt_text(entry.map(|e| e.outcome.as_str()))
        .opt_text(entry.and_then(|e| e.peer.as_deref()))
        .opt_text(entry.and_then(|e| e.detail.as_deref()))
}

/// The record stored under `key` (read with `by_key`, a statement whose rows carry the key's
/// `fingerprint`), as the answer to a write under that key: the record with `existed` if the
/// fingerprints agree, [`StoreError::RequestReused`] if they do not; `None` when nothing is
/// stored under the key.
pub(super) async fn stored_under<C: Conn, T>(
    c: &mut C,
    by_key: &'static str,
    key: &RequestKey,
    what: &'static str,
    decode: impl Fn(&C::Row) -> Result<T, StoreError>,
) -> Result<Option<Created<T>>, StoreError> {
    let row = c
        .fetch_optional(with_key(Statement::new(by_key), Some(key)))
        .await
        .map_err(db("looking up a request key"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.opt_text("fingerprint")?.as_deref() != Some(key.fingerprint.as_str()) {
        return Err(StoreError::RequestReused { what });
    }
    Ok(Some(Created {
        record: decode(&row)?,
        existed: true,
    }))
}

/// After an insert under `key` wrote nothing (or broke a uniqueness rule): the record a
/// concurrent request stored under the key, or `otherwise`.
pub(super) async fn stored_or<C: Conn, T>(
    c: &mut C,
    by_key: &'static str,
    key: Option<&RequestKey>,
    what: &'static str,
    decode: impl Fn(&C::Row) -> Result<T, StoreError>,
    otherwise: StoreError,
) -> Result<Created<T>, StoreError> {
    match key {
        Some(key) => match stored_under(c, by_key, key, what, decode).await? {
            Some(found) => Ok(found),
            None => Err(otherwise),
        },
        None => Err(otherwise),
    }
}

fn personal(v: &Option<Personal>) -> Option<&str> {
    v.as_ref().map(Personal::as_str)
}

// Tokens.

pub(crate) async fn create_token<C: Conn>(c: &mut C, new: &NewToken) -> Result<Token, StoreError> {
    let id = new_id();
    let row = c
        .fetch_optional(
            Statement::new(sql::INSERT_TOKEN)
                .text(&id)
                .text(new.role.as_str())
                .text(&new.centre)
                .text(&new.subject)
                .text(&new.secret_hash)
                .int(now_ms())
                .opt_int(new.expires_at),
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Duplicate {
                    what: "token",
                    detail: "the secret hash is already stored".into(),
                }
            } else {
                StoreError::backend("creating token", e)
            }
        })?;
    rows::token(&returned(row, "creating token")?)
}

pub(crate) async fn token_by_hash<C: Conn>(
    c: &mut C,
    secret_hash: &str,
) -> Result<Option<Token>, StoreError> {
    c.fetch_optional(Statement::new(sql::TOKEN_BY_HASH).text(secret_hash))
        .await
        .map_err(db("looking up token"))?
        .map(|r| rows::token(&r))
        .transpose()
}

pub(crate) async fn token<C: Conn>(c: &mut C, id: &str) -> Result<Token, StoreError> {
    c.fetch_optional(Statement::new(sql::TOKEN_BY_ID).text(id))
        .await
        .map_err(db("reading token"))?
        .map(|r| rows::token(&r))
        .transpose()?
        .ok_or_else(|| not_found("token", id))
}

pub(crate) async fn revoke_token<C: Conn>(c: &mut C, id: &str) -> Result<Token, StoreError> {
    c.fetch_optional(Statement::new(sql::REVOKE_TOKEN).text(id).int(now_ms()))
        .await
        .map_err(db("revoking token"))?
        .map(|r| rows::token(&r))
        .transpose()?
        .ok_or_else(|| not_found("token", id))
}

pub(crate) async fn has_tokens<C: Conn>(c: &mut C) -> Result<bool, StoreError> {
    let row = c
        .fetch_optional(Statement::new(sql::ANY_TOKEN))
        .await
        .map_err(db("checking for tokens"))?;
    Ok(row.is_some())
}

pub(crate) async fn list_tokens<C: Conn>(c: &mut C, page: &PageRequest) -> Result<Page<Token>, StoreError> {
    let size = page.effective_size();
    let rows = c
        .fetch_all(
            Statement::new(sql::TOKENS_PAGE)
                .opt_text(page.after.as_deref())
                .int(i64::from(size) + 1),
        )
        .await
        .map_err(db("listing tokens"))?;
    let items = rows.iter().map(rows::token).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, size, |t| &t.id))
}

// Console sessions.

pub(crate) async fn create_console_session<C: Conn>(
    c: &mut C,
    new: &NewConsoleSession,
) -> Result<ConsoleSession, StoreError> {
    let row = c
        .fetch_optional(
            Statement::new(sql::INSERT_CONSOLE_SESSION)
                .text(&new.secret_hash)
                .text(&new.token_id)
                .int(now_ms())
                .int(new.expires_at),
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Duplicate {
                    what: "console session",
                    detail: "the secret hash is already stored".into(),
                }
            } else {
                StoreError::backend("creating console session", e)
            }
        })?;
    match row {
        Some(row) => rows::console_session(&row),
        None => Err(not_found("token", &new.token_id)),
    }
}

pub(crate) async fn console_session<C: Conn>(
    c: &mut C,
    secret_hash: &str,
) -> Result<Option<(ConsoleSession, Token)>, StoreError> {
    c.fetch_optional(Statement::new(sql::CONSOLE_SESSION_WITH_TOKEN).text(secret_hash))
        .await
        .map_err(db("reading console session"))?
        .map(|r| rows::console_session_with_token(&r))
        .transpose()
}

pub(crate) async fn touch_console_session<C: Conn>(
    c: &mut C,
    secret_hash: &str,
    at: i64,
) -> Result<(), StoreError> {
    c.execute(
        Statement::new(sql::TOUCH_CONSOLE_SESSION)
            .text(secret_hash)
            .int(at),
    )
    .await
    .map_err(db("touching console session"))?;
    Ok(())
}

pub(crate) async fn delete_console_session<C: Conn>(c: &mut C, secret_hash: &str) -> Result<(), StoreError> {
    c.execute(Statement::new(sql::DELETE_CONSOLE_SESSION).text(secret_hash))
        .await
        .map_err(db("deleting console session"))?;
    Ok(())
}

pub(crate) async fn purge_console_sessions<C: Conn>(
    c: &mut C,
    idle_before: i64,
    now: i64,
) -> Result<u64, StoreError> {
    c.execute(
        Statement::new(sql::PURGE_CONSOLE_SESSIONS)
            .int(idle_before)
            .int(now),
    )
    .await
    .map_err(db("purging console sessions"))
}

// Children.

pub(crate) async fn create_child<C: Conn>(c: &mut C, new: &NewChild) -> Result<Created<Child>, StoreError> {
    let key = new.request.as_ref();
    if let Some(key) = key
        && let Some(found) = stored_under(c, sql::CHILD_BY_KEY, key, "child", rows::child).await?
    {
        return Ok(found);
    }
    let id = new_id();
    let inserted = c
        .fetch_optional(
            with_key(
                Statement::new(sql::INSERT_CHILD)
                    .text(&id)
                    .text(&new.code)
                    .text(&new.birth_date)
                    .opt_text(new.sex.as_deref())
                    .text(&new.test_language)
                    .text(&new.centre)
                    .text(&new.owner)
                    .opt_text(personal(&new.given_name))
                    .opt_text(personal(&new.family_name))
                    .opt_text(personal(&new.notes)),
                key,
            )
            .opt_text(key.map(|k| k.fingerprint.as_str()))
            .int(now_ms()),
        )
        .await;
    let code_taken = || StoreError::Duplicate {
        what: "child",
        detail: "the code is already used in this centre".into(),
    };
    match inserted {
        Ok(Some(row)) => Ok(Created {
            record: rows::child(&row)?,
            existed: false,
        }),
        Ok(None) => {
            let lost = StoreError::Backend("creating child: nothing inserted and nothing stored".into());
            stored_or(c, sql::CHILD_BY_KEY, key, "child", rows::child, lost).await
        }
        // A concurrent request under the same key may have stored its child first, breaking the
        // code's rule before the key's: then its child is the answer.
        Err(e) if is_unique_violation(&e) => {
            stored_or(c, sql::CHILD_BY_KEY, key, "child", rows::child, code_taken()).await
        }
        Err(e) => Err(StoreError::backend("creating child", e)),
    }
}

pub(crate) async fn get_child<C: Conn>(c: &mut C, id: &str) -> Result<Child, StoreError> {
    c.fetch_optional(Statement::new(sql::CHILD_BY_ID).text(id))
        .await
        .map_err(db("reading child"))?
        .map(|r| rows::child(&r))
        .transpose()?
        .ok_or_else(|| not_found("child", id))
}

pub(crate) async fn list_children<C: Conn>(
    c: &mut C,
    filter: &ChildFilter,
    page: &PageRequest,
) -> Result<Page<Child>, StoreError> {
    let size = page.effective_size();
    let rows = c
        .fetch_all(
            Statement::new(sql::CHILDREN_PAGE)
                .opt_text(filter.centre.as_deref())
                .opt_text(filter.owner.as_deref())
                .opt_text(filter.code_prefix.as_deref())
                .opt_text(page.after.as_deref())
                .int(i64::from(size) + 1),
        )
        .await
        .map_err(db("listing children"))?;
    let items = rows.iter().map(rows::child).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, size, |c| &c.id))
}

// Sessions.

pub(crate) async fn create_session<C: Conn>(
    c: &mut C,
    new: &NewSession,
) -> Result<Created<Session>, StoreError> {
    let key = new.request.as_ref();
    if let Some(key) = key
        && let Some(found) = stored_under(c, sql::SESSION_BY_KEY, key, "session", rows::session).await?
    {
        return Ok(found);
    }
    let id = new_id();
    let inserted = c
        .fetch_optional(
            with_key(
                Statement::new(sql::INSERT_SESSION)
                    .text(&id)
                    .text(&new.child_id)
                    .text(&new.battery_id)
                    .text(&new.norm_set_hash)
                    .text(&new.test_date)
                    .text(&new.examiner),
                key,
            )
            .opt_text(key.map(|k| k.fingerprint.as_str()))
            .int(now_ms()),
        )
        .await
        .map_err(db("creating session"))?;
    if let Some(row) = inserted {
        return Ok(Created {
            record: rows::session(&row)?,
            existed: false,
        });
    }
    // No such child, or the key was stored meanwhile.
    let child = c
        .fetch_optional(Statement::new(sql::CHILD_EXISTS).text(&new.child_id))
        .await
        .map_err(db("checking child"))?;
    let otherwise = match child {
        None => not_found("child", &new.child_id),
        Some(_) => StoreError::Backend("creating session: nothing inserted and nothing stored".into()),
    };
    stored_or(c, sql::SESSION_BY_KEY, key, "session", rows::session, otherwise).await
}

/// The session `id`; with `lock`, its row is locked until the transaction ends (only where
/// [`Conn::ROW_LOCKS`]).
pub(crate) async fn session<C: Conn>(c: &mut C, id: &str, lock: bool) -> Result<Option<Session>, StoreError> {
    let query = if lock && C::ROW_LOCKS {
        sql::SESSION_BY_ID_FOR_UPDATE
    } else {
        sql::SESSION_BY_ID
    };
    c.fetch_optional(Statement::new(query).text(id))
        .await
        .map_err(db("reading session"))?
        .map(|r| rows::session(&r))
        .transpose()
}

pub(crate) async fn get_session<C: Conn>(c: &mut C, id: &str) -> Result<Session, StoreError> {
    session(c, id, false)
        .await?
        .ok_or_else(|| not_found("session", id))
}

pub(crate) async fn list_sessions<C: Conn>(
    c: &mut C,
    filter: &SessionFilter,
    page: &PageRequest,
) -> Result<Page<Session>, StoreError> {
    let size = page.effective_size();
    let rows = c
        .fetch_all(
            Statement::new(sql::SESSIONS_PAGE)
                .opt_text(filter.child_id.as_deref())
                .opt_text(filter.examiner.as_deref())
                .opt_text(filter.centre.as_deref())
                .opt_text(page.after.as_deref())
                .int(i64::from(size) + 1),
        )
        .await
        .map_err(db("listing sessions"))?;
    let items = rows.iter().map(rows::session).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, size, |s| &s.id))
}

/// See [`Store::set_session_state`](super::Store::set_session_state). Runs inside the
/// caller's write transaction, which it leaves unchanged unless it returns `existed: false`.
pub(crate) async fn set_session_state<C: Conn>(
    c: &mut C,
    change: &StateChange,
) -> Result<Created<Session>, StoreError> {
    let id = change.session_id.as_str();
    let current = session(c, id, true)
        .await?
        .ok_or_else(|| not_found("session", id))?;
    let key = change.request.as_ref();
    if let Some(key) = key
        && let Some(stored) = change_under(c, key).await?
    {
        return answer_retried_change(c, stored, key, current).await;
    }
    // Already there: nothing changes, but a keyed request's key is logged (a change from the
    // state to itself), so that the key cannot serve another request later.
    let already = current.state == change.to;
    if already && key.is_none() {
        return Ok(Created {
            record: current,
            existed: true,
        });
    }
    if !already && !change.from.contains(&current.state) {
        let from: Vec<&str> = change.from.iter().map(|s| s.as_str()).collect();
        return Err(StoreError::Conflict {
            detail: format!(
                "session {id} is {}; moving it to {} needs it {}",
                current.state,
                change.to,
                from.join(" or ")
            ),
        });
    }
    let now = now_ms();
    let logged = c
        .fetch_optional(
            with_key(
                Statement::new(sql::INSERT_SESSION_CHANGE)
                    .text(id)
                    .text(current.state.as_str())
                    .text(change.to.as_str()),
                key,
            )
            .opt_text(key.map(|k| k.fingerprint.as_str()))
            .int(now),
        )
        .await
        .map_err(db("logging session state change"))?;
    if logged.is_none() {
        // The key was stored meanwhile, by a change of another session (this one is locked).
        let stored = match key {
            Some(key) => change_under(c, key).await?,
            None => None,
        };
        return match (stored, key) {
            (Some(stored), Some(key)) => answer_retried_change(c, stored, key, current).await,
            _ => Err(StoreError::Backend(
                "logging session state change: nothing inserted and nothing stored".into(),
            )),
        };
    }
    if already {
        return Ok(Created {
            record: current,
            existed: true,
        });
    }
    let row = c
        .fetch_optional(
            Statement::new(sql::SET_SESSION_STATE)
                .text(id)
                .text(change.to.as_str())
                .int(now),
        )
        .await
        .map_err(db("updating session state"))?;
    Ok(Created {
        record: rows::session(&returned(row, "updating session state")?)?,
        existed: false,
    })
}

async fn change_under<C: Conn>(c: &mut C, key: &RequestKey) -> Result<Option<SessionChange>, StoreError> {
    c.fetch_optional(with_key(Statement::new(sql::SESSION_CHANGE_BY_KEY), Some(key)))
        .await
        .map_err(db("looking up a request key"))?
        .map(|r| rows::session_change(&r))
        .transpose()
}

/// A state change whose key is stored: the session as it is now if the request is the same,
/// [`StoreError::RequestReused`] otherwise.
async fn answer_retried_change<C: Conn>(
    c: &mut C,
    stored: SessionChange,
    key: &RequestKey,
    current: Session,
) -> Result<Created<Session>, StoreError> {
    if stored.request.as_ref().map(|k| k.fingerprint.as_str()) != Some(key.fingerprint.as_str()) {
        return Err(StoreError::RequestReused {
            what: "session state change",
        });
    }
    let record = if stored.session_id == current.id {
        current
    } else {
        get_session(c, &stored.session_id).await?
    };
    Ok(Created {
        record,
        existed: true,
    })
}

pub(crate) async fn session_changes<C: Conn>(
    c: &mut C,
    session_id: &str,
) -> Result<Vec<SessionChange>, StoreError> {
    require_session(c, session_id).await?;
    let rows = c
        .fetch_all(Statement::new(sql::SESSION_CHANGES).text(session_id))
        .await
        .map_err(db("reading session changes"))?;
    rows.iter().map(rows::session_change).collect()
}

/// [`StoreError::NotFound`] unless session `id` exists.
async fn require_session<C: Conn>(c: &mut C, id: &str) -> Result<(), StoreError> {
    let found = c
        .fetch_optional(Statement::new(sql::SESSION_EXISTS).text(id))
        .await
        .map_err(db("checking session"))?;
    match found {
        Some(_) => Ok(()),
        None => Err(not_found("session", id)),
    }
}

// Responses.

pub(crate) async fn responses<C: Conn>(c: &mut C, session_id: &str) -> Result<Vec<Response>, StoreError> {
    require_session(c, session_id).await?;
    let rows = c
        .fetch_all(Statement::new(sql::RESPONSES).text(session_id))
        .await
        .map_err(db("reading responses"))?;
    rows.iter().map(rows::response).collect()
}

/// Why an append (see [`Store::append_response`](super::Store::append_response)) inserted
/// nothing, in the order the contract checks: a stored key (the stored response if the
/// fingerprint agrees, [`StoreError::RequestReused`] if not), no such session, a session
/// that is not active ([`StoreError::Conflict`]), a log that moved past `after_seq`
/// ([`StoreError::Stale`]).
pub(crate) async fn append_refusal<C: Conn>(
    c: &mut C,
    new: &NewResponse,
) -> Result<Created<Response>, StoreError> {
    let key = new.request.as_ref();
    let row = c
        .fetch_optional(with_key(
            Statement::new(sql::APPEND_REFUSAL).text(&new.session_id),
            key,
        ))
        .await
        .map_err(db("reading why a response was not appended"))?;
    let row = returned(row, "reading why a response was not appended")?;
    append_refused(&row, new)
}

/// What a row of [`sql::APPEND_REFUSAL`] says about `new`, which inserted nothing: the
/// response stored under its key (a retry), or why it was refused.
pub(crate) fn append_refused(row: &impl Get, new: &NewResponse) -> Result<Created<Response>, StoreError> {
    let key = new.request.as_ref();
    if row.opt_int("seq")?.is_some() {
        let stored = rows::response(row)?;
        let fingerprint = |k: Option<&RequestKey>| k.map(|k| k.fingerprint.clone());
        if fingerprint(stored.request.as_ref()) != fingerprint(key) {
            return Err(StoreError::RequestReused { what: "response" });
        }
        return Ok(Created {
            record: stored,
            existed: true,
        });
    }
    let Some(state) = row.opt_parsed::<SessionState>("state")? else {
        return Err(not_found("session", &new.session_id));
    };
    if state != SessionState::Active {
        return Err(StoreError::Conflict {
            detail: format!(
                "session {} is {state}, responses need an active session",
                new.session_id
            ),
        });
    }
    let last = row.int("last_seq")?;
    if last != new.after_seq {
        return Err(StoreError::Stale {
            detail: format!(
                "the log of session {} ends at {last}, not at {}: read it again",
                new.session_id, new.after_seq
            ),
        });
    }
    Err(StoreError::Backend(
        "appending response: nothing inserted, and neither the key, the state nor the log says why".into(),
    ))
}

// Report edits.

pub(crate) async fn append_report_edit<C: Conn>(
    c: &mut C,
    new: &NewReportEdit,
) -> Result<Created<ReportEdit>, StoreError> {
    let key = new.request.as_ref();
    if let Some(key) = key
        && let Some(found) =
            stored_under(c, sql::REPORT_EDIT_BY_KEY, key, "report edit", rows::report_edit).await?
    {
        return Ok(found);
    }
    let inserted = c
        .fetch_optional(
            with_key(
                Statement::new(sql::INSERT_REPORT_EDIT)
                    .text(&new.session_id)
                    .text(&new.item)
                    .text(new.text.as_str())
                    .text(&new.author),
                key,
            )
            .opt_text(key.map(|k| k.fingerprint.as_str()))
            .int(now_ms()),
        )
        .await
        .map_err(db("appending report edit"))?;
    if let Some(row) = inserted {
        return Ok(Created {
            record: rows::report_edit(&row)?,
            existed: false,
        });
    }
    // No such session, or the key was stored meanwhile.
    let otherwise = match require_session(c, &new.session_id).await {
        Err(e @ StoreError::NotFound { .. }) => e,
        Err(e) => return Err(e),
        Ok(()) => StoreError::Backend("appending report edit: nothing inserted and nothing stored".into()),
    };
    stored_or(
        c,
        sql::REPORT_EDIT_BY_KEY,
        key,
        "report edit",
        rows::report_edit,
        otherwise,
    )
    .await
}

pub(crate) async fn report_edits<C: Conn>(
    c: &mut C,
    session_id: &str,
    page: &PageRequest,
) -> Result<Page<ReportEdit>, StoreError> {
    let size = page.effective_size();
    let after = seq_cursor(page)?;
    require_session(c, session_id).await?;
    let rows = c
        .fetch_all(
            Statement::new(sql::REPORT_EDITS_PAGE)
                .text(session_id)
                .opt_int(after)
                .int(i64::from(size) + 1),
        )
        .await
        .map_err(db("reading report edits"))?;
    let items = rows
        .iter()
        .map(rows::report_edit)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch_seq(items, size, |e| e.id))
}

// The audit log.

pub(crate) async fn audit<C: Conn>(c: &mut C, entry: &AuditEntry) -> Result<AuditRecord, StoreError> {
    let row = c
        .fetch_optional(with_audit(
            Statement::new(sql::INSERT_AUDIT),
            now_ms(),
            Some(entry),
        ))
        .await
        .map_err(db("writing audit entry"))?;
    rows::audit(&returned(row, "writing audit entry")?)
}

pub(crate) async fn audit_entries<C: Conn>(
    c: &mut C,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<AuditRecord>, StoreError> {
    let size = page.effective_size();
    let after = seq_cursor(page)?;
    let rows = c
        .fetch_all(
            Statement::new(sql::AUDIT_PAGE)
                .opt_text(filter.child_id.as_deref())
                .opt_text(filter.token_id.as_deref())
                .opt_text(filter.outcome.map(|o| o.as_str()))
                .opt_int(after)
                .int(i64::from(size) + 1),
        )
        .await
        .map_err(db("reading audit log"))?;
    let items = rows.iter().map(rows::audit).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch_seq(items, size, |a| a.id))
}
