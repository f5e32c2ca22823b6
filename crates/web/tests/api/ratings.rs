//! Ratings (好差评, SPEC C6) beyond the basic case loop of `feedback.rs`: a "one thing" bundle
//! application rated by its applicant through the API and the page, with its lead department
//! rectifying; one rating per visit at a window (一次一评) with the refusals and their stable
//! codes; and the appeal (申诉) and review (复核) of a rectification task, with the figures they
//! leave (a voided task counts as settled in 差评整改率, docs/kpis.md). Runs on SQLite, or on
//! PostgreSQL when `TONGBAN_TEST_PG_URL` is set.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tongban_domain::cases::{
    Applicant, ApplicantKind, Case, CaseEvent, CaseState, Channel, Decision, Delivery, EventKind,
};
use tongban_domain::keys::AccountName;
use tongban_store::model::CaseWrite;
use tongban_store::testing::{demo_data, test_time};

use crate::bundle_applications::{
    Json, application_of, bundle_case_of, complete_plan, drive_to_delivery,
};
use crate::cases::TestApp;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 居民身份证申领 (city-police).
const ID_CARD: &str = "11990100004213712W2000109000000";
/// 出生医学证明首次签发, the first member of the newborn bundle (city-health).
const BIRTH_CERTIFICATE: &str = "11990100004213675N2000101000000";
/// 张伟, the `citizen` account.
const ZHANG_WEI: &str = "990102198803150031";

// ---------------------------------------------------------------------------------------------
// Helpers

/// Stores a case of 张伟 for the ID card, decided on Thu 2026-03-05 (accepted Mon 2026-03-02),
/// and returns its number.
async fn decided_case(app: &TestApp) -> String {
    let item = demo_data()
        .catalog
        .items
        .into_iter()
        .find(|i| i.implementation_code.as_str() == ID_CARD)
        .unwrap_or_else(|| panic!("the demo has the ID card item"));
    let workflow = demo_data()
        .catalog
        .workflows
        .into_iter()
        .find(|w| w.key.as_str() == "standard")
        .unwrap_or_else(|| panic!("the demo has the standard workflow"));
    let account = |name: &str| {
        AccountName::parse(name).unwrap_or_else(|error| panic!("account {name}: {error}"))
    };
    let decided_at = test_time() + jiff::SignedDuration::from_hours(72);
    let case = Case {
        parent: None,
        shipments: Vec::new(),
        id: uuid::Uuid::now_v7(),
        number: String::new(),
        version: 1,
        item_code: item.implementation_code.clone(),
        item_version: 1,
        item_name: item.name.clone(),
        case_type: item.case_type,
        department: item.department.clone(),
        co_departments: Vec::new(),
        applicant: Applicant {
            kind: ApplicantKind::Person,
            name: "张伟".into(),
            identifier: ZHANG_WEI.into(),
            account: Some(account("citizen")),
        },
        channel: Channel::Web,
        hall: None,
        state: CaseState::Decided { granted: true },
        workflow,
        answers: BTreeMap::new(),
        form: BTreeMap::new(),
        materials: Vec::new(),
        delivery: Delivery::Post {
            recipient: "张伟".into(),
            phone: "13800000000".into(),
            address: "示范市".into(),
            postage: Default::default(),
        },
        statutory_limit: item.statutory_limit,
        promised_limit: item.promised_limit,
        submitted_at: test_time(),
        accepted_on: Some(jiff::civil::date(2026, 3, 2)),
        statutory_due: None,
        promised_due: Some(jiff::civil::date(2026, 3, 23)),
        suspensions: Vec::new(),
        suspended_since: None,
        extension_days: 0,
        countersign: BTreeMap::new(),
        correction: Vec::new(),
        resume_step: None,
        decision: Some(Decision {
            granted: true,
            opinion: "准予".into(),
            by: account("approver"),
            at: decided_at,
        }),
        licence: None,
        closed_at: None,
    };
    let events = vec![
        CaseEvent {
            at: test_time(),
            actor: account("citizen"),
            actor_name: "张伟".into(),
            department: None,
            on_behalf: None,
            kind: EventKind::Submitted {
                channel: Channel::Web,
            },
        },
        CaseEvent {
            at: decided_at,
            actor: account("approver"),
            actor_name: "李娜".into(),
            department: None,
            on_behalf: None,
            kind: EventKind::Decided {
                granted: true,
                opinion: "准予".into(),
            },
        },
    ];
    app.store()
        .cases
        .create_case(CaseWrite {
            case: Some(case),
            events,
            ..CaseWrite::default()
        })
        .await
        .unwrap_or_else(|error| panic!("store a decided case: {error}"))
        .number
}

