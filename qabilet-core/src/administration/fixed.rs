//! The fixed-form administration of one subtest to one child: the log of events and the
//! scores it leaves under the start, reversal and discontinue rules, from which the next
//! item, the raw score and a summary for display are derived.

use serde::{Deserialize, Serialize};

use super::AdministrationError;
use super::credit::{self, RawScore};
use super::event::{Event, OverrideKind, OverrideRecord};
use super::rules::{self, DoneReason, Next, Progress};
use crate::battery::Subtest;

/// The state of an administration for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Subtest id.
    pub subtest: String,
    /// The child's age in whole months, which chose the start item.
    pub age_months: u16,
    /// Start item (`None` for a subtest without items).
    pub start_item: Option<String>,
    /// Whether the reversal rule was triggered.
    pub reversed: bool,
    /// Lowest item of the basal, once established.
    pub basal_item: Option<String>,
    /// Last item of the run of zeros, once the discontinue rule is met.
    pub discontinued_after: Option<String>,
    /// Items scored, in the order first scored.
    pub administered: Vec<String>,
    /// Every accepted override, in log order.
    pub overrides: Vec<OverrideRecord>,
    /// What comes next.
    pub next: Next,
}

/// An examiner-led administration of one subtest to one child. Its state is a function of
/// the subtest, the age and the log of accepted events: [`Administration::replay`] of
/// [`Administration::events`] gives an equal value.
#[derive(Debug, Clone, PartialEq)]
pub struct Administration {
    subtest: Subtest,
    age_months: u16,
    /// Start item; `None` for a subtest without items.
    start: Option<usize>,
    events: Vec<Event>,
    /// Current score of every item, after corrections.
    scores: Vec<Option<u16>>,
    /// Entered total of a subtest without items.
    total: Option<u16>,
    /// Items in the order first scored.
    order: Vec<usize>,
    /// Per item, the position in the log of the event that first scored it.
    first_scored: Vec<Option<usize>>,
    /// Position in the log of the event after which the discontinue rule has held ever
    /// since; `None` while it does not hold.
    discontinued_at: Option<usize>,
    overrides: Vec<OverrideRecord>,
}

impl Administration {
    /// A new administration of `subtest` to a child of `age_months` whole months. The age
    /// chooses the start item; a child younger than the first start point starts there (the
    /// caller checks the age against the battery's range).
    pub fn new(subtest: &Subtest, age_months: u16) -> Self {
        Administration {
            subtest: subtest.clone(),
            age_months,
            start: rules::start_index(subtest, age_months),
            events: Vec::new(),
            scores: vec![None; subtest.items.len()],
            total: None,
            order: Vec::new(),
            first_scored: vec![None; subtest.items.len()],
            discontinued_at: None,
            overrides: Vec::new(),
        }
    }

    /// The administration after `events`, recorded in order: how a session resumes after a
    /// restart.
    ///
    /// # Errors
    /// [`AdministrationError::Replay`] with the position of the first event
    /// [`Administration::record`] refuses, and why.
    pub fn replay(subtest: &Subtest, age_months: u16, events: &[Event]) -> Result<Self, AdministrationError> {
        let mut administration = Self::new(subtest, age_months);
        super::replay_log(events, |event| administration.record(event))?;
        Ok(administration)
    }

    /// The subtest administered.
    pub fn subtest(&self) -> &Subtest {
        &self.subtest
    }

    /// The child's age in whole months.
    pub fn age_months(&self) -> u16 {
        self.age_months
    }

