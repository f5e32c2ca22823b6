//! Ratings, rectification, hotline tickets and the supervision rollups, on both engines.

use std::collections::BTreeMap;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use tongban_domain::calendar::Calendar;
use tongban_domain::cases::{
    Applicant, ApplicantKind, Case, CaseEvent, CaseState, Channel, Decision, Delivery, EventKind,
};
use tongban_domain::feedback::{
    Callback, PriorRatings, RatedKind, Rating, RatingChannel, RatingLevel, RatingRound,
    Rectification, RectificationAction, RectificationPolicy, RectificationState,
};
use tongban_domain::hotline::{
    DeadlinePolicy, RoutingTable, Satisfaction, Ticket, TicketAction, TicketCallback,
    TicketChannel, TicketContext, TicketIntake, TicketState, TicketType, Urgency,
};
use tongban_domain::keys::{AccountName, DepartmentKey, HallKey};
use tongban_domain::stats::{Counters, Dimension, Month, MonthRange};
use tongban_store::model::{CaseWrite, RectificationFilter, StatsQuery, TicketFilter};
use tongban_store::testing::{TestStore, demo_data, test_time};
use tongban_store::{Store, StoreError};

use super::TestResult;

/// 居民身份证申领 (city-police): statutory 60 natural days (≈ 43 working days), promised 15.
const ID_CARD: &str = "11990100004213712W2000109000000";

fn department(key: &str) -> DepartmentKey {
    DepartmentKey::parse(key).unwrap_or_else(|error| panic!("{key}: {error}"))
}

fn at_hours(hours: i64) -> Timestamp {
    test_time() + SignedDuration::from_hours(hours)
}

fn march() -> MonthRange {
    let month = Month::parse("2026-03").unwrap_or_else(|e| panic!("{e}"));
    MonthRange::new(month, month).unwrap_or_else(|e| panic!("{e}"))
}

async fn figures_by(
    store: &Store,
    dimension: Dimension,
) -> Result<BTreeMap<String, Counters>, StoreError> {
    let rows = store
        .stats
        .figures(&StatsQuery {
            range: march(),
            dimension,
            department: None,
        })
        .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.counters)).collect())
}

fn rating(subject: &str, level: RatingLevel, anonymous: bool, round: RatingRound) -> Rating {
    Rating {
        id: uuid::Uuid::now_v7(),
        kind: RatedKind::Case,
        subject: subject.into(),
        round,
        level,
        channel: RatingChannel::Mobile,
        text: Some("等待时间太长".into()),
        anonymous,
        rater: "citizen".into(),
        department: department("city-police"),
        hall: Some("city-centre".into()),
        window: Some("city-centre-a01".into()),
        item_code: Some(ID_CARD.into()),
        region: "990100".into(),
        at: test_time(),
    }
}

