//! Hall pages (C4): the self-service kiosk (`/halls/{hall}/kiosk`: take a ticket, check in an
//! appointment), the ticket (`/tickets/{id}`), the display board (`/halls/{hall}/board`, live
//! through server-sent events), the clerk's window (`/windows/{id}`: call next, recall, skip,
//! finish, transfer, and "accept an application for this applicant"), appointments for citizens
//! (`/appointments`) and for hall staff (`/halls/{hall}/appointments`), and window planning for
//! administrators (`/admin/window-planning`, a chart drawn by the vendored Chart.js).
//!
//! The kiosk's forms carry no CSRF token: they act for nobody (no session is used), exactly like
//! pressing the button on a ticket machine. Every form of a signed-in page does.

use std::fmt;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tongban_domain::calendar::shanghai_date;
use tongban_domain::halls::simulation::{
    ArrivalProfile, PlanRequest, PlanRow, SplitMix64, fewest_windows_for, plan,
};
use tongban_domain::org::Role;

use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::auth::{self, PageSession};
use crate::error::{ApiError, ErrorCode};
use crate::services::halls::{
    self as service, AppointmentAction, AppointmentView, BoardView, BookingRequest,
    CapacityRequest, SlotView, TicketAction, TicketRequest, TicketView, WindowView,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/halls/{hall}/kiosk", get(kiosk).post(kiosk_take))
        .route("/halls/{hall}/kiosk/check-in", post(kiosk_check_in))
        .route("/tickets/{id}", get(ticket_page))
        .route("/halls/{hall}/board", get(board_page))
        .route("/windows/{id}", get(window_page))
        .route("/windows/{id}/call-next", post(window_call_next))
        .route("/windows/{id}/tickets/{ticket}", post(window_ticket_action))
        .route(
            "/appointments",
            get(appointments_page).post(appointment_book),
        )
        .route("/appointments/{id}", post(appointment_action))
        .route("/halls/{hall}/appointments", get(hall_appointments_page))
        .route("/halls/{hall}/capacity", post(hall_capacity))
        .route("/admin/window-planning", get(planning_page))
}

fn invalid_form() -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, "the form could not be read")
}

struct SkillOption {
    key: String,
    name: String,
}

fn skill_options(state: &AppState, hall: &tongban_domain::keys::HallKey) -> Vec<SkillOption> {
    service::hall_skills(state, hall)
        .into_iter()
        .map(|(key, name)| SkillOption {
            key: key.to_string(),
            name,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Kiosk and ticket

#[derive(Template)]
#[template(path = "hall_kiosk.html")]
struct KioskPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    hall: String,
    hall_name: String,
    skills: Vec<SkillOption>,
}

async fn kiosk(State(state): State<AppState>, lang: Lang, Path(hall): Path<String>) -> Response {
    let hall = match service::hall_of(&state, &hall) {
        Ok(hall) => hall,
        Err(error) => return page_error(lang, error),
    };
    render(&KioskPage {
        t: lang.labels(),
        lang,
        path: format!("/halls/{}/kiosk", hall.key),
        skills: skill_options(&state, &hall.key),
        hall: hall.key.to_string(),
        hall_name: hall.name,
    })
}

#[derive(Deserialize)]
struct KioskForm {
    skill: String,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    applicant: Option<String>,
}

impl fmt::Debug for KioskForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KioskForm")
            .field("skill", &self.skill)
            .finish_non_exhaustive()
    }
}

async fn kiosk_take(
    State(state): State<AppState>,
    lang: Lang,
    Path(hall): Path<String>,
    form: Result<Form<KioskForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    let request = TicketRequest {
        hall,
        skill: form.skill,
        class: form.class.filter(|c| !c.is_empty()),
        applicant: form.applicant,
    };
    match service::take_ticket(&state, None, request).await {
        Ok(ticket) => Redirect::to(&format!("/tickets/{}", ticket.id)).into_response(),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Debug, Deserialize)]
struct CheckInForm {
    appointment: String,
}