/// Applies for a bundle as the citizen with these answers (the rest answered with the first
/// option); returns the submitted parent.
async fn apply_for_bundle(app: &TestApp, bundle: &str, answers: &[(&str, &str)]) -> Value {
    let preset: BTreeMap<String, String> = answers
        .iter()
        .map(|(q, o)| ((*q).to_owned(), (*o).to_owned()))
        .collect();
    let (plan, answers) = complete_plan(app, "citizen", bundle, preset).await;
    let application = application_of(app, "citizen", bundle, &plan, &answers, ZHANG_WEI).await;
    app.clock.advance_seconds(60);
    app.post("citizen", "/api/v1/bundle-applications", application)
        .await
        .expect(201, &format!("apply for {bundle}"))
}

/// 身后一件事 with only its two parallel members (遗体火化 at city-funeral, 户口注销 at
/// city-police), both driven to delivery: the parent completes. Its lead department, city-civil,
/// handles none of the members.
async fn completed_after_death(app: &TestApp) -> Value {
    let submitted = apply_for_bundle(
        app,
        "after-death",
        &[
            ("pension_insured", "no"),
            ("housing_fund", "no"),
            ("ss_card", "no"),
        ],
    )
    .await;
    assert_eq!(submitted["children"].a().len(), 2, "{submitted}");
    submitted
}

async fn finish_children(app: &TestApp, parent: &Value) -> Value {
    for child in parent["children"].a() {
        let done = drive_to_delivery(app, child["case_id"].s()).await;
        assert_eq!(done["state"]["code"], "delivered");
    }
    let finished = bundle_case_of(app, "citizen", parent["id"].s()).await;
    assert_eq!(finished["state"]["code"], "completed", "{finished}");
    finished
}

/// The newborn bundle with its birth certificate refused: every other member needs it and is
/// cancelled, so the parent is closed (finished, some members not granted).
async fn closed_newborn(app: &TestApp) -> Value {
    let submitted = apply_for_bundle(app, "newborn", &[]).await;
    let certificate = submitted["children"]
        .a()
        .iter()
        .find(|c| c["item_code"] == BIRTH_CERTIFICATE)
        .cloned()
        .unwrap_or_else(|| panic!("the newborn bundle has the birth certificate: {submitted}"));
    let case = app.case("admin", certificate["case_id"].s()).await;
    app.act(
        "clerk",
        &case,
        json!({ "action": "reject", "reason": "出生医学信息不符" }),
    )
    .await;
    let closed = bundle_case_of(app, "citizen", submitted["id"].s()).await;
    assert_eq!(closed["state"]["code"], "closed", "{closed}");
    closed
}

/// The row of `key` in a figures answer.
fn row<'a>(figures: &'a Value, key: &str) -> &'a Value {
    figures["rows"]
        .a()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key}: {figures}"))
}

fn kpi(row: &Value, code: &str) -> Value {
    row["kpis"]
        .a()
        .iter()
        .find(|k| k["code"] == code)
        .map(|k| k["value"].clone())
        .unwrap_or_else(|| panic!("no kpi {code}: {row}"))
}

/// The task with `id` in a list of tasks.
fn task_in<'a>(tasks: &'a Value, id: &str) -> Option<&'a Value> {
    tasks.a().iter().find(|t| t["id"] == id)
}

