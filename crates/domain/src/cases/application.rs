//! Opening a case from an application (申请): the form is checked against the item's fields and
//! the data-element dictionary, the materials against the item's list for the applicant's
//! situation, and every problem is reported at once.

use std::collections::BTreeMap;

use jiff::civil::Date;

use super::lifecycle::{Context, Outcome};
use super::process::Workflow;
use super::{
    ActorKind, Applicant, ApplicantKind, Case, CaseError, CaseEvent, CaseMaterial, CaseState,
    Channel, Delivery, EventKind, Provision,
};
use crate::catalog::codes::ServiceObject;
use crate::catalog::item::{Deferral, Requirement, SubmissionWay};
use crate::catalog::{Answers, DataElement, ElementKind, ItemDefinition};
use crate::ids::{CreditCode, IdNumber};
use crate::keys::{DataElementCode, HallKey};
use crate::org::Role;

/// Everything an application carries, resolved by the caller (the item version it is pinned
/// to, the workflow, the applicant's answers, the data-element dictionary).
#[derive(Debug, Clone)]
pub struct Application<'a> {
    pub id: uuid::Uuid,
    pub item: &'a ItemDefinition,
    pub item_version: u32,
    pub workflow: &'a Workflow,
    pub elements: &'a BTreeMap<&'a DataElementCode, &'a DataElement>,
    pub applicant: Applicant,
    pub channel: Channel,
    pub hall: Option<HallKey>,
    pub answers: Answers,
    pub form: BTreeMap<DataElementCode, String>,
    pub materials: Vec<CaseMaterial>,
    pub delivery: Delivery,
}

