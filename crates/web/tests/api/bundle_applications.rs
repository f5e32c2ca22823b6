//! Bundle applications (一件事, SPEC C3) end to end through the real router: every demo bundle is
//! applied for with one form and one set of materials, and every child case is driven by the
//! demo staff accounts from acceptance to delivery, until the parent completes. Runs on SQLite,
//! or on PostgreSQL when `TONGBAN_TEST_PG_URL` is set.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tongban_domain::clock::Clock;
use tongban_domain::org::Role;

use crate::cases::{TestApp, granted_birth_case};
use crate::support::demo;

/// Reading JSON in helpers: panics name the value (helpers are not test functions, so the
/// lints that allow `unwrap` in tests do not cover them).
pub(crate) trait Json {
    fn s(&self) -> &str;
    fn a(&self) -> &Vec<Value>;
    fn u(&self) -> u64;
}

impl Json for Value {
    fn s(&self) -> &str {
        self.as_str()
            .unwrap_or_else(|| panic!("not a string: {self}"))
    }

    fn a(&self) -> &Vec<Value> {
        self.as_array()
            .unwrap_or_else(|| panic!("not an array: {self}"))
    }

    fn u(&self) -> u64 {
        self.as_u64()
            .unwrap_or_else(|| panic!("not a number: {self}"))
    }
}

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 张伟, the `citizen` account.
const ZHANG_WEI: &str = "990102198803150031";
/// The `enterprise` account's credit code.
const ENTERPRISE: &str = "91990102MA3QH7N2KT";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// 出生医学证明首次签发, 出生登记 and 城乡居民医保参保 of the newborn bundle.
const BIRTH_CERTIFICATE: &str = "11990100004213675N2000101000000";
const BIRTH_REGISTRATION: &str = "11990100004213712W0700103000000";
const MEDICAL_INSURANCE: &str = "11990100004213749M2000104000000";

/// The bundle application (parent case) as `account` sees it.
pub(crate) async fn bundle_case_of(app: &TestApp, account: &str, id: &str) -> Value {
    app.get(account, &format!("/api/v1/bundle-applications/{id}"))
        .await
        .expect(200, "GET bundle application")
}

/// A demo staff account with `role` for `department` (any department when the role has none).
fn staff_with(role: Role, department: &str) -> String {
    let staff = &demo().organisation.staff;
    let fits = |member: &&tongban_domain::org::StaffMember| {
        member.roles.iter().any(|assignment| {
            assignment.role == role
                && assignment
                    .department
                    .as_ref()
                    .is_none_or(|d| d.as_str() == department)
        })
    };
    staff
        .iter()
        .find(fits)
        .map(|m| m.account.to_string())
        .unwrap_or_else(|| panic!("no demo staff with {role:?} for {department}"))
}

/// Drives one case from submission to delivery with the staff accounts its steps name.
pub(crate) async fn drive_to_delivery(app: &TestApp, case_id: &str) -> Value {
    let mut case = app
        .get("admin", &format!("/api/v1/cases/{case_id}"))
        .await
        .expect(200, "GET child case");
    for _ in 0..20 {
        let department = case["department"].s().to_owned();
        let state = case["state"]["code"].s().to_owned();
        case = match state.as_str() {
            "submitted" | "pre_reviewed" => {
                app.act("clerk", &case, json!({ "action": "accept" })).await
            }
            "in_progress" => {
                let index = case["step"]["index"].u() as usize;
                let step = case["case"]["workflow"]["steps"][index].clone();
                let role: Role = serde_json::from_value(step["role"].clone())
                    .unwrap_or_else(|error| panic!("role of {step}: {error}"));
                match step["kind"]["type"].as_str().unwrap_or("review") {
                    "decision" => {
                        let account = staff_with(role, &department);
                        app.act(
                            &account,
                            &case,
                            json!({ "action": "decide", "granted": true, "opinion": "准予" }),
                        )
                        .await
                    }
                    "countersign" => {
                        let listed: Vec<String> = step["kind"]["departments"]
                            .as_array()
                            .map(|a| a.iter().map(|d| d.s().to_owned()).collect())
                            .unwrap_or_default();
                        let voters = if listed.is_empty() {
                            case["case"]["co_departments"]
                                .a()
                                .iter()
                                .map(|d| d.s().to_owned())
                                .collect()
                        } else {
                            listed
                        };
                        let mut current = case.clone();
                        for voter in voters {
                            if current["step"]["index"].as_u64() != Some(index as u64) {
                                break;
                            }
                            let account = staff_with(Role::Approver, &voter);
                            current = app
                                .act(
                                    &account,
                                    &current,
                                    json!({ "action": "countersign", "pass": true, "department": voter }),
                                )
                                .await;
                        }
                        current
                    }
                    _ => {
                        let account = staff_with(role, &department);
                        app.act(
                            &account,
                            &case,
                            json!({ "action": "approve", "opinion": "同意" }),
                        )
                        .await
                    }
                }
            }
            "granted" => app.act("clerk", &case, json!({ "action": "issue" })).await,
            "issued" => {
                app.act(
                    "clerk",
                    &case,
                    json!({ "action": "deliver", "how": "邮寄送达" }),
                )
                .await
            }
            "delivered" => return case,
            other => panic!("child {} stopped at {other}: {case}", case["item_name"]),
        };
    }
    panic!("child {case_id} did not finish in 20 actions")
}

