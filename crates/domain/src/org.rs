//! The organisation that runs the catalog: regions (GB/T 2260), departments, service halls with
//! their levels and windows, staff with roles, and the citizens and enterprises of the demo city.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{CreditCode, IdNumber, RegionCode};
use crate::keys::{AccountName, DepartmentKey, HallKey, SkillGroupKey, ThemeKey, WindowKey};

/// Everything organisational, as one document (the `city.toml` of the demo).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub regions: Vec<Region>,
    pub departments: Vec<Department>,
    pub halls: Vec<Hall>,
    #[serde(default)]
    pub skill_groups: Vec<SkillGroup>,
    #[serde(default)]
    pub windows: Vec<Window>,
    #[serde(default)]
    pub staff: Vec<StaffMember>,
    #[serde(default)]
    pub persons: Vec<Person>,
    #[serde(default)]
    pub enterprises: Vec<Enterprise>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<RegionCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub key: DepartmentKey,
    pub name: String,
    /// The short sector name people use (公安, 医保, 市场监管…).
    pub sector: String,
    pub credit_code: CreditCode,
    pub region: RegionCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// 大厅层级.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HallLevel {
    /// 市政务服务中心.
    City,
    /// 区政务服务中心.
    District,
    /// 街道/镇 便民服务中心.
    Street,
    /// 社区/村 便民服务站.
    Community,
}

