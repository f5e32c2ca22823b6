//! Applications, cases, uploads and licences (SPEC C2, §2) through the real router on
//! 127.0.0.1:0 over a fresh demo store with the demo accounts: a temporary SQLite file by
//! default, a fresh PostgreSQL database when `TONGBAN_TEST_PG_URL` is set.
//!
//! The clock is fixed on Monday 2026-03-02 09:00 in Shanghai and moved by the tests to check
//! deadlines; sessions are signed in again when the clock has moved past their lifetime.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tongban_domain::clock::{Clock, FixedClock};
use tongban_domain::ids::{CreditCode, LicenceId};
use tongban_store::Store;
use tongban_store::model::OutboxMessage;
use tongban_store::testing::{TestStore, test_time};
use tongban_web::{App, AppState};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PASSWORD: &str = "tongban-demo";

/// 出生医学证明首次签发 (city-health, standard workflow, promised 1 / statutory 20 working days).
const BIRTH: &str = "11990100004213675N2000101000000";
/// 居民身份证申领 (city-police; its result is a resident_id_card licence).
const ID_CARD: &str = "11990100004213712W2000109000000";
/// 丧葬补助金 (city-hrss; a tolerable (容缺) and a committable (告知承诺) material).
const FUNERAL: &str = "11990100004213786G0500116000000";
/// 不动产转移登记 (city-real-estate with city-tax and city-construction; the joint workflow).
const REAL_ESTATE: &str = "12990100004214008T0700202000000";

/// 张伟, the `citizen` account.
const ZHANG_WEI: &str = "990102198803150031";
/// 王芳, the `citizen2` account.
const WANG_FANG: &str = "990102199006200045";
/// 刘洋, a demo person without an account.
const LIU_YANG: &str = "990103197512080012";
/// The credit code of city-health (示范市卫生健康委员会).
const CITY_HEALTH_CODE: &str = "11990100004213675N";

pub(crate) const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
];

// ---------------------------------------------------------------------------------------------
// The test application

pub(crate) struct TestApp {
    base: String,
    client: reqwest::Client,
    pub(crate) clock: Arc<FixedClock>,
    /// The server's state, for jobs a test runs itself (the reminder job, the outbox).
    pub(crate) state: AppState,
    server: JoinHandle<()>,
    test_store: TestStore,
    /// Signed-in sessions: account → (token, when it was issued).
    tokens: Mutex<HashMap<String, (String, Timestamp)>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A JSON reply: status and body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    body: Value,
    text: String,
}

impl Reply {
    /// Status code and body.
    pub(crate) fn parts(self) -> (u16, Value) {
        (self.status.as_u16(), self.body)
    }

    /// Expects `status` and returns the body.
    pub(crate) fn expect(self, status: u16, what: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "{what}: {}", self.text);
        self.body
    }

    /// Expects an error body with exactly code, message and details; returns the body.
    pub(crate) fn expect_error(self, status: u16, code: &str, what: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "{what}: {}", self.text);
        let error = self.body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: not an error body: {}", self.text));
        let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["code", "details", "message"],
            "{what}: {}",
            self.text
        );
        assert_eq!(self.body["error"]["code"], code, "{what}: {}", self.text);
        assert!(self.body["error"]["details"].is_object(), "{what}");
        self.body
    }
}

impl TestApp {
    pub(crate) async fn start() -> Result<TestApp, Box<dyn std::error::Error>> {
        let test_store = TestStore::with_demo().await?;
        tongban_web::auth::create_demo_accounts(&test_store.store, test_time()).await?;
        let clock = Arc::new(FixedClock::at(test_time()));
        let app = App::new(test_store.store.clone(), clock.clone()).await?;
        let state = app.state().clone();
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
        Ok(TestApp {
            base: format!("http://{address}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            clock,
            state,
            server,
            test_store,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn store(&self) -> &Store {
        &self.test_store.store
    }

    /// The server's address of `path`, for tests that drive the pages themselves.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Moves the clock by whole days.
    pub(crate) fn advance_days(&self, days: i64) {
        self.clock.advance_seconds(days * 24 * 3600);
    }

    /// A session token of the account, signing in again when the clock has moved on.
    async fn token(&self, account: &str) -> String {
        let now = self.clock.now();
        if let Some((token, issued)) = self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(account)
            && now.duration_since(*issued).as_hours() < 11
        {
            return token.clone();
        }
        let reply = self
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "account": account, "password": PASSWORD })),
            )
            .await;
        let body = reply.expect(200, &format!("sign in as {account}"));
        let token = text(&body["token"]).to_owned();
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(account.to_owned(), (token.clone(), now));
        token
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        account: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(account) = account {
            request = request.bearer_auth(Box::pin(self.token(account)).await);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        read(&method, path, request.send().await).await
    }

    async fn raw(
        &self,
        path: &str,
        account: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.base));
        if let Some(account) = account {
            request = request.bearer_auth(self.token(account).await);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        read(&Method::POST, path, request.body(body).send().await).await
    }

    pub(crate) async fn get(&self, account: &str, path: &str) -> Reply {
        self.request(Method::GET, path, Some(account), None).await
    }

    pub(crate) async fn post(&self, account: &str, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(account), Some(body))
            .await
    }

    pub(crate) async fn put(&self, account: &str, path: &str, body: Value) -> Reply {
        self.request(Method::PUT, path, Some(account), Some(body))
            .await
    }

    /// `POST path` with a department system's API token.
    pub(crate) async fn post_with_token(&self, token: &str, path: &str, body: Value) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string());
        read(&Method::POST, path, request.send().await).await
    }

    /// A new API token of a department system, issued by the administrator.
    pub(crate) async fn api_token(&self, department: &str, name: &str) -> String {
        let body = self
            .post(
                "admin",
                "/api/v1/admin/api-tokens",
                json!({ "department": department, "name": name }),
            )
            .await
            .expect(201, "issue an API token");
        text(&body["token"]).to_owned()
    }

    /// Uploads a file and returns its upload key.
    pub(crate) async fn upload(&self, account: &str, bytes: &[u8]) -> String {
        let body = self
            .raw("/api/v1/uploads", Some(account), None, bytes.to_vec())
            .await
            .expect(201, "upload");
        text(&body["upload"]).to_owned()
    }

    /// Submits an application a minute after the last change, expecting 201; returns the case.
    pub(crate) async fn apply(&self, account: &str, application: Value) -> Value {
        self.clock.advance_seconds(60);
        self.post(account, "/api/v1/applications", application)
            .await
            .expect(201, &format!("application by {account}"))
    }

    pub(crate) async fn case(&self, account: &str, id: &str) -> Value {
        self.get(account, &format!("/api/v1/cases/{id}"))
            .await
            .expect(200, &format!("GET case as {account}"))
    }

    /// Acts on a case at the version of `case`, whatever the result.
    pub(crate) async fn try_act(&self, account: &str, case: &Value, action: Value) -> Reply {
        let mut body = action;
        body["version"] = case["version"].clone();
        let id = text(&case["id"]);
        self.post(account, &format!("/api/v1/cases/{id}/actions"), body)
            .await
    }

    /// Acts on a case a minute after the last change, expecting 200; returns the changed case.
    pub(crate) async fn act(&self, account: &str, case: &Value, action: Value) -> Value {
        self.clock.advance_seconds(60);
        let what = format!("{account}: {action}");
        let changed = self.try_act(account, case, action).await.expect(200, &what);
        assert_eq!(
            changed["version"].as_u64(),
            case["version"].as_u64().map(|v| v + 1),
            "{what}: the version grows by one"
        );
        changed
    }

    /// The outbox messages of a case, oldest first.
    pub(crate) async fn outbox_of(&self, id: &str) -> Vec<OutboxMessage> {
        let id: uuid::Uuid = id
            .parse()
            .unwrap_or_else(|error| panic!("case id {id}: {error}"));
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store()
                .cases
                .outbox_after(after, 100)
                .await
                .unwrap_or_else(|error| panic!("outbox: {error}"));
            let Some(last) = page.last() else { break };
            after = Some((last.created_at, last.id));
            all.extend(page);
        }
        all.into_iter().filter(|m| m.case_id == Some(id)).collect()
    }
}

async fn read(method: &Method, path: &str, sent: reqwest::Result<reqwest::Response>) -> Reply {
    let response = sent.unwrap_or_else(|error| panic!("{method} {path}: {error}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, body, text }
}

/// The string a JSON value holds; panics with the value otherwise.
fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

/// The elements of a JSON array; panics with the value otherwise.
fn array(value: &Value) -> &Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
}

fn id_of(case: &Value) -> String {
    text(&case["id"]).to_owned()
}

fn state_of(case: &Value) -> &str {
    text(&case["state"]["code"])
}

fn step_of(case: &Value) -> &str {
    case["step"]["code"].as_str().unwrap_or("")
}

fn events_of(case: &Value) -> Vec<String> {
    array(&case["timeline"])
        .iter()
        .map(|e| text(&e["event"]).to_owned())
        .collect()
}

fn material<'a>(case: &'a Value, code: &str) -> &'a Value {
    array(&case["case"]["materials"])
        .iter()
        .find(|m| m["code"] == code)
        .unwrap_or_else(|| panic!("no material {code} in {}", case["case"]["materials"]))
}

