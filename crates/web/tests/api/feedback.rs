//! Ratings → rectification → callback, and the hotline loop ticket → dispatch → reply →
//! callback → reopen → close, through the real router (SQLite, or PostgreSQL when
//! `TONGBAN_TEST_PG_URL` is set), with the figures they leave behind.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tongban_domain::cases::{
    Applicant, ApplicantKind, Case, CaseEvent, CaseState, Channel, Decision, Delivery, EventKind,
};
use tongban_domain::clock::FixedClock;
use tongban_domain::keys::AccountName;
use tongban_store::model::CaseWrite;
use tongban_store::testing::{TestStore, demo_data, test_time};
use tongban_web::App;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PASSWORD: &str = "tongban-demo";
/// 居民身份证申领 (city-police).
const ID_CARD: &str = "11990100004213712W2000109000000";
/// 张伟, the `citizen` account.
const ZHANG_WEI: &str = "990102198803150031";

struct App2 {
    base: String,
    client: reqwest::Client,
    server: JoinHandle<()>,
    test_store: TestStore,
}

impl Drop for App2 {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl App2 {
    async fn start() -> Result<App2, Box<dyn std::error::Error>> {
        let test_store = TestStore::with_demo().await?;
        tongban_web::auth::create_demo_accounts(&test_store.store, test_time()).await?;
        let app = App::new(
            test_store.store.clone(),
            Arc::new(FixedClock::at(test_time())),
        )
        .await?;
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
        Ok(App2 {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            server,
            test_store,
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        account: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut token = None;
        if let Some(account) = account {
            let (_, login) = Box::pin(self.call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "account": account, "password": PASSWORD })),
            ))
            .await;
            token = login["token"].as_str().map(str::to_owned);
        }
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

    async fn post(&self, account: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(account), Some(body))
            .await
    }

    async fn get(&self, account: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(account), None).await
    }
}

fn expect(reply: (StatusCode, Value), status: u16, what: &str) -> Value {
    assert_eq!(reply.0.as_u16(), status, "{what}: {}", reply.1);
    reply.1
}

fn error_code(reply: &(StatusCode, Value)) -> &str {
    reply.1["error"]["code"].as_str().unwrap_or("")
}

/// Stores a case of 张伟 decided on Thu 2026-03-05 (accepted Mon 2026-03-02).
async fn decided_case(app: &App2) -> Result<String, Box<dyn std::error::Error>> {
    let item = demo_data()
        .catalog
        .items
        .iter()
        .find(|i| i.implementation_code.as_str() == ID_CARD)
        .cloned()
        .unwrap_or_else(|| panic!("the demo has the ID card item"));
    let workflow = demo_data()
        .catalog
        .workflows
        .iter()
        .find(|w| w.key.as_str() == "standard")
        .cloned()
        .unwrap_or_else(|| panic!("the demo has the standard workflow"));
    let decided_at = test_time() + jiff::SignedDuration::from_hours(72);
    let clerk = AccountName::parse("approver")?;
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
            account: Some(AccountName::parse("citizen")?),
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
            by: clerk.clone(),
            at: decided_at,
        }),
        licence: None,
        closed_at: None,
    };
    let events = vec![
        CaseEvent {
            at: test_time(),
            actor: AccountName::parse("citizen")?,
            actor_name: "张伟".into(),
            department: None,
            on_behalf: None,
            kind: EventKind::Submitted {
                channel: Channel::Web,
            },
        },
        CaseEvent {
            at: decided_at,
            actor: clerk,
            actor_name: "李娜".into(),
            department: None,
            on_behalf: None,
            kind: EventKind::Decided {
                granted: true,
                opinion: "准予".into(),
            },
        },
    ];
    let stored = app
        .test_store
        .store
        .cases
        .create_case(CaseWrite {
            case: Some(case),
            events,
            ..CaseWrite::default()
        })
        .await?;
    Ok(stored.number)
}

