//! Home visits (上门服务, SPEC C5) for elderly, disabled and ill people: a person (or a window
//! clerk for them) asks; the hall's staff send a registered agent at a time in the days that
//! suit; the agent records the outcome. The rules are in
//! [`tongban_domain::agents::home_visits`]; this service resolves who may act and stores.
//!
//! Privacy: the address and phone are personal data. Lists leave them out; the detail view shows
//! them to the person, the hall's staff and the agent sent, and every read by someone other than
//! the person goes to the person's data-access log.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tongban_domain::agents::home_visits::{
    HomeVisit, VisitReason, VisitRequest, VisitResult, VisitState,
};
use tongban_domain::cases::{Actor, ActorKind, ApplicantKind};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::{AccountName, HallKey, HomeVisitId};
use tongban_domain::org::Role;
use tongban_store::model::HomeVisitFilter;
use utoipa::{IntoParams, ToSchema};

use super::agents::{audit, is_agent, log_access, parse_date};
use super::cases::{ApplicantInput, applicant_of, new_id};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidAgentRequest, message)
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message)
}

/// `POST /api/v1/home-visits`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeVisitInput {
    /// A clerk names the person; a citizen asks for themself.
    #[serde(default)]
    pub person: Option<ApplicantInput>,
    pub address: String,
    pub phone: String,
    /// `elderly`, `disabled`, `illness` or `other`.
    pub reason: String,
    /// What is needed, in the person's words.
    pub needs: String,
    /// The item concerned, when known (implementation code).
    #[serde(default)]
    pub item: Option<String>,
    /// The hall that schedules it; by default the clerk's hall, or for a citizen the station or
    /// centre nearest to where they live.
    #[serde(default)]
    pub hall: Option<String>,
    /// The days that suit (`YYYY-MM-DD`), at most 31 days.
    pub from: String,
    pub until: String,
}

/// A home visit. `address` and `phone` are only in the detail view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HomeVisitView {
    pub id: String,
    pub version: u64,
    pub person_name: String,
    pub person_identifier: String,
    pub reason: String,
    pub reason_text: String,
    pub needs: String,
    pub item: Option<String>,
    pub hall: String,
    pub hall_name: String,
    pub from: String,
    pub until: String,
    /// `requested`, `scheduled`, `done` or `cancelled`.
    pub state: String,
    pub state_text: String,
    pub state_text_en: String,
    pub agent: Option<String>,
    pub agent_name: Option<String>,
    pub planned_at: Option<String>,
    /// The same in China time, `YYYY-MM-DD HH:MM`, for display.
    pub planned_local: Option<String>,
    pub result: Option<String>,
    pub result_text: Option<String>,
    pub note: Option<String>,
    pub case_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub requested_at: String,
    pub address: Option<String>,
    pub phone: Option<String>,
}

fn visit_view(state: &AppState, visit: &HomeVisit, detail: bool) -> HomeVisitView {
    let lookup = state.lookup.get();
    let (agent, agent_name) = match &visit.state {
        VisitState::Scheduled {
            agent, agent_name, ..
        }
        | VisitState::Done {
            agent, agent_name, ..
        } => (Some(agent.to_string()), Some(agent_name.clone())),
        _ => (None, None),
    };
    let outcome = match &visit.state {
        VisitState::Done { outcome, .. } => Some(outcome),
        _ => None,
    };
    HomeVisitView {
        id: visit.id.to_string(),
        version: visit.version,
        person_name: visit.person.name.clone(),
        person_identifier: visit.person.identifier.clone(),
        reason: visit.reason.code().to_owned(),
        reason_text: visit.reason.label_zh().to_owned(),
        needs: visit.needs.clone(),
        item: visit.item.as_ref().map(ToString::to_string),
        hall: visit.hall.to_string(),
        hall_name: lookup
            .hall(&visit.hall)
            .map_or_else(|| visit.hall.to_string(), |h| h.name.clone()),
        from: visit.from.to_string(),
        until: visit.until.to_string(),
        state: visit.state.name().to_owned(),
        state_text: visit.state.label_zh().to_owned(),
        state_text_en: visit.state.label_en().to_owned(),
        agent,
        agent_name,
        planned_at: visit.state.planned_at().map(|at| at.to_string()),
        planned_local: visit.state.planned_at().map(|at| {
            at.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        }),
        result: outcome.map(|o| o.result.code().to_owned()),
        result_text: outcome.map(|o| o.result.label_zh().to_owned()),
        note: outcome.map(|o| o.note.clone()),
        case_number: outcome.and_then(|o| o.case_number.clone()),
        cancel_reason: match &visit.state {
            VisitState::Cancelled { reason, .. } => Some(reason.clone()),
            _ => None,
        },
        requested_at: visit.requested_at.to_string(),
        address: detail.then(|| visit.address.clone()),
        phone: detail.then(|| visit.phone.clone()),
    }
}

