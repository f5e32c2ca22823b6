//! Service halls (C4): appointment slots and bookings, kiosk tickets, windows calling the queue,
//! the display board (JSON and server-sent events) and real trips per item.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::query_error;
use crate::auth::{CurrentActor, MaybeActor};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::halls::{
    self as service, AppointmentAction, AppointmentView, BoardView, BookingRequest,
    CapacityRequest, SlotList, TicketAction, TicketRequest, TicketView, TripsView, WindowView,
};

#[derive(OpenApi)]
#[openapi(tags(
    (name = "halls", description = "Service halls: appointments, tickets, windows, the display board, real trips (C4)")
))]
struct HallsDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(HallsDoc::openapi())
        .routes(routes!(list_slots))
        .routes(routes!(set_capacity))
        .routes(routes!(book_appointment, list_appointments))
        .routes(routes!(act_on_appointment))
        .routes(routes!(check_in_appointment))
        .routes(routes!(take_ticket))
        .routes(routes!(get_ticket))
        .routes(routes!(get_window))
        .routes(routes!(call_next))
        .routes(routes!(act_on_ticket))
        .routes(routes!(get_board))
        .routes(routes!(board_events))
        .routes(routes!(item_trips))
}

fn body_error(rejection: JsonRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The skill group, e.g. `personal`.
    pub skill: String,
    /// `YYYY-MM-DD`.
    pub day: String,
}

/// The appointment slots of a hall for a skill group on a day, with their room.
#[utoipa::path(get, path = "/api/v1/halls/{hall}/slots", tag = "halls", params(
        ("hall" = String, Path, description = "Hall key, e.g. `city-centre`"), SlotsQuery),
    responses(
        (status = 200, description = "The day's slots (none on a day the hall is closed)", body = SlotList),
        (status = 400, description = "A malformed day or an unknown skill group", body = ErrorBody),
        (status = 404, description = "No such hall", body = ErrorBody),
    ))]
pub async fn list_slots(
    State(state): State<AppState>,
    Path(hall): Path<String>,
    query: Result<Query<SlotsQuery>, QueryRejection>,
) -> Result<Json<SlotList>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(
        service::slots(&state, &hall, &query.skill, &query.day).await?,
    ))
}

/// Set one slot's capacity (hall staff). Bookings beyond a lowered capacity are kept.
#[utoipa::path(put, path = "/api/v1/halls/{hall}/capacity", tag = "halls",
    params(("hall" = String, Path, description = "Hall key")),
    request_body = CapacityRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "The day's slots after the change", body = SlotList),
        (status = 403, description = "Not staff of this hall", body = ErrorBody),
        (status = 404, description = "No such hall or slot", body = ErrorBody),
    ))]
pub async fn set_capacity(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(hall): Path<String>,
    body: Result<Json<CapacityRequest>, JsonRejection>,
) -> Result<Json<SlotList>, ApiError> {
    let Json(request) = body.map_err(body_error)?;
    Ok(Json(
        service::set_capacity(&state, &actor, &hall, request).await?,
    ))
}

/// Book a slot: for yourself, or (clerks and agents) for the applicant named.
#[utoipa::path(post, path = "/api/v1/appointments", tag = "halls",
    request_body = BookingRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Booked", body = AppointmentView),
        (status = 404, description = "No such hall or slot", body = ErrorBody),
        (status = 409, description = "The slot is full (`slot_full`) or has started (`out_of_time`)", body = ErrorBody),
    ))]
pub async fn book_appointment(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Result<Json<BookingRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let booked = service::book(&state, &actor, request).await?;
    Ok((StatusCode::CREATED, Json(booked)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppointmentsQuery {
    /// Staff: the hall (with `day`).
    pub hall: Option<String>,
    /// Staff: `YYYY-MM-DD` (with `hall`).
    pub day: Option<String>,
}

/// Your appointments; staff list a hall's appointments of a day, over-booked ones included.
#[utoipa::path(get, path = "/api/v1/appointments", tag = "halls", params(AppointmentsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Appointments", body = Vec<AppointmentView>),
        (status = 403, description = "Not staff of this hall", body = ErrorBody),
    ))]
pub async fn list_appointments(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<AppointmentsQuery>, QueryRejection>,
) -> Result<Json<Vec<AppointmentView>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    Ok(Json(
        service::list_appointments(&state, &actor, query.hall.as_deref(), query.day.as_deref())
            .await?,
    ))
}

/// Cancel, reschedule (`{"action": "reschedule", "day", "starts"}`) or mark a no-show (staff).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/actions", tag = "halls",
    params(("id" = String, Path, description = "Appointment id")),
    request_body(content = Object, description = "`{\"action\": \"cancel\" | \"reschedule\" | \"no_show\", …}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed appointment", body = AppointmentView),
        (status = 404, description = "No such appointment (or not yours)", body = ErrorBody),
        (status = 409, description = "Not in a state or at a time that allows it, or the new slot is full", body = ErrorBody),
    ))]
pub async fn act_on_appointment(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: Result<Json<AppointmentAction>, JsonRejection>,
) -> Result<Json<AppointmentView>, ApiError> {
    let Json(action) = body.map_err(body_error)?;
    Ok(Json(
        service::act_on_appointment(&state, &actor, &id, action).await?,
    ))
}

/// Check an appointment in at the kiosk: an appointment-class ticket, and a visit.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/check-in", tag = "halls",
    params(("id" = String, Path, description = "Appointment id (on the booking confirmation)")),
    responses(
        (status = 201, description = "The ticket", body = TicketView),
        (status = 404, description = "No such appointment", body = ErrorBody),
        (status = 409, description = "Not booked, or outside the check-in time", body = ErrorBody),
    ))]
