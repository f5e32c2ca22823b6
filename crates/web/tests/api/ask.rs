//! `GET /api/v1/ask` and the `/ask` page: the one-sentence assistant (SPEC C9), its refusals, and
//! that publishing a new catalog version updates its answers at once.

use serde_json::Value;
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::BundleCode;
use tongban_store::testing::test_time;
use tongban_web::services::ask::{publish_bundle, publish_item};

use crate::support::{BIRTH_CERTIFICATE, TestApp, TestResult, demo};

fn ask_path(question: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/api/v1/ask").unwrap_or_else(|e| panic!("{e}"));
    url.query_pairs_mut().append_pair("q", question);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

fn names(body: &Value) -> Vec<String> {
    body["answers"]
        .as_array()
        .map(|answers| {
            answers
                .iter()
                .filter_map(|a| a["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_sentence_gets_ranked_answers_with_why_and_a_first_step() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json(&ask_path("车本丢了怎么补")).await;
    assert_eq!(body["query"], "车本丢了怎么补");
    let first = &body["answers"][0];
    assert_eq!(first["kind"], "item", "{body}");
    assert_eq!(first["name"], "机动车驾驶证补证", "{body}");
    let code = first["id"].as_str().expect("an id");
    assert!(
        demo()
            .catalog
            .items
            .iter()
            .any(|i| i.implementation_code.as_str() == code && i.name == "机动车驾驶证补证"),
        "the id is the item's implementation code"
    );
    assert_eq!(first["url"], format!("/items/{code}"));
    let why: Vec<&str> = first["why"]
        .as_array()
        .expect("why")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(why.contains(&"车本"), "{why:?}");
    assert!(!first["first_step"].as_str().unwrap_or_default().is_empty());
    let scores: Vec<f64> = body["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .filter_map(|a| a["score"].as_f64())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked: {scores:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_life_event_sentence_is_answered_with_its_bundle() -> TestResult {
    let app = TestApp::start().await?;
    let body = app
        .ok_json(&ask_path("外婆上周走了,家属要办哪些手续"))
        .await;
    let first = &body["answers"][0];
    assert_eq!(first["kind"], "bundle", "{body}");
    assert_eq!(first["name"], "身后一件事");
    assert_eq!(
        first["url"],
        format!("/bundles/{}", first["id"].as_str().unwrap_or(""))
    );
    Ok(())
}

#[tokio::test]
async fn limit_caps_the_answers() -> TestResult {
    let app = TestApp::start().await?;
    let body = app
        .ok_json(&format!("{}&limit=2", ask_path("公司注销")))
        .await;
    let count = body["answers"].as_array().map_or(0, Vec::len);
    assert!((1..=2).contains(&count), "{body}");
    Ok(())
}

#[tokio::test]
async fn empty_too_long_or_malformed_questions_are_refused() -> TestResult {
    let app = TestApp::start().await?;
    app.expect_error("/api/v1/ask", 400, "invalid_query").await;
    app.expect_error("/api/v1/ask?q=", 400, "invalid_query")
        .await;
    app.expect_error(&ask_path("   "), 400, "invalid_query")
        .await;
    let long = "我".repeat(101);
    let body = app
        .expect_error(&ask_path(&long), 400, "invalid_query")
        .await;
    assert!(
        !body.to_string().contains(&long),
        "the question is not echoed: it may hold personal details"
    );
    assert_eq!(body["error"]["details"]["max_length"], 100);
    app.expect_error(
        &format!("{}&limit=0", ask_path("结婚")),
        400,
        "invalid_query",
    )
    .await;
    app.expect_error(
        &format!("{}&limit=abc", ask_path("结婚")),
        400,
        "invalid_query",
    )
    .await;
    app.expect_error(
        &format!("{}&lang=en", ask_path("结婚")),
        400,
        "invalid_query",
    )
    .await;
    // Exactly 100 characters is accepted.
    app.ok_json(&ask_path(&"结".repeat(100))).await;
    Ok(())
}

#[tokio::test]
async fn publishing_an_item_version_updates_the_answers_at_once() -> TestResult {
    let app = TestApp::start().await?;
    let question = "娃娃出生纸怎么领";
    let code = ImplementationCode::parse(BIRTH_CERTIFICATE)?;
    let before = app.ok_json(&ask_path("苗苗纸")).await;
    assert!(
        !names(&before).contains(&"出生医学证明首次签发".to_owned()),
        "an unknown word finds nothing yet: {before}"
    );
    let mut definition = demo()
        .catalog
        .item(&code)
        .cloned()
        .ok_or("no birth certificate item")?;
    definition.aliases.push("苗苗纸".into());
    let store = &app.state.store;
    store
        .catalog
        .save_item_draft(&definition, test_time())
        .await?;
    let still = app.ok_json(&ask_path("苗苗纸")).await;
    assert!(
        !names(&still).contains(&"出生医学证明首次签发".to_owned()),
        "a draft is invisible: {still}"
    );
    publish_item(&app.state, &code, test_time())
        .await
        .map_err(|e| e.message)?;
    let after = app.ok_json(&ask_path("苗苗纸")).await;
    assert_eq!(
        names(&after).first().map(String::as_str),
        Some("出生医学证明首次签发"),
        "{after}"
    );
    // The rest of the catalog is still answered.
    let other = app.ok_json(&ask_path(question)).await;
    assert!(!names(&other).is_empty(), "{other}");
    Ok(())
}

#[tokio::test]
async fn publishing_a_bundle_version_updates_the_answers_at_once() -> TestResult {
    let app = TestApp::start().await?;
    let mut bundle = demo()
        .catalog
        .bundles
        .iter()
        .find(|b| b.name == "退休一件事")
        .cloned()
        .ok_or("no retirement bundle")?;
    let word = "告老还乡";
    let before = app.ok_json(&ask_path(word)).await;
    assert!(
        !names(&before).contains(&"退休一件事".to_owned()),
        "{before}"
    );
    bundle.aliases.push(word.into());
    let code: BundleCode = bundle.code.clone();
    app.state
        .store
        .catalog
        .save_bundle_draft(&bundle, test_time())
        .await?;
    publish_bundle(&app.state, &code, test_time())
        .await
        .map_err(|e| e.message)?;
    let after = app.ok_json(&ask_path(word)).await;
    assert_eq!(
        names(&after).first().map(String::as_str),
        Some("退休一件事"),
        "{after}"
    );
    Ok(())
}

#[tokio::test]
async fn the_ask_page_answers_without_javascript() -> TestResult {
    let app = TestApp::start().await?;
    let (status, home) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("action=\"/ask\""),
        "the home search box asks the assistant"
    );
    let mut url = reqwest::Url::parse("http://x/ask").unwrap_or_else(|e| panic!("{e}"));
    url.query_pairs_mut().append_pair("q", "想在这边开家餐馆");
    let (status, page) = app
        .get_html(&format!(
            "{}?{}",
            url.path(),
            url.query().unwrap_or_default()
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"answers\""), "{page}");
    assert!(page.contains("开办餐饮店一件事"), "{page}");
    let (status, empty) = app.get_html("/ask").await;
    assert_eq!(status, 200);
    assert!(!empty.contains("id=\"answers\""));
    Ok(())
}
