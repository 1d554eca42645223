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
//! semantics (it checks the session and the idempotency key against everything written before
//! it, including earlier appends of the same group) and its own outcome: a refused append
//! writes nothing, and a failed write (the response and its audit entry are written under a
//! savepoint) is undone without touching its neighbours. An append is acknowledged only once
//! the commit containing it has returned; if that commit fails, or an error leaves the
//! transaction unusable, every append of the group fails and none is stored. Other writes
//! keep their own transactions on the same writer connection, between groups; another
//! process (or another store) on the same file takes the write lock between groups too.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};

use super::rows;
use super::{
    AuditEntry, AuditRecord, Child, ChildFilter, Created, NewChild, NewReportEdit, NewResponse, NewSession,
    NewToken, Page, PageRequest, ReportEdit, Response, Session, SessionFilter, SessionState, Store,
    StoreError, SubtestContext, Token, new_id, now_ms, seq_cursor,
};

/// How long a connection waits for the write lock held by another connection or process.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Most appends committed together in one transaction.
pub const MAX_APPEND_BATCH: usize = 256;

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

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// One connection: all writes, serialised.
    writer: SqlitePool,
    /// Several connections for reads (the same pool as `writer` for an in-memory database).
    reader: SqlitePool,
    /// The queue of the group-commit task that appends responses (on `writer`).
    appends: mpsc::Sender<AppendJob>,
}

/// One queued append and where its outcome goes.
#[derive(Debug)]
struct AppendJob {
    new: NewResponse,
    audit: Option<AuditEntry>,
    reply: oneshot::Sender<Result<Created<Response>, StoreError>>,
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
            let readers = std::thread::available_parallelism()
                .map_or(4, |n| n.get())
                .clamp(2, 8) as u32;
            SqlitePoolOptions::new()
                .max_connections(readers)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(db("opening SQLite read pool"))?
        };
        // The task ends when the last clone of the store (the last sender) is dropped.
        let (appends, queue) = mpsc::channel(4 * MAX_APPEND_BATCH);
        tokio::spawn(append_writer(writer.clone(), queue));
        tracing::info!(in_memory, "SQLite store opened");
        Ok(SqliteStore {
            writer,
            reader,
            appends,
        })
    }

    /// Starts a write transaction holding SQLite's write lock.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("beginning write transaction"))
    }
}

async fn session_in(conn: &mut sqlx::SqliteConnection, id: &str) -> Result<Option<Session>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        session_cols!(),
        " FROM sessions WHERE id = ?1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db("reading session"))?
    .map(|r| rows::session(&r))
    .transpose()
}

/// The group-commit task: appends whatever is queued in one transaction, then answers.
async fn append_writer(writer: SqlitePool, mut queue: mpsc::Receiver<AppendJob>) {
    let mut jobs = Vec::with_capacity(MAX_APPEND_BATCH);
    while queue.recv_many(&mut jobs, MAX_APPEND_BATCH).await > 0 {
        let outcomes = append_batch(&writer, &jobs).await;
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            // A caller that gave up (its request was cancelled) no longer listens; what was
            // committed stays committed, and a retry with its request id finds it.
            let _ = job.reply.send(outcome);
        }
    }
}

/// Why one append of a group did not succeed.
enum AppendFailure {
    /// Refused before writing anything (no such session, or it is not active).
    Refused(StoreError),
    /// A write failed: what it wrote must be rolled back to the savepoint.
    Write(StoreError),
    /// Reading failed: the transaction may be unusable, the whole group fails.
    Group(StoreError),
}

/// Runs `jobs` in one write transaction; one outcome per job, in order. Each is `Ok` only if
/// the transaction committed.
async fn append_batch(writer: &SqlitePool, jobs: &[AppendJob]) -> Vec<Result<Created<Response>, StoreError>> {
    let all_failed = |e: StoreError| jobs.iter().map(|_| Err(e.clone())).collect();
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return all_failed(StoreError::backend("beginning write transaction", e)),
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        match append_one(&mut tx, &job.new, job.audit.as_ref()).await {
            Ok(created) => outcomes.push(Ok(created)),
            Err(AppendFailure::Refused(e)) => outcomes.push(Err(e)),
            Err(AppendFailure::Group(e)) => return all_failed(e),
            Err(AppendFailure::Write(e)) => {
                // Undo this append's writes only. If even that fails (SQLite may have rolled
                // the whole transaction back, e.g. on a full disk), give up on the group:
                // dropping `tx` rolls back whatever is left, and nothing is acknowledged.
                let undone = sqlx::raw_sql("ROLLBACK TO append; RELEASE append")
                    .execute(&mut *tx)
                    .await;
                if undone.is_err() {
                    return all_failed(e);
                }
                outcomes.push(Err(e));
            }
        }
    }
    match tx.commit().await {
        Ok(()) => outcomes,
        Err(e) => all_failed(StoreError::backend("committing responses", e)),
    }
}

