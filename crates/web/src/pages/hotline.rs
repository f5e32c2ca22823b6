//! 12345 hotline pages: the operator's intake (`/hotline/new`, also for citizens online), the
//! ticket lists of operators, dispatchers and handlers (`/hotline/tickets`), a citizen's own
//! requests (`/hotline/mine`) and the ticket page with the forms the reader's role may use.
//!
//! The intake form links catalog guides to a consultation without scripts: its item search
//! button posts the form back (a `search_items` field), which stores nothing and shows the form
//! again, filled in as it was, with the matching items to tick (`link.<code>` checkboxes). The
//! search button is an `<input type="submit">`, so that the form's one `<button>` registers.

use std::collections::BTreeMap;
use std::fmt;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tongban_domain::calendar::shanghai_date;
use tongban_domain::hotline::{TicketChannel, TicketState, TicketType, Urgency};
use tongban_domain::org::Role;

use super::feedback::{Choice, Viewer, viewer};
use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::auth::{self, PageSession};
use crate::error::{ApiError, ErrorCode};
use crate::services::hotline::{
    self as service, LinkedGuide, TicketActionRequest, TicketQuery, TicketRequest, TicketView,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hotline/new", get(new_page).post(new_submit))
        .route("/hotline/tickets", get(list_page))
        .route("/hotline/mine", get(list_page))
        .route("/hotline/tickets/{number}", get(ticket_page))
        .route(
            "/hotline/tickets/{number}/act",
            axum::routing::post(ticket_act),
        )
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    selected: T,
) -> Vec<Choice> {
    all.iter()
        .map(|value| Choice {
            code: code(*value).into(),
            label: label(*value).into(),
            selected: *value == selected,
        })
        .collect()
}

/// A catalog item on the intake form: ticked when the operator chose it.
struct ItemChoice {
    code: String,
    name: String,
    url: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "hotline_new.html")]
struct NewPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    operator: bool,
    channels: Vec<Choice>,
    kinds: Vec<Choice>,
    categories: Vec<Choice>,
    areas: Vec<Choice>,
    urgencies: Vec<Choice>,
    caller_name: String,
    caller_phone: String,
    location: String,
    description: String,
    confidential: bool,
    /// The item search as typed, and whether one was run.
    item_q: String,
    searched: bool,
    /// Chosen items first (ticked), then the search results not chosen yet.
    items: Vec<ItemChoice>,
}

/// What the intake form holds, from a post or the defaults.
#[derive(Default)]
struct IntakeValues {
    channel: Option<String>,
    caller_name: String,
    caller_phone: String,
    kind: String,
    category: String,
    area: String,
    location: String,
    urgency: Option<String>,
    description: String,
    confidential: bool,
    linked: Vec<LinkedGuide>,
}

fn select<T: Copy + PartialEq>(
    all: &[T],
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    posted: Option<&str>,
    default: T,
) -> Vec<Choice> {
    let selected = all
        .iter()
        .copied()
        .find(|value| Some(code(*value)) == posted)
        .unwrap_or(default);
    choices(all, code, label, selected)
}

fn intake_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    values: IntakeValues,
    item_q: String,
    results: Option<Vec<LinkedGuide>>,
) -> NewPage {
    let categories = service::categories(state)
        .into_iter()
        .map(|c| Choice {
            selected: c.code == values.category,
            code: c.code,
            label: c.name,
        })
        .collect();
    let lookup = state.lookup.get();
    let areas = lookup
        .organisation
        .regions
        .iter()
        .filter(|r| r.code.as_str().len() == 6 && r.parent.is_some())
        .map(|r| Choice {
            code: r.code.to_string(),
            label: r.name.clone(),
            selected: r.code.as_str() == values.area,
        })
        .collect();
    let searched = results.is_some();
    let mut items: Vec<ItemChoice> = Vec::new();
    for guide in values.linked {
        items.push(ItemChoice {
            code: guide.code,
            name: guide.name,
            url: guide.url,
            checked: true,
        });
    }
    for guide in results.unwrap_or_default() {
        if items.iter().any(|item| item.code == guide.code) {
            continue;
        }
        items.push(ItemChoice {
            code: guide.code,
            name: guide.name,
            url: guide.url,
            checked: false,
        });
    }
    NewPage {
        t: lang.labels(),
        lang,
        path: "/hotline/new".into(),
        viewer: Some(viewer(lang, session)),
        csrf: session.csrf.clone(),
        operator: session.actor.has_role(Role::HotlineOperator, None),
        channels: select(
            TicketChannel::ALL,
            TicketChannel::code,
            TicketChannel::label_zh,
            values.channel.as_deref(),
            TicketChannel::Phone,
        ),
        kinds: select(
            TicketType::ALL,
            TicketType::code,
            TicketType::label_zh,
            Some(values.kind.as_str()),
            TicketType::Complaint,
        ),
        categories,
        areas,
        urgencies: select(
            Urgency::ALL,
            Urgency::code,
            Urgency::label_zh,
            values.urgency.as_deref(),
            Urgency::Normal,
        ),
        caller_name: values.caller_name,
        caller_phone: values.caller_phone,
        location: values.location,
        description: values.description,
        confidential: values.confidential,
        item_q,
        searched,
        items,
    }
}

