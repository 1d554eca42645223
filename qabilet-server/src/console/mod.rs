//! The psychologist's console: server-rendered HTML pages served by `qabilet serve` on its
//! HTTP address (`--http-addr`), in the same process and runtime as the gRPC service.
//!
//! There is no second implementation of any rule here: every handler calls the application
//! layer (`crate::app`) with the caller of its server-side console session, so role checks,
//! de-identification, audit, limits and the administration rules are the application's, the
//! same as for gRPC. Handlers only turn forms into operations and results into pages.
//!
//! Screens: sign-in ([`signin`]), children ([`children`]), a session ([`sessions`]), a
//! subtest's next item ([`subtest`]), results ([`results`]) and the consultation report
//! ([`report`]); screening cohorts and their proctor screen ([`cohorts`]); and the child's
//! screener ([`take`]). The interface texts are in `assets/console/{kk,ru,en}.ftl` ([`i18n`]); the
//! language is a cookie, and nothing personal is ever put in a URL (children and sessions are
//! named by their ids, a search by the pseudonymous code only).

pub mod children;
pub mod cohorts;
pub mod i18n;
pub mod page;
pub mod report;
pub mod results;
pub mod sessions;
pub mod signin;
pub mod subtest;
pub mod take;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::app::App;

/// The application the console calls, shared with the gRPC server, and its texts.
pub struct Console {
    /// Every operation.
    pub app: Arc<App>,
    /// The interface texts.
    pub ui: Arc<i18n::Ui>,
}

const CSS: &str = include_str!("../../assets/console/console.css");
const JS: &str = include_str!("../../assets/console/console.js");

/// The console's routes.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(signin::sign_in_page))
        .route("/sign-in", post(signin::sign_in))
        .route("/sign-out", post(signin::sign_out))
        .route("/lang", post(signin::set_lang))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .route("/children", get(children::list).post(children::create))
        .route("/children/{id}", get(children::show))
        .route("/children/{id}/sessions", post(children::start_session))
        .route("/sessions/{id}", get(sessions::show))
        .route("/sessions/{id}/{action}", post(sessions::act))
        .route(
            "/sessions/{id}/subtests/{subtest}",
            get(subtest::show).post(subtest::record),
        )
        .route("/sessions/{id}/results", get(results::show))
        .route("/sessions/{id}/report", get(report::show))
        .route("/sessions/{id}/report.pdf", get(report::pdf))
        .route("/sessions/{id}/report/edit", post(report::edit))
        .route("/cohorts", get(cohorts::list))
        .route("/cohorts/{id}", get(cohorts::show))
        .route("/cohorts/{id}/results.csv", get(cohorts::results_csv))
        .route(
            "/cohorts/{id}/roster",
            post(cohorts::import_roster).layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route("/cohorts/{id}/tickets", post(cohorts::issue_tickets))
        .route("/cohorts/{id}/{action}", post(cohorts::act))
        .route(
            "/take",
            get(take::form)
                .post(take::sign_in)
                .layer(axum::extract::DefaultBodyLimit::max(take::MAX_ANSWER_BYTES)),
        )
        .route("/take/test", get(take::test_page))
        .route("/take/take.css", get(take::css))
        .route("/take/take.js", get(take::js))
        .route("/take/api/state", get(take::state))
        .route(
            "/take/api/start",
            post(take::start).layer(axum::extract::DefaultBodyLimit::max(take::MAX_ANSWER_BYTES)),
        )
        .route(
            "/take/api/answer",
            post(take::answer).layer(axum::extract::DefaultBodyLimit::max(take::MAX_ANSWER_BYTES)),
        )
        .route("/take/content/{battery}/{*path}", get(take::content))
        .layer(axum::middleware::from_fn(signin::same_origin))
        .layer(axum::middleware::from_fn(signin::security_headers))
        .with_state(console)
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        JS,
    )
}

/// A fresh request id for a form (retries of one submitted form are applied once).
pub fn request_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
