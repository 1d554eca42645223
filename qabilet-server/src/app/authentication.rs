//! Authentication of a call from its bearer token, for every transport. A presented token of
//! a token's shape that is refused (unknown, revoked, expired) is recorded in the audit log
//! with outcome `unauthenticated`, the peer and what was called — at most one row per peer
//! address every [`REFUSAL_WINDOW`], counting the refusals in between, so that a client
//! without any credentials cannot make the server write without bound. A call without a
//! token, or with a value of another shape, is refused without a row (there is nobody to
//! trace) and logged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{App, AppError, Caller, Peer};
use crate::auth::AuthError;

/// One audit row per peer address and window for refused tokens.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(10);
/// Peers whose refusals are counted at once (past it, the counts start again).
const REFUSAL_PEERS: usize = 4096;

/// Refused tokens per peer address: when the current window opened, and how many refusals
/// it has had.
#[derive(Debug, Default)]
pub(crate) struct Refusals(Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>);

impl Refusals {
    /// Counts one refusal of `peer`; the number of refusals to record if this one opens a new
    /// window (the earlier window's, plus this one), else `None`.
    fn count(&self, peer: Option<IpAddr>) -> Option<u32> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= REFUSAL_PEERS && !map.contains_key(&peer) {
            map.clear();
        }
        let now = Instant::now();
        match map.get_mut(&peer) {
            Some((opened, n)) if now.duration_since(*opened) < REFUSAL_WINDOW => {
                *n += 1;
                None
            }
            Some((opened, n)) => {
                let record = *n + 1;
                *opened = now;
                *n = 0;
                Some(record)
            }
            None => {
                map.insert(peer, (now, 0));
                Some(1)
            }
        }
    }
}

impl App {
    /// The caller presenting `authorization: Bearer <secret>`, where `values` are every value
    /// of the request's `authorization` header; `what` names what was called (e.g. the RPC's
    /// path), for the audit row of a refusal.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` (missing, malformed, invalid, revoked or expired token);
    /// `UNAVAILABLE` when the token store cannot be asked.
    pub async fn authenticate(&self, values: &[&[u8]], peer: Peer, what: &str) -> Result<Caller, AppError> {
        match self.auth.authenticate(values).await {
            Ok(principal) => Ok(Caller { principal, peer }),
            Err(e) => Err(self.refused(e, &peer, "authenticate", what).await),
        }
    }

    /// The caller holding token `secret` (the console's sign-in form).
    ///
    /// # Errors
    /// As [`App::authenticate`].
    pub(crate) async fn authenticate_secret(&self, secret: &str, peer: Peer) -> Result<Caller, AppError> {
        match self.auth.authenticate_secret(secret).await {
            Ok(principal) => Ok(Caller { principal, peer }),
            Err(e) => Err(self
                .refused(e, &peer, "console_sign_in", "console/sessions")
                .await),
        }
    }

    /// The error of a refused authentication, audited (see the module docs) when a token of
    /// a token's shape was refused.
    pub(crate) async fn refused(
        &self,
        e: AuthError,
        peer: &Peer,
        action: &'static str,
        what: &str,
    ) -> AppError {
        let error = match e {
            AuthError::Unavailable => return AppError::Unavailable(e.to_string()),
            AuthError::Missing | AuthError::Malformed => {
                tracing::debug!(%peer, what, "refused a call without a usable token");
                return AppError::Unauthenticated(e.to_string());
            }
            AuthError::Invalid => AppError::Unauthenticated(e.to_string()),
        };
        let Some(refusals) = self.refusals.count(peer.addr.map(|a| a.ip())) else {
            return error;
        };
        let mut audit = self.audit_refusal(peer, action);
        audit.resource(what);
        if refusals > 1 {
            audit.detail(format!(
                "{refusals} refused tokens from this address since the last row"
            ));
        }
        match self.finish(audit, Err::<(), _>(error)).await {
            Err(e) => e,
            Ok(()) => AppError::Unauthenticated(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_peer_and_window() {
        let r = Refusals::default();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert_eq!(r.count(a), Some(1));
        for _ in 0..100 {
            assert_eq!(r.count(a), None);
        }
        assert_eq!(r.count(b), Some(1), "another peer has its own window");
        // The window ran out: the next refusal records the 100 before it and itself.
        {
            let mut map = r.0.lock().unwrap();
            let opened = &mut map.get_mut(&a).unwrap().0;
            *opened = opened
                .checked_sub(REFUSAL_WINDOW)
                .expect("a clock older than the window");
        }
        assert_eq!(r.count(a), Some(101));
        assert_eq!(r.count(a), None);
    }
}
