//! The PostgreSQL backend, for several stateless server replicas sharing one database.
//!
//! Nothing is kept in process: sequence numbers come from the table under a row lock on the
//! session (`SELECT … FOR UPDATE`), idempotency from unique constraints, and every
//! acknowledged write is a committed transaction (durable with the server's default
//! `synchronous_commit = on`). Runs under the default READ COMMITTED isolation. An appended
//! response and its audit entry are inserted by one statement of one transaction. Concurrent
//! commits from the pool's connections already share WAL flushes in the server (its own group
//! commit), so appends are not batched in process.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::rows;
use super::{
    AuditEntry, AuditRecord, Child, ChildFilter, Created, NewChild, NewReportEdit, NewResponse, NewSession,
    NewToken, Page, PageRequest, ReportEdit, Response, Session, SessionFilter, SessionState, Store,
    StoreError, SubtestContext, Token, new_id, now_ms, seq_cursor,
};

/// Connections per pool (per server replica).
pub const MAX_CONNECTIONS: u32 = 10;

/// A pooled connection idle at least this long is pinged before it is used again.
const IDLE_PING_AFTER: Duration = Duration::from_secs(30);

macro_rules! token_cols {
    () => {
        "id, role, centre, subject, created_at, revoked_at"
    };
}
macro_rules! child_cols {
    () => {
        "id, code, birth_date, sex, test_language, centre, owner, given_name, family_name, notes, created_at"
    };
}
macro_rules! session_cols {
    () => {
        "id, child_id, battery_id, norm_set_hash, test_date, examiner, state, created_at, finished_at"
    };
}
macro_rules! response_cols {
    () => {
        "session_id, seq, subtest, payload, request_id, recorded_at"
    };
}
macro_rules! report_edit_cols {
    () => {
        "id, session_id, item, text, author, request_id, created_at"
    };
}
macro_rules! audit_cols {
    () => {
        "id, at, principal, action, resource, child_id"
    };
}

fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::backend(context, e)
}

/// The name of the unique constraint a write broke, if that is what failed.
fn unique_violation(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Some(d.constraint().unwrap_or("")),
        _ => None,
    }
}

/// The PostgreSQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL and runs the migrations (under
    /// PostgreSQL's advisory lock, so replicas starting together migrate once).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is malformed, the server cannot be reached or a
    /// migration fails.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::backend("parsing PostgreSQL URL", e))?;
        Self::connect_with(options).await
    }

    /// Like [`PostgresStore::connect`], with every connection's `search_path` set to `schema`
    /// (which must exist): the tables, and the migrations' bookkeeping, live there. Lets tests
    /// (or several deployments) share one database.
    ///
    /// # Errors
    ///
    /// As [`PostgresStore::connect`].
    pub async fn connect_with_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::backend("parsing PostgreSQL URL", e))?;
        Self::connect_with(options.options([("search_path", schema)])).await
    }

    /// Connects with prepared options and runs the migrations.
    ///
    /// # Errors
    ///
    /// As [`PostgresStore::connect`].
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // Ping a pooled connection only if it sat idle for a while (the server or the
            // network may have dropped it), not before every use: a round trip saved per call.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_PING_AFTER {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(db("connecting to PostgreSQL"))?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::backend("running PostgreSQL migrations", e))?;
        tracing::info!("PostgreSQL store connected");
        Ok(PostgresStore { pool })
    }
}

async fn session_in(
    conn: &mut sqlx::PgConnection,
    id: &str,
    lock: bool,
) -> Result<Option<Session>, StoreError> {
    let query = if lock {
        concat!(
            "SELECT ",
            session_cols!(),
            " FROM sessions WHERE id = $1 FOR UPDATE"
        )
    } else {
        concat!("SELECT ", session_cols!(), " FROM sessions WHERE id = $1")
    };
    sqlx::query(query)
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db("reading session"))?
        .map(|r| rows::session(&r))
        .transpose()
}

/// The response stored under (`session_id`, `request_id`), if any.
async fn response_by_request(
    conn: &mut sqlx::PgConnection,
    session_id: &str,
    request_id: &str,
) -> Result<Option<Response>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        response_cols!(),
        " FROM responses WHERE session_id = $1 AND request_id = $2"
    ))
    .bind(session_id)
    .bind(request_id)
    .fetch_optional(conn)
    .await
    .map_err(db("looking up response by request id"))?
    .map(|r| rows::response(&r))
    .transpose()
}

