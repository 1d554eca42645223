//! Authentication of a call from its bearer token, for every transport. A presented token
//! that is refused (malformed, unknown, revoked, expired) is one audit row with outcome
//! `unauthenticated` and the peer; a call without any token is refused without a row (there
//! is nobody to trace).

use super::audit::Audit;
use super::{App, AppError, Caller, Peer};
use crate::auth::AuthError;

impl App {
    /// The caller presenting `authorization: Bearer <secret>`, where `values` are every value
    /// of the request's `authorization` header.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` (missing, malformed, invalid, revoked or expired token);
    /// `UNAVAILABLE` when the token store cannot be asked.
    pub async fn authenticate(&self, values: &[&[u8]], peer: Peer) -> Result<Caller, AppError> {
        match self.auth.authenticate(values).await {
            Ok(principal) => Ok(Caller { principal, peer }),
            Err(e) => Err(self.refused(e, &peer, "authenticate").await),
        }
    }

    /// The caller holding token `secret` (the console's sign-in form).
    ///
    /// # Errors
    /// As [`App::authenticate`].
    pub(crate) async fn authenticate_secret(&self, secret: &str, peer: Peer) -> Result<Caller, AppError> {
        match self.auth.authenticate_secret(secret).await {
            Ok(principal) => Ok(Caller { principal, peer }),
            Err(e) => Err(self.refused(e, &peer, "console_sign_in").await),
        }
    }

    /// The error of a refused authentication, audited unless no token was presented or the
    /// store is down.
    pub(crate) async fn refused(&self, e: AuthError, peer: &Peer, action: &'static str) -> AppError {
        let error = match e {
            AuthError::Unavailable => return AppError::Unavailable(e.to_string()),
            AuthError::Missing => return AppError::Unauthenticated(e.to_string()),
            AuthError::Malformed | AuthError::Invalid => AppError::Unauthenticated(e.to_string()),
        };
        let audit = Audit::unauthenticated(peer, action);
        match self.finish(audit, Err::<(), _>(error)).await {
            Err(e) => e,
            Ok(()) => AppError::Unauthenticated(e.to_string()),
        }
    }
}
