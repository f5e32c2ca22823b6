//! Once-only with verified documents (SPEC C3) through the API, on both engines: the materials a
//! clerk checks for one department's case stay verified for the next department — a later
//! application of the holder gets them attached by reference (免提交) instead of asking again,
//! each use is in the holder's data-access log, and an expired, revoked or corrected copy is
//! asked again.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::bundle_applications::{
    Json, application_of, bundle_case_of, complete_plan, drive_to_delivery,
};
use crate::cases::{TestApp, funeral_application};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ZHANG_WEI: &str = "990102198803150031";
/// 住房公积金提取(离世) (city-housing-fund): asks for the police death certificate and the bank
/// account the funeral subsidy (city-hrss) asked for too.
const HOUSING_FUND_DEATH: &str = "12990100004213934D2000117000004";

/// 张伟's funeral-subsidy application (its police death certificate, ID card and bank account
/// uploaded), accepted by the clerk of the city centre with the employer's notice missing (容缺).
async fn accepted_funeral_case(app: &TestApp) -> Value {
    let application = funeral_application(app).await;
    let submitted = app.apply("citizen", application).await;
    accept_funeral(app, &submitted).await
}

/// The citizen's verified documents, as the API lists them.
async fn my_documents(app: &TestApp) -> Value {
    app.get("citizen", "/api/v1/verified-documents")
        .await
        .expect(200, "the citizen's verified documents")
}

/// The clerk accepts a funeral-subsidy case with the employer's notice to follow (容缺).
async fn accept_funeral(app: &TestApp, case: &Value) -> Value {
    app.act(
        "clerk",
        case,
        json!({ "action": "accept", "tolerated": [
            { "material": "employer_death_notice", "due": "2026-03-16" }
        ] }),
    )
    .await
}

/// A housing-fund withdrawal for the same death (the funeral application's form: the same
/// deceased, applicant and bank account), with only the heirs' commitment handed in and
/// `extra` materials.
async fn housing_fund_application(app: &TestApp, extra: &[Value]) -> Value {
    let form = funeral_application(app).await["form"].clone();
    let mut materials = vec![
        json!({ "code": "heirs_commitment", "provided_as": "commitment",
        "commitment": "全体继承人承诺由本人代为提取,如有纠纷自行承担责任" }),
    ];
    materials.extend_from_slice(extra);
    json!({
        "item": HOUSING_FUND_DEATH,
        "answers": {
            "death_type": "unnatural",
            "inheritance_proof": "heirs_commitment",
            "entrusted": "family"
        },
        "form": form,
        "materials": materials,
        "delivery": { "method": "collect", "hall": "city-centre" }
    })
}

/// A material given by naming a verified document.
fn naming(code: &str, document: &Value) -> Value {
    json!({ "code": code, "provided_as": "verified_document", "document": document })
}

fn documents_of(app_reply: &Value) -> BTreeMap<String, Value> {
    app_reply
        .a()
        .iter()
        .map(|d| (d["material"].s().to_owned(), d.clone()))
        .collect()
}

fn provision<'a>(case: &'a Value, code: &str) -> &'a Value {
    case["case"]["materials"]
        .a()
        .iter()
        .find(|m| m["code"] == code)
        .unwrap_or_else(|| panic!("no material {code} in {}", case["case"]["materials"]))
}

const REUSED: [&str; 3] = [
    "applicant_id_card",
    "bank_account_info",
    "police_death_certificate",
];

