//! The hotline service (12345 接诉即办, SPEC C7): intake by an operator or a citizen online,
//! routing suggestions and duplicate suggestions, dispatch and the department's handling,
//! callback and reopen. Routing rules are data (`data/demo/hotline.toml`). A consultation links
//! the catalog's guides (办事指南): only published items, shown as links to their guide pages.
//! Deadline reminders (到期提醒) are sent by the job in [`crate::reminders`].

use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::{Actor, ActorKind};
use tongban_domain::hotline::{
    DeadlinePolicy, HotlineError, MAX_LINKED_ITEMS, RoutingTable, Satisfaction, Ticket,
    TicketAction, TicketCallback, TicketChannel, TicketContext, TicketIntake, TicketState,
    TicketType, Urgency, is_probable_duplicate,
};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::DepartmentKey;
use tongban_domain::org::Role;
use tongban_store::model::{TicketFilter, TicketSummary};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// The routing table: configured, else the demo city's (`crate::Policies`).
pub fn routing(state: &AppState) -> &RoutingTable {
    &state.policies.routing
}

/// Deadlines per type and urgency: configured, else the defaults of REFERENCE §6.
pub fn deadlines(state: &AppState) -> &DeadlinePolicy {
    &state.policies.deadlines
}

impl From<HotlineError> for ApiError {
    fn from(error: HotlineError) -> ApiError {
        let code = match &error {
            HotlineError::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            HotlineError::Invalid(_) => ErrorCode::InvalidTicket,
            HotlineError::Calendar(_) => ErrorCode::CalendarYearNotLoaded,
        };
        ApiError::new(code, error.to_string())
    }
}

/// What an operator (or a citizen online) registers.
// Documented under its own name: the halls' queue tickets have a `TicketRequest` too, and one
// name for both made the document describe this body with the other's schema.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(as = HotlineTicketRequest)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// `phone`, `web`, `app`, `sms`, `wechat` or `mailbox` (citizens online: `web`).
    #[serde(default)]
    pub channel: Option<String>,
    /// `consultation`, `help`, `complaint`, `report`, `suggestion` or `praise`.
    pub kind: String,
    /// A category code of `GET /api/v1/hotline/categories`.
    pub category: String,
    /// The region code of the place (6 or 12 digits).
    pub area: String,
    #[serde(default)]
    pub location: String,
    /// `normal`, `urgent` or `emergency`.
    #[serde(default)]
    pub urgency: Option<String>,
    pub description: String,
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub caller_name: String,
    #[serde(default)]
    pub caller_phone: String,
    /// Catalog items (implementation codes of published items, at most 10) a consultation
    /// refers to; an unknown one is refused with `unknown_linked_item`.
    #[serde(default)]
    pub linked_items: Vec<String>,
}

/// A catalog item a ticket links to, with its guide page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LinkedGuide {
    /// The item's implementation code.
    pub code: String,
    /// The item's name (the code when the item is no longer published).
    pub name: String,
    /// The guide page on this site, `/items/{code}`.
    pub url: String,
}

/// A ticket as the reader may see it (caller details hidden from departments when
/// confidential).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = HotlineTicketView)]
pub struct TicketView {
    pub id: uuid::Uuid,
    pub number: String,
    pub version: u64,
    pub state: String,
    pub state_zh: String,
    pub kind: String,
    pub kind_zh: String,
    pub channel: String,
    pub category: String,
    pub category_name: String,
    pub area: String,
    pub location: String,
    pub urgency: String,
    pub description: String,
    pub attachments: Vec<String>,
    pub confidential: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_phone: Option<String>,
    pub linked_items: Vec<String>,
    /// The linked items with their names and guide pages.
    pub linked_guides: Vec<LinkedGuide>,
    #[schema(value_type = String)]
    pub received_at: jiff::Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
    pub co_handlers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub due_on: Option<jiff::civil::Date>,
    pub overdue: bool,
    /// Within the reminder window before the deadline (催办提醒).
    pub reminder_due: bool,
    /// The deadline the handling department was automatically reminded of (到期提醒), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub deadline_reminder_for: Option<jiff::civil::Date>,
    #[schema(value_type = Object)]
    pub pending_extension: Option<tongban_domain::hotline::ExtensionRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<String>,
    pub reminders: u32,
    pub supervised: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[schema(value_type = Object)]
    pub callback: Option<TicketCallback>,
    pub reopened: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// The department the routing rules suggest (while waiting for dispatch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_department: Option<String>,
    /// Open tickets that look like the same matter (same category and area, similar text).
    pub possible_duplicates: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<tongban_domain::hotline::TicketEvent>,
}

