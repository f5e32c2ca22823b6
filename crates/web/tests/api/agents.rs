//! Agents (帮办代办, SPEC C5) through the real router: the demo network and coverage, mandates
//! granted and revoked, agents applying and acting for applicants under a mandate checked on
//! every call (and refused without one, changing nothing), "by agent X for applicant Y" on the
//! timelines, ratings that stay with the applicant, and home visits from request to outcome.
//!
//! The clock starts on Monday 2026-03-02 09:00 in Shanghai.

use serde_json::{Value, json};

use crate::cases::{PDF, TestApp, birth_application};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 出生医学证明首次签发.
const BIRTH: &str = "11990100004213675N2000101000000";
/// 居民身份证申领.
const ID_CARD: &str = "11990100004213712W2000109000000";
/// 王芳, the `citizen2` account.
const WANG_FANG: &str = "990102199006200045";
/// 李秀英, the `citizen3` account (born 1952).
const LI_XIUYING: &str = "990103195204110022";
/// 刘洋, a demo person without an account.
const LIU_YANG: &str = "990103197512080012";

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

fn list(value: &Value) -> &Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
}

/// 王芳 lets 郑芳 (`agent`) act for her for the birth certificate only, until the end of 2026.
async fn wang_fang_mandates_agent(app: &TestApp) -> Value {
    app.post(
        "citizen2",
        "/api/v1/mandates",
        json!({ "agent": "agent", "items": [BIRTH], "valid_until": "2026-12-31" }),
    )
    .await
    .expect(201, "王芳 grants a mandate")
}

/// The birth-certificate application with 王芳 named as the applicant, as an agent sends it.
async fn application_for_wang_fang(app: &TestApp, agent: &str) -> Value {
    let mut application = birth_application(app, agent).await;
    application["applicant"] = json!({ "kind": "person", "name": "王芳", "identifier": WANG_FANG });
    application
}

async fn cases_of_wang_fang(app: &TestApp) -> usize {
    let listed = app
        .get("citizen2", "/api/v1/cases")
        .await
        .expect(200, "王芳's cases");
    list(&listed["cases"]).len()
}

