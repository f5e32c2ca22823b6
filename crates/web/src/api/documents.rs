//! Verified documents (C3 once-only): copies of materials that a window clerk checked for one
//! case, attached by reference (免提交) to the holder's later applications. Applications name one
//! with `{"code", "provided_as": "verified_document", "document": <id>}`, or leave a required
//! material out and get the holder's valid copy attached.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::documents::{self as service, DocumentView, RevokeRequest};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_verified_documents))
        .routes(routes!(revoke_verified_document))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentsQuery {
    /// ID number or credit code of the holder; the signed-in person's own when left out.
    pub holder: Option<String>,
}

/// The verified documents of a holder, newest check first, with their status today (`valid`,
/// `expired`, `revoked`): the holder themself, or staff (the read is logged for the holder).
#[utoipa::path(get, path = "/api/v1/verified-documents", tag = "cases", params(DocumentsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = Vec<DocumentView>),
        (status = 400, description = "Not an ID number or credit code", body = ErrorBody),
        (status = 403, description = "Not your documents", body = ErrorBody),
    ))]
pub async fn list_verified_documents(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<DocumentsQuery>, QueryRejection>,
) -> Result<Json<Vec<DocumentView>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(
        service::list(&state, &actor, query.holder.as_deref()).await?,
    ))
}

/// Revokes a verified document (it was replaced, or found false): it is no longer attached to
/// new applications. A window clerk, an administrator or the department it was checked for.
#[utoipa::path(post, path = "/api/v1/verified-documents/{id}/revoke", tag = "cases",
    params(("id" = String, Path, description = "The document's id")),
    request_body = RevokeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revoked document", body = DocumentView),
        (status = 403, description = "Not allowed for this actor", body = ErrorBody),
        (status = 404, description = "No such document", body = ErrorBody),
        (status = 409, description = "Revoked already", body = ErrorBody),
    ))]
pub async fn revoke_verified_document(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: Result<Json<RevokeRequest>, JsonRejection>,
) -> Result<Json<DocumentView>, ApiError> {
    let Json(request) = body.map_err(|r| ApiError::new(ErrorCode::InvalidBody, r.body_text()))?;
    Ok(Json(service::revoke(&state, &actor, &id, request).await?))
}
