//! Bundle applications (一件事申请, C3): one submission, a parent case and its children.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::bundle_plan::BundlePlan;
use crate::services::bundles::{self as service, BundleApplicationRequest, BundleCaseView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_bundle_application, list_bundle_applications))
        .routes(routes!(get_bundle_application))
        .routes(routes!(bundle_plan))
}

/// What a bundle application will ask of the signed-in applicant for these answers (query
/// `question=option` pairs, the bundle's and the members' questions): open questions, the
/// selected members and their waits, the merged form and the merged materials with 免提交
/// marks. `prefill=true` is the applicant's consent to prefill the form from their licences
/// and earlier applications; every read is written to their data-access log.
#[utoipa::path(get, path = "/api/v1/bundles/{code}/plan", tag = "bundles",
    params(
        ("code" = String, Path, description = "The bundle's code, e.g. newborn"),
        ("prefill" = Option<bool>, Query, description = "Consent to prefill from earlier data"),
        ("optional" = Option<String>, Query, description = "Optional members to include, comma-separated"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The plan", body = BundlePlan),
        (status = 400, description = "An answer is not an option", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such bundle", body = ErrorBody),
    ))]
pub async fn bundle_plan(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    Query(mut query): Query<BTreeMap<String, String>>,
) -> Result<Json<BundlePlan>, ApiError> {
    let prefill = query.remove("prefill").is_some_and(|v| v == "true");
    let optional: Vec<String> = query
        .remove("optional")
        .map(|list| list.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let plan =
        crate::services::bundle_plan::plan(&state, &actor, &code, &query, &optional, prefill)
            .await?;
    Ok(Json(plan))
}

/// Apply for a one-thing bundle: answers select the members, one merged form asks each data
/// element once, one set of materials asks each material once (licences the applicant holds
/// replace materials: 免提交). Creates the parent case and one child case per member that
/// waits for nothing; members that need another member's result open when it is issued.
#[utoipa::path(post, path = "/api/v1/bundle-applications", tag = "bundles",
    request_body = BundleApplicationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The parent case with its children", body = BundleCaseView),
        (status = 400, description = "Every problem of every member at once", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such bundle", body = ErrorBody),
    ))]
pub async fn submit_bundle_application(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Result<Json<BundleApplicationRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<BundleCaseView>), ApiError> {
    let Json(request) = body.map_err(|r| ApiError::new(ErrorCode::InvalidBody, r.body_text()))?;
    let parent = service::submit(&state, &actor, request).await?;
    Ok((StatusCode::CREATED, Json(parent)))
}

/// The signed-in applicant's bundle applications, newest first.
#[utoipa::path(get, path = "/api/v1/bundle-applications", tag = "bundles",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = Vec<BundleCaseView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_bundle_applications(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<BundleCaseView>>, ApiError> {
    Ok(Json(service::mine(&state, &actor).await?))
}

/// One bundle application (by id or 办件编号): one status, one promised date, and every
/// member's progress (waiting, its case's state, cancelled).
#[utoipa::path(get, path = "/api/v1/bundle-applications/{id}", tag = "bundles",
    params(("id" = String, Path, description = "Id or number (YJS…)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The parent with its children", body = BundleCaseView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such application, or not yours", body = ErrorBody),
    ))]
pub async fn get_bundle_application(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<BundleCaseView>, ApiError> {
    Ok(Json(service::get(&state, &actor, &id).await?))
}
