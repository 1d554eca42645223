//! Paging fields of list requests as the application layer takes them. Bad values are
//! `INVALID_ARGUMENT` naming the field.

use tonic::Status;

use super::status;
use crate::store::PageRequest;

/// A page size: 0 means the list's default; negative is refused.
pub fn page_size(size: i32) -> Result<u32, Status> {
    u32::try_from(size).map_err(|_| status::invalid_argument("page_size", "must not be negative"))
}

/// A page request from `page_size` (0: the default) and `page_token` (empty: the first page).
pub fn page(size: i32, token: String) -> Result<PageRequest, Status> {
    Ok(PageRequest {
        size: page_size(size)?,
        after: (!token.is_empty()).then_some(token),
    })
}
