//! The audit trail of the application layer: exactly one row per call, written when the call
//! ends, with the token (id, role, centre, subject), the action, the resource, the child
//! concerned, the outcome (`ok`, `denied`, `invalid`, …) and the peer. Denials and failures
//! are recorded like successes. A write that stores its row in its own transaction (a
//! response appended with its audit row) marks the row written, and no second one is made.
//!
//! Calls that read no child's data (the catalog, stateless scoring of what the caller sent)
//! are recorded only when they are refused or fail.
//!
//! A successful read whose row cannot be written is not answered (`UNAVAILABLE`): nobody
//! reads a child's data without a trace. Lists write one row naming the children listed
//! (`detail`), not one row per child.

use super::{App, AppError, Caller};
use crate::store::{AuditEntry, AuditOutcome};

/// One call's audit row, filled in while the call runs.
#[derive(Debug)]
pub(crate) struct Audit {
    entry: AuditEntry,
    written: bool,
    /// Only a failure is recorded: the call touches no child's data (the catalog,
    /// stateless scoring of data the caller sent).
    failures_only: bool,
}

impl Audit {
    /// The row of `caller` doing `action` (e.g. `create_child`) on `resource`.
    pub(crate) fn new(caller: &Caller, action: &'static str, resource: impl Into<String>) -> Self {
        let p = &caller.principal;
        Audit {
            entry: AuditEntry {
                // The operator of a command-line call has no token.
                token_id: (!p.token_id.is_empty()).then(|| p.token_id.clone()),
                role: Some(p.role),
                centre: p.centre.clone(),
                subject: p.subject.clone(),
                action: action.to_owned(),
                resource: bounded(&resource.into()),
                child_id: None,
                outcome: AuditOutcome::Ok,
                peer: Some(caller.peer.to_string()),
                detail: None,
            },
            written: false,
            failures_only: false,
        }
    }

    /// As [`Audit::new`], for a call that reads no child's data: a row is written only
    /// when the call is refused or fails.
    pub(crate) fn failures_only(caller: &Caller, action: &'static str, resource: impl Into<String>) -> Self {
        Audit {
            failures_only: true,
            ..Audit::new(caller, action, resource)
        }
    }

    /// The row of a refused authentication attempt (no valid token).
    pub(crate) fn unauthenticated(peer: &super::Peer, action: &'static str) -> Self {
        Audit {
            entry: AuditEntry {
                token_id: None,
                role: None,
                centre: String::new(),
                subject: String::new(),
                action: action.to_owned(),
                resource: String::new(),
                child_id: None,
                outcome: AuditOutcome::Unauthenticated,
                peer: Some(peer.to_string()),
                detail: None,
            },
            written: false,
            failures_only: false,
        }
    }

    /// Names the resource once it is known (e.g. a new child's id).
    pub(crate) fn resource(&mut self, resource: impl Into<String>) {
        self.entry.resource = bounded(&resource.into());
    }

    /// The child whose data the call reads or changes.
    pub(crate) fn child(&mut self, id: &str) {
        self.entry.child_id = Some(bounded(id));
    }

    /// A note without personal data (e.g. which children a list returned).
    pub(crate) fn detail(&mut self, detail: impl Into<String>) {
        self.entry.detail = Some(detail.into());
    }

    /// The row as a successful write stores it in its own transaction; call
    /// [`Audit::written`] once that write succeeded.
    pub(crate) fn entry_for_write(&self) -> AuditEntry {
        AuditEntry {
            outcome: AuditOutcome::Ok,
            ..self.entry.clone()
        }
    }

    /// The row was stored with the call's write.
    pub(crate) fn written(&mut self) {
        self.written = true;
    }
}

/// Longest resource name recorded: names come from callers, and a row must stay small.
const MAX_RESOURCE_CHARS: usize = 200;

/// `text` as the audit log records a caller-given name: control characters escaped, cut at
/// [`MAX_RESOURCE_CHARS`] (marked with `…`).
fn bounded(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_RESOURCE_CHARS)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > MAX_RESOURCE_CHARS {
        out.push('…');
    }
    out
}

impl App {
    /// Ends a call: writes its audit row with the outcome of `result` (unless its write
    /// stored it) and returns `result`; a successful call whose row cannot be written fails
    /// with `UNAVAILABLE` instead.
    pub(crate) async fn finish<T>(&self, audit: Audit, result: Result<T, AppError>) -> Result<T, AppError> {
        if audit.written || (audit.failures_only && result.is_ok()) {
            return result;
        }
        let outcome = match &result {
            Ok(_) => AuditOutcome::Ok,
            Err(e) => e.outcome(),
        };
        let entry = AuditEntry {
            outcome,
            ..audit.entry
        };
        match self.store.audit(entry).await {
            Ok(_) => result,
            Err(e) => {
                tracing::error!(error = %e, "audit write failed");
                match result {
                    Ok(_) => Err(AppError::Unavailable(
                        "the audit log is unavailable; nothing is answered without it, retry later".into(),
                    )),
                    Err(original) => Err(original),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_given_names_are_bounded_and_visible() {
        assert_eq!(bounded("sessions/abc"), "sessions/abc");
        assert_eq!(bounded("a\nb"), "a\\u{a}b");
        let long = bounded(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_RESOURCE_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