async fn kiosk_check_in(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<CheckInForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    match service::check_in_appointment(&state, form.appointment.trim()).await {
        Ok(ticket) => Redirect::to(&format!("/tickets/{}", ticket.id)).into_response(),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Template)]
#[template(path = "hall_ticket.html")]
struct TicketPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    ticket: TicketView,
}

async fn ticket_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
) -> Response {
    match service::ticket(&state, &id).await {
        Ok(ticket) => render(&TicketPage {
            t: lang.labels(),
            lang,
            path: format!("/tickets/{id}"),
            ticket,
        }),
        Err(error) => page_error(lang, error),
    }
}

// ---------------------------------------------------------------------------------------------
// Display board

#[derive(Template)]
#[template(path = "hall_board.html")]
struct BoardPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    board: BoardView,
}

async fn board_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(hall): Path<String>,
) -> Response {
    match service::board(&state, &hall).await {
        Ok(board) => render(&BoardPage {
            t: lang.labels(),
            lang,
            path: format!("/halls/{hall}/board"),
            board,
        }),
        Err(error) => page_error(lang, error),
    }
}

// ---------------------------------------------------------------------------------------------
// The clerk's window

#[derive(Template)]
#[template(path = "hall_window.html")]
struct WindowPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    csrf: String,
    name: String,
    window: WindowView,
    skills: Vec<SkillOption>,
    /// Items whose guide the clerk may open to apply for the applicant.
    items: Vec<(String, String)>,
}

async fn window_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
) -> Response {
    let window = match service::window(&state, &session.actor, &id).await {
        Ok(window) => window,
        Err(error) => return page_error(lang, error),
    };
    let hall = match service::hall_of(&state, &window.hall) {
        Ok(hall) => hall,
        Err(error) => return page_error(lang, error),
    };
    let items = match state
        .store
        .catalog
        .list_items(&tongban_store::model::ItemFilter {
            page: tongban_store::model::PageRequest {
                page: 1,
                per_page: tongban_store::model::PageRequest::MAX_PER_PAGE,
            },
            ..tongban_store::model::ItemFilter::default()
        })
        .await
    {
        Ok(page) => page
            .items
            .iter()
            .map(|i| (i.code.to_string(), i.name.clone()))
            .collect(),
        Err(error) => return page_error(lang, error.into()),
    };
    render(&WindowPage {
        t: lang.labels(),
        lang,
        path: format!("/windows/{id}"),
        csrf: session.csrf.clone(),
        name: session.actor.name.clone(),
        skills: skill_options(&state, &hall.key),
        window,
        items,
    })
}

#[derive(Deserialize)]
struct WindowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    skill: String,
    #[serde(default)]
    window: String,
}

impl fmt::Debug for WindowForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowForm")
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

async fn window_call_next(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    form: Result<Form<WindowForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    match service::call_next(&state, &session.actor, &id).await {
        Ok(_) => Redirect::to(&format!("/windows/{id}")).into_response(),
        Err(error) => page_error(lang, error),
    }
}

async fn window_ticket_action(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path((id, ticket)): Path<(String, String)>,
    form: Result<Form<WindowForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let action = match form.action.as_str() {
        "recall" => TicketAction::Recall,
        "skip" => TicketAction::Skip,
        "finish" => TicketAction::Finish,
        "transfer" => TicketAction::Transfer {
            skill: form.skill.clone(),
            window: Some(form.window.clone()).filter(|w| !w.is_empty()),
        },
        other => {
            return page_error(
                lang,
                ApiError::new(
                    ErrorCode::InvalidHallRequest,
                    format!("{other:?} is not a window action"),
                ),
            );
        }
    };
    match service::act_on_ticket(&state, &session.actor, &id, &ticket, action).await {
        Ok(_) => Redirect::to(&format!("/windows/{id}")).into_response(),
        Err(error) => page_error(lang, error),
    }
}

// ---------------------------------------------------------------------------------------------
// Appointments

struct HallOption {
    key: String,
    name: String,
}

#[derive(Template)]
#[template(path = "appointments.html")]
struct AppointmentsPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    csrf: String,
    name: String,
    mine: Vec<AppointmentView>,
    halls: Vec<HallOption>,
    skills: Vec<SkillOption>,
    hall: String,
    skill: String,
    day: String,
    slots: Vec<SlotView>,
    booked: bool,
}

