//! Rating pages (好差评): the applicant rates a decided case at `/cases/{number}/rate` and a
//! finished "one thing" bundle application at `/bundle-cases/{id}/rate`; the responsible office
//! and supervisors work through `/rectifications` (rectify, appeal, review, call back);
//! `/ratings` publishes the figures per department, hall, window and item.

use std::fmt;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tongban_domain::cases::Actor;
use tongban_domain::feedback::{RatedKind, RatingLevel};
use tongban_domain::org::Role;

use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::auth::{self, MaybePageSession, PageSession};
use crate::error::{ApiError, ErrorCode};
use crate::services::feedback::{
    self as service, RatingRequest, RatingView, RectificationActionRequest, RectificationQuery,
    RectificationView,
};
use crate::services::stats::{self, FiguresQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{number}/rate", get(rate_page).post(rate_submit))
        .route(
            "/bundle-cases/{id}/rate",
            get(bundle_rate_page).post(bundle_rate_submit),
        )
        .route("/rectifications", get(rectifications_page))
        .route(
            "/rectifications/{id}/act",
            axum::routing::post(rectification_act),
        )
        .route("/ratings", get(public_page))
}

/// The signed-in person shown in the header, with the links their roles use.
pub struct Viewer {
    pub name: String,
    pub csrf: String,
    pub links: Vec<(String, String)>,
}

impl fmt::Debug for Viewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Viewer")
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

/// The header links of an actor on the feedback, hotline and supervision pages.
pub fn viewer(lang: Lang, session: &PageSession) -> Viewer {
    let actor = &session.actor;
    let mut links = Vec::new();
    let mut add = |href: &str, zh: &str, en: &str| {
        links.push((href.to_owned(), lang.pick(zh, en).to_owned()))
    };
    if actor.identifier.is_some() {
        add("/my/cases", "我的办件", "My cases");
        add("/hotline/mine", "我的诉求", "My requests");
    }
    if actor.has_role(Role::HotlineOperator, None) {
        add("/hotline/new", "热线受理", "Intake");
    }
    if actor.has_role(Role::HotlineOperator, None)
        || actor.has_role(Role::Dispatcher, None)
        || actor.has_role(Role::Handler, None)
    {
        add("/hotline/tickets", "工单", "Tickets");
    }
    if office_of(actor) || supervises(actor) {
        add("/rectifications", "差评整改", "Rectification");
    }
    if supervises(actor) {
        add("/dashboard", "监察看板", "Dashboard");
    }
    Viewer {
        name: actor.name.clone(),
        csrf: session.csrf.clone(),
        links,
    }
}

fn supervises(actor: &Actor) -> bool {
    actor.has_role(Role::Supervisor, None) || actor.has_role(Role::Administrator, None)
}

fn office_of(actor: &Actor) -> bool {
    actor.roles.iter().any(|r| {
        r.department.is_some()
            && matches!(
                r.role,
                Role::Clerk | Role::Approver | Role::ChiefRepresentative | Role::Handler
            )
    })
}

/// A choice in a select or radio group.
#[derive(Debug)]
pub struct Choice {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

fn notice_of(lang: Lang, key: Option<&str>) -> Option<(String, String)> {
    let (kind, zh, en) = match key? {
        "rated" => ("ok", "感谢您的评价。", "Thank you for your rating."),
        "done" => ("ok", "已保存。", "Saved."),
        _ => return None,
    };
    Some((kind.to_owned(), lang.pick(zh, en).to_owned()))
}

#[derive(Template)]
#[template(path = "rate.html")]
struct RatePage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    /// Where the crumb goes back to (the case or the bundle application) and its label.
    back: String,
    back_label: String,
    /// Where the form posts.
    action: String,
    /// "办件编号" or "一件事办件编号".
    subject_label: String,
    number: String,
    item_name: String,
    ratings: Vec<RatingView>,
    can_rate: bool,
    /// Why there is no form, when the applicant looks (still in progress, rectification pending).
    note: String,
    levels: Vec<Choice>,
    notice: Option<(String, String)>,
}

