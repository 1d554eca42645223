//! What the examiner records, as stored in the append-only log (item scores, the total of a
//! speed test, each with an optional override reason), and how each accepted override is
//! reported.

use serde::{Deserialize, Serialize};

/// One entry of an administration's log. The log, with the subtest and the child's age,
/// determines the whole state: [`Administration::replay`](super::Administration::replay)
/// rebuilds it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The child's score on one item.
    Score {
        /// Item id.
        item: String,
        /// Score, 0 … the item's max.
        score: u16,
        /// Why the examiner departs from the rules (an item not due, a correction); must be
        /// non-blank when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    /// The total raw score of a subtest without items (a speed test scored by count).
    Total {
        /// Raw score, 0 … the subtest's `raw_max`.
        raw: u16,
        /// Why the examiner departs from the rules (a correction of an entered total).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
}

impl Event {
    /// A score given as the rules direct.
    pub fn score(item: impl Into<String>, score: u16) -> Self {
        Event::Score {
            item: item.into(),
            score,
            override_reason: None,
        }
    }

    /// A score given under an examiner's override, with its reason.
    pub fn override_score(item: impl Into<String>, score: u16, reason: impl Into<String>) -> Self {
        Event::Score {
            item: item.into(),
            score,
            override_reason: Some(reason.into()),
        }
    }

    /// The total raw score of a speed test.
    pub fn total(raw: u16) -> Self {
        Event::Total {
            raw,
            override_reason: None,
        }
    }

    /// The override reason, if any.
    pub fn override_reason(&self) -> Option<&str> {
        match self {
            Event::Score { override_reason, .. } | Event::Total { override_reason, .. } => {
                override_reason.as_deref()
            }
        }
    }
}

/// What an accepted override departed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OverrideKind {
    /// The item (or total) already had a score, which this one replaced.
    Correction {
        /// The score replaced.
        previous: u16,
    },
    /// The item was not due.
    NotDue {
        /// The item that was due; `None` when the subtest had ended.
        expected: Option<String>,
    },
    /// The item was due anyway: the override changed nothing but is kept and reported.
    WasDue,
}

/// An accepted override, as reported with the state and the raw score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideRecord {
    /// Position of the event in the log (0-based).
    pub event: usize,
    /// Item scored; `None` for the total of a subtest without items.
    pub item: Option<String>,
    /// Score (or total) given.
    pub score: u16,
    /// The examiner's reason, as entered.
    pub reason: String,
    /// What the override departed from.
    pub kind: OverrideKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stored_as_tagged_json() {
        let events = [
            Event::score("voc01", 1),
            Event::override_score("voc02", 0, "re-administered after a fire drill"),
            Event::total(30),
        ];
        let json = serde_json::to_string(&events).unwrap();
        assert_eq!(
            json,
            r#"[{"kind":"score","item":"voc01","score":1},{"kind":"score","item":"voc02","score":0,"override_reason":"re-administered after a fire drill"},{"kind":"total","raw":30}]"#
        );
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, events);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = serde_json::from_str::<Event>(r#"{"kind":"score","item":"a","score":1,"note":"x"}"#);
        assert!(e.is_err());
    }
}
