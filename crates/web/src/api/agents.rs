//! Agents (帮办代办, C5): the agent register, mandates (委托), home visits (上门服务) and the
//! agent-coverage figure. Agents apply for applicants through `POST /api/v1/applications`
//! (channel `agent`, the applicant named) and act on their cases through
//! `POST /api/v1/cases/{id}/actions`; the mandate is checked there, on every call.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::agents::{
    self as service, AgentRequest, AgentView, CoverageQuery, CoverageView, MandateRequest,
    MandateView, MandatesQuery, RevokeRequest,
};
use crate::services::home_visits::{
    self as visits, HomeVisitAction, HomeVisitInput, HomeVisitView, HomeVisitsQuery,
};
use crate::services::stats::require_supervisor;

#[derive(OpenApi)]
#[openapi(tags(
    (name = "agents", description = "Agents (帮办代办): the register, mandates (委托), home visits (上门服务) and coverage (C5)")
))]
struct AgentsDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(AgentsDoc::openapi())
        .routes(routes!(list_agents))
        .routes(routes!(register_agent))
        .routes(routes!(grant_mandate, list_mandates))
        .routes(routes!(revoke_mandate))
        .routes(routes!(request_home_visit, list_home_visits))
        .routes(routes!(get_home_visit))
        .routes(routes!(act_on_home_visit))
        .routes(routes!(agent_coverage))
}

fn body_error(rejection: JsonRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
}

/// Registered agents: active ones for anyone signed in (to choose one for a mandate);
/// administrators and supervisors also see suspended ones.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", security(("bearer" = [])),
    responses((status = 200, description = "Agents by level, region and account", body = Vec<AgentView>)))]
pub async fn list_agents(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    Ok(Json(service::list_agents(&state, &actor).await?))
}

/// Register an agent in the 区—街道—社区 network, or change (suspend, move) a registration
/// (administrators). The account must be staff with the agent role.
#[utoipa::path(put, path = "/api/v1/agents/{account}", tag = "agents",
    params(("account" = String, Path, description = "The agent's account")),
    request_body = AgentRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "The registration", body = AgentView),
        (status = 400, description = "A level that does not fit the region, an unknown region or hall (`invalid_agent_request`)", body = ErrorBody),
        (status = 403, description = "Administrators only", body = ErrorBody),
        (status = 404, description = "No such account (`agent_not_found`)", body = ErrorBody),
    ))]
pub async fn register_agent(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(account): Path<String>,
    body: Result<Json<AgentRequest>, JsonRejection>,
) -> Result<Json<AgentView>, ApiError> {
    let Json(request) = body.map_err(body_error)?;
    Ok(Json(
        service::register(&state, &actor, &account, request).await?,
    ))
}

/// Grant a mandate to an agent (the applicant, signed in), or record a signed paper mandate
/// (a window clerk, naming the applicant as `principal`).
#[utoipa::path(post, path = "/api/v1/mandates", tag = "agents", request_body = MandateRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The mandate", body = MandateView),
        (status = 400, description = "Bad dates, items, or an inactive agent (`invalid_agent_request`)", body = ErrorBody),
        (status = 403, description = "Neither the applicant nor a clerk", body = ErrorBody),
        (status = 404, description = "No such agent or item", body = ErrorBody),
    ))]
pub async fn grant_mandate(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Result<Json<MandateRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<MandateView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let mandate = service::grant(&state, &actor, request).await?;
    Ok((StatusCode::CREATED, Json(mandate)))
}

/// Mandates: those you gave (applicants), those you hold (agents), or an applicant's
/// (`?principal=`, clerks and administrators; logged for the applicant).
#[utoipa::path(get, path = "/api/v1/mandates", tag = "agents", params(MandatesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Mandates, newest first, with their status today", body = Vec<MandateView>),
        (status = 403, description = "No mandates to list for this account", body = ErrorBody),
    ))]
pub async fn list_mandates(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<MandatesQuery>, QueryRejection>,
) -> Result<Json<Vec<MandateView>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(service::list(&state, &actor, query).await?))
}

