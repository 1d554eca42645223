//! The page around every screen (`<html lang>`, navigation, language switch, the one CSS file
//! and the console's own script), text escaping, and errors: an [`AppError`] of the
//! application layer becomes the HTTP answer a person can read — a refusal a 403 page, an
//! unknown resource a 404 page, an ended session back to sign-in; bad input and state
//! conflicts are shown on the form that caused them ([`is_form_error`]).

use std::borrow::Cow;
use std::fmt::Write as _;

use super::i18n::Ui;
use crate::app::AppError;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qabilet_core::Lang;

/// What a screen is rendered with: the texts and the interface language.
#[derive(Clone, Copy)]
pub struct Screen<'a> {
    /// The texts of every language.
    pub texts: &'a Ui,
    /// The interface language (cookie `qabilet_lang`).
    pub lang: Lang,
}

/// The interface text of `key`.
pub fn t(ui: &Screen<'_>, key: &str) -> String {
    ui.texts.t(ui.lang, key)
}

/// The interface text of `key`, escaped for HTML.
pub fn te(ui: &Screen<'_>, key: &str) -> String {
    esc(&t(ui, key)).into_owned()
}

/// A rule-state code of the service (`phase` or `done_reason`, under `prefix` "phase" or
/// "done") in the interface language, escaped; an unknown code is shown as it is.
pub fn state_word(ui: &Screen<'_>, prefix: &str, code: &str) -> String {
    if code.is_empty() {
        return String::new();
    }
    let key = format!("{prefix}-{code}");
    if super::i18n::KEYS.contains(&key.as_str()) {
        te(ui, &key)
    } else {
        esc(code).into_owned()
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> Cow<'_, str> {
    crate::svg::escape(text)
}

/// A whole page: `title` (plain text) and `body` (HTML), with the navigation when signed in.
pub fn page(ui: &Screen<'_>, title: &str, signed_in: bool, body: &str) -> Html<String> {
    let mut h = String::with_capacity(body.len() + 2048);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} — {app}</title>\n<link rel=\"stylesheet\" href=\"/assets/console.css\">\n\
         <script src=\"/assets/console.js\" defer></script>\n</head>\n<body>\n<header class=\"bar\">\
         <strong>{app}</strong>",
        lang = ui.lang.code(),
        title = esc(title),
        app = te(ui, "app-title"),
    );
    if signed_in {
        let _ = write!(
            h,
            " <a href=\"/children\">{}</a> <a href=\"/cohorts\">{}</a>",
            te(ui, "nav-children"),
            te(ui, "cohorts")
        );
    }
    h.push_str(" <form method=\"post\" action=\"/lang\" class=\"lang\">");
    for lang in Lang::ALL {
        let code = lang.code();
        let current = if lang == ui.lang {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            h,
            "<button name=\"lang\" value=\"{code}\"{current} title=\"{}\">{code}</button>",
            te(ui, "language")
        );
    }
    h.push_str("</form>");
    if signed_in {
        let _ = write!(
            h,
            " <form method=\"post\" action=\"/sign-out\" class=\"signout\"><button>{}</button></form>",
            te(ui, "sign-out")
        );
    }
    let _ = write!(
        h,
        "</header>\n<main>\n<h1>{}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        esc(title)
    );
    Html(h)
}

/// An error message box (empty without a message).
pub fn error_box(ui: &Screen<'_>, message: Option<&str>) -> String {
    message.map_or_else(String::new, |m| {
        format!(
            "<p class=\"error\" role=\"alert\"><strong>{}:</strong> {}</p>",
            te(ui, "error"),
            esc(m)
        )
    })
}

/// An error the page that sent the form shows next to it.
pub fn is_form_error(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Invalid { .. } | AppError::FailedPrecondition(_) | AppError::AlreadyExists(_)
    )
}

/// A failed screen: the application's error in the interface language.
pub struct Failure {
    error: AppError,
    lang: Lang,
    texts: std::sync::Arc<Ui>,
}

impl Failure {
    /// The failure of an operation made for a screen in `lang`.
    pub fn new(error: AppError, texts: std::sync::Arc<Ui>, lang: Lang) -> Self {
        Failure { error, lang, texts }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let ui = Screen {
            texts: &self.texts,
            lang: self.lang,
        };
        let (code, key) = match &self.error {
            // An ended session, a revoked or expired token: forget the cookie (else `/` would
            // send back here).
            AppError::Unauthenticated(_) => {
                return (
                    [(
                        axum::http::header::SET_COOKIE,
                        super::signin::clear_session_cookie(),
                    )],
                    Redirect::to("/"),
                )
                    .into_response();
            }
            AppError::Denied { .. } | AppError::Ticket(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound { .. } => (StatusCode::NOT_FOUND, "not-found"),
            AppError::Invalid { .. }
            | AppError::Rejected { .. }
            | AppError::FailedPrecondition(_)
            | AppError::AlreadyExists(_) => (StatusCode::BAD_REQUEST, "error"),
            AppError::Exhausted(_) => (StatusCode::TOO_MANY_REQUESTS, "unavailable"),
            AppError::Unavailable(_) | AppError::Internal(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
        };
        let mut body = format!("<p class=\"error\">{}</p>", esc(&self.error.to_string()));
        if let AppError::Rejected { problems, .. } = &self.error {
            body.push_str("<ul class=\"problems\">");
            for p in problems {
                body.push_str(&format!("<li>{}</li>", esc(p)));
            }
            body.push_str("</ul>");
        }
        (code, page(&ui, &t(&ui, key), true, &body)).into_response()
    }
}

/// A redirect to `path` on this console ("/" if `path` cannot be a header value, e.g. a
/// decoded path segment with a control character).
pub fn go(path: &str) -> Response {
    if axum::http::HeaderValue::try_from(path).is_ok() && path.starts_with('/') && !path.starts_with("//") {
        Redirect::to(path).into_response()
    } else {
        Redirect::to("/").into_response()
    }
}
