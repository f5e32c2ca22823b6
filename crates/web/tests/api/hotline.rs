//! The 12345 hotline through the real router (SQLite, or PostgreSQL when `TONGBAN_TEST_PG_URL`
//! is set): return requests (退单), extensions (延期), reminders (催办), supervision (督办),
//! co-handlers (协办), duplicate suggestions and merge, the deadline reminder job (到期提醒) on an
//! injected clock, and consultations linking catalog guides (API and pages).
//!
//! Every refused call is checked to change nothing: the ticket reads back exactly as before.

use std::sync::Arc;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tongban_domain::clock::Clock;
use tongban_domain::hotline::DeadlinePolicy;
use tongban_store::model::{NewSubscription, OutboxMessage, WebhookSecret};
use tongban_store::testing::test_time;
use tongban_web::reminders::{self, ReminderReport};
use tongban_web::{AppState, Policies};

use crate::cases::TestApp;
use crate::support::{BIRTH_CERTIFICATE, TestResult, assert_error_shape};

const PASSWORD: &str = "tongban-demo";

/// The API test server (`cases::TestApp`) with the hotline's helpers; replies as status and
/// JSON body (`Null` when the body is not JSON).
struct HotlineApp {
    app: TestApp,
}

impl std::ops::Deref for HotlineApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// One answer: status and JSON body (`Null` when the body is not JSON).
type Reply = (u16, Value);

impl HotlineApp {
    async fn start() -> Result<HotlineApp, Box<dyn std::error::Error>> {
        Ok(HotlineApp {
            app: TestApp::start().await?,
        })
    }

    async fn get(&self, account: &str, path: &str) -> Reply {
        self.app.get(account, path).await.parts()
    }

    async fn post(&self, account: &str, path: &str, body: Value) -> Reply {
        self.app.post(account, path, body).await.parts()
    }

    /// Registers a ticket as the operator; returns its number.
    async fn register(&self, body: Value) -> String {
        let (status, ticket) = self.post("operator", "/api/v1/hotline/tickets", body).await;
        assert_eq!(status, 201, "register: {ticket}");
        ticket["number"].as_str().unwrap_or_default().to_owned()
    }

    /// The ticket as the supervisor (who sees every ticket) reads it.
    async fn ticket(&self, number: &str) -> Value {
        let (status, ticket) = self
            .get("supervisor", &format!("/api/v1/hotline/tickets/{number}"))
            .await;
        assert_eq!(status, 200, "read {number}: {ticket}");
        ticket
    }

    /// An action at the ticket's current version (unless the body names one).
    async fn act(&self, account: &str, number: &str, mut body: Value) -> Reply {
        if body.get("version").is_none() {
            body["version"] = self.ticket(number).await["version"].clone();
        }
        self.post(
            account,
            &format!("/api/v1/hotline/tickets/{number}/actions"),
            body,
        )
        .await
    }

    /// An action that must succeed; returns the changed ticket.
    async fn ok(&self, account: &str, number: &str, body: Value) -> Value {
        let what = body.to_string();
        let (status, ticket) = self.act(account, number, body).await;
        assert_eq!(status, 200, "{account} {what}: {ticket}");
        ticket
    }

    /// An action that must be refused with `status` and `code` and leave the ticket as it was.
    async fn refused(&self, account: &str, number: &str, body: Value, status: u16, code: &str) {
        let before = self.ticket(number).await;
        let what = body.to_string();
        let (actual, error) = self.act(account, number, body).await;
        assert_eq!(
            (actual, error["error"]["code"].as_str().unwrap_or_default()),
            (status, code),
            "{account} {what}: {error}"
        );
        assert_error_shape(&what, &error);
        assert_eq!(
            self.ticket(number).await,
            before,
            "{account} {what} was refused but changed the ticket"
        );
    }

    /// The outbox messages of a topic, oldest first.
    async fn outbox(&self, topic: &str) -> Vec<OutboxMessage> {
        self.state
            .store
            .cases
            .outbox_after(None, 1000)
            .await
            .unwrap_or_else(|error| panic!("read the outbox: {error}"))
            .into_iter()
            .filter(|message| message.topic == topic)
            .collect()
    }

    /// Signs in through the login page; returns the `Cookie` header of the page session.
    async fn page_session(&self, account: &str) -> String {
        let login = self.raw(Method::GET, "/login", None, None).await;
        let csrf = cookie_value(&login, "tb_csrf");
        let body = format!(
            "account={account}&password={PASSWORD}&csrf={}&next=%2F",
            form_value(&csrf)
        );
        let signed_in = self
            .raw(
                Method::POST,
                "/login",
                Some(&format!("tb_csrf={csrf}")),
                Some(body),
            )
            .await;
        assert_eq!(
            signed_in.status(),
            StatusCode::SEE_OTHER,
            "page sign-in as {account}"
        );
        format!("tb_session={}", cookie_value(&signed_in, "tb_session"))
    }

