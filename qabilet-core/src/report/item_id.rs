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
//! renderer (`qabilet-server`'s `report::items`) draws the sections with these ids.

use super::{ConsultationReport, Message, TraceStep};

/// One editable item of a report: its stable id, its generated sentence and its trace.
#[derive(Debug, Clone, PartialEq)]
pub struct EditableItem<'a> {
    /// Stable id (see the module docs).
    pub id: String,
    /// The generated sentence.
    pub message: &'a Message,
    /// The rules and scores that produced it.
    pub trace: &'a [TraceStep],
}

impl ConsultationReport {
    /// Every editable item with its stable id, in reading order; no id repeats.
    pub fn editable_items(&self) -> Vec<EditableItem<'_>> {
        items_in_order(self)
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

fn items_in_order(r: &ConsultationReport) -> Vec<EditableItem<'_>> {
    fn item<'a>(id: String, message: &'a Message, trace: &'a [TraceStep]) -> EditableItem<'a> {
        EditableItem { id, message, trace }
    }
    let mut out = Vec::new();
    for i in &r.summary {
        out.push(item(format!("summary/{}", i.message.key), &i.message, &i.trace));
    }
    for row in &r.profile {
        out.push(item(format!("profile/{}", row.domain), &row.message, &row.trace));
    }
    for (section, list) in [
        ("strengths", &r.strengths),
        ("support", &r.support),
        ("learning", &r.learning),
    ] {
        for d in list {
            out.push(item(format!("{section}/{}", d.domain), &d.message, &d.trace));
        }
    }
    for a in &r.activities {
        out.push(item(
            format!("activities/{}/{}", a.domain, a.activity),
            &a.message,
            &a.trace,
        ));
    }
    for d in &r.directions {
        out.push(item(format!("directions/{}", d.key), &d.message, &d.trace));
    }
    out.push(item("referral".into(), &r.referral.message, &r.referral.trace));
    for (n, m) in r.referral.rate_messages.iter().enumerate() {
        out.push(item(format!("referral/rates/{n}"), m, &r.referral.trace));
    }
    out.push(item("interests".into(), &r.interests.message, &r.interests.trace));
    for i in &r.caveats {
        out.push(item(format!("caveats/{}", i.message.key), &i.message, &i.trace));
    }
    out
}
