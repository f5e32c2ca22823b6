//! The figures beside the case rollups, on both engines: the queue rollups that ticket writes
//! keep (waiting times, throughput), and the catalog as the catalog and bundle figures read it.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use tongban_domain::halls::PriorityClass;
use tongban_domain::halls::queue::{Ticket, TicketStatus};
use tongban_domain::keys::{HallKey, SkillGroupKey, WindowKey};
use tongban_domain::stats::catalog::ItemFact;
use tongban_domain::stats::queue::QueueCounters;
use tongban_domain::stats::{Month, MonthRange};
use tongban_store::Store;
use tongban_store::model::{CheckIn, QueueGroup};
use tongban_store::testing::{TestStore, demo_data, test_time};

use super::TestResult;

fn march() -> MonthRange {
    let month = Month::parse("2026-03").unwrap_or_else(|e| panic!("{e}"));
    MonthRange::new(month, month).unwrap_or_else(|e| panic!("{e}"))
}

/// Seconds after Monday 2026-03-02 09:00 in Shanghai.
fn at(seconds: i64) -> Timestamp {
    test_time() + SignedDuration::from_secs(seconds)
}

const TUESDAY: i64 = 86_400;

fn window(key: &str) -> WindowKey {
    WindowKey::parse(key).unwrap_or_else(|error| panic!("{key}: {error}"))
}

async fn take(
    store: &Store,
    n: u128,
    hall: &str,
    second: i64,
) -> Result<Ticket, Box<dyn std::error::Error>> {
    let ticket = Ticket::take(
        uuid::Uuid::from_u128(n),
        HallKey::parse(hall)?,
        String::new(),
        PriorityClass::Normal,
        SkillGroupKey::parse("personal")?,
        None,
        at(second),
    );
    Ok(store
        .halls
        .check_in(CheckIn {
            ticket,
            appointment: None,
            visit: None,
        })
        .await?)
}

/// Stores `changed`, which must take effect.
async fn save(
    store: &Store,
    before: &Ticket,
    changed: Ticket,
) -> Result<Ticket, Box<dyn std::error::Error>> {
    assert!(
        store
            .halls
            .save_ticket(&changed, before.status, before.recalls)
            .await?,
        "saving {} ({:?} → {:?})",
        changed.number,
        before.status,
        changed.status
    );
    Ok(changed)
}

/// Called at `called`, finished at `finished`, by one window.
async fn serve(
    store: &Store,
    ticket: &Ticket,
    at_window: &str,
    called: i64,
    finished: i64,
) -> Result<Ticket, Box<dyn std::error::Error>> {
    let key = window(at_window);
    let called_ticket = save(store, ticket, ticket.call(&key, at(called))?).await?;
    save(
        store,
        &called_ticket,
        called_ticket.finish(&key, at(finished))?,
    )
    .await
}

async fn by_key(
    store: &Store,
    group: QueueGroup,
) -> Result<BTreeMap<String, (QueueCounters, Vec<(i64, i64)>)>, Box<dyn std::error::Error>> {
    Ok(store
        .stats
        .queue_figures(march(), group)
        .await?
        .into_iter()
        .map(|row| (row.key, (row.counters, row.wait_histogram)))
        .collect())
}

