//! One subtest of a session: the item the rules say is due next (its id and maximum: the
//! demonstration items have no prompt text), a button per allowed score (the console's
//! script submits them with the digit keys), the subtest's timer when it is timed, the rule
//! state as it happens (phase, start item, basal, discontinue; θ̂ and SE for an adaptive
//! subtest), an override form with its reason, and a total for a speed subtest.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::page::{error_box, esc, is_form_error, page, state_word, te};
use super::signin::Signed;
use crate::app::ResponseInput;

/// GET /sessions/{id}/subtests/{subtest}
pub async fn show(s: Signed, Path((id, subtest)): Path<(String, String)>) -> Response {
    render(&s, &id, &subtest, None).await
}

async fn render(s: &Signed, id: &str, subtest: &str, error: Option<&str>) -> Response {
    let view = match s
        .app()
        .next_item(&s.caller, &format!("sessions/{id}"), subtest)
        .await
    {
        Ok(v) => v,
        Err(e) => return s.fail(e).into_response(),
    };
    let state = &view.state;
    let def = &view.norms.battery.subtests[view.index];
    let next_item = state.next_item.as_deref().unwrap_or("");
    let phase = state.phase.map_or("", |p| p.as_str());
    let ui = s.screen();
    let id = esc(id);
    let sid = esc(subtest);
    let mut b = error_box(&ui, error);
    let _ = write!(
        b,
        "<dl class=\"meta rules\" id=\"rules\"><dt>{}</dt><dd class=\"phase\">{}</dd><dt>{}</dt><dd class=\"start-item\">{}</dd>\
         <dt>{}</dt><dd class=\"basal\">{}</dd><dt>{}</dt><dd class=\"discontinued\">{}</dd><dt>{}</dt><dd class=\"raw\">{}</dd>\
         <dt>{}</dt><dd>{}</dd>",
        te(&ui, "phase"),
        state_word(&ui, "phase", phase),
        te(&ui, "start-item"),
        esc(state.start_item.as_deref().unwrap_or("")),
        te(&ui, "basal"),
        esc(state.basal_item.as_deref().unwrap_or("")),
        te(&ui, "discontinued-after"),
        esc(state.discontinued_after.as_deref().unwrap_or("")),
        te(&ui, "raw-score"),
        state.raw_score,
        te(&ui, "items-administered"),
        state.items_administered,
    );
    if let Some(estimate) = &state.adaptive {
        let theta = estimate.theta.map_or_else(String::new, |v| format!("{v:.2}"));
        let se = estimate.se.map_or_else(String::new, |v| format!("{v:.2}"));
        let _ = write!(
            b,
            "<dt>{}</dt><dd class=\"theta\">{theta} ± {se}</dd>",
            te(&ui, "theta")
        );
    }
    if let Some(done) = state.done {
        let _ = write!(
            b,
            "<dt>{}</dt><dd class=\"done-reason\">{}</dd>",
            te(&ui, "done-reason"),
            state_word(&ui, "done", done.as_str())
        );
    }
    b.push_str("</dl>");
    if let Some(secs) = def.time_limit_seconds.filter(|&t| t > 0 && state.done.is_none()) {
        let _ = write!(
            b,
            "<p class=\"timer\">{} <output id=\"timer\" data-seconds=\"{secs}\">{}:{:02}</output></p>",
            te(&ui, "timer"),
            secs / 60,
            secs % 60
        );
    }
    if state.done.is_some() {
        let _ = write!(b, "<p class=\"done\">{}</p>", te(&ui, "subtest-done"));
    } else if phase == "total" {
        let _ = write!(
            b,
            "<form method=\"post\" class=\"card\"><input type=\"hidden\" name=\"request_id\" value=\"{}\">\
             <label>{} (0–{})<input type=\"number\" name=\"score\" min=\"0\" max=\"{}\" required></label><button>{}</button></form>",
            super::request_id(),
            te(&ui, "total"),
            def.raw_max,
            def.raw_max,
            te(&ui, "record"),
        );
    } else {
        let max = def.items.iter().find(|i| i.id == next_item).map_or(1, |i| i.max);
        let _ = write!(
            b,
            "<section class=\"item\"><h2>{} <code class=\"next-item\" data-item=\"{item}\">{item}</code></h2><p>{} {max}</p>\
             <form method=\"post\" id=\"score\" class=\"scores\"><input type=\"hidden\" name=\"item\" value=\"{item}\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{}\">",
            te(&ui, "next-item"),
            te(&ui, "item-max"),
            super::request_id(),
            item = esc(next_item),
        );
        for score in 0..=max {
            let _ = write!(
                b,
                "<button name=\"score\" value=\"{score}\" data-score=\"{score}\" aria-keyshortcuts=\"{score}\">{score}</button>"
            );
        }
        let _ = write!(
            b,
            "</form><p class=\"help\">{}</p></section>",
            te(&ui, "keys-help")
        );
    }
    if state.adaptive.is_none() && !def.items.is_empty() {
        let _ = write!(
            b,
            "<details class=\"override\"><summary>{}</summary><p class=\"help\">{}</p><form method=\"post\" class=\"card\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{}\"><label>{}<select name=\"item\">",
            te(&ui, "override"),
            te(&ui, "override-help"),
            super::request_id(),
            te(&ui, "next-item"),
        );
        for item in &def.items {
            let _ = write!(b, "<option>{}</option>", esc(&item.id));
        }
        let _ = write!(
            b,
            "</select></label><label>{}<input type=\"number\" name=\"score\" min=\"0\" required></label>\
             <label>{}<input name=\"reason\" required></label><button>{}</button></form></details>",
            te(&ui, "score"),
            te(&ui, "reason"),
            te(&ui, "record"),
        );
    }
    if !state.overrides.is_empty() {
        let _ = write!(b, "<h2>{}</h2><ul>", te(&ui, "override"));
        for o in &state.overrides {
            let item = esc(o.item.as_deref().unwrap_or(""));
            if o.reason.is_empty() {
                // Withheld (a researcher's view).
                let _ = write!(b, "<li><code>{item}</code></li>");
            } else {
                let _ = write!(b, "<li><code>{item}</code>: {}</li>", esc(&o.reason));
            }
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        "<p><a href=\"/sessions/{id}\">{}</a></p>",
        te(&ui, "back-to-session")
    );
    let title = format!("{sid} — {}", def.names.get(ui.lang));
    let code = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (code, page(&ui, &title, true, &b)).into_response()
}

/// A score, a total or an override.
#[derive(Deserialize)]
pub struct Score {
    #[serde(default)]
    item: String,
    score: u32,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    request_id: String,
}

/// POST /sessions/{id}/subtests/{subtest}
pub async fn record(
    s: Signed,
    Path((id, subtest)): Path<(String, String)>,
    Form(f): Form<Score>,
) -> Response {
    let input = ResponseInput {
        item: f.item,
        score: f.score,
        override_reason: f.reason,
    };
    let request_id = if f.request_id.is_empty() {
        super::request_id()
    } else {
        f.request_id
    };
    let recorded = s
        .app()
        .record_response(&s.caller, &format!("sessions/{id}"), &subtest, input, &request_id)
        .await;
    match recorded {
        Ok(_) => super::page::go(&format!("/sessions/{id}/subtests/{subtest}")),
        Err(e) if is_form_error(&e) => render(&s, &id, &subtest, Some(&e.to_string())).await,
        Err(e) => s.fail(e).into_response(),
    }
}
