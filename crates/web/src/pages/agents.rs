//! Agent pages (帮办代办, C5): the agent's workbench (`/agent`: principals and mandates, "apply for
//! this applicant", their cases, the home visits the agent is sent to), the applicant's page to
//! grant and revoke mandates and ask for a home visit (`/my/mandates`), hall staff scheduling
//! home visits (`/home-visits`), and one home visit with the steps its viewer may take
//! (`/home-visits/{id}`).
//!
//! Handlers read forms, call [`crate::services::agents`] and [`crate::services::home_visits`],
//! and show the answer; every form carries the session's CSRF token.

use std::collections::BTreeMap;
use std::fmt;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::ToSpan;
use serde::Deserialize;
use tongban_domain::agents::home_visits::{VisitReason, VisitResult};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::ActorKind;
use tongban_domain::org::Role;

use super::cases::{Viewer, here, local_time};
use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::api::catalog::ItemsQuery;
use crate::auth::{PageSession, verify_csrf};
use crate::error::{ApiError, ErrorCode};
use crate::services::agents::{
    self as service, AgentView, MandateRequest, MandateView, MandatesQuery, RevokeRequest, is_agent,
};
use crate::services::cases::{self as cases, ApplicantInput, CasesQuery};
use crate::services::home_visits::{
    self as visits, HomeVisitAction, HomeVisitInput, HomeVisitView, HomeVisitsQuery,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agent", get(workbench))
        .route("/my/mandates", get(my_mandates).post(grant))
        .route("/mandates/{id}/revoke", post(revoke))
        .route("/home-visits", get(hall_visits).post(request_visit))
        .route("/home-visits/{id}", get(visit_page).post(visit_action))
}

fn invalid_form() -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, "the form could not be read")
}

/// A message above the page: what was just done, or why it was refused.
struct Notice {
    ok: bool,
    text: String,
}

fn refusal(lang: Lang, error: &ApiError) -> Notice {
    let reason = error
        .details
        .get("text")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    Notice {
        ok: false,
        text: format!(
            "{}{}",
            lang.pick("未能完成:", "Not done: "),
            match (lang, reason) {
                (Lang::Zh, Some(reason)) => reason,
                _ => error.message.clone(),
            }
        ),
    }
}

fn done(lang: Lang, zh: &str, en: &str) -> Option<Notice> {
    Some(Notice {
        ok: true,
        text: lang.pick(zh, en).to_owned(),
    })
}

/// The published items, for "apply for" and mandate item lists.
async fn item_options(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let filter = ItemsQuery {
        per_page: Some("200".to_owned()),
        ..ItemsQuery::default()
    }
    .into_filter()?;
    Ok(state
        .store
        .catalog
        .list_items(&filter)
        .await?
        .items
        .iter()
        .map(|i| (i.code.to_string(), i.name.clone()))
        .collect())
}

fn masked(identifier: &str) -> String {
    crate::services::halls::mask_identifier(identifier)
}

// ---------------------------------------------------------------------------------------------
// The agent's workbench

/// One applicant an agent may act for now.
struct PrincipalRow {
    name: String,
    identifier: String,
    masked: String,
    kind: String,
    until: String,
    all_items: bool,
    /// The items to choose from when applying: the mandate's, or every item.
    items: Vec<(String, String)>,
    item_names: String,
    selected: bool,
}

struct CaseRow {
    id: String,
    number: String,
    item_name: String,
    state: String,
    submitted: String,
}

#[derive(Template)]
#[template(path = "agent_workbench.html")]
struct WorkbenchPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    registration: Option<AgentView>,
    principals: Vec<PrincipalRow>,
    mandates: Vec<MandateView>,
    /// The cases of the principal chosen (`?principal=`).
    principal_name: String,
    cases: Option<Vec<CaseRow>>,
    visits: Vec<HomeVisitView>,
    notice: Option<Notice>,
}

#[derive(Debug, Default, Deserialize)]
struct WorkbenchQuery {
    #[serde(default)]
    principal: Option<String>,
}

async fn workbench(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<WorkbenchQuery>,
) -> Response {
    match workbench_page(&state, lang, &session, query).await {
        Ok(page) => render(&page),
        Err(error) => page_error(lang, error),
    }
}

