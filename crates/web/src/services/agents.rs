//! The agent service (帮办代办, SPEC C5): registering agents in the 区—街道—社区 network,
//! mandates (委托) granted by applicants or recorded by clerks, the one mandate check behind every
//! action an agent takes for someone ([`acting_for`]), and the agent-coverage figure. Home visits
//! are in [`super::home_visits`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tongban_domain::agents::mandates::{
    Grant, ItemScope, Mandate, MandateSource, Refusal, authorise,
};
use tongban_domain::agents::{Agent, AgentError, AgentLevel, AgentNetwork, Registration, coverage};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::{ActingFor, Actor, ActorKind, Applicant, ApplicantKind};
use tongban_domain::ids::{ImplementationCode, RegionCode};
use tongban_domain::keys::{AccountName, HallKey, MandateId};
use tongban_domain::org::Role;
use tongban_store::model::{AuditEntry, MandateFilter};
use utoipa::{IntoParams, ToSchema};

use super::cases::{ApplicantInput, access, applicant_of, new_id};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};

impl From<AgentError> for ApiError {
    fn from(error: AgentError) -> ApiError {
        let code = match &error {
            AgentError::Invalid(_) => ErrorCode::InvalidAgentRequest,
            AgentError::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            AgentError::Forbidden(_) => ErrorCode::Forbidden,
            AgentError::OutOfTime(_) => ErrorCode::OutOfTime,
        };
        ApiError::new(code, error.to_string())
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidAgentRequest, message)
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message)
}

pub(crate) fn parse_date(name: &str, text: &str) -> Result<Date, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| invalid(format!("{name} {text:?} is not a date YYYY-MM-DD")))
}

fn today(state: &AppState) -> Date {
    shanghai_date(state.clock.now())
}

// ---------------------------------------------------------------------------------------------
// The one check

/// Whether the actor acts as an agent: staff with the agent role. A clerk who is also an agent
/// applies for people as a clerk, at a window, and is not asked for a mandate.
pub fn is_agent(actor: &Actor) -> bool {
    actor.kind == ActorKind::Staff
        && actor.has_role(Role::Agent, None)
        && !actor.has_role(Role::Clerk, None)
}

/// An agent cleared to act for an applicant: the actor carrying whom they act for, and the
/// mandate (its principal is the applicant as the mandate names them).
#[derive(Debug, Clone)]
pub struct Proxy {
    pub actor: Actor,
    pub mandate: Mandate,
}

/// The one mandate check, run before every action an agent takes for an applicant (applying,
/// acting on a case, reading it, booking, reading their licences): `None` when the actor is not
/// an agent (nothing to check), the cleared [`Proxy`] when a mandate covers the agent, the
/// applicant (ID number or credit code), the item (any item when `None`) and today, and
/// `no_valid_mandate` (403) with `details.reason` otherwise. Nothing is written.
pub async fn acting_for(
    state: &AppState,
    actor: &Actor,
    applicant: &str,
    item: Option<&ImplementationCode>,
) -> Result<Option<Proxy>, ApiError> {
    if !is_agent(actor) {
        return Ok(None);
    }
    let registration = state.store.agents.agent(&actor.account).await?;
    let mandates = state
        .store
        .agents
        .mandates(&MandateFilter {
            agent: Some(actor.account.clone()),
            principal: Some(applicant.to_owned()),
            limit: 100,
        })
        .await?;
    match authorise(
        registration.as_ref(),
        &mandates,
        applicant,
        item,
        today(state),
    ) {
        Ok(mandate) => {
            let mut cleared = actor.clone();
            cleared.acting_for = Some(ActingFor {
                identifier: mandate.principal.identifier.clone(),
                name: mandate.principal.name.clone(),
                mandate: mandate.id,
            });
            Ok(Some(Proxy {
                actor: cleared,
                mandate: mandate.clone(),
            }))
        }
        Err(refusal) => Err(refused(&refusal)),
    }
}

/// The error of a refused mandate check.
pub fn refused(refusal: &Refusal) -> ApiError {
    let mut details = serde_json::json!({ "reason": refusal.code(), "text": refusal.text_zh() });
    match refusal {
        Refusal::NotYetValid { from } => details["valid_from"] = from.to_string().into(),
        Refusal::Expired { until } => details["valid_until"] = until.to_string().into(),
        Refusal::Revoked { on } => details["revoked_on"] = on.to_string().into(),
        Refusal::ItemNotCovered { item } => details["item"] = item.to_string().into(),
        _ => {}
    }
    ApiError::new(
        ErrorCode::NoValidMandate,
        format!("you may not act for this applicant: {refusal}"),
    )
    .with_details(details)
}

