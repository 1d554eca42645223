//! The time limits of a self-administered screener: each subtest's clock starts when the
//! child starts it (after the worked example and the practice items), stops while the
//! session is paused, and runs out after the subtest's `time_limit_seconds` (its item
//! content) plus any extra time the proctor gave. A subtest whose time has run out has ended:
//! the items the child did not reach are not administered (a fixed form's raw score counts
//! the answered items; an adaptive subtest keeps its estimate from the items given).

use qabilet_core::NormSet;

use crate::store::screening::SubtestClock;
use crate::store::{SessionChange, SessionState};

/// Where one subtest's clock stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Not started (or the subtest has no time limit).
    NotStarted,
    /// Running: milliseconds left.
    Running(i64),
    /// Run out.
    Out,
}

/// The milliseconds the session was paused after `since` and before `now`, from its history
/// of state changes (oldest first).
pub fn paused_ms(changes: &[SessionChange], since: i64, now: i64) -> i64 {
    let mut total = 0;
    let mut paused_from: Option<i64> = None;
    for c in changes {
        if c.to_state == SessionState::Paused && c.from_state != SessionState::Paused {
            paused_from = Some(c.at);
        } else if c.from_state == SessionState::Paused
            && c.to_state != SessionState::Paused
            && let Some(from) = paused_from.take()
        {
            total += overlap(from, c.at, since, now);
        }
    }
    if let Some(from) = paused_from {
        total += overlap(from, now, since, now);
    }
    total
}

fn overlap(a0: i64, a1: i64, b0: i64, b1: i64) -> i64 {
    (a1.min(b1) - a0.max(b0)).max(0)
}

/// The state of subtest `index`'s clock at `now`.
pub fn clock_state(
    norms: &NormSet,
    index: usize,
    clocks: &[SubtestClock],
    changes: &[SessionChange],
    now: i64,
) -> ClockState {
    let Some(content) = norms.content.get(index).and_then(Option::as_ref) else {
        return ClockState::NotStarted;
    };
    let id = &norms.battery.subtests[index].id;
    let Some(clock) = clocks.iter().find(|c| &c.subtest == id) else {
        return ClockState::NotStarted;
    };
    let allowed = (i64::from(content.time_limit_seconds) + clock.extra_seconds) * 1000;
    let used = now - clock.started_at - paused_ms(changes, clock.started_at, now);
    if used >= allowed {
        ClockState::Out
    } else {
        ClockState::Running(allowed - used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(from: SessionState, to: SessionState, at: i64) -> SessionChange {
        SessionChange {
            id: at,
            session_id: "s".into(),
            from_state: from,
            to_state: to,
            request: None,
            at,
        }
    }

    #[test]
    fn paused_time_counts_only_within_the_window() {
        use SessionState::{Active, Paused};
        let changes = [
            change(Active, Paused, 1_000),
            change(Paused, Active, 4_000),
            change(Active, Paused, 10_000),
        ];
        // Window 0..20 000: 3 000 + 10 000 (still paused at the end).
        assert_eq!(paused_ms(&changes, 0, 20_000), 13_000);
        // Window 2 000..12 000: 2 000 of the first pause, 2 000 of the second.
        assert_eq!(paused_ms(&changes, 2_000, 12_000), 4_000);
        // A window after the first pause, before the second.
        assert_eq!(paused_ms(&changes, 5_000, 9_000), 0);
        assert_eq!(paused_ms(&[], 0, 9_000), 0);
    }
}
