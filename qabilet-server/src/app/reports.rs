//! Consultation reports of finished sessions (`qabilet_core::report`), as data, HTML or PDF,
//! and the psychologist's edits to their items.
//!
//! * A report exists only for a **finished** session; it is built from the session's results
//!   exactly as [`App::results`] computes them and the guidance tables loaded at start;
//!   without those tables every call is `FAILED_PRECONDITION`, naming the folder.
//! * A report records the norm-set hash, the guidance hash and the software version it was
//!   built with, so it can be reproduced and a changed rule never silently changes it.
//! * An edit names an item by its stable id and is appended to the store's log of edits: the
//!   generated text and earlier edits are never overwritten; the latest edit of an item is
//!   the one in effect (shown above the generated text).
//! * An edit's text may be personal: it is never logged.

use std::collections::BTreeMap;
use std::sync::Arc;

use qabilet_core::guidance::Interests;
use qabilet_core::report::{ConsultationReport, ReportError};
use qabilet_core::{Lang, NormSet};

use super::audit::Audit;
use super::fields;
use super::idempotency::request_key;
use super::{App, AppError, Caller};
use crate::auth::policy::Action;
use crate::guidance_dir::LoadedGuidance;
use crate::report::{Edit, GENERATOR_VERSION, ReportContext, ReportEdits, render_html, render_pdf};
use crate::store::{
    self, Child, NewReportEdit, Page, PageRequest, Personal, ReportEdit, Session, SessionState,
};

/// Most edits one report keeps: a report has a few dozen items, and every edit is sent with
/// every reading of the report.
pub const MAX_EDITS_PER_REPORT: usize = 200;
/// Most edits on one page of the list of edits.
pub const MAX_EDITS_PAGE: u32 = 100;

/// How a report is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The report as data only.
    Data,
    /// A self-contained HTML page.
    Html,
    /// A PDF document.
    Pdf,
}

/// A finished session's report and everything shown with it.
#[derive(Debug)]
pub struct ReportView {
    /// The session.
    pub session: Session,
    /// The language it is written in.
    pub lang: Lang,
    /// The norm set it was built on.
    pub norms: Arc<NormSet>,
    /// The report.
    pub report: ConsultationReport,
    /// Every edit of its items, oldest first.
    pub edits: Vec<ReportEdit>,
    /// The rendered page or document (none for [`ReportFormat::Data`]).
    pub rendered: Option<Rendered>,
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// HTML or PDF.
    pub content: Vec<u8>,
    /// `text/html; charset=utf-8` or `application/pdf`.
    pub content_type: &'static str,
}

/// What a report is built from, for one call.
struct Built {
    session: Session,
    child: Child,
    norms: Arc<NormSet>,
    report: ConsultationReport,
}

impl ReportView {
    /// The latest edit of each item (the one in effect), by item id.
    pub fn edits_in_effect(&self) -> BTreeMap<&str, &ReportEdit> {
        latest(&self.edits)
    }
}

fn latest(edits: &[ReportEdit]) -> BTreeMap<&str, &ReportEdit> {
    // Oldest first: a later edit replaces an earlier one in the map (never in the store).
    edits.iter().map(|e| (e.item.as_str(), e)).collect()
}

impl App {
    /// The report of finished session `session` in `lang` (none: the child's test
    /// language), as `format`; `interests_json` is the optional interest questionnaire.
    ///
    /// # Errors
    /// `FAILED_PRECONDITION` for an unfinished session or a server without guidance tables;
    /// `INVALID_ARGUMENT` naming the field; `NOT_FOUND`; `PERMISSION_DENIED`.
    pub async fn report(
        &self,
        caller: &Caller,
        session: &str,
        lang: Option<Lang>,
        format: ReportFormat,
        interests_json: &str,
    ) -> Result<ReportView, AppError> {
        let mut audit = self.audit(caller, "get_report", format!("{session}/report"));
        let result = async {
            let built = self
                .build_report(caller, session, Action::ReadReport, interests_json, &mut audit)
                .await?;
            let lang = match lang {
                Some(l) => l,
                None => built
                    .child
                    .test_language
                    .parse()
                    .map_err(|_| AppError::Internal("stored test language".into()))?,
            };
            let edits = self.all_edits(&built.session.id).await?;
            let rendered = self.render(format, lang, &built, &edits)?;
            Ok(ReportView {
                session: built.session,
                lang,
                norms: built.norms,
                report: built.report,
                edits,
                rendered,
            })
        }
        .await;
        self.finish(audit, result).await
    }

