//! The feedback service (好差评, SPEC C6): rating a case, a "one thing" bundle application or a
//! visit, the rectification tasks bad ratings open, callbacks, appeals and reviews, and the
//! public rating figures.

use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::bundle_case::{BundleCase, BundleState};
use tongban_domain::cases::{Actor, ActorKind, Case, CaseState};
use tongban_domain::feedback::{
    Callback, FeedbackError, RatedKind, Rating, RatingChannel, RatingLevel, Rectification,
    RectificationAction, RectificationPolicy, RectificationState, clean_text, next_round,
};
use tongban_domain::keys::{DepartmentKey, HallKey};
use tongban_domain::org::Role;
use tongban_store::model::RectificationFilter;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// The rectification deadline: 15 working days is the national default (REFERENCE §3); a place
/// that uses 5 or 7 sets `[feedback] rectification_days` in its configuration.
pub fn policy(state: &AppState) -> RectificationPolicy {
    state.policies.rectification
}

/// A rating as submitted.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// `very_satisfied`, `satisfied`, `basic`, `dissatisfied` or `very_dissatisfied`.
    pub level: String,
    /// `pc`, `mobile`, `qr_code`, `hall_tablet`, `hall_terminal`, `phone`, `sms` or the
    /// national code 1–7.
    pub channel: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub anonymous: bool,
}

/// A rating of one visit at a window (一次一评), e.g. from the hall tablet.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitRatingRequest {
    /// The visit's reference (a queue ticket number); the rating is keyed by hall, day and
    /// reference, as ticket numbers start again every day.
    pub visit: String,
    pub hall: String,
    pub window: String,
    /// The department whose staff served at the window.
    pub department: String,
    #[serde(flatten)]
    pub rating: RatingRequest,
}

/// A rating as shown; the rater is hidden when anonymous and never shown to others.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    pub id: uuid::Uuid,
    pub kind: String,
    pub subject: String,
    /// 1 (first) or 2 (second).
    pub round: u8,
    pub level: String,
    pub level_zh: String,
    pub score: u8,
    pub channel: String,
    pub channel_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub anonymous: bool,
    pub department: String,
    #[schema(value_type = String)]
    pub rated_at: jiff::Timestamp,
    /// The rectification task a bad first rating opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rectification: Option<uuid::Uuid>,
}

fn rating_view(rating: &Rating, task: Option<uuid::Uuid>) -> RatingView {
    RatingView {
        id: rating.id,
        kind: rating.kind.code().into(),
        subject: rating.subject.clone(),
        round: rating.round.number(),
        level: rating.level.code().into(),
        level_zh: rating.level.label_zh().into(),
        score: rating.level.score(),
        channel: rating.channel.code().into(),
        channel_code: rating.channel.national_code(),
        text: rating.text.clone(),
        anonymous: rating.anonymous,
        department: rating.department.to_string(),
        rated_at: rating.at,
        rectification: task,
    }
}

impl From<FeedbackError> for ApiError {
    fn from(error: FeedbackError) -> ApiError {
        let code = match &error {
            FeedbackError::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            FeedbackError::AlreadyRated => ErrorCode::AlreadyRated,
            FeedbackError::RectificationPending => ErrorCode::RectificationPending,
            FeedbackError::NotRateable(_) => ErrorCode::NotRateable,
            FeedbackError::Invalid(_) => ErrorCode::InvalidRating,
            FeedbackError::Calendar(_) => ErrorCode::CalendarYearNotLoaded,
        };
        ApiError::new(code, error.to_string())
    }
}

fn parse_input(
    request: &RatingRequest,
) -> Result<(RatingLevel, RatingChannel, Option<String>), ApiError> {
    Ok((
        RatingLevel::parse(&request.level)?,
        RatingChannel::parse(&request.channel)?,
        clean_text(request.text.as_deref())?,
    ))
}

/// Whether the case has been handled far enough to be rated (一事一评 after the decision).
pub(crate) fn rateable(case: &Case) -> bool {
    matches!(
        case.state,
        CaseState::Decided { .. } | CaseState::Issued | CaseState::Delivered | CaseState::Rejected
    )
}

fn region_of(state: &AppState, department: &DepartmentKey, hall: Option<&str>) -> String {
    let lookup = state.lookup.get();
    if let Some(hall) = hall.and_then(|h| HallKey::parse(h).ok())
        && let Some(hall) = lookup.hall(&hall)
    {
        return hall.region.to_string();
    }
    lookup
        .department(department)
        .map_or(String::new(), |d| d.region.to_string())
}

