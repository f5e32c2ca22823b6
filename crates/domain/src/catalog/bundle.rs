//! "One thing" bundles (高效办成一件事): several items applied for with one form, one set of
//! materials and one submission. The application flow comes later; here is the catalog entity and
//! what can be derived from it: the merged form, the merged material list and the reductions.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::CatalogError;
use super::codes::ServiceObject;
use super::guidance::{Answers, Condition, Question};
use super::item::{Faq, ItemDefinition, Material, Requirement, TimeLimit};
use crate::ids::ImplementationCode;
use crate::keys::{BundleCode, DataElementCode, DepartmentKey, MaterialCode, ThemeKey};

/// One version of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleDefinition {
    pub code: BundleCode,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub kind: BundleKind,
    pub summary: String,
    pub service_objects: BTreeSet<ServiceObject>,
    pub themes: Vec<ThemeKey>,
    pub lead_department: DepartmentKey,
    #[serde(default)]
    pub cooperating_departments: Vec<DepartmentKey>,
    /// Who may apply (e.g. "born in the province within six months").
    pub eligibility: Vec<String>,
    #[serde(default)]
    pub questions: Vec<Question>,
    /// The stages of a staged bundle (一类事), in order.
    #[serde(default)]
    pub stages: Vec<Stage>,
    pub members: Vec<BundleMember>,
    /// The bundle's own promised limit, from submission to the last result.
    pub promised_limit: TimeLimit,
    /// Promised trips for the whole bundle.
    pub visits: u8,
    #[serde(default)]
    pub faq: Vec<Faq>,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleKind {
    /// 一件事.
    OneThing,
    /// 一类事: a bundle whose members come in stages.
    OneClass,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub code: crate::keys::QuestionCode,
    pub name: String,
}

/// A member item of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleMember {
    pub item: ImplementationCode,
    /// The member is only included when the answers match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// The applicant may leave an optional member out.
    #[serde(default)]
    pub optional: bool,
    /// Members whose results this one needs first (出生医学证明 before 出生登记).
    #[serde(default)]
    pub after: Vec<ImplementationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<crate::keys::QuestionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A field of the merged form, with the members that ask it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedField {
    pub element: DataElementCode,
    pub required: bool,
    pub asked_by: Vec<ImplementationCode>,
}

/// A material of the merged list, with the members that need it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedMaterial {
    pub material: Material,
    pub needed_by: Vec<ImplementationCode>,
}

/// Before (each member applied for alone) and after (the bundle), derived from catalog data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reductions {
    pub fields_before: u32,
    pub fields_after: u32,
    pub materials_before: u32,
    pub materials_after: u32,
    pub visits_before: u32,
    pub visits_after: u32,
    pub days_before: u32,
    pub days_after: u32,
}

