//! One session: the battery's subtests with their administration state, and the pause,
//! resume and finish buttons.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::page::{error_box, esc, is_form_error, page, state_word, t, te};
use super::signin::Signed;
use crate::app::{SessionView, Transition};

/// GET /sessions/{id}
pub async fn show(s: Signed, Path(id): Path<String>) -> Response {
    render(&s, &id, None).await
}

async fn render(s: &Signed, id: &str, error: Option<&str>) -> Response {
    let view = match s.app().get_session(&s.caller, &format!("sessions/{id}")).await {
        Ok(v) => v,
        Err(e) => return s.fail(e).into_response(),
    };
    let SessionView {
        session,
        norms,
        subtests,
    } = &view;
    let ui = s.screen();
    let battery_name = norms
        .as_ref()
        .map_or(session.battery_id.as_str(), |n| n.battery.names.get(ui.lang));
    let mut b = String::new();
    let _ = write!(
        b,
        "{err}<dl class=\"meta\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd class=\"state\">{}</dd></dl>",
        te(&ui, "battery"),
        esc(battery_name),
        te(&ui, "test-date"),
        esc(&session.test_date),
        te(&ui, "state"),
        state_word(&ui, "state", session.state.as_str()),
        err = error_box(&ui, error),
    );
    let _ = write!(
        b,
        "<table class=\"subtests\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        te(&ui, "subtest"),
        te(&ui, "start-item"),
        te(&ui, "phase"),
        te(&ui, "basal"),
        te(&ui, "discontinued-after"),
        te(&ui, "raw-score"),
        te(&ui, "items-administered"),
        te(&ui, "done"),
    );
    for st in subtests {
        let name = norms
            .as_ref()
            .and_then(|n| n.battery.subtests.iter().find(|x| x.id == st.subtest))
            .map_or("", |x| x.names.get(ui.lang));
        let done = st.done.map_or_else(String::new, |d| {
            format!("✓ {}", state_word(&ui, "done", d.as_str()))
        });
        let text = |v: &Option<String>| esc(v.as_deref().unwrap_or("")).into_owned();
        let _ = write!(
            b,
            "<tr data-subtest=\"{sid}\"><td><code>{sid}</code> {name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{done}</td>\
             <td><a href=\"/sessions/{id}/subtests/{sid}\">{open}</a></td></tr>",
            text(&st.start_item),
            state_word(&ui, "phase", st.phase.map_or("", |p| p.as_str())),
            text(&st.basal_item),
            text(&st.discontinued_after),
            st.raw_score,
            st.items_administered,
            sid = esc(&st.subtest),
            name = esc(name),
            id = esc(id),
            open = te(&ui, "open"),
        );
    }
    b.push_str("</table><div class=\"actions\">");
    for (action, key) in [("pause", "pause"), ("resume", "resume"), ("finish", "finish")] {
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/sessions/{}/{action}\"><input type=\"hidden\" name=\"request_id\" value=\"{}\"><button>{}</button></form>",
            esc(id),
            super::request_id(),
            te(&ui, key)
        );
    }
    let _ = write!(
        b,
        "</div><p><a href=\"/sessions/{id}/results\">{}</a> · <a href=\"/sessions/{id}/report\">{}</a> · <a href=\"/children/{}\">{}</a></p>",
        te(&ui, "results"),
        te(&ui, "report"),
        esc(&session.child_id),
        te(&ui, "child"),
        id = esc(id),
    );
    let code = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (code, page(&ui, &t(&ui, "session"), true, &b)).into_response()
}

/// The action forms.
#[derive(serde::Deserialize)]
pub struct Action {
    #[serde(default)]
    request_id: String,
}

/// POST /sessions/{id}/{pause|resume|finish}
pub async fn act(
    s: Signed,
    Path((id, action)): Path<(String, String)>,
    axum::Form(f): axum::Form<Action>,
) -> Response {
    let transition = match action.as_str() {
        "pause" => Transition::Pause,
        "resume" => Transition::Resume,
        "finish" => Transition::Finish,
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    let request_id = if f.request_id.is_empty() {
        super::request_id()
    } else {
        f.request_id
    };
    let done = s
        .app()
        .change_session_state(&s.caller, &format!("sessions/{id}"), transition, &request_id)
        .await;
    match done {
        Ok(_) if transition == Transition::Finish => super::page::go(&format!("/sessions/{id}/results")),
        Ok(_) => super::page::go(&format!("/sessions/{id}")),
        Err(e) if is_form_error(&e) => render(&s, &id, Some(&e.to_string())).await,
        Err(e) => s.fail(e).into_response(),
    }
}
