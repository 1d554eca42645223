//! The records the store keeps and the requests that create them: tokens, console sessions,
//! children, sessions and their state changes, responses and report edits, with the
//! idempotency key a write may carry. Personal fields are [`Personal`], so every record
//! derives `Debug` without showing them.

use std::fmt;

use super::{Personal, Role, SessionState};

/// The idempotency key of a write: applied once per (`token_id`, `request_id`); a retry must
/// carry the same fingerprint (a hash of the request's fields, computed by the caller).
///
/// A retry with the same token, request id and fingerprint writes nothing and returns the
/// stored record ([`Created::existed`]); the same token and request id with another
/// fingerprint is [`StoreError::RequestReused`](super::StoreError::RequestReused); the same
/// request id from another token is another key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    /// Id of the token that sent the request.
    pub token_id: String,
    /// The request id the caller chose.
    pub request_id: String,
    /// Lowercase hex SHA-256 of the canonical request (the app computes it).
    pub fingerprint: String,
}

/// The result of an idempotent write: the record, and whether it was already stored by an
/// earlier request with the same key (or, for a state change, was already in that state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// The stored record (new, or the one stored by the earlier request).
    pub record: T,
    /// `true` when nothing was written because the request was a retry.
    pub existed: bool,
}

/// A bearer token to store. The secret itself never reaches the store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewToken {
    /// The role the token grants.
    pub role: Role,
    /// The centre the token belongs to.
    pub centre: String,
    /// Who uses it, e.g. "psy-aliya".
    pub subject: String,
    /// Lowercase SHA-256 hex of the secret.
    pub secret_hash: String,
    /// When the token stops authenticating, Unix milliseconds; `None` for never.
    pub expires_at: Option<i64>,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("role", &self.role)
            .field("centre", &self.centre)
            .field("subject", &self.subject)
            .field("secret_hash", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A stored bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Store-generated id.
    pub id: String,
    /// The role the token grants.
    pub role: Role,
    /// The centre the token belongs to.
    pub centre: String,
    /// Who uses it.
    pub subject: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Whether the token was revoked (a revoked token authenticates nobody).
    pub revoked: bool,
    /// When the token stops authenticating, Unix milliseconds; `None` for never. The store
    /// returns expired tokens like any other: the caller refuses them.
    pub expires_at: Option<i64>,
}

/// A console sign-in to store: the browser holds a random secret, the store its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct NewConsoleSession {
    /// Lowercase SHA-256 hex of the session's secret (the cookie's value).
    pub secret_hash: String,
    /// The token the console acts with (must exist).
    pub token_id: String,
    /// Absolute expiry, Unix milliseconds.
    pub expires_at: i64,
}

impl fmt::Debug for NewConsoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewConsoleSession")
            .field("secret_hash", &"<redacted>")
            .field("token_id", &self.token_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A stored console session (not a log: it is updated as it is used and deleted at sign-out
/// or expiry).
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// Lowercase SHA-256 hex of the session's secret.
    pub secret_hash: String,
    /// The token the console acts with.
    pub token_id: String,
    /// Sign-in time, Unix milliseconds.
    pub created_at: i64,
    /// Last use, Unix milliseconds (what idle expiry is measured from).
    pub last_seen_at: i64,
    /// Absolute expiry, Unix milliseconds.
    pub expires_at: i64,
}

impl fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("secret_hash", &"<redacted>")
            .field("token_id", &self.token_id)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A child to register. Pseudonymous by default: `code` identifies the child within the
/// centre; names and notes are optional personal data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewChild {
    /// Pseudonymous code, unique within the centre.
    pub code: String,
    /// Birth date, ISO 8601 (`YYYY-MM-DD`).
    pub birth_date: String,
    /// Sex, when recorded.
    pub sex: Option<String>,
    /// Language of testing ("kk", "ru", "en").
    pub test_language: String,
    /// The centre the child is registered at.
    pub centre: String,
    /// Token subject of the creating psychologist.
    pub owner: String,
    /// Given name (optional).
    pub given_name: Option<Personal>,
    /// Family name (optional).
    pub family_name: Option<Personal>,
    /// Free-text notes (optional).
    pub notes: Option<Personal>,
    /// Idempotency key.
    pub request: Option<RequestKey>,
}

/// A stored child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Store-generated id.
    pub id: String,
    /// Pseudonymous code, unique within the centre.
    pub code: String,
    /// Birth date, ISO 8601.
    pub birth_date: String,
    /// Sex, when recorded.
    pub sex: Option<String>,
    /// Language of testing.
    pub test_language: String,
    /// The centre the child is registered at.
    pub centre: String,
    /// Token subject of the creating psychologist.
    pub owner: String,
    /// Given name.
    pub given_name: Option<Personal>,
    /// Family name.
    pub family_name: Option<Personal>,
    /// Notes.
    pub notes: Option<Personal>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

/// Which children to list; every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildFilter {
    /// Only children of this centre.
    pub centre: Option<String>,
    /// Only children created by this token subject.
    pub owner: Option<String>,
    /// Only children whose code starts with this text.
    pub code_prefix: Option<String>,
}