async fn act_on_task(app: &TestApp, account: &str, id: &str, body: Value) -> crate::cases::Reply {
    app.post(
        account,
        &format!("/api/v1/rectifications/{id}/actions"),
        body,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Bundle applications (一件事)

#[tokio::test]
async fn a_finished_bundle_application_is_rated_once_per_round_and_its_lead_department_rectifies()
-> TestResult {
    let app = TestApp::start().await?;
    let submitted = completed_after_death(&app).await;
    let id = submitted["id"].s().to_owned();
    let number = submitted["number"].s().to_owned();
    let by_number = format!("/api/v1/bundle-applications/{number}/rating");
    let by_id = format!("/api/v1/bundle-applications/{id}/rating");
    let bad =
        json!({ "level": "dissatisfied", "channel": "mobile", "text": "两个部门的进度看不到" });

    // In progress: not yet.
    app.post("citizen", &by_number, bad.clone())
        .await
        .expect_error(409, "not_rateable", "a bundle still in progress");
    let parent = finish_children(&app, &submitted).await;

    // Others may not rate it, and learn nothing; an agent never rates for the applicant.
    app.post("citizen2", &by_number, bad.clone())
        .await
        .expect_error(404, "bundle_application_not_found", "another citizen");
    app.post("clerk", &by_number, bad.clone())
        .await
        .expect_error(404, "bundle_application_not_found", "staff who may see it");
    app.post("agent", &by_number, bad.clone())
        .await
        .expect_error(403, "forbidden", "an agent");
    app.post(
        "citizen",
        "/api/v1/bundle-applications/YJS209901010001/rating",
        bad.clone(),
    )
    .await
    .expect_error(404, "bundle_application_not_found", "an unknown number");
    app.post(
        "citizen",
        &by_number,
        json!({ "level": "awful", "channel": "pc" }),
    )
    .await
    .expect_error(400, "invalid_rating", "an unknown level");
    let none = app
        .get("citizen", &by_id)
        .await
        .expect(200, "no rating yet");
    assert_eq!(none, json!([]), "refused ratings are not stored");

    let rating = app
        .post("citizen", &by_number, bad.clone())
        .await
        .expect(201, "the applicant rates");
    assert_eq!(rating["kind"], "bundle");
    assert_eq!(rating["subject"], number.as_str());
    assert_eq!(rating["round"], 1);
    assert_eq!(rating["channel_code"], 2);
    // The lead department answers for the bundle, although neither member ran there.
    assert_eq!(rating["department"], "city-civil");
    let members: Vec<&str> = parent["children"]
        .a()
        .iter()
        .map(|c| c["department"].s())
        .collect();
    assert!(!members.contains(&"city-civil"), "{members:?}");
    let task_id = rating["rectification"]
        .as_str()
        .unwrap_or_else(|| panic!("a bad rating opens a task: {rating}"))
        .to_owned();
    app.post(
        "citizen",
        &by_id,
        json!({ "level": "satisfied", "channel": "pc" }),
    )
    .await
    .expect_error(409, "rectification_pending", "a second rating too early");

    // The lead department's office sees and rectifies it; a member's department does not.
    let tasks = app
        .get("chief-civil", "/api/v1/rectifications")
        .await
        .expect(200, "city-civil tasks");
    let task = task_in(&tasks, &task_id).unwrap_or_else(|| panic!("city-civil sees it: {tasks}"));
    assert_eq!(task["subject"], number.as_str());
    assert_eq!(task["department"], "city-civil");
    assert_eq!(task["state"], "open");
    // Opened Mon 2026-03-02 (the members ran within the day): 15 working days → Mon Mar 23.
    assert_eq!(task["due_on"], "2026-03-23");
    let police = app
        .get("chief-police", "/api/v1/rectifications")
        .await
        .expect(200, "city-police tasks");
    assert!(task_in(&police, &task_id).is_none(), "{police}");
    app.get("chief-police", &format!("/api/v1/rectifications/{task_id}"))
        .await
        .expect_error(404, "rectification_not_found", "a member's department");
    act_on_task(
        &app,
        "chief-police",
        &task_id,
        json!({ "action": "rectify", "version": 1, "measures": "x" }),
    )
    .await
    .expect_error(404, "rectification_not_found", "a member's department acts");
    let rectified = act_on_task(
        &app,
        "chief-civil",
        &task_id,
        json!({ "action": "rectify", "version": 1, "measures": "一件事进度页显示各部门办理环节" }),
    )
    .await
    .expect(200, "the lead department rectifies");
    assert_eq!(rectified["state"], "rectified");
    let closed = act_on_task(
        &app,
        "supervisor",
        &task_id,
        json!({ "action": "call_back", "version": 2, "reached": true, "satisfied": true, "note": "认可" }),
    )
    .await
    .expect(200, "callback");
    assert_eq!(closed["state"], "closed");

    // Settled: one second rating, by id or number alike, and no third.
    let second = app
        .post(
            "citizen",
            &by_id,
            json!({ "level": "satisfied", "channel": "pc" }),
        )
        .await
        .expect(201, "second rating");
    assert_eq!(second["round"], 2);
    assert!(second["rectification"].is_null(), "{second}");
    app.post(
        "citizen",
        &by_number,
        json!({ "level": "very_satisfied", "channel": "pc" }),
    )
    .await
    .expect_error(409, "already_rated", "a third rating");

    let ratings = app.get("citizen", &by_number).await.expect(200, "ratings");
    let rounds: Vec<u64> = ratings.a().iter().map(|r| r["round"].u()).collect();
    assert_eq!(rounds, [1, 2]);
    assert_eq!(ratings[0]["level"], "dissatisfied");
    app.get("citizen2", &by_number).await.expect_error(
        404,
        "bundle_application_not_found",
        "another citizen reads",
    );

    // Figures of city-civil, by hand: 2 ratings (不满意, 满意) → 好评率 50%; its one task closed
    // → 差评整改率 100%; named and reached → 回访率 100%. Distribution: very satisfied,
    // satisfied, basic, dissatisfied, very dissatisfied.
    let figures = app
        .get(
            "supervisor",
            "/api/v1/stats/kpis?from=2026-03&to=2026-03&dimension=department",
        )
        .await
        .expect(200, "kpis");
    let civil = row(&figures, "city-civil");
    assert_eq!(kpi(civil, "good_rate"), json!(50.0));
    assert_eq!(kpi(civil, "rectification_rate"), json!(100.0));
    assert_eq!(kpi(civil, "callback_rate"), json!(100.0));
    assert_eq!(civil["rating_distribution"], json!([0, 1, 0, 1, 0]));
    Ok(())
}

#[tokio::test]
async fn a_closed_bundle_application_is_rateable_and_a_fair_rating_opens_no_task() -> TestResult {
    let app = TestApp::start().await?;
    let closed = closed_newborn(&app).await;
    let number = closed["number"].s();
    let rating = app
        .post(
            "citizen",
            &format!("/api/v1/bundle-applications/{number}/rating"),
            json!({ "level": "basic", "channel": "qr_code", "anonymous": true }),
        )
        .await
        .expect(201, "rate a closed application");
    assert_eq!(rating["department"], "city-health", "the newborn lead");
    assert_eq!(rating["anonymous"], true);
    assert!(rating["rectification"].is_null(), "{rating}");
    let tasks = app
        .get("supervisor", "/api/v1/rectifications")
        .await
        .expect(200, "all tasks");
    assert_eq!(tasks, json!([]));
    app.post(
        "citizen",
        &format!("/api/v1/bundle-applications/{number}/rating"),
        json!({ "level": "satisfied", "channel": "pc" }),
    )
    .await
    .expect_error(409, "already_rated", "one rating per application");
    // Only the bundle was rated: the refused member case has no rating of its own.
    let certificate = closed["children"]
        .a()
        .iter()
        .find(|c| c["item_code"] == BIRTH_CERTIFICATE)
        .and_then(|c| c["number"].as_str())
        .unwrap_or_else(|| panic!("the certificate case: {closed}"))
        .to_owned();
    let own = app
        .get("citizen", &format!("/api/v1/cases/{certificate}/rating"))
        .await
        .expect(200, "the member's ratings");
    assert_eq!(own, json!([]));
    Ok(())
}

/// A page request with the account's session cookie (an API session serves the pages too).
struct Pages<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: String,
}

impl<'a> Pages<'a> {
    async fn of(app: &'a TestApp, account: &str) -> Pages<'a> {
        let login = app
            .post(
                account,
                "/api/v1/auth/login",
                json!({ "account": account, "password": "tongban-demo" }),
            )
            .await
            .expect(200, "sign in");
        Pages {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_else(|error| panic!("client: {error}")),
            cookie: format!("tb_session={}", login["token"].s()),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(self.app.url(path))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts a form; returns the status and the redirect target.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let response = self
            .client
            .post(self.app.url(path))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_body(fields))
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"));
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location, response.text().await.unwrap_or_default())
    }
}

/// An `application/x-www-form-urlencoded` body.
fn form_body(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        if !body.is_empty() {
            body.push('&');
        }
        body.push_str(name);
        body.push('=');
        for byte in value.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                body.push(char::from(byte));
            } else {
                body.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    body
}

/// The value of the first hidden input `name` of a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in the page"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_applicant_rates_a_finished_bundle_application_on_its_page() -> TestResult {
    let app = TestApp::start().await?;
    let submitted = apply_for_bundle(&app, "newborn", &[]).await;
    let id = submitted["id"].s().to_owned();
    let number = submitted["number"].s().to_owned();
    let citizen = Pages::of(&app, "citizen").await;

    // In progress: no link on the application's page, and the rating page says why.
    let (status, page) = citizen.get(&format!("/bundle-cases/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("id=\"rate-link\""), "no link yet");
    let (status, page) = citizen.get(&format!("/bundle-cases/{id}/rate")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("id=\"rate-form\""), "no form yet");
    assert!(page.contains("办结后即可评价"), "the page says why");

    let certificate = submitted["children"]
        .a()
        .iter()
        .find(|c| c["item_code"] == BIRTH_CERTIFICATE)
        .cloned()
        .unwrap_or_else(|| panic!("the certificate member: {submitted}"));
    let case = app.case("admin", certificate["case_id"].s()).await;
    app.act(
        "clerk",
        &case,
        json!({ "action": "reject", "reason": "出生医学信息不符" }),
    )
    .await;

    let (_, page) = citizen.get(&format!("/bundle-cases/{id}")).await;
    assert!(
        page.contains(&format!("href=\"/bundle-cases/{id}/rate\"")),
        "the closed application links to its rating page"
    );
    let (_, page) = citizen.get(&format!("/bundle-cases/{id}/rate")).await;
    assert!(page.contains("id=\"rate-form\""), "the form is shown");
    assert!(page.contains(&number), "the page names the application");
    assert!(page.contains("新生儿出生一件事"), "and the bundle");
    let csrf = hidden(&page, "csrf");

    let (status, _, _) = citizen
        .post(
            &format!("/bundle-cases/{id}/rate"),
            &[("csrf", "forged"), ("level", "very_dissatisfied")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a forged CSRF value");
    let (status, location, _) = citizen
        .post(
            &format!("/bundle-cases/{id}/rate"),
            &[
                ("csrf", csrf.as_str()),
                ("level", "very_dissatisfied"),
                ("text", "出生医学证明被驳回,没有说明怎么补办"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location,
        format!("/bundle-cases/{number}/rate?notice=rated")
    );
    let (_, page) = citizen.get(&location).await;
    assert!(page.contains("感谢您的评价"), "the notice");
    assert!(
        page.contains("data-level=\"very_dissatisfied\""),
        "the rating"
    );
    assert!(page.contains("没有说明怎么补办"), "its text");
    assert!(
        page.contains("已转交责任单位整改"),
        "the rectification note"
    );
    assert!(!page.contains("id=\"rate-form\""), "no second form yet");

    // The lead department's office (city-health) finds the task on its page; another
    // citizen finds nothing.
    let office = Pages::of(&app, "chief-health").await;
    let (_, tasks) = office.get("/rectifications").await;
    assert!(tasks.contains(&number), "the office sees the task");
    assert!(tasks.contains("data-state=\"open\""));
    let stranger = Pages::of(&app, "citizen2").await;
    let (status, _) = stranger.get(&format!("/bundle-cases/{id}/rate")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stored = app
        .get(
            "citizen",
            &format!("/api/v1/bundle-applications/{id}/rating"),
        )
        .await
        .expect(200, "ratings");
    assert_eq!(stored.a().len(), 1);
    assert_eq!(stored[0]["channel"], "pc");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Visits (一次一评)

fn visit(visit: &str, hall: &str, window: &str, department: &str, level: &str) -> Value {
    json!({
        "visit": visit, "hall": hall, "window": window, "department": department,
        "level": level, "channel": "hall_tablet",
    })
}

#[tokio::test]
async fn a_visit_is_rated_once_at_a_window_of_its_hall() -> TestResult {
    let app = TestApp::start().await?;
    let path = "/api/v1/ratings/visits";
    let rating = app
        .post(
            "citizen",
            path,
            visit(
                "A012",
                "city-centre",
                "city-centre-a01",
                "city-police",
                "very_satisfied",
            ),
        )
        .await
        .expect(201, "rate a visit");
    assert_eq!(rating["kind"], "visit");
    assert_eq!(rating["subject"], "city-centre/2026-03-02/A012");
    assert_eq!(rating["round"], 1);
    assert_eq!(rating["channel"], "hall_tablet");
    assert_eq!(rating["channel_code"], 4);
    assert_eq!(rating["department"], "city-police");
    assert!(rating["rectification"].is_null(), "{rating}");

    // One rating per event, whoever tries again; the same ticket number in another hall is
    // another event.
    for account in ["citizen", "citizen2"] {
        app.post(
            account,
            path,
            visit(
                "A012",
                "city-centre",
                "city-centre-a02",
                "city-police",
                "satisfied",
            ),
        )
        .await
        .expect_error(409, "already_rated", "the same visit again");
    }
    app.post(
        "citizen2",
        path,
        visit(
            "A012",
            "east-centre",
            "east-centre-a01",
            "city-police",
            "satisfied",
        ),
    )
    .await
    .expect(201, "the same number in another hall");

    // A bad visit rating opens a task for the department that served at the window.
    let bad = app
        .post(
            "citizen",
            path,
            json!({
                "visit": "B003", "hall": "city-centre", "window": "city-centre-b01",
                "department": "city-police", "level": "very_dissatisfied", "channel": "4",
                "text": "窗口人员态度生硬",
            }),
        )
        .await
        .expect(201, "a bad visit rating");
    let task_id = bad["rectification"]
        .as_str()
        .unwrap_or_else(|| panic!("a bad rating opens a task: {bad}"))
        .to_owned();
    let task = app
        .get("approver", &format!("/api/v1/rectifications/{task_id}"))
        .await
        .expect(200, "the city-police office sees it");
    assert_eq!(task["subject"], "city-centre/2026-03-02/B003");
    assert_eq!(task["department"], "city-police");

    // Public figures per window, by hand: a01 1 rating (非常满意) → 100%; b01 1 bad rating;
    // east-centre-a01 1 (满意). Nothing else was stored.
    let figures = app
        .get(
            "citizen",
            "/api/v1/ratings/figures?from=2026-03&to=2026-03&dimension=window",
        )
        .await
        .expect(200, "figures by window");
    let a01 = row(&figures, "city-centre-a01");
    assert_eq!(a01["counters"]["ratings"], 1);
    assert_eq!(kpi(a01, "good_rate"), json!(100.0));
    let b01 = row(&figures, "city-centre-b01");
    assert_eq!(
        (&b01["counters"]["ratings"], &b01["counters"]["ratings_bad"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(row(&figures, "east-centre-a01")["counters"]["ratings"], 1);
    assert_eq!(figures["total"]["counters"]["ratings"], 3);

    // Regression: queue numbers start again every day, so tomorrow's A012 at the same hall is
    // another visit (keyed by hall and number alone, it was refused as already rated).
    app.advance_days(1);
    let tomorrow = app
        .post(
            "citizen2",
            path,
            visit(
                "A012",
                "city-centre",
                "city-centre-a01",
                "city-police",
                "satisfied",
            ),
        )
        .await
        .expect(201, "the next day's A012");
    assert_eq!(tomorrow["subject"], "city-centre/2026-03-03/A012");
    Ok(())
}

#[tokio::test]
async fn a_visit_rating_is_refused_with_a_stable_code_and_stores_nothing() -> TestResult {
    let app = TestApp::start().await?;
    let path = "/api/v1/ratings/visits";
    let good = || {
        visit(
            "A001",
            "city-centre",
            "city-centre-a01",
            "city-police",
            "satisfied",
        )
    };
    let with = |field: &str, value: Value| {
        let mut body = good();
        body[field] = value;
        body
    };
    let refusals: Vec<(&str, Value, u16, &str)> = vec![
        (
            "unknown department",
            with("department", json!("city-nowhere")),
            400,
            "invalid_rating",
        ),
        (
            "malformed department",
            with("department", json!("City Police")),
            400,
            "invalid_rating",
        ),
        (
            "unknown hall",
            with("hall", json!("moon-centre")),
            400,
            "invalid_rating",
        ),
        // Regression: the window was only checked to start with the hall's key, so an unknown
        // window of the right prefix, or the hall itself, was accepted.
        (
            "unknown window with the hall's prefix",
            with("window", json!("city-centre-z99")),
            400,
            "invalid_rating",
        ),
        (
            "the hall as its own window",
            with("window", json!("city-centre")),
            400,
            "invalid_rating",
        ),
        (
            "a window of another hall",
            with("window", json!("east-centre-a01")),
            400,
            "invalid_rating",
        ),
        (
            "empty visit reference",
            with("visit", json!("  ")),
            400,
            "invalid_rating",
        ),
        (
            "visit reference too long",
            with("visit", json!("A".repeat(65))),
            400,
            "invalid_rating",
        ),
        (
            "unknown level",
            with("level", json!("awful")),
            400,
            "invalid_rating",
        ),
        (
            "unknown channel code",
            with("channel", json!("8")),
            400,
            "invalid_rating",
        ),
        (
            "text too long",
            with("text", json!("字".repeat(501))),
            400,
            "invalid_rating",
        ),
        (
            "no window",
            json!({ "visit": "A001", "hall": "city-centre", "department": "city-police",
                    "level": "satisfied", "channel": "pc" }),
            400,
            "invalid_body",
        ),
        (
            "an unknown field",
            with("score", json!(5)),
            400,
            "invalid_body",
        ),
        (
            "level of the wrong type",
            with("level", json!(5)),
            400,
            "invalid_body",
        ),
    ];
    for (what, body, status, code) in refusals {
        app.post("citizen", path, body)
            .await
            .expect_error(status, code, what);
    }
    // Without a session.
    let anonymous = reqwest::Client::new()
        .post(app.url(path))
        .json(&good())
        .send()
        .await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await?;
    assert_eq!(body["error"]["code"], "unauthenticated");

    // Nothing was stored: the good rating of the same visit is still the first.
    let rating = app
        .post("citizen", path, good())
        .await
        .expect(201, "the good rating");
    assert_eq!(rating["round"], 1);
    let figures = app
        .get("citizen", "/api/v1/ratings/figures?from=2026-03&to=2026-03")
        .await
        .expect(200, "figures");
    assert_eq!(figures["total"]["counters"]["ratings"], 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Appeal (申诉) and review (复核)

/// Rates a stored decided case 不满意 as the citizen; returns the task's id.
async fn bad_rating(app: &TestApp) -> (String, String) {
    let number = decided_case(app).await;
    let rating = app
        .post(
            "citizen",
            &format!("/api/v1/cases/{number}/rating"),
            json!({ "level": "dissatisfied", "channel": "pc", "text": "等了很久" }),
        )
        .await
        .expect(201, "a bad rating");
    let task = rating["rectification"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {rating}"))
        .to_owned();
    (number, task)
}

#[tokio::test]
async fn the_office_appeals_and_a_supervisor_rejects_then_upholds_the_appeal() -> TestResult {
    let app = TestApp::start().await?;
    let (number, task) = bad_rating(&app).await;
    let appeal = |version: u64| json!({ "action": "appeal", "version": version, "reason": "申请人材料不全,已一次性告知" });

    // Roles: only the responsible office appeals; only a supervisor reviews.
    act_on_task(&app, "supervisor", &task, appeal(1))
        .await
        .expect_error(403, "forbidden", "a supervisor appeals");
    act_on_task(&app, "approver2", &task, appeal(1))
        .await
        .expect_error(404, "rectification_not_found", "another office");
    act_on_task(&app, "citizen", &task, appeal(1))
        .await
        .expect_error(404, "rectification_not_found", "the rater");
    app.get("citizen", "/api/v1/rectifications")
        .await
        .expect_error(403, "forbidden", "a citizen lists tasks");
    act_on_task(
        &app,
        "supervisor",
        &task,
        json!({ "action": "review", "version": 1, "upheld": true, "note": "x" }),
    )
    .await
    .expect_error(409, "illegal_transition", "a review without an appeal");
    act_on_task(
        &app,
        "approver",
        &task,
        json!({ "action": "appeal", "version": 1, "reason": "  " }),
    )
    .await
    .expect_error(400, "invalid_rating", "an appeal without a reason");

    let appealed = act_on_task(&app, "approver", &task, appeal(1))
        .await
        .expect(200, "the office appeals");
    assert_eq!(appealed["state"], "appealed");
    assert_eq!(appealed["version"], 2);

    // While appealed: the office can neither rectify nor review; a review needs its verdict.
    act_on_task(
        &app,
        "approver",
        &task,
        json!({ "action": "rectify", "version": 2, "measures": "x" }),
    )
    .await
    .expect_error(409, "illegal_transition", "rectify while appealed");
    act_on_task(
        &app,
        "approver",
        &task,
        json!({ "action": "review", "version": 2, "upheld": true, "note": "x" }),
    )
    .await
    .expect_error(403, "forbidden", "the office reviews its own appeal");
    act_on_task(
        &app,
        "supervisor",
        &task,
        json!({ "action": "review", "version": 2, "note": "x" }),
    )
    .await
    .expect_error(400, "invalid_action", "a review without upheld");
    act_on_task(
        &app,
        "supervisor",
        &task,
        json!({ "action": "review", "version": 2, "upheld": false, "note": "" }),
    )
    .await
    .expect_error(400, "invalid_rating", "a review without a note");
    act_on_task(
        &app,
        "supervisor",
        &task,
        json!({ "action": "call_back", "version": 2, "reached": true }),
    )
    .await
    .expect_error(409, "illegal_transition", "a callback while appealed");

    // Rejected: back to open; the rater still waits for the office.
    let rejected = act_on_task(
        &app,
        "supervisor",
        &task,
        json!({ "action": "review", "version": 2, "upheld": false, "note": "告知记录不完整" }),
    )
    .await
    .expect(200, "the appeal is rejected");
    assert_eq!(rejected["state"], "open");
    app.post(
        "citizen",
        &format!("/api/v1/cases/{number}/rating"),
        json!({ "level": "satisfied", "channel": "pc" }),
    )
    .await
    .expect_error(
        409,
        "rectification_pending",
        "not settled after a rejected appeal",
    );

    // Appealed again, with more evidence, and upheld: the task is voided.
    act_on_task(&app, "approver", &task, appeal(2))
        .await
        .expect_error(409, "stale_version", "the version read before the review");
    act_on_task(&app, "approver", &task, appeal(3))
        .await
        .expect(200, "appeal again");
    let voided = act_on_task(
        &app,
        "supervisor",
        &task,
        json!({ "action": "review", "version": 4, "upheld": true, "note": "有一次性告知书签收记录" }),
    )
    .await
    .expect(200, "the appeal is upheld");
    assert_eq!(voided["state"], "voided");
    assert_eq!(voided["version"], 5);
    let kinds: Vec<&str> = voided["events"].a().iter().map(|e| e["kind"].s()).collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "appealed",
            "appeal_rejected",
            "appealed",
            "appeal_upheld"
        ]
    );
    let actors: Vec<&str> = voided["events"]
        .a()
        .iter()
        .map(|e| e["actor"].s())
        .collect();
    assert_eq!(
        actors,
        ["system", "approver", "supervisor", "approver", "supervisor"]
    );

    // Voided is final.
    for (account, body) in [
        (
            "approver",
            json!({ "action": "rectify", "version": 5, "measures": "x" }),
        ),
        ("approver", appeal(5)),
        (
            "supervisor",
            json!({ "action": "review", "version": 5, "upheld": false, "note": "x" }),
        ),
        (
            "supervisor",
            json!({ "action": "call_back", "version": 5, "reached": true }),
        ),
    ] {
        act_on_task(&app, account, &task, body.clone())
            .await
            .expect_error(409, "illegal_transition", &format!("{account}: {body}"));
    }
    let listed = app
        .get("approver", "/api/v1/rectifications?state=voided")
        .await
        .expect(200, "voided tasks");
    assert!(task_in(&listed, &task).is_some(), "{listed}");
    let open = app
        .get("approver", "/api/v1/rectifications?state=open")
        .await
        .expect(200, "open tasks");
    assert!(task_in(&open, &task).is_none(), "{open}");

    // Settled: the rater may rate the case a second time.
    let second = app
        .post(
            "citizen",
            &format!("/api/v1/cases/{number}/rating"),
            json!({ "level": "satisfied", "channel": "pc" }),
        )
        .await
        .expect(201, "a second rating after a voided task");
    assert_eq!(second["round"], 2);
    Ok(())
}

#[tokio::test]
async fn a_voided_task_counts_as_settled_in_the_rectification_rate() -> TestResult {
    let app = TestApp::start().await?;
    // Three bad ratings of city-police cases, all opened Mon 2026-03-02 (due Mar 23):
    // A voided on appeal, B rectified and called back (closed), C left open.
    let (_, voided) = bad_rating(&app).await;
    let (_, closed) = bad_rating(&app).await;
    let (_, open) = bad_rating(&app).await;
    act_on_task(
        &app,
        "approver",
        &voided,
        json!({ "action": "appeal", "version": 1, "reason": "非本部门责任" }),
    )
    .await
    .expect(200, "appeal A");
    act_on_task(
        &app,
        "supervisor",
        &voided,
        json!({ "action": "review", "version": 2, "upheld": true, "note": "申诉成立" }),
    )
    .await
    .expect(200, "uphold A");
    act_on_task(
        &app,
        "approver",
        &closed,
        json!({ "action": "rectify", "version": 1, "measures": "增设叫号提示" }),
    )
    .await
    .expect(200, "rectify B");
    act_on_task(
        &app,
        "supervisor",
        &closed,
        json!({ "action": "call_back", "version": 2, "reached": true, "satisfied": true }),
    )
    .await
    .expect(200, "call B back");
    let still_open = app
        .get("approver", &format!("/api/v1/rectifications/{open}"))
        .await
        .expect(200, "C");
    assert_eq!(still_open["state"], "open");

    // docs/kpis.md, by hand, city-police, March 2026:
    //   差评整改率 = tasks closed or voided / tasks opened = (A + B) / 3 = 66.67%;
    //   差评按期整改率 = rectified on or before the due date, or voided = (B + A) / 3 = 66.67%;
    //   差评回访率 = named, not voided, rater reached / named, not voided = B / (B + C) = 50%;
    //   3 ratings, all 不满意 → 好评率 0%, 差评数 3.
    let figures = app
        .get(
            "supervisor",
            "/api/v1/stats/kpis?from=2026-03&to=2026-03&dimension=department",
        )
        .await
        .expect(200, "kpis");
    let police = row(&figures, "city-police");
    assert_eq!(kpi(police, "rectification_rate"), json!(66.67));
    assert_eq!(kpi(police, "rectification_on_time_rate"), json!(66.67));
    assert_eq!(kpi(police, "callback_rate"), json!(50.0));
    assert_eq!(kpi(police, "good_rate"), json!(0.0));
    assert_eq!(kpi(police, "bad_ratings"), json!(3.0));
    assert_eq!(police["rating_distribution"], json!([0, 0, 0, 3, 0]));
    // The public figures say the same.
    let public = app
        .get("citizen", "/api/v1/ratings/figures?from=2026-03&to=2026-03")
        .await
        .expect(200, "public figures");
    let police = row(&public, "city-police");
    assert_eq!(kpi(police, "rectification_rate"), json!(66.67));
    assert_eq!(kpi(police, "callback_rate"), json!(50.0));
    Ok(())
}
