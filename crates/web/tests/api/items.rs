//! `GET /api/v1/items` (filters, pagination, refusals) and `GET /api/v1/items/{code}` (the whole
//! guide, situational answers, versions).

use serde_json::Value;
use tongban_domain::catalog::{CodeSet, ItemDefinition};

use crate::support::{BIRTH_CERTIFICATE, TestApp, TestResult, demo, strings};

/// The codes of the demo items that pass `keep`, in code order (the API's order).
fn demo_codes(keep: impl Fn(&ItemDefinition) -> bool) -> Vec<String> {
    let mut codes: Vec<String> = demo()
        .catalog
        .items
        .iter()
        .filter(|item| keep(item))
        .map(|item| item.implementation_code.to_string())
        .collect();
    codes.sort();
    codes
}

fn demo_item(code: &str) -> &'static ItemDefinition {
    demo()
        .catalog
        .items
        .iter()
        .find(|item| item.implementation_code.as_str() == code)
        .unwrap_or_else(|| panic!("the demo has no item {code}"))
}

/// Lists with `query` on one page of 200 and checks the result is exactly `expected`, which must
/// be a proper, non-empty subset of the demo items (otherwise the filter proves nothing).
async fn assert_filter(app: &TestApp, query: &str, expected: &[String]) {
    let all = demo().catalog.items.len();
    assert!(all <= 200, "the demo outgrew one page of 200; page here");
    assert!(
        !expected.is_empty() && expected.len() < all,
        "{query}: choose a value that keeps some but not all demo items ({} of {all})",
        expected.len()
    );
    let body = app
        .ok_json(&format!("/api/v1/items?per_page=200&{query}"))
        .await;
    assert_eq!(strings(&body["items"], "code"), expected, "{query}");
    assert_eq!(body["total"], expected.len(), "{query}");
}

#[tokio::test]
async fn the_default_page_has_twenty_items_in_code_order_and_counts_every_demo_item() -> TestResult
{
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/items").await;
    let all = demo_codes(|_| true);
    assert!(all.len() > 20, "the demo has more than one default page");
    assert_eq!(body["total"], all.len());
    assert_eq!(body["page"], 1);
    assert_eq!(body["per_page"], 20);
    assert_eq!(strings(&body["items"], "code"), all[..20]);
    let first = &body["items"][0];
    let definition = demo_item(first["code"].as_str().unwrap());
    assert_eq!(first["name"], definition.name.as_str());
    assert_eq!(first["item_type"]["code"], definition.item_type.code());
    assert_eq!(first["online_capable"], definition.online_capable());
    Ok(())
}

#[tokio::test]
async fn filtering_by_department_lists_exactly_that_departments_items() -> TestResult {
    let app = TestApp::start().await?;
    let expected = demo_codes(|item| item.department.as_str() == "city-police");
    assert_filter(&app, "department=city-police", &expected).await;
    let body = app
        .ok_json("/api/v1/items?department=city-police&per_page=1")
        .await;
    assert_eq!(body["items"][0]["department"]["key"], "city-police");
    Ok(())
}

#[tokio::test]
async fn filtering_by_type_lists_exactly_the_items_of_that_type() -> TestResult {
    let app = TestApp::start().await?;
    let expected = demo_codes(|item| item.item_type.code() == "20");
    assert_filter(&app, "type=20", &expected).await;
    let expected = demo_codes(|item| item.item_type.code() == "01");
    assert_filter(&app, "type=01", &expected).await;
    Ok(())
}

#[tokio::test]
async fn filtering_by_theme_lists_exactly_the_items_under_that_theme() -> TestResult {
    let app = TestApp::start().await?;
    let expected = demo_codes(|item| item.themes.iter().any(|t| t.as_str() == "birth"));
    assert!(expected.contains(&BIRTH_CERTIFICATE.to_owned()));
    assert_filter(&app, "theme=birth", &expected).await;
    Ok(())
}

#[tokio::test]
async fn filtering_by_service_object_lists_exactly_the_items_for_it() -> TestResult {
    let app = TestApp::start().await?;
    let expected = demo_codes(|item| item.service_objects.iter().any(|o| o.code() == "2"));
    assert_filter(&app, "service_object=2", &expected).await;
    Ok(())
}

#[tokio::test]
async fn filtering_by_level_lists_exactly_the_items_at_that_level() -> TestResult {
    let app = TestApp::start().await?;
    let expected = demo_codes(|item| item.level.code() == "4");
    assert_filter(&app, "level=4", &expected).await;
    Ok(())
}

#[tokio::test]
async fn filtering_by_online_splits_the_items_into_online_and_offline() -> TestResult {
    let app = TestApp::start().await?;
    let online = demo_codes(ItemDefinition::online_capable);
    let offline = demo_codes(|item| !item.online_capable());
    assert_filter(&app, "online=true", &online).await;
    assert_filter(&app, "online=false", &offline).await;
    assert_eq!(online.len() + offline.len(), demo().catalog.items.len());
    Ok(())
}

