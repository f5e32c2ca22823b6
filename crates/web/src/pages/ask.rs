//! The one-sentence assistant page (一句话办事, SPEC C9): `/ask?q=…` answers a sentence on the
//! server, so the home page's search box works without JavaScript; with it, the box shows the
//! same answers as you type (static/app.js calls `/api/v1/ask`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::services::ask::{self as service, AnswerView, DEFAULT_LIMIT, MAX_LIMIT};

#[derive(Debug, Default, Deserialize)]
pub struct AskParams {
    pub q: Option<String>,
}

#[derive(Template)]
#[template(path = "ask.html")]
struct AskPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    query: String,
    understood: Vec<String>,
    answers: Vec<AnswerView>,
}

pub async fn ask_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<AskParams>,
) -> Response {
    let blank = params.q.as_deref().is_none_or(|q| q.trim().is_empty());
    if blank {
        return render(&AskPage {
            t: lang.labels(),
            lang,
            path: "/ask".into(),
            query: String::new(),
            understood: Vec::new(),
            answers: Vec::new(),
        });
    }
    let question = match service::parse_question(params.q.as_deref()) {
        Ok(question) => question,
        Err(error) => return page_error(lang, error),
    };
    let limit = (DEFAULT_LIMIT * 2).min(MAX_LIMIT);
    let response = service::ask(&state, &question, limit);
    render(&AskPage {
        t: lang.labels(),
        lang,
        path: "/ask".into(),
        query: response.query,
        understood: response.understood,
        answers: response.answers,
    })
}
