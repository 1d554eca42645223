//! The group commit of responses on SQLite (see the `sqlite` module): one writer task takes
//! whatever appends are queued, runs them in one `BEGIN IMMEDIATE … COMMIT` and only then
//! answers each caller. The group goes to the writer connection's worker thread in a few
//! chunks, each one script and one round trip, so a group of any size costs a handful of
//! hand-offs to that thread rather than one per append. Clock starts of screening subtests
//! queue there too and are committed together, just before the appends taken with them.

use std::sync::LazyLock;

use sqlx::sqlite::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::conn::{Conn, Statement};
use super::rows::Get;
use super::screening_sql::START_CLOCK;
use super::sql::{audit_insert_cols, response_cols};
use super::{AuditEntry, Created, NewResponse, Response, StoreError, now_ms, ops};

/// Most appends committed together in one transaction.
pub const MAX_APPEND_BATCH: usize = 256;

/// One append inside the group's transaction, in one round trip to the connection's worker
/// thread: a savepoint; the response, inserted as `after_seq + 1` only if the session is
/// active, its log still ends at `after_seq` and the key is unused; its audit entry, inserted
/// only if the response was; the savepoint released. Binds: session_id, after_seq, subtest,
/// payload, token_id, request_id, fingerprint, recorded_at, then the audit entry (`at` and
/// its fields, all NULL without one).
const APPEND: &str = concat!(
    "SAVEPOINT append; ",
    "INSERT INTO responses (",
    response_cols!(),
    ") SELECT $1, $2 + 1, $3, $4, $5, $6, $7, $8 FROM sessions ",
    "WHERE id = $1 AND state = 'active' ",
    "AND (SELECT COALESCE(MAX(seq), 0) FROM responses WHERE session_id = $1) = $2 ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING seq; ",
    // changes(): rows inserted by the statement just before (1, or 0 when refused).
    "INSERT INTO audit_log (",
    audit_insert_cols!(),
    ") SELECT $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19 ",
    "WHERE $9 IS NOT NULL AND changes() = 1; ",
    "RELEASE append"
);

/// One queued append and where its outcome goes.
#[derive(Debug)]
pub(super) struct AppendJob {
    pub(super) new: NewResponse,
    pub(super) audit: Option<AuditEntry>,
    pub(super) reply: oneshot::Sender<Result<Created<Response>, StoreError>>,
}

/// Starts the group-commit task on a thread of its own (a single-threaded runtime): between
/// its round trips to the writer connection it is polled at once, not after every request
/// queued on the server's runtime, so a group's transaction stays short under load. The
/// thread ends when the queue's last sender is dropped.
pub(super) fn spawn_append_writer(
    writer: SqlitePool,
    queue: mpsc::Receiver<GroupJob>,
) -> Result<(), StoreError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::backend("starting the SQLite append writer", e))?;
    std::thread::Builder::new()
        .name("sqlite-appends".into())
        .spawn(move || runtime.block_on(append_writer(writer, queue)))
        .map_err(|e| StoreError::backend("starting the SQLite append writer", e))?;
    Ok(())
}

/// A write the group-commit task makes.
#[derive(Debug)]
pub(super) enum GroupJob {
    /// A response.
    Append(Box<AppendJob>),
    /// A subtest's clock started (the first answer of a subtest the page did not start).
    StartClock(ClockJob),
}

/// A clock start and where its outcome goes.
#[derive(Debug)]
pub(super) struct ClockJob {
    pub(super) session_id: String,
    pub(super) subtest: String,
    pub(super) at: i64,
    pub(super) reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The group-commit task: whatever is queued, in at most two transactions (the clock starts,
/// then the appends), then answers.
async fn append_writer(writer: SqlitePool, mut queue: mpsc::Receiver<GroupJob>) {
    let mut queued = Vec::with_capacity(MAX_APPEND_BATCH);
    let mut jobs = Vec::with_capacity(MAX_APPEND_BATCH);
    let mut clocks = Vec::new();
    while queue.recv_many(&mut queued, MAX_APPEND_BATCH).await > 0 {
        for job in queued.drain(..) {
            match job {
                GroupJob::Append(a) => jobs.push(*a),
                GroupJob::StartClock(c) => clocks.push(c),
            }
        }
        if !clocks.is_empty() {
            let outcome = start_clocks(&writer, &clocks).await;
            for job in clocks.drain(..) {
                let _ = job.reply.send(outcome.clone());
            }
        }
        if jobs.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        let outcomes = append_batch(&writer, &jobs).await;
        tracing::debug!(
            appends = jobs.len(),
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "group committed"
        );
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            // A caller that gave up (its request was cancelled) no longer listens; what was
            // committed stays committed, and a retry with its request key finds it.
            let _ = job.reply.send(outcome);
        }
    }
}

/// Starts the clocks in one transaction (a clock already started keeps its start).
async fn start_clocks(writer: &SqlitePool, clocks: &[ClockJob]) -> Result<(), StoreError> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|e| StoreError::backend("beginning write transaction", e))?;
    for clock in clocks {
        tx.execute(
            Statement::new(START_CLOCK)
                .text(&clock.session_id)
                .text(&clock.subtest)
                .int(clock.at),
        )
        .await
        .map_err(|e| StoreError::backend("starting a subtest clock", e))?;
    }
    tx.commit()
        .await
        .map_err(|e| StoreError::backend("committing subtest clocks", e))
}

