//! The error format of the SPEC, for every error a client can meet in the catalog API.

use crate::support::{BIRTH_CERTIFICATE, TestApp, TestResult};

#[tokio::test]
async fn an_unknown_api_path_is_a_json_not_found() -> TestResult {
    let app = TestApp::start().await?;
    let body = app
        .expect_error("/api/v1/no-such-thing", 404, "not_found")
        .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/no-such-thing")
    );
    // Also under a known prefix.
    app.expect_error("/api/v1/items/a/b", 404, "not_found")
        .await;
    Ok(())
}

#[tokio::test]
async fn every_error_body_has_exactly_code_message_and_details() -> TestResult {
    let app = TestApp::start().await?;
    // `expect_error` checks the shape of each body: {"error": {"code", "message", "details"}}
    // and nothing else.
    let cases = [
        ("/api/v1/nope", 404, "not_found"),
        ("/api/v1/items?type=99", 400, "invalid_query"),
        ("/api/v1/items?unknown=1", 400, "invalid_query"),
        ("/api/v1/items/abc-!", 400, "invalid_item_code"),
        (
            "/api/v1/items/11990100004213675N2000199000000",
            404,
            "item_not_found",
        ),
        (
            &format!("/api/v1/items/{BIRTH_CERTIFICATE}?version=9"),
            404,
            "item_version_not_found",
        ),
        (
            &format!("/api/v1/items/{BIRTH_CERTIFICATE}?entrusted=x"),
            400,
            "invalid_answer",
        ),
        ("/api/v1/bundles/nope", 404, "bundle_not_found"),
        ("/api/v1/bundles/NOPE", 400, "invalid_key"),
    ];
    for (path, status, code) in cases {
        app.expect_error(path, status, code).await;
    }
    Ok(())
}
