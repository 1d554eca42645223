//! What a store operation can fail with.

use std::fmt;

/// An error from a [`Store`](super::Store) operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The named record does not exist.
    #[error("{what} {id:?} not found")]
    NotFound {
        /// Kind of record ("child", "session", "token").
        what: &'static str,
        /// The id that was looked up.
        id: String,
    },
    /// A uniqueness rule refused the write (e.g. a child code already used in the centre).
    #[error("{what} already exists: {detail}")]
    Duplicate {
        /// Kind of record.
        what: &'static str,
        /// Which rule was broken (never contains personal data).
        detail: String,
    },
    /// The record is not in the state the operation needs (e.g. appending to a finished
    /// session, or a compare-and-set whose expected state did not match).
    #[error("conflict: {detail}")]
    Conflict {
        /// What was expected and what was found.
        detail: String,
    },
    /// An idempotency key (token and request id) already stored with another request: a
    /// different request's fingerprint, so nothing was written.
    #[error("request_id already used for a different request ({what})")]
    RequestReused {
        /// Kind of record the key was used for ("child", "session", "response", …).
        what: &'static str,
    },
    /// The record changed since the caller read it (a response appended after `after_seq`):
    /// nothing was written; read again, check again, retry.
    #[error("stale: {detail}")]
    Stale {
        /// What the caller expected and what was found.
        detail: String,
    },
    /// The database failed; the text names the operation and the driver's message.
    #[error("storage backend: {0}")]
    Backend(String),
}

impl StoreError {
    /// Wraps a driver error with the operation it happened in.
    pub(crate) fn backend(context: &str, err: impl fmt::Display) -> Self {
        StoreError::Backend(format!("{context}: {err}"))
    }
}

/// A driver error as [`StoreError::Backend`], naming the operation: `.map_err(db("…"))`.
pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::backend(context, e)
}

/// Whether a write failed on a uniqueness rule (a unique index or primary key), in either backend.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// A value that could not be parsed into one of the store's enums.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct ParseEnumError {
    /// Which enum ("role", "session state", "audit outcome").
    pub what: &'static str,
    /// The text that did not match.
    pub value: String,
}
