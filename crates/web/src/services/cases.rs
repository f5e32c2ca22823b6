//! The case service: applications, actions on cases, case views and lists, licences. It resolves
//! what the domain needs (item version, workflow, dictionary, licences held), calls the pure
//! domain, and hands one unit of work to the store (case + events + outbox + logs together).

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::application::{Application, open_case};
use tongban_domain::cases::delivery::{Carrier, Postage, TrackingNumber};
use tongban_domain::cases::lifecycle::{Command, Context};
use tongban_domain::cases::{
    Actor, ActorKind, Applicant, ApplicantKind, Case, CaseError, CaseEvent, CaseMaterial,
    CaseState, Channel, Delivery, EventKind, Provision, apply,
};
use tongban_domain::catalog::item::{Deferral, Requirement};
use tongban_domain::catalog::{Answers, CatalogDocument, ItemDefinition, Material, VersionStatus};
use tongban_domain::ids::{CreditCode, IdNumber, ImplementationCode};
use tongban_domain::keys::{DataElementCode, HallKey, MaterialCode};
use tongban_domain::licences::{Licence, LicenceStatus};
use tongban_domain::org::Role;
use tongban_store::model::{
    AuditEntry, CaseFilter, CaseKey, CaseOrder, CasePage, CaseRecord, CaseScope, CaseWrite,
    DataAccess, OutboxMessage, StoredEvent,
};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// A material in an application: an upload, a licence held, a commitment, or paper at a window.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialInput {
    /// The material's code in the item's guide.
    pub code: String,
    /// `upload`, `licence`, `verified_document`, `commitment` or `paper`.
    pub provided_as: String,
    /// For uploads: the key returned by `POST /api/v1/uploads`.
    #[serde(default)]
    pub upload: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    /// For licences: the licence identifier (免提交).
    #[serde(default)]
    pub licence: Option<String>,
    /// For commitments (告知承诺): the text the applicant signs.
    #[serde(default)]
    pub commitment: Option<String>,
    /// For verified documents (免提交): the id of a copy of this material that a clerk checked
    /// for an earlier case of the applicant (`GET /api/v1/verified-documents`). A required
    /// material left out is attached from such a document when the applicant holds one.
    #[serde(default)]
    pub document: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryInput {
    /// `collect` (at any hall, with a pickup code) or `post`.
    pub method: String,
    #[serde(default)]
    pub hall: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// For a clerk applying on someone's behalf, or an agent under their mandate.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    /// `person` or `enterprise`.
    pub kind: String,
    pub name: String,
    /// ID number or credit code.
    pub identifier: String,
}

/// `POST /api/v1/applications`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    /// The item's implementation code (实施编码).
    pub item: String,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    #[serde(default)]
    pub materials: Vec<MaterialInput>,
    pub delivery: DeliveryInput,
    /// `web` (default for citizens), `mobile`, `window` (default for clerks), `kiosk`, `post`,
    /// `agent` (default for agents).
    #[serde(default)]
    pub channel: Option<String>,
    /// Required when a clerk applies for someone, or an agent under the applicant's mandate
    /// (帮办代办: the mandate is checked, and the applicant is taken as the mandate names them).
    #[serde(default)]
    pub applicant: Option<ApplicantInput>,
}

/// `POST /api/v1/cases/{id}/actions`: the command plus the version the actor saw.
// Materials of `resubmit` and `supply_material` may be written as in an application
// (`{"code", "provided_as": "upload", "upload": <key>}`, `"commitment": <text>`): see
// `ActionBody`. Whatever the client says about an upload, the service takes its hash, size and
// type from the store.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(try_from = "ActionBody")]
pub struct ActionRequest {
    /// The case version the actor saw; a stale one is refused with `stale_version`.
    pub version: u64,
    /// `{"action": "accept" | "request_correction" | "reject" | "approve" | "return" | "countersign" |
    /// "decide" | "suspend" | "resume" | "extend" | "transfer" | "withdraw" | "issue" | "deliver" | …, …}`
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub command: Command,
}

/// The JSON of an action as sent, before its materials are put in the domain's shape.
#[derive(Debug, Deserialize)]
struct ActionBody {
    version: u64,
    #[serde(flatten)]
    command: serde_json::Map<String, serde_json::Value>,
}

impl TryFrom<ActionBody> for ActionRequest {
    type Error = String;

    fn try_from(body: ActionBody) -> Result<ActionRequest, String> {
        let mut command = body.command;
        if let Some(materials) = command
            .get_mut("materials")
            .and_then(serde_json::Value::as_array_mut)
        {
            materials.iter_mut().for_each(material_as_provided);
        }
        if let Some(material) = command.get_mut("material") {
            material_as_provided(material);
        }
        let command = serde_json::from_value(serde_json::Value::Object(command))
            .map_err(|e| e.to_string())?;
        Ok(ActionRequest {
            version: body.version,
            command,
        })
    }
}

