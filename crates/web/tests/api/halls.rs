//! Service halls (SPEC C4) through the real router: kiosk tickets, windows calling the queue by
//! skill and priority, the display board, appointments with capacity, and the real trips of a
//! case accepted at a window. The clock is fixed on Monday 2026-03-02 09:00 in Shanghai.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tongban_domain::clock::FixedClock;
use tongban_store::testing::{TestStore, test_time};
use tongban_web::App;

use super::support::TestResult;

/// 居民身份证申领 (city-police).
const ID_CARD: &str = "11990100004213712W2000109000000";
/// 王芳 (`citizen2`).
const WANG_FANG: &str = "990102199006200045";

struct Hall {
    base: String,
    client: reqwest::Client,
    clock: Arc<FixedClock>,
    server: JoinHandle<()>,
    _store: TestStore,
}

impl Drop for Hall {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Hall {
    async fn start() -> Result<Hall, Box<dyn std::error::Error>> {
        let store = TestStore::with_demo().await?;
        tongban_web::auth::create_demo_accounts(&store.store, test_time()).await?;
        let clock = Arc::new(FixedClock::at(test_time()));
        let app = App::new(store.store.clone(), clock.clone()).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let service = app
            .router()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, service).await {
                eprintln!("the test server stopped: {error}");
            }
        });
        Ok(Hall {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            clock,
            server,
            _store: store,
        })
    }

    async fn token(&self, account: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "account": account, "password": "tongban-demo" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign in as {account}: {body}");
        body["token"].as_str().unwrap_or_default().to_owned()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
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
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Expects `status`; returns the body.
    async fn expect(
        &self,
        status: u16,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let (actual, reply) = self.call(method.clone(), path, token, body).await;
        assert_eq!(actual.as_u16(), status, "{method} {path}: {reply}");
        reply
    }

    async fn take(&self, skill: &str, class: &str, applicant: Option<&str>) -> Value {
        let mut body = json!({ "hall": "city-centre", "skill": skill, "class": class });
        if let Some(applicant) = applicant {
            body["applicant"] = json!(applicant);
        }
        self.clock.advance_seconds(60);
        self.expect(201, Method::POST, "/api/v1/tickets", None, Some(body))
            .await
    }

    async fn call_next(&self, token: &str, window: &str) -> Value {
        self.clock.advance_seconds(60);
        self.expect(
            200,
            Method::POST,
            &format!("/api/v1/windows/{window}/call-next"),
            Some(token),
            None,
        )
        .await
    }

    async fn ticket_action(
        &self,
        token: &str,
        window: &str,
        ticket: &Value,
        action: Value,
    ) -> Value {
        self.clock.advance_seconds(60);
        let id = ticket["id"].as_str().unwrap_or_default();
        self.expect(
            200,
            Method::POST,
            &format!("/api/v1/windows/{window}/tickets/{id}/actions"),
            Some(token),
            Some(action),
        )
        .await
    }
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_window_calls_the_green_channel_first_and_the_board_shows_the_call() -> TestResult {
    let hall = Hall::start().await?;
    let clerk = hall.token("clerk").await;
    let walk_in = hall.take("personal", "normal", None).await;
    assert_eq!(walk_in["number"], "A001");
    assert_eq!(walk_in["ahead"], 0);
    let police = hall.take("police", "normal", None).await;
    assert_eq!(police["number"], "A002");
    let elderly = hall.take("personal", "green_channel", None).await;
    assert_eq!(elderly["number"], "G001");
    assert_eq!(
        elderly["ahead"], 0,
        "the green channel goes before the walk-in"
    );

    let window = hall.call_next(&clerk, "city-centre-a01").await;
    assert_eq!(window["current"]["number"], "G001");
    let board = hall
        .expect(
            200,
            Method::GET,
            "/api/v1/halls/city-centre/board",
            None,
            None,
        )
        .await;
    assert_eq!(board["called"][0]["number"], "G001");
    assert_eq!(board["called"][0]["window_number"], "A01");
    assert_eq!(board["waiting"], 2);

    // A window serving a ticket cannot call another.
    let (status, body) = hall
        .call(
            Method::POST,
            "/api/v1/windows/city-centre-a01/call-next",
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "illegal_transition");

    let current = window["current"].clone();
    let recalled = hall
        .ticket_action(
            &clerk,
            "city-centre-a01",
            &current,
            json!({ "action": "recall" }),
        )
        .await;
    assert_eq!(recalled["current"]["recalls"], 1);
    let finished = hall
        .ticket_action(
            &clerk,
            "city-centre-a01",
            &current,
            json!({ "action": "finish" }),
        )
        .await;
    assert!(finished["current"].is_null());
    let done = hall
        .expect(
            200,
            Method::GET,
            &format!(
                "/api/v1/tickets/{}",
                current["id"].as_str().unwrap_or_default()
            ),
            None,
            None,
        )
        .await;
    assert_eq!(done["status"], "done");
    assert_eq!(
        done["waiting_minutes"], 1.0,
        "taken at 09:03, first called at 09:04"
    );
    assert_eq!(done["service_minutes"], 2.0);

    // A01 serves personal and enterprise matters: the walk-in next, never the police ticket.
    let window = hall.call_next(&clerk, "city-centre-a01").await;
    assert_eq!(window["current"]["number"], "A001");
    let current = window["current"].clone();
    hall.ticket_action(
        &clerk,
        "city-centre-a01",
        &current,
        json!({ "action": "skip" }),
    )
    .await;
    let window = hall.call_next(&clerk, "city-centre-a01").await;
    assert!(
        window["current"].is_null(),
        "only the police ticket is left"
    );
    let window = hall.call_next(&clerk, "city-centre-c01").await;
    assert_eq!(window["current"]["number"], "A002");
    Ok(())
}

#[tokio::test]
async fn a_transferred_ticket_goes_to_the_window_named_before_anyone_else() -> TestResult {
    let hall = Hall::start().await?;
    let clerk = hall.token("clerk").await;
    let first = hall.take("personal", "normal", None).await;
    hall.take("police", "green_channel", None).await;
    let window = hall.call_next(&clerk, "city-centre-a01").await;
    assert_eq!(window["current"]["id"], first["id"]);
    let after = hall
        .ticket_action(
            &clerk,
            "city-centre-a01",
            &first,
            json!({ "action": "transfer", "skill": "police", "window": "city-centre-c01" }),
        )
        .await;
    assert!(after["current"].is_null());
    let c01 = hall.call_next(&clerk, "city-centre-c01").await;
    assert_eq!(
        c01["current"]["id"], first["id"],
        "before the green channel: it was sent here"
    );
    // Staff of another hall may not work this window.
    let other = hall.token("clerk2").await;
    let (status, body) = hall
        .call(
            Method::POST,
            "/api/v1/windows/city-centre-a02/call-next",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    Ok(())
}

#[tokio::test]
async fn bad_ticket_requests_are_refused_with_their_codes_and_change_nothing() -> TestResult {
    let hall = Hall::start().await?;
    for (body, status, code) in [
        (
            json!({ "hall": "nowhere", "skill": "personal" }),
            404,
            "hall_not_found",
        ),
        (
            json!({ "hall": "city-centre", "skill": "cooking" }),
            400,
            "invalid_hall_request",
        ),
        (
            json!({ "hall": "city-centre", "skill": "personal", "class": "vip" }),
            400,
            "invalid_hall_request",
        ),
        (
            json!({ "hall": "city-centre", "skill": "personal", "class": "agent" }),
            403,
            "forbidden",
        ),
        (
            json!({ "hall": "city-centre", "skill": "personal", "applicant": "12345" }),
            400,
            "invalid_hall_request",
        ),
    ] {
        let reply = hall
            .expect(
                status,
                Method::POST,
                "/api/v1/tickets",
                None,
                Some(body.clone()),
            )
            .await;
        assert_eq!(error_code(&reply), code, "{body}");
    }
    let board = hall
        .expect(
            200,
            Method::GET,
            "/api/v1/halls/city-centre/board",
            None,
            None,
        )
        .await;
    assert_eq!(board["waiting"], 0);
    let citizen = hall.token("citizen").await;
    let reply = hall
        .expect(
            403,
            Method::POST,
            "/api/v1/windows/city-centre-a01/call-next",
            Some(&citizen),
            None,
        )
        .await;
    assert_eq!(error_code(&reply), "forbidden");
    let reply = hall
        .expect(
            404,
            Method::GET,
            "/api/v1/windows/nowhere-a01",
            Some(&citizen),
            None,
        )
        .await;
    assert_eq!(error_code(&reply), "window_not_found");
    Ok(())
}

#[tokio::test]
async fn a_case_accepted_at_the_window_for_the_ticket_applicant_counts_one_trip_and_a_later_visit_another()
-> TestResult {
    let hall = Hall::start().await?;
    let clerk = hall.token("clerk").await;
    let ticket = hall.take("police", "normal", Some(WANG_FANG)).await;
    assert_eq!(
        ticket["applicant"], "990**************5",
        "masked in public views"
    );
    let window = hall.call_next(&clerk, "city-centre-c01").await;
    assert_eq!(
        window["current"]["applicant"], WANG_FANG,
        "the clerk sees who it is"
    );
    let application = json!({
        "item": ID_CARD,
        "channel": "window",
        "applicant": { "kind": "person", "name": "王芳", "identifier": WANG_FANG },
        "answers": {
            "id_card_case": "expiry",
            "applicant_age": "adult",
            "temporary_card": "no",
            "fee_exemption": "no"
        },
        "form": {
            "applicant_name": "王芳",
            "applicant_id_number": WANG_FANG,
            "applicant_sex": "女",
            "applicant_ethnicity": "汉族",
            "applicant_birth_date": "1990-06-20",
            "household_address": "东湖区湖滨街道湖心社区湖心路1号3单元502",
            "applicant_phone": "13900000002",
            "delivery_method": "窗口领取"
        },
        "materials": [ { "code": "original_id_card", "provided_as": "paper" } ],
        "delivery": { "method": "collect", "hall": "city-centre" }
    });
    hall.clock.advance_seconds(60);
    let (status, case) = hall
        .call(
            Method::POST,
            "/api/v1/applications",
            Some(&clerk),
            Some(application),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(
        case["trips"], 1,
        "the visit of the ticket is this case's trip"
    );
    let id = case["id"].as_str().unwrap_or_default().to_owned();
    let accepted = hall
        .expect(
            200,
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(&clerk),
            Some(json!({ "action": "accept", "version": case["version"] })),
        )
        .await;
    assert_eq!(
        accepted["trips"], 1,
        "accepting in the same visit is not another trip"
    );
    // The next day the applicant comes back (a ticket with her ID number: another visit, which
    // counts for her open cases). The approver's action answers with both trips, though this
    // server kept the case from before the visit.
    hall.clock.advance_seconds(24 * 3600);
    hall.take("police", "normal", Some(WANG_FANG)).await;
    let approver = hall.token("approver").await;
    let approved = hall
        .expect(
            200,
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(&approver),
            Some(json!({ "action": "approve", "version": accepted["version"] })),
        )
        .await;
    assert_eq!(
        approved["trips"], 2,
        "the second visit is the case's second trip"
    );
    let trips = hall
        .expect(
            200,
            Method::GET,
            &format!("/api/v1/items/{ID_CARD}/trips"),
            None,
            None,
        )
        .await;
    assert_eq!(trips["promised"].as_u64(), Some(1));
    assert_eq!(trips["distribution"], json!([[2, 1]]));
    assert_eq!(trips["kept_share"], 0.0);
    Ok(())
}

#[tokio::test]
async fn a_saturday_morning_slot_is_booked_kept_over_capacity_and_moved() -> TestResult {
    let hall = Hall::start().await?;
    let citizen = hall.token("citizen").await;
    let citizen2 = hall.token("citizen2").await;
    let clerk = hall.token("clerk").await;
    let saturday = hall
        .expect(
            200,
            Method::GET,
            "/api/v1/halls/city-centre/slots?skill=personal&day=2026-03-07",
            None,
            None,
        )
        .await;
    let slots = saturday["slots"].as_array().cloned().unwrap_or_default();
    assert_eq!(slots.len(), 6, "周六上午预约延时服务: 09:00–12:00");
    assert!(slots.iter().all(|s| s["extended"] == true));
    let sunday = hall
        .expect(
            200,
            Method::GET,
            "/api/v1/halls/city-centre/slots?skill=personal&day=2026-03-08",
            None,
            None,
        )
        .await;
    assert_eq!(sunday["slots"], json!([]));

    let booking = json!({ "hall": "city-centre", "skill": "personal", "day": "2026-03-07", "starts": "09:00" });
    let mine = hall
        .expect(
            201,
            Method::POST,
            "/api/v1/appointments",
            Some(&citizen),
            Some(booking.clone()),
        )
        .await;
    assert_eq!(mine["status"], "booked");
    assert_eq!(mine["extended"], true);
    // The hall lowers the slot to no places: the booking stays, nobody else gets in.
    let after = hall
        .expect(
            200,
            Method::PUT,
            "/api/v1/halls/city-centre/capacity",
            Some(&clerk),
            Some(json!({ "skill": "personal", "day": "2026-03-07", "starts": "09:00", "capacity": 0 })),
        )
        .await;
    assert_eq!(after["slots"][0]["orphaned"], 1);
    let refused = hall
        .expect(
            409,
            Method::POST,
            "/api/v1/appointments",
            Some(&citizen2),
            Some(booking),
        )
        .await;
    assert_eq!(error_code(&refused), "slot_full");
    let listed = hall
        .expect(
            200,
            Method::GET,
            "/api/v1/appointments?hall=city-centre&day=2026-03-07",
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "kept visible: {listed}"
    );

    let id = mine["id"].as_str().unwrap_or_default().to_owned();
    let moved = hall
        .expect(
            200,
            Method::POST,
            &format!("/api/v1/appointments/{id}/actions"),
            Some(&citizen),
            Some(json!({ "action": "reschedule", "day": "2026-03-02", "starts": "10:00" })),
        )
        .await;
    assert_eq!(
        (moved["day"].clone(), moved["starts"].clone()),
        (json!("2026-03-02"), json!("10:00"))
    );
    // A citizen cannot record a no-show; another citizen does not even see the appointment.
    let reply = hall
        .expect(
            403,
            Method::POST,
            &format!("/api/v1/appointments/{id}/actions"),
            Some(&citizen),
            Some(json!({ "action": "no_show" })),
        )
        .await;
    assert_eq!(error_code(&reply), "forbidden");
    let reply = hall
        .expect(
            404,
            Method::POST,
            &format!("/api/v1/appointments/{id}/actions"),
            Some(&citizen2),
            Some(json!({ "action": "cancel" })),
        )
        .await;
    assert_eq!(error_code(&reply), "appointment_not_found");

    // Check-in opens half an hour before the slot (10:00): refused at 09:00, fine at 09:40.
    let reply = hall
        .expect(
            409,
            Method::POST,
            &format!("/api/v1/appointments/{id}/check-in"),
            None,
            None,
        )
        .await;
    assert_eq!(error_code(&reply), "out_of_time");
    hall.clock.advance_seconds(40 * 60);
    let ticket = hall
        .expect(
            201,
            Method::POST,
            &format!("/api/v1/appointments/{id}/check-in"),
            None,
            None,
        )
        .await;
    assert_eq!(ticket["number"], "Y001");
    assert_eq!(ticket["class"], "appointment");
    let mine = hall
        .expect(
            200,
            Method::GET,
            "/api/v1/appointments",
            Some(&citizen),
            None,
        )
        .await;
    assert_eq!(mine[0]["status"], "checked_in");
    let reply = hall
        .expect(
            409,
            Method::POST,
            &format!("/api/v1/appointments/{id}/actions"),
            Some(&citizen),
            Some(json!({ "action": "cancel" })),
        )
        .await;
    assert_eq!(error_code(&reply), "illegal_transition");
    Ok(())
}

#[tokio::test]
async fn the_board_streams_server_sent_events() -> TestResult {
    let hall = Hall::start().await?;
    hall.take("personal", "normal", None).await;
    let mut response = hall
        .client
        .get(format!(
            "{}/api/v1/halls/city-centre/board/events",
            hall.base
        ))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), response.chunk())
        .await??
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.contains("event: board"), "{text}");
    assert!(text.contains("\"waiting\":1"), "{text}");
    Ok(())
}
