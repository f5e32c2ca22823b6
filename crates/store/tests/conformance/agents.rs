//! Agents (帮办代办): registrations, mandates and home visits, on both engines.

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use tongban_domain::agents::home_visits::{HomeVisit, VisitReason, VisitRequest, VisitResult};
use tongban_domain::agents::mandates::{Grant, ItemScope, Mandate, MandateSource, authorise};
use tongban_domain::agents::{Agent, AgentLevel, Registration};
use tongban_domain::cases::{Applicant, ApplicantKind};
use tongban_domain::ids::{ImplementationCode, RegionCode};
use tongban_domain::keys::{AccountName, HallKey, HomeVisitId, MandateId};
use tongban_store::StoreError;
use tongban_store::model::{HomeVisitFilter, MandateFilter};
use tongban_store::testing::{TestStore, demo_data, test_time};

use super::TestResult;

const BIRTH: &str = "11990100004213675N2000101000000";
const WANG_FANG: &str = "990102199006200045";
const LI_XIUYING: &str = "990103195204110022";

fn account(name: &str) -> AccountName {
    AccountName::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn at_hours(hours: i64) -> Timestamp {
    test_time() + SignedDuration::from_hours(hours)
}

fn registered(name: &str, level: AgentLevel, region: &str, hall: &str) -> Agent {
    Agent::register(
        Registration {
            account: account(name),
            name: format!("{name} 姓名"),
            level,
            region: RegionCode::parse(region).unwrap_or_else(|e| panic!("{e}")),
            hall: Some(HallKey::parse(hall).unwrap_or_else(|e| panic!("{e}"))),
            active: true,
        },
        None,
        &demo_data().organisation,
        test_time(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn principal(name: &str, identifier: &str) -> Applicant {
    Applicant {
        kind: ApplicantKind::Person,
        name: name.into(),
        identifier: identifier.into(),
        account: None,
    }
}

fn mandate(id: u128, agent: &Agent, who: &str, items: ItemScope, at: Timestamp) -> Mandate {
    Mandate::grant(
        Grant {
            id: MandateId::from_uuid(uuid::Uuid::from_u128(id)),
            principal: principal("王芳", who),
            items,
            valid_from: date(2026, 3, 2),
            valid_until: date(2026, 12, 31),
            source: MandateSource::Online,
            recorded_by: account("citizen2"),
        },
        agent,
        date(2026, 3, 2),
        at,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_registration_is_stored_replaced_and_listed_by_level() -> TestResult {
    let test = TestStore::new().await?;
    let store = &test.store;
    let community = registered(
        "agent3",
        AgentLevel::Community,
        "990102001001",
        "huxin-station",
    );
    let district = registered("agent", AgentLevel::District, "990102", "east-centre");
    store.agents.save_agent(&community).await?;
    store.agents.save_agent(&district).await?;
    assert_eq!(
        store.agents.agent(&account("agent3")).await?,
        Some(community.clone())
    );
    assert_eq!(store.agents.agent(&account("nobody")).await?, None);
    let listed: Vec<AgentLevel> = store
        .agents
        .agents()
        .await?
        .iter()
        .map(|a| a.level)
        .collect();
    assert_eq!(listed, [AgentLevel::District, AgentLevel::Community]);

    let mut suspended = community.clone();
    suspended.active = false;
    suspended.updated_at = at_hours(1);
    store.agents.save_agent(&suspended).await?;
    let all = store.agents.agents().await?;
    assert_eq!(all.len(), 2, "replaced, not added");
    assert_eq!(
        store.agents.agent(&account("agent3")).await?,
        Some(suspended)
    );
    Ok(())
}

async fn mandates_where(
    store: &tongban_store::Store,
    agent: Option<&str>,
    principal: Option<&str>,
) -> Result<Vec<Mandate>, StoreError> {
    store
        .agents
        .mandates(&MandateFilter {
            agent: agent.map(account),
            principal: principal.map(str::to_owned),
            limit: 10,
        })
        .await
}

#[tokio::test]
async fn mandates_are_listed_per_agent_and_principal_and_revoked_once() -> TestResult {
    let test = TestStore::new().await?;
    let store = &test.store;
    let agent = registered("agent", AgentLevel::District, "990102", "east-centre");
    let other = registered("agent2", AgentLevel::Street, "990102001000", "hubin-centre");
    let birth = ImplementationCode::parse(BIRTH)?;
    let first = mandate(1, &agent, WANG_FANG, ItemScope::All, test_time());
    let second = mandate(
        2,
        &agent,
        LI_XIUYING,
        ItemScope::Listed {
            items: vec![birth.clone()],
        },
        at_hours(1),
    );
    let third = mandate(3, &other, WANG_FANG, ItemScope::All, at_hours(2));
    for m in [&first, &second, &third] {
        store.agents.create_mandate(m).await?;
    }
    let again = store.agents.create_mandate(&first).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    let of_agent = mandates_where(store, Some("agent"), None).await?;
    assert_eq!(of_agent, [second.clone(), first.clone()], "newest first");
    let of_wang = mandates_where(store, None, Some(WANG_FANG)).await?;
    assert_eq!(of_wang, [third.clone(), first.clone()]);
    let between = mandates_where(store, Some("agent"), Some(WANG_FANG)).await?;
    assert_eq!(between, std::slice::from_ref(&first));
    // The pure check over what the store returns: 郑芳 may act for 王芳 today.
    assert!(
        authorise(
            Some(&agent),
            &between,
            WANG_FANG,
            Some(&birth),
            date(2026, 3, 2)
        )
        .is_ok()
    );

    let revoked = first.revoke(account("citizen2"), "不再委托", at_hours(3))?;
    assert!(store.agents.revoke_mandate(&revoked).await?);
    let twice = revoked.clone();
    assert!(
        !store.agents.revoke_mandate(&twice).await?,
        "a second revocation does not land"
    );
    assert_eq!(store.agents.mandate(first.id).await?, Some(revoked.clone()));
    let between = mandates_where(store, Some("agent"), Some(WANG_FANG)).await?;
    let refusal = authorise(
        Some(&agent),
        &between,
        WANG_FANG,
        Some(&birth),
        date(2026, 3, 2),
    );
    assert_eq!(refusal.map(|m| m.id).unwrap_err().code(), "revoked");
    Ok(())
}

fn visit_request(id: u128, hall: &str) -> VisitRequest {
    VisitRequest {
        id: HomeVisitId::from_uuid(uuid::Uuid::from_u128(id)),
        person: principal("李秀英", LI_XIUYING),
        address: "西山区山前街道山前社区山前大街3号".into(),
        phone: "13900000003".into(),
        reason: VisitReason::Elderly,
        needs: "办理高龄津贴".into(),
        item: None,
        hall: HallKey::parse(hall).unwrap_or_else(|e| panic!("{e}")),
        from: date(2026, 3, 3),
        until: date(2026, 3, 6),
        requested_by: account("citizen3"),
    }
}

#[tokio::test]
async fn home_visits_change_at_their_version_and_are_listed_by_hall_agent_and_person() -> TestResult
{
    let test = TestStore::new().await?;
    let store = &test.store;
    let agent = registered(
        "agent3",
        AgentLevel::Community,
        "990102001001",
        "huxin-station",
    );
    let first = HomeVisit::request(visit_request(1, "shanqian-station"), test_time())?;
    let second = HomeVisit::request(visit_request(2, "shanqian-station"), at_hours(1))?;
    let elsewhere = HomeVisit::request(visit_request(3, "huxin-station"), at_hours(2))?;
    for visit in [&first, &second, &elsewhere] {
        store.agents.create_home_visit(visit).await?;
    }
    let scheduled = second.schedule(&agent, at_hours(26), &account("clerk"), at_hours(3))?;
    store.agents.save_home_visit(&scheduled, 1).await?;
    let stale = second.cancel(&account("clerk"), "重复申请", at_hours(4))?;
    let refused = store.agents.save_home_visit(&stale, 1).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::StaleVersion {
                expected: 1,
                actual: 2
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        store.agents.home_visit(second.id).await?,
        Some(scheduled.clone())
    );

    let at_hall = store
        .agents
        .home_visits(&HomeVisitFilter {
            hall: Some(HallKey::parse("shanqian-station")?),
            ..HomeVisitFilter::default()
        })
        .await?;
    let ids: Vec<HomeVisitId> = at_hall.iter().map(|v| v.id).collect();
    assert_eq!(ids, [second.id, first.id], "the planned visit first");
    let waiting = store
        .agents
        .home_visits(&HomeVisitFilter {
            hall: Some(HallKey::parse("shanqian-station")?),
            states: vec!["requested".into()],
            ..HomeVisitFilter::default()
        })
        .await?;
    assert_eq!(waiting, std::slice::from_ref(&first));
    let of_agent = store
        .agents
        .home_visits(&HomeVisitFilter {
            agent: Some(account("agent3")),
            ..HomeVisitFilter::default()
        })
        .await?;
    assert_eq!(of_agent, std::slice::from_ref(&scheduled));
    let of_person = store
        .agents
        .home_visits(&HomeVisitFilter {
            person: Some(LI_XIUYING.into()),
            ..HomeVisitFilter::default()
        })
        .await?;
    assert_eq!(of_person.len(), 3);

    let done = scheduled.complete(
        &account("agent3"),
        VisitResult::Served,
        "已上门协助填报",
        None,
        at_hours(27),
    )?;
    store.agents.save_home_visit(&done, 2).await?;
    let of_agent = store
        .agents
        .home_visits(&HomeVisitFilter {
            agent: Some(account("agent3")),
            states: vec!["done".into()],
            ..HomeVisitFilter::default()
        })
        .await?;
    assert_eq!(of_agent, [done]);
    Ok(())
}
