//! The hall service (SPEC C4): appointments, tickets and windows, the display board, and the
//! trips counted per case. It resolves halls, windows and skill groups from the in-memory lookup,
//! calls the pure rules in `tongban_domain::halls`, and stores the outcome through the
//! [`HallStore`](tongban_store::HallStore) port. Races (two windows calling the same ticket, two
//! bookings of the last place) are settled by conditional writes in the store and retried here.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::{Actor, ActorKind, Case};
use tongban_domain::halls::appointments::{
    self, Appointment, Availability, Booking, DayKind, Slot,
};
use tongban_domain::halls::queue::{Ticket, TicketStatus, next_for};
use tongban_domain::halls::visits::{TripDistribution, Visit};
use tongban_domain::halls::{AppointmentId, HallError, PriorityClass, TicketId, VisitId};
use tongban_domain::ids::{CreditCode, IdNumber, ImplementationCode};
use tongban_domain::keys::{HallKey, SkillGroupKey, WindowKey};
use tongban_domain::org::{Hall, Role, Window};
use tongban_store::model::{AppointmentFilter, CheckIn};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

impl From<HallError> for ApiError {
    fn from(error: HallError) -> ApiError {
        let code = match &error {
            HallError::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            HallError::SlotFull { .. } => ErrorCode::SlotFull,
            HallError::NoSuchSlot(_) => ErrorCode::SlotNotFound,
            HallError::OutOfTime(_) => ErrorCode::OutOfTime,
            HallError::Invalid(_) => ErrorCode::InvalidHallRequest,
        };
        ApiError::new(code, error.to_string())
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidHallRequest, message)
}

/// An instant as Beijing time, `HH:MM`.
fn clock_time(at: Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .strftime("%H:%M")
        .to_string()
}

fn minutes(duration: Option<jiff::SignedDuration>) -> Option<f64> {
    duration.map(|d| (d.as_secs_f64() / 60.0 * 10.0).round() / 10.0)
}

/// Keeps the first digits and the last one of an identifier (boards and kiosks are public).
pub fn mask_identifier(identifier: &str) -> String {
    let chars: Vec<char> = identifier.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let mut masked: String = chars[..3].iter().collect();
    masked.push_str(&"*".repeat(chars.len() - 4));
    masked.push(chars[chars.len() - 1]);
    masked
}

// ---------------------------------------------------------------------------------------------
// Resolving halls, windows, skills

/// A hall by key; 404 `hall_not_found`.
pub fn hall_of(state: &AppState, key: &str) -> Result<Hall, ApiError> {
    let lookup = state.lookup.get();
    HallKey::parse(key)
        .ok()
        .and_then(|k| lookup.hall(&k).cloned())
        .ok_or_else(|| ApiError::new(ErrorCode::HallNotFound, format!("there is no hall {key}")))
}

/// A window by key; 404 `window_not_found`.
pub fn window_of(state: &AppState, key: &str) -> Result<Window, ApiError> {
    let lookup = state.lookup.get();
    WindowKey::parse(key)
        .ok()
        .and_then(|k| {
            lookup
                .organisation
                .windows
                .iter()
                .find(|w| w.key == k)
                .cloned()
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WindowNotFound,
                format!("there is no window {key}"),
            )
        })
}

/// The skill groups of the hall's windows (what a ticket there may ask for).
pub fn hall_skills(state: &AppState, hall: &HallKey) -> Vec<(SkillGroupKey, String)> {
    let lookup = state.lookup.get();
    let mut skills: Vec<(SkillGroupKey, String)> = Vec::new();
    for window in lookup
        .organisation
        .windows
        .iter()
        .filter(|w| &w.hall == hall)
    {
        for skill in &window.skills {
            if skills.iter().any(|(k, _)| k == skill) {
                continue;
            }
            let name = lookup
                .organisation
                .skill_groups
                .iter()
                .find(|g| &g.key == skill)
                .map_or_else(|| skill.to_string(), |g| g.name.clone());
            skills.push((skill.clone(), name));
        }
    }
    skills
}