/// One append inside the group's transaction (see [`Store::append_response`]).
///
/// The common case — an active session, a new request id — is one round trip to the
/// connection's worker thread: a savepoint, the response inserted only if the session is
/// active and the request id unused, its audit entry inserted only if the response was, and
/// the savepoint released. When nothing was inserted, a second statement finds out why.
async fn append_one(
    conn: &mut sqlx::SqliteConnection,
    new: &NewResponse,
    audit: Option<&AuditEntry>,
) -> Result<Created<Response>, AppendFailure> {
    let recorded_at = now_ms();
    // `fetch_all`, not `fetch_optional`: every statement of the script must run.
    let inserted = sqlx::query(concat!(
        "SAVEPOINT append; ",
        "INSERT INTO responses (session_id, seq, subtest, payload, request_id, recorded_at) ",
        "SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM responses WHERE session_id = ?1), ",
        "?2, ?3, ?4, ?5 FROM sessions WHERE id = ?1 AND state = 'active' ",
        "AND NOT EXISTS (SELECT 1 FROM responses WHERE session_id = ?1 AND request_id = ?4) ",
        "RETURNING seq; ",
        // changes(): rows inserted by the statement just before (1, or 0 when refused).
        "INSERT INTO audit_log (at, principal, action, resource, child_id) ",
        "SELECT ?5, ?6, ?7, ?8, ?9 WHERE ?6 IS NOT NULL AND changes() = 1; ",
        "RELEASE append"
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
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| AppendFailure::Write(StoreError::backend("appending response", e)))?;
    if let Some(row) = inserted.first() {
        // Only the new seq comes back; the rest is what was bound.
        let seq = rows::Get::int(row, "seq").map_err(AppendFailure::Group)?;
        return Ok(Created {
            record: Response {
                session_id: new.session_id.clone(),
                seq,
                subtest: new.subtest.clone(),
                payload: new.payload.clone(),
                request_id: new.request_id.clone(),
                recorded_at,
            },
            existed: false,
        });
    }

    // Nothing written: the session's state and, for a retry, the response stored by the
    // first attempt.
    let row: Option<SqliteRow> = sqlx::query(
        "SELECT s.state, s.id AS session_id, r.seq, r.subtest, r.payload, r.request_id, r.recorded_at \
         FROM sessions s LEFT JOIN responses r ON r.session_id = s.id AND r.request_id = ?2 \
         WHERE s.id = ?1",
    )
    .bind(&new.session_id)
    .bind(&new.request_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| AppendFailure::Group(StoreError::backend("reading session state", e)))?;
    let Some(row) = row else {
        return Err(AppendFailure::Refused(StoreError::NotFound {
            what: "session",
            id: new.session_id.clone(),
        }));
    };
    if rows::Get::opt_int(&row, "seq")
        .map_err(AppendFailure::Refused)?
        .is_some()
    {
        return Ok(Created {
            record: rows::response(&row).map_err(AppendFailure::Refused)?,
            existed: true,
        });
    }
    let state = rows::Get::text(&row, "state").map_err(AppendFailure::Refused)?;
    Err(AppendFailure::Refused(StoreError::Conflict {
        detail: format!(
            "session {} is {state}, responses need an active session",
            new.session_id
        ),
    }))
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_token(&self, new: NewToken) -> Result<Token, StoreError> {
        let row = sqlx::query(concat!(
            "INSERT INTO tokens (id, role, centre, subject, secret_hash, created_at) ",
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING ",
            token_cols!()
        ))
        .bind(new_id())
        .bind(new.role.as_str())
        .bind(&new.centre)
        .bind(&new.subject)
        .bind(&new.secret_hash)
        .bind(now_ms())
        .fetch_one(&self.writer)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate {
                what: "token",
                detail: "the secret hash is already stored".into(),
            },
            _ => StoreError::backend("creating token", e),
        })?;
        rows::token(&row)
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<Token>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_cols!(),
            " FROM tokens WHERE secret_hash = ?1"
        ))
        .bind(secret_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(db("looking up token"))?
        .map(|r| rows::token(&r))
        .transpose()
    }

    async fn revoke_token(&self, id: &str) -> Result<Token, StoreError> {
        sqlx::query(concat!(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1 RETURNING ",
            token_cols!()
        ))
        .bind(id)
        .bind(now_ms())
        .fetch_optional(&self.writer)
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
            .fetch_optional(&self.reader)
            .await
            .map_err(db("checking for tokens"))?;
        Ok(row.is_some())
    }

    async fn list_tokens(&self, page: PageRequest) -> Result<Page<Token>, StoreError> {
        let size = page.effective_size();
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_cols!(),
            " FROM tokens WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2"
        ))
        .bind(&page.after)
        .bind(i64::from(size) + 1)
        .fetch_all(&self.reader)
        .await
        .map_err(db("listing tokens"))?;
        let items = rows.iter().map(rows::token).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |t| &t.id))
    }

    async fn create_child(&self, new: NewChild) -> Result<Created<Child>, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(request_id) = &new.request_id {
            let existing = sqlx::query(concat!(
                "SELECT ",
                child_cols!(),
                " FROM children WHERE owner = ?1 AND request_id = ?2"
            ))
            .bind(&new.owner)
            .bind(request_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("looking up child by request id"))?;
            if let Some(row) = existing {
                return Ok(Created {
                    record: rows::child(&row)?,
                    existed: true,
                });
            }
        }
        let taken = sqlx::query("SELECT 1 FROM children WHERE centre = ?1 AND code = ?2")
            .bind(&new.centre)
            .bind(&new.code)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("checking child code"))?;
        if taken.is_some() {
            return Err(StoreError::Duplicate {
                what: "child",
                detail: "the code is already used in this centre".into(),
            });
        }
        let row = sqlx::query(concat!(
            "INSERT INTO children (id, code, birth_date, sex, test_language, centre, owner, given_name, ",
            "family_name, notes, request_id, created_at) ",
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING ",
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
        .fetch_one(&mut *tx)
        .await
        .map_err(db("creating child"))?;
        let child = rows::child(&row)?;
        tx.commit().await.map_err(db("committing child"))?;
        Ok(Created {
            record: child,
            existed: false,
        })
    }

    async fn get_child(&self, id: &str) -> Result<Child, StoreError> {
        sqlx::query(concat!("SELECT ", child_cols!(), " FROM children WHERE id = ?1"))
            .bind(id)
            .fetch_optional(&self.reader)
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
            " FROM children WHERE (?1 IS NULL OR centre = ?1) AND (?2 IS NULL OR owner = ?2) ",
            "AND (?3 IS NULL OR substr(code, 1, length(?3)) = ?3) AND (?4 IS NULL OR id > ?4) ",
            "ORDER BY id LIMIT ?5"
        ))
        .bind(&filter.centre)
        .bind(&filter.owner)
        .bind(&filter.code_prefix)
        .bind(&page.after)
        .bind(i64::from(size) + 1)
        .fetch_all(&self.reader)
        .await
        .map_err(db("listing children"))?;
        let items = rows.iter().map(rows::child).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |c| &c.id))
    }

    async fn create_session(&self, new: NewSession) -> Result<Created<Session>, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(request_id) = &new.request_id {
            let existing = sqlx::query(concat!(
                "SELECT ",
                session_cols!(),
                " FROM sessions WHERE examiner = ?1 AND request_id = ?2"
            ))
            .bind(&new.examiner)
            .bind(request_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("looking up session by request id"))?;
            if let Some(row) = existing {
                return Ok(Created {
                    record: rows::session(&row)?,
                    existed: true,
                });
            }
        }
        let child = sqlx::query("SELECT 1 FROM children WHERE id = ?1")
            .bind(&new.child_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("checking child"))?;
        if child.is_none() {
            return Err(StoreError::NotFound {
                what: "child",
                id: new.child_id,
            });
        }
        let row = sqlx::query(concat!(
            "INSERT INTO sessions (id, child_id, battery_id, norm_set_hash, test_date, examiner, ",
            "request_id, state, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8) RETURNING ",
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
        .fetch_one(&mut *tx)
        .await
        .map_err(db("creating session"))?;
        let session = rows::session(&row)?;
        tx.commit().await.map_err(db("committing session"))?;
        Ok(Created {
            record: session,
            existed: false,
        })
    }

    async fn get_session(&self, id: &str) -> Result<Session, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db("acquiring connection"))?;
        session_in(&mut conn, id)
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
            " FROM sessions WHERE (?1 IS NULL OR child_id = ?1) AND (?2 IS NULL OR examiner = ?2) ",
            "AND (?3 IS NULL OR child_id IN (SELECT id FROM children WHERE centre = ?3)) ",
            "AND (?4 IS NULL OR id > ?4) ORDER BY id LIMIT ?5"
        ))
        .bind(&filter.child_id)
        .bind(&filter.examiner)
        .bind(&filter.centre)
        .bind(&page.after)
        .bind(i64::from(size) + 1)
        .fetch_all(&self.reader)
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
        let mut tx = self.begin_write().await?;
        let current = session_in(&mut tx, id)
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
            "UPDATE sessions SET state = ?2, ",
            "finished_at = CASE WHEN ?2 = 'finished' THEN COALESCE(finished_at, ?3) ELSE NULL END ",
            "WHERE id = ?1 RETURNING ",
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
        let stopped = || StoreError::Backend("the SQLite append writer has stopped".into());
        let (reply, outcome) = oneshot::channel();
        self.appends
            .send(AppendJob { new, audit, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    async fn responses(&self, session_id: &str) -> Result<Vec<Response>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db("acquiring connection"))?;
        if session_in(&mut conn, session_id).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            response_cols!(),
            " FROM responses WHERE session_id = ?1 ORDER BY seq"
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
             FROM sessions s LEFT JOIN responses r INDEXED BY responses_session_subtest \
             ON r.session_id = s.id AND r.subtest = ?2 WHERE s.id = ?1 ORDER BY r.seq",
        )
        .bind(session_id)
        .bind(subtest)
        .fetch_all(&self.reader)
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
        // Two statements, one round trip to the reader's worker thread: the session with its
        // child (one row, or none), then the responses. (Not one join: it would repeat the
        // session's and child's twenty columns on every response row, and SQLite copies each
        // value of each row it hands over.)
        let rows = sqlx::query(concat!(
            "SELECT ",
            rows::session_child_cols!(),
            " FROM sessions s JOIN children c ON c.id = s.child_id WHERE s.id = ?1; ",
            // The session id and the subtest are known: not read back for every response.
            "SELECT seq, payload, request_id, recorded_at ",
            "FROM responses INDEXED BY responses_session_subtest ",
            "WHERE session_id = ?1 AND subtest = ?2 ORDER BY seq"
        ))
        .bind(session_id)
        .bind(subtest)
        .fetch_all(&self.reader)
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
                    seq: rows::Get::int(r, "seq")?,
                    subtest: subtest.to_owned(),
                    payload: rows::Get::text(r, "payload")?,
                    request_id: rows::Get::opt_text(r, "request_id")?,
                    recorded_at: rows::Get::int(r, "recorded_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        rows::subtest_context(first, responses)
    }

    async fn append_report_edit(&self, new: NewReportEdit) -> Result<Created<ReportEdit>, StoreError> {
        // A write of its own on the writer connection, like every write but response appends.
        let mut tx = self.begin_write().await?;
        if let Some(request_id) = &new.request_id {
            let existing = sqlx::query(concat!(
                "SELECT ",
                report_edit_cols!(),
                " FROM report_edits WHERE author = ?1 AND request_id = ?2"
            ))
            .bind(&new.author)
            .bind(request_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("looking up report edit by request id"))?;
            if let Some(row) = existing {
                return Ok(Created {
                    record: rows::report_edit(&row)?,
                    existed: true,
                });
            }
        }
        if session_in(&mut tx, &new.session_id).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "session",
                id: new.session_id,
            });
        }
        let row = sqlx::query(concat!(
            "INSERT INTO report_edits (session_id, item, text, author, request_id, created_at) ",
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING ",
            report_edit_cols!()
        ))
        .bind(&new.session_id)
        .bind(&new.item)
        .bind(&new.text)
        .bind(&new.author)
        .bind(&new.request_id)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(db("appending report edit"))?;
        let edit = rows::report_edit(&row)?;
        tx.commit().await.map_err(db("committing report edit"))?;
        Ok(Created {
            record: edit,
            existed: false,
        })
    }

    async fn report_edits(
        &self,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<ReportEdit>, StoreError> {
        let size = page.effective_size();
        let after = seq_cursor(&page)?;
        let mut conn = self.reader.acquire().await.map_err(db("acquiring connection"))?;
        if session_in(&mut conn, session_id).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_owned(),
            });
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            report_edit_cols!(),
            " FROM report_edits WHERE session_id = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"
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
            "INSERT INTO audit_log (at, principal, action, resource, child_id) VALUES (?1, ?2, ?3, ?4, ?5) ",
            "RETURNING ",
            audit_cols!()
        ))
        .bind(now_ms())
        .bind(&entry.principal)
        .bind(&entry.action)
        .bind(&entry.resource)
        .bind(&entry.child_id)
        .fetch_one(&self.writer)
        .await
        .map_err(db("writing audit entry"))?;
        rows::audit(&row)
    }

    async fn audit_entries(&self, child_id: Option<&str>) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit_log WHERE (?1 IS NULL OR child_id = ?1) ORDER BY id"
        ))
        .bind(child_id)
        .fetch_all(&self.reader)
        .await
        .map_err(db("reading audit log"))?;
        rows.iter().map(rows::audit).collect()
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}