/// Whether an error is the refusal "there is no mandate at all" (or the actor is no registered
/// agent): reads answer those with 404, so that case numbers cannot be probed.
pub fn is_no_mandate_at_all(error: &ApiError) -> bool {
    error.code == ErrorCode::NoValidMandate
        && matches!(
            error.details.get("reason").and_then(|r| r.as_str()),
            Some("no_mandate" | "not_registered")
        )
}

// ---------------------------------------------------------------------------------------------
// Registrations

/// An agent as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentView {
    pub account: String,
    pub name: String,
    /// `district`, `street` or `community`.
    pub level: String,
    pub level_text: String,
    pub level_text_en: String,
    pub region: String,
    pub region_name: String,
    pub hall: Option<String>,
    pub hall_name: Option<String>,
    pub active: bool,
}

fn region_name(state: &AppState, code: &RegionCode) -> String {
    state
        .lookup
        .get()
        .organisation
        .regions
        .iter()
        .find(|r| &r.code == code)
        .map_or_else(|| code.to_string(), |r| r.name.clone())
}

pub fn agent_view(state: &AppState, agent: &Agent) -> AgentView {
    let lookup = state.lookup.get();
    AgentView {
        account: agent.account.to_string(),
        name: agent.name.clone(),
        level: agent.level.code().to_owned(),
        level_text: agent.level.label_zh().to_owned(),
        level_text_en: agent.level.label_en().to_owned(),
        region: agent.region.to_string(),
        region_name: region_name(state, &agent.region),
        hall: agent.hall.as_ref().map(ToString::to_string),
        hall_name: agent
            .hall
            .as_ref()
            .and_then(|h| lookup.hall(h))
            .map(|h| h.name.clone()),
        active: agent.active,
    }
}

/// `PUT /api/v1/agents/{account}`: register an agent or change the registration.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRequest {
    /// `district` (区), `street` (街道) or `community` (社区/村).
    pub level: String,
    /// The area served: a region code of that level.
    pub region: String,
    /// The hall or station the agent works from.
    #[serde(default)]
    pub hall: Option<String>,
    /// `false` suspends the agent and every mandate they hold.
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

fn require_admin(actor: &Actor) -> Result<(), ApiError> {
    if actor.has_role(Role::Administrator, None) {
        return Ok(());
    }
    Err(forbidden("only an administrator registers agents"))
}

/// Registers (or changes) an agent: a staff account with the agent role.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    account: &str,
    request: AgentRequest,
) -> Result<AgentView, ApiError> {
    require_admin(actor)?;
    let account = AccountName::parse(account).map_err(|e| invalid(e.to_string()))?;
    let Some(record) = state.store.accounts.find_account(&account).await? else {
        return Err(ApiError::new(
            ErrorCode::AgentNotFound,
            format!("there is no account {account}"),
        ));
    };
    let profile = record.profile;
    let has_role = profile.roles.iter().any(|r| r.role == Role::Agent);
    if profile.kind != ActorKind::Staff || !has_role {
        return Err(invalid(format!(
            "account {account} is not staff with the agent role"
        )));
    }
    let level = AgentLevel::parse(&request.level).ok_or_else(|| {
        invalid(format!(
            "level {:?} is not district, street or community",
            request.level
        ))
    })?;
    let region = RegionCode::parse(&request.region).map_err(|e| invalid(e.to_string()))?;
    let hall = request
        .hall
        .as_deref()
        .map(HallKey::parse)
        .transpose()
        .map_err(|e| invalid(e.to_string()))?;
    let existing = state.store.agents.agent(&account).await?;
    let now = state.clock.now();
    let agent = Agent::register(
        Registration {
            account,
            name: profile.display_name,
            level,
            region,
            hall,
            active: request.active,
        },
        existing.as_ref(),
        &state.lookup.get().organisation,
        now,
    )?;
    state.store.agents.save_agent(&agent).await?;
    let detail = format!(
        "{} {} {}",
        agent.level.code(),
        agent.region,
        if agent.active { "active" } else { "suspended" }
    );
    audit(
        state,
        actor,
        "register_agent",
        agent.account.as_str(),
        &detail,
    )
    .await?;
    Ok(agent_view(state, &agent))
}

