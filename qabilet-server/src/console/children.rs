//! Children: search by code prefix, the list, the create form, one child with its sessions
//! and the start-session form. Only the pseudonymous code is ever in a URL (the search);
//! birth dates and names travel in POST bodies only.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::page::{error_box, esc, is_form_error, page, state_word, t, te};
use super::signin::Signed;
use crate::app::ChildInput;
use crate::store::PageRequest;

/// Children listed on one page.
const PAGE_SIZE: u32 = 100;

/// The search, and the page: `after` is the service's page token (a child id, never
/// personal data).
#[derive(Deserialize, Default)]
pub struct Search {
    #[serde(default)]
    code: String,
    #[serde(default)]
    after: String,
}

/// GET /children?code=…&after=…
pub async fn list(s: Signed, Query(q): Query<Search>) -> Response {
    render_list(&s, &q, None).await
}

async fn render_list(s: &Signed, q: &Search, error: Option<&str>) -> Response {
    let code = q.code.as_str();
    let page_request = PageRequest {
        size: PAGE_SIZE,
        after: (!q.after.is_empty()).then(|| q.after.clone()),
    };
    let (children, next) = match s.app().list_children(&s.caller, code, page_request).await {
        Ok(p) => (p.items, p.next.unwrap_or_default()),
        Err(e) => return s.fail(e).into_response(),
    };
    let ui = s.screen();
    let mut b = String::new();
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/children\" class=\"row\"><label>{}<input name=\"code\" value=\"{}\"></label><button>{}</button></form>",
        te(&ui, "search-code"),
        esc(code),
        te(&ui, "search")
    );
    if children.is_empty() {
        let _ = write!(b, "<p>{}</p>", te(&ui, "none-found"));
    } else {
        let _ = write!(
            b,
            "<table class=\"children\"><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            te(&ui, "code"),
            te(&ui, "test-language"),
            te(&ui, "birth-date")
        );
        for c in &children {
            let _ = write!(
                b,
                "<tr><td><a href=\"/children/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                esc(&c.id),
                esc(&c.code),
                esc(&c.test_language),
                esc(&c.birth_date)
            );
        }
        b.push_str("</table>");
    }
    let mut pages = Vec::new();
    if !q.after.is_empty() {
        pages.push(format!(
            "<a href=\"/children?{}\">{}</a>",
            esc(&serde_urlencoded::to_string([("code", code)]).unwrap_or_default()),
            te(&ui, "first-page")
        ));
    }
    if !next.is_empty() {
        pages.push(format!(
            "<a rel=\"next\" href=\"/children?{}\">{}</a>",
            esc(&serde_urlencoded::to_string([("code", code), ("after", next.as_str())]).unwrap_or_default()),
            te(&ui, "next-page")
        ));
    }
    if !pages.is_empty() {
        let _ = write!(b, "<p class=\"pages\">{}</p>", pages.join(" · "));
    }
    let _ = write!(
        b,
        "<h2>{create_child}</h2>{err}<form method=\"post\" action=\"/children\" class=\"card\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\
         <label>{code}<input name=\"code\" required></label>\
         <label>{birth}<input type=\"date\" name=\"birth_date\" required></label>\
         <label>{sex}<select name=\"sex\"><option>F</option><option>M</option></select></label>\
         <label>{tl}<select name=\"test_language\"><option>kk</option><option>ru</option><option>en</option></select></label>\
         <button>{create}</button></form>",
        create_child = te(&ui, "create-child"),
        err = error_box(&ui, error),
        rid = super::request_id(),
        code = te(&ui, "code"),
        birth = te(&ui, "birth-date"),
        sex = te(&ui, "sex"),
        tl = te(&ui, "test-language"),
        create = te(&ui, "create"),
    );
    let code = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    (code, page(&ui, &t(&ui, "children"), true, &b)).into_response()
}

/// The create form.
#[derive(Deserialize)]
pub struct NewChild {
    code: String,
    birth_date: String,
    sex: String,
    test_language: String,
    #[serde(default)]
    request_id: String,
}