/// Rewrites a material given as in an application into the domain's [`CaseMaterial`]; the
/// name and the upload's hash, size and type are filled in by the service from the catalog
/// and the store.
fn material_as_provided(material: &mut serde_json::Value) {
    let Some(fields) = material.as_object_mut() else {
        return;
    };
    if !fields.contains_key("name") {
        let code = fields.get("code").cloned().unwrap_or_default();
        fields.insert("name".into(), code);
    }
    if let Some(text) = fields.remove("commitment")
        && !fields.contains_key("text")
    {
        fields.insert("text".into(), text);
    }
    // A verified document is named by its id; what it says is taken from the store.
    if fields
        .get("provided_as")
        .and_then(serde_json::Value::as_str)
        == Some("verified_document")
    {
        for (field, placeholder) in [
            ("source_case", serde_json::json!("")),
            ("verified_by", serde_json::json!("")),
            ("valid_until", serde_json::json!("2000-01-01")),
        ] {
            fields.entry(field).or_insert(placeholder);
        }
    }
    if let Some(key) = fields.remove("upload")
        && !fields.contains_key("object_key")
    {
        fields.insert("object_key".into(), key);
        for (field, empty) in [
            ("sha256", serde_json::json!("")),
            ("size", serde_json::json!(0)),
            ("content_type", serde_json::json!("")),
            ("file_name", serde_json::json!("")),
        ] {
            fields.entry(field).or_insert(empty);
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StateView {
    pub code: String,
    pub text: String,
    pub text_en: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepView {
    pub index: usize,
    pub code: String,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub at: String,
    pub event: String,
    /// Plain words for citizens (internal events have none).
    pub text: Option<String>,
    pub actor: String,
    pub department: Option<String>,
    pub public: bool,
    /// Staff only: the event with its internal details (opinions).
    #[schema(value_type = Object)]
    pub detail: Option<serde_json::Value>,
    /// Set when an agent acted for the applicant ("由代办员 X 代 Y 办理").
    pub agent: Option<AgentNote>,
}

/// The whole case in one response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    pub number: String,
    pub version: u64,
    pub item_code: String,
    pub item_name: String,
    pub item_version: u32,
    pub department: String,
    pub department_name: String,
    pub applicant_name: String,
    pub applicant_identifier: String,
    pub state: StateView,
    pub step: Option<StepView>,
    pub channel: String,
    pub hall: Option<String>,
    pub submitted_at: String,
    pub accepted_on: Option<String>,
    pub promised_due: Option<String>,
    pub statutory_due: Option<String>,
    /// `normal`, `yellow` or `red` while the case is handled.
    pub warning: Option<String>,
    pub extension_days: u32,
    pub clock_stopped: bool,
    #[schema(value_type = Object)]
    pub case: Case,
    pub timeline: Vec<TimelineEntry>,
    #[schema(value_type = Option<Object>)]
    pub licence: Option<Licence>,
    /// Visits (check-ins at a hall) counted for this case: its real trips (到现场次数).
    pub trips: u32,
    /// The agent who applied for the applicant (帮办代办), if one did.
    pub agent: Option<AgentNote>,
    /// Once the case can be rated: the invitation, always addressed to the applicant — never
    /// to an agent who acted for them.
    pub rating_invitation: Option<RatingInvitation>,
    /// How the result reaches the applicant: postage, pickup code (the applicant only) and the
    /// tracking timeline of a posted result.
    pub delivery: super::delivery::DeliveryView,
}

/// "由代办员 X 代 Y 办理": an agent acted for the applicant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentNote {
    pub agent: String,
    pub agent_name: String,
    pub applicant_name: String,
    pub mandate: String,
    pub text: String,
    pub text_en: String,
}

/// Whom a case's rating (好差评) invitation goes to: the applicant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingInvitation {
    /// The applicant's account, when they have one.
    pub account: Option<String>,
    pub name: String,
    /// Where the applicant rates.
    pub link: String,
}

fn agent_note(event: &CaseEvent) -> Option<AgentNote> {
    let on_behalf = event.on_behalf.as_ref()?;
    Some(AgentNote {
        agent: event.actor.to_string(),
        agent_name: event.actor_name.clone(),
        applicant_name: on_behalf.applicant_name.clone(),
        mandate: on_behalf.mandate.to_string(),
        text: format!(
            "由代办员 {} 代 {} 办理",
            event.actor_name, on_behalf.applicant_name
        ),
        text_en: format!(
            "by agent {} for applicant {}",
            event.actor_name, on_behalf.applicant_name
        ),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseList {
    #[schema(value_type = Vec<Object>)]
    pub cases: Vec<tongban_store::model::CaseSummary>,
    pub next: Option<String>,
}

/// What an upload returns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadReceipt {
    pub upload: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

/// The largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// Accepted file types, recognised by their first bytes (not by what the client claims).
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(("image/png", "png"))
    } else {
        None
    }
}

fn content_type_of(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("pdf") => "application/pdf",
        Some("jpg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Stores an uploaded file under its SHA-256 (the same file uploaded twice is stored once).
pub async fn upload(
    state: &AppState,
    declared_type: Option<&str>,
    bytes: Vec<u8>,
) -> Result<UploadReceipt, ApiError> {
    use sha2::Digest;
    if bytes.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidBody, "the upload is empty"));
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "an upload is at most {} MiB",
                MAX_UPLOAD_BYTES / 1024 / 1024
            ),
        ));
    }
    let Some((content_type, extension)) = sniff(&bytes) else {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "only PDF, JPEG and PNG files are accepted",
        ));
    };
    if let Some(declared) = declared_type
        && !declared.starts_with(content_type)
        && declared != "application/octet-stream"
    {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("the file is {content_type}, not {declared}"),
        ));
    }
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let key = format!("materials/{sha256}.{extension}");
    let size = bytes.len() as u64;
    state
        .objects
        .put(&object_store::path::Path::from(key.as_str()), bytes.into())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(UploadReceipt {
        upload: key,
        sha256,
        size,
        content_type: content_type.to_owned(),
    })
}

pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidApplication, message)
}

pub(crate) fn channel_of(text: Option<&str>, actor: &Actor) -> Result<Channel, ApiError> {
    let default = if actor.has_role(Role::Clerk, None) {
        "window"
    } else if super::agents::is_agent(actor) {
        "agent"
    } else {
        "web"
    };
    match text.unwrap_or(default) {
        "web" => Ok(Channel::Web),
        "mobile" => Ok(Channel::Mobile),
        "window" => Ok(Channel::Window),
        "kiosk" => Ok(Channel::Kiosk),
        "post" => Ok(Channel::Post),
        "agent" => Ok(Channel::Agent),
        other => Err(invalid(format!(
            "channel {other:?} is not web, mobile, window, kiosk, post or agent"
        ))),
    }
}

pub(crate) fn applicant_of(
    actor: &Actor,
    input: Option<&ApplicantInput>,
) -> Result<Applicant, ApiError> {
    match (actor.kind, input) {
        (ActorKind::Person | ActorKind::Enterprise, None) => Ok(Applicant {
            kind: if actor.kind == ActorKind::Person {
                ApplicantKind::Person
            } else {
                ApplicantKind::Enterprise
            },
            name: actor.name.clone(),
            identifier: actor
                .identifier
                .clone()
                .ok_or_else(|| invalid("this account has no ID number or credit code"))?,
            account: Some(actor.account.clone()),
        }),
        (ActorKind::Staff, Some(input)) => {
            let kind = match input.kind.as_str() {
                "person" => {
                    IdNumber::parse(&input.identifier)
                        .map_err(|e| invalid(format!("applicant: {e}")))?;
                    ApplicantKind::Person
                }
                "enterprise" => {
                    CreditCode::parse(&input.identifier)
                        .map_err(|e| invalid(format!("applicant: {e}")))?;
                    ApplicantKind::Enterprise
                }
                other => {
                    return Err(invalid(format!(
                        "applicant kind {other:?} is not person or enterprise"
                    )));
                }
            };
            if input.name.trim().is_empty() {
                return Err(invalid("the applicant's name is required"));
            }
            Ok(Applicant {
                kind,
                name: input.name.trim().to_owned(),
                identifier: input.identifier.to_uppercase(),
                account: None,
            })
        }
        (ActorKind::Staff, None) => Err(invalid(
            "a clerk or an agent applying for someone gives the applicant",
        )),
        (_, Some(_)) => Err(invalid(
            "only a clerk, or an agent under a mandate, applies for someone else",
        )),
        (ActorKind::System, None) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "department systems do not apply",
        )),
    }
}

fn pickup_code() -> String {
    use rand::RngExt;
    let number: u32 = rand::rng().random_range(0..1_000_000);
    format!("{number:06}")
}

/// The delivery an application asks for. The postage of a posted result is the policy of the
/// item (or bundle) applied for, never the applicant's say.
pub(crate) fn delivery_of(
    state: &AppState,
    input: &DeliveryInput,
    postage: Postage,
) -> Result<Delivery, ApiError> {
    match input.method.as_str() {
        "collect" => {
            let hall = input
                .hall
                .as_deref()
                .ok_or_else(|| invalid("collection needs a hall"))?;
            let hall = HallKey::parse(hall).map_err(|e| invalid(e.to_string()))?;
            if state.lookup.get().hall(&hall).is_none() {
                return Err(invalid(format!("there is no hall {hall}")));
            }
            Ok(Delivery::Collect {
                hall,
                pickup_code: pickup_code(),
            })
        }
        "post" => Ok(Delivery::Post {
            recipient: input.recipient.clone().unwrap_or_default(),
            phone: input.phone.clone().unwrap_or_default(),
            address: input.address.clone().unwrap_or_default(),
            postage,
        }),
        other => Err(invalid(format!(
            "delivery method {other:?} is not collect or post"
        ))),
    }
}

pub(crate) fn access(
    actor: &Actor,
    subject: &str,
    case: Option<&Case>,
    purpose: &str,
    what: &str,
    at: Timestamp,
) -> DataAccess {
    DataAccess {
        id: new_id(at),
        at,
        subject: subject.to_owned(),
        actor: actor.account.to_string(),
        actor_name: actor.name.clone(),
        department: case.map(|c| c.department.clone()),
        case_id: case.map(|c| c.id),
        purpose: purpose.to_owned(),
        what: what.to_owned(),
    }
}

