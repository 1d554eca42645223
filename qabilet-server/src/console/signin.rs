//! Signing in and out, the interface language, and the request guards.
//!
//! Signing in with a bearer token opens a console session held by the server (the
//! application layer's `console_sign_in`); the browser keeps only that session's random
//! secret, in the cookie `qabilet_session` — never the token. The cookie is `HttpOnly` (no
//! script reads it), `SameSite=Strict` (a browser sends it only with requests started from
//! the console's own pages), `Path=/`. It carries no `Secure` attribute: the console is
//! served over plain HTTP on loopback by default, where a `Secure` cookie would never be sent
//! back; behind a TLS proxy the proxy should add it. Signing out ends the session on the
//! server, so a copied cookie stops working; so do idle and absolute expiry and a revoked
//! token.
//!
//! CSRF defence: every state change is a POST (GET handlers only read), and the session
//! cookie is `SameSite=Strict`, so a form posted from another site arrives without it and is
//! refused as unauthenticated. As a second, independent check — for browsers that ignore
//! SameSite, and for a sibling site on the same host (same-site, cross-origin) —
//! [`same_origin`] refuses any POST whose `Origin` (or, without one, `Referer`) names
//! another origin than the `Host` it was sent to. No token in a URL, ever.

use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use qabilet_core::Lang;
use serde::Deserialize;

use super::Console;
use super::page::{Failure, Screen, error_box, page, te};
use crate::app::{App, AppError, Caller, Channel, Peer};

/// The cookie holding the console session's secret.
pub const SESSION_COOKIE: &str = "qabilet_session";
/// The cookie holding the interface language.
pub const LANG_COOKIE: &str = "qabilet_lang";

/// The value of cookie `name` in the request's headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The interface language of a request (cookie `qabilet_lang`; Russian without one).
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|c| c.parse().ok())
        .unwrap_or(Lang::Ru)
}

/// The interface language, for screens without sign-in.
pub struct UiLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UiLang(lang_of(&parts.headers)))
    }
}

/// A signed-in request: its caller (from the server-side console session named by the
/// cookie), language and the console. Without a live session the request is sent to the
/// sign-in page (and a stale cookie is cleared).
pub struct Signed {
    /// Who is signed in.
    pub caller: Caller,
    /// The interface language.
    pub lang: Lang,
    /// The application and the texts.
    pub console: Arc<Console>,
}

impl FromRequestParts<Arc<Console>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/").into_response());
        };
        match console.app.console_caller(secret, peer(parts)).await {
            Ok(caller) => Ok(Signed {
                caller,
                lang,
                console: console.clone(),
            }),
            Err(e) => Err(Failure::new(e, console.ui.clone(), lang).into_response()),
        }
    }
}

/// The browser's address, as the audit log records it.
pub fn peer(parts: &Parts) -> Peer {
    Peer {
        channel: Channel::Console,
        addr: parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0),
    }
}

/// The request's [`peer`], for handlers without a session.
pub struct ConsolePeer(pub Peer);

impl<S: Send + Sync> FromRequestParts<S> for ConsolePeer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ConsolePeer(peer(parts)))
    }
}

impl Signed {
    /// The screen's texts and language.
    pub fn screen(&self) -> Screen<'_> {
        Screen {
            texts: &self.console.ui,
            lang: self.lang,
        }
    }

    /// A failed operation as a page.
    pub fn fail(&self, error: AppError) -> Failure {
        Failure::new(error, self.console.ui.clone(), self.lang)
    }

    /// The application.
    pub fn app(&self) -> &App {
        &self.console.app
    }
}

/// Refuses a POST from another origin (see the module's documentation).
pub async fn same_origin(request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let headers = request.headers();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin = headers
            .get(header::ORIGIN)
            .or_else(|| headers.get(header::REFERER))
            .and_then(|h| h.to_str().ok());
        if let (Some(origin), Some(host)) = (origin, host) {
            let authority = origin
                .split_once("://")
                .map_or(origin, |(_, rest)| rest)
                .split('/')
                .next()
                .unwrap_or_default();
            if authority != host {
                return (StatusCode::FORBIDDEN, "cross-origin form refused").into_response();
            }
        } else if origin.is_some() {
            return (StatusCode::FORBIDDEN, "cross-origin form refused").into_response();
        }
    }
    next.run(request).await
}

