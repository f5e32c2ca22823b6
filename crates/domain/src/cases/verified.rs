//! Verified documents (已核验材料, SPEC C3 once-only): a material that a window clerk checked for
//! one case stays verified for the next department. When the clerk pre-reviews or accepts an
//! application, every material handed in as an upload or on paper becomes a verified document
//! of the applicant; a later application that needs the same material (the same catalog code:
//! "the same code in two items means the same document") attaches it by reference (免提交)
//! instead of asking for it again — seed 003's property certificate, checked by one office and
//! demanded again by the next.
//!
//! A verified document is offered while it is valid: until the end of its validity (the
//! material's `verified_for_months` in the catalog, else [`DEFAULT_VERIFIED_MONTHS`]) and unless
//! it was revoked (the material was found wrong later, e.g. a correction asked for it). Forms
//! filled in for one application (materials with a blank template: 申请表, 委托书, 承诺书) and
//! materials the catalog marks `verified_for_months = 0` (an agent's ID card, a power of
//! attorney) are never reused.
//!
//! ```
//! use jiff::civil::date;
//! use tongban_domain::cases::verified::valid_until;
//! assert_eq!(valid_until(date(2026, 3, 2), 12), Some(date(2027, 3, 2)));
//! // The end of a shorter month: 31 August + 6 months is the last day of February.
//! assert_eq!(valid_until(date(2026, 8, 31), 6), Some(date(2027, 2, 28)));
//! ```

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::{Actor, Case, Provision};
use crate::calendar::shanghai_date;
use crate::catalog::{ItemDefinition, Material};
use crate::keys::{AccountName, DepartmentKey, HallKey, MaterialCode};
use crate::org::Role;

/// How long a checked copy stays verified when the catalog does not say: one year, the usual
/// validity of the certificates and proofs that offices ask for (a document with an earlier
/// expiry of its own names it in the catalog, e.g. a health check valid for 6 months).
pub const DEFAULT_VERIFIED_MONTHS: u32 = 12;

/// The copy that was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "copy")]
pub enum CheckedCopy {
    /// A file the applicant uploaded; the later department reads the same object.
    Upload {
        object_key: String,
        sha256: String,
        size: u64,
        content_type: String,
        file_name: String,
    },
    /// The original seen on paper at the window.
    Paper,
}

/// Why a verified document is no longer offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at: Timestamp,
    pub reason: String,
}

/// A material of an applicant checked by a clerk for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedDocument {
    pub id: uuid::Uuid,
    /// The applicant's ID number or credit code.
    pub holder: String,
    pub material: MaterialCode,
    pub name: String,
    /// The case it was checked for, and its 办件编号 (empty until the store numbered it).
    pub source_case: uuid::Uuid,
    #[serde(default)]
    pub source_number: String,
    /// The department the case was for, and the hall whose clerk checked it.
    pub department: DepartmentKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<HallKey>,
    pub verified_by: AccountName,
    pub verified_at: Timestamp,
    /// The last day it is offered.
    pub valid_until: Date,
    #[serde(flatten)]
    pub copy: CheckedCopy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

/// Whether a verified document may be attached on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Valid,
    Expired,
    Revoked,
}

impl DocumentStatus {
    pub fn code(self) -> &'static str {
        match self {
            DocumentStatus::Valid => "valid",
            DocumentStatus::Expired => "expired",
            DocumentStatus::Revoked => "revoked",
        }
    }
}

impl VerifiedDocument {
    pub fn status_on(&self, day: Date) -> DocumentStatus {
        if self.revoked.is_some() {
            DocumentStatus::Revoked
        } else if day > self.valid_until {
            DocumentStatus::Expired
        } else {
            DocumentStatus::Valid
        }
    }

    /// Whether it replaces `material` for `holder` on `day`.
    pub fn replaces(&self, material: &MaterialCode, holder: &str, day: Date) -> bool {
        &self.material == material
            && self.holder == holder
            && self.status_on(day) == DocumentStatus::Valid
    }

    /// The provision of a later case's material that attaches this document by reference;
    /// `office` names who checked it, for the applicant and the next department.
    pub fn as_provision(&self, office: &str) -> Provision {
        Provision::VerifiedDocument {
            document: self.id,
            source_case: self.source_number.clone(),
            verified_by: office.to_owned(),
            valid_until: self.valid_until,
        }
    }
}

/// How many months a checked copy of `material` stays verified, or `None` when it is never
/// reused (a form filled in for one application, or the catalog says 0).
pub fn validity_months(material: &Material) -> Option<u32> {
    match material.verified_for_months {
        Some(0) => None,
        Some(months) => Some(months),
        None if material.template.is_some() => None,
        None => Some(DEFAULT_VERIFIED_MONTHS),
    }
}

/// The last day a copy checked on `checked_on` is offered (`None` past the calendar's range).
pub fn valid_until(checked_on: Date, months: u32) -> Option<Date> {
    let months = i32::try_from(months).ok()?;
    checked_on.checked_add(months.months()).ok()
}

/// The verified documents that a clerk's check of `case` (pre-review or acceptance) creates:
/// one per material handed in as an upload or on paper whose kind is reused. Licences,
/// commitments, 容缺 promises and documents attached by reference are not checked copies. `id`
/// gives each new document its id. Pure.
pub fn checked_by_clerk(
    case: &Case,
    item: &ItemDefinition,
    actor: &Actor,
    now: Timestamp,
    mut id: impl FnMut(&MaterialCode) -> uuid::Uuid,
) -> Vec<VerifiedDocument> {
    if !actor.has_role(Role::Clerk, None) {
        return Vec::new();
    }
    let today = shanghai_date(now);
    let mut documents = Vec::new();
    for material in &case.materials {
        let copy = match &material.provision {
            Provision::Upload {
                object_key,
                sha256,
                size,
                content_type,
                file_name,
            } => CheckedCopy::Upload {
                object_key: object_key.clone(),
                sha256: sha256.clone(),
                size: *size,
                content_type: content_type.clone(),
                file_name: file_name.clone(),
            },
            Provision::Paper => CheckedCopy::Paper,
            Provision::Licence { .. }
            | Provision::Commitment { .. }
            | Provision::Tolerated { .. }
            | Provision::VerifiedDocument { .. } => continue,
        };
        let Some(definition) = item.materials.iter().find(|m| m.code == material.code) else {
            continue;
        };
        let Some(until) = validity_months(definition).and_then(|m| valid_until(today, m)) else {
            continue;
        };
        documents.push(VerifiedDocument {
            id: id(&material.code),
            holder: case.applicant.identifier.clone(),
            material: material.code.clone(),
            name: definition.name.clone(),
            source_case: case.id,
            source_number: case.number.clone(),
            department: case.department.clone(),
            hall: actor.clerk_hall().cloned(),
            verified_by: actor.account.clone(),
            verified_at: now,
            valid_until: until,
            copy,
            revoked: None,
        });
    }
    documents
}

/// The newest document among `documents` that replaces `material` for `holder` on `day`.
pub fn best_for<'a>(
    documents: &'a [VerifiedDocument],
    material: &MaterialCode,
    holder: &str,
    day: Date,
) -> Option<&'a VerifiedDocument> {
    documents
        .iter()
        .filter(|d| d.replaces(material, holder, day))
        .max_by_key(|d| (d.verified_at, d.valid_until))
}