/// Active agents, for anyone choosing one; administrators and supervisors also see suspended
/// ones.
pub async fn list_agents(state: &AppState, actor: &Actor) -> Result<Vec<AgentView>, ApiError> {
    let all = actor.has_role(Role::Administrator, None) || actor.has_role(Role::Supervisor, None);
    let agents = state.store.agents.agents().await?;
    Ok(agents
        .iter()
        .filter(|a| all || a.active)
        .map(|a| agent_view(state, a))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Mandates

/// `POST /api/v1/mandates`: an applicant grants a mandate, or a clerk records a paper one.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MandateRequest {
    /// The agent's account.
    pub agent: String,
    /// Every item (全权委托) …
    #[serde(default)]
    pub all_items: bool,
    /// … or these items (implementation codes); exactly one of the two.
    #[serde(default)]
    pub items: Vec<String>,
    /// The first day (`YYYY-MM-DD`, default today).
    #[serde(default)]
    pub valid_from: Option<String>,
    /// The last day (`YYYY-MM-DD`), at most three years on.
    pub valid_until: String,
    /// A clerk recording a signed paper mandate (授权委托书) names the applicant.
    #[serde(default)]
    pub principal: Option<ApplicantInput>,
}

/// An item of a mandate, with its name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemRef {
    pub code: String,
    pub name: String,
}

/// A mandate as shown to its agent, its applicant and staff.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MandateView {
    pub id: String,
    pub agent: String,
    pub agent_name: String,
    /// `person` or `enterprise`.
    pub principal_kind: String,
    pub principal_name: String,
    pub principal_identifier: String,
    pub all_items: bool,
    pub items: Vec<ItemRef>,
    pub valid_from: String,
    pub valid_until: String,
    /// `online` (granted by the applicant) or `paper` (recorded by a clerk).
    pub source: String,
    pub recorded_by: String,
    pub created_at: String,
    /// Today: `pending`, `active`, `expired` or `revoked`.
    pub status: String,
    pub status_text: String,
    pub status_text_en: String,
    pub revoked_at: Option<String>,
    pub revoked_reason: Option<String>,
}

/// The names of items, read once per code.
async fn item_names(
    state: &AppState,
    mandates: &[Mandate],
) -> Result<BTreeMap<ImplementationCode, String>, ApiError> {
    let mut names = BTreeMap::new();
    for mandate in mandates {
        if let ItemScope::Listed { items } = &mandate.items {
            for code in items {
                if names.contains_key(code) {
                    continue;
                }
                let name = state
                    .store
                    .catalog
                    .item(code)
                    .await?
                    .map_or_else(|| code.to_string(), |r| r.definition.name);
                names.insert(code.clone(), name);
            }
        }
    }
    Ok(names)
}

fn mandate_view(
    mandate: &Mandate,
    names: &BTreeMap<ImplementationCode, String>,
    today: Date,
) -> MandateView {
    let status = mandate.status_on(today);
    let (all_items, items) = match &mandate.items {
        ItemScope::All => (true, Vec::new()),
        ItemScope::Listed { items } => (
            false,
            items
                .iter()
                .map(|code| ItemRef {
                    code: code.to_string(),
                    name: names.get(code).cloned().unwrap_or_else(|| code.to_string()),
                })
                .collect(),
        ),
    };
    MandateView {
        id: mandate.id.to_string(),
        agent: mandate.agent.to_string(),
        agent_name: mandate.agent_name.clone(),
        principal_kind: match mandate.principal.kind {
            ApplicantKind::Person => "person",
            ApplicantKind::Enterprise => "enterprise",
        }
        .to_owned(),
        principal_name: mandate.principal.name.clone(),
        principal_identifier: mandate.principal.identifier.clone(),
        all_items,
        items,
        valid_from: mandate.valid_from.to_string(),
        valid_until: mandate.valid_until.to_string(),
        source: mandate.source.code().to_owned(),
        recorded_by: mandate.recorded_by.to_string(),
        created_at: mandate.created_at.to_string(),
        status: status.code().to_owned(),
        status_text: status.label_zh().to_owned(),
        status_text_en: status.label_en().to_owned(),
        revoked_at: mandate.revoked.as_ref().map(|r| r.at.to_string()),
        revoked_reason: mandate
            .revoked
            .as_ref()
            .map(|r| r.reason.clone())
            .filter(|r| !r.is_empty()),
    }
}

async fn views_of(state: &AppState, mandates: &[Mandate]) -> Result<Vec<MandateView>, ApiError> {
    let names = item_names(state, mandates).await?;
    let today = today(state);
    Ok(mandates
        .iter()
        .map(|m| mandate_view(m, &names, today))
        .collect())
}

