//! Webhook delivery end to end: a receiver on 127.0.0.1:0 that records what it gets (and can be
//! told to fail), subscriptions made through the admin API, outbox messages written to the store,
//! and dispatcher rounds run with `deliver_due_once` under a fixed clock. Runs on SQLite, or on a
//! fresh PostgreSQL database when `TONGBAN_TEST_PG_URL` is set.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use jiff::SignedDuration;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::task::JoinHandle;
use tongban_domain::clock::{Clock, FixedClock};
use tongban_domain::keys::{AccountName, DepartmentKey};
use tongban_store::model::{DeliveryStatus, NewSession, OutboxMessage};
use tongban_store::testing::{TestStore, insert_outbox, test_time};
use tongban_web::webhooks::{self, MAX_ATTEMPTS, SETTLE_SECONDS, backoff, deliver_due_once};

type TestResult = Result<(), Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------------------------
// The receiving department system

#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug, Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<Received>>>,
    /// Answer 503 to this many requests before answering 204.
    failures_left: Arc<AtomicUsize>,
}

impl Receiver {
    fn fail_next(&self, count: usize) {
        self.failures_left.store(count, Ordering::SeqCst);
    }

    fn requests(&self) -> Vec<Received> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Received { headers, body });
    let failed = receiver
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failed {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn start_receiver() -> Result<(Receiver, String, JoinHandle<()>), Box<dyn std::error::Error>>
{
    let receiver = Receiver::default();
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((receiver, url, server))
}

// ---------------------------------------------------------------------------------------------
// The platform

struct Platform {
    test_store: TestStore,
    clock: Arc<FixedClock>,
    base: String,
    http: reqwest::Client,
    delivery_client: reqwest::Client,
    admin_token: String,
    clerk_token: String,
    admin_csrf: String,
    server: JoinHandle<()>,
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A session for a demo account, made directly in the store: (token, csrf).
async fn session_for(
    store: &tongban_store::Store,
    account: &str,
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let token = format!("test-session-{account}-{}", uuid::Uuid::now_v7().simple());
    let csrf = format!("test-csrf-{}", uuid::Uuid::now_v7().simple());
    store
        .accounts
        .create_session(&NewSession {
            token_hash: tongban_web::auth::token_hash(&token),
            account: AccountName::parse(account)?,
            csrf_token: csrf.clone(),
            created_at: test_time(),
            expires_at: test_time() + SignedDuration::from_hours(48),
        })
        .await?;
    Ok((token, csrf))
}

impl Platform {
    async fn start() -> Result<Platform, Box<dyn std::error::Error>> {
        let test_store = TestStore::with_demo().await?;
        let store = test_store.store.clone();
        tongban_web::auth::create_demo_accounts(&store, test_time()).await?;
        let (admin_token, admin_csrf) = session_for(&store, "admin").await?;
        let (clerk_token, _) = session_for(&store, "clerk").await?;
        let clock = Arc::new(FixedClock::at(test_time()));
        let app = tongban_web::App::new(store, clock.clone()).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let router = app.router();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Platform {
            test_store,
            clock,
            base,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            delivery_client: webhooks::client()?,
            admin_token,
            clerk_token,
            admin_csrf,
            server,
        })
    }

    fn store(&self) -> &tongban_store::Store {
        &self.test_store.store
    }

    fn dyn_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// One dispatcher round.
    async fn round(&self) -> usize {
        deliver_due_once(self.store(), &self.dyn_clock(), &self.delivery_client)
            .await
            .unwrap_or_else(|error| panic!("a dispatcher round failed: {error}"))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}"))
        };
        (status, value)
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call(method, path, Some(&self.admin_token), body).await
    }

    /// Subscribes `url` to the police department's case events; returns (id, secret).
    async fn subscribe(&self, url: &str) -> (String, String) {
        let (status, body) = self
            .admin(
                reqwest::Method::POST,
                "/api/v1/admin/webhooks",
                Some(json!({ "department": "city-police", "url": url, "topics": ["case."] })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (text_at(&body, "id"), text_at(&body, "secret"))
    }

    /// Writes one police `case.accepted` message at the clock's time, then lets it settle.
    async fn announce(&self) -> OutboxMessage {
        let message = OutboxMessage {
            id: uuid::Uuid::now_v7(),
            topic: "case.accepted".into(),
            case_id: Some(uuid::Uuid::now_v7()),
            department: Some(police()),
            payload: json!({ "number": "11990100004213675N2000101000000202603020001", "state": "accepted" }),
            created_at: self.clock.now(),
        };
        insert_outbox(self.store(), vec![message.clone()])
            .await
            .unwrap_or_else(|error| panic!("cannot write the outbox: {error}"));
        self.clock.advance_seconds(SETTLE_SECONDS);
        message
    }

    async fn only_delivery(&self) -> tongban_store::model::Delivery {
        let deliveries = self
            .store()
            .webhooks
            .list_deliveries(&tongban_store::model::DeliveryFilter {
                status: None,
                limit: 10,
            })
            .await
            .unwrap_or_else(|error| panic!("cannot list the deliveries: {error}"));
        assert_eq!(deliveries.len(), 1, "{deliveries:?}");
        deliveries
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no delivery"))
    }
}

fn police() -> DepartmentKey {
    DepartmentKey::parse("city-police").unwrap_or_else(|error| panic!("city-police: {error}"))
}

fn text_at(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field} in {body}"))
        .to_owned()
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        panic!("HMAC takes keys of any length");
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn a_message_reaches_the_receiver_signed_with_the_subscription_secret() -> TestResult {
    let platform = Platform::start().await?;
    let (receiver, url, _receiver_server) = start_receiver().await?;
    let (_, secret) = platform.subscribe(&url).await;
    assert_eq!(
        secret.len(),
        64,
        "a generated secret is 32 random bytes, hex"
    );
    let message = platform.announce().await;

    assert_eq!(platform.round().await, 1);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    let body: Value = serde_json::from_slice(&request.body)?;
    assert_eq!(
        body,
        json!({
            "id": message.id,
            "topic": "case.accepted",
            "created_at": message.created_at.to_string(),
            "data": message.payload,
        })
    );
    let delivery = platform.only_delivery().await;
    assert_eq!(header(request, "x-tongban-event"), "case.accepted");
    assert_eq!(
        header(request, "x-tongban-delivery"),
        delivery.id.to_string()
    );
    assert_eq!(header(request, "content-type"), "application/json");
    let timestamp = header(request, "x-tongban-timestamp");
    assert_eq!(timestamp, platform.clock.now().as_second().to_string());
    assert_eq!(
        header(request, "x-tongban-signature"),
        expected_signature(&secret, timestamp, &request.body),
        "the signature verifies with the secret shown at creation"
    );
    assert_ne!(
        header(request, "x-tongban-signature"),
        expected_signature("another secret", timestamp, &request.body)
    );

    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts, 1);
    assert_eq!(delivery.last_status, Some(204));
    // Delivered once: later rounds send nothing more.
    platform.clock.advance_seconds(3600);
    assert_eq!(platform.round().await, 0);
    assert_eq!(receiver.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_message_younger_than_the_settling_time_waits_for_the_next_round() -> TestResult {
    let platform = Platform::start().await?;
    let (receiver, url, _receiver_server) = start_receiver().await?;
    platform.subscribe(&url).await;
    let message = OutboxMessage {
        id: uuid::Uuid::now_v7(),
        topic: "case.accepted".into(),
        case_id: None,
        department: Some(DepartmentKey::parse("city-police")?),
        payload: json!({}),
        created_at: platform.clock.now(),
    };
    insert_outbox(platform.store(), vec![message]).await?;
    assert_eq!(platform.round().await, 0);
    platform.clock.advance_seconds(SETTLE_SECONDS);
    assert_eq!(platform.round().await, 1);
    assert_eq!(receiver.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_until_the_delivery_is_dead_and_resent()
-> TestResult {
    let platform = Platform::start().await?;
    let (receiver, url, _receiver_server) = start_receiver().await?;
    platform.subscribe(&url).await;
    receiver.fail_next(usize::MAX);
    platform.announce().await;

    for attempt in 1..=MAX_ATTEMPTS {
        assert_eq!(platform.round().await, 1, "attempt {attempt}");
        let delivery = platform.only_delivery().await;
        assert_eq!(delivery.attempts, attempt);
        assert_eq!(delivery.last_status, Some(503));
        assert_eq!(
            delivery.last_error.as_deref(),
            Some("the receiver answered 503")
        );
        if attempt == MAX_ATTEMPTS {
            assert_eq!(delivery.status, DeliveryStatus::Dead);
            break;
        }
        assert_eq!(delivery.status, DeliveryStatus::Pending);
        let wait = backoff(attempt);
        assert_eq!(delivery.next_attempt_at, platform.clock.now() + wait);
        // Not due one second early.
        platform.clock.advance_seconds(wait.as_secs() - 1);
        assert_eq!(platform.round().await, 0, "attempt {attempt} came early");
        platform.clock.advance_seconds(1);
    }
    assert_eq!(receiver.requests().len(), MAX_ATTEMPTS as usize);
    platform.clock.advance_seconds(7200);
    assert_eq!(platform.round().await, 0, "a dead delivery is not retried");

    // Visible to the administrator.
    let (status, dead) = platform
        .admin(
            reqwest::Method::GET,
            "/api/v1/admin/webhook-deliveries?status=dead",
            None,
        )
        .await;
    assert_eq!(status, 200, "{dead}");
    let listed = dead["deliveries"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "dead");
    assert_eq!(listed[0]["attempts"], MAX_ATTEMPTS);
    assert_eq!(listed[0]["last_status"], 503);
    assert!(
        listed[0].get("payload").is_none(),
        "payloads may hold personal data"
    );
    let id = listed[0]["id"].as_str().unwrap().to_owned();

    // Resent, it is delivered at the next round.
    receiver.fail_next(0);
    let (status, resent) = platform
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/admin/webhook-deliveries/{id}/resend"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{resent}");
    assert_eq!(resent["status"], "pending");
    assert_eq!(resent["attempts"], 0);
    assert_eq!(platform.round().await, 1);
    let delivery = platform.only_delivery().await;
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts, 1);
    assert_eq!(receiver.requests().len(), MAX_ATTEMPTS as usize + 1);
    // A delivered delivery cannot be resent.
    let (status, body) = platform
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/admin/webhook-deliveries/{id}/resend"),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    Ok(())
}

#[tokio::test]
async fn a_receiver_that_recovers_gets_the_delivery_at_the_retry() -> TestResult {
    let platform = Platform::start().await?;
    let (receiver, url, _receiver_server) = start_receiver().await?;
    platform.subscribe(&url).await;
    receiver.fail_next(2);
    platform.announce().await;
    assert_eq!(platform.round().await, 1);
    platform.clock.advance_seconds(backoff(1).as_secs());
    assert_eq!(platform.round().await, 1);
    platform.clock.advance_seconds(backoff(2).as_secs());
    assert_eq!(platform.round().await, 1);
    let delivery = platform.only_delivery().await;
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts, 3);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    // Every attempt carries the same delivery id, so the receiver can deduplicate.
    for request in &requests {
        assert_eq!(
            header(request, "x-tongban-delivery"),
            delivery.id.to_string()
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_unreachable_receiver_is_a_failed_attempt_without_the_url_in_the_error() -> TestResult {
    let platform = Platform::start().await?;
    // A port that was just free: nothing listens there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook?token=do-not-log", listener.local_addr()?);
    drop(listener);
    platform.subscribe(&url).await;
    platform.announce().await;
    assert_eq!(platform.round().await, 1);
    let delivery = platform.only_delivery().await;
    assert_eq!(delivery.status, DeliveryStatus::Pending);
    assert_eq!(delivery.attempts, 1);
    assert_eq!(delivery.last_status, None);
    let error = delivery.last_error.unwrap();
    assert!(error.starts_with("cannot connect"), "{error}");
    assert!(!error.contains("do-not-log"), "{error}");
    Ok(())
}

#[tokio::test]
async fn only_administrators_manage_webhooks() -> TestResult {
    let platform = Platform::start().await?;
    let body =
        json!({ "department": "city-police", "url": "http://127.0.0.1:9/", "topics": ["case."] });
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let (status, error) = platform
        .call(
            post.clone(),
            "/api/v1/admin/webhooks",
            None,
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    for (method, path) in [
        (post.clone(), "/api/v1/admin/webhooks"),
        (get.clone(), "/api/v1/admin/webhooks"),
        (get.clone(), "/api/v1/admin/webhook-deliveries"),
    ] {
        let (status, error) = platform
            .call(
                method,
                path,
                Some(&platform.clerk_token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
    }
    let resend = format!(
        "/api/v1/admin/webhook-deliveries/{}/resend",
        uuid::Uuid::now_v7()
    );
    let (status, _) = platform
        .call(post.clone(), &resend, Some(&platform.clerk_token), None)
        .await;
    assert_eq!(status, 403);
    assert!(
        platform
            .store()
            .webhooks
            .list_subscriptions()
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn a_subscription_is_created_with_a_given_secret_and_listed_without_it() -> TestResult {
    let platform = Platform::start().await?;
    let (status, created) = platform
        .admin(
            reqwest::Method::POST,
            "/api/v1/admin/webhooks",
            Some(json!({
                "department": "city-police",
                "url": "https://police.example/hooks",
                "topics": ["case.accepted", "licence."],
                "secret": "a-secret-of-enough-length",
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["secret"], "a-secret-of-enough-length");
    assert_eq!(created["topics"], json!(["case.accepted", "licence."]));
    assert_eq!(created["active"], true);
    let (status, list) = platform
        .admin(reqwest::Method::GET, "/api/v1/admin/webhooks", None)
        .await;
    assert_eq!(status, 200);
    let webhooks = list["webhooks"].as_array().unwrap();
    assert_eq!(webhooks.len(), 1);
    assert_eq!(webhooks[0]["id"], created["id"]);
    assert_eq!(webhooks[0]["url"], "https://police.example/hooks");
    assert!(!list.to_string().contains("a-secret-of-enough-length"));

    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/admin/webhooks/{id}");
    let (status, _) = platform.admin(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, again) = platform.admin(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_subscription_is_refused_with_a_clear_code_and_nothing_is_stored() -> TestResult {
    let platform = Platform::start().await?;
    let cases = [
        (
            json!({ "department": "no-such-department", "url": "http://127.0.0.1:9/", "topics": ["case."] }),
            "invalid_key",
        ),
        (
            json!({ "department": "city-police", "url": "ftp://127.0.0.1/", "topics": ["case."] }),
            "invalid_body",
        ),
        (
            json!({ "department": "city-police", "url": "not a url", "topics": ["case."] }),
            "invalid_body",
        ),
        (
            json!({ "department": "city-police", "url": "http://127.0.0.1:9/", "topics": [] }),
            "invalid_body",
        ),
        (
            json!({ "department": "city-police", "url": "http://127.0.0.1:9/", "topics": ["case.,licence."] }),
            "invalid_body",
        ),
        (
            json!({ "department": "city-police", "url": "http://127.0.0.1:9/", "topics": ["case."], "secret": "short" }),
            "invalid_body",
        ),
        (
            json!({ "department": "city-police", "url": "http://127.0.0.1:9/", "topics": ["case."], "extra": 1 }),
            "invalid_body",
        ),
        (json!({ "department": "city-police" }), "invalid_body"),
    ];
    for (body, code) in cases {
        let (status, error) = platform
            .admin(
                reqwest::Method::POST,
                "/api/v1/admin/webhooks",
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let (status, error) = platform
        .admin(
            reqwest::Method::GET,
            "/api/v1/admin/webhook-deliveries?status=lost",
            None,
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, error) = platform
        .admin(
            reqwest::Method::POST,
            &format!(
                "/api/v1/admin/webhook-deliveries/{}/resend",
                uuid::Uuid::now_v7()
            ),
            None,
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    assert!(
        platform
            .store()
            .webhooks
            .list_subscriptions()
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn the_admin_page_lists_dead_deliveries_and_its_form_resends_them() -> TestResult {
    let platform = Platform::start().await?;
    let (receiver, url, _receiver_server) = start_receiver().await?;
    platform.subscribe(&url).await;
    receiver.fail_next(usize::MAX);
    platform.announce().await;
    for attempt in 1..=MAX_ATTEMPTS {
        assert_eq!(platform.round().await, 1);
        platform.clock.advance_seconds(backoff(attempt).as_secs());
    }
    let delivery = platform.only_delivery().await;
    assert_eq!(delivery.status, DeliveryStatus::Dead);

    let cookie = format!("tb_session={}", platform.admin_token);
    let page_url = format!("{}/admin/webhooks", platform.base);
    let response = platform
        .http
        .get(&page_url)
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let html = response.text().await?;
    assert!(html.contains(&url), "the subscription is listed");
    assert!(
        html.contains(&delivery.id.to_string()),
        "the dead delivery is listed"
    );
    assert!(html.contains(&format!(
        "action=\"/admin/webhook-deliveries/{}/resend\"",
        delivery.id
    )));
    assert!(html.contains(&format!("name=\"csrf\" value=\"{}\"", platform.admin_csrf)));

    // Without a session: to the sign-in page. As a clerk: refused.
    let anonymous = platform.http.get(&page_url).send().await?;
    assert_eq!(anonymous.status(), 303);
    let clerk = platform
        .http
        .get(&page_url)
        .header(
            reqwest::header::COOKIE,
            format!("tb_session={}", platform.clerk_token),
        )
        .send()
        .await?;
    assert_eq!(clerk.status(), 403);

    let action = format!(
        "{}/admin/webhook-deliveries/{}/resend",
        platform.base, delivery.id
    );
    // A form without the session's CSRF token changes nothing.
    let forged = platform
        .http
        .post(&action)
        .header(reqwest::header::COOKIE, &cookie)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("csrf=forged")
        .send()
        .await?;
    assert_eq!(forged.status(), 403);
    assert_eq!(platform.only_delivery().await.status, DeliveryStatus::Dead);

    let resent = platform
        .http
        .post(&action)
        .header(reqwest::header::COOKIE, &cookie)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(format!("csrf={}", platform.admin_csrf))
        .send()
        .await?;
    assert_eq!(resent.status(), 303);
    assert_eq!(
        resent.headers()[reqwest::header::LOCATION],
        "/admin/webhooks?resent=1"
    );
    assert_eq!(
        platform.only_delivery().await.status,
        DeliveryStatus::Pending
    );
    receiver.fail_next(0);
    assert_eq!(platform.round().await, 1);
    assert_eq!(
        platform.only_delivery().await.status,
        DeliveryStatus::Delivered
    );
    Ok(())
}
