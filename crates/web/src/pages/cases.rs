//! Case pages (C2): apply online (`/apply/{code}`), the citizen's cases (`/my/cases`), the case
//! page with the action forms of whoever may act now (`/cases/{id}`), the clerk's workbench, the
//! approver's inbox, licence verification (`/verify/{identifier}`), the printable result with its
//! QR code, and the person's own data-access log.
//!
//! Handlers only read forms, call [`crate::services::cases`] and map the answer to a page: the
//! service checks, stores and logs. Which action forms a page offers is asked of the domain
//! itself: each candidate command is tried on a copy of the case with [`apply`] (pure, nothing is
//! stored), and only those the actor may take now are shown. Every POST form carries the
//! session's CSRF token, checked with [`verify_csrf`]; forms are `multipart/form-data` because
//! applications and corrections carry files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;
use serde_json::Value;
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::delivery::{Carrier, DeliveryError, Postage, ShipmentStatus};
use tongban_domain::cases::lifecycle::ToleratedMaterial;
use tongban_domain::cases::{
    Actor, ActorKind, Case, CaseError, CaseMaterial, CaseState, Command, Context, CorrectionItem,
    Delivery, Provision, apply,
};
use tongban_domain::catalog::ElementKind;
use tongban_domain::ids::{IdNumber, ImplementationCode};
use tongban_domain::keys::{HallKey, MaterialCode};
use tongban_domain::licences::{Licence, LicenceStatus};
use tongban_domain::org::Role;
use tongban_store::model::CaseSummary;

use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::api::catalog::{ItemsQuery, parse_item_code};
use crate::auth::{MaybePageSession, PageSession, encode_query_value, require_role, verify_csrf};
use crate::error::{ApiError, ErrorCode};
use crate::services::cases::{
    self as service, ActionRequest, ApplicantInput, ApplicationRequest, CaseView, CasesQuery,
    DeliveryInput, MaterialInput, Verification,
};
use crate::services::catalog::{ItemView, Need, item_view};

/// An application may carry several files of up to 10 MiB each.
pub(crate) const FORM_BODY_LIMIT: usize = 6 * service::MAX_UPLOAD_BYTES;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/apply", get(apply_redirect))
        .route(
            "/apply/{code}",
            get(apply_form)
                .post(apply_submit)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route("/my/cases", get(my_cases))
        .route("/my/data-access", get(data_access))
        .route("/cases/{id}", get(case_page))
        .route(
            "/cases/{id}/actions",
            post(case_action).layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .route("/workbench", get(workbench))
        .route("/workbench/collect", post(workbench_collect))
        .route("/inbox", get(inbox))
        .route("/verify/{identifier}", get(verify_page))
        .route("/licences/{identifier}/print", get(licence_print))
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// Who is signed in, for the header of these pages: name, role links and the sign-out form.
pub(crate) struct Viewer {
    pub(crate) name: String,
    pub(crate) csrf: String,
    pub(crate) applicant: bool,
    pub(crate) clerk: bool,
    pub(crate) reviewer: bool,
    /// An agent (帮办代办): the agent's workbench link.
    pub(crate) agent: bool,
}

impl Viewer {
    pub(crate) fn of(session: &PageSession) -> Viewer {
        let actor = &session.actor;
        Viewer {
            name: actor.name.clone(),
            csrf: session.csrf.clone(),
            applicant: matches!(actor.kind, ActorKind::Person | ActorKind::Enterprise),
            clerk: actor.has_role(Role::Clerk, None),
            reviewer: actor.has_role(Role::Approver, None)
                || actor.has_role(Role::ChiefRepresentative, None),
            agent: crate::services::agents::is_agent(actor),
        }
    }

    fn maybe(session: Option<&PageSession>) -> Option<Viewer> {
        session.map(Viewer::of)
    }
}

/// The page's own address for the language switch and the sign-in link (`?next=`), encoded.
pub(crate) fn here(path_and_query: &str) -> String {
    encode_query_value(path_and_query)
}

/// A timestamp as China Standard Time, to the minute (`2026-03-02 10:15`).
pub(crate) fn local_time(text: &str) -> String {
    match text.parse::<Timestamp>() {
        Ok(at) => Offset::constant(8)
            .to_datetime(at)
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => text.to_owned(),
    }
}

/// The citizen-facing words of a state name (`in_progress` → 办理中), from the domain's table.
fn state_text(lang: Lang, name: &str) -> String {
    let state = match name {
        "submitted" => CaseState::Submitted,
        "pre_reviewed" => CaseState::PreReviewed,
        "correction" => CaseState::Correction,
        "rejected" => CaseState::Rejected,
        "in_progress" => CaseState::InProgress { step: 0 },
        "suspended" => CaseState::Suspended { step: 0 },
        "granted" => CaseState::Decided { granted: true },
        "refused" => CaseState::Decided { granted: false },
        "issued" => CaseState::Issued,
        "delivered" => CaseState::Delivered,
        "withdrawn" => CaseState::Withdrawn,
        other => return other.to_owned(),
    };
    let (zh, en) = state.public_text();
    lang.pick(zh, en).to_owned()
}

/// Labels of the actions, for buttons, the timeline and the "done" notice.
fn action_label(lang: Lang, action: &str) -> String {
    let (zh, en) = match action {
        "pre_approve" => ("预审通过", "Pre-review passed"),
        "accept" => ("受理", "Accept"),
        "reject" => ("不予受理", "Reject"),
        "request_correction" => ("一次性告知补正", "Request a correction"),
        "resubmit" => ("提交补正材料", "Submit the corrections"),
        "supply_material" => ("补交容缺材料", "Hand in a missing material"),
        "approve" => ("审核通过", "Approve"),
        "return" => ("退回", "Return"),
        "countersign" => ("会签", "Countersign"),
        "suspend" => ("进入特别程序", "Start a special procedure"),
        "resume" => ("恢复办理", "Resume"),
        "extend" => ("延长办理期限", "Extend the time limit"),
        "transfer" => ("转交", "Transfer"),
        "decide" => ("作出决定", "Decide"),
        "issue" => ("出证", "Issue the result"),
        "deliver" => ("送达/领取", "Hand out the result"),
        "ship" => ("交寄办理结果", "Post the result"),
        "track" => ("登记物流状态", "Record a carrier's report"),
        "collect" => ("凭取件码领取", "Hand out against the pickup code"),
        "collect_instead" => ("改为窗口领取", "Collect at a hall instead"),
        "shipped" => ("已交寄", "Posted"),
        "shipment_returned" => ("邮件退回", "Returned by the carrier"),
        "switched_to_collection" => ("改为窗口领取", "Switched to collection"),
        "withdraw" => ("撤回申请", "Withdraw"),
        "submitted" => ("提交申请", "Submitted"),
        "pre_approved" => ("预审通过", "Pre-review passed"),
        "accepted" => ("受理", "Accepted"),
        "rejected" => ("不予受理", "Rejected"),
        "correction_requested" => ("补正告知", "Correction requested"),
        "resubmitted" => ("补正材料已提交", "Corrections submitted"),
        "material_supplied" => ("容缺材料补交", "Missing material handed in"),
        "step_passed" => ("环节通过", "Step passed"),
        "returned" => ("退回", "Returned"),
        "countersigned" => ("会签", "Countersigned"),
        "suspended" => ("特别程序", "Special procedure"),
        "resumed" => ("恢复办理", "Resumed"),
        "extended" => ("延长期限", "Extended"),
        "transferred" => ("转交", "Transferred"),
        "decided" => ("决定", "Decided"),
        "issued" => ("出证", "Issued"),
        "delivered" => ("送达", "Delivered"),
        "withdrawn" => ("撤回", "Withdrawn"),
        other => return other.to_owned(),
    };
    lang.pick(zh, en).to_owned()
}

/// The problems an error lists (an application's `details.problems`), else its message.
pub(crate) fn problems_of(error: &ApiError) -> Vec<String> {
    // A refused mandate check carries its reason in plain words (帮办代办).
    if error.code == ErrorCode::NoValidMandate
        && let Some(text) = error.details.get("text").and_then(Value::as_str)
    {
        return vec![format!("{text}({})", error.code.as_str())];
    }
    let listed: Vec<String> = error
        .details
        .get("problems")
        .and_then(Value::as_array)
        .map(|problems| {
            problems
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        vec![error.message.clone()]
    } else {
        listed
    }
}

/// A masked ID number (`990102********0031`) when it is one, else the text as it is.
fn masked_identifier(identifier: &str) -> String {
    match IdNumber::parse(identifier) {
        Ok(id) => id.masked(),
        Err(_) => identifier.to_owned(),
    }
}

/// A file of a multipart form.
struct PostedFile {
    field: String,
    file_name: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// A multipart form read whole: text fields and the files that were chosen.
#[derive(Default)]
pub(crate) struct Posted {
    fields: BTreeMap<String, String>,
    files: Vec<PostedFile>,
}

impl fmt::Debug for Posted {
    // Forms hold personal data: never print their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Posted")
            .field("fields", &self.fields.len())
            .field("files", &self.files.len())
            .finish()
    }
}

impl Posted {
    pub(crate) fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }

    fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// Non-empty fields named `prefix` + key, by key.
    pub(crate) fn with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .filter_map(|(name, value)| {
                let key = name.strip_prefix(prefix)?;
                let value = value.trim();
                (!value.is_empty()).then(|| (key.to_owned(), value.to_owned()))
            })
            .collect()
    }
}

/// A posted page form whose CSRF token belongs to the session.
pub(crate) async fn read_checked_form(
    multipart: Result<Multipart, MultipartRejection>,
    session: &PageSession,
) -> Result<Posted, ApiError> {
    let posted = read_form(multipart).await?;
    verify_csrf(posted.get("csrf"), session)?;
    Ok(posted)
}

pub(crate) async fn read_form(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Posted, ApiError> {
    let mut multipart = multipart
        .map_err(|rejection| ApiError::new(ErrorCode::InvalidBody, rejection.body_text()))?;
    let mut posted = Posted::default();
    let failed = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "the files are too large together (at most {} MiB)",
                    FORM_BODY_LIMIT / 1024 / 1024
                ),
            )
        } else {
            ApiError::new(ErrorCode::InvalidBody, error.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(failed)?;
                // A file input left empty still sends a part, without a name or content.
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                posted.files.push(PostedFile {
                    field: name,
                    file_name,
                    content_type,
                    bytes: bytes.to_vec(),
                });
            }
            None => {
                let value = field.text().await.map_err(failed)?;
                posted.fields.insert(name, value);
            }
        }
    }
    Ok(posted)
}