fn is_hotline_staff(actor: &Actor) -> bool {
    [
        Role::HotlineOperator,
        Role::Dispatcher,
        Role::Supervisor,
        Role::Administrator,
    ]
    .into_iter()
    .any(|role| actor.has_role(role, None))
}

fn handler_departments(actor: &Actor) -> Vec<DepartmentKey> {
    actor
        .roles
        .iter()
        .filter(|r| matches!(r.role, Role::Handler | Role::ChiefRepresentative))
        .filter_map(|r| r.department.clone())
        .collect()
}

fn may_see(actor: &Actor, ticket: &Ticket) -> bool {
    if is_hotline_staff(actor) {
        return true;
    }
    if ticket.intake.caller_account.as_deref() == Some(actor.account.as_str()) {
        return true;
    }
    handler_departments(actor)
        .iter()
        .any(|d| ticket.is_handled_by(d))
}

async fn view(state: &AppState, actor: &Actor, ticket: &Ticket) -> Result<TicketView, ApiError> {
    let today = shanghai_date(state.clock.now());
    let lookup = state.lookup.get();
    let routing = routing(state);
    let show_caller = is_hotline_staff(actor)
        || ticket.intake.caller_account.as_deref() == Some(actor.account.as_str())
        || !ticket.intake.confidential;
    let policy = deadlines(state);
    let handling = matches!(
        ticket.state,
        TicketState::Dispatched | TicketState::ReturnRequested
    );
    let reminder_due = match ticket.due_on {
        Some(due) if handling => policy
            .needs_reminder(&state.calendar, due, today)
            .unwrap_or(false),
        _ => false,
    };
    let mut possible_duplicates = Vec::new();
    let mut suggested_department = None;
    if ticket.state == TicketState::Registered && is_hotline_staff(actor) {
        suggested_department = routing
            .route(&ticket.intake.category, &ticket.intake.area)
            .map(ToString::to_string);
        let since = ticket.received_at - jiff::SignedDuration::from_hours(24 * 30);
        let candidates = state
            .store
            .hotline
            .open_tickets_like(&ticket.intake.category, &ticket.intake.area, since, 20)
            .await?;
        for candidate in candidates {
            if candidate.id != ticket.id && is_probable_duplicate(&ticket.intake, &candidate.intake)
            {
                possible_duplicates.push(candidate.number);
            }
        }
    }
    Ok(TicketView {
        id: ticket.id,
        number: ticket.number.clone(),
        version: ticket.version,
        state: ticket.state.code().into(),
        state_zh: ticket.state.label_zh().into(),
        kind: ticket.intake.kind.code().into(),
        kind_zh: ticket.intake.kind.label_zh().into(),
        channel: ticket.intake.channel.code().into(),
        category: ticket.intake.category.clone(),
        category_name: routing
            .category(&ticket.intake.category)
            .map_or_else(String::new, |c| c.name.clone()),
        area: ticket.intake.area.clone(),
        location: ticket.intake.location.clone(),
        urgency: ticket.intake.urgency.code().into(),
        description: ticket.intake.description.clone(),
        attachments: ticket.intake.attachments.clone(),
        confidential: ticket.intake.confidential,
        caller_name: show_caller.then(|| ticket.intake.caller_name.clone()),
        caller_phone: show_caller.then(|| ticket.intake.caller_phone.clone()),
        linked_items: ticket.intake.linked_items.clone(),
        linked_guides: linked_guides(state, &ticket.intake.linked_items).await?,
        received_at: ticket.received_at,
        department: ticket.department.as_ref().map(ToString::to_string),
        department_name: ticket
            .department
            .as_ref()
            .map(|d| lookup.department_name(d).to_owned()),
        co_handlers: ticket.co_handlers.iter().map(ToString::to_string).collect(),
        due_on: ticket.due_on,
        overdue: ticket.is_overdue(today),
        reminder_due,
        deadline_reminder_for: ticket.deadline_reminder_for,
        pending_extension: ticket.pending_extension.clone(),
        return_reason: ticket.return_reason.clone(),
        reminders: ticket.reminders,
        supervised: ticket.supervised,
        reply: ticket.reply.clone(),
        callback: ticket.callback.clone(),
        reopened: ticket.reopened,
        merged_into: ticket.merged_into.clone(),
        suggested_department,
        possible_duplicates,
        events: ticket.events.clone(),
    })
}

