//! Bundle reductions (一件事, SPEC C3 and C8): how much a "one thing" bundle saves the applicant
//! against applying for its member items one by one — form fields (一表申请), required
//! materials (一套材料), trips (跑动次数) and promised working days.
//!
//! The counts are [`BundleDefinition::reductions`], over the members the bundle's guide shows
//! before any question is answered (the same list as `GET /api/v1/bundles/{code}`), so that the
//! figure and the guide never disagree. A reduction rate is `1 − after / before`; the total sums
//! the befores and the afters of every published bundle. `docs/kpis.md` defines them.
//!
//! ```
//! use tongban_domain::catalog::Reductions;
//! use tongban_domain::stats::bundles::bundle_kpis;
//! let reductions = Reductions { fields_before: 40, fields_after: 25, materials_before: 10,
//!     materials_after: 7, visits_before: 3, visits_after: 1, days_before: 22, days_after: 8 };
//! let figures = bundle_kpis(&reductions);
//! let value = |code: &str| figures.iter().find(|k| k.code == code).and_then(|k| k.value);
//! assert_eq!(value("bundle_fields_reduction"), Some(37.5));
//! assert_eq!(value("bundle_materials_reduction"), Some(30.0));
//! ```

use std::collections::BTreeMap;

use super::{KpiDefinition, KpiValue, Unit, percent};
use crate::catalog::{Answers, BundleDefinition, ItemDefinition, Reductions};
use crate::ids::ImplementationCode;

/// The bundle figures, beside the rollup figures of [`super::CATALOGUE`].
pub const BUNDLE_FIGURES: &[KpiDefinition] = &[
    KpiDefinition {
        code: "bundle_fields_reduction",
        name_zh: "表单字段精简率",
        name_en: "Form fields saved",
        unit: Unit::Percent,
        definition: "1 − fields of the bundle's one form / Σ fields of the members' own forms \
                     (before any question is answered); from the published catalog",
    },
    KpiDefinition {
        code: "bundle_materials_reduction",
        name_zh: "材料精简率",
        name_en: "Materials saved",
        unit: Unit::Percent,
        definition: "1 − required materials of the bundle (each once) / Σ required materials of \
                     the members applied for alone",
    },
    KpiDefinition {
        code: "bundle_visits_reduction",
        name_zh: "跑动次数减少率",
        name_en: "Trips saved",
        unit: Unit::Percent,
        definition: "1 − the bundle's promised trips (到现场次数) / Σ the members' promised trips",
    },
    KpiDefinition {
        code: "bundle_days_reduction",
        name_zh: "办理时限压缩率",
        name_en: "Time limit saved",
        unit: Unit::Percent,
        definition: "1 − the bundle's promised limit / Σ the members' promised limits, in working \
                     days (natural days → ⌈days·5/7⌉)",
    },
];

/// The members a bundle's guide counts before any answer: every member that is not optional,
/// with a condition or without, whose item is published (`items`), in the bundle's order.
pub fn guide_members<'a>(
    bundle: &BundleDefinition,
    items: &'a BTreeMap<ImplementationCode, ItemDefinition>,
) -> Vec<&'a ItemDefinition> {
    let answers = Answers::new();
    let mut members = Vec::with_capacity(bundle.members.len());
    for member in &bundle.members {
        let included = match &member.when {
            None => !member.optional,
            Some(condition) => condition.may_hold(&answers),
        };
        if !included {
            continue;
        }
        if let Some(item) = items.get(&member.item) {
            members.push(item);
        }
    }
    members
}

/// A bundle's reductions: its guide members alone → the bundle.
pub fn reductions_of(
    bundle: &BundleDefinition,
    items: &BTreeMap<ImplementationCode, ItemDefinition>,
) -> Reductions {
    let members = guide_members(bundle, items);
    bundle.reductions(&members, &Answers::new())
}

/// The befores and afters of several bundles, summed.
pub fn sum_of<'a>(all: impl IntoIterator<Item = &'a Reductions>) -> Reductions {
    let mut sum = Reductions {
        fields_before: 0,
        fields_after: 0,
        materials_before: 0,
        materials_after: 0,
        visits_before: 0,
        visits_after: 0,
        days_before: 0,
        days_after: 0,
    };
    for r in all {
        sum.fields_before = sum.fields_before.saturating_add(r.fields_before);
        sum.fields_after = sum.fields_after.saturating_add(r.fields_after);
        sum.materials_before = sum.materials_before.saturating_add(r.materials_before);
        sum.materials_after = sum.materials_after.saturating_add(r.materials_after);
        sum.visits_before = sum.visits_before.saturating_add(r.visits_before);
        sum.visits_after = sum.visits_after.saturating_add(r.visits_after);
        sum.days_before = sum.days_before.saturating_add(r.days_before);
        sum.days_after = sum.days_after.saturating_add(r.days_after);
    }
    sum
}