/// A UUIDv7 from the injected clock's time.
pub fn new_id(at: Timestamp) -> uuid::Uuid {
    let seconds = u64::try_from(at.as_second()).unwrap_or(0);
    let nanos = u32::try_from(at.subsec_nanosecond()).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos))
}

/// One outbox message per event. The dispatcher reads the outbox in (created_at, id) order, and
/// the events of one change share their instant, so the ids are handed out in ascending order:
/// random UUIDv7 tails alone would deliver e.g. `case.returned` before the `case.countersigned`
/// that caused it.
pub(crate) fn outbox_for(case: &Case, events: &[CaseEvent]) -> Vec<OutboxMessage> {
    let mut ids: Vec<uuid::Uuid> = events.iter().map(|event| new_id(event.at)).collect();
    ids.sort_unstable();
    events
        .iter()
        .zip(ids)
        .map(|(event, id)| OutboxMessage {
            id,
            topic: format!("case.{}", event.kind.name()),
            case_id: Some(case.id),
            department: Some(case.department.clone()),
            payload: serde_json::json!({
                "case_id": case.id,
                "number": case.number,
                "item_code": case.item_code,
                "department": case.department,
                "state": case.state.name(),
                "version": case.version,
                "event": event,
            }),
            created_at: event.at,
        })
        .collect()
}

pub fn audit_for(actor: &Actor, case: &Case, action: &str, at: Timestamp) -> Vec<AuditEntry> {
    if actor.kind != ActorKind::Staff && actor.kind != ActorKind::System {
        return Vec::new();
    }
    vec![AuditEntry {
        id: new_id(at),
        at,
        actor: actor.account.to_string(),
        action: action.to_owned(),
        target: case.number.clone(),
        department: Some(case.department.clone()),
        detail: case.state.name().to_owned(),
    }]
}

/// Submits an application; returns the new case.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    request: ApplicationRequest,
) -> Result<CaseView, ApiError> {
    let code = ImplementationCode::parse(&request.item)
        .map_err(|e| ApiError::new(ErrorCode::InvalidItemCode, e.to_string()))?;
    let Some(record) = state.store.catalog.item(&code).await? else {
        return Err(ApiError::new(
            ErrorCode::ItemNotFound,
            format!("there is no published item {code}"),
        ));
    };
    let applicant = applicant_of(actor, request.applicant.as_ref())?;
    // 帮办代办: an agent applies only under a mandate that covers this applicant and item today,
    // for the applicant as the mandate names them.
    match super::agents::acting_for(state, actor, &applicant.identifier, Some(&code)).await? {
        Some(proxy) => {
            open(
                state,
                &proxy.actor,
                proxy.mandate.principal,
                &record,
                request,
            )
            .await
        }
        None => open(state, actor, applicant, &record, request).await,
    }
}

/// Opens the case of an application by `actor` (an agent carrying whom they act for).
async fn open(
    state: &AppState,
    actor: &Actor,
    applicant: Applicant,
    record: &tongban_store::model::ItemRecord,
    request: ApplicationRequest,
) -> Result<CaseView, ApiError> {
    let item = &record.definition;
    let lookup = state.lookup.get();
    let workflow_key = CatalogDocument::workflow_key_of(item);
    let Some(workflow) = lookup
        .vocabulary
        .workflows
        .iter()
        .find(|w| w.key.as_str() == workflow_key)
    else {
        return Err(ApiError::internal(&format!(
            "workflow {workflow_key} is missing"
        )));
    };
    let answers = super::catalog::answers_from(
        &item.questions,
        request
            .answers
            .iter()
            .map(|(q, o)| (q.as_str(), o.as_str())),
    )?;
    let channel = channel_of(request.channel.as_deref(), actor)?;
    let now = state.clock.now();
    let mut form = BTreeMap::new();
    for (code, value) in &request.form {
        let code = DataElementCode::parse(code).map_err(|e| invalid(e.to_string()))?;
        form.insert(code, value.trim().to_owned());
    }
    let id = new_id(now);
    let (mut materials, mut accesses) = resolve_materials(
        state,
        actor,
        item,
        &applicant,
        &request.materials,
        Some(id),
        now,
    )
    .await?;
    // Once-only: what a clerk checked for an earlier case is not asked again.
    accesses.extend(
        super::documents::attach_held(
            state,
            actor,
            item,
            &answers,
            &applicant,
            id,
            &mut materials,
            now,
        )
        .await?,
    );
    let elements = lookup
        .vocabulary
        .data_elements
        .iter()
        .map(|e| (&e.code, e))
        .collect();
    let application = Application {
        id,
        item,
        item_version: record.version.version,
        workflow,
        elements: &elements,
        applicant,
        channel,
        hall: actor.clerk_hall().cloned(),
        answers,
        form,
        materials,
        delivery: delivery_of(state, &request.delivery, Postage::for_item(item))?,
    };
    let context = Context {
        actor,
        now,
        calendar: &state.calendar,
    };
    // Every question that applies must be answered: the answers decide which fields and
    // materials are required, so leaving one out would skip its requirements unnoticed.
    let mut problems = unanswered_questions(item, &application.answers);
    let outcome = match open_case(application, &context) {
        Ok(outcome) if problems.is_empty() => outcome,
        Ok(_) => return Err(CaseError::InvalidApplication(problems).into()),
        Err(CaseError::InvalidApplication(more)) => {
            problems.extend(more);
            return Err(CaseError::InvalidApplication(problems).into());
        }
        Err(error) => return Err(error.into()),
    };
    let case = outcome.case;
    // The store assigns the case number in the same transaction and writes it into the
    // outbox payloads and audit targets (they are built before the number exists).
    let events = outcome.events.clone();
    let write = CaseWrite {
        outbox: outbox_for(&case, &outcome.events),
        audit: audit_for(actor, &case, "submit", now),
        access: accesses,
        events: outcome.events,
        licence: None,
        case: Some(case),
        documents: Vec::new(),
        revoked: Vec::new(),
    };
    let case = state.store.cases.create_case(write).await?;
    // Taken at a window: the applicant's visit today counts as a trip of this case.
    let trips = super::halls::link_window_case(state, actor, &case).await?;
    let record = CaseRecord::new_case(case, &events, trips);
    state.recent_cases.keep(&record);
    view(state, actor, record, None, false).await
}

/// The questions that apply to these answers (their own condition holds) but were not answered.
pub(crate) fn unanswered_questions(item: &ItemDefinition, answers: &Answers) -> Vec<String> {
    item.questions
        .iter()
        .filter(|q| {
            q.when.as_ref().is_none_or(|c| c.holds(answers)) && !answers.contains_key(&q.code)
        })
        .map(|q| format!("the question {} ({}) must be answered", q.text, q.code))
        .collect()
}