/// Stores the files of fields named `prefix` + material code; returns the stored uploads by
/// material code, and a problem per file that was refused.
pub(crate) async fn store_files(
    state: &AppState,
    posted: &Posted,
    prefix: &str,
    names: &BTreeMap<String, String>,
) -> (BTreeMap<String, StoredUpload>, Vec<String>) {
    let mut stored = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &posted.files {
        let Some(code) = file.field.strip_prefix(prefix) else {
            continue;
        };
        let name = names.get(code).map_or(code, String::as_str);
        match service::upload(state, file.content_type.as_deref(), file.bytes.clone()).await {
            Ok(receipt) => {
                stored.insert(
                    code.to_owned(),
                    StoredUpload {
                        key: receipt.upload,
                        file_name: file.file_name.clone(),
                        sha256: receipt.sha256,
                        size: receipt.size,
                        content_type: receipt.content_type,
                    },
                );
            }
            Err(error) => problems.push(format!("{name}({}):{}", file.file_name, error.message)),
        }
    }
    (stored, problems)
}

pub(crate) struct StoredUpload {
    pub(crate) key: String,
    pub(crate) file_name: String,
    sha256: String,
    size: u64,
    content_type: String,
}

// ---------------------------------------------------------------------------------------------
// Apply online

/// A field of the application form, with the input that suits its data element.
struct FieldInput {
    code: String,
    name: String,
    /// `text`, `date`, `tel`, `number`, `email`, `select` or `textarea`.
    input: &'static str,
    step: &'static str,
    inputmode: &'static str,
    options: Vec<String>,
    required: bool,
    value: String,
    hint: String,
}

struct LicenceOption {
    identifier: String,
    label: String,
    selected: bool,
}

/// A verified document offered for a material (已核验材料免提交).
struct DocumentOption {
    id: String,
    /// 已由 X 核验(有效期至 …).
    label: String,
    selected: bool,
}

/// A material of the application: upload, a licence held (免提交), or a commitment (告知承诺).
struct MaterialChoice {
    code: String,
    name: String,
    need: &'static str,
    need_text: String,
    notes: String,
    tolerated: bool,
    commitment: bool,
    commitment_text: String,
    committed: bool,
    paper: bool,
    licences: Vec<LicenceOption>,
    documents: Vec<DocumentOption>,
    /// `upload`, `licence:<identifier>` or `verified:<document id>`.
    choice: String,
    /// A file already stored on an earlier try (its key and name), so it is not asked again.
    uploaded_key: String,
    uploaded_name: String,
}

struct HallOption {
    key: String,
    name: String,
}

/// The values a re-rendered form keeps.
#[derive(Default)]
struct ApplyValues {
    fields: BTreeMap<String, String>,
    delivery: String,
    hall: String,
    recipient: String,
    phone: String,
    address: String,
    applicant_kind: String,
    applicant_name: String,
    applicant_id: String,
    committed: BTreeSet<String>,
    /// Materials a clerk checked on paper at the window.
    paper: BTreeSet<String>,
    choices: BTreeMap<String, String>,
    uploaded: BTreeMap<String, (String, String)>,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    item: ItemView,
    /// Every situational question is answered: the form can be shown.
    ready: bool,
    answers: Vec<(String, String)>,
    fields: Vec<FieldInput>,
    materials: Vec<MaterialChoice>,
    halls: Vec<HallOption>,
    staff: bool,
    /// An agent applying for an applicant under their mandate (no paper checked at a window).
    agent: bool,
    values: ApplyValues,
    problems: Vec<String>,
    /// Who pays for posting the result (the item's policy).
    postage: crate::services::delivery::PostageView,
}

#[derive(Debug, serde::Deserialize)]
struct ApplyRedirect {
    item: Option<String>,
    #[serde(rename = "for")]
    applicant: Option<String>,
    name: Option<String>,
    kind: Option<String>,
}

/// The workbench's "apply for this applicant" form: `/apply?item=…&for=…` → `/apply/{item}?for=…`.
async fn apply_redirect(lang: Lang, Query(query): Query<ApplyRedirect>) -> Response {
    let Some(item) = query.item.filter(|i| !i.is_empty()) else {
        return Redirect::to("/workbench").into_response();
    };
    let code = match parse_item_code(&item) {
        Ok(code) => code,
        Err(error) => return page_error(lang, error),
    };
    let mut target = format!("/apply/{code}");
    let mut separator = '?';
    for (name, value) in [
        ("for", query.applicant),
        ("name", query.name),
        ("kind", query.kind),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            target.push(separator);
            target.push_str(name);
            target.push('=');
            target.push_str(&encode_query_value(&value));
            separator = '&';
        }
    }
    Redirect::to(&target).into_response()
}

/// Query parameters of the apply page that are not situational answers.
const APPLY_PARAMETERS: [&str; 3] = ["for", "name", "kind"];

