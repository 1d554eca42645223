//! The PostgreSQL backend, for several stateless server replicas sharing one database.
//!
//! Nothing is kept in process: appends to a session and changes of its state are serialised
//! by a row lock on the session (`SELECT … FOR UPDATE`), idempotency comes from unique
//! indexes, and every acknowledged write is a committed transaction (durable with the
//! server's default `synchronous_commit = on`). Runs under the default READ COMMITTED
//! isolation. An appended response and its audit entry are inserted by one statement of one
//! transaction. Concurrent commits from the pool's connections already share WAL flushes in
//! the server (its own group commit), so appends are not batched in process.
//!
//! Every other operation is the shared one of `ops.rs`, run on a pooled connection (or, for
//! a state change, a transaction); only the append and the one-statement reads are written
//! here.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow, Postgres};

use super::conn::{Conn, Statement, impl_conn};
use super::error::{db, is_unique_violation};
use super::rows::{self, Get};
use super::screening::{
    Cohort, CohortFilter, NewCohort, NewTicket, RosterImport, RosterMember, RosterOutcome, ScreeningStore,
    SubtestClock, Ticket,
};
use super::sql::{audit_insert_cols, response_cols, session_child_cols};
use super::{
    AuditEntry, AuditFilter, AuditRecord, Child, ChildFilter, ConsoleSession, Created, NewChild,
    NewConsoleSession, NewReportEdit, NewResponse, NewSession, NewToken, Page, PageRequest, ReportEdit,
    Response, Session, SessionChange, SessionFilter, SessionState, StateChange, Store, StoreError,
    SubtestContext, Token, now_ms, ops, screening_ops,
};

/// Connections per pool (per server replica).
pub const MAX_CONNECTIONS: u32 = 10;

/// A pooled connection idle at least this long is pinged before it is used again.
const IDLE_PING_AFTER: Duration = Duration::from_secs(30);

impl_conn!(PgConnection, Postgres, PgRow, row_locks = true);

/// The session's state, its row locked until the transaction ends: appends to one session
/// (and changes of its state) from every replica queue here. Under READ COMMITTED each later
/// statement sees every append committed before the lock was granted.
const LOCK_SESSION: &str = "SELECT state FROM sessions WHERE id = $1 FOR UPDATE";

/// The response, inserted as `after_seq + 1` only if the log still ends at `after_seq` and
/// the key is unused, and its audit entry only if the response was inserted. Binds:
/// session_id, after_seq, subtest, payload, token_id, request_id, fingerprint, recorded_at,
/// then the audit entry (`at` and its fields, all NULL without one).
const APPEND: &str = concat!(
    "WITH r AS (",
    "INSERT INTO responses (",
    response_cols!(),
    ") SELECT $1, $2 + 1, $3, $4, $5, $6, $7, $8 ",
    "WHERE (SELECT COALESCE(MAX(seq), 0) FROM responses WHERE session_id = $1) = $2 ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING seq",
    "), a AS (",
    "INSERT INTO audit_log (",
    audit_insert_cols!(),
    ") SELECT $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19 FROM r WHERE $9 IS NOT NULL",
    ") SELECT seq FROM r"
);

/// The session's row joined with its responses to the subtest (none: one row of NULLs; no
/// session: no row).
const RESPONSES_FOR_SUBTEST: &str = concat!(
    "SELECT s.id AS session_id, r.seq, r.subtest, r.payload, r.token_id, r.request_id, r.fingerprint, ",
    "r.recorded_at FROM sessions s LEFT JOIN responses r ON r.session_id = s.id AND r.subtest = $2 ",
    "WHERE s.id = $1 ORDER BY r.seq"
);

