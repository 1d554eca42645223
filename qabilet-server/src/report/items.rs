//! The report's sentences in reading order, each with a stable item id, and a psychologist's
//! edits of them.
//!
//! Item ids name what an item is about, never its position where a name exists, so an edit
//! stays attached when a report is rebuilt from the same record:
//!
//! | id | item |
//! | --- | --- |
//! | `summary/<message-key>` | a summary sentence (`summary/summary-age`) |
//! | `profile/<domain>` | a profile row's sentence |
//! | `strengths/<domain>`, `support/<domain>`, `learning/<domain>` | a domain that stands out |
//! | `activities/<domain>/<activity>` | a suggested activity for a domain (or `broad`) |
//! | `directions/<key>` | a development direction, world of work or career cluster |
//! | `referral` | the stage-2 decision |
//! | `referral/rates/<n>` | the n-th sentence on expected referral rates (0-based) |
//! | `interests` | what was done with interests |
//! | `caveats/<message-key>` | a caveat (`caveats/caveat-demonstration`) |
//!
//! Ids are unique within a report ([`item_ids`] lists them); an edit naming an id the report
//! does not have is refused ([`ReportEdits::check`]).

use std::collections::{BTreeMap, BTreeSet};

use qabilet_core::guidance::Evidence;
use qabilet_core::report::{ConsultationReport, Message, TraceStep};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One item of a section.
#[derive(Debug, Clone, Copy)]
pub struct ReportItem<'a> {
    /// Stable id within the report.
    pub id: &'a str,
    /// The generated sentence.
    pub message: &'a Message,
    /// Why it is there.
    pub trace: &'a [TraceStep],
    /// Evidence tag (activities).
    pub evidence: Option<Evidence>,
    /// ISCO-08 unit groups (career clusters).
    pub isco08: &'a [String],
}

/// A section of the report: its heading's message key and its items.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    /// Message key of the heading (`section-strengths`).
    pub heading: &'static str,
    /// The items, in report order (may be empty).
    pub items: Vec<ReportItem<'a>>,
}

/// The ids of a report's items, computed once (the sections borrow them).
#[derive(Debug, Clone)]
pub struct ItemIds {
    summary: Vec<String>,
    profile: Vec<String>,
    strengths: Vec<String>,
    support: Vec<String>,
    learning: Vec<String>,
    activities: Vec<String>,
    directions: Vec<String>,
    rates: Vec<String>,
    caveats: Vec<String>,
}

impl ItemIds {
    /// The ids of `report`'s items.
    pub fn of(report: &ConsultationReport) -> Self {
        let by_domain = |prefix: &str, items: &[qabilet_core::report::DomainItem]| {
            items.iter().map(|i| format!("{prefix}/{}", i.domain)).collect()
        };
        ItemIds {
            summary: report
                .summary
                .iter()
                .map(|i| format!("summary/{}", i.message.key))
                .collect(),
            profile: report
                .profile
                .iter()
                .map(|r| format!("profile/{}", r.domain))
                .collect(),
            strengths: by_domain("strengths", &report.strengths),
            support: by_domain("support", &report.support),
            learning: by_domain("learning", &report.learning),
            activities: report
                .activities
                .iter()
                .map(|a| format!("activities/{}/{}", a.domain, a.activity))
                .collect(),
            directions: report
                .directions
                .iter()
                .map(|d| format!("directions/{}", d.key))
                .collect(),
            rates: (0..report.referral.rate_messages.len())
                .map(|n| format!("referral/rates/{n}"))
                .collect(),
            caveats: report
                .caveats
                .iter()
                .map(|i| format!("caveats/{}", i.message.key))
                .collect(),
        }
    }
}

fn plain<'a>(id: &'a str, message: &'a Message, trace: &'a [TraceStep]) -> ReportItem<'a> {
    ReportItem {
        id,
        message,
        trace,
        evidence: None,
        isco08: &[],
    }
}

/// The sections of the report in reading order (the profile rows are a section too; the
/// renderers draw them as the chart and a table).
pub fn sections<'a>(report: &'a ConsultationReport, ids: &'a ItemIds) -> Vec<Section<'a>> {
    let domain_items = |heading, items: &'a [qabilet_core::report::DomainItem], ids: &'a [String]| Section {
        heading,
        items: items
            .iter()
            .zip(ids)
            .map(|(i, id)| plain(id, &i.message, &i.trace))
            .collect(),
    };
    let mut referral = vec![plain(
        "referral",
        &report.referral.message,
        &report.referral.trace,
    )];
    referral.extend(
        report
            .referral
            .rate_messages
            .iter()
            .zip(&ids.rates)
            .map(|(m, id)| plain(id, m, &report.referral.trace)),
    );
    vec![
        Section {
            heading: "section-summary",
            items: report
                .summary
                .iter()
                .zip(&ids.summary)
                .map(|(i, id)| plain(id, &i.message, &i.trace))
                .collect(),
        },
        Section {
            heading: "section-profile",
            items: report
                .profile
                .iter()
                .zip(&ids.profile)
                .map(|(r, id)| plain(id, &r.message, &r.trace))
                .collect(),
        },
        domain_items("section-strengths", &report.strengths, &ids.strengths),
        domain_items("section-support", &report.support, &ids.support),
        domain_items("section-learning", &report.learning, &ids.learning),
        Section {
            heading: "section-activities",
            items: report
                .activities
                .iter()
                .zip(&ids.activities)
                .map(|(a, id)| ReportItem {
                    evidence: Some(a.evidence),
                    ..plain(id, &a.message, &a.trace)
                })
                .collect(),
        },
        Section {
            heading: "section-directions",
            items: report
                .directions
                .iter()
                .zip(&ids.directions)
                .map(|(d, id)| ReportItem {
                    isco08: &d.isco08,
                    ..plain(id, &d.message, &d.trace)
                })
                .collect(),
        },
        Section {
            heading: "section-referral",
            items: referral,
        },
        Section {
            heading: "section-interests",
            items: vec![plain(
                "interests",
                &report.interests.message,
                &report.interests.trace,
            )],
        },
        Section {
            heading: "section-caveats",
            items: report
                .caveats
                .iter()
                .zip(&ids.caveats)
                .map(|(i, id)| plain(id, &i.message, &i.trace))
                .collect(),
        },
    ]
}

