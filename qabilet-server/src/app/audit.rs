//! The audit trail of the application layer: exactly one row per call, written when the call
//! ends, with the token (id, role, centre, subject), the action, the resource, the child
//! concerned, the outcome (`ok`, `denied`, `invalid`, …) and the peer. Denials and failures
//! are recorded like successes. A write that stores its row in its own transaction (a
//! response appended with its audit row) marks the row written, and no second one is made.
//!
//! Calls that read no child's data (the catalog, stateless scoring of what the caller sent)
//! are recorded only when they are refused or fail.
//!
//! A call whose caller goes away before it ends (a cancelled request: the transport drops
//! it) is still one row, with outcome `cancelled`, written as the call is dropped: a write it
//! had started may have been applied, and the row says who asked.
//!
//! A successful read whose row cannot be written is not answered (`UNAVAILABLE`): nobody
//! reads a child's data without a trace. Lists write one row naming the children listed
//! (`detail`), not one row per child.

use std::sync::Arc;

use super::{App, AppError, Caller};
use crate::store::{AuditEntry, AuditOutcome, Store};

/// One call's audit row, filled in while the call runs.
pub(crate) struct Audit {
    entry: AuditEntry,
    /// Where the row goes if the call is dropped before it ends.
    store: Option<Arc<dyn Store>>,
    /// The row is written, or the call ended and [`App::finish`] took care of it.
    written: bool,
    /// Only a failure is recorded: the call touches no child's data (the catalog,
    /// stateless scoring of data the caller sent).
    failures_only: bool,
}

