//! The service catalog (事项目录, "一码管理"): items with their guides, the shared dictionary
//! they are built from, and "one thing" bundles.
//!
//! Items and bundles are versioned: a draft sits beside the published version, publishing is
//! atomic, the identity ([`crate::keys::ItemId`]) stays across versions and every case is pinned
//! to the version it was submitted under. Storage of versions is the store's job; the rules for
//! what may be published live here ([`Catalog::validate`]).

pub mod bundle;
#[cfg(test)]
mod bundle_properties;
pub mod codes;
pub mod dictionary;
pub mod guidance;
pub mod item;
pub mod money;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use bundle::{
    BundleDefinition, BundleKind, BundleMember, MergedField, MergedMaterial, Reductions,
};
pub use codes::CodeSet;
pub use dictionary::{Audience, DataElement, ElementKind, Holder, LicenceType, Theme};
pub use guidance::{Answers, Condition, Question, QuestionOption};
pub use item::{ItemDefinition, Material, Requirement, TimeLimit};

use crate::cases::Workflow;
use crate::catalog::codes::CaseType;
use crate::ids::ImplementationCode;
use crate::keys::{DataElementCode, LicenceTypeKey, ThemeKey};
use crate::org::Organisation;

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Being edited; invisible to applicants.
    Draft,
    /// The version applicants see and apply under; at most one per item.
    Published,
    /// Once published, now replaced; kept because cases are pinned to it.
    Superseded,
}

impl VersionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
            VersionStatus::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> Option<VersionStatus> {
        match text {
            "draft" => Some(VersionStatus::Draft),
            "published" => Some(VersionStatus::Published),
            "superseded" => Some(VersionStatus::Superseded),
            _ => None,
        }
    }
}

/// The whole catalog as one document: what `tongban catalog import` reads and `export` writes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDocument {
    #[serde(default)]
    pub themes: Vec<Theme>,
    #[serde(default)]
    pub data_elements: Vec<DataElement>,
    #[serde(default)]
    pub licence_types: Vec<LicenceType>,
    #[serde(default)]
    pub workflows: Vec<Workflow>,
    #[serde(default)]
    pub items: Vec<ItemDefinition>,
    #[serde(default)]
    pub bundles: Vec<BundleDefinition>,
}

/// What is wrong with catalog data. Each variant names the entry so that an administrator can
/// find it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("item {code}: {reason}")]
    InvalidItem { code: String, reason: String },
    #[error("bundle {code}: {reason}")]
    InvalidBundle { code: String, reason: String },
    #[error("{kind} {key} is defined twice")]
    Duplicate { kind: &'static str, key: String },
    #[error("{owner} refers to unknown {kind} {key}")]
    UnknownReference {
        owner: String,
        kind: &'static str,
        key: String,
    },
}

impl CatalogError {
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::InvalidItem { .. } => "invalid_item",
            CatalogError::InvalidBundle { .. } => "invalid_bundle",
            CatalogError::Duplicate { .. } => "duplicate_catalog_entry",
            CatalogError::UnknownReference { .. } => "unknown_catalog_reference",
        }
    }
}

impl CatalogDocument {
    /// Appends another document (data files are split by kind and topic).
    pub fn extend(&mut self, other: CatalogDocument) {
        self.themes.extend(other.themes);
        self.data_elements.extend(other.data_elements);
        self.licence_types.extend(other.licence_types);
        self.workflows.extend(other.workflows);
        self.items.extend(other.items);
        self.bundles.extend(other.bundles);
    }

    pub fn item(&self, code: &ImplementationCode) -> Option<&ItemDefinition> {
        self.items.iter().find(|i| &i.implementation_code == code)
    }