impl HallLevel {
    pub fn label_zh(&self) -> &'static str {
        match self {
            HallLevel::City => "市级政务服务中心",
            HallLevel::District => "区级政务服务中心",
            HallLevel::Street => "街道便民服务中心",
            HallLevel::Community => "社区便民服务站",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hall {
    pub key: HallKey,
    pub name: String,
    pub level: HallLevel,
    pub region: RegionCode,
    pub address: String,
    pub phone: String,
    pub hours: Vec<OpeningHours>,
    /// A 24-hour self-service area.
    #[serde(default)]
    pub self_service_24h: bool,
}

/// An opening session, e.g. Monday–Friday 09:00–17:00, or a Saturday-morning appointment session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub weekdays: Vec<u8>,
    /// "HH:MM".
    pub opens: String,
    pub closes: String,
    #[serde(default)]
    pub appointment_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A group of items a comprehensive window is trained for, by theme or department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillGroup {
    pub key: SkillGroupKey,
    pub name: String,
    #[serde(default)]
    pub themes: Vec<ThemeKey>,
    #[serde(default)]
    pub departments: Vec<DepartmentKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// 综合窗口: accepts any item of its skill groups (无差别全科受理).
    Comprehensive,
    /// 专业窗口: one department's items.
    Specialised,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub key: WindowKey,
    pub hall: HallKey,
    /// The number shown on the display board, e.g. "A01".
    pub number: String,
    pub kind: WindowKind,
    #[serde(default)]
    pub skills: Vec<SkillGroupKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
}

/// Roles of staff. Scope (department, hall, region) is on the assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 综合窗口人员.
    Clerk,
    /// 审批人员.
    Approver,
    /// 首席代表: sign-off power for a department.
    ChiefRepresentative,
    /// 帮办代办员.
    Agent,
    /// 12345 话务员.
    HotlineOperator,
    /// 12345 派单员.
    Dispatcher,
    /// 部门承办人 for hotline tickets.
    Handler,
    /// 政务服务管理办 administrator.
    Administrator,
    /// 电子监察.
    Supervisor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignment {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<HallKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub account: AccountName,
    pub name: String,
    pub roles: Vec<RoleAssignment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountName>,
    pub name: String,
    pub id_number: IdNumber,
    pub phone: String,
    pub address: String,
    pub region: RegionCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enterprise {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountName>,
    pub name: String,
    pub credit_code: CreditCode,
    /// The legal representative's ID number; must be one of the persons.
    pub legal_representative: IdNumber,
    pub address: String,
    pub region: RegionCode,
}

/// A broken reference or duplicate in organisation data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OrgError(pub String);

impl OrgError {
    pub fn code(&self) -> &'static str {
        "invalid_organisation"
    }
}

impl Organisation {
    /// Checks uniqueness and every reference; returns all problems.
    pub fn validate(&self) -> Result<(), Vec<OrgError>> {
        let mut problems = Vec::new();
        let mut regions = BTreeSet::new();
        for region in &self.regions {
            if !regions.insert(region.code.clone()) {
                problems.push(OrgError(format!("region {} is defined twice", region.code)));
            }
        }
        for region in &self.regions {
            if let Some(parent) = &region.parent
                && !regions.contains(parent)
            {
                problems.push(OrgError(format!(
                    "region {} names unknown parent {parent}",
                    region.code
                )));
            }
        }
        let known_region = |code: &RegionCode, owner: String, problems: &mut Vec<OrgError>| {
            if !regions.contains(code) {
                problems.push(OrgError(format!("{owner} is in unknown region {code}")));
            }
        };
        let mut departments = BTreeSet::new();
        let mut credit_codes = BTreeSet::new();
        for department in &self.departments {
            if !departments.insert(department.key.clone()) {
                problems.push(OrgError(format!(
                    "department {} is defined twice",
                    department.key
                )));
            }
            if !credit_codes.insert(department.credit_code.clone()) {
                problems.push(OrgError(format!(
                    "department {} repeats credit code {}",
                    department.key, department.credit_code
                )));
            }
            known_region(
                &department.region,
                format!("department {}", department.key),
                &mut problems,
            );
        }
        let mut halls = BTreeSet::new();
        for hall in &self.halls {
            if !halls.insert(hall.key.clone()) {
                problems.push(OrgError(format!("hall {} is defined twice", hall.key)));
            }
            known_region(&hall.region, format!("hall {}", hall.key), &mut problems);
            for session in &hall.hours {
                if session.weekdays.iter().any(|d| !(1..=7).contains(d)) {
                    problems.push(OrgError(format!(
                        "hall {}: weekdays run from 1 to 7",
                        hall.key
                    )));
                }
            }
        }
        let skill_groups: BTreeSet<_> = self.skill_groups.iter().map(|s| s.key.clone()).collect();
        let mut windows = BTreeSet::new();
        for window in &self.windows {
            if !windows.insert(window.key.clone()) {
                problems.push(OrgError(format!("window {} is defined twice", window.key)));
            }
            if !halls.contains(&window.hall) {
                problems.push(OrgError(format!(
                    "window {} is in unknown hall {}",
                    window.key, window.hall
                )));
            }
            for skill in &window.skills {
                if !skill_groups.contains(skill) {
                    problems.push(OrgError(format!(
                        "window {} names unknown skill group {skill}",
                        window.key
                    )));
                }
            }
            if let Some(department) = &window.department
                && !departments.contains(department)
            {
                problems.push(OrgError(format!(
                    "window {} names unknown department {department}",
                    window.key
                )));
            }
        }
        let mut accounts = BTreeSet::new();
        let person_accounts = self.persons.iter().filter_map(|p| p.account.clone());
        let enterprise_accounts = self.enterprises.iter().filter_map(|e| e.account.clone());
        for account in self
            .staff
            .iter()
            .map(|s| s.account.clone())
            .chain(person_accounts)
            .chain(enterprise_accounts)
        {
            if !accounts.insert(account.clone()) {
                problems.push(OrgError(format!("account {account} is defined twice")));
            }
        }
        for member in &self.staff {
            for assignment in &member.roles {
                if let Some(department) = &assignment.department
                    && !departments.contains(department)
                {
                    problems.push(OrgError(format!(
                        "staff {} names unknown department {department}",
                        member.account
                    )));
                }
                if let Some(hall) = &assignment.hall
                    && !halls.contains(hall)
                {
                    problems.push(OrgError(format!(
                        "staff {} names unknown hall {hall}",
                        member.account
                    )));
                }
            }
        }
        let id_numbers: BTreeSet<_> = self.persons.iter().map(|p| p.id_number.clone()).collect();
        if id_numbers.len() != self.persons.len() {
            problems.push(OrgError("two persons share an ID number".into()));
        }
        for enterprise in &self.enterprises {
            if !id_numbers.contains(&enterprise.legal_representative) {
                problems.push(OrgError(format!(
                    "enterprise {}: the legal representative is not among the persons",
                    enterprise.credit_code
                )));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub fn department(&self, key: &DepartmentKey) -> Option<&Department> {
        self.departments.iter().find(|d| &d.key == key)
    }
}