/// A value of the right kind for a data element.
fn sample(field: &Value, applicant: &str) -> String {
    match field["kind"].s() {
        "id_number" => ZHANG_WEI.to_owned(),
        "credit_code" => ENTERPRISE.to_owned(),
        "date" => "2026-02-20".to_owned(),
        "phone" => "13800138000".to_owned(),
        "region_code" => "990102".to_owned(),
        "integer" => "2".to_owned(),
        "money" => "1000.00".to_owned(),
        "area" => "120.5".to_owned(),
        "choice" => field["options"][0].s().to_owned(),
        "boolean" => "true".to_owned(),
        "email" => "zhang@example.cn".to_owned(),
        "postal_code" => "100000".to_owned(),
        "address" => "示范市东城区人民路1号".to_owned(),
        _ if applicant == ENTERPRISE => "示范餐饮有限公司".to_owned(),
        _ => "张子涵".to_owned(),
    }
}

/// Answers every open question with its first option, the plan's own way: ask for the plan,
/// answer, ask again until nothing is open.
pub(crate) async fn complete_plan(
    app: &TestApp,
    account: &str,
    bundle: &str,
    mut answers: BTreeMap<String, String>,
) -> (Value, BTreeMap<String, String>) {
    for _ in 0..10 {
        let query: Vec<String> = answers.iter().map(|(q, o)| format!("{q}={o}")).collect();
        let plan = app
            .get(
                account,
                &format!("/api/v1/bundles/{bundle}/plan?{}", query.join("&")),
            )
            .await
            .expect(200, "plan");
        let open: Vec<&Value> = plan["questions"]
            .a()
            .iter()
            .filter(|q| q["answered"] == false)
            .collect();
        if open.is_empty() {
            return (plan, answers);
        }
        for question in open {
            answers.insert(
                question["code"].s().to_owned(),
                question["options"][0]["code"].s().to_owned(),
            );
        }
    }
    panic!("the plan of {bundle} keeps asking")
}

/// The application of a completed plan: every field filled, every asked material uploaded.
pub(crate) async fn application_of(
    app: &TestApp,
    account: &str,
    bundle: &str,
    plan: &Value,
    answers: &BTreeMap<String, String>,
    applicant: &str,
) -> Value {
    let upload = app.upload(account, PDF).await;
    let mut form = serde_json::Map::new();
    for field in plan["form"].a() {
        form.insert(
            field["element"].s().to_owned(),
            Value::String(sample(field, applicant)),
        );
    }
    let materials: Vec<Value> = plan["materials"]
        .a()
        .iter()
        .filter(|m| m["ask"] == true || (m["tolerable"] == true && m["required"] == true))
        .filter(|m| m["exempt_by_licence"].is_null() && m["from_member"].is_null())
        .map(|m| json!({ "code": m["code"], "provided_as": "upload", "upload": upload }))
        .collect();
    json!({
        "bundle": bundle,
        "answers": answers,
        "form": form,
        "materials": materials,
        "delivery": { "method": "post", "recipient": "张伟", "phone": "13800138000", "address": "示范市东城区人民路1号" },
    })
}