fn skill_at(state: &AppState, hall: &HallKey, text: &str) -> Result<SkillGroupKey, ApiError> {
    let skill = SkillGroupKey::parse(text).map_err(|e| invalid(e.to_string()))?;
    if !hall_skills(state, hall).iter().any(|(k, _)| *k == skill) {
        return Err(invalid(format!("no window of hall {hall} serves {skill}")));
    }
    Ok(skill)
}

/// Staff who may work a hall's windows and bookings: its clerks and administrators.
fn require_hall_staff(actor: &Actor, hall: &HallKey) -> Result<(), ApiError> {
    let allowed = actor.roles.iter().any(|assignment| match assignment.role {
        Role::Administrator => true,
        Role::Clerk => assignment.hall.as_ref().is_none_or(|h| h == hall),
        _ => false,
    });
    if allowed {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        format!("your account does not work at hall {hall}"),
    ))
}

fn parse_applicant(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if IdNumber::parse(text).is_ok() || CreditCode::parse(text).is_ok() {
        return Ok(text.to_owned());
    }
    Err(invalid(
        "the applicant must be a valid resident ID number or unified social credit code",
    ))
}

fn day_kind(state: &AppState, day: Date) -> Result<DayKind, ApiError> {
    let workday = state
        .calendar
        .is_workday(day)
        .map_err(|e| ApiError::new(ErrorCode::CalendarYearNotLoaded, e.to_string()))?;
    let weekday = day.weekday().to_monday_one_offset();
    // A Monday–Friday that is not a working day lies in an official holiday.
    Ok(DayKind {
        workday,
        holiday: !workday && weekday <= 5,
    })
}

fn parse_day(text: &str) -> Result<Date, ApiError> {
    text.parse()
        .map_err(|_| invalid(format!("{text:?} is not a date YYYY-MM-DD")))
}

fn parse_time(text: &str) -> Result<Time, ApiError> {
    Time::strptime("%H:%M", text).map_err(|_| invalid(format!("{text:?} is not a time HH:MM")))
}

// ---------------------------------------------------------------------------------------------
// Appointments

/// One slot of a day with its room.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotView {
    pub day: String,
    /// `HH:MM`, China time.
    pub starts: String,
    pub ends: String,
    /// From an extended session (e.g. 周六上午预约延时服务).
    pub extended: bool,
    pub capacity: u32,
    pub booked: u32,
    pub remaining: u32,
    /// Bookings beyond a lowered capacity; they stay valid.
    pub orphaned: u32,
}

/// The slots of a hall for a skill group on a day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotList {
    pub hall: String,
    pub skill: String,
    pub day: String,
    pub slots: Vec<SlotView>,
}

async fn availability(
    state: &AppState,
    hall: &HallKey,
    skill: &SkillGroupKey,
    slot: &Slot,
) -> Result<Availability, ApiError> {
    let loads = state.store.halls.slot_loads(hall, skill, slot.day).await?;
    let load = loads.iter().find(|l| l.starts == slot.starts);
    Ok(Availability {
        capacity: load
            .and_then(|l| l.capacity)
            .unwrap_or(appointments::DEFAULT_CAPACITY),
        booked: load.map_or(0, |l| l.booked),
    })
}

pub async fn slots(
    state: &AppState,
    hall: &str,
    skill: &str,
    day: &str,
) -> Result<SlotList, ApiError> {
    let hall = hall_of(state, hall)?;
    let skill = skill_at(state, &hall.key, skill)?;
    let day = parse_day(day)?;
    let slots = appointments::slots_on(&hall, day, day_kind(state, day)?)?;
    let loads = state.store.halls.slot_loads(&hall.key, &skill, day).await?;
    let mut views = Vec::new();
    for slot in slots {
        let load = loads.iter().find(|l| l.starts == slot.starts);
        let room = Availability {
            capacity: load
                .and_then(|l| l.capacity)
                .unwrap_or(appointments::DEFAULT_CAPACITY),
            booked: load.map_or(0, |l| l.booked),
        };
        views.push(SlotView {
            day: day.to_string(),
            starts: slot.starts.strftime("%H:%M").to_string(),
            ends: slot.ends.strftime("%H:%M").to_string(),
            extended: slot.extended,
            capacity: room.capacity,
            booked: room.booked,
            remaining: room.remaining(),
            orphaned: room.orphaned(),
        });
    }
    Ok(SlotList {
        hall: hall.key.to_string(),
        skill: skill.to_string(),
        day: day.to_string(),
        slots: views,
    })
}

