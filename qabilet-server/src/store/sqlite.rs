//! The SQLite backend: the embedded default, one file in WAL mode.
//!
//! Durability: `journal_mode=WAL` with `synchronous=FULL`, so a commit has reached the disk
//! when it returns. Concurrency: SQLite allows one writer at a time, so every write goes
//! through a single-connection writer pool (writes queue there, in process) and runs in a
//! `BEGIN IMMEDIATE` transaction, which takes the write lock up front (another process using
//! the same file waits on the busy timeout instead of failing half-way). Reads use a separate
//! pool of several connections and never wait for writers (WAL).
//!
//! Group commit of responses: [`Store::append_response`] does not run its own transaction.
//! It queues the append for one writer task, which takes whatever is queued (up to
//! [`MAX_APPEND_BATCH`]), runs it all in one `BEGIN IMMEDIATE … COMMIT` — one disk flush for
//! the group — and only then answers each caller. Inside the group every append keeps its own
//! semantics (it checks its key, the session's state and its `after_seq` against everything
//! written before it, including earlier appends of the same group: of two appends after the
//! same `after_seq`, the second is stale) and its own outcome: a refused append writes
//! nothing, and a failed write (the response and its audit entry are written under a
//! savepoint) is undone without touching its neighbours. An append is acknowledged only once
//! the commit containing it has returned; if that commit fails, or an error leaves the
//! transaction unusable, every append of the group fails and none is stored. Other writes
//! keep their own transactions on the same writer connection, between groups; another
//! process (or another store) on the same file takes the write lock between groups too. The
//! group commit is `sqlite_group.rs`.
//!
//! Every other operation is the shared one of `ops.rs`, run on the writer connection (writes)
//! or a reader (reads); only the multi-statement reads are written here.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};

use super::conn::{Conn, Statement, impl_conn};
use super::error::db;
use super::rows::{self, Get};
use super::screening::{
    Cohort, CohortFilter, NewCohort, NewTicket, RosterImport, RosterMember, RosterOutcome, ScreeningStore,
    SubtestClock, Ticket,
};
use super::screening_sql::ticket_cols;
use super::sql::{session_change_cols, session_child_cols};
use super::sqlite_group as group_commit;
use super::{
    AuditEntry, AuditFilter, AuditRecord, Child, ChildFilter, ConsoleSession, Created, NewChild,
    NewConsoleSession, NewReportEdit, NewResponse, NewSession, NewToken, Page, PageRequest, ReportEdit,
    Response, Session, SessionChange, SessionFilter, StateChange, Store, StoreError, SubtestContext,
    TakeContext, TakeSession, Token, ops, screening_ops,
};

/// How long a connection waits for the write lock held by another connection or process.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub use super::sqlite_group::MAX_APPEND_BATCH;

impl_conn!(SqliteConnection, Sqlite, SqliteRow, row_locks = false);

/// Two statements, one round trip to the reader's worker thread: the session with its child
/// and the last seq of its log (one row, or none), then its responses to the subtest. (Not
/// one join: it would repeat the session's and child's twenty columns on every response row,
/// and SQLite copies each value of each row it hands over.) The session id and the subtest
/// are known: not read back for every response.
const SUBTEST_CONTEXT: &str = concat!(
    "SELECT ",
    session_child_cols!(),
    ", (SELECT COALESCE(MAX(seq), 0) FROM responses WHERE session_id = s.id) AS last_seq ",
    "FROM sessions s JOIN children c ON c.id = s.child_id WHERE s.id = $1; ",
    "SELECT seq, payload, token_id, request_id, fingerprint, recorded_at ",
    "FROM responses INDEXED BY responses_session_subtest ",
    "WHERE session_id = $1 AND subtest = $2 ORDER BY seq"
);