/// Applies for a bundle and drives every child to delivery; returns the completed parent.
async fn run_bundle(app: &TestApp, bundle: &str) -> Value {
    let guide = app
        .get("citizen", &format!("/api/v1/bundles/{bundle}"))
        .await
        .expect(200, "bundle guide");
    // Bundles that also serve organisations are applied for by the enterprise (its members
    // such as 公章刻制备案 serve organisations only).
    let for_people = guide["guide"]["service_objects"]
        .a()
        .iter()
        .all(|o| o == "1");
    let (account, applicant) = if for_people {
        ("citizen", ZHANG_WEI)
    } else {
        ("enterprise", ENTERPRISE)
    };
    let (plan, answers) = complete_plan(app, account, bundle, BTreeMap::new()).await;
    let application = application_of(app, account, bundle, &plan, &answers, applicant).await;
    app.clock.advance_seconds(60);
    let submitted = app
        .post(account, "/api/v1/bundle-applications", application)
        .await
        .expect(201, &format!("apply for {bundle}"));
    assert_eq!(submitted["state"]["code"], "in_progress", "{bundle}");
    assert!(
        submitted["number"].s().starts_with("YJS2026"),
        "{submitted}"
    );
    let members = plan["members"].a().len();
    assert_eq!(
        submitted["children"].a().len(),
        members,
        "{bundle}: one child per selected member"
    );
    // Members that wait for nothing open at once, in parallel; the others wait.
    for (child, member) in submitted["children"].a().iter().zip(plan["members"].a()) {
        let waits = !member["waits_for"].a().is_empty();
        assert_eq!(
            child["status"],
            if waits { "waiting" } else { "open" },
            "{bundle}: {child}"
        );
        if !waits {
            assert_eq!(child["state"]["code"], "submitted");
            assert_eq!(child["department"], member["department"]);
        }
    }
    let id = submitted["id"].s().to_owned();
    let mut delivered_order: Vec<String> = Vec::new();
    for _ in 0..10 {
        let parent = bundle_case_of(app, account, &id).await;
        if parent["state"]["code"] != "in_progress" {
            break;
        }
        let open: Vec<(String, String)> = parent["children"]
            .a()
            .iter()
            .filter(|c| c["status"] == "open" && c["state"]["code"] != "delivered")
            .map(|c| (c["case_id"].s().to_owned(), c["item_code"].s().to_owned()))
            .collect();
        assert!(
            !open.is_empty(),
            "{bundle}: nothing runs yet the parent is open: {parent}"
        );
        for (case_id, item) in open {
            let done = drive_to_delivery(app, &case_id).await;
            assert_eq!(done["state"]["code"], "delivered");
            delivered_order.push(item);
        }
    }
    let parent = bundle_case_of(app, account, &id).await;
    assert_eq!(parent["state"]["code"], "completed", "{bundle}: {parent}");
    assert_eq!(parent["progress"]["done"].as_u64(), Some(members as u64));
    assert!(parent["closed_at"].is_string());
    // Every child ran in its member's department and waited for what it needs.
    for child in parent["children"].a() {
        assert_eq!(child["state"]["code"], "delivered", "{bundle}: {child}");
        let own = delivered_order
            .iter()
            .position(|c| c == child["item_code"].s())
            .unwrap_or_else(|| panic!("{bundle}: {child} was never driven"));
        for before in child["waits_for"].a() {
            let earlier = delivered_order
                .iter()
                .position(|c| c == before.s())
                .unwrap_or_else(|| panic!("{bundle}: {before} was never driven"));
            assert!(earlier < own, "{bundle}: {child} ran before {before}");
        }
    }
    parent
}

macro_rules! every_bundle {
    ($($name:ident => $code:literal),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() -> TestResult {
                let app = TestApp::start().await?;
                run_bundle(&app, $code).await;
                Ok(())
            }
        )*

        /// Guards against a bundle added to the demo catalog without a test here.
        #[test]
        fn every_demo_bundle_has_an_end_to_end_test() {
            let mut tested: Vec<&str> = vec![$($code),*];
            tested.sort_unstable();
            let mut demo_bundles: Vec<String> =
                demo().catalog.bundles.iter().map(|b| b.code.to_string()).collect();
            demo_bundles.sort_unstable();
            assert_eq!(tested, demo_bundles);
        }
    };
}

every_bundle! {
    the_newborn_bundle_runs_from_one_submission_to_every_result => "newborn",
    the_restaurant_bundle_runs_end_to_end => "restaurant",
    the_company_setup_bundle_runs_end_to_end => "company-setup",
    the_enterprise_change_bundle_runs_end_to_end => "enterprise-change",
    the_enterprise_deregistration_bundle_runs_end_to_end => "enterprise-deregistration",
    the_transport_company_bundle_runs_end_to_end => "transport-company",
    the_school_enrolment_bundle_runs_end_to_end => "school-enrolment",
    the_retirement_bundle_runs_end_to_end => "retirement",
    the_disability_services_bundle_runs_end_to_end => "disability-services",
    the_after_death_bundle_runs_end_to_end => "after-death",
    the_construction_project_runs_stage_by_stage => "construction-project",
}