/// `POST /api/v1/appointments`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub hall: String,
    /// The skill group (item group), e.g. `personal`.
    pub skill: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `HH:MM`: the start of one of the day's slots.
    pub starts: String,
    /// The item's implementation code, when known.
    #[serde(default)]
    pub item: Option<String>,
    /// For staff booking for someone: their ID number or credit code.
    #[serde(default)]
    pub applicant: Option<String>,
}

/// An appointment as its holder and hall staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: String,
    pub hall: String,
    pub hall_name: String,
    pub skill: String,
    pub day: String,
    pub starts: String,
    pub ends: String,
    pub extended: bool,
    pub applicant: String,
    pub item: Option<String>,
    /// `booked`, `checked_in`, `cancelled` or `no_show`.
    pub status: String,
    pub ticket: Option<String>,
}

fn appointment_view(state: &AppState, appointment: &Appointment) -> AppointmentView {
    let lookup = state.lookup.get();
    AppointmentView {
        id: appointment.id.to_string(),
        hall: appointment.hall.to_string(),
        hall_name: lookup
            .hall(&appointment.hall)
            .map_or_else(String::new, |h| h.name.clone()),
        skill: appointment.skill.to_string(),
        day: appointment.slot.day.to_string(),
        starts: appointment.slot.starts.strftime("%H:%M").to_string(),
        ends: appointment.slot.ends.strftime("%H:%M").to_string(),
        extended: appointment.slot.extended,
        applicant: appointment.applicant.clone(),
        item: appointment.item.clone(),
        status: appointment.status.code().to_owned(),
        ticket: appointment.ticket.map(|t| t.to_string()),
    }
}

/// Whose appointment it is: the signed-in person or enterprise itself, or someone named by
/// staff (a clerk or an agent booking for them).
fn booking_applicant(actor: &Actor, named: Option<&str>) -> Result<String, ApiError> {
    match actor.kind {
        ActorKind::Person | ActorKind::Enterprise => {
            let own = actor.identifier.clone().ok_or_else(|| {
                ApiError::new(ErrorCode::Forbidden, "your account has no identifier")
            })?;
            if let Some(named) = named
                && named.trim() != own
            {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "you can book only for yourself",
                ));
            }
            Ok(own)
        }
        ActorKind::Staff
            if actor.has_role(Role::Clerk, None) || actor.has_role(Role::Agent, None) =>
        {
            let named = named.ok_or_else(|| invalid("name the applicant to book for"))?;
            parse_applicant(named)
        }
        _ => Err(ApiError::new(
            ErrorCode::Forbidden,
            "your account may not book appointments",
        )),
    }
}

pub async fn book(
    state: &AppState,
    actor: &Actor,
    request: BookingRequest,
) -> Result<AppointmentView, ApiError> {
    let hall = hall_of(state, &request.hall)?;
    let skill = skill_at(state, &hall.key, &request.skill)?;
    let day = parse_day(&request.day)?;
    let slot = appointments::find_slot(
        &hall,
        day,
        day_kind(state, day)?,
        parse_time(&request.starts)?,
    )?;
    let applicant = booking_applicant(actor, request.applicant.as_deref())?;
    let item = request
        .item
        .as_deref()
        .map(ImplementationCode::parse)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidItemCode, e.to_string()))?;
    // 帮办代办: an agent books only for an applicant whose mandate holds (for that item, if named).
    super::agents::acting_for(state, actor, &applicant, item.as_ref()).await?;
    let now = state.clock.now();
    let room = availability(state, &hall.key, &skill, &slot).await?;
    let appointment = Appointment::book(
        Booking {
            id: super::cases::new_id(now),
            hall: hall.key.clone(),
            skill,
            slot,
            applicant,
            booked_by: actor.account.to_string(),
            item: request.item,
        },
        room,
        now,
    )?;
    if !state
        .store
        .halls
        .book_appointment(&appointment, room.capacity)
        .await?
    {
        return Err(HallError::SlotFull {
            capacity: room.capacity,
        }
        .into());
    }
    Ok(appointment_view(state, &appointment))
}

