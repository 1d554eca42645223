//! Request fields as the store takes them: page size and token, idempotency keys, resource
//! names. Bad values are `INVALID_ARGUMENT` naming the field.

use sha2::{Digest, Sha256};
use tonic::Status;

use super::status;
use crate::auth::Principal;
use crate::store::{PageRequest, RequestKey};

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

/// The idempotency key of a write by `p` with `request_id` (blank: none, the write is not
/// idempotent): `p`'s token, the request id, and the fingerprint of the request's `fields`.
pub fn request_key(p: &Principal, request_id: String, fields: &[&str]) -> Option<RequestKey> {
    (!request_id.trim().is_empty()).then(|| RequestKey {
        token_id: p.token_id.clone(),
        request_id,
        fingerprint: fingerprint(fields),
    })
}

/// Lowercase hex SHA-256 of `fields`, each preceded by its length in bytes (so that no two
/// different lists of fields hash alike).
fn fingerprint(fields: &[&str]) -> String {
    let mut hash = Sha256::new();
    for f in fields {
        hash.update((f.len() as u64).to_be_bytes());
        hash.update(f.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
