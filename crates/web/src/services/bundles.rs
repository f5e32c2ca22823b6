//! The bundle-application service (一件事申请): one submission with one merged form and one set
//! of materials opens a parent case and its children. Each child is checked exactly as a single
//! application of its item would be ([`open_case`]); a material that a licence the applicant
//! holds replaces is attached by reference (免提交) and logged as a read of their data; a material
//! that an earlier member of the same application produces (出生医学证明 for 出生登记) is attached
//! when that member's result is issued, and the waiting member opens then.
//!
//! Children change through the ordinary case actions; after each change of a child,
//! [`after_child_changed`] brings the parent up to date (opens waiting members, finishes the
//! parent). Reading a parent does the same, so a parent left behind by a crash between the two
//! writes catches up on its next read.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::application::{Application, open_case};
use tongban_domain::cases::bundle_case::{
    BundleCase, BundleEvent, BundleEventKind, BundleState, ChildStatus, plan_children,
};
use tongban_domain::cases::delivery::Postage;
use tongban_domain::cases::lifecycle::Context;
use tongban_domain::cases::verified::{VerifiedDocument, best_for};
use tongban_domain::cases::{Actor, ActorKind, Case, CaseError, CaseMaterial, Provision};
use tongban_domain::catalog::item::Requirement;
use tongban_domain::catalog::{
    Answers, BundleDefinition, CatalogDocument, ItemDefinition, Material,
};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::{BundleCode, DataElementCode, LicenceTypeKey};
use tongban_domain::licences::{Licence, LicenceStatus};
use tongban_domain::org::Role;
use tongban_store::StoreError;
use tongban_store::model::{BundleWrite, CaseWrite, DataAccess, OutboxMessage};
use utoipa::ToSchema;

use super::cases::{
    ApplicantInput, DeliveryInput, MaterialInput, StateView, applicant_of, channel_of, delivery_of,
    invalid, new_id, outbox_for, resolve_materials,
};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// `POST /api/v1/bundle-applications`: one form, one set of materials, one submission.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleApplicationRequest {
    /// The bundle's code, e.g. `newborn`.
    pub bundle: String,
    /// Answers to the bundle's situational questions (they select the members) and to the
    /// members' own questions, each question once.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// The merged form: each data element once, whichever members ask it.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// The merged materials: each material once; every member that needs it gets it. Materials
    /// that a licence the applicant holds replaces may be left out (免提交).
    #[serde(default)]
    pub materials: Vec<MaterialInput>,
    /// Optional members (e.g. 烟草专卖零售许可证核发) to apply for as well.
    #[serde(default)]
    pub optional: Vec<String>,
    /// One delivery of every result (一窗出件).
    pub delivery: DeliveryInput,
    #[serde(default)]
    pub channel: Option<String>,
    /// Required when a clerk applies for someone.
    #[serde(default)]
    pub applicant: Option<ApplicantInput>,
    /// The applicant agrees that their licences and earlier applications prefill the form.
    #[serde(default)]
    pub prefill_consent: bool,
}

/// One member of a bundle application with its case's progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildView {
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub department_name: String,
    /// `waiting` (for `waits_for`), `open` (its case runs) or `cancelled`.
    pub status: String,
    pub case_id: Option<String>,
    pub number: Option<String>,
    /// The case's state, when it is open.
    pub state: Option<StateView>,
    pub promised_due: Option<String>,
    pub waits_for: Vec<String>,
    pub stage: Option<String>,
    /// Why a cancelled member did not open.
    pub reason: Option<String>,
    /// Materials attached by reference to a licence or a verified document (免提交).
    pub exempt_materials: Vec<String>,
    /// The licence its result produced.
    pub licence: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressView {
    pub total: u32,
    pub done: u32,
    pub running: u32,
    pub waiting: u32,
    pub stopped: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleEventView {
    pub at: String,
    pub event: String,
    pub text: String,
}

/// A material of the application's one set, with how it was provided.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleMaterialView {
    pub code: String,
    pub name: String,
    /// `upload`, `licence` or `verified_document` (免提交), `commitment` or `paper`.
    pub provided_as: String,
    pub exempt: bool,
    pub licence: Option<String>,
}