/// Checks each material input and turns it into a provision; licence references must be the
/// applicant's own, valid, of the type that replaces the material. Reading a licence is logged.
pub(crate) async fn resolve_materials(
    state: &AppState,
    actor: &Actor,
    item: &ItemDefinition,
    applicant: &Applicant,
    inputs: &[MaterialInput],
    case_id: Option<uuid::Uuid>,
    now: Timestamp,
) -> Result<(Vec<CaseMaterial>, Vec<DataAccess>), ApiError> {
    let mut materials = Vec::new();
    let mut accesses = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for input in inputs {
        let code = MaterialCode::parse(&input.code).map_err(|e| invalid(e.to_string()))?;
        if !seen.insert(code.clone()) {
            return Err(invalid(format!("material {code} is given twice")));
        }
        let definition = item.materials.iter().find(|m| m.code == code);
        let name = definition.map_or_else(|| code.to_string(), |m| m.name.clone());
        let provision = match input.provided_as.as_str() {
            "upload" => {
                let key = input
                    .upload
                    .as_deref()
                    .ok_or_else(|| invalid(format!("{code}: the upload key is missing")))?;
                let file_name = input.file_name.clone().unwrap_or_else(|| name.clone());
                stored_upload(state, &code, key, &file_name)
                    .await
                    .map_err(invalid)?
            }
            "licence" => {
                let identifier = input
                    .licence
                    .as_deref()
                    .ok_or_else(|| invalid(format!("{code}: the licence is missing")))?;
                let licence =
                    held_licence(state, &code, identifier, definition, applicant, now).await?;
                accesses.extend(licence_access(actor, applicant, item, &licence, now));
                Provision::Licence {
                    licence: licence.identifier,
                }
            }
            "verified_document" => {
                let id = input
                    .document
                    .as_deref()
                    .ok_or_else(|| invalid(format!("{code}: the verified document is missing")))?;
                let document = super::documents::named(state, &code, id, applicant, now).await?;
                let (provision, read) =
                    super::documents::attach(state, actor, item, &document, case_id, now);
                accesses.push(read);
                provision
            }
            "commitment" => Provision::Commitment {
                text: input.commitment.clone().unwrap_or_default(),
            },
            "paper" => Provision::Paper,
            other => {
                return Err(invalid(format!(
                    "{code}: provided_as {other:?} is not upload, licence, verified_document, commitment or paper"
                )));
            }
        };
        materials.push(CaseMaterial {
            code,
            name,
            provision,
        });
    }
    Ok((materials, accesses))
}

/// The provision of an uploaded file, from what is stored under its key (never from what the
/// client says about it): the key names the SHA-256 and the type, the store knows the size.
async fn stored_upload(
    state: &AppState,
    code: &MaterialCode,
    key: &str,
    file_name: &str,
) -> Result<Provision, String> {
    let sha256 = key
        .strip_prefix("materials/")
        .and_then(|rest| rest.split_once('.'))
        .map(|(hash, _)| hash)
        .filter(|hash| hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("{code}: {key:?} is not an upload key"))?;
    let content_type = content_type_of(key);
    if content_type == "application/octet-stream" {
        return Err(format!("{code}: {key:?} is not an upload key"));
    }
    let meta = state
        .objects
        .head(&object_store::path::Path::from(key))
        .await
        .map_err(|_| format!("{code}: no upload {key}; upload the file first"))?;
    let file_name = file_name.trim();
    Ok(Provision::Upload {
        object_key: key.to_owned(),
        sha256: sha256.to_owned(),
        size: meta.size,
        content_type: content_type.to_owned(),
        file_name: if file_name.is_empty() {
            code.to_string()
        } else {
            file_name.to_owned()
        },
    })
}

/// A licence that may replace a material: the applicant's own, valid today, of the type the
/// material names.
async fn held_licence(
    state: &AppState,
    code: &MaterialCode,
    identifier: &str,
    definition: Option<&Material>,
    applicant: &Applicant,
    now: Timestamp,
) -> Result<Licence, ApiError> {
    let Some(licence) = state.store.cases.licence(identifier).await? else {
        return Err(invalid(format!("{code}: there is no licence {identifier}")));
    };
    if licence.holder.identifier != applicant.identifier {
        return Err(invalid(format!(
            "{code}: licence {identifier} is not the applicant's"
        )));
    }
    if licence.status_on(shanghai_date(now)) != LicenceStatus::Valid {
        return Err(invalid(format!(
            "{code}: licence {identifier} is not valid"
        )));
    }
    let wanted = definition.and_then(|m| m.replaced_by_licence.as_ref());
    if wanted != Some(&licence.type_key) {
        return Err(invalid(format!(
            "{code}: a {} does not replace this material",
            licence.name
        )));
    }
    Ok(licence)
}

/// The log entry of a licence read on an applicant's behalf; none when applicants use their own
/// licence themselves (the log records reads of a person's data by someone else).
fn licence_access(
    actor: &Actor,
    applicant: &Applicant,
    item: &ItemDefinition,
    licence: &Licence,
    now: Timestamp,
) -> Option<DataAccess> {
    if actor.is_applicant(applicant) {
        return None;
    }
    Some(access(
        actor,
        &applicant.identifier,
        None,
        &format!("申请{}时引用证照(免提交)", item.name),
        &licence.name,
        now,
    ))
}

/// The case's answers as the pinned item version understands them.
fn answers_of(item: &ItemDefinition, case: &Case) -> Result<Answers, ApiError> {
    super::catalog::answers_from(
        &item.questions,
        case.answers.iter().map(|(q, o)| (q.as_str(), o.as_str())),
    )
}

/// Checks materials handed in after the application (a correction answered, a 容缺 material
/// supplied) as strictly as the application's own: a material the item asks for these answers,
/// an upload that exists (its hash, size and type are taken from the store, not the client), a
/// licence of the applicant, a commitment only where allowed, paper only at a window. Every
/// problem is reported at once. Licence reads are returned for the data-access log.
async fn check_handed_in(
    state: &AppState,
    actor: &Actor,
    case: &Case,
    item: &ItemDefinition,
    materials: &mut [CaseMaterial],
    now: Timestamp,
) -> Result<Vec<DataAccess>, ApiError> {
    let answers = answers_of(item, case)?;
    let needed: Vec<&Material> = item.materials_for(&answers).collect();
    let clerk = actor.has_role(Role::Clerk, None);
    let mut problems = Vec::new();
    let mut accesses = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for material in materials.iter_mut() {
        let Some(definition) = needed.iter().find(|m| m.code == material.code) else {
            problems.push(format!(
                "material {} is not asked by this item for these answers",
                material.code
            ));
            continue;
        };
        if !seen.insert(material.code.clone()) {
            problems.push(format!("material {} is given twice", material.code));
            continue;
        }
        material.name = definition.name.clone();
        match &material.provision {
            Provision::Upload {
                object_key,
                file_name,
                ..
            } => match stored_upload(state, &material.code, object_key, file_name).await {
                Ok(provision) => material.provision = provision,
                Err(problem) => problems.push(problem),
            },
            Provision::Licence { licence } => {
                match held_licence(
                    state,
                    &material.code,
                    licence.as_str(),
                    Some(definition),
                    &case.applicant,
                    now,
                )
                .await
                {
                    Ok(licence) => {
                        accesses.extend(licence_access(
                            actor,
                            &case.applicant,
                            item,
                            &licence,
                            now,
                        ));
                    }
                    Err(error) if error.code == ErrorCode::InvalidApplication => {
                        problems.push(error.message)
                    }
                    Err(error) => return Err(error),
                }
            }
            Provision::VerifiedDocument { document, .. } => {
                let id = document.to_string();
                match super::documents::named(state, &material.code, &id, &case.applicant, now)
                    .await
                {
                    Ok(held) => {
                        let (provision, read) =
                            super::documents::attach(state, actor, item, &held, Some(case.id), now);
                        material.provision = provision;
                        accesses.push(read);
                    }
                    Err(error) if error.code == ErrorCode::InvalidApplication => {
                        problems.push(error.message)
                    }
                    Err(error) => return Err(error),
                }
            }
            Provision::Commitment { text } => {
                if !definition.deferral.contains(&Deferral::Commitment) {
                    problems.push(format!(
                        "{} cannot be replaced by a commitment (告知承诺)",
                        definition.name
                    ));
                } else if text.trim().is_empty() {
                    problems.push(format!("the commitment for {} is empty", definition.name));
                }
            }
            Provision::Tolerated { .. } => problems.push(format!(
                "{} can only be accepted as missing (容缺) by the clerk at acceptance",
                definition.name
            )),
            Provision::Paper if !clerk => {
                problems.push(format!(
                    "paper copies of {} are checked at a window",
                    definition.name
                ));
            }
            Provision::Paper => {}
        }
    }
    if !problems.is_empty() {
        return Err(CaseError::InvalidApplication(problems).into());
    }
    Ok(accesses)
}

