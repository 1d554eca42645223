//! Stable ids of a report's editable items, so that a psychologist's edit names the item it
//! replaces and survives a recomputation of the same report.
//!
//! # The scheme
//!
//! Ids name what an item is about — never its position where a name exists — so an edit
//! stays attached when the report is rebuilt from the same record.
//!
//! | id                               | item                                                 |
//! |----------------------------------|------------------------------------------------------|
//! | `summary/<message-key>`          | a summary sentence (`summary/summary-age`)           |
//! | `profile/<domain>`               | a profile row (domain key of `domains.toml`)         |
//! | `strengths/<domain>`             | a strength                                           |
//! | `support/<domain>`               | an area to support                                   |
//! | `learning/<domain>`              | a note on how the child learns best                  |
//! | `activities/<domain>/<activity>` | an activity for a domain (or `broad`); key of `activities.csv` |
//! | `directions/<key>`               | a direction, world of work or career cluster         |
//! | `referral`                       | the stage-2 referral decision                        |
//! | `referral/rates/<n>`             | the n-th sentence on expected referral rates, from 0 |
//! | `interests`                      | what was done with interests                         |
//! | `caveats/<message-key>`          | a caveat (`caveats/caveat-demonstration`)            |
//!
//! Ids depend only on what an item is about, never on its text or on the language. The
//! renderers draw the report's [`Section`]s, whose items carry these ids, so the ids an edit
//! is stored under are the ids on the page.

use super::{ConsultationReport, Message, TraceStep};
use crate::guidance::Evidence;

/// One editable item of a report: its stable id, its generated sentence and its trace, with
/// the evidence tag of an activity and the ISCO-08 groups of a career cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct EditableItem<'a> {
    /// Stable id (see the module docs).
    pub id: String,
    /// The generated sentence.
    pub message: &'a Message,
    /// The rules and scores that produced it.
    pub trace: &'a [TraceStep],
    /// Evidence tag (activities).
    pub evidence: Option<Evidence>,
    /// ISCO-08 unit groups (career clusters).
    pub isco08: &'a [String],
}

/// A section of the report in reading order: the message key of its heading
/// (`section-strengths`, one of [`super::RENDERER_KEYS`]) and its items, possibly none.
#[derive(Debug, Clone, PartialEq)]
pub struct Section<'a> {
    /// Message key of the heading.
    pub heading: &'static str,
    /// The items, in report order.
    pub items: Vec<EditableItem<'a>>,
}

impl ConsultationReport {
    /// The sections in reading order — summary, profile, strengths, areas to support, how
    /// the child learns best, activities, directions, referral, interests, caveats — each
    /// item with its stable id. Renderers draw these; edits name their ids.
    pub fn sections(&self) -> Vec<Section<'_>> {
        sections_in_order(self)
    }

    /// Every editable item with its stable id, in reading order; no id repeats.
    pub fn editable_items(&self) -> Vec<EditableItem<'_>> {
        self.sections().into_iter().flat_map(|s| s.items).collect()
    }

    /// The ids of every editable item, in reading order; no id repeats.
    pub fn item_ids(&self) -> Vec<String> {
        self.editable_items().into_iter().map(|i| i.id).collect()
    }

    /// The item named `id`, if the report has it.
    pub fn item(&self, id: &str) -> Option<EditableItem<'_>> {
        self.editable_items().into_iter().find(|i| i.id == id)
    }
}

fn item<'a>(id: String, message: &'a Message, trace: &'a [TraceStep]) -> EditableItem<'a> {
    EditableItem {
        id,
        message,
        trace,
        evidence: None,
        isco08: &[],
    }
}

fn sections_in_order(r: &ConsultationReport) -> Vec<Section<'_>> {
    let section = |heading, items| Section { heading, items };
    fn domains<'a>(name: &str, list: &'a [super::DomainItem]) -> Vec<EditableItem<'a>> {
        list.iter()
            .map(|d| item(format!("{name}/{}", d.domain), &d.message, &d.trace))
            .collect()
    }
    let mut referral = vec![item("referral".into(), &r.referral.message, &r.referral.trace)];
    referral.extend(
        r.referral
            .rate_messages
            .iter()
            .enumerate()
            .map(|(n, m)| item(format!("referral/rates/{n}"), m, &r.referral.trace)),
    );
    vec![
        section(
            "section-summary",
            r.summary
                .iter()
                .map(|i| item(format!("summary/{}", i.message.key), &i.message, &i.trace))
                .collect(),
        ),
        section(
            "section-profile",
            r.profile
                .iter()
                .map(|row| item(format!("profile/{}", row.domain), &row.message, &row.trace))
                .collect(),
        ),
        section("section-strengths", domains("strengths", &r.strengths)),
        section("section-support", domains("support", &r.support)),
        section("section-learning", domains("learning", &r.learning)),
        section(
            "section-activities",
            r.activities
                .iter()
                .map(|a| EditableItem {
                    evidence: Some(a.evidence),
                    ..item(
                        format!("activities/{}/{}", a.domain, a.activity),
                        &a.message,
                        &a.trace,
                    )
                })
                .collect(),
        ),
        section(
            "section-directions",
            r.directions
                .iter()
                .map(|d| EditableItem {
                    isco08: &d.isco08,
                    ..item(format!("directions/{}", d.key), &d.message, &d.trace)
                })
                .collect(),
        ),
        section("section-referral", referral),
        section(
            "section-interests",
            vec![item("interests".into(), &r.interests.message, &r.interests.trace)],
        ),
        section(
            "section-caveats",
            r.caveats
                .iter()
                .map(|i| item(format!("caveats/{}", i.message.key), &i.message, &i.trace))
                .collect(),
        ),
    ]
}
