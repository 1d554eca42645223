//! Request fields as the store takes them: page size and token, idempotency keys, resource
//! names. Bad values are `INVALID_ARGUMENT` naming the field.

use tonic::Status;

use super::status;
use crate::store::PageRequest;

/// The id in a session's resource name `sessions/{id}` given in `field`.
pub fn session_id<'a>(name: &'a str, field: &str) -> Result<&'a str, Status> {
    name.strip_prefix("sessions/")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| status::invalid_argument(field, "must be sessions/{id}"))
}

/// A page request from `page_size` (0: the default) and `page_token` (empty: the first page).
pub fn page(size: i32, token: String) -> Result<PageRequest, Status> {
    if size < 0 {
        return Err(status::invalid_argument("page_size", "must not be negative"));
    }
    Ok(PageRequest {
        size: size as u32,
        after: (!token.is_empty()).then_some(token),
    })
}

/// A request id; blank means none (the write is not idempotent).
pub fn request_id(id: String) -> Option<String> {
    (!id.trim().is_empty()).then_some(id)
}
