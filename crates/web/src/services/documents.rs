//! Verified documents (已核验材料, once-only): what a clerk's check leaves for the applicant's
//! next applications, how a later application attaches one by reference (免提交), and the
//! holder's list (`GET /api/v1/verified-documents`).
//!
//! Every use of a verified document by a department — attached to a new case, single or in a
//! bundle — and every staff listing is written to the data-access log the holder sees.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::verified::{
    DocumentStatus, Revocation, VerifiedDocument, best_for, checked_by_clerk,
};
use tongban_domain::cases::{
    Actor, ActorKind, Applicant, Case, CaseMaterial, CorrectionItem, Provision,
};
use tongban_domain::catalog::item::Requirement;
use tongban_domain::catalog::{Answers, ItemDefinition};
use tongban_domain::keys::MaterialCode;
use tongban_domain::org::Role;
use tongban_store::model::DataAccess;
use utoipa::ToSchema;

use super::cases::{invalid, new_id};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::lookup::Lookup;

/// Who checked a document, as the applicant and the next office read it: the hall whose clerk
/// checked it, else the department the case was for.
pub fn office_of(lookup: &Lookup, document: &VerifiedDocument) -> String {
    document
        .hall
        .as_ref()
        .and_then(|hall| lookup.hall(hall))
        .map_or_else(
            || lookup.department_name(&document.department).to_owned(),
            |hall| hall.name.clone(),
        )
}

/// The log entry of a department using a verified document for a new case.
fn use_of(
    lookup: &Lookup,
    actor: &Actor,
    item: &ItemDefinition,
    document: &VerifiedDocument,
    case_id: Option<uuid::Uuid>,
    purpose: String,
    now: Timestamp,
) -> DataAccess {
    DataAccess {
        id: new_id(now),
        at: now,
        subject: document.holder.clone(),
        actor: actor.account.to_string(),
        actor_name: lookup.department_name(&item.department).to_owned(),
        department: Some(item.department.clone()),
        case_id,
        purpose,
        what: format!(
            "{}(已由{}核验,办件{})",
            document.name,
            office_of(lookup, document),
            document.source_number
        ),
    }
}

/// The applicant's documents that may be attached today.
pub async fn usable(
    state: &AppState,
    holder: &str,
    now: Timestamp,
) -> Result<Vec<VerifiedDocument>, ApiError> {
    let today = shanghai_date(now);
    let mut documents = state.store.cases.verified_documents(holder).await?;
    documents.retain(|d| d.status_on(today) == DocumentStatus::Valid);
    Ok(documents)
}

/// The holder's documents valid today for these materials, newest first, for a form to offer
/// (免提交). When someone else (a clerk applying for them) looks, the read is logged.
pub async fn offered(
    state: &AppState,
    actor: &Actor,
    holder: &str,
    materials: &[MaterialCode],
) -> Result<Vec<VerifiedDocument>, ApiError> {
    let now = state.clock.now();
    let mut documents = usable(state, holder, now).await?;
    documents.retain(|d| materials.contains(&d.material));
    if actor.identifier.as_deref() != Some(holder) && !documents.is_empty() {
        let read = super::cases::access(
            actor,
            holder,
            None,
            "窗口代为申请,查询已核验材料",
            "已核验材料",
            now,
        );
        state.store.cases.record(Vec::new(), vec![read]).await?;
    }
    Ok(documents)
}