/// POST /children
pub async fn create(s: Signed, Form(f): Form<NewChild>) -> Response {
    let request_id = if f.request_id.is_empty() {
        super::request_id()
    } else {
        f.request_id
    };
    let input = ChildInput {
        code: f.code,
        birth_date: f.birth_date,
        sex: f.sex,
        test_language: f.test_language,
        ..ChildInput::default()
    };
    match s.app().create_child(&s.caller, input, &request_id).await {
        Ok(c) => super::page::go(&format!("/children/{}", c.id)),
        Err(e) if is_form_error(&e) => render_list(&s, &Search::default(), Some(&e.to_string())).await,
        Err(e) => s.fail(e).into_response(),
    }
}

/// GET /children/{id}
pub async fn show(s: Signed, Path(id): Path<String>) -> Response {
    render_child(&s, &id, None).await
}

async fn render_child(s: &Signed, id: &str, error: Option<&str>) -> Response {
    let name = format!("children/{id}");
    let app = s.app();
    let child = match app.get_child(&s.caller, &name).await {
        Ok(c) => c,
        Err(e) => return s.fail(e).into_response(),
    };
    let sessions = match app
        .list_sessions(&s.caller, Some(&name), PageRequest::first(100))
        .await
    {
        Ok(p) => p.items,
        Err(e) => return s.fail(e).into_response(),
    };
    let batteries = match app.list_batteries(&s.caller, 100, "").await {
        Ok(p) => p.batteries,
        Err(e) => return s.fail(e).into_response(),
    };
    let ui = s.screen();
    let mut b = String::new();
    let _ = write!(
        b,
        "<dl class=\"meta\"><dt>{}</dt><dd class=\"child-code\">{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
        te(&ui, "code"),
        esc(&child.code),
        te(&ui, "birth-date"),
        esc(&child.birth_date),
        te(&ui, "sex"),
        esc(child.sex.as_deref().unwrap_or("")),
        te(&ui, "test-language"),
        esc(&child.test_language),
    );
    let _ = write!(b, "<h2>{}</h2>", te(&ui, "sessions"));
    if sessions.is_empty() {
        let _ = write!(b, "<p>{}</p>", te(&ui, "none-found"));
    } else {
        let _ = write!(
            b,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            te(&ui, "battery"),
            te(&ui, "test-date"),
            te(&ui, "state"),
            te(&ui, "examiner")
        );
        for x in &sessions {
            let _ = write!(
                b,
                "<tr><td><a href=\"/sessions/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&x.id),
                esc(&x.battery_id),
                esc(&x.test_date),
                state_word(&ui, "state", x.state.as_str()),
                esc(&x.examiner)
            );
        }
        b.push_str("</table>");
    }
    let _ = write!(
        b,
        "<h2>{}</h2>{}<form method=\"post\" action=\"/children/{}/sessions\" class=\"card\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{}\"><label>{}<select name=\"battery\">",
        te(&ui, "start-session"),
        error_box(&ui, error),
        esc(id),
        super::request_id(),
        te(&ui, "battery"),
    );
    for norms in &batteries {
        let _ = write!(
            b,
            "<option value=\"batteries/{}\">{}</option>",
            esc(&norms.battery.id),
            esc(norms.battery.names.get(ui.lang))
        );
    }
    let _ = write!(
        b,
        "</select></label><label>{}<input type=\"date\" name=\"test_date\" required></label><button>{}</button></form>",
        te(&ui, "test-date"),
        te(&ui, "start")
    );
    let code = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    (
        code,
        page(&ui, &format!("{} {}", t(&ui, "child"), child.code), true, &b),
    )
        .into_response()
}

/// The start form.
#[derive(Deserialize)]
pub struct NewSession {
    battery: String,
    test_date: String,
    #[serde(default)]
    request_id: String,
}

/// POST /children/{id}/sessions
pub async fn start_session(s: Signed, Path(id): Path<String>, Form(f): Form<NewSession>) -> Response {
    let request_id = if f.request_id.is_empty() {
        super::request_id()
    } else {
        f.request_id
    };
    let started = s
        .app()
        .start_session(
            &s.caller,
            &format!("children/{id}"),
            &f.battery,
            &f.test_date,
            &request_id,
        )
        .await;
    match started {
        Ok(x) => super::page::go(&format!("/sessions/{}", x.session.id)),
        Err(e) if is_form_error(&e) => render_child(&s, &id, Some(&e.to_string())).await,
        Err(e) => s.fail(e).into_response(),
    }
}