/// The guides of the linked items, in the order given.
pub async fn linked_guides(
    state: &AppState,
    codes: &[String],
) -> Result<Vec<LinkedGuide>, ApiError> {
    let mut guides = Vec::with_capacity(codes.len());
    for code in codes {
        let name = match ImplementationCode::parse(code) {
            Ok(parsed) => state
                .store
                .catalog
                .item(&parsed)
                .await?
                .map(|record| record.definition.name),
            Err(_) => None,
        };
        guides.push(LinkedGuide {
            code: code.clone(),
            name: name.unwrap_or_else(|| code.clone()),
            url: format!("/items/{code}"),
        });
    }
    Ok(guides)
}

/// Checks the catalog items a ticket links to: trimmed, each given once, at most
/// [`MAX_LINKED_ITEMS`], and every one a published item, so that the ticket page never points a
/// caller to a guide that does not exist.
pub async fn check_linked_items(
    state: &AppState,
    requested: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let mut codes: Vec<String> = Vec::with_capacity(requested.len());
    for text in requested {
        let code = text.trim();
        if !code.is_empty() && !codes.iter().any(|known| known == code) {
            codes.push(code.to_owned());
        }
    }
    if codes.len() > MAX_LINKED_ITEMS {
        return Err(ApiError::new(
            ErrorCode::InvalidTicket,
            format!("a ticket links at most {MAX_LINKED_ITEMS} catalog items"),
        ));
    }
    for code in &codes {
        let published = match ImplementationCode::parse(code) {
            Ok(parsed) => state.store.catalog.item(&parsed).await?.is_some(),
            Err(_) => false,
        };
        if !published {
            // Item codes are at most 36 characters: a longer text is cut, not echoed whole.
            let shown: String = code.chars().take(40).collect();
            return Err(ApiError::new(
                ErrorCode::UnknownLinkedItem,
                format!("there is no published catalog item {shown:?} to link"),
            )
            .with_details(serde_json::json!({ "item": shown })));
        }
    }
    Ok(codes)
}

/// Catalog items an operator may link to a consultation: published items whose name contains
/// the query, then the one-sentence assistant's items for it (so that "孩子出生了要办什么" finds
/// guides too), each once, at most `limit`.
pub async fn search_items(
    state: &AppState,
    query: &str,
    limit: usize,
) -> Result<Vec<LinkedGuide>, ApiError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<LinkedGuide> = Vec::new();
    let filter = tongban_store::model::ItemFilter {
        name_contains: Some(query.chars().take(50).collect()),
        page: tongban_store::model::PageRequest {
            page: 1,
            per_page: u32::try_from(limit).unwrap_or(20).clamp(1, 50),
        },
        ..tongban_store::model::ItemFilter::default()
    };
    let page = state.store.catalog.list_items(&filter).await?;
    for item in page.items {
        let code = item.code.to_string();
        found.push(LinkedGuide {
            url: format!("/items/{code}"),
            code,
            name: item.name,
        });
    }
    let question: String = query
        .chars()
        .take(tongban_search::MAX_QUERY_CHARS)
        .collect();
    for answer in crate::services::ask::ask(state, &question, limit).answers {
        if answer.kind != "item" || found.iter().any(|g| g.code == answer.id) {
            continue;
        }
        found.push(LinkedGuide {
            code: answer.id,
            name: answer.name,
            url: answer.url,
        });
    }
    found.truncate(limit);
    Ok(found)
}

