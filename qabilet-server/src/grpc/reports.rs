//! `Reports`: the consultation report of a finished session (`qabilet_core::report`), as
//! data, HTML or PDF, and the psychologist's edits to its items.
//!
//! Rules:
//!
//! * a report exists only for a **finished** session (`FAILED_PRECONDITION` otherwise); it is
//!   built from the session's results exactly as `Assessment.GetResults` computes them
//!   ([`AssessmentService::results`]) and the guidance tables loaded at start ([`Guidance`]);
//!   without those tables every call is `FAILED_PRECONDITION`, naming the folder;
//! * an edit names an item by its stable id ([`ConsultationReport::item_ids`]) and is
//!   appended to the store's log of edits: the generated text and earlier edits are never
//!   overwritten, the latest edit of an item is the one in effect (and shown above the
//!   generated text in HTML and PDF, `crate::report`);
//! * permissions are `auth::policy`'s `ReadReport` and `EditReport`; every read and every edit
//!   is audited. An edit's text may be personal: it is never logged.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use qabilet_core::Lang;
use qabilet_core::NormSet;
use qabilet_core::guidance::Interests;
use qabilet_core::profile::ScoredProfile;
use qabilet_core::report::{ConsultationReport, ReportError, consultation};
use serde::Serialize;
use tonic::{Request, Response, Status};

use super::assessment::AssessmentService;
use super::pb::reports_server::Reports;
use super::pb::{self, ReportFormat};
use super::records::time;
use super::requests::{page, request_id};
use super::status;
use crate::auth::Principal;
use crate::auth::policy::Action;
use crate::error::CliError;
use crate::guidance_dir::{self, LoadedGuidance};
use crate::report::{Edit, GENERATOR_VERSION, ReportContext, ReportEdits, Texts, render_html, render_pdf};
use crate::store::{self, NewReportEdit, PageRequest, SessionState, Store};

/// Longest edit text, in characters (Unicode scalar values).
pub const MAX_EDIT_CHARS: usize = 4000;

/// The guidance tables reports are built with, or why the server has none.
#[derive(Debug, Clone)]
pub enum Guidance {
    /// Loaded and checked at start.
    Loaded(Arc<LoadedGuidance>),
    /// The folder was missing: the message every Reports call answers with.
    Missing(String),
}

impl Guidance {
    /// Loads the guidance folder `dir` (e.g. `norms/guidance`; [`guidance_dir::load`]). A
    /// missing folder is not an error — the server runs without reports — but an unreadable
    /// or invalid table or text is.
    ///
    /// # Errors
    /// A file of the folder that cannot be read, or a table or text that fails its checks
    /// (file, line, field and reason).
    pub fn load(dir: &Path) -> Result<Guidance, CliError> {
        if !dir.is_dir() {
            return Ok(Guidance::Missing(format!(
                "reports are unavailable: the server has no guidance tables ({} is not a folder; \
                 start it with --guidance DIR)",
                dir.display()
            )));
        }
        Ok(Guidance::Loaded(Arc::new(guidance_dir::load(dir)?)))
    }

    fn loaded(&self) -> Result<&LoadedGuidance, Status> {
        match self {
            Guidance::Loaded(g) => Ok(g),
            Guidance::Missing(why) => Err(Status::failed_precondition(why.clone())),
        }
    }
}

/// The service.
pub struct ReportsService {
    assessment: Arc<AssessmentService>,
    store: Arc<dyn Store>,
    guidance: Guidance,
}

/// A finished session's report, built for one call.
struct Built {
    session: store::Session,
    child: store::Child,
    profile: ScoredProfile,
    norms: Arc<NormSet>,
    report: ConsultationReport,
}

impl ReportsService {
    /// The service, building reports from `assessment`'s results with `guidance`.
    pub fn new(assessment: Arc<AssessmentService>, store: Arc<dyn Store>, guidance: Guidance) -> Self {
        ReportsService {
            assessment,
            store,
            guidance,
        }
    }