async fn workbench_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    query: WorkbenchQuery,
) -> Result<WorkbenchPage, ApiError> {
    let actor = &session.actor;
    if !is_agent(actor) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "the agent's workbench is for agents",
        ));
    }
    let registration = state
        .store
        .agents
        .agent(&actor.account)
        .await?
        .map(|agent| service::agent_view(state, &agent));
    let mandates = service::list(state, actor, MandatesQuery::default()).await?;
    let all_items = item_options(state).await?;
    let chosen = query.principal.unwrap_or_default();
    let mut principals: Vec<PrincipalRow> = Vec::new();
    for mandate in mandates.iter().filter(|m| m.status == "active") {
        if principals
            .iter()
            .any(|p| p.identifier == mandate.principal_identifier)
        {
            continue;
        }
        let items = if mandate.all_items {
            all_items.clone()
        } else {
            mandate
                .items
                .iter()
                .map(|i| (i.code.clone(), i.name.clone()))
                .collect()
        };
        principals.push(PrincipalRow {
            name: mandate.principal_name.clone(),
            identifier: mandate.principal_identifier.clone(),
            masked: masked(&mandate.principal_identifier),
            kind: mandate.principal_kind.clone(),
            until: mandate.valid_until.clone(),
            all_items: mandate.all_items,
            item_names: mandate
                .items
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            items,
            selected: mandate.principal_identifier == chosen,
        });
    }
    let (cases, principal_name) = match principals.iter().find(|p| p.selected) {
        Some(principal) => {
            let list = cases::list(
                state,
                actor,
                CasesQuery {
                    applicant: Some(principal.identifier.clone()),
                    ..CasesQuery::default()
                },
            )
            .await?;
            let rows = list
                .cases
                .iter()
                .map(|c| CaseRow {
                    id: c.id.to_string(),
                    number: c.number.clone(),
                    item_name: c.item_name.clone(),
                    state: c.state.clone(),
                    submitted: local_time(&c.submitted_at.to_string()),
                })
                .collect();
            (Some(rows), principal.name.clone())
        }
        None => (None, String::new()),
    };
    let visits = visits::list_visits(state, actor, HomeVisitsQuery::default()).await?;
    Ok(WorkbenchPage {
        t: lang.labels(),
        lang,
        path: here("/agent"),
        viewer: Some(Viewer::of(session)),
        registration,
        principals,
        mandates,
        principal_name,
        cases,
        visits,
        notice: None,
    })
}

// ---------------------------------------------------------------------------------------------
// The applicant's mandates and home visits

#[derive(Template)]
#[template(path = "my_mandates.html")]
struct MyMandatesPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    mandates: Vec<MandateView>,
    agents: Vec<AgentView>,
    items: Vec<(String, String)>,
    today: String,
    default_until: String,
    /// Home visits are for persons.
    person: bool,
    reasons: Vec<(&'static str, &'static str)>,
    visits: Vec<HomeVisitView>,
    address: String,
    notice: Option<Notice>,
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn my_mandates(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<DoneQuery>,
) -> Response {
    let notice = match query.done.as_deref() {
        Some("granted") => done(lang, "委托已生效。", "The mandate is granted."),
        Some("revoked") => done(lang, "委托已撤销。", "The mandate is revoked."),
        Some("visit") => done(
            lang,
            "上门服务申请已提交,工作人员将与您联系安排时间。",
            "Your request is in; staff will call to arrange a time.",
        ),
        _ => None,
    };
    respond(
        mandates_page(&state, lang, &session, notice).await,
        lang,
        StatusCode::OK,
    )
}

fn respond<T: Template>(page: Result<T, ApiError>, lang: Lang, status: StatusCode) -> Response {
    match page {
        Ok(page) => (status, render(&page)).into_response(),
        Err(error) => page_error(lang, error),
    }
}

async fn mandates_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    notice: Option<Notice>,
) -> Result<MyMandatesPage, ApiError> {
    let actor = &session.actor;
    if !matches!(actor.kind, ActorKind::Person | ActorKind::Enterprise) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "this page is for citizens and enterprises",
        ));
    }
    let mandates = service::list(state, actor, MandatesQuery::default()).await?;
    let agents = service::list_agents(state, actor).await?;
    let person = actor.kind == ActorKind::Person;
    let visits = if person {
        visits::list_visits(state, actor, HomeVisitsQuery::default()).await?
    } else {
        Vec::new()
    };
    // The person's own address, to start the home-visit form with.
    let address = actor
        .identifier
        .as_deref()
        .and_then(|id| {
            state
                .lookup
                .get()
                .organisation
                .persons
                .iter()
                .find(|p| p.id_number.as_str() == id)
                .map(|p| p.address.clone())
        })
        .unwrap_or_default();
    let today = shanghai_date(state.clock.now());
    let default_until = today.checked_add(1.year()).unwrap_or(today);
    Ok(MyMandatesPage {
        t: lang.labels(),
        lang,
        path: here("/my/mandates"),
        viewer: Some(Viewer::of(session)),
        csrf: session.csrf.clone(),
        mandates,
        agents,
        items: item_options(state).await?,
        today: today.to_string(),
        default_until: default_until.to_string(),
        person,
        reasons: VisitReason::ALL
            .iter()
            .map(|r| (r.code(), lang.pick(r.label_zh(), r.label_en())))
            .collect(),
        visits,
        address,
        notice,
    })
}