/// Before acceptance: a material may be accepted as missing (容缺) only if the item allows it;
/// one missing from the application gets its entry here (the clerk gives its due date); and no
/// required material may be silently missing — it is tolerated or a correction is asked for.
fn prepare_acceptance(
    item: &ItemDefinition,
    case: &mut Case,
    tolerated: &[tongban_domain::cases::lifecycle::ToleratedMaterial],
) -> Result<(), ApiError> {
    let answers = answers_of(item, case)?;
    let needed: Vec<&Material> = item.materials_for(&answers).collect();
    for entry in tolerated {
        let Some(definition) = needed
            .iter()
            .find(|m| m.code == entry.material && m.deferral.contains(&Deferral::Tolerated))
        else {
            return Err(ApiError::new(
                ErrorCode::InvalidAction,
                format!(
                    "material {} cannot be accepted as missing (容缺)",
                    entry.material
                ),
            ));
        };
        if !case.materials.iter().any(|m| m.code == entry.material) {
            case.materials.push(CaseMaterial {
                code: entry.material.clone(),
                name: definition.name.clone(),
                provision: Provision::Tolerated { due: entry.due },
            });
        }
    }
    let missing: Vec<String> = needed
        .iter()
        .filter(|m| {
            matches!(
                m.requirement,
                Requirement::Required | Requirement::Conditional
            )
        })
        .filter(|m| !case.materials.iter().any(|c| c.code == m.code))
        // The office fetches these from the shared record itself (once-only).
        .filter(|m| !m.checked_by_office())
        .map(|m| format!("{} ({})", m.name, m.code))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidAction,
            format!(
                "required materials are missing: {}; accept them as tolerated (容缺) with a due date, or ask for a correction",
                missing.join(", ")
            ),
        )
        .with_details(serde_json::json!({ "missing": missing })));
    }
    Ok(())
}

/// Whether the actor may see the case at all (others get 404, not 403: no probing).
pub fn can_see(actor: &Actor, case: &Case) -> bool {
    if actor.is_applicant(&case.applicant) {
        return true;
    }
    actor.roles.iter().any(|assignment| match assignment.role {
        Role::Administrator | Role::Supervisor => true,
        Role::Clerk => true,
        Role::Approver | Role::ChiefRepresentative | Role::Handler => assignment
            .department
            .as_ref()
            .is_none_or(|d| *d == case.department || case.co_departments.contains(d)),
        _ => false,
    })
}

/// The case with its history and trips, and the actor as they act on it: an agent comes back
/// carrying whom they act for, after the mandate check ([`super::agents::acting_for`]), on
/// every read and every action. Without any mandate from the applicant the agent gets 404 like
/// anyone else; with one that does not hold (expired, revoked, another item)
/// `no_valid_mandate` says why. One statement reads all of it: the view after an action adds
/// the action's events instead of reading them back.
async fn load(state: &AppState, actor: &Actor, id: &str) -> Result<(CaseRecord, Actor), ApiError> {
    let not_found = || ApiError::new(ErrorCode::CaseNotFound, format!("there is no case {id}"));
    let key = match uuid::Uuid::parse_str(id) {
        Ok(uuid) => CaseKey::Id(uuid),
        Err(_) => CaseKey::Number(id.to_owned()),
    };
    let Some(record) = state.store.cases.case_record(&key).await? else {
        return Err(not_found());
    };
    let case = &record.case;
    if can_see(actor, case) {
        return Ok((record, actor.clone()));
    }
    match super::agents::acting_for(
        state,
        actor,
        &case.applicant.identifier,
        Some(&case.item_code),
    )
    .await
    {
        Ok(Some(proxy)) => Ok((record, proxy.actor)),
        Ok(None) => Err(not_found()),
        Err(error) if super::agents::is_no_mandate_at_all(&error) => Err(not_found()),
        Err(error) => Err(error),
    }
}

/// The cases this process wrote last, as their writes left them, so that the next action on
/// one starts without reading the case and its whole history again (that read was a third of
/// an action's cost on PostgreSQL). A record is used only for an action on the very version it
/// holds, and the write that follows is conditional on the stored case still being at that
/// version: a case changed meanwhile by another path or another server process makes the
/// write fail as stale, as it would have anyway, and the record is forgotten. Visits are linked
/// to cases without a new version, so the write answers the trips counted then (`save_case`).
/// Closed cases are not kept.
///
/// Only on PostgreSQL, where the read is a round trip to the server and its CPU: on SQLite a
/// read is a call into the process's own page cache, and keeping records measured slower
/// there (`tongban bench lifecycle`: 386 against 276 cases/s; docs/benchmarks.md).
#[derive(Debug)]
pub struct RecentCases {
    enabled: bool,
    records: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, CaseRecord>>,
}

/// Enough for the cases in hand at once on a busy server; past it the list starts again.
const RECENT_CASES_KEPT: usize = 4096;

impl RecentCases {
    /// Keeping records on `engine` (PostgreSQL), or not at all.
    pub fn for_engine(engine: tongban_store::Engine) -> RecentCases {
        RecentCases {
            enabled: engine == tongban_store::Engine::Postgres,
            records: std::sync::Mutex::default(),
        }
    }

    /// The record of case `id` if this process kept it at `version`.
    fn at_version(&self, id: uuid::Uuid, version: u64) -> Option<CaseRecord> {
        if !self.enabled {
            return None;
        }
        let records = self.records.lock().ok()?;
        let record = records.get(&id)?;
        (record.case.version == version).then(|| record.clone())
    }

    /// Keeps `record`, just written (or forgets its case once closed).
    fn keep(&self, record: &CaseRecord) {
        if !self.enabled {
            return;
        }
        let Ok(mut records) = self.records.lock() else {
            return;
        };
        let id = record.case.id;
        if record.case.closed_at.is_some() {
            records.remove(&id);
            return;
        }
        if records.len() >= RECENT_CASES_KEPT && !records.contains_key(&id) {
            records.clear();
        }
        records.insert(id, record.clone());
    }

    fn forget(&self, id: uuid::Uuid) {
        if let Ok(mut records) = self.records.lock() {
            records.remove(&id);
        }
    }
}

/// Published item versions that cases are pinned to, kept in memory: a published version never
/// changes (editing writes a new version), and every action that looks at the item's rules
/// would otherwise read and decode the same definition again.
#[derive(Debug, Default)]
pub struct PinnedItems {
    items: std::sync::RwLock<
        std::collections::HashMap<(ImplementationCode, u32), Arc<ItemDefinition>>,
    >,
}

/// Enough for every version of a large catalog; past it the cache starts again.
const PINNED_ITEMS_KEPT: usize = 4096;

impl PinnedItems {
    fn get(&self, code: &ImplementationCode, version: u32) -> Option<Arc<ItemDefinition>> {
        let items = self.items.read().ok()?;
        items.get(&(code.clone(), version)).cloned()
    }

    fn insert(&self, code: &ImplementationCode, version: u32, item: Arc<ItemDefinition>) {
        if let Ok(mut items) = self.items.write() {
            if items.len() >= PINNED_ITEMS_KEPT {
                items.clear();
            }
            items.insert((code.clone(), version), item);
        }
    }
}

