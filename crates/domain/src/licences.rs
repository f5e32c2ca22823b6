//! Electronic licences (电子证照, GB/T 36901–36906; REFERENCE §5): a versioned record with a
//! status history, identified by a [`LicenceId`] whose last character checks the rest.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::cases::{ApplicantKind, Case};
use crate::catalog::LicenceType;
use crate::ids::{CreditCode, IdError, LicenceId};
use crate::keys::{DataElementCode, DepartmentKey, LicenceTypeKey};

/// 证照状态 (status codes seen on the national platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LicenceStatus {
    #[serde(rename = "01")]
    Valid,
    #[serde(rename = "02")]
    Suspended,
    #[serde(rename = "03")]
    Revoked,
    #[serde(rename = "04")]
    Cancelled,
    #[serde(rename = "05")]
    Expired,
    #[serde(rename = "07")]
    Withdrawn,
    #[serde(rename = "99")]
    Other,
}

impl LicenceStatus {
    pub fn code(&self) -> &'static str {
        match self {
            LicenceStatus::Valid => "01",
            LicenceStatus::Suspended => "02",
            LicenceStatus::Revoked => "03",
            LicenceStatus::Cancelled => "04",
            LicenceStatus::Expired => "05",
            LicenceStatus::Withdrawn => "07",
            LicenceStatus::Other => "99",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            LicenceStatus::Valid => "有效",
            LicenceStatus::Suspended => "暂扣",
            LicenceStatus::Revoked => "撤销",
            LicenceStatus::Cancelled => "注销",
            LicenceStatus::Expired => "失效",
            LicenceStatus::Withdrawn => "吊销",
            LicenceStatus::Other => "其他",
        }
    }
}

/// 证照操作 recorded in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LicenceOperation {
    #[serde(rename = "01")]
    Issue,
    #[serde(rename = "02")]
    Renew,
    #[serde(rename = "03")]
    Suspend,
    #[serde(rename = "04")]
    Expire,
    #[serde(rename = "05")]
    Cancel,
    #[serde(rename = "06")]
    Restore,
    #[serde(rename = "09")]
    Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub operation: LicenceOperation,
    pub status: LicenceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Who holds a licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceHolder {
    pub kind: ApplicantKind,
    pub name: String,
    pub identifier: String,
}

/// One version of a licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    pub identifier: LicenceId,
    pub type_key: LicenceTypeKey,
    pub name: String,
    pub holder: LicenceHolder,
    pub issuer: DepartmentKey,
    pub issuer_name: String,
    pub valid_from: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Date>,
    pub status: LicenceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    /// The licence's data elements, for prefilling later forms (once-only).
    #[serde(default)]
    pub data: BTreeMap<DataElementCode, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<LicenceId>,
    pub history: Vec<HistoryEntry>,
}

impl Licence {
    /// Mints the first version of the licence a granted case produces. The serial is the case
    /// number without the issuer's credit code (item code suffix + date + sequence), unique for
    /// the issuer; the check character comes from [`LicenceId::build`].
    pub fn for_case(
        case: &Case,
        licence_type: &LicenceType,
        issuer_code: &CreditCode,
        issuer_name: &str,
        valid_from: Date,
        at: Timestamp,
    ) -> Result<Licence, IdError> {
        let serial: String = case
            .number
            .chars()
            .skip(18)
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let identifier = LicenceId::build(&licence_type.type_code, issuer_code, &serial, 1)?;
        let valid_until = licence_type.validity_years.and_then(|years| {
            valid_from
                .checked_add(jiff::Span::new().years(i64::from(years)))
                .ok()
        });
        let data = licence_type
            .data_elements
            .iter()
            .filter_map(|element| {
                case.form
                    .get(element)
                    .map(|value| (element.clone(), value.clone()))
            })
            .collect();
        Ok(Licence {
            identifier,
            type_key: licence_type.key.clone(),
            name: licence_type.name.clone(),
            holder: LicenceHolder {
                kind: case.applicant.kind,
                name: case.applicant.name.clone(),
                identifier: case.applicant.identifier.clone(),
            },
            issuer: case.department.clone(),
            issuer_name: issuer_name.to_owned(),
            valid_from,
            valid_until,
            status: LicenceStatus::Valid,
            case_id: Some(case.id),
            case_number: Some(case.number.clone()),
            data,
            previous: None,
            history: vec![HistoryEntry {
                at,
                operation: LicenceOperation::Issue,
                status: LicenceStatus::Valid,
                note: None,
            }],
        })
    }

    /// The status on a date: a valid licence past its end date reads as expired.
    pub fn status_on(&self, date: Date) -> LicenceStatus {
        match (self.status, self.valid_until) {
            (LicenceStatus::Valid, Some(until)) if date > until => LicenceStatus::Expired,
            (status, _) => status,
        }
    }
}