async fn store_rating(state: &AppState, rating: Rating) -> Result<RatingView, ApiError> {
    let today = shanghai_date(rating.at);
    let task = Rectification::open_for(&rating, new_id(), policy(state), &state.calendar, today)?;
    state
        .store
        .feedback
        .save_rating(&rating, task.as_ref())
        .await?;
    if let Some(task) = &task {
        tracing::info!(rectification.id = %task.id, department = %task.department, "rectification opened");
    }
    Ok(rating_view(&rating, task.map(|t| t.id)))
}

fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// The applicant rates their case (一事一评); a second rating after a settled rectification.
pub async fn rate_case(
    state: &AppState,
    actor: &Actor,
    number: &str,
    request: RatingRequest,
) -> Result<RatingView, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::CaseNotFound,
            format!("there is no case {number}"),
        )
    };
    // 帮办代办: the rating belongs to the applicant; an agent never rates for them, mandate or
    // not (checked before the case is looked up, so that nothing is learnt about it).
    if super::agents::is_agent(actor) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "an agent does not rate on an applicant's behalf; the applicant is invited to rate",
        ));
    }
    let case = state
        .store
        .cases
        .case_by_number(number)
        .await?
        .ok_or_else(not_found)?;
    if !actor.is_applicant(&case.applicant) {
        // Others may not rate, and may not learn that the case exists.
        return Err(not_found());
    }
    if !rateable(&case) {
        return Err(FeedbackError::NotRateable(format!(
            "the case is {}; it can be rated once it is decided",
            case.state.name()
        ))
        .into());
    }
    let (level, channel, text) = parse_input(&request)?;
    let prior = state
        .store
        .feedback
        .prior_ratings(RatedKind::Case, &case.number)
        .await?;
    let round = next_round(prior)?;
    let hall = case.hall.as_ref().map(|h| h.as_str().to_owned());
    let rating = Rating {
        id: new_id(),
        kind: RatedKind::Case,
        subject: case.number.clone(),
        round,
        level,
        channel,
        text,
        anonymous: request.anonymous,
        rater: actor.account.to_string(),
        department: case.department.clone(),
        region: region_of(state, &case.department, hall.as_deref()),
        hall,
        window: None,
        item_code: Some(case.item_code.as_str().to_owned()),
        at: state.clock.now(),
    };
    store_rating(state, rating).await
}

/// A visit rated at the window (一次一评) by the signed-in visitor.
pub async fn rate_visit(
    state: &AppState,
    actor: &Actor,
    request: VisitRatingRequest,
) -> Result<RatingView, ApiError> {
    let invalid = |what: &str| ApiError::new(ErrorCode::InvalidRating, what.to_owned());
    let department = DepartmentKey::parse(&request.department)
        .ok()
        .filter(|d| state.lookup.get().department(d).is_some())
        .ok_or_else(|| invalid("unknown department"))?;
    let hall = HallKey::parse(&request.hall)
        .ok()
        .filter(|h| state.lookup.get().hall(h).is_some())
        .ok_or_else(|| invalid("unknown hall"))?;
    let visit = request.visit.trim();
    if visit.is_empty() || visit.len() > 64 {
        return Err(invalid("the visit reference is 1 to 64 characters"));
    }
    let window = request.window.trim();
    // A window of the organisation in this hall: a prefix check let unknown windows (and the
    // hall's own key) through, and their ratings landed on a window nobody sits at.
    let in_hall = state
        .lookup
        .get()
        .organisation
        .windows
        .iter()
        .any(|w| w.key.as_str() == window && w.hall == hall);
    if !in_hall {
        return Err(invalid("the window is not a window of the hall"));
    }
    let (level, channel, text) = parse_input(&request.rating)?;
    // Queue ticket numbers start again every day in every hall (A001, A002, …), so the event is
    // the hall, the day and the reference: keyed by hall and reference alone, tomorrow's A012
    // could not be rated once today's was.
    let now = state.clock.now();
    let subject = format!("{}/{}/{visit}", hall.as_str(), shanghai_date(now));
    let prior = state
        .store
        .feedback
        .prior_ratings(RatedKind::Visit, &subject)
        .await?;
    let round = next_round(prior)?;
    let rating = Rating {
        id: new_id(),
        kind: RatedKind::Visit,
        subject,
        round,
        level,
        channel,
        text,
        anonymous: request.rating.anonymous,
        rater: actor.account.to_string(),
        region: region_of(state, &department, Some(hall.as_str())),
        department,
        hall: Some(hall.as_str().to_owned()),
        window: Some(window.to_owned()),
        item_code: None,
        at: now,
    };
    store_rating(state, rating).await
}

