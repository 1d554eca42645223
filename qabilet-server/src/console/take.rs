//! The child's screener page, `/take`, on the console's HTTP server: a ticket form, then one
//! item per screen driven by `assets/take/take.js` over a small JSON API. Every handler calls
//! the application layer (`App::take_*`), which finds the child's session from the device's
//! cookie alone.
//!
//! Routes: `GET /take` (the ticket form, `?ticket=` pre-fills it: the QR code of a printed
//! card), `POST /take` (sign in; sets the device cookie), `GET /take/test` (the page),
//! `GET /take/api/state`, `POST /take/api/start` (JSON `{subtest}`: the subtest's clock starts
//! after its practice items), `POST /take/api/answer` (JSON `{request_id, subtest, item, choice}`),
//! `GET /take/content/{battery}/{path}` (a picture of the screener, for a signed-in device).
//!
//! The device cookie `qabilet_take` is `HttpOnly`, `SameSite=Strict`, limited to `/take`; it
//! holds the device's random secret (the store keeps its hash).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qabilet_core::Lang;
use qabilet_core::battery::content::ItemContent;
use serde::{Deserialize, Serialize};

use super::Console;
use super::page::esc;
use super::signin::{ConsolePeer, cookie, lang_of};
use crate::app::{AppError, Channel, Peer, TakeState, TakeStep, TicketRefusal};

/// The device's cookie.
pub const TAKE_COOKIE: &str = "qabilet_take";
/// How long a device stays signed in: a school day and more.
const COOKIE_MAX_AGE_SECONDS: u32 = 14 * 24 * 3600;
/// Largest answer body accepted, bytes.
pub const MAX_ANSWER_BYTES: usize = 1024;

const CSS: &str = include_str!("../../assets/take/take.css");
const JS: &str = include_str!("../../assets/take/take.js");

fn take_peer(peer: Peer) -> Peer {
    Peer {
        channel: Channel::Take,
        addr: peer.addr,
    }
}

/// The few words of the child's pages (the items need no reading).
fn words(lang: Lang) -> [&'static str; 10] {
    match lang {
        Lang::Kk => [
            "Тапсырмалар",
            "Билет",
            "Бастау",
            "Бұл билет табылмады. Ересек адамға көрсет.",
            "Бұл билет ауыстырылды: жаңа билетті ал.",
            "Бұл билеттің мерзімі өтті.",
            "Бұл билет басқа құрылғыда ашық.",
            "Билет енгізілмеді.",
            "Тым көп әрекет: бір минут күт.",
            "Бұл билет пайдаланылды: тапсырмалар аяқталды.",
        ],
        Lang::Ru => [
            "Задания",
            "Билет",
            "Начать",
            "Такой билет не найден. Покажи его взрослому.",
            "Этот билет заменён: возьми новый.",
            "Срок этого билета истёк.",
            "Этот билет открыт на другом устройстве.",
            "Билет не введён.",
            "Слишком много попыток: подожди минуту.",
            "Этот билет уже использован: задания закончены.",
        ],
        Lang::En => [
            "Puzzles",
            "Ticket",
            "Start",
            "This ticket was not found. Show it to an adult.",
            "This ticket was replaced: take the new one.",
            "This ticket has expired.",
            "This ticket is open on another device.",
            "No ticket entered.",
            "Too many tries: wait a minute.",
            "This ticket was used: the puzzles are finished.",
        ],
    }
}

/// `?ticket=` of the form.
#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    #[serde(default)]
    ticket: String,
}

/// The form's field.
#[derive(Debug, Deserialize)]
pub struct TicketForm {
    #[serde(default)]
    ticket: String,
}

fn shell(lang: Lang, title: &str, body: &str, script: bool) -> String {
    let mut h = String::with_capacity(body.len() + 512);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/take/take.css\">\n{}</head>\n<body>\n{body}\n</body>\n</html>\n",
        lang.code(),
        esc(title),
        if script {
            "<script src=\"/take/take.js\" defer></script>\n"
        } else {
            ""
        }
    );
    h
}

fn ticket_form(lang: Lang, ticket: &str, problem: Option<&str>) -> String {
    let w = words(lang);
    let mut body = String::from("<main class=\"signin\">");
    if let Some(problem) = problem {
        let _ = write!(body, "<p class=\"problem\" role=\"alert\">⚠ {}</p>", esc(problem));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/take\"><label for=\"ticket\">🎫 {}</label>\
         <input id=\"ticket\" name=\"ticket\" value=\"{}\" autocomplete=\"off\" autocapitalize=\"characters\" \
         spellcheck=\"false\" maxlength=\"24\" required autofocus>\
         <button type=\"submit\" class=\"go\">▶ {}</button></form></main>",
        w[1],
        esc(ticket),
        w[2]
    );
    shell(lang, w[0], &body, false)
}

