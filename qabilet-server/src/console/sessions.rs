//! One session: the battery's subtests with their administration state, and the pause,
//! resume and finish buttons.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::children::{localized, state_name};
use super::page::{error_box, esc, is_form_error, page, state_word, t, te};
use super::signin::Signed;
use crate::grpc::pb::assessment_server::Assessment;
use crate::grpc::pb::catalog_server::Catalog;
use crate::grpc::pb::{self, GetBatteryRequest, GetSessionRequest, SessionActionRequest};

/// GET /sessions/{id}
pub async fn show(s: Signed, Path(id): Path<String>) -> Response {
    render(&s, &id, None).await
}

/// The session and its battery.
pub async fn session_and_battery(s: &Signed, id: &str) -> Result<(pb::Session, pb::Battery), tonic::Status> {
    let session = s
        .console
        .assessment
        .get_session(s.req(GetSessionRequest {
            name: format!("sessions/{id}"),
        }))
        .await?
        .into_inner();
    let battery = s
        .console
        .catalog
        .get_battery(s.req(GetBatteryRequest {
            name: session.battery.clone(),
        }))
        .await?
        .into_inner();
    Ok((session, battery))
}

async fn render(s: &Signed, id: &str, error: Option<&str>) -> Response {
    let (session, battery) = match session_and_battery(s, id).await {
        Ok(x) => x,
        Err(e) => return s.fail(e).into_response(),
    };
    let ui = s.screen();
    let mut b = String::new();
    let _ = write!(
        b,
        "{err}<dl class=\"meta\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd class=\"state\">{}</dd></dl>",
        te(&ui, "battery"),
        esc(&localized(&ui, &battery.names.clone().unwrap_or_default())),
        te(&ui, "test-date"),
        esc(&session.test_date),
        te(&ui, "state"),
        state_word(&ui, "state", state_name(session.state)),
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
    for st in &session.subtests {
        let name = battery
            .subtests
            .iter()
            .find(|x| x.id == st.subtest)
            .and_then(|x| x.names.as_ref())
            .map(|n| localized(&ui, n))
            .unwrap_or_default();
        let done = if st.done {
            format!("✓ {}", state_word(&ui, "done", &st.done_reason))
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<tr data-subtest=\"{sid}\"><td><code>{sid}</code> {name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{done}</td>\
             <td><a href=\"/sessions/{id}/subtests/{sid}\">{open}</a></td></tr>",
            esc(&st.start_item),
            state_word(&ui, "phase", &st.phase),
            esc(&st.basal_item),
            esc(&st.discontinued_after),
            st.raw_score,
            st.items_administered,
            sid = esc(&st.subtest),
            name = esc(&name),
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
        "</div><p><a href=\"/sessions/{id}/results\">{}</a> · <a href=\"/sessions/{id}/report\">{}</a> · <a href=\"/{}\">{}</a></p>",
        te(&ui, "results"),
        te(&ui, "report"),
        esc(&session.child),
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
    let request = s.req(SessionActionRequest {
        name: format!("sessions/{id}"),
        request_id: if f.request_id.is_empty() {
            super::request_id()
        } else {
            f.request_id
        },
    });
    let svc = &s.console.assessment;
    let done = match action.as_str() {
        "pause" => svc.pause_session(request).await,
        "resume" => svc.resume_session(request).await,
        "finish" => svc.finish_session(request).await,
        _ => return s.fail(tonic::Status::not_found("no such action")).into_response(),
    };
    match done {
        Ok(_) if action == "finish" => super::page::go(&format!("/sessions/{id}/results")),
        Ok(_) => super::page::go(&format!("/sessions/{id}")),
        Err(e) if is_form_error(&e) => render(&s, &id, Some(e.message())).await,
        Err(e) => s.fail(e).into_response(),
    }
}