    /// Checks every entry and every reference between entries and to the organisation.
    /// Returns every problem found, not just the first, so that one run fixes a whole file.
    pub fn validate(&self, org: &Organisation) -> Result<(), Vec<CatalogError>> {
        let mut problems = Vec::new();
        let themes = unique(
            &mut problems,
            "theme",
            self.themes.iter().map(|t| t.key.to_string()),
        );
        let elements = unique(
            &mut problems,
            "data element",
            self.data_elements.iter().map(|e| e.code.to_string()),
        );
        let licence_types = unique(
            &mut problems,
            "licence type",
            self.licence_types.iter().map(|l| l.key.to_string()),
        );
        let items = unique(
            &mut problems,
            "item",
            self.items.iter().map(|i| i.implementation_code.to_string()),
        );
        let workflows = unique(
            &mut problems,
            "workflow",
            self.workflows.iter().map(|w| w.key.to_string()),
        );
        for workflow in &self.workflows {
            if let Err(error) = workflow.validate() {
                problems.push(CatalogError::InvalidItem {
                    code: format!("workflow {}", workflow.key),
                    reason: error.reason,
                });
            }
        }
        unique(
            &mut problems,
            "bundle",
            self.bundles.iter().map(|b| b.code.to_string()),
        );
        let departments: BTreeSet<String> =
            org.departments.iter().map(|d| d.key.to_string()).collect();
        let halls: BTreeSet<String> = org.halls.iter().map(|h| h.key.to_string()).collect();

        let mut check = |owner: &str, kind: &'static str, key: &str, known: &BTreeSet<String>| {
            if !known.contains(key) {
                problems.push(CatalogError::UnknownReference {
                    owner: owner.to_owned(),
                    kind,
                    key: key.to_owned(),
                });
            }
        };
        for licence_type in &self.licence_types {
            let owner = format!("licence type {}", licence_type.key);
            for element in &licence_type.data_elements {
                check(&owner, "data element", element.as_str(), &elements);
            }
            if let Some(issuer) = &licence_type.issuer {
                check(&owner, "department", issuer.as_str(), &departments);
            }
        }
        for item in &self.items {
            let owner = format!("item {} ({})", item.implementation_code, item.name);
            check(&owner, "department", item.department.as_str(), &departments);
            for department in &item.co_departments {
                check(&owner, "department", department.as_str(), &departments);
            }
            for theme in &item.themes {
                check(&owner, "theme", theme.as_str(), &themes);
            }
            for field in &item.form {
                check(&owner, "data element", field.element.as_str(), &elements);
            }
            for material in &item.materials {
                if let Some(licence) = &material.replaced_by_licence {
                    check(&owner, "licence type", licence.as_str(), &licence_types);
                }
                if let Some(element) = &material.replaced_by_element {
                    check(&owner, "data element", element.as_str(), &elements);
                }
            }
            if let Some(licence) = &item.result.licence_type {
                check(&owner, "licence type", licence.as_str(), &licence_types);
            }
            check(&owner, "workflow", Self::workflow_key_of(item), &workflows);
            for place in &item.places {
                if let Some(hall) = &place.hall {
                    check(&owner, "hall", hall.as_str(), &halls);
                }
            }
        }
        for bundle in &self.bundles {
            let owner = format!("bundle {}", bundle.code);
            check(
                &owner,
                "department",
                bundle.lead_department.as_str(),
                &departments,
            );
            for department in &bundle.cooperating_departments {
                check(&owner, "department", department.as_str(), &departments);
            }
            for theme in &bundle.themes {
                check(&owner, "theme", theme.as_str(), &themes);
            }
            for member in &bundle.members {
                check(&owner, "item", member.item.as_str(), &items);
            }
        }
        for item in &self.items {
            if let Err(problem) = item.validate() {
                problems.push(problem);
            }
            let implementing_body = item.implementation_code.implementing_body();
            let department = org.departments.iter().find(|d| d.key == item.department);
            if let (Some(body), Some(department)) = (implementing_body, department)
                && body != department.credit_code
            {
                problems.push(CatalogError::InvalidItem {
                    code: item.implementation_code.to_string(),
                    reason: format!(
                        "the implementation code opens with {body}, but department {} has credit code {}",
                        department.key, department.credit_code
                    ),
                });
            }
        }
        for bundle in &self.bundles {
            if let Err(problem) = bundle.validate() {
                problems.push(problem);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The workflow an item uses: its own, else `immediate` for 即办件 and `standard` otherwise.
    pub fn workflow_key_of(item: &ItemDefinition) -> &str {
        match (&item.workflow, item.case_type) {
            (Some(key), _) => key.as_str(),
            (None, CaseType::Immediate) => "immediate",
            (None, _) => "standard",
        }
    }

    /// The workflow definition an item uses, if the catalog has it.
    pub fn workflow_for(&self, item: &ItemDefinition) -> Option<&Workflow> {
        let key = Self::workflow_key_of(item);
        self.workflows.iter().find(|w| w.key.as_str() == key)
    }

    /// Licence types by key, for pages and prefill.
    pub fn licence_types_by_key(&self) -> BTreeMap<&LicenceTypeKey, &LicenceType> {
        self.licence_types.iter().map(|l| (&l.key, l)).collect()
    }

    /// Data elements by code.
    pub fn elements_by_code(&self) -> BTreeMap<&DataElementCode, &DataElement> {
        self.data_elements.iter().map(|e| (&e.code, e)).collect()
    }

    /// Themes by key.
    pub fn themes_by_key(&self) -> BTreeMap<&ThemeKey, &Theme> {
        self.themes.iter().map(|t| (&t.key, t)).collect()
    }
}

fn unique(
    problems: &mut Vec<CatalogError>,
    kind: &'static str,
    keys: impl Iterator<Item = String>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for key in keys {
        if seen.contains(&key) {
            problems.push(CatalogError::Duplicate { kind, key });
        } else {
            seen.insert(key);
        }
    }
    seen
}
