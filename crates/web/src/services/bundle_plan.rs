//! What a bundle application will ask of this applicant, for these answers (the wizard's
//! steps and the API's `GET /api/v1/bundles/{code}/plan`): the questions still open (the
//! bundle's and its members', each once), the selected members with what they wait for, the
//! one merged form (prefilled from the applicant's licences and earlier applications when they
//! consent) and the one material list, with the materials that a licence they hold replaces
//! marked 免提交 and those an earlier member produces marked as coming from it.
//!
//! Every read of the applicant's data for prefilling is written to the data-access log.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::Actor;
use tongban_domain::cases::bundle_case::{plan_children, prerequisite_licences};
use tongban_domain::cases::delivery::Postage;
use tongban_domain::cases::verified::best_for;
use tongban_domain::catalog::item::{Deferral, Requirement};
use tongban_domain::catalog::{Answers, BundleDefinition, ItemDefinition, Question};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::DataElementCode;
use tongban_store::model::{CaseFilter, CaseScope, DataAccess};
use utoipa::ToSchema;

use super::bundles::licence_library;
use super::cases::new_id;
use crate::AppState;
use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanOption {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanQuestion {
    pub code: String,
    pub text: String,
    pub options: Vec<PlanOption>,
    pub answered: bool,
    /// `bundle`, or the name of the member that asks it.
    pub asked_by: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanMember {
    pub code: String,
    pub name: String,
    pub department: String,
    pub department_name: String,
    pub optional: bool,
    pub waits_for: Vec<String>,
    pub stage: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanPrefill {
    pub value: String,
    /// Where it came from: a licence's name, or an earlier application's number.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanField {
    pub element: String,
    pub name: String,
    pub kind: String,
    /// For `choice` elements.
    pub options: Vec<String>,
    pub required: bool,
    /// The members that ask it (asked once for all of them).
    pub asked_by: Vec<String>,
    pub prefill: Option<PlanPrefill>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanMaterial {
    pub code: String,
    pub name: String,
    pub required: bool,
    pub needed_by: Vec<String>,
    /// 免提交: a valid licence of the applicant replaces it (its identifier).
    pub exempt_by_licence: Option<String>,
    pub exempt_licence_name: Option<String>,
    /// 免提交: a copy of this material that a clerk checked for an earlier case of the applicant
    /// is still valid (its id); attached by reference at submission.
    pub exempt_by_document: Option<String>,
    /// 已由 X 核验,有效期至 …
    pub exempt_document_note: Option<String>,
    /// Produced by an earlier member of this application (attached when issued).
    pub from_member: Option<String>,
    /// The office checks it in a shared record itself (部门共享核验).
    pub office_checks: bool,
    /// May be handed in after acceptance (容缺).
    pub tolerable: bool,
    /// Whether the applicant must provide it now.
    pub ask: bool,
}

/// Fields, materials, trips and days: each member alone → the bundle, for these answers.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct PlanReductions {
    pub fields_before: u32,
    pub fields_after: u32,
    pub materials_before: u32,
    pub materials_after: u32,
    /// Materials the applicant still provides, after 免提交 and results shared between members.
    pub materials_to_provide: u32,
    pub visits_before: u32,
    pub visits_after: u32,
    pub days_before: u32,
    pub days_after: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundlePlan {
    pub bundle_code: String,
    pub bundle_name: String,
    pub kind: String,
    pub answers: BTreeMap<String, String>,
    /// Every question that applies and is not answered yet comes first in the wizard.
    pub questions: Vec<PlanQuestion>,
    pub complete: bool,
    pub members: Vec<PlanMember>,
    pub form: Vec<PlanField>,
    pub materials: Vec<PlanMaterial>,
    pub reductions: PlanReductions,
    pub prefill_consent: bool,
    /// Who pays for posting the results (one parcel for all of them): free when any selected
    /// member posts its result free.
    pub postage: super::delivery::PostageView,
}

fn question_entries(
    questions: &[Question],
    answers: &Answers,
    asked_by: &str,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<PlanQuestion>,
) {
    for question in questions {
        if !question.when.as_ref().is_none_or(|c| c.holds(answers)) {
            continue;
        }
        if !seen.insert(question.code.to_string()) {
            continue;
        }
        let chosen = answers.get(&question.code);
        out.push(PlanQuestion {
            code: question.code.to_string(),
            text: question.text.clone(),
            answered: chosen.is_some(),
            asked_by: asked_by.to_owned(),
            options: question
                .options
                .iter()
                .map(|o| PlanOption {
                    code: o.code.to_string(),
                    label: o.label.clone(),
                    selected: chosen == Some(&o.code),
                })
                .collect(),
        });
    }
}

fn answers_for(questions: &[Question], all: &BTreeMap<String, String>) -> Answers {
    let mut answers = Answers::new();
    for question in questions {
        if let Some(chosen) = all.get(question.code.as_str())
            && let Some(option) = question.options.iter().find(|o| o.code.as_str() == chosen)
        {
            answers.insert(question.code.clone(), option.code.clone());
        }
    }
    answers
}

/// The plan of a bundle application. `answers` may hold the bundle's and the members'
/// questions; unknown options are refused. With `prefill` (the applicant's consent), values
/// come from their licences and earlier applications, and each source read is logged.
pub async fn plan(
    state: &AppState,
    actor: &Actor,
    code: &str,
    answers: &BTreeMap<String, String>,
    optional: &[String],
    prefill: bool,
) -> Result<BundlePlan, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::BundleNotFound,
            format!("there is no published bundle {code}"),
        )
    };
    let key = tongban_domain::keys::BundleCode::parse(code).map_err(|_| not_found())?;
    let Some(record) = state.store.catalog.bundle(&key).await? else {
        return Err(not_found());
    };
    let bundle: BundleDefinition = record.definition;
    for (question, option) in answers {
        let known = bundle.questions.iter().any(|q| q.code.as_str() == question);
        if known
            && !bundle.questions.iter().any(|q| {
                q.code.as_str() == question && q.options.iter().any(|o| o.code.as_str() == option)
            })
        {
            return Err(ApiError::new(
                ErrorCode::InvalidAnswer,
                format!("{option:?} is not an option of {question}"),
            ));
        }
    }
    let bundle_answers = answers_for(&bundle.questions, answers);
    let lookup = state.lookup.get();
    let mut questions = Vec::new();
    let mut seen_questions = BTreeSet::new();
    question_entries(
        &bundle.questions,
        &bundle_answers,
        "bundle",
        &mut seen_questions,
        &mut questions,
    );
    let mut items: BTreeMap<ImplementationCode, ItemDefinition> = BTreeMap::new();
    for member in bundle.members_for(&bundle_answers) {
        if member.optional && !optional.iter().any(|o| o == member.item.as_str()) {
            continue;
        }
        if let Some(item) = state.store.catalog.item(&member.item).await? {
            items.insert(member.item.clone(), item.definition);
        }
    }
    let refs: BTreeMap<ImplementationCode, &ItemDefinition> =
        items.iter().map(|(c, i)| (c.clone(), i)).collect();
    let children = plan_children(&bundle, &bundle_answers, &refs);
    let now = state.clock.now();
    let library = match actor.identifier.as_deref() {
        Some(holder) => licence_library(state, holder, now).await?,
        None => BTreeMap::new(),
    };
    let documents = match actor.identifier.as_deref() {
        Some(holder) => super::documents::usable(state, holder, now).await?,
        None => Vec::new(),
    };
    let today = shanghai_date(now);

    let mut members = Vec::new();
    let mut form: Vec<PlanField> = Vec::new();
    let mut materials: Vec<PlanMaterial> = Vec::new();
    let mut selected: Vec<&ItemDefinition> = Vec::new();
    let mut member_answers: BTreeMap<ImplementationCode, Answers> = BTreeMap::new();
    for child in &children {
        let Some(item) = items.get(&child.item) else {
            continue;
        };
        selected.push(item);
        let item_answers = answers_for(&item.questions, answers);
        question_entries(
            &item.questions,
            &item_answers,
            &item.name,
            &mut seen_questions,
            &mut questions,
        );
        members.push(PlanMember {
            code: child.item.to_string(),
            name: item.name.clone(),
            department: child.department.to_string(),
            department_name: lookup.department_name(&child.department).to_owned(),
            optional: bundle
                .members
                .iter()
                .any(|m| m.item == child.item && m.optional),
            waits_for: child.waits_for.iter().map(ToString::to_string).collect(),
            stage: child.stage.as_ref().map(ToString::to_string),
        });
        for field in item.form_for(&item_answers) {
            match form
                .iter_mut()
                .find(|f| f.element == field.element.as_str())
            {
                Some(existing) => {
                    existing.required |= field.required;
                    existing.asked_by.push(item.name.clone());
                }
                None => {
                    let element = lookup.element(&field.element);
                    form.push(PlanField {
                        element: field.element.to_string(),
                        name: element.map_or_else(|| field.element.to_string(), |e| e.name.clone()),
                        kind: element
                            .and_then(|e| serde_json::to_value(e.kind).ok())
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        options: element.map(|e| e.options.clone()).unwrap_or_default(),
                        required: field.required,
                        asked_by: vec![item.name.clone()],
                        prefill: None,
                    });
                }
            }
        }
        let produced = prerequisite_licences(&children, &child.item);
        for material in item.materials_for(&item_answers) {
            let required = matches!(
                material.requirement,
                Requirement::Required | Requirement::Conditional
            );
            let held = material
                .replaced_by_licence
                .as_ref()
                .and_then(|key| library.get(key));
            let from_member = material.replaced_by_licence.as_ref().and_then(|key| {
                if held.is_some() || !produced.contains(key) {
                    return None;
                }
                children
                    .iter()
                    .find(|c| c.produces.as_ref() == Some(key))
                    .map(|c| c.item_name.clone())
            });
            let office_checks = material.checked_by_office();
            let document = match (held, actor.identifier.as_deref()) {
                (None, Some(holder)) if required && !office_checks => {
                    best_for(&documents, &material.code, holder, today)
                }
                _ => None,
            };
            match materials
                .iter_mut()
                .find(|m| m.code == material.code.as_str())
            {
                Some(existing) => {
                    existing.required |= required;
                    existing.needed_by.push(item.name.clone());
                    // One member may get it from an earlier member, another needs it now.
                    if from_member.is_none() && existing.from_member.is_some() && held.is_none() {
                        existing.from_member = None;
                    }
                }
                None => materials.push(PlanMaterial {
                    code: material.code.to_string(),
                    name: material.name.clone(),
                    required,
                    needed_by: vec![item.name.clone()],
                    exempt_by_licence: held.map(|l| l.identifier.to_string()),
                    exempt_licence_name: held.map(|l| l.name.clone()),
                    exempt_by_document: document.map(|d| d.id.to_string()),
                    exempt_document_note: document.map(|d| {
                        format!(
                            "已由{}核验,有效期至{}",
                            super::documents::office_of(&lookup, d),
                            d.valid_until
                        )
                    }),
                    from_member,
                    office_checks,
                    tolerable: material.deferral.contains(&Deferral::Tolerated),
                    ask: false,
                }),
            }
        }
        member_answers.insert(child.item.clone(), item_answers);
    }
    for material in &mut materials {
        material.ask = material.required
            && material.exempt_by_licence.is_none()
            && material.exempt_by_document.is_none()
            && material.from_member.is_none()
            && !material.office_checks;
    }

    let mut accesses = Vec::new();
    if prefill && let Some(holder) = actor.identifier.as_deref() {
        for licence in library.values() {
            let mut used = false;
            for field in &mut form {
                if field.prefill.is_some() {
                    continue;
                }
                let Ok(element) = DataElementCode::parse(&field.element) else {
                    continue;
                };
                if let Some(value) = licence.data.get(&element) {
                    field.prefill = Some(PlanPrefill {
                        value: value.clone(),
                        source: licence.name.clone(),
                    });
                    used = true;
                }
            }
            if used {
                accesses.push(prefill_access(actor, holder, &licence.name, now));
            }
        }
        let earlier = state
            .store
            .cases
            .list_cases(&CaseFilter {
                scope: CaseScope {
                    applicant: Some(holder.to_owned()),
                    ..CaseScope::default()
                },
                applicant: Some(holder.to_owned()),
                limit: 5,
                ..CaseFilter::default()
            })
            .await?;
        for summary in earlier.cases {
            let Some(case) = state.store.cases.case(summary.id).await? else {
                continue;
            };
            let mut used = false;
            for field in &mut form {
                if field.prefill.is_some() {
                    continue;
                }
                let Ok(element) = DataElementCode::parse(&field.element) else {
                    continue;
                };
                if let Some(value) = case.form.get(&element) {
                    field.prefill = Some(PlanPrefill {
                        value: value.clone(),
                        source: case.number.clone(),
                    });
                    used = true;
                }
            }
            if used {
                accesses.push(prefill_access(
                    actor,
                    holder,
                    &format!("办件{}的申请表", case.number),
                    now,
                ));
            }
        }
    }
    if !accesses.is_empty() {
        state.store.cases.record(Vec::new(), accesses).await?;
    }

    let reductions = bundle.reductions(&selected, &bundle_answers);
    let to_provide = materials.iter().filter(|m| m.ask).count();
    let complete = questions.iter().all(|q| q.answered);
    Ok(BundlePlan {
        bundle_code: bundle.code.to_string(),
        bundle_name: bundle.name.clone(),
        kind: serde_json::to_value(bundle.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        answers: answers.clone(),
        questions,
        complete,
        members,
        form,
        materials,
        postage: Postage::for_bundle(selected.iter().copied()).into(),
        reductions: PlanReductions {
            fields_before: reductions.fields_before,
            fields_after: reductions.fields_after,
            materials_before: reductions.materials_before,
            materials_after: reductions.materials_after,
            materials_to_provide: u32::try_from(to_provide).unwrap_or(u32::MAX),
            visits_before: reductions.visits_before,
            visits_after: reductions.visits_after,
            days_before: reductions.days_before,
            days_after: reductions.days_after,
        },
        prefill_consent: prefill,
    })
}

fn prefill_access(actor: &Actor, holder: &str, what: &str, now: jiff::Timestamp) -> DataAccess {
    DataAccess {
        id: new_id(now),
        at: now,
        subject: holder.to_owned(),
        actor: actor.account.to_string(),
        actor_name: "一件事表单预填".to_owned(),
        department: None,
        case_id: None,
        purpose: "经本人同意,预填一件事申请表".to_owned(),
        what: what.to_owned(),
    }
}
