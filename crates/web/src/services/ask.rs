//! The one-sentence assistant service (一句话办事, SPEC C9): checks a question, asks the current
//! assistant and shapes the answers for the API and the pages. It also owns the publish path that
//! keeps the assistant current: publishing an item or bundle version refreshes the in-memory views.

use jiff::Timestamp;
use serde::Serialize;
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::BundleCode;
use tongban_search::{Answer, AnswerKind, MAX_QUERY_CHARS};
use tongban_store::model::VersionInfo;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// Answers returned when the client does not say how many.
pub const DEFAULT_LIMIT: usize = 5;
/// The most answers one question may ask for.
pub const MAX_LIMIT: usize = 20;

/// One ranked answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerView {
    /// `item` or `bundle` (一件事).
    pub kind: String,
    /// The item's implementation code or the bundle's code, as used in `/api/v1/items/{code}` and
    /// `/api/v1/bundles/{code}`.
    pub id: String,
    pub name: String,
    /// Relevance; only the order matters.
    pub score: f32,
    /// The words of the question that matched.
    pub why: Vec<String>,
    /// What to do first: the guide's first step, or what to prepare for a bundle.
    pub first_step: String,
    /// The guide page on this site.
    pub url: String,
    /// Where to apply online, when the item can be applied for online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_address: Option<String>,
}

/// The answers to one question.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AskResponse {
    /// The question as received (trimmed).
    pub query: String,
    /// The words the assistant understood (stopwords removed).
    pub understood: Vec<String>,
    pub answers: Vec<AnswerView>,
}

impl From<Answer> for AnswerView {
    fn from(answer: Answer) -> AnswerView {
        let url = match answer.kind {
            AnswerKind::Item => format!("/items/{}", answer.code),
            AnswerKind::Bundle => format!("/bundles/{}", answer.code),
        };
        AnswerView {
            kind: answer.kind.as_str().to_owned(),
            id: answer.code,
            name: answer.name,
            score: answer.score,
            why: answer.why,
            first_step: answer.first_step,
            url,
            online_address: answer.online_address,
        }
    }
}

/// Checks the question: not empty, at most [`MAX_QUERY_CHARS`] characters. The question is never
/// echoed in the error: it may hold personal details.
pub fn parse_question(q: Option<&str>) -> Result<String, ApiError> {
    let trimmed = q.unwrap_or_default().trim();
    if trimmed.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "query parameter q is empty: ask one sentence, e.g. 驾照丢了怎么补",
        )
        .with_details(
            serde_json::json!({ "parameter": "q", "expected": "a non-empty sentence" }),
        ));
    }
    let length = trimmed.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!(
                "query parameter q has {length} characters: at most {MAX_QUERY_CHARS} are accepted"
            ),
        )
        .with_details(serde_json::json!({
            "parameter": "q",
            "length": length,
            "max_length": MAX_QUERY_CHARS,
        })));
    }
    Ok(trimmed.to_owned())
}

/// Checks the optional `limit` parameter.
pub fn parse_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = limit else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_parameter(
            "limit",
            text,
            &format!("a whole number from 1 to {MAX_LIMIT}"),
        )),
    }
}

/// Asks the current assistant. Pure in-memory work: no database access.
pub fn ask(state: &AppState, question: &str, limit: usize) -> AskResponse {
    let assistant = state.assistant.get();
    AskResponse {
        query: question.to_owned(),
        understood: assistant.understand(question),
        answers: assistant
            .ask(question, limit)
            .into_iter()
            .map(AnswerView::from)
            .collect(),
    }
}

/// Publishes an item's draft and refreshes the in-memory views, so that the assistant answers
/// with the new version at once.
pub async fn publish_item(
    state: &AppState,
    code: &ImplementationCode,
    at: Timestamp,
) -> Result<VersionInfo, ApiError> {
    let version = state.store.catalog.publish_item(code, at).await?;
    state.refresh().await?;
    Ok(version)
}

/// Publishes a bundle's draft and refreshes the in-memory views.
pub async fn publish_bundle(
    state: &AppState,
    code: &BundleCode,
    at: Timestamp,
) -> Result<VersionInfo, ApiError> {
    let version = state.store.catalog.publish_bundle(code, at).await?;
    state.refresh().await?;
    Ok(version)
}