impl Audit {
    /// The row of `caller` doing `action` (e.g. `create_child`) on `resource`.
    fn new(caller: &Caller, action: &'static str, resource: impl Into<String>) -> Self {
        let p = &caller.principal;
        Audit {
            entry: AuditEntry {
                // The operator of a command-line call has no token.
                token_id: (!p.token_id.is_empty()).then(|| p.token_id.clone()),
                // A ticket holder has no role: it may only answer its own screener.
                role: (caller.peer.channel != super::Channel::Take).then_some(p.role),
                centre: p.centre.clone(),
                subject: p.subject.clone(),
                action: action.to_owned(),
                resource: bounded(&resource.into()),
                child_id: None,
                outcome: AuditOutcome::Ok,
                peer: Some(caller.peer.to_string()),
                detail: None,
            },
            store: None,
            written: false,
            failures_only: false,
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
            store: None,
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

    /// The centre the call concerns, when the caller has none of its own (a ticket holder).
    pub(crate) fn centre(&mut self, centre: &str) {
        self.entry.centre = centre.to_owned();
    }

    /// The row was stored with the call's write.
    pub(crate) fn written(&mut self) {
        self.written = true;
    }
}

/// Longest resource name recorded: names come from callers, and a row must stay small.
const MAX_RESOURCE_CHARS: usize = 200;

/// `text` as the audit log records a caller-given name: control and format characters
/// (zero-width, bidirectional) escaped, cut at [`MAX_RESOURCE_CHARS`] (marked with `…`).
fn bounded(text: &str) -> String {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let mut out: String = text
        .chars()
        .take(MAX_RESOURCE_CHARS)
        .flat_map(|c| {
            if c.is_control() || c.general_category() == GeneralCategory::Format {
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

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("entry", &self.entry)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl Drop for Audit {
    /// A call dropped before it ended (its request was cancelled) leaves its row, written
    /// in the background: nothing awaits a dropped call.
    fn drop(&mut self) {
        if self.written || self.failures_only {
            return;
        }
        let (Some(store), Ok(runtime)) = (self.store.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let entry = AuditEntry {
            outcome: AuditOutcome::Cancelled,
            ..self.entry.clone()
        };
        runtime.spawn(async move {
            if let Err(e) = store.audit(entry).await {
                tracing::error!(error = %e, "audit write of a cancelled call failed");
            }
        });
    }
}

impl App {
    /// The audit row of a call by `caller` doing `action` on `resource`.
    pub(crate) fn audit(&self, caller: &Caller, action: &'static str, resource: impl Into<String>) -> Audit {
        let mut audit = Audit::new(caller, action, resource);
        audit.store = Some(self.store.clone());
        audit
    }

    /// As [`App::audit`], for a call that reads no child's data: a row is written only when
    /// the call is refused or fails.
    pub(crate) fn audit_failures(
        &self,
        caller: &Caller,
        action: &'static str,
        resource: impl Into<String>,
    ) -> Audit {
        let mut audit = self.audit(caller, action, resource);
        audit.failures_only = true;
        audit
    }

    /// The audit row of a refused authentication attempt.
    pub(crate) fn audit_refusal(&self, peer: &super::Peer, action: &'static str) -> Audit {
        let mut audit = Audit::unauthenticated(peer, action);
        audit.store = Some(self.store.clone());
        audit
    }

    /// Ends a call: writes its audit row with the outcome of `result` (unless its write
    /// stored it) and returns `result`; a successful call whose row cannot be written fails
    /// with `UNAVAILABLE` instead.
    pub(crate) async fn finish<T>(
        &self,
        mut audit: Audit,
        result: Result<T, AppError>,
    ) -> Result<T, AppError> {
        if audit.written || (audit.failures_only && result.is_ok()) {
            audit.written = true;
            return result;
        }
        let outcome = match &result {
            Ok(_) => AuditOutcome::Ok,
            Err(e) => e.outcome(),
        };
        let entry = AuditEntry {
            outcome,
            ..audit.entry.clone()
        };
        // Dropped while this row is written, the call leaves a `cancelled` row too: one row
        // too many rather than none.
        let written = self.store.audit(entry).await;
        audit.written = true;
        match written {
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
    use crate::app::{AppParts, BatchLimits, Channel, Peer};
    use crate::auth::Principal;
    use crate::grpc::registry::Registry;
    use crate::guidance_dir::Guidance;
    use crate::store::{AuditFilter, PageRequest, Role, SqliteStore};

    /// A call dropped before it ends (its request cancelled) still leaves its row.
    #[tokio::test]
    async fn a_cancelled_call_leaves_a_cancelled_row() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").await.expect("store"));
        let app = App::new(AppParts {
            registry: Arc::new(Registry::default()),
            guidance: Guidance::Missing(String::new()),
            store: store.clone(),
            token_cache: std::time::Duration::ZERO,
            batches: BatchLimits::default(),
            iin_key: None,
        });
        let caller = Caller {
            principal: Principal {
                token_id: "t1".into(),
                role: Role::Psychologist,
                centre: "c1".into(),
                subject: "psy".into(),
            },
            peer: Peer {
                channel: Channel::Grpc,
                addr: None,
            },
        };
        // A call that is dropped while it waits (as a transport drops a cancelled request).
        let call = async {
            let audit = app.audit(&caller, "create_child", "children");
            std::future::pending::<()>().await;
            app.finish(audit, Ok(())).await
        };
        let _ = tokio::time::timeout(std::time::Duration::from_millis(10), call).await;
        let mut rows = Vec::new();
        for _ in 0..100 {
            rows = store
                .audit_entries(AuditFilter::default(), PageRequest::first(10))
                .await
                .expect("audit")
                .items;
            if !rows.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (
                rows[0].action.as_str(),
                rows[0].outcome,
                rows[0].token_id.as_deref()
            ),
            ("create_child", AuditOutcome::Cancelled, Some("t1"))
        );
        // A call that ends writes its own row, and no second one.
        let audit = app.audit(&caller, "get_child", "children/x");
        app.finish(audit, Ok(())).await.expect("finished");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let rows = store
            .audit_entries(AuditFilter::default(), PageRequest::first(10))
            .await
            .expect("audit")
            .items;
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[1].outcome, AuditOutcome::Ok);
    }

    #[test]
    fn caller_given_names_are_bounded_and_visible() {
        assert_eq!(bounded("sessions/abc"), "sessions/abc");
        assert_eq!(bounded("a\nb"), "a\\u{a}b");
        assert_eq!(bounded("a\u{202E}b"), "a\\u{202e}b");
        let long = bounded(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_RESOURCE_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