impl PostgresStore {
    async fn child_by_request(&self, owner: &str, request_id: &str) -> Result<Option<Child>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            child_cols!(),
            " FROM children WHERE owner = $1 AND request_id = $2"
        ))
        .bind(owner)
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up child by request id"))?
        .map(|r| rows::child(&r))
        .transpose()
    }

    async fn session_by_request(
        &self,
        examiner: &str,
        request_id: &str,
    ) -> Result<Option<Session>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            session_cols!(),
            " FROM sessions WHERE examiner = $1 AND request_id = $2"
        ))
        .bind(examiner)
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up session by request id"))?
        .map(|r| rows::session(&r))
        .transpose()
    }

    async fn report_edit_by_request(
        &self,
        author: &str,
        request_id: &str,
    ) -> Result<Option<ReportEdit>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            report_edit_cols!(),
            " FROM report_edits WHERE author = $1 AND request_id = $2"
        ))
        .bind(author)
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up report edit by request id"))?
        .map(|r| rows::report_edit(&r))
        .transpose()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_token(&self, new: NewToken) -> Result<Token, StoreError> {
        let row = sqlx::query(concat!(
            "INSERT INTO tokens (id, role, centre, subject, secret_hash, created_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            token_cols!()
        ))
        .bind(new_id())
        .bind(new.role.as_str())
        .bind(&new.centre)
        .bind(&new.subject)
        .bind(&new.secret_hash)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match unique_violation(&e) {
            Some(_) => StoreError::Duplicate {
                what: "token",
                detail: "the secret hash is already stored".into(),
            },
            None => StoreError::backend("creating token", e),
        })?;
        rows::token(&row)
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<Token>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_cols!(),
            " FROM tokens WHERE secret_hash = $1"
        ))
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up token"))?
        .map(|r| rows::token(&r))
        .transpose()
    }

    async fn revoke_token(&self, id: &str) -> Result<Token, StoreError> {
        sqlx::query(concat!(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ",
            token_cols!()
        ))
        .bind(id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("revoking token"))?
        .map(|r| rows::token(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound {
            what: "token",
            id: id.to_owned(),
        })
    }

    async fn has_tokens(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM tokens LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db("checking for tokens"))?;
        Ok(row.is_some())
    }

    async fn list_tokens(&self, page: PageRequest) -> Result<Page<Token>, StoreError> {
        let size = page.effective_size();
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_cols!(),
            " FROM tokens WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2"
        ))
        .bind(&page.after)
        .bind(i64::from(size) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing tokens"))?;
        let items = rows.iter().map(rows::token).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |t| &t.id))
    }

    async fn create_child(&self, new: NewChild) -> Result<Created<Child>, StoreError> {
        if let Some(request_id) = &new.request_id
            && let Some(child) = self.child_by_request(&new.owner, request_id).await?
        {
            return Ok(Created {
                record: child,
                existed: true,
            });
        }
        let inserted = sqlx::query(concat!(
            "INSERT INTO children (id, code, birth_date, sex, test_language, centre, owner, given_name, ",
            "family_name, notes, request_id, created_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ",
            child_cols!()
        ))
        .bind(new_id())
        .bind(&new.code)
        .bind(&new.birth_date)
        .bind(&new.sex)
        .bind(&new.test_language)
        .bind(&new.centre)
        .bind(&new.owner)
        .bind(&new.given_name)
        .bind(&new.family_name)
        .bind(&new.notes)
        .bind(&new.request_id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(row) => Ok(Created {
                record: rows::child(&row)?,
                existed: false,
            }),
            Err(e) => match unique_violation(&e) {
                Some(constraint) => {
                    // A concurrent retry of the same request may have won the race (and broken
                    // either constraint first): then return its child.
                    if let Some(request_id) = &new.request_id
                        && let Some(child) = self.child_by_request(&new.owner, request_id).await?
                    {
                        return Ok(Created {
                            record: child,
                            existed: true,
                        });
                    }
                    if constraint == "children_centre_code_key" {
                        Err(StoreError::Duplicate {
                            what: "child",
                            detail: "the code is already used in this centre".into(),
                        })
                    } else {
                        Err(StoreError::backend("creating child", e))
                    }
                }
                None => Err(StoreError::backend("creating child", e)),
            },
        }
    }

    async fn get_child(&self, id: &str) -> Result<Child, StoreError> {
        sqlx::query(concat!("SELECT ", child_cols!(), " FROM children WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading child"))?
            .map(|r| rows::child(&r))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                what: "child",
                id: id.to_owned(),
            })
    }

    async fn list_children(&self, filter: ChildFilter, page: PageRequest) -> Result<Page<Child>, StoreError> {
        let size = page.effective_size();
        let rows = sqlx::query(concat!(
            "SELECT ",
            child_cols!(),
            " FROM children WHERE ($1::text IS NULL OR centre = $1) AND ($2::text IS NULL OR owner = $2) ",
            "AND ($3::text IS NULL OR left(code, char_length($3)) = $3) AND ($4::text IS NULL OR id > $4) ",
            "ORDER BY id LIMIT $5"
        ))
        .bind(&filter.centre)
        .bind(&filter.owner)
        .bind(&filter.code_prefix)
        .bind(&page.after)
        .bind(i64::from(size) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing children"))?;
        let items = rows.iter().map(rows::child).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |c| &c.id))
    }

    async fn create_session(&self, new: NewSession) -> Result<Created<Session>, StoreError> {
        if let Some(request_id) = &new.request_id
            && let Some(session) = self.session_by_request(&new.examiner, request_id).await?
        {
            return Ok(Created {
                record: session,
                existed: true,
            });
        }
        let inserted = sqlx::query(concat!(
            "INSERT INTO sessions (id, child_id, battery_id, norm_set_hash, test_date, examiner, ",
            "request_id, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8) RETURNING ",
            session_cols!()
        ))
        .bind(new_id())
        .bind(&new.child_id)
        .bind(&new.battery_id)
        .bind(&new.norm_set_hash)
        .bind(&new.test_date)
        .bind(&new.examiner)
        .bind(&new.request_id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(row) => Ok(Created {
                record: rows::session(&row)?,
                existed: false,
            }),
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => Err(StoreError::NotFound {
                what: "child",
                id: new.child_id,
            }),
            Err(e) => match unique_violation(&e) {
                Some(_) => {
                    let request_id = new.request_id.as_deref().unwrap_or_default();
                    match self.session_by_request(&new.examiner, request_id).await? {
                        Some(session) => Ok(Created {
                            record: session,
                            existed: true,
                        }),
                        None => Err(StoreError::backend("creating session", e)),
                    }
                }
                None => Err(StoreError::backend("creating session", e)),
            },
        }
    }

    async fn get_session(&self, id: &str) -> Result<Session, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db("acquiring connection"))?;
        session_in(&mut conn, id, false)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "session",
                id: id.to_owned(),
            })
    }

    async fn list_sessions(
        &self,
        filter: SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, StoreError> {
        let size = page.effective_size();
        let rows = sqlx::query(concat!(
            "SELECT ",
            session_cols!(),
            " FROM sessions WHERE ($1::text IS NULL OR child_id = $1) AND ($2::text IS NULL OR examiner = $2) ",
            "AND ($3::text IS NULL OR child_id IN (SELECT id FROM children WHERE centre = $3)) ",
            "AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5"
        ))
        .bind(&filter.child_id)
        .bind(&filter.examiner)
        .bind(&filter.centre)
        .bind(&page.after)
        .bind(i64::from(size) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing sessions"))?;
        let items = rows.iter().map(rows::session).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |s| &s.id))
    }

    async fn set_session_state(
        &self,
        id: &str,
        expected: SessionState,
        new: SessionState,
    ) -> Result<Session, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("beginning transaction"))?;
        let current = session_in(&mut tx, id, true)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "session",
                id: id.to_owned(),
            })?;
        if current.state != expected {
            return Err(StoreError::Conflict {
                detail: format!("session {id} is {}, expected {expected}", current.state),
            });
        }
        let row = sqlx::query(concat!(
            "UPDATE sessions SET state = $2, ",
            "finished_at = CASE WHEN $2 = 'finished' THEN COALESCE(finished_at, $3) ELSE NULL END ",
            "WHERE id = $1 RETURNING ",
            session_cols!()
        ))
        .bind(id)
        .bind(new.as_str())
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(db("updating session state"))?;
        let session = rows::session(&row)?;
        tx.commit().await.map_err(db("committing session state"))?;
        Ok(session)
    }

    async fn append_response(
        &self,
        new: NewResponse,
        audit: Option<AuditEntry>,
    ) -> Result<Created<Response>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("beginning transaction"))?;
        // The row lock on the session serialises appends to it across all replicas; under
        // READ COMMITTED each later statement sees every append committed before the lock
        // was granted, so MAX(seq) + 1 is the next free, gapless number.
        let state: Option<String> = sqlx::query("SELECT state FROM sessions WHERE id = $1 FOR UPDATE")
            .bind(&new.session_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("locking session"))?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()
            .map_err(db("decoding session state"))?;
        let Some(state) = state else {
            return Err(StoreError::NotFound {
                what: "session",
                id: new.session_id,
            });
        };
        if state != SessionState::Active.as_str() {
            // Only a retry of an append stored while the session was active still answers.
            if let Some(request_id) = &new.request_id
                && let Some(stored) = response_by_request(&mut tx, &new.session_id, request_id).await?
            {
                return Ok(Created {
                    record: stored,
                    existed: true,
                });
            }
            return Err(StoreError::Conflict {
                detail: format!(
                    "session {} is {state}, responses need an active session",
                    new.session_id
                ),
            });
        }
        // The response, and its audit entry only if the response was inserted: a retry
        // (same request id, already stored) inserts neither.
        let audit = audit.as_ref();
        let recorded_at = now_ms();
        let seq: Option<i64> = sqlx::query_scalar(concat!(
            "WITH r AS (",
            "INSERT INTO responses (session_id, seq, subtest, payload, request_id, recorded_at) ",
            "SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM responses WHERE session_id = $1 ",
            "ON CONFLICT ON CONSTRAINT responses_session_request_id_key DO NOTHING ",
            "RETURNING seq",
            "), a AS (",
            "INSERT INTO audit_log (at, principal, action, resource, child_id) ",
            "SELECT $5, $6::text, $7::text, $8::text, $9::text FROM r WHERE $6::text IS NOT NULL",
            ") SELECT seq FROM r"
        ))
        .bind(&new.session_id)
        .bind(&new.subtest)
        .bind(&new.payload)
        .bind(&new.request_id)
        .bind(recorded_at)
        .bind(audit.map(|a| a.principal.as_str()))
        .bind(audit.map(|a| a.action.as_str()))
        .bind(audit.map(|a| a.resource.as_str()))
        .bind(audit.and_then(|a| a.child_id.as_deref()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("appending response"))?;
        let Some(seq) = seq else {
            // The request id is taken: the first attempt's response is the answer.
            let request_id = new.request_id.as_deref().unwrap_or_default();
            return match response_by_request(&mut tx, &new.session_id, request_id).await? {
                Some(stored) => Ok(Created {
                    record: stored,
                    existed: true,
                }),
                None => Err(StoreError::Backend(
                    "appending response: nothing inserted and no earlier response found".into(),
                )),
            };
        };
        tx.commit().await.map_err(db("committing response"))?;
        // Only the new seq came back; the rest is what was bound.
        Ok(Created {
            record: Response {
                session_id: new.session_id,
                seq,
                subtest: new.subtest,
                payload: new.payload,
                request_id: new.request_id,
                recorded_at,
            },
            existed: false,
        })
    }

    async fn responses(&self, session_id: &str) -> Result<Vec<Response>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db("acquiring connection"))?;
        if session_in(&mut conn, session_id, false).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            response_cols!(),
            " FROM responses WHERE session_id = $1 ORDER BY seq"
        ))
        .bind(session_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("reading responses"))?;
        rows.iter().map(rows::response).collect()
    }

    async fn responses_for_subtest(
        &self,
        session_id: &str,
        subtest: &str,
    ) -> Result<Vec<Response>, StoreError> {
        // One statement: the session's row, joined with its responses to the subtest (none:
        // one row of NULLs; no session: no row).
        let rows = sqlx::query(
            "SELECT s.id AS session_id, r.seq, r.subtest, r.payload, r.request_id, r.recorded_at \
             FROM sessions s LEFT JOIN responses r ON r.session_id = s.id AND r.subtest = $2 \
             WHERE s.id = $1 ORDER BY r.seq",
        )
        .bind(session_id)
        .bind(subtest)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading responses"))?;
        if rows.is_empty() {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        }
        let mut log = Vec::with_capacity(rows.len());
        for row in &rows {
            if rows::Get::opt_int(row, "seq")?.is_some() {
                log.push(rows::response(row)?);
            }
        }
        Ok(log)
    }

    async fn subtest_context(&self, session_id: &str, subtest: &str) -> Result<SubtestContext, StoreError> {
        // One statement: the session and its child, left-joined with its responses to the
        // subtest (none: one row whose response columns are NULL; no session: no row).
        let rows = sqlx::query(concat!(
            "SELECT ",
            rows::session_child_cols!(),
            ", r.session_id, r.seq, r.subtest, r.payload, r.request_id, r.recorded_at ",
            "FROM sessions s JOIN children c ON c.id = s.child_id ",
            "LEFT JOIN responses r ON r.session_id = s.id AND r.subtest = $2 ",
            "WHERE s.id = $1 ORDER BY r.seq"
        ))
        .bind(session_id)
        .bind(subtest)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading session, child and responses"))?;
        let Some(first) = rows.first() else {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        };
        let mut responses = Vec::with_capacity(rows.len());
        for row in &rows {
            if rows::Get::opt_int(row, "seq")?.is_some() {
                responses.push(rows::response(row)?);
            }
        }
        rows::subtest_context(first, responses)
    }

    async fn append_report_edit(&self, new: NewReportEdit) -> Result<Created<ReportEdit>, StoreError> {
        if let Some(request_id) = &new.request_id
            && let Some(edit) = self.report_edit_by_request(&new.author, request_id).await?
        {
            return Ok(Created {
                record: edit,
                existed: true,
            });
        }
        let inserted = sqlx::query(concat!(
            "INSERT INTO report_edits (session_id, item, text, author, request_id, created_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            report_edit_cols!()
        ))
        .bind(&new.session_id)
        .bind(&new.item)
        .bind(&new.text)
        .bind(&new.author)
        .bind(&new.request_id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(row) => Ok(Created {
                record: rows::report_edit(&row)?,
                existed: false,
            }),
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => Err(StoreError::NotFound {
                what: "session",
                id: new.session_id,
            }),
            // A concurrent retry (another replica) stored it first.
            Err(e) => match unique_violation(&e) {
                Some(_) => {
                    let request_id = new.request_id.as_deref().unwrap_or_default();
                    match self.report_edit_by_request(&new.author, request_id).await? {
                        Some(edit) => Ok(Created {
                            record: edit,
                            existed: true,
                        }),
                        None => Err(StoreError::backend("appending report edit", e)),
                    }
                }
                None => Err(StoreError::backend("appending report edit", e)),
            },
        }
    }

    async fn report_edits(
        &self,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<ReportEdit>, StoreError> {
        let size = page.effective_size();
        let after = seq_cursor(&page)?;
        let mut conn = self.pool.acquire().await.map_err(db("acquiring connection"))?;
        if session_in(&mut conn, session_id, false).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            report_edit_cols!(),
            " FROM report_edits WHERE session_id = $1 AND ($2::BIGINT IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(session_id)
        .bind(after)
        .bind(i64::from(size) + 1)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("reading report edits"))?;
        let items = rows
            .iter()
            .map(rows::report_edit)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch_seq(items, size, |e| e.id))
    }

    async fn audit(&self, entry: AuditEntry) -> Result<AuditRecord, StoreError> {
        let row = sqlx::query(concat!(
            "INSERT INTO audit_log (at, principal, action, resource, child_id) VALUES ($1, $2, $3, $4, $5) ",
            "RETURNING ",
            audit_cols!()
        ))
        .bind(now_ms())
        .bind(&entry.principal)
        .bind(&entry.action)
        .bind(&entry.resource)
        .bind(&entry.child_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db("writing audit entry"))?;
        rows::audit(&row)
    }

    async fn audit_entries(&self, child_id: Option<&str>) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit_log WHERE ($1::text IS NULL OR child_id = $1) ORDER BY id"
        ))
        .bind(child_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading audit log"))?;
        rows.iter().map(rows::audit).collect()
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