    /// The accepted events, in order: the log to store.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    fn progress(&self, start: usize) -> Progress<'_> {
        Progress {
            subtest: &self.subtest,
            start,
            scores: &self.scores,
        }
    }

    /// The next item to administer, or why the subtest has ended.
    pub fn next(&self) -> Next {
        match (self.start, self.total) {
            (Some(start), _) => self.progress(start).next(),
            (None, None) => Next::Total {
                raw_max: self.subtest.raw_max,
            },
            (None, Some(_)) => Next::Done {
                reason: DoneReason::TotalEntered,
            },
        }
    }

    /// Records one event after checking it against the rules; a refused event changes
    /// nothing.
    ///
    /// # Errors
    /// [`AdministrationError`]: an unknown item, a score above the item's max or a total
    /// above `raw_max`, a total for a subtest with items, a blank override reason, and
    /// without an override: an item not due, an item already scored, a total already
    /// entered.
    pub fn record(&mut self, event: Event) -> Result<(), AdministrationError> {
        let reason = event.override_reason().map(str::to_owned);
        let (item, score, kind) = match &event {
            Event::Score { item, score, .. } => {
                let (index, kind) = self.check_score(item, *score, reason.as_deref())?;
                (Some(index), *score, kind)
            }
            Event::Total { raw, .. } => (None, *raw, self.check_total(*raw, reason.as_deref())?),
        };
        if let Some(reason) = reason {
            self.overrides.push(OverrideRecord {
                event: self.events.len(),
                item: item.map(|i| self.subtest.items[i].id.clone()),
                score,
                reason,
                kind,
            });
        }
        let position = self.events.len();
        match item {
            Some(i) => {
                if self.scores[i].is_none() {
                    self.order.push(i);
                    self.first_scored[i] = Some(position);
                }
                self.scores[i] = Some(score);
                let met = self
                    .start
                    .is_some_and(|s| self.progress(s).discontinued_after().is_some());
                self.discontinued_at = match (met, self.discontinued_at) {
                    (true, Some(at)) => Some(at),
                    (true, None) => Some(position),
                    (false, _) => None,
                };
            }
            None => self.total = Some(score),
        }
        self.events.push(event);
        Ok(())
    }

    /// Checks an item score; its position and what an override would depart from.
    fn check_score(
        &self,
        id: &str,
        score: u16,
        reason: Option<&str>,
    ) -> Result<(usize, OverrideKind), AdministrationError> {
        let index = self
            .subtest
            .items
            .iter()
            .position(|i| i.id == id)
            .ok_or_else(|| AdministrationError::UnknownItem {
                subtest: self.subtest.id.clone(),
                item: id.to_owned(),
            })?;
        let max = self.subtest.items[index].max;
        if score > max {
            return Err(AdministrationError::ScoreAboveMax {
                item: id.to_owned(),
                score,
                max,
            });
        }
        check_reason(reason, Some(id))?;
        let kind = match (self.scores[index], self.next()) {
            (Some(previous), _) => OverrideKind::Correction { previous },
            (None, Next::Item { id: due, .. }) if due == id => OverrideKind::WasDue,
            (None, Next::Item { id: due, .. }) => OverrideKind::NotDue { expected: Some(due) },
            (None, _) => OverrideKind::NotDue { expected: None },
        };
        match (&kind, reason) {
            (_, Some(_)) | (OverrideKind::WasDue, None) => Ok((index, kind)),
            (OverrideKind::Correction { .. }, None) => {
                Err(AdministrationError::AlreadyScored { item: id.to_owned() })
            }
            (OverrideKind::NotDue { expected }, None) => Err(AdministrationError::NotDue {
                expected: expected.clone(),
                got: id.to_owned(),
            }),
        }
    }

    /// Checks the total of a subtest without items; what an override would depart from.
    fn check_total(&self, raw: u16, reason: Option<&str>) -> Result<OverrideKind, AdministrationError> {
        let subtest = || self.subtest.id.clone();
        if self.start.is_some() {
            return Err(AdministrationError::TotalNotAccepted { subtest: subtest() });
        }
        if raw > self.subtest.raw_max {
            return Err(AdministrationError::TotalAboveMax {
                subtest: subtest(),
                raw,
                max: self.subtest.raw_max,
            });
        }
        check_reason(reason, None)?;
        match (self.total, reason) {
            (Some(_), None) => Err(AdministrationError::TotalAlreadyEntered { subtest: subtest() }),
            (Some(previous), Some(_)) => Ok(OverrideKind::Correction { previous }),
            (None, _) => Ok(OverrideKind::WasDue),
        }
    }

    /// The raw score under the rules, item by item.
    pub fn raw_score(&self) -> RawScore {
        let complete = matches!(self.next(), Next::Done { .. });
        let overrides = self.overrides.clone();
        let Some(start) = self.start else {
            return RawScore {
                raw: self.total.unwrap_or(0),
                complete,
                items: Vec::new(),
                basal_item: None,
                discontinued_after: None,
                discontinued_at_event: None,
                overrides,
            };
        };
        let progress = self.progress(start);
        let items = credit::item_credits(&progress, &self.first_scored, self.discontinued_at);
        let sum: u32 = items.iter().map(|c| u32::from(c.credit)).sum();
        RawScore {
            // The battery keeps the sum of item maxima within u16.
            raw: u16::try_from(sum).unwrap_or(u16::MAX),
            complete,
            items,
            basal_item: self.item_id(progress.basal()),
            discontinued_after: self.item_id(progress.discontinued_after()),
            discontinued_at_event: self.discontinued_at,
            overrides,
        }
    }

    /// Start, basal, discontinue point, items given, overrides and what comes next.
    pub fn state(&self) -> Summary {
        let progress = self.start.map(|s| self.progress(s));
        Summary {
            subtest: self.subtest.id.clone(),
            age_months: self.age_months,
            start_item: self.item_id(self.start),
            reversed: progress.as_ref().is_some_and(Progress::reversal_triggered),
            basal_item: self.item_id(progress.as_ref().and_then(Progress::basal)),
            discontinued_after: self.item_id(progress.as_ref().and_then(Progress::discontinued_after)),
            administered: self
                .order
                .iter()
                .map(|&i| self.subtest.items[i].id.clone())
                .collect(),
            overrides: self.overrides.clone(),
            next: self.next(),
        }
    }

    fn item_id(&self, index: Option<usize>) -> Option<String> {
        index.map(|i| self.subtest.items[i].id.clone())
    }
}

