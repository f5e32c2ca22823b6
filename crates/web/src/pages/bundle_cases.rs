//! Bundle pages (C3): the apply wizard `/bundles/{code}/apply` (questions → the one merged form
//! → the one material list with 免提交 marks → delivery → submit) and the parent case page
//! `/bundle-cases/{id}` with every member's progress. Handlers read forms, call
//! [`crate::services::bundle_plan`] and [`crate::services::bundles`], and render.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::cases::{
    FORM_BODY_LIMIT, Viewer, here, local_time, problems_of, read_checked_form, store_files,
};
use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::auth::{PageSession, encode_query_value};
use crate::error::ApiError;
use crate::services::bundle_plan::{BundlePlan, plan};
use crate::services::bundles::{self as service, BundleApplicationRequest, BundleCaseView};
use crate::services::cases::{DeliveryInput, MaterialInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/bundles/{code}/apply",
            get(apply_form)
                .post(apply_submit)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route("/bundle-cases/{id}", get(case_page))
}

/// What the applicant typed, kept when a submission is refused.
#[derive(Debug, Default)]
struct Typed {
    fields: BTreeMap<String, String>,
    delivery: String,
    hall: String,
    recipient: String,
    phone: String,
    address: String,
}

struct HallOption {
    key: String,
    name: String,
}

#[derive(Template)]
#[template(path = "bundle_apply.html")]
struct ApplyPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    plan: BundlePlan,
    /// The query that reproduces these answers (for the consent link).
    answers_query: String,
    /// Answers to questions not shown (e.g. of members no longer selected), kept on update.
    hidden_answers: Vec<(String, String)>,
    typed: Typed,
    halls: Vec<HallOption>,
    problems: Vec<String>,
}

impl ApplyPage {
    fn typed_value(&self, element: &str) -> String {
        self.typed.fields.get(element).cloned().unwrap_or_default()
    }
}

const PARAMETERS: [&str; 2] = ["prefill", "optional"];

fn answers_of(raw: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    raw.iter()
        .filter(|(name, value)| !value.is_empty() && !PARAMETERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page is rebuilt from all it showed when a submission is refused"
)]
async fn apply_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    code: &str,
    answers: &BTreeMap<String, String>,
    prefill: bool,
    typed: Typed,
    problems: Vec<String>,
) -> Result<ApplyPage, ApiError> {
    let plan = plan(state, &session.actor, code, answers, &[], prefill).await?;
    let mut typed = typed;
    for field in &plan.form {
        if let Some(prefilled) = &field.prefill {
            typed
                .fields
                .entry(field.element.clone())
                .or_insert_with(|| prefilled.value.clone());
        }
    }
    if typed.recipient.is_empty() {
        typed.recipient = session.actor.name.clone();
    }
    if typed.delivery.is_empty() {
        typed.delivery = "post".to_owned();
    }
    let lookup = state.lookup.get();
    let halls = lookup
        .organisation
        .halls
        .iter()
        .map(|hall| HallOption {
            key: hall.key.to_string(),
            name: hall.name.clone(),
        })
        .collect();
    let answers_query = answers
        .iter()
        .map(|(q, o)| format!("{q}={}", encode_query_value(o)))
        .collect::<Vec<_>>()
        .join("&");
    let hidden_answers = plan
        .answers
        .iter()
        .filter(|(q, _)| !plan.questions.iter().any(|x| &x.code == *q))
        .map(|(q, o)| (q.clone(), o.clone()))
        .collect();
    Ok(ApplyPage {
        hidden_answers,
        t: lang.labels(),
        lang,
        path: here(&format!("/bundles/{code}/apply?{answers_query}")),
        viewer: Some(Viewer::of(session)),
        csrf: session.csrf.clone(),
        plan,
        answers_query,
        typed,
        halls,
        problems,
    })
}

async fn apply_form(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(code): Path<String>,
    Query(raw): Query<BTreeMap<String, String>>,
) -> Response {
    let answers = answers_of(&raw);
    let prefill = raw.get("prefill").is_some_and(|v| v == "true");
    match apply_page(
        &state,
        lang,
        &session,
        &code,
        &answers,
        prefill,
        Typed::default(),
        Vec::new(),
    )
    .await
    {
        Ok(page) => render(&page),
        Err(error) => page_error(lang, error),
    }
}

async fn apply_submit(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(code): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let posted = match read_checked_form(multipart, &session).await {
        Ok(posted) => posted,
        Err(error) => return page_error(lang, error),
    };
    let answers = posted.with_prefix("answer.");
    let fields = posted.with_prefix("field.");
    let names = posted.with_prefix("name.");
    let (stored, mut problems) = store_files(&state, &posted, "file.", &names).await;
    let materials: Vec<MaterialInput> = stored
        .into_iter()
        .map(|(code, upload)| MaterialInput {
            document: None,
            code,
            provided_as: "upload".to_owned(),
            upload: Some(upload.key),
            file_name: Some(upload.file_name),
            licence: None,
            commitment: None,
        })
        .collect();
    let typed = Typed {
        fields: fields.clone(),
        delivery: posted.get("delivery").to_owned(),
        hall: posted.get("hall").to_owned(),
        recipient: posted.get("recipient").to_owned(),
        phone: posted.get("phone").to_owned(),
        address: posted.get("address").to_owned(),
    };
    let delivery = DeliveryInput {
        method: typed.delivery.clone(),
        hall: Some(typed.hall.clone()).filter(|h| !h.is_empty()),
        recipient: Some(typed.recipient.clone()),
        phone: Some(typed.phone.clone()),
        address: Some(typed.address.clone()),
    };
    let prefill = posted.get("prefill_consent") == "true";
    if problems.is_empty() {
        let request = BundleApplicationRequest {
            bundle: code.clone(),
            answers: answers.clone(),
            form: fields,
            materials,
            optional: Vec::new(),
            delivery,
            channel: None,
            applicant: None,
            prefill_consent: prefill,
        };
        match service::submit(&state, &session.actor, request).await {
            Ok(parent) => {
                return Redirect::to(&format!("/bundle-cases/{}", parent.id)).into_response();
            }
            Err(error) => problems = problems_of(&error),
        }
    }
    match apply_page(
        &state, lang, &session, &code, &answers, prefill, typed, problems,
    )
    .await
    {
        Ok(page) => (axum::http::StatusCode::BAD_REQUEST, render(&page)).into_response(),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Template)]
#[template(path = "bundle_case.html")]
struct CasePage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    case: BundleCaseView,
    submitted_at: String,
    /// The applicant sees the link to rate the application (一件事好差评) once it is finished.
    rate_link: bool,
}

impl CasePage {
    fn status_text(&self, status: &str) -> &'static str {
        match status {
            "waiting" => self
                .lang
                .pick("等待前序事项结果", "Waiting for an earlier result"),
            "cancelled" => self.lang.pick("已终止", "Cancelled"),
            _ => self.lang.pick("办理中", "Running"),
        }
    }

    fn event_time(&self, at: &str) -> String {
        local_time(at)
    }
}

async fn case_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
) -> Response {
    match service::get_with_ownership(&state, &session.actor, &id).await {
        Ok((case, own)) => render(&CasePage {
            t: lang.labels(),
            lang,
            path: here(&format!("/bundle-cases/{id}")),
            viewer: Some(Viewer::of(&session)),
            submitted_at: local_time(&case.submitted_at),
            rate_link: own && case.state.code != "in_progress",
            case,
        }),
        Err(error) => page_error(lang, error),
    }
}