impl RatePage {
    /// The level in words, in the page's language.
    fn level_label(&self, code: &str) -> &'static str {
        match RatingLevel::parse(code) {
            Ok(level) => self.lang.pick(level.label_zh(), level_en(level)),
            Err(_) => self.lang.pick("未知", "Unknown"),
        }
    }

    /// The channel in words (national channel list, REFERENCE §3).
    fn channel_label(&self, code: &str) -> &'static str {
        match code {
            "pc" => self.lang.pick("网站", "Website"),
            "mobile" => self.lang.pick("移动端", "Mobile"),
            "qr_code" => self.lang.pick("二维码", "QR code"),
            "hall_tablet" => self.lang.pick("大厅评价器", "Hall tablet"),
            "hall_terminal" => self.lang.pick("大厅其他终端", "Hall terminal"),
            "phone" => self.lang.pick("电话", "Phone"),
            "sms" => self.lang.pick("短信", "SMS"),
            _ => self.lang.pick("其他", "Other"),
        }
    }
}

fn levels(lang: Lang) -> Vec<Choice> {
    RatingLevel::ALL
        .iter()
        .map(|level| Choice {
            code: level.code().into(),
            label: lang.pick(level.label_zh(), level_en(*level)).to_owned(),
            selected: *level == RatingLevel::Satisfied,
        })
        .collect()
}

/// The applicant's note when no form is shown: not finished yet, or waiting for the office.
fn rate_note(lang: Lang, own: bool, finished: bool, can_rate: bool, rated: bool) -> String {
    if !own || can_rate {
        return String::new();
    }
    let (zh, en) = if !finished {
        (
            "办结后即可评价。",
            "You can rate the service once it is finished.",
        )
    } else if rated {
        (
            "感谢评价。差评整改并回访后,您可以再评价一次。",
            "Thank you. After a bad rating is rectified and you are called back, you may rate once more.",
        )
    } else {
        return String::new();
    };
    lang.pick(zh, en).to_owned()
}

#[derive(Debug, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn rate_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(number): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let case = match crate::services::cases::get(&state, &session.actor, &number).await {
        Ok(case) => case,
        Err(error) => return page_error(lang, error),
    };
    let ratings = match service::ratings_of_case(&state, &session.actor, &case.number).await {
        Ok(ratings) => ratings,
        Err(error) => return page_error(lang, error),
    };
    let own = session.actor.identifier.as_deref() == Some(case.applicant_identifier.as_str());
    // Asked of the store, not guessed from the list: a second rating waits until the
    // rectification of a bad first one is settled.
    let can_rate = own
        && match service::round_open(&state, RatedKind::Case, &case.number).await {
            Ok(open) => open,
            Err(error) => return page_error(lang, error),
        };
    let page = RatePage {
        t: lang.labels(),
        lang,
        path: format!("/cases/{}/rate", case.number),
        viewer: Some(viewer(lang, &session)),
        csrf: session.csrf.clone(),
        back: format!("/cases/{}", case.number),
        back_label: lang.pick("返回办件", "Back to the case").to_owned(),
        action: format!("/cases/{}/rate", case.number),
        subject_label: lang.pick("办件编号", "Case number").to_owned(),
        number: case.number.clone(),
        item_name: case.item_name.clone(),
        note: rate_note(lang, own, true, can_rate, !ratings.is_empty()),
        ratings,
        can_rate,
        levels: levels(lang),
        notice: notice_of(lang, query.notice.as_deref()),
    };
    render(&page)
}

async fn bundle_rate_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let rating = match service::bundle_rating_page(&state, &session.actor, &id).await {
        Ok(rating) => rating,
        Err(error) => return page_error(lang, error),
    };
    let page = RatePage {
        t: lang.labels(),
        lang,
        path: format!("/bundle-cases/{}/rate", rating.id),
        viewer: Some(viewer(lang, &session)),
        csrf: session.csrf.clone(),
        back: format!("/bundle-cases/{}", rating.id),
        back_label: lang
            .pick("返回一件事办件", "Back to the application")
            .to_owned(),
        action: format!("/bundle-cases/{}/rate", rating.id),
        subject_label: lang.pick("一件事办件编号", "Application number").to_owned(),
        note: rate_note(
            lang,
            rating.own,
            rating.finished,
            rating.can_rate,
            !rating.ratings.is_empty(),
        ),
        number: rating.number,
        item_name: rating.bundle_name,
        ratings: rating.ratings,
        can_rate: rating.can_rate,
        levels: levels(lang),
        notice: notice_of(lang, query.notice.as_deref()),
    };
    render(&page)
}