/// Grants a mandate: the applicant themself (online), or a clerk for the applicant named (a
/// signed paper mandate, audited).
pub async fn grant(
    state: &AppState,
    actor: &Actor,
    request: MandateRequest,
) -> Result<MandateView, ApiError> {
    let clerk = actor.has_role(Role::Clerk, None);
    let (principal, source) = match (actor.kind, &request.principal) {
        (ActorKind::Person | ActorKind::Enterprise, None) => {
            (applicant_of(actor, None)?, MandateSource::Online)
        }
        (ActorKind::Staff, Some(input)) if clerk => {
            (applicant_of(actor, Some(input))?, MandateSource::Paper)
        }
        (ActorKind::Staff, None) if clerk => {
            return Err(invalid(
                "a clerk recording a paper mandate names the applicant (principal)",
            ));
        }
        _ => {
            return Err(forbidden(
                "a mandate is granted by the applicant, or recorded by a window clerk from a signed paper",
            ));
        }
    };
    let agent_account = AccountName::parse(&request.agent).map_err(|e| invalid(e.to_string()))?;
    let Some(agent) = state.store.agents.agent(&agent_account).await? else {
        return Err(ApiError::new(
            ErrorCode::AgentNotFound,
            format!("there is no registered agent {agent_account}"),
        ));
    };
    let items = match (request.all_items, request.items.is_empty()) {
        (true, true) => ItemScope::All,
        (false, false) => {
            let mut codes = Vec::with_capacity(request.items.len());
            for text in &request.items {
                let code = ImplementationCode::parse(text)
                    .map_err(|e| ApiError::new(ErrorCode::InvalidItemCode, e.to_string()))?;
                if state.store.catalog.item(&code).await?.is_none() {
                    return Err(ApiError::new(
                        ErrorCode::ItemNotFound,
                        format!("there is no published item {code}"),
                    ));
                }
                codes.push(code);
            }
            ItemScope::Listed { items: codes }
        }
        _ => {
            return Err(invalid(
                "give either all_items: true or a non-empty list of items, not both",
            ));
        }
    };
    let now = state.clock.now();
    let today = shanghai_date(now);
    let valid_from = match request.valid_from.as_deref() {
        Some(text) if !text.trim().is_empty() => parse_date("valid_from", text)?,
        _ => today,
    };
    let valid_until = parse_date("valid_until", &request.valid_until)?;
    let mandate = Mandate::grant(
        Grant {
            id: MandateId::from_uuid(new_id(now)),
            principal,
            items,
            valid_from,
            valid_until,
            source,
            recorded_by: actor.account.clone(),
        },
        &agent,
        today,
        now,
    )?;
    state.store.agents.create_mandate(&mandate).await?;
    if source == MandateSource::Paper {
        audit_mandate(state, actor, &mandate, "record_mandate").await?;
    }
    tracing::info!(mandate.id = %mandate.id, agent = %mandate.agent, source = source.code(), "mandate granted");
    let mut views = views_of(state, std::slice::from_ref(&mandate)).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::internal(&"no view of the mandate"))
}

async fn audit_mandate(
    state: &AppState,
    actor: &Actor,
    mandate: &Mandate,
    action: &str,
) -> Result<(), ApiError> {
    let detail = format!("agent {}", mandate.agent);
    audit(state, actor, action, &mandate.id.to_string(), &detail).await
}

/// A staff action for the audit log, stamped now.
pub(crate) async fn audit(
    state: &AppState,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), ApiError> {
    let at = state.clock.now();
    let entry = AuditEntry {
        id: new_id(at),
        at,
        actor: actor.account.to_string(),
        action: action.to_owned(),
        target: target.to_owned(),
        department: None,
        detail: detail.to_owned(),
    };
    state.store.cases.record(vec![entry], Vec::new()).await?;
    Ok(())
}

/// A read of `subject`'s data by `actor`, for the subject's data-access log.
pub(crate) async fn log_access(
    state: &AppState,
    actor: &Actor,
    subject: &str,
    purpose: &str,
    what: &str,
) -> Result<(), ApiError> {
    let entry = access(actor, subject, None, purpose, what, state.clock.now());
    state.store.cases.record(Vec::new(), vec![entry]).await?;
    Ok(())
}

fn mandate_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MandateNotFound,
        format!("there is no mandate {id}"),
    )
}

/// `POST /api/v1/mandates/{id}/revoke`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[serde(default)]
    pub reason: String,
}