    /// The report of the finished session `name`, if `p` may do `action` on it.
    async fn build(
        &self,
        p: &Principal,
        name: &str,
        action: Action,
        interests_json: &str,
    ) -> Result<Built, Status> {
        let (session, child) = self.assessment.session(p, name, "session", action).await?;
        if session.state != SessionState::Finished {
            return Err(Status::failed_precondition(format!(
                "{name} is {}: a report needs a finished session",
                session.state.as_str()
            )));
        }
        let tables = &self.guidance.loaded()?.tables;
        let interests = (!interests_json.trim().is_empty())
            .then(|| Interests::from_json(interests_json, &tables.interests))
            .transpose()
            .map_err(|e| status::invalid_argument("interests_json", e.to_string()))?;
        let profile = self.assessment.scored(&session, &child, name).await?;
        // The report names the child by its pseudonymous code (the results' id is the session).
        let record = ScoredProfile {
            id: child.code.clone(),
            ..profile.clone()
        };
        // The norm set the results were scored with (pinned when the session started).
        let norms = self.assessment.pinned_norms(&session)?;
        let report = consultation(
            &record,
            &norms.battery,
            tables,
            interests.as_ref(),
            GENERATOR_VERSION,
        )
        .map_err(|e| match e {
            ReportError::Interests(e) => status::invalid_argument("interests_json", e.to_string()),
            ReportError::NoAgeGate(_) => Status::failed_precondition(e.to_string()),
            other => Status::internal(other.to_string()),
        })?;
        Ok(Built {
            session,
            child,
            profile,
            norms,
            report,
        })
    }

    /// Every edit of a session, oldest first.
    async fn all_edits(&self, session_id: &str) -> Result<Vec<store::ReportEdit>, Status> {
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
                .await
                .map_err(status::store)?;
            edits.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(edits),
            }
        }
    }
}

/// The format asked for; unspecified is DATA.
fn format(value: i32) -> Result<ReportFormat, Status> {
    match ReportFormat::try_from(value) {
        Ok(ReportFormat::Unspecified) => Ok(ReportFormat::Data),
        Ok(f) => Ok(f),
        Err(_) => Err(status::invalid_argument(
            "format",
            format!("unknown report format {value}"),
        )),
    }
}

/// The language asked for; empty is the child's test language.
fn language(asked: &str, child: &store::Child) -> Result<Lang, Status> {
    let code = if asked.is_empty() {
        child.test_language.as_str()
    } else {
        asked
    };
    code.parse()
        .map_err(|_| status::invalid_argument("language", "must be kk, ru or en"))
}

/// The latest edit of each item (the one in effect), by item id.
pub type LatestEdits<'a> = BTreeMap<&'a str, &'a store::ReportEdit>;

fn latest(edits: &[store::ReportEdit]) -> LatestEdits<'_> {
    // Oldest first: a later edit replaces an earlier one in the map (never in the store).
    edits.iter().map(|e| (e.item.as_str(), e)).collect()
}

/// A rendered report: its bytes and content type (both empty for DATA).
#[derive(Debug, Default)]
pub struct Rendered {
    /// HTML or PDF.
    pub content: Vec<u8>,
    /// `text/html; charset=utf-8` or `application/pdf`.
    pub content_type: String,
}

/// Renders the report in `format` with `texts`, each item's latest edit shown above its
/// generated text (`crate::report`). DATA is the JSON alone (no content).
fn render(format: ReportFormat, ctx: &ReportContext<'_>, texts: &Texts) -> Result<Rendered, Status> {
    let failed = |e: &dyn std::fmt::Display| Status::internal(format!("rendering the report: {e}"));
    match format {
        ReportFormat::Unspecified | ReportFormat::Data => Ok(Rendered::default()),
        ReportFormat::Html => Ok(Rendered {
            content: render_html(ctx, texts).map_err(|e| failed(&e))?.into_bytes(),
            content_type: "text/html; charset=utf-8".into(),
        }),
        ReportFormat::Pdf => Ok(Rendered {
            content: render_pdf(ctx, texts).map_err(|e| failed(&e))?,
            content_type: "application/pdf".into(),
        }),
    }
}