#[tokio::test]
async fn a_bad_rating_opens_a_task_that_is_rectified_and_called_back() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let calendar = Calendar::official()?;
    let first = rating("N1", RatingLevel::Dissatisfied, false, RatingRound::First);
    let task = Rectification::open_for(
        &first,
        uuid::Uuid::now_v7(),
        RectificationPolicy::default(),
        &calendar,
        date(2026, 3, 2),
    )?
    .expect("a bad rating opens a task");
    store.feedback.save_rating(&first, Some(&task)).await?;

    // The same round again is a conflict and changes nothing.
    let again = rating("N1", RatingLevel::Satisfied, false, RatingRound::First);
    let refused = store.feedback.save_rating(&again, None).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.feedback.prior_ratings(RatedKind::Case, "N1").await?,
        PriorRatings {
            first: true,
            second: false,
            rectification_settled: false,
            first_was_bad: true,
        }
    );

    let open = store
        .feedback
        .list_rectifications(&RectificationFilter {
            department: Some(department("city-police")),
            limit: 10,
            ..RectificationFilter::default()
        })
        .await?;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].state, RectificationState::Open);
    // 15 working days after Mon 2026-03-02: Mar 3–6 (4), 9–13 (9), 16–20 (14), Mar 23 (15).
    assert_eq!(open[0].due_on, date(2026, 3, 23));
    let none_elsewhere = store
        .feedback
        .list_rectifications(&RectificationFilter {
            department: Some(department("city-health")),
            limit: 10,
            ..RectificationFilter::default()
        })
        .await?;
    assert!(none_elsewhere.is_empty());
    let overdue = store
        .feedback
        .list_rectifications(&RectificationFilter {
            overdue_on: Some(date(2026, 3, 24)),
            limit: 10,
            ..RectificationFilter::default()
        })
        .await?;
    assert_eq!(overdue.len(), 1);

    let mut changed = task.clone();
    changed.apply(
        RectificationAction::Rectify {
            measures: "增设取号引导员".into(),
        },
        "clerk",
        at_hours(24),
    )?;
    store.feedback.save_rectification(&changed, 1).await?;
    let stale = store.feedback.save_rectification(&changed, 1).await;
    assert!(
        matches!(stale, Err(StoreError::StaleVersion { .. })),
        "{stale:?}"
    );
    let version = changed.version;
    changed.apply(
        RectificationAction::CallBack(Callback {
            reached: true,
            satisfied: true,
            note: "认可整改".into(),
        }),
        "supervisor",
        at_hours(48),
    )?;
    store.feedback.save_rectification(&changed, version).await?;
    let stored = store
        .feedback
        .rectification(task.id)
        .await?
        .expect("stored");
    assert_eq!(stored.state, RectificationState::Closed);
    assert_eq!(stored.events.len(), 4);

    // A second rating is now allowed and stored.
    let prior = store.feedback.prior_ratings(RatedKind::Case, "N1").await?;
    assert!(prior.rectification_settled);
    let second = rating("N1", RatingLevel::Satisfied, false, RatingRound::Second);
    store.feedback.save_rating(&second, None).await?;
    let ratings = store.feedback.ratings_of(RatedKind::Case, "N1").await?;
    assert_eq!(ratings.len(), 2);
    assert_eq!(ratings[0], first);

    // Rollups, by hand: 2 ratings (不满意, 满意) → good 1, bad 1; 1 task, closed, rectified on
    // Mar 3 ≤ Mar 23 → on time; named → 1 callback due, 1 done.
    let by_department = figures_by(store, Dimension::Department).await?;
    let police = by_department["city-police"];
    assert_eq!(
        (police.ratings, police.ratings_good, police.ratings_bad),
        (2, 1, 1)
    );
    assert_eq!(
        (
            police.rectifications,
            police.rectifications_closed,
            police.rectifications_on_time,
            police.callbacks_due,
            police.callbacks_done
        ),
        (1, 1, 1, 1, 1)
    );
    let by_window = figures_by(store, Dimension::Window).await?;
    assert_eq!(by_window["city-centre-a01"].ratings, 2);
    assert_eq!(
        by_window["city-centre-a01"].rating_distribution(),
        [0, 1, 0, 1, 0]
    );
    let by_region = figures_by(store, Dimension::Region).await?;
    assert_eq!(by_region["990100"].ratings, 2);
    Ok(())
}

fn intake() -> TicketIntake {
    TicketIntake {
        channel: TicketChannel::Phone,
        kind: TicketType::Complaint,
        category: "city-management".into(),
        area: "990102".into(),
        location: "湖滨路".into(),
        urgency: Urgency::Normal,
        description: "湖滨路垃圾堆放多日无人清运".into(),
        attachments: Vec::new(),
        confidential: true,
        caller_name: "王先生".into(),
        caller_phone: "13900000000".into(),
        caller_account: Some("citizen".into()),
        linked_items: Vec::new(),
    }
}