/// The grant form: `agent`, `scope` (`all` or `listed`), `item.<code>` per item ticked,
/// `valid_from`, `valid_until`.
async fn grant(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    let field = |name: &str| form.get(name).map_or("", |v| v.trim()).to_owned();
    if let Err(error) = verify_csrf(&field("csrf"), &session) {
        return page_error(lang, error);
    }
    let listed = field("scope") == "listed";
    let items: Vec<String> = form
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .filter_map(|(name, _)| name.strip_prefix("item.").map(str::to_owned))
        .collect();
    let request = MandateRequest {
        agent: field("agent"),
        all_items: !listed,
        items: if listed { items } else { Vec::new() },
        valid_from: Some(field("valid_from")).filter(|d| !d.is_empty()),
        valid_until: field("valid_until"),
        principal: None,
    };
    match service::grant(&state, &session.actor, request).await {
        Ok(_) => Redirect::to("/my/mandates?done=granted").into_response(),
        Err(error) if error.code.status().is_client_error() => {
            let notice = Some(refusal(lang, &error));
            respond(
                mandates_page(&state, lang, &session, notice).await,
                lang,
                error.code.status(),
            )
        }
        Err(error) => page_error(lang, error),
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    /// Where to go back to (a local path).
    #[serde(default)]
    back: String,
}

impl fmt::Debug for RevokeForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokeForm").finish_non_exhaustive()
    }
}

async fn revoke(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let request = RevokeRequest {
        reason: form.reason,
    };
    match service::revoke(&state, &session.actor, &id, request).await {
        Ok(_) => {
            let back = crate::auth::local_target(Some(&form.back));
            let target = if back == "/" {
                "/my/mandates?done=revoked".to_owned()
            } else {
                back
            };
            Redirect::to(&target).into_response()
        }
        Err(error) => page_error(lang, error),
    }
}

// ---------------------------------------------------------------------------------------------
// Home visits

#[derive(Deserialize)]
struct VisitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person_name: String,
    #[serde(default)]
    person_id: String,
    address: String,
    phone: String,
    reason: String,
    needs: String,
    #[serde(default)]
    hall: String,
    from: String,
    until: String,
}

impl fmt::Debug for VisitForm {
    // The form holds an address and a phone: never print its values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VisitForm")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// A person asks for a visit (from `/my/mandates`) or a clerk for a person (from `/home-visits`).
async fn request_visit(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    form: Result<Form<VisitForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let staff = session.actor.kind == ActorKind::Staff;
    let input = HomeVisitInput {
        person: staff.then(|| ApplicantInput {
            kind: "person".to_owned(),
            name: form.person_name.clone(),
            identifier: form.person_id.trim().to_uppercase(),
        }),
        address: form.address,
        phone: form.phone,
        reason: form.reason,
        needs: form.needs,
        item: None,
        hall: Some(form.hall).filter(|h| !h.trim().is_empty()),
        from: form.from,
        until: form.until,
    };
    match visits::request_visit(&state, &session.actor, input).await {
        Ok(visit) if staff => Redirect::to(&format!("/home-visits/{}", visit.id)).into_response(),
        Ok(_) => Redirect::to("/my/mandates?done=visit").into_response(),
        Err(error) if error.code.status().is_client_error() => {
            let notice = Some(refusal(lang, &error));
            if staff {
                respond(
                    hall_visits_page(&state, lang, &session, HallVisitsQuery::default(), notice)
                        .await,
                    lang,
                    error.code.status(),
                )
            } else {
                respond(
                    mandates_page(&state, lang, &session, notice).await,
                    lang,
                    error.code.status(),
                )
            }
        }
        Err(error) => page_error(lang, error),
    }
}

#[derive(Template)]
#[template(path = "home_visits.html")]
struct HallVisitsPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    hall: String,
    hall_name: String,
    state: String,
    visits: Vec<HomeVisitView>,
    agents: Vec<AgentView>,
    reasons: Vec<(&'static str, &'static str)>,
    today: String,
    notice: Option<Notice>,
}