/// Headers on every answer: no framing by other sites (clickjacking), the `Referer` only
/// within the console, a content security policy, and no caching of pages that may show a
/// child's data.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    // Scripts, styles and forms of this console only; no framing, no plugins, no base URL.
    // (Inline styles and the report page's print link need 'unsafe-inline'.)
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
        ),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    response
}

/// GET /: the sign-in form (the children's list when a session cookie is present).
pub async fn sign_in_page(
    State(console): State<Arc<Console>>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
) -> Response {
    if cookie(&headers, SESSION_COOKIE).is_some() {
        return Redirect::to("/children").into_response();
    }
    sign_in_form(&console, lang, None, StatusCode::OK)
}

fn sign_in_form(console: &Console, lang: Lang, error: Option<&str>, code: StatusCode) -> Response {
    let ui = Screen {
        texts: &console.ui,
        lang,
    };
    let body = format!(
        "{err}<form method=\"post\" action=\"/sign-in\" class=\"card\">\
         <label>{label}<input type=\"password\" name=\"token\" autocomplete=\"off\" required autofocus></label>\
         <p class=\"help\">{help}</p><button>{button}</button></form>",
        err = error_box(&ui, error),
        label = te(&ui, "sign-in-token"),
        help = te(&ui, "sign-in-help"),
        button = te(&ui, "sign-in"),
    );
    (code, page(&ui, &super::page::t(&ui, "sign-in"), false, &body)).into_response()
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

/// POST /sign-in: opens a console session for the token and sets its cookie.
pub async fn sign_in(
    State(console): State<Arc<Console>>,
    UiLang(lang): UiLang,
    ConsolePeer(peer): ConsolePeer,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let ui = Screen {
        texts: &console.ui,
        lang,
    };
    // Signing in again ends the session this browser had (one session per sign-in).
    if let Some(old) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = console.app.console_sign_out(old, peer.clone()).await
    {
        return Failure::new(e, console.ui.clone(), lang).into_response();
    }
    match console.app.console_sign_in(&form.token, peer).await {
        Ok(signed) => (
            AppendHeaders([(
                header::SET_COOKIE,
                format!(
                    "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                    signed.cookie,
                    crate::app::CONSOLE_ABSOLUTE_EXPIRY.as_secs()
                ),
            )]),
            Redirect::to("/children"),
        )
            .into_response(),
        Err(AppError::Unauthenticated(_)) => sign_in_form(
            &console,
            lang,
            Some(&super::page::t(&ui, "sign-in-bad")),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => Failure::new(e, console.ui.clone(), lang).into_response(),
    }
}

/// POST /sign-out: ends the session on the server and clears the cookie.
pub async fn sign_out(
    State(console): State<Arc<Console>>,
    ConsolePeer(peer): ConsolePeer,
    headers: HeaderMap,
) -> Response {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = console.app.console_sign_out(secret, peer).await
    {
        return Failure::new(e, console.ui.clone(), lang_of(&headers)).into_response();
    }
    (
        AppendHeaders([(header::SET_COOKIE, clear_session_cookie())]),
        Redirect::to("/"),
    )
        .into_response()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The language switch.
#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
}

/// POST /lang: sets the interface language and goes back to the page it was chosen on (the
/// `Referer`'s path on this origin; `same_origin` has checked it).
pub async fn set_lang(headers: HeaderMap, Form(form): Form<LangForm>) -> Response {
    let code = form.lang.parse::<Lang>().unwrap_or(Lang::Ru).code();
    let back = headers
        .get(header::REFERER)
        .and_then(|h| h.to_str().ok())
        .and_then(|r| r.split_once("://"))
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    (
        AppendHeaders([(
            header::SET_COOKIE,
            format!("{LANG_COOKIE}={code}; Path=/; SameSite=Strict; Max-Age=31536000"),
        )]),
        Redirect::to(&back),
    )
        .into_response()
}
