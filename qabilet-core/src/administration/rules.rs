//! The administration rules applied to the scores recorded so far: start point by age, the
//! reversal (basal) rule, the discontinue rule, and from them the next item. Everything here
//! is a function of the subtest, the start item and the current score of every item, so the
//! state after a log is the same however it was reached (see the module doc for the rules).

use serde::{Deserialize, Serialize};

use crate::battery::{Item, StartPoint, Subtest};

/// Which way administration is moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// From the start item upward, or onward after a reversal.
    Forward,
    /// Below the start item, downward, looking for the basal.
    Reversal,
}

/// Why a subtest has ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DoneReason {
    /// The discontinue rule was met; `after_item` is the last item of the run of zeros in
    /// item order (items above it not administered by then are not reached; items given
    /// after the rule was met earn no credit).
    Discontinued {
        /// Last item of the run of zeros.
        after_item: String,
    },
    /// No item follows the highest one administered.
    LastItem,
    /// The total raw score of a subtest without items has been entered.
    TotalEntered,
}

/// What the examiner does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Next {
    /// Administer this item and record its score.
    Item {
        /// Item id.
        id: String,
        /// Forward or reversal.
        phase: Phase,
    },
    /// A subtest without items: enter its total raw score, 0 … `raw_max`.
    Total {
        /// Highest raw score.
        raw_max: u16,
    },
    /// The subtest has ended.
    Done {
        /// Why.
        reason: DoneReason,
    },
}

/// Position of the start item for a child of `age_months`: the last start point whose
/// `age_min_months` ≤ the age, or the first one for a younger child. `None` without items.
pub(super) fn start_index(subtest: &Subtest, age_months: u16) -> Option<usize> {
    if subtest.items.is_empty() {
        return None;
    }
    let point: Option<&StartPoint> = subtest
        .start_points
        .iter()
        .rev()
        .find(|p| p.age_min_months <= age_months)
        .or_else(|| subtest.start_points.first());
    // The battery checks that start points exist and name items of the subtest; item 1
    // otherwise.
    Some(
        point
            .and_then(|p| subtest.items.iter().position(|i| i.id == p.item))
            .unwrap_or(0),
    )
}

/// The rules applied to one subtest's current scores (`scores[i]` of item `i`, `None` while
/// not administered). The subtest has items.
pub(super) struct Progress<'a> {
    pub(super) subtest: &'a Subtest,
    pub(super) start: usize,
    pub(super) scores: &'a [Option<u16>],
}