/// A document the applicant names for a material (`provided_as: verified_document`): theirs,
/// of that material, valid today.
pub async fn named(
    state: &AppState,
    code: &MaterialCode,
    id: &str,
    applicant: &Applicant,
    now: Timestamp,
) -> Result<VerifiedDocument, ApiError> {
    let missing = || invalid(format!("{code}: there is no verified document {id}"));
    let id = uuid::Uuid::parse_str(id).map_err(|_| missing())?;
    let Some(document) = state.store.cases.verified_document(id).await? else {
        return Err(missing());
    };
    if document.holder != applicant.identifier {
        // Someone else's documents are not even said to exist.
        return Err(missing());
    }
    if document.material != *code {
        return Err(invalid(format!(
            "{code}: verified document {id} is a {}, not this material",
            document.name
        )));
    }
    match document.status_on(shanghai_date(now)) {
        DocumentStatus::Valid => Ok(document),
        DocumentStatus::Expired => Err(invalid(format!(
            "{code}: verified document {id} expired on {}",
            document.valid_until
        ))),
        DocumentStatus::Revoked => Err(invalid(format!(
            "{code}: verified document {id} was revoked"
        ))),
    }
}

/// The provision and log entry of a document attached to the new case `case_id` of `item`
/// (`None` for the one set of materials of a bundle application, before its children exist).
pub fn attach(
    state: &AppState,
    actor: &Actor,
    item: &ItemDefinition,
    document: &VerifiedDocument,
    case_id: Option<uuid::Uuid>,
    now: Timestamp,
) -> (Provision, DataAccess) {
    let lookup = state.lookup.get();
    let provision = document.as_provision(&office_of(&lookup, document));
    let purpose = format!("申请{}时引用已核验材料(免提交)", item.name);
    let read = use_of(&lookup, actor, item, document, case_id, purpose, now);
    (provision, read)
}

/// Attaches, by reference, a valid verified document of the applicant for every material the
/// item requires for these answers that the application leaves out (and that the office does
/// not fetch itself): the government already holds it, so it is not asked again. Returns the
/// log entries of these uses.
#[expect(
    clippy::too_many_arguments,
    reason = "one new case's pieces, resolved by the caller"
)]
pub async fn attach_held(
    state: &AppState,
    actor: &Actor,
    item: &ItemDefinition,
    answers: &Answers,
    applicant: &Applicant,
    case_id: uuid::Uuid,
    materials: &mut Vec<CaseMaterial>,
    now: Timestamp,
) -> Result<Vec<DataAccess>, ApiError> {
    let missing: Vec<_> = item
        .materials_for(answers)
        .filter(|m| {
            matches!(
                m.requirement,
                Requirement::Required | Requirement::Conditional
            ) && !m.checked_by_office()
                && !materials.iter().any(|given| given.code == m.code)
        })
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let held = usable(state, &applicant.identifier, now).await?;
    let today = shanghai_date(now);
    let mut reads = Vec::new();
    for material in missing {
        let Some(document) = best_for(&held, &material.code, &applicant.identifier, today) else {
            continue;
        };
        let (provision, read) = attach(state, actor, item, document, Some(case_id), now);
        materials.push(CaseMaterial {
            code: material.code.clone(),
            name: material.name.clone(),
            provision,
        });
        reads.push(read);
    }
    Ok(reads)
}

/// The documents a clerk's pre-review or acceptance of `case` creates.
pub fn checked(
    case: &Case,
    item: &ItemDefinition,
    actor: &Actor,
    now: Timestamp,
) -> Vec<VerifiedDocument> {
    checked_by_clerk(case, item, actor, now, |_| new_id(now))
}

/// A correction asks for these materials again: what was checked of them for this case no
/// longer stands.
pub fn revoked_by(items: &[CorrectionItem], now: Timestamp) -> Vec<(MaterialCode, Revocation)> {
    items
        .iter()
        .map(|item| {
            (
                item.material.clone(),
                Revocation {
                    at: now,
                    reason: format!("补正:{}", item.problem.trim()),
                },
            )
        })
        .collect()
}

/// A verified document as its holder (or staff) reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub material: String,
    pub name: String,
    /// `valid`, `expired` or `revoked`.
    pub status: String,
    /// 已由 X 核验: the hall or department that checked it.
    pub verified_by: String,
    pub verified_at: String,
    pub valid_until: String,
    /// The 办件编号 it was checked for.
    pub source_case: String,
    /// `upload` or `paper`.
    pub copy: String,
    pub revoked_reason: Option<String>,
}

