//! What an operation of the application layer fails with: one error for every transport.
//! The gRPC layer maps it to a status (`grpc::status`), the console to a page
//! (`console::page`), each in one place; the audit log records its [`AuditOutcome`].

use thiserror::Error;

use crate::store::{AuditOutcome, StoreError};

/// Why an operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AppError {
    /// No valid credentials: missing, malformed, unknown, revoked or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this to this resource.
    #[error("{resource}: not permitted for this token")]
    Denied {
        /// The resource (or operation) refused.
        resource: String,
    },
    /// Bad input in one field.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, e.g. `child.code`.
        field: String,
        /// Why.
        reason: String,
    },
    /// Input with several bad parts (a roster's rows), every one listed; nothing was done.
    #[error("{what}: {} problem(s), nothing imported", problems.len())]
    Rejected {
        /// What was refused, e.g. `roster`.
        what: &'static str,
        /// Each problem, e.g. `line 7, column birth_date: not a date`.
        problems: Vec<String>,
    },
    /// A child's ticket does not sign in (or the device is signed in with none).
    #[error("{}", .0.reason())]
    Ticket(super::take::TicketRefusal),
    /// An unknown resource.
    #[error("{what} '{name}' not found")]
    NotFound {
        /// Kind of resource ("child", "session", "battery").
        what: &'static str,
        /// Its name as given.
        name: String,
    },
    /// The resource is not in the state the operation needs.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A uniqueness rule refused the write.
    #[error("{0}")]
    AlreadyExists(String),
    /// A limit on concurrent work was reached; retry later.
    #[error("{0}")]
    Exhausted(String),
    /// Storage is unavailable (the detail is logged, not sent).
    #[error("{0}")]
    Unavailable(String),
    /// A fault of the server itself.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// Bad input in `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// `resource` refused to this caller.
    pub fn denied(resource: impl Into<String>) -> Self {
        AppError::Denied {
            resource: resource.into(),
        }
    }

    /// What the audit log records for a call that failed with this error.
    pub fn outcome(&self) -> AuditOutcome {
        match self {
            AppError::Unauthenticated(_) => AuditOutcome::Unauthenticated,
            AppError::Denied { .. } | AppError::Ticket(_) => AuditOutcome::Denied,
            AppError::Invalid { .. } | AppError::Rejected { .. } => AuditOutcome::Invalid,
            AppError::NotFound { .. } => AuditOutcome::NotFound,
            AppError::FailedPrecondition(_) | AppError::AlreadyExists(_) => AuditOutcome::Conflict,
            AppError::Exhausted(_) | AppError::Unavailable(_) => AuditOutcome::Unavailable,
            AppError::Internal(_) => AuditOutcome::Error,
        }
    }
}

impl From<StoreError> for AppError {
    /// Unknown records are NOT_FOUND, uniqueness ALREADY_EXISTS, a reused request id bad
    /// input, state conflicts FAILED_PRECONDITION, and a failing database UNAVAILABLE (its
    /// detail is logged here, never sent: it may name tables and constraints).
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => AppError::NotFound { what, name: id },
            StoreError::Duplicate { what, detail } => {
                AppError::AlreadyExists(format!("{what} already exists: {detail}"))
            }
            StoreError::RequestReused { what } => AppError::invalid(
                "request_id",
                format!("already used by this token for a different {what} request"),
            ),
            StoreError::Conflict { detail } | StoreError::Stale { detail } => {
                AppError::FailedPrecondition(detail)
            }
            StoreError::Backend(detail) => {
                tracing::error!(%detail, "storage failed");
                AppError::Unavailable("storage is unavailable; retry with the same request_id".into())
            }
        }
    }
}