pub async fn check_in_appointment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let ticket = service::check_in_appointment(&state, &id).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// Take a ticket at a kiosk (no sign-in; an agent ticket needs a signed-in agent). Naming the
/// applicant records the visit as a trip of their cases.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "halls", request_body = TicketRequest,
    responses(
        (status = 201, description = "The ticket with how many are ahead", body = TicketView),
        (status = 400, description = "Unknown skill group, class or a malformed applicant", body = ErrorBody),
        (status = 404, description = "No such hall", body = ErrorBody),
    ))]
pub async fn take_ticket(
    State(state): State<AppState>,
    MaybeActor(actor): MaybeActor,
    body: Result<Json<TicketRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let Json(request) = body.map_err(body_error)?;
    let ticket = service::take_ticket(&state, actor.as_ref(), request).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// A ticket and its place in the queue (the applicant masked).
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "halls",
    params(("id" = String, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket", body = TicketView),
        (status = 404, description = "No such ticket", body = ErrorBody),
    ))]
pub async fn get_ticket(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    Ok(Json(service::ticket(&state, &id).await?))
}

/// A window with the ticket it serves (hall staff).
#[utoipa::path(get, path = "/api/v1/windows/{id}", tag = "halls",
    params(("id" = String, Path, description = "Window key, e.g. `city-centre-a01`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The window", body = WindowView),
        (status = 403, description = "Not staff of this hall", body = ErrorBody),
        (status = 404, description = "No such window", body = ErrorBody),
    ))]
pub async fn get_window(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<WindowView>, ApiError> {
    Ok(Json(service::window(&state, &actor, &id).await?))
}

/// Call the next ticket this window is skilled for: transferred to it first, then green channel,
/// appointments, agents, walk-ins, first come first served. `current` is empty when nobody waits.
#[utoipa::path(post, path = "/api/v1/windows/{id}/call-next", tag = "halls",
    params(("id" = String, Path, description = "Window key")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The window with the called ticket", body = WindowView),
        (status = 403, description = "Not staff of this hall", body = ErrorBody),
        (status = 409, description = "The window still serves a ticket", body = ErrorBody),
    ))]
pub async fn call_next(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<WindowView>, ApiError> {
    Ok(Json(service::call_next(&state, &actor, &id).await?))
}

/// Recall, skip (no-show), finish or transfer (`{"action": "transfer", "skill", "window"?}`) the
/// ticket called to this window.
#[utoipa::path(post, path = "/api/v1/windows/{id}/tickets/{ticket}/actions", tag = "halls",
    params(("id" = String, Path, description = "Window key"),
        ("ticket" = String, Path, description = "Ticket id")),
    request_body(content = Object, description = "`{\"action\": \"recall\" | \"skip\" | \"finish\" | \"transfer\", …}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The window after the action", body = WindowView),
        (status = 404, description = "No such window or ticket", body = ErrorBody),
        (status = 409, description = "Not at this window or in another state", body = ErrorBody),
    ))]
pub async fn act_on_ticket(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((id, ticket)): Path<(String, String)>,
    body: Result<Json<TicketAction>, JsonRejection>,
) -> Result<Json<WindowView>, ApiError> {
    let Json(action) = body.map_err(body_error)?;
    Ok(Json(
        service::act_on_ticket(&state, &actor, &id, &ticket, action).await?,
    ))
}

/// The display board: the latest calls first and how many wait.
#[utoipa::path(get, path = "/api/v1/halls/{hall}/board", tag = "halls",
    params(("hall" = String, Path, description = "Hall key")),
    responses(
        (status = 200, description = "The board", body = BoardView),
        (status = 404, description = "No such hall", body = ErrorBody),
    ))]
pub async fn get_board(
    State(state): State<AppState>,
    Path(hall): Path<String>,
) -> Result<Json<BoardView>, ApiError> {
    Ok(Json(service::board(&state, &hall).await?))
}

/// How often the board stream looks for changes.
const BOARD_POLL: Duration = Duration::from_millis(700);

/// The display board as server-sent events: a `board` event with the board's JSON now and on
/// every change.
#[utoipa::path(get, path = "/api/v1/halls/{hall}/board/events", tag = "halls",
    params(("hall" = String, Path, description = "Hall key")),
    responses(
        (status = 200, description = "`text/event-stream` of `board` events (BoardView JSON)"),
        (status = 404, description = "No such hall", body = ErrorBody),
    ))]
pub async fn board_events(
    State(state): State<AppState>,
    Path(hall): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let first = service::board(&state, &hall).await?;
    let stream = futures_util::stream::unfold(
        (state, hall, None::<BoardView>, Some(first)),
        |(state, hall, last, pending)| async move {
            let mut pending = pending;
            loop {
                if let Some(board) = pending.take()
                    && last.as_ref() != Some(&board)
                {
                    let event = Event::default()
                        .event("board")
                        .json_data(&board)
                        .unwrap_or_else(|_| Event::default().comment("unencodable"));
                    return Some((Ok(event), (state, hall, Some(board), None)));
                }
                tokio::time::sleep(BOARD_POLL).await;
                match service::board(&state, &hall).await {
                    Ok(board) => pending = Some(board),
                    // A failed read ends the stream; the page's EventSource reconnects.
                    Err(_) => return None,
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The promised 到现场次数 of an item against the real trips of its cases.
#[utoipa::path(get, path = "/api/v1/items/{code}/trips", tag = "halls",
    params(("code" = String, Path, description = "Implementation code (实施编码)")),
    responses(
        (status = 200, description = "Promise and distribution", body = TripsView),
        (status = 404, description = "No such item", body = ErrorBody),
    ))]
pub async fn item_trips(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<TripsView>, ApiError> {
    Ok(Json(service::item_trips(&state, &code).await?))
}