async fn new_page(State(state): State<AppState>, lang: Lang, session: PageSession) -> Response {
    let page = intake_page(
        &state,
        lang,
        &session,
        IntakeValues::default(),
        String::new(),
        None,
    );
    render(&page)
}

#[derive(Deserialize)]
struct IntakeForm {
    #[serde(default)]
    csrf: String,
    channel: Option<String>,
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    caller_phone: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    location: String,
    urgency: Option<String>,
    #[serde(default)]
    description: String,
    confidential: Option<String>,
    /// Present when the item search button was pressed: look items up, register nothing.
    search_items: Option<String>,
    #[serde(default)]
    item_q: String,
    /// The ticked items, as `link.<code>` fields.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl IntakeForm {
    fn linked_codes(&self) -> Vec<String> {
        self.rest
            .keys()
            .filter_map(|name| name.strip_prefix("link."))
            .map(str::to_owned)
            .collect()
    }
}

impl fmt::Debug for IntakeForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntakeForm").finish_non_exhaustive()
    }
}

fn form_error() -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, "the form could not be read")
}

async fn new_submit(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    form: Result<Form<IntakeForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, form_error());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let linked_items = form.linked_codes();
    if form.search_items.is_some() {
        // Nothing is stored: the form comes back as it was, with the items found to tick.
        let chosen = match service::check_linked_items(&state, linked_items).await {
            Ok(codes) => codes,
            Err(error) => return page_error(lang, error),
        };
        let (linked, results) = match (
            service::linked_guides(&state, &chosen).await,
            service::search_items(&state, &form.item_q, 10).await,
        ) {
            (Ok(linked), Ok(results)) => (linked, results),
            (Err(error), _) | (_, Err(error)) => return page_error(lang, error),
        };
        let values = IntakeValues {
            channel: form.channel,
            caller_name: form.caller_name,
            caller_phone: form.caller_phone,
            kind: form.kind,
            category: form.category,
            area: form.area,
            location: form.location,
            urgency: form.urgency,
            description: form.description,
            confidential: form.confidential.is_some(),
            linked,
        };
        let item_q = form.item_q.trim().to_owned();
        return render(&intake_page(
            &state,
            lang,
            &session,
            values,
            item_q,
            Some(results),
        ));
    }
    let request = TicketRequest {
        channel: form.channel,
        kind: form.kind,
        category: form.category,
        area: form.area,
        location: form.location,
        urgency: form.urgency,
        description: form.description,
        attachments: Vec::new(),
        confidential: form.confidential.is_some(),
        caller_name: form.caller_name,
        caller_phone: form.caller_phone,
        linked_items,
    };
    match service::register(&state, &session.actor, request).await {
        Ok(ticket) => Redirect::to(&format!(
            "/hotline/tickets/{}?notice=registered",
            ticket.number
        ))
        .into_response(),
        Err(error) => page_error(lang, error),
    }
}

struct Row {
    number: String,
    kind: String,
    category: String,
    state: String,
    state_label: String,
    department: String,
    due_on: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "hotline_list.html")]
struct ListPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    heading: String,
    states: Vec<Choice>,
    overdue: bool,
    tickets: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: String,
    overdue: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    uri: axum::http::Uri,
    Query(query): Query<ListQuery>,
) -> Response {
    let overdue = query.overdue.is_some();
    let request = TicketQuery {
        state: Some(query.state.clone()).filter(|s| !s.is_empty()),
        department: None,
        overdue,
    };
    let tickets = match service::list(&state, &session.actor, request).await {
        Ok(tickets) => tickets,
        Err(error) => return page_error(lang, error),
    };
    let today = shanghai_date(state.clock.now());
    let lookup = state.lookup.get();
    let rows = tickets
        .into_iter()
        .map(|t| {
            let parsed = TicketState::parse(&t.state).ok();
            let handling = matches!(
                parsed,
                Some(TicketState::Dispatched | TicketState::ReturnRequested)
            );
            Row {
                kind: TicketType::parse(&t.kind).map_or(t.kind.clone(), |k| k.label_zh().into()),
                category: t.category,
                state_label: parsed.map_or(t.state.clone(), |s| s.label_zh().into()),
                state: t.state,
                department: t
                    .department
                    .as_deref()
                    .and_then(|d| tongban_domain::keys::DepartmentKey::parse(d).ok())
                    .map(|d| lookup.department_name(&d).to_owned())
                    .unwrap_or_default(),
                due_on: t.due_on.map(|d| d.to_string()).unwrap_or_default(),
                overdue: handling && t.due_on.is_some_and(|d| today > d),
                number: t.number,
            }
        })
        .collect();
    let mine = uri.path() == "/hotline/mine";
    let page = ListPage {
        t: lang.labels(),
        lang,
        path: uri.path().to_owned(),
        viewer: Some(viewer(lang, &session)),
        heading: if mine {
            lang.pick("我的诉求", "My requests").into()
        } else {
            lang.pick("12345 工单", "12345 tickets").into()
        },
        states: choices(
            TicketState::ALL,
            TicketState::code,
            TicketState::label_zh,
            TicketState::parse(&query.state).unwrap_or(TicketState::Merged),
        )
        .into_iter()
        .map(|c| Choice {
            selected: c.selected && !query.state.is_empty(),
            ..c
        })
        .collect(),
        overdue,
        tickets: rows,
    };
    render(&page)
}