#[tokio::test]
async fn the_birth_certificate_issued_in_the_bundle_replaces_the_material_of_registration()
-> TestResult {
    let app = TestApp::start().await?;
    let (plan, answers) = complete_plan(&app, "citizen", "newborn", BTreeMap::new()).await;
    let certificate = plan["materials"]
        .a()
        .iter()
        .filter(|m| m["from_member"].is_string())
        .count();
    assert!(
        certificate > 0,
        "the plan marks materials an earlier member produces: {plan}"
    );
    let application = application_of(&app, "citizen", "newborn", &plan, &answers, ZHANG_WEI).await;
    let submitted = app
        .post("citizen", "/api/v1/bundle-applications", application)
        .await
        .expect(201, "apply");
    let id = submitted["id"].s().to_owned();
    let child = |parent: &Value, item: &str| -> Value {
        parent["children"]
            .a()
            .iter()
            .find(|c| c["item_code"] == item)
            .cloned()
            .unwrap_or_else(|| panic!("no child {item}: {parent}"))
    };
    assert_eq!(child(&submitted, BIRTH_REGISTRATION)["status"], "waiting");
    assert_eq!(child(&submitted, MEDICAL_INSURANCE)["status"], "waiting");
    let first = child(&submitted, BIRTH_CERTIFICATE);
    let case_id = first["case_id"].s();
    // Registration waits until the certificate is issued, not merely decided.
    let mut case = app
        .get("admin", &format!("/api/v1/cases/{case_id}"))
        .await
        .expect(200, "certificate case");
    case = app.act("clerk", &case, json!({ "action": "accept" })).await;
    case = granted_birth_case(&app, case).await;
    let parent = bundle_case_of(&app, "citizen", &id).await;
    assert_eq!(child(&parent, BIRTH_REGISTRATION)["status"], "waiting");
    let issued = app.act("clerk", &case, json!({ "action": "issue" })).await;
    let licence = issued["licence"]["identifier"].s().to_owned();
    let parent = bundle_case_of(&app, "citizen", &id).await;
    let registration = child(&parent, BIRTH_REGISTRATION);
    assert_eq!(registration["status"], "open", "{parent}");
    assert_eq!(child(&parent, MEDICAL_INSURANCE)["status"], "waiting");
    let registration_case = app
        .get(
            "citizen",
            &format!("/api/v1/cases/{}", registration["case_id"].s()),
        )
        .await
        .expect(200, "registration case");
    let by_reference: Vec<&Value> = registration_case["case"]["materials"]
        .a()
        .iter()
        .filter(|m| m["provided_as"] == "licence")
        .collect();
    assert!(
        by_reference
            .iter()
            .any(|m| m["licence"] == licence.as_str()),
        "the issued certificate is attached by reference (免提交): {registration_case}"
    );
    assert!(
        !registration["exempt_materials"].a().is_empty(),
        "{registration}"
    );
    // The department's read of the certificate is in the citizen's data-access log.
    let log = app
        .get("citizen", "/api/v1/me/data-access")
        .await
        .expect(200, "access log");
    assert!(
        log.to_string().contains("免提交"),
        "the 免提交 read is logged: {log}"
    );
    Ok(())
}

#[tokio::test]
async fn a_refused_certificate_cancels_the_members_that_need_it() -> TestResult {
    let app = TestApp::start().await?;
    let (plan, answers) = complete_plan(&app, "citizen", "newborn", BTreeMap::new()).await;
    let application = application_of(&app, "citizen", "newborn", &plan, &answers, ZHANG_WEI).await;
    let submitted = app
        .post("citizen", "/api/v1/bundle-applications", application)
        .await
        .expect(201, "apply");
    let id = submitted["id"].s().to_owned();
    let certificate = submitted["children"]
        .a()
        .iter()
        .find(|c| c["item_code"] == BIRTH_CERTIFICATE)
        .unwrap()
        .clone();
    let case = app
        .get(
            "admin",
            &format!("/api/v1/cases/{}", certificate["case_id"].s()),
        )
        .await
        .expect(200, "certificate");
    app.act(
        "clerk",
        &case,
        json!({ "action": "reject", "reason": "出生医学信息不符" }),
    )
    .await;
    let parent = bundle_case_of(&app, "citizen", &id).await;
    // Every other member needs the birth certificate (it replaces one of their materials), so
    // none of them can open any more: each is cancelled, and the parent is closed.
    for child in parent["children"].a() {
        if child["item_code"] == BIRTH_CERTIFICATE {
            assert_eq!(child["state"]["code"], "rejected", "{child}");
        } else {
            assert_eq!(child["status"], "cancelled", "{child}");
            assert!(child["case_id"].is_null(), "no case was opened: {child}");
        }
    }
    let total = parent["progress"]["total"].u();
    assert_eq!(
        parent["progress"]["stopped"].as_u64(),
        Some(total),
        "{parent}"
    );
    assert_eq!(parent["state"]["code"], "closed", "{parent}");
    assert!(
        parent["history"].to_string().contains("child_cancelled"),
        "{parent}"
    );
    Ok(())
}