/// GET /take: the ticket form.
pub async fn form(headers: HeaderMap, Query(q): Query<TicketQuery>) -> Response {
    let lang = lang_of(&headers);
    let ticket: String = q.ticket.chars().take(24).collect();
    Html(ticket_form(lang, &ticket, None)).into_response()
}

/// POST /take: signs the device in and sends it to the page.
pub async fn sign_in(
    State(console): State<Arc<Console>>,
    ConsolePeer(peer): ConsolePeer,
    headers: HeaderMap,
    axum::Form(form): axum::Form<TicketForm>,
) -> Response {
    let lang = lang_of(&headers);
    let held = cookie(&headers, TAKE_COOKIE);
    match console
        .app
        .take_sign_in(take_peer(peer), &form.ticket, held)
        .await
    {
        Ok((state, secret)) => {
            let mut headers = HeaderMap::new();
            let cookies = [
                format!(
                    "{TAKE_COOKIE}={secret}; Path=/take; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECONDS}"
                ),
                format!(
                    "qabilet_lang={}; Path=/; SameSite=Strict",
                    state.lang.unwrap_or(Lang::Kk).code()
                ),
            ];
            for c in cookies {
                if let Ok(v) = header::HeaderValue::try_from(c) {
                    headers.append(header::SET_COOKIE, v);
                }
            }
            (headers, Redirect::to("/take/test")).into_response()
        }
        Err(e) => {
            let w = words(lang);
            let (status, text) = match &e {
                AppError::Ticket(TicketRefusal::Malformed) if form.ticket.trim().is_empty() => {
                    (StatusCode::BAD_REQUEST, w[7])
                }
                AppError::Ticket(
                    TicketRefusal::Malformed | TicketRefusal::Unknown | TicketRefusal::SignedOut,
                ) => (StatusCode::FORBIDDEN, w[3]),
                AppError::Ticket(TicketRefusal::Replaced) => (StatusCode::FORBIDDEN, w[4]),
                AppError::Ticket(TicketRefusal::Expired) => (StatusCode::FORBIDDEN, w[5]),
                AppError::Ticket(TicketRefusal::OtherDevice) => (StatusCode::FORBIDDEN, w[6]),
                AppError::Ticket(TicketRefusal::Used) => (StatusCode::FORBIDDEN, w[9]),
                AppError::Exhausted(_) => (StatusCode::TOO_MANY_REQUESTS, w[8]),
                _ => (StatusCode::SERVICE_UNAVAILABLE, "…"),
            };
            let ticket: String = form.ticket.chars().take(24).collect();
            (status, Html(ticket_form(lang, &ticket, Some(text)))).into_response()
        }
    }
}

/// GET /take/test: the page (its script asks for the state).
pub async fn test_page(headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let body = "<main id=\"take\" aria-live=\"polite\"></main><noscript>JavaScript</noscript>";
    Html(shell(lang, words(lang)[0], body, true)).into_response()
}

/// One picture's address.
fn picture(battery: &str, path: &str) -> String {
    format!("/take/content/{battery}/{path}")
}

/// An item as the page receives it (the key of a scored item never leaves the server).
#[derive(Debug, Serialize)]
struct ItemJson {
    id: String,
    stimulus: String,
    options: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<usize>,
}

fn item_json(battery: &str, item: &ItemContent, with_key: bool) -> ItemJson {
    ItemJson {
        id: item.id.clone(),
        stimulus: picture(battery, &item.stimulus),
        options: item.options.iter().map(|o| picture(battery, o)).collect(),
        key: with_key.then_some(item.key),
    }
}

#[derive(Debug, Serialize)]
struct SubtestJson {
    id: String,
    index: usize,
    count: usize,
    example: String,
    practice: Vec<ItemJson>,
    time_limit_seconds: u32,
}

/// The state as the page receives it.
#[derive(Debug, Serialize)]
struct StateJson {
    status: &'static str,
    session: String,
    answered: usize,
    planned: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_left_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtest: Option<SubtestJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<ItemJson>,
}

fn state_json(state: &TakeState) -> StateJson {
    let battery = state.norms.battery.id.as_str();
    let (status, subtest, item) = match &state.step {
        TakeStep::Item { index, item } => {
            let content = state.norms.content.get(*index).and_then(Option::as_ref);
            let subtest = content.map(|c| SubtestJson {
                id: state.norms.battery.subtests[*index].id.clone(),
                index: *index,
                count: state.norms.battery.subtests.len(),
                example: picture(battery, &c.example),
                practice: c.practice.iter().map(|p| item_json(battery, p, true)).collect(),
                time_limit_seconds: c.time_limit_seconds,
            });
            ("item", subtest, Some(item_json(battery, item, false)))
        }
        TakeStep::Paused => ("paused", None, None),
        TakeStep::Done => ("done", None, None),
    };
    StateJson {
        status,
        session: state.session.id.clone(),
        answered: state.answered,
        planned: state.planned,
        time_left_ms: state.time_left_ms,
        subtest,
        item,
    }
}