/// Every item id of a report, in reading order (the ids edits are stored under).
pub fn item_ids(report: &ConsultationReport) -> Vec<String> {
    let ids = ItemIds::of(report);
    sections(report, &ids)
        .iter()
        .flat_map(|s| s.items.iter().map(|i| i.id.to_owned()))
        .collect()
}

/// A psychologist's wording of one item, replacing the generated text on the page (the
/// generated text stays visible beneath it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// The text shown instead of the generated sentence.
    pub text: String,
    /// Who edited it (a name or a user id).
    pub author: String,
    /// When (as stored, e.g. RFC 3339 `2026-05-15T10:30:00Z`).
    pub time: String,
}

/// Edits of a report by item id. JSON form: `{"strengths/spatial": {"text": …, "author": …,
/// "time": …}, …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReportEdits(pub BTreeMap<String, Edit>);

/// Edits that do not fit a report.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EditsError {
    /// Not the JSON form.
    #[error("edits: {0}")]
    Json(String),
    /// An edit names an item the report does not have.
    #[error("edits: the report has no item '{0}'")]
    UnknownItem(String),
    /// An edit with an empty text.
    #[error("edits: '{0}': the text is empty")]
    EmptyText(String),
}

impl ReportEdits {
    /// Parses the JSON form.
    ///
    /// # Errors
    /// [`EditsError::Json`].
    pub fn from_json(text: &str) -> Result<Self, EditsError> {
        serde_json::from_str(text).map_err(|e| EditsError::Json(e.to_string()))
    }

    /// The edit of an item, if any.
    pub fn get(&self, id: &str) -> Option<&Edit> {
        self.0.get(id)
    }

    /// Checks that every edit names an item of `report` and has a text.
    ///
    /// # Errors
    /// The first edit (in id order) that does not fit.
    pub fn check(&self, report: &ConsultationReport) -> Result<(), EditsError> {
        let ids: BTreeSet<String> = item_ids(report).into_iter().collect();
        for (id, edit) in &self.0 {
            if !ids.contains(id) {
                return Err(EditsError::UnknownItem(id.clone()));
            }
            if edit.text.trim().is_empty() {
                return Err(EditsError::EmptyText(id.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::Fixture;

    #[test]
    fn item_ids_are_unique_stable_and_cover_every_message() {
        let f = Fixture::load();
        for (id, report) in f.reports() {
            let ids = item_ids(&report);
            let unique: BTreeSet<&String> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "{id}: {ids:?}");
            assert_eq!(ids.len(), report.messages().len(), "{id}: one id per message");
            // The sections drawn carry exactly the ids edits are stored under (qabilet-core).
            assert_eq!(ids, report.item_ids(), "{id}: the renderer's ids are the core's");
            assert_eq!(ids, item_ids(&report.clone()), "same report, same ids");
            assert!(ids.iter().any(|i| i == "referral") && ids.iter().any(|i| i == "interests"));
            assert!(ids.iter().any(|i| i == "caveats/caveat-demonstration"));
        }
    }

    #[test]
    fn edits_must_name_an_item_and_have_a_text() {
        let f = Fixture::load();
        let (_, report) = f.reports().remove(0);
        let edit = |text: &str| Edit {
            text: text.into(),
            author: "psy-7".into(),
            time: "2026-05-15T10:30:00Z".into(),
        };
        let mut edits = ReportEdits::default();
        edits.0.insert("interests".into(), edit("No questionnaire yet."));
        assert_eq!(edits.check(&report), Ok(()));
        edits.0.insert("strengths/nowhere".into(), edit("x"));
        assert_eq!(
            edits.check(&report),
            Err(EditsError::UnknownItem("strengths/nowhere".into()))
        );
        let mut blank = ReportEdits::default();
        blank.0.insert("referral".into(), edit("  "));
        assert_eq!(
            blank.check(&report),
            Err(EditsError::EmptyText("referral".into()))
        );
        let parsed = ReportEdits::from_json(
            r#"{"interests":{"text":"No questionnaire yet.","author":"psy-7","time":"2026-05-15T10:30:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(parsed.get("interests"), Some(&edit("No questionnaire yet.")));
        assert!(matches!(
            ReportEdits::from_json(r#"{"interests":{"text":"x"}}"#),
            Err(EditsError::Json(_))
        ));
    }
}
