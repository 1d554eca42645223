//! A psychologist's edits of a report's items, each naming its item by the stable id the
//! report gives it (`qabilet_core::report::ConsultationReport::sections`, which states the
//! id scheme): `summary/<message-key>`, `profile/<domain>`, `strengths/<domain>`, `referral`,
//! `caveats/<message-key>`, …. An edit naming an id the report does not have is refused
//! ([`ReportEdits::check`]).

use std::collections::{BTreeMap, BTreeSet};

use qabilet_core::report::ConsultationReport;
use serde::{Deserialize, Serialize};
use thiserror::Error;

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
        let ids: BTreeSet<String> = report.item_ids().into_iter().collect();
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