fn level_en(level: RatingLevel) -> &'static str {
    match level {
        RatingLevel::VerySatisfied => "Very satisfied",
        RatingLevel::Satisfied => "Satisfied",
        RatingLevel::Basic => "Fair",
        RatingLevel::Dissatisfied => "Dissatisfied",
        RatingLevel::VeryDissatisfied => "Very dissatisfied",
    }
}

#[derive(Deserialize)]
struct RateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    anonymous: Option<String>,
}

impl fmt::Debug for RateForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateForm").finish_non_exhaustive()
    }
}

fn form_error() -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, "the form could not be read")
}

async fn rate_submit(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(number): Path<String>,
    form: Result<Form<RateForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, form_error());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let request = RatingRequest {
        level: form.level,
        channel: "pc".into(),
        text: Some(form.text),
        anonymous: form.anonymous.is_some(),
    };
    match service::rate_case(&state, &session.actor, &number, request).await {
        Ok(_) => Redirect::to(&format!("/cases/{number}/rate?notice=rated")).into_response(),
        Err(error) => page_error(lang, error),
    }
}

async fn bundle_rate_submit(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    form: Result<Form<RateForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, form_error());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let request = RatingRequest {
        level: form.level,
        channel: "pc".into(),
        text: Some(form.text),
        anonymous: form.anonymous.is_some(),
    };
    match service::rate_bundle(&state, &session.actor, &id, request).await {
        // The application's own number (YJS…), not the path as typed.
        Ok(rating) => Redirect::to(&format!(
            "/bundle-cases/{}/rate?notice=rated",
            rating.subject
        ))
        .into_response(),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Template)]
#[template(path = "rectifications.html")]
struct RectificationsPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    tasks: Vec<RectificationView>,
    states: Vec<Choice>,
    overdue: bool,
    office: bool,
    supervisor: bool,
    notice: Option<(String, String)>,
}

impl RectificationsPage {
    /// The state in words (the badge; `data-state` keeps the code).
    fn state_label(&self, code: &str) -> &'static str {
        match code {
            "open" => self.lang.pick("待整改", "Open"),
            "appealed" => self.lang.pick("申诉复核中", "Appealed"),
            "rectified" => self.lang.pick("待回访", "Waiting for the callback"),
            "closed" => self.lang.pick("已办结", "Closed"),
            "voided" => self.lang.pick("申诉成立", "Voided on appeal"),
            _ => self.lang.pick("未知", "Unknown"),
        }
    }

    /// A step of the history in words.
    fn event_label(&self, kind: &str) -> &'static str {
        match kind {
            "opened" => self.lang.pick("差评转整改", "Opened by a bad rating"),
            "rectified" => self.lang.pick("已整改", "Rectified"),
            "appealed" => self.lang.pick("申诉", "Appealed"),
            "appeal_upheld" => self.lang.pick("申诉成立", "Appeal upheld"),
            "appeal_rejected" => self.lang.pick("申诉不成立", "Appeal rejected"),
            "called_back" => self.lang.pick("回访", "Called back"),
            "closed" => self.lang.pick("办结", "Closed"),
            _ => self.lang.pick("其他", "Other"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct TasksQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    overdue: Option<String>,
    notice: Option<String>,
}

async fn rectifications_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<TasksQuery>,
) -> Response {
    let overdue = query.overdue.is_some();
    let request = RectificationQuery {
        state: Some(query.state.clone()).filter(|s| !s.is_empty()),
        department: None,
        overdue,
    };
    let tasks = match service::list_rectifications(&state, &session.actor, request).await {
        Ok(tasks) => tasks,
        Err(error) => return page_error(lang, error),
    };
    let states = [
        ("open", "待整改", "Open"),
        ("appealed", "申诉复核中", "Appealed"),
        ("rectified", "待回访", "Rectified"),
        ("closed", "已办结", "Closed"),
        ("voided", "申诉成立", "Voided"),
    ]
    .into_iter()
    .map(|(code, zh, en)| Choice {
        code: code.into(),
        label: lang.pick(zh, en).into(),
        selected: query.state == code,
    })
    .collect();
    let page = RectificationsPage {
        t: lang.labels(),
        lang,
        path: "/rectifications".into(),
        viewer: Some(viewer(lang, &session)),
        csrf: session.csrf.clone(),
        tasks,
        states,
        overdue,
        office: office_of(&session.actor),
        supervisor: supervises(&session.actor),
        notice: notice_of(lang, query.notice.as_deref()),
    };
    render(&page)
}