fn view(lookup: &Lookup, document: &VerifiedDocument, now: Timestamp) -> DocumentView {
    DocumentView {
        id: document.id.to_string(),
        material: document.material.to_string(),
        name: document.name.clone(),
        status: document.status_on(shanghai_date(now)).code().to_owned(),
        verified_by: office_of(lookup, document),
        verified_at: document.verified_at.to_string(),
        valid_until: document.valid_until.to_string(),
        source_case: document.source_number.clone(),
        copy: match document.copy {
            tongban_domain::cases::verified::CheckedCopy::Upload { .. } => "upload",
            tongban_domain::cases::verified::CheckedCopy::Paper => "paper",
        }
        .to_owned(),
        revoked_reason: document.revoked.as_ref().map(|r| r.reason.clone()),
    }
}

/// The verified documents of a holder: the holder themself, or staff (logged for the holder).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    holder: Option<&str>,
) -> Result<Vec<DocumentView>, ApiError> {
    let holder = match holder {
        Some(text) => super::cases::holder_of(text)?,
        None => actor.identifier.clone().ok_or_else(|| {
            ApiError::invalid_parameter("holder", "", "the holder's ID number or credit code")
        })?,
    };
    let own = actor.identifier.as_deref() == Some(holder.as_str());
    let staff = matches!(actor.kind, ActorKind::Staff | ActorKind::System);
    if !own && !staff {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "you may list only your own verified documents",
        ));
    }
    let documents = state.store.cases.verified_documents(&holder).await?;
    let now = state.clock.now();
    if !own && !documents.is_empty() {
        state
            .store
            .cases
            .record(
                Vec::new(),
                vec![super::cases::access(
                    actor,
                    &holder,
                    None,
                    "查询已核验材料",
                    "已核验材料",
                    now,
                )],
            )
            .await?;
    }
    let lookup = state.lookup.get();
    Ok(documents.iter().map(|d| view(&lookup, d, now)).collect())
}

/// `POST /api/v1/verified-documents/{id}/revoke`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why it may no longer be used (e.g. the document was replaced or found false).
    pub reason: String,
}

/// Revokes a document: a window clerk, an administrator, or the approvers of the department
/// the document was checked for.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: RevokeRequest,
) -> Result<DocumentView, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::VerifiedDocumentNotFound,
            format!("there is no verified document {id}"),
        )
    };
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| not_found())?;
    let Some(document) = state.store.cases.verified_document(uuid).await? else {
        return Err(not_found());
    };
    let allowed = actor.has_role(Role::Clerk, None)
        || actor.has_role(Role::Administrator, None)
        || actor.has_role(Role::Approver, Some(&document.department))
        || actor.has_role(Role::ChiefRepresentative, Some(&document.department));
    if !allowed {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "verified documents are revoked by a clerk, an administrator or the department that checked them",
        ));
    }
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "the reason must not be empty",
        ));
    }
    let now = state.clock.now();
    let revocation = Revocation {
        at: now,
        reason: reason.to_owned(),
    };
    if !state
        .store
        .cases
        .revoke_verified_document(uuid, revocation)
        .await?
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("verified document {id} is revoked already"),
        ));
    }
    let audit = tongban_store::model::AuditEntry {
        id: new_id(now),
        at: now,
        actor: actor.account.to_string(),
        action: "revoke_verified_document".to_owned(),
        target: document.source_number.clone(),
        department: Some(document.department.clone()),
        detail: document.material.to_string(),
    };
    state.store.cases.record(vec![audit], Vec::new()).await?;
    let Some(revoked) = state.store.cases.verified_document(uuid).await? else {
        return Err(not_found());
    };
    let lookup = state.lookup.get();
    Ok(view(&lookup, &revoked, now))
}
