//! The one-sentence assistant API (一句话办事, SPEC C9).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::error::{ApiError, ErrorBody};
use crate::services::ask::{self as service, AskResponse};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ask))
}

/// Parameters of `GET /api/v1/ask`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AskQuery {
    /// One sentence in plain Chinese, 1–100 characters, e.g. `驾照丢了怎么补`.
    pub q: Option<String>,
    /// How many answers, 1–20 (default 5).
    pub limit: Option<String>,
}

/// Answers one sentence with the bundles and items that fit, best first, each with the matched
/// words and the first step to take.
#[utoipa::path(get, path = "/api/v1/ask", tag = "assistant", params(AskQuery),
    responses(
        (status = 200, description = "Ranked answers (possibly none)", body = AskResponse),
        (status = 400, description = "`invalid_query`: an empty or too long question, or a bad limit", body = ErrorBody),
    ))]
pub async fn ask(
    State(state): State<AppState>,
    query: Result<Query<AskQuery>, QueryRejection>,
) -> Result<Json<AskResponse>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let question = service::parse_question(query.q.as_deref())?;
    let limit = service::parse_limit(query.limit.as_deref())?;
    Ok(Json(service::ask(&state, &question, limit)))
}