/// Checks a value against its data element; `Err` says what is wrong in plain words.
pub fn check_value(element: &DataElement, value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("is empty".into());
    }
    if let Some(max) = element.max_length
        && value.chars().count() > max as usize
    {
        return Err(format!("is longer than {max} characters"));
    }
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let ok = match element.kind {
        ElementKind::Text | ElementKind::Address => value.chars().count() <= 200,
        ElementKind::LongText => value.chars().count() <= 2000,
        ElementKind::IdNumber => {
            return IdNumber::parse(value)
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        ElementKind::CreditCode => {
            return CreditCode::parse(value)
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        ElementKind::Date => value.parse::<Date>().is_ok(),
        ElementKind::Phone => {
            let stripped: String = value.chars().filter(|c| *c != '-' && *c != ' ').collect();
            let stripped = stripped.strip_prefix('+').unwrap_or(&stripped);
            (7..=15).contains(&stripped.len()) && digits(stripped)
        }
        ElementKind::RegionCode => crate::ids::RegionCode::parse(value).is_ok(),
        ElementKind::Integer => value.parse::<i64>().is_ok_and(|n| n >= 0),
        ElementKind::Money => crate::catalog::money::Money::parse_yuan(value).is_ok(),
        ElementKind::Area => value
            .parse::<f64>()
            .is_ok_and(|n| n.is_finite() && n >= 0.0),
        ElementKind::Choice => element.options.iter().any(|o| o == value),
        ElementKind::Boolean => matches!(value, "true" | "false" | "是" | "否"),
        ElementKind::Email => value
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.')),
        ElementKind::PostalCode => value.len() == 6 && digits(value),
    };
    if ok {
        return Ok(());
    }
    Err(match element.kind {
        ElementKind::Choice => format!("must be one of: {}", element.options.join(", ")),
        ElementKind::Date => "must be a date such as 2026-03-02".into(),
        ElementKind::Phone => "must be a phone number".into(),
        ElementKind::PostalCode => "must be a 6-digit postal code".into(),
        _ => "is not valid".into(),
    })
}

/// Opens the case. Returns every problem at once in `CaseError::InvalidApplication`.
pub fn open_case(
    application: Application<'_>,
    context: &Context<'_>,
) -> Result<Outcome, CaseError> {
    let actor = context.actor;
    let item = application.item;
    let for_themselves = actor.is_applicant(&application.applicant);
    let clerk = actor.has_role(Role::Clerk, None);
    let agent = actor.is_agent_for(&application.applicant);
    if !for_themselves && !clerk && !agent {
        return Err(CaseError::Forbidden(
            "an application is made by the applicant, by a window clerk for them, or by an agent under their mandate".into(),
        ));
    }
    if matches!(application.channel, Channel::Window) && !clerk {
        return Err(CaseError::Forbidden(
            "window applications are entered by a clerk".into(),
        ));
    }
    if matches!(application.channel, Channel::Agent) != agent {
        return Err(CaseError::Forbidden(
            "an agent acting for an applicant applies on the agent channel, and only such an agent does"
                .into(),
        ));
    }
    if matches!(actor.kind, ActorKind::System) {
        return Err(CaseError::Forbidden(
            "department systems do not apply".into(),
        ));
    }
    let mut problems: Vec<String> = Vec::new();
    if !item.item_type.is_applicable() {
        problems.push(format!(
            "{} is an enforcement item; nobody applies for it",
            item.name
        ));
    }
    let serves = match application.applicant.kind {
        ApplicantKind::Person => item.service_objects.contains(&ServiceObject::NaturalPerson),
        ApplicantKind::Enterprise => item
            .service_objects
            .iter()
            .any(|o| *o != ServiceObject::NaturalPerson),
    };
    if !serves {
        problems.push(format!(
            "{} does not serve this kind of applicant",
            item.name
        ));
    }

    let answers = &application.answers;
    let fields: Vec<_> = item.form_for(answers).collect();
    for (code, value) in &application.form {
        let Some(field) = fields.iter().find(|f| &f.element == code) else {
            problems.push(format!(
                "form field {code} is not asked by this item for these answers"
            ));
            continue;
        };
        match application.elements.get(&field.element) {
            Some(element) => {
                if let Err(reason) = check_value(element, value) {
                    problems.push(format!("{} ({code}) {reason}", element.name));
                }
            }
            None => problems.push(format!(
                "form field {code} is not in the data-element dictionary"
            )),
        }
    }
    for field in &fields {
        if field.required && !application.form.contains_key(&field.element) {
            let name = application
                .elements
                .get(&field.element)
                .map_or(field.element.as_str(), |e| e.name.as_str());
            problems.push(format!("{name} ({}) is required", field.element));
        }
    }

    let needed: Vec<_> = item.materials_for(answers).collect();
    for provided in &application.materials {
        let Some(material) = needed.iter().find(|m| m.code == provided.code) else {
            problems.push(format!(
                "material {} is not asked by this item for these answers",
                provided.code
            ));
            continue;
        };
        match &provided.provision {
            Provision::Commitment { text } => {
                if !material.deferral.contains(&Deferral::Commitment) {
                    problems.push(format!(
                        "{} cannot be replaced by a commitment (告知承诺)",
                        material.name
                    ));
                } else if text.trim().is_empty() {
                    problems.push(format!("the commitment for {} is empty", material.name));
                }
            }
            Provision::Licence { .. } if material.replaced_by_licence.is_none() => {
                problems.push(format!("{} cannot be replaced by a licence", material.name));
            }
            Provision::Tolerated { .. } => {
                problems.push(format!(
                    "{} can only be accepted as missing (容缺) by the clerk at acceptance",
                    material.name
                ));
            }
            Provision::Paper if !clerk => {
                problems.push(format!(
                    "paper copies of {} are checked at a window",
                    material.name
                ));
            }
            _ => {}
        }
    }
    for material in &needed {
        let required = matches!(
            material.requirement,
            Requirement::Required | Requirement::Conditional
        );
        let provided = application
            .materials
            .iter()
            .any(|m| m.code == material.code);
        // A material the office checks in a shared record itself (部门共享核验) is never asked of
        // the applicant (once-only).
        let fetched_by_office = !material.submission.is_empty()
            && material
                .submission
                .iter()
                .all(|way| *way == SubmissionWay::SharedVerification);
        // Tolerable materials may be missing at submission; the clerk decides at acceptance.
        if required
            && !provided
            && !fetched_by_office
            && !material.deferral.contains(&Deferral::Tolerated)
        {
            problems.push(format!(
                "material {} ({}) is required",
                material.name, material.code
            ));
        }
    }
    match &application.delivery {
        Delivery::Post {
            recipient,
            phone,
            address,
            ..
        } => {
            if recipient.trim().is_empty() || phone.trim().is_empty() || address.trim().is_empty() {
                problems.push("delivery by post needs a recipient, a phone and an address".into());
            }
        }
        Delivery::Collect { pickup_code, .. } => {
            if pickup_code.len() < 6 {
                problems.push("a pickup code has at least 6 characters".into());
            }
        }
    }
    if !problems.is_empty() {
        return Err(CaseError::InvalidApplication(problems));
    }

    let mut materials = application.materials;
    for material in &mut materials {
        if let Some(definition) = needed.iter().find(|m| m.code == material.code) {
            material.name = definition.name.clone();
        }
    }
    let case = Case {
        id: application.id,
        number: String::new(),
        version: 1,
        item_code: item.implementation_code.clone(),
        item_version: application.item_version,
        item_name: item.name.clone(),
        case_type: item.case_type,
        department: item.department.clone(),
        co_departments: item.co_departments.clone(),
        applicant: application.applicant,
        channel: application.channel,
        hall: application.hall,
        state: CaseState::Submitted,
        workflow: application.workflow.clone(),
        answers: answers
            .iter()
            .map(|(q, o)| (q.to_string(), o.to_string()))
            .collect(),
        form: application.form,
        materials,
        delivery: application.delivery,
        statutory_limit: item.statutory_limit,
        promised_limit: item.promised_limit,
        submitted_at: context.now,
        accepted_on: None,
        statutory_due: None,
        promised_due: None,
        suspensions: Vec::new(),
        suspended_since: None,
        extension_days: 0,
        countersign: BTreeMap::new(),
        correction: Vec::new(),
        resume_step: None,
        decision: None,
        licence: None,
        closed_at: None,
        parent: None,
        shipments: Vec::new(),
    };
    let event = CaseEvent {
        at: context.now,
        actor: actor.account.clone(),
        actor_name: actor.name.clone(),
        department: None,
        on_behalf: actor.on_behalf_of(&case.applicant),
        kind: EventKind::Submitted {
            channel: application.channel,
        },
    };
    Ok(Outcome {
        case,
        events: vec![event],
    })
}