/// One statement: the session, its child and the last seq of its log, left-joined with its
/// responses to the subtest (none: one row whose response columns are NULL; no session: no
/// row).
const SUBTEST_CONTEXT: &str = concat!(
    "SELECT ",
    session_child_cols!(),
    ", l.last_seq, r.session_id, r.seq, r.subtest, r.payload, r.token_id, r.request_id, ",
    "r.fingerprint, r.recorded_at ",
    "FROM sessions s JOIN children c ON c.id = s.child_id ",
    "CROSS JOIN LATERAL (SELECT COALESCE(MAX(seq), 0) AS last_seq FROM responses ",
    "WHERE session_id = s.id) l ",
    "LEFT JOIN responses r ON r.session_id = s.id AND r.subtest = $2 ",
    "WHERE s.id = $1 ORDER BY r.seq"
);

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

    /// A pooled connection (each statement commits on its own).
    async fn conn(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        self.pool.acquire().await.map_err(db("acquiring connection"))
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_token(&self, new: NewToken) -> Result<Token, StoreError> {
        ops::create_token(&mut *self.conn().await?, &new).await
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<Token>, StoreError> {
        ops::token_by_hash(&mut *self.conn().await?, secret_hash).await
    }

    async fn token(&self, id: &str) -> Result<Token, StoreError> {
        ops::token(&mut *self.conn().await?, id).await
    }

    async fn revoke_token(&self, id: &str) -> Result<Token, StoreError> {
        ops::revoke_token(&mut *self.conn().await?, id).await
    }

    async fn has_tokens(&self) -> Result<bool, StoreError> {
        ops::has_tokens(&mut *self.conn().await?).await
    }

    async fn list_tokens(&self, page: PageRequest) -> Result<Page<Token>, StoreError> {
        ops::list_tokens(&mut *self.conn().await?, &page).await
    }

    async fn create_console_session(&self, new: NewConsoleSession) -> Result<ConsoleSession, StoreError> {
        ops::create_console_session(&mut *self.conn().await?, &new).await
    }

    async fn console_session(
        &self,
        secret_hash: &str,
    ) -> Result<Option<(ConsoleSession, Token)>, StoreError> {
        ops::console_session(&mut *self.conn().await?, secret_hash).await
    }

    async fn touch_console_session(&self, secret_hash: &str, at: i64) -> Result<(), StoreError> {
        ops::touch_console_session(&mut *self.conn().await?, secret_hash, at).await
    }

    async fn delete_console_session(&self, secret_hash: &str) -> Result<(), StoreError> {
        ops::delete_console_session(&mut *self.conn().await?, secret_hash).await
    }

    async fn purge_console_sessions(&self, idle_before: i64, now: i64) -> Result<u64, StoreError> {
        ops::purge_console_sessions(&mut *self.conn().await?, idle_before, now).await
    }

    async fn create_child(&self, new: NewChild) -> Result<Created<Child>, StoreError> {
        ops::create_child(&mut *self.conn().await?, &new).await
    }

    async fn get_child(&self, id: &str) -> Result<Child, StoreError> {
        ops::get_child(&mut *self.conn().await?, id).await
    }

    async fn list_children(&self, filter: ChildFilter, page: PageRequest) -> Result<Page<Child>, StoreError> {
        ops::list_children(&mut *self.conn().await?, &filter, &page).await
    }

    async fn create_session(&self, new: NewSession) -> Result<Created<Session>, StoreError> {
        ops::create_session(&mut *self.conn().await?, &new).await
    }

    async fn get_session(&self, id: &str) -> Result<Session, StoreError> {
        ops::get_session(&mut *self.conn().await?, id).await
    }

    async fn list_sessions(
        &self,
        filter: SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, StoreError> {
        ops::list_sessions(&mut *self.conn().await?, &filter, &page).await
    }

    async fn set_session_state(&self, change: StateChange) -> Result<Created<Session>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("beginning transaction"))?;
        let changed = ops::set_session_state(&mut *tx, &change).await?;
        tx.commit().await.map_err(db("committing session state"))?;
        Ok(changed)
    }

    async fn session_changes(&self, session_id: &str) -> Result<Vec<SessionChange>, StoreError> {
        ops::session_changes(&mut *self.conn().await?, session_id).await
    }

    async fn append_response(
        &self,
        new: NewResponse,
        audit: Option<AuditEntry>,
    ) -> Result<Created<Response>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("beginning transaction"))?;
        let locked = tx
            .fetch_optional(Statement::new(LOCK_SESSION).text(&new.session_id))
            .await
            .map_err(db("locking session"))?;
        let active = match &locked {
            Some(row) => row.parsed::<SessionState>("state")? == SessionState::Active,
            None => false,
        };
        if !active {
            // Only a retry of a stored key still answers; the rest is refused.
            return ops::append_refusal(&mut *tx, &new).await;
        }
        let recorded_at = now_ms();
        let append = ops::with_response(Statement::new(APPEND), &new, recorded_at);
        let inserted = tx
            .fetch_optional(ops::with_audit(append, recorded_at, audit.as_ref()))
            .await;
        let seq = match inserted {
            Ok(Some(row)) => row.int("seq")?,
            // A stored key, or a log that moved past `after_seq`.
            Ok(None) => return ops::append_refusal(&mut *tx, &new).await,
            // The session's lock makes a second `after_seq + 1` impossible; should the primary
            // key still refuse one, the caller's view is stale all the same.
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Stale {
                    detail: format!(
                        "seq {} of session {} was taken meanwhile: read it again",
                        new.after_seq + 1,
                        new.session_id
                    ),
                });
            }
            Err(e) => return Err(StoreError::backend("appending response", e)),
        };
        tx.commit().await.map_err(db("committing response"))?;
        // Only the new seq came back; the rest is what was bound.
        Ok(Created {
            record: Response {
                session_id: new.session_id,
                seq,
                subtest: new.subtest,
                payload: new.payload,
                request: new.request,
                recorded_at,
            },
            existed: false,
        })
    }

    async fn responses(&self, session_id: &str) -> Result<Vec<Response>, StoreError> {
        ops::responses(&mut *self.conn().await?, session_id).await
    }

    async fn responses_for_subtest(
        &self,
        session_id: &str,
        subtest: &str,
    ) -> Result<Vec<Response>, StoreError> {
        let rows = self
            .conn()
            .await?
            .fetch_all(
                Statement::new(RESPONSES_FOR_SUBTEST)
                    .text(session_id)
                    .text(subtest),
            )
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
            if row.opt_int("seq")?.is_some() {
                log.push(rows::response(row)?);
            }
        }
        Ok(log)
    }

    async fn subtest_context(&self, session_id: &str, subtest: &str) -> Result<SubtestContext, StoreError> {
        let rows = self
            .conn()
            .await?
            .fetch_all(Statement::new(SUBTEST_CONTEXT).text(session_id).text(subtest))
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
            if row.opt_int("seq")?.is_some() {
                responses.push(rows::response(row)?);
            }
        }
        rows::subtest_context(first, responses)
    }

    async fn append_report_edit(&self, new: NewReportEdit) -> Result<Created<ReportEdit>, StoreError> {
        ops::append_report_edit(&mut *self.conn().await?, &new).await
    }

    async fn report_edits(
        &self,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<ReportEdit>, StoreError> {
        ops::report_edits(&mut *self.conn().await?, session_id, &page).await
    }

    async fn audit(&self, entry: AuditEntry) -> Result<AuditRecord, StoreError> {
        ops::audit(&mut *self.conn().await?, &entry).await
    }

    async fn audit_entries(
        &self,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>, StoreError> {
        ops::audit_entries(&mut *self.conn().await?, &filter, &page).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl ScreeningStore for PostgresStore {
    async fn create_cohort(&self, new: NewCohort) -> Result<Created<Cohort>, StoreError> {
        screening_ops::create_cohort(&mut *self.conn().await?, &new).await
    }

    async fn get_cohort(&self, id: &str) -> Result<Cohort, StoreError> {
        screening_ops::get_cohort(&mut *self.conn().await?, id).await
    }

    async fn list_cohorts(
        &self,
        filter: CohortFilter,
        page: PageRequest,
    ) -> Result<Page<Cohort>, StoreError> {
        screening_ops::list_cohorts(&mut *self.conn().await?, &filter, &page).await
    }

    async fn import_roster(&self, import: RosterImport) -> Result<RosterOutcome, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("beginning transaction"))?;
        // One import per cohort at a time: the cohort's row is locked until the transaction ends.
        sqlx::query("SELECT id FROM cohorts WHERE id = $1 FOR UPDATE")
            .bind(&import.cohort_id)
            .execute(&mut *tx)
            .await
            .map_err(db("locking a cohort"))?;
        let outcome = screening_ops::import_roster(&mut *tx, &import).await?;
        if matches!(outcome, RosterOutcome::Imported(_)) && !import.check_only {
            tx.commit().await.map_err(db("committing a roster"))?;
        }
        Ok(outcome)
    }

    async fn roster(&self, cohort_id: &str) -> Result<Vec<RosterMember>, StoreError> {
        screening_ops::roster(&mut *self.conn().await?, cohort_id).await
    }

    async fn issue_tickets(
        &self,
        cohort_id: &str,
        tickets: Vec<NewTicket>,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("beginning transaction"))?;
        let issued = screening_ops::issue_tickets(&mut *tx, cohort_id, &tickets).await?;
        tx.commit().await.map_err(db("committing tickets"))?;
        Ok(issued)
    }

    async fn cohort_tickets(&self, cohort_id: &str) -> Result<Vec<Ticket>, StoreError> {
        screening_ops::cohort_tickets(&mut *self.conn().await?, cohort_id).await
    }

    async fn ticket(&self, secret_hash: &str) -> Result<Option<Ticket>, StoreError> {
        screening_ops::ticket_by_hash(&mut *self.conn().await?, secret_hash).await
    }

    async fn ticket_by_device(&self, device_hash: &str) -> Result<Option<Ticket>, StoreError> {
        screening_ops::ticket_by_device(&mut *self.conn().await?, device_hash).await
    }

    async fn claim_ticket(
        &self,
        secret_hash: &str,
        device_hash: &str,
        at: i64,
    ) -> Result<Option<Ticket>, StoreError> {
        screening_ops::claim_ticket(&mut *self.conn().await?, secret_hash, device_hash, at).await
    }

    async fn start_clock(
        &self,
        session_id: &str,
        subtest: &str,
        at: i64,
    ) -> Result<Vec<SubtestClock>, StoreError> {
        screening_ops::start_clock(&mut *self.conn().await?, session_id, subtest, at).await
    }

    async fn clocks(&self, session_id: &str) -> Result<Vec<SubtestClock>, StoreError> {
        screening_ops::clocks(&mut *self.conn().await?, session_id).await
    }

    async fn extend_clock(&self, session_id: &str, subtest: &str, seconds: i64) -> Result<bool, StoreError> {
        screening_ops::extend_clock(&mut *self.conn().await?, session_id, subtest, seconds).await
    }

    async fn attach_ticket_session(&self, secret_hash: &str, session_id: &str) -> Result<Ticket, StoreError> {
        screening_ops::attach_ticket_session(&mut *self.conn().await?, secret_hash, session_id).await
    }
}