#[tokio::test]
async fn a_ticket_is_dispatched_replied_reopened_and_closed() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let routing = RoutingTable::parse_toml(include_str!("../../../../data/demo/hotline.toml"))?;
    let calendar = Calendar::official()?;
    let policy = DeadlinePolicy::default();
    let context = TicketContext {
        calendar: &calendar,
        policy: &policy,
        today: date(2026, 3, 2),
    };
    let registered = Ticket::register(
        uuid::Uuid::now_v7(),
        intake(),
        &routing,
        "operator",
        test_time(),
    )?;
    let mut ticket = store.hotline.create_ticket(registered).await?;
    assert_eq!(ticket.number, "RX202603020001");
    let second = store
        .hotline
        .create_ticket(Ticket::register(
            uuid::Uuid::now_v7(),
            intake(),
            &routing,
            "operator",
            at_hours(1),
        )?)
        .await?;
    assert_eq!(second.number, "RX202603020002");
    let similar = store
        .hotline
        .open_tickets_like("city-management", "990102", test_time(), 10)
        .await?;
    assert_eq!(similar.len(), 2);

    let lead = routing
        .route("city-management", "990102")
        .cloned()
        .expect("routed");
    assert_eq!(lead, department("city-urban"));
    let steps = [
        TicketAction::Dispatch {
            department: lead.clone(),
            co_handlers: vec![department("city-market")],
        },
        TicketAction::Reply {
            text: "已清运".into(),
        },
        TicketAction::CallBack(TicketCallback {
            satisfaction: Satisfaction::Dissatisfied,
            resolved: false,
            note: "又堆上了".into(),
        }),
    ];
    for step in steps {
        let version = ticket.version;
        ticket.apply(step, context, "someone", at_hours(2))?;
        store.hotline.save_ticket(&ticket, version).await?;
    }
    assert_eq!(ticket.state, TicketState::Dispatched, "reopened");
    let co_handled = store
        .hotline
        .list_tickets(&TicketFilter {
            department: Some(department("city-market")),
            limit: 10,
            ..TicketFilter::default()
        })
        .await?;
    assert_eq!(co_handled.len(), 1);
    assert_eq!(co_handled[0].number, ticket.number);
    let mine = store
        .hotline
        .list_tickets(&TicketFilter {
            caller_account: Some("citizen".into()),
            limit: 10,
            ..TicketFilter::default()
        })
        .await?;
    assert_eq!(mine.len(), 2);
    // Complaint: 13 working days from Mon Mar 2 → Thu Mar 19; overdue from Mar 20.
    let overdue = store
        .hotline
        .list_tickets(&TicketFilter {
            overdue_on: Some(date(2026, 3, 20)),
            limit: 10,
            ..TicketFilter::default()
        })
        .await?;
    assert_eq!(overdue.len(), 1);
    assert!(
        store
            .hotline
            .list_tickets(&TicketFilter {
                overdue_on: Some(date(2026, 3, 19)),
                limit: 10,
                ..TicketFilter::default()
            })
            .await?
            .is_empty()
    );

    for step in [
        TicketAction::Reply {
            text: "已清运并加装监控".into(),
        },
        TicketAction::CallBack(TicketCallback {
            satisfaction: Satisfaction::Satisfied,
            resolved: true,
            note: String::new(),
        }),
    ] {
        let version = ticket.version;
        ticket.apply(step, context, "someone", at_hours(3))?;
        store.hotline.save_ticket(&ticket, version).await?;
    }
    let stored = store
        .hotline
        .ticket_by_number(&ticket.number)
        .await?
        .expect("stored");
    assert_eq!(stored.state, TicketState::Closed);
    assert_eq!(stored.reopened, 1);

    // By hand: the closed ticket counts for city-urban (1 ticket, closed, replied on time,
    // called back, satisfied, resolved); the second ticket waits for dispatch (department '').
    let by_department = figures_by(store, Dimension::Department).await?;
    let urban = by_department["city-urban"];
    assert_eq!(
        (
            urban.tickets,
            urban.tickets_closed,
            urban.tickets_replied,
            urban.tickets_replied_on_time,
            urban.tickets_called_back,
            urban.tickets_satisfied,
            urban.tickets_resolved
        ),
        (1, 1, 1, 1, 1, 1, 1)
    );
    assert_eq!(by_department[""].tickets, 1);
    assert_eq!(by_department[""].tickets_closed, 0);
    Ok(())
}