/// The appointment if the actor may change it: its holder, whoever booked it, or hall staff.
async fn own_appointment(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Appointment, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::AppointmentNotFound,
            format!("there is no appointment {id}"),
        )
    };
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| not_found())?;
    let appointment = state
        .store
        .halls
        .appointment(AppointmentId::from_uuid(uuid))
        .await?
        .ok_or_else(not_found)?;
    let holder = actor.identifier.as_deref() == Some(appointment.applicant.as_str())
        || appointment.booked_by == actor.account.as_str();
    if holder || require_hall_staff(actor, &appointment.hall).is_ok() {
        return Ok(appointment);
    }
    Err(not_found())
}

/// What happens to an appointment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum AppointmentAction {
    Cancel,
    Reschedule {
        day: String,
        starts: String,
    },
    /// Hall staff, after the slot ended.
    NoShow,
}

pub async fn act_on_appointment(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action: AppointmentAction,
) -> Result<AppointmentView, ApiError> {
    let appointment = own_appointment(state, actor, id).await?;
    let now = state.clock.now();
    let (changed, capacity) = match action {
        AppointmentAction::Cancel => (appointment.cancel(now)?, None),
        AppointmentAction::NoShow => {
            require_hall_staff(actor, &appointment.hall)?;
            (appointment.no_show(now)?, None)
        }
        AppointmentAction::Reschedule { day, starts } => {
            let hall = hall_of(state, appointment.hall.as_str())?;
            let day = parse_day(&day)?;
            let slot =
                appointments::find_slot(&hall, day, day_kind(state, day)?, parse_time(&starts)?)?;
            let room = availability(state, &hall.key, &appointment.skill, &slot).await?;
            (
                appointment.reschedule(slot, room, now)?,
                Some(room.capacity),
            )
        }
    };
    let saved = state
        .store
        .halls
        .save_appointment(&changed, appointment.status, capacity)
        .await?;
    if !saved {
        return Err(match capacity {
            Some(capacity) => HallError::SlotFull { capacity }.into(),
            None => ApiError::new(
                ErrorCode::StaleVersion,
                "the appointment was changed meanwhile; reload it",
            ),
        });
    }
    Ok(appointment_view(state, &changed))
}

/// The actor's own appointments, or (staff) a hall's on a day.
pub async fn list_appointments(
    state: &AppState,
    actor: &Actor,
    hall: Option<&str>,
    day: Option<&str>,
) -> Result<Vec<AppointmentView>, ApiError> {
    let filter = match (hall, day) {
        (Some(hall), Some(day)) => {
            let hall = hall_of(state, hall)?;
            require_hall_staff(actor, &hall.key)?;
            AppointmentFilter::HallDay(hall.key, parse_day(day)?)
        }
        (None, None) => {
            let identifier = actor.identifier.clone().ok_or_else(|| {
                invalid("staff list a hall's appointments with ?hall=…&day=YYYY-MM-DD")
            })?;
            AppointmentFilter::Applicant(identifier)
        }
        _ => return Err(invalid("give both hall and day, or neither")),
    };
    let found = state.store.halls.appointments(&filter).await?;
    Ok(found.iter().map(|a| appointment_view(state, a)).collect())
}

/// `PUT /api/v1/halls/{hall}/capacity`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityRequest {
    pub skill: String,
    pub day: String,
    pub starts: String,
    pub capacity: u32,
}

