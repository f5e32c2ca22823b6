//! The server-rendered pages: Chinese first, English by cookie, situational material lists, no
//! open redirect, a real 404 page.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

use crate::support::{BIRTH_CERTIFICATE, TestApp, TestResult, html_of};

/// The material codes listed inside `<ol id="materials">`.
fn listed_materials(html: &str) -> Vec<String> {
    let start = html
        .find("id=\"materials\"")
        .unwrap_or_else(|| panic!("no id=\"materials\" in the page"));
    let rest = &html[start..];
    let list = &rest[..rest.find("</ol>").unwrap_or(rest.len())];
    list.split("data-code=\"")
        .skip(1)
        .map(|part| part[..part.find('"').unwrap_or(0)].to_owned())
        .collect()
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_home_page_is_chinese_and_lists_bundles_and_themes() -> TestResult {
    let app = TestApp::start().await?;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains("新生儿出生一件事"));
    assert!(html.contains(r#"href="/bundles/newborn""#));
    assert!(html.contains(r#"href="/items?theme=birth""#));
    assert!(html.contains(r#"href="/items?theme=market-entry""#));
    assert!(html.contains("办事指南"), "Chinese navigation");
    Ok(())
}

#[tokio::test]
async fn the_guide_page_shows_the_materials_list() -> TestResult {
    let app = TestApp::start().await?;
    let (status, html) = app.get_html(&format!("/items/{BIRTH_CERTIFICATE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("出生医学证明首次签发"));
    let materials = listed_materials(&html);
    assert!(
        materials.contains(&"mother_id_card".to_owned()),
        "{materials:?}"
    );
    Ok(())
}

#[tokio::test]
async fn sending_an_agent_lists_more_materials_than_coming_in_person() -> TestResult {
    let app = TestApp::start().await?;
    let (status, agent) = app
        .get_html(&format!("/items/{BIRTH_CERTIFICATE}?entrusted=agent"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, parent) = app
        .get_html(&format!("/items/{BIRTH_CERTIFICATE}?entrusted=parent"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let agent = listed_materials(&agent);
    let parent = listed_materials(&parent);
    assert!(
        agent.len() > parent.len(),
        "agent {agent:?} vs parent {parent:?}"
    );
    assert!(agent.contains(&"power_of_attorney".to_owned()));
    assert!(!parent.contains(&"power_of_attorney".to_owned()));
    Ok(())
}

#[tokio::test]
async fn switching_to_english_sets_a_cookie_and_goes_back() -> TestResult {
    let app = TestApp::start().await?;
    let response = app.get("/lang/en?next=/").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(header(&response, LOCATION), "/");
    let cookie = header(&response, SET_COOKIE);
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");

    let (status, html) = html_of("/", app.get_with_cookie("/", "lang=en").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(">Service guides</a>"), "English navigation");
    assert!(html.contains(">Home</a>"), "English navigation");
    assert!(!html.contains(">办事指南</a>"));
    Ok(())
}

#[tokio::test]
async fn the_language_switch_never_redirects_to_another_site() -> TestResult {
    let app = TestApp::start().await?;
    for next in ["//evil.example", "https://evil.example/", "evil.example"] {
        let response = app.get(&format!("/lang/en?next={next}")).await;
        assert!(response.status().is_redirection(), "{next}");
        assert_eq!(header(&response, LOCATION), "/", "next={next}");
    }
    // A local path is kept.
    let response = app.get("/lang/zh?next=/bundles").await;
    assert_eq!(header(&response, LOCATION), "/bundles");
    assert!(header(&response, SET_COOKIE).starts_with("lang=zh-CN;"));
    Ok(())
}

#[tokio::test]
async fn an_unknown_page_is_a_404_html_page() -> TestResult {
    let app = TestApp::start().await?;
    let (status, html) = app.get_html("/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains("页面不存在"));
    // So is a guide that does not exist.
    let (status, _) = app.get_html("/items/11990100004213675N2000199000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn the_bundle_page_shows_the_reductions() -> TestResult {
    let app = TestApp::start().await?;
    let (status, html) = app.get_html("/bundles/newborn").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="reductions""#));
    assert!(html.contains("新生儿出生一件事"));
    assert!(html.contains(r#"id="members""#));
    Ok(())
}
