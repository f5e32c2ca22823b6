//! A service item (政务服务事项) as published in its guide (办事指南), with every element of
//! GB/T 39046 (REFERENCE §1), its materials, situational guidance and form.
//!
//! [`ItemDefinition`] is the content of one version. It is what data files hold and what the
//! store keeps per version; identity and versioning live in [`super::ItemVersion`].

use std::collections::BTreeSet;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::CatalogError;
use super::codes::CodeSet;
use super::codes::{
    BodyNature, CaseType, ExerciseLevel, HandlingForm, ItemType, OnlineDepth, Scope, ServiceObject,
    SpecialProcedureKind, TimeUnit,
};
use super::guidance::{Answers, Condition, Question};
use super::money::Money;
use crate::ids::{BasicCode, HandlingCode, ImplementationCode};
use crate::keys::{
    DataElementCode, DepartmentKey, HallKey, LicenceTypeKey, MaterialCode, QuestionCode, ThemeKey,
};

/// One version of an item's guide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemDefinition {
    /// 基本编码.
    pub basic_code: BasicCode,
    /// 实施编码: the public code of this item in this city (`/api/v1/items/{code}`).
    pub implementation_code: ImplementationCode,
    /// 业务办理项编码, where the item is split into handling items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_code: Option<HandlingCode>,
    pub name: String,
    /// Everyday names people use for the item (for search and the one-sentence assistant).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub level: ExerciseLevel,
    /// The implementing department; its credit code must open the implementation code.
    pub department: DepartmentKey,
    pub body_nature: BodyNature,
    #[serde(default)]
    pub co_departments: Vec<DepartmentKey>,
    /// 办理机构 when it differs from the department (e.g. a registry office).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_unit: Option<String>,
    pub summary: String,
    pub legal_basis: Vec<String>,
    /// 受理条件.
    pub conditions: Vec<String>,
    /// 数量限制.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_limit: Option<String>,
    /// 中介服务.
    #[serde(default)]
    pub intermediary_services: Vec<String>,
    /// 法定办结时限.
    pub statutory_limit: TimeLimit,
    /// 承诺办结时限.
    pub promised_limit: TimeLimit,
    #[serde(default)]
    pub special_procedures: Vec<SpecialProcedure>,
    pub case_type: CaseType,
    /// 到现场次数: 0 = 零跑动, 1 = 最多跑一次.
    pub visits: u8,
    pub online_depth: OnlineDepth,
    pub handling_forms: BTreeSet<HandlingForm>,
    pub scope: Scope,
    pub service_objects: BTreeSet<ServiceObject>,
    pub themes: Vec<ThemeKey>,
    pub fee: Fee,
    pub result: ItemResult,
    pub process: Vec<ProcessStep>,
    #[serde(default)]
    pub supports: Supports,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_address: Option<String>,
    pub places: Vec<Place>,
    pub consultation_phone: String,
    pub supervision_phone: String,
    #[serde(default)]
    pub questions: Vec<Question>,
    pub form: Vec<FormField>,
    pub materials: Vec<Material>,
    /// Lists that applicants need before they come, kept as data (e.g. accepted hospitals).
    #[serde(default)]
    pub lists: Vec<NamedList>,
    #[serde(default)]
    pub faq: Vec<Faq>,
    /// The process definition (a key of `workflows`); default by case type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<QuestionCode>,
    /// Where the facts of this guide come from (an official guide's address).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<Date>,
}

/// A time limit with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimit {
    pub value: u32,
    pub unit: TimeUnit,
}