/// Clerks of the hall (or of no particular hall) and administrators.
pub(crate) fn works_at(actor: &Actor, hall: &HallKey) -> bool {
    actor.roles.iter().any(|assignment| match assignment.role {
        Role::Administrator => true,
        Role::Clerk => assignment.hall.as_ref().is_none_or(|h| h == hall),
        _ => false,
    })
}

/// The hall nearest to where the person lives that has window staff to arrange the visit: the
/// one whose region encloses theirs most closely (their community's station before the street's
/// centre, the street's before the district's).
fn nearest_hall(state: &AppState, identifier: &str) -> Option<HallKey> {
    let lookup = state.lookup.get();
    let organisation = &lookup.organisation;
    let region = organisation
        .persons
        .iter()
        .find(|p| p.id_number.as_str() == identifier)
        .map(|p| p.region.clone())?;
    let staffed = |hall: &HallKey| {
        organisation.staff.iter().any(|member| {
            member
                .roles
                .iter()
                .any(|r| r.role == Role::Clerk && r.hall.as_ref() == Some(hall))
        })
    };
    organisation
        .halls
        .iter()
        .filter(|h| h.region.contains(&region) && staffed(&h.key))
        .max_by_key(|h| h.region.level())
        .map(|h| h.key.clone())
}

/// A citizen asks for a visit for themself, or a clerk for the person named.
pub async fn request_visit(
    state: &AppState,
    actor: &Actor,
    input: HomeVisitInput,
) -> Result<HomeVisitView, ApiError> {
    let clerk = actor.has_role(Role::Clerk, None);
    let person = match (actor.kind, &input.person) {
        (ActorKind::Person, None) => applicant_of(actor, None)?,
        (ActorKind::Staff, Some(named)) if clerk => applicant_of(actor, Some(named))?,
        (ActorKind::Staff, None) if clerk => {
            return Err(invalid("name the person to visit"));
        }
        _ => {
            return Err(forbidden(
                "a home visit is asked for by the person, or by a window clerk for them",
            ));
        }
    };
    if person.kind != ApplicantKind::Person {
        return Err(invalid("home visits are for persons"));
    }
    let reason = VisitReason::parse(&input.reason).ok_or_else(|| {
        invalid(format!(
            "reason {:?} is not elderly, disabled, illness or other",
            input.reason
        ))
    })?;
    let item = match input.item.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(text) => Some(
            ImplementationCode::parse(text)
                .map_err(|e| ApiError::new(ErrorCode::InvalidItemCode, e.to_string()))?,
        ),
    };
    let hall = match input.hall.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            let key = HallKey::parse(text).map_err(|e| invalid(e.to_string()))?;
            if state.lookup.get().hall(&key).is_none() {
                return Err(ApiError::new(
                    ErrorCode::HallNotFound,
                    format!("there is no hall {key}"),
                ));
            }
            key
        }
        _ => actor
            .clerk_hall()
            .cloned()
            .or_else(|| nearest_hall(state, &person.identifier))
            .ok_or_else(|| invalid("name the hall that should arrange the visit"))?,
    };
    let now = state.clock.now();
    let visit = HomeVisit::request(
        VisitRequest {
            id: HomeVisitId::from_uuid(new_id(now)),
            person,
            address: input.address,
            phone: input.phone,
            reason,
            needs: input.needs,
            item,
            hall,
            from: parse_date("from", &input.from)?,
            until: parse_date("until", &input.until)?,
            requested_by: actor.account.clone(),
        },
        now,
    )?;
    state.store.agents.create_home_visit(&visit).await?;
    tracing::info!(home_visit.id = %visit.id, hall = %visit.hall, "home visit requested");
    Ok(visit_view(state, &visit, true))
}