/// Revokes a mandate from now on: the applicant themself, a clerk (a paper revocation,
/// audited) or an administrator. Others get 404.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: RevokeRequest,
) -> Result<MandateView, ApiError> {
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| mandate_not_found(id))?;
    let Some(mandate) = state
        .store
        .agents
        .mandate(MandateId::from_uuid(uuid))
        .await?
    else {
        return Err(mandate_not_found(id));
    };
    let own = actor.is_applicant(&mandate.principal);
    let staff = actor.has_role(Role::Clerk, None) || actor.has_role(Role::Administrator, None);
    if !own && !staff {
        return Err(mandate_not_found(id));
    }
    let now = state.clock.now();
    let revoked = mandate.revoke(actor.account.clone(), &request.reason, now)?;
    if !state.store.agents.revoke_mandate(&revoked).await? {
        return Err(AgentError::IllegalTransition {
            what: "mandate",
            action: "revoke",
            state: "revoked",
        }
        .into());
    }
    if !own {
        audit_mandate(state, actor, &revoked, "revoke_mandate").await?;
    }
    tracing::info!(mandate.id = %revoked.id, "mandate revoked");
    let mut views = views_of(state, std::slice::from_ref(&revoked)).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::internal(&"no view of the mandate"))
}

/// Query of `GET /api/v1/mandates`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MandatesQuery {
    /// Staff: the mandates an applicant (ID number or credit code) gave; the look-up is logged
    /// for the applicant.
    pub principal: Option<String>,
}

/// The mandates the actor may see: an applicant's own (given), an agent's own (held), or
/// (clerks and administrators) an applicant's when asked for.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: MandatesQuery,
) -> Result<Vec<MandateView>, ApiError> {
    let filter = match actor.kind {
        ActorKind::Person | ActorKind::Enterprise => MandateFilter {
            principal: Some(
                actor
                    .identifier
                    .clone()
                    .ok_or_else(|| forbidden("your account has no identifier"))?,
            ),
            limit: 200,
            ..MandateFilter::default()
        },
        ActorKind::Staff if is_agent(actor) => MandateFilter {
            agent: Some(actor.account.clone()),
            limit: 500,
            ..MandateFilter::default()
        },
        ActorKind::Staff
            if actor.has_role(Role::Clerk, None) || actor.has_role(Role::Administrator, None) =>
        {
            let Some(principal) = query.principal.as_deref().map(str::trim) else {
                return Err(invalid(
                    "name the applicant: ?principal=<ID number or credit code>",
                ));
            };
            let principal = principal.to_uppercase();
            log_access(state, actor, &principal, "查询委托代办", "委托记录").await?;
            MandateFilter {
                principal: Some(principal),
                limit: 200,
                ..MandateFilter::default()
            }
        }
        _ => return Err(forbidden("your account has no mandates to list")),
    };
    let mandates = state.store.agents.mandates(&filter).await?;
    views_of(state, &mandates).await
}

