//! Delivery of results (C5): carriers report on parcels here. Posting a result (`ship`), handing
//! one out with its pickup code (`collect`) and switching to collection (`collect_instead`) are
//! case actions (`POST /api/v1/cases/{id}/actions`); the shipment with its tracking timeline is
//! part of `GET /api/v1/cases/{id}` (`delivery`).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::delivery::{self as service, TrackingReport, TrackingReportRequest};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report_tracking_event))
}

/// A carrier's status report on a parcel (its system with a department API token, or a clerk
/// typing it): 已揽收 `picked_up` → 运输中 `in_transit` → 派送中 `out_for_delivery` → 已签收
/// `signed` (delivers the case) or 已退回 `returned`. Every case posted in the parcel records
/// it; a report recorded before changes nothing (`recorded: false`), so resending is safe.
#[utoipa::path(post, path = "/api/v1/shipments/{carrier}/{tracking_number}/events", tag = "delivery",
    params(
        ("carrier" = String, Path, description = "ems, sf, jd or other"),
        ("tracking_number" = String, Path, description = "The carrier's tracking number (运单号)"),
    ),
    request_body = TrackingReportRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the report did to each case in the parcel", body = TrackingReport),
        (status = 400, description = "Unknown carrier, malformed number or report", body = ErrorBody),
        (status = 403, description = "Not a carrier's system or a clerk", body = ErrorBody),
        (status = 404, description = "No result is on its way under this number", body = ErrorBody),
        (status = 409, description = "The report does not follow the parcel's journey", body = ErrorBody),
    ))]
pub async fn report_tracking_event(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((carrier, tracking_number)): Path<(String, String)>,
    body: Result<Json<TrackingReportRequest>, JsonRejection>,
) -> Result<Json<TrackingReport>, ApiError> {
    let Json(request) = body.map_err(|r| ApiError::new(ErrorCode::InvalidBody, r.body_text()))?;
    Ok(Json(
        service::report(&state, &actor, &carrier, &tracking_number, request).await?,
    ))
}
