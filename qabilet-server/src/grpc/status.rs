//! Errors as gRPC statuses, in one place: every [`AppError`] maps to its code here
//! (google.rpc error model via tonic-types: `INVALID_ARGUMENT` carries a `BadRequest` detail
//! naming the offending field).

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::app::AppError;

/// Bad input in `field` (a path such as `child.raw_scores[voc]`).
pub fn invalid_argument(field: &str, reason: impl Into<String>) -> Status {
    let reason = reason.into();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {reason}"),
        ErrorDetails::with_bad_request_violation(field, reason),
    )
}

impl From<AppError> for Status {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated(m) => Status::unauthenticated(m),
            AppError::Denied { .. } | AppError::Ticket(_) => Status::permission_denied(e.to_string()),
            AppError::Invalid { field, reason } => invalid_argument(&field, reason),
            AppError::Rejected { what, problems } => {
                let mut details = ErrorDetails::new();
                for p in &problems {
                    let (field, reason) = p.split_once(": ").unwrap_or(("", p.as_str()));
                    details.add_bad_request_violation(field, reason);
                }
                Status::with_error_details(
                    Code::InvalidArgument,
                    format!(
                        "the {what} has {} problem(s), nothing imported; first: {}",
                        problems.len(),
                        problems.first().map_or("", String::as_str)
                    ),
                    details,
                )
            }
            AppError::NotFound { .. } => Status::not_found(e.to_string()),
            AppError::FailedPrecondition(m) => Status::failed_precondition(m),
            AppError::AlreadyExists(m) => Status::already_exists(m),
            AppError::Exhausted(m) => Status::resource_exhausted(m),
            AppError::Unavailable(m) => Status::unavailable(m),
            AppError::Internal(m) => Status::internal(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_code() {
        let cases = [
            (AppError::Unauthenticated("x".into()), Code::Unauthenticated),
            (AppError::denied("children/x"), Code::PermissionDenied),
            (AppError::invalid("child.code", "required"), Code::InvalidArgument),
            (
                AppError::NotFound {
                    what: "child",
                    name: "children/x".into(),
                },
                Code::NotFound,
            ),
            (AppError::FailedPrecondition("x".into()), Code::FailedPrecondition),
            (AppError::AlreadyExists("x".into()), Code::AlreadyExists),
            (AppError::Exhausted("x".into()), Code::ResourceExhausted),
            (AppError::Unavailable("x".into()), Code::Unavailable),
            (AppError::Internal("x".into()), Code::Internal),
        ];
        for (e, code) in cases {
            assert_eq!(Status::from(e.clone()).code(), code, "{e:?}");
        }
        let s = Status::from(AppError::invalid("child.code", "required"));
        assert_eq!(s.message(), "child.code: required");
        let details = s.get_error_details();
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        assert_eq!(violations[0].field, "child.code");
    }
}
