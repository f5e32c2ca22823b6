//! Supervision figures, trends, alarms and CSV export (C8); the catalog, hall and bundle
//! figures as they stand.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody};
use crate::services::stats::{
    self as service, Alarm, BundleFiguresView, CatalogFiguresQuery, CatalogFiguresView, DailyQuery,
    DefinitionView, Figures, FiguresQuery, FiguresRow,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kpis))
        .routes(routes!(kpis_csv))
        .routes(routes!(trend))
        .routes(routes!(daily))
        .routes(routes!(alarms))
        .routes(routes!(catalog_figures))
        .routes(routes!(bundle_figures))
        .routes(routes!(definitions))
}

/// Every figure of SPEC C8 per region, department, hall, item or window over a month range,
/// with the queue's waiting times and throughput per hall, region and window.
#[utoipa::path(get, path = "/api/v1/stats/kpis", tag = "stats", params(FiguresQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures per group and the total", body = Figures),
        (status = 400, description = "A malformed period or dimension", body = ErrorBody),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn kpis(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<FiguresQuery>, QueryRejection>,
) -> Result<Json<Figures>, ApiError> {
    service::require_supervisor(&actor)?;
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(service::figures(&state, &query).await?))
}

/// The same figures as CSV (UTF-8 with BOM; one column per figure code).
#[utoipa::path(get, path = "/api/v1/stats/kpis.csv", tag = "stats", params(FiguresQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn kpis_csv(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<FiguresQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    service::require_supervisor(&actor)?;
    let Query(query) = query.map_err(query_error)?;
    let figures = service::figures(&state, &query).await?;
    let file = format!(
        "attachment; filename=\"kpis-{}-{}-{}.csv\"",
        figures.dimension, figures.from, figures.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        service::to_csv(&figures),
    ))
}

/// Figures per month (trend lines), optionally for one department.
#[utoipa::path(get, path = "/api/v1/stats/trend", tag = "stats", params(FiguresQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One row per month of the range", body = Vec<FiguresRow>),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn trend(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<FiguresQuery>, QueryRejection>,
) -> Result<Json<Vec<FiguresRow>>, ApiError> {
    service::require_supervisor(&actor)?;
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(service::trend(&state, &query).await?))
}

/// Figures per day (default: the last 30 days).
#[utoipa::path(get, path = "/api/v1/stats/daily", tag = "stats", params(DailyQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One row per day with activity", body = Vec<FiguresRow>),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn daily(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<DailyQuery>, QueryRejection>,
) -> Result<Json<Vec<FiguresRow>>, ApiError> {
    service::require_supervisor(&actor)?;
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(service::daily(&state, &query).await?))
}

/// Everything overdue today: cases, hotline tickets and rectification tasks (电子监察 alarms).
#[utoipa::path(get, path = "/api/v1/stats/alarms", tag = "stats",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Most overdue first", body = Vec<Alarm>),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn alarms(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<Alarm>>, ApiError> {
    service::require_supervisor(&actor)?;
    Ok(Json(service::alarms(&state).await?))
}

/// 网上可办率, 进驻率 and the windows (综合窗口占比) per department, region or hall, from the
/// published catalog and the organisation on the day asked.
#[utoipa::path(get, path = "/api/v1/stats/catalog", tag = "stats", params(CatalogFiguresQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures per group and the total", body = CatalogFiguresView),
        (status = 400, description = "A dimension other than department, region or hall", body = ErrorBody),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn catalog_figures(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<CatalogFiguresQuery>, QueryRejection>,
) -> Result<Json<CatalogFiguresView>, ApiError> {
    service::require_supervisor(&actor)?;
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(service::catalog_figures(&state, &query).await?))
}

/// The reductions of every published bundle (一件事): form fields, materials, trips and days,
/// each member alone → the bundle, and their sum.
#[utoipa::path(get, path = "/api/v1/stats/bundles", tag = "stats",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Per bundle, by code, and the total", body = BundleFiguresView),
        (status = 403, description = "Supervisors only", body = ErrorBody),
    ))]
pub async fn bundle_figures(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<BundleFiguresView>, ApiError> {
    service::require_supervisor(&actor)?;
    Ok(Json(service::bundle_figures(&state).await?))
}

/// What every figure means (public).
#[utoipa::path(get, path = "/api/v1/stats/definitions", tag = "stats",
    responses((status = 200, description = "Every figure's definition", body = Vec<DefinitionView>)))]
pub async fn definitions() -> Json<Vec<DefinitionView>> {
    Json(service::definitions())
}
