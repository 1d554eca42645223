//! Idempotency keys of writes: a write with a `request_id` is applied once per calling token
//! (another token's request ids are another key space, so a retry can only ever return what
//! the same token wrote), and a retry must be the same request — the store compares the
//! fingerprint computed here with the one stored by the first attempt and refuses a
//! mismatch (`INVALID_ARGUMENT` on `request_id`) instead of silently answering with the
//! earlier result.

use sha2::{Digest, Sha256};

use super::Caller;
use crate::store::RequestKey;

/// The key of a write by `caller` with `request_id` (none: the write is not idempotent);
/// the fingerprint covers the operation's name and every field that defines the request.
pub(crate) fn request_key(
    caller: &Caller,
    request_id: Option<String>,
    operation: &str,
    fields: &[&str],
) -> Option<RequestKey> {
    request_id.map(|request_id| RequestKey {
        token_id: caller.principal.token_id.clone(),
        request_id,
        fingerprint: fingerprint(operation, fields),
    })
}

/// Lowercase hex SHA-256 over the operation and the fields, each preceded by its length in
/// bytes (so no two different field lists share an encoding).
pub(crate) fn fingerprint(operation: &str, fields: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in std::iter::once(operation).chain(fields.iter().copied()) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_fields() {
        assert_ne!(fingerprint("op", &["ab", "c"]), fingerprint("op", &["a", "bc"]));
        assert_ne!(fingerprint("op", &["a"]), fingerprint("other", &["a"]));
        assert_eq!(fingerprint("op", &["a", "b"]), fingerprint("op", &["a", "b"]));
        assert_eq!(fingerprint("op", &[]).len(), 64);
    }
}