fn case(channel: Channel, hall: Option<&str>, at: Timestamp) -> Case {
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
    Case {
        id: uuid::Uuid::now_v7(),
        parent: None,
        shipments: Vec::new(),
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
            name: "申请人".into(),
            identifier: "990102198803150031".into(),
            account: None,
        },
        channel,
        hall: hall.map(|h| HallKey::parse(h).unwrap_or_else(|e| panic!("{e}"))),
        state: CaseState::Submitted,
        workflow,
        answers: BTreeMap::new(),
        form: BTreeMap::new(),
        materials: Vec::new(),
        delivery: Delivery::Post {
            recipient: "申请人".into(),
            phone: "13800000000".into(),
            address: "示范市".into(),
            postage: Default::default(),
        },
        statutory_limit: item.statutory_limit,
        promised_limit: item.promised_limit,
        submitted_at: at,
        accepted_on: None,
        statutory_due: None,
        promised_due: None,
        suspensions: Vec::new(),
        suspended_since: None,
        extension_days: 0,
        countersign: BTreeMap::new(),
        correction: Vec::new(),
        resume_step: None,
        decision: None,
        licence: None,
        closed_at: None,
    }
}

fn event(kind: EventKind, at: Timestamp) -> CaseEvent {
    CaseEvent {
        at,
        actor: AccountName::parse("clerk").unwrap_or_else(|e| panic!("{e}")),
        actor_name: "陈静".into(),
        department: None,
        on_behalf: None,
        kind,
    }
}

async fn submit(store: &Store, case: Case) -> Result<Case, StoreError> {
    let submitted = event(
        EventKind::Submitted {
            channel: case.channel,
        },
        case.submitted_at,
    );
    store
        .cases
        .create_case(CaseWrite {
            case: Some(case),
            events: vec![submitted],
            ..CaseWrite::default()
        })
        .await
}

/// Accepts on Mar 2 with the given promised due date and decides at `decided_at`.
async fn decide(
    store: &Store,
    mut case: Case,
    promised_due: jiff::civil::Date,
    decided_at: Timestamp,
) -> Result<Case, StoreError> {
    let expected = case.version;
    case.version += 1;
    case.accepted_on = Some(date(2026, 3, 2));
    case.promised_due = Some(promised_due);
    case.state = CaseState::Decided { granted: true };
    case.decision = Some(Decision {
        granted: true,
        opinion: "准予".into(),
        by: AccountName::parse("approver").unwrap_or_else(|e| panic!("{e}")),
        at: decided_at,
    });
    let decided = event(
        EventKind::Decided {
            granted: true,
            opinion: "准予".into(),
        },
        decided_at,
    );
    store
        .cases
        .save_case(
            CaseWrite {
                case: Some(case.clone()),
                events: vec![decided],
                ..CaseWrite::default()
            },
            expected,
        )
        .await?;
    Ok(case)
}

