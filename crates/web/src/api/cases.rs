//! Applications, cases, uploads and licences (C2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use tongban_domain::licences::Licence;
use tongban_store::model::DataAccess;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::cases::{
    self as service, ActionRequest, ApplicationRequest, CaseList, CaseView, CasesQuery,
    UploadReceipt, Verification,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_application))
        .routes(routes!(upload_material))
        .routes(routes!(list_cases))
        .routes(routes!(get_case))
        .routes(routes!(act_on_case))
        .routes(routes!(list_licences))
        .routes(routes!(verify_licence))
        .routes(routes!(my_data_access))
        // Uploads may be up to 10 MiB; the service refuses anything larger with a clear error.
        .layer(DefaultBodyLimit::max(
            service::MAX_UPLOAD_BYTES + 1024 * 1024,
        ))
}

fn body_error(rejection: JsonRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
}

/// Apply for an item: from the web (the citizen), at a window (a clerk for the applicant) or a
/// kiosk. The form is checked against the item's fields, the materials against its list.
#[utoipa::path(post, path = "/api/v1/applications", tag = "cases", request_body = ApplicationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new case", body = CaseView),
        (status = 400, description = "Every problem of the application at once", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
    ))]
pub async fn submit_application(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Result<Json<ApplicationRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let case = service::submit(&state, &actor, request).await?;
    Ok((StatusCode::CREATED, Json(case)))
}

/// Upload a material file (PDF, JPEG or PNG, at most 10 MiB) as the raw request body; the answer
/// names the upload for `materials[].upload` of an application.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "cases",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = UploadReceipt),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "Not a PDF, JPEG or PNG", body = ErrorBody),
    ))]
pub async fn upload_material(
    State(state): State<AppState>,
    CurrentActor(_actor): CurrentActor,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<UploadReceipt>), ApiError> {
    // A body past the route's limit is cut off by axum; it gets the API's error body too.
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "an upload is at most {} MiB",
                    service::MAX_UPLOAD_BYTES / 1024 / 1024
                ),
            )
        } else {
            ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
        }
    })?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let receipt = service::upload(&state, declared, body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// Cases the caller may see: the inbox (`order=due`) and searches. Keyset pagination.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CasesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of cases", body = CaseList),
        (status = 400, description = "A malformed filter", body = ErrorBody),
    ))]
pub async fn list_cases(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<CasesQuery>, QueryRejection>,
) -> Result<Json<CaseList>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(service::list(&state, &actor, query).await?))
}

/// The whole case in one call: status, timeline, materials, deadlines, result.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id or 办件编号")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 404, description = "No such case (or not yours to see)", body = ErrorBody),
    ))]
pub async fn get_case(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(service::get(&state, &actor, &id).await?))
}

/// Act on a case: `{"version": <the version you saw>, "action": "accept", …}`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases",
    params(("id" = String, Path, description = "Case id or 办件编号")),
    request_body = ActionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed case", body = CaseView),
        (status = 400, description = "A malformed or invalid action", body = ErrorBody),
        (status = 403, description = "Not allowed for this actor", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "Illegal in this state, or a stale version", body = ErrorBody),
    ))]
pub async fn act_on_case(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: Result<Json<ActionRequest>, JsonRejection>,
) -> Result<Json<CaseView>, ApiError> {
    let Json(request) = body.map_err(body_error)?;
    Ok(Json(service::act(&state, &actor, &id, request).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LicencesQuery {
    /// ID number or credit code of the holder.
    pub holder: String,
}

/// Licences of a holder (the holder themself, or staff — logged for the holder).
#[utoipa::path(get, path = "/api/v1/licenses", tag = "licences", params(LicencesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every licence version, newest first", body = Vec<Object>),
        (status = 403, description = "Not your licences", body = ErrorBody),
    ))]
pub async fn list_licences(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<LicencesQuery>, QueryRejection>,
) -> Result<Json<Vec<Licence>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(
        service::licences_of(&state, &actor, &query.holder).await?,
    ))
}

/// Public verification of a licence identifier (the QR code on a printed result).
#[utoipa::path(get, path = "/api/v1/licenses/{identifier}/verify", tag = "licences",
    params(("identifier" = String, Path, description = "Licence identifier with its check character")),
    responses(
        (status = 200, description = "Genuine; whether it is valid today", body = Verification),
        (status = 400, description = "Not a licence identifier (wrong check character…)", body = ErrorBody),
        (status = 404, description = "Not issued here", body = ErrorBody),
    ))]
pub async fn verify_licence(
    State(state): State<AppState>,
    Path(identifier): Path<String>,
) -> Result<Json<Verification>, ApiError> {
    Ok(Json(service::verify(&state, &identifier).await?))
}

/// Every read of the signed-in person's data by others (数据访问记录).
#[utoipa::path(get, path = "/api/v1/me/data-access", tag = "cases",
    security(("bearer" = [])),
    responses((status = 200, description = "Newest first", body = Vec<Object>)))]
pub async fn my_data_access(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<DataAccess>>, ApiError> {
    Ok(Json(service::my_access_log(&state, &actor).await?))
}