impl Progress<'_> {
    fn items(&self) -> &[Item] {
        &self.subtest.items
    }

    fn perfect(&self, i: usize) -> bool {
        self.scores[i] == Some(self.items()[i].max)
    }

    /// Administered items in item order.
    pub(super) fn administered(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.scores.len()).filter(|&i| self.scores[i].is_some())
    }

    /// The reversal rule's n, when reversal is possible (a rule and a start after item 1).
    fn reversal_n(&self) -> Option<usize> {
        let rule = self.subtest.reversal?;
        (self.start > 0).then_some(usize::from(rule.consecutive_perfect))
    }

    /// The first n items from the start point, in item order (fewer near the last item).
    fn window(&self, n: usize) -> std::ops::Range<usize> {
        self.start..(self.start + n).min(self.items().len())
    }

    /// Whether an item of the start window has earned less than full credit: reversal is
    /// due at once, before the rest of the window is given.
    pub(super) fn reversal_triggered(&self) -> bool {
        self.reversal_n().is_some_and(|n| {
            self.window(n)
                .any(|i| self.scores[i].is_some() && !self.perfect(i))
        })
    }

    /// The lowest item of the basal; items below it that were not administered earn full
    /// credit. The start item when the start window is all perfect (or when the subtest has
    /// no reversal rule: the start point then stands as the basal); after a reversal, the
    /// lowest administered item when it and the next n − 1 administered items in item
    /// order are all perfect. `None` with a start at item 1 or before the basal is known.
    pub(super) fn basal(&self) -> Option<usize> {
        if self.start == 0 {
            return None;
        }
        let Some(n) = self.reversal_n() else {
            return Some(self.start);
        };
        if self.window(n).all(|i| self.perfect(i)) {
            return Some(self.start);
        }
        if !self.reversal_triggered() {
            return None;
        }
        let lowest = self.administered().next()?;
        let run: Vec<usize> = self.administered().take(n).collect();
        (run.len() == n && run.iter().all(|&i| self.perfect(i))).then_some(lowest)
    }

    /// The last item of the lowest run of k zeros among the administered items in item
    /// order (reversal items included), with the discontinue rule's k.
    pub(super) fn discontinued_after(&self) -> Option<usize> {
        let k = usize::from(self.subtest.discontinue?.consecutive_zeros);
        let mut run = 0;
        for i in self.administered() {
            run = if self.scores[i] == Some(0) { run + 1 } else { 0 };
            if run == k {
                return Some(i);
            }
        }
        None
    }

    /// The next item, or why the subtest has ended.
    pub(super) fn next(&self) -> Next {
        let item = |i: usize, phase| Next::Item {
            id: self.items()[i].id.clone(),
            phase,
        };
        if let Some(d) = self.discontinued_after() {
            return Next::Done {
                reason: DoneReason::Discontinued {
                    after_item: self.items()[d].id.clone(),
                },
            };
        }
        if self.reversal_triggered() && self.basal().is_none() {
            let lowest = self.administered().next().unwrap_or(self.start);
            if lowest > 0 {
                return item(lowest - 1, Phase::Reversal);
            }
        }
        let forward = self.administered().last().map_or(self.start, |h| h + 1);
        if forward < self.items().len() {
            item(forward, Phase::Forward)
        } else {
            Next::Done {
                reason: DoneReason::LastItem,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::battery::{DiscontinueRule, Domain, ReversalRule};
    use crate::text::LocalizedText;

    /// Items a1 … a6 with maxima 1, 1, 2, 2, 2, 2; start a1 from 60 months, a4 from 96.
    fn subtest(reversal: Option<u16>, discontinue: Option<u16>) -> Subtest {
        let maxima = [1, 1, 2, 2, 2, 2];
        let name = || "a".to_owned();
        Subtest {
            id: "a".into(),
            domain: Domain::Gc,
            core: true,
            names: LocalizedText {
                kk: name(),
                ru: name(),
                en: name(),
            },
            time_limit_seconds: None,
            items: (1..=6)
                .zip(maxima)
                .map(|(i, max)| Item {
                    id: format!("a{i}"),
                    max,
                })
                .collect(),
            raw_max: maxima.iter().sum(),
            start_points: vec![
                StartPoint {
                    age_min_months: 60,
                    item: "a1".into(),
                },
                StartPoint {
                    age_min_months: 96,
                    item: "a4".into(),
                },
            ],
            reversal: reversal.map(|n| ReversalRule {
                consecutive_perfect: n,
            }),
            discontinue: discontinue.map(|k| DiscontinueRule { consecutive_zeros: k }),
            adaptive: None,
            content: None,
        }
    }

    fn next_id(subtest: &Subtest, scores: &[Option<u16>]) -> Next {
        Progress {
            subtest,
            start: 3,
            scores,
        }
        .next()
    }

    fn item(id: &str, phase: Phase) -> Next {
        Next::Item { id: id.into(), phase }
    }

    #[test]
    fn start_is_the_last_point_at_or_below_the_age() {
        let s = subtest(Some(2), Some(3));
        assert_eq!(
            start_index(&s, 50),
            Some(0),
            "younger than the first point: the first"
        );
        assert_eq!(start_index(&s, 60), Some(0));
        assert_eq!(start_index(&s, 95), Some(0));
        assert_eq!(start_index(&s, 96), Some(3));
        assert_eq!(start_index(&s, 143), Some(3));
    }

    #[test]
    fn an_imperfect_start_item_reverses_at_once() {
        let s = subtest(Some(2), Some(3));
        let scores = [None, None, None, Some(1), None, None];
        assert_eq!(next_id(&s, &scores), item("a3", Phase::Reversal));
    }

    #[test]
    fn a_perfect_start_waits_for_the_rest_of_the_window() {
        let s = subtest(Some(2), Some(3));
        let scores = [None, None, None, Some(2), None, None];
        assert_eq!(next_id(&s, &scores), item("a5", Phase::Forward));
        let p = Progress {
            subtest: &s,
            start: 3,
            scores: &scores,
        };
        assert_eq!(p.basal(), None);
        assert!(!p.reversal_triggered());
    }

    #[test]
    fn the_basal_counts_the_start_window_with_reversal_items() {
        // a4 perfect, a5 not: reverse to a3; a3 and a4 perfect make the basal at a3.
        let s = subtest(Some(2), Some(3));
        let scores = [None, None, Some(2), Some(2), Some(1), None];
        let p = Progress {
            subtest: &s,
            start: 3,
            scores: &scores,
        };
        assert_eq!(p.basal(), Some(2));
        assert_eq!(p.next(), item("a6", Phase::Forward));
    }

    #[test]
    fn without_a_reversal_rule_the_start_is_the_basal() {
        let s = subtest(None, Some(3));
        let scores = [None, None, None, Some(0), None, None];
        let p = Progress {
            subtest: &s,
            start: 3,
            scores: &scores,
        };
        assert_eq!(p.basal(), Some(3));
        assert_eq!(p.next(), item("a5", Phase::Forward));
    }

    #[test]
    fn zeros_count_in_item_order_not_in_time() {
        // Given a4 (0), a3 (0), a2 (0): the run a2–a4 meets k = 3; its last item is a4.
        let s = subtest(Some(2), Some(3));
        let scores = [None, Some(0), Some(0), Some(0), None, None];
        let p = Progress {
            subtest: &s,
            start: 3,
            scores: &scores,
        };
        assert_eq!(p.discontinued_after(), Some(3));
        // A perfect item inside breaks the run.
        let scores = [None, Some(0), Some(2), Some(0), Some(0), None];
        let p = Progress {
            subtest: &s,
            start: 3,
            scores: &scores,
        };
        assert_eq!(p.discontinued_after(), None);
    }

    #[test]
    fn the_last_item_ends_the_subtest() {
        let s = subtest(Some(2), None);
        let scores = [None, None, None, Some(2), Some(2), Some(0)];
        assert_eq!(
            next_id(&s, &scores),
            Next::Done {
                reason: DoneReason::LastItem
            }
        );
    }
}