#[tokio::test]
async fn case_changes_keep_the_monthly_figures_computed_by_hand() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    // A: web, decided Thu Mar 5 (3 working days after Mar 2), due Mar 23 → on time, 0 visits.
    // B: window at city-centre, decided Fri Mar 6 (4 working days), due Mar 3 → late, 1 visit.
    // C: web, submitted Mar 3, not decided.
    let a = submit(store, case(Channel::Web, None, test_time())).await?;
    let b = submit(
        store,
        case(Channel::Window, Some("city-centre"), at_hours(1)),
    )
    .await?;
    submit(store, case(Channel::Web, None, at_hours(24))).await?;
    decide(store, a, date(2026, 3, 23), at_hours(72)).await?;
    let b = decide(store, b, date(2026, 3, 3), at_hours(96)).await?;
    // Saving B again without a change in its fact changes no figure.
    let mut unchanged = b.clone();
    unchanged.version += 1;
    store
        .cases
        .save_case(
            CaseWrite {
                case: Some(unchanged),
                ..CaseWrite::default()
            },
            b.version,
        )
        .await?;

    // By hand, city-police, March 2026: submitted 3, online 2 (A, C); decided 2, on time 1
    // (A); working days 3 + 4 = 7; promised 15 + 15 = 30; statutory 60 natural days →
    // ceil(60 × 5 / 7) = 43 each → 86; zero visits 1 (A), at most one visit 2.
    let by_department = figures_by(store, Dimension::Department).await?;
    let police = by_department["city-police"];
    assert_eq!(
        (
            police.submitted,
            police.submitted_online,
            police.decided,
            police.decided_on_time
        ),
        (3, 2, 2, 1)
    );
    assert_eq!(
        (
            police.decided_days_sum,
            police.decided_promised_sum,
            police.decided_statutory_sum
        ),
        (7, 30, 86)
    );
    assert_eq!(
        (police.decided_zero_visit, police.decided_one_visit),
        (1, 2)
    );

    let by_hall = figures_by(store, Dimension::Hall).await?;
    assert_eq!((by_hall[""].submitted, by_hall[""].decided), (2, 1));
    assert_eq!(
        (
            by_hall["city-centre"].submitted,
            by_hall["city-centre"].decided
        ),
        (1, 1)
    );
    let by_item = figures_by(store, Dimension::Item).await?;
    assert_eq!(by_item[ID_CARD].submitted, 3);

    // Histogram (3 days: 1, 4 days: 1); p90 rank ceil(0.9 × 2) = 2 → 4.
    let histogram = store.stats.days_histogram(march(), None).await?;
    assert_eq!(histogram, vec![(3, 1), (4, 1)]);
    assert_eq!(tongban_domain::stats::percentile(&histogram, 90), Some(4));

    let monthly = store
        .stats
        .monthly(march(), Some(&department("city-police")))
        .await?;
    assert_eq!(monthly.len(), 1);
    assert_eq!(monthly[0].key, "2026-03");
    assert_eq!(monthly[0].counters.decided, 2);
    // Daily: submitted Mar 2 (A, B) and Mar 3 (C); decided Mar 5 (A) and Mar 6 (B).
    let daily = store
        .stats
        .daily(date(2026, 3, 1), date(2026, 3, 31), None)
        .await?;
    let days: Vec<(String, i64, i64)> = daily
        .iter()
        .map(|r| (r.key.clone(), r.counters.submitted, r.counters.decided))
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-03-02".to_owned(), 2, 0),
            ("2026-03-03".to_owned(), 1, 0),
            ("2026-03-05".to_owned(), 0, 1),
            ("2026-03-06".to_owned(), 0, 1),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn case_changes_are_folded_once_whenever_the_folder_runs() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    // A is folded after its submission and again after its decision; B only once, at the end.
    let a = submit(store, case(Channel::Web, None, test_time())).await?;
    assert!(store.stats.fold_pending().await? >= 1);
    assert_eq!(store.stats.fold_pending().await?, 0, "nothing left to fold");
    let b = submit(
        store,
        case(Channel::Window, Some("city-centre"), at_hours(1)),
    )
    .await?;
    decide(store, a, date(2026, 3, 23), at_hours(72)).await?;
    decide(store, b, date(2026, 3, 3), at_hours(96)).await?;
    assert_eq!(
        store.stats.fold_pending().await?,
        2,
        "A and B changed since"
    );
    assert_eq!(store.stats.fold_pending().await?, 0);

    let police = figures_by(store, Dimension::Department).await?["city-police"];
    assert_eq!(
        (
            police.submitted,
            police.decided,
            police.decided_on_time,
            police.decided_zero_visit,
            police.decided_one_visit
        ),
        (2, 2, 1, 1, 2)
    );
    let histogram = store.stats.days_histogram(march(), None).await?;
    assert_eq!(histogram, vec![(3, 1), (4, 1)]);
    Ok(())
}

#[tokio::test]
async fn a_query_counts_changes_that_were_not_folded_yet() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let a = submit(store, case(Channel::Web, None, test_time())).await?;
    assert_eq!(
        figures_by(store, Dimension::Department).await?["city-police"].decided,
        0
    );
    decide(store, a, date(2026, 3, 23), at_hours(72)).await?;
    // No fold ran in between: the query folds first.
    let police = figures_by(store, Dimension::Department).await?["city-police"];
    assert_eq!((police.submitted, police.decided), (1, 1));
    assert_eq!(store.stats.fold_pending().await?, 0);
    Ok(())
}
