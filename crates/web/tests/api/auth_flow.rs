//! Sign-in, sessions, API tokens, the sign-in throttle and CSRF, through the real router on
//! 127.0.0.1:0 over a fresh demo store with the demo accounts (SQLite by default, PostgreSQL
//! when `TONGBAN_TEST_PG_URL` is set).

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tongban_domain::clock::FixedClock;
use tongban_store::testing::{TestStore, test_time};
use tongban_web::App;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const DEMO_PASSWORD: &str = "tongban-demo";

/// The real router with a clock the test can move, served with connect info as `tongban serve`
/// does (the throttle counts per client address).
struct TestApp {
    base: String,
    client: reqwest::Client,
    clock: Arc<FixedClock>,
    server: JoinHandle<()>,
    _store: TestStore,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A response read whole: status, headers and body text.
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text))
    }

    fn error_code(&self) -> String {
        let body = self.json();
        let error = body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("not an error body: {body}"));
        let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "details", "message"], "{body}");
        error["code"].as_str().unwrap_or_default().to_owned()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The full `Set-Cookie` line of a cookie.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|line| line.starts_with(&format!("{name}=")))
    }

    /// The value a `Set-Cookie` line gives a cookie.
    fn cookie_value(&self, name: &str) -> Option<String> {
        let line = self.set_cookie(name)?;
        let pair = line.split(';').next()?;
        Some(pair.split_once('=')?.1.to_owned())
    }

    fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

/// Percent-encodes a form value.
fn form_value(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The value of `<input … name="NAME" value="…">` in a page.
fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in the page"))
        + marker.len();
    let rest = &html[start..];
    rest[..rest.find('"').unwrap_or(0)].to_owned()
}