/// The whole case as `actor` may see it. Staff reads of a person's case are logged for them.
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<CaseView, ApiError> {
    Ok(get_as(state, actor, id).await?.0)
}

/// The case view and the actor as they may act on it (an agent carrying whom they act for):
/// pages offer the actions of that actor.
pub async fn get_as(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(CaseView, Actor), ApiError> {
    let (record, acting) = load(state, actor, id).await?;
    let view = view(state, &acting, record, None, true).await?;
    Ok((view, acting))
}

/// The view of a case as `actor` may see it. `minted` is the case's licence when the caller
/// has just issued it (else it is read).
async fn view(
    state: &AppState,
    actor: &Actor,
    record: CaseRecord,
    minted: Option<Licence>,
    log_read: bool,
) -> Result<CaseView, ApiError> {
    let CaseRecord {
        case,
        events,
        trips,
    } = record;
    let now = state.clock.now();
    let own = actor.is_applicant(&case.applicant);
    // An agent acting for the applicant sees what the applicant sees, never internal notes.
    let for_applicant = own || actor.is_agent_for(&case.applicant);
    if log_read && !own {
        state
            .store
            .cases
            .record(
                Vec::new(),
                vec![access(
                    actor,
                    &case.applicant.identifier,
                    Some(&case),
                    "查看办件",
                    "办件信息",
                    now,
                )],
            )
            .await?;
    }
    let licence = match (&case.licence, minted) {
        (Some(identifier), Some(minted)) if minted.identifier == *identifier => Some(minted),
        (Some(identifier), _) => state.store.cases.licence(identifier.as_str()).await?,
        (None, _) => None,
    };
    let lookup = state.lookup.get();
    let today = shanghai_date(now);
    let warning = warning_of(state, &case, today);
    let (text, text_en) = case.state.public_text();
    let timeline: Vec<TimelineEntry> = events
        .iter()
        .filter(|stored| {
            stored.public
                || (!for_applicant && matches!(actor.kind, ActorKind::Staff | ActorKind::System))
        })
        .map(|stored| {
            timeline_entry(
                &lookup,
                stored,
                for_applicant,
                case.applicant.account.as_ref(),
            )
        })
        .collect();
    let agent = events
        .iter()
        .find(|stored| matches!(stored.event.kind, EventKind::Submitted { .. }))
        .and_then(|stored| agent_note(&stored.event));
    let rating_invitation = super::feedback::rateable(&case).then(|| RatingInvitation {
        account: case.applicant.account.as_ref().map(ToString::to_string),
        name: case.applicant.name.clone(),
        link: format!("/cases/{}/rate", case.number),
    });
    let delivery = super::delivery::delivery_view(&lookup, &case, own);
    let mut case = case;
    if !own {
        super::delivery::without_pickup_code(&mut case);
    }
    Ok(CaseView {
        trips,
        agent,
        rating_invitation,
        delivery,
        id: case.id.to_string(),
        number: case.number.clone(),
        version: case.version,
        item_code: case.item_code.to_string(),
        item_name: case.item_name.clone(),
        item_version: case.item_version,
        department: case.department.to_string(),
        department_name: lookup.department_name(&case.department).to_owned(),
        applicant_name: case.applicant.name.clone(),
        applicant_identifier: case.applicant.identifier.clone(),
        state: StateView {
            code: case.state.name().to_owned(),
            text: text.to_owned(),
            text_en: text_en.to_owned(),
        },
        step: case.current_step().map(|(index, step)| StepView {
            index,
            code: step.code.to_string(),
            name: step.name.clone(),
            role: serde_json::to_value(step.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }),
        channel: serde_json::to_value(case.channel)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        hall: case.hall.as_ref().map(ToString::to_string),
        submitted_at: case.submitted_at.to_string(),
        accepted_on: case.accepted_on.map(|d| d.to_string()),
        promised_due: case.promised_due.map(|d| d.to_string()),
        statutory_due: case.statutory_due.map(|d| d.to_string()),
        warning,
        extension_days: case.extension_days,
        clock_stopped: case.suspended_since.is_some(),
        timeline,
        licence,
        case,
    })
}

/// The warning of a case being handled: against the promised date, or, while a special
/// procedure pauses the clock, against that date moved by the days paused so far (a paused case
/// does not run late). None while the clock waits for the applicant or once decided.
fn warning_of(state: &AppState, case: &Case, today: jiff::civil::Date) -> Option<String> {
    let (Some(accepted_on), Some(promised_due)) = (case.accepted_on, case.promised_due) else {
        return None;
    };
    let due = match case.state {
        CaseState::InProgress { .. } => promised_due,
        CaseState::Suspended { .. } => tongban_domain::cases::deadline::due_date(
            &state.calendar,
            accepted_on,
            &case.promised_limit,
            case.extension_days,
            &case.suspensions_until(today),
        )
        .ok()?,
        _ => return None,
    };
    tongban_domain::cases::deadline::warning(
        &state.calendar,
        today,
        due,
        case.promised_limit.approximate_working_days(),
    )
    .ok()
    .map(|w| w.as_str().to_owned())
}

fn timeline_entry(
    lookup: &crate::lookup::Lookup,
    stored: &StoredEvent,
    for_applicant: bool,
    applicant_account: Option<&tongban_domain::keys::AccountName>,
) -> TimelineEntry {
    let event = &stored.event;
    TimelineEntry {
        at: event.at.to_string(),
        event: event.kind.name().to_owned(),
        text: event.kind.public_text(),
        // Citizens see the acting office, never a staff member's name: the department, the
        // applicant themself (an online submission), or the window.
        actor: if for_applicant {
            match (&event.department, applicant_account, &event.on_behalf) {
                (Some(department), _, _) => lookup.department_name(department).to_owned(),
                (None, _, Some(_)) => format!("代办员 {}", event.actor_name),
                (None, Some(account), None) if *account == event.actor => "本人".to_owned(),
                (None, _, None) => "窗口".to_owned(),
            }
        } else {
            event.actor_name.clone()
        },
        agent: agent_note(event),
        department: event
            .department
            .as_ref()
            .map(|d| lookup.department_name(d).to_owned()),
        public: stored.public,
        detail: if for_applicant {
            None
        } else {
            serde_json::to_value(&event.kind).ok()
        },
    }
}

/// Applies an action with optimistic concurrency; returns the changed case.
pub async fn act(
    state: &AppState,
    signed_in: &Actor,
    id: &str,
    request: ActionRequest,
) -> Result<CaseView, ApiError> {
    // The case as this process's last write of it left it, if the action is on that version;
    // else read. An agent comes back carrying whom they act for, after the mandate check.
    let kept = uuid::Uuid::parse_str(id)
        .ok()
        .and_then(|uuid| state.recent_cases.at_version(uuid, request.version))
        .filter(|record| can_see(signed_in, &record.case));
    let was_kept = kept.is_some();
    let (record, acting) = match kept {
        Some(record) => (record, signed_in.clone()),
        None => load(state, signed_in, id).await?,
    };
    let mut case = record.case.clone();
    let actor = &acting;
    if request.version != case.version {
        return Err(ApiError::new(
            ErrorCode::StaleVersion,
            format!(
                "the case is at version {}, you acted on version {}; reload it",
                case.version, request.version
            ),
        ));
    }
    let expected_version = case.version;
    let now = state.clock.now();
    let mut command = request.command;
    let mut licence = None;
    let mut accesses = Vec::new();
    let context = Context {
        actor,
        now,
        calendar: &state.calendar,
    };
    if matches!(
        command,
        Command::Accept { .. }
            | Command::Resubmit { .. }
            | Command::SupplyMaterial { .. }
            | Command::Ship { .. }
            | Command::CollectInstead { .. }
    ) {
        // An illegal or forbidden action is refused as such before its materials are looked at.
        if let Err(error @ (CaseError::IllegalTransition { .. } | CaseError::Forbidden(_))) =
            apply(&case, &command, &context)
        {
            return Err(error.into());
        }
    }
    // The item of a clerk's check, whose copies become verified documents (once-only).
    let mut checked_item = None;
    match &mut command {
        Command::Accept { tolerated } => {
            let item = pinned_item(state, &case).await?;
            prepare_acceptance(&item, &mut case, tolerated)?;
            checked_item = Some(item);
        }
        Command::PreApprove => checked_item = Some(pinned_item(state, &case).await?),
        Command::Resubmit { materials } => {
            let item = pinned_item(state, &case).await?;
            accesses = check_handed_in(state, actor, &case, &item, materials, now).await?;
        }
        Command::SupplyMaterial { material } => {
            let item = pinned_item(state, &case).await?;
            accesses = check_handed_in(
                state,
                actor,
                &case,
                &item,
                std::slice::from_mut(material),
                now,
            )
            .await?;
        }
        Command::Issue { licence: minted } => {
            // The licence is minted here; an identifier sent by the client is never taken.
            *minted = None;
            let item = pinned_item(state, &case).await?;
            if let (Some(key), CaseState::Decided { granted: true }) =
                (&item.result.licence_type, &case.state)
            {
                let lookup = state.lookup.get();
                let licence_type = lookup
                    .licence_type(key)
                    .ok_or_else(|| ApiError::internal(&format!("licence type {key} is missing")))?;
                let issuer = lookup.department(&case.department).ok_or_else(|| {
                    ApiError::internal(&format!("department {} is missing", case.department))
                })?;
                let new_licence = Licence::for_case(
                    &case,
                    licence_type,
                    &issuer.credit_code,
                    &issuer.name,
                    shanghai_date(now),
                    now,
                )
                .map_err(|e| ApiError::internal(&e))?;
                *minted = Some(new_licence.identifier.clone());
                licence = Some(new_licence);
            }
        }
        Command::Transfer { department, .. }
            if state.lookup.get().department(department).is_none() =>
        {
            return Err(ApiError::new(
                ErrorCode::InvalidAction,
                format!("there is no department {department}"),
            ));
        }
        Command::CollectInstead {
            hall,
            pickup_code: code,
        } => {
            if state.lookup.get().hall(hall).is_none() {
                return Err(ApiError::new(
                    ErrorCode::InvalidAction,
                    format!("there is no hall {hall}"),
                ));
            }
            // The code is minted here, like the first one; one sent by the client is never taken.
            *code = pickup_code();
        }
        Command::Ship {
            carrier,
            tracking_number,
        } => {
            check_tracking_number_free(state, &case, *carrier, tracking_number).await?;
        }
        _ => {}
    }
    let outcome = apply(&case, &command, &context)?;
    if outcome.case.version == case.version {
        // Nothing changed (a carrier's report recorded before): nothing to store. A kept
        // record may miss trips linked since; the answer shows the stored case.
        let record = if was_kept {
            load(state, signed_in, id).await?.0
        } else {
            record
        };
        return view(state, actor, record, None, false).await;
    }
    let documents = match &checked_item {
        Some(item) => super::documents::checked(&outcome.case, item, actor, now),
        None => Vec::new(),
    };
    let revoked = match &command {
        Command::RequestCorrection { items } => super::documents::revoked_by(items, now),
        _ => Vec::new(),
    };
    let events = outcome.events.clone();
    let write = CaseWrite {
        outbox: outbox_for(&outcome.case, &outcome.events),
        audit: audit_for(actor, &outcome.case, command.name(), now),
        access: accesses,
        events: outcome.events,
        licence: licence.clone(),
        case: Some(outcome.case.clone()),
        documents,
        revoked,
    };
    let trips = match state.store.cases.save_case(write, expected_version).await {
        Ok(trips) => trips,
        Err(error) => {
            // Stale or gone: what this process kept of the case is of no use any more.
            state.recent_cases.forget(case.id);
            return Err(error.into());
        }
    };
    if outcome.case.parent.is_some() {
        super::bundles::after_child_changed(state, &outcome.case).await;
    }
    let new_trips = if command.name() == "accept" {
        super::halls::link_window_case(state, actor, &outcome.case).await?
    } else {
        0
    };
    let record = record.after_write(Some(outcome.case), &events, trips + new_trips);
    state.recent_cases.keep(&record);
    view(state, actor, record, licence, false).await
}

/// A tracking number names one parcel: it may carry several results of one applicant (一窗出件),
/// never another applicant's. A number that does not parse is left to the domain's check.
async fn check_tracking_number_free(
    state: &AppState,
    case: &Case,
    carrier: Carrier,
    tracking_number: &str,
) -> Result<(), ApiError> {
    let Ok(number) = TrackingNumber::parse(carrier, tracking_number) else {
        return Ok(());
    };
    let shipped = state
        .store
        .cases
        .shipped_cases(carrier.code(), number.as_str())
        .await?;
    if shipped
        .iter()
        .any(|other| other.case_id != case.id && other.applicant != case.applicant.identifier)
    {
        return Err(ApiError::new(
            ErrorCode::TrackingNumberInUse,
            format!("{carrier} {number} is the parcel of another applicant"),
        ));
    }
    Ok(())
}

async fn pinned_item(state: &AppState, case: &Case) -> Result<Arc<ItemDefinition>, ApiError> {
    if let Some(item) = state.pinned_items.get(&case.item_code, case.item_version) {
        return Ok(item);
    }
    match state
        .store
        .catalog
        .item_version(&case.item_code, case.item_version)
        .await?
    {
        Some(record) => {
            let item = Arc::new(record.definition);
            // A published version never changes again (a new version is written instead), so
            // it can be kept; a draft could still change and is not.
            if record.version.status != VersionStatus::Draft {
                state
                    .pinned_items
                    .insert(&case.item_code, case.item_version, Arc::clone(&item));
            }
            Ok(item)
        }
        None => Err(ApiError::internal(&format!(
            "item version {} {} is missing",
            case.item_code, case.item_version
        ))),
    }
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// Comma-separated states (submitted, pre_reviewed, correction, rejected, in_progress, suspended,
    /// granted, refused, issued, delivered, withdrawn).
    pub state: Option<String>,
    pub department: Option<String>,
    pub hall: Option<String>,
    pub item: Option<String>,
    /// ID number or credit code of the applicant.
    pub applicant: Option<String>,
    /// `true`: only open cases past their promised due date.
    pub overdue: Option<String>,
    /// `due` (least time left first, the inbox) or `newest` (default).
    pub order: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// The cases `actor` may see, filtered. The scope comes from the roles and becomes one SQL
/// predicate; clerks see their hall's cases, and an applicant's cases when they look one up.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: CasesQuery,
) -> Result<CaseList, ApiError> {
    let bad = |name: &str, value: &str, expected: &str| {
        ApiError::invalid_parameter(name, value, expected)
    };
    let mut filter = CaseFilter {
        limit: 50,
        ..CaseFilter::default()
    };
    if let Some(states) = &query.state {
        for state_name in states.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !tongban_domain::cases::CaseState::NAMES.contains(&state_name) {
                return Err(bad("state", state_name, "a case state such as in_progress"));
            }
            filter.states.push(state_name.to_owned());
        }
    }
    if let Some(value) = &query.department {
        filter.department = Some(
            value
                .parse()
                .map_err(|_| bad("department", value, "a department key"))?,
        );
    }
    if let Some(value) = &query.hall {
        filter.hall = Some(
            value
                .parse()
                .map_err(|_| bad("hall", value, "a hall key"))?,
        );
    }
    if let Some(value) = &query.item {
        filter.item_code = Some(
            ImplementationCode::parse(value)
                .map_err(|_| bad("item", value, "an item code"))?
                .to_string(),
        );
    }
    if let Some(value) = &query.applicant {
        filter.applicant = Some(match (IdNumber::parse(value), CreditCode::parse(value)) {
            (Ok(number), _) => number.as_str().to_owned(),
            (_, Ok(code)) => code.as_str().to_owned(),
            _ => return Err(bad("applicant", value, "an ID number or credit code")),
        });
    }
    match query.overdue.as_deref() {
        None | Some("false") => {}
        Some("true") => filter.overdue_on = Some(shanghai_date(state.clock.now())),
        Some(other) => return Err(bad("overdue", other, "true or false")),
    }
    filter.order = match query.order.as_deref() {
        None | Some("newest") => CaseOrder::Newest,
        Some("due") => CaseOrder::DueFirst,
        Some(other) => return Err(bad("order", other, "due or newest")),
    };
    if let Some(value) = &query.limit {
        filter.limit = value
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| bad("limit", value, "a number from 1 to 500"))?;
    }
    if let Some(cursor) = &query.after {
        if !cursor_fits(cursor, filter.order) {
            return Err(bad(
                "after",
                cursor,
                "the next cursor of a previous page in the same order",
            ));
        }
        filter.after = Some(cursor.clone());
    }
    filter.scope = scope_of(actor, filter.applicant.as_deref());
    // An agent lists an applicant's cases under any mandate of theirs valid today.
    if let Some(applicant) = filter.applicant.clone()
        && super::agents::acting_for(state, actor, &applicant, None)
            .await?
            .is_some()
    {
        filter.scope.applicant = Some(applicant);
    }
    let page: CasePage = state.store.cases.list_cases(&filter).await?;
    // Staff and department systems looking up a person are logged for that person.
    let someone_else = !matches!(actor.kind, ActorKind::Person | ActorKind::Enterprise);
    if let (Some(subject), true) = (&filter.applicant, someone_else) {
        state
            .store
            .cases
            .record(
                Vec::new(),
                vec![access(
                    actor,
                    subject,
                    None,
                    "按申请人查询办件",
                    "办件列表",
                    state.clock.now(),
                )],
            )
            .await?;
    }
    Ok(CaseList {
        cases: page.cases,
        next: page.next,
    })
}