async fn apply_form(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(code): Path<String>,
    Query(raw): Query<BTreeMap<String, String>>,
) -> Response {
    let answers: BTreeMap<String, String> = raw
        .iter()
        .filter(|(name, value)| !value.is_empty() && !APPLY_PARAMETERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let staff = session.actor.kind == ActorKind::Staff;
    let mut values = ApplyValues {
        applicant_id: raw.get("for").cloned().unwrap_or_default().to_uppercase(),
        applicant_name: raw.get("name").cloned().unwrap_or_default(),
        applicant_kind: raw.get("kind").cloned().unwrap_or_default(),
        ..ApplyValues::default()
    };
    if !staff {
        values.recipient = session.actor.name.clone();
    }
    match apply_page(&state, lang, &session, &code, &answers, values, Vec::new()).await {
        Ok(page) => render(&page),
        Err(error) => page_error(lang, error),
    }
}

/// Builds the apply page for the answers given (also after a refused submission).
async fn apply_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    code: &str,
    answers: &BTreeMap<String, String>,
    values: ApplyValues,
    problems: Vec<String>,
) -> Result<ApplyPage, ApiError> {
    let code = parse_item_code(code)?;
    let item = item_view(
        state,
        &code,
        None,
        answers.iter().map(|(q, o)| (q.as_str(), o.as_str())),
    )
    .await?;
    let actor = &session.actor;
    let staff = actor.kind == ActorKind::Staff;
    let ready = item.questions.iter().all(|q| q.answered);
    // Licences the applicant holds, to replace materials (免提交). Only when a material can be
    // replaced, so that no read of a person's licences is logged without a reason.
    let replaceable = item
        .materials
        .iter()
        .any(|m| m.replaced_by_licence.is_some());
    let holder = if staff {
        Some(values.applicant_id.clone()).filter(|id| !id.is_empty())
    } else {
        actor.identifier.clone()
    };
    let licences = match (&holder, ready && replaceable) {
        (Some(holder), true) => match service::licences_of(state, actor, holder).await {
            Ok(licences) => licences,
            // An agent without a mandate sees the form; submitting it says why it is refused.
            Err(error) if error.code == ErrorCode::NoValidMandate => Vec::new(),
            Err(error) => return Err(error),
        },
        _ => Vec::new(),
    };
    // Copies of these materials that a clerk checked for an earlier case (once-only).
    let codes: Vec<MaterialCode> = item
        .materials
        .iter()
        .filter_map(|m| MaterialCode::parse(&m.code).ok())
        .collect();
    let verified = match (&holder, ready) {
        (Some(holder), true) => {
            crate::services::documents::offered(state, actor, holder, &codes).await?
        }
        _ => Vec::new(),
    };
    let lookup = state.lookup.get();
    let today = shanghai_date(state.clock.now());
    let fields = item
        .form
        .iter()
        .map(|field| {
            let element = tongban_domain::keys::DataElementCode::parse(&field.element)
                .ok()
                .and_then(|code| lookup.element(&code).cloned());
            let kind = element.as_ref().map(|e| e.kind);
            let (input, step, inputmode) = match kind {
                Some(ElementKind::Date) => ("date", "", ""),
                Some(ElementKind::Phone) => ("tel", "", "tel"),
                Some(ElementKind::Integer) => ("number", "1", "numeric"),
                Some(ElementKind::Money) => ("number", "0.01", "decimal"),
                Some(ElementKind::Area) => ("number", "any", "decimal"),
                Some(ElementKind::Email) => ("email", "", "email"),
                Some(ElementKind::Choice | ElementKind::Boolean) => ("select", "", ""),
                Some(ElementKind::LongText) => ("textarea", "", ""),
                Some(ElementKind::PostalCode | ElementKind::RegionCode) => ("text", "", "numeric"),
                _ => ("text", "", ""),
            };
            let options = match (kind, &element) {
                (Some(ElementKind::Boolean), _) => vec!["是".to_owned(), "否".to_owned()],
                (_, Some(element)) => element.options.clone(),
                _ => Vec::new(),
            };
            let name = match (lang, &element) {
                (Lang::En, Some(element)) => element
                    .name_en
                    .clone()
                    .unwrap_or_else(|| field.name.clone()),
                _ => field.name.clone(),
            };
            FieldInput {
                code: field.element.clone(),
                name,
                input,
                step,
                inputmode,
                options,
                required: field.required,
                value: values
                    .fields
                    .get(&field.element)
                    .cloned()
                    .unwrap_or_default(),
                hint: element.and_then(|e| e.hint).unwrap_or_default(),
            }
        })
        .collect();
    let materials = item
        .materials
        .iter()
        .filter(|m| m.need != Need::Depends)
        .map(|material| {
            let need_text = match material.need {
                Need::Required => lang.pick("必需", "Required"),
                Need::Needed => lang.pick("按您的情形需要", "Needed in your case"),
                Need::Depends => lang.pick("视情形", "Depends"),
                Need::Optional => lang.pick("可选", "Optional"),
            };
            let held = licences
                .iter()
                .filter(|licence| {
                    material.replaced_by_licence.as_deref() == Some(licence.type_key.as_str())
                        && licence.status_on(today) == LicenceStatus::Valid
                })
                .map(|licence| LicenceOption {
                    identifier: licence.identifier.to_string(),
                    label: format!("{}({})", licence.name, licence.issuer_name),
                    selected: values.choices.get(&material.code).map(String::as_str)
                        == Some(format!("licence:{}", licence.identifier).as_str()),
                })
                .collect();
            // A checked copy is the default: the material is not asked again.
            let choice = values
                .choices
                .get(&material.code)
                .cloned()
                .unwrap_or_else(|| {
                    verified
                        .iter()
                        .find(|d| d.material.as_str() == material.code)
                        .map_or_else(|| "upload".to_owned(), |d| format!("verified:{}", d.id))
                });
            let documents = verified
                .iter()
                .filter(|d| d.material.as_str() == material.code)
                .map(|document| DocumentOption {
                    id: document.id.to_string(),
                    label: format!(
                        "{}{}{}{}",
                        lang.pick("已由", "checked by "),
                        crate::services::documents::office_of(&lookup, document),
                        lang.pick("核验,有效期至", ", valid until "),
                        document.valid_until
                    ),
                    selected: choice == format!("verified:{}", document.id),
                })
                .collect();
            let (uploaded_key, uploaded_name) = values
                .uploaded
                .get(&material.code)
                .cloned()
                .unwrap_or_default();
            MaterialChoice {
                code: material.code.clone(),
                name: material.name.clone(),
                need: material.need.as_str(),
                need_text: need_text.to_owned(),
                notes: material.notes.clone().unwrap_or_default(),
                tolerated: material.deferral.iter().any(|d| d == "tolerated"),
                commitment: material.deferral.iter().any(|d| d == "commitment"),
                commitment_text: commitment_text(&material.name),
                committed: values.committed.contains(&material.code),
                paper: values.paper.contains(&material.code),
                licences: held,
                documents,
                choice,
                uploaded_key,
                uploaded_name,
            }
        })
        .collect();
    let halls = lookup
        .organisation
        .halls
        .iter()
        .map(|hall| HallOption {
            key: hall.key.to_string(),
            name: hall.name.clone(),
        })
        .collect();
    let mut values = values;
    if values.hall.is_empty() {
        // The first hall the guide names, else the first hall of the city.
        values.hall = item
            .guide
            .places
            .iter()
            .find_map(|p| p.hall.as_ref().map(ToString::to_string))
            .or_else(|| lookup.organisation.halls.first().map(|h| h.key.to_string()))
            .unwrap_or_default();
    }
    if values.delivery.is_empty() {
        values.delivery = "collect".to_owned();
    }
    let mut path = format!("/apply/{}", item.code);
    let query: Vec<String> = answers
        .iter()
        .map(|(q, o)| format!("{q}={}", encode_query_value(o)))
        .collect();
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    Ok(ApplyPage {
        t: lang.labels(),
        lang,
        path: here(&path),
        viewer: Some(Viewer::of(session)),
        csrf: session.csrf.clone(),
        ready,
        answers: item
            .answers
            .iter()
            .map(|(q, o)| (q.clone(), o.clone()))
            .collect(),
        postage: Postage::for_item(&item.guide).into(),
        item,
        fields,
        materials,
        halls,
        staff,
        agent: crate::services::agents::is_agent(actor),
        values,
        problems,
    })
}

/// The words an applicant signs instead of a material (告知承诺).
fn commitment_text(material: &str) -> String {
    format!(
        "本人承诺已具备“{material}”所证明的条件,所述情况真实;如有不实,愿承担相应法律责任,接受撤销决定。"
    )
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
    let item = match parse_item_code(&code) {
        Ok(parsed) => {
            item_view(
                &state,
                &parsed,
                None,
                answers.iter().map(|(q, o)| (q.as_str(), o.as_str())),
            )
            .await
        }
        Err(error) => Err(error),
    };
    let item = match item {
        Ok(item) => item,
        Err(error) => return page_error(lang, error),
    };
    let names: BTreeMap<String, String> = item
        .materials
        .iter()
        .map(|m| (m.code.clone(), m.name.clone()))
        .collect();
    let (stored, mut problems) = store_files(&state, &posted, "file.", &names).await;

    // Files stored on an earlier try come back as hidden fields; a new file replaces them.
    let mut uploaded: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (material, key) in posted.with_prefix("uploaded.") {
        let file_name = posted.get(&format!("uploaded_name.{material}")).to_owned();
        uploaded.insert(material, (key, file_name));
    }
    for (material, upload) in &stored {
        uploaded.insert(
            material.clone(),
            (upload.key.clone(), upload.file_name.clone()),
        );
    }
    let mut values = ApplyValues {
        fields: posted.with_prefix("field."),
        delivery: posted.get("delivery").to_owned(),
        hall: posted.get("hall").to_owned(),
        recipient: posted.get("recipient").to_owned(),
        phone: posted.get("phone").to_owned(),
        address: posted.get("address").to_owned(),
        applicant_kind: posted.get("applicant_kind").to_owned(),
        applicant_name: posted.get("applicant_name").to_owned(),
        applicant_id: posted.get("applicant_id").to_uppercase(),
        committed: BTreeSet::new(),
        paper: BTreeSet::new(),
        choices: posted.with_prefix("how."),
        uploaded,
    };
    let staff = session.actor.kind == ActorKind::Staff;
    let mut materials = Vec::new();
    for material in item.materials.iter().filter(|m| m.need != Need::Depends) {
        let code = &material.code;
        let may_commit = material.deferral.iter().any(|d| d == "commitment");
        if may_commit && posted.checked(&format!("commit.{code}")) {
            values.committed.insert(code.clone());
            materials.push(MaterialInput {
                code: code.clone(),
                provided_as: "commitment".to_owned(),
                upload: None,
                file_name: None,
                licence: None,
                commitment: Some(commitment_text(&material.name)),
                document: None,
            });
            continue;
        }
        let clerk = session.actor.has_role(Role::Clerk, None);
        if clerk && posted.checked(&format!("paper.{code}")) {
            values.paper.insert(code.clone());
            materials.push(MaterialInput {
                code: code.clone(),
                provided_as: "paper".to_owned(),
                upload: None,
                file_name: None,
                licence: None,
                commitment: None,
                document: None,
            });
            continue;
        }
        let choice = values.choices.get(code).map_or("upload", String::as_str);
        if let Some(licence) = choice.strip_prefix("licence:") {
            materials.push(MaterialInput {
                code: code.clone(),
                provided_as: "licence".to_owned(),
                upload: None,
                file_name: None,
                licence: Some(licence.to_owned()),
                commitment: None,
                document: None,
            });
            continue;
        }
        if let Some(document) = choice.strip_prefix("verified:") {
            materials.push(MaterialInput {
                code: code.clone(),
                provided_as: "verified_document".to_owned(),
                upload: None,
                file_name: None,
                licence: None,
                commitment: None,
                document: Some(document.to_owned()),
            });
            continue;
        }
        if let Some((key, file_name)) = values.uploaded.get(code) {
            materials.push(MaterialInput {
                code: code.clone(),
                provided_as: "upload".to_owned(),
                upload: Some(key.clone()),
                file_name: Some(file_name.clone()).filter(|n| !n.is_empty()),
                licence: None,
                commitment: None,
                document: None,
            });
        }
    }
    let applicant = staff.then(|| ApplicantInput {
        kind: if values.applicant_kind.is_empty() {
            "person".to_owned()
        } else {
            values.applicant_kind.clone()
        },
        name: values.applicant_name.clone(),
        identifier: values.applicant_id.clone(),
    });
    let by_post = values.delivery == "post";
    let delivery = DeliveryInput {
        method: if by_post { "post" } else { "collect" }.to_owned(),
        hall: (!by_post).then(|| values.hall.clone()),
        recipient: by_post.then(|| values.recipient.clone()),
        phone: by_post.then(|| values.phone.clone()),
        address: by_post.then(|| values.address.clone()),
    };
    let request = ApplicationRequest {
        item: item.code.clone(),
        answers: answers.clone(),
        form: values.fields.clone(),
        materials,
        delivery,
        channel: None,
        applicant,
    };
    // A refused file stops the submission: the applicant meant to hand it in.
    let mut status = StatusCode::BAD_REQUEST;
    if problems.is_empty() {
        match service::submit(&state, &session.actor, request).await {
            Ok(case) => return Redirect::to(&format!("/cases/{}", case.id)).into_response(),
            Err(error) if error.code.status().is_server_error() => {
                return page_error(lang, error);
            }
            Err(error) => {
                status = error.code.status();
                problems.extend(problems_of(&error));
            }
        }
    }
    match apply_page(
        &state, lang, &session, &item.code, &answers, values, problems,
    )
    .await
    {
        Ok(page) => (status, render(&page)).into_response(),
        Err(error) => page_error(lang, error),
    }
}