#[derive(Debug, Default, Deserialize)]
struct HallVisitsQuery {
    #[serde(default)]
    hall: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

async fn hall_visits(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<HallVisitsQuery>,
) -> Response {
    respond(
        hall_visits_page(&state, lang, &session, query, None).await,
        lang,
        StatusCode::OK,
    )
}

async fn hall_visits_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    query: HallVisitsQuery,
    notice: Option<Notice>,
) -> Result<HallVisitsPage, ApiError> {
    let actor = &session.actor;
    if !actor.has_role(Role::Clerk, None) && !actor.has_role(Role::Administrator, None) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "home visits are arranged by hall staff",
        ));
    }
    let hall = query
        .hall
        .filter(|h| !h.is_empty())
        .or_else(|| actor.clerk_hall().map(ToString::to_string))
        .unwrap_or_default();
    let wanted = query.state.filter(|s| !s.is_empty());
    let visits = visits::list_visits(
        state,
        actor,
        HomeVisitsQuery {
            hall: Some(hall.clone()).filter(|h| !h.is_empty()),
            state: wanted.clone(),
        },
    )
    .await?;
    let agents = service::list_agents(state, actor).await?;
    let hall_name = tongban_domain::keys::HallKey::parse(&hall)
        .ok()
        .and_then(|key| state.lookup.get().hall(&key).map(|h| h.name.clone()))
        .unwrap_or_default();
    Ok(HallVisitsPage {
        t: lang.labels(),
        lang,
        path: here("/home-visits"),
        viewer: Some(Viewer::of(session)),
        csrf: session.csrf.clone(),
        hall,
        hall_name,
        state: wanted.unwrap_or_default(),
        visits,
        agents: agents.into_iter().filter(|a| a.active).collect(),
        reasons: VisitReason::ALL
            .iter()
            .map(|r| (r.code(), lang.pick(r.label_zh(), r.label_en())))
            .collect(),
        today: shanghai_date(state.clock.now()).to_string(),
        notice,
    })
}

#[derive(Template)]
#[template(path = "home_visit.html")]
struct VisitPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    visit: HomeVisitView,
    planned: String,
    may_schedule: bool,
    may_complete: bool,
    may_cancel: bool,
    agents: Vec<AgentView>,
    results: Vec<(&'static str, &'static str)>,
    notice: Option<Notice>,
}

async fn visit_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let notice = query
        .done
        .as_deref()
        .and_then(|_| done(lang, "已完成。", "Done."));
    respond(
        visit_view_page(&state, lang, &session, &id, notice).await,
        lang,
        StatusCode::OK,
    )
}

async fn visit_view_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    id: &str,
    notice: Option<Notice>,
) -> Result<VisitPage, ApiError> {
    let actor = &session.actor;
    let visit = visits::get_visit(state, actor, id).await?;
    let open = matches!(visit.state.as_str(), "requested" | "scheduled");
    let hall_staff = tongban_domain::keys::HallKey::parse(&visit.hall)
        .is_ok_and(|hall| visits::works_at(actor, &hall));
    let own = actor.identifier.as_deref() == Some(visit.person_identifier.as_str());
    let assigned = visit.agent.as_deref() == Some(actor.account.as_str());
    let agents = if hall_staff && open {
        service::list_agents(state, actor)
            .await?
            .into_iter()
            .filter(|a| a.active)
            .collect()
    } else {
        Vec::new()
    };
    Ok(VisitPage {
        t: lang.labels(),
        lang,
        path: here(&format!("/home-visits/{id}")),
        viewer: Some(Viewer::of(session)),
        csrf: session.csrf.clone(),
        planned: visit.planned_local.clone().unwrap_or_default(),
        may_schedule: hall_staff && open,
        may_complete: assigned && visit.state == "scheduled",
        may_cancel: open && (hall_staff || own),
        agents,
        results: VisitResult::ALL
            .iter()
            .map(|r| (r.code(), lang.pick(r.label_zh(), r.label_en())))
            .collect(),
        visit,
        notice,
    })
}

#[derive(Deserialize)]
struct VisitActionForm {
    #[serde(default)]
    csrf: String,
    version: u64,
    action: String,
    #[serde(default)]
    agent: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    case_number: String,
    #[serde(default)]
    reason: String,
    /// Where to go back to (a local path), else the visit.
    #[serde(default)]
    back: String,
}

impl fmt::Debug for VisitActionForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VisitActionForm")
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

async fn visit_action(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    form: Result<Form<VisitActionForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, invalid_form());
    };
    if let Err(error) = verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let optional = |text: String| Some(text).filter(|t| !t.trim().is_empty());
    let action = HomeVisitAction {
        version: form.version,
        action: form.action,
        agent: optional(form.agent),
        at: optional(form.at),
        result: optional(form.result),
        note: optional(form.note),
        case_number: optional(form.case_number),
        reason: optional(form.reason),
    };
    match visits::act_on_visit(&state, &session.actor, &id, action).await {
        Ok(visit) => {
            let back = crate::auth::local_target(Some(&form.back));
            let target = if back == "/" {
                format!("/home-visits/{}?done=1", visit.id)
            } else {
                back
            };
            Redirect::to(&target).into_response()
        }
        Err(error)
            if error.code.status().is_client_error()
                && error.code != ErrorCode::HomeVisitNotFound =>
        {
            let notice = Some(refusal(lang, &error));
            respond(
                visit_view_page(&state, lang, &session, &id, notice).await,
                lang,
                error.code.status(),
            )
        }
        Err(error) => page_error(lang, error),
    }
}