fn visit_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::HomeVisitNotFound,
        format!("there is no home visit {id}"),
    )
}

/// Whether the actor may see the request: the person, the hall's staff, the agent sent,
/// supervisors.
fn may_see_visit(actor: &Actor, visit: &HomeVisit) -> bool {
    actor.is_applicant(&visit.person)
        || works_at(actor, &visit.hall)
        || actor.has_role(Role::Supervisor, None)
        || visit.state.agent() == Some(&actor.account)
}

async fn load_visit(state: &AppState, actor: &Actor, id: &str) -> Result<HomeVisit, ApiError> {
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| visit_not_found(id))?;
    match state
        .store
        .agents
        .home_visit(HomeVisitId::from_uuid(uuid))
        .await?
    {
        Some(visit) if may_see_visit(actor, &visit) => Ok(visit),
        _ => Err(visit_not_found(id)),
    }
}

/// One request with the address and phone; a read by anyone but the person is logged for them.
pub async fn get_visit(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<HomeVisitView, ApiError> {
    let visit = load_visit(state, actor, id).await?;
    log_visit_read(state, actor, &visit).await?;
    Ok(visit_view(state, &visit, true))
}

async fn log_visit_read(
    state: &AppState,
    actor: &Actor,
    visit: &HomeVisit,
) -> Result<(), ApiError> {
    if actor.is_applicant(&visit.person) {
        return Ok(());
    }
    log_access(
        state,
        actor,
        &visit.person.identifier,
        "上门服务",
        "上门服务申请(地址、电话)",
    )
    .await
}

/// Query of `GET /api/v1/home-visits`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HomeVisitsQuery {
    /// Staff: the hall (default: the clerk's own hall).
    pub hall: Option<String>,
    /// Comma-separated states: requested, scheduled, done, cancelled.
    pub state: Option<String>,
}

/// The requests the actor works with (without addresses): a person's own, an agent's assigned
/// visits, a hall's requests for its staff.
pub async fn list_visits(
    state: &AppState,
    actor: &Actor,
    query: HomeVisitsQuery,
) -> Result<Vec<HomeVisitView>, ApiError> {
    let mut filter = HomeVisitFilter {
        limit: 200,
        ..HomeVisitFilter::default()
    };
    if let Some(states) = &query.state {
        for name in states.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !VisitState::NAMES.contains(&name) {
                return Err(ApiError::invalid_parameter(
                    "state",
                    name,
                    "requested, scheduled, done or cancelled",
                ));
            }
            filter.states.push(name.to_owned());
        }
    }
    match actor.kind {
        ActorKind::Person => {
            filter.person = Some(
                actor
                    .identifier
                    .clone()
                    .ok_or_else(|| forbidden("your account has no identifier"))?,
            );
        }
        ActorKind::Staff if is_agent(actor) => filter.agent = Some(actor.account.clone()),
        ActorKind::Staff => {
            let hall = match query.hall.as_deref() {
                Some(text) => Some(
                    HallKey::parse(text)
                        .map_err(|_| ApiError::invalid_parameter("hall", text, "a hall key"))?,
                ),
                None => actor.clerk_hall().cloned(),
            };
            match hall {
                Some(hall) if works_at(actor, &hall) => filter.hall = Some(hall),
                Some(hall) => {
                    return Err(forbidden(&format!(
                        "your account does not work at hall {hall}"
                    )));
                }
                None if actor.has_role(Role::Administrator, None)
                    || actor.has_role(Role::Supervisor, None) => {}
                None => return Err(forbidden("your account arranges no home visits")),
            }
        }
        _ => return Err(forbidden("your account has no home visits")),
    }
    let visits = state.store.agents.home_visits(&filter).await?;
    Ok(visits.iter().map(|v| visit_view(state, v, false)).collect())
}