#[tokio::test]
async fn filtering_by_a_name_fragment_lists_exactly_the_items_whose_name_holds_it() -> TestResult {
    let app = TestApp::start().await?;
    let expected = demo_codes(|item| item.name.contains("登记"));
    assert_filter(&app, "q=登记", &expected).await;
    Ok(())
}

#[tokio::test]
async fn filters_combine_so_that_every_one_must_hold() -> TestResult {
    let app = TestApp::start().await?;
    let expected = demo_codes(|item| {
        item.themes.iter().any(|t| t.as_str() == "birth")
            && item.department.as_str() == "city-health"
    });
    assert_filter(&app, "theme=birth&department=city-health", &expected).await;
    assert!(expected.len() < demo_codes(|item| item.department.as_str() == "city-health").len());
    Ok(())
}

#[tokio::test]
async fn a_later_page_continues_where_the_previous_one_ended() -> TestResult {
    let app = TestApp::start().await?;
    let all = demo_codes(|_| true);
    let first = app.ok_json("/api/v1/items?page=1&per_page=7").await;
    let second = app.ok_json("/api/v1/items?page=2&per_page=7").await;
    assert_eq!(strings(&first["items"], "code"), all[..7]);
    assert_eq!(strings(&second["items"], "code"), all[7..14]);
    assert_eq!(second["page"], 2);
    assert_eq!(second["per_page"], 7);
    assert_eq!(second["total"], all.len());
    // The last page holds the remainder.
    let last_page = all.len().div_ceil(7);
    let last = app
        .ok_json(&format!("/api/v1/items?page={last_page}&per_page=7"))
        .await;
    assert_eq!(
        strings(&last["items"], "code"),
        all[(last_page - 1) * 7..],
        "page {last_page}"
    );
    Ok(())
}

#[tokio::test]
async fn a_page_past_the_end_is_empty_but_keeps_the_total() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/items?page=1000&per_page=200").await;
    assert_eq!(body["items"], Value::Array(Vec::new()));
    assert_eq!(body["total"], demo().catalog.items.len());
    assert_eq!(body["page"], 1000);
    Ok(())
}

#[tokio::test]
async fn the_largest_page_holds_every_demo_item_at_once() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/items?per_page=200").await;
    assert_eq!(strings(&body["items"], "code"), demo_codes(|_| true));
    Ok(())
}