#[tokio::test]
async fn what_one_department_checked_is_not_asked_again_by_the_next() -> TestResult {
    let app = TestApp::start().await?;
    let application = funeral_application(&app).await;
    let submitted = app.apply("citizen", application).await;
    let none = my_documents(&app).await;
    assert_eq!(
        none,
        json!([]),
        "uploads are not verified before a clerk checks them"
    );
    accept_funeral(&app, &submitted).await;

    let documents = documents_of(&my_documents(&app).await);
    // The commitment (告知承诺) and the missing notice (容缺) are not checked copies.
    assert_eq!(
        documents.keys().map(String::as_str).collect::<Vec<_>>(),
        REUSED
    );
    for document in documents.values() {
        assert_eq!(document["status"], "valid");
        assert_eq!(document["verified_by"], "示范市政务服务中心");
        assert_eq!(document["valid_until"], "2027-03-02", "one year by default");
        assert_eq!(document["source_case"], submitted["number"]);
        assert_eq!(document["copy"], "upload");
    }

    // The next department: nothing of it is asked again.
    let case = app
        .apply("citizen", housing_fund_application(&app, &[]).await)
        .await;
    for code in REUSED {
        let material = provision(&case, code);
        assert_eq!(
            material["provided_as"], "verified_document",
            "{code}: {material}"
        );
        assert_eq!(material["document"], documents[code]["id"], "{code}");
        assert_eq!(material["verified_by"], "示范市政务服务中心");
        assert_eq!(material["source_case"], submitted["number"]);
    }
    assert_eq!(
        provision(&case, "heirs_commitment")["provided_as"],
        "commitment"
    );

    // Each use is in 张伟's data-access log, by the housing-fund centre, for the new case.
    let log = app
        .get("citizen", "/api/v1/me/data-access")
        .await
        .expect(200, "data access");
    let uses: Vec<&Value> = log
        .a()
        .iter()
        .filter(|e| e["purpose"].s().contains("引用已核验材料"))
        .collect();
    assert_eq!(uses.len(), 3, "{log}");
    for entry in uses {
        assert_eq!(entry["actor_name"], "示范市住房公积金管理中心");
        assert_eq!(entry["department"], "city-housing-fund");
        assert_eq!(entry["case_id"], case["id"]);
        assert!(
            entry["what"].s().contains("已由示范市政务服务中心核验"),
            "{entry}"
        );
    }

    // The applicant may name a document too; someone else's is not even found.
    let bank = &documents["bank_account_info"]["id"];
    let named = housing_fund_application(&app, &[naming("bank_account_info", bank)]).await;
    let case = app.apply("citizen", named).await;
    assert_eq!(
        provision(&case, "bank_account_info")["provided_as"],
        "verified_document"
    );
    let foreign = housing_fund_application(&app, &[naming("police_death_certificate", bank)]).await;
    app.post("citizen", "/api/v1/applications", foreign)
        .await
        .expect_error(400, "invalid_application", "a document of another material");
    // Staff reading someone's verified documents is logged for them.
    app.get(
        "clerk2",
        &format!("/api/v1/verified-documents?holder={ZHANG_WEI}"),
    )
    .await
    .expect(200, "a clerk looks");
    app.get(
        "citizen2",
        &format!("/api/v1/verified-documents?holder={ZHANG_WEI}"),
    )
    .await
    .expect_error(403, "forbidden", "another citizen");
    Ok(())
}

#[tokio::test]
async fn an_expired_or_revoked_copy_is_asked_again() -> TestResult {
    let app = TestApp::start().await?;
    accepted_funeral_case(&app).await;
    let documents = documents_of(&my_documents(&app).await);
    let bank = documents["bank_account_info"]["id"].s().to_owned();
    app.post(
        "citizen",
        &format!("/api/v1/verified-documents/{bank}/revoke"),
        json!({ "reason": "账户已注销" }),
    )
    .await
    .expect_error(403, "forbidden", "the holder does not revoke");
    let revoked = app
        .post(
            "clerk",
            &format!("/api/v1/verified-documents/{bank}/revoke"),
            json!({ "reason": "账户已注销" }),
        )
        .await
        .expect(200, "revoke");
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked_reason"], "账户已注销");
    app.post(
        "clerk",
        &format!("/api/v1/verified-documents/{bank}/revoke"),
        json!({ "reason": "again" }),
    )
    .await
    .expect_error(409, "conflict", "revoked once");

    let refused = app
        .post(
            "citizen",
            "/api/v1/applications",
            housing_fund_application(&app, &[]).await,
        )
        .await
        .expect_error(
            400,
            "invalid_application",
            "the revoked account is asked again",
        );
    let problems = refused["error"]["details"]["problems"].to_string();
    assert!(problems.contains("bank_account_info"), "{problems}");
    assert!(!problems.contains("police_death_certificate"), "{problems}");

    // A year and a day later every copy has expired: all of it is asked again.
    app.clock.advance_seconds(366 * 24 * 3600);
    let expired = my_documents(&app).await;
    assert!(
        expired.a().iter().all(|d| d["status"] != "valid"),
        "{expired}"
    );
    let refused = app
        .post(
            "citizen",
            "/api/v1/applications",
            housing_fund_application(&app, &[]).await,
        )
        .await
        .expect_error(400, "invalid_application", "expired copies are asked again");
    let problems = refused["error"]["details"]["problems"].to_string();
    for code in ["bank_account_info", "police_death_certificate"] {
        assert!(problems.contains(code), "{code}: {problems}");
    }
    Ok(())
}

