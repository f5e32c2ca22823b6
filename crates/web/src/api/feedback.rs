//! Ratings (好差评) and rectification (C6).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::feedback::{
    self as service, RatingRequest, RatingView, RectificationActionRequest, RectificationQuery,
    RectificationView, VisitRatingRequest,
};
use crate::services::stats::{self, Figures, FiguresQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rate_case, case_ratings))
        .routes(routes!(rate_bundle, bundle_ratings))
        .routes(routes!(rate_visit))
        .routes(routes!(public_figures))
        .routes(routes!(list_rectifications))
        .routes(routes!(get_rectification))
        .routes(routes!(act_on_rectification))
}

fn body_error(rejection: JsonRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
}

/// The applicant rates a decided case (一事一评). A bad rating (不满意, 非常不满意) opens a
/// rectification task for the responsible office; a second rating is allowed once it is settled.
#[utoipa::path(post, path = "/api/v1/cases/{number}/rating", tag = "feedback",
    params(("number" = String, Path, description = "办件编号")),
    request_body = RatingRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The rating (with the task it opened)", body = RatingView),
        (status = 400, description = "Unknown level or channel, text too long", body = ErrorBody),
        (status = 404, description = "No such case of yours", body = ErrorBody),
        (status = 409, description = "Already rated, rectification pending, or not decided yet", body = ErrorBody),
    ))]
pub async fn rate_case(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    body: Result<Json<RatingRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<RatingView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let view = service::rate_case(&state, &actor, &number, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The ratings of a case (its applicant, or staff who may see the case).
#[utoipa::path(get, path = "/api/v1/cases/{number}/rating", tag = "feedback",
    params(("number" = String, Path, description = "办件编号")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "First and second rating", body = Vec<RatingView>),
        (status = 404, description = "No such case", body = ErrorBody),
    ))]
pub async fn case_ratings(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
) -> Result<Json<Vec<RatingView>>, ApiError> {
    Ok(Json(
        service::ratings_of_case(&state, &actor, &number).await?,
    ))
}

/// The applicant rates a "one thing" bundle application (一件事) once every member is finished
/// (completed or closed). One rating per application and round, like a case; the responsible
/// office is the bundle's lead department (牵头部门), for which a bad rating opens a
/// rectification task.
#[utoipa::path(post, path = "/api/v1/bundle-applications/{id}/rating", tag = "feedback",
    params(("id" = String, Path, description = "Id or number (YJS…)")),
    request_body = RatingRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The rating (with the task it opened)", body = RatingView),
        (status = 400, description = "Unknown level or channel, text too long", body = ErrorBody),
        (status = 403, description = "An agent does not rate for the applicant", body = ErrorBody),
        (status = 404, description = "No such bundle application of yours", body = ErrorBody),
        (status = 409, description = "Already rated, rectification pending, or still in progress", body = ErrorBody),
    ))]
pub async fn rate_bundle(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: Result<Json<RatingRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<RatingView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let view = service::rate_bundle(&state, &actor, &id, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The ratings of a bundle application (its applicant, or staff who may see it).
#[utoipa::path(get, path = "/api/v1/bundle-applications/{id}/rating", tag = "feedback",
    params(("id" = String, Path, description = "Id or number (YJS…)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "First and second rating", body = Vec<RatingView>),
        (status = 404, description = "No such bundle application", body = ErrorBody),
    ))]
pub async fn bundle_ratings(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<Vec<RatingView>>, ApiError> {
    Ok(Json(service::ratings_of_bundle(&state, &actor, &id).await?))
}

/// Rate one visit at a window (一次一评), e.g. from the hall tablet.
#[utoipa::path(post, path = "/api/v1/ratings/visits", tag = "feedback",
    request_body = VisitRatingRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The rating", body = RatingView),
        (status = 400, description = "Unknown hall, window or department; bad level", body = ErrorBody),
        (status = 409, description = "This visit is already rated", body = ErrorBody),
    ))]
pub async fn rate_visit(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Result<Json<VisitRatingRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<RatingView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let view = service::rate_visit(&state, &actor, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Public rating figures (好差评公示) per department, hall, window or item and month range:
/// ratings, 好评率, distribution, 差评整改率 and 回访率.
#[utoipa::path(get, path = "/api/v1/ratings/figures", tag = "feedback", params(FiguresQuery),
    responses(
        (status = 200, description = "Figures per group", body = Figures),
        (status = 400, description = "A malformed period or dimension", body = ErrorBody),
    ))]
pub async fn public_figures(
    State(state): State<AppState>,
    query: Result<Query<FiguresQuery>, QueryRejection>,
) -> Result<Json<Figures>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    if query.dimension.as_deref() == Some("region") {
        return Err(ApiError::invalid_parameter(
            "dimension",
            "region",
            "department, hall, window or item",
        ));
    }
    let mut figures = stats::figures(&state, &query).await?;
    let public = [
        "good_rate",
        "bad_ratings",
        "rectification_rate",
        "callback_rate",
    ];
    for row in figures
        .rows
        .iter_mut()
        .chain(std::iter::once(&mut figures.total))
    {
        row.kpis.retain(|k| public.contains(&k.code));
        row.counters = tongban_domain::stats::Counters {
            ratings: row.counters.ratings,
            ratings_good: row.counters.ratings_good,
            ratings_bad: row.counters.ratings_bad,
            ratings_very_satisfied: row.counters.ratings_very_satisfied,
            ratings_very_dissatisfied: row.counters.ratings_very_dissatisfied,
            rectifications: row.counters.rectifications,
            rectifications_closed: row.counters.rectifications_closed,
            ..tongban_domain::stats::Counters::default()
        };
    }
    figures.rows.retain(|r| r.counters.ratings > 0);
    Ok(Json(figures))
}

/// Rectification tasks: the responsible office's own, or all for supervisors.
#[utoipa::path(get, path = "/api/v1/rectifications", tag = "feedback", params(RectificationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Tasks, earliest due first", body = Vec<RectificationView>),
        (status = 403, description = "Not staff of a department", body = ErrorBody),
    ))]
pub async fn list_rectifications(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<RectificationQuery>, QueryRejection>,
) -> Result<Json<Vec<RectificationView>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(
        service::list_rectifications(&state, &actor, query).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/rectifications/{id}", tag = "feedback",
    params(("id" = String, Path, description = "Task id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task with its history", body = RectificationView),
        (status = 404, description = "No such task of yours", body = ErrorBody),
    ))]
pub async fn get_rectification(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<RectificationView>, ApiError> {
    Ok(Json(service::get_rectification(&state, &actor, &id).await?))
}

/// Act on a task: `rectify` or `appeal` (the office), `review` or `call_back` (a supervisor).
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/actions", tag = "feedback",
    params(("id" = String, Path, description = "Task id")),
    request_body = RectificationActionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed task", body = RectificationView),
        (status = 400, description = "A malformed action", body = ErrorBody),
        (status = 403, description = "Not yours to do", body = ErrorBody),
        (status = 409, description = "Illegal in this state, or a stale version", body = ErrorBody),
    ))]
pub async fn act_on_rectification(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: Result<Json<RectificationActionRequest>, JsonRejection>,
) -> Result<Json<RectificationView>, ApiError> {
    let Json(request) = body.map_err(body_error)?;
    Ok(Json(
        service::act_on_rectification(&state, &actor, &id, request).await?,
    ))
}