/// The edits in effect in the renderer's form.
fn report_edits(latest: &LatestEdits<'_>) -> ReportEdits {
    ReportEdits(
        latest
            .iter()
            .map(|(&item, e)| {
                let edit = Edit {
                    text: e.text.clone(),
                    author: e.author.clone(),
                    time: time(e.created_at),
                };
                (item.to_owned(), edit)
            })
            .collect(),
    )
}

/// An edit as `report_json` shows it.
#[derive(Serialize)]
struct EditJson<'a> {
    item: &'a str,
    text: &'a str,
    author: &'a str,
    create_time: String,
    generated_key: &'a str,
}

/// `report_json`: the report's own fields, its item ids and the latest edits alongside.
#[derive(Serialize)]
struct ReportJson<'a> {
    #[serde(flatten)]
    report: &'a ConsultationReport,
    item_ids: Vec<String>,
    edits: BTreeMap<&'a str, EditJson<'a>>,
}

fn report_json(report: &ConsultationReport, latest: &LatestEdits<'_>) -> Result<String, Status> {
    let edits = latest
        .iter()
        .map(|(&item, e)| {
            let edit = EditJson {
                item,
                text: &e.text,
                author: &e.author,
                create_time: time(e.created_at),
                generated_key: report.item(item).map_or("", |i| i.message.key.as_str()),
            };
            (item, edit)
        })
        .collect();
    serde_json::to_string(&ReportJson {
        report,
        item_ids: report.item_ids(),
        edits,
    })
    .map_err(|e| Status::internal(format!("report JSON: {e}")))
}

