//! The 12345 hotline (C7).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::auth::CurrentActor;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::hotline::{
    self as service, CategoryView, TicketActionRequest, TicketQuery, TicketRequest, TicketView,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_ticket, list_tickets))
        .routes(routes!(get_ticket))
        .routes(routes!(act_on_ticket))
        .routes(routes!(categories))
}

fn body_error(rejection: JsonRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
}

/// One ticket in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketListItem {
    pub number: String,
    pub kind: String,
    pub category: String,
    pub area: String,
    pub urgency: String,
    pub state: String,
    pub department: Option<String>,
    #[schema(value_type = Option<String>)]
    pub due_on: Option<jiff::civil::Date>,
    #[schema(value_type = String)]
    pub received_at: jiff::Timestamp,
}

/// Register a ticket (受理): a hotline operator for a caller, or a citizen online.
#[utoipa::path(post, path = "/api/v1/hotline/tickets", tag = "hotline",
    request_body = TicketRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket, with the routing suggestion and possible duplicates", body = TicketView),
        (status = 400, description = "Unknown category, type, area…", body = ErrorBody),
        (status = 403, description = "Neither an operator nor a citizen", body = ErrorBody),
    ))]
pub async fn register_ticket(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Result<Json<TicketRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let view = service::register(&state, &actor, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Tickets: all for hotline staff, a department's for its handlers, one's own for citizens.
#[utoipa::path(get, path = "/api/v1/hotline/tickets", tag = "hotline", params(TicketQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Tickets, earliest deadline first", body = Vec<TicketListItem>),
        (status = 400, description = "A malformed filter", body = ErrorBody),
    ))]
pub async fn list_tickets(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<TicketQuery>, QueryRejection>,
) -> Result<Json<Vec<TicketListItem>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let tickets = service::list(&state, &actor, query).await?;
    Ok(Json(
        tickets
            .into_iter()
            .map(|t| TicketListItem {
                number: t.number,
                kind: t.kind,
                category: t.category,
                area: t.area,
                urgency: t.urgency,
                state: t.state,
                department: t.department,
                due_on: t.due_on,
                received_at: t.received_at,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/hotline/tickets/{number}", tag = "hotline",
    params(("number" = String, Path, description = "Ticket number (RX…)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket with its history", body = TicketView),
        (status = 404, description = "No such ticket of yours", body = ErrorBody),
    ))]
pub async fn get_ticket(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    Ok(Json(service::get(&state, &actor, &number).await?))
}

/// Act on a ticket: dispatch, answer at intake, return and extension requests and decisions,
/// remind, supervise, reply, call back (an unhappy callback reopens it), merge.
#[utoipa::path(post, path = "/api/v1/hotline/tickets/{number}/actions", tag = "hotline",
    params(("number" = String, Path, description = "Ticket number (RX…)")),
    request_body = TicketActionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed ticket", body = TicketView),
        (status = 400, description = "A malformed action", body = ErrorBody),
        (status = 403, description = "Not yours to do", body = ErrorBody),
        (status = 409, description = "Illegal in this state, or a stale version", body = ErrorBody),
    ))]
pub async fn act_on_ticket(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    body: Result<Json<TicketActionRequest>, JsonRejection>,
) -> Result<Json<TicketView>, ApiError> {
    let Json(request) = body.map_err(body_error)?;
    Ok(Json(service::act(&state, &actor, &number, request).await?))
}

/// Ticket categories (诉求分类).
#[utoipa::path(get, path = "/api/v1/hotline/categories", tag = "hotline",
    responses((status = 200, description = "Every category", body = Vec<CategoryView>)))]
pub async fn categories(State(state): State<AppState>) -> Json<Vec<CategoryView>> {
    Json(service::categories(&state))
}