/// An override reason, when given, must not be blank.
fn check_reason(reason: Option<&str>, item: Option<&str>) -> Result<(), AdministrationError> {
    match reason {
        Some(r) if r.trim().is_empty() => Err(AdministrationError::EmptyOverrideReason {
            item: item.map(str::to_owned),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::battery::{Domain, Item, ReversalRule, StartPoint};
    use crate::text::LocalizedText;

    fn subtest(items: usize) -> Subtest {
        let name = || "b".to_owned();
        Subtest {
            id: "b".into(),
            domain: Domain::Gv,
            core: true,
            names: LocalizedText {
                kk: name(),
                ru: name(),
                en: name(),
            },
            time_limit_seconds: None,
            items: (1..=items)
                .map(|i| Item {
                    id: format!("b{i}"),
                    max: 2,
                })
                .collect(),
            raw_max: if items == 0 { 50 } else { 2 * items as u16 },
            start_points: if items == 0 {
                Vec::new()
            } else {
                vec![StartPoint {
                    age_min_months: 60,
                    item: "b1".into(),
                }]
            },
            reversal: (items > 0).then_some(ReversalRule {
                consecutive_perfect: 2,
            }),
            discontinue: None,
            adaptive: None,
            content: None,
        }
    }

    #[test]
    fn a_refused_event_changes_nothing() {
        let s = subtest(4);
        let mut a = Administration::new(&s, 70);
        a.record(Event::score("b1", 2)).unwrap();
        let before = a.clone();
        for bad in [
            Event::score("b3", 1),
            Event::score("b1", 1),
            Event::score("b2", 3),
            Event::override_score("b3", 1, "  "),
            Event::total(3),
        ] {
            assert!(a.record(bad).is_err());
            assert_eq!(a, before);
        }
    }

    #[test]
    fn replay_names_the_refused_event() {
        let s = subtest(4);
        let log = [
            Event::score("b1", 2),
            Event::score("b2", 2),
            Event::score("b4", 1),
        ];
        let e = Administration::replay(&s, 70, &log).unwrap_err();
        let AdministrationError::Replay { index, error } = e else {
            panic!("{e:?}")
        };
        assert_eq!(index, 2);
        assert_eq!(
            *error,
            AdministrationError::NotDue {
                expected: Some("b3".into()),
                got: "b4".into()
            }
        );
    }

    #[test]
    fn a_total_is_corrected_only_with_a_reason() {
        let s = subtest(0);
        let mut a = Administration::new(&s, 70);
        assert_eq!(a.next(), Next::Total { raw_max: 50 });
        a.record(Event::total(20)).unwrap();
        assert_eq!(
            a.record(Event::total(21)),
            Err(AdministrationError::TotalAlreadyEntered { subtest: "b".into() })
        );
        a.record(Event::Total {
            raw: 21,
            override_reason: Some("miscounted".into()),
        })
        .unwrap();
        let raw = a.raw_score();
        assert_eq!((raw.raw, raw.complete), (21, true));
        assert_eq!(raw.overrides[0].kind, OverrideKind::Correction { previous: 20 });
    }
}