pub async fn set_capacity(
    state: &AppState,
    actor: &Actor,
    hall: &str,
    request: CapacityRequest,
) -> Result<SlotList, ApiError> {
    let hall = hall_of(state, hall)?;
    require_hall_staff(actor, &hall.key)?;
    let skill = skill_at(state, &hall.key, &request.skill)?;
    let day = parse_day(&request.day)?;
    let slot = appointments::find_slot(
        &hall,
        day,
        day_kind(state, day)?,
        parse_time(&request.starts)?,
    )?;
    if request.capacity > 500 {
        return Err(invalid("a slot holds at most 500 places"));
    }
    state
        .store
        .halls
        .set_slot_capacity(
            &hall.key,
            &skill,
            day,
            slot.starts,
            request.capacity,
            state.clock.now(),
        )
        .await?;
    slots(state, hall.key.as_str(), skill.as_str(), &request.day).await
}

// ---------------------------------------------------------------------------------------------
// Tickets

/// `POST /api/v1/tickets`: a ticket from the kiosk.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    pub hall: String,
    /// The skill group the matter needs, e.g. `personal`.
    pub skill: String,
    /// `normal` (default), `green_channel` (elderly, pregnant, disabled; checked at the window)
    /// or `agent` (signed-in agents only).
    #[serde(default)]
    pub class: Option<String>,
    /// The applicant's ID number or credit code: the visit then counts as a trip of their cases.
    #[serde(default)]
    pub applicant: Option<String>,
}

/// A ticket. Public views mask the applicant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketView {
    pub id: String,
    pub number: String,
    pub hall: String,
    /// `green_channel`, `appointment`, `agent` or `normal`.
    pub class: String,
    pub class_label: String,
    pub skill: String,
    /// `waiting`, `called`, `done` or `skipped`.
    pub status: String,
    pub window: Option<String>,
    /// The number of the window on the board, e.g. `A01`.
    pub window_number: Option<String>,
    pub applicant: Option<String>,
    /// `HH:MM`.
    pub taken_at: String,
    pub called_at: Option<String>,
    pub waiting_minutes: Option<f64>,
    pub service_minutes: Option<f64>,
    pub recalls: u32,
    /// Waiting tickets that a window of this skill would call first.
    pub ahead: Option<usize>,
}

fn window_number(state: &AppState, window: Option<&WindowKey>) -> Option<String> {
    let lookup = state.lookup.get();
    let window = window?;
    lookup
        .organisation
        .windows
        .iter()
        .find(|w| &w.key == window)
        .map(|w| w.number.clone())
}

fn ticket_view(
    state: &AppState,
    ticket: &Ticket,
    all: Option<&[Ticket]>,
    reveal: bool,
) -> TicketView {
    let ahead = match (ticket.status, all) {
        (TicketStatus::Waiting, Some(all)) => Some(
            all.iter()
                .filter(|t| {
                    t.status == TicketStatus::Waiting
                        && t.skill == ticket.skill
                        && t.id != ticket.id
                        && (t.class.rank(), t.taken_at) < (ticket.class.rank(), ticket.taken_at)
                })
                .count(),
        ),
        _ => None,
    };
    TicketView {
        id: ticket.id.to_string(),
        number: ticket.number.clone(),
        hall: ticket.hall.to_string(),
        class: ticket.class.code().to_owned(),
        class_label: ticket.class.label_zh().to_owned(),
        skill: ticket.skill.to_string(),
        status: ticket.status.code().to_owned(),
        window: ticket.window.as_ref().map(ToString::to_string),
        window_number: window_number(state, ticket.window.as_ref()),
        applicant: ticket.applicant.as_deref().map(|a| {
            if reveal {
                a.to_owned()
            } else {
                mask_identifier(a)
            }
        }),
        taken_at: clock_time(ticket.taken_at),
        called_at: ticket.called_at.map(clock_time),
        waiting_minutes: minutes(ticket.waiting_time()),
        service_minutes: minutes(ticket.service_time()),
        recalls: ticket.recalls,
        ahead,
    }
}

async fn today_tickets(state: &AppState, hall: &HallKey) -> Result<Vec<Ticket>, ApiError> {
    let today = shanghai_date(state.clock.now());
    Ok(state.store.halls.tickets(hall, today, today).await?)
}