#[tokio::test]
async fn ticket_writes_keep_the_queue_figures_computed_by_hand() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    // Monday at city-centre (region 990100):
    // T1 taken 0 s, called by A01 at 120 s (waited 120 s → bucket 2 min), finished by A01.
    let t1 = take(store, 1, "city-centre", 0).await?;
    serve(store, &t1, "city-centre-a01", 120, 600).await?;
    // T2 taken 60 s, called by A01 at 660 s (600 s → 10 min), finished by A01.
    let t2 = take(store, 2, "city-centre", 60).await?;
    serve(store, &t2, "city-centre-a01", 660, 900).await?;
    // T3 taken 90 s, called by A02 at 300 s (210 s → 4 min), a no-show: waited, not served.
    let t3 = take(store, 3, "city-centre", 90).await?;
    let a02 = window("city-centre-a02");
    let t3 = save(store, &t3, t3.call(&a02, at(300))?).await?;
    save(store, &t3, t3.skip(&a02, at(400))?).await?;
    // T4 taken 120 s, called by A02 at 500 s (380 s → 7 min), recalled, transferred to C01,
    // called again and finished there: it waited once, C01 served it.
    let t4 = take(store, 4, "city-centre", 120).await?;
    let t4 = save(store, &t4, t4.call(&a02, at(500))?).await?;
    let t4 = save(store, &t4, t4.recall(&a02, at(530))?).await?;
    let c01 = window("city-centre-c01");
    let t4 = save(
        store,
        &t4,
        t4.transfer(&a02, SkillGroupKey::parse("police")?, Some(c01.clone()))?,
    )
    .await?;
    serve(store, &t4, "city-centre-c01", 1000, 1200).await?;
    // T5 taken 150 s and still waiting: nothing yet.
    let t5 = take(store, 5, "city-centre", 150).await?;
    // A stale change (T5 as if it had been called already) changes no figure.
    let stale = t5.call(&a02, at(160))?;
    assert!(
        !store
            .halls
            .save_ticket(&stale, TicketStatus::Called, 0)
            .await?
    );
    // Tuesday: T6 at east-centre (990102) waits 30 s (→ 1 min), served by its A01; T7 at
    // city-centre waits 60 s (→ 1 min), served by A01.
    let t6 = take(store, 6, "east-centre", TUESDAY).await?;
    serve(store, &t6, "east-centre-a01", TUESDAY + 30, TUESDAY + 300).await?;
    let t7 = take(store, 7, "city-centre", TUESDAY + 10).await?;
    serve(store, &t7, "city-centre-a01", TUESDAY + 70, TUESDAY + 400).await?;

    // city-centre: called T1, T2, T3, T4, T7 = 5, waited 120 + 600 + 210 + 380 + 60 = 1370 s;
    // buckets 2, 10, 4, 7, 1; served T1, T2, T7 (A01) and T4 (C01) = 4 on the window-days
    // (A01, Mon), (C01, Mon), (A01, Tue) = 3. east-centre: 1 called, 30 s, bucket 1, 1 served
    // on 1 window-day.
    let halls = by_key(store, QueueGroup::Hall).await?;
    let city = QueueCounters {
        called: 5,
        wait_seconds: 1370,
        served: 4,
        window_days: 3,
    };
    let east = QueueCounters {
        called: 1,
        wait_seconds: 30,
        served: 1,
        window_days: 1,
    };
    let city_histogram = vec![(1, 1), (2, 1), (4, 1), (7, 1), (10, 1)];
    assert_eq!(halls.len(), 2, "{halls:?}");
    assert_eq!(halls["city-centre"], (city, city_histogram.clone()));
    assert_eq!(halls["east-centre"], (east, vec![(1, 1)]));
    let regions = by_key(store, QueueGroup::Region).await?;
    assert_eq!(regions["990100"], (city, city_histogram));
    assert_eq!(regions["990102"], (east, vec![(1, 1)]));
    // Per window: only services (A02 served nothing); no histogram.
    let windows = by_key(store, QueueGroup::Window).await?;
    let served = |served, window_days| QueueCounters {
        served,
        window_days,
        ..QueueCounters::default()
    };
    assert_eq!(
        windows.keys().map(String::as_str).collect::<Vec<_>>(),
        ["city-centre-a01", "city-centre-c01", "east-centre-a01"]
    );
    assert_eq!(windows["city-centre-a01"], (served(3, 2), Vec::new()));
    assert_eq!(windows["city-centre-c01"], (served(1, 1), Vec::new()));
    assert_eq!(windows["east-centre-a01"], (served(1, 1), Vec::new()));
    // The month and the total: 6 called, 1400 s, 5 served on 4 window-days.
    let all = QueueCounters {
        called: 6,
        wait_seconds: 1400,
        served: 5,
        window_days: 4,
    };
    let all_histogram = vec![(1, 2), (2, 1), (4, 1), (7, 1), (10, 1)];
    let months = by_key(store, QueueGroup::Month).await?;
    assert_eq!(months["2026-03"], (all, all_histogram.clone()));
    let total = by_key(store, QueueGroup::Total).await?;
    assert_eq!(total[""], (all, all_histogram));
    // Another month has nothing.
    let april = Month::parse("2026-04")?;
    let rows = store
        .stats
        .queue_figures(MonthRange::new(april, april)?, QueueGroup::Total)
        .await?;
    assert!(rows.is_empty(), "{rows:?}");
    Ok(())
}

#[tokio::test]
async fn item_facts_follow_the_published_versions() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let data = demo_data();
    let mut expected: Vec<ItemFact> = data.catalog.items.iter().map(ItemFact::of).collect();
    expected.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(store.stats.item_facts().await?, expected);

    // A draft changes nothing; publishing it does.
    let mut item = data.catalog.items[0].clone();
    item.places.retain(|p| p.hall.is_none());
    store.catalog.save_item_draft(&item, test_time()).await?;
    assert_eq!(store.stats.item_facts().await?, expected);
    store
        .catalog
        .publish_item(&item.implementation_code, test_time())
        .await?;
    let facts = store.stats.item_facts().await?;
    let fact = facts
        .iter()
        .find(|f| f.code == item.implementation_code)
        .expect("still published");
    assert!(fact.halls.is_empty(), "{fact:?}");
    assert_eq!(facts.len(), expected.len());
    Ok(())
}

#[tokio::test]
async fn the_bundle_catalog_holds_every_published_bundle_with_its_members() -> TestResult {
    let test = TestStore::with_demo().await?;
    let catalog = test.store.stats.bundle_catalog().await?;
    let data = demo_data();
    let mut codes: Vec<String> = data
        .catalog
        .bundles
        .iter()
        .map(|b| b.code.to_string())
        .collect();
    codes.sort();
    let listed: Vec<String> = catalog.bundles.iter().map(|b| b.code.to_string()).collect();
    assert_eq!(listed, codes);
    for bundle in &catalog.bundles {
        for member in &bundle.members {
            let item = catalog.items.get(&member.item);
            let demo = data
                .catalog
                .items
                .iter()
                .find(|i| i.implementation_code == member.item);
            assert_eq!(item, demo, "{}: member {}", bundle.code, member.item);
        }
    }
    Ok(())
}