#[derive(Debug, Default, Deserialize)]
struct SlotQuery {
    #[serde(default)]
    hall: Option<String>,
    #[serde(default)]
    skill: Option<String>,
    #[serde(default)]
    day: Option<String>,
    #[serde(default)]
    booked: Option<String>,
}

async fn appointments_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<SlotQuery>,
) -> Response {
    let mine = if session.actor.identifier.is_some() {
        match service::list_appointments(&state, &session.actor, None, None).await {
            Ok(mine) => mine,
            Err(error) => return page_error(lang, error),
        }
    } else {
        Vec::new()
    };
    let lookup = state.lookup.get();
    let halls: Vec<HallOption> = lookup
        .organisation
        .halls
        .iter()
        .map(|h| HallOption {
            key: h.key.to_string(),
            name: h.name.clone(),
        })
        .collect();
    let hall = query.hall.unwrap_or_else(|| "city-centre".into());
    let hall_key = match service::hall_of(&state, &hall) {
        Ok(found) => found.key,
        Err(error) => return page_error(lang, error),
    };
    let skills = skill_options(&state, &hall_key);
    let skill = query
        .skill
        .filter(|s| skills.iter().any(|o| o.key == *s))
        .or_else(|| skills.first().map(|o| o.key.clone()))
        .unwrap_or_default();
    let day = query
        .day
        .unwrap_or_else(|| shanghai_date(state.clock.now()).to_string());
    let slots = if skill.is_empty() {
        Vec::new()
    } else {
        match service::slots(&state, &hall, &skill, &day).await {
            Ok(list) => list.slots,
            Err(error) => return page_error(lang, error),
        }
    };
    render(&AppointmentsPage {
        t: lang.labels(),
        lang,
        path: "/appointments".into(),
        csrf: session.csrf.clone(),
        name: session.actor.name.clone(),
        mine,
        halls,
        skills,
        hall,
        skill,
        day,
        slots,
        booked: query.booked.is_some(),
    })
}

#[derive(Deserialize)]
struct BookForm {
    #[serde(default)]
    csrf: String,
    hall: String,
    skill: String,
    day: String,
    starts: String,
    #[serde(default)]
    applicant: Option<String>,
}

impl fmt::Debug for BookForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookForm")
            .field("hall", &self.hall)
            .finish_non_exhaustive()
    }
}

async fn appointment_book(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    form: Result<Form<BookForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let back = format!(
        "/appointments?hall={}&skill={}&day={}&booked=1",
        auth::encode_query_value(&form.hall),
        auth::encode_query_value(&form.skill),
        auth::encode_query_value(&form.day)
    );
    let request = BookingRequest {
        hall: form.hall,
        skill: form.skill,
        day: form.day,
        starts: form.starts,
        item: None,
        applicant: form.applicant.filter(|a| !a.trim().is_empty()),
    };
    match service::book(&state, &session.actor, request).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Deserialize)]
struct AppointmentForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    starts: String,
    #[serde(default)]
    back: String,
}

impl fmt::Debug for AppointmentForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppointmentForm")
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

async fn appointment_action(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    form: Result<Form<AppointmentForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let action = match form.action.as_str() {
        "cancel" => AppointmentAction::Cancel,
        "no_show" => AppointmentAction::NoShow,
        "reschedule" => AppointmentAction::Reschedule {
            day: form.day.clone(),
            starts: form.starts.clone(),
        },
        other => {
            return page_error(
                lang,
                ApiError::new(
                    ErrorCode::InvalidHallRequest,
                    format!("{other:?} is not an appointment action"),
                ),
            );
        }
    };
    match service::act_on_appointment(&state, &session.actor, &id, action).await {
        Ok(_) => Redirect::to(&auth::local_target(Some(&form.back))).into_response(),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Template)]
