//! Cohorts on the console: the list, and one cohort's proctor screen — per class, who has not
//! started, who is on which item, who has been idle over two minutes, who is paused or has
//! finished, with pause, resume and five more minutes for one child or for all — and its results table (with the
//! CSV export for the organiser). The screen reloads itself every few seconds.

use std::fmt::Write as _;

use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::page::{esc, page, te};
use super::signin::Signed;
use crate::app::{ProctorAction, ScreeningStatus, cohort_results_csv};
use crate::store::PageRequest;

/// Minutes one press of "extend" gives.
const EXTEND_MINUTES: u32 = 5;

/// Seconds between the proctor screen's reloads.
const REFRESH_SECONDS: u32 = 5;

/// GET /cohorts: the cohorts the caller may read.
pub async fn list(s: Signed) -> Response {
    let found = match s.app().list_cohorts(&s.caller, PageRequest::first(200)).await {
        Ok(p) => p.items,
        Err(e) => return s.fail(e).into_response(),
    };
    let ui = s.screen();
    let mut b = String::new();
    if found.is_empty() {
        let _ = write!(b, "<p>{}</p>", te(&ui, "none-found"));
    } else {
        let _ = write!(
            b,
            "<table class=\"cohorts\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            te(&ui, "cohort"),
            te(&ui, "institution"),
            te(&ui, "grade"),
            te(&ui, "dates")
        );
        for c in &found {
            let _ = write!(
                b,
                "<tr><td><a href=\"/cohorts/{}\">{}</a></td><td>{} ({})</td><td>{}</td><td>{} – {}</td></tr>",
                esc(&c.id),
                esc(&c.name),
                esc(&c.institution),
                esc(&c.institution_kind),
                c.grade,
                esc(&c.starts_on),
                esc(&c.ends_on)
            );
        }
        b.push_str("</table>");
    }
    page(&ui, &te(&ui, "cohorts"), true, &b).into_response()
}

/// `?class=` of the proctor screen.
#[derive(Debug, Deserialize, Default)]
pub struct ClassQuery {
    #[serde(default)]
    class: String,
}