/// An edit as a message; `generated_key` from `report` where it has the item.
fn edit_message(e: &store::ReportEdit, report: &ConsultationReport) -> pb::ReportEdit {
    let store::ReportEdit {
        id: _,
        session_id: _,
        item,
        text,
        author,
        request_id: _,
        created_at,
    } = e;
    pb::ReportEdit {
        item: item.clone(),
        text: text.clone(),
        author: author.clone(),
        create_time: time(*created_at),
        generated_key: report
            .item(item)
            .map(|i| i.message.key.clone())
            .unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl Reports for ReportsService {
    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        let p = self.assessment.principal(&request).await?;
        let pb::GetReportRequest {
            session,
            language: asked,
            format: format_value,
            interests_json,
        } = request.into_inner();
        let format = format(format_value)?;
        let built = self
            .build(&p, &session, Action::ReadReport, &interests_json)
            .await?;
        let lang = language(&asked, &built.child)?;
        let edits = self.all_edits(&built.session.id).await?;
        let in_effect = latest(&edits);
        let json = report_json(&built.report, &in_effect)?;
        let guidance = self.guidance.loaded()?;
        let texts = guidance.texts(lang);
        let edits_in_effect = report_edits(&in_effect);
        let ctx = ReportContext {
            report: &built.report,
            norms: &built.norms,
            tables: &guidance.tables,
            edits: &edits_in_effect,
        };
        let rendered = render(format, &ctx, texts)?;
        self.assessment
            .audit(
                &p,
                "read_report",
                &format!("{session}/report"),
                Some(&built.child.id),
            )
            .await?;
        Ok(Response::new(pb::Report {
            session,
            language: lang.code().to_owned(),
            format: format as i32,
            norm_set: Some(super::convert::norm_set(&built.profile.norm_set)),
            notice: built.profile.notice.clone().unwrap_or_default(),
            report_json: json,
            content: rendered.content,
            content_type: rendered.content_type,
            edits: edits.iter().map(|e| edit_message(e, &built.report)).collect(),
        }))
    }

    async fn edit_report_item(
        &self,
        request: Request<pb::EditReportItemRequest>,
    ) -> Result<Response<pb::ReportEdit>, Status> {
        let p = self.assessment.principal(&request).await?;
        let pb::EditReportItemRequest {
            session,
            item,
            text,
            request_id: rid,
            interests_json,
        } = request.into_inner();
        if item.is_empty() {
            return Err(status::invalid_argument("item", "required: a report item id"));
        }
        if text.trim().is_empty() {
            return Err(status::invalid_argument("text", "must not be empty"));
        }
        if text.chars().count() > MAX_EDIT_CHARS {
            return Err(status::invalid_argument(
                "text",
                format!("at most {MAX_EDIT_CHARS} characters"),
            ));
        }
        let built = self
            .build(&p, &session, Action::EditReport, &interests_json)
            .await?;
        if built.report.item(&item).is_none() {
            return Err(status::invalid_argument(
                "item",
                format!("the report of {session} has no item '{item}'"),
            ));
        }
        let created = self
            .store
            .append_report_edit(NewReportEdit {
                session_id: built.session.id.clone(),
                item: item.clone(),
                text,
                author: p.subject.clone(),
                request_id: request_id(rid),
            })
            .await
            .map_err(status::store)?;
        // A request id reused for another session or item is not this edit's retry.
        let edit = created.record;
        if created.existed && (edit.session_id != built.session.id || edit.item != item) {
            return Err(status::invalid_argument(
                "request_id",
                "already used for another report edit",
            ));
        }
        self.assessment
            .audit(
                &p,
                "edit_report_item",
                &format!("{session}/report/{item}"),
                Some(&built.child.id),
            )
            .await?;
        Ok(Response::new(edit_message(&edit, &built.report)))
    }

    async fn list_report_edits(
        &self,
        request: Request<pb::ListReportEditsRequest>,
    ) -> Result<Response<pb::ListReportEditsResponse>, Status> {
        let p = self.assessment.principal(&request).await?;
        let pb::ListReportEditsRequest {
            session,
            page_size,
            page_token,
        } = request.into_inner();
        let page = page(page_size, page_token)?;
        if page.after.as_deref().is_some_and(|t| t.parse::<i64>().is_err()) {
            return Err(status::invalid_argument("page_token", "not a token of this list"));
        }
        let built = self.build(&p, &session, Action::ReadReport, "").await?;
        let found = self
            .store
            .report_edits(&built.session.id, page)
            .await
            .map_err(status::store)?;
        self.assessment
            .audit(
                &p,
                "list_report_edits",
                &format!("{session}/report"),
                Some(&built.child.id),
            )
            .await?;
        Ok(Response::new(pb::ListReportEditsResponse {
            edits: found
                .items
                .iter()
                .map(|e| edit_message(e, &built.report))
                .collect(),
            next_page_token: found.next.unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(id: i64, item: &str, text: &str) -> store::ReportEdit {
        store::ReportEdit {
            id,
            session_id: "s".into(),
            item: item.into(),
            text: text.into(),
            author: "psy".into(),
            request_id: None,
            created_at: 0,
        }
    }

    #[test]
    fn the_latest_edit_of_an_item_is_in_effect() {
        let edits = [
            edit(1, "referral", "first"),
            edit(2, "summary/1", "other"),
            edit(3, "referral", "second"),
        ];
        let m = latest(&edits);
        assert_eq!(m.len(), 2);
        assert_eq!(m["referral"].text, "second");
        assert_eq!(m["summary/1"].text, "other");
    }

    #[test]
    fn formats_and_languages_are_checked() {
        assert_eq!(format(0).unwrap(), ReportFormat::Data);
        assert_eq!(format(3).unwrap(), ReportFormat::Pdf);
        assert_eq!(format(9).unwrap_err().code(), tonic::Code::InvalidArgument);
        let child = store::Child {
            id: "c".into(),
            code: "K".into(),
            birth_date: "2018-01-01".into(),
            sex: None,
            test_language: "ru".into(),
            centre: "x".into(),
            owner: "o".into(),
            given_name: None,
            family_name: None,
            notes: None,
            created_at: 0,
        };
        assert_eq!(language("", &child).unwrap(), Lang::Ru);
        assert_eq!(language("kk", &child).unwrap(), Lang::Kk);
        assert_eq!(
            language("de", &child).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }
}
