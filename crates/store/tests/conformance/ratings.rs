//! Ratings of every rated kind and the rollups of appealed (申诉) and voided rectification
//! tasks, on both engines.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use jiff::civil::date;
use tongban_domain::calendar::Calendar;
use tongban_domain::feedback::{
    Callback, PriorRatings, RatedKind, Rating, RatingChannel, RatingLevel, RatingRound,
    Rectification, RectificationAction, RectificationPolicy, RectificationState,
};
use tongban_domain::keys::DepartmentKey;
use tongban_domain::stats::{Counters, Dimension, Month, MonthRange, kpis};
use tongban_store::model::{RectificationFilter, StatsQuery};
use tongban_store::testing::{TestStore, test_time};
use tongban_store::{Store, StoreError};

use super::TestResult;

fn department(key: &str) -> DepartmentKey {
    DepartmentKey::parse(key).unwrap_or_else(|error| panic!("{key}: {error}"))
}

fn rating(kind: RatedKind, subject: &str, level: RatingLevel, department_key: &str) -> Rating {
    Rating {
        id: uuid::Uuid::now_v7(),
        kind,
        subject: subject.into(),
        round: RatingRound::First,
        level,
        channel: RatingChannel::Pc,
        text: None,
        anonymous: false,
        rater: "citizen".into(),
        department: department(department_key),
        hall: None,
        window: None,
        item_code: None,
        region: "990100".into(),
        at: test_time(),
    }
}

/// Stores a bad first rating of `subject` and its task, opened Mon 2026-03-02.
async fn bad(store: &Store, kind: RatedKind, subject: &str) -> Result<Rectification, StoreError> {
    let given = rating(kind, subject, RatingLevel::Dissatisfied, "city-police");
    let task = Rectification::open_for(
        &given,
        uuid::Uuid::now_v7(),
        RectificationPolicy::default(),
        &Calendar::official().unwrap_or_else(|e| panic!("{e}")),
        date(2026, 3, 2),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|| panic!("a bad rating opens a task"));
    store.feedback.save_rating(&given, Some(&task)).await?;
    Ok(task)
}

async fn act(
    store: &Store,
    task: &mut Rectification,
    action: RectificationAction,
    actor: &str,
    hours: i64,
) -> TestResult {
    let expected = task.version;
    task.apply(
        action,
        actor,
        test_time() + SignedDuration::from_hours(hours),
    )?;
    store.feedback.save_rectification(task, expected).await?;
    Ok(())
}

async fn police_counters(store: &Store) -> Result<Counters, StoreError> {
    let month = Month::parse("2026-03").unwrap_or_else(|e| panic!("{e}"));
    let rows = store
        .stats
        .figures(&StatsQuery {
            range: MonthRange::new(month, month).unwrap_or_else(|e| panic!("{e}")),
            dimension: Dimension::Department,
            department: None,
        })
        .await?;
    let by_key: BTreeMap<String, Counters> =
        rows.into_iter().map(|r| (r.key, r.counters)).collect();
    Ok(by_key.get("city-police").copied().unwrap_or_default())
}

