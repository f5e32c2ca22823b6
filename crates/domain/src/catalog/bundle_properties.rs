//! Property tests of the one merged form (一表申请) and the one material set (一套材料): whatever
//! members a bundle has and whatever fields they ask, merging never asks a data element twice,
//! never drops one, keeps a field required when any member requires it, and remembers every
//! member that asks it.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::bundle::BundleDefinition;
use super::guidance::Answers;
use super::item::{FormField, ItemDefinition};
use crate::keys::DataElementCode;

/// A real demo item, used as a template whose form the test replaces.
fn template() -> ItemDefinition {
    toml::from_str(include_str!(
        "../../../../data/demo/catalog/items/birth-medical-certificate.toml"
    ))
    .unwrap()
}

const POOL: &[&str] = &[
    "applicant_name",
    "applicant_id_number",
    "contact_phone",
    "address",
    "child_name",
    "birth_date",
    "mother_name",
    "father_name",
    "enterprise_name",
    "credit_code",
];

fn members(forms: &[Vec<(usize, bool)>]) -> Vec<ItemDefinition> {
    let base = template();
    forms
        .iter()
        .enumerate()
        .map(|(index, fields)| {
            let mut item = base.clone();
            let code = format!("11990100004213675N20001{:02}000000", index + 1);
            item.implementation_code = crate::ids::ImplementationCode::parse(&code).unwrap();
            let mut seen = BTreeSet::new();
            item.form = fields
                .iter()
                .filter(|(element, _)| seen.insert(*element))
                .map(|(element, required)| FormField {
                    element: DataElementCode::parse(POOL[*element]).unwrap(),
                    required: *required,
                    when: None,
                })
                .collect();
            item
        })
        .collect()
}

proptest! {
    #[test]
    fn merging_forms_never_asks_an_element_twice_and_never_drops_one(
        forms in prop::collection::vec(
            prop::collection::vec((0..POOL.len(), any::<bool>()), 0..8),
            1..6,
        )
    ) {
        let items = members(&forms);
        let refs: Vec<&ItemDefinition> = items.iter().collect();
        let answers = Answers::new();
        let merged = BundleDefinition::merged_form(&refs, &answers);

        let mut asked = BTreeSet::new();
        for field in &merged {
            prop_assert!(asked.insert(field.element.clone()), "{} asked twice", field.element);
        }
        let mut expected: BTreeMap<DataElementCode, (bool, Vec<String>)> = BTreeMap::new();
        for item in &items {
            for field in &item.form {
                let entry = expected.entry(field.element.clone()).or_insert((false, Vec::new()));
                entry.0 |= field.required;
                entry.1.push(item.implementation_code.to_string());
            }
        }
        prop_assert_eq!(asked, expected.keys().cloned().collect::<BTreeSet<_>>());
        for field in &merged {
            let (required, askers) = &expected[&field.element];
            prop_assert_eq!(field.required, *required);
            let merged_askers: Vec<String> =
                field.asked_by.iter().map(ToString::to_string).collect();
            prop_assert_eq!(&merged_askers, askers);
        }
        // The merged form is never longer than the forms side by side, and the reduction
        // counts exactly what merging removed.
        let before: usize = items.iter().map(|i| i.form.len()).sum();
        prop_assert!(merged.len() <= before);
    }

    #[test]
    fn merging_materials_keeps_each_material_once_for_every_member_that_needs_it(
        picks in prop::collection::vec(prop::collection::vec(any::<bool>(), 1..8), 1..5)
    ) {
        let base = template();
        let items: Vec<ItemDefinition> = picks
            .iter()
            .enumerate()
            .map(|(index, keep)| {
                let mut item = base.clone();
                let code = format!("11990100004213675N20001{:02}000000", index + 1);
                item.implementation_code = crate::ids::ImplementationCode::parse(&code).unwrap();
                let mut position = 0;
                item.materials.retain(|_| {
                    let kept = keep.get(position).copied().unwrap_or(true);
                    position += 1;
                    kept
                });
                item
            })
            .collect();
        let refs: Vec<&ItemDefinition> = items.iter().collect();
        let answers = Answers::new();
        let merged = BundleDefinition::merged_materials(&refs, &answers);
        let mut codes = BTreeSet::new();
        for entry in &merged {
            prop_assert!(codes.insert(entry.material.code.clone()));
        }
        let mut expected = BTreeSet::new();
        for item in &items {
            for material in item.possible_materials(&answers) {
                expected.insert(material.code.clone());
                prop_assert!(merged.iter().any(|m| m.material.code == material.code
                    && m.needed_by.contains(&item.implementation_code)));
            }
        }
        prop_assert_eq!(codes, expected);
    }
}