/// Registers a ticket: an operator for a caller, or a citizen online for themself.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    request: TicketRequest,
) -> Result<TicketView, ApiError> {
    let operator = actor.has_role(Role::HotlineOperator, None);
    let citizen = matches!(actor.kind, ActorKind::Person | ActorKind::Enterprise);
    if !operator && !citizen {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only hotline operators and citizens register tickets",
        ));
    }
    let channel = match (&request.channel, citizen) {
        (_, true) => TicketChannel::Web,
        (Some(text), false) => TicketChannel::parse(text)?,
        (None, false) => TicketChannel::Phone,
    };
    let urgency = match &request.urgency {
        Some(text) => Urgency::parse(text)?,
        None => Urgency::Normal,
    };
    let linked_items = check_linked_items(state, request.linked_items).await?;
    let caller_name = if citizen {
        actor.name.clone()
    } else {
        request.caller_name.trim().to_owned()
    };
    let intake = TicketIntake {
        channel,
        kind: TicketType::parse(&request.kind)?,
        category: request.category.trim().to_owned(),
        area: request.area.trim().to_owned(),
        location: request.location.trim().to_owned(),
        urgency,
        description: request.description.trim().to_owned(),
        attachments: request.attachments,
        confidential: request.confidential,
        caller_name,
        caller_phone: request.caller_phone.trim().to_owned(),
        caller_account: citizen.then(|| actor.account.to_string()),
        linked_items,
    };
    let ticket = Ticket::register(
        uuid::Uuid::now_v7(),
        intake,
        routing(state),
        actor.account.as_str(),
        state.clock.now(),
    )?;
    let ticket = state.store.hotline.create_ticket(ticket).await?;
    tracing::info!(ticket.number = %ticket.number, "ticket registered");
    view(state, actor, &ticket).await
}

async fn load(state: &AppState, actor: &Actor, number: &str) -> Result<Ticket, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::TicketNotFound,
            format!("there is no ticket {number}"),
        )
    };
    let ticket = state
        .store
        .hotline
        .ticket_by_number(number)
        .await?
        .ok_or_else(not_found)?;
    if !may_see(actor, &ticket) {
        return Err(not_found());
    }
    Ok(ticket)
}

pub async fn get(state: &AppState, actor: &Actor, number: &str) -> Result<TicketView, ApiError> {
    let ticket = load(state, actor, number).await?;
    view(state, actor, &ticket).await
}

/// Filters of the ticket list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// A state: `registered`, `dispatched`, `return_requested`, `replied`, `closed`, `merged`.
    pub state: Option<String>,
    /// Hotline staff: one department's tickets.
    pub department: Option<String>,
    /// Only tickets past their deadline.
    #[serde(default)]
    pub overdue: bool,
}

/// Hotline staff see every ticket; a handler their departments' (lead or co-handler); a citizen
/// their own.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: TicketQuery,
) -> Result<Vec<TicketSummary>, ApiError> {
    let states = match query.state.as_deref() {
        Some(text) => vec![TicketState::parse(text).map_err(|_| {
            ApiError::invalid_parameter(
                "state",
                text,
                "registered, dispatched, return_requested, replied, closed or merged",
            )
        })?],
        None => Vec::new(),
    };
    let today = shanghai_date(state.clock.now());
    let base = TicketFilter {
        states,
        overdue_on: query.overdue.then_some(today),
        limit: 200,
        ..TicketFilter::default()
    };
    let requested = query
        .department
        .as_deref()
        .map(|d| {
            DepartmentKey::parse(d)
                .map_err(|_| ApiError::invalid_parameter("department", d, "a department key"))
        })
        .transpose()?;
    if is_hotline_staff(actor) {
        return Ok(state
            .store
            .hotline
            .list_tickets(&TicketFilter {
                department: requested,
                ..base
            })
            .await?);
    }
    if matches!(actor.kind, ActorKind::Person | ActorKind::Enterprise) {
        return Ok(state
            .store
            .hotline
            .list_tickets(&TicketFilter {
                caller_account: Some(actor.account.to_string()),
                ..base
            })
            .await?);
    }
    let own = handler_departments(actor);
    if own.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "your account handles no tickets",
        ));
    }
    let mut tickets = Vec::new();
    for department in own {
        if requested.as_ref().is_some_and(|r| *r != department) {
            continue;
        }
        tickets.extend(
            state
                .store
                .hotline
                .list_tickets(&TicketFilter {
                    department: Some(department),
                    ..base.clone()
                })
                .await?,
        );
    }
    Ok(tickets)
}

