//! The consultation report of a finished session, as the Reports service renders it: the
//! HTML page shown as it is (printable: its own print rules; the console's bar above it is
//! hidden in print), its PDF as a download, and a form to edit one of its items (the edit is
//! stored beside the generated text, which stays visible).

use std::fmt::Write as _;

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use qabilet_core::Lang;

use super::page::{Screen, error_box, esc, is_form_error, te};
use super::signin::Signed;
use crate::app::{AppError, ReportFormat, ReportView};
use crate::store::{ReportEdit, rfc3339};

/// `?lang=kk|ru|en` (the interface language without it).
#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: String,
}

async fn report(s: &Signed, id: &str, lang: &str, format: ReportFormat) -> Result<ReportView, AppError> {
    let lang = lang.parse::<Lang>().unwrap_or(s.lang);
    s.app()
        .report(&s.caller, &format!("sessions/{id}"), Some(lang), format, "")
        .await
}

/// GET /sessions/{id}/report?lang=…
pub async fn show(s: Signed, Path(id): Path<String>, Query(q): Query<LangQuery>) -> Response {
    render(&s, &id, &q.lang, None).await
}

async fn render(s: &Signed, id: &str, lang: &str, error: Option<&str>) -> Response {
    let r = match report(s, id, lang, ReportFormat::Html).await {
        Ok(r) => r,
        Err(e) => return s.fail(e).into_response(),
    };
    let html = r
        .rendered
        .as_ref()
        .map(|x| String::from_utf8_lossy(&x.content).into_owned())
        .unwrap_or_default();
    let ui = s.screen();
    let items = r.report.item_ids();
    let lang = esc(r.lang.code());
    let id = esc(id);
    let mut bar = String::from(
        "<style>.console-bar{font:14px sans-serif;background:#f3f5f8;border:1px solid #ccd;padding:.5em .8em;margin:0 0 1em}\
         .console-bar form{margin:.4em 0}.console-bar table{border-collapse:collapse;font-size:13px}.console-bar td,.console-bar th{border:1px solid #ccd;padding:.2em .4em;text-align:left;vertical-align:top}.console-bar textarea{width:100%;min-height:4em}@media print{.console-bar{display:none}}</style>\
         <nav class=\"console-bar\">",
    );
    let _ = write!(
        bar,
        "{err}<a href=\"/sessions/{id}\">{back}</a> · <a href=\"/sessions/{id}/report.pdf?lang={lang}\" download>{pdf}</a> · \
         <a href=\"#\" onclick=\"window.print();return false\">{print}</a> · \
         <a href=\"/sessions/{id}/report?lang=kk\">kk</a> <a href=\"/sessions/{id}/report?lang=ru\">ru</a> <a href=\"/sessions/{id}/report?lang=en\">en</a>\
         <details><summary>{edit}</summary><form method=\"post\" action=\"/sessions/{id}/report/edit\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\"><input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\
         <label>{edit}<select name=\"item\">",
        err = error_box(&ui, error),
        back = te(&ui, "back-to-session"),
        pdf = te(&ui, "report-pdf"),
        print = te(&ui, "print"),
        edit = te(&ui, "edit-item"),
        rid = super::request_id(),
    );
    for item in &items {
        let _ = write!(bar, "<option>{}</option>", esc(item));
    }
    let _ = write!(
        bar,
        "</select></label><label>{}<textarea name=\"text\" required maxlength=\"4000\"></textarea></label><button>{}</button></form></details>{}</nav>",
        te(&ui, "edit-text"),
        te(&ui, "save"),
        edit_history(&ui, &r.edits),
    );
    // The service's page as it is, with the bar as the first thing in its body.
    let page = match html.find("<body>") {
        Some(at) => format!("{}{bar}{}", &html[..at + 6], &html[at + 6..]),
        None => format!("{bar}{html}"),
    };
    let code = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (code, Html(page)).into_response()
}

/// Every edit of the report, oldest first (the latest of an item is the one in effect; the
/// generated text stays beside it in the report).
fn edit_history(ui: &Screen<'_>, edits: &[ReportEdit]) -> String {
    if edits.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<details class=\"edits\"><summary>{} ({})</summary><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        te(ui, "edits"),
        edits.len(),
        te(ui, "edit-when"),
        te(ui, "edit-author"),
        te(ui, "edit-item-id"),
        te(ui, "edit-content"),
    );
    for e in edits {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&rfc3339(e.created_at)),
            esc(&e.author),
            esc(&e.item),
            esc(e.text.as_str())
        );
    }
    h.push_str("</table></details>");
    h
}

/// GET /sessions/{id}/report.pdf?lang=… (a download).
pub async fn pdf(s: Signed, Path(id): Path<String>, Query(q): Query<LangQuery>) -> Response {
    match report(&s, &id, &q.lang, ReportFormat::Pdf).await {
        Ok(r) => {
            let file = format!(
                "qabilet-report-{}-{}.pdf",
                id.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
                r.lang.code()
            );
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file}\""),
                    ),
                ],
                r.rendered.map(|x| x.content).unwrap_or_default(),
            )
                .into_response()
        }
        Err(e) => s.fail(e).into_response(),
    }
}

/// The edit form.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    lang: String,
    item: String,
    text: String,
    #[serde(default)]
    request_id: String,
}

/// POST /sessions/{id}/report/edit
pub async fn edit(s: Signed, Path(id): Path<String>, Form(f): Form<EditForm>) -> Response {
    let lang = f.lang.parse::<Lang>().unwrap_or(s.lang);
    let request_id = if f.request_id.is_empty() {
        super::request_id()
    } else {
        f.request_id
    };
    let saved = s
        .app()
        .edit_report_item(
            &s.caller,
            &format!("sessions/{id}"),
            &f.item,
            &f.text,
            &request_id,
            "",
        )
        .await;
    match saved {
        Ok(_) => super::page::go(&format!("/sessions/{id}/report?lang={}", lang.code())),
        Err(e) if is_form_error(&e) => render(&s, &id, lang.code(), Some(&e.to_string())).await,
        Err(e) => s.fail(e).into_response(),
    }
}