/// The parent case with its children's progress, in one response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleCaseView {
    pub id: String,
    pub number: String,
    pub version: u64,
    pub bundle_code: String,
    pub bundle_name: String,
    /// `one_thing` or `one_class` (staged).
    pub kind: String,
    pub applicant_name: String,
    pub state: StateView,
    pub submitted_at: String,
    pub promised_due: Option<String>,
    pub closed_at: Option<String>,
    /// The latest stage with an open member (staged bundles).
    pub stage: Option<String>,
    pub progress: ProgressView,
    pub children: Vec<ChildView>,
    pub materials: Vec<BundleMaterialView>,
    pub history: Vec<BundleEventView>,
    pub prefill_consent: bool,
}

/// The published bundle, or `bundle_not_found`.
async fn published_bundle(
    state: &AppState,
    code: &str,
) -> Result<(BundleDefinition, u32), ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::BundleNotFound,
            format!("there is no published bundle {code}"),
        )
    };
    let key = BundleCode::parse(code).map_err(|_| not_found())?;
    match state.store.catalog.bundle(&key).await? {
        Some(record) => Ok((record.definition, record.version.version)),
        None => Err(not_found()),
    }
}

/// The answers a question list understands, from the request's answers (others ignored).
fn answers_for(
    questions: &[tongban_domain::catalog::Question],
    all: &BTreeMap<String, String>,
) -> Result<Answers, ApiError> {
    let codes: BTreeSet<&str> = questions.iter().map(|q| q.code.as_str()).collect();
    super::catalog::answers_from(
        questions,
        all.iter()
            .filter(|(q, _)| codes.contains(q.as_str()))
            .map(|(q, o)| (q.as_str(), o.as_str())),
    )
}

fn unanswered(questions: &[tongban_domain::catalog::Question], answers: &Answers) -> Vec<String> {
    questions
        .iter()
        .filter(|q| {
            q.when.as_ref().is_none_or(|c| c.holds(answers)) && !answers.contains_key(&q.code)
        })
        .map(|q| format!("the question {} ({}) must be answered", q.text, q.code))
        .collect()
}

/// The applicant's licence library: their valid licences, the newest of each type.
pub async fn licence_library(
    state: &AppState,
    holder: &str,
    now: Timestamp,
) -> Result<BTreeMap<LicenceTypeKey, Licence>, ApiError> {
    let today = shanghai_date(now);
    let mut library = BTreeMap::new();
    for licence in state.store.cases.licences_of(holder).await? {
        if licence.status_on(today) == LicenceStatus::Valid {
            library.entry(licence.type_key.clone()).or_insert(licence);
        }
    }
    Ok(library)
}

/// What the government already holds of the applicant (once-only): their licence library and
/// the copies of materials clerks checked for their earlier cases, still valid.
pub(crate) struct Held {
    pub(crate) licences: BTreeMap<LicenceTypeKey, Licence>,
    pub(crate) documents: Vec<VerifiedDocument>,
}

impl Held {
    pub(crate) async fn of(
        state: &AppState,
        holder: &str,
        now: Timestamp,
    ) -> Result<Held, ApiError> {
        Ok(Held {
            licences: licence_library(state, holder, now).await?,
            documents: super::documents::usable(state, holder, now).await?,
        })
    }
}

/// Everything resolved for one member: its item, answers, form and materials.
struct MemberInput<'a> {
    item: &'a ItemDefinition,
    item_version: u32,
    answers: Answers,
}