/// An action on a ticket.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketActionRequest {
    /// `dispatch`, `answer_at_intake`, `request_return`, `decide_return`, `request_extension`,
    /// `decide_extension`, `remind`, `supervise`, `assist`, `reply`, `call_back` or `merge`.
    pub action: String,
    /// The version read (optimistic concurrency).
    pub version: u64,
    /// dispatch: the lead department (default: the routing suggestion); assist: the
    /// co-handling department the opinion is from (default: the reader's).
    #[serde(default)]
    pub department: Option<String>,
    /// dispatch: co-handling departments (协办).
    #[serde(default)]
    pub co_handlers: Vec<String>,
    /// reply / answer_at_intake: the answer; request_return / request_extension: the reason;
    /// remind / supervise / decide_return / call_back: a note; assist: the co-handler's opinion.
    #[serde(default)]
    pub text: Option<String>,
    /// decide_return / decide_extension.
    #[serde(default)]
    pub approved: Option<bool>,
    /// request_extension: working days.
    #[serde(default)]
    pub days: Option<u32>,
    /// call_back: `satisfied`, `basic` or `dissatisfied`.
    #[serde(default)]
    pub satisfaction: Option<String>,
    /// call_back: whether the matter was resolved.
    #[serde(default)]
    pub resolved: Option<bool>,
    /// merge: the earlier ticket's number.
    #[serde(default)]
    pub into: Option<String>,
}

fn forbidden(what: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, format!("only {what} may do this"))
}

fn department_key(text: &str) -> Result<DepartmentKey, ApiError> {
    DepartmentKey::parse(text).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidTicket,
            format!("unknown department {text:?}"),
        )
    })
}

