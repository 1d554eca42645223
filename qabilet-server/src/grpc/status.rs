//! Errors as gRPC statuses, in one place: `INVALID_ARGUMENT` with a `BadRequest` detail
//! naming the offending field, `NOT_FOUND` for unknown resources, `FAILED_PRECONDITION` for
//! state errors (google.rpc error model, via tonic-types).

use qabilet_core::administration::AdministrationError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Bad input in `field` (a path such as `child.raw_scores[voc]`).
pub fn invalid_argument(field: &str, reason: impl Into<String>) -> Status {
    let reason = reason.into();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {reason}"),
        ErrorDetails::with_bad_request_violation(field, reason),
    )
}

/// An unknown resource.
pub fn not_found(what: &str, name: &str) -> Status {
    Status::not_found(format!("{what} '{name}' not found"))
}

/// A storage error: unknown records are `NOT_FOUND`, uniqueness `ALREADY_EXISTS`, state
/// conflicts `FAILED_PRECONDITION`, a request id already used for another request
/// `INVALID_ARGUMENT` on `request_id`, a write that lost a race with another `ABORTED` (read
/// again and retry), and a failing database `UNAVAILABLE` (its detail is logged, not sent: it
/// may name tables and constraints).
pub fn store(e: crate::store::StoreError) -> Status {
    use crate::store::StoreError;
    match e {
        StoreError::NotFound { what, id } => Status::not_found(format!("{what} '{id}' not found")),
        StoreError::Duplicate { what, detail } => {
            Status::already_exists(format!("{what} already exists: {detail}"))
        }
        StoreError::Conflict { detail } => Status::failed_precondition(detail),
        StoreError::RequestReused { what } => invalid_argument(
            "request_id",
            format!("already used for a different request ({what})"),
        ),
        StoreError::Stale { detail } => Status::aborted(detail),
        StoreError::Backend(detail) => {
            tracing::error!(%detail, "storage failed");
            Status::unavailable("storage is unavailable; retry with the same request_id")
        }
    }
}

/// An administration error as a status: a rule refusal (an item not due or not pending, a
/// second score) is a state error; an override on an adaptive subtest, like the rest, bad
/// input.
pub fn administration(e: AdministrationError) -> Status {
    match &e {
        AdministrationError::NotDue { .. }
        | AdministrationError::NotPending { .. }
        | AdministrationError::AlreadyScored { .. }
        | AdministrationError::TotalAlreadyEntered { .. } => Status::failed_precondition(e.to_string()),
        // An adaptive subtest takes no override, whatever its state: bad input.
        AdministrationError::AdaptiveOverride { .. } => invalid_argument("override_reason", e.to_string()),
        AdministrationError::Adaptive { .. } | AdministrationError::Replay { .. } => {
            Status::internal(e.to_string())
        }
        AdministrationError::UnknownItem { .. } => invalid_argument("item", e.to_string()),
        AdministrationError::EmptyOverrideReason { .. } => invalid_argument("override_reason", e.to_string()),
        _ => invalid_argument("score", e.to_string()),
    }
}