    /// Appends `text` as the edit of item `item` of session `session`'s report; a retry with
    /// the same `request_id` returns the edit stored first.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field (an unknown item, an empty or too long text, a
    /// request id used for another edit); `FAILED_PRECONDITION` for an unfinished session;
    /// `NOT_FOUND`; `PERMISSION_DENIED`.
    pub async fn edit_report_item(
        &self,
        caller: &Caller,
        session: &str,
        item: &str,
        text: &str,
        request_id: &str,
        interests_json: &str,
    ) -> Result<(ReportEdit, ConsultationReport), AppError> {
        let mut audit = self.audit(caller, "edit_report_item", format!("{session}/report/{item}"));
        let result = async {
            if item.is_empty() {
                return Err(AppError::invalid("item", "required: a report item id"));
            }
            let text = fields::free_text("text", text, fields::MAX_EDIT_CHARS)?
                .ok_or_else(|| AppError::invalid("text", "must not be empty"))?;
            let rid = fields::request_id(request_id)?;
            let built = self
                .build_report(caller, session, Action::EditReport, interests_json, &mut audit)
                .await?;
            if built.report.item(item).is_none() {
                return Err(AppError::invalid(
                    "item",
                    format!("the report of {session} has no item '{item}'"),
                ));
            }
            let request = request_key(caller, rid, "edit_report_item", &[&built.session.id, item, &text]);
            let edits = self.all_edits(&built.session.id).await?;
            let retry = request.as_ref().is_some_and(|key| {
                edits.iter().any(|e| {
                    e.request
                        .as_ref()
                        .is_some_and(|k| k.token_id == key.token_id && k.request_id == key.request_id)
                })
            });
            if edits.len() >= MAX_EDITS_PER_REPORT && !retry {
                return Err(AppError::FailedPrecondition(format!(
                    "the report of {session} has {} edits, the most a report keeps",
                    edits.len()
                )));
            }
            let created = self
                .store
                .append_report_edit(NewReportEdit {
                    session_id: built.session.id.clone(),
                    item: item.to_owned(),
                    text: Personal::new(text),
                    author: caller.principal.subject.clone(),
                    request,
                })
                .await?;
            Ok((created.record, built.report))
        }
        .await;
        self.finish(audit, result).await
    }

    /// One page of the edits of session `session`'s report, oldest first, with the report
    /// (for each edited item's generated text).
    ///
    /// # Errors
    /// As [`App::report`]; `INVALID_ARGUMENT` for a foreign page token.
    pub async fn list_report_edits(
        &self,
        caller: &Caller,
        session: &str,
        page: PageRequest,
    ) -> Result<(Page<ReportEdit>, ConsultationReport), AppError> {
        let mut audit = self.audit(caller, "list_report_edits", format!("{session}/report"));
        let result = async {
            if page.after.as_deref().is_some_and(|t| t.parse::<i64>().is_err()) {
                return Err(AppError::invalid("page_token", "not a token of this list"));
            }
            let page = PageRequest {
                size: match page.size {
                    0 => MAX_EDITS_PAGE.min(store::DEFAULT_PAGE_SIZE),
                    n => n.min(MAX_EDITS_PAGE),
                },
                ..page
            };
            let built = self
                .build_report(caller, session, Action::ReadReport, "", &mut audit)
                .await?;
            let found = self.store.report_edits(&built.session.id, page).await?;
            Ok((found, built.report))
        }
        .await;
        self.finish(audit, result).await
    }

    fn loaded_guidance(&self) -> Result<&LoadedGuidance, AppError> {
        self.guidance.loaded().map_err(AppError::FailedPrecondition)
    }