/// Why one append of a group did not succeed.
enum AppendFailure {
    /// Refused before writing anything (a key used for another request, no such session,
    /// a session that is not active, a stale `after_seq`).
    Refused(StoreError),
    /// A write failed: what it wrote must be rolled back to the savepoint.
    Write(StoreError),
    /// Reading failed: the transaction may be unusable, the whole group fails.
    Group(StoreError),
}

/// Runs `jobs` in one write transaction; one outcome per job, in order. Each is `Ok` only if
/// the transaction committed. The jobs go to the connection's worker in chunks, one round
/// trip each ([`append_chunk`]); should a chunk fail to run, the transaction is rolled back
/// and the group runs again one job at a time, each under its own savepoint
/// ([`append_batch_one_by_one`]).
async fn append_batch(writer: &SqlitePool, jobs: &[AppendJob]) -> Vec<Result<Created<Response>, StoreError>> {
    let all_failed = |e: StoreError| jobs.iter().map(|_| Err(e.clone())).collect();
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return all_failed(StoreError::backend("beginning write transaction", e)),
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut rest = jobs;
    while !rest.is_empty() {
        let size = CHUNK_SIZES
            .iter()
            .copied()
            .find(|&n| n <= rest.len())
            .unwrap_or(1);
        let (chunk, tail) = rest.split_at(size);
        match append_chunk(&mut tx, chunk).await {
            Some(done) => outcomes.extend(done),
            None => {
                drop(tx);
                return append_batch_one_by_one(writer, jobs).await;
            }
        }
        rest = tail;
    }
    match tx.commit().await {
        Ok(()) => outcomes,
        Err(e) => all_failed(StoreError::backend("committing responses", e)),
    }
}

/// The chunk sizes a group is cut into, largest first: a few fixed scripts, each prepared
/// once on the writer connection and kept in its statement cache.
const CHUNK_SIZES: [usize; 6] = [32, 16, 8, 4, 2, 1];

/// The script appending a chunk of `n` jobs ([`APPEND_IN_CHUNK`] once per job, numbered).
static CHUNK_SCRIPTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    CHUNK_SIZES
        .iter()
        .map(|&n| {
            (0..n)
                .map(|job| APPEND_IN_CHUNK.replace("{job}", &job.to_string()))
                .collect()
        })
        .collect()
});

/// One job of a chunk: the response, inserted as `after_seq + 1` only if the session is
/// active, its log still ends at `after_seq` and the key is unused (its new seq returned);
/// when nothing was inserted, why ([`sql::APPEND_REFUSAL`]'s columns, as of this point of
/// the script); its audit entry, inserted only if the response was. Every row is tagged with
/// `part` and the job's place in the chunk. Positional binds, in order: session_id,
/// after_seq, subtest, payload, token_id, request_id, fingerprint, recorded_at, session_id,
/// session_id, after_seq; session_id, session_id, token_id, request_id; the audit entry
/// (`at` and its fields, all NULL without one), then `at` again.
const APPEND_IN_CHUNK: &str = concat!(
    "INSERT INTO responses (",
    response_cols!(),
    ") SELECT ?, ? + 1, ?, ?, ?, ?, ?, ? FROM sessions ",
    "WHERE id = ? AND state = 'active' ",
    "AND (SELECT COALESCE(MAX(seq), 0) FROM responses WHERE session_id = ?) = ? ",
    "ON CONFLICT (token_id, request_id) DO NOTHING RETURNING 'appended' AS part, {job} AS job, seq; ",
    // changes(): rows inserted by the last INSERT (1, or 0 when refused); a SELECT leaves it.
    "SELECT 'refused' AS part, {job} AS job, ",
    "(SELECT state FROM sessions WHERE id = ?) AS state, ",
    "(SELECT COALESCE(MAX(seq), 0) FROM responses WHERE session_id = ?) AS last_seq, ",
    "r.session_id, r.seq, r.subtest, r.payload, r.token_id, r.request_id, r.fingerprint, r.recorded_at ",
    "FROM (SELECT 1 AS one) AS o LEFT JOIN responses r ON r.token_id = ? AND r.request_id = ? ",
    "WHERE changes() = 0; ",
    "INSERT INTO audit_log (",
    audit_insert_cols!(),
    ") SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? ",
    "WHERE ? IS NOT NULL AND changes() = 1; "
);