#[tokio::test]
async fn a_bundle_rating_and_a_case_rating_of_the_same_number_are_different_subjects() -> TestResult
{
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let number = "YJS202603020001";
    let bundle = rating(
        RatedKind::Bundle,
        number,
        RatingLevel::VeryDissatisfied,
        "city-civil",
    );
    store.feedback.save_rating(&bundle, None).await?;
    let refused = store
        .feedback
        .save_rating(
            &rating(
                RatedKind::Bundle,
                number,
                RatingLevel::Satisfied,
                "city-civil",
            ),
            None,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store
            .feedback
            .prior_ratings(RatedKind::Bundle, number)
            .await?,
        PriorRatings {
            first: true,
            second: false,
            rectification_settled: false,
            first_was_bad: true,
        }
    );
    assert_eq!(
        store
            .feedback
            .prior_ratings(RatedKind::Case, number)
            .await?,
        PriorRatings::default(),
        "the kind is part of the subject"
    );
    let stored = store.feedback.ratings_of(RatedKind::Bundle, number).await?;
    assert_eq!(stored, vec![bundle]);
    assert!(
        store
            .feedback
            .ratings_of(RatedKind::Visit, number)
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn a_voided_task_counts_as_settled_and_leaves_the_callbacks_due() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    // Three bad ratings of city-police (A a case, B a bundle application, C a visit), opened
    // Mon 2026-03-02, due Mon 2026-03-23.
    let mut a = bad(store, RatedKind::Case, "N-A").await?;
    let mut b = bad(store, RatedKind::Bundle, "YJS202603020001").await?;
    let c = bad(store, RatedKind::Visit, "city-centre/A001").await?;
    let opened = police_counters(store).await?;
    assert_eq!(
        (
            opened.rectifications,
            opened.rectifications_closed,
            opened.callbacks_due,
            opened.callbacks_done
        ),
        (3, 0, 3, 0)
    );

    // A: appealed, rejected, appealed again, upheld → voided.
    act(
        store,
        &mut a,
        RectificationAction::Appeal {
            reason: "非本部门责任".into(),
        },
        "approver",
        1,
    )
    .await?;
    let appealed = store
        .feedback
        .list_rectifications(&RectificationFilter {
            states: vec![RectificationState::Appealed],
            limit: 10,
            ..RectificationFilter::default()
        })
        .await?;
    assert_eq!(
        appealed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    // An appealed task past its due date is overdue, like an open one.
    let overdue = store
        .feedback
        .list_rectifications(&RectificationFilter {
            overdue_on: Some(date(2026, 3, 24)),
            limit: 10,
            ..RectificationFilter::default()
        })
        .await?;
    assert_eq!(overdue.len(), 3);
    act(
        store,
        &mut a,
        RectificationAction::Review {
            upheld: false,
            note: "证据不足".into(),
        },
        "supervisor",
        2,
    )
    .await?;
    assert_eq!(a.state, RectificationState::Open);
    act(
        store,
        &mut a,
        RectificationAction::Appeal {
            reason: "补充签收记录".into(),
        },
        "approver",
        3,
    )
    .await?;
    act(
        store,
        &mut a,
        RectificationAction::Review {
            upheld: true,
            note: "申诉成立".into(),
        },
        "supervisor",
        4,
    )
    .await?;
    let stored = store
        .feedback
        .rectification(a.id)
        .await?
        .unwrap_or_else(|| panic!("A is stored"));
    assert_eq!(stored.state, RectificationState::Voided);
    assert_eq!(stored.version, 5);
    assert_eq!(stored.events.len(), 5);
    // A voided task settles the first rating: a second one is allowed.
    assert!(
        store
            .feedback
            .prior_ratings(RatedKind::Case, "N-A")
            .await?
            .rectification_settled
    );
    let after_void = police_counters(store).await?;
    assert_eq!(
        (
            after_void.rectifications,
            after_void.rectifications_closed,
            after_void.rectifications_on_time,
            after_void.callbacks_due
        ),
        (3, 1, 1, 2),
        "voided: settled, on time, and no callback owed"
    );

    // B: rectified and called back → closed. C stays open.
    act(
        store,
        &mut b,
        RectificationAction::Rectify {
            measures: "进度页显示各部门环节".into(),
        },
        "chief-civil",
        5,
    )
    .await?;
    act(
        store,
        &mut b,
        RectificationAction::CallBack(Callback {
            reached: true,
            satisfied: true,
            note: String::new(),
        }),
        "supervisor",
        6,
    )
    .await?;
    assert_eq!(c.state, RectificationState::Open);

    // docs/kpis.md by hand: 差评整改率 = closed or voided / opened = 2/3 = 66.67%;
    // 按期整改率 = rectified by the due date or voided = 2/3; 回访率 = reached / named not voided
    // = 1/2 = 50%.
    let police = police_counters(store).await?;
    assert_eq!(
        (
            police.rectifications,
            police.rectifications_closed,
            police.rectifications_on_time,
            police.callbacks_due,
            police.callbacks_done
        ),
        (3, 2, 2, 2, 1)
    );
    let values: BTreeMap<&str, Option<f64>> = kpis(&police, None)
        .into_iter()
        .map(|k| (k.code, k.value))
        .collect();
    assert_eq!(values["rectification_rate"], Some(66.67));
    assert_eq!(values["rectification_on_time_rate"], Some(66.67));
    assert_eq!(values["callback_rate"], Some(50.0));
    Ok(())
}