/// Whether a cursor is one the store hands out for this order: `n:<microseconds>:<id>` (newest
/// first) or `d:<YYYY-MM-DD>:<id>` (least time left first).
fn cursor_fits(cursor: &str, order: CaseOrder) -> bool {
    let mut parts = cursor.splitn(3, ':');
    let (Some(kind), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if uuid::Uuid::parse_str(id).is_err() {
        return false;
    }
    match (kind, order) {
        ("n", CaseOrder::Newest) => key.parse::<i64>().is_ok(),
        ("d", CaseOrder::DueFirst) => key.parse::<jiff::civil::Date>().is_ok(),
        _ => false,
    }
}

/// The cases an actor may list.
pub fn scope_of(actor: &Actor, applicant: Option<&str>) -> CaseScope {
    let mut scope = CaseScope::default();
    if matches!(actor.kind, ActorKind::Person | ActorKind::Enterprise) {
        scope.applicant = actor.identifier.clone();
        return scope;
    }
    for assignment in &actor.roles {
        match assignment.role {
            Role::Administrator | Role::Supervisor => scope.everything = true,
            Role::Approver | Role::ChiefRepresentative | Role::Handler => {
                if let Some(department) = &assignment.department {
                    scope.departments.push(department.clone());
                }
            }
            Role::Clerk => {
                if let Some(hall) = &assignment.hall {
                    scope.halls.push(hall.clone());
                }
                // 通办: online applications wait for any hall to take them.
                scope.unassigned = true;
                // 通办: any clerk may look up an applicant's cases, wherever they were submitted.
                if let Some(applicant) = applicant {
                    scope.applicant = Some(applicant.to_owned());
                }
            }
            _ => {}
        }
    }
    scope
}

/// The `holder` query parameter: an ID number or credit code, in its normal form.
pub(crate) fn holder_of(text: &str) -> Result<String, ApiError> {
    match (IdNumber::parse(text), CreditCode::parse(text)) {
        (Ok(number), _) => Ok(number.as_str().to_owned()),
        (_, Ok(code)) => Ok(code.as_str().to_owned()),
        _ => Err(ApiError::invalid_parameter(
            "holder",
            text,
            "an ID number or credit code",
        )),
    }
}

/// Licences of a holder: the holder themself, or staff (logged for the holder).
pub async fn licences_of(
    state: &AppState,
    actor: &Actor,
    holder: &str,
) -> Result<Vec<Licence>, ApiError> {
    let holder = holder_of(holder)?;
    let holder = holder.as_str();
    let own = actor.identifier.as_deref() == Some(holder);
    // An agent reads the licences of applicants who gave them a mandate, nobody else's.
    super::agents::acting_for(state, actor, holder, None).await?;
    let staff = actor.kind == ActorKind::Staff || actor.kind == ActorKind::System;
    if !own && !staff {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "you may list only your own licences",
        ));
    }
    let licences = state.store.cases.licences_of(holder).await?;
    if !own && !licences.is_empty() {
        state
            .store
            .cases
            .record(
                Vec::new(),
                vec![access(
                    actor,
                    holder,
                    None,
                    "查询持证情况",
                    "电子证照",
                    state.clock.now(),
                )],
            )
            .await?;
    }
    Ok(licences)
}

