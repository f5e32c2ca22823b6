//! The JSON API under `/api/v1`, one module per context, collected into one OpenAPI document.

pub mod agents;
pub mod ask;
pub mod auth;
pub mod bundle_cases;
pub mod cases;
pub mod catalog;
pub mod delivery;
pub mod documents;
pub mod feedback;
pub mod halls;
pub mod hotline;
pub mod stats;
pub mod webhooks;

use std::sync::LazyLock;

use axum::Json;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tongban API",
        description = "通办 — integrated government-services platform. Errors use the body \
                       `{\"error\": {\"code\", \"message\", \"details\"}}` with a stable code.",
        license(name = "Apache-2.0")
    ),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "catalog", description = "Service items, guides and one-thing bundles (C1)"),
        (name = "bundles", description = "One-thing bundle applications: parent and child cases (C3)"),
        (name = "delivery", description = "Delivery of results: carriers' reports on parcels (C5)"),
        (name = "assistant", description = "The one-sentence assistant, 一句话办事 (C9)"),
        (name = "meta", description = "This document")
    )
)]
struct ApiDoc;

/// Every API route with its documentation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_document))
        .merge(catalog::router())
        .merge(webhooks::router())
        .merge(auth::router())
        .merge(cases::router())
        .merge(bundle_cases::router())
        .merge(delivery::router())
        .merge(documents::router())
        .merge(halls::router())
        .merge(feedback::router())
        .merge(hotline::router())
        .merge(stats::router())
        .merge(ask::router())
        .merge(agents::router())
}

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> =
    LazyLock::new(|| router().split_for_parts().1);

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
async fn openapi_document() -> Json<utoipa::openapi::OpenApi> {
    Json(DOCUMENT.clone())
}

/// The OpenAPI document (for tests and tools).
pub fn document() -> &'static utoipa::openapi::OpenApi {
    &DOCUMENT
}
