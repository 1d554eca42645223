//! The contexts of children answering through `/take`, kept between their answers: the
//! device's ticket and its session's state for the subtest being answered, as the last
//! answer left them, so that the next answer needs no read before its append.
//!
//! Nothing here decides on its own. The append checks, in its transaction, that the
//! session is still active and that its log still ends where the kept context says (the
//! store's expected-sequence check); when another request or replica moved it, the context
//! is read again. A kept context is taken out while its answer is handled (a second answer
//! from the same device meanwhile reads the store), dropped on any refusal, forgotten when
//! this process pauses, resumes, finishes or extends the session, and read again when it
//! says the subtest's time is up and after [`KEEP_FOR`]: what another replica changes in
//! the clocks (an extension) reaches the child within that time.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::store::TakeContext;

/// How long a kept context is used before it is read again.
pub(crate) const KEEP_FOR: Duration = Duration::from_secs(30);
/// Most contexts kept (a screening day's children answering at once, with room).
const MAX_KEPT: usize = 50_000;

/// The kept contexts, by device hash.
#[derive(Debug, Default)]
pub(crate) struct TakeContexts {
    kept: Mutex<HashMap<String, Kept>>,
}

#[derive(Debug)]
struct Kept {
    subtest: String,
    context: TakeContext,
    at: Instant,
}

impl TakeContexts {
    /// Takes out the context kept for the device's answer to `subtest`, if one is kept for
    /// that subtest and is recent.
    pub(crate) fn take(&self, device: &str, subtest: &str) -> Option<TakeContext> {
        let kept = self.lock().remove(device)?;
        (kept.subtest == subtest && kept.at.elapsed() < KEEP_FOR).then_some(kept.context)
    }

    /// Keeps the context an answer to `subtest` left.
    pub(crate) fn keep(&self, device: &str, subtest: &str, context: TakeContext) {
        let mut kept = self.lock();
        if kept.len() >= MAX_KEPT {
            kept.retain(|_, k| k.at.elapsed() < KEEP_FOR);
            if kept.len() >= MAX_KEPT {
                kept.clear();
            }
        }
        kept.insert(
            device.to_owned(),
            Kept {
                subtest: subtest.to_owned(),
                context,
                at: Instant::now(),
            },
        );
    }

    /// Forgets every context of the session (its state or clocks changed here).
    pub(crate) fn forget_session(&self, session_id: &str) {
        self.lock()
            .retain(|_, k| k.context.ticket.session_id.as_deref() != Some(session_id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::screening::Ticket;

    fn context(session: &str) -> TakeContext {
        TakeContext {
            ticket: Ticket {
                secret_hash: "h".into(),
                cohort_id: "c".into(),
                child_id: "k".into(),
                issued_at: 0,
                expires_at: i64::MAX,
                revoked_at: None,
                device_hash: Some("d".into()),
                session_id: Some(session.into()),
                claimed_at: Some(1),
            },
            session: None,
        }
    }

    #[test]
    fn a_context_is_taken_once_and_only_for_its_subtest() {
        let kept = TakeContexts::default();
        kept.keep("d1", "fm", context("s1"));
        assert!(kept.take("d1", "qs").is_none(), "another subtest");
        assert!(kept.take("d1", "fm").is_none(), "dropped by the miss");
        kept.keep("d1", "fm", context("s1"));
        assert!(kept.take("d1", "fm").is_some());
        assert!(kept.take("d1", "fm").is_none(), "taken out");
    }

    #[test]
    fn a_session_change_forgets_its_contexts() {
        let kept = TakeContexts::default();
        kept.keep("d1", "fm", context("s1"));
        kept.keep("d2", "fm", context("s2"));
        kept.forget_session("s1");
        assert!(kept.take("d1", "fm").is_none());
        assert!(kept.take("d2", "fm").is_some());
    }
}