#[tokio::test]
async fn a_bundle_application_with_problems_lists_them_all_and_stores_nothing() -> TestResult {
    let app = TestApp::start().await?;
    let reply = app
        .post(
            "citizen",
            "/api/v1/bundle-applications",
            json!({
                "bundle": "newborn",
                "answers": { "childcare_subsidy": "no", "maternity_expenses": "settled" },
                "form": { "no_such_element": "x" },
                "delivery": { "method": "post", "recipient": "张伟", "phone": "13800138000", "address": "示范市" },
            }),
        )
        .await;
    let body = reply.expect_error(400, "invalid_application", "an empty form");
    let problems = body["error"]["details"].to_string();
    assert!(problems.contains("no_such_element"), "{body}");
    assert!(problems.contains("required"), "{body}");
    app.post(
        "citizen",
        "/api/v1/bundle-applications",
        json!({ "bundle": "no-such-bundle", "delivery": { "method": "post" } }),
    )
    .await
    .expect_error(404, "bundle_not_found", "unknown bundle");
    let mine = app
        .get("citizen", "/api/v1/bundle-applications")
        .await
        .expect(200, "list");
    assert_eq!(mine, json!([]), "nothing was stored");
    app.get("citizen", "/api/v1/bundle-applications/YJS202603020001")
        .await
        .expect_error(404, "bundle_application_not_found", "unknown number");
    Ok(())
}

#[tokio::test]
async fn another_citizen_cannot_see_a_bundle_application() -> TestResult {
    let app = TestApp::start().await?;
    let (plan, answers) =
        complete_plan(&app, "citizen", "disability-services", BTreeMap::new()).await;
    let application = application_of(
        &app,
        "citizen",
        "disability-services",
        &plan,
        &answers,
        ZHANG_WEI,
    )
    .await;
    let submitted = app
        .post("citizen", "/api/v1/bundle-applications", application)
        .await
        .expect(201, "apply");
    let number = submitted["number"].s();
    app.get("citizen2", &format!("/api/v1/bundle-applications/{number}"))
        .await
        .expect_error(404, "bundle_application_not_found", "someone else's");
    let by_number = bundle_case_of(&app, "citizen", number).await;
    assert_eq!(by_number["id"], submitted["id"]);
    let _ = app.store();
    Ok(())
}

/// Receives webhook deliveries for the push test.
#[derive(Debug, Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

async fn receive(
    axum::extract::State(received): axum::extract::State<Received>,
    body: axum::body::Bytes,
) -> StatusCode {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    received
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(value);
    StatusCode::NO_CONTENT
}

#[tokio::test]
async fn an_enterprise_change_is_pushed_to_tax_social_insurance_and_housing_fund_by_webhook()
-> TestResult {
    let app = TestApp::start().await?;
    let received = Received::default();
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let receiver = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    for department in ["city-tax", "city-hrss", "city-housing-fund"] {
        app.post(
            "admin",
            "/api/v1/admin/webhooks",
            json!({ "department": department, "url": url, "topics": ["record."] }),
        )
        .await
        .expect(201, "subscribe");
    }
    let parent = run_bundle(&app, "enterprise-change").await;
    assert_eq!(
        parent["children"].a().len(),
        1,
        "one application only: the other departments get the data pushed"
    );
    app.clock
        .advance_seconds(tongban_web::webhooks::SETTLE_SECONDS + 1);
    let clock: Arc<dyn Clock> = app.clock.clone();
    let client = tongban_web::webhooks::client()?;
    tongban_web::webhooks::deliver_due_once(app.store(), &clock, &client).await?;
    receiver.abort();
    let bodies = received
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut departments: Vec<String> = bodies
        .iter()
        .filter(|b| b["topic"] == "record.updated")
        .map(|b| {
            b["data"]["department"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    departments.sort_unstable();
    assert_eq!(
        departments,
        ["city-housing-fund", "city-hrss", "city-tax"],
        "{bodies:?}"
    );
    assert!(
        bodies.iter().all(|b| b.to_string().contains(ENTERPRISE)),
        "the push names the enterprise: {bodies:?}"
    );
    // The enterprise sees each department's receipt of its data in its access log.
    let log = app
        .get("enterprise", "/api/v1/me/data-access")
        .await
        .expect(200, "access log");
    assert!(log.to_string().contains("变更信息推送"), "{log}");
    Ok(())
}