#[tokio::test]
async fn the_demo_network_has_an_agent_per_level_and_coverage_is_counted_by_hand() -> TestResult {
    let app = TestApp::start().await?;
    let agents = app
        .get("citizen", "/api/v1/agents")
        .await
        .expect(200, "agents");
    let levels: Vec<(&str, &str)> = list(&agents)
        .iter()
        .map(|a| (text(&a["account"]), text(&a["level"])))
        .collect();
    assert_eq!(
        levels,
        [
            ("agent", "district"),
            ("agent2", "street"),
            ("agent3", "community")
        ]
    );
    let held = app
        .get("agent", "/api/v1/mandates")
        .await
        .expect(200, "the demo agent's mandates");
    let held = list(&held);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["principal_name"], "张伟");
    assert_eq!(held[0]["all_items"], true);
    assert_eq!(held[0]["status"], "active");
    let given = app
        .get("citizen3", "/api/v1/mandates")
        .await
        .expect(200, "李秀英's mandates");
    assert_eq!(given[0]["agent_name"], "周敏");
    assert_eq!(given[0]["items"][0]["name"], "老年人福利补贴申请");

    // By hand: the demo city has 8 communities, 4 streets and 2 districts; one active agent of
    // each level is registered for one area of that level → 1/8, 1/4, 1/2.
    let coverage = app
        .get("supervisor", "/api/v1/stats/agent-coverage")
        .await
        .expect(200, "coverage");
    assert_eq!(coverage["agent_coverage"], 12.5);
    let by_level: Vec<(&str, u64, u64)> = list(&coverage["levels"])
        .iter()
        .map(|l| {
            (
                text(&l["level"]),
                l["covered"].as_u64().unwrap_or(99),
                l["areas"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert_eq!(
        by_level,
        [("district", 1, 2), ("street", 1, 4), ("community", 1, 8)]
    );
    let west = app
        .get("supervisor", "/api/v1/stats/agent-coverage?within=990103")
        .await
        .expect(200, "coverage in 西山区");
    assert_eq!(west["agent_coverage"], 25.0, "山前社区 of 4 communities");
    app.get("citizen", "/api/v1/stats/agent-coverage")
        .await
        .expect_error(403, "forbidden", "citizens do not read coverage");
    let definitions = app
        .get("supervisor", "/api/v1/stats/definitions")
        .await
        .expect(200, "definitions");
    assert!(
        list(&definitions)
            .iter()
            .any(|d| d["code"] == "agent_coverage"),
        "{definitions}"
    );
    Ok(())
}

#[tokio::test]
async fn an_agent_applies_and_acts_for_an_applicant_and_every_timeline_says_so() -> TestResult {
    let app = TestApp::start().await?;
    let mandate = wang_fang_mandates_agent(&app).await;
    assert_eq!(mandate["source"], "online");
    assert_eq!(mandate["items"][0]["code"], BIRTH);

    let application = application_for_wang_fang(&app, "agent").await;
    let case = app
        .post("agent", "/api/v1/applications", application)
        .await
        .expect(201, "the agent applies for 王芳");
    assert_eq!(case["channel"], "agent", "the agent channel by default");
    assert_eq!(case["applicant_name"], "王芳");
    assert_eq!(
        case["case"]["applicant"]["account"], "citizen2",
        "the applicant as the mandate names her"
    );
    assert_eq!(case["agent"]["text"], "由代办员 郑芳 代 王芳 办理");
    assert_eq!(case["agent"]["text_en"], "by agent 郑芳 for applicant 王芳");
    assert_eq!(case["agent"]["mandate"], mandate["id"]);
    assert_eq!(
        case["timeline"][0]["agent"]["text"],
        "由代办员 郑芳 代 王芳 办理"
    );
    let id = text(&case["id"]).to_owned();

    // 王芳 sees her case, done by the agent; the clerk sees the same note.
    let hers = app
        .get("citizen2", &format!("/api/v1/cases/{id}"))
        .await
        .expect(200, "王芳 reads her case");
    assert_eq!(hers["timeline"][0]["actor"], "代办员 郑芳");
    assert_eq!(hers["timeline"][0]["agent"]["agent_name"], "郑芳");
    let clerks = app
        .get("clerk", &format!("/api/v1/cases/{id}"))
        .await
        .expect(200, "the clerk reads it");
    assert_eq!(clerks["timeline"][0]["agent"]["applicant_name"], "王芳");
    assert_eq!(cases_of_wang_fang(&app).await, 1);

    // A correction is answered by the agent, under the same mandate, checked again.
    let corrected = app
        .act(
            "clerk",
            &clerks,
            json!({ "action": "request_correction", "items": [
                { "material": "delivery_record", "problem": "模糊不清" } ] }),
        )
        .await;
    let pdf = app.upload("agent", PDF).await;
    let answered = app
        .act(
            "agent",
            &corrected,
            json!({ "action": "resubmit", "materials": [
                { "code": "delivery_record", "provided_as": "upload", "upload": pdf } ] }),
        )
        .await;
    let last = list(&answered["timeline"])
        .last()
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["event"], "resubmitted");
    assert_eq!(last["agent"]["text"], "由代办员 郑芳 代 王芳 办理");
    assert_eq!(
        last["detail"],
        Value::Null,
        "an agent sees no internal details"
    );

    // The agent lists 王芳's cases; another agent may not.
    let listed = app
        .get("agent", &format!("/api/v1/cases?applicant={WANG_FANG}"))
        .await
        .expect(200, "the agent lists 王芳's cases");
    assert_eq!(list(&listed["cases"]).len(), 1);
    app.get("agent2", &format!("/api/v1/cases?applicant={WANG_FANG}"))
        .await
        .expect_error(403, "no_valid_mandate", "agent2 has no mandate");

    // The agent's reads are in 王芳's data-access log.
    let log = app
        .get("citizen2", "/api/v1/me/data-access")
        .await
        .expect(200, "王芳's access log");
    assert!(
        list(&log).iter().any(|entry| entry["actor"] == "agent"),
        "{log}"
    );
    Ok(())
}

#[tokio::test]
async fn an_agent_without_a_mandate_that_holds_is_refused_and_nothing_changes() -> TestResult {
    let app = TestApp::start().await?;
    // No mandate at all.
    let application = application_for_wang_fang(&app, "agent2").await;
    let refused = app
        .post("agent2", "/api/v1/applications", application)
        .await
        .expect_error(403, "no_valid_mandate", "agent2 has no mandate");
    assert_eq!(refused["error"]["details"]["reason"], "no_mandate");
    assert_eq!(cases_of_wang_fang(&app).await, 0, "nothing was stored");

    // A mandate for another item.
    wang_fang_mandates_agent(&app).await;
    let mut id_card = application_for_wang_fang(&app, "agent").await;
    id_card["item"] = json!(ID_CARD);
    let refused = app
        .post("agent", "/api/v1/applications", id_card)
        .await
        .expect_error(
            403,
            "no_valid_mandate",
            "the mandate lists only the birth item",
        );
    assert_eq!(refused["error"]["details"]["reason"], "item_not_covered");
    assert_eq!(refused["error"]["details"]["item"], ID_CARD);

    // Under the mandate, but claiming another channel.
    let mut on_the_web = application_for_wang_fang(&app, "agent").await;
    on_the_web["channel"] = json!("web");
    app.post("agent", "/api/v1/applications", on_the_web)
        .await
        .expect_error(403, "forbidden", "an agent applies on the agent channel");
    assert_eq!(cases_of_wang_fang(&app).await, 0);

    let case = app
        .post(
            "agent",
            "/api/v1/applications",
            application_for_wang_fang(&app, "agent").await,
        )
        .await
        .expect(201, "under the mandate");
    let id = text(&case["id"]).to_owned();
    let path = format!("/api/v1/cases/{id}");
    // Another agent without any mandate from 王芳 does not even learn the case exists.
    app.get("agent2", &path)
        .await
        .expect_error(404, "case_not_found", "agent2");
    app.post(
        "agent3",
        &format!("{path}/actions"),
        json!({ "version": case["version"], "action": "withdraw" }),
    )
    .await
    .expect_error(404, "case_not_found", "agent3");

    // 王芳 revokes; from now on every action of the agent is refused, and nothing changes.
    let mandates = app
        .get("citizen2", "/api/v1/mandates")
        .await
        .expect(200, "王芳's mandates");
    let mandate_id = text(&mandates[0]["id"]).to_owned();
    let revoked = app
        .post(
            "citizen2",
            &format!("/api/v1/mandates/{mandate_id}/revoke"),
            json!({ "reason": "已自行办理" }),
        )
        .await
        .expect(200, "王芳 revokes");
    assert_eq!(revoked["status"], "revoked");
    let refused = app
        .post(
            "agent",
            &format!("{path}/actions"),
            json!({ "version": case["version"], "action": "withdraw" }),
        )
        .await
        .expect_error(403, "no_valid_mandate", "the mandate is revoked");
    assert_eq!(refused["error"]["details"]["reason"], "revoked");
    app.get("agent", &path)
        .await
        .expect_error(403, "no_valid_mandate", "no more reading either");
    let unchanged = app
        .get("citizen2", &path)
        .await
        .expect(200, "王芳 reads her case");
    assert_eq!(unchanged["version"], case["version"]);
    assert_eq!(unchanged["state"]["code"], "submitted");
    app.post(
        "citizen2",
        &format!("/api/v1/mandates/{mandate_id}/revoke"),
        json!({}),
    )
    .await
    .expect_error(409, "illegal_transition", "revoked twice");
    Ok(())
}

#[tokio::test]
async fn a_mandate_holds_only_from_its_first_to_its_last_day_and_for_an_active_agent() -> TestResult
{
    let app = TestApp::start().await?;
    app.post(
        "citizen2",
        "/api/v1/mandates",
        json!({ "agent": "agent", "all_items": true,
                "valid_from": "2026-03-03", "valid_until": "2026-03-04" }),
    )
    .await
    .expect(201, "a mandate from tomorrow");
    let application = application_for_wang_fang(&app, "agent").await;
    let refused = app
        .post("agent", "/api/v1/applications", application.clone())
        .await
        .expect_error(403, "no_valid_mandate", "not yet valid");
    assert_eq!(refused["error"]["details"]["reason"], "not_yet_valid");

    app.advance_days(1);
    // The administrator suspends the agent: their mandates stop working.
    app.put(
        "admin",
        "/api/v1/agents/agent",
        json!({ "level": "district", "region": "990102", "hall": "east-centre", "active": false }),
    )
    .await
    .expect(200, "the administrator suspends 郑芳");
    let refused = app
        .post("agent", "/api/v1/applications", application.clone())
        .await
        .expect_error(403, "no_valid_mandate", "a suspended agent");
    assert_eq!(refused["error"]["details"]["reason"], "agent_inactive");
    app.put(
        "admin",
        "/api/v1/agents/agent",
        json!({ "level": "district", "region": "990102", "hall": "east-centre" }),
    )
    .await
    .expect(200, "the administrator reactivates 郑芳");
    app.post("agent", "/api/v1/applications", application.clone())
        .await
        .expect(201, "valid today, active again");

    app.advance_days(2);
    let refused = app
        .post("agent", "/api/v1/applications", application)
        .await
        .expect_error(403, "no_valid_mandate", "expired");
    assert_eq!(refused["error"]["details"]["reason"], "expired");
    assert_eq!(refused["error"]["details"]["valid_until"], "2026-03-04");
    Ok(())
}

#[tokio::test]
async fn ratings_and_their_invitation_belong_to_the_applicant_not_the_agent() -> TestResult {
    let app = TestApp::start().await?;
    wang_fang_mandates_agent(&app).await;
    let submitted = app
        .post(
            "agent",
            "/api/v1/applications",
            application_for_wang_fang(&app, "agent").await,
        )
        .await
        .expect(201, "the agent applies");
    assert_eq!(
        submitted["rating_invitation"],
        Value::Null,
        "not before the decision"
    );
    let accepted = app
        .act("clerk", &submitted, json!({ "action": "accept" }))
        .await;
    let reviewed = app
        .act(
            "approver",
            &accepted,
            json!({ "action": "approve", "opinion": "同意" }),
        )
        .await;
    let approved = app
        .act(
            "approver",
            &reviewed,
            json!({ "action": "approve", "opinion": "同意" }),
        )
        .await;
    let decided = app
        .act(
            "chief-health",
            &approved,
            json!({ "action": "decide", "granted": true, "opinion": "准予" }),
        )
        .await;
    let number = text(&decided["number"]).to_owned();
    let seen_by_agent = app
        .get("agent", &format!("/api/v1/cases/{}", text(&decided["id"])))
        .await
        .expect(200, "the agent reads the decided case");
    assert_eq!(seen_by_agent["rating_invitation"]["account"], "citizen2");
    assert_eq!(seen_by_agent["rating_invitation"]["name"], "王芳");

    let rating = json!({ "level": "very_satisfied", "channel": "pc" });
    app.post(
        "agent",
        &format!("/api/v1/cases/{number}/rating"),
        rating.clone(),
    )
    .await
    .expect_error(403, "forbidden", "an agent does not rate for the applicant");
    app.post(
        "citizen2",
        &format!("/api/v1/cases/{number}/rating"),
        rating,
    )
    .await
    .expect(201, "王芳 rates her case");
    Ok(())
}

#[tokio::test]
async fn mandates_are_granted_and_recorded_only_as_the_rules_say() -> TestResult {
    let app = TestApp::start().await?;
    let bad = [
        (
            json!({ "agent": "agent", "all_items": true, "items": [BIRTH], "valid_until": "2026-12-31" }),
            400,
            "invalid_agent_request",
        ),
        (
            json!({ "agent": "agent", "valid_until": "2026-12-31" }),
            400,
            "invalid_agent_request",
        ),
        (
            json!({ "agent": "agent", "all_items": true, "valid_until": "2026-02-01" }),
            400,
            "invalid_agent_request",
        ),
        (
            json!({ "agent": "agent", "all_items": true, "valid_until": "2030-01-01" }),
            400,
            "invalid_agent_request",
        ),
        (
            json!({ "agent": "clerk", "all_items": true, "valid_until": "2026-12-31" }),
            404,
            "agent_not_found",
        ),
        (
            json!({ "agent": "agent", "items": ["11990100004213675N2000101999999"], "valid_until": "2026-12-31" }),
            404,
            "item_not_found",
        ),
    ];
    for (body, status, code) in bad {
        app.post("citizen2", "/api/v1/mandates", body.clone())
            .await
            .expect_error(status, code, &body.to_string());
    }
    assert_eq!(
        list(
            &app.get("citizen2", "/api/v1/mandates")
                .await
                .expect(200, "none stored")
        )
        .len(),
        0
    );
    app.post(
        "agent",
        "/api/v1/mandates",
        json!({ "agent": "agent", "all_items": true, "valid_until": "2026-12-31" }),
    )
    .await
    .expect_error(403, "forbidden", "an agent does not mandate itself");

    // A clerk records 刘洋's signed paper mandate (he has no account); it is audited.
    let paper = app
        .post(
            "clerk",
            "/api/v1/mandates",
            json!({ "agent": "agent3", "all_items": true, "valid_until": "2026-06-30",
                    "principal": { "kind": "person", "name": "刘洋", "identifier": LIU_YANG } }),
        )
        .await
        .expect(201, "a paper mandate");
    assert_eq!(paper["source"], "paper");
    assert_eq!(paper["recorded_by"], "clerk");
    let audit = app.store().cases.audit_log(text(&paper["id"])).await?;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "record_mandate");
    app.post(
        "clerk",
        "/api/v1/mandates",
        json!({ "agent": "agent3", "all_items": true, "valid_until": "2026-06-30" }),
    )
    .await
    .expect_error(
        400,
        "invalid_agent_request",
        "the clerk names the applicant",
    );
    let found = app
        .get("clerk", &format!("/api/v1/mandates?principal={LIU_YANG}"))
        .await
        .expect(200, "the clerk looks 刘洋's mandates up");
    assert_eq!(list(&found).len(), 1);
    let held = app
        .get("agent3", "/api/v1/mandates")
        .await
        .expect(200, "agent3's mandates");
    assert_eq!(list(&held).len(), 2, "李秀英's and 刘洋's");
    // Someone else's mandate cannot be revoked, nor learnt about.
    app.post(
        "citizen2",
        &format!("/api/v1/mandates/{}/revoke", text(&paper["id"])),
        json!({}),
    )
    .await
    .expect_error(404, "mandate_not_found", "not 王芳's");
    Ok(())
}

#[tokio::test]
async fn only_an_administrator_registers_agents_and_a_level_fits_its_region() -> TestResult {
    let app = TestApp::start().await?;
    let app = &app;
    let put = |account: &str, body: Value| {
        let path = format!("/api/v1/agents/{account}");
        async move { app.put("admin", &path, body).await }
    };
    put("clerk", json!({ "level": "district", "region": "990102" }))
        .await
        .expect_error(400, "invalid_agent_request", "a clerk is no agent");
    put("nobody", json!({ "level": "district", "region": "990102" }))
        .await
        .expect_error(404, "agent_not_found", "no such account");
    put(
        "agent3",
        json!({ "level": "street", "region": "990103001001" }),
    )
    .await
    .expect_error(400, "invalid_agent_request", "a community is not a street");
    app.put(
        "citizen",
        "/api/v1/agents/agent3",
        json!({ "level": "community", "region": "990103001001" }),
    )
    .await
    .expect_error(403, "forbidden", "citizens do not register agents");
    let moved = put(
        "agent3",
        json!({ "level": "community", "region": "990103001002", "hall": "west-centre", "active": false }),
    )
    .await
    .expect(200, "agent3 moves to 松林社区 and is suspended");
    assert_eq!(moved["region_name"], "松林社区");
    assert_eq!(moved["active"], false);
    let seen: Vec<String> = list(
        &app.get("citizen", "/api/v1/agents")
            .await
            .expect(200, "agents"),
    )
    .iter()
    .map(|a| text(&a["account"]).to_owned())
    .collect();
    assert_eq!(seen, ["agent", "agent2"], "citizens see active agents only");
    let all = app
        .get("admin", "/api/v1/agents")
        .await
        .expect(200, "agents");
    assert_eq!(list(&all).len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_home_visit_is_requested_scheduled_and_done_and_its_address_reads_are_logged()
-> TestResult {
    let app = TestApp::start().await?;
    let requested = app
        .post(
            "citizen3",
            "/api/v1/home-visits",
            json!({ "address": "西山区山前街道山前社区山前大街3号", "phone": "13900000003",
                    "reason": "elderly", "needs": "申领老年人福利补贴",
                    "from": "2026-03-03", "until": "2026-03-06" }),
        )
        .await
        .expect(201, "李秀英 asks for a visit");
    assert_eq!(requested["state"], "requested");
    assert_eq!(requested["person_identifier"], LI_XIUYING);
    assert_eq!(
        requested["hall"], "city-centre",
        "the nearest hall with window staff"
    );
    let id = text(&requested["id"]).to_owned();
    let path = format!("/api/v1/home-visits/{id}");
    let mine = app
        .get("citizen3", "/api/v1/home-visits")
        .await
        .expect(200, "her requests");
    assert_eq!(
        mine[0]["address"],
        Value::Null,
        "lists leave the address out"
    );

    app.get("clerk2", &path).await.expect_error(
        404,
        "home_visit_not_found",
        "another hall's clerk",
    );
    let at_hall = app
        .get("clerk", "/api/v1/home-visits?state=requested")
        .await
        .expect(200, "the city centre's requests");
    assert_eq!(list(&at_hall).len(), 1);

    let schedule = |version: &Value, at: &str| json!({ "version": version, "action": "schedule", "agent": "agent3", "at": at });
    app.post(
        "clerk",
        &format!("{path}/actions"),
        schedule(&requested["version"], "2026-03-09T10:00"),
    )
    .await
    .expect_error(409, "out_of_time", "outside the days that suit");
    app.post(
        "agent3",
        &format!("{path}/actions"),
        schedule(&requested["version"], "2026-03-03T10:00"),
    )
    .await
    .expect_error(404, "home_visit_not_found", "the agent is not sent yet");
    let scheduled = app
        .post(
            "clerk",
            &format!("{path}/actions"),
            schedule(&requested["version"], "2026-03-03T10:00"),
        )
        .await
        .expect(200, "the clerk sends 周敏");
    assert_eq!(scheduled["state"], "scheduled");
    assert_eq!(scheduled["agent_name"], "周敏");
    assert_eq!(scheduled["planned_at"], "2026-03-03T02:00:00Z");
    app.post(
        "clerk",
        &format!("{path}/actions"),
        json!({ "version": requested["version"], "action": "cancel", "reason": "重复" }),
    )
    .await
    .expect_error(409, "stale_version", "an old version");

    let assigned = app
        .get("agent3", "/api/v1/home-visits")
        .await
        .expect(200, "周敏's visits");
    assert_eq!(list(&assigned).len(), 1);
    let read = app.get("agent3", &path).await.expect(200, "周敏 reads it");
    assert_eq!(read["address"], "西山区山前街道山前社区山前大街3号");
    let complete = json!({ "version": scheduled["version"], "action": "complete",
                           "result": "served", "note": "已上门协助填写申请表" });
    app.post("agent", &format!("{path}/actions"), complete.clone())
        .await
        .expect_error(404, "home_visit_not_found", "not 郑芳's visit");
    app.post("agent3", &format!("{path}/actions"), complete.clone())
        .await
        .expect_error(409, "out_of_time", "before the day of the visit");
    app.advance_days(1);
    let done = app
        .post("agent3", &format!("{path}/actions"), complete)
        .await
        .expect(200, "周敏 records the outcome");
    assert_eq!(done["state"], "done");
    assert_eq!(done["result"], "served");
    app.post(
        "citizen3",
        &format!("{path}/actions"),
        json!({ "version": done["version"], "action": "cancel", "reason": "不需要了" }),
    )
    .await
    .expect_error(409, "illegal_transition", "a visit done is not cancelled");

    let log = app
        .get("citizen3", "/api/v1/me/data-access")
        .await
        .expect(200, "李秀英's access log");
    let readers: Vec<&str> = list(&log).iter().map(|e| text(&e["actor"])).collect();
    assert!(readers.contains(&"agent3"), "{log}");
    assert!(!readers.contains(&"citizen3"), "{log}");

    // A clerk registers a request for someone; a person may not ask for someone else.
    app.post(
        "citizen3",
        "/api/v1/home-visits",
        json!({ "person": { "kind": "person", "name": "刘洋", "identifier": LIU_YANG },
                "address": "x", "phone": "1", "reason": "elderly", "needs": "x",
                "from": "2026-03-04", "until": "2026-03-05" }),
    )
    .await
    .expect_error(403, "forbidden", "only for oneself");
    let by_clerk = app
        .post(
            "clerk",
            "/api/v1/home-visits",
            json!({ "person": { "kind": "person", "name": "刘洋", "identifier": LIU_YANG },
                    "address": "西山区云溪街道云溪社区云溪路18号", "phone": "13900000004",
                    "reason": "disabled", "needs": "残疾人证换领",
                    "from": "2026-03-04", "until": "2026-03-05" }),
        )
        .await
        .expect(201, "the clerk registers it");
    assert_eq!(by_clerk["hall"], "city-centre", "the clerk's own hall");
    Ok(())
}

#[tokio::test]
async fn an_agent_books_an_appointment_only_for_someone_who_gave_a_mandate() -> TestResult {
    let app = TestApp::start().await?;
    let booking = |applicant: &str| {
        json!({ "hall": "city-centre", "skill": "personal", "day": "2026-03-03",
                "starts": "10:00", "applicant": applicant })
    };
    let refused = app
        .post("agent", "/api/v1/appointments", booking(WANG_FANG))
        .await
        .expect_error(403, "no_valid_mandate", "王芳 gave 郑芳 no mandate");
    assert_eq!(refused["error"]["details"]["reason"], "no_mandate");
    let mine = app
        .get("citizen2", "/api/v1/appointments")
        .await
        .expect(200, "王芳's appointments");
    assert_eq!(list(&mine).len(), 0, "nothing was booked");
    // 张伟 (the demo's `citizen`) lets 郑芳 act for him for every item.
    let booked = app
        .post(
            "agent",
            "/api/v1/appointments",
            booking("990102198803150031"),
        )
        .await
        .expect(201, "郑芳 books for 张伟");
    assert_eq!(booked["status"], "booked");
    Ok(())
}

#[tokio::test]
async fn an_agent_is_told_to_apply_for_a_bundles_members_one_by_one() -> TestResult {
    let app = TestApp::start().await?;
    // Guards a gap: bundle applications do not run the mandate check, so agents may not send them.
    let refused = app
        .post(
            "agent",
            "/api/v1/bundle-applications",
            json!({ "bundle": "newborn", "applicant":
                        { "kind": "person", "name": "张伟", "identifier": "990102198803150031" },
                    "delivery": { "method": "collect", "hall": "city-centre" } }),
        )
        .await
        .expect_error(403, "forbidden", "an agent sends no bundle application");
    assert!(
        text(&refused["error"]["message"]).contains("one by one"),
        "{refused}"
    );
    Ok(())
}