#[derive(Deserialize)]
struct TaskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: u64,
    #[serde(default)]
    action: String,
    measures: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    upheld: Option<String>,
    reached: Option<String>,
    satisfied: Option<String>,
}

impl fmt::Debug for TaskForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskForm").finish_non_exhaustive()
    }
}

async fn rectification_act(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    form: Result<Form<TaskForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(lang, form_error());
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    let request = RectificationActionRequest {
        upheld: (form.action == "review").then(|| form.upheld.as_deref() == Some("true")),
        reached: (form.action == "call_back").then_some(form.reached.is_some()),
        satisfied: (form.action == "call_back").then_some(form.satisfied.is_some()),
        action: form.action,
        version: form.version,
        measures: form.measures,
        reason: form.reason,
        note: form.note,
    };
    match service::act_on_rectification(&state, &session.actor, &id, request).await {
        Ok(_) => Redirect::to("/rectifications?notice=done").into_response(),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Template)]
#[template(path = "ratings_public.html")]
struct PublicPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    dimensions: Vec<Choice>,
    from: String,
    to: String,
    /// name, ratings, good rate, bad ratings, rectification rate
    rows: Vec<(String, i64, String, i64, String)>,
}

fn percent_text(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}%"))
}

async fn public_page(
    State(state): State<AppState>,
    lang: Lang,
    MaybePageSession(session): MaybePageSession,
    Query(query): Query<FiguresQuery>,
) -> Response {
    let dimension = query
        .dimension
        .clone()
        .filter(|d| ["department", "hall", "window", "item"].contains(&d.as_str()))
        .unwrap_or_else(|| "department".into());
    let query = FiguresQuery {
        dimension: Some(dimension.clone()),
        department: None,
        ..query
    };
    let figures = match stats::figures(&state, &query).await {
        Ok(figures) => figures,
        Err(error) => return page_error(lang, error),
    };
    let value = |row: &stats::FiguresRow, code: &str| {
        row.kpis
            .iter()
            .find(|k| k.code == code)
            .and_then(|k| k.value)
    };
    let rows = figures
        .rows
        .iter()
        .filter(|row| row.counters.ratings > 0)
        .map(|row| {
            let name = if row.name.is_empty() {
                row.key.clone()
            } else {
                row.name.clone()
            };
            (
                name,
                row.counters.ratings,
                percent_text(value(row, "good_rate")),
                row.counters.ratings_bad,
                percent_text(value(row, "rectification_rate")),
            )
        })
        .collect();
    let dimensions = [
        ("department", "按部门", "Department"),
        ("hall", "按大厅", "Hall"),
        ("window", "按窗口", "Window"),
        ("item", "按事项", "Item"),
    ]
    .into_iter()
    .map(|(code, zh, en)| Choice {
        code: code.into(),
        label: lang.pick(zh, en).into(),
        selected: dimension == code,
    })
    .collect();
    let page = PublicPage {
        t: lang.labels(),
        lang,
        path: "/ratings".into(),
        viewer: session.as_ref().map(|s| viewer(lang, s)),
        dimensions,
        from: figures.from,
        to: figures.to,
        rows,
    };
    render(&page)
}
