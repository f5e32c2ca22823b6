//! Snapshots (insta) of the API's contract: the OpenAPI document, a page of items, the bundle
//! list and an error body. Ids and times are redacted, so the snapshots are the same on SQLite
//! and PostgreSQL. Files live in `crates/web/tests/snapshots/`.

use serde_json::Value;

use crate::support::{TestApp, TestResult};

/// Asserts a snapshot of an API response kept in `tests/snapshots`, with ids and times redacted
/// (they differ per run and per engine).
fn assert_response_snapshot(name: &str, value: &Value) {
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_json_snapshot!(name, value, {
            ".id" => "[id]",
            ".**.created_at" => "[timestamp]",
            ".**.published_at" => "[timestamp]",
        });
    });
}

#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() -> TestResult {
    let app = TestApp::start().await?;
    let document = app.ok_json("/api/v1/openapi.json").await;
    // Not redacted: the document is static, and its schemas have properties named `id` and
    // `created_at` that a redaction would hide.
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_json_snapshot!("openapi_document", document);
    });
    Ok(())
}

#[tokio::test]
async fn the_first_three_items_match_their_snapshot() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/items?per_page=3").await;
    assert_response_snapshot("items_per_page_3", &body);
    Ok(())
}

#[tokio::test]
async fn the_bundle_list_matches_its_snapshot() -> TestResult {
    let app = TestApp::start().await?;
    let body = app.ok_json("/api/v1/bundles").await;
    assert_response_snapshot("bundles", &body);
    Ok(())
}

#[tokio::test]
async fn the_error_for_an_unknown_type_matches_its_snapshot() -> TestResult {
    let app = TestApp::start().await?;
    let body = app
        .expect_error("/api/v1/items?type=99", 400, "invalid_query")
        .await;
    assert_response_snapshot("error_unknown_type", &body);
    Ok(())
}