/// Which forms the reader sees.
struct Can {
    dispatch: bool,
    answer: bool,
    merge: bool,
    reply: bool,
    decide_return: bool,
    decide_extension: bool,
    remind: bool,
    supervise: bool,
    /// A co-handling department's opinion (协办意见).
    assist: bool,
    call_back: bool,
}

#[derive(Template)]
#[template(path = "hotline_ticket.html")]
struct TicketPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    back: String,
    v: TicketView,
    can: Can,
    departments: Vec<Choice>,
    notice: Option<(String, String)>,
}

#[derive(Debug, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn ticket_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(number): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let v = match service::get(&state, &session.actor, &number).await {
        Ok(v) => v,
        Err(error) => return page_error(lang, error),
    };
    let actor = &session.actor;
    let dispatcher = actor.has_role(Role::Dispatcher, None);
    let operator = actor.has_role(Role::HotlineOperator, None);
    let supervisor = actor.has_role(Role::Supervisor, None);
    let lead = v.department.as_deref().is_some_and(|d| {
        actor.roles.iter().any(|r| {
            matches!(r.role, Role::Handler | Role::ChiefRepresentative)
                && r.department.as_ref().is_some_and(|k| k.as_str() == d)
        })
    });
    let co_handler = v.co_handlers.iter().any(|d| {
        actor.roles.iter().any(|r| {
            matches!(r.role, Role::Handler | Role::ChiefRepresentative)
                && r.department.as_ref().is_some_and(|k| k.as_str() == d)
        })
    });
    let state_is = |s: TicketState| v.state == s.code();
    let handling = state_is(TicketState::Dispatched);
    let can = Can {
        dispatch: dispatcher && state_is(TicketState::Registered),
        answer: operator && state_is(TicketState::Registered) && v.kind == "consultation",
        merge: dispatcher && (state_is(TicketState::Registered) || handling),
        reply: lead && handling,
        decide_return: dispatcher && state_is(TicketState::ReturnRequested),
        decide_extension: dispatcher && v.pending_extension.is_some(),
        remind: (dispatcher || supervisor) && (handling || state_is(TicketState::ReturnRequested)),
        supervise: supervisor
            && (handling
                || state_is(TicketState::ReturnRequested)
                || state_is(TicketState::Replied)),
        assist: co_handler && (handling || state_is(TicketState::ReturnRequested)),
        call_back: operator && state_is(TicketState::Replied),
    };
    let lookup = state.lookup.get();
    let suggested = v.suggested_department.clone().unwrap_or_default();
    let departments = lookup
        .organisation
        .departments
        .iter()
        .map(|d| Choice {
            code: d.key.to_string(),
            label: d.name.clone(),
            selected: d.key.as_str() == suggested,
        })
        .collect();
    let notice = match query.notice.as_deref() {
        Some("registered") => Some((
            "ok".to_owned(),
            format!(
                "{}{}",
                lang.pick("已登记,工单号 ", "Registered as "),
                v.number
            ),
        )),
        Some("done") => Some(("ok".to_owned(), lang.pick("已保存。", "Saved.").to_owned())),
        _ => None,
    };
    let back = if actor.identifier.is_some() {
        "/hotline/mine"
    } else {
        "/hotline/tickets"
    };
    let page = TicketPage {
        t: lang.labels(),
        lang,
        path: format!("/hotline/tickets/{}", v.number),
        viewer: Some(viewer(lang, &session)),
        csrf: session.csrf.clone(),
        back: back.into(),
        v,
        can,
        departments,
        notice,
    };
    render(&page)
}

#[derive(Deserialize)]
struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: u64,
    #[serde(default)]
    action: String,
    department: Option<String>,
    co_handler: Option<String>,
    text: Option<String>,
    approved: Option<String>,
    days: Option<u32>,
    satisfaction: Option<String>,
    resolved: Option<String>,
    into: Option<String>,
}

impl fmt::Debug for ActForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActForm").finish_non_exhaustive()
    }
}

async fn ticket_act(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(number): Path<String>,
    form: Result<Form<ActForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, form_error());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let request = TicketActionRequest {
        resolved: (form.action == "call_back").then_some(form.resolved.is_some()),
        action: form.action,
        version: form.version,
        department: form.department.filter(|d| !d.is_empty()),
        co_handlers: form
            .co_handler
            .into_iter()
            .filter(|d| !d.is_empty())
            .collect(),
        text: form.text,
        approved: form.approved.map(|a| a == "true"),
        days: form.days,
        satisfaction: form.satisfaction,
        into: form.into,
    };
    match service::act(&state, &session.actor, &number, request).await {
        Ok(_) => Redirect::to(&format!("/hotline/tickets/{number}?notice=done")).into_response(),
        Err(error) => page_error(lang, error),
    }
}