/// Builds the child case of `item_code` from the parent's one form and one set of materials.
/// Materials the member needs that a held licence or a verified document replaces are attached
/// by reference; the reads are returned for the data-access log. `deferred` materials (produced by an earlier
/// member, not issued yet) are left out of the check: the member opens later.
#[expect(
    clippy::too_many_arguments,
    reason = "the pieces of one child, resolved once by the caller"
)]
fn child_case(
    state: &AppState,
    parent: &BundleCase,
    member: &MemberInput<'_>,
    held: &Held,
    deferred: &[LicenceTypeKey],
    now: Timestamp,
    id: uuid::Uuid,
    problems: &mut Vec<String>,
) -> Option<(Case, Vec<tongban_domain::cases::CaseEvent>, Vec<DataAccess>)> {
    let item = member.item;
    let lookup = state.lookup.get();
    let workflow_key = CatalogDocument::workflow_key_of(item);
    let Some(workflow) = lookup
        .vocabulary
        .workflows
        .iter()
        .find(|w| w.key.as_str() == workflow_key)
    else {
        problems.push(format!("{}: workflow {workflow_key} is missing", item.name));
        return None;
    };
    let answers = &member.answers;
    let fields: BTreeSet<&DataElementCode> = item.form_for(answers).map(|f| &f.element).collect();
    let form: BTreeMap<DataElementCode, String> = parent
        .form
        .iter()
        .filter(|(code, _)| fields.contains(code))
        .map(|(code, value)| (code.clone(), value.clone()))
        .collect();
    let needed: Vec<&Material> = item.materials_for(answers).collect();
    let mut materials: Vec<CaseMaterial> = Vec::new();
    let mut accesses = Vec::new();
    let mut checked_item: Option<ItemDefinition> = None;
    for material in &needed {
        if let Some(given) = parent.materials.iter().find(|m| m.code == material.code) {
            let mut given = given.clone();
            given.name.clone_from(&material.name);
            materials.push(given);
            continue;
        }
        let licence_type = material.replaced_by_licence.as_ref();
        if let Some(licence) = licence_type.and_then(|key| held.licences.get(key)) {
            materials.push(CaseMaterial {
                code: material.code.clone(),
                name: material.name.clone(),
                provision: Provision::Licence {
                    licence: licence.identifier.clone(),
                },
            });
            accesses.push(DataAccess {
                id: new_id(now),
                at: now,
                subject: parent.applicant.identifier.clone(),
                actor: parent.submitted_by.account.to_string(),
                actor_name: lookup.department_name(&item.department).to_owned(),
                department: Some(item.department.clone()),
                case_id: Some(id),
                purpose: format!("{}:{}免提交,引用电子证照", parent.bundle_name, item.name),
                what: licence.name.clone(),
            });
        } else if licence_type.is_some_and(|key| deferred.contains(key)) {
            // Checked without it now; attached when the earlier member's result is issued.
            let stripped = checked_item.get_or_insert_with(|| item.clone());
            stripped.materials.retain(|m| m.code != material.code);
        } else if let Some(document) = best_for(
            &held.documents,
            &material.code,
            &parent.applicant.identifier,
            shanghai_date(now),
        )
        .filter(|_| {
            matches!(
                material.requirement,
                Requirement::Required | Requirement::Conditional
            ) && !material.checked_by_office()
        }) {
            // Once-only: a copy a clerk checked for an earlier case of the applicant.
            let (provision, read) = super::documents::attach(
                state,
                &parent.submitted_by,
                item,
                document,
                Some(id),
                now,
            );
            materials.push(CaseMaterial {
                code: material.code.clone(),
                name: material.name.clone(),
                provision,
            });
            accesses.push(read);
        }
    }
    let item_for_check = checked_item.as_ref().unwrap_or(item);
    let elements = lookup
        .vocabulary
        .data_elements
        .iter()
        .map(|e| (&e.code, e))
        .collect();
    let application = Application {
        id,
        item: item_for_check,
        item_version: member.item_version,
        workflow,
        elements: &elements,
        applicant: parent.applicant.clone(),
        channel: parent.channel,
        hall: parent.submitted_by.clerk_hall().cloned(),
        answers: answers.clone(),
        form,
        materials,
        delivery: parent.delivery.clone(),
    };
    let context = Context {
        actor: &parent.submitted_by,
        now,
        calendar: &state.calendar,
    };
    match open_case(application, &context) {
        Ok(outcome) => {
            let mut case = outcome.case;
            case.parent = Some(parent.id);
            Some((case, outcome.events, accesses))
        }
        Err(CaseError::InvalidApplication(more)) => {
            for problem in more {
                let problem = format!("{}: {problem}", item.name);
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
            None
        }
        Err(error) => {
            problems.push(format!("{}: {error}", item.name));
            None
        }
    }
}

fn bundle_message(parent: &BundleCase, event: &BundleEvent, lead: &str) -> OutboxMessage {
    OutboxMessage {
        id: new_id(event.at),
        topic: format!("bundle_case.{}", event.kind.name()),
        case_id: None,
        department: lead.parse().ok(),
        payload: serde_json::json!({
            "bundle_case_id": parent.id,
            "number": parent.number,
            "bundle_code": parent.bundle_code,
            "state": parent.state.name(),
            "version": parent.version,
            "event": event,
        }),
        created_at: event.at,
    }
}

fn child_write(
    case: Case,
    events: Vec<tongban_domain::cases::CaseEvent>,
    accesses: Vec<DataAccess>,
) -> CaseWrite {
    CaseWrite {
        outbox: outbox_for(&case, &events),
        audit: Vec::new(),
        access: accesses,
        events,
        licence: None,
        case: Some(case),
        documents: Vec::new(),
        revoked: Vec::new(),
    }
}

/// Submits a bundle application: checks every selected member at once, opens the members that
/// wait for nothing, and returns the parent.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    request: BundleApplicationRequest,
) -> Result<BundleCaseView, ApiError> {
    let (bundle, bundle_version) = published_bundle(state, &request.bundle).await?;
    let bundle_answers = answers_for(&bundle.questions, &request.answers)?;
    let mut problems = unanswered(&bundle.questions, &bundle_answers);
    let applicant = applicant_of(actor, request.applicant.as_ref())?;
    if super::agents::is_agent(actor) {
        // 帮办代办 for a whole bundle is not supported yet: agents apply for its members one by
        // one, each under the mandate check.
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "an agent applies for the members of a bundle one by one, not for the bundle",
        ));
    }
    let channel = channel_of(request.channel.as_deref(), actor)?;
    if matches!(actor.kind, ActorKind::System) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "department systems do not apply",
        ));
    }
    let now = state.clock.now();

    // The selected members: conditions hold, optional ones only when asked for.
    let mut wanted_optional: BTreeSet<ImplementationCode> = BTreeSet::new();
    for code in &request.optional {
        let code = ImplementationCode::parse(code)
            .map_err(|e| ApiError::new(ErrorCode::InvalidItemCode, e.to_string()))?;
        if !bundle.members.iter().any(|m| m.item == code && m.optional) {
            return Err(invalid(format!(
                "{code} is not an optional member of {}",
                bundle.name
            )));
        }
        wanted_optional.insert(code);
    }
    let mut records = BTreeMap::new();
    for member in bundle.members_for(&bundle_answers) {
        if member.optional && !wanted_optional.contains(&member.item) {
            continue;
        }
        let Some(record) = state.store.catalog.item(&member.item).await? else {
            return Err(ApiError::internal(&format!(
                "member {} of {} is not published",
                member.item, bundle.code
            )));
        };
        records.insert(member.item.clone(), record);
    }
    let items: BTreeMap<ImplementationCode, &ItemDefinition> = records
        .iter()
        .map(|(code, record)| (code.clone(), &record.definition))
        .collect();

    // One form: every key must be a data element that some selected member asks.
    let mut members: BTreeMap<ImplementationCode, MemberInput<'_>> = BTreeMap::new();
    let mut asked: BTreeSet<DataElementCode> = BTreeSet::new();
    let mut question_codes: BTreeSet<String> = bundle
        .questions
        .iter()
        .map(|q| q.code.to_string())
        .collect();
    for (code, record) in &records {
        let item = &record.definition;
        let answers = answers_for(&item.questions, &request.answers)?;
        for problem in unanswered(&item.questions, &answers) {
            problems.push(format!("{}: {problem}", item.name));
        }
        asked.extend(item.form_for(&answers).map(|f| f.element.clone()));
        question_codes.extend(item.questions.iter().map(|q| q.code.to_string()));
        members.insert(
            code.clone(),
            MemberInput {
                item,
                item_version: record.version.version,
                answers,
            },
        );
    }
    for question in request.answers.keys() {
        if !question_codes.contains(question) {
            problems.push(format!(
                "the question {question} is asked neither by the bundle nor by its members"
            ));
        }
    }
    let mut form = BTreeMap::new();
    for (code, value) in &request.form {
        let code = DataElementCode::parse(code).map_err(|e| invalid(e.to_string()))?;
        if !asked.contains(&code) {
            problems.push(format!(
                "form field {code} is not asked by any member for these answers"
            ));
        }
        form.insert(code, value.trim().to_owned());
    }

    // One set of materials: each must be needed by some member; checked against that member.
    let mut materials: Vec<CaseMaterial> = Vec::new();
    let mut accesses = Vec::new();
    let mut seen = BTreeSet::new();
    for input in &request.materials {
        if !seen.insert(input.code.clone()) {
            return Err(invalid(format!("material {} is given twice", input.code)));
        }
        let needing = members.values().find(|m| {
            m.item
                .materials_for(&m.answers)
                .any(|material| material.code.as_str() == input.code)
        });
        let Some(member) = needing else {
            problems.push(format!(
                "material {} is not asked by any member for these answers",
                input.code
            ));
            continue;
        };
        let (resolved, read) = resolve_materials(
            state,
            actor,
            member.item,
            &applicant,
            std::slice::from_ref(input),
            None,
            now,
        )
        .await?;
        materials.extend(resolved);
        accesses.extend(read);
    }

    let id = new_id(now);
    let children = plan_children(&bundle, &bundle_answers, &items);
    let promised_due = tongban_domain::cases::deadline::due_date(
        &state.calendar,
        shanghai_date(now),
        &bundle.promised_limit,
        0,
        &[],
    )
    .ok();
    let mut parent = BundleCase {
        id,
        number: String::new(),
        version: 1,
        bundle_code: bundle.code.clone(),
        bundle_version,
        bundle_name: bundle.name.clone(),
        kind: bundle.kind,
        applicant,
        channel,
        answers: request.answers.clone(),
        form,
        materials,
        delivery: delivery_of(
            state,
            &request.delivery,
            Postage::for_bundle(items.values().copied()),
        )?,
        submitted_by: actor.clone(),
        state: BundleState::InProgress,
        children,
        submitted_at: now,
        promised_due,
        closed_at: None,
        prefill_consent: request.prefill_consent,
        history: Vec::new(),
    };
    if parent.children.is_empty() {
        problems.push("no member of the bundle applies to these answers".into());
    }

    // Every member is checked now, also those that open later.
    let held = Held::of(state, &parent.applicant.identifier, now).await?;
    let mut opening = Vec::new();
    let ready: BTreeSet<ImplementationCode> = parent.ready_at_submission().into_iter().collect();
    let codes: Vec<ImplementationCode> = parent.children.iter().map(|c| c.item.clone()).collect();
    for code in &codes {
        let Some(member) = members.get(code) else {
            continue;
        };
        let deferred = parent.licences_from_prerequisites(code);
        let child_id = new_id(now);
        let built = child_case(
            state,
            &parent,
            member,
            &held,
            &deferred,
            now,
            child_id,
            &mut problems,
        );
        if let Some(built) = built
            && ready.contains(code)
        {
            opening.push((code.clone(), built));
        }
    }
    if !problems.is_empty() {
        return Err(CaseError::InvalidApplication(problems).into());
    }
    let waiting = u32::try_from(parent.children.len() - opening.len()).unwrap_or(0);
    let submitted = BundleEvent {
        at: now,
        kind: BundleEventKind::Submitted {
            children: u32::try_from(parent.children.len()).unwrap_or(u32::MAX),
            waiting,
        },
    };
    parent.history.push(submitted.clone());
    let mut writes = Vec::new();
    for (code, (case, events, read)) in opening {
        parent.mark_opened(&code, case.id, "", case.state.name(), now);
        writes.push(child_write(case, events, read));
    }
    let outbox = vec![bundle_message(
        &parent,
        &submitted,
        bundle.lead_department.as_str(),
    )];
    let parent = state
        .store
        .bundles
        .create_bundle_case(BundleWrite {
            parent,
            children: writes,
            outbox,
            access: accesses,
        })
        .await?;
    view(state, actor, parent).await
}

