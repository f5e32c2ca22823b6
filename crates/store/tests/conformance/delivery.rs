//! The tracking index of posted results (`CaseStore::shipped_cases`), on both engines: written
//! with its case in one transaction, following the case's current shipment, shared by one
//! applicant's cases, untouched by a refused write.

use jiff::{SignedDuration, Timestamp};
use tongban_domain::cases::delivery::{
    Carrier, Postage, Shipment, ShipmentStatus, TrackingEvent, TrackingNumber,
};
use tongban_domain::cases::{Case, CaseEvent, CaseState, EventKind};
use tongban_domain::keys::AccountName;
use tongban_store::model::{CaseWrite, ShippedCase};
use tongban_store::testing::{TestStore, test_time};
use tongban_store::{Store, StoreError};

use super::TestResult;
use super::cases::{create, new_case};

const ZHANG_WEI: &str = "990102198803150031";
const WANG_FANG: &str = "990102199006200045";
const EMS: &str = "EA123456785CN";
const SF: &str = "SF1234567890123";

fn at_minutes(minutes: i64) -> Timestamp {
    test_time() + SignedDuration::from_mins(minutes)
}

fn clerk() -> AccountName {
    AccountName::parse("clerk").unwrap_or_else(|e| panic!("{e}"))
}

fn shipment(carrier: Carrier, number: &str, at: Timestamp) -> Shipment {
    Shipment {
        carrier,
        tracking_number: TrackingNumber::parse(carrier, number).unwrap_or_else(|e| panic!("{e}")),
        postage: Postage::Free,
        status: ShipmentStatus::Shipped,
        shipped_at: at,
        shipped_by: clerk(),
        hall: None,
        events: Vec::new(),
    }
}

/// Stores the next version of `case` with one event (or none), as a case action would.
async fn save(
    store: &Store,
    case: &mut Case,
    kind: Option<EventKind>,
    at: Timestamp,
) -> TestResult {
    let expected = case.version;
    case.version += 1;
    let events = kind
        .into_iter()
        .map(|kind| CaseEvent {
            at,
            actor: clerk(),
            actor_name: "陈静".into(),
            department: None,
            on_behalf: None,
            kind,
        })
        .collect();
    let write = CaseWrite {
        case: Some(case.clone()),
        events,
        ..CaseWrite::default()
    };
    store.cases.save_case(write, expected).await?;
    Ok(())
}

/// An issued case of `applicant`, stored.
async fn issued(store: &Store, applicant: &str, minutes: i64) -> Result<Case, StoreError> {
    let mut case = new_case(super::BIRTH_CERTIFICATE, applicant, at_minutes(minutes));
    case = create(store, case).await?;
    case.state = CaseState::Issued;
    Ok(case)
}

/// Posts the case's result under the number at `minutes`, as the `ship` action would.
async fn post(
    store: &Store,
    case: &mut Case,
    carrier: Carrier,
    number: &str,
    minutes: i64,
) -> TestResult {
    let at = at_minutes(minutes);
    case.shipments.push(shipment(carrier, number, at));
    let shipped = EventKind::Shipped {
        carrier,
        tracking_number: TrackingNumber::parse(carrier, number).unwrap_or_else(|e| panic!("{e}")),
    };
    save(store, case, Some(shipped), at).await
}

fn summary(rows: &[ShippedCase]) -> Vec<(uuid::Uuid, u32, &str, &str)> {
    rows.iter()
        .map(|r| (r.case_id, r.seq, r.applicant.as_str(), r.status.as_str()))
        .collect()
}

#[tokio::test]
async fn a_posted_case_is_found_by_its_tracking_number_and_its_status_follows() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let mut case = issued(store, ZHANG_WEI, 0).await?;
    assert!(store.cases.shipped_cases("ems", EMS).await?.is_empty());

    post(store, &mut case, Carrier::Ems, EMS, 10).await?;
    let rows = store.cases.shipped_cases("ems", EMS).await?;
    assert_eq!(summary(&rows), [(case.id, 0, ZHANG_WEI, "shipped")]);
    // The carrier is part of the key: the same text under another carrier is another parcel.
    assert!(store.cases.shipped_cases("sf", EMS).await?.is_empty());

    // A report without a case event (picked up) still moves the index.
    if let Some(current) = case.shipments.last_mut() {
        current.status = ShipmentStatus::PickedUp;
        current.events.push(TrackingEvent {
            status: ShipmentStatus::PickedUp,
            at: at_minutes(20),
            place: "示范市东湖区揽投部".into(),
            note: String::new(),
            recorded_at: at_minutes(21),
            recorded_by: clerk(),
        });
    }
    save(store, &mut case, None, at_minutes(21)).await?;
    let rows = store.cases.shipped_cases("ems", EMS).await?;
    assert_eq!(summary(&rows), [(case.id, 0, ZHANG_WEI, "picked_up")]);
    let stored = store.cases.case(case.id).await?.map(|c| c.shipments);
    assert_eq!(
        stored,
        Some(case.shipments.clone()),
        "the shipment lives in the case"
    );
    Ok(())
}

#[tokio::test]
async fn a_returned_parcel_keeps_its_row_when_the_result_is_posted_again() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let mut case = issued(store, ZHANG_WEI, 0).await?;
    post(store, &mut case, Carrier::Ems, EMS, 10).await?;
    if let Some(current) = case.shipments.last_mut() {
        current.status = ShipmentStatus::Returned;
    }
    save(store, &mut case, None, at_minutes(60)).await?;
    post(store, &mut case, Carrier::Sf, SF, 90).await?;

    let first = store.cases.shipped_cases("ems", EMS).await?;
    assert_eq!(summary(&first), [(case.id, 0, ZHANG_WEI, "returned")]);
    let second = store.cases.shipped_cases("sf", SF).await?;
    assert_eq!(summary(&second), [(case.id, 1, ZHANG_WEI, "shipped")]);
    Ok(())
}

#[tokio::test]
async fn one_parcel_may_carry_several_cases_and_lists_them_oldest_posting_first() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let mut later = issued(store, ZHANG_WEI, 0).await?;
    let mut earlier = issued(store, ZHANG_WEI, 1).await?;
    let mut other = issued(store, WANG_FANG, 2).await?;
    post(store, &mut earlier, Carrier::Ems, EMS, 10).await?;
    post(store, &mut later, Carrier::Ems, EMS, 11).await?;
    post(store, &mut other, Carrier::Sf, SF, 12).await?;

    let rows = store.cases.shipped_cases("ems", EMS).await?;
    assert_eq!(
        summary(&rows),
        [
            (earlier.id, 0, ZHANG_WEI, "shipped"),
            (later.id, 0, ZHANG_WEI, "shipped")
        ]
    );
    let rows = store.cases.shipped_cases("sf", SF).await?;
    assert_eq!(summary(&rows), [(other.id, 0, WANG_FANG, "shipped")]);
    Ok(())
}

#[tokio::test]
async fn a_refused_write_leaves_the_tracking_index_alone() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let mut case = issued(store, ZHANG_WEI, 0).await?;
    case.shipments
        .push(shipment(Carrier::Ems, EMS, at_minutes(10)));
    let stale = CaseWrite {
        case: Some(Case {
            version: case.version + 1,
            ..case.clone()
        }),
        ..CaseWrite::default()
    };
    let refused = store.cases.save_case(stale, case.version + 7).await;
    assert!(
        matches!(refused, Err(StoreError::StaleVersion { .. })),
        "{refused:?}"
    );
    assert!(store.cases.shipped_cases("ems", EMS).await?.is_empty());
    Ok(())
}