#[tokio::test]
async fn every_malformed_parameter_is_refused_with_invalid_query_naming_it() -> TestResult {
    let app = TestApp::start().await?;
    let cases = [
        ("type=99", "type"),
        ("level=9", "level"),
        ("online=yes", "online"),
        ("per_page=0", "per_page"),
        ("per_page=201", "per_page"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("department=Bad%20Key", "department"),
        ("theme=Not%20A%20Theme", "theme"),
        ("service_object=7", "service_object"),
        ("colour=red", "colour"),
    ];
    for (query, parameter) in cases {
        let path = format!("/api/v1/items?{query}");
        let body = app.expect_error(&path, 400, "invalid_query").await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(parameter),
            "{path}: the message {message:?} does not name {parameter}"
        );
        if parameter != "colour" {
            assert_eq!(body["error"]["details"]["parameter"], parameter, "{path}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_birth_certificate_guide_comes_whole_in_one_call() -> TestResult {
    let app = TestApp::start().await?;
    let body = app
        .ok_json(&format!("/api/v1/items/{BIRTH_CERTIFICATE}"))
        .await;
    let definition = demo_item(BIRTH_CERTIFICATE);
    assert_eq!(body["code"], BIRTH_CERTIFICATE);
    assert_eq!(body["name"], "出生医学证明首次签发");
    let department = demo()
        .organisation
        .departments
        .iter()
        .find(|d| d.key == definition.department)
        .expect("the department is in the demo organisation");
    assert_eq!(body["department"]["key"], department.key.as_str());
    assert_eq!(body["department"]["name"], department.name.as_str());
    assert_eq!(body["version"]["version"], 1);
    assert_eq!(body["version"]["status"], "published");

    let guide = &body["guide"];
    assert_eq!(
        strings(&guide["materials"], "code"),
        definition
            .materials
            .iter()
            .map(|m| m.code.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        strings(&guide["process"], "name"),
        definition
            .process
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        strings(&guide["places"], "address"),
        definition
            .places
            .iter()
            .map(|p| p.address.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(guide["fee"]["charged"], false);
    assert_eq!(
        guide["legal_basis"],
        serde_json::to_value(&definition.legal_basis)?
    );
    assert!(!definition.legal_basis.is_empty());
    assert_eq!(guide["consultation_phone"], definition.consultation_phone);
    assert!(strings(&body["bundles"], "code").contains(&"newborn".to_owned()));
    // The view's own lists: every question, and a form built from the dictionary.
    assert_eq!(
        strings(&body["questions"], "code"),
        ["entrusted", "father_known"]
    );
    assert!(
        body["form"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"].as_str().is_some_and(|n| !n.is_empty()))
    );
    Ok(())
}

/// The `need` of each material of the birth-certificate item for this query.
async fn needs(app: &TestApp, query: &str) -> Vec<(String, String)> {
    let body = app
        .ok_json(&format!("/api/v1/items/{BIRTH_CERTIFICATE}{query}"))
        .await;
    body["materials"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: no materials in {body}"))
        .iter()
        .map(|m| {
            (
                m["code"].as_str().unwrap_or_default().to_owned(),
                m["need"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn need_of<'a>(needs: &'a [(String, String)], code: &str) -> Option<&'a str> {
    needs
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, need)| need.as_str())
}

#[tokio::test]
async fn without_answers_the_power_of_attorney_depends_on_the_situation() -> TestResult {
    let app = TestApp::start().await?;
    let needs = needs(&app, "").await;
    assert_eq!(need_of(&needs, "power_of_attorney"), Some("depends"));
    assert_eq!(need_of(&needs, "mother_id_card"), Some("required"));
    Ok(())
}

#[tokio::test]
async fn an_applicant_sending_an_agent_needs_the_power_of_attorney() -> TestResult {
    let app = TestApp::start().await?;
    let needs = needs(&app, "?entrusted=agent").await;
    assert_eq!(need_of(&needs, "power_of_attorney"), Some("needed"));
    assert_eq!(need_of(&needs, "agent_id_card"), Some("needed"));
    assert_eq!(need_of(&needs, "mother_id_card"), Some("required"));
    let body = app
        .ok_json(&format!(
            "/api/v1/items/{BIRTH_CERTIFICATE}?entrusted=agent"
        ))
        .await;
    assert_eq!(body["answers"]["entrusted"], "agent");
    Ok(())
}

#[tokio::test]
async fn a_parent_applying_in_person_is_not_asked_for_a_power_of_attorney() -> TestResult {
    let app = TestApp::start().await?;
    let needs = needs(&app, "?entrusted=parent").await;
    assert_eq!(need_of(&needs, "power_of_attorney"), None);
    assert_eq!(need_of(&needs, "agent_id_card"), None);
    assert_eq!(need_of(&needs, "mother_id_card"), Some("required"));
    // The other question is still open.
    assert_eq!(need_of(&needs, "father_id_card"), Some("depends"));
    Ok(())
}

#[tokio::test]
async fn an_unknown_option_is_refused_rather_than_ignored() -> TestResult {
    let app = TestApp::start().await?;
    let path = format!("/api/v1/items/{BIRTH_CERTIFICATE}?entrusted=neighbour");
    let body = app.expect_error(&path, 400, "invalid_answer").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("neighbour")
    );
    Ok(())
}

#[tokio::test]
async fn an_unknown_question_is_refused_rather_than_ignored() -> TestResult {
    let app = TestApp::start().await?;
    let path = format!("/api/v1/items/{BIRTH_CERTIFICATE}?pets=cat");
    let body = app.expect_error(&path, 400, "invalid_answer").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("pets"));
    Ok(())
}

#[tokio::test]
async fn a_malformed_item_code_is_refused() -> TestResult {
    let app = TestApp::start().await?;
    app.expect_error("/api/v1/items/abc-!", 400, "invalid_item_code")
        .await;
    Ok(())
}

#[tokio::test]
async fn an_unknown_but_well_formed_item_code_is_not_found() -> TestResult {
    let app = TestApp::start().await?;
    let unknown = "11990100004213675N2000199000000";
    assert!(
        demo()
            .catalog
            .items
            .iter()
            .all(|i| i.implementation_code.as_str() != unknown)
    );
    app.expect_error(&format!("/api/v1/items/{unknown}"), 404, "item_not_found")
        .await;
    Ok(())
}

#[tokio::test]
async fn a_published_version_can_be_asked_for_by_number() -> TestResult {
    let app = TestApp::start().await?;
    let body = app
        .ok_json(&format!("/api/v1/items/{BIRTH_CERTIFICATE}?version=1"))
        .await;
    assert_eq!(body["version"]["version"], 1);
    assert_eq!(body["code"], BIRTH_CERTIFICATE);
    // The version combines with answers.
    let body = app
        .ok_json(&format!(
            "/api/v1/items/{BIRTH_CERTIFICATE}?version=1&entrusted=agent"
        ))
        .await;
    assert_eq!(body["answers"]["entrusted"], "agent");
    Ok(())
}

#[tokio::test]
async fn a_version_that_does_not_exist_is_not_found() -> TestResult {
    let app = TestApp::start().await?;
    app.expect_error(
        &format!("/api/v1/items/{BIRTH_CERTIFICATE}?version=9"),
        404,
        "item_version_not_found",
    )
    .await;
    app.expect_error(
        &format!("/api/v1/items/{BIRTH_CERTIFICATE}?version=first"),
        400,
        "invalid_query",
    )
    .await;
    Ok(())
}
