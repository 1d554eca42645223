//! Cohorts on the console: the list, and one cohort's proctor screen — per class, who has not
//! started, who is on which item, who has been idle over two minutes, who is paused or has
//! finished, with pause and resume of one child or of all — and its results table (with the
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
    let class_q = esc(&q.class).into_owned();
    let mut b = String::new();
    let _ = write!(
        b,
        "<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\"><h1>{}</h1><p>{} · {} · {} · {} – {}</p>",
        esc(&c.name),
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
         <p><a href=\"/cohorts/{id}/results.csv?class={class_q}\" id=\"results-csv\">{}</a></p>",
        te(&ui, "proctor-pause-all"),
        te(&ui, "proctor-resume-all"),
        te(&ui, "proctor-results-csv")
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
        let action = match ch.status {
            ScreeningStatus::InProgress { .. } => Some(("pause", te(&ui, "proctor-pause"))),
            ScreeningStatus::Paused => Some(("resume", te(&ui, "proctor-resume"))),
            _ => None,
        };
        let button = action.map_or_else(String::new, |(a, label)| {
            format!(
                "<form method=\"post\" action=\"/cohorts/{id}/{a}?class={class_q}\"><input type=\"hidden\" name=\"code\" value=\"{code}\"><button>{label}</button></form>"
            )
        });
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
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    let name = format!("cohorts/{id}");
    if f.code.is_empty() && !q.class.is_empty() {
        // "All" on a class's screen: every child of that class.
        let progress = match s.app().cohort_progress(&s.caller, &name, &q.class).await {
            Ok(p) => p,
            Err(e) => return s.fail(e).into_response(),
        };
        for ch in &progress.children {
            if let Err(e) = s.app().proctor(&s.caller, &name, &ch.member.code, action).await {
                return s.fail(e).into_response();
            }
        }
    } else if let Err(e) = s.app().proctor(&s.caller, &name, &f.code, action).await {
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
