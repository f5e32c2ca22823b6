//! The supervision figures beside the case rollups (SPEC C8), through the real router on both
//! engines: waiting times and throughput from the hall queue (in `GET /api/v1/stats/kpis`, its
//! trend and its CSV), 网上可办率, 进驻率 and windows (`GET /api/v1/stats/catalog`), and the
//! bundle reductions (`GET /api/v1/stats/bundles`). Every expected number is worked out by hand
//! in a comment. The clock starts on Monday 2026-03-02 09:00 in Shanghai.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tongban_domain::catalog::codes::{OnlineDepth, OnlineDepthLevel, TimeUnit};
use tongban_domain::catalog::item::FormField;
use tongban_domain::catalog::{
    BundleDefinition, BundleMember, ItemDefinition, Material, Requirement, TimeLimit,
};
use tongban_domain::clock::FixedClock;
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::{BundleCode, DataElementCode, MaterialCode};
use tongban_store::testing::{TestStore, demo_data, test_time};
use tongban_web::App;

use super::support::TestResult;

const PASSWORD: &str = "tongban-demo";
/// 公章刻制备案 (city-police).
const SEAL_ENGRAVING: &str = "11990100004213712W1000310000000";
/// 机动车注册登记 (city-police), handled at the city centre only.
const VEHICLE_REGISTRATION: &str = "11990100004213712W0700206000000";
/// 无犯罪记录证明开具 and 居住证申领 (city-police), members of the bundle built below.
const NO_CRIMINAL_RECORD: &str = "11990100004213712W2000219000000";
const RESIDENCE_PERMIT: &str = "11990100004213712W2000110000000";

struct Stats {
    base: String,
    client: reqwest::Client,
    clock: Arc<FixedClock>,
    server: JoinHandle<()>,
    state: tongban_web::AppState,
    _store: TestStore,
}

impl Drop for Stats {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Stats {
    async fn start() -> Result<Stats, Box<dyn std::error::Error>> {
        let store = TestStore::with_demo().await?;
        tongban_web::auth::create_demo_accounts(&store.store, test_time()).await?;
        let clock = Arc::new(FixedClock::at(test_time()));
        let app = App::new(store.store.clone(), clock.clone()).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let state = app.state().clone();
        let service = app
            .router()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, service).await {
                eprintln!("the test server stopped: {error}");
            }
        });
        Ok(Stats {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            clock,
            server,
            state,
            _store: store,
        })
    }

    async fn token(&self, account: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "account": account, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign in as {account}: {body}");
        body["token"].as_str().unwrap_or_default().to_owned()
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.send(method, path, token, body).await;
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

    /// Moves the clock to `minute` minutes after 09:00.
    fn at_minute(&self, minute: i64) {
        let now = self.state.clock.now();
        let target = test_time() + jiff::SignedDuration::from_mins(minute);
        self.clock
            .advance_seconds(target.duration_since(now).as_secs());
    }

    async fn take(&self, minute: i64, skill: &str) -> Value {
        self.at_minute(minute);
        let body = json!({ "hall": "city-centre", "skill": skill, "class": "normal" });
        self.expect(201, Method::POST, "/api/v1/tickets", None, Some(body))
            .await
    }

    async fn call_next(&self, minute: i64, token: &str, window: &str) -> Value {
        self.at_minute(minute);
        let path = format!("/api/v1/windows/{window}/call-next");
        let reply = self
            .expect(200, Method::POST, &path, Some(token), None)
            .await;
        reply["current"].clone()
    }

    async fn act(&self, minute: i64, token: &str, window: &str, ticket: &Value, action: &str) {
        self.at_minute(minute);
        let id = ticket["id"].as_str().unwrap_or_default();
        let path = format!("/api/v1/windows/{window}/tickets/{id}/actions");
        self.expect(
            200,
            Method::POST,
            &path,
            Some(token),
            Some(json!({ "action": action })),
        )
        .await;
    }
}

