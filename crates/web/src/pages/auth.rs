//! The sign-in pages: `/login` (form and submission) and `/logout`.
//!
//! The login form has no session yet, so its CSRF protection is a double submit: showing the
//! form sets a random `tb_csrf` cookie and puts the same value in a hidden field; a submission
//! whose field does not match the cookie is refused (a foreign page can make the browser send the
//! cookie, but cannot read it to fill in the field). Signing in sets the `tb_session` cookie
//! (HttpOnly, SameSite=Lax) and goes to `next`, a local path only.

use std::fmt;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::auth::{
    self, ClientAddress, LOGIN_CSRF_COOKIE, MaybePageSession, SESSION_COOKIE, SESSION_HOURS,
};
use crate::error::{ApiError, ErrorCode};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
}

/// Who is signed in, for the page that offers to sign out.
struct SignedInView {
    name: String,
    account: String,
    /// The session's CSRF token, for the sign-out form.
    csrf: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    /// The login form's double-submit value (also in the `tb_csrf` cookie).
    csrf: String,
    next: String,
    account: String,
    error: Option<&'static str>,
    error_code: &'static str,
    signed_in: Option<SignedInView>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

impl fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginForm").finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

impl fmt::Debug for CsrfForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfForm").finish_non_exhaustive()
    }
}

/// The `tb_csrf` cookie when it looks like one of ours, so that a second tab keeps working.
fn login_csrf_cookie(headers: &HeaderMap) -> Option<String> {
    auth::cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|value| {
            value.len() == 43
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
}

/// Adds a `Set-Cookie` header.
fn with_cookie(mut response: Response, name: &str, value: &str, max_age: i64) -> Response {
    if let Some(cookie) = auth::set_cookie(name, value, max_age) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Renders the login form with a (new or kept) double-submit value and its cookie.
fn form_page(
    lang: Lang,
    status: StatusCode,
    headers: &HeaderMap,
    next: String,
    account: String,
    error: Option<(&'static str, ErrorCode)>,
) -> Response {
    let csrf = match login_csrf_cookie(headers) {
        Some(existing) => existing,
        None => match auth::random_secret() {
            Ok(fresh) => fresh,
            Err(error) => return page_error(lang, error),
        },
    };
    let page = LoginPage {
        t: lang.labels(),
        lang,
        path: "/login".into(),
        csrf: csrf.clone(),
        next,
        account,
        error: error.map(|(message, _)| message),
        error_code: error.map_or("", |(_, code)| code.as_str()),
        signed_in: None,
    };
    let response = (status, render(&page)).into_response();
    with_cookie(response, LOGIN_CSRF_COOKIE, &csrf, SESSION_HOURS * 3600)
}

async fn login_form(
    lang: Lang,
    headers: HeaderMap,
    MaybePageSession(session): MaybePageSession,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = auth::local_target(query.next.as_deref());
    if let Some(session) = session {
        let page = LoginPage {
            t: lang.labels(),
            lang,
            path: "/login".into(),
            csrf: String::new(),
            next,
            account: String::new(),
            error: None,
            error_code: "",
            signed_in: Some(SignedInView {
                name: session.actor.name.clone(),
                account: session.actor.account.to_string(),
                csrf: session.csrf.clone(),
            }),
        };
        return render(&page);
    }
    form_page(lang, StatusCode::OK, &headers, next, String::new(), None)
}

async fn login_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    client: ClientAddress,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(
            lang,
            ApiError::new(ErrorCode::InvalidBody, "the form could not be read"),
        );
    };
    let next = auth::local_target(form.next.as_deref());
    let cookie_matches = auth::cookie(&headers, LOGIN_CSRF_COOKIE)
        .is_some_and(|expected| auth::same_secret(&form.csrf, expected));
    if !cookie_matches {
        let t = lang.labels();
        return form_page(
            lang,
            ErrorCode::CsrfFailed.status(),
            &headers,
            next,
            form.account,
            Some((t.login_expired, ErrorCode::CsrfFailed)),
        );
    }
    match auth::sign_in(&state, &form.account, &form.password, client).await {
        Ok(signed_in) => {
            let response = Redirect::to(&next).into_response();
            with_cookie(
                response,
                SESSION_COOKIE,
                &signed_in.token,
                SESSION_HOURS * 3600,
            )
        }
        Err(error) => {
            let t = lang.labels();
            let message = match error.code {
                ErrorCode::InvalidCredentials => t.login_failed,
                ErrorCode::TooManyAttempts => t.login_throttled,
                _ => return page_error(lang, error),
            };
            form_page(
                lang,
                error.code.status(),
                &headers,
                next,
                form.account,
                Some((message, error.code)),
            )
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    lang: Lang,
    MaybePageSession(session): MaybePageSession,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Some(session) = session else {
        // Nothing to end; make sure no stale cookie stays behind.
        return with_cookie(Redirect::to("/").into_response(), SESSION_COOKIE, "", 0);
    };
    let csrf = form.map(|Form(form)| form.csrf).unwrap_or_default();
    if let Err(error) = auth::verify_csrf(&csrf, &session) {
        return page_error(lang, error);
    }
    if let Err(error) = auth::sign_out(&state, &session.credential()).await {
        return page_error(lang, error);
    }
    with_cookie(Redirect::to("/").into_response(), SESSION_COOKIE, "", 0)
}
