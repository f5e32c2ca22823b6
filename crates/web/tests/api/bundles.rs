//! `GET /api/v1/bundles` and `GET /api/v1/bundles/{code}`: members, merged form and materials,
//! reductions.

use std::collections::BTreeSet;

use serde_json::Value;
use tongban_domain::catalog::{Answers, BundleDefinition};

use crate::support::{BIRTH_CERTIFICATE, TestApp, TestResult, demo, strings};

fn demo_bundle(code: &str) -> &'static BundleDefinition {
    demo()
        .catalog
        .bundles
        .iter()
        .find(|b| b.code.as_str() == code)
        .unwrap_or_else(|| panic!("the demo has no bundle {code}"))
}

fn member<'a>(bundle: &'a Value, name_prefix: &str) -> &'a Value {
    bundle["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no members in {bundle}"))
        .iter()
        .find(|m| {
            m["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(name_prefix))
        })
        .unwrap_or_else(|| panic!("no member named {name_prefix}… in {}", bundle["members"]))
}

fn as_u64(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {value}"))
}

#[tokio::test]
async fn the_bundle_list_holds_every_demo_bundle_once() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/bundles").await;
    let listed = strings(&body["bundles"], "code");
    let expected: BTreeSet<String> = demo()
        .catalog
        .bundles
        .iter()
        .map(|b| b.code.to_string())
        .collect();
    assert_eq!(listed.len(), expected.len(), "{listed:?}");
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), expected);
    for entry in body["bundles"].as_array().unwrap() {
        let definition = demo_bundle(entry["code"].as_str().unwrap());
        assert_eq!(entry["name"], definition.name.as_str());
        assert_eq!(entry["members"], definition.members.len());
        assert_eq!(
            entry["lead_department"]["key"],
            definition.lead_department.as_str()
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_newborn_bundle_lists_its_members_in_their_order() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/bundles/newborn").await;
    assert_eq!(body["code"], "newborn");
    assert_eq!(body["kind"], "one_thing");
    let certificate = member(&body, "出生医学证明首次签发");
    assert_eq!(certificate["code"], BIRTH_CERTIFICATE);
    let registration = member(&body, "出生登记");
    let after = registration["after"].as_array().unwrap();
    assert!(
        after.iter().any(|a| a == BIRTH_CERTIFICATE),
        "出生登记 waits for the birth certificate: {registration}"
    );
    Ok(())
}

#[tokio::test]
async fn the_newborn_bundle_asks_each_material_and_each_field_once() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/bundles/newborn").await;
    let materials = strings(&body["merged_materials"], "code");
    let unique: BTreeSet<&String> = materials.iter().collect();
    assert_eq!(unique.len(), materials.len(), "duplicates in {materials:?}");
    assert!(!materials.is_empty());
    let fields = strings(&body["merged_form"], "element");
    let unique: BTreeSet<&String> = fields.iter().collect();
    assert_eq!(unique.len(), fields.len(), "duplicates in {fields:?}");
    assert!(!fields.is_empty());
    // A shared field says how many members ask it.
    assert!(
        body["merged_form"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| as_u64(&f["asked_by"]) > 1),
        "the members share no field: {}",
        body["merged_form"]
    );
    Ok(())
}

#[tokio::test]
async fn the_newborn_bundle_reduces_fields_and_does_not_add_materials() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/bundles/newborn").await;
    let reductions = &body["reductions"];
    assert!(
        as_u64(&reductions["fields_after"]) < as_u64(&reductions["fields_before"]),
        "{reductions}"
    );
    assert!(
        as_u64(&reductions["materials_after"]) <= as_u64(&reductions["materials_before"]),
        "{reductions}"
    );
    assert_eq!(
        as_u64(&reductions["fields_after"]),
        body["merged_form"].as_array().unwrap().len() as u64
    );
    Ok(())
}

#[tokio::test]
async fn the_fields_before_count_every_field_the_members_ask_alone() -> TestResult {
    // Guards against a bundle counting (and merging) only the member fields that need no
    // situational answer. Computed independently from the catalog data: the included members (not optional, their
    // condition may still hold with no answers), each with the fields it asks on its own when no
    // question is answered yet (no condition, or a condition that may still hold) — the same form
    // `GET /api/v1/items/{code}` shows for each of them.
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/bundles/newborn").await;
    let bundle = demo_bundle("newborn");
    let none = Answers::new();
    let mut expected = 0_u64;
    for member in &bundle.members {
        if member.optional || !member.when.as_ref().is_none_or(|c| c.may_hold(&none)) {
            continue;
        }
        let item = demo()
            .catalog
            .items
            .iter()
            .find(|i| i.implementation_code == member.item)
            .expect("every member is a demo item");
        expected += item
            .form
            .iter()
            .filter(|f| f.when.as_ref().is_none_or(|c| c.may_hold(&none)))
            .count() as u64;
        // The item's own guide agrees on its form.
        let guide = app.ok_json(&format!("/api/v1/items/{}", member.item)).await;
        assert_eq!(
            guide["form"].as_array().unwrap().len(),
            item.form
                .iter()
                .filter(|f| f.when.as_ref().is_none_or(|c| c.may_hold(&none)))
                .count(),
            "{}",
            member.item
        );
    }
    assert_eq!(as_u64(&body["reductions"]["fields_before"]), expected);
    Ok(())
}

#[tokio::test]
async fn bundle_answers_select_the_conditional_members() -> TestResult {
    let app = TestApp::start().await?;
    let open = app.ok_json("/api/v1/bundles/newborn").await;
    let subsidy = "11990100004213675N0500108000000";
    let need = |body: &Value| {
        body["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["code"] == subsidy)
            .map(|m| m["need"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(need(&open).as_deref(), Some("depends"));
    let yes = app
        .ok_json("/api/v1/bundles/newborn?childcare_subsidy=yes")
        .await;
    assert_eq!(need(&yes).as_deref(), Some("needed"));
    let no = app
        .ok_json("/api/v1/bundles/newborn?childcare_subsidy=no")
        .await;
    assert_eq!(need(&no), None);
    app.expect_error(
        "/api/v1/bundles/newborn?childcare_subsidy=maybe",
        400,
        "invalid_answer",
    )
    .await;
    Ok(())
}

#[tokio::test]
async fn the_construction_project_is_a_staged_bundle_of_four_stages() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/bundles/construction-project").await;
    assert_eq!(body["kind"], "one_class");
    let stages = body["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 4, "{}", body["stages"]);
    assert_eq!(
        strings(&body["stages"], "code"),
        ["lixiang", "guihua", "shigong", "jungong"]
    );
    // Every member sits in one of the stages.
    let staged: usize = stages
        .iter()
        .map(|s| s["members"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(staged, demo_bundle("construction-project").members.len());
    Ok(())
}

#[tokio::test]
async fn an_unknown_bundle_is_not_found() -> TestResult {
    let app = TestApp::start().await?;
    app.expect_error("/api/v1/bundles/no-such-bundle", 404, "bundle_not_found")
        .await;
    Ok(())
}

#[tokio::test]
async fn a_malformed_bundle_code_is_refused() -> TestResult {
    let app = TestApp::start().await?;
    app.expect_error("/api/v1/bundles/Not_A_Key!", 400, "invalid_key")
        .await;
    Ok(())
}