/// Takes a ticket at a kiosk (anonymous), or as a signed-in agent.
pub async fn take_ticket(
    state: &AppState,
    actor: Option<&Actor>,
    request: TicketRequest,
) -> Result<TicketView, ApiError> {
    let hall = hall_of(state, &request.hall)?;
    let skill = skill_at(state, &hall.key, &request.skill)?;
    let class = match request.class.as_deref().unwrap_or("normal") {
        "normal" => PriorityClass::Normal,
        "green_channel" => PriorityClass::GreenChannel,
        "agent" => {
            if !actor.is_some_and(|a| a.has_role(Role::Agent, None)) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "only a signed-in agent takes an agent ticket",
                ));
            }
            PriorityClass::Agent
        }
        "appointment" => {
            return Err(invalid(
                "appointment tickets come from checking in the appointment",
            ));
        }
        other => {
            return Err(invalid(format!(
                "class {other:?} is not normal, green_channel or agent"
            )));
        }
    };
    let applicant = match request.applicant.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(text) => Some(parse_applicant(text)?),
    };
    let now = state.clock.now();
    let ticket = Ticket::take(
        super::cases::new_id(now),
        hall.key.clone(),
        String::new(),
        class,
        skill,
        applicant.clone(),
        now,
    );
    let visit = applicant.map(|applicant| Visit {
        id: VisitId::from_uuid(super::cases::new_id(now)),
        hall: hall.key.clone(),
        applicant,
        ticket: ticket.id,
        at: now,
    });
    let taken = state
        .store
        .halls
        .check_in(CheckIn {
            ticket,
            appointment: None,
            visit,
        })
        .await?;
    let all = today_tickets(state, &hall.key).await?;
    Ok(ticket_view(state, &taken, Some(&all), false))
}

/// Checks an appointment in at the kiosk: an appointment-class ticket and a visit.
pub async fn check_in_appointment(state: &AppState, id: &str) -> Result<TicketView, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::AppointmentNotFound,
            format!("there is no appointment {id}"),
        )
    };
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| not_found())?;
    let appointment = state
        .store
        .halls
        .appointment(AppointmentId::from_uuid(uuid))
        .await?
        .ok_or_else(not_found)?;
    let now = state.clock.now();
    let mut ticket = Ticket::take(
        super::cases::new_id(now),
        appointment.hall.clone(),
        String::new(),
        PriorityClass::Appointment,
        appointment.skill.clone(),
        Some(appointment.applicant.clone()),
        now,
    );
    ticket.appointment = Some(appointment.id);
    let checked_in = appointment.check_in(ticket.id, now)?;
    let visit = Visit {
        id: VisitId::from_uuid(super::cases::new_id(now)),
        hall: appointment.hall.clone(),
        applicant: appointment.applicant.clone(),
        ticket: ticket.id,
        at: now,
    };
    let taken = state
        .store
        .halls
        .check_in(CheckIn {
            ticket,
            appointment: Some(checked_in),
            visit: Some(visit),
        })
        .await?;
    let all = today_tickets(state, &appointment.hall).await?;
    Ok(ticket_view(state, &taken, Some(&all), false))
}

pub async fn ticket(state: &AppState, id: &str) -> Result<TicketView, ApiError> {
    let found = load_ticket(state, id).await?;
    let all = today_tickets(state, &found.hall).await?;
    Ok(ticket_view(state, &found, Some(&all), false))
}

async fn load_ticket(state: &AppState, id: &str) -> Result<Ticket, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::TicketNotFound,
            format!("there is no ticket {id}"),
        )
    };
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| not_found())?;
    state
        .store
        .halls
        .ticket(TicketId::from_uuid(uuid))
        .await?
        .ok_or_else(not_found)
}

// ---------------------------------------------------------------------------------------------
// Windows

/// A window and the ticket it is serving.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowView {
    pub key: String,
    pub hall: String,
    pub number: String,
    /// `comprehensive` or `specialised`.
    pub kind: String,
    pub skills: Vec<String>,
    /// The ticket called to this window and not finished yet.
    pub current: Option<TicketView>,
    /// Waiting tickets this window may call.
    pub waiting: usize,
}