#[derive(Debug, Serialize)]
struct ErrorJson {
    error: &'static str,
    message: String,
}

/// An error as the page receives it: `signed_out` (send the child to the ticket form),
/// `not_due` (the page asks for the state again), `invalid`, `busy`, `unavailable`.
fn error_json(e: AppError) -> Response {
    let (status, error) = match &e {
        AppError::Ticket(_) => (StatusCode::FORBIDDEN, "signed_out"),
        AppError::FailedPrecondition(_) => (StatusCode::CONFLICT, "not_due"),
        AppError::Invalid { .. } | AppError::Rejected { .. } | AppError::NotFound { .. } => {
            (StatusCode::BAD_REQUEST, "invalid")
        }
        AppError::Exhausted(_) => (StatusCode::TOO_MANY_REQUESTS, "busy"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    json(
        status,
        &ErrorJson {
            error,
            message: e.to_string(),
        },
    )
}

/// `value` as a JSON answer with `status`.
fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn device(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, TAKE_COOKIE).filter(|c| c.len() <= 64)
}

/// GET /take/api/state.
pub async fn state(
    State(console): State<Arc<Console>>,
    ConsolePeer(peer): ConsolePeer,
    headers: HeaderMap,
) -> Response {
    let Some(secret) = device(&headers) else {
        return error_json(AppError::Ticket(TicketRefusal::SignedOut));
    };
    state_or_error(console.app.take_state(take_peer(peer), secret).await)
}

/// The body of an answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    request_id: String,
    subtest: String,
    item: String,
    choice: usize,
}

/// The device's secret and the JSON body of a POST of the page. (Bodies over
/// [`MAX_ANSWER_BYTES`] are refused by the route, unread.)
fn device_and_body<'h, T: serde::de::DeserializeOwned>(
    headers: &'h HeaderMap,
    body: &[u8],
    field: &str,
) -> Result<(&'h str, T), AppError> {
    let secret = device(headers).ok_or(AppError::Ticket(TicketRefusal::SignedOut))?;
    let parsed = serde_json::from_slice(body).map_err(|e| AppError::invalid(field, e.to_string()))?;
    Ok((secret, parsed))
}

/// The page's answer to an operation: the state, or the error.
fn state_or_error(result: Result<TakeState, AppError>) -> Response {
    match result {
        Ok(state) => json(StatusCode::OK, &state_json(&state)),
        Err(e) => error_json(e),
    }
}

/// POST /take/api/answer.
pub async fn answer(
    State(console): State<Arc<Console>>,
    ConsolePeer(peer): ConsolePeer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (secret, answer) = match device_and_body::<Answer>(&headers, &body, "answer") {
        Ok(parts) => parts,
        Err(e) => return error_json(e),
    };
    state_or_error(
        console
            .app
            .take_answer(
                take_peer(peer),
                secret,
                &answer.subtest,
                &answer.item,
                answer.choice,
                &answer.request_id,
            )
            .await,
    )
}

/// The body of a subtest's start.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    subtest: String,
}

/// POST /take/api/start: the worked example and practice are over; the subtest's clock starts.
pub async fn start(
    State(console): State<Arc<Console>>,
    ConsolePeer(peer): ConsolePeer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (secret, start) = match device_and_body::<Start>(&headers, &body, "start") {
        Ok(parts) => parts,
        Err(e) => return error_json(e),
    };
    state_or_error(
        console
            .app
            .take_start(take_peer(peer), secret, &start.subtest)
            .await,
    )
}

/// GET /take/content/{battery}/{*path}: a picture of the screener, for a signed-in device.
pub async fn content(
    State(console): State<Arc<Console>>,
    ConsolePeer(peer): ConsolePeer,
    headers: HeaderMap,
    Path((battery, path)): Path<(String, String)>,
) -> Response {
    let Some(secret) = device(&headers) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    match console
        .app
        .take_picture(take_peer(peer), secret, &battery, &path)
        .await
    {
        Ok(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "private, max-age=86400"),
            ],
            svg,
        )
            .into_response(),
        Err(AppError::Ticket(_)) => StatusCode::FORBIDDEN.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// GET /take/take.css.
pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
}

/// GET /take/take.js.
pub async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        JS,
    )
}