/// GET /cohorts/{id}?class=…: the proctor screen.
pub async fn show(s: Signed, Path(id): Path<String>, Query(q): Query<ClassQuery>) -> Response {
    let progress = match s
        .app()
        .cohort_progress(&s.caller, &format!("cohorts/{id}"), &q.class)
        .await
    {
        Ok(p) => p,
        Err(e) => return s.fail(e).into_response(),
    };
    let ui = s.screen();
    let c = &progress.cohort;
    let id = esc(&c.id).into_owned();
    // The class as a query value (a class may hold `&`, `#` or `+`), then escaped for HTML.
    let class_q = esc(&serde_urlencoded::to_string([("class", q.class.as_str())]).unwrap_or_default())
        .trim_start_matches("class=")
        .to_owned();
    let mut b = String::new();
    let _ = write!(
        b,
        "<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\"><p>{} · {} · {} · {} – {}</p>",
        esc(&c.region),
        esc(&c.district),
        esc(&c.institution),
        esc(&c.starts_on),
        esc(&c.ends_on)
    );
    if let Some(notice) = &progress.notice {
        let _ = write!(b, "<p class=\"notice\">{}</p>", esc(notice));
    }
    let (mut waiting, mut working, mut idle, mut paused, mut done) = (0, 0, 0, 0, 0);
    for ch in &progress.children {
        match ch.status {
            ScreeningStatus::NotStarted => waiting += 1,
            ScreeningStatus::InProgress { .. } if ch.idle => idle += 1,
            ScreeningStatus::InProgress { .. } => working += 1,
            ScreeningStatus::Paused => paused += 1,
            ScreeningStatus::Finished => done += 1,
        }
    }
    let _ = write!(
        b,
        "<p class=\"tally\" id=\"tally\">{}: {waiting} · {}: {working} · {}: {idle} · {}: {paused} · {}: {done}</p>",
        te(&ui, "proctor-not-started"),
        te(&ui, "proctor-in-progress"),
        te(&ui, "proctor-idle"),
        te(&ui, "proctor-paused"),
        te(&ui, "proctor-finished")
    );
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/cohorts/{id}/pause?class={class_q}\" class=\"row\"><button id=\"pause-all\">{}</button></form>\
         <form method=\"post\" action=\"/cohorts/{id}/resume?class={class_q}\" class=\"row\"><button id=\"resume-all\">{}</button></form>\
         <form method=\"post\" action=\"/cohorts/{id}/extend?class={class_q}\" class=\"row\"><button id=\"extend-all\">{}</button></form>\
         <p><a href=\"/cohorts/{id}/results.csv?class={class_q}\" id=\"results-csv\">{}</a></p>",
        te(&ui, "proctor-pause-all"),
        te(&ui, "proctor-resume-all"),
        te(&ui, "proctor-extend-all"),
        te(&ui, "proctor-results-csv")
    );
    let _ = write!(
        b,
        "<details><summary>{}</summary><form method=\"post\" action=\"/cohorts/{id}/roster\" id=\"roster-form\">\
         <input type=\"file\" id=\"roster-file\" accept=\".csv,text/csv\">\
         <textarea name=\"csv\" id=\"roster-csv\" rows=\"6\" cols=\"60\"></textarea>\
         <button id=\"roster-import\">{}</button></form></details>\
         <form method=\"post\" action=\"/cohorts/{id}/tickets\" class=\"row\" id=\"tickets-form\">\
         <input type=\"hidden\" name=\"class\" value=\"{class_q}\">\
         <button name=\"format\" value=\"html\" id=\"tickets-html\">{}</button>\
         <button name=\"format\" value=\"pdf\" id=\"tickets-pdf\">PDF</button></form>",
        te(&ui, "roster-import"),
        te(&ui, "roster-import"),
        te(&ui, "tickets-issue")
    );
    let _ = write!(
        b,
        "<table class=\"proctor\" id=\"proctor\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        te(&ui, "class"),
        te(&ui, "code"),
        te(&ui, "proctor-status"),
        te(&ui, "proctor-answered"),
        te(&ui, "proctor-result")
    );
    for ch in &progress.children {
        let code = esc(&ch.member.code).into_owned();
        let status = match &ch.status {
            ScreeningStatus::NotStarted => te(&ui, "proctor-not-started"),
            ScreeningStatus::InProgress { subtest, item } if ch.idle => {
                format!("{} ({} {})", te(&ui, "proctor-idle"), esc(subtest), esc(item))
            }
            ScreeningStatus::InProgress { subtest, item } => {
                format!("{} {} {}", te(&ui, "proctor-on-item"), esc(subtest), esc(item))
            }
            ScreeningStatus::Paused => te(&ui, "proctor-paused"),
            ScreeningStatus::Finished => te(&ui, "proctor-finished"),
        };
        let result = ch.result.as_ref().map_or_else(String::new, |r| {
            format!(
                "{} {} [{}–{}], {} {:.0}",
                esc(&r.composite),
                r.index,
                r.ci_low,
                r.ci_high,
                te(&ui, "proctor-local"),
                r.local_percentile
            )
        });
        let actions: &[(&str, String)] = match ch.status {
            ScreeningStatus::InProgress { .. } => &[
                ("pause", te(&ui, "proctor-pause")),
                ("extend", te(&ui, "proctor-extend")),
            ],
            ScreeningStatus::Paused => &[("resume", te(&ui, "proctor-resume"))],
            _ => &[],
        };
        let button: String = actions
            .iter()
            .map(|(a, label)| {
                format!(
                    "<form method=\"post\" action=\"/cohorts/{id}/{a}?class={class_q}\" class=\"{a}\"><input type=\"hidden\" name=\"code\" value=\"{code}\"><button>{label}</button></form>"
                )
            })
            .collect();
        let _ = write!(
            b,
            "<tr data-code=\"{code}\" data-status=\"{}\"{}><td>{}</td><td>{code}</td><td class=\"status\">{status}</td><td>{} / {}</td><td>{result}</td><td>{button}</td></tr>",
            ch.status.as_str(),
            if ch.idle { " data-idle=\"true\"" } else { "" },
            esc(&ch.member.class),
            ch.answered,
            ch.planned
        );
    }
    b.push_str("</table>");
    page(&ui, &c.name, true, &b).into_response()
}

/// The form of a proctor's action.
#[derive(Debug, Deserialize, Default)]
pub struct ProctorForm {
    #[serde(default)]
    code: String,
}