/// The value of figure `code` in a row's `kpis`.
fn kpi(row: &Value, code: &str) -> Value {
    row["kpis"]
        .as_array()
        .and_then(|list| list.iter().find(|k| k["code"] == code))
        .map(|k| k["value"].clone())
        .unwrap_or_else(|| panic!("no figure {code} in {row}"))
}

fn row<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == key))
        .unwrap_or_else(|| panic!("no row {key} in {body}"))
}

#[tokio::test]
async fn waiting_times_and_throughput_come_from_the_queue_computed_by_hand() -> TestResult {
    let app = Stats::start().await?;
    let clerk = app.token("clerk").await;
    let supervisor = app.token("supervisor").await;
    // 09:00 T1 and 09:02 T2 (personal); A01 calls T1 at 09:05 (waited 5 min) and finishes it
    // at 09:09, calls T2 at 09:10 (8 min) and skips it at 09:12 (a no-show: waited, not
    // served). 09:13 T3 (police), 09:14 T4 (personal); A01 calls T4 at 09:15 (1 min) and
    // finishes it at 09:18; C01 calls T3 at 09:20 (7 min) and finishes it at 09:25.
    app.take(0, "personal").await;
    app.take(2, "personal").await;
    let t1 = app.call_next(5, &clerk, "city-centre-a01").await;
    app.act(9, &clerk, "city-centre-a01", &t1, "finish").await;
    let t2 = app.call_next(10, &clerk, "city-centre-a01").await;
    app.act(12, &clerk, "city-centre-a01", &t2, "skip").await;
    app.take(13, "police").await;
    app.take(14, "personal").await;
    let t4 = app.call_next(15, &clerk, "city-centre-a01").await;
    assert_eq!(
        t4["number"], "A004",
        "T4 is the fourth walk-in ticket (T3 is A003)"
    );
    app.act(18, &clerk, "city-centre-a01", &t4, "finish").await;
    let t3 = app.call_next(20, &clerk, "city-centre-c01").await;
    app.act(25, &clerk, "city-centre-c01", &t3, "finish").await;

    // City centre: 4 called, waits 5 + 8 + 1 + 7 = 21 min → 5.25 on average; sorted 1, 5, 7,
    // 8: p90 rank ⌈0.9 × 4⌉ = 4 → 8 min. Served T1, T4 (A01) and T3 (C01) = 3 on the
    // window-days (A01, Mon) and (C01, Mon) = 2 → 1.5 per window and day.
    let path = "/api/v1/stats/kpis?from=2026-03&to=2026-03&dimension=hall";
    let by_hall = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    let city = row(&by_hall, "city-centre");
    assert_eq!(kpi(city, "queue_called"), json!(4.0));
    assert_eq!(kpi(city, "queue_served"), json!(3.0));
    assert_eq!(kpi(city, "wait_avg_minutes"), json!(5.25));
    assert_eq!(kpi(city, "wait_p90_minutes"), json!(8.0));
    assert_eq!(kpi(city, "served_per_window_day"), json!(1.5));
    assert_eq!(kpi(&by_hall["total"], "wait_avg_minutes"), json!(5.25));
    // The same for the city centre's region.
    let path = "/api/v1/stats/kpis?from=2026-03&to=2026-03&dimension=region";
    let by_region = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    assert_eq!(
        kpi(row(&by_region, "990100"), "wait_p90_minutes"),
        json!(8.0)
    );
    // Per window: A01 served 2 on 1 day → 2.0; C01 1 on 1 day → 1.0; waits are the hall's.
    let path = "/api/v1/stats/kpis?from=2026-03&to=2026-03&dimension=window";
    let by_window = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    let a01 = row(&by_window, "city-centre-a01");
    assert_eq!(kpi(a01, "served_per_window_day"), json!(2.0));
    assert_eq!(kpi(a01, "wait_avg_minutes"), Value::Null);
    assert_eq!(
        kpi(row(&by_window, "city-centre-c01"), "served_per_window_day"),
        json!(1.0)
    );
    // Per department the queue has no figure (tickets have no department); the total has.
    let path = "/api/v1/stats/kpis?from=2026-03&to=2026-03&dimension=department";
    let by_department = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    assert_eq!(kpi(&by_department["total"], "queue_served"), json!(3.0));
    for department in by_department["rows"].as_array().into_iter().flatten() {
        assert_eq!(kpi(department, "wait_avg_minutes"), Value::Null);
    }
    // The month of the trend, and February without tickets.
    let path = "/api/v1/stats/trend?from=2026-02&to=2026-03";
    let trend = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    assert_eq!(kpi(&trend[1], "wait_p90_minutes"), json!(8.0));
    assert_eq!(kpi(&trend[0], "queue_called"), json!(0.0));
    assert_eq!(kpi(&trend[0], "wait_avg_minutes"), Value::Null);
    // The CSV export has a column per queue figure.
    let csv = app
        .send(
            Method::GET,
            "/api/v1/stats/kpis.csv?from=2026-03&to=2026-03&dimension=hall",
            Some(&supervisor),
            None,
        )
        .await
        .text()
        .await?;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let city_line: Vec<&str> = lines
        .find(|l| l.starts_with("city-centre,"))
        .unwrap_or_else(|| panic!("no city-centre line in {csv}"))
        .split(',')
        .collect();
    let column = |code: &str| {
        header
            .iter()
            .position(|c| *c == code)
            .unwrap_or_else(|| panic!("no column {code} in {csv}"))
    };
    assert_eq!(city_line[column("wait_avg_minutes")], "5.25");
    assert_eq!(city_line[column("served_per_window_day")], "1.5");
    Ok(())
}