/// Revoke a mandate from now on (the applicant, a clerk or an administrator).
#[utoipa::path(post, path = "/api/v1/mandates/{id}/revoke", tag = "agents",
    params(("id" = String, Path, description = "Mandate id")),
    request_body = RevokeRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "The revoked mandate", body = MandateView),
        (status = 404, description = "No such mandate (or not yours)", body = ErrorBody),
        (status = 409, description = "Already revoked (`illegal_transition`)", body = ErrorBody),
    ))]
pub async fn revoke_mandate(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: Result<Json<RevokeRequest>, JsonRejection>,
) -> Result<Json<MandateView>, ApiError> {
    let Json(request) = body.map_err(body_error)?;
    Ok(Json(service::revoke(&state, &actor, &id, request).await?))
}

/// Ask for a home visit (上门服务): a person for themself, or a window clerk for the person named.
#[utoipa::path(post, path = "/api/v1/home-visits", tag = "agents", request_body = HomeVisitInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The request", body = HomeVisitView),
        (status = 400, description = "Missing address or phone, days in the past or too many (`invalid_agent_request`)", body = ErrorBody),
        (status = 403, description = "Neither the person nor a clerk", body = ErrorBody),
    ))]
pub async fn request_home_visit(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Result<Json<HomeVisitInput>, JsonRejection>,
) -> Result<(StatusCode, Json<HomeVisitView>), ApiError> {
    let Json(input) = body.map_err(body_error)?;
    let visit = visits::request_visit(&state, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(visit)))
}

/// Home visits without addresses: your own (persons), those you are sent to (agents), or a
/// hall's (its staff).
#[utoipa::path(get, path = "/api/v1/home-visits", tag = "agents", params(HomeVisitsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Requests, the next planned first", body = Vec<HomeVisitView>),
        (status = 403, description = "Not staff of that hall", body = ErrorBody),
    ))]
pub async fn list_home_visits(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<HomeVisitsQuery>, QueryRejection>,
) -> Result<Json<Vec<HomeVisitView>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(visits::list_visits(&state, &actor, query).await?))
}

/// One request with the address and phone (a read by anyone but the person is logged for them).
#[utoipa::path(get, path = "/api/v1/home-visits/{id}", tag = "agents",
    params(("id" = String, Path, description = "Home-visit id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The request", body = HomeVisitView),
        (status = 404, description = "No such request (or not yours to see)", body = ErrorBody),
    ))]
pub async fn get_home_visit(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<HomeVisitView>, ApiError> {
    Ok(Json(visits::get_visit(&state, &actor, &id).await?))
}

/// Schedule an agent (hall staff), record the outcome (the agent sent) or cancel (the person or
/// hall staff), at the version read.
#[utoipa::path(post, path = "/api/v1/home-visits/{id}/actions", tag = "agents",
    params(("id" = String, Path, description = "Home-visit id")),
    request_body = HomeVisitAction, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed request", body = HomeVisitView),
        (status = 400, description = "Missing or malformed fields", body = ErrorBody),
        (status = 403, description = "Not this actor's step", body = ErrorBody),
        (status = 404, description = "No such request, or no such agent", body = ErrorBody),
        (status = 409, description = "Not in a state or at a time that allows it (`illegal_transition`, `out_of_time`), or `stale_version`", body = ErrorBody),
    ))]
pub async fn act_on_home_visit(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: Result<Json<HomeVisitAction>, JsonRejection>,
) -> Result<Json<HomeVisitView>, ApiError> {
    let Json(action) = body.map_err(body_error)?;
    Ok(Json(
        visits::act_on_visit(&state, &actor, &id, action).await?,
    ))
}

/// 代办覆盖率: districts, streets and communities with an active agent of their own level
/// (supervisors and administrators; definition in `docs/kpis.md`).
#[utoipa::path(get, path = "/api/v1/stats/agent-coverage", tag = "stats", params(CoverageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Coverage per level; `agent_coverage` is the community level", body = CoverageView),
        (status = 400, description = "A malformed region", body = ErrorBody),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn agent_coverage(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<CoverageQuery>, QueryRejection>,
) -> Result<Json<CoverageView>, ApiError> {
    require_supervisor(&actor)?;
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(service::coverage_of(&state, query).await?))
}