pub async fn window(state: &AppState, actor: &Actor, key: &str) -> Result<WindowView, ApiError> {
    let window = window_of(state, key)?;
    require_hall_staff(actor, &window.hall)?;
    let all = today_tickets(state, &window.hall).await?;
    Ok(window_view(state, &window, &all))
}

fn window_view(state: &AppState, window: &Window, all: &[Ticket]) -> WindowView {
    let current = all
        .iter()
        .filter(|t| t.status == TicketStatus::Called && t.window.as_ref() == Some(&window.key))
        .max_by_key(|t| t.last_called_at)
        .map(|t| ticket_view(state, t, None, true));
    let waiting = all
        .iter()
        .filter(|t| t.status == TicketStatus::Waiting)
        .filter(|t| match &t.transferred_to {
            Some(target) => *target == window.key,
            None => window.skills.contains(&t.skill),
        })
        .count();
    WindowView {
        key: window.key.to_string(),
        hall: window.hall.to_string(),
        number: window.number.clone(),
        kind: match window.kind {
            tongban_domain::org::WindowKind::Comprehensive => "comprehensive".into(),
            tongban_domain::org::WindowKind::Specialised => "specialised".into(),
        },
        skills: window.skills.iter().map(ToString::to_string).collect(),
        current,
        waiting,
    }
}

/// Calls the next ticket this window is skilled for; `None` when nobody waits. A window still
/// serving a called ticket must finish, skip or transfer it first.
pub async fn call_next(state: &AppState, actor: &Actor, key: &str) -> Result<WindowView, ApiError> {
    let window = window_of(state, key)?;
    require_hall_staff(actor, &window.hall)?;
    // Another window may take the same ticket between the read and the write: the store's
    // conditional update refuses the loser, who reads again.
    for _ in 0..8 {
        let all = today_tickets(state, &window.hall).await?;
        if let Some(current) = all
            .iter()
            .find(|t| t.status == TicketStatus::Called && t.window.as_ref() == Some(&window.key))
        {
            return Err(ApiError::new(
                ErrorCode::IllegalTransition,
                format!(
                    "window {} is still serving {}; finish, skip or transfer it first",
                    window.number, current.number
                ),
            ));
        }
        let Some(next) = next_for(&all, &window.key, &window.skills) else {
            return Ok(window_view(state, &window, &all));
        };
        let called = next.call(&window.key, state.clock.now())?;
        if state
            .store
            .halls
            .save_ticket(&called, TicketStatus::Waiting, next.recalls)
            .await?
        {
            let all = today_tickets(state, &window.hall).await?;
            return Ok(window_view(state, &window, &all));
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        "other windows kept calling the same tickets; try again",
    ))
}

/// What a window does with the ticket it called.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum TicketAction {
    Recall,
    Skip,
    Finish,
    /// Back to the queue for another skill group, or for one window.
    Transfer {
        skill: String,
        #[serde(default)]
        window: Option<String>,
    },
}

pub async fn act_on_ticket(
    state: &AppState,
    actor: &Actor,
    window_key: &str,
    ticket_id: &str,
    action: TicketAction,
) -> Result<WindowView, ApiError> {
    let window = window_of(state, window_key)?;
    require_hall_staff(actor, &window.hall)?;
    let ticket = load_ticket(state, ticket_id).await?;
    if ticket.hall != window.hall {
        return Err(ApiError::new(
            ErrorCode::TicketNotFound,
            format!("there is no ticket {ticket_id} at this hall"),
        ));
    }
    let now = state.clock.now();
    let changed = match action {
        TicketAction::Recall => ticket.recall(&window.key, now)?,
        TicketAction::Skip => ticket.skip(&window.key, now)?,
        TicketAction::Finish => ticket.finish(&window.key, now)?,
        TicketAction::Transfer {
            skill,
            window: target,
        } => {
            let skill = skill_at(state, &window.hall, &skill)?;
            let target = match target {
                Some(text) => {
                    let target = window_of(state, &text)?;
                    if target.hall != window.hall {
                        return Err(invalid("a ticket moves only between windows of one hall"));
                    }
                    Some(target.key)
                }
                None => None,
            };
            ticket.transfer(&window.key, skill, target)?
        }
    };
    if !state
        .store
        .halls
        .save_ticket(&changed, ticket.status, ticket.recalls)
        .await?
    {
        return Err(ApiError::new(
            ErrorCode::StaleVersion,
            "the ticket was changed meanwhile; reload the window",
        ));
    }
    let all = today_tickets(state, &window.hall).await?;
    Ok(window_view(state, &window, &all))
}

