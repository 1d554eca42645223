//! Children: search by code prefix, the list, the create form, one child with its sessions
//! and the start-session form. Only the pseudonymous code is ever in a URL (the search);
//! birth dates and names travel in POST bodies only.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::page::{Screen, error_box, esc, is_form_error, page, state_word, t, te};
use super::signin::Signed;
use crate::grpc::pb::assessment_server::Assessment;
use crate::grpc::pb::catalog_server::Catalog;
use crate::grpc::pb::{
    self, CreateChildRequest, GetChildRequest, ListBatteriesRequest, ListChildrenRequest,
    ListSessionsRequest, StartSessionRequest,
};

/// Children listed on one page.
const PAGE_SIZE: i32 = 100;

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
    let (children, next) = match s
        .console
        .assessment
        .list_children(s.req(ListChildrenRequest {
            page_size: PAGE_SIZE,
            page_token: q.after.clone(),
            code_prefix: code.to_owned(),
        }))
        .await
    {
        Ok(r) => {
            let r = r.into_inner();
            (r.children, r.next_page_token)
        }
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
                "<tr><td><a href=\"/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                esc(&c.name),
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
    let made = s
        .console
        .assessment
        .create_child(s.req(CreateChildRequest {
            child: Some(pb::Child {
                code: f.code.trim().to_owned(),
                birth_date: f.birth_date,
                sex: f.sex,
                test_language: f.test_language,
                ..Default::default()
            }),
            request_id,
        }))
        .await;
    match made {
        Ok(c) => super::page::go(&format!("/{}", c.into_inner().name)),
        Err(e) if is_form_error(&e) => render_list(&s, &Search::default(), Some(e.message())).await,
        Err(e) => s.fail(e).into_response(),
    }
}

/// GET /children/{id}
pub async fn show(s: Signed, Path(id): Path<String>) -> Response {
    render_child(&s, &id, None).await
}

async fn render_child(s: &Signed, id: &str, error: Option<&str>) -> Response {
    let name = format!("children/{id}");
    let svc = &s.console.assessment;
    let child = match svc.get_child(s.req(GetChildRequest { name: name.clone() })).await {
        Ok(c) => c.into_inner(),
        Err(e) => return s.fail(e).into_response(),
    };
    let sessions = match svc
        .list_sessions(s.req(ListSessionsRequest {
            page_size: 100,
            page_token: String::new(),
            child: name.clone(),
        }))
        .await
    {
        Ok(r) => r.into_inner().sessions,
        Err(e) => return s.fail(e).into_response(),
    };
    let batteries = match s
        .console
        .catalog
        .list_batteries(s.req(ListBatteriesRequest {
            page_size: 100,
            page_token: String::new(),
        }))
        .await
    {
        Ok(r) => r.into_inner().batteries,
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
        esc(&child.sex),
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
                "<tr><td><a href=\"/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&x.name),
                esc(&x.battery),
                esc(&x.test_date),
                state_word(&ui, "state", state_name(x.state)),
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
    for bat in &batteries {
        let names = bat.names.clone().unwrap_or_default();
        let _ = write!(
            b,
            "<option value=\"{}\">{}</option>",
            esc(&bat.name),
            esc(&localized(&ui, &names))
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

/// A session state's code (shown through [`state_word`] under "state").
pub fn state_name(state: i32) -> &'static str {
    match pb::SessionState::try_from(state) {
        Ok(pb::SessionState::Active) => "active",
        Ok(pb::SessionState::Paused) => "paused",
        Ok(pb::SessionState::Finished) => "finished",
        _ => "unspecified",
    }
}

/// A text in the interface language (the first non-empty one otherwise).
pub fn localized(ui: &Screen<'_>, text: &pb::LocalizedText) -> String {
    let preferred = match ui.lang {
        qabilet_core::Lang::Kk => &text.kk,
        qabilet_core::Lang::Ru => &text.ru,
        qabilet_core::Lang::En => &text.en,
    };
    [preferred, &text.en, &text.ru, &text.kk]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default()
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
        .console
        .assessment
        .start_session(s.req(StartSessionRequest {
            child: format!("children/{id}"),
            battery: f.battery,
            test_date: f.test_date,
            request_id,
        }))
        .await;
    match started {
        Ok(x) => super::page::go(&format!("/{}", x.into_inner().name)),
        Err(e) if is_form_error(&e) => render_child(&s, &id, Some(e.message())).await,
        Err(e) => s.fail(e).into_response(),
    }
}