/// The ratings of a case: its applicant, or staff who may see it.
pub async fn ratings_of_case(
    state: &AppState,
    actor: &Actor,
    number: &str,
) -> Result<Vec<RatingView>, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::CaseNotFound,
            format!("there is no case {number}"),
        )
    };
    let case = state
        .store
        .cases
        .case_by_number(number)
        .await?
        .ok_or_else(not_found)?;
    if !crate::services::cases::can_see(actor, &case) {
        return Err(not_found());
    }
    let ratings = state
        .store
        .feedback
        .ratings_of(RatedKind::Case, &case.number)
        .await?;
    Ok(ratings.iter().map(|r| rating_view(r, None)).collect())
}

/// Whether the subject takes another rating now: no first rating yet, or a bad first rating
/// whose rectification is settled (the pages show the form only then).
pub async fn round_open(
    state: &AppState,
    kind: RatedKind,
    subject: &str,
) -> Result<bool, ApiError> {
    let prior = state.store.feedback.prior_ratings(kind, subject).await?;
    Ok(next_round(prior).is_ok())
}

/// Whether a bundle application has been handled far enough to be rated: every member is
/// finished (completed with every result, or closed with some refused or cancelled).
pub(crate) fn bundle_rateable(parent: &BundleCase) -> bool {
    parent.state != BundleState::InProgress
}

/// The department responsible for a bundle application's service: the bundle's lead department
/// (牵头部门), which coordinates the members; the first member's when the bundle is no longer
/// published.
async fn lead_department(state: &AppState, parent: &BundleCase) -> Result<DepartmentKey, ApiError> {
    if let Some(record) = state.store.catalog.bundle(&parent.bundle_code).await? {
        return Ok(record.definition.lead_department);
    }
    parent
        .children
        .first()
        .map(|child| child.department.clone())
        .ok_or_else(|| ApiError::internal(&"a bundle application without members"))
}

/// What the applicant's rating page of a bundle application shows.
#[derive(Debug, Clone)]
pub struct BundleRatingPage {
    pub number: String,
    pub id: String,
    pub bundle_name: String,
    pub ratings: Vec<RatingView>,
    /// The signed-in person is the applicant.
    pub own: bool,
    /// Every member is finished.
    pub finished: bool,
    /// A rating may be given now.
    pub can_rate: bool,
}

/// The applicant rates their "one thing" bundle application (一件事一评) once every member is
/// finished: one rating per application and round, like a case. The responsible office is the
/// bundle's lead department; a bad rating opens its rectification task.
pub async fn rate_bundle(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: RatingRequest,
) -> Result<RatingView, ApiError> {
    if super::agents::is_agent(actor) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "an agent does not rate on an applicant's behalf; the applicant is invited to rate",
        ));
    }
    let parent = super::bundles::visible(state, actor, id).await?;
    if !actor.is_applicant(&parent.applicant) {
        // Staff who may see the application still may not rate it, nor learn more.
        return Err(ApiError::new(
            ErrorCode::BundleApplicationNotFound,
            format!("there is no bundle application {id}"),
        ));
    }
    if !bundle_rateable(&parent) {
        return Err(FeedbackError::NotRateable(
            "the bundle application is in progress; it can be rated once every member is finished"
                .to_owned(),
        )
        .into());
    }
    let (level, channel, text) = parse_input(&request)?;
    let prior = state
        .store
        .feedback
        .prior_ratings(RatedKind::Bundle, &parent.number)
        .await?;
    let round = next_round(prior)?;
    let department = lead_department(state, &parent).await?;
    let hall = parent
        .submitted_by
        .clerk_hall()
        .map(|h| h.as_str().to_owned());
    let rating = Rating {
        id: new_id(),
        kind: RatedKind::Bundle,
        subject: parent.number.clone(),
        round,
        level,
        channel,
        text,
        anonymous: request.anonymous,
        rater: actor.account.to_string(),
        region: region_of(state, &department, hall.as_deref()),
        department,
        hall,
        window: None,
        item_code: None,
        at: state.clock.now(),
    };
    store_rating(state, rating).await
}