#[tokio::test]
async fn a_correction_revokes_what_was_checked_of_that_material_until_it_is_checked_again()
-> TestResult {
    let app = TestApp::start().await?;
    let application = funeral_application(&app).await;
    let submitted = app.apply("citizen", application).await;
    let reviewed = app
        .act("clerk", &submitted, json!({ "action": "pre_approve" }))
        .await;
    let status = |documents: &Value, code: &str| {
        documents
            .a()
            .iter()
            .find(|d| d["material"] == code)
            .map(|d| d["status"].s().to_owned())
    };
    let checked = my_documents(&app).await;
    assert_eq!(
        status(&checked, "bank_account_info").as_deref(),
        Some("valid")
    );

    let correcting = app
        .act(
            "clerk",
            &reviewed,
            json!({ "action": "request_correction", "items": [
                { "material": "bank_account_info", "problem": "账号与户名不一致" }
            ] }),
        )
        .await;
    let after = my_documents(&app).await;
    assert_eq!(
        status(&after, "bank_account_info").as_deref(),
        Some("revoked")
    );
    assert_eq!(
        status(&after, "applicant_id_card").as_deref(),
        Some("valid")
    );

    // The copy found wrong cannot answer the correction by reference.
    let revoked = after
        .a()
        .iter()
        .find(|d| d["material"] == "bank_account_info")
        .map(|d| d["id"].clone())
        .unwrap_or_default();
    app.try_act(
        "citizen",
        &correcting,
        json!({ "action": "resubmit", "materials": [naming("bank_account_info", &revoked)] }),
    )
    .await
    .expect_error(400, "invalid_application", "the revoked copy is refused");
    let upload = app
        .upload("citizen", b"%PDF-1.4\n% corrected\n%%EOF\n")
        .await;
    let resubmitted = app
        .act(
            "citizen",
            &correcting,
            json!({ "action": "resubmit", "materials": [
                { "code": "bank_account_info", "provided_as": "upload", "upload": upload }
            ] }),
        )
        .await;
    accept_funeral(&app, &resubmitted).await;
    let again = my_documents(&app).await;
    assert_eq!(
        status(&again, "bank_account_info").as_deref(),
        Some("valid")
    );
    assert_eq!(
        again.a().len(),
        3,
        "the corrected copy takes the revoked one's place"
    );
    Ok(())
}

#[tokio::test]
async fn a_bundle_plan_and_its_children_use_the_verified_copies() -> TestResult {
    let app = TestApp::start().await?;
    let funeral = accepted_funeral_case(&app).await;
    // 身后一件事 without the funeral subsidy, with the housing-fund withdrawal.
    let chosen = BTreeMap::from([
        ("pension_insured".to_owned(), "no".to_owned()),
        ("housing_fund".to_owned(), "yes".to_owned()),
        ("ss_card".to_owned(), "no".to_owned()),
    ]);
    let (plan, answers) = complete_plan(&app, "citizen", "after-death", chosen).await;
    let bank = plan["materials"]
        .a()
        .iter()
        .find(|m| m["code"] == "bank_account_info")
        .unwrap_or_else(|| panic!("bank account in {}", plan["materials"]));
    assert_eq!(bank["ask"], false, "not asked again: {bank}");
    assert!(bank["exempt_by_document"].is_string(), "{bank}");
    assert!(
        bank["exempt_document_note"]
            .s()
            .starts_with("已由示范市政务服务中心核验"),
        "{bank}"
    );

    let application =
        application_of(&app, "citizen", "after-death", &plan, &answers, ZHANG_WEI).await;
    assert!(
        !application["materials"]
            .to_string()
            .contains("bank_account_info"),
        "the wizard does not send it"
    );
    app.clock.advance_seconds(60);
    let parent = app
        .post("citizen", "/api/v1/bundle-applications", application)
        .await
        .expect(201, "apply for 身后一件事");
    let id = parent["id"].s().to_owned();
    // The housing-fund withdrawal waits for the death registration; drive what is open.
    for _ in 0..6 {
        let current = bundle_case_of(&app, "citizen", &id).await;
        let fund = current["children"]
            .a()
            .iter()
            .find(|c| c["item_code"] == HOUSING_FUND_DEATH)
            .unwrap_or_else(|| panic!("the housing-fund member: {current}"));
        if let Some(case_id) = fund["case_id"].as_str() {
            let case = app.case("citizen", case_id).await;
            let material = provision(&case, "bank_account_info");
            assert_eq!(material["provided_as"], "verified_document", "{material}");
            assert_eq!(material["source_case"], funeral["number"]);
            assert!(
                fund["exempt_materials"]
                    .to_string()
                    .contains("bank_account_info")
            );
            return Ok(());
        }
        for child in current["children"].a() {
            if child["status"] == "open" && child["state"]["code"] != "delivered" {
                drive_to_delivery(&app, child["case_id"].s()).await;
            }
        }
    }
    panic!("the housing-fund member never opened")
}