fn problems(body: &Value) -> Vec<String> {
    body["error"]["details"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems listed: {body}"))
        .iter()
        .map(|p| text(p).to_owned())
        .collect()
}

fn upload_input(code: &str, key: &str) -> Value {
    json!({ "code": code, "provided_as": "upload", "upload": key, "file_name": format!("{code}.pdf") })
}

// ---------------------------------------------------------------------------------------------
// Applications used by the tests

/// A complete birth-certificate application by the father 张伟 (materials uploaded).
pub(crate) async fn birth_application(app: &TestApp, account: &str) -> Value {
    let pdf = app.upload(account, PDF).await;
    let png = app.upload(account, PNG).await;
    json!({
        "item": BIRTH,
        "answers": { "entrusted": "parent", "father_known": "yes" },
        "form": {
            "child_name": "张子涵",
            "child_sex": "女",
            "child_birth_date": "2026-03-01",
            "child_birth_place": "示范市妇幼保健院",
            "child_weight_grams": "3250",
            "mother_name": "王芳",
            "mother_id_number": WANG_FANG,
            "father_name": "张伟",
            "father_id_number": ZHANG_WEI,
            "applicant_phone": "13900000001"
        },
        "materials": [
            upload_input("mother_id_card", &png),
            upload_input("father_id_card", &png),
            upload_input("birth_certificate_registration_form", &pdf),
            upload_input("delivery_record", &pdf)
        ],
        "delivery": {
            "method": "post",
            "recipient": "张伟",
            "phone": "13900000001",
            "address": "东湖区湖滨街道湖心社区湖心路1号3单元502"
        }
    })
}

/// A resident ID card renewal entered at the window by the clerk for 王芳 (paper materials).
fn id_card_application_at_the_window() -> Value {
    json!({
        "item": ID_CARD,
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
    })
}

/// A funeral subsidy by 张伟 for 刘洋; the employer's notice (容缺) is missing and the kinship
/// proof is replaced by a commitment (告知承诺).
pub(crate) async fn funeral_application(app: &TestApp) -> Value {
    let pdf = app.upload("citizen", PDF).await;
    json!({
        "item": FUNERAL,
        "answers": {
            "pension_scheme": "employee",
            "deceased_status": "insured",
            "heirs": "single",
            "death_type": "unnatural"
        },
        "form": {
            "deceased_name": "刘洋",
            "deceased_id_number": LIU_YANG,
            "death_date": "2026-02-20",
            "applicant_name": "张伟",
            "applicant_id_number": ZHANG_WEI,
            "relationship_to_applicant": "其他亲属",
            "bank_name": "示范市商业银行",
            "bank_account": "6222000011112222",
            "applicant_phone": "13900000001"
        },
        "materials": [
            upload_input("police_death_certificate", &pdf),
            upload_input("applicant_id_card", &pdf),
            { "code": "kinship_proof", "provided_as": "commitment",
              "commitment": "本人承诺与逝者系亲属关系,如有不实愿承担法律责任" },
            upload_input("bank_account_info", &pdf)
        ],
        "delivery": { "method": "collect", "hall": "city-centre" }
    })
}

/// A second-hand flat bought by 张伟 from 刘洋 (the joint workflow: tax and construction
/// countersign).
async fn real_estate_application(app: &TestApp) -> Value {
    let pdf = app.upload("citizen", PDF).await;
    json!({
        "item": REAL_ESTATE,
        "answers": { "transfer_cause": "sale", "has_mortgage": "no", "entrusted": "no" },
        "form": {
            "applicant_name": "张伟",
            "applicant_id_number": ZHANG_WEI,
            "applicant_phone": "13900000001",
            "transferor_name": "刘洋",
            "transferor_id_number": LIU_YANG,
            "property_certificate_number": "示不动产权第0001234号",
            "property_address": "东湖区湖滨路18号2幢301",
            "property_area": "89.5",
            "transaction_price": "1200000.00",
            "marital_status": "已婚",
            "delivery_method": "邮寄送达"
        },
        "materials": [
            upload_input("real_estate_registration_application", &pdf),
            upload_input("applicant_id_card", &pdf),
            upload_input("transferor_id_card", &pdf),
            upload_input("real_estate_certificate", &pdf),
            upload_input("second_hand_housing_contract", &pdf)
        ],
        "delivery": { "method": "post", "recipient": "张伟", "phone": "13900000001",
                      "address": "东湖区湖滨街道湖心社区湖心路1号3单元502" }
    })
}

/// An accepted birth-certificate case approved twice and granted by the health chief
/// representative (出生医学证明's workflow).
pub(crate) async fn granted_birth_case(app: &TestApp, accepted: Value) -> Value {
    let mut case = app
        .act("approver", &accepted, json!({ "action": "approve" }))
        .await;
    case = app
        .act("approver", &case, json!({ "action": "approve" }))
        .await;
    app.act(
        "chief-health",
        &case,
        json!({ "action": "decide", "granted": true, "opinion": "准予" }),
    )
    .await
}

/// A birth-certificate case by the citizen, accepted by the clerk.
pub(crate) async fn accepted_birth_case(app: &TestApp) -> Value {
    let application = birth_application(app, "citizen").await;
    let case = app.apply("citizen", application).await;
    app.act("clerk", &case, json!({ "action": "accept" })).await
}

// ---------------------------------------------------------------------------------------------
// Uploads

#[tokio::test]
async fn uploads_take_pdf_and_png_and_refuse_other_types_sizes_and_strangers() -> TestResult {
    let app = TestApp::start().await?;
    let pdf = app
        .raw(
            "/api/v1/uploads",
            Some("citizen"),
            Some("application/pdf"),
            PDF.to_vec(),
        )
        .await
        .expect(201, "PDF");
    assert_eq!(pdf["content_type"], "application/pdf");
    assert_eq!(pdf["size"], PDF.len());
    assert_eq!(pdf["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(
        pdf["upload"].as_str(),
        Some(format!("materials/{}.pdf", pdf["sha256"].as_str().unwrap()).as_str())
    );
    let png = app
        .raw("/api/v1/uploads", Some("citizen"), None, PNG.to_vec())
        .await
        .expect(201, "PNG");
    assert_eq!(png["content_type"], "image/png");
    assert!(png["upload"].as_str().unwrap().ends_with(".png"));
    // The same file again is the same upload.
    let again = app
        .raw("/api/v1/uploads", Some("clerk"), None, PDF.to_vec())
        .await
        .expect(201, "PDF again");
    assert_eq!(again["upload"], pdf["upload"]);

    app.raw(
        "/api/v1/uploads",
        Some("citizen"),
        None,
        b"GIF89a not accepted".to_vec(),
    )
    .await
    .expect_error(415, "unsupported_media_type", "a GIF");
    app.raw(
        "/api/v1/uploads",
        Some("citizen"),
        Some("image/png"),
        PDF.to_vec(),
    )
    .await
    .expect_error(415, "unsupported_media_type", "a PDF said to be a PNG");
    let mut just_too_big = PDF.to_vec();
    just_too_big.resize(10 * 1024 * 1024 + 1, b' ');
    app.raw("/api/v1/uploads", Some("citizen"), None, just_too_big)
        .await
        .expect_error(413, "payload_too_large", "10 MiB + 1 byte");
    let mut much_too_big = PDF.to_vec();
    much_too_big.resize(16 * 1024 * 1024, b' ');
    app.raw("/api/v1/uploads", Some("citizen"), None, much_too_big)
        .await
        .expect_error(413, "payload_too_large", "16 MiB");
    let mut exactly_ten = PDF.to_vec();
    exactly_ten.resize(10 * 1024 * 1024, b' ');
    app.raw("/api/v1/uploads", Some("citizen"), None, exactly_ten)
        .await
        .expect(201, "exactly 10 MiB");
    app.raw("/api/v1/uploads", Some("citizen"), None, Vec::new())
        .await
        .expect_error(400, "invalid_body", "empty");
    app.raw("/api/v1/uploads", None, None, PDF.to_vec())
        .await
        .expect_error(401, "unauthenticated", "anonymous upload");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The whole lifecycle

#[tokio::test]
async fn a_birth_certificate_goes_from_application_to_delivery_with_a_licence() -> TestResult {
    let app = TestApp::start().await?;
    let application = birth_application(&app, "citizen").await;
    let submitted = app.apply("citizen", application).await;
    let id = id_of(&submitted);
    assert_eq!(state_of(&submitted), "submitted");
    assert_eq!(submitted["number"], format!("{BIRTH}202603020001"));
    assert_eq!(submitted["version"], 1);
    assert_eq!(submitted["applicant_name"], "张伟");
    assert_eq!(submitted["applicant_identifier"], ZHANG_WEI);
    assert_eq!(submitted["channel"], "web");
    assert_eq!(submitted["department"], "city-health");
    assert_eq!(submitted["state"]["text"], "已提交,等待受理");
    assert_eq!(events_of(&submitted), ["submitted"]);
    assert!(submitted["promised_due"].is_null());
    assert_eq!(
        material(&submitted, "mother_id_card")["provided_as"],
        "upload"
    );
    assert_eq!(
        material(&submitted, "mother_id_card")["content_type"],
        "image/png"
    );
    assert_eq!(
        material(&submitted, "mother_id_card")["name"],
        "母亲有效身份证件"
    );
    // By number as well as by id.
    let by_number = app
        .case("citizen", submitted["number"].as_str().unwrap())
        .await;
    assert_eq!(by_number["id"], submitted["id"]);

    let accepted = app
        .act("clerk", &submitted, json!({ "action": "accept" }))
        .await;
    assert_eq!(state_of(&accepted), "in_progress");
    assert_eq!(step_of(&accepted), "undertake");
    assert_eq!(accepted["hall"], "city-centre");
    assert_eq!(accepted["accepted_on"], "2026-03-02");
    // 1 working day promised, 20 statutory, counted from the day after acceptance.
    assert_eq!(accepted["promised_due"], "2026-03-03");
    assert_eq!(accepted["statutory_due"], "2026-03-30");
    assert_eq!(accepted["warning"], "yellow", "one working day left of one");

    let internal = "内部意见:母亲身份信息已人工核验";
    let undertaken = app
        .act(
            "approver",
            &accepted,
            json!({ "action": "approve", "opinion": internal }),
        )
        .await;
    assert_eq!(step_of(&undertaken), "review");

    // Two days later the promised date has passed.
    app.advance_days(2);
    let late = app.case("citizen", &id).await;
    assert_eq!(late["warning"], "red");
    assert_eq!(
        late["promised_due"], "2026-03-03",
        "reading changes nothing"
    );

    let reviewed = app
        .act(
            "approver",
            &undertaken,
            json!({ "action": "approve", "opinion": "同意" }),
        )
        .await;
    assert_eq!(step_of(&reviewed), "decide");
    app.try_act(
        "approver",
        &reviewed,
        json!({ "action": "decide", "granted": true, "opinion": "准予" }),
    )
    .await
    .expect_error(403, "forbidden", "an approver does not sign the decision");
    let decided = app
        .act(
            "chief-health",
            &reviewed,
            json!({ "action": "decide", "granted": true, "opinion": "准予签发" }),
        )
        .await;
    assert_eq!(state_of(&decided), "granted");
    assert!(decided["warning"].is_null(), "no warning once decided");

    let issued = app
        .act("clerk", &decided, json!({ "action": "issue" }))
        .await;
    assert_eq!(state_of(&issued), "issued");
    let licence = &issued["licence"];
    let identifier = licence["identifier"].as_str().unwrap().to_owned();
    let parsed = LicenceId::parse(&identifier)?;
    assert_eq!(parsed.version(), 1);
    assert_eq!(parsed.issuer(), &CreditCode::parse(CITY_HEALTH_CODE)?);
    assert_eq!(parsed.type_code(), "11100000000013338W003");
    assert!(identifier.ends_with(&format!(".{}", parsed.check_char())));
    assert_eq!(licence["holder"]["identifier"], ZHANG_WEI);
    assert_eq!(licence["holder"]["name"], "张伟");
    assert_eq!(licence["issuer"], "city-health");
    assert_eq!(licence["status"], "01");
    assert_eq!(licence["case_number"], submitted["number"]);
    assert_eq!(licence["data"]["child_name"], "张子涵");
    assert_eq!(issued["case"]["licence"], identifier.as_str());

    let delivered = app
        .act(
            "clerk",
            &issued,
            json!({ "action": "deliver", "how": "邮寄送达" }),
        )
        .await;
    assert_eq!(state_of(&delivered), "delivered");
    assert_eq!(delivered["version"], 7);
    app.try_act(
        "clerk",
        &delivered,
        json!({ "action": "deliver", "how": "again" }),
    )
    .await
    .expect_error(409, "illegal_transition", "a delivered case is final");

    // The citizen sees every public event with its plain text, and no internal opinion.
    let reply = app.get("citizen", &format!("/api/v1/cases/{id}")).await;
    assert!(
        !reply.text.contains(internal),
        "an internal opinion leaked: {}",
        reply.text
    );
    let seen = reply.expect(200, "citizen reads the case");
    let expected_events = [
        "submitted",
        "accepted",
        "step_passed",
        "step_passed",
        "decided",
        "issued",
        "delivered",
    ];
    assert_eq!(events_of(&seen), expected_events);
    for entry in seen["timeline"].as_array().unwrap() {
        assert!(
            entry["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{entry}"
        );
        assert!(
            entry["detail"].is_null(),
            "no details for the citizen: {entry}"
        );
        assert_eq!(entry["public"], true);
    }
    assert_eq!(seen["timeline"][2]["text"], "承办环节已完成");
    assert_eq!(
        seen["timeline"][2]["actor"], "示范市卫生健康委员会",
        "the office, not the person"
    );
    assert_eq!(seen["state"]["text"], "已送达");
    assert_eq!(seen["licence"]["identifier"], identifier.as_str());
    // Staff see the opinions.
    let staff = app.case("approver", &id).await;
    assert_eq!(events_of(&staff), expected_events);
    assert_eq!(staff["timeline"][2]["detail"]["opinion"], internal);
    assert_eq!(staff["timeline"][2]["actor"], "李娜");

    // The holder lists the licence; someone else may not.
    let held = app
        .get("citizen", &format!("/api/v1/licenses?holder={ZHANG_WEI}"))
        .await
        .expect(200, "own licences");
    assert_eq!(held.as_array().map(Vec::len), Some(1));
    assert_eq!(held[0]["identifier"], identifier.as_str());
    app.get("citizen2", &format!("/api/v1/licenses?holder={ZHANG_WEI}"))
        .await
        .expect_error(403, "forbidden", "someone else's licences");
    app.get("citizen", "/api/v1/licenses?holder=not-an-id")
        .await
        .expect_error(400, "invalid_query", "a malformed holder");

    // Anyone verifies it without signing in; the holder's name is masked.
    let verified = app
        .request(
            Method::GET,
            &format!("/api/v1/licenses/{identifier}/verify"),
            None,
            None,
        )
        .await
        .expect(200, "verify");
    assert_eq!(verified["genuine"], true);
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["status"], "01");
    assert_eq!(verified["holder"], "张*");
    assert_eq!(verified["version"], 1);
    assert_eq!(verified["name"], "出生医学证明");
    assert!(
        !verified.to_string().contains(ZHANG_WEI),
        "no ID number: {verified}"
    );
    let check = parsed.check_char();
    let other = if check == '0' { '1' } else { '0' };
    let tampered = format!("{}{other}", &identifier[..identifier.len() - 1]);
    app.request(
        Method::GET,
        &format!("/api/v1/licenses/{tampered}/verify"),
        None,
        None,
    )
    .await
    .expect_error(400, "invalid_query", "a wrong check character");
    let unknown = LicenceId::build(parsed.type_code(), parsed.issuer(), "99999", 1)?;
    app.request(
        Method::GET,
        &format!("/api/v1/licenses/{unknown}/verify"),
        None,
        None,
    )
    .await
    .expect_error(404, "licence_not_found", "never issued");

    // Every change wrote its outbox message (with the case number) and its events.
    let outbox = app.outbox_of(&id).await;
    let topics: Vec<&str> = outbox.iter().map(|m| m.topic.as_str()).collect();
    assert_eq!(
        topics,
        expected_events
            .map(|e| format!("case.{e}"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for (index, message) in outbox.iter().enumerate() {
        assert_eq!(
            message.payload["number"], submitted["number"],
            "{message:?}"
        );
        assert_eq!(message.payload["version"], index + 1, "{message:?}");
        assert_eq!(
            message.department.as_ref().map(|d| d.as_str()),
            Some("city-health")
        );
    }
    let events = app.store().cases.case_events(id.parse()?).await?;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<u32>>()
    );
    // Every staff action is audited under the case number.
    let audit = app
        .store()
        .cases
        .audit_log(submitted["number"].as_str().unwrap())
        .await?;
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.actor.as_str(), a.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("clerk", "accept"),
            ("approver", "approve"),
            ("approver", "approve"),
            ("chief-health", "decide"),
            ("clerk", "issue"),
            ("clerk", "deliver"),
        ]
    );
    // Staff reads of 张伟's case are in his data-access log; his own reads are not.
    let log = app
        .get("citizen", "/api/v1/me/data-access")
        .await
        .expect(200, "data access");
    let readers: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert!(readers.contains(&"approver"), "{log}");
    assert!(!readers.contains(&"citizen"), "{log}");
    Ok(())
}

#[tokio::test]
async fn a_licence_the_applicant_holds_replaces_a_material() -> TestResult {
    let app = TestApp::start().await?;
    // The clerk enters 王芳's ID card renewal at the window; paper is checked there.
    let submitted = app
        .apply("clerk", id_card_application_at_the_window())
        .await;
    assert_eq!(submitted["channel"], "window");
    assert_eq!(submitted["hall"], "city-centre");
    assert_eq!(submitted["applicant_identifier"], WANG_FANG);
    assert_eq!(
        material(&submitted, "original_id_card")["provided_as"],
        "paper"
    );
    // A citizen cannot hand in paper online.
    let mut paper_online = id_card_application_at_the_window();
    paper_online.as_object_mut().unwrap().remove("applicant");
    let refused = app
        .post("citizen2", "/api/v1/applications", paper_online)
        .await
        .expect_error(400, "invalid_application", "paper online");
    assert!(
        problems(&refused).iter().any(|p| p.contains("paper")),
        "{refused}"
    );

    let accepted = app
        .act("clerk", &submitted, json!({ "action": "accept" }))
        .await;
    // 15 working days promised.
    assert_eq!(accepted["promised_due"], "2026-03-23");
    let step = app
        .act("approver", &accepted, json!({ "action": "approve" }))
        .await;
    let step = app
        .act("approver", &step, json!({ "action": "approve" }))
        .await;
    let decided = app
        .act(
            "chief-police",
            &step,
            json!({ "action": "decide", "granted": true, "opinion": "同意" }),
        )
        .await;
    let issued = app
        .act("clerk", &decided, json!({ "action": "issue" }))
        .await;
    let id_card = issued["licence"]["identifier"].as_str().unwrap().to_owned();
    assert_eq!(issued["licence"]["holder"]["identifier"], WANG_FANG);
    assert_eq!(issued["licence"]["valid_until"], "2046-03-02");
    assert_eq!(issued["licence"]["type_key"], "resident_id_card");
    // 王芳 sees the case the clerk opened for her.
    let hers = app
        .get("citizen2", "/api/v1/cases")
        .await
        .expect(200, "list");
    assert_eq!(hers["cases"][0]["id"], issued["id"]);

    // 王芳 applies for the birth certificate; her ID card replaces the copy.
    let mut application = birth_application(&app, "citizen2").await;
    application["form"]["mother_id_number"] = json!(WANG_FANG);
    application["materials"][0] =
        json!({ "code": "mother_id_card", "provided_as": "licence", "licence": id_card });
    let birth = app.apply("citizen2", application.clone()).await;
    let used = material(&birth, "mother_id_card");
    assert_eq!(used["provided_as"], "licence");
    assert_eq!(used["licence"], id_card.as_str());
    // The clerk may use it at the window for her; that read is in her data-access log, her own
    // use is not.
    let mut at_the_window = application.clone();
    at_the_window["applicant"] =
        json!({ "kind": "person", "name": "王芳", "identifier": WANG_FANG });
    let windowed = app.apply("clerk", at_the_window).await;
    assert_eq!(
        material(&windowed, "mother_id_card")["provided_as"],
        "licence"
    );
    let log = app
        .get("citizen2", "/api/v1/me/data-access")
        .await
        .expect(200, "her log");
    let licence_reads: Vec<&Value> = array(&log)
        .iter()
        .filter(|e| e["what"] == "居民身份证")
        .collect();
    assert_eq!(licence_reads.len(), 1, "{log}");
    assert_eq!(licence_reads[0]["actor"], "clerk");
    assert!(
        array(&log).iter().all(|e| e["actor"] != "citizen2"),
        "{log}"
    );

    // Not the applicant's licence; not a licence that replaces that material; no such licence.
    let stranger = birth_application(&app, "citizen").await;
    let mut stranger = stranger;
    stranger["materials"][0] =
        json!({ "code": "mother_id_card", "provided_as": "licence", "licence": id_card });
    app.post("citizen", "/api/v1/applications", stranger)
        .await
        .expect_error(400, "invalid_application", "someone else's licence");
    let mut wrong_type = application.clone();
    wrong_type["materials"][2] = json!({
        "code": "birth_certificate_registration_form", "provided_as": "licence", "licence": id_card
    });
    app.post("citizen2", "/api/v1/applications", wrong_type)
        .await
        .expect_error(
            400,
            "invalid_application",
            "a licence that replaces another material",
        );
    let mut unknown = application.clone();
    let parsed = LicenceId::parse(&id_card)?;
    let never = LicenceId::build(parsed.type_code(), parsed.issuer(), "1", 1)?;
    unknown["materials"][0] =
        json!({ "code": "mother_id_card", "provided_as": "licence", "licence": never.as_str() });
    app.post("citizen2", "/api/v1/applications", unknown)
        .await
        .expect_error(400, "invalid_application", "a licence never issued");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Every action

#[tokio::test]
async fn a_tolerated_material_is_accepted_missing_and_supplied_later() -> TestResult {
    let app = TestApp::start().await?;
    let application = funeral_application(&app).await;
    let submitted = app.apply("citizen", application.clone()).await;
    assert_eq!(
        material(&submitted, "kinship_proof")["provided_as"],
        "commitment"
    );
    assert!(
        submitted["case"]["materials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["code"] != "employer_death_notice"),
        "the tolerable material is missing"
    );
    // A commitment replaces only materials that allow it.
    let mut committed = application.clone();
    committed["materials"][1] =
        json!({ "code": "applicant_id_card", "provided_as": "commitment", "commitment": "承诺" });
    app.post("citizen", "/api/v1/applications", committed)
        .await
        .expect_error(400, "invalid_application", "commitment for an ID card");

    // The clerk must say the missing material is tolerated, with a due date.
    app.try_act("clerk", &submitted, json!({ "action": "accept" }))
        .await
        .expect_error(
            400,
            "invalid_action",
            "accepting with a material silently missing",
        );
    app.try_act(
        "clerk",
        &submitted,
        json!({ "action": "accept", "tolerated": [
            { "material": "applicant_id_card", "due": "2026-03-16" }
        ] }),
    )
    .await
    .expect_error(400, "invalid_action", "a material that may not be missing");
    app.try_act(
        "clerk",
        &submitted,
        json!({ "action": "accept", "tolerated": [
            { "material": "employer_death_notice", "due": "2026-03-02" }
        ] }),
    )
    .await
    .expect_error(400, "invalid_action", "due today");
    let accepted = app
        .act(
            "clerk",
            &submitted,
            json!({ "action": "accept", "tolerated": [
                { "material": "employer_death_notice", "due": "2026-03-16" }
            ] }),
        )
        .await;
    let tolerated = material(&accepted, "employer_death_notice");
    assert_eq!(tolerated["provided_as"], "tolerated");
    assert_eq!(tolerated["due"], "2026-03-16");
    assert_eq!(tolerated["name"], "用人单位出具的职工死亡情况说明");
    let citizen_view = app.case("citizen", &id_of(&accepted)).await;
    assert_eq!(
        citizen_view["timeline"][1]["text"],
        "申请已容缺受理,请在期限内补交 1 份材料"
    );

    // Supplied later by the applicant, as an upload like any other.
    let png = app.upload("citizen", PNG).await;
    app.try_act(
        "citizen",
        &accepted,
        json!({ "action": "supply_material", "material": upload_input("employer_death_notice", "materials/nothing-here.pdf") }),
    )
    .await
    .expect_error(400, "invalid_application", "an upload that does not exist");
    let supplied = app
        .act(
            "citizen",
            &accepted,
            json!({ "action": "supply_material", "material": upload_input("employer_death_notice", &png) }),
        )
        .await;
    let notice = material(&supplied, "employer_death_notice");
    assert_eq!(notice["provided_as"], "upload");
    assert_eq!(notice["content_type"], "image/png");
    assert_eq!(notice["size"], PNG.len());
    assert_eq!(state_of(&supplied), "in_progress");
    app.try_act(
        "citizen",
        &supplied,
        json!({ "action": "supply_material", "material": upload_input("employer_death_notice", &png) }),
    )
    .await
    .expect_error(400, "invalid_action", "supplied twice");

    // The subsidy's result is no licence: issuing records none, whatever the client sends.
    let step = app
        .act("approver", &supplied, json!({ "action": "approve" }))
        .await;
    let step = app
        .act("approver", &step, json!({ "action": "approve" }))
        .await;
    let decided = app
        .act(
            "chief-hrss",
            &step,
            json!({ "action": "decide", "granted": true, "opinion": "符合条件" }),
        )
        .await;
    let birth = accepted_birth_case(&app).await;
    let birth = app
        .act("approver", &birth, json!({ "action": "approve" }))
        .await;
    let birth = app
        .act("approver", &birth, json!({ "action": "approve" }))
        .await;
    let birth = app
        .act(
            "chief-health",
            &birth,
            json!({ "action": "decide", "granted": true, "opinion": "准予" }),
        )
        .await;
    let birth = app.act("clerk", &birth, json!({ "action": "issue" })).await;
    let other_licence = birth["licence"]["identifier"].as_str().unwrap().to_owned();
    let issued = app
        .act(
            "clerk",
            &decided,
            json!({ "action": "issue", "licence": other_licence }),
        )
        .await;
    assert_eq!(state_of(&issued), "issued");
    assert!(issued["licence"].is_null(), "{}", issued["licence"]);
    assert!(
        issued["case"].get("licence").is_none(),
        "{}",
        issued["case"]
    );
    Ok(())
}

#[tokio::test]
async fn a_correction_notice_lists_everything_once_and_the_applicant_resubmits() -> TestResult {
    let app = TestApp::start().await?;
    let application = birth_application(&app, "citizen").await;
    let submitted = app.apply("citizen", application).await;
    let notice = json!({ "action": "request_correction", "items": [
        { "material": "birth_certificate_registration_form", "problem": "缺少父母签字" },
        { "material": "mother_id_card", "problem": "复印件不清晰" }
    ] });
    app.try_act("approver", &submitted, notice.clone())
        .await
        .expect_error(403, "forbidden", "an approver before acceptance");
    let correction = app.act("clerk", &submitted, notice).await;
    assert_eq!(state_of(&correction), "correction");
    assert_eq!(correction["state"]["text"], "需补正材料");
    assert_eq!(
        correction["case"]["correction"].as_array().map(Vec::len),
        Some(2)
    );
    let citizen_view = app.case("citizen", &id_of(&correction)).await;
    assert_eq!(
        citizen_view["timeline"][1]["text"],
        "请一次性补正以下 2 项材料(补正期间不计时)"
    );

    let pdf = app.upload("citizen", PDF).await;
    let png = app.upload("citizen", PNG).await;
    app.try_act(
        "citizen",
        &correction,
        json!({ "action": "resubmit", "materials": [
            upload_input("birth_certificate_registration_form", &pdf)
        ] }),
    )
    .await
    .expect_error(400, "invalid_action", "half an answer");
    app.try_act(
        "citizen",
        &correction,
        json!({ "action": "resubmit", "materials": [
            upload_input("birth_certificate_registration_form", &pdf),
            upload_input("mother_id_card", &png),
            upload_input("no_such_material", &pdf)
        ] }),
    )
    .await
    .expect_error(
        400,
        "invalid_application",
        "a material the item does not ask for",
    );
    app.try_act(
        "citizen2",
        &correction,
        json!({ "action": "resubmit", "materials": [] }),
    )
    .await
    .expect_error(404, "case_not_found", "someone else's case");
    let resubmitted = app
        .act(
            "citizen",
            &correction,
            json!({ "action": "resubmit", "materials": [
                upload_input("birth_certificate_registration_form", &pdf),
                upload_input("mother_id_card", &png)
            ] }),
        )
        .await;
    assert_eq!(state_of(&resubmitted), "submitted");
    assert!(
        resubmitted["case"]["correction"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        material(&resubmitted, "birth_certificate_registration_form")["content_type"],
        "application/pdf"
    );

    // A correction during handling stops the clock until the applicant answers.
    let accepted = app
        .act("clerk", &resubmitted, json!({ "action": "accept" }))
        .await;
    assert_eq!(accepted["promised_due"], "2026-03-03");
    let stopped = app
        .act(
            "approver",
            &accepted,
            json!({ "action": "request_correction", "items": [
                { "material": "father_id_card", "problem": "已过有效期" }
            ] }),
        )
        .await;
    assert!(stopped["clock_stopped"].as_bool().unwrap());
    assert!(
        stopped["warning"].is_null(),
        "no warning while the clock is stopped"
    );
    app.advance_days(2);
    let resumed = app
        .act(
            "citizen",
            &stopped,
            json!({ "action": "resubmit", "materials": [ upload_input("father_id_card", &png) ] }),
        )
        .await;
    assert_eq!(state_of(&resumed), "in_progress");
    assert_eq!(step_of(&resumed), "undertake");
    assert!(!resumed["clock_stopped"].as_bool().unwrap());
    // Stopped on 3-02 and 3-03; the one working day left runs on 3-04.
    assert_eq!(resumed["promised_due"], "2026-03-04");
    assert_eq!(resumed["case"]["suspensions"][0]["from"], "2026-03-02");
    Ok(())
}

#[tokio::test]
async fn reject_return_suspend_resume_extend_transfer_and_withdraw() -> TestResult {
    let app = TestApp::start().await?;

    // 不予受理, with a reason the citizen reads.
    let application = birth_application(&app, "citizen").await;
    let to_reject = app.apply("citizen", application.clone()).await;
    app.try_act(
        "clerk",
        &to_reject,
        json!({ "action": "reject", "reason": " " }),
    )
    .await
    .expect_error(400, "invalid_action", "no reason");
    app.try_act("citizen", &to_reject, json!({ "action": "pre_approve" }))
        .await
        .expect_error(403, "forbidden", "the applicant pre-approving");
    let pre_reviewed = app
        .act("clerk", &to_reject, json!({ "action": "pre_approve" }))
        .await;
    assert_eq!(state_of(&pre_reviewed), "pre_reviewed");
    assert_eq!(pre_reviewed["state"]["text"], "预审通过,等待受理");
    let rejected = app
        .act(
            "clerk",
            &pre_reviewed,
            json!({ "action": "reject", "reason": "新生儿不在本市助产机构出生" }),
        )
        .await;
    assert_eq!(state_of(&rejected), "rejected");
    let seen = app.case("citizen", &id_of(&rejected)).await;
    assert_eq!(events_of(&seen), ["submitted", "pre_approved", "rejected"]);
    assert_eq!(
        seen["timeline"][2]["text"],
        "不予受理:新生儿不在本市助产机构出生"
    );
    app.try_act("clerk", &rejected, json!({ "action": "accept" }))
        .await
        .expect_error(409, "illegal_transition", "accepting a rejected case");

    // Withdrawn by the applicant, and only by the applicant.
    let to_withdraw = app.apply("citizen", application.clone()).await;
    app.try_act("clerk", &to_withdraw, json!({ "action": "withdraw" }))
        .await
        .expect_error(403, "forbidden", "a clerk withdrawing");
    let withdrawn = app
        .act(
            "citizen",
            &to_withdraw,
            json!({ "action": "withdraw", "reason": "信息填错" }),
        )
        .await;
    assert_eq!(state_of(&withdrawn), "withdrawn");

    // Returned to an earlier step: the citizen does not see the internal return.
    let accepted = accepted_birth_case(&app).await;
    let id = id_of(&accepted);
    let reviewing = app
        .act("approver", &accepted, json!({ "action": "approve" }))
        .await;
    app.try_act(
        "approver",
        &reviewing,
        json!({ "action": "return", "to": "decide", "reason": "x" }),
    )
    .await
    .expect_error(400, "invalid_action", "return to a later step");
    app.try_act(
        "clerk",
        &reviewing,
        json!({ "action": "return", "to": "undertake", "reason": "x" }),
    )
    .await
    .expect_error(403, "forbidden", "a clerk returning");
    let returned = app
        .act(
            "approver",
            &reviewing,
            json!({ "action": "return", "to": "undertake", "reason": "内部:出生体重与分娩记录不符" }),
        )
        .await;
    assert_eq!(step_of(&returned), "undertake");
    let reply = app.get("citizen", &format!("/api/v1/cases/{id}")).await;
    assert!(!reply.text.contains("分娩记录不符"), "{}", reply.text);
    assert!(!events_of(&reply.body).contains(&"returned".to_owned()));
    assert!(events_of(&app.case("approver", &id).await).contains(&"returned".to_owned()));

    // 特别程序: the clock stops and the due dates move by the working days it lasted.
    app.try_act(
        "clerk",
        &returned,
        json!({ "action": "suspend", "procedure": "专家评审", "reason": "r" }),
    )
    .await
    .expect_error(403, "forbidden", "a clerk suspending");
    let suspended = app
        .act(
            "approver",
            &returned,
            json!({ "action": "suspend", "procedure": "专家评审", "reason": "出生体重存疑,需专家复核" }),
        )
        .await;
    assert_eq!(state_of(&suspended), "suspended");
    assert!(suspended["clock_stopped"].as_bool().unwrap());
    app.try_act("approver", &suspended, json!({ "action": "approve" }))
        .await
        .expect_error(409, "illegal_transition", "approving while suspended");
    app.advance_days(3); // Thursday 3-05
    let still = app.case("approver", &id).await;
    assert_ne!(still["warning"], "red", "a paused clock does not run late");
    let resumed = app
        .act("approver", &suspended, json!({ "action": "resume" }))
        .await;
    assert_eq!(state_of(&resumed), "in_progress");
    assert_eq!(step_of(&resumed), "undertake");
    // Suspended 3-02..3-04: the promised day is 3-05 and the statutory 20 days end on 4-01.
    assert_eq!(resumed["promised_due"], "2026-03-05");
    assert_eq!(resumed["statutory_due"], "2026-04-01");

    // 延期: only the chief representative, at most 10 working days in all.
    app.try_act(
        "approver",
        &resumed,
        json!({ "action": "extend", "days": 5, "reason": "r" }),
    )
    .await
    .expect_error(403, "forbidden", "an approver extending");
    let extended = app
        .act(
            "chief-health",
            &resumed,
            json!({ "action": "extend", "days": 5, "reason": "需补充调查" }),
        )
        .await;
    assert_eq!(extended["extension_days"], 5);
    assert_eq!(
        extended["statutory_due"], "2026-04-09",
        "4-01 + 5 working days (4-04..4-06 off)"
    );
    app.try_act(
        "chief-health",
        &extended,
        json!({ "action": "extend", "days": 6, "reason": "r" }),
    )
    .await
    .expect_error(400, "invalid_action", "more than 10 days in all");
    let seen = app.case("citizen", &id).await;
    assert!(
        seen["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"] == "经批准延长办理期限 5 个工作日:需补充调查"),
        "the applicant is told the reason: {}",
        seen["timeline"]
    );

    // Transferred to another department, which starts from its first step.
    app.try_act(
        "chief-health",
        &extended,
        json!({ "action": "transfer", "department": "no-such-department", "reason": "r" }),
    )
    .await
    .expect_error(400, "invalid_action", "an unknown department");
    let transferred = app
        .act(
            "chief-health",
            &extended,
            json!({ "action": "transfer", "department": "east-health", "reason": "属东湖区助产机构签发" }),
        )
        .await;
    assert_eq!(transferred["department"], "east-health");
    assert_eq!(step_of(&transferred), "undertake");
    app.get("chief-health", &format!("/api/v1/cases/{id}"))
        .await
        .expect_error(404, "case_not_found", "no longer the chief's department");
    let step = app
        .act("approver", &transferred, json!({ "action": "approve" }))
        .await;
    let step = app
        .act("approver", &step, json!({ "action": "approve" }))
        .await;
    let decided = app
        .act(
            "chief-east-health",
            &step,
            json!({ "action": "decide", "granted": false, "opinion": "出生信息与分娩记录不符" }),
        )
        .await;
    assert_eq!(state_of(&decided), "refused");
    app.try_act("clerk", &decided, json!({ "action": "issue" }))
        .await
        .expect_error(409, "illegal_transition", "issuing a refused case");
    assert!(decided["licence"].is_null());
    Ok(())
}

#[tokio::test]
async fn countersigning_departments_all_pass_before_the_decision() -> TestResult {
    let app = TestApp::start().await?;
    let application = real_estate_application(&app).await;
    let submitted = app.apply("citizen", application.clone()).await;
    assert_eq!(submitted["case"]["workflow"]["key"], "joint");
    let accepted = app
        .act("clerk", &submitted, json!({ "action": "accept" }))
        .await;
    // 3 working days promised: normal now, yellow on the last day, red after it.
    assert_eq!(accepted["promised_due"], "2026-03-05");
    assert_eq!(accepted["warning"], "normal");
    let countersign = app
        .act("approver", &accepted, json!({ "action": "approve" }))
        .await;
    assert_eq!(step_of(&countersign), "countersign");
    app.try_act("approver", &countersign, json!({ "action": "approve" }))
        .await
        .expect_error(400, "invalid_action", "approving a countersign step");
    app.try_act(
        "approver",
        &countersign,
        json!({ "action": "countersign", "pass": true }),
    )
    .await
    .expect_error(403, "forbidden", "not a countersigning department");
    // approver2 represents both city-tax and city-construction and may see the case.
    app.case("approver2", &id_of(&countersign)).await;
    let taxed = app
        .act(
            "approver2",
            &countersign,
            json!({ "action": "countersign", "pass": true, "opinion": "税费已缴清", "department": "city-tax" }),
        )
        .await;
    assert_eq!(step_of(&taxed), "countersign", "one department of two");
    app.try_act(
        "approver2",
        &taxed,
        json!({ "action": "countersign", "pass": true, "department": "city-tax" }),
    )
    .await
    .expect_error(403, "forbidden", "voting twice for one department");
    app.advance_days(2); // Wednesday 3-04: one working day left
    assert_eq!(
        app.case("citizen", &id_of(&taxed)).await["warning"],
        "yellow"
    );
    let signed = app
        .act(
            "approver2",
            &taxed,
            json!({ "action": "countersign", "pass": true }),
        )
        .await;
    assert_eq!(step_of(&signed), "decide");
    let staff = app.case("approver", &id_of(&signed)).await;
    let votes: Vec<&str> = staff["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "countersigned")
        .map(|e| e["department"].as_str().unwrap())
        .collect();
    assert_eq!(votes.len(), 2, "{}", staff["timeline"]);
    let extended = app
        .act(
            "chief-real-estate",
            &signed,
            json!({ "action": "extend", "days": 15, "reason": "并联审批" }),
        )
        .await;
    assert_eq!(
        extended["extension_days"], 15,
        "joint handling may extend by 15"
    );
    app.advance_days(2); // Friday 3-06
    let late = app.case("citizen", &id_of(&extended)).await;
    assert_eq!(
        late["warning"], "normal",
        "the extension moved the promised date too"
    );
    let decided = app
        .act(
            "chief-real-estate",
            &extended,
            json!({ "action": "decide", "granted": true, "opinion": "准予登记" }),
        )
        .await;
    // An identifier sent with the action is not taken: the service mints the licence.
    let forged = LicenceId::build(
        "11100000000013338W007",
        &CreditCode::parse("12990100004214008T")?,
        "1",
        1,
    )?;
    let issued = app
        .act(
            "clerk",
            &decided,
            json!({ "action": "issue", "licence": forged.as_str() }),
        )
        .await;
    assert_eq!(issued["licence"]["type_key"], "real_estate_certificate");
    assert_ne!(issued["licence"]["identifier"], forged.as_str());
    assert_eq!(issued["case"]["licence"], issued["licence"]["identifier"]);

    // One negative vote sends the case back to the step before the countersign.
    let second = app.apply("citizen", application).await;
    let second = app
        .act("clerk", &second, json!({ "action": "accept" }))
        .await;
    let second = app
        .act("approver", &second, json!({ "action": "approve" }))
        .await;
    app.try_act(
        "approver2",
        &second,
        json!({ "action": "countersign", "pass": false }),
    )
    .await
    .expect_error(400, "invalid_action", "a negative vote needs an opinion");
    let back = app
        .act(
            "approver2",
            &second,
            json!({ "action": "countersign", "pass": false, "opinion": "规划用途不符", "department": "city-construction" }),
        )
        .await;
    assert_eq!(step_of(&back), "undertake");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[tokio::test]
async fn refused_actions_change_nothing() -> TestResult {
    let app = TestApp::start().await?;
    let application = birth_application(&app, "citizen").await;
    let case = app.apply("citizen", application).await;
    let id = id_of(&case);
    let path = format!("/api/v1/cases/{id}/actions");

    app.try_act("clerk", &case, json!({ "action": "approve" }))
        .await
        .expect_error(409, "illegal_transition", "approving before acceptance");
    app.try_act("citizen", &case, json!({ "action": "accept" }))
        .await
        .expect_error(403, "forbidden", "the applicant accepting");
    app.try_act("approver", &case, json!({ "action": "accept" }))
        .await
        .expect_error(403, "forbidden", "an approver accepting");
    let stale = app
        .post("clerk", &path, json!({ "version": 0, "action": "accept" }))
        .await
        .expect_error(409, "stale_version", "a stale version");
    assert!(
        stale["error"]["message"]
            .as_str()
            .unwrap()
            .contains("version")
    );
    for (body, what) in [
        ("{\"version\": 1, \"action\": ".to_owned(), "truncated JSON"),
        ("[]".to_owned(), "not an object"),
        (json!({ "action": "accept" }).to_string(), "no version"),
        (
            json!({ "version": 1, "action": "fly" }).to_string(),
            "an unknown action",
        ),
        (json!({ "version": 1 }).to_string(), "no action"),
        (
            json!({ "version": 1, "action": "reject" }).to_string(),
            "a reject without reason",
        ),
        (
            json!({ "version": "one", "action": "accept" }).to_string(),
            "a version that is no number",
        ),
    ] {
        let reply = app
            .client
            .post(format!("{}{path}", app.base))
            .bearer_auth(app.token("clerk").await)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST, "{what}");
        let error: Value = reply.json().await?;
        assert_eq!(error["error"]["code"], "invalid_body", "{what}: {error}");
    }
    app.request(
        Method::POST,
        &path,
        None,
        Some(json!({ "version": 1, "action": "accept" })),
    )
    .await
    .expect_error(401, "unauthenticated", "anonymous action");
    app.post(
        "clerk",
        "/api/v1/cases/00000000-0000-0000-0000-000000000000/actions",
        json!({ "version": 1, "action": "accept" }),
    )
    .await
    .expect_error(404, "case_not_found", "no such case");

    // Nothing changed: version, events, outbox.
    let after = app.case("clerk", &id).await;
    assert_eq!(after["version"], 1);
    assert_eq!(state_of(&after), "submitted");
    assert_eq!(events_of(&after), ["submitted"]);
    assert_eq!(app.outbox_of(&id).await.len(), 1);

    // Two clerks act on the same version: the second is told to reload.
    let first = app.act("clerk", &case, json!({ "action": "accept" })).await;
    app.try_act(
        "clerk2",
        &case,
        json!({ "action": "reject", "reason": "重复" }),
    )
    .await
    .expect_error(409, "stale_version", "the second of two");
    let now = app.case("clerk", &id).await;
    assert_eq!(now["version"], first["version"]);
    assert_eq!(state_of(&now), "in_progress");
    assert_eq!(app.outbox_of(&id).await.len(), 2);
    Ok(())
}

#[tokio::test]
async fn an_application_with_problems_lists_every_one() -> TestResult {
    let app = TestApp::start().await?;
    let complete = birth_application(&app, "citizen").await;

    let mut incomplete = complete.clone();
    let form = incomplete["form"].as_object_mut().unwrap();
    form.remove("child_name");
    form.remove("mother_name");
    incomplete["materials"].as_array_mut().unwrap().truncate(2);
    let body = app
        .post("citizen", "/api/v1/applications", incomplete)
        .await
        .expect_error(400, "invalid_application", "missing fields and materials");
    let listed = problems(&body);
    for needle in [
        "child_name",
        "mother_name",
        "birth_certificate_registration_form",
    ] {
        assert!(
            listed.iter().any(|p| p.contains(needle)),
            "{needle} not in {listed:?}"
        );
    }
    // The delivery record is fetched by the hospital itself (部门共享核验 only): never asked.
    assert!(
        !listed.iter().any(|p| p.contains("delivery_record")),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 3, "{listed:?}");

    let mut bad_id = complete.clone();
    bad_id["form"]["mother_id_number"] = json!("36042619910102009X");
    let body = app
        .post("citizen", "/api/v1/applications", bad_id)
        .await
        .expect_error(400, "invalid_application", "an invalid ID number");
    let listed = problems(&body);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].contains("mother_id_number"), "{listed:?}");
    assert!(listed[0].contains("母亲公民身份号码"), "{listed:?}");

    let mut unanswered = complete.clone();
    unanswered["answers"] = json!({ "entrusted": "parent" });
    let body = app
        .post("citizen", "/api/v1/applications", unanswered)
        .await
        .expect_error(400, "invalid_application", "a question left unanswered");
    assert!(
        problems(&body).iter().any(|p| p.contains("father_known")),
        "{body}"
    );

    let mut bad_choice = complete.clone();
    bad_choice["form"]["child_sex"] = json!("未知");
    bad_choice["form"]["child_birth_date"] = json!("2026-02-30");
    let body = app
        .post("citizen", "/api/v1/applications", bad_choice)
        .await
        .expect_error(400, "invalid_application", "a wrong choice and date");
    assert_eq!(problems(&body).len(), 2, "{body}");

    let mut unknown_item = complete.clone();
    unknown_item["item"] = json!("11990100004213675N2000199000000");
    app.post("citizen", "/api/v1/applications", unknown_item)
        .await
        .expect_error(404, "item_not_found", "an unknown item");
    let mut bad_item = complete.clone();
    bad_item["item"] = json!("not-a-code");
    app.post("citizen", "/api/v1/applications", bad_item)
        .await
        .expect_error(400, "invalid_item_code", "a malformed item code");
    let mut bad_answer = complete.clone();
    bad_answer["answers"]["entrusted"] = json!("robot");
    app.post("citizen", "/api/v1/applications", bad_answer)
        .await
        .expect_error(400, "invalid_answer", "an unknown option");
    let mut bad_upload = complete.clone();
    bad_upload["materials"][0]["upload"] = json!("materials/0000.pdf");
    app.post("citizen", "/api/v1/applications", bad_upload)
        .await
        .expect_error(400, "invalid_application", "an upload never made");
    let mut for_someone = complete.clone();
    for_someone["applicant"] = json!({ "kind": "person", "name": "王芳", "identifier": WANG_FANG });
    app.post("citizen", "/api/v1/applications", for_someone)
        .await
        .expect_error(
            400,
            "invalid_application",
            "a citizen applying for someone else",
        );
    let mut extra = complete.clone();
    extra["surprise"] = json!(true);
    app.post("citizen", "/api/v1/applications", extra)
        .await
        .expect_error(400, "invalid_body", "an unknown field");
    app.post("approver", "/api/v1/applications", {
        let mut body = complete.clone();
        body["applicant"] = json!({ "kind": "person", "name": "张伟", "identifier": ZHANG_WEI });
        body
    })
    .await
    .expect_error(403, "forbidden", "an approver applying");
    app.request(
        Method::POST,
        "/api/v1/applications",
        None,
        Some(complete.clone()),
    )
    .await
    .expect_error(401, "unauthenticated", "anonymous application");
    let listed = app
        .get("citizen", "/api/v1/cases")
        .await
        .expect(200, "list");
    assert!(
        listed["cases"].as_array().unwrap().is_empty(),
        "no case was opened: {listed}"
    );
    Ok(())
}

#[tokio::test]
async fn a_citizen_sees_only_their_own_cases() -> TestResult {
    let app = TestApp::start().await?;
    let application = birth_application(&app, "citizen").await;
    let case = app.apply("citizen", application).await;
    let id = id_of(&case);
    app.get("citizen2", &format!("/api/v1/cases/{id}"))
        .await
        .expect_error(404, "case_not_found", "someone else's case");
    app.get(
        "citizen2",
        &format!("/api/v1/cases/{}", case["number"].as_str().unwrap()),
    )
    .await
    .expect_error(404, "case_not_found", "someone else's case by number");
    app.try_act("citizen2", &case, json!({ "action": "withdraw" }))
        .await
        .expect_error(404, "case_not_found", "withdrawing someone else's case");
    let listed = app
        .get("citizen2", "/api/v1/cases")
        .await
        .expect(200, "list");
    assert!(listed["cases"].as_array().unwrap().is_empty(), "{listed}");
    let filtered = app
        .get("citizen2", &format!("/api/v1/cases?applicant={ZHANG_WEI}"))
        .await
        .expect(200, "list by applicant");
    assert!(
        filtered["cases"].as_array().unwrap().is_empty(),
        "{filtered}"
    );
    app.get("enterprise", &format!("/api/v1/cases/{id}"))
        .await
        .expect_error(404, "case_not_found", "an enterprise");
    app.get("handler", &format!("/api/v1/cases/{id}"))
        .await
        .expect_error(
            404,
            "case_not_found",
            "a hotline handler of another department",
        );
    app.request(Method::GET, &format!("/api/v1/cases/{id}"), None, None)
        .await
        .expect_error(401, "unauthenticated", "anonymous");
    app.request(Method::GET, "/api/v1/cases", None, None)
        .await
        .expect_error(401, "unauthenticated", "anonymous list");
    app.request(Method::GET, "/api/v1/me/data-access", None, None)
        .await
        .expect_error(401, "unauthenticated", "anonymous log");
    app.get("citizen", "/api/v1/cases/not-a-case")
        .await
        .expect_error(404, "case_not_found", "nonsense id");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lists

#[tokio::test]
async fn lists_show_each_reader_their_cases_in_the_order_asked() -> TestResult {
    let app = TestApp::start().await?;
    // Monday: two birth cases by 张伟, one accepted; 王芳's ID card at the window.
    let application = birth_application(&app, "citizen").await;
    let waiting = app.apply("citizen", application.clone()).await;
    let monday = accepted_birth_case(&app).await; // promised 3-03
    let id_card = app
        .apply("clerk", id_card_application_at_the_window())
        .await;
    let id_card = app
        .act("clerk", &id_card, json!({ "action": "accept" }))
        .await; // promised 3-23
    // Tuesday: another accepted birth case (promised 3-04) and a funeral subsidy.
    app.advance_days(1);
    let tuesday = accepted_birth_case(&app).await;
    let funeral = app.apply("citizen", funeral_application(&app).await).await;
    let funeral = app
        .act(
            "clerk",
            &funeral,
            json!({ "action": "accept", "tolerated": [
                { "material": "employer_death_notice", "due": "2026-03-16" }
            ] }),
        )
        .await; // city-hrss, promised 10 working days: 3-17
    let ids = |page: &Value| -> Vec<String> {
        page["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };

    // The approver's inbox: least time left first, cases without a due date last.
    let inbox = app
        .get("approver", "/api/v1/cases?order=due")
        .await
        .expect(200, "inbox");
    assert_eq!(
        ids(&inbox),
        [&monday, &tuesday, &funeral, &id_card, &waiting].map(id_of)
    );
    let inbox_cases = inbox["cases"].as_array().unwrap();
    assert_eq!(inbox_cases[0]["promised_due"], "2026-03-03");
    assert_eq!(inbox_cases[0]["step"], "承办");
    assert_eq!(inbox_cases[0]["number"], monday["number"]);
    let in_progress = app
        .get(
            "approver",
            "/api/v1/cases?order=due&state=in_progress&department=city-health",
        )
        .await
        .expect(200, "filtered inbox");
    assert_eq!(ids(&in_progress), [&monday, &tuesday].map(id_of));
    // Newest first by default.
    let newest = app
        .get("approver", "/api/v1/cases")
        .await
        .expect(200, "newest");
    assert_eq!(
        ids(&newest),
        [&funeral, &tuesday, &id_card, &monday, &waiting].map(id_of)
    );
    // Pages of two, in both orders, neither repeat nor skip.
    for (order, expected) in [("due", ids(&inbox)), ("newest", ids(&newest))] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                Some(cursor) => format!("/api/v1/cases?order={order}&limit=2&after={cursor}"),
                None => format!("/api/v1/cases?order={order}&limit=2"),
            };
            let page = app.get("approver", &path).await.expect(200, &path);
            seen.extend(ids(&page));
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{order}");
    }
    let accepted_here = app
        .get("approver", "/api/v1/cases?hall=city-centre")
        .await
        .expect(200, "by hall");
    assert_eq!(
        ids(&accepted_here),
        [&funeral, &tuesday, &id_card, &monday].map(id_of)
    );
    let item = app
        .get("approver", &format!("/api/v1/cases?item={BIRTH}"))
        .await
        .expect(200, "by item");
    assert_eq!(ids(&item).len(), 3);
    // The real-estate approver sees nothing of other departments.
    let chief = app
        .get("chief-police", "/api/v1/cases")
        .await
        .expect(200, "chief");
    assert_eq!(ids(&chief), [id_of(&id_card)]);

    // Citizens see their own cases only.
    let own = app.get("citizen", "/api/v1/cases").await.expect(200, "own");
    assert_eq!(
        ids(&own),
        [&funeral, &tuesday, &monday, &waiting].map(id_of)
    );
    let hers = app
        .get("citizen2", "/api/v1/cases")
        .await
        .expect(200, "hers");
    assert_eq!(ids(&hers), [id_of(&id_card)]);

    // A clerk looks up an applicant's cases wherever they were submitted; it is logged for her.
    let looked_up = app
        .get("clerk2", &format!("/api/v1/cases?applicant={WANG_FANG}"))
        .await
        .expect(200, "by applicant");
    assert_eq!(ids(&looked_up), [id_of(&id_card)]);
    let log = app
        .get("citizen2", "/api/v1/me/data-access")
        .await
        .expect(200, "her log");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "clerk2" && e["subject"] == WANG_FANG),
        "{log}"
    );
    // The clerk's own hall: what was accepted there, and online applications not yet taken.
    let hall = app.get("clerk", "/api/v1/cases").await.expect(200, "hall");
    assert_eq!(ids(&hall).len(), 5, "{hall}");
    let east = app
        .get("clerk2", "/api/v1/cases")
        .await
        .expect(200, "east hall");
    assert_eq!(
        ids(&east),
        [id_of(&waiting)],
        "only the application waiting to be taken"
    );

    // Overdue: open cases past their promised date.
    let none = app
        .get("approver", "/api/v1/cases?overdue=true")
        .await
        .expect(200, "overdue");
    assert!(ids(&none).is_empty(), "{none}");
    app.advance_days(1); // Wednesday 3-04: Monday's case is late
    let late = app
        .get("approver", "/api/v1/cases?overdue=true")
        .await
        .expect(200, "overdue");
    assert_eq!(ids(&late), [id_of(&monday)]);
    // Decided cases are no longer overdue.
    let monday = app.case("approver", &id_of(&monday)).await;
    let monday = app
        .act("approver", &monday, json!({ "action": "approve" }))
        .await;
    let monday = app
        .act("approver", &monday, json!({ "action": "approve" }))
        .await;
    app.act(
        "chief-health",
        &monday,
        json!({ "action": "decide", "granted": true, "opinion": "准予" }),
    )
    .await;
    let late = app
        .get("approver", "/api/v1/cases?overdue=true")
        .await
        .expect(200, "overdue");
    assert!(ids(&late).is_empty(), "{late}");

    for query in [
        "state=bogus",
        "order=oldest",
        "limit=0",
        "limit=501",
        "limit=ten",
        "overdue=maybe",
        "after=garbage",
        "after=d:2026-03-03:not-a-uuid",
        "item=not-a-code",
        "applicant=12345",
        "department=Not%20A%20Key",
        "hall=Not%20A%20Hall",
        "after=n:1:00000000-0000-0000-0000-000000000000&order=due",
        "unknown=1",
    ] {
        app.get("approver", &format!("/api/v1/cases?{query}"))
            .await
            .expect_error(400, "invalid_query", query);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Concurrency

#[tokio::test]
async fn concurrent_actions_on_one_version_let_exactly_one_through() -> TestResult {
    let app = Arc::new(TestApp::start().await?);
    let application = birth_application(&app, "citizen").await;
    let case = app.apply("citizen", application).await;
    // Sign in first, so that the requests race each other and not the password hashing.
    for clerk in ["clerk", "clerk2", "clerk3"] {
        app.token(clerk).await;
    }
    let mut tasks = Vec::new();
    for (index, clerk) in ["clerk", "clerk2", "clerk3", "clerk", "clerk2", "clerk3"]
        .into_iter()
        .enumerate()
    {
        let app = Arc::clone(&app);
        let case = case.clone();
        let action = if index % 2 == 0 {
            json!({ "action": "accept" })
        } else {
            json!({ "action": "reject", "reason": "重复申请" })
        };
        tasks.push(tokio::spawn(async move {
            app.try_act(clerk, &case, action).await
        }));
    }
    let mut won = Vec::new();
    let mut stale = 0;
    for task in tasks {
        let reply = task.await?;
        match reply.status.as_u16() {
            200 => won.push(reply.body),
            409 => {
                assert_eq!(
                    reply.body["error"]["code"], "stale_version",
                    "{}",
                    reply.text
                );
                stale += 1;
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert_eq!((won.len(), stale), (1, 5));
    let now = app.case("clerk", &id_of(&case)).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["state"], won[0]["state"]);
    assert_eq!(events_of(&now).len(), 2, "one change, one event");
    assert_eq!(app.outbox_of(&id_of(&case)).await.len(), 2);
    Ok(())
}

/// Each server process keeps the cases it wrote last and acts on one from there when the
/// action is on that version. A second process on the same database changes the case: this
/// one refuses an action on the version before as stale and changes nothing, and the next
/// action, on the version now stored, starts from the stored case.
#[tokio::test]
async fn a_case_changed_by_another_process_is_not_acted_on_from_what_this_one_kept() -> TestResult {
    let app = TestApp::start().await?;
    let accepted = accepted_birth_case(&app).await;
    let id = id_of(&accepted);
    let other = App::new(app.store().clone(), app.clock.clone()).await?;
    let approver = tongban_web::auth::actor_of(
        app.store()
            .accounts
            .find_account(&tongban_domain::keys::AccountName::parse("approver")?)
            .await?
            .ok_or("no approver")?
            .profile,
    );
    app.clock.advance_seconds(60);
    let request = serde_json::from_value(json!({
        "version": accepted["version"], "action": "approve", "opinion": "另一进程审核"
    }))?;
    let elsewhere = tongban_web::services::cases::act(other.state(), &approver, &id, request)
        .await
        .map_err(|error| format!("{error:?}"))?;
    assert_eq!(
        Some(elsewhere.version),
        accepted["version"].as_u64().map(|v| v + 1)
    );

    app.try_act("approver", &accepted, json!({ "action": "approve" }))
        .await
        .expect_error(
            409,
            "stale_version",
            "an action on the version before the other's",
        );
    let stored = app.case("approver", &id).await;
    assert_eq!(stored["version"].as_u64(), Some(elsewhere.version));
    assert_eq!(
        events_of(&stored),
        events_of(&serde_json::to_value(&elsewhere)?)
    );
    assert_eq!(app.outbox_of(&id).await.len(), events_of(&stored).len());

    let decided_step = app
        .act("approver", &stored, json!({ "action": "approve" }))
        .await;
    assert_eq!(
        events_of(&decided_step)
            .iter()
            .filter(|kind| kind.as_str() == "step_passed")
            .count(),
        2,
        "the other process's approval and this one: {decided_step}"
    );
    assert_eq!(step_of(&decided_step), "decide");
    Ok(())
}

#[tokio::test]
async fn concurrent_applications_get_consecutive_numbers() -> TestResult {
    let app = Arc::new(TestApp::start().await?);
    let application = birth_application(&app, "citizen").await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let app = Arc::clone(&app);
        let application = application.clone();
        tasks.push(tokio::spawn(async move {
            app.post("citizen", "/api/v1/applications", application)
                .await
                .expect(201, "concurrent application")
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await?["number"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("{BIRTH}20260302{n:04}")).collect();
    assert_eq!(numbers, expected);
    Ok(())
}