/// The ratings of a bundle application: its applicant, or staff who may see it.
pub async fn ratings_of_bundle(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<RatingView>, ApiError> {
    let parent = super::bundles::visible(state, actor, id).await?;
    let ratings = state
        .store
        .feedback
        .ratings_of(RatedKind::Bundle, &parent.number)
        .await?;
    Ok(ratings.iter().map(|r| rating_view(r, None)).collect())
}

/// Everything the rating page of a bundle application needs, in one call.
pub async fn bundle_rating_page(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<BundleRatingPage, ApiError> {
    let parent = super::bundles::visible(state, actor, id).await?;
    let ratings = state
        .store
        .feedback
        .ratings_of(RatedKind::Bundle, &parent.number)
        .await?;
    let own = actor.is_applicant(&parent.applicant);
    let finished = bundle_rateable(&parent);
    let can_rate = own && finished && round_open(state, RatedKind::Bundle, &parent.number).await?;
    Ok(BundleRatingPage {
        number: parent.number.clone(),
        id: parent.id.to_string(),
        bundle_name: parent.bundle_name.clone(),
        ratings: ratings.iter().map(|r| rating_view(r, None)).collect(),
        own,
        finished,
        can_rate,
    })
}

/// A rectification task as shown to staff.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RectificationView {
    pub id: uuid::Uuid,
    pub rating_id: uuid::Uuid,
    pub subject: String,
    pub department: String,
    pub department_name: String,
    pub state: String,
    #[schema(value_type = String)]
    pub due_on: jiff::civil::Date,
    pub overdue: bool,
    pub anonymous: bool,
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measures: Option<String>,
    #[schema(value_type = Object)]
    pub callback: Option<Callback>,
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<tongban_domain::feedback::RectificationEvent>,
}

fn task_view(state: &AppState, task: &Rectification) -> RectificationView {
    let today = shanghai_date(state.clock.now());
    let lookup = state.lookup.get();
    RectificationView {
        id: task.id,
        rating_id: task.rating_id,
        subject: task.subject.clone(),
        department: task.department.to_string(),
        department_name: lookup.department_name(&task.department).to_owned(),
        state: task.state.code().into(),
        due_on: task.due_on,
        overdue: task.is_overdue(today),
        anonymous: task.anonymous,
        version: task.version,
        measures: task.measures.clone(),
        callback: task.callback.clone(),
        events: task.events.clone(),
    }
}

/// Filters of the task list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RectificationQuery {
    /// `open`, `appealed`, `rectified`, `closed` or `voided`.
    pub state: Option<String>,
    /// A department (supervisors; staff see their own departments).
    pub department: Option<String>,
    /// Only overdue tasks.
    #[serde(default)]
    pub overdue: bool,
}

fn supervises(actor: &Actor) -> bool {
    actor.has_role(Role::Supervisor, None) || actor.has_role(Role::Administrator, None)
}

/// The departments whose tasks the actor handles (its department roles).
fn departments_of(actor: &Actor) -> Vec<DepartmentKey> {
    let mut departments: Vec<DepartmentKey> = actor
        .roles
        .iter()
        .filter(|r| {
            matches!(
                r.role,
                Role::Clerk | Role::Approver | Role::ChiefRepresentative | Role::Handler
            )
        })
        .filter_map(|r| r.department.clone())
        .collect();
    departments.sort();
    departments.dedup();
    departments
}

fn may_handle(actor: &Actor, department: &DepartmentKey) -> bool {
    departments_of(actor).contains(department)
}