    /// The report of finished session `name`, if `caller` may do `action` on it.
    async fn build_report(
        &self,
        caller: &Caller,
        name: &str,
        action: Action,
        interests_json: &str,
        audit: &mut Audit,
    ) -> Result<Built, AppError> {
        if interests_json.len() > fields::MAX_INTERESTS_BYTES {
            return Err(AppError::invalid(
                "interests_json",
                format!("at most {} bytes", fields::MAX_INTERESTS_BYTES),
            ));
        }
        let (session, child) = self.session_for(caller, name, "session", action, audit).await?;
        if session.state != SessionState::Finished {
            return Err(AppError::FailedPrecondition(format!(
                "{name} is {}: a report needs a finished session",
                session.state.as_str()
            )));
        }
        let guidance = self.loaded_guidance()?;
        let interests = (!interests_json.trim().is_empty())
            .then(|| Interests::from_json(interests_json, &guidance.tables.interests))
            .transpose()
            .map_err(|e| AppError::invalid("interests_json", e.to_string()))?;
        let results = self.compute_results(&session, &child, name).await?;
        let report = self.consultation(results.profile, &results.norms, &child, interests.as_ref())?;
        Ok(Built {
            session,
            child,
            norms: results.norms,
            report,
        })
    }

    /// The consultation report of `profile` (a session's results) for `child`.
    pub(crate) fn consultation(
        &self,
        mut profile: qabilet_core::profile::ScoredProfile,
        norms: &NormSet,
        child: &Child,
        interests: Option<&Interests>,
    ) -> Result<ConsultationReport, AppError> {
        let guidance = self.loaded_guidance()?;
        // The report names the child by its pseudonymous code (the results' id is the session).
        profile.id = child.code.clone();
        qabilet_core::report::consultation(
            &profile,
            &norms.battery,
            &guidance.tables,
            interests,
            GENERATOR_VERSION,
        )
        .map_err(|e| match e {
            ReportError::Interests(e) => AppError::invalid("interests_json", e.to_string()),
            ReportError::NoAgeGate(_) => AppError::FailedPrecondition(e.to_string()),
            other => AppError::Internal(other.to_string()),
        })
    }

    /// Every edit of a session, oldest first.
    async fn all_edits(&self, session_id: &str) -> Result<Vec<ReportEdit>, AppError> {
        let mut edits = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .report_edits(
                    session_id,
                    PageRequest {
                        size: store::MAX_PAGE_SIZE,
                        after,
                    },
                )
                .await?;
            edits.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(edits),
            }
        }
    }

    /// The report rendered in `format` and `lang`, each item's latest edit shown above its
    /// generated text.
    fn render(
        &self,
        format: ReportFormat,
        lang: Lang,
        built: &Built,
        edits: &[ReportEdit],
    ) -> Result<Option<Rendered>, AppError> {
        if format == ReportFormat::Data {
            return Ok(None);
        }
        let guidance = self.loaded_guidance()?;
        let texts = guidance.texts(lang);
        let in_effect = ReportEdits(
            latest(edits)
                .into_iter()
                .map(|(item, e)| {
                    let edit = Edit {
                        text: e.text.as_str().to_owned(),
                        author: e.author.clone(),
                        time: store::rfc3339(e.created_at),
                    };
                    (item.to_owned(), edit)
                })
                .collect(),
        );
        let ctx = ReportContext {
            report: &built.report,
            norms: &built.norms,
            tables: &guidance.tables,
            edits: &in_effect,
        };
        let failed = |e: &dyn std::fmt::Display| AppError::Internal(format!("rendering the report: {e}"));
        Ok(Some(match format {
            ReportFormat::Html => Rendered {
                content: render_html(&ctx, texts).map_err(|e| failed(&e))?.into_bytes(),
                content_type: "text/html; charset=utf-8",
            },
            ReportFormat::Pdf | ReportFormat::Data => Rendered {
                content: render_pdf(&ctx, texts).map_err(|e| failed(&e))?,
                content_type: "application/pdf",
            },
        }))
    }
}
