//! Server-rendered pages (askama templates in `crates/web/templates`), Chinese first with an
//! English switch, usable on a phone and with the keyboard. Pages work without JavaScript; the
//! small script only submits the situational questions as soon as an answer changes.

pub mod admin;
pub mod agents;
pub mod ask;
pub mod auth;
pub mod bundle_cases;
pub mod cases;
pub mod catalog;
pub mod dashboard;
pub mod feedback;
pub mod halls;
pub mod hotline;
pub mod i18n;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use i18n::{Labels, Lang};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(catalog::home))
        .route("/items", get(catalog::items))
        .route("/items/{code}", get(catalog::item))
        .route("/bundles", get(catalog::bundles))
        .route("/bundles/{code}", get(catalog::bundle))
        .route("/ask", get(ask::ask_page))
        .route("/lang/{code}", get(switch_language))
        .route("/static/{file}", get(static_file))
        .route("/static/vendor/{file}", get(vendored_file))
        .merge(auth::router())
        .merge(admin::router())
        .merge(cases::router())
        .merge(bundle_cases::router())
        .merge(halls::router())
        .merge(feedback::router())
        .merge(hotline::router())
        .merge(dashboard::router())
        .merge(agents::router())
}

/// Renders a template into a response; a rendering failure is an internal error.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => ApiError::internal(&error).into_response(),
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
}

/// The fallback: JSON for the API, a page for people.
pub async fn not_found(lang: Lang, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::new(
            ErrorCode::NotFound,
            format!("there is no API route {}", uri.path()),
        )
        .into_response();
    }
    let page = NotFoundPage {
        t: lang.labels(),
        lang,
        path: uri.path().to_owned(),
    };
    (StatusCode::NOT_FOUND, render(&page)).into_response()
}

/// A page error: the same codes as the API, shown as the not-found page or a plain message.
pub fn page_error(lang: Lang, error: ApiError) -> Response {
    if error.code.status() == StatusCode::NOT_FOUND {
        let page = NotFoundPage {
            t: lang.labels(),
            lang,
            path: String::new(),
        };
        return (StatusCode::NOT_FOUND, render(&page)).into_response();
    }
    let status = error.code.status();
    let text = if status.is_server_error() {
        lang.pick(
            "系统繁忙,请稍后再试。",
            "Something went wrong; please try again later.",
        )
        .to_owned()
    } else {
        error.message
    };
    (
        status,
        Html(format!(
            "<!doctype html><meta charset=utf-8><p>{}</p>",
            askama::filters::escape(&text, askama::filters::Html)
                .map(|e| e.to_string())
                .unwrap_or_default()
        )),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct Next {
    next: Option<String>,
}

/// Sets the language cookie and goes back to the page the user came from.
async fn switch_language(Path(code): Path<String>, Query(next): Query<Next>) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Zh);
    // Only local paths, so the switch cannot be used to send people elsewhere.
    let target = next
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    let mut response = Redirect::to(&target).into_response();
    let cookie = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The pages' own assets, compiled into the binary: name, content type, body.
const STATIC_FILES: [(&str, &str, &str); 5] = [
    ("style.css", CSS, include_str!("../../static/style.css")),
    (
        "feedback.css",
        CSS,
        include_str!("../../static/feedback.css"),
    ),
    ("app.js", JS, include_str!("../../static/app.js")),
    ("halls.js", JS, include_str!("../../static/halls.js")),
    (
        "dashboard.js",
        JS,
        include_str!("../../static/dashboard.js"),
    ),
];

/// Third-party assets (`static/vendor/`, each with its licence beside it); they change only
/// with a new release, so browsers may keep them longer.
const VENDORED_FILES: [(&str, &str, &str); 1] = [(
    "chart.umd.min.js",
    JS,
    include_str!("../../static/vendor/chart.umd.min.js"),
)];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

async fn static_file(Path(file): Path<String>) -> Response {
    asset(&STATIC_FILES, &file, "public, max-age=3600")
}

async fn vendored_file(Path(file): Path<String>) -> Response {
    asset(&VENDORED_FILES, &file, "public, max-age=86400")
}

fn asset(files: &[(&str, &str, &'static str)], name: &str, cache: &'static str) -> Response {
    match files.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, cache),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
