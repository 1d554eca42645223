//! `Reports`: the consultation report of a finished session as data, HTML or PDF, and the
//! psychologist's edits to its items — conversion between messages and the application
//! layer's operations; `report_json` is written here, at the edge.

use std::collections::BTreeMap;
use std::sync::Arc;

use qabilet_core::Lang;
use qabilet_core::report::ConsultationReport;
use serde::Serialize;
use tonic::{Request, Response, Status};

use super::authenticate::caller;
use super::pb::reports_server::Reports;
use super::pb::{self, ReportFormat as PbFormat};
use super::records::time;
use super::requests::page;
use super::{convert, status};
use crate::app::{App, ReportFormat, ReportView};
use crate::store::ReportEdit;

/// The service.
pub struct ReportsService {
    app: Arc<App>,
}

impl ReportsService {
    /// Reports through `app`.
    pub fn new(app: Arc<App>) -> Self {
        ReportsService { app }
    }
}

/// The format asked for; unspecified is DATA.
fn format(value: i32) -> Result<ReportFormat, Status> {
    match PbFormat::try_from(value) {
        Ok(PbFormat::Unspecified | PbFormat::Data) => Ok(ReportFormat::Data),
        Ok(PbFormat::Html) => Ok(ReportFormat::Html),
        Ok(PbFormat::Pdf) => Ok(ReportFormat::Pdf),
        Err(_) => Err(status::invalid_argument(
            "format",
            format!("unknown report format {value}"),
        )),
    }
}

fn pb_format(f: ReportFormat) -> PbFormat {
    match f {
        ReportFormat::Data => PbFormat::Data,
        ReportFormat::Html => PbFormat::Html,
        ReportFormat::Pdf => PbFormat::Pdf,
    }
}

/// The language asked for; empty is the child's test language.
fn language(asked: &str) -> Result<Option<Lang>, Status> {
    if asked.is_empty() {
        return Ok(None);
    }
    asked
        .parse()
        .map(Some)
        .map_err(|_| status::invalid_argument("language", "must be kk, ru or en"))
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

fn report_json(view: &ReportView) -> Result<String, Status> {
    let report = &view.report;
    let edits = view
        .edits_in_effect()
        .into_iter()
        .map(|(item, e)| {
            let edit = EditJson {
                item,
                text: e.text.as_str(),
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
fn edit_message(e: &ReportEdit, report: &ConsultationReport) -> pb::ReportEdit {
    let ReportEdit {
        id: _,
        session_id: _,
        item,
        text,
        author,
        request: _,
        created_at,
    } = e;
    pb::ReportEdit {
        item: item.clone(),
        text: text.as_str().to_owned(),
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
        let caller = caller(&request)?;
        let pb::GetReportRequest {
            session,
            language: asked,
            format: format_value,
            interests_json,
        } = request.into_inner();
        let format = format(format_value)?;
        let lang = language(&asked)?;
        let view = self
            .app
            .report(&caller, &session, lang, format, &interests_json)
            .await?;
        let json = report_json(&view)?;
        let (content, content_type) = view
            .rendered
            .as_ref()
            .map_or((Vec::new(), ""), |r| (r.content.clone(), r.content_type));
        Ok(Response::new(pb::Report {
            session,
            language: view.lang.code().to_owned(),
            format: pb_format(format) as i32,
            norm_set: Some(convert::norm_set(&view.norms.id)),
            notice: view.norms.id.notice.clone().unwrap_or_default(),
            report_json: json,
            content,
            content_type: content_type.to_owned(),
            edits: view.edits.iter().map(|e| edit_message(e, &view.report)).collect(),
            guidance_hash: view.report.fingerprint.guidance_hash.clone(),
            software_version: view.report.fingerprint.software_version.clone(),
        }))
    }

    async fn edit_report_item(
        &self,
        request: Request<pb::EditReportItemRequest>,
    ) -> Result<Response<pb::ReportEdit>, Status> {
        let caller = caller(&request)?;
        let pb::EditReportItemRequest {
            session,
            item,
            text,
            request_id,
            interests_json,
        } = request.into_inner();
        let (edit, report) = self
            .app
            .edit_report_item(&caller, &session, &item, &text, &request_id, &interests_json)
            .await?;
        Ok(Response::new(edit_message(&edit, &report)))
    }

    async fn list_report_edits(
        &self,
        request: Request<pb::ListReportEditsRequest>,
    ) -> Result<Response<pb::ListReportEditsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListReportEditsRequest {
            session,
            page_size,
            page_token,
        } = request.into_inner();
        let (found, report) = self
            .app
            .list_report_edits(&caller, &session, page(page_size, page_token)?)
            .await?;
        Ok(Response::new(pb::ListReportEditsResponse {
            edits: found.items.iter().map(|e| edit_message(e, &report)).collect(),
            next_page_token: found.next.unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_languages_are_checked() {
        assert_eq!(format(0).unwrap(), ReportFormat::Data);
        assert_eq!(format(3).unwrap(), ReportFormat::Pdf);
        assert_eq!(format(9).unwrap_err().code(), tonic::Code::InvalidArgument);
        assert_eq!(language("").unwrap(), None);
        assert_eq!(language("kk").unwrap(), Some(Lang::Kk));
        assert_eq!(language("de").unwrap_err().code(), tonic::Code::InvalidArgument);
    }
}
