//! Delivery of results (SPEC C5) through the API, on both engines: a posted result is shipped by
//! a clerk, tracked by the carrier's system (with a department API token) until it is signed
//! for, which delivers the case; a returned parcel is collected at another hall against a new
//! pickup code; the postage follows the item's policy.

use serde_json::{Value, json};

use crate::cases::{TestApp, birth_application, funeral_application, granted_birth_case};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const EMS: &str = "EA123456785CN";

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

fn state_of(case: &Value) -> &str {
    text(&case["state"]["code"])
}

fn events_of(case: &Value) -> Vec<&str> {
    case["timeline"]
        .as_array()
        .unwrap_or_else(|| panic!("no timeline: {case}"))
        .iter()
        .map(|e| text(&e["event"]))
        .collect()
}

/// The citizen's birth-certificate case (posted to them), issued.
async fn issued_posted_case(app: &TestApp) -> Value {
    issued_posted_case_of(app, "citizen").await
}

/// A birth-certificate case of `account` (posted to them), issued.
async fn issued_posted_case_of(app: &TestApp, account: &str) -> Value {
    let application = birth_application(app, account).await;
    let submitted = app.apply(account, application).await;
    let accepted = app
        .act("clerk", &submitted, json!({ "action": "accept" }))
        .await;
    let case = granted_birth_case(app, accepted).await;
    let issued = app.act("clerk", &case, json!({ "action": "issue" })).await;
    assert_eq!(state_of(&issued), "issued");
    issued
}

fn report(status: &str, at: &str, place: &str) -> Value {
    json!({ "status": status, "at": at, "place": place })
}