impl TestApp {
    async fn start() -> Result<TestApp, Box<dyn std::error::Error>> {
        let test_store = TestStore::with_demo().await?;
        let created =
            tongban_web::auth::create_demo_accounts(&test_store.store, test_time()).await?;
        assert!(created >= 10, "only {created} demo accounts");
        let clock = Arc::new(FixedClock::at(test_time()));
        let app = App::new(test_store.store.clone(), clock.clone()).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let service = app
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, service).await {
                eprintln!("the test server stopped: {error}");
            }
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(TestApp {
            base: format!("http://{address}"),
            client,
            clock,
            server,
            _store: test_store,
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some((content_type, body)) = body {
            request = request.header(CONTENT_TYPE, content_type).body(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap_or_default(),
        }
    }

    async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(bearer) = &bearer {
            headers.push((AUTHORIZATION.as_str(), bearer.as_str()));
        }
        self.send(
            Method::POST,
            path,
            &headers,
            Some(("application/json", body.to_string())),
        )
        .await
    }

    async fn with_token(&self, method: Method, path: &str, token: &str) -> Reply {
        let bearer = format!("Bearer {token}");
        self.send(method, path, &[(AUTHORIZATION.as_str(), &bearer)], None)
            .await
    }

    async fn login(&self, account: &str, password: &str) -> Reply {
        self.post_json(
            "/api/v1/auth/login",
            None,
            json!({ "account": account, "password": password }),
        )
        .await
    }

    /// Signs in and returns the token.
    async fn token(&self, account: &str) -> String {
        let reply = self.login(account, DEMO_PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{account}: {}", reply.text);
        reply.json()["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {}", reply.text))
            .to_owned()
    }

    async fn post_form(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", form_value(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Method::POST,
            path,
            &[(COOKIE.as_str(), cookie)],
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }
}

#[tokio::test]
async fn the_demo_accounts_sign_in_with_the_demo_password() -> TestResult {
    let app = TestApp::start().await?;
    for (account, kind, name) in [
        ("citizen", "person", "张伟"),
        ("enterprise", "enterprise", "示范市青禾餐饮管理有限公司"),
        ("clerk", "staff", "陈静"),
        ("admin", "staff", "王建国"),
    ] {
        let reply = app.login(account, DEMO_PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{account}: {}", reply.text);
        let body = reply.json();
        let token = body["token"].as_str().unwrap_or_default();
        assert_eq!(token.len(), 43, "32 random bytes, base64url: {token}");
        assert_eq!(body["account"]["account"], account);
        assert_eq!(body["account"]["kind"], kind);
        assert_eq!(body["account"]["name"], name);
        assert_eq!(body["expires_at"], "2026-03-02T13:00:00Z", "12 hours");
        assert!(
            body["account"].get("identifier").is_none(),
            "no ID number in the response"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_are_refused_alike() -> TestResult {
    let app = TestApp::start().await?;
    let wrong = app.login("citizen", "tongban-dem0").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_code(), "invalid_credentials");
    let unknown = app.login("nobody", DEMO_PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.error_code(), "invalid_credentials");
    assert_eq!(
        wrong.json()["error"]["message"],
        unknown.json()["error"]["message"],
        "the message does not tell which accounts exist"
    );
    let malformed = app.login("Not An Account!", DEMO_PASSWORD).await;
    assert_eq!(malformed.error_code(), "invalid_credentials");
    Ok(())
}

#[tokio::test]
async fn a_body_that_is_not_account_and_password_is_invalid_body() -> TestResult {
    let app = TestApp::start().await?;
    for body in [
        "not json".to_owned(),
        json!({ "account": "citizen" }).to_string(),
        json!({ "account": "citizen", "password": "x", "extra": 1 }).to_string(),
    ] {
        let reply = app
            .send(
                Method::POST,
                "/api/v1/auth/login",
                &[],
                Some(("application/json", body.clone())),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.error_code(), "invalid_body", "{body}");
    }
    Ok(())
}

#[tokio::test]
async fn the_sixth_failed_attempt_is_refused_while_another_account_still_signs_in() -> TestResult {
    let app = TestApp::start().await?;
    for attempt in 1..=5 {
        let reply = app.login("clerk", "guess").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let sixth = app.login("clerk", "guess").await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sixth.error_code(), "too_many_attempts");
    assert!(sixth.json()["error"]["details"]["retry_after_seconds"].as_i64() > Some(0));
    let correct = app.login("clerk", DEMO_PASSWORD).await;
    assert_eq!(
        correct.status,
        StatusCode::TOO_MANY_REQUESTS,
        "locked even with the right password"
    );
    let other = app.login("approver", DEMO_PASSWORD).await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another account from the same address: {}",
        other.text
    );
    // Five minutes later the account may try again.
    app.clock.advance_seconds(5 * 60);
    assert_eq!(
        app.login("clerk", DEMO_PASSWORD).await.status,
        StatusCode::OK
    );
    Ok(())
}

#[tokio::test]
async fn a_success_resets_the_accounts_failure_count() -> TestResult {
    let app = TestApp::start().await?;
    for _ in 0..4 {
        app.login("citizen", "guess").await;
    }
    assert_eq!(
        app.login("citizen", DEMO_PASSWORD).await.status,
        StatusCode::OK
    );
    for _ in 0..4 {
        assert_eq!(
            app.login("citizen", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_address_guessing_many_accounts_is_refused() -> TestResult {
    let app = TestApp::start().await?;
    for n in 0..30 {
        let reply = app.login(&format!("guess{n}"), "guess").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let reply = app.login("citizen", DEMO_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    Ok(())
}

#[tokio::test]
async fn me_returns_the_account_and_its_roles() -> TestResult {
    let app = TestApp::start().await?;
    let token = app.token("clerk").await;
    let me = app.with_token(Method::GET, "/api/v1/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(
        me.json(),
        json!({
            "account": "clerk",
            "name": "陈静",
            "kind": "staff",
            "roles": [{ "role": "clerk", "department": null, "hall": "city-centre", "region": null }]
        })
    );
    let admin = app.token("admin").await;
    let me = app
        .with_token(Method::GET, "/api/v1/auth/me", &admin)
        .await
        .json();
    assert_eq!(me["roles"][0]["role"], "administrator");
    assert_eq!(me["roles"][0]["department"], "city-gov-service");
    let citizen = app.token("citizen").await;
    let me = app
        .with_token(Method::GET, "/api/v1/auth/me", &citizen)
        .await
        .json();
    assert_eq!(me["kind"], "person");
    assert_eq!(me["roles"], json!([]));
    Ok(())
}

#[tokio::test]
async fn without_valid_credentials_me_is_unauthenticated() -> TestResult {
    let app = TestApp::start().await?;
    let anonymous = app.send(Method::GET, "/api/v1/auth/me", &[], None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error_code(), "unauthenticated");
    for authorization in ["Bearer made-up-token", "Basic Y2xlcms6eA==", "Bearer "] {
        let reply = app
            .send(
                Method::GET,
                "/api/v1/auth/me",
                &[(AUTHORIZATION.as_str(), authorization)],
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{authorization}");
        assert_eq!(reply.error_code(), "unauthenticated");
    }
    Ok(())
}

#[tokio::test]
async fn logout_ends_the_session() -> TestResult {
    let app = TestApp::start().await?;
    let token = app.token("citizen").await;
    let other = app.token("citizen").await;
    let logout = app
        .with_token(Method::POST, "/api/v1/auth/logout", &token)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{}", logout.text);
    let me = app.with_token(Method::GET, "/api/v1/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.error_code(), "unauthenticated");
    assert_eq!(
        app.with_token(Method::GET, "/api/v1/auth/me", &other)
            .await
            .status,
        StatusCode::OK,
        "the account's other sessions go on"
    );
    Ok(())
}

#[tokio::test]
async fn a_session_expires_after_twelve_hours() -> TestResult {
    let app = TestApp::start().await?;
    let token = app.token("clerk").await;
    app.clock.advance_seconds(12 * 3600 - 1);
    assert_eq!(
        app.with_token(Method::GET, "/api/v1/auth/me", &token)
            .await
            .status,
        StatusCode::OK
    );
    app.clock.advance_seconds(1);
    let me = app.with_token(Method::GET, "/api/v1/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.error_code(), "unauthenticated");
    Ok(())
}

#[tokio::test]
async fn an_admin_issues_an_api_token_that_acts_as_its_department_until_revoked() -> TestResult {
    let app = TestApp::start().await?;
    let admin = app.token("admin").await;
    let created = app
        .post_json(
            "/api/v1/admin/api-tokens",
            Some(&admin),
            json!({ "department": "city-police", "name": "公安审批系统" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    let token = created["token"].as_str().unwrap_or_default().to_owned();
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert!(token.starts_with("tbk_"), "{token}");
    assert_eq!(created["department"], "city-police");
    assert_eq!(created["revoked_at"], Value::Null);

    let me = app.with_token(Method::GET, "/api/v1/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let me = me.json();
    assert_eq!(me["kind"], "system");
    assert_eq!(me["name"], "公安审批系统");
    assert_eq!(
        me["roles"],
        json!([
            { "role": "approver", "department": "city-police", "hall": null, "region": null },
            { "role": "chief_representative", "department": "city-police", "hall": null, "region": null }
        ])
    );

    let list = app
        .with_token(Method::GET, "/api/v1/admin/api-tokens", &admin)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    assert_eq!(list["api_tokens"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["api_tokens"][0]["id"], id.as_str());
    assert!(
        !list.to_string().contains(&token),
        "the list never shows a secret"
    );
    assert!(list["api_tokens"][0].get("token").is_none());

    let revoke = app
        .with_token(
            Method::DELETE,
            &format!("/api/v1/admin/api-tokens/{id}"),
            &admin,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{}", revoke.text);
    let me = app.with_token(Method::GET, "/api/v1/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let again = app
        .with_token(
            Method::DELETE,
            &format!("/api/v1/admin/api-tokens/{id}"),
            &admin,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let list = app
        .with_token(Method::GET, "/api/v1/admin/api-tokens", &admin)
        .await
        .json();
    assert!(list["api_tokens"][0]["revoked_at"].is_string());
    Ok(())
}

#[tokio::test]
async fn only_an_administrator_manages_api_tokens() -> TestResult {
    let app = TestApp::start().await?;
    let body = json!({ "department": "city-police", "name": "x" });
    let clerk = app.token("clerk").await;
    let refused = app
        .post_json("/api/v1/admin/api-tokens", Some(&clerk), body.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.error_code(), "forbidden");
    let listed = app
        .with_token(Method::GET, "/api/v1/admin/api-tokens", &clerk)
        .await;
    assert_eq!(listed.status, StatusCode::FORBIDDEN);
    let anonymous = app.post_json("/api/v1/admin/api-tokens", None, body).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let admin = app.token("admin").await;
    let unknown = app
        .post_json(
            "/api/v1/admin/api-tokens",
            Some(&admin),
            json!({ "department": "no-such-department", "name": "x" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error_code(), "invalid_key");
    let bad_id = app
        .with_token(Method::DELETE, "/api/v1/admin/api-tokens/1", &admin)
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn the_login_page_refuses_a_post_without_the_matching_csrf_value() -> TestResult {
    let app = TestApp::start().await?;
    let page = app.send(Method::GET, "/login", &[], None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("登录"), "Chinese first");
    let cookie_line = page.set_cookie("tb_csrf").expect("tb_csrf is set");
    assert!(cookie_line.contains("HttpOnly"), "{cookie_line}");
    assert!(cookie_line.contains("SameSite=Lax"), "{cookie_line}");
    let csrf = page.cookie_value("tb_csrf").unwrap_or_default();
    assert_eq!(hidden_field(&page.text, "csrf"), csrf);

    let fields = |value: &'static str| {
        [
            ("account", "citizen"),
            ("password", DEMO_PASSWORD),
            ("csrf", value),
        ]
    };
    let mismatched = app
        .post_form("/login", &format!("tb_csrf={csrf}"), &fields("forged"))
        .await;
    assert_eq!(mismatched.status, StatusCode::FORBIDDEN);
    assert!(
        mismatched.text.contains(r#"data-error="csrf_failed""#),
        "{}",
        mismatched.text
    );
    assert!(mismatched.set_cookie("tb_session").is_none());

    let without_cookie = app
        .send(
            Method::POST,
            "/login",
            &[],
            Some((
                "application/x-www-form-urlencoded",
                format!("account=citizen&password={DEMO_PASSWORD}&csrf={csrf}"),
            )),
        )
        .await;
    assert_eq!(without_cookie.status, StatusCode::FORBIDDEN);
    assert!(without_cookie.text.contains(r#"data-error="csrf_failed""#));
    Ok(())
}

#[tokio::test]
async fn a_page_login_sets_the_session_cookie_and_goes_to_next() -> TestResult {
    let app = TestApp::start().await?;
    let page = app
        .send(Method::GET, "/login?next=/items%3Ftheme%3Dbirth", &[], None)
        .await;
    let csrf = page.cookie_value("tb_csrf").unwrap_or_default();
    let next = hidden_field(&page.text, "next");
    assert_eq!(next, "/items?theme=birth");
    let cookie = format!("tb_csrf={csrf}");

    let wrong = app
        .post_form(
            "/login",
            &cookie,
            &[
                ("account", "clerk"),
                ("password", "nope"),
                ("csrf", &csrf),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains(r#"data-error="invalid_credentials""#));
    assert!(wrong.text.contains("账号或密码错误"));

    let signed_in = app
        .post_form(
            "/login",
            &cookie,
            &[
                ("account", "clerk"),
                ("password", DEMO_PASSWORD),
                ("csrf", &csrf),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text
    );
    assert_eq!(signed_in.location(), "/items?theme=birth");
    let line = signed_in
        .set_cookie("tb_session")
        .expect("tb_session is set");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    let session = format!(
        "tb_session={}",
        signed_in.cookie_value("tb_session").unwrap_or_default()
    );

    // The cookie authenticates API reads …
    let me = app
        .send(
            Method::GET,
            "/api/v1/auth/me",
            &[(COOKIE.as_str(), &session)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json()["account"], "clerk");

    // … and the login page now shows who is signed in, with a sign-out form.
    let page = app
        .send(Method::GET, "/login", &[(COOKIE.as_str(), &session)], None)
        .await;
    assert!(page.text.contains("陈静"));
    let session_csrf = hidden_field(&page.text, "csrf");
    assert_ne!(session_csrf, csrf, "the session has its own CSRF token");

    // An API write on the cookie alone needs the session's CSRF header.
    let forged = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            &[(COOKIE.as_str(), &session)],
            None,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.error_code(), "csrf_failed");

    // The sign-out form checks its CSRF field too.
    let bad_logout = app
        .post_form("/logout", &session, &[("csrf", "forged")])
        .await;
    assert_eq!(bad_logout.status, StatusCode::FORBIDDEN);
    let logout = app
        .post_form("/logout", &session, &[("csrf", &session_csrf)])
        .await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert!(
        logout
            .set_cookie("tb_session")
            .is_some_and(|l| l.contains("Max-Age=0"))
    );
    let me = app
        .send(
            Method::GET,
            "/api/v1/auth/me",
            &[(COOKIE.as_str(), &session)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "the session is gone");
    Ok(())
}

#[tokio::test]
async fn a_cookie_session_may_sign_out_through_the_api_with_its_csrf_header() -> TestResult {
    let app = TestApp::start().await?;
    let page = app.send(Method::GET, "/login", &[], None).await;
    let csrf = page.cookie_value("tb_csrf").unwrap_or_default();
    let signed_in = app
        .post_form(
            "/login",
            &format!("tb_csrf={csrf}"),
            &[
                ("account", "citizen"),
                ("password", DEMO_PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(signed_in.location(), "/", "no next: home");
    let session = format!(
        "tb_session={}",
        signed_in.cookie_value("tb_session").unwrap_or_default()
    );
    let page = app
        .send(Method::GET, "/login", &[(COOKIE.as_str(), &session)], None)
        .await;
    let session_csrf = hidden_field(&page.text, "csrf");
    let logout = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            &[(COOKIE.as_str(), &session), ("x-csrf-token", &session_csrf)],
            None,
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{}", logout.text);
    Ok(())
}

#[tokio::test]
async fn the_login_page_never_redirects_off_site() -> TestResult {
    let app = TestApp::start().await?;
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let page = app.send(Method::GET, "/login", &[], None).await;
        let csrf = page.cookie_value("tb_csrf").unwrap_or_default();
        let reply = app
            .post_form(
                "/login",
                &format!("tb_csrf={csrf}"),
                &[
                    ("account", "citizen"),
                    ("password", DEMO_PASSWORD),
                    ("csrf", &csrf),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.location(), "/", "{next}");
    }
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_covers_the_sign_in_routes_and_the_bearer_scheme() -> TestResult {
    let app = TestApp::start().await?;
    let document = app
        .send(Method::GET, "/api/v1/openapi.json", &[], None)
        .await
        .json();
    let paths = document["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/admin/api-tokens", "post"),
        ("/api/v1/admin/api-tokens", "get"),
        ("/api/v1/admin/api-tokens/{id}", "delete"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    Ok(())
}