/// A demo item's published definition.
fn demo_item(code: &str) -> ItemDefinition {
    demo_data()
        .catalog
        .items
        .into_iter()
        .find(|i| i.implementation_code.as_str() == code)
        .unwrap_or_else(|| panic!("no demo item {code}"))
}

async fn publish(app: &Stats, item: &ItemDefinition) -> TestResult {
    let catalog = &app.state.store.catalog;
    catalog.save_item_draft(item, test_time()).await?;
    catalog
        .publish_item(&item.implementation_code, test_time())
        .await?;
    Ok(())
}

#[tokio::test]
async fn online_and_hall_shares_and_windows_are_counted_from_the_catalog_by_hand() -> TestResult {
    let app = Stats::start().await?;
    let supervisor = app.token("supervisor").await;
    let path = "/api/v1/stats/catalog?dimension=department";
    let before = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    // The demo's 10 police items all reach 互联网受理 (or beyond) and all have a hall place.
    let police = row(&before, "city-police");
    assert_eq!(kpi(police, "items"), json!(10.0));
    assert_eq!(kpi(police, "online_capable_rate"), json!(100.0));
    assert_eq!(kpi(police, "stationed_rate"), json!(100.0));
    assert_eq!(kpi(police, "windows"), Value::Null);

    // 公章刻制备案 now only up to 互联网预审 (3), 机动车注册登记 only at the police office (no
    // hall): police 9/10 = 90% online, 9/10 = 90% in a hall; in total one fewer of each.
    let mut seal = demo_item(SEAL_ENGRAVING);
    seal.online_depth = OnlineDepth::new([
        OnlineDepthLevel::Consultation,
        OnlineDepthLevel::Submission,
        OnlineDepthLevel::PreReview,
    ]);
    publish(&app, &seal).await?;
    let mut vehicle = demo_item(VEHICLE_REGISTRATION);
    for place in &mut vehicle.places {
        place.hall = None;
    }
    publish(&app, &vehicle).await?;
    let after = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    let police = row(&after, "city-police");
    assert_eq!(kpi(police, "online_capable_rate"), json!(90.0));
    assert_eq!(kpi(police, "stationed_rate"), json!(90.0));
    let count = |body: &Value, field: &str| body["total"]["counts"][field].as_i64().unwrap_or(-1);
    assert_eq!(count(&after, "items"), count(&before, "items"));
    assert_eq!(
        count(&after, "online_capable"),
        count(&before, "online_capable") - 1
    );
    assert_eq!(count(&after, "stationed"), count(&before, "stationed") - 1);

    // Per hall: the city centre has 10 windows, 8 comprehensive (A01–A06, B01, B02) → 80%;
    // 机动车注册登记 left it, so it handles one item fewer of all the items.
    let path = "/api/v1/stats/catalog?dimension=hall";
    let by_hall = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    let city = row(&by_hall, "city-centre");
    assert_eq!(city["name"], "示范市政务服务中心");
    assert_eq!(kpi(city, "windows"), json!(10.0));
    assert_eq!(kpi(city, "comprehensive_window_share"), json!(80.0));
    assert_eq!(
        city["counts"]["stationed_of"].as_i64(),
        Some(count(&after, "items"))
    );
    let path = "/api/v1/stats/catalog?dimension=region";
    let by_region = app
        .expect(200, Method::GET, path, Some(&supervisor), None)
        .await;
    // 990100 has the city centre only: its 10 windows.
    assert_eq!(kpi(row(&by_region, "990100"), "windows"), json!(10.0));
    // The demo city: 3 centres (10 + 5 + 5 windows, 2 specialised each … 8 + 4 + 4
    // comprehensive), 4 street centres with 2 and 8 community stations with 1, all
    // comprehensive: 36 windows, 32 comprehensive → 88.89%.
    assert_eq!(kpi(&by_region["total"], "windows"), json!(36.0));
    assert_eq!(
        kpi(&by_region["total"], "comprehensive_window_share"),
        json!(88.89)
    );
    app.expect(
        400,
        Method::GET,
        "/api/v1/stats/catalog?dimension=item",
        Some(&supervisor),
        None,
    )
    .await;
    let citizen = app.token("citizen").await;
    app.expect(403, Method::GET, path, Some(&citizen), None)
        .await;
    Ok(())
}