/// The reduction rates, in the order of [`BUNDLE_FIGURES`]; a rate whose "before" is zero has no
/// value. The numerator is what is saved (before − after), the denominator the before.
pub fn bundle_kpis(r: &Reductions) -> Vec<KpiValue> {
    let mut values = Vec::with_capacity(BUNDLE_FIGURES.len());
    for definition in BUNDLE_FIGURES {
        let (before, after) = match definition.code {
            "bundle_fields_reduction" => (r.fields_before, r.fields_after),
            "bundle_materials_reduction" => (r.materials_before, r.materials_after),
            "bundle_visits_reduction" => (r.visits_before, r.visits_after),
            "bundle_days_reduction" => (r.days_before, r.days_after),
            _ => (0, 0),
        };
        let saved = i64::from(before) - i64::from(after);
        values.push(KpiValue {
            code: definition.code,
            name_zh: definition.name_zh,
            name_en: definition.name_en,
            unit: definition.unit,
            value: percent(saved, i64::from(before)),
            numerator: Some(saved),
            denominator: Some(i64::from(before)),
        });
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::codes::TimeUnit;
    use crate::catalog::item::FormField;
    use crate::catalog::{BundleMember, Condition, Material, Requirement, TimeLimit};
    use crate::keys::{DataElementCode, MaterialCode, QuestionCode};

    fn value(values: &[KpiValue], code: &str) -> Option<f64> {
        values.iter().find(|v| v.code == code).and_then(|v| v.value)
    }

    #[test]
    fn reduction_rates_on_hand_computed_counts() {
        // Rongcheng's sea-area bundle (REFERENCE §10): fields 40 → 25 = 37.5% fewer, 22 → 8
        // working days = 63.64% shorter; materials 10 → 7 = 30%; trips 3 → 1 = 66.67%.
        let reductions = Reductions {
            fields_before: 40,
            fields_after: 25,
            materials_before: 10,
            materials_after: 7,
            visits_before: 3,
            visits_after: 1,
            days_before: 22,
            days_after: 8,
        };
        let values = bundle_kpis(&reductions);
        assert_eq!(value(&values, "bundle_fields_reduction"), Some(37.5));
        assert_eq!(value(&values, "bundle_materials_reduction"), Some(30.0));
        assert_eq!(value(&values, "bundle_visits_reduction"), Some(66.67));
        assert_eq!(value(&values, "bundle_days_reduction"), Some(63.64));
        let days = values
            .iter()
            .find(|v| v.code == "bundle_days_reduction")
            .unwrap();
        assert_eq!((days.numerator, days.denominator), (Some(14), Some(22)));
        // Two bundles together: (40 + 10) → (25 + 10) fields = 30%.
        let other = Reductions {
            fields_before: 10,
            fields_after: 10,
            materials_before: 0,
            materials_after: 0,
            visits_before: 0,
            visits_after: 0,
            days_before: 0,
            days_after: 0,
        };
        let total = sum_of([&reductions, &other]);
        assert_eq!((total.fields_before, total.fields_after), (50, 35));
        let values = bundle_kpis(&total);
        assert_eq!(value(&values, "bundle_fields_reduction"), Some(30.0));
        assert_eq!(
            value(&bundle_kpis(&other), "bundle_materials_reduction"),
            None,
            "nothing before: no rate"
        );
    }

    /// A real demo item, used as a template whose form, materials and limits the test sets.
    fn template() -> ItemDefinition {
        toml::from_str(include_str!(
            "../../../../data/demo/catalog/items/birth-medical-certificate.toml"
        ))
        .unwrap()
    }

    fn member_item(
        n: u32,
        fields: &[&str],
        materials: &[(&str, Requirement)],
        visits: u8,
        promised: TimeLimit,
    ) -> ItemDefinition {
        let mut item = template();
        let material = item.materials[0].clone();
        item.implementation_code =
            ImplementationCode::parse(&format!("11990100004213675N2000101{n:06}")).unwrap();
        item.questions = Vec::new();
        item.form = fields
            .iter()
            .map(|element| FormField {
                element: DataElementCode::parse(element).unwrap(),
                required: true,
                when: None,
            })
            .collect();
        item.materials = materials
            .iter()
            .map(|(code, requirement)| Material {
                code: MaterialCode::parse(code).unwrap(),
                requirement: *requirement,
                when: None,
                ..material.clone()
            })
            .collect();
        item.visits = visits;
        item.promised_limit = promised;
        item
    }

    fn working_days(value: u32) -> TimeLimit {
        TimeLimit {
            value,
            unit: TimeUnit::WorkingDays,
        }
    }

    #[test]
    fn a_bundle_reduces_what_its_guide_members_ask_alone_computed_by_hand() {
        use Requirement::{Optional, Required};
        // A: name, id, phone; materials id-card, photo; 1 trip; 5 working days.
        let a = member_item(
            1,
            &["applicant_name", "applicant_id_number", "contact_phone"],
            &[("id-card", Required), ("photo", Required)],
            1,
            working_days(5),
        );
        // B: name, id, address; id-card, household-register, an optional lease; 1 trip; 10 days.
        let b = member_item(
            2,
            &["applicant_name", "applicant_id_number", "address"],
            &[
                ("id-card", Required),
                ("household-register", Required),
                ("lease", Optional),
            ],
            1,
            working_days(10),
        );
        // C: an optional member (left out of the guide's count).
        let c = member_item(
            3,
            &["enterprise_name"],
            &[("licence", Required)],
            2,
            working_days(20),
        );
        // D: a conditional member (counted: with no answer its condition may still hold):
        // child name; birth certificate; no trip; 3 natural days = ⌈15/7⌉ = 3 working days.
        let d = member_item(
            4,
            &["child_name"],
            &[("birth-certificate", Required)],
            0,
            TimeLimit {
                value: 3,
                unit: TimeUnit::NaturalDays,
            },
        );
        // E: not published (absent from the items): left out.
        let e_code = ImplementationCode::parse("11990100004213675N2000101000005").unwrap();
        let mut bundle: BundleDefinition = toml::from_str(include_str!(
            "../../../../data/demo/catalog/bundles/newborn.toml"
        ))
        .unwrap();
        let member = |code: &ImplementationCode| BundleMember {
            item: code.clone(),
            when: None,
            optional: false,
            after: Vec::new(),
            stage: None,
            note: None,
        };
        bundle.members = vec![
            member(&a.implementation_code),
            BundleMember {
                optional: true,
                ..member(&c.implementation_code)
            },
            BundleMember {
                when: Some(Condition::new([(
                    QuestionCode::parse("has_child").unwrap(),
                    vec![QuestionCode::parse("yes").unwrap()],
                )])),
                ..member(&d.implementation_code)
            },
            member(&b.implementation_code),
            member(&e_code),
        ];
        bundle.promised_limit = working_days(10);
        bundle.visits = 1;
        let items: BTreeMap<ImplementationCode, ItemDefinition> = [a, b, c, d]
            .into_iter()
            .map(|i| (i.implementation_code.clone(), i))
            .collect();
        let listed: Vec<String> = guide_members(&bundle, &items)
            .iter()
            .map(|i| i.implementation_code.to_string())
            .collect();
        assert_eq!(
            listed,
            [
                "11990100004213675N2000101000001",
                "11990100004213675N2000101000004",
                "11990100004213675N2000101000002"
            ]
        );
        // Fields 3 + 1 + 3 = 7 → {name, id, phone, child name, address} = 5: 2/7 = 28.57%.
        // Required materials 2 + 1 + 2 = 5 → {id-card, photo, birth certificate,
        // household register} = 4: 1/5 = 20%. Trips 1 + 0 + 1 = 2 → 1: 50%. Days 5 + 3 + 10
        // = 18 → 10: 8/18 = 44.44%.
        let reductions = reductions_of(&bundle, &items);
        assert_eq!((reductions.fields_before, reductions.fields_after), (7, 5));
        assert_eq!(
            (reductions.materials_before, reductions.materials_after),
            (5, 4)
        );
        assert_eq!((reductions.visits_before, reductions.visits_after), (2, 1));
        assert_eq!((reductions.days_before, reductions.days_after), (18, 10));
        let values = bundle_kpis(&reductions);
        assert_eq!(value(&values, "bundle_fields_reduction"), Some(28.57));
        assert_eq!(value(&values, "bundle_materials_reduction"), Some(20.0));
        assert_eq!(value(&values, "bundle_visits_reduction"), Some(50.0));
        assert_eq!(value(&values, "bundle_days_reduction"), Some(44.44));
    }
}