impl TimeLimit {
    /// The limit expressed in working days, for comparisons and reductions. Calendar days count
    /// five working days per seven, rounded up; hours count as part of one day.
    pub fn approximate_working_days(&self) -> u32 {
        match self.unit {
            TimeUnit::WorkingDays => self.value,
            TimeUnit::NaturalDays => (self.value * 5).div_ceil(7),
            TimeUnit::Hours => self.value.div_ceil(24),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialProcedure {
    pub kind: SpecialProcedureKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<TimeLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Fees (收费). `charged = false` means free of charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub charged: bool,
    #[serde(default)]
    pub items: Vec<FeeItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeItem {
    pub name: String,
    pub amount: Money,
    pub basis: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Date>,
}

/// The result (审批结果) and, when it is a licence, its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemResult {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_type: Option<LicenceTypeKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<String>,
}

/// One step of the published process (办理流程), as citizens read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessStep {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supports {
    #[serde(default)]
    pub appointment: bool,
    #[serde(default)]
    pub online_payment: bool,
    #[serde(default)]
    pub delivery: bool,
    /// 免费邮寄: results are posted free of charge.
    #[serde(default)]
    pub free_postage: bool,
}

/// Where and when an item is handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<HallKey>,
    pub name: String,
    pub address: String,
    pub hours: String,
}

/// A field of the item's form, built from the shared dictionary of data elements (一表申请).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub element: DataElementCode,
    #[serde(default = "yes")]
    pub required: bool,
    /// Only asked when the situational answers match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

fn yes() -> bool {
    true
}

/// A material (申请材料) with the elements of GB/T 39046.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Catalog-wide: the same code in two items means the same document, so a bundle asks once.
    pub code: MaterialCode,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_time_requirement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default)]
    pub originals: u8,
    #[serde(default)]
    pub copies: u8,
    pub requirement: Requirement,
    /// For conditional materials: the situational answers that make it needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    pub media: Media,
    pub source: MaterialSource,
    pub submission: BTreeSet<SubmissionWay>,
    /// 容缺 (accept now, supply later) and/or 告知承诺 (a signed commitment instead).
    #[serde(default)]
    pub deferral: BTreeSet<Deferral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<String>,
    /// A licence of this type held by the applicant replaces the material (免提交).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by_licence: Option<LicenceTypeKey>,
    /// A data element the government already holds replaces the material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by_element: Option<DataElementCode>,
    /// How many months a copy checked at a window stays verified for the applicant's later
    /// applications (once-only, `cases::verified`); 0: never reused (a power of attorney, an
    /// agent's ID card). Without it: 12 months, or never for a form with a blank template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_for_months: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    Required,
    Conditional,
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Paper,
    Electronic,
    PaperOrElectronic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialSource {
    /// 申请人自备.
    SelfProvided,
    /// 政府部门核发.
    GovernmentIssued,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionWay {
    Window,
    Online,
    Post,
    /// 部门共享核验: the office checks the record itself.
    SharedVerification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deferral {
    /// 容缺受理.
    Tolerated,
    /// 告知承诺.
    Commitment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedList {
    pub title: String,
    pub entries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    pub question: String,
    pub answer: String,
}

impl Material {
    /// Whether the office checks this material in a shared record itself (部门共享核验): it is
    /// never asked of the applicant, at submission or at acceptance (once-only).
    pub fn checked_by_office(&self) -> bool {
        !self.submission.is_empty()
            && self
                .submission
                .iter()
                .all(|way| *way == SubmissionWay::SharedVerification)
    }

    /// Whether this material applies to an applicant with these answers. Required and optional
    /// materials always apply; a conditional one applies when its condition holds.
    pub fn applies_to(&self, answers: &Answers) -> bool {
        match (&self.requirement, &self.when) {
            (Requirement::Conditional, Some(condition)) => condition.holds(answers),
            _ => true,
        }
    }
}

impl ItemDefinition {
    /// The materials an applicant with these answers must or may bring (情形引导).
    pub fn materials_for<'a>(&'a self, answers: &'a Answers) -> impl Iterator<Item = &'a Material> {
        self.materials.iter().filter(|m| m.applies_to(answers))
    }

    /// The form fields an applicant with these answers is asked.
    pub fn form_for<'a>(&'a self, answers: &'a Answers) -> impl Iterator<Item = &'a FormField> {
        self.form
            .iter()
            .filter(|f| f.when.as_ref().is_none_or(|c| c.holds(answers)))
    }

    /// The form fields that apply or may still apply while some questions are unanswered: what
    /// a guide shows before the applicant has answered everything.
    pub fn possible_form<'a>(
        &'a self,
        answers: &'a Answers,
    ) -> impl Iterator<Item = &'a FormField> {
        self.form
            .iter()
            .filter(|f| f.when.as_ref().is_none_or(|c| c.may_hold(answers)))
    }

    /// The materials that apply or may still apply while some questions are unanswered.
    pub fn possible_materials<'a>(
        &'a self,
        answers: &'a Answers,
    ) -> impl Iterator<Item = &'a Material> {
        self.materials
            .iter()
            .filter(|m| match (&m.requirement, &m.when) {
                (Requirement::Conditional, Some(condition)) => condition.may_hold(answers),
                _ => true,
            })
    }

    /// Checks what one definition can check on its own: codes unique, conditions pointing at
    /// real questions and options, sensible limits. References to the rest of the catalog are
    /// checked by [`super::Catalog::validate`].
    pub fn validate(&self) -> Result<(), CatalogError> {
        let invalid = |reason: String| CatalogError::InvalidItem {
            code: self.implementation_code.to_string(),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(invalid("the name is empty".into()));
        }
        if self.online_depth.levels().next().is_none() {
            return Err(invalid("online_depth lists no level".into()));
        }
        if self.promised_limit.approximate_working_days()
            > self.statutory_limit.approximate_working_days()
        {
            return Err(invalid(format!(
                "the promised limit ({} {}) is longer than the statutory limit ({} {})",
                self.promised_limit.value,
                self.promised_limit.unit.code(),
                self.statutory_limit.value,
                self.statutory_limit.unit.code()
            )));
        }
        if self.case_type == super::codes::CaseType::Immediate
            && self.promised_limit.approximate_working_days() > 1
        {
            return Err(invalid(
                "an immediate item (即办件) promises more than one day".into(),
            ));
        }
        super::guidance::validate_questions(&self.questions).map_err(invalid)?;
        let mut seen = BTreeSet::new();
        for material in &self.materials {
            if !seen.insert(&material.code) {
                return Err(invalid(format!(
                    "material {} is listed twice",
                    material.code
                )));
            }
            let conditional = material.requirement == Requirement::Conditional;
            if conditional != material.when.is_some() {
                return Err(invalid(format!(
                    "material {}: a conditional material needs `when`, and only it may have one",
                    material.code
                )));
            }
            if let Some(condition) = &material.when {
                condition
                    .check_against(&self.questions)
                    .map_err(|reason| invalid(format!("material {}: {reason}", material.code)))?;
            }
        }
        let mut elements = BTreeSet::new();
        for field in &self.form {
            if !elements.insert(&field.element) {
                return Err(invalid(format!(
                    "form element {} is listed twice",
                    field.element
                )));
            }
            if let Some(condition) = &field.when {
                condition
                    .check_against(&self.questions)
                    .map_err(|reason| invalid(format!("form field {}: {reason}", field.element)))?;
            }
        }
        Ok(())
    }

    /// Whether the item can be handled online (可网办).
    pub fn online_capable(&self) -> bool {
        self.online_depth.online_capable()
    }

    /// The situational questions that apply to an applicant given the answers so far.
    pub fn questions_for<'a>(&'a self, answers: &'a Answers) -> impl Iterator<Item = &'a Question> {
        self.questions
            .iter()
            .filter(|q| q.when.as_ref().is_none_or(|c| c.holds(answers)))
    }

    /// The codes of the questions, for checking answers given in a request.
    pub fn question_codes(&self) -> BTreeSet<&QuestionCode> {
        self.questions.iter().map(|q| &q.code).collect()
    }
}