impl BundleDefinition {
    /// The members that apply for these answers (all members when none are conditional).
    pub fn members_for<'a>(
        &'a self,
        answers: &'a Answers,
    ) -> impl Iterator<Item = &'a BundleMember> {
        self.members
            .iter()
            .filter(|m| m.when.as_ref().is_none_or(|c| c.holds(answers)))
    }

    /// Checks the bundle on its own: members unique, ordering pointing at members without
    /// cycles, stages known, conditions pointing at real questions.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let invalid = |reason: String| CatalogError::InvalidBundle {
            code: self.code.to_string(),
            reason,
        };
        if self.members.is_empty() {
            return Err(invalid("the bundle has no member".into()));
        }
        super::guidance::validate_questions(&self.questions).map_err(invalid)?;
        let codes: BTreeSet<&ImplementationCode> = self.members.iter().map(|m| &m.item).collect();
        if codes.len() != self.members.len() {
            return Err(invalid("a member item is listed twice".into()));
        }
        for member in &self.members {
            for needed in &member.after {
                if !codes.contains(needed) {
                    return Err(invalid(format!(
                        "member {} waits for {needed}, which is not a member",
                        member.item
                    )));
                }
            }
            if let Some(condition) = &member.when {
                condition
                    .check_against(&self.questions)
                    .map_err(|reason| invalid(format!("member {}: {reason}", member.item)))?;
            }
            match (&member.stage, self.kind) {
                (Some(stage), _) if !self.stages.iter().any(|s| &s.code == stage) => {
                    return Err(invalid(format!(
                        "member {} names unknown stage {stage}",
                        member.item
                    )));
                }
                (None, BundleKind::OneClass) => {
                    return Err(invalid(format!(
                        "member {} of a staged bundle has no stage",
                        member.item
                    )));
                }
                _ => {}
            }
        }
        if self.kind == BundleKind::OneClass && self.stages.len() < 2 {
            return Err(invalid(
                "a staged bundle (一类事) needs at least two stages".into(),
            ));
        }
        self.execution_order().map(|_| ()).map_err(invalid)
    }

    /// The members in an order that honours `after` (a topological order), or the cycle.
    pub fn execution_order(&self) -> Result<Vec<&ImplementationCode>, String> {
        let mut order: Vec<&ImplementationCode> = Vec::with_capacity(self.members.len());
        let mut placed: BTreeSet<&ImplementationCode> = BTreeSet::new();
        while order.len() < self.members.len() {
            let before = order.len();
            for member in &self.members {
                if !placed.contains(&member.item) && member.after.iter().all(|a| placed.contains(a))
                {
                    placed.insert(&member.item);
                    order.push(&member.item);
                }
            }
            if order.len() == before {
                return Err("the members' ordering constraints form a cycle".into());
            }
        }
        Ok(order)
    }

    /// One form: every data element asked by the selected members, each once, in first-asked
    /// order. A field is required when any member requires it. Fields whose condition depends on
    /// a member's question not answered yet are included, as the member's own guide shows them.
    pub fn merged_form(members: &[&ItemDefinition], answers: &Answers) -> Vec<MergedField> {
        let mut fields: Vec<MergedField> = Vec::new();
        let mut index: BTreeMap<DataElementCode, usize> = BTreeMap::new();
        for item in members {
            for field in item.possible_form(answers) {
                match index.get(&field.element) {
                    Some(&position) => {
                        let merged = &mut fields[position];
                        merged.required |= field.required;
                        merged.asked_by.push(item.implementation_code.clone());
                    }
                    None => {
                        index.insert(field.element.clone(), fields.len());
                        fields.push(MergedField {
                            element: field.element.clone(),
                            required: field.required,
                            asked_by: vec![item.implementation_code.clone()],
                        });
                    }
                }
            }
        }
        fields
    }

    /// One set of materials: each material code once, with the members that need it. A
    /// material is required when any member requires it.
    pub fn merged_materials(members: &[&ItemDefinition], answers: &Answers) -> Vec<MergedMaterial> {
        let mut merged: Vec<MergedMaterial> = Vec::new();
        let mut index: BTreeMap<MaterialCode, usize> = BTreeMap::new();
        for item in members {
            for material in item.possible_materials(answers) {
                match index.get(&material.code) {
                    Some(&position) => {
                        let entry = &mut merged[position];
                        if material.requirement < entry.material.requirement {
                            entry.material.requirement = material.requirement;
                        }
                        entry.needed_by.push(item.implementation_code.clone());
                    }
                    None => {
                        index.insert(material.code.clone(), merged.len());
                        merged.push(MergedMaterial {
                            material: material.clone(),
                            needed_by: vec![item.implementation_code.clone()],
                        });
                    }
                }
            }
        }
        merged
    }

    /// Reductions computed from the catalog: fields, materials (required ones, the list an
    /// applicant must bring), trips and days, each member alone versus the bundle.
    pub fn reductions(&self, members: &[&ItemDefinition], answers: &Answers) -> Reductions {
        let required = |m: &&Material| m.requirement == Requirement::Required;
        let fields_before: usize = members
            .iter()
            .map(|i| i.possible_form(answers).count())
            .sum();
        let materials_before: usize = members
            .iter()
            .map(|i| i.possible_materials(answers).filter(required).count())
            .sum();
        let visits_before: u32 = members.iter().map(|i| u32::from(i.visits)).sum();
        let days_before: u32 = members
            .iter()
            .map(|i| i.promised_limit.approximate_working_days())
            .sum();
        let merged_materials = Self::merged_materials(members, answers);
        let days_after = self.promised_limit.approximate_working_days();
        Reductions {
            fields_before: count(fields_before),
            fields_after: count(Self::merged_form(members, answers).len()),
            materials_before: count(materials_before),
            materials_after: count(
                merged_materials
                    .iter()
                    .filter(|m| m.material.requirement == Requirement::Required)
                    .count(),
            ),
            visits_before,
            visits_after: u32::from(self.visits),
            days_before,
            days_after,
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
