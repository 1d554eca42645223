//! The seed of an adaptive administration's random choices, derived from the session and
//! the subtest alone, so replaying a stored log after a restart makes the same choices.

use sha2::{Digest, Sha256};

/// The seed for subtest `subtest_id` in session `session_id`: the first 8 bytes, big-endian,
/// of SHA-256 over `qabilet-adaptive`, NUL, the session id, NUL, the subtest id.
pub fn adaptive_seed(session_id: &str, subtest_id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(b"qabilet-adaptive\0");
    h.update(session_id.as_bytes());
    h.update([0]);
    h.update(subtest_id.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_by_session_and_subtest_and_do_not_run_together() {
        let a = adaptive_seed("s1", "mr");
        assert_eq!(a, adaptive_seed("s1", "mr"));
        assert_ne!(a, adaptive_seed("s2", "mr"));
        assert_ne!(a, adaptive_seed("s1", "fw"));
        // The NUL keeps ("s1m", "r") apart from ("s1", "mr").
        assert_ne!(a, adaptive_seed("s1m", "r"));
    }
}
