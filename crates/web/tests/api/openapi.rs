//! The OpenAPI document covers every route, and every route it names exists.

use reqwest::{Method, StatusCode};

use crate::support::{BIRTH_CERTIFICATE, TestApp, TestResult, json_of};

/// A path template with its parameters filled from the demo data.
fn filled(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if !(segment.starts_with('{') && segment.ends_with('}')) {
                return segment.to_owned();
            }
            let sample = if template.starts_with("/api/v1/items/") {
                BIRTH_CERTIFICATE
            } else if template.starts_with("/api/v1/bundles/") {
                "newborn"
            } else {
                // A route added later: any value reaches the route, which is all this checks.
                "1"
            };
            sample.to_owned()
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_openapi_document_is_openapi_3_with_the_catalog_paths() -> TestResult {
    let app = TestApp::start().await?;
    let document = app.ok_json("/api/v1/openapi.json").await;
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "openapi {version}");
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/items",
        "/api/v1/items/{code}",
        "/api/v1/bundles",
        "/api/v1/bundles/{code}",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // The error body is documented once and used by the error responses.
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
    Ok(())
}

#[tokio::test]
async fn every_documented_route_answers_with_its_method() -> TestResult {
    let app = TestApp::start().await?;
    let document = app.ok_json("/api/v1/openapi.json").await;
    let paths = document["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    let mut checked = 0;
    for (template, operations) in paths {
        for (method, _) in operations.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !matches!(
                method,
                Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                continue;
            }
            let path = filled(template);
            let response = app.send(method.clone(), &path, None).await;
            let status = response.status();
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: documented but not routed for this method"
            );
            if status == StatusCode::NOT_FOUND {
                let (_, body) = json_of(&path, response).await;
                let message = body["error"]["message"].as_str().unwrap_or_default();
                assert!(
                    !message.starts_with("there is no API route"),
                    "{method} {path} ({template}) is documented but reaches the fallback: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} operations were checked");
    Ok(())
}

#[tokio::test]
async fn the_catalog_routes_answer_200_with_demo_parameters() -> TestResult {
    let app = TestApp::start().await?;
    for template in [
        "/api/v1/items",
        "/api/v1/items/{code}",
        "/api/v1/bundles",
        "/api/v1/bundles/{code}",
        "/api/v1/openapi.json",
    ] {
        let path = filled(template);
        assert_eq!(app.get(&path).await.status(), StatusCode::OK, "{path}");
    }
    Ok(())
}