/// The applicants an agent may act for today: one entry per principal with an active mandate
/// (the newest mandate first), for the workbench.
pub async fn active_principals(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<MandateView>, ApiError> {
    let views = list(state, actor, MandatesQuery::default()).await?;
    let mut seen = std::collections::BTreeSet::new();
    Ok(views
        .into_iter()
        .filter(|v| v.status == "active")
        .filter(|v| seen.insert(v.principal_identifier.clone()))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Coverage (SPEC C8: agent coverage)

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LevelCoverageView {
    /// `district`, `street` or `community`.
    pub level: String,
    pub level_text: String,
    pub areas: u32,
    pub covered: u32,
    /// Percent with one decimal; `null` without areas.
    pub percent: Option<f64>,
    pub uncovered: Vec<AreaRef>,
}

/// 代办覆盖率 (see `docs/kpis.md`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverageView {
    /// The area asked about (all when absent).
    pub within: Option<String>,
    /// The headline figure: communities (社区/村) with an active community agent, percent.
    pub agent_coverage: Option<f64>,
    pub levels: Vec<LevelCoverageView>,
}

/// Query of `GET /api/v1/stats/agent-coverage`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// Only areas inside this region (e.g. a district `990102`).
    pub within: Option<String>,
}

pub async fn coverage_of(state: &AppState, query: CoverageQuery) -> Result<CoverageView, ApiError> {
    let within = query
        .within
        .as_deref()
        .map(|text| {
            RegionCode::parse(text)
                .map_err(|_| ApiError::invalid_parameter("within", text, "a region code"))
        })
        .transpose()?;
    let agents = state.store.agents.agents().await?;
    let lookup = state.lookup.get();
    let levels = coverage(&lookup.organisation.regions, &agents, within.as_ref());
    let views: Vec<LevelCoverageView> = levels
        .iter()
        .map(|level| LevelCoverageView {
            level: level.level.code().to_owned(),
            level_text: level.level.label_zh().to_owned(),
            areas: level.areas,
            covered: level.covered,
            percent: level.percent(),
            uncovered: level
                .uncovered
                .iter()
                .map(|code| AreaRef {
                    code: code.to_string(),
                    name: region_name(state, code),
                })
                .collect(),
        })
        .collect();
    Ok(CoverageView {
        within: within.map(|w| w.to_string()),
        agent_coverage: levels
            .iter()
            .find(|l| l.level == AgentLevel::Community)
            .and_then(|l| l.percent()),
        levels: views,
    })
}

// ---------------------------------------------------------------------------------------------
// Demo content

const DEMO_AGENTS: &str = include_str!("../../../../data/demo/agents.toml");

/// Why the demo agents could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoAgentsError {
    #[error("data/demo/agents.toml: {0}")]
    Data(String),
    #[error(transparent)]
    Store(#[from] tongban_store::StoreError),
}

/// Loads the demo agents and mandates into a store that has the demo organisation and accounts.
/// What is there already is left alone, and entries naming staff or parties the stored
/// organisation does not have are skipped (an import of other data with demo accounts). Returns
/// how many records were written.
pub async fn load_demo(
    store: &tongban_store::Store,
    at: Timestamp,
) -> Result<u64, DemoAgentsError> {
    let data =
        AgentNetwork::parse_toml(DEMO_AGENTS).map_err(|e| DemoAgentsError::Data(e.to_string()))?;
    let organisation = store.catalog.organisation().await?;
    let mut written = 0;
    for demo in &data.agents {
        let Some(member) = organisation
            .staff
            .iter()
            .find(|s| s.account == demo.account)
        else {
            continue;
        };
        if store.agents.agent(&demo.account).await?.is_some() {
            continue;
        }
        let agent = Agent::register(
            Registration {
                account: demo.account.clone(),
                name: member.name.clone(),
                level: demo.level,
                region: demo.region.clone(),
                hall: demo.hall.clone(),
                active: true,
            },
            None,
            &organisation,
            at,
        )
        .map_err(|e| DemoAgentsError::Data(format!("agent {}: {e}", demo.account)))?;
        store.agents.save_agent(&agent).await?;
        written += 1;
    }
    for demo in &data.mandates {
        let id = MandateId::from_uuid(demo.id);
        let (Some(agent), Some(principal)) = (
            store.agents.agent(&demo.agent).await?,
            demo_principal(&organisation, &demo.principal),
        ) else {
            continue;
        };
        if store.agents.mandate(id).await?.is_some() {
            continue;
        }
        let recorded_by = principal.account.clone().ok_or_else(|| {
            DemoAgentsError::Data(format!("party {} has no account", demo.principal))
        })?;
        let items = if demo.items.is_empty() {
            ItemScope::All
        } else {
            ItemScope::Listed {
                items: demo.items.clone(),
            }
        };
        let mandate = Mandate::grant(
            Grant {
                id,
                principal,
                items,
                valid_from: demo.valid_from,
                valid_until: demo.valid_until,
                source: MandateSource::Online,
                recorded_by,
            },
            &agent,
            // Demo mandates may start before the day the demo is loaded.
            demo.valid_from,
            at,
        )
        .map_err(|e| DemoAgentsError::Data(format!("mandate {}: {e}", demo.id)))?;
        store.agents.create_mandate(&mandate).await?;
        written += 1;
    }
    Ok(written)
}

fn demo_principal(
    organisation: &tongban_domain::org::Organisation,
    identifier: &str,
) -> Option<Applicant> {
    if let Some(person) = organisation
        .persons
        .iter()
        .find(|p| p.id_number.as_str() == identifier)
    {
        return Some(Applicant {
            kind: ApplicantKind::Person,
            name: person.name.clone(),
            identifier: identifier.to_owned(),
            account: person.account.clone(),
        });
    }
    organisation
        .enterprises
        .iter()
        .find(|e| e.credit_code.as_str() == identifier)
        .map(|enterprise| Applicant {
            kind: ApplicantKind::Enterprise,
            name: enterprise.name.clone(),
            identifier: identifier.to_owned(),
            account: enterprise.account.clone(),
        })
}
