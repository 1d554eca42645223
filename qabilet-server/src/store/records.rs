//! The records the store keeps and the requests that create them: tokens, children,
//! sessions, responses, report edits and audit entries. Personal fields are redacted in
//! `Debug` output.

use std::fmt;

use super::{Role, SessionState};

/// The result of an idempotent create: the record, and whether it was already stored by an
/// earlier request with the same `request_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// The stored record (new, or the one created by the earlier request).
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
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("role", &self.role)
            .field("centre", &self.centre)
            .field("subject", &self.subject)
            .field("secret_hash", &"<redacted>")
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
}

fn redacted(v: &Option<String>) -> Option<&'static str> {
    v.as_ref().map(|_| "<redacted>")
}

/// A child to register. Pseudonymous by default: `code` identifies the child within the
/// centre; names and notes are optional personal data.
#[derive(Clone, PartialEq, Eq, Default)]
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
    /// Given name (personal data, optional).
    pub given_name: Option<String>,
    /// Family name (personal data, optional).
    pub family_name: Option<String>,
    /// Free-text notes (personal data, optional).
    pub notes: Option<String>,
    /// Idempotency key, unique per owner.
    pub request_id: Option<String>,
}

impl fmt::Debug for NewChild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewChild")
            .field("code", &self.code)
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("test_language", &self.test_language)
            .field("centre", &self.centre)
            .field("owner", &self.owner)
            .field("given_name", &redacted(&self.given_name))
            .field("family_name", &redacted(&self.family_name))
            .field("notes", &redacted(&self.notes))
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// A stored child.
#[derive(Clone, PartialEq, Eq)]
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
    /// Given name (personal data).
    pub given_name: Option<String>,
    /// Family name (personal data).
    pub family_name: Option<String>,
    /// Notes (personal data).
    pub notes: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id)
            .field("code", &self.code)
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("test_language", &self.test_language)
            .field("centre", &self.centre)
            .field("owner", &self.owner)
            .field("given_name", &redacted(&self.given_name))
            .field("family_name", &redacted(&self.family_name))
            .field("notes", &redacted(&self.notes))
            .field("created_at", &self.created_at)
            .finish()
    }
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
    /// Idempotency key, unique per examiner.
    pub request_id: Option<String>,
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

/// An item response (an administration event) to append to a session's log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewResponse {
    /// The session (must be active).
    pub session_id: String,
    /// The subtest the event belongs to.
    pub subtest: String,
    /// The event as JSON; stored verbatim, opaque to the store.
    pub payload: String,
    /// Idempotency key, unique per session.
    pub request_id: Option<String>,
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
    pub request_id: Option<String>,
    /// When it was recorded, Unix milliseconds.
    pub recorded_at: i64,
}

/// A session, its child and the session's responses to one subtest, read together (see
/// [`Store::subtest_context`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtestContext {
    /// The session.
    pub session: Session,
    /// The child tested in it.
    pub child: Child,
    /// The session's responses to the subtest, in sequence order.
    pub responses: Vec<Response>,
}

/// A psychologist's text for one item of a session's report, to append. Edits are an
/// append-only log beside the generated report: nothing is ever overwritten, and the latest
/// edit of an item (highest id) is the one in effect.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct NewReportEdit {
    /// The session whose report is edited (must exist).
    pub session_id: String,
    /// Stable item id of the report, e.g. `strengths/verbal`.
    pub item: String,
    /// The psychologist's text (may be personal: never logged).
    pub text: String,
    /// Token subject of who wrote it.
    pub author: String,
    /// Idempotency key, unique per author.
    pub request_id: Option<String>,
}

impl fmt::Debug for NewReportEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewReportEdit")
            .field("session_id", &self.session_id)
            .field("item", &self.item)
            .field("text", &"<redacted>")
            .field("author", &self.author)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// A stored report edit: one entry of a session's append-only log of edits.
#[derive(Clone, PartialEq, Eq)]
pub struct ReportEdit {
    /// Database-assigned, increasing id: a later edit has a higher id.
    pub id: i64,
    /// The session whose report was edited.
    pub session_id: String,
    /// Stable item id of the report.
    pub item: String,
    /// The psychologist's text.
    pub text: String,
    /// Token subject of who wrote it.
    pub author: String,
    /// The idempotency key it was appended with.
    pub request_id: Option<String>,
    /// When it was stored, Unix milliseconds.
    pub created_at: i64,
}

impl fmt::Debug for ReportEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportEdit")
            .field("id", &self.id)
            .field("session_id", &self.session_id)
            .field("item", &self.item)
            .field("text", &"<redacted>")
            .field("author", &self.author)
            .field("request_id", &self.request_id)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An audit event to record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEntry {
    /// Who acted (token subject).
    pub principal: String,
    /// What was done, e.g. "child.read".
    pub action: String,
    /// The resource acted on, e.g. "children/01h…".
    pub resource: String,
    /// The child whose data was read or changed, if any (not checked against the children:
    /// failed attempts on unknown ids are audited too).
    pub child_id: Option<String>,
}

/// A recorded audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Database-assigned, increasing id.
    pub id: i64,
    /// When it was recorded, Unix milliseconds.
    pub at: i64,
    /// Who acted.
    pub principal: String,
    /// What was done.
    pub action: String,
    /// The resource acted on.
    pub resource: String,
    /// The child concerned, if any.
    pub child_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_personal_fields() {
        let c = NewChild {
            given_name: Some("Aliya".into()),
            notes: Some("x".into()),
            ..Default::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("Aliya"), "{s}");
        assert!(s.contains("<redacted>"));
    }
}