/// What anyone may learn by verifying a licence (the QR code on a printed result): whether it is
/// genuine and valid, with the holder's name masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub identifier: String,
    pub genuine: bool,
    pub valid: bool,
    pub status: String,
    pub status_text: String,
    pub name: String,
    pub holder: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub version: u16,
}

/// Masks a name for public pages: the first character and stars (张**).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    let first: String = chars.next().into_iter().collect();
    format!("{first}{}", "*".repeat(chars.count().max(1)))
}

pub async fn verify(state: &AppState, identifier: &str) -> Result<Verification, ApiError> {
    if let Err(error) = tongban_domain::ids::LicenceId::parse(identifier) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("{identifier:?} is not a licence identifier: {error}"),
        ));
    }
    let Some(licence) = state.store.cases.licence(identifier).await? else {
        return Err(ApiError::new(
            ErrorCode::LicenceNotFound,
            format!("no licence {identifier} was issued here"),
        ));
    };
    let status = licence.status_on(shanghai_date(state.clock.now()));
    Ok(Verification {
        identifier: licence.identifier.to_string(),
        genuine: true,
        valid: status == LicenceStatus::Valid,
        status: status.code().to_owned(),
        status_text: status.label_zh().to_owned(),
        name: licence.name.clone(),
        holder: mask_name(&licence.holder.name),
        issuer: licence.issuer_name.clone(),
        valid_from: licence.valid_from.to_string(),
        valid_until: licence.valid_until.map(|d| d.to_string()),
        version: licence.identifier.version(),
    })
}

/// The signed-in person's own data-access log.
pub async fn my_access_log(state: &AppState, actor: &Actor) -> Result<Vec<DataAccess>, ApiError> {
    let Some(identifier) = &actor.identifier else {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only citizens and enterprises have a data-access log",
        ));
    };
    Ok(state.store.cases.access_log(identifier, 200).await?)
}