/// The jobs of one chunk in one round trip ([`APPEND_IN_CHUNK`] per job); one outcome per
/// job, or `None` when the script did not run to its end (the transaction is then given up).
async fn append_chunk(
    conn: &mut SqliteConnection,
    chunk: &[AppendJob],
) -> Option<Vec<Result<Created<Response>, StoreError>>> {
    let script = CHUNK_SIZES.iter().position(|&n| n == chunk.len())?;
    let recorded_at = now_ms();
    let mut statement = Statement::new(CHUNK_SCRIPTS[script].as_str());
    for job in chunk {
        let new = &job.new;
        let key = new.request.as_ref();
        let token = key.map(|k| k.token_id.as_str());
        let request = key.map(|k| k.request_id.as_str());
        statement = ops::with_response(statement, new, recorded_at)
            .text(&new.session_id)
            .text(&new.session_id)
            .int(new.after_seq)
            .text(&new.session_id)
            .text(&new.session_id)
            .opt_text(token)
            .opt_text(request);
        let audit = job.audit.as_ref();
        statement = ops::with_audit(statement, recorded_at, audit).opt_int(audit.map(|_| recorded_at));
    }
    // `fetch_all`: every statement of the script must run.
    let rows = conn.fetch_all(statement).await.ok()?;
    let mut outcomes: Vec<Option<Result<Created<Response>, StoreError>>> =
        chunk.iter().map(|_| None).collect();
    for row in &rows {
        let job = usize::try_from(row.int("job").ok()?).ok()?;
        let new = &chunk.get(job)?.new;
        let outcome = match row.text("part").ok()?.as_str() {
            "appended" => Ok(Created {
                record: Response {
                    session_id: new.session_id.clone(),
                    seq: row.int("seq").ok()?,
                    subtest: new.subtest.clone(),
                    payload: new.payload.clone(),
                    request: new.request.clone(),
                    recorded_at,
                },
                existed: false,
            }),
            _ => match ops::append_refused(row, new) {
                // Neither the key, the state nor the log says why: let the one-by-one run
                // find out.
                Err(StoreError::Backend(_)) => return None,
                other => other,
            },
        };
        *outcomes.get_mut(job)? = Some(outcome);
    }
    outcomes.into_iter().collect()
}

/// Runs `jobs` in one write transaction, one round trip per job, each under its own
/// savepoint: a failed write is undone without touching its neighbours.
async fn append_batch_one_by_one(
    writer: &SqlitePool,
    jobs: &[AppendJob],
) -> Vec<Result<Created<Response>, StoreError>> {
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

/// One append inside the group's transaction (see [`Store::append_response`]): the common
/// case — an active session, an unchanged log, a new key — is the one round trip of
/// [`APPEND`]; when nothing was inserted, the shared refusal read finds out why.
async fn append_one(
    conn: &mut SqliteConnection,
    new: &NewResponse,
    audit: Option<&AuditEntry>,
) -> Result<Created<Response>, AppendFailure> {
    let recorded_at = now_ms();
    let append = ops::with_response(Statement::new(APPEND), new, recorded_at);
    // `fetch_all`, not `fetch_optional`: every statement of the script must run.
    let inserted = conn
        .fetch_all(ops::with_audit(append, recorded_at, audit))
        .await
        .map_err(|e| AppendFailure::Write(StoreError::backend("appending response", e)))?;
    if let Some(row) = inserted.first() {
        // Only the new seq comes back; the rest is what was bound.
        let seq = row.int("seq").map_err(AppendFailure::Group)?;
        return Ok(Created {
            record: Response {
                session_id: new.session_id.clone(),
                seq,
                subtest: new.subtest.clone(),
                payload: new.payload.clone(),
                request: new.request.clone(),
                recorded_at,
            },
            existed: false,
        });
    }
    ops::append_refusal(conn, new).await.map_err(|e| match e {
        StoreError::Backend(_) => AppendFailure::Group(e),
        refused => AppendFailure::Refused(refused),
    })
}