pub async fn act(
    state: &AppState,
    actor: &Actor,
    number: &str,
    request: TicketActionRequest,
) -> Result<TicketView, ApiError> {
    let mut ticket = load(state, actor, number).await?;
    if ticket.version != request.version {
        return Err(ApiError::new(
            ErrorCode::StaleVersion,
            format!(
                "the ticket was changed (version {}, you sent {}); reload it",
                ticket.version, request.version
            ),
        ));
    }
    let text = request.text.clone().unwrap_or_default();
    let dispatcher = actor.has_role(Role::Dispatcher, None);
    let operator = actor.has_role(Role::HotlineOperator, None);
    let supervisor = actor.has_role(Role::Supervisor, None);
    let lead = ticket
        .department
        .as_ref()
        .is_some_and(|d| handler_departments(actor).contains(d));
    let need = |ok: bool, who: &str| if ok { Ok(()) } else { Err(forbidden(who)) };
    let lookup = state.lookup.get();
    let known = |key: &DepartmentKey| {
        if lookup.department(key).is_some() {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::InvalidTicket,
                format!("unknown department {key}"),
            ))
        }
    };
    let action = match request.action.as_str() {
        "dispatch" => {
            need(dispatcher, "a dispatcher")?;
            let department = match &request.department {
                Some(text) => department_key(text)?,
                None => routing(state)
                    .route(&ticket.intake.category, &ticket.intake.area)
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::InvalidTicket,
                            "no routing rule matches; name the department",
                        )
                    })?,
            };
            known(&department)?;
            let mut co_handlers = Vec::new();
            for text in &request.co_handlers {
                let key = department_key(text)?;
                known(&key)?;
                co_handlers.push(key);
            }
            TicketAction::Dispatch {
                department,
                co_handlers,
            }
        }
        "answer_at_intake" => {
            need(operator, "a hotline operator")?;
            TicketAction::AnswerAtIntake { answer: text }
        }
        "request_return" => {
            need(lead, "the handling department")?;
            TicketAction::RequestReturn { reason: text }
        }
        "decide_return" => {
            need(dispatcher, "a dispatcher")?;
            TicketAction::DecideReturn {
                approved: request.approved.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidAction, "decide_return needs approved")
                })?,
                note: text,
            }
        }
        "request_extension" => {
            need(lead, "the handling department")?;
            TicketAction::RequestExtension {
                days: request.days.unwrap_or(0),
                reason: text,
            }
        }
        "decide_extension" => {
            need(dispatcher, "a dispatcher")?;
            TicketAction::DecideExtension {
                approved: request.approved.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidAction, "decide_extension needs approved")
                })?,
            }
        }
        "remind" => {
            need(dispatcher || supervisor, "a dispatcher or supervisor")?;
            TicketAction::Remind { note: text }
        }
        "supervise" => {
            need(supervisor, "a supervisor")?;
            TicketAction::Supervise { note: text }
        }
        "assist" => {
            let co_handling: Vec<DepartmentKey> = handler_departments(actor)
                .into_iter()
                .filter(|d| ticket.co_handlers.contains(d))
                .collect();
            let department = match &request.department {
                Some(text) => department_key(text)?,
                None => co_handling
                    .first()
                    .cloned()
                    .ok_or_else(|| forbidden("a co-handling department"))?,
            };
            need(
                co_handling.contains(&department),
                "a co-handling department",
            )?;
            TicketAction::Assist {
                department,
                note: text,
            }
        }
        "reply" => {
            need(lead, "the handling department")?;
            TicketAction::Reply { text }
        }
        "call_back" => {
            need(operator, "a hotline operator")?;
            let satisfaction = request.satisfaction.as_deref().ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidAction, "call_back needs satisfaction")
            })?;
            TicketAction::CallBack(TicketCallback {
                satisfaction: Satisfaction::parse(satisfaction)?,
                resolved: request.resolved.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidAction, "call_back needs resolved")
                })?,
                note: text,
            })
        }
        "merge" => {
            need(dispatcher, "a dispatcher")?;
            let into = request.into.clone().unwrap_or_default();
            let Some(target) = state.store.hotline.ticket_by_number(into.trim()).await? else {
                return Err(ApiError::new(
                    ErrorCode::TicketNotFound,
                    format!("there is no ticket {into}"),
                ));
            };
            // Chains of merges would hide the surviving ticket: merge into the one that survives.
            if let Some(survivor) = &target.merged_into {
                return Err(ApiError::new(
                    ErrorCode::InvalidTicket,
                    format!(
                        "{} is itself merged into {survivor}; merge into that one",
                        target.number
                    ),
                ));
            }
            TicketAction::MergeInto {
                number: target.number,
            }
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidAction,
                format!("unknown action {other:?}"),
            ));
        }
    };
    let now = state.clock.now();
    let context = TicketContext {
        calendar: &state.calendar,
        policy: deadlines(state),
        today: shanghai_date(now),
    };
    let expected = ticket.version;
    ticket.apply(action, context, actor.account.as_str(), now)?;
    state.store.hotline.save_ticket(&ticket, expected).await?;
    view(state, actor, &ticket).await
}

/// A category and the department it routes to by default.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryView {
    pub code: String,
    pub name: String,
}

pub fn categories(state: &AppState) -> Vec<CategoryView> {
    routing(state)
        .categories
        .iter()
        .map(|c| CategoryView {
            code: c.code.clone(),
            name: c.name.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_routing_parses() {
        assert!(crate::Policies::demo_routing().is_ok());
    }
}