// ---------------------------------------------------------------------------------------------
// The display board

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BoardEntry {
    pub number: String,
    pub window_number: String,
    /// `HH:MM` of the latest call.
    pub called_at: String,
    pub recalls: u32,
}

/// What the hall's screen shows: the latest calls first, and how many wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BoardView {
    pub hall: String,
    pub hall_name: String,
    pub called: Vec<BoardEntry>,
    pub waiting: usize,
}

pub async fn board(state: &AppState, hall: &str) -> Result<BoardView, ApiError> {
    let hall = hall_of(state, hall)?;
    let mut all = today_tickets(state, &hall.key).await?;
    all.sort_by_key(|t| std::cmp::Reverse((t.last_called_at, t.id)));
    let called = all
        .iter()
        .filter(|t| t.status == TicketStatus::Called)
        .take(12)
        .map(|t| BoardEntry {
            number: t.number.clone(),
            window_number: window_number(state, t.window.as_ref()).unwrap_or_default(),
            called_at: t.last_called_at.map(clock_time).unwrap_or_default(),
            recalls: t.recalls,
        })
        .collect();
    Ok(BoardView {
        hall: hall.key.to_string(),
        hall_name: hall.name.clone(),
        called,
        waiting: all
            .iter()
            .filter(|t| t.status == TicketStatus::Waiting)
            .count(),
    })
}

// ---------------------------------------------------------------------------------------------
// Trips

/// After a window accepts or takes an application, the applicant's visits to that hall today
/// count as trips of the case; returns how many trips that adds. Nothing happens for online
/// applications.
pub async fn link_window_case(
    state: &AppState,
    actor: &Actor,
    case: &Case,
) -> Result<u32, ApiError> {
    let Some(hall) = actor.clerk_hall() else {
        return Ok(0);
    };
    let today = shanghai_date(state.clock.now());
    Ok(state
        .store
        .halls
        .link_case_to_visits(case.id, &case.applicant.identifier, hall, today)
        .await?)
}

/// Promised 到现场次数 against the real trips of the item's cases.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TripsView {
    pub item: String,
    pub item_name: String,
    /// The promise (0 = 零跑动, 1 = 最多跑一次).
    pub promised: u32,
    pub cases: u64,
    /// `[trips, cases]` pairs, by trips.
    pub distribution: Vec<(u32, u64)>,
    pub within_promise: u64,
    /// Share of cases kept within the promise.
    pub kept_share: f64,
    pub mean_trips: f64,
}

pub async fn item_trips(state: &AppState, code: &str) -> Result<TripsView, ApiError> {
    let code = ImplementationCode::parse(code)
        .map_err(|e| ApiError::new(ErrorCode::InvalidItemCode, e.to_string()))?;
    let Some(record) = state.store.catalog.item(&code).await? else {
        return Err(ApiError::new(
            ErrorCode::ItemNotFound,
            format!("there is no published item {code}"),
        ));
    };
    let counts = state.store.halls.trip_counts(&code).await?;
    let distribution = TripDistribution::from_counts(u32::from(record.definition.visits), counts);
    Ok(TripsView {
        item: code.to_string(),
        item_name: record.definition.name.clone(),
        promised: distribution.promised,
        cases: distribution.cases,
        kept_share: distribution.kept_share(),
        mean_trips: distribution.mean,
        within_promise: distribution.within_promise,
        distribution: distribution.counts,
    })
}