    /// A page request; a body is posted as a form.
    async fn raw(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        form: Option<String>,
    ) -> reqwest::Response {
        let mut request = self.client().request(method.clone(), self.url(path));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(form) = form {
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let response = self.raw(Method::GET, path, Some(cookie), None).await;
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts a form; returns the status, the `Location` header and the body.
    async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", form_value(name), form_value(value)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self.raw(Method::POST, path, Some(cookie), Some(body)).await;
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location, response.text().await.unwrap_or_default())
    }
}

fn cookie_value(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|line| line.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .unwrap_or_else(|| panic!("no cookie {name} was set"))
}

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

/// A complaint about 东湖区 waste (routed to city-urban, the `handler`'s department).
fn complaint(description: &str) -> Value {
    json!({
        "kind": "complaint", "category": "city-management", "area": "990102",
        "location": "湖滨路", "description": description,
        "caller_name": "王先生", "caller_phone": "13900000000", "confidential": true
    })
}

/// The kinds of the ticket's events, in order.
fn event_kinds(ticket: &Value) -> Vec<String> {
    ticket["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events: {ticket}"))
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|t| t["number"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_return_request_is_decided_by_the_dispatcher_and_refused_out_of_turn() -> TestResult {
    let app = HotlineApp::start().await?;
    let number = app.register(complaint("湖滨路垃圾多日无人清运")).await;
    // Before dispatch the department cannot see the ticket, let alone ask to return it.
    app.refused(
        "handler",
        &number,
        json!({ "action": "request_return", "version": 1, "text": "不属本单位职责" }),
        404,
        "ticket_not_found",
    )
    .await;
    app.ok("dispatcher", &number, json!({ "action": "dispatch" }))
        .await;

    let ask = |text: &str| json!({ "action": "request_return", "text": text });
    for account in ["operator", "dispatcher", "supervisor"] {
        app.refused(account, &number, ask("不属本单位职责"), 403, "forbidden")
            .await;
    }
    app.refused(
        "handler2",
        &number,
        ask("不属本单位职责"),
        404,
        "ticket_not_found",
    )
    .await;
    app.refused("handler", &number, ask("  "), 400, "invalid_ticket")
        .await;
    app.refused(
        "handler",
        &number,
        json!({ "action": "request_return", "version": 1, "text": "不属本单位职责" }),
        409,
        "stale_version",
    )
    .await;
    app.refused(
        "dispatcher",
        &number,
        json!({ "action": "decide_return", "approved": true }),
        409,
        "illegal_transition",
    )
    .await;

    let requested = app.ok("handler", &number, ask("道路清扫属区城管")).await;
    assert_eq!(requested["state"], "return_requested");
    assert_eq!(requested["return_reason"], "道路清扫属区城管");
    app.refused(
        "handler",
        &number,
        ask("再次申请"),
        409,
        "illegal_transition",
    )
    .await;
    app.refused(
        "handler",
        &number,
        json!({ "action": "reply", "text": "已清运" }),
        409,
        "illegal_transition",
    )
    .await;
    app.refused(
        "handler",
        &number,
        json!({ "action": "decide_return", "approved": true }),
        403,
        "forbidden",
    )
    .await;
    app.refused(
        "dispatcher",
        &number,
        json!({ "action": "decide_return" }),
        400,
        "invalid_action",
    )
    .await;

    // Rejected: back to the department, same deadline.
    let rejected = app
        .ok(
            "dispatcher",
            &number,
            json!({ "action": "decide_return", "approved": false, "text": "属本单位职责" }),
        )
        .await;
    assert_eq!(rejected["state"], "dispatched");
    assert_eq!(rejected["department"], "city-urban");
    assert_eq!(rejected["due_on"], "2026-03-19");

    // Approved: waiting for dispatch again, no department, no deadline; the handler loses it.
    app.ok("handler", &number, ask("道路清扫属区城管")).await;
    let approved = app
        .ok(
            "dispatcher",
            &number,
            json!({ "action": "decide_return", "approved": true }),
        )
        .await;
    assert_eq!(approved["state"], "registered");
    assert!(approved.get("department").is_none(), "{approved}");
    assert!(approved.get("due_on").is_none(), "{approved}");
    assert_eq!(approved["suggested_department"], "city-urban");
    assert_eq!(
        event_kinds(&approved),
        [
            "registered",
            "dispatch",
            "request_return",
            "return_rejected",
            "request_return",
            "return_approved"
        ]
    );
    let (status, _) = app
        .get("handler", &format!("/api/v1/hotline/tickets/{number}"))
        .await;
    assert_eq!(status, 404, "the returned ticket left the department");
    let (_, list) = app.get("handler", "/api/v1/hotline/tickets").await;
    assert!(!numbers(&list).contains(&number), "{list}");

    // Re-dispatched elsewhere, the other department has it.
    let redispatched = app
        .ok(
            "dispatcher",
            &number,
            json!({ "action": "dispatch", "department": "city-market" }),
        )
        .await;
    assert_eq!(redispatched["department"], "city-market");
    let (status, _) = app
        .get("handler2", &format!("/api/v1/hotline/tickets/{number}"))
        .await;
    assert_eq!(status, 200);
    Ok(())
}

#[tokio::test]
async fn an_extension_needs_the_dispatchers_approval_and_moves_the_deadline() -> TestResult {
    let app = HotlineApp::start().await?;
    let mut help = complaint("湖滨路路灯不亮");
    help["kind"] = json!("help");
    let number = app.register(help).await;
    let dispatched = app
        .ok("dispatcher", &number, json!({ "action": "dispatch" }))
        .await;
    // Help: 3 working days from Mon 2026-03-02.
    assert_eq!(dispatched["due_on"], "2026-03-05");

    let ask = |days: u32, text: &str| json!({ "action": "request_extension", "days": days, "text": text });
    for account in ["dispatcher", "operator", "supervisor"] {
        app.refused(account, &number, ask(2, "需现场勘查"), 403, "forbidden")
            .await;
    }
    app.refused(
        "handler",
        &number,
        ask(0, "需现场勘查"),
        400,
        "invalid_ticket",
    )
    .await;
    app.refused(
        "handler",
        &number,
        ask(11, "需现场勘查"),
        400,
        "invalid_ticket",
    )
    .await;
    app.refused("handler", &number, ask(2, " "), 400, "invalid_ticket")
        .await;
    app.refused(
        "dispatcher",
        &number,
        json!({ "action": "decide_extension", "approved": true }),
        400,
        "invalid_ticket",
    )
    .await;

    let requested = app.ok("handler", &number, ask(2, "需现场勘查")).await;
    assert_eq!(
        requested["pending_extension"],
        json!({ "days": 2, "reason": "需现场勘查" })
    );
    assert_eq!(
        requested["due_on"], "2026-03-05",
        "not moved before approval"
    );
    app.refused(
        "handler",
        &number,
        ask(1, "再要一天"),
        400,
        "invalid_ticket",
    )
    .await;
    app.refused(
        "handler",
        &number,
        json!({ "action": "decide_extension", "approved": true }),
        403,
        "forbidden",
    )
    .await;
    app.refused(
        "dispatcher",
        &number,
        json!({ "action": "decide_extension" }),
        400,
        "invalid_action",
    )
    .await;

    // Approved: Thu Mar 5 + 2 working days → Mon Mar 9.
    let approved = app
        .ok(
            "dispatcher",
            &number,
            json!({ "action": "decide_extension", "approved": true }),
        )
        .await;
    assert_eq!(approved["due_on"], "2026-03-09");
    assert!(approved["pending_extension"].is_null(), "{approved}");
    let last = &approved["events"][approved["events"].as_array().map_or(0, Vec::len) - 1];
    assert_eq!(
        (&last["kind"], &last["note"]),
        (&json!("extension_approved"), &json!("2026-03-09"))
    );

    // Rejected: the deadline stays.
    app.ok("handler", &number, ask(3, "仍需协调")).await;
    let rejected = app
        .ok(
            "dispatcher",
            &number,
            json!({ "action": "decide_extension", "approved": false }),
        )
        .await;
    assert_eq!(rejected["due_on"], "2026-03-09");
    assert!(rejected["pending_extension"].is_null());
    assert_eq!(
        event_kinds(&rejected)[2..],
        [
            "request_extension",
            "extension_approved",
            "request_extension",
            "extension_rejected"
        ]
    );

    // Once replied there is nothing left to extend.
    app.ok(
        "handler",
        &number,
        json!({ "action": "reply", "text": "已修复" }),
    )
    .await;
    app.refused(
        "handler",
        &number,
        ask(1, "补充"),
        409,
        "illegal_transition",
    )
    .await;
    Ok(())
}

#[tokio::test]
async fn reminders_and_supervision_follow_the_roles_and_the_state() -> TestResult {
    let app = HotlineApp::start().await?;
    let number = app.register(complaint("湖滨路垃圾多日无人清运")).await;
    let remind = |text: &str| json!({ "action": "remind", "text": text });
    let supervise = |text: &str| json!({ "action": "supervise", "text": text });
    // Not dispatched yet: nobody to remind or supervise.
    app.refused(
        "dispatcher",
        &number,
        remind("请尽快"),
        409,
        "illegal_transition",
    )
    .await;
    app.refused(
        "supervisor",
        &number,
        supervise("督办"),
        409,
        "illegal_transition",
    )
    .await;
    app.ok("dispatcher", &number, json!({ "action": "dispatch" }))
        .await;

    for account in ["handler", "operator"] {
        app.refused(account, &number, remind("请尽快"), 403, "forbidden")
            .await;
    }
    app.refused(
        "citizen",
        &number,
        remind("请尽快"),
        404,
        "ticket_not_found",
    )
    .await;
    for account in ["dispatcher", "operator", "handler"] {
        app.refused(account, &number, supervise("督办"), 403, "forbidden")
            .await;
    }
    app.refused("supervisor", &number, supervise(" "), 400, "invalid_ticket")
        .await;

    let once = app.ok("dispatcher", &number, remind("请尽快办理")).await;
    assert_eq!(once["reminders"], 1);
    let twice = app.ok("supervisor", &number, remind("")).await;
    assert_eq!(twice["reminders"], 2);
    assert_eq!(twice["state"], "dispatched", "a reminder changes no state");
    let supervised = app
        .ok("supervisor", &number, supervise("请于本周内办结"))
        .await;
    assert_eq!(supervised["supervised"], true);
    assert_eq!(
        event_kinds(&supervised),
        ["registered", "dispatch", "remind", "remind", "supervise"]
    );
    // The department sees the reminders and the supervision.
    let (_, seen) = app
        .get("handler", &format!("/api/v1/hotline/tickets/{number}"))
        .await;
    assert_eq!(
        (seen["reminders"].clone(), seen["supervised"].clone()),
        (json!(2), json!(true))
    );

    // Replied: no more reminders, but a supervisor may still supervise until it is closed.
    app.ok(
        "handler",
        &number,
        json!({ "action": "reply", "text": "已清运" }),
    )
    .await;
    app.refused(
        "dispatcher",
        &number,
        remind("请尽快"),
        409,
        "illegal_transition",
    )
    .await;
    app.ok("supervisor", &number, supervise("回访前复核")).await;
    app.ok(
        "operator",
        &number,
        json!({ "action": "call_back", "satisfaction": "satisfied", "resolved": true }),
    )
    .await;
    app.refused(
        "supervisor",
        &number,
        supervise("再督办"),
        409,
        "illegal_transition",
    )
    .await;
    Ok(())
}

#[tokio::test]
async fn co_handlers_see_the_ticket_and_give_their_opinion_but_only_the_lead_replies() -> TestResult
{
    let app = HotlineApp::start().await?;
    let number = app
        .register(complaint("湖滨路夜市占道经营，垃圾遍地"))
        .await;
    app.refused(
        "dispatcher",
        &number,
        json!({ "action": "dispatch", "department": "city-urban", "co_handlers": ["city-urban"] }),
        400,
        "invalid_ticket",
    )
    .await;
    app.refused(
        "dispatcher",
        &number,
        json!({ "action": "dispatch", "co_handlers": ["no-such-department"] }),
        400,
        "invalid_ticket",
    )
    .await;
    let dispatched = app
        .ok(
            "dispatcher",
            &number,
            json!({ "action": "dispatch", "co_handlers": ["city-market"] }),
        )
        .await;
    assert_eq!(dispatched["department"], "city-urban");
    assert_eq!(dispatched["co_handlers"], json!(["city-market"]));

    // The co-handling department (a handler and its chief representative) sees the ticket in
    // its list and reads it, without the confidential caller; a third department does not.
    for account in ["handler2", "chief"] {
        let (status, seen) = app
            .get(account, &format!("/api/v1/hotline/tickets/{number}"))
            .await;
        assert_eq!(status, 200, "{account}: {seen}");
        assert!(seen.get("caller_phone").is_none(), "{account}: {seen}");
        let (_, list) = app.get(account, "/api/v1/hotline/tickets").await;
        assert_eq!(numbers(&list), std::slice::from_ref(&number), "{account}");
    }
    let (status, _) = app
        .get(
            "chief-ecology",
            &format!("/api/v1/hotline/tickets/{number}"),
        )
        .await;
    assert_eq!(status, 404, "a department that is not involved");

    // Only the lead replies, asks to return or for more time; only a co-handler gives an opinion.
    for body in [
        json!({ "action": "reply", "text": "已处理" }),
        json!({ "action": "request_return", "text": "不属本单位" }),
        json!({ "action": "request_extension", "days": 2, "text": "需协调" }),
    ] {
        app.refused("handler2", &number, body, 403, "forbidden")
            .await;
    }
    let assist = |text: &str| json!({ "action": "assist", "text": text });
    for account in ["handler", "dispatcher", "operator"] {
        app.refused(account, &number, assist("意见"), 403, "forbidden")
            .await;
    }
    app.refused(
        "handler2",
        &number,
        json!({ "action": "assist", "department": "city-urban", "text": "冒用主办单位" }),
        403,
        "forbidden",
    )
    .await;
    app.refused("handler2", &number, assist(" "), 400, "invalid_ticket")
        .await;
    app.refused(
        "chief-ecology",
        &number,
        assist("意见"),
        404,
        "ticket_not_found",
    )
    .await;

    let assisted = app
        .ok("handler2", &number, assist("已核查摊贩证照，将联合执法"))
        .await;
    assert_eq!(assisted["state"], "dispatched");
    let last = &assisted["events"][assisted["events"].as_array().map_or(0, Vec::len) - 1];
    assert_eq!(last["kind"], "assist");
    assert_eq!(last["actor"], "handler2");
    assert_eq!(last["department"], "city-market");
    assert_eq!(last["note"], "已核查摊贩证照，将联合执法");
    // The chief representative of the same department may give one too.
    app.ok("chief", &number, assist("首席代表确认")).await;

    let replied = app
        .ok(
            "handler",
            &number,
            json!({ "action": "reply", "text": "已联合市场监管清理" }),
        )
        .await;
    assert_eq!(replied["state"], "replied");
    app.refused(
        "handler2",
        &number,
        assist("补充"),
        409,
        "illegal_transition",
    )
    .await;
    Ok(())
}

#[tokio::test]
async fn a_probable_duplicate_is_suggested_and_merged_but_an_unrelated_ticket_is_not() -> TestResult
{
    let app = HotlineApp::start().await?;
    let first = app
        .register(complaint("湖滨路垃圾多日无人清运，气味很大"))
        .await;
    let unrelated = app.register(complaint("小区门口共享单车乱停放")).await;
    let mut elsewhere = complaint("湖滨路垃圾多日无人清运，气味很大");
    elsewhere["area"] = json!("990103");
    let elsewhere = app.register(elsewhere).await;
    let (status, created) = app
        .post(
            "operator",
            "/api/v1/hotline/tickets",
            complaint("湖滨路垃圾多日无人清运"),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let duplicate = created["number"].as_str().unwrap_or_default().to_owned();
    // Same category, area and similar text: suggested at once; the other two are not.
    assert_eq!(created["possible_duplicates"], json!([first.clone()]));
    assert_eq!(
        app.ticket(&duplicate).await["possible_duplicates"],
        json!([first.clone()])
    );
    assert_eq!(
        app.ticket(&unrelated).await["possible_duplicates"],
        json!([]),
        "{elsewhere} is in another area"
    );

    let merge = |into: &str| json!({ "action": "merge", "into": into });
    for account in ["operator", "supervisor"] {
        app.refused(account, &duplicate, merge(&first), 403, "forbidden")
            .await;
    }
    app.refused(
        "handler",
        &duplicate,
        merge(&first),
        404,
        "ticket_not_found",
    )
    .await;
    app.refused(
        "dispatcher",
        &duplicate,
        merge("RX209901010001"),
        404,
        "ticket_not_found",
    )
    .await;
    app.refused(
        "dispatcher",
        &duplicate,
        merge(&duplicate),
        400,
        "invalid_ticket",
    )
    .await;

    let merged = app.ok("dispatcher", &duplicate, merge(&first)).await;
    assert_eq!(merged["state"], "merged");
    assert_eq!(merged["merged_into"], first);
    assert_eq!(
        app.ticket(&first).await["possible_duplicates"],
        json!([]),
        "a merged ticket is no longer suggested"
    );
    app.refused(
        "dispatcher",
        &duplicate,
        merge(&unrelated),
        409,
        "illegal_transition",
    )
    .await;
    // A chain of merges would hide the surviving ticket.
    app.refused(
        "dispatcher",
        &unrelated,
        merge(&duplicate),
        400,
        "invalid_ticket",
    )
    .await;

    // Outside the 30-day window the same matter is not suggested any more.
    app.advance_days(31);
    let (_, later) = app
        .post(
            "operator",
            "/api/v1/hotline/tickets",
            complaint("湖滨路垃圾多日无人清运，气味很大"),
        )
        .await;
    assert_eq!(later["possible_duplicates"], json!([]), "{later}");
    Ok(())
}

/// One round of the reminder job with the app's state (its clock, calendar and policy).
async fn remind(state: &AppState) -> ReminderReport {
    reminders::remind_due_once(state)
        .await
        .unwrap_or_else(|error| panic!("the reminder round failed: {error}"))
}

#[tokio::test]
async fn a_ticket_near_its_deadline_is_reminded_once_and_its_department_notified() -> TestResult {
    let app = HotlineApp::start().await?;
    // city-urban's system subscribes to hotline messages.
    app.state
        .store
        .webhooks
        .create_subscription(&NewSubscription {
            department: "city-urban".parse()?,
            url: "http://127.0.0.1:9/hooks".into(),
            secret: WebhookSecret::new("secret".into()),
            topics: vec!["hotline.".into()],
            created_at: test_time(),
        })
        .await?;
    let mut help = complaint("湖滨路路灯不亮");
    help["kind"] = json!("help");
    let soon = app.register(help).await;
    let later = app.register(complaint("湖滨路垃圾多日无人清运")).await;
    let waiting = app.register(complaint("滨江路垃圾桶破损")).await;
    for number in [&soon, &later] {
        app.ok("dispatcher", number, json!({ "action": "dispatch" }))
            .await;
    }
    // Help due Thu 2026-03-05, complaint Thu 2026-03-19; one working day ahead by default.
    assert_eq!(app.ticket(&soon).await["due_on"], "2026-03-05");
    assert_eq!(
        remind(&app.state).await,
        ReminderReport::default(),
        "Mon Mar 2"
    );
    app.advance_days(1);
    assert_eq!(remind(&app.state).await.reminded, 0, "Tue Mar 3");
    assert!(app.outbox(reminders::TOPIC).await.is_empty());

    app.advance_days(1);
    let before = app.ticket(&soon).await;
    assert_eq!(before["reminder_due"], true, "Wed Mar 4 is in the window");
    assert_eq!(remind(&app.state).await.reminded, 1, "Wed Mar 4");
    let reminded = app.ticket(&soon).await;
    assert_eq!(reminded["deadline_reminder_for"], "2026-03-05");
    assert_eq!(reminded["reminders"], 0, "the job's reminder is not a 催办");
    let last = &reminded["events"][reminded["events"].as_array().map_or(0, Vec::len) - 1];
    assert_eq!(
        (&last["kind"], &last["actor"], &last["note"]),
        (
            &json!("deadline_reminder"),
            &json!(reminders::ACTOR),
            &json!("2026-03-05")
        )
    );
    let messages = app.outbox(reminders::TOPIC).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        messages[0].department.as_ref().map(|d| d.as_str()),
        Some("city-urban")
    );
    assert_eq!(messages[0].payload["number"], json!(soon));
    assert_eq!(messages[0].payload["due_on"], "2026-03-05");
    assert_eq!(messages[0].payload["overdue"], false);
    assert!(
        messages[0].payload.get("caller_phone").is_none()
            && messages[0].payload.get("description").is_none(),
        "no personal details in a notification: {}",
        messages[0].payload
    );
    assert_eq!(messages[0].created_at, app.clock.now());
    // The department's subscription gets the message.
    let now = app.clock.now();
    let fanned = app.state.store.webhooks.fan_out(now, now, 100).await?;
    assert_eq!(fanned.deliveries, 1);

    // Once per deadline: again the same day, and after it passed, nothing more.
    assert_eq!(remind(&app.state).await, ReminderReport::default());
    assert_eq!(
        app.ticket(&soon).await,
        reminded,
        "a second round changes nothing"
    );
    app.advance_days(2);
    assert_eq!(remind(&app.state).await.reminded, 0, "Fri Mar 6, overdue");
    assert_eq!(app.outbox(reminders::TOPIC).await.len(), 1);

    // An approved extension sets a new deadline (Thu Mar 5 + 2 → Mon Mar 9): reminded again.
    app.ok(
        "handler",
        &soon,
        json!({ "action": "request_extension", "days": 2, "text": "需更换灯杆" }),
    )
    .await;
    app.ok(
        "dispatcher",
        &soon,
        json!({ "action": "decide_extension", "approved": true }),
    )
    .await;
    assert_eq!(
        remind(&app.state).await.reminded,
        1,
        "Fri Mar 6, due Mon Mar 9"
    );
    let messages = app.outbox(reminders::TOPIC).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].payload["due_on"], "2026-03-09");
    assert_eq!(
        app.ticket(&soon).await["deadline_reminder_for"],
        "2026-03-09"
    );
    // A replied ticket is not reminded, nor one that waits for dispatch.
    app.ok(
        "handler",
        &soon,
        json!({ "action": "reply", "text": "已更换灯杆" }),
    )
    .await;
    assert!(app.ticket(&waiting).await.get("due_on").is_none());

    // A longer configured lead time reminds earlier: 3 working days before Thu Mar 19 is Mon
    // Mar 16; the default (1) would wait until Wed Mar 18.
    let mut three_days = app.state.clone();
    three_days.policies = Arc::new(Policies {
        deadlines: DeadlinePolicy {
            remind_before_days: 3,
            ..DeadlinePolicy::default()
        },
        ..(*app.state.policies).clone()
    });
    app.advance_days(6); // Thu Mar 12
    assert_eq!(remind(&three_days).await.reminded, 0, "Thu Mar 12");
    app.advance_days(4); // Mon Mar 16
    assert_eq!(remind(&app.state).await.reminded, 0, "the default waits");
    assert_eq!(remind(&three_days).await.reminded, 1, "Mon Mar 16");
    let messages = app.outbox(reminders::TOPIC).await;
    assert_eq!(
        messages
            .iter()
            .map(|m| m.payload["number"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        [soon.as_str(), soon.as_str(), later.as_str()]
    );
    Ok(())
}

#[tokio::test]
async fn the_reminder_job_runs_in_the_background_until_stopped() -> TestResult {
    let app = HotlineApp::start().await?;
    let mut help = complaint("湖滨路路灯不亮");
    help["kind"] = json!("help");
    help["urgency"] = json!("emergency");
    let number = app.register(help).await;
    // An emergency is due the same day, so it is in the window at once.
    app.ok("dispatcher", &number, json!({ "action": "dispatch" }))
        .await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let job = tokio::spawn(reminders::run(app.state.clone(), async move {
        let _ = stopped.await;
    }));
    let mut messages = Vec::new();
    for _ in 0..100 {
        messages = app.outbox(reminders::TOPIC).await;
        if !messages.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(messages.len(), 1, "the first round runs at start-up");
    let _ = stop.send(());
    tokio::time::timeout(std::time::Duration::from_secs(5), job).await??;
    assert_eq!(
        app.ticket(&number).await["deadline_reminder_for"],
        "2026-03-02"
    );
    Ok(())
}

#[tokio::test]
async fn a_consultation_links_published_guides_and_an_unknown_item_stores_nothing() -> TestResult {
    let app = HotlineApp::start().await?;
    let consultation = |linked: Value| {
        json!({
            "kind": "consultation", "category": "government-services", "area": "990102",
            "description": "孩子出生了要办哪些手续", "caller_name": "李女士",
            "linked_items": linked
        })
    };
    let (_, item) = app
        .get("operator", &format!("/api/v1/items/{BIRTH_CERTIFICATE}"))
        .await;
    let name = item["name"].as_str().unwrap_or_default().to_owned();
    assert!(!name.is_empty(), "{item}");

    for (linked, code) in [
        (
            json!(["11990100004213675N2000101999999"]),
            "unknown_linked_item",
        ),
        (
            json!([BIRTH_CERTIFICATE, "not-an-item"]),
            "unknown_linked_item",
        ),
        (
            json!((0..11).map(|n| format!("X{n}")).collect::<Vec<_>>()),
            "invalid_ticket",
        ),
    ] {
        let (status, error) = app
            .post(
                "operator",
                "/api/v1/hotline/tickets",
                consultation(linked.clone()),
            )
            .await;
        assert_eq!(
            (status, error["error"]["code"].as_str().unwrap_or_default()),
            (400, code),
            "{linked}: {error}"
        );
        assert_error_shape("register", &error);
    }
    let (_, error) = app
        .post(
            "operator",
            "/api/v1/hotline/tickets",
            consultation(json!(["11990100004213675N2000101999999"])),
        )
        .await;
    assert_eq!(
        error["error"]["details"]["item"],
        "11990100004213675N2000101999999"
    );
    let (_, list) = app.get("dispatcher", "/api/v1/hotline/tickets").await;
    assert_eq!(list, json!([]), "a refused intake stores nothing");

    let (status, ticket) = app
        .post(
            "operator",
            "/api/v1/hotline/tickets",
            consultation(json!([BIRTH_CERTIFICATE, format!(" {BIRTH_CERTIFICATE} ")])),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(
        ticket["number"], "RX202603020001",
        "the refused intakes took no number"
    );
    assert_eq!(ticket["linked_items"], json!([BIRTH_CERTIFICATE]));
    assert_eq!(
        ticket["linked_guides"],
        json!([{ "code": BIRTH_CERTIFICATE, "name": name, "url": format!("/items/{BIRTH_CERTIFICATE}") }])
    );
    // A citizen filing online may link guides too, and is held to the same check.
    let (status, error) = app
        .post(
            "citizen",
            "/api/v1/hotline/tickets",
            consultation(json!(["11990100004213675N2000101999999"])),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (400, json!("unknown_linked_item"))
    );
    Ok(())
}

#[tokio::test]
async fn the_intake_page_finds_catalog_items_to_link_and_the_ticket_page_links_the_guides()
-> TestResult {
    let app = HotlineApp::start().await?;
    let operator = app.page_session("operator").await;
    let (status, page) = app.page("/hotline/new", &operator).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"id="intake-item-search""#), "{page}");
    let csrf = hidden_field(&page, "csrf");
    let link_field = format!("link.{BIRTH_CERTIFICATE}");
    let typed = [
        ("csrf", csrf.as_str()),
        ("channel", "phone"),
        ("caller_name", "李女士"),
        ("kind", "consultation"),
        ("category", "government-services"),
        ("area", "990102"),
        ("urgency", "normal"),
        ("description", "孩子出生了要办哪些手续"),
        ("item_q", "出生医学证明"),
    ];

    // Searching shows the form again as typed, with the items to tick, and stores nothing.
    let mut search = typed.to_vec();
    search.push(("search_items", "搜索"));
    let (status, _, found) = app.post_form("/hotline/new", &operator, &search).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(
        found.contains(&format!(r#"name="{link_field}" value="1" >"#)),
        "the birth certificate is offered, not ticked: {found}"
    );
    assert!(
        found.contains(">孩子出生了要办哪些手续</textarea>"),
        "{found}"
    );
    assert!(found.contains(r#"value="李女士""#), "{found}");
    assert!(
        found.contains(r#"<option value="consultation" selected>"#),
        "{found}"
    );
    let (_, list) = app.get("dispatcher", "/api/v1/hotline/tickets").await;
    assert_eq!(list, json!([]), "a search registers nothing");
    // A search that finds nothing says so.
    let mut nothing = typed.to_vec();
    nothing.retain(|(name, _)| *name != "item_q");
    nothing.push(("item_q", "zzzz"));
    nothing.push(("search_items", "搜索"));
    let (_, _, empty) = app.post_form("/hotline/new", &operator, &nothing).await;
    assert!(empty.contains(r#"id="intake-no-items""#), "{empty}");
    // A ticked item stays ticked through another search.
    let mut again = search.clone();
    again.push((link_field.as_str(), "1"));
    let (_, _, kept) = app.post_form("/hotline/new", &operator, &again).await;
    assert!(
        kept.contains(&format!(r#"name="{link_field}" value="1" checked>"#)),
        "{kept}"
    );

    // Registering with the ticked item links it; the ticket page links the guide page.
    let mut register = typed.to_vec();
    register.push((link_field.as_str(), "1"));
    let (status, location, _) = app.post_form("/hotline/new", &operator, &register).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/hotline/tickets/RX"), "{location}");
    let path = location.split('?').next().unwrap_or_default().to_owned();
    let (status, ticket_page) = app.page(&path, &operator).await;
    assert_eq!(status, StatusCode::OK);
    let (_, item) = app
        .get("operator", &format!("/api/v1/items/{BIRTH_CERTIFICATE}"))
        .await;
    let name = item["name"].as_str().unwrap_or_default();
    assert!(
        ticket_page.contains(&format!(
            r#"<a href="/items/{BIRTH_CERTIFICATE}" data-item="{BIRTH_CERTIFICATE}">{name}</a>"#
        )),
        "{ticket_page}"
    );
    assert!(ticket_page.contains("关联办事指南"));
    let (status, _) = app
        .page(&format!("/items/{BIRTH_CERTIFICATE}"), &operator)
        .await;
    assert_eq!(status, StatusCode::OK, "the linked guide page exists");
    let (_, english) = app.page(&path, &format!("{operator}; lang=en")).await;
    assert!(english.contains("Linked guides"), "{english}");

    // A forged unknown item is refused with its code, and nothing is stored.
    let mut forged = typed.to_vec();
    forged.push(("link.11990100004213675N2000101999999", "1"));
    let (status, _, refused) = app.post_form("/hotline/new", &operator, &forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused.contains("11990100004213675N2000101999999"),
        "{refused}"
    );
    let (_, list) = app.get("dispatcher", "/api/v1/hotline/tickets").await;
    assert_eq!(numbers(&list).len(), 1, "{list}");
    Ok(())
}

#[tokio::test]
async fn the_ticket_page_offers_the_co_handler_its_opinion_form_and_the_lead_the_reply()
-> TestResult {
    let app = HotlineApp::start().await?;
    let number = app.register(complaint("湖滨路夜市占道经营")).await;
    app.ok(
        "dispatcher",
        &number,
        json!({ "action": "dispatch", "co_handlers": ["city-market"] }),
    )
    .await;
    let path = format!("/hotline/tickets/{number}");
    let co_handler = app.page_session("handler2").await;
    let (status, page) = app.page(&path, &co_handler).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"id="act-assist""#), "{page}");
    assert!(!page.contains(r#"id="act-reply""#), "{page}");
    let lead = app.page_session("handler").await;
    let (_, page) = app.page(&path, &lead).await;
    assert!(page.contains(r#"id="act-reply""#), "{page}");
    assert!(!page.contains(r#"id="act-assist""#), "{page}");

    // The co-handler's form posts its opinion.
    let (_, page) = app.page(&path, &co_handler).await;
    let csrf = hidden_field(&page, "csrf");
    let version = app.ticket(&number).await["version"].to_string();
    let (status, location, _) = app
        .post_form(
            &format!("{path}/act"),
            &co_handler,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("action", "assist"),
                ("text", "已核查摊贩证照"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{path}?notice=done"));
    assert_eq!(
        event_kinds(&app.ticket(&number).await),
        ["registered", "dispatch", "assist"]
    );
    Ok(())
}