/// A device's ticket and its session's context for a subtest (binds: device hash, subtest):
/// five statements sent together, each row tagged with its `part`. The ticket's session is
/// found by a subquery in each statement, so a device with no ticket, or a ticket with no
/// session, reads no more rows.
const TAKE_CONTEXT: &str = concat!(
    "SELECT 'ticket' AS part, ",
    ticket_cols!(),
    " FROM tickets WHERE device_hash = $1; ",
    "SELECT 'session' AS part, ",
    session_child_cols!(),
    ", (SELECT COALESCE(MAX(seq), 0) FROM responses WHERE session_id = s.id) AS last_seq ",
    "FROM sessions s JOIN children c ON c.id = s.child_id ",
    "WHERE s.id = (SELECT session_id FROM tickets WHERE device_hash = $1); ",
    "SELECT 'response' AS part, seq, payload, token_id, request_id, fingerprint, recorded_at ",
    "FROM responses INDEXED BY responses_session_subtest ",
    "WHERE session_id = (SELECT session_id FROM tickets WHERE device_hash = $1) AND subtest = $2 ",
    "ORDER BY seq; ",
    "SELECT 'clock' AS part, subtest, started_at, extra_seconds FROM subtest_clocks ",
    "WHERE session_id = (SELECT session_id FROM tickets WHERE device_hash = $1) ",
    "ORDER BY started_at, subtest; ",
    "SELECT 'change' AS part, ",
    session_change_cols!(),
    " FROM session_changes WHERE session_id = (SELECT session_id FROM tickets WHERE device_hash = $1) ",
    "ORDER BY id"
);