fn working_days(value: u32) -> TimeLimit {
    TimeLimit {
        value,
        unit: TimeUnit::WorkingDays,
    }
}

/// A demo item with exactly these fields, materials, trips and promised limit.
fn member(
    code: &str,
    fields: &[&str],
    materials: &[(&str, Requirement)],
    visits: u8,
    promised: u32,
) -> Result<ItemDefinition, Box<dyn std::error::Error>> {
    let mut item = demo_item(code);
    let template: Material = item.materials[0].clone();
    item.questions = Vec::new();
    item.form = Vec::new();
    for element in fields {
        item.form.push(FormField {
            element: DataElementCode::parse(element)?,
            required: true,
            when: None,
        });
    }
    item.materials = Vec::new();
    for (material, requirement) in materials {
        item.materials.push(Material {
            code: MaterialCode::parse(material)?,
            requirement: *requirement,
            when: None,
            ..template.clone()
        });
    }
    item.visits = visits;
    item.promised_limit = working_days(promised);
    Ok(item)
}

#[tokio::test]
async fn bundle_reductions_are_computed_by_hand_and_agree_with_every_guide() -> TestResult {
    let app = Stats::start().await?;
    let supervisor = app.token("supervisor").await;
    // A: name, ID number, phone; ID card and photo; 1 trip; 5 working days.
    // B: name, ID number, address; ID card, household register and an optional lease; 1 trip;
    // 10 working days. The bundle: 1 trip, 10 working days.
    let a = member(
        NO_CRIMINAL_RECORD,
        &["applicant_name", "applicant_id_number", "applicant_phone"],
        &[
            ("id-card", Requirement::Required),
            ("photo", Requirement::Required),
        ],
        1,
        5,
    )?;
    let b = member(
        RESIDENCE_PERMIT,
        &["applicant_name", "applicant_id_number", "applicant_address"],
        &[
            ("id-card", Requirement::Required),
            ("household-register", Requirement::Required),
            ("lease", Requirement::Optional),
        ],
        1,
        10,
    )?;
    publish(&app, &a).await?;
    publish(&app, &b).await?;
    let mut bundle: BundleDefinition = demo_data()
        .catalog
        .bundles
        .into_iter()
        .next()
        .ok_or("the demo has bundles")?;
    bundle.code = BundleCode::parse("stats-check")?;
    bundle.name = "统计核对一件事".into();
    bundle.questions = Vec::new();
    bundle.stages = Vec::new();
    bundle.kind = tongban_domain::catalog::BundleKind::OneThing;
    bundle.members = [NO_CRIMINAL_RECORD, RESIDENCE_PERMIT]
        .into_iter()
        .map(|code| {
            Ok(BundleMember {
                item: ImplementationCode::parse(code)?,
                when: None,
                optional: false,
                after: Vec::new(),
                stage: None,
                note: None,
            })
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    bundle.promised_limit = working_days(10);
    bundle.visits = 1;
    let catalog = &app.state.store.catalog;
    catalog.save_bundle_draft(&bundle, test_time()).await?;
    catalog.publish_bundle(&bundle.code, test_time()).await?;

    let figures = app
        .expect(
            200,
            Method::GET,
            "/api/v1/stats/bundles",
            Some(&supervisor),
            None,
        )
        .await;
    let check = figures["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["code"] == "stats-check"))
        .unwrap_or_else(|| panic!("no stats-check row in {figures}"));
    // Fields 3 + 3 = 6 → {name, ID number, phone, address} = 4: 2/6 = 33.33% fewer.
    // Required materials 2 + 2 = 4 → {ID card, photo, household register} = 3: 25%.
    // Trips 1 + 1 = 2 → 1: 50%. Days 5 + 10 = 15 → 10: 33.33%.
    assert_eq!(check["members"], 2);
    assert_eq!(
        check["reductions"],
        json!({
            "fields_before": 6, "fields_after": 4,
            "materials_before": 4, "materials_after": 3,
            "visits_before": 2, "visits_after": 1,
            "days_before": 15, "days_after": 10,
        })
    );
    assert_eq!(kpi(check, "bundle_fields_reduction"), json!(33.33));
    assert_eq!(kpi(check, "bundle_materials_reduction"), json!(25.0));
    assert_eq!(kpi(check, "bundle_visits_reduction"), json!(50.0));
    assert_eq!(kpi(check, "bundle_days_reduction"), json!(33.33));

    // Every bundle's figures are its guide's reductions, and the total is their sum.
    let mut fields_before = 0;
    for bundle_row in figures["rows"].as_array().into_iter().flatten() {
        let code = bundle_row["code"].as_str().unwrap_or_default();
        let guide = app
            .expect(
                200,
                Method::GET,
                &format!("/api/v1/bundles/{code}"),
                None,
                None,
            )
            .await;
        assert_eq!(bundle_row["reductions"], guide["reductions"], "{code}");
        fields_before += bundle_row["reductions"]["fields_before"]
            .as_i64()
            .unwrap_or_default();
    }
    assert_eq!(
        figures["rows"].as_array().map(Vec::len),
        Some(demo_data().catalog.bundles.len() + 1)
    );
    assert_eq!(
        figures["total"]["reductions"]["fields_before"].as_i64(),
        Some(fields_before)
    );

    // Every new figure is defined, publicly.
    let definitions = app
        .expect(200, Method::GET, "/api/v1/stats/definitions", None, None)
        .await;
    let codes: Vec<&str> = definitions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    for code in [
        "wait_avg_minutes",
        "wait_p90_minutes",
        "served_per_window_day",
        "online_capable_rate",
        "stationed_rate",
        "windows",
        "comprehensive_window_share",
        "bundle_fields_reduction",
        "bundle_materials_reduction",
        "bundle_visits_reduction",
        "bundle_days_reduction",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    Ok(())
}