#[tokio::test]
async fn a_posted_result_is_tracked_by_its_carrier_until_the_signature_delivers_it() -> TestResult {
    let app = TestApp::start().await?;
    let issued = issued_posted_case(&app).await;
    let id = text(&issued["id"]).to_owned();
    let seen = app.case("citizen", &id).await;
    assert_eq!(seen["delivery"]["method"], "post");
    assert_eq!(
        seen["delivery"]["postage"]["code"], "free",
        "出生医学证明 is posted free"
    );
    assert_eq!(seen["delivery"]["shipment"], Value::Null);

    // A wrong tracking number is refused and changes nothing.
    app.try_act(
        "clerk",
        &issued,
        json!({ "action": "ship", "carrier": "ems", "tracking_number": "EA123456784CN" }),
    )
    .await
    .expect_error(400, "invalid_tracking_number", "a wrong check digit");
    app.try_act(
        "citizen",
        &issued,
        json!({ "action": "ship", "carrier": "ems", "tracking_number": EMS }),
    )
    .await
    .expect_error(403, "forbidden", "the applicant does not post");
    assert_eq!(app.case("citizen", &id).await["version"], issued["version"]);

    let shipped = app
        .act(
            "clerk",
            &issued,
            json!({ "action": "ship", "carrier": "ems", "tracking_number": "ea 1234 5678 5cn" }),
        )
        .await;
    assert_eq!(state_of(&shipped), "issued");
    let shipment = &shipped["delivery"]["shipment"];
    assert_eq!(shipment["carrier"], "ems");
    assert_eq!(shipment["tracking_number"], EMS);
    assert_eq!(shipment["status"], "shipped");
    assert_eq!(shipment["hall_name"], "示范市政务服务中心");
    assert!(events_of(&shipped).contains(&"shipped"));
    app.try_act(
        "clerk",
        &shipped,
        json!({ "action": "deliver", "how": "邮寄送达" }),
    )
    .await
    .expect_error(
        400,
        "invalid_action",
        "no manual delivery while the parcel travels",
    );

    // The carrier reports the next day about the day of posting.
    app.clock.advance_seconds(24 * 3600);
    let carrier = app.api_token("city-gov-service", "EMS 政务专递接口").await;
    let path = format!("/api/v1/shipments/ems/{EMS}/events");
    let picked = app
        .post_with_token(
            &carrier,
            &path,
            report("picked_up", "2026-03-02T02:00:00Z", "示范市东湖区揽投部"),
        )
        .await
        .expect(200, "picked up");
    assert_eq!(picked["cases"][0]["case_id"], id.as_str());
    assert_eq!(picked["cases"][0]["recorded"], true);
    assert_eq!(picked["cases"][0]["shipment_status"], "picked_up");
    let version = app.case("citizen", &id).await["version"].clone();
    // Sent again (the carrier did not get the answer): recorded once.
    let again = app
        .post_with_token(
            &carrier,
            &path,
            report("picked_up", "2026-03-02T02:00:00Z", "示范市东湖区揽投部"),
        )
        .await
        .expect(200, "picked up again");
    assert_eq!(again["cases"][0]["recorded"], false);
    assert_eq!(app.case("citizen", &id).await["version"], version);

    // Refused reports change nothing.
    app.post_with_token(
        &carrier,
        &path,
        report("in_transit", "2026-03-02T01:00:00Z", "示范市邮件处理中心"),
    )
    .await
    .expect_error(400, "invalid_tracking_event", "older than the last report");
    app.post_with_token(
        &carrier,
        &path,
        report("picked_up", "2026-03-02T03:00:00Z", "别处"),
    )
    .await
    .expect_error(409, "illegal_shipment_status", "picked up twice");
    app.post_with_token(
        &carrier,
        "/api/v1/shipments/ups/1Z999/events",
        report("signed", "2026-03-02T03:00:00Z", "x"),
    )
    .await
    .expect_error(400, "unknown_carrier", "an unknown carrier");
    app.post_with_token(
        &carrier,
        "/api/v1/shipments/sf/SF1234567890123/events",
        report("signed", "2026-03-02T03:00:00Z", "x"),
    )
    .await
    .expect_error(404, "shipment_not_found", "no parcel under that number");
    app.post(
        "citizen",
        &path,
        report("signed", "2026-03-02T03:00:00Z", "家门口"),
    )
    .await
    .expect_error(
        403,
        "forbidden",
        "the applicant does not report for the carrier",
    );
    assert_eq!(app.case("citizen", &id).await["version"], version);

    for (status, at, place) in [
        ("in_transit", "2026-03-02T04:00:00Z", "示范市邮件处理中心"),
        (
            "out_for_delivery",
            "2026-03-02T05:00:00Z",
            "东湖区湖滨揽投部",
        ),
        ("signed", "2026-03-02T06:00:00Z", "东湖区湖心路1号"),
    ] {
        app.post_with_token(&carrier, &path, report(status, at, place))
            .await
            .expect(200, status);
    }
    let delivered = app.case("citizen", &id).await;
    assert_eq!(state_of(&delivered), "delivered");
    let shipment = &delivered["delivery"]["shipment"];
    assert_eq!(shipment["status"], "signed");
    let statuses: Vec<&str> = shipment["events"]
        .as_array()
        .unwrap_or_else(|| panic!("events: {shipment}"))
        .iter()
        .map(|e| text(&e["status"]))
        .collect();
    assert_eq!(
        statuses,
        ["picked_up", "in_transit", "out_for_delivery", "signed"]
    );
    let texts: Vec<&str> = delivered["timeline"]
        .as_array()
        .unwrap_or_else(|| panic!("timeline"))
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        texts.contains(&"办理结果已交寄中国邮政EMS,运单号 EA123456785CN"),
        "{texts:?}"
    );
    assert!(texts.contains(&"办理结果已签收(邮寄送达)"), "{texts:?}");
    // Resending the signature after the delivery is harmless.
    let resent = app
        .post_with_token(
            &carrier,
            &path,
            report("signed", "2026-03-02T06:00:00Z", "东湖区湖心路1号"),
        )
        .await
        .expect(200, "signed again");
    assert_eq!(resent["cases"][0]["recorded"], false);
    assert_eq!(resent["cases"][0]["state"], "delivered");

    // Department systems hear of the posting and of the delivery through the outbox.
    let topics: Vec<String> = app
        .outbox_of(&id)
        .await
        .into_iter()
        .map(|m| m.topic)
        .collect();
    assert!(topics.contains(&"case.shipped".to_owned()), "{topics:?}");
    assert_eq!(topics.last().map(String::as_str), Some("case.delivered"));
    Ok(())
}

#[tokio::test]
async fn a_returned_parcel_is_collected_at_another_hall_against_a_new_pickup_code() -> TestResult {
    let app = TestApp::start().await?;
    let issued = issued_posted_case(&app).await;
    let id = text(&issued["id"]).to_owned();
    let shipped = app
        .act(
            "clerk",
            &issued,
            json!({ "action": "ship", "carrier": "ems", "tracking_number": EMS }),
        )
        .await;
    // A clerk types the carrier's reports for a hall without a carrier integration.
    app.clock.advance_seconds(24 * 3600);
    let picked = app
        .act(
            "clerk",
            &shipped,
            json!({ "action": "track", "status": "picked_up",
                    "at": "2026-03-02T02:00:00Z", "place": "示范市东湖区揽投部" }),
        )
        .await;
    let returned = app
        .act(
            "clerk",
            &picked,
            json!({ "action": "track", "status": "returned", "at": "2026-03-02T03:00:00Z",
                    "place": "示范市东湖区揽投部", "note": "收件人拒收" }),
        )
        .await;
    assert_eq!(state_of(&returned), "issued");
    assert_eq!(returned["delivery"]["shipment"]["status"], "returned");
    assert!(events_of(&returned).contains(&"shipment_returned"));

    // The applicant chooses to collect it; the client's code is never taken.
    let switched = app
        .act(
            "citizen",
            &returned,
            json!({ "action": "collect_instead", "hall": "east-centre", "pickup_code": "111111" }),
        )
        .await;
    let code = text(&switched["delivery"]["pickup_code"]).to_owned();
    assert_eq!(code.len(), 6);
    assert_ne!(code, "111111");
    assert_eq!(switched["delivery"]["method"], "collect");
    assert_eq!(
        switched["delivery"]["returned"],
        json!([]),
        "the returned parcel is the current shipment"
    );
    assert_eq!(switched["delivery"]["shipment"]["status"], "returned");

    // Staff never see the code, neither in the delivery nor in the raw case.
    let at_window = app.case("clerk2", &id).await;
    assert_eq!(at_window["delivery"]["pickup_code"], Value::Null);
    assert_eq!(at_window["case"]["delivery"]["pickup_code"], "");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    app.try_act(
        "clerk2",
        &at_window,
        json!({ "action": "collect", "pickup_code": wrong }),
    )
    .await
    .expect_error(422, "wrong_pickup_code", "a wrong code");
    assert_eq!(
        app.case("citizen", &id).await["version"],
        at_window["version"]
    );
    let collected = app
        .act(
            "clerk2",
            &at_window,
            json!({ "action": "collect", "pickup_code": code }),
        )
        .await;
    assert_eq!(state_of(&collected), "delivered");
    Ok(())
}