/// Brings a parent up to date with its children: copies their states, opens members whose
/// prerequisites have their results, cancels members that can no longer open, finishes the
/// parent. Retries when another change of the same parent wins the race.
pub async fn advance(state: &AppState, id: uuid::Uuid) -> Result<Option<BundleCase>, ApiError> {
    for _ in 0..8 {
        let Some(mut parent) = state.store.bundles.bundle_case(id).await? else {
            return Ok(None);
        };
        let children = state.store.bundles.bundle_children(id).await?;
        let states: BTreeMap<uuid::Uuid, String> = children
            .iter()
            .map(|c| (c.id, c.state.name().to_owned()))
            .collect();
        let now = state.clock.now();
        let expected = parent.version;
        let outcome = parent.sync(&states, now);
        if !outcome.changed && outcome.to_open.is_empty() {
            return Ok(Some(parent));
        }
        let mut writes = Vec::new();
        let mut events = outcome.events;
        if !outcome.to_open.is_empty() {
            let held = Held::of(state, &parent.applicant.identifier, now).await?;
            let (bundle, _) = published_bundle(state, parent.bundle_code.as_str()).await?;
            for code in &outcome.to_open {
                let Some(record) = state.store.catalog.item(code).await? else {
                    return Err(ApiError::internal(&format!(
                        "member {code} is not published"
                    )));
                };
                let answers = answers_for(&record.definition.questions, &parent.answers)?;
                let member = MemberInput {
                    item: &record.definition,
                    item_version: record.version.version,
                    answers,
                };
                let mut problems = Vec::new();
                let built = child_case(
                    state,
                    &parent,
                    &member,
                    &held,
                    &[],
                    now,
                    new_id(now),
                    &mut problems,
                );
                match built {
                    Some((case, case_events, read)) => {
                        let before = parent.history.len();
                        parent.mark_opened(code, case.id, "", case.state.name(), now);
                        events.extend(parent.history[before..].iter().cloned());
                        writes.push(child_write(case, case_events, read));
                    }
                    None => {
                        // What was checked at submission no longer holds (e.g. the earlier
                        // member issued no licence): the member cannot open by itself.
                        tracing::warn!(
                            bundle_case.id = %parent.id,
                            problems = problems.len(),
                            "a waiting bundle member could not open"
                        );
                        if let Some(child) = parent.children.iter_mut().find(|c| &c.item == code) {
                            child.status = ChildStatus::Cancelled {
                                reason: problems.join("; "),
                            };
                        }
                    }
                }
            }
            drop(bundle);
            // Opening or cancelling may finish the parent in turn.
            let again = parent.sync(&states, now);
            events.extend(again.events);
        }
        let mut accesses = Vec::new();
        let mut pushes = Vec::new();
        if parent.state == BundleState::Completed
            && events.iter().any(|e| e.kind == BundleEventKind::Completed)
        {
            (pushes, accesses) = data_pushes(state, &parent, &children, now).await?;
        }
        parent.version += 1;
        let lead = parent
            .children
            .first()
            .map(|c| c.department.to_string())
            .unwrap_or_default();
        let mut outbox: Vec<OutboxMessage> = events
            .iter()
            .map(|event| bundle_message(&parent, event, &lead))
            .collect();
        outbox.extend(pushes);
        match state
            .store
            .bundles
            .save_bundle_case(
                BundleWrite {
                    parent,
                    children: writes,
                    outbox,
                    access: accesses,
                },
                expected,
            )
            .await
        {
            Ok(saved) => return Ok(Some(saved)),
            Err(StoreError::StaleVersion { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::new(
        ErrorCode::StaleVersion,
        "the bundle application keeps changing; try again",
    ))
}

/// The data push of a completed application to the cooperating departments that have no
/// member in it (数据推送, no further applications): one `record.updated` message per department
/// with the application's merged form, and one data-access entry per department for the subject.
async fn data_pushes(
    state: &AppState,
    parent: &BundleCase,
    children: &[Case],
    now: Timestamp,
) -> Result<(Vec<OutboxMessage>, Vec<DataAccess>), ApiError> {
    let (bundle, _) = published_bundle(state, parent.bundle_code.as_str()).await?;
    let targets = parent.push_targets(&bundle.cooperating_departments);
    let lookup = state.lookup.get();
    let mut messages = Vec::new();
    let mut accesses = Vec::new();
    let mut ids: Vec<uuid::Uuid> = targets.iter().map(|_| new_id(now)).collect();
    ids.sort_unstable();
    let sources: Vec<serde_json::Value> = children
        .iter()
        .map(|c| {
            serde_json::json!({
                "case_id": c.id,
                "number": c.number,
                "item_code": c.item_code,
                "department": c.department,
                "licence": c.licence,
            })
        })
        .collect();
    for (department, id) in targets.iter().zip(ids) {
        messages.push(OutboxMessage {
            id,
            topic: "record.updated".to_owned(),
            case_id: None,
            department: Some(department.clone()),
            payload: serde_json::json!({
                "bundle_case_id": parent.id,
                "number": parent.number,
                "bundle_code": parent.bundle_code,
                "subject": parent.applicant.identifier,
                "subject_name": parent.applicant.name,
                "department": department,
                "data": parent.form,
                "sources": sources,
            }),
            created_at: now,
        });
        accesses.push(DataAccess {
            id: new_id(now),
            at: now,
            subject: parent.applicant.identifier.clone(),
            actor: department.to_string(),
            actor_name: lookup.department_name(department).to_owned(),
            department: Some(department.clone()),
            case_id: None,
            purpose: format!(
                "{}:变更信息推送,同步更新本部门登记信息(无需另行申请)",
                parent.bundle_name
            ),
            what: format!("办件{}的登记信息", parent.number),
        });
    }
    Ok((messages, accesses))
}

/// Called after a child case changed: the parent follows. A failure here is logged, not
/// returned: the child's change is already stored, and the parent catches up on its next read.
pub async fn after_child_changed(state: &AppState, child: &Case) {
    let Some(parent) = child.parent else {
        return;
    };
    if let Err(error) = advance(state, parent).await {
        tracing::warn!(
            case.id = %child.id,
            bundle_case.id = %parent,
            code = error.code.as_str(),
            "the bundle application did not follow its child"
        );
    }
}

/// Whether the actor may see the parent: the applicant, or staff who see any of its children.
fn can_see(actor: &Actor, parent: &BundleCase) -> bool {
    if actor.is_applicant(&parent.applicant) {
        return true;
    }
    actor.roles.iter().any(|assignment| match assignment.role {
        Role::Administrator | Role::Supervisor | Role::Clerk => true,
        Role::Approver | Role::ChiefRepresentative | Role::Handler => assignment
            .department
            .as_ref()
            .is_none_or(|d| parent.children.iter().any(|c| &c.department == d)),
        _ => false,
    })
}

/// The parent with its children's progress (by id or 办件编号); the parent catches up first.
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<BundleCaseView, ApiError> {
    let parent = visible(state, actor, id).await?;
    view(state, actor, parent).await
}

/// [`get`], and whether the actor is the applicant in person (the page invites them to rate).
pub async fn get_with_ownership(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(BundleCaseView, bool), ApiError> {
    let parent = visible(state, actor, id).await?;
    let own = actor.is_applicant(&parent.applicant);
    Ok((view(state, actor, parent).await?, own))
}

/// The parent (by id or 办件编号) when the actor may see it, brought up to date with its
/// children; `bundle_application_not_found` otherwise, so that nothing is learnt about it.
pub(crate) async fn visible(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<BundleCase, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::BundleApplicationNotFound,
            format!("there is no bundle application {id}"),
        )
    };
    let found = match uuid::Uuid::parse_str(id) {
        Ok(uuid) => state.store.bundles.bundle_case(uuid).await?,
        Err(_) => state.store.bundles.bundle_case_by_number(id).await?,
    };
    let Some(parent) = found else {
        return Err(not_found());
    };
    if !can_see(actor, &parent) {
        return Err(not_found());
    }
    Ok(advance(state, parent.id).await?.unwrap_or(parent))
}

/// The signed-in applicant's bundle applications, newest first.
pub async fn mine(state: &AppState, actor: &Actor) -> Result<Vec<BundleCaseView>, ApiError> {
    let Some(identifier) = actor.identifier.as_deref() else {
        return Ok(Vec::new());
    };
    let parents = state.store.bundles.bundle_cases_of(identifier, 50).await?;
    let mut views = Vec::with_capacity(parents.len());
    for parent in parents {
        views.push(view(state, actor, parent).await?);
    }
    Ok(views)
}

fn history_text(kind: &BundleEventKind, parent: &BundleCase) -> String {
    let name_of = |code: &ImplementationCode| {
        parent
            .child(code)
            .map_or_else(|| code.to_string(), |c| c.item_name.clone())
    };
    match kind {
        BundleEventKind::Submitted { children, waiting } if *waiting > 0 => {
            format!("一件事申请已提交,共{children}个事项,{waiting}个事项待前序结果出具后自动办理")
        }
        BundleEventKind::Submitted { children, .. } => {
            format!("一件事申请已提交,共{children}个事项并联办理")
        }
        BundleEventKind::ChildOpened { item } => format!("{}已开始办理", name_of(item)),
        BundleEventKind::ChildCancelled { item } => {
            format!("{}因前序事项未获办理而终止", name_of(item))
        }
        BundleEventKind::StageOpened { stage } => format!("进入{stage}阶段"),
        BundleEventKind::Completed => "全部事项已办结,结果已一次送达".to_owned(),
        BundleEventKind::Closed => "已办结,部分事项未获办理".to_owned(),
    }
}

async fn view(
    state: &AppState,
    _actor: &Actor,
    parent: BundleCase,
) -> Result<BundleCaseView, ApiError> {
    let children = state.store.bundles.bundle_children(parent.id).await?;
    let by_id: BTreeMap<uuid::Uuid, &Case> = children.iter().map(|c| (c.id, c)).collect();
    let lookup = state.lookup.get();
    let (done, running, waiting, stopped) = parent.counts();
    let child_views = parent
        .children
        .iter()
        .map(|child| {
            let case = child.case_id().and_then(|id| by_id.get(&id).copied());
            let (status, reason) = match &child.status {
                ChildStatus::Waiting => ("waiting", None),
                ChildStatus::Open { .. } => ("open", None),
                ChildStatus::Cancelled { reason } => ("cancelled", Some(reason.clone())),
            };
            ChildView {
                item_code: child.item.to_string(),
                item_name: child.item_name.clone(),
                department: child.department.to_string(),
                department_name: lookup.department_name(&child.department).to_owned(),
                status: status.to_owned(),
                case_id: case.map(|c| c.id.to_string()),
                number: case.map(|c| c.number.clone()),
                state: case.map(|c| {
                    let (text, text_en) = c.state.public_text();
                    StateView {
                        code: c.state.name().to_owned(),
                        text: text.to_owned(),
                        text_en: text_en.to_owned(),
                    }
                }),
                promised_due: case.and_then(|c| c.promised_due.map(|d| d.to_string())),
                waits_for: child.waits_for.iter().map(ToString::to_string).collect(),
                stage: child.stage.as_ref().map(ToString::to_string),
                reason,
                exempt_materials: case.map_or_else(Vec::new, |c| {
                    c.materials
                        .iter()
                        .filter(|m| {
                            matches!(
                                m.provision,
                                Provision::Licence { .. } | Provision::VerifiedDocument { .. }
                            )
                        })
                        .map(|m| m.code.to_string())
                        .collect()
                }),
                licence: case.and_then(|c| c.licence.as_ref().map(ToString::to_string)),
            }
        })
        .collect();
    let (text, text_en) = parent.state.public_text();
    let materials = parent
        .materials
        .iter()
        .map(|m| {
            let (provided_as, licence) = match &m.provision {
                Provision::Upload { .. } => ("upload", None),
                Provision::Licence { licence } => ("licence", Some(licence.to_string())),
                Provision::VerifiedDocument { .. } => ("verified_document", None),
                Provision::Commitment { .. } => ("commitment", None),
                Provision::Tolerated { .. } => ("tolerated", None),
                Provision::Paper => ("paper", None),
            };
            BundleMaterialView {
                code: m.code.to_string(),
                name: m.name.clone(),
                provided_as: provided_as.to_owned(),
                exempt: licence.is_some() || provided_as == "verified_document",
                licence,
            }
        })
        .collect();
    Ok(BundleCaseView {
        id: parent.id.to_string(),
        number: parent.number.clone(),
        version: parent.version,
        bundle_code: parent.bundle_code.to_string(),
        bundle_name: parent.bundle_name.clone(),
        kind: serde_json::to_value(parent.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        applicant_name: parent.applicant.name.clone(),
        state: StateView {
            code: parent.state.name().to_owned(),
            text: text.to_owned(),
            text_en: text_en.to_owned(),
        },
        submitted_at: parent.submitted_at.to_string(),
        promised_due: parent.promised_due.map(|d| d.to_string()),
        closed_at: parent.closed_at.map(|t| t.to_string()),
        stage: parent.open_stage().map(|s| s.to_string()),
        progress: ProgressView {
            total: u32::try_from(parent.children.len()).unwrap_or(u32::MAX),
            done,
            running,
            waiting,
            stopped,
        },
        children: child_views,
        materials,
        history: parent
            .history
            .iter()
            .map(|event| BundleEventView {
                at: event.at.to_string(),
                event: event.kind.name().to_owned(),
                text: history_text(&event.kind, &parent),
            })
            .collect(),
        prefill_consent: parent.prefill_consent,
    })
}