/// POST /cohorts/{id}/{pause|resume}?class=…: one child (`code`) or all.
pub async fn act(
    s: Signed,
    Path((id, action)): Path<(String, String)>,
    Query(q): Query<ClassQuery>,
    axum::Form(f): axum::Form<ProctorForm>,
) -> Response {
    let action = match action.as_str() {
        "pause" => ProctorAction::Pause,
        "resume" => ProctorAction::Resume,
        "extend" => ProctorAction::Extend(EXTEND_MINUTES),
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    // A blank code is "all": every child of the screen's class (or of the cohort).
    let done = s
        .app()
        .proctor(&s.caller, &format!("cohorts/{id}"), &q.class, &f.code, action)
        .await;
    if let Err(e) = done {
        return s.fail(e).into_response();
    }
    let query = serde_urlencoded::to_string([("class", q.class.as_str())]).unwrap_or_default();
    super::page::go(&format!("/cohorts/{id}?{query}"))
}

/// GET /cohorts/{id}/results.csv?class=…: the results table for the organiser.
pub async fn results_csv(s: Signed, Path(id): Path<String>, Query(q): Query<ClassQuery>) -> Response {
    match s
        .app()
        .cohort_progress(&s.caller, &format!("cohorts/{id}"), &q.class)
        .await
    {
        Ok(p) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"cohort-{}.csv\"", p.cohort.id),
                ),
            ],
            cohort_results_csv(&p),
        )
            .into_response(),
        Err(e) => s.fail(e).into_response(),
    }
}

/// The roster form.
#[derive(Debug, Deserialize, Default)]
pub struct RosterForm {
    #[serde(default)]
    csv: String,
}

/// POST /cohorts/{id}/roster: imports a roster pasted or read from a file (all or nothing;
/// a refusal lists every bad row).
pub async fn import_roster(
    s: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RosterForm>,
) -> Response {
    match s
        .app()
        .import_roster(&s.caller, &format!("cohorts/{id}"), f.csv.as_bytes())
        .await
    {
        Ok(_) => super::page::go(&format!("/cohorts/{id}")),
        Err(e) => s.fail(e).into_response(),
    }
}

/// The tickets form.
#[derive(Debug, Deserialize, Default)]
pub struct TicketsForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    format: String,
}

/// POST /cohorts/{id}/tickets: issues tickets to the children who have not signed in and
/// answers the sheets to print, as an HTML page of cards (with QR codes) or a PDF.
pub async fn issue_tickets(
    s: Signed,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    axum::Form(f): axum::Form<TicketsForm>,
) -> Response {
    let (cohort, issued) = match s
        .app()
        .issue_tickets(&s.caller, &format!("cohorts/{id}"), &f.class)
        .await
    {
        Ok(done) => done,
        Err(e) => return s.fail(e).into_response(),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}/take");
    if f.format == "pdf" {
        let sheets = crate::tickets::sheets(&cohort.name, &issued, &base);
        return match crate::tickets::ticket_sheets_pdf(&sheets, s.lang) {
            Ok(pdf) => (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"tickets-{}.pdf\"", cohort.id),
                    ),
                ],
                pdf,
            )
                .into_response(),
            Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        };
    }
    let ui = s.screen();
    let mut b = format!(
        "<h1>{}</h1><p><a href=\"/cohorts/{}\">{}</a></p><div class=\"tickets\" id=\"tickets\">",
        esc(&cohort.name),
        esc(&cohort.id),
        te(&ui, "back")
    );
    for t in &issued {
        let _ = write!(
            b,
            "<div class=\"ticket-card\" data-code=\"{}\"><p>{} · {}</p><p>{}</p><p class=\"ticket\">{}</p>{}</div>",
            esc(&t.code),
            esc(&t.class),
            esc(&t.code),
            esc(&t.name()),
            esc(&t.ticket),
            qr_svg(&crate::tickets::ticket_url(&base, &t.ticket))
        );
    }
    b.push_str("</div>");
    page(&ui, &te(&ui, "tickets-issue"), true, &b).into_response()
}

/// The QR code of `url` as an inline SVG (its dark modules as rectangles, with the quiet zone).
fn qr_svg(url: &str) -> String {
    let Ok(m) = crate::tickets::qr::QrMatrix::encode(url) else {
        return String::new();
    };
    let side = m.side();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"132\" height=\"132\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>"
    );
    for (x, y, w, h) in m.rects((0.0, 0.0), 1.0) {
        let _ = write!(svg, "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"/>");
    }
    svg.push_str("</svg>");
    svg
}
