//! The audit log's records: one entry per audited call, saying who called (token, role,
//! centre, subject), what on which resource, with what outcome and from where.

use super::{AuditOutcome, Role};

/// An audit event to record. Never carries personal data: names, notes and free text stay
/// out of every field, `detail` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The caller's token; `None` when no valid token was presented (an unauthenticated
    /// attempt).
    pub token_id: Option<String>,
    /// The role of the caller's token.
    pub role: Option<Role>,
    /// The centre of the caller's token; "" when unknown.
    pub centre: String,
    /// The subject of the caller's token; "" when unknown.
    pub subject: String,
    /// What was done, e.g. "assessment.create_child", "token.create".
    pub action: String,
    /// The resource acted on, e.g. "children/01h…", "sessions/…/subtests/voc".
    pub resource: String,
    /// The child whose data was read or changed, if any (not checked against the children:
    /// failed attempts on unknown ids are audited too).
    pub child_id: Option<String>,
    /// How the call ended.
    pub outcome: AuditOutcome,
    /// Where the call came from: "127.0.0.1:53412", "console 127.0.0.1:…", "cli".
    pub peer: Option<String>,
    /// More about the call, e.g. "listed 1000: <ids…>".
    pub detail: Option<String>,
}

/// A recorded audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Database-assigned, increasing id.
    pub id: i64,
    /// When it was recorded, Unix milliseconds.
    pub at: i64,
    /// The caller's token, if it presented a valid one.
    pub token_id: Option<String>,
    /// The role of the caller's token.
    pub role: Option<Role>,
    /// The centre of the caller's token ("" when unknown).
    pub centre: String,
    /// The subject of the caller's token ("" when unknown).
    pub subject: String,
    /// What was done.
    pub action: String,
    /// The resource acted on.
    pub resource: String,
    /// The child concerned, if any.
    pub child_id: Option<String>,
    /// How the call ended.
    pub outcome: AuditOutcome,
    /// Where the call came from.
    pub peer: Option<String>,
    /// More about the call.
    pub detail: Option<String>,
}

/// Which audit records to list; every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only records about this child.
    pub child_id: Option<String>,
    /// Only records of calls made with this token.
    pub token_id: Option<String>,
    /// Only records with this outcome.
    pub outcome: Option<AuditOutcome>,
}