/// `POST /api/v1/home-visits/{id}/actions`: `{"version", "action": "schedule", "agent", "at"}`,
/// `{"version", "action": "complete", "result", "note", "case_number"?}` or
/// `{"version", "action": "cancel", "reason"}`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeVisitAction {
    /// The version the actor saw; a stale one is refused with `stale_version`.
    pub version: u64,
    /// `schedule`, `complete` or `cancel`.
    pub action: String,
    /// schedule: the agent's account.
    #[serde(default)]
    pub agent: Option<String>,
    /// schedule: when, RFC 3339 (`2026-03-03T10:00:00+08:00`) or China time `2026-03-03T10:00`.
    #[serde(default)]
    pub at: Option<String>,
    /// complete: `served`, `application_taken`, `not_reached` or `referred`.
    #[serde(default)]
    pub result: Option<String>,
    /// complete: what was done.
    #[serde(default)]
    pub note: Option<String>,
    /// complete: the case submitted for the person, when an application was taken.
    #[serde(default)]
    pub case_number: Option<String>,
    /// cancel: why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// An instant given as RFC 3339, or as a China civil time `YYYY-MM-DDTHH:MM` (what a
/// `datetime-local` input sends).
pub fn parse_instant(text: &str) -> Result<Timestamp, ApiError> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|civil| {
            civil
                .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .ok()
        })
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| invalid(format!("{text:?} is not a time such as 2026-03-03T10:00")))
}

pub async fn act_on_visit(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action: HomeVisitAction,
) -> Result<HomeVisitView, ApiError> {
    let visit = load_visit(state, actor, id).await?;
    if action.version != visit.version {
        return Err(ApiError::new(
            ErrorCode::StaleVersion,
            format!(
                "the request is at version {}, you acted on version {}; reload it",
                visit.version, action.version
            ),
        ));
    }
    let now = state.clock.now();
    let changed = match action.action.as_str() {
        "schedule" => {
            if !works_at(actor, &visit.hall) {
                return Err(forbidden("home visits are scheduled by the hall's staff"));
            }
            let account = action
                .agent
                .as_deref()
                .ok_or_else(|| invalid("schedule: name the agent"))?;
            let account = AccountName::parse(account).map_err(|e| invalid(e.to_string()))?;
            let Some(agent) = state.store.agents.agent(&account).await? else {
                return Err(ApiError::new(
                    ErrorCode::AgentNotFound,
                    format!("there is no registered agent {account}"),
                ));
            };
            let at = parse_instant(
                action
                    .at
                    .as_deref()
                    .ok_or_else(|| invalid("schedule: give the time (at)"))?,
            )?;
            visit.schedule(&agent, at, &actor.account, now)?
        }
        "complete" => {
            let result = action.result.as_deref().unwrap_or_default();
            let result = VisitResult::parse(result).ok_or_else(|| {
                invalid(format!(
                    "result {result:?} is not served, application_taken, not_reached or referred"
                ))
            })?;
            visit.complete(
                &actor.account,
                result,
                action.note.as_deref().unwrap_or_default(),
                action.case_number.clone(),
                now,
            )?
        }
        "cancel" => {
            if !actor.is_applicant(&visit.person) && !works_at(actor, &visit.hall) {
                return Err(forbidden(
                    "a request is cancelled by the person or the hall's staff",
                ));
            }
            visit.cancel(
                &actor.account,
                action.reason.as_deref().unwrap_or_default(),
                now,
            )?
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidAction,
                format!("action {other:?} is not schedule, complete or cancel"),
            ));
        }
    };
    state
        .store
        .agents
        .save_home_visit(&changed, visit.version)
        .await?;
    if actor.kind == ActorKind::Staff {
        let action_name = format!("home_visit_{}", action.action);
        audit(
            state,
            actor,
            &action_name,
            &changed.id.to_string(),
            changed.state.name(),
        )
        .await?;
    }
    tracing::info!(home_visit.id = %changed.id, state = changed.state.name(), "home visit changed");
    // The answer shows the address and phone again: a read like any other.
    log_visit_read(state, actor, &changed).await?;
    Ok(visit_view(state, &changed, true))
}