/// Which sessions to list; every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only sessions of this child.
    pub child_id: Option<String>,
    /// Only sessions opened by this token subject.
    pub examiner: Option<String>,
    /// Only sessions of children of this centre.
    pub centre: Option<String>,
}

/// A test session to open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewSession {
    /// The child being tested (must exist).
    pub child_id: String,
    /// The battery administered.
    pub battery_id: String,
    /// Content hash of the norm set scores will be computed with.
    pub norm_set_hash: String,
    /// Date of testing, ISO 8601.
    pub test_date: String,
    /// Token subject of the examiner.
    pub examiner: String,
    /// Idempotency key.
    pub request: Option<RequestKey>,
}

/// A stored test session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Store-generated id.
    pub id: String,
    /// The child being tested.
    pub child_id: String,
    /// The battery administered.
    pub battery_id: String,
    /// Content hash of the norm set.
    pub norm_set_hash: String,
    /// Date of testing, ISO 8601.
    pub test_date: String,
    /// Token subject of the examiner.
    pub examiner: String,
    /// Current state.
    pub state: SessionState,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// When the session was finished, Unix milliseconds.
    pub finished_at: Option<i64>,
}

/// A change of a session's state to make (see [`Store::set_session_state`](super::Store::set_session_state)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The session.
    pub session_id: String,
    /// The states the change may start from (e.g. `[Active, Paused]` for finish).
    pub from: Vec<SessionState>,
    /// The state to move to.
    pub to: SessionState,
    /// Idempotency key.
    pub request: Option<RequestKey>,
}

/// One entry of a session's append-only history of state changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionChange {
    /// Database-assigned, increasing id: a later change has a higher id.
    pub id: i64,
    /// The session.
    pub session_id: String,
    /// The state it left.
    pub from_state: SessionState,
    /// The state it entered.
    pub to_state: SessionState,
    /// The key of the request that made it, if it carried one.
    pub request: Option<RequestKey>,
    /// When, Unix milliseconds.
    pub at: i64,
}

/// An item response (an administration event) to append to a session's log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewResponse {
    /// The session (must be active).
    pub session_id: String,
    /// The subtest the event belongs to.
    pub subtest: String,
    /// The event as JSON; stored verbatim, opaque to the store.
    pub payload: String,
    /// The session-wide last sequence number the caller saw when it checked the rules (0 for
    /// an empty log): the response is stored as `after_seq + 1` only if that is still the
    /// last one.
    pub after_seq: i64,
    /// Idempotency key.
    pub request: Option<RequestKey>,
}

/// A stored response: one entry of a session's append-only log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The session.
    pub session_id: String,
    /// Position in the session's log: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// The subtest the event belongs to.
    pub subtest: String,
    /// The event as JSON, verbatim.
    pub payload: String,
    /// The idempotency key it was appended with.
    pub request: Option<RequestKey>,
    /// When it was recorded, Unix milliseconds.
    pub recorded_at: i64,
}

/// A session, its child and the session's responses to one subtest, read together (see
/// [`Store::subtest_context`](super::Store::subtest_context)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtestContext {
    /// The session.
    pub session: Session,
    /// The child tested in it.
    pub child: Child,
    /// The session's responses to the subtest, in sequence order.
    pub responses: Vec<Response>,
    /// The last sequence number of the session's whole log (every subtest), 0 if it is
    /// empty: the `after_seq` of the next append checked against this context.
    pub last_seq: i64,
}

/// A psychologist's text for one item of a session's report, to append. Edits are an
/// append-only log beside the generated report: nothing is ever overwritten, and the latest
/// edit of an item (highest id) is the one in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReportEdit {
    /// The session whose report is edited (must exist).
    pub session_id: String,
    /// Stable item id of the report, e.g. `strengths/verbal`.
    pub item: String,
    /// The psychologist's text.
    pub text: Personal,
    /// Token subject of who wrote it.
    pub author: String,
    /// Idempotency key.
    pub request: Option<RequestKey>,
}

/// A stored report edit: one entry of a session's append-only log of edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEdit {
    /// Database-assigned, increasing id: a later edit has a higher id.
    pub id: i64,
    /// The session whose report was edited.
    pub session_id: String,
    /// Stable item id of the report.
    pub item: String,
    /// The psychologist's text.
    pub text: Personal,
    /// Token subject of who wrote it.
    pub author: String,
    /// The idempotency key it was appended with.
    pub request: Option<RequestKey>,
    /// When it was stored, Unix milliseconds.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_personal_fields_and_secrets() {
        let c = NewChild {
            given_name: Some(Personal::new("Aliya".into())),
            notes: Some(Personal::new("lives with her grandmother".into())),
            ..Default::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("Aliya") && !s.contains("grandmother"), "{s}");
        assert!(s.contains("<redacted>"));
        let t = NewToken {
            role: Role::Admin,
            centre: "*".into(),
            subject: "root".into(),
            secret_hash: "f00d".repeat(16),
            expires_at: None,
        };
        assert!(!format!("{t:?}").contains("f00d"));
        let cs = NewConsoleSession {
            secret_hash: "beef".repeat(16),
            token_id: "t".into(),
            expires_at: 0,
        };
        assert!(!format!("{cs:?}").contains("beef"));
    }
}