#[template(path = "hall_appointments.html")]
struct HallAppointmentsPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    csrf: String,
    name: String,
    hall: String,
    hall_name: String,
    day: String,
    skills: Vec<SkillOption>,
    appointments: Vec<AppointmentView>,
    slots: Vec<(String, Vec<SlotView>)>,
}

#[derive(Debug, Default, Deserialize)]
struct DayQuery {
    #[serde(default)]
    day: Option<String>,
}

async fn hall_appointments_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(hall): Path<String>,
    Query(query): Query<DayQuery>,
) -> Response {
    let found = match service::hall_of(&state, &hall) {
        Ok(found) => found,
        Err(error) => return page_error(lang, error),
    };
    let day = query
        .day
        .unwrap_or_else(|| shanghai_date(state.clock.now()).to_string());
    let appointments =
        match service::list_appointments(&state, &session.actor, Some(&hall), Some(&day)).await {
            Ok(list) => list,
            Err(error) => return page_error(lang, error),
        };
    let skills = skill_options(&state, &found.key);
    let mut slots = Vec::new();
    for skill in &skills {
        match service::slots(&state, &hall, &skill.key, &day).await {
            Ok(list) => slots.push((skill.name.clone(), list.slots)),
            Err(error) => return page_error(lang, error),
        }
    }
    render(&HallAppointmentsPage {
        t: lang.labels(),
        lang,
        path: format!("/halls/{hall}/appointments"),
        csrf: session.csrf.clone(),
        name: session.actor.name.clone(),
        hall: found.key.to_string(),
        hall_name: found.name,
        day,
        skills,
        appointments,
        slots,
    })
}

#[derive(Deserialize)]
struct CapacityForm {
    #[serde(default)]
    csrf: String,
    skill: String,
    day: String,
    starts: String,
    capacity: u32,
}

impl fmt::Debug for CapacityForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapacityForm").finish_non_exhaustive()
    }
}

async fn hall_capacity(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(hall): Path<String>,
    form: Result<Form<CapacityForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let back = format!(
        "/halls/{hall}/appointments?day={}",
        auth::encode_query_value(&form.day)
    );
    let request = CapacityRequest {
        skill: form.skill,
        day: form.day,
        starts: form.starts,
        capacity: form.capacity,
    };
    match service::set_capacity(&state, &session.actor, &hall, request).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(error) => page_error(lang, error),
    }
}

// ---------------------------------------------------------------------------------------------
// Window planning

#[derive(Template)]
#[template(path = "admin_window_planning.html")]
struct PlanningPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    rows: Vec<PlanRow>,
    chart: String,
    arrivals: f64,
    offered_load: f64,
    target: f64,
    fewest: Option<usize>,
    days: u32,
}

/// The admin page runs a small plan of the demo profile (the CLI runs larger ones).
const PLANNING_DAYS: u32 = 8;

async fn planning_page(lang: Lang, session: PageSession) -> Response {
    if let Err(error) = auth::require_role(&session.actor, Role::Administrator) {
        return page_error(lang, error);
    }
    let profile = ArrivalProfile::demo();
    let request = PlanRequest {
        windows: 6..=18,
        days: PLANNING_DAYS,
    };
    // A few hundred milliseconds of CPU: off the async workers.
    let worked = tokio::task::spawn_blocking(move || {
        let mut rng = SplitMix64::seeded(1);
        plan(&profile, &request, &mut rng, &mut |_, _| {}).map(|rows| (profile, rows))
    })
    .await;
    let (profile, rows) = match worked {
        Ok(Ok(done)) => done,
        Ok(Err(error)) => {
            return page_error(
                lang,
                ApiError::new(ErrorCode::InvalidHallRequest, error.to_string()),
            );
        }
        Err(error) => return page_error(lang, ApiError::internal(&error)),
    };
    let target = 15.0;
    let chart = serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into());
    render(&PlanningPage {
        t: lang.labels(),
        lang,
        path: "/admin/window-planning".into(),
        fewest: fewest_windows_for(&rows, target),
        arrivals: profile.per_hour.iter().sum(),
        offered_load: profile.offered_load(),
        target,
        chart,
        rows,
        days: PLANNING_DAYS,
    })
}