// ---------------------------------------------------------------------------------------------
// Case lists

/// A case in a list.
struct CaseRow {
    id: String,
    number: String,
    item_code: String,
    item_name: String,
    applicant_name: String,
    status: String,
    state: String,
    step: String,
    submitted: String,
    due: String,
    /// `normal`, `yellow`, `red`, or empty when no deadline runs.
    warning: String,
    days_left: String,
}

impl CaseRow {
    fn of(lang: Lang, summary: &CaseSummary) -> CaseRow {
        CaseRow {
            id: summary.id.to_string(),
            number: summary.number.clone(),
            item_code: summary.item_code.clone(),
            item_name: summary.item_name.clone(),
            applicant_name: summary.applicant_name.clone(),
            status: state_text(lang, &summary.state),
            state: summary.state.clone(),
            step: summary.step.clone().unwrap_or_default(),
            submitted: local_time(&summary.submitted_at.to_string()),
            due: summary
                .promised_due
                .map(|d| d.to_string())
                .unwrap_or_default(),
            warning: String::new(),
            days_left: String::new(),
        }
    }
}

/// Fills the warning colour and the working days left of rows whose clock runs, on the
/// working-day calendar, with the domain's rule (yellow in the last fifth of the promised
/// limit). A list entry carries no warning of its own, and reading every case for it would log a
/// data access per row; the limit comes from the item's published guide instead.
async fn add_warnings(
    state: &AppState,
    lang: Lang,
    rows: &mut [CaseRow],
    summaries: &[CaseSummary],
) {
    let today = shanghai_date(state.clock.now());
    let mut limits: BTreeMap<String, Option<u32>> = BTreeMap::new();
    for (row, summary) in rows.iter_mut().zip(summaries) {
        if summary.state == "suspended" {
            row.days_left = lang.pick("计时暂停", "clock paused").to_owned();
            continue;
        }
        let Some(due) = summary
            .promised_due
            .filter(|_| summary.state == "in_progress")
        else {
            continue;
        };
        if !limits.contains_key(&summary.item_code) {
            let limit = match ImplementationCode::parse(&summary.item_code) {
                Ok(code) => state
                    .store
                    .catalog
                    .item(&code)
                    .await
                    .ok()
                    .flatten()
                    .map(|record| record.definition.promised_limit.approximate_working_days()),
                Err(_) => None,
            };
            limits.insert(summary.item_code.clone(), limit);
        }
        let limit = limits
            .get(&summary.item_code)
            .copied()
            .flatten()
            .unwrap_or(1);
        if let Ok(warning) =
            tongban_domain::cases::deadline::warning(&state.calendar, today, due, limit)
        {
            row.warning = warning.as_str().to_owned();
        }
        if today > due {
            row.days_left = lang.pick("已超期", "overdue").to_owned();
        } else if let Ok(days) = state.calendar.working_days_between(today, due) {
            row.days_left = match lang {
                Lang::Zh => format!("剩余 {days} 个工作日"),
                Lang::En => format!("{days} working days left"),
            };
        }
    }
}

#[derive(Template)]
#[template(path = "my_cases.html")]
struct MyCasesPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    rows: Vec<CaseRow>,
}

async fn my_cases(State(state): State<AppState>, lang: Lang, session: PageSession) -> Response {
    let actor = &session.actor;
    if actor.kind == ActorKind::Staff {
        let target = if actor.has_role(Role::Clerk, None) {
            "/workbench"
        } else if crate::services::agents::is_agent(actor) {
            "/agent"
        } else {
            "/inbox"
        };
        return Redirect::to(target).into_response();
    }
    let list = match service::list(&state, actor, CasesQuery::default()).await {
        Ok(list) => list,
        Err(error) => return page_error(lang, error),
    };
    render(&MyCasesPage {
        t: lang.labels(),
        lang,
        path: here("/my/cases"),
        viewer: Some(Viewer::of(&session)),
        rows: list.cases.iter().map(|c| CaseRow::of(lang, c)).collect(),
    })
}

#[derive(Template)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    hall: String,
    applicant: String,
    applicant_kind: &'static str,
    applicant_name: String,
    /// `for=…&name=…&kind=…` for the "apply for them" links.
    apply_query: String,
    found: Option<Vec<CaseRow>>,
    error: Option<String>,
    waiting: Vec<CaseRow>,
    items: Vec<(String, String)>,
    csrf: String,
}

#[derive(Debug, serde::Deserialize)]
struct WorkbenchQuery {
    applicant: Option<String>,
}

async fn workbench(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<WorkbenchQuery>,
) -> Response {
    let actor = &session.actor;
    if let Err(error) = require_role(actor, Role::Clerk) {
        return page_error(lang, error);
    }
    let applicant = query
        .applicant
        .map(|a| a.trim().to_uppercase())
        .unwrap_or_default();
    let mut found = None;
    let mut error = None;
    let mut applicant_name = String::new();
    if !applicant.is_empty() {
        let wanted = CasesQuery {
            applicant: Some(applicant.clone()),
            ..CasesQuery::default()
        };
        match service::list(&state, actor, wanted).await {
            Ok(list) => {
                applicant_name = list
                    .cases
                    .first()
                    .map(|c| c.applicant_name.clone())
                    .unwrap_or_default();
                found = Some(list.cases.iter().map(|c| CaseRow::of(lang, c)).collect());
            }
            Err(problem) if problem.code.status().is_server_error() => {
                return page_error(lang, problem);
            }
            Err(problem) => {
                error = Some(
                    lang.pick(
                        "请输入有效的公民身份号码或统一社会信用代码。",
                        "Enter a valid ID number or unified social credit code.",
                    )
                    .to_owned(),
                )
                .filter(|_| problem.code == ErrorCode::InvalidQuery)
                .or(Some(problem.message));
            }
        }
    }
    let waiting_query = CasesQuery {
        state: Some("submitted,pre_reviewed".to_owned()),
        ..CasesQuery::default()
    };
    let waiting = match service::list(&state, actor, waiting_query).await {
        Ok(list) => list.cases.iter().map(|c| CaseRow::of(lang, c)).collect(),
        Err(error) => return page_error(lang, error),
    };
    let items_query = ItemsQuery {
        per_page: Some("200".to_owned()),
        ..ItemsQuery::default()
    };
    let items = match items_query.into_filter() {
        Ok(filter) => match state.store.catalog.list_items(&filter).await {
            Ok(page) => page
                .items
                .iter()
                .map(|i| (i.code.to_string(), i.name.clone()))
                .collect(),
            Err(error) => return page_error(lang, error.into()),
        },
        Err(error) => return page_error(lang, error),
    };
    let lookup = state.lookup.get();
    let hall = actor
        .clerk_hall()
        .and_then(|key| lookup.hall(key))
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let applicant_kind = if applicant.is_empty() || IdNumber::parse(&applicant).is_ok() {
        "person"
    } else {
        "enterprise"
    };
    let apply_query = format!(
        "for={}&name={}&kind={applicant_kind}",
        encode_query_value(&applicant),
        encode_query_value(&applicant_name)
    );
    render(&WorkbenchPage {
        t: lang.labels(),
        lang,
        path: here("/workbench"),
        viewer: Some(Viewer::of(&session)),
        hall,
        applicant,
        applicant_kind,
        applicant_name,
        apply_query,
        found,
        error,
        waiting,
        items,
        csrf: session.csrf.clone(),
    })
}