#[tokio::test]
async fn a_bad_rating_goes_to_the_office_which_rectifies_and_the_rater_is_called_back() -> TestResult
{
    let app = App2::start().await?;
    let number = decided_case(&app).await?;
    let path = format!("/api/v1/cases/{number}/rating");

    // Bad input is refused and changes nothing.
    let bad = app
        .post(
            "citizen",
            &path,
            json!({ "level": "awful", "channel": "pc" }),
        )
        .await;
    assert_eq!((bad.0.as_u16(), error_code(&bad)), (400, "invalid_rating"));
    let stranger = app
        .post(
            "citizen2",
            &path,
            json!({ "level": "satisfied", "channel": "pc" }),
        )
        .await;
    assert_eq!(
        (stranger.0.as_u16(), error_code(&stranger)),
        (404, "case_not_found")
    );

    let rating = expect(
        app.post(
            "citizen",
            &path,
            json!({ "level": "dissatisfied", "channel": "2", "text": "窗口引导不清楚" }),
        )
        .await,
        201,
        "rate",
    );
    assert_eq!(rating["round"], 1);
    assert_eq!(rating["channel"], "mobile");
    let task_id = rating["rectification"]
        .as_str()
        .unwrap_or_else(|| panic!("a bad rating opens a task: {rating}"))
        .to_owned();
    let again = app
        .post(
            "citizen",
            &path,
            json!({ "level": "satisfied", "channel": "pc" }),
        )
        .await;
    assert_eq!(
        (again.0.as_u16(), error_code(&again)),
        (409, "rectification_pending")
    );

    // The office (city-police approver) sees and rectifies it; the clerk of another office
    // does not see it.
    let tasks = expect(
        app.get("approver", "/api/v1/rectifications").await,
        200,
        "tasks",
    );
    let task = tasks
        .as_array()
        .and_then(|list| list.iter().find(|t| t["id"] == task_id.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("the office sees its task: {tasks}"));
    // The task opens on the day of the rating (the fixed clock: Mon 2026-03-02); 15 working
    // days later: Mar 3–6 (4), 9–13 (9), 16–20 (14), Mar 23 (15).
    assert_eq!(task["due_on"], "2026-03-23");
    let action = format!("/api/v1/rectifications/{task_id}/actions");
    let refused = app
        .post(
            "supervisor",
            &action,
            json!({ "action": "rectify", "version": 1, "measures": "x" }),
        )
        .await;
    assert_eq!(
        (refused.0.as_u16(), error_code(&refused)),
        (403, "forbidden")
    );
    let rectified = expect(
        app.post(
            "approver",
            &action,
            json!({ "action": "rectify", "version": 1, "measures": "增设引导标识" }),
        )
        .await,
        200,
        "rectify",
    );
    assert_eq!(rectified["state"], "rectified");
    let stale = app
        .post(
            "supervisor",
            &action,
            json!({ "action": "call_back", "version": 1, "reached": true }),
        )
        .await;
    assert_eq!(
        (stale.0.as_u16(), error_code(&stale)),
        (409, "stale_version")
    );
    let closed = expect(
        app.post(
            "supervisor",
            &action,
            json!({ "action": "call_back", "version": 2, "reached": true, "satisfied": true, "note": "认可" }),
        )
        .await,
        200,
        "call back",
    );
    assert_eq!(closed["state"], "closed");

    // Now a second rating is allowed.
    let second = expect(
        app.post(
            "citizen",
            &path,
            json!({ "level": "very_satisfied", "channel": "pc" }),
        )
        .await,
        201,
        "second rating",
    );
    assert_eq!(second["round"], 2);

    // Figures, by hand: 2 ratings (不满意, 非常满意) → 好评率 50%; 1 task closed → 100%;
    // named and reached → 回访率 100%. The case: decided Mar 5 ≤ due Mar 23 → on time 100%.
    let figures = expect(
        app.get(
            "supervisor",
            "/api/v1/stats/kpis?from=2026-03&to=2026-03&dimension=department",
        )
        .await,
        200,
        "kpis",
    );
    let police = figures["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == "city-police"))
        .cloned()
        .unwrap_or_else(|| panic!("city-police row: {figures}"));
    let kpi = |code: &str| {
        police["kpis"]
            .as_array()
            .and_then(|list| list.iter().find(|k| k["code"] == code))
            .map(|k| k["value"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(kpi("good_rate"), json!(50.0));
    assert_eq!(kpi("rectification_rate"), json!(100.0));
    assert_eq!(kpi("callback_rate"), json!(100.0));
    assert_eq!(kpi("on_time_rate"), json!(100.0));
    assert_eq!(kpi("avg_working_days"), json!(3.0));
    assert_eq!(police["rating_distribution"], json!([1, 0, 0, 1, 0]));

    let public = expect(
        app.call(
            Method::GET,
            "/api/v1/ratings/figures?from=2026-03&to=2026-03",
            None,
            None,
        )
        .await,
        200,
        "public figures",
    );
    assert_eq!(public["total"]["counters"]["ratings"], 2);
    assert_eq!(
        public["total"]["counters"]["tickets"], 0,
        "internal counters are not public"
    );
    let denied = app.get("citizen", "/api/v1/stats/kpis").await;
    assert_eq!((denied.0.as_u16(), error_code(&denied)), (403, "forbidden"));
    Ok(())
}

#[tokio::test]
async fn a_ticket_is_dispatched_replied_reopened_on_an_unhappy_callback_and_closed() -> TestResult {
    let app = App2::start().await?;
    let ticket = expect(
        app.post(
            "operator",
            "/api/v1/hotline/tickets",
            json!({
                "kind": "complaint", "category": "city-management", "area": "990102",
                "location": "湖滨路", "description": "湖滨路垃圾多日无人清运",
                "caller_name": "王先生", "caller_phone": "13900000000", "confidential": true
            }),
        )
        .await,
        201,
        "register",
    );
    let number = ticket["number"].as_str().unwrap_or_default().to_owned();
    assert_eq!(number, "RX202603020001");
    assert_eq!(ticket["suggested_department"], "city-urban");
    let bad = app
        .post(
            "operator",
            "/api/v1/hotline/tickets",
            json!({ "kind": "complaint", "category": "nowhere", "area": "990102", "description": "x" }),
        )
        .await;
    assert_eq!((bad.0.as_u16(), error_code(&bad)), (400, "invalid_ticket"));

    let act = format!("/api/v1/hotline/tickets/{number}/actions");
    let not_yours = app
        .post(
            "handler",
            &act,
            json!({ "action": "dispatch", "version": 1 }),
        )
        .await;
    assert_eq!(
        not_yours.0.as_u16(),
        404,
        "the handler cannot see an undispatched ticket"
    );
    let dispatched = expect(
        app.post(
            "dispatcher",
            &act,
            json!({ "action": "dispatch", "version": 1 }),
        )
        .await,
        200,
        "dispatch by routing",
    );
    assert_eq!(dispatched["department"], "city-urban");
    // Complaint: 13 working days from Mon 2026-03-02 → Thu 2026-03-19.
    assert_eq!(dispatched["due_on"], "2026-03-19");

    // The handler of city-urban sees it without the confidential caller, and replies.
    let seen = expect(
        app.get("handler", &format!("/api/v1/hotline/tickets/{number}"))
            .await,
        200,
        "handler reads",
    );
    assert!(seen.get("caller_phone").is_none(), "confidential: {seen}");
    let other = app
        .post(
            "handler2",
            &act,
            json!({ "action": "reply", "version": 2, "text": "x" }),
        )
        .await;
    assert_eq!(other.0.as_u16(), 404, "another department does not see it");
    expect(
        app.post(
            "handler",
            &act,
            json!({ "action": "reply", "version": 2, "text": "已清运" }),
        )
        .await,
        200,
        "reply",
    );
    let reopened = expect(
        app.post(
            "operator",
            &act,
            json!({ "action": "call_back", "version": 3, "satisfaction": "dissatisfied", "resolved": false }),
        )
        .await,
        200,
        "unhappy callback",
    );
    assert_eq!(reopened["state"], "dispatched");
    assert_eq!(reopened["reopened"], 1);
    expect(
        app.post(
            "handler",
            &act,
            json!({ "action": "reply", "version": 4, "text": "已清运并加装监控" }),
        )
        .await,
        200,
        "second reply",
    );
    let closed = expect(
        app.post(
            "operator",
            &act,
            json!({ "action": "call_back", "version": 5, "satisfaction": "satisfied", "resolved": true }),
        )
        .await,
        200,
        "happy callback",
    );
    assert_eq!(closed["state"], "closed");
    let illegal = app
        .post(
            "handler",
            &act,
            json!({ "action": "reply", "version": 6, "text": "x" }),
        )
        .await;
    assert_eq!(
        (illegal.0.as_u16(), error_code(&illegal)),
        (409, "illegal_transition")
    );

    // Figures, by hand: 1 ticket, closed, replied on time, called back, satisfied, resolved.
    let figures = expect(
        app.get("supervisor", "/api/v1/stats/kpis?from=2026-03&to=2026-03")
            .await,
        200,
        "kpis",
    );
    let kpi = |code: &str| {
        figures["total"]["kpis"]
            .as_array()
            .and_then(|list| list.iter().find(|k| k["code"] == code))
            .map(|k| k["value"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(kpi("hotline_tickets"), json!(1.0));
    assert_eq!(kpi("hotline_closed_rate"), json!(100.0));
    assert_eq!(kpi("hotline_on_time_rate"), json!(100.0));
    assert_eq!(kpi("hotline_satisfaction_rate"), json!(100.0));
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/stats/kpis.csv?from=2026-03&to=2026-03",
            app.base
        ))
        .bearer_auth(
            app.call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "account": "supervisor", "password": PASSWORD })),
            )
            .await
            .1["token"]
                .as_str()
                .unwrap_or_default(),
        )
        .send()
        .await?
        .text()
        .await?;
    assert!(csv.contains("hotline_closed_rate"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("city-urban,")), "{csv}");
    let alarms = expect(
        app.get("supervisor", "/api/v1/stats/alarms").await,
        200,
        "alarms",
    );
    assert!(alarms.as_array().is_some_and(Vec::is_empty), "{alarms}");
    Ok(())
}