#[tokio::test]
async fn one_parcel_carries_one_applicants_results_and_the_postage_follows_the_item() -> TestResult
{
    let app = TestApp::start().await?;
    let first = issued_posted_case(&app).await;
    let second = issued_posted_case(&app).await;
    let other = issued_posted_case_of(&app, "citizen2").await;
    let ship = json!({ "action": "ship", "carrier": "ems", "tracking_number": EMS });
    app.act("clerk", &first, ship.clone()).await;
    // 王芳's result cannot travel in 张伟's parcel.
    app.try_act("clerk", &other, ship.clone())
        .await
        .expect_error(409, "tracking_number_in_use", "another applicant's parcel");
    app.act(
        "clerk",
        &other,
        json!({ "action": "ship", "carrier": "sf", "tracking_number": "SF1234567890123" }),
    )
    .await;
    // 张伟's second result goes in the same parcel (一窗出件): one report moves both.
    app.act("clerk", &second, ship).await;
    app.clock.advance_seconds(24 * 3600);
    let carrier = app.api_token("city-gov-service", "EMS 政务专递接口").await;
    let reported = app
        .post_with_token(
            &carrier,
            &format!("/api/v1/shipments/ems/{EMS}/events"),
            report("signed", "2026-03-02T08:00:00Z", "东湖区湖心路1号"),
        )
        .await
        .expect_error(
            409,
            "illegal_shipment_status",
            "signed before being picked up",
        );
    assert_eq!(reported["error"]["code"], "illegal_shipment_status");
    for status in ["picked_up", "signed"] {
        let at = if status == "signed" {
            "2026-03-02T09:00:00Z"
        } else {
            "2026-03-02T08:00:00Z"
        };
        let reported = app
            .post_with_token(
                &carrier,
                &format!("/api/v1/shipments/ems/{EMS}/events"),
                report(status, at, "东湖区湖心路1号"),
            )
            .await
            .expect(200, status);
        let ids: Vec<&str> = reported["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("cases: {reported}"))
            .iter()
            .map(|c| text(&c["case_id"]))
            .collect();
        assert_eq!(ids, [text(&first["id"]), text(&second["id"])]);
    }
    for case in [&first, &second] {
        assert_eq!(
            state_of(&app.case("citizen", text(&case["id"])).await),
            "delivered"
        );
    }
    assert_eq!(
        state_of(&app.case("citizen2", text(&other["id"])).await),
        "issued"
    );

    // 丧葬补助金 does not post free: the recipient pays.
    let mut funeral = funeral_application(&app).await;
    funeral["delivery"] = json!({ "method": "post", "recipient": "张伟", "phone": "13900000001",
                                  "address": "东湖区湖滨街道湖心社区湖心路1号3单元502" });
    let case = app.apply("citizen", funeral).await;
    assert_eq!(case["delivery"]["postage"]["code"], "recipient_pays");
    assert_eq!(
        case["delivery"]["postage"]["text"],
        "邮费到付(收件人支付邮费)"
    );
    assert_eq!(case["case"]["delivery"]["postage"], "recipient_pays");
    Ok(())
}

#[tokio::test]
async fn a_bundles_postage_is_free_when_any_selected_member_posts_free() -> TestResult {
    let app = TestApp::start().await?;
    let plan = app
        .get("citizen", "/api/v1/bundles/newborn/plan")
        .await
        .expect(200, "the newborn plan");
    // 出生医学证明 (a member of every newborn application) posts free.
    assert_eq!(plan["postage"]["code"], "free", "{}", plan["postage"]);
    Ok(())
}