/// The session's row joined with its responses to the subtest (none: one row of NULLs; no
/// session: no row), through the (session, subtest, seq) index.
const RESPONSES_FOR_SUBTEST: &str = concat!(
    "SELECT s.id AS session_id, r.seq, r.subtest, r.payload, r.token_id, r.request_id, r.fingerprint, ",
    "r.recorded_at FROM sessions s LEFT JOIN responses r INDEXED BY responses_session_subtest ",
    "ON r.session_id = s.id AND r.subtest = $2 WHERE s.id = $1 ORDER BY r.seq"
);

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// One connection: all writes, serialised.
    writer: SqlitePool,
    /// Several connections for reads (the same pool as `writer` for an in-memory database).
    reader: SqlitePool,
    /// The queue of the group-commit task that appends responses (on `writer`).
    appends: mpsc::Sender<group_commit::GroupJob>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database named by a `sqlite://path`, `sqlite:path` or
    /// `sqlite::memory:` URL and runs the migrations.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is malformed, the file cannot be opened or a
    /// migration fails.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut options: SqliteConnectOptions = url
            .parse()
            .map_err(|e| StoreError::backend("parsing SQLite URL", e))?;
        options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full);
        if !in_memory {
            options = options.journal_mode(SqliteJournalMode::Wal);
        }

        // An in-memory database lives as long as its connection: one connection, kept forever.
        // A local file cannot hang up: no ping before each use of a pooled connection.
        let writer_options = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false);
        let writer_options = if in_memory {
            writer_options.idle_timeout(None).max_lifetime(None)
        } else {
            writer_options
        };
        let writer = writer_options
            .connect_with(options.clone())
            .await
            .map_err(db("opening SQLite database"))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::backend("running SQLite migrations", e))?;

        let reader = if in_memory {
            writer.clone()
        } else {
            // A reader is held from its query until the task that asked is polled again to
            // take the rows; under load that task waits its turn among many, so reads need
            // many more connections than cores (each is a sleeping thread while idle).
            let readers = std::thread::available_parallelism()
                .map_or(4, |n| n.get())
                .saturating_mul(8)
                .clamp(16, 64) as u32;
            SqlitePoolOptions::new()
                .max_connections(readers)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(db("opening SQLite read pool"))?
        };
        // The task ends when the last clone of the store (the last sender) is dropped.
        let (appends, queue) = mpsc::channel(4 * MAX_APPEND_BATCH);
        group_commit::spawn_append_writer(writer.clone(), queue)?;
        tracing::info!(in_memory, "SQLite store opened");
        Ok(SqliteStore {
            writer,
            reader,
            appends,
        })
    }

    /// Queues the job `make` builds around its reply channel for the group-commit task and
    /// waits for its outcome.
    async fn group_commit<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> group_commit::GroupJob,
    ) -> Result<T, StoreError> {
        let stopped = || StoreError::Backend("the SQLite append writer has stopped".into());
        let (reply, outcome) = oneshot::channel();
        self.appends.send(make(reply)).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    /// The writer connection (single statements commit on their own).
    async fn write(&self) -> Result<PoolConnection<Sqlite>, StoreError> {
        self.writer.acquire().await.map_err(db("acquiring the writer"))
    }

    /// A reader connection.
    async fn read(&self) -> Result<PoolConnection<Sqlite>, StoreError> {
        self.reader.acquire().await.map_err(db("acquiring a reader"))
    }

    /// Starts a write transaction holding SQLite's write lock.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("beginning write transaction"))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_token(&self, new: NewToken) -> Result<Token, StoreError> {
        ops::create_token(&mut *self.write().await?, &new).await
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<Token>, StoreError> {
        ops::token_by_hash(&mut *self.read().await?, secret_hash).await
    }

    async fn token(&self, id: &str) -> Result<Token, StoreError> {
        ops::token(&mut *self.read().await?, id).await
    }

    async fn revoke_token(&self, id: &str) -> Result<Token, StoreError> {
        ops::revoke_token(&mut *self.write().await?, id).await
    }

    async fn has_tokens(&self) -> Result<bool, StoreError> {
        ops::has_tokens(&mut *self.read().await?).await
    }

    async fn list_tokens(&self, page: PageRequest) -> Result<Page<Token>, StoreError> {
        ops::list_tokens(&mut *self.read().await?, &page).await
    }

    async fn create_console_session(&self, new: NewConsoleSession) -> Result<ConsoleSession, StoreError> {
        ops::create_console_session(&mut *self.write().await?, &new).await
    }

    async fn console_session(
        &self,
        secret_hash: &str,
    ) -> Result<Option<(ConsoleSession, Token)>, StoreError> {
        ops::console_session(&mut *self.read().await?, secret_hash).await
    }

    async fn touch_console_session(&self, secret_hash: &str, at: i64) -> Result<(), StoreError> {
        ops::touch_console_session(&mut *self.write().await?, secret_hash, at).await
    }

    async fn delete_console_session(&self, secret_hash: &str) -> Result<(), StoreError> {
        ops::delete_console_session(&mut *self.write().await?, secret_hash).await
    }

    async fn purge_console_sessions(&self, idle_before: i64, now: i64) -> Result<u64, StoreError> {
        ops::purge_console_sessions(&mut *self.write().await?, idle_before, now).await
    }

    async fn create_child(&self, new: NewChild) -> Result<Created<Child>, StoreError> {
        ops::create_child(&mut *self.write().await?, &new).await
    }

    async fn get_child(&self, id: &str) -> Result<Child, StoreError> {
        ops::get_child(&mut *self.read().await?, id).await
    }

    async fn list_children(&self, filter: ChildFilter, page: PageRequest) -> Result<Page<Child>, StoreError> {
        ops::list_children(&mut *self.read().await?, &filter, &page).await
    }

    async fn create_session(&self, new: NewSession) -> Result<Created<Session>, StoreError> {
        ops::create_session(&mut *self.write().await?, &new).await
    }

    async fn get_session(&self, id: &str) -> Result<Session, StoreError> {
        ops::get_session(&mut *self.read().await?, id).await
    }

    async fn list_sessions(
        &self,
        filter: SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, StoreError> {
        ops::list_sessions(&mut *self.read().await?, &filter, &page).await
    }

    async fn set_session_state(&self, change: StateChange) -> Result<Created<Session>, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = ops::set_session_state(&mut *tx, &change).await?;
        tx.commit().await.map_err(db("committing session state"))?;
        Ok(changed)
    }

    async fn session_changes(&self, session_id: &str) -> Result<Vec<SessionChange>, StoreError> {
        ops::session_changes(&mut *self.read().await?, session_id).await
    }

    async fn append_response(
        &self,
        new: NewResponse,
        audit: Option<AuditEntry>,
    ) -> Result<Created<Response>, StoreError> {
        self.group_commit(|reply| {
            group_commit::GroupJob::Append(Box::new(group_commit::AppendJob { new, audit, reply }))
        })
        .await
    }

    async fn responses(&self, session_id: &str) -> Result<Vec<Response>, StoreError> {
        ops::responses(&mut *self.read().await?, session_id).await
    }

    async fn responses_for_subtest(
        &self,
        session_id: &str,
        subtest: &str,
    ) -> Result<Vec<Response>, StoreError> {
        let rows = self
            .read()
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
            .read()
            .await?
            .fetch_all(Statement::new(SUBTEST_CONTEXT).text(session_id).text(subtest))
            .await
            .map_err(db("reading session, child and responses"))?;
        // Only the first statement's row has the child's columns.
        let Some(first) = rows.first().filter(|r| r.try_column("c_id").is_ok()) else {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        };
        let responses = rows[1..]
            .iter()
            .map(|r| {
                Ok(Response {
                    session_id: session_id.to_owned(),
                    seq: r.int("seq")?,
                    subtest: subtest.to_owned(),
                    payload: r.text("payload")?,
                    request: rows::request_key(r)?,
                    recorded_at: r.int("recorded_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        rows::subtest_context(first, responses)
    }

    async fn take_context(
        &self,
        device_hash: &str,
        subtest: &str,
    ) -> Result<Option<TakeContext>, StoreError> {
        let rows = self
            .read()
            .await?
            .fetch_all(Statement::new(TAKE_CONTEXT).text(device_hash).text(subtest))
            .await
            .map_err(db("reading a device's ticket and session"))?;
        // Rows come in statement order: the session's row before its responses.
        let mut ticket = None;
        let mut session_child = None;
        let mut responses = Vec::new();
        let mut clocks = Vec::new();
        let mut changes = Vec::new();
        for row in &rows {
            match row.text("part")?.as_str() {
                "ticket" => ticket = Some(screening_ops::ticket(row)?),
                "session" => session_child = Some((row, row.text("id")?)),
                "response" => responses.push(Response {
                    session_id: session_child
                        .as_ref()
                        .map(|(_, id)| id.clone())
                        .unwrap_or_default(),
                    seq: row.int("seq")?,
                    subtest: subtest.to_owned(),
                    payload: row.text("payload")?,
                    request: rows::request_key(row)?,
                    recorded_at: row.int("recorded_at")?,
                }),
                "clock" => clocks.push(screening_ops::clock(row)?),
                _ => changes.push(rows::session_change(row)?),
            }
        }
        let Some(ticket) = ticket else {
            return Ok(None);
        };
        let session = match session_child {
            None => None,
            Some((first, _)) => Some(TakeSession {
                subtest: rows::subtest_context(first, responses)?,
                clocks,
                changes,
            }),
        };
        Ok(Some(TakeContext { ticket, session }))
    }

    async fn append_report_edit(&self, new: NewReportEdit) -> Result<Created<ReportEdit>, StoreError> {
        ops::append_report_edit(&mut *self.write().await?, &new).await
    }

    async fn report_edits(
        &self,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<ReportEdit>, StoreError> {
        ops::report_edits(&mut *self.read().await?, session_id, &page).await
    }

    async fn audit(&self, entry: AuditEntry) -> Result<AuditRecord, StoreError> {
        ops::audit(&mut *self.write().await?, &entry).await
    }

    async fn audit_entries(
        &self,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>, StoreError> {
        ops::audit_entries(&mut *self.read().await?, &filter, &page).await
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

#[async_trait]
impl ScreeningStore for SqliteStore {
    async fn create_cohort(&self, new: NewCohort) -> Result<Created<Cohort>, StoreError> {
        screening_ops::create_cohort(&mut *self.write().await?, &new).await
    }

    async fn get_cohort(&self, id: &str) -> Result<Cohort, StoreError> {
        screening_ops::get_cohort(&mut *self.read().await?, id).await
    }

    async fn list_cohorts(
        &self,
        filter: CohortFilter,
        page: PageRequest,
    ) -> Result<Page<Cohort>, StoreError> {
        screening_ops::list_cohorts(&mut *self.read().await?, &filter, &page).await
    }

    async fn import_roster(&self, import: RosterImport) -> Result<RosterOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = screening_ops::import_roster(&mut *tx, &import).await?;
        if matches!(outcome, RosterOutcome::Imported(_)) && !import.check_only {
            tx.commit().await.map_err(db("committing a roster"))?;
        }
        Ok(outcome)
    }

    async fn roster(&self, cohort_id: &str) -> Result<Vec<RosterMember>, StoreError> {
        screening_ops::roster(&mut *self.read().await?, cohort_id).await
    }

    async fn issue_tickets(
        &self,
        cohort_id: &str,
        tickets: Vec<NewTicket>,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let issued = screening_ops::issue_tickets(&mut *tx, cohort_id, &tickets).await?;
        tx.commit().await.map_err(db("committing tickets"))?;
        Ok(issued)
    }

    async fn cohort_tickets(&self, cohort_id: &str) -> Result<Vec<Ticket>, StoreError> {
        screening_ops::cohort_tickets(&mut *self.read().await?, cohort_id).await
    }

    async fn ticket(&self, secret_hash: &str) -> Result<Option<Ticket>, StoreError> {
        screening_ops::ticket_by_hash(&mut *self.read().await?, secret_hash).await
    }

    async fn ticket_by_device(&self, device_hash: &str) -> Result<Option<Ticket>, StoreError> {
        screening_ops::ticket_by_device(&mut *self.read().await?, device_hash).await
    }

    async fn claim_ticket(
        &self,
        secret_hash: &str,
        device_hash: &str,
        at: i64,
    ) -> Result<Option<Ticket>, StoreError> {
        screening_ops::claim_ticket(&mut *self.write().await?, secret_hash, device_hash, at).await
    }

    async fn start_clock(
        &self,
        session_id: &str,
        subtest: &str,
        at: i64,
    ) -> Result<Vec<SubtestClock>, StoreError> {
        // Through the group commit: a class moving on to the next subtest at once starts its
        // clocks in a few transactions, not one each on the writer.
        self.group_commit(|reply| {
            group_commit::GroupJob::StartClock(group_commit::ClockJob {
                session_id: session_id.to_owned(),
                subtest: subtest.to_owned(),
                at,
                reply,
            })
        })
        .await?;
        screening_ops::clocks(&mut *self.read().await?, session_id).await
    }

    async fn clocks(&self, session_id: &str) -> Result<Vec<SubtestClock>, StoreError> {
        screening_ops::clocks(&mut *self.read().await?, session_id).await
    }

    async fn extend_clock(&self, session_id: &str, subtest: &str, seconds: i64) -> Result<bool, StoreError> {
        screening_ops::extend_clock(&mut *self.write().await?, session_id, subtest, seconds).await
    }

    async fn attach_ticket_session(&self, secret_hash: &str, session_id: &str) -> Result<Ticket, StoreError> {
        screening_ops::attach_ticket_session(&mut *self.write().await?, secret_hash, session_id).await
    }
}
