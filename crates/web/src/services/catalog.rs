//! The catalog service: turns stored items and bundles into the views that both the API and the
//! pages show (names resolved, situational answers applied, bundle forms and materials merged,
//! reductions computed). Handlers call these functions and only map the result.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tongban_domain::catalog::codes::CodeSet;
use tongban_domain::catalog::guidance::parse_answers;
use tongban_domain::catalog::item::{Deferral, MaterialSource, Media, SubmissionWay};
use tongban_domain::catalog::{
    Answers, BundleDefinition, BundleKind, Condition, ItemDefinition, Material, Question,
    Reductions, Requirement, TimeLimit,
};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::{BundleCode, DepartmentKey, ThemeKey};
use tongban_store::model::{BundleSummary, ItemSummary, VersionInfo};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::lookup::Lookup;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentRef {
    pub key: String,
    pub name: String,
    pub credit_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThemeRef {
    pub key: String,
    pub name: String,
    pub name_en: String,
}

/// A national code with its Chinese and English names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CodeRef {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LimitView {
    pub value: u32,
    /// `working_days`, `natural_days` or `hours`.
    pub unit: String,
    pub text: String,
    pub text_en: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemListEntry {
    pub code: String,
    pub name: String,
    pub item_type: CodeRef,
    pub level: CodeRef,
    pub department: DepartmentRef,
    pub case_type: CodeRef,
    /// 到现场次数.
    pub visits: u8,
    /// 可网办 (online depth reaches 互联网受理).
    pub online_capable: bool,
    pub promised_limit: LimitView,
    pub statutory_limit: LimitView,
    pub themes: Vec<ThemeRef>,
    pub version: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<ItemListEntry>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptionView {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionView {
    pub code: String,
    pub text: String,
    pub options: Vec<OptionView>,
    pub answered: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldView {
    pub element: String,
    pub name: String,
    pub kind: String,
    pub required: bool,
    /// For a bundle's merged form: how many members ask this element.
    pub asked_by: u32,
}

/// Whether a material is needed given the answers so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// Always needed.
    Required,
    /// Needed because of the answers given.
    Needed,
    /// Depends on questions not answered yet.
    Depends,
    Optional,
}

impl Need {
    pub fn as_str(&self) -> &'static str {
        match self {
            Need::Required => "required",
            Need::Needed => "needed",
            Need::Depends => "depends",
            Need::Optional => "optional",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialView {
    pub code: String,
    pub name: String,
    pub need: Need,
    pub issuer: Option<String>,
    pub originals: u8,
    pub copies: u8,
    pub media: String,
    pub source: String,
    pub submission: Vec<String>,
    /// 容缺 (tolerated) and/or 告知承诺 (commitment).
    pub deferral: Vec<String>,
    pub notes: Option<String>,
    pub template: Option<String>,
    /// The licence type that replaces this material (免提交 for holders).
    pub replaced_by_licence: Option<String>,
    pub replaced_by_licence_name: Option<String>,
    /// For bundles: the member items that need it.
    pub needed_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleRef {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub lead_department: DepartmentRef,
    pub members: u32,
    pub version: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionView {
    pub version: u32,
    pub status: String,
    pub created_at: String,
    pub published_at: Option<String>,
}

/// The whole guide of an item in one response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub version: VersionView,
    pub department: DepartmentRef,
    pub co_departments: Vec<DepartmentRef>,
    pub item_type: CodeRef,
    pub level: CodeRef,
    pub case_type: CodeRef,
    pub scope: CodeRef,
    pub online_capable: bool,
    pub online_depth: Vec<CodeRef>,
    pub handling_forms: Vec<CodeRef>,
    pub service_objects: Vec<CodeRef>,
    pub visits: u8,
    pub statutory_limit: LimitView,
    pub promised_limit: LimitView,
    pub themes: Vec<ThemeRef>,
    pub answers: BTreeMap<String, String>,
    pub questions: Vec<QuestionView>,
    /// The form for these answers, built from the data-element dictionary.
    pub form: Vec<FieldView>,
    /// Every material, with what the answers make of it; `need` tells whether to bring it.
    pub materials: Vec<MaterialView>,
    /// "One thing" bundles this item is part of.
    pub bundles: Vec<BundleRef>,
    /// The guide exactly as published (every GB/T 39046 element).
    #[schema(value_type = Object)]
    pub guide: ItemDefinition,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleList {
    pub bundles: Vec<BundleRef>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub code: String,
    pub name: String,
    pub department: DepartmentRef,
    pub optional: bool,
    /// Whether the answers include this member (`depends` while undecided).
    pub need: Need,
    pub after: Vec<String>,
    pub stage: Option<String>,
    pub promised_limit: LimitView,
    pub visits: u8,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageView {
    pub code: String,
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReductionsView {
    pub fields_before: u32,
    pub fields_after: u32,
    pub materials_before: u32,
    pub materials_after: u32,
    pub visits_before: u32,
    pub visits_after: u32,
    pub days_before: u32,
    pub days_after: u32,
}

impl From<Reductions> for ReductionsView {
    fn from(r: Reductions) -> Self {
        ReductionsView {
            fields_before: r.fields_before,
            fields_after: r.fields_after,
            materials_before: r.materials_before,
            materials_after: r.materials_after,
            visits_before: r.visits_before,
            visits_after: r.visits_after,
            days_before: r.days_before,
            days_after: r.days_after,
        }
    }
}

/// A bundle with its members, one merged form, one merged material list and the reductions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleView {
    pub id: String,
    pub code: String,
    pub name: String,
    /// `one_thing` (一件事) or `one_class` (一类事, staged).
    pub kind: String,
    pub summary: String,
    pub version: VersionView,
    pub lead_department: DepartmentRef,
    pub cooperating_departments: Vec<DepartmentRef>,
    pub eligibility: Vec<String>,
    pub themes: Vec<ThemeRef>,
    pub answers: BTreeMap<String, String>,
    pub questions: Vec<QuestionView>,
    pub stages: Vec<StageView>,
    pub members: Vec<MemberView>,
    pub merged_form: Vec<FieldView>,
    pub merged_materials: Vec<MaterialView>,
    /// Fields, required materials, trips and days: each member alone → the bundle.
    pub reductions: ReductionsView,
    pub promised_limit: LimitView,
    pub visits: u8,
    #[schema(value_type = Object)]
    pub guide: BundleDefinition,
}

fn code_ref(code: &dyn CodeSet) -> CodeRef {
    CodeRef {
        code: code.code().to_owned(),
        name: code.label_zh().to_owned(),
        name_en: code.label_en().to_owned(),
    }
}

fn limit_view(limit: &TimeLimit) -> LimitView {
    LimitView {
        value: limit.value,
        unit: limit.unit.code().to_owned(),
        text: format!("{}{}", limit.value, limit.unit.label_zh()),
        text_en: format!("{} {}", limit.value, limit.unit.label_en()),
    }
}

fn department_ref(lookup: &Lookup, key: &DepartmentKey) -> DepartmentRef {
    let department = lookup.department(key);
    DepartmentRef {
        key: key.to_string(),
        name: department.map_or_else(|| key.to_string(), |d| d.name.clone()),
        credit_code: department.map(|d| d.credit_code.to_string()),
    }
}

fn theme_refs(lookup: &Lookup, keys: &[ThemeKey]) -> Vec<ThemeRef> {
    keys.iter()
        .map(|key| match lookup.theme(key) {
            Some(theme) => ThemeRef {
                key: key.to_string(),
                name: theme.name.clone(),
                name_en: theme.name_en.clone(),
            },
            None => ThemeRef {
                key: key.to_string(),
                name: key.to_string(),
                name_en: key.to_string(),
            },
        })
        .collect()
}

fn version_view(info: &VersionInfo) -> VersionView {
    VersionView {
        version: info.version,
        status: info.status.as_str().to_owned(),
        created_at: info.created_at.to_string(),
        published_at: info.published_at.map(|t| t.to_string()),
    }
}

fn question_views(questions: &[Question], answers: &Answers) -> Vec<QuestionView> {
    questions
        .iter()
        .filter(|q| q.when.as_ref().is_none_or(|c| c.may_hold(answers)))
        .map(|question| {
            let chosen = answers.get(&question.code);
            QuestionView {
                code: question.code.to_string(),
                text: question.text.clone(),
                answered: chosen.is_some(),
                options: question
                    .options
                    .iter()
                    .map(|option| OptionView {
                        code: option.code.to_string(),
                        label: option.label.clone(),
                        selected: chosen == Some(&option.code),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn need_of(
    requirement: Requirement,
    condition: Option<&Condition>,
    answers: &Answers,
) -> Option<Need> {
    match (requirement, condition) {
        (Requirement::Required, _) => Some(Need::Required),
        (Requirement::Optional, _) => Some(Need::Optional),
        (Requirement::Conditional, Some(condition)) if condition.holds(answers) => {
            Some(Need::Needed)
        }
        (Requirement::Conditional, Some(condition)) if condition.may_hold(answers) => {
            Some(Need::Depends)
        }
        (Requirement::Conditional, _) => None,
    }
}

fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn material_view(
    lookup: &Lookup,
    material: &Material,
    need: Need,
    needed_by: Vec<String>,
) -> MaterialView {
    let licence_name = material
        .replaced_by_licence
        .as_ref()
        .and_then(|key| lookup.licence_type(key))
        .map(|l| l.name.clone());
    MaterialView {
        code: material.code.to_string(),
        name: material.name.clone(),
        need,
        issuer: material.issuer.clone(),
        originals: material.originals,
        copies: material.copies,
        media: serde_name::<Media>(&material.media),
        source: serde_name::<MaterialSource>(&material.source),
        submission: material
            .submission
            .iter()
            .map(serde_name::<SubmissionWay>)
            .collect(),
        deferral: material
            .deferral
            .iter()
            .map(serde_name::<Deferral>)
            .collect(),
        notes: material.notes.clone(),
        template: material.template.clone(),
        replaced_by_licence: material
            .replaced_by_licence
            .as_ref()
            .map(ToString::to_string),
        replaced_by_licence_name: licence_name,
        needed_by,
    }
}

fn field_view(
    lookup: &Lookup,
    element: &tongban_domain::keys::DataElementCode,
    required: bool,
    asked_by: u32,
) -> FieldView {
    let definition = lookup.element(element);
    FieldView {
        element: element.to_string(),
        name: definition.map_or_else(|| element.to_string(), |e| e.name.clone()),
        kind: definition.map(|e| serde_name(&e.kind)).unwrap_or_default(),
        required,
        asked_by,
    }
}

/// Parses `question=option` pairs against a list of questions (unknown ones are refused).
pub fn answers_from<'a>(
    questions: &[Question],
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Answers, ApiError> {
    parse_answers(questions, pairs)
        .map_err(|reason| ApiError::new(ErrorCode::InvalidAnswer, reason))
}

fn answers_map(answers: &Answers) -> BTreeMap<String, String> {
    answers
        .iter()
        .map(|(q, o)| (q.to_string(), o.to_string()))
        .collect()
}

pub fn list_entry(lookup: &Lookup, item: &ItemSummary) -> ItemListEntry {
    ItemListEntry {
        code: item.code.to_string(),
        name: item.name.clone(),
        item_type: code_ref(&item.item_type),
        level: code_ref(&item.level),
        department: department_ref(lookup, &item.department),
        case_type: code_ref(&item.case_type),
        visits: item.visits,
        online_capable: item.online_capable,
        promised_limit: limit_view(&item.promised_limit),
        statutory_limit: limit_view(&item.statutory_limit),
        themes: theme_refs(lookup, &item.themes),
        version: item.version,
    }
}

pub fn bundle_ref(lookup: &Lookup, bundle: &BundleSummary) -> BundleRef {
    BundleRef {
        code: bundle.code.to_string(),
        name: bundle.name.clone(),
        kind: kind_name(bundle.kind).to_owned(),
        lead_department: department_ref(lookup, &bundle.lead_department),
        members: bundle.members,
        version: bundle.version,
    }
}

fn kind_name(kind: BundleKind) -> &'static str {
    match kind {
        BundleKind::OneThing => "one_thing",
        BundleKind::OneClass => "one_class",
    }
}

/// The item guide; `pairs` are situational answers as `question=option`.
pub async fn item_view<'a>(
    state: &AppState,
    code: &ImplementationCode,
    version: Option<u32>,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<ItemView, ApiError> {
    let record = match version {
        Some(version) => state.store.catalog.item_version(code, version).await?,
        None => state.store.catalog.item(code).await?,
    };
    let Some(record) = record else {
        return Err(match version {
            Some(version) => ApiError::new(
                ErrorCode::ItemVersionNotFound,
                format!("item {code} has no version {version}"),
            ),
            None => ApiError::new(
                ErrorCode::ItemNotFound,
                format!("there is no published item with code {code}"),
            ),
        });
    };
    let bundles = state.store.catalog.bundles_with_item(code).await?;
    let lookup = state.lookup.get();
    let item = record.definition;
    let answers = answers_from(&item.questions, pairs)?;
    let materials = item
        .materials
        .iter()
        .filter_map(|m| {
            need_of(m.requirement, m.when.as_ref(), &answers)
                .map(|need| material_view(&lookup, m, need, Vec::new()))
        })
        .collect();
    let form = item
        .form
        .iter()
        .filter(|f| f.when.as_ref().is_none_or(|c| c.may_hold(&answers)))
        .map(|f| field_view(&lookup, &f.element, f.required, 1))
        .collect();
    Ok(ItemView {
        id: record.id.to_string(),
        code: item.implementation_code.to_string(),
        name: item.name.clone(),
        version: version_view(&record.version),
        department: department_ref(&lookup, &item.department),
        co_departments: item
            .co_departments
            .iter()
            .map(|d| department_ref(&lookup, d))
            .collect(),
        item_type: code_ref(&item.item_type),
        level: code_ref(&item.level),
        case_type: code_ref(&item.case_type),
        scope: code_ref(&item.scope),
        online_capable: item.online_capable(),
        online_depth: item.online_depth.levels().map(|l| code_ref(&l)).collect(),
        handling_forms: item.handling_forms.iter().map(|f| code_ref(f)).collect(),
        service_objects: item.service_objects.iter().map(|o| code_ref(o)).collect(),
        visits: item.visits,
        statutory_limit: limit_view(&item.statutory_limit),
        promised_limit: limit_view(&item.promised_limit),
        themes: theme_refs(&lookup, &item.themes),
        answers: answers_map(&answers),
        questions: question_views(&item.questions, &answers),
        form,
        materials,
        bundles: bundles.iter().map(|b| bundle_ref(&lookup, b)).collect(),
        guide: item,
    })
}

/// The bundle with merged form and materials for the answers given.
pub async fn bundle_view<'a>(
    state: &AppState,
    code: &BundleCode,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<BundleView, ApiError> {
    let Some(record) = state.store.catalog.bundle(code).await? else {
        return Err(ApiError::new(
            ErrorCode::BundleNotFound,
            format!("there is no published bundle {code}"),
        ));
    };
    let lookup = state.lookup.get();
    let bundle = record.definition;
    let answers = answers_from(&bundle.questions, pairs)?;
    let mut items: BTreeMap<ImplementationCode, ItemDefinition> = BTreeMap::new();
    for member in &bundle.members {
        if let Some(item) = state.store.catalog.item(&member.item).await? {
            items.insert(member.item.clone(), item.definition);
        }
    }
    let mut members = Vec::new();
    let mut included: Vec<&ItemDefinition> = Vec::new();
    for member in &bundle.members {
        let need = match &member.when {
            None if member.optional => Need::Optional,
            None => Need::Required,
            Some(condition) if condition.holds(&answers) => Need::Needed,
            Some(condition) if condition.may_hold(&answers) => Need::Depends,
            Some(_) => continue,
        };
        let item = items.get(&member.item);
        if let (Some(item), true) = (item, need != Need::Optional) {
            included.push(item);
        }
        members.push(MemberView {
            code: member.item.to_string(),
            name: item.map_or_else(|| member.item.to_string(), |i| i.name.clone()),
            department: item.map_or_else(
                || DepartmentRef {
                    key: String::new(),
                    name: String::new(),
                    credit_code: None,
                },
                |i| department_ref(&lookup, &i.department),
            ),
            optional: member.optional,
            need,
            after: member.after.iter().map(ToString::to_string).collect(),
            stage: member.stage.as_ref().map(ToString::to_string),
            promised_limit: item.map_or_else(
                || limit_view(&bundle.promised_limit),
                |i| limit_view(&i.promised_limit),
            ),
            visits: item.map_or(0, |i| i.visits),
            note: member.note.clone(),
        });
    }
    let names: BTreeMap<&ImplementationCode, &str> = items
        .iter()
        .map(|(code, item)| (code, item.name.as_str()))
        .collect();
    let merged_form = BundleDefinition::merged_form(&included, &answers)
        .into_iter()
        .map(|f| {
            field_view(
                &lookup,
                &f.element,
                f.required,
                u32::try_from(f.asked_by.len()).unwrap_or(u32::MAX),
            )
        })
        .collect();
    let merged_materials = BundleDefinition::merged_materials(&included, &answers)
        .into_iter()
        .filter_map(|merged| {
            let need = need_of(
                merged.material.requirement,
                merged.material.when.as_ref(),
                &answers,
            )?;
            let needed_by = merged
                .needed_by
                .iter()
                .map(|code| {
                    names
                        .get(code)
                        .map_or_else(|| code.to_string(), |n| (*n).to_owned())
                })
                .collect();
            Some(material_view(&lookup, &merged.material, need, needed_by))
        })
        .collect();
    let reductions = bundle.reductions(&included, &answers).into();
    let stages = bundle
        .stages
        .iter()
        .map(|stage| StageView {
            code: stage.code.to_string(),
            name: stage.name.clone(),
            members: bundle
                .members
                .iter()
                .filter(|m| m.stage.as_ref() == Some(&stage.code))
                .map(|m| m.item.to_string())
                .collect(),
        })
        .collect();
    let departments: BTreeSet<&DepartmentKey> = bundle.cooperating_departments.iter().collect();
    Ok(BundleView {
        id: record.id.to_string(),
        code: bundle.code.to_string(),
        name: bundle.name.clone(),
        kind: kind_name(bundle.kind).to_owned(),
        summary: bundle.summary.clone(),
        version: version_view(&record.version),
        lead_department: department_ref(&lookup, &bundle.lead_department),
        cooperating_departments: departments
            .into_iter()
            .map(|d| department_ref(&lookup, d))
            .collect(),
        eligibility: bundle.eligibility.clone(),
        themes: theme_refs(&lookup, &bundle.themes),
        answers: answers_map(&answers),
        questions: question_views(&bundle.questions, &answers),
        stages,
        members,
        merged_form,
        merged_materials,
        reductions,
        promised_limit: limit_view(&bundle.promised_limit),
        visits: bundle.visits,
        guide: bundle,
    })
}
