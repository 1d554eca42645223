//! The console's sign-in sessions, held server-side. Signing in with a bearer token creates a
//! session with a random secret (`qcs_` and 40 base32 characters, 200 bits) that the browser
//! keeps in a cookie; the store keeps only its SHA-256 and the token's id, never the bearer
//! token, which the browser forgets once the sign-in form is posted. A session ends:
//!
//! * at sign-out (deleted at once, so a copied cookie no longer works);
//! * after [`CONSOLE_IDLE_EXPIRY`] without a request;
//! * [`CONSOLE_ABSOLUTE_EXPIRY`] after sign-in, whatever the activity;
//! * as soon as its token is revoked or expires (checked on every request).

use std::time::Duration;

use super::{App, AppError, Caller, Peer};
use crate::auth::{Authenticator, hash_secret};
use crate::store::{NewConsoleSession, now_ms};

/// A console session ends after this long without a request.
pub const CONSOLE_IDLE_EXPIRY: Duration = Duration::from_secs(30 * 60);
/// A console session ends this long after sign-in.
pub const CONSOLE_ABSOLUTE_EXPIRY: Duration = Duration::from_secs(12 * 60 * 60);
/// Last-seen times are written at most this often per session (a page view is not a write).
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// What every console session secret starts with.
const SESSION_PREFIX: &str = "qcs_";

/// A new console session: the cookie to set and who signed in.
#[derive(Debug)]
pub struct ConsoleSignIn {
    /// The session secret (the cookie's value).
    pub cookie: String,
    /// The signed-in caller.
    pub caller: Caller,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether `cookie` has the shape of a session secret (anything else is refused unread).
fn well_formed(cookie: &str) -> bool {
    cookie.strip_prefix(SESSION_PREFIX).is_some_and(|rest| {
        rest.len() == crate::auth::SECRET_RANDOM_CHARS
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    })
}

impl App {
    /// Signs in with bearer token `secret`: a new console session.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a token that does not authenticate; `UNAVAILABLE`.
    pub async fn console_sign_in(&self, secret: &str, peer: Peer) -> Result<ConsoleSignIn, AppError> {
        let caller = self.authenticate_secret(secret.trim(), peer).await?;
        let random = crate::auth::new_secret();
        let cookie = format!("{SESSION_PREFIX}{}", &random[crate::auth::SECRET_PREFIX.len()..]);
        let audit = self.audit(&caller, "console_sign_in", "console/sessions");
        let result = self
            .store
            .create_console_session(NewConsoleSession {
                secret_hash: hash_secret(&cookie),
                token_id: caller.principal.token_id.clone(),
                expires_at: now_ms() + millis(CONSOLE_ABSOLUTE_EXPIRY),
            })
            .await
            .map_err(AppError::from);
        self.finish(audit, result).await?;
        Ok(ConsoleSignIn { cookie, caller })
    }

    /// The caller of a console request carrying session `cookie`.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for an unknown, ended or expired session, or one whose token was
    /// revoked or has expired; `UNAVAILABLE`.
    pub async fn console_caller(&self, cookie: &str, peer: Peer) -> Result<Caller, AppError> {
        let ended = || AppError::Unauthenticated("the console session has ended; sign in again".into());
        if !well_formed(cookie) {
            return Err(ended());
        }
        let hash = hash_secret(cookie);
        let Some((session, token)) = self.store.console_session(&hash).await? else {
            return Err(ended());
        };
        let now = now_ms();
        if session.expires_at <= now || session.last_seen_at + millis(CONSOLE_IDLE_EXPIRY) <= now {
            self.store.delete_console_session(&hash).await?;
            return Err(ended());
        }
        let principal = match Authenticator::principal_of(&token) {
            Ok(p) => p,
            Err(e) => {
                self.store.delete_console_session(&hash).await?;
                return Err(self.refused(e, &peer, "console_request", "console").await);
            }
        };
        if now - session.last_seen_at >= millis(TOUCH_EVERY) {
            self.store.touch_console_session(&hash, now).await?;
        }
        Ok(Caller { principal, peer })
    }

    /// Ends the console session `cookie` (nothing happens for an unknown one).
    ///
    /// # Errors
    /// `UNAVAILABLE`.
    pub async fn console_sign_out(&self, cookie: &str, peer: Peer) -> Result<(), AppError> {
        if !well_formed(cookie) {
            return Ok(());
        }
        let hash = hash_secret(cookie);
        if let Some((_, token)) = self.store.console_session(&hash).await? {
            self.store.delete_console_session(&hash).await?;
            if let Ok(principal) = Authenticator::principal_of(&token) {
                let caller = Caller { principal, peer };
                let audit = self.audit(&caller, "console_sign_out", "console/sessions");
                self.finish(audit, Ok(())).await?;
            }
        }
        Ok(())
    }

    /// Deletes console sessions idle or past their expiry; returns how many.
    ///
    /// # Errors
    /// `UNAVAILABLE`.
    pub async fn purge_console_sessions(&self) -> Result<u64, AppError> {
        let now = now_ms();
        Ok(self
            .store
            .purge_console_sessions(now - millis(CONSOLE_IDLE_EXPIRY), now)
            .await?)
    }
}