/// Tasks for the responsible office (its own) or for supervisors (all).
pub async fn list_rectifications(
    state: &AppState,
    actor: &Actor,
    query: RectificationQuery,
) -> Result<Vec<RectificationView>, ApiError> {
    if actor.kind != ActorKind::Staff {
        return Err(ApiError::new(ErrorCode::Forbidden, "staff only"));
    }
    let requested = query
        .department
        .as_deref()
        .map(|d| {
            DepartmentKey::parse(d)
                .map_err(|_| ApiError::invalid_parameter("department", d, "a department key"))
        })
        .transpose()?;
    let departments: Vec<Option<DepartmentKey>> = if supervises(actor) {
        vec![requested]
    } else {
        let own = departments_of(actor);
        match requested {
            Some(department) if own.contains(&department) => vec![Some(department)],
            Some(_) => return Err(ApiError::new(ErrorCode::Forbidden, "not your department")),
            None if own.is_empty() => {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "your account has no department",
                ));
            }
            None => own.into_iter().map(Some).collect(),
        }
    };
    let states = match query.state.as_deref() {
        Some(text) => vec![RectificationState::parse(text).map_err(|_| {
            ApiError::invalid_parameter(
                "state",
                text,
                "open, appealed, rectified, closed or voided",
            )
        })?],
        None => Vec::new(),
    };
    let today = shanghai_date(state.clock.now());
    let mut views = Vec::new();
    for department in departments {
        let tasks = state
            .store
            .feedback
            .list_rectifications(&RectificationFilter {
                department,
                states: states.clone(),
                overdue_on: query.overdue.then_some(today),
                limit: 200,
            })
            .await?;
        views.extend(tasks.iter().map(|t| task_view(state, t)));
    }
    views.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.id.cmp(&b.id)));
    Ok(views)
}

async fn load_task(state: &AppState, actor: &Actor, id: &str) -> Result<Rectification, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::RectificationNotFound,
            format!("there is no rectification task {id}"),
        )
    };
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| not_found())?;
    let task = state
        .store
        .feedback
        .rectification(uuid)
        .await?
        .ok_or_else(not_found)?;
    if !supervises(actor) && !may_handle(actor, &task.department) {
        return Err(not_found());
    }
    Ok(task)
}

pub async fn get_rectification(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<RectificationView, ApiError> {
    let task = load_task(state, actor, id).await?;
    Ok(task_view(state, &task))
}

/// An action on a task: the office rectifies or appeals; a supervisor reviews an appeal and
/// calls the rater back.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationActionRequest {
    /// `rectify`, `appeal`, `review` or `call_back`.
    pub action: String,
    /// The version read (optimistic concurrency).
    pub version: u64,
    /// rectify: what was changed.
    #[serde(default)]
    pub measures: Option<String>,
    /// appeal: why the rating is unfounded.
    #[serde(default)]
    pub reason: Option<String>,
    /// review: whether the appeal is upheld.
    #[serde(default)]
    pub upheld: Option<bool>,
    /// review and call_back: a note.
    #[serde(default)]
    pub note: Option<String>,
    /// call_back: whether the rater was reached and accepts the rectification.
    #[serde(default)]
    pub reached: Option<bool>,
    #[serde(default)]
    pub satisfied: Option<bool>,
}

pub async fn act_on_rectification(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: RectificationActionRequest,
) -> Result<RectificationView, ApiError> {
    let mut task = load_task(state, actor, id).await?;
    if task.version != request.version {
        return Err(ApiError::new(
            ErrorCode::StaleVersion,
            format!(
                "the task was changed (version {}, you sent {}); reload it",
                task.version, request.version
            ),
        ));
    }
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let office_only = || {
        if may_handle(actor, &task.department) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "only the responsible office may do this",
            ))
        }
    };
    let supervisor_only = || {
        if supervises(actor) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "only a supervisor may do this",
            ))
        }
    };
    let action = match request.action.as_str() {
        "rectify" => {
            office_only()?;
            RectificationAction::Rectify {
                measures: text(&request.measures),
            }
        }
        "appeal" => {
            office_only()?;
            RectificationAction::Appeal {
                reason: text(&request.reason),
            }
        }
        "review" => {
            supervisor_only()?;
            RectificationAction::Review {
                upheld: request.upheld.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidAction, "review needs upheld")
                })?,
                note: text(&request.note),
            }
        }
        "call_back" => {
            supervisor_only()?;
            RectificationAction::CallBack(Callback {
                reached: request.reached.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidAction, "call_back needs reached")
                })?,
                satisfied: request.satisfied.unwrap_or(false),
                note: text(&request.note),
            })
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidAction,
                format!("unknown action {other:?} (rectify, appeal, review, call_back)"),
            ));
        }
    };
    let expected = task.version;
    task.apply(action, actor.account.as_str(), state.clock.now())?;
    state
        .store
        .feedback
        .save_rectification(&task, expected)
        .await?;
    Ok(task_view(state, &task))
}