/// The workbench's "collect with the pickup code" form (通办通取: any hall hands out any
/// result): the case number and the code the applicant shows. A wrong code is refused on the
/// case's page and changes nothing.
async fn workbench_collect(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let posted = match read_checked_form(multipart, &session).await {
        Ok(posted) => posted,
        Err(error) => return page_error(lang, error),
    };
    if let Err(error) = require_role(&session.actor, Role::Clerk) {
        return page_error(lang, error);
    }
    let number = posted.get("number").trim().to_owned();
    let view = match service::get(&state, &session.actor, &number).await {
        Ok(view) => view,
        Err(error) => return page_error(lang, error),
    };
    let command = Command::Collect {
        pickup_code: posted.get("pickup_code").to_owned(),
    };
    let request = ActionRequest {
        version: view.version,
        command,
    };
    match service::act(&state, &session.actor, &view.id, request).await {
        Ok(view) => Redirect::to(&format!("/cases/{}?done=collect", view.id)).into_response(),
        Err(error) if error.code.status().is_server_error() => page_error(lang, error),
        Err(error) => {
            let notice = Notice::refused(lang, "collect", problems_of(&error));
            let status = error.code.status();
            show_case(&state, lang, &session, &view.id, Some(notice), status).await
        }
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    departments: Vec<String>,
    rows: Vec<CaseRow>,
}

async fn inbox(State(state): State<AppState>, lang: Lang, session: PageSession) -> Response {
    let actor = &session.actor;
    let reviewer =
        actor.has_role(Role::Approver, None) || actor.has_role(Role::ChiefRepresentative, None);
    if !reviewer {
        return page_error(
            lang,
            ApiError::new(
                ErrorCode::Forbidden,
                "the inbox is for approvers and chief representatives",
            ),
        );
    }
    let query = CasesQuery {
        state: Some("in_progress,suspended,granted".to_owned()),
        order: Some("due".to_owned()),
        limit: Some("200".to_owned()),
        ..CasesQuery::default()
    };
    let list = match service::list(&state, actor, query).await {
        Ok(list) => list,
        Err(error) => return page_error(lang, error),
    };
    let mut rows: Vec<CaseRow> = list.cases.iter().map(|c| CaseRow::of(lang, c)).collect();
    add_warnings(&state, lang, &mut rows, &list.cases).await;
    let lookup = state.lookup.get();
    let mut departments: Vec<String> = Vec::new();
    for assignment in &actor.roles {
        if let Some(department) = &assignment.department {
            let name = lookup.department_name(department).to_owned();
            if !departments.contains(&name) {
                departments.push(name);
            }
        }
    }
    render(&InboxPage {
        t: lang.labels(),
        lang,
        path: here("/inbox"),
        viewer: Some(Viewer::of(&session)),
        departments,
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// The case page

struct TimelineRow {
    at: String,
    text: String,
    actor: String,
    note: String,
    public: bool,
    /// "由代办员 X 代 Y 办理" when an agent acted for the applicant.
    agent: String,
}

struct MaterialRow {
    code: String,
    name: String,
    how: String,
    detail: String,
}

struct CorrectionRow {
    code: String,
    name: String,
    problem: String,
}

struct LicenceRow {
    identifier: String,
    name: String,
    holder: String,
    issuer: String,
    valid_from: String,
    valid_until: String,
    status: String,
}

/// What the viewer may do now, asked of the domain.
#[derive(Default)]
struct Actions {
    pre_approve: bool,
    accept: bool,
    reject: bool,
    request_correction: bool,
    resubmit: bool,
    approve: bool,
    return_to: Vec<(String, String)>,
    countersign: bool,
    decide: bool,
    suspend: bool,
    resume: bool,
    extend: bool,
    issue: bool,
    deliver: bool,
    ship: bool,
    track: bool,
    collect: bool,
    collect_instead: bool,
    withdraw: bool,
    supply: Vec<(String, String)>,
}

impl Actions {
    fn any(&self) -> bool {
        self.pre_approve
            || self.accept
            || self.reject
            || self.request_correction
            || self.resubmit
            || self.approve
            || !self.return_to.is_empty()
            || self.countersign
            || self.decide
            || self.suspend
            || self.resume
            || self.extend
            || self.issue
            || self.deliver
            || self.ship
            || self.track
            || self.collect
            || self.collect_instead
            || self.withdraw
            || !self.supply.is_empty()
    }
}

impl Notice {
    /// "Not done: <action>" with what was wrong.
    fn refused(lang: Lang, action: &str, problems: Vec<String>) -> Notice {
        Notice {
            kind: "error",
            text: format!(
                "{}{}",
                lang.pick("未能完成:", "Not done: "),
                action_label(lang, action)
            ),
            problems,
        }
    }
}

/// A posting of the result as the case page shows it (times in China time, newest report first).
struct ShipmentRow {
    status: String,
    status_text: String,
    carrier_name: String,
    tracking_number: String,
    postage: String,
    shipped_at: String,
    hall_name: String,
    events: Vec<TrackingRow>,
}

struct TrackingRow {
    status: String,
    status_text: String,
    at: String,
    place: String,
    note: String,
}

fn shipment_row(lang: Lang, shipment: &crate::services::delivery::ShipmentView) -> ShipmentRow {
    ShipmentRow {
        status: shipment.status.clone(),
        status_text: lang
            .pick(&shipment.status_text, &shipment.status_text_en)
            .to_owned(),
        carrier_name: shipment.carrier_name.clone(),
        tracking_number: shipment.tracking_number.clone(),
        postage: lang
            .pick(&shipment.postage.text, &shipment.postage.text_en)
            .to_owned(),
        shipped_at: local_time(&shipment.shipped_at),
        hall_name: shipment.hall_name.clone().unwrap_or_default(),
        events: shipment
            .events
            .iter()
            .rev()
            .map(|event| TrackingRow {
                status: event.status.clone(),
                status_text: event.status_text.clone(),
                at: local_time(&event.at),
                place: event.place.clone(),
                note: event.note.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// A message above the case: what was just done, or why an action was refused.
struct Notice {
    /// `ok`, `error` or `stale`.
    kind: &'static str,
    text: String,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    csrf: String,
    view: CaseView,
    staff: bool,
    own: bool,
    /// "由代办员 X 代 Y 办理" when an agent applied.
    agent_note: String,
    /// For an agent looking: to whom the rating invitation went (the applicant), once rateable.
    invited: String,
    status: String,
    step: String,
    submitted_at: String,
    applicant_identifier: String,
    warning: String,
    warning_text: String,
    channel: String,
    hall: String,
    form_rows: Vec<(String, String)>,
    materials: Vec<MaterialRow>,
    correction: Vec<CorrectionRow>,
    delivery: String,
    pickup_code: String,
    /// Post: who pays the postage.
    postage: String,
    shipment: Option<ShipmentRow>,
    returned: Vec<ShipmentRow>,
    /// For the `ship` and `collect_instead` forms: (code, name).
    carriers: Vec<(&'static str, &'static str)>,
    halls: Vec<(String, String)>,
    decision: String,
    decision_opinion: String,
    licence: Option<LicenceRow>,
    timeline: Vec<TimelineRow>,
    actions: Actions,
    tolerable: Vec<(String, String)>,
    correctable: Vec<(String, String)>,
    deliver_how: &'static str,
    notice: Option<Notice>,
    today: String,
}

#[derive(Debug, serde::Deserialize)]
struct CaseQuery {
    done: Option<String>,
}

async fn case_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    Query(query): Query<CaseQuery>,
) -> Response {
    let notice = query.done.map(|action| Notice {
        kind: "ok",
        text: format!(
            "{}{}",
            lang.pick("已完成:", "Done: "),
            action_label(lang, &action)
        ),
        problems: Vec::new(),
    });
    show_case(&state, lang, &session, &id, notice, StatusCode::OK).await
}

async fn show_case(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    id: &str,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let (view, acting) = match service::get_as(state, &session.actor, id).await {
        Ok(found) => found,
        Err(error) => return page_error(lang, error),
    };
    match case_view_page(state, lang, session, &acting, view, notice).await {
        Ok(page) => (status, render(&page)).into_response(),
        Err(error) => page_error(lang, error),
    }
}

/// Whether the domain lets the actor take `command` now. The command is tried on the case (pure,
/// nothing is stored); only "not now" and "not you" hide the form.
fn may(state: &AppState, actor: &Actor, case: &Case, command: &Command) -> bool {
    let context = Context {
        actor,
        now: state.clock.now(),
        calendar: &state.calendar,
    };
    match apply(case, command, &context) {
        Ok(_) => true,
        Err(CaseError::Forbidden(_) | CaseError::IllegalTransition { .. }) => false,
        // The stand-in values below are valid, so an `Invalid` answer is about the case itself
        // (e.g. no extension left); a calendar error is shown when the action is really taken.
        Err(CaseError::Invalid(_) | CaseError::InvalidApplication(_)) => false,
        Err(CaseError::StaleVersion { .. } | CaseError::Calendar(_)) => true,
        // The stand-in pickup code is wrong on purpose: the form is for the real one.
        Err(CaseError::Delivery(DeliveryError::WrongPickupCode)) => true,
        Err(CaseError::Delivery(_)) => false,
    }
}

fn actions_for(state: &AppState, actor: &Actor, case: &Case) -> Actions {
    let text = || "-".to_owned();
    let first_material = case
        .materials
        .first()
        .map(|m| m.code.clone())
        .or_else(|| MaterialCode::parse("material").ok());
    let mut actions = Actions {
        pre_approve: may(state, actor, case, &Command::PreApprove),
        accept: may(
            state,
            actor,
            case,
            &Command::Accept {
                tolerated: Vec::new(),
            },
        ),
        reject: may(state, actor, case, &Command::Reject { reason: text() }),
        request_correction: first_material.is_some_and(|material| {
            may(
                state,
                actor,
                case,
                &Command::RequestCorrection {
                    items: vec![CorrectionItem {
                        material,
                        problem: text(),
                    }],
                },
            )
        }),
        resubmit: may(
            state,
            actor,
            case,
            &Command::Resubmit {
                materials: case
                    .correction
                    .iter()
                    .map(|item| CaseMaterial {
                        code: item.material.clone(),
                        name: text(),
                        provision: Provision::Paper,
                    })
                    .collect(),
            },
        ),
        approve: may(state, actor, case, &Command::Approve { opinion: text() }),
        countersign: may(
            state,
            actor,
            case,
            &Command::Countersign {
                pass: true,
                opinion: text(),
                department: None,
            },
        ),
        decide: may(
            state,
            actor,
            case,
            &Command::Decide {
                granted: true,
                opinion: text(),
            },
        ),
        suspend: may(
            state,
            actor,
            case,
            &Command::Suspend {
                procedure: text(),
                reason: text(),
            },
        ),
        resume: may(state, actor, case, &Command::Resume),
        extend: may(
            state,
            actor,
            case,
            &Command::Extend {
                days: 1,
                reason: text(),
            },
        ),
        issue: may(state, actor, case, &Command::Issue { licence: None }),
        deliver: may(state, actor, case, &Command::Deliver { how: text() }),
        ship: may(
            state,
            actor,
            case,
            &Command::Ship {
                carrier: Carrier::Ems,
                tracking_number: "EA123456785CN".to_owned(),
            },
        ),
        // A clerk types a carrier's report for a parcel on its way (halls without a carrier
        // integration); carriers' systems use the API.
        track: case.shipment_in_flight()
            && actor.kind == ActorKind::Staff
            && actor.has_role(Role::Clerk, None)
            && case.state == CaseState::Issued,
        collect: may(
            state,
            actor,
            case,
            &Command::Collect {
                pickup_code: String::new(),
            },
        ),
        collect_instead: case
            .hall
            .as_ref()
            .or(actor.clerk_hall())
            .is_some_and(|hall| {
                may(
                    state,
                    actor,
                    case,
                    &Command::CollectInstead {
                        hall: hall.clone(),
                        pickup_code: "000000".to_owned(),
                    },
                )
            }),
        withdraw: may(state, actor, case, &Command::Withdraw { reason: text() }),
        ..Actions::default()
    };
    if let Some((index, _)) = case.current_step() {
        for step in case.workflow.steps.iter().take(index) {
            let command = Command::Return {
                to: step.code.to_string(),
                reason: text(),
            };
            if may(state, actor, case, &command) {
                actions
                    .return_to
                    .push((step.code.to_string(), step.name.clone()));
            }
        }
    }
    for material in &case.materials {
        if !matches!(material.provision, Provision::Tolerated { .. }) {
            continue;
        }
        let command = Command::SupplyMaterial {
            material: CaseMaterial {
                code: material.code.clone(),
                name: material.name.clone(),
                provision: Provision::Paper,
            },
        };
        if may(state, actor, case, &command) {
            actions
                .supply
                .push((material.code.to_string(), material.name.clone()));
        }
    }
    actions
}

fn provision_text(lang: Lang, provision: &Provision) -> (String, String) {
    match provision {
        Provision::Upload {
            file_name, size, ..
        } => (
            lang.pick("已上传", "Uploaded").to_owned(),
            format!("{file_name}({} KB)", size.div_ceil(1024)),
        ),
        Provision::Licence { licence } => (
            lang.pick("电子证照免提交", "Replaced by a licence held")
                .to_owned(),
            licence.to_string(),
        ),
        Provision::Commitment { .. } => (
            lang.pick("告知承诺", "Signed commitment").to_owned(),
            String::new(),
        ),
        Provision::Tolerated { due } => (
            lang.pick("容缺受理,待补交", "Missing, to be handed in")
                .to_owned(),
            format!("{}{due}", lang.pick("补交期限:", "due ")),
        ),
        Provision::Paper => (
            lang.pick("窗口核验纸质材料", "Paper, checked at the window")
                .to_owned(),
            String::new(),
        ),
        Provision::VerifiedDocument {
            source_case,
            verified_by,
            valid_until,
            ..
        } => (
            lang.pick("已核验材料免提交", "Already checked: not asked again")
                .to_owned(),
            format!(
                "{}{verified_by}{}{source_case}{}{valid_until}",
                lang.pick("已由", "checked by "),
                lang.pick("核验(办件 ", " for case "),
                lang.pick(",有效期至 ", ", valid until "),
            ) + lang.pick(")", ""),
        ),
    }
}

/// The internal details of an event for staff: opinions, reasons, listed problems.
fn event_note(detail: Option<&Value>) -> String {
    let Some(Value::Object(fields)) = detail else {
        return String::new();
    };
    let mut parts = Vec::new();
    for key in [
        "step",
        "procedure",
        "opinion",
        "reason",
        "how",
        "from",
        "to",
        "days",
    ] {
        match fields.get(key) {
            Some(Value::String(text)) if !text.is_empty() => parts.push(text.clone()),
            Some(Value::Number(number)) => parts.push(number.to_string()),
            _ => {}
        }
    }
    if let Some(Value::Array(items)) = fields.get("items") {
        for item in items {
            if let (Some(material), Some(problem)) = (
                item.get("material").and_then(Value::as_str),
                item.get("problem").and_then(Value::as_str),
            ) {
                parts.push(format!("{material}:{problem}"));
            }
        }
    }
    parts.join(" · ")
}

async fn case_view_page(
    state: &AppState,
    lang: Lang,
    session: &PageSession,
    actor: &Actor,
    view: CaseView,
    notice: Option<Notice>,
) -> Result<CasePage, ApiError> {
    let case = &view.case;
    let own = actor.is_applicant(&case.applicant);
    // An agent acting for the applicant sees the applicant's page, not the staff's.
    let for_applicant = own || actor.is_agent_for(&case.applicant);
    let staff = actor.kind == ActorKind::Staff && !for_applicant;
    let lookup = state.lookup.get();
    let actions = actions_for(state, actor, case);

    // The pinned guide names the fields and tells which materials may follow later (容缺).
    let pinned = item_view(
        state,
        &case.item_code,
        Some(case.item_version),
        case.answers.iter().map(|(q, o)| (q.as_str(), o.as_str())),
    )
    .await
    .ok();
    let material_name = |code: &str| -> String {
        case.materials
            .iter()
            .find(|m| m.code.as_str() == code)
            .map(|m| m.name.clone())
            .or_else(|| {
                pinned.as_ref().and_then(|item| {
                    item.materials
                        .iter()
                        .find(|m| m.code == code)
                        .map(|m| m.name.clone())
                })
            })
            .unwrap_or_else(|| code.to_owned())
    };
    let tolerable = match &pinned {
        Some(item) if actions.accept => item
            .materials
            .iter()
            .filter(|m| m.need != Need::Depends && m.deferral.iter().any(|d| d == "tolerated"))
            .map(|m| {
                let handed_in = case.materials.iter().any(|c| c.code.as_str() == m.code);
                let name = if handed_in {
                    m.name.clone()
                } else {
                    format!("{}{}", m.name, lang.pick("(未提交)", " (not handed in)"))
                };
                (m.code.clone(), name)
            })
            .collect(),
        _ => Vec::new(),
    };
    let correctable = match &pinned {
        Some(item) if actions.request_correction => item
            .materials
            .iter()
            .filter(|m| m.need != Need::Depends)
            .map(|m| (m.code.clone(), m.name.clone()))
            .collect(),
        _ => Vec::new(),
    };
    // In the order of the guide's form; anything else after it.
    let mut ordered: Vec<_> = case.form.iter().collect();
    if let Some(item) = &pinned {
        let position = |code: &str| {
            item.form
                .iter()
                .position(|f| f.element == code)
                .unwrap_or(usize::MAX)
        };
        ordered.sort_by_key(|(code, _)| position(code.as_str()));
    }
    let form_rows = ordered
        .into_iter()
        .map(|(code, value)| {
            let name = lookup.element(code).map_or_else(
                || code.to_string(),
                |e| match lang {
                    Lang::En => e.name_en.clone().unwrap_or_else(|| e.name.clone()),
                    Lang::Zh => e.name.clone(),
                },
            );
            (name, value.clone())
        })
        .collect();
    let materials = case
        .materials
        .iter()
        .map(|m| {
            let (how, detail) = provision_text(lang, &m.provision);
            MaterialRow {
                code: m.code.to_string(),
                name: m.name.clone(),
                how,
                detail,
            }
        })
        .collect();
    let correction = case
        .correction
        .iter()
        .map(|item| CorrectionRow {
            code: item.material.to_string(),
            name: material_name(item.material.as_str()),
            problem: item.problem.clone(),
        })
        .collect();
    let (delivery, pickup_code, deliver_how) = match &case.delivery {
        Delivery::Collect { hall, pickup_code } => (
            format!(
                "{}{}",
                lang.pick("窗口领取:", "Collect at "),
                lookup.hall(hall).map_or(hall.as_str(), |h| h.name.as_str())
            ),
            if own {
                pickup_code.clone()
            } else {
                String::new()
            },
            "领取",
        ),
        Delivery::Post {
            recipient, address, ..
        } => (
            format!(
                "{}{recipient},{address}",
                lang.pick("邮寄送达:", "By post to ")
            ),
            String::new(),
            "邮寄送达",
        ),
    };
    let (decision, decision_opinion) = match &case.decision {
        Some(decision) => (
            if decision.granted {
                lang.pick("准予许可", "Granted")
            } else {
                lang.pick("不予许可", "Refused")
            }
            .to_owned(),
            // A refusal's reasons are the applicant's to read; a grant's opinion is internal.
            if staff || !decision.granted {
                decision.opinion.clone()
            } else {
                String::new()
            },
        ),
        None => (String::new(), String::new()),
    };
    let today = shanghai_date(state.clock.now());
    let licence = view.licence.as_ref().map(|licence| LicenceRow {
        identifier: licence.identifier.to_string(),
        name: licence.name.clone(),
        holder: licence.holder.name.clone(),
        issuer: licence.issuer_name.clone(),
        valid_from: licence.valid_from.to_string(),
        valid_until: licence.valid_until.map_or_else(
            || lang.pick("长期", "no end date").to_owned(),
            |d| d.to_string(),
        ),
        status: licence.status_on(today).label_zh().to_owned(),
    });
    let timeline = view
        .timeline
        .iter()
        .map(|entry| TimelineRow {
            at: local_time(&entry.at),
            text: match (&entry.text, lang) {
                (Some(text), Lang::Zh) => text.clone(),
                _ => action_label(lang, &entry.event),
            },
            actor: entry.actor.clone(),
            note: if staff {
                event_note(entry.detail.as_ref())
            } else {
                String::new()
            },
            public: entry.public,
            agent: entry
                .agent
                .as_ref()
                .map(|a| lang.pick(&a.text, &a.text_en).to_owned())
                .unwrap_or_default(),
        })
        .collect();
    let warning_text = match view.warning.as_deref() {
        Some("yellow") => lang.pick("即将到期", "Due soon"),
        Some("red") => lang.pick("已超期", "Overdue"),
        Some(_) => lang.pick("正常", "On time"),
        None => "",
    };
    let channel = match view.channel.as_str() {
        "web" => lang.pick("网上申请", "Online"),
        "mobile" => lang.pick("移动端申请", "Mobile"),
        "window" => lang.pick("窗口申请", "At a window"),
        "kiosk" => lang.pick("自助终端", "Kiosk"),
        "post" => lang.pick("邮寄申请", "By post"),
        "agent" => lang.pick("帮办代办", "By an agent"),
        other => other,
    }
    .to_owned();
    let hall = case
        .hall
        .as_ref()
        .map(|key| {
            lookup
                .hall(key)
                .map_or_else(|| key.to_string(), |h| h.name.clone())
        })
        .unwrap_or_default();
    let step = view
        .step
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let applicant_identifier = if staff {
        view.applicant_identifier.clone()
    } else {
        masked_identifier(&view.applicant_identifier)
    };
    Ok(CasePage {
        t: lang.labels(),
        lang,
        path: here(&format!("/cases/{}", view.id)),
        viewer: Some(Viewer::of(session)),
        csrf: session.csrf.clone(),
        staff,
        own,
        agent_note: view
            .agent
            .as_ref()
            .map(|a| lang.pick(&a.text, &a.text_en).to_owned())
            .unwrap_or_default(),
        invited: match (&view.rating_invitation, own) {
            (Some(invitation), false) if for_applicant => match lang {
                Lang::Zh => format!(
                    "评价邀请已发给申请人{}本人;代办员不代为评价。",
                    invitation.name
                ),
                Lang::En => format!(
                    "The rating invitation went to the applicant, {}; agents do not rate for them.",
                    invitation.name
                ),
            },
            _ => String::new(),
        },
        status: lang.pick(&view.state.text, &view.state.text_en).to_owned(),
        step,
        submitted_at: local_time(&view.submitted_at),
        applicant_identifier,
        warning: view.warning.clone().unwrap_or_default(),
        warning_text: warning_text.to_owned(),
        channel,
        hall,
        form_rows,
        materials,
        correction,
        delivery,
        pickup_code,
        postage: view
            .delivery
            .postage
            .as_ref()
            .map(|p| lang.pick(&p.text, &p.text_en).to_owned())
            .unwrap_or_default(),
        shipment: view
            .delivery
            .shipment
            .as_ref()
            .map(|s| shipment_row(lang, s)),
        returned: view
            .delivery
            .returned
            .iter()
            .map(|s| shipment_row(lang, s))
            .collect(),
        carriers: Carrier::ALL
            .iter()
            .map(|c| (c.code(), lang.pick(c.name().0, c.name().1)))
            .collect(),
        halls: lookup
            .organisation
            .halls
            .iter()
            .map(|h| (h.key.to_string(), h.name.clone()))
            .collect(),
        decision,
        decision_opinion,
        licence,
        timeline,
        actions,
        tolerable,
        correctable,
        deliver_how,
        notice,
        today: today.to_string(),
        view,
    })
}

/// Builds the command of an action form; `Err` lists what is wrong with the form itself.
async fn command_of(
    state: &AppState,
    session: &PageSession,
    id: &str,
    action: &str,
    posted: &Posted,
) -> Result<Command, Vec<String>> {
    let text = |name: &str| posted.get(name).to_owned();
    let material = |code: &str| MaterialCode::parse(code).map_err(|e| vec![e.to_string()]);
    let command = match action {
        "pre_approve" => Command::PreApprove,
        "accept" => {
            let mut tolerated = Vec::new();
            for code in posted.with_prefix("tolerate.").keys() {
                let due = posted.get(&format!("due.{code}"));
                let Ok(due) = due.parse::<Date>() else {
                    return Err(vec![format!("{code}:请填写补交期限 / give the due date")]);
                };
                tolerated.push(ToleratedMaterial {
                    material: material(code)?,
                    due,
                });
            }
            Command::Accept { tolerated }
        }
        "reject" => Command::Reject {
            reason: text("reason"),
        },
        "request_correction" => {
            let mut items = Vec::new();
            for (code, problem) in posted.with_prefix("problem.") {
                items.push(CorrectionItem {
                    material: material(&code)?,
                    problem,
                });
            }
            Command::RequestCorrection { items }
        }
        "resubmit" | "supply_material" => {
            // The names come from the case itself, not from the form.
            let view = service::get(state, &session.actor, id)
                .await
                .map_err(|e| vec![e.message])?;
            let mut names: BTreeMap<String, String> = view
                .case
                .materials
                .iter()
                .map(|m| (m.code.to_string(), m.name.clone()))
                .collect();
            if let Ok(item) = item_view(
                state,
                &view.case.item_code,
                Some(view.case.item_version),
                view.case
                    .answers
                    .iter()
                    .map(|(q, o)| (q.as_str(), o.as_str())),
            )
            .await
            {
                for m in item.materials {
                    names.entry(m.code).or_insert(m.name);
                }
            }
            let (stored, problems) = store_files(state, posted, "file.", &names).await;
            if !problems.is_empty() {
                return Err(problems);
            }
            let mut materials = Vec::new();
            for (code, upload) in stored {
                materials.push(CaseMaterial {
                    code: material(&code)?,
                    name: names.get(&code).cloned().unwrap_or_else(|| code.clone()),
                    provision: Provision::Upload {
                        object_key: upload.key,
                        sha256: upload.sha256,
                        size: upload.size,
                        content_type: upload.content_type,
                        file_name: upload.file_name,
                    },
                });
            }
            if action == "resubmit" {
                Command::Resubmit { materials }
            } else {
                let Some(supplied) = materials.into_iter().next() else {
                    return Err(vec![
                        "请选择要补交的文件 / choose the file to hand in".to_owned(),
                    ]);
                };
                Command::SupplyMaterial { material: supplied }
            }
        }
        "approve" => Command::Approve {
            opinion: text("opinion"),
        },
        "return" => Command::Return {
            to: text("to"),
            reason: text("reason"),
        },
        "countersign" => Command::Countersign {
            pass: posted.get("pass") != "false",
            opinion: text("opinion"),
            department: None,
        },
        "decide" => Command::Decide {
            granted: posted.get("granted") != "false",
            opinion: text("opinion"),
        },
        "suspend" => Command::Suspend {
            procedure: text("procedure"),
            reason: text("reason"),
        },
        "resume" => Command::Resume,
        "extend" => {
            let Ok(days) = posted.get("days").parse::<u32>() else {
                return Err(vec![
                    "延长天数须为整数 / the days must be a whole number".to_owned(),
                ]);
            };
            Command::Extend {
                days,
                reason: text("reason"),
            }
        }
        "issue" => Command::Issue { licence: None },
        "deliver" => Command::Deliver { how: text("how") },
        "ship" => {
            let Ok(carrier) = Carrier::parse(posted.get("carrier")) else {
                return Err(vec!["请选择快递公司 / choose the carrier".to_owned()]);
            };
            Command::Ship {
                carrier,
                tracking_number: text("tracking_number"),
            }
        }
        "track" => {
            let Ok(status) = ShipmentStatus::parse(posted.get("status")) else {
                return Err(vec!["请选择物流状态 / choose the status".to_owned()]);
            };
            Command::Track {
                status,
                at: state.clock.now(),
                place: text("place"),
                note: text("note"),
            }
        }
        "collect" => Command::Collect {
            pickup_code: text("pickup_code"),
        },
        "collect_instead" => {
            let Ok(hall) = HallKey::parse(posted.get("hall")) else {
                return Err(vec!["请选择领取大厅 / choose the hall".to_owned()]);
            };
            Command::CollectInstead {
                hall,
                pickup_code: String::new(),
            }
        }
        "withdraw" => Command::Withdraw {
            reason: text("reason"),
        },
        other => return Err(vec![format!("unknown action {other:?}")]),
    };
    Ok(command)
}

async fn case_action(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let posted = match read_checked_form(multipart, &session).await {
        Ok(posted) => posted,
        Err(error) => return page_error(lang, error),
    };
    let Ok(version) = posted.get("version").parse::<u64>() else {
        return page_error(
            lang,
            ApiError::new(
                ErrorCode::InvalidBody,
                "the form has no case version; reload the page",
            ),
        );
    };
    let action = posted.get("action").to_owned();
    let command = match command_of(&state, &session, &id, &action, &posted).await {
        Ok(command) => command,
        Err(problems) => {
            let notice = Notice::refused(lang, &action, problems);
            return show_case(
                &state,
                lang,
                &session,
                &id,
                Some(notice),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match service::act(
        &state,
        &session.actor,
        &id,
        ActionRequest { version, command },
    )
    .await
    {
        Ok(view) => {
            let target = format!("/cases/{}?done={}", view.id, encode_query_value(&action));
            Redirect::to(&target).into_response()
        }
        Err(error) if error.code == ErrorCode::StaleVersion => {
            let notice = Notice {
                kind: "stale",
                text: lang
                    .pick(
                        "该办件在您打开页面后已被他人处理,您的操作没有执行。请刷新页面,核对最新情况后再操作。",
                        "Someone changed this case after you opened it, so your action was not taken. Reload the page, check the case and try again.",
                    )
                    .to_owned(),
                problems: Vec::new(),
            };
            show_case(
                &state,
                lang,
                &session,
                &id,
                Some(notice),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(error) if error.code.status().is_server_error() => page_error(lang, error),
        Err(error) => {
            let status = error.code.status();
            let notice = Notice::refused(lang, &action, problems_of(&error));
            show_case(&state, lang, &session, &id, Some(notice), status).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Licences: verification and the printable result

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    identifier: String,
    result: Option<Verification>,
    problem: String,
}

async fn verify_page(
    State(state): State<AppState>,
    lang: Lang,
    MaybePageSession(session): MaybePageSession,
    Path(identifier): Path<String>,
) -> Response {
    let (status, result, problem) = match service::verify(&state, &identifier).await {
        Ok(result) => (StatusCode::OK, Some(result), String::new()),
        Err(error) if error.code == ErrorCode::LicenceNotFound => (
            StatusCode::NOT_FOUND,
            None,
            lang.pick(
                "查无此证:本平台没有签发过该标识的证照。",
                "Not found: no licence with this identifier was issued here.",
            )
            .to_owned(),
        ),
        Err(error) if error.code == ErrorCode::InvalidQuery => (
            StatusCode::BAD_REQUEST,
            None,
            lang.pick(
                "这不是有效的电子证照标识,请核对二维码或链接。",
                "This is not a valid licence identifier; check the QR code or the link.",
            )
            .to_owned(),
        ),
        Err(error) => return page_error(lang, error),
    };
    let page = VerifyPage {
        t: lang.labels(),
        lang,
        path: here(&format!("/verify/{identifier}")),
        viewer: Viewer::maybe(session.as_ref()),
        identifier,
        result,
        problem,
    };
    (status, render(&page)).into_response()
}

#[derive(Template)]
#[template(path = "licence_print.html")]
struct PrintPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    licence: Licence,
    holder_identifier: String,
    status: String,
    valid_until: String,
    data: Vec<(String, String)>,
    verify_url: String,
    /// The QR code as inline SVG, made by the `qrcode` crate (numbers and fixed markup only).
    qr_svg: String,
}

#[derive(Debug, serde::Deserialize)]
struct PrintQuery {
    /// The case that issued the licence: staff reach the licence through the case they may see.
    case: Option<String>,
}

async fn licence_print(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    headers: HeaderMap,
    Path(identifier): Path<String>,
    Query(query): Query<PrintQuery>,
) -> Response {
    let actor = &session.actor;
    let licence = match find_licence(&state, actor, &identifier, query.case.as_deref()).await {
        Ok(licence) => licence,
        Err(error) => return page_error(lang, error),
    };
    let verify_url = format!("{}/verify/{}", site_origin(&headers), licence.identifier);
    let qr_svg = match qr_svg(&verify_url) {
        Ok(svg) => svg,
        Err(error) => return page_error(lang, error),
    };
    let lookup = state.lookup.get();
    let data = licence
        .data
        .iter()
        .map(|(code, value)| {
            let name = lookup
                .element(code)
                .map_or_else(|| code.to_string(), |e| e.name.clone());
            (name, value.clone())
        })
        .collect();
    let today = shanghai_date(state.clock.now());
    let page = PrintPage {
        t: lang.labels(),
        lang,
        path: here(&format!("/licences/{identifier}/print")),
        viewer: Some(Viewer::of(&session)),
        holder_identifier: masked_identifier(&licence.holder.identifier),
        status: licence.status_on(today).label_zh().to_owned(),
        valid_until: licence.valid_until.map_or_else(
            || lang.pick("长期", "no end date").to_owned(),
            |d| d.to_string(),
        ),
        data,
        verify_url,
        qr_svg,
        licence,
    };
    render(&page)
}

/// The licence, if the actor may see it: through a case they may see, or as its holder.
async fn find_licence(
    state: &AppState,
    actor: &Actor,
    identifier: &str,
    case: Option<&str>,
) -> Result<Licence, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::LicenceNotFound,
            format!("there is no licence {identifier} for you to see"),
        )
    };
    if let Some(case) = case {
        let view = service::get(state, actor, case).await?;
        return view
            .licence
            .filter(|l| l.identifier.as_str() == identifier)
            .ok_or_else(not_found);
    }
    let Some(holder) = actor.identifier.as_deref() else {
        return Err(not_found());
    };
    service::licences_of(state, actor, holder)
        .await?
        .into_iter()
        .find(|l| l.identifier.as_str() == identifier)
        .ok_or_else(not_found)
}

/// `http://host:port` of the request, for the QR code's absolute address.
fn site_origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// The QR code of `text` as an `<svg>` element (no XML declaration), scalable by CSS.
fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|error| ApiError::internal(&error))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR\" class=\"qr-code\" ",
        1,
    ))
}

// ---------------------------------------------------------------------------------------------
// The data-access log

struct AccessRow {
    at: String,
    who: String,
    department: String,
    purpose: String,
    what: String,
    case_id: String,
}

#[derive(Template)]
#[template(path = "data_access.html")]
struct DataAccessPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    rows: Vec<AccessRow>,
}

async fn data_access(State(state): State<AppState>, lang: Lang, session: PageSession) -> Response {
    let log = match service::my_access_log(&state, &session.actor).await {
        Ok(log) => log,
        Err(error) => return page_error(lang, error),
    };
    let lookup = state.lookup.get();
    let rows = log
        .iter()
        .map(|entry| AccessRow {
            at: local_time(&entry.at.to_string()),
            who: entry.actor_name.clone(),
            department: entry
                .department
                .as_ref()
                .map(|d| lookup.department_name(d).to_owned())
                .unwrap_or_default(),
            purpose: entry.purpose.clone(),
            what: entry.what.clone(),
            case_id: entry.case_id.map(|id| id.to_string()).unwrap_or_default(),
        })
        .collect();
    render(&DataAccessPage {
        t: lang.labels(),
        lang,
        path: here("/my/data-access"),
        viewer: Some(Viewer::of(&session)),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_china_standard_time_to_the_minute() {
        assert_eq!(local_time("2026-03-02T02:15:30Z"), "2026-03-02 10:15");
        assert_eq!(local_time("not a time"), "not a time");
    }

    #[test]
    fn state_names_get_the_domain_public_words() {
        assert_eq!(state_text(Lang::Zh, "delivered"), "已送达");
        assert_eq!(state_text(Lang::En, "in_progress"), "In progress");
        assert_eq!(state_text(Lang::Zh, "unknown"), "unknown");
    }

    #[test]
    fn the_qr_code_is_an_inline_svg_without_xml_declaration() {
        let svg = qr_svg("http://127.0.0.1:8080/verify/1.2.156.3005.2.X").unwrap_or_default();
        assert!(svg.starts_with("<svg role=\"img\""), "{svg:.60}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<?xml"));
    }

    #[test]
    fn application_problems_are_listed_one_by_one() {
        let error = ApiError::new(ErrorCode::InvalidApplication, "2 problems")
            .with_details(serde_json::json!({ "problems": ["a", "b"] }));
        assert_eq!(problems_of(&error), vec!["a", "b"]);
        let plain = ApiError::new(ErrorCode::InvalidAction, "no");
        assert_eq!(problems_of(&plain), vec!["no"]);
    }

    #[test]
    fn only_plain_host_names_make_the_qr_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            "127.0.0.1:8080"
                .parse()
                .unwrap_or(header::HeaderValue::from_static("x")),
        );
        assert_eq!(site_origin(&headers), "http://127.0.0.1:8080");
        headers.insert(
            header::HOST,
            header::HeaderValue::from_static("evil.example/<x>"),
        );
        assert_eq!(site_origin(&headers), "http://localhost");
    }
}
