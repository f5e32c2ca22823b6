//! The storage conformance suite: the same tests against SQLite (default) and PostgreSQL (when
//! `TONGBAN_TEST_PG_URL` is set; CI runs this binary twice). Each test gets a fresh store.

use jiff::ToSpan;
use tongban_domain::catalog::VersionStatus;
use tongban_domain::catalog::codes::{ExerciseLevel, ItemType, ServiceObject};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::{BundleCode, DepartmentKey, ThemeKey};
use tongban_store::StoreError;
use tongban_store::model::{ItemFilter, PageRequest};
use tongban_store::testing::{TestStore, demo_data, postgres_url, test_time};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BIRTH_CERTIFICATE: &str = "11990100004213675N2000101000000";

fn code(text: &str) -> ImplementationCode {
    ImplementationCode::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
}

#[tokio::test]
async fn a_new_store_is_empty_and_an_import_fills_it() -> TestResult {
    let test = TestStore::new().await?;
    assert!(test.store.catalog.is_empty().await?);
    let data = demo_data();
    let report = test.store.catalog.import(&data, test_time()).await?;
    assert_eq!(report.items_created as usize, data.catalog.items.len());
    assert_eq!(report.bundles_created as usize, data.catalog.bundles.len());
    assert!(!test.store.catalog.is_empty().await?);
    Ok(())
}

#[tokio::test]
async fn importing_the_same_data_twice_changes_nothing() -> TestResult {
    let test = TestStore::with_demo().await?;
    let report = test.store.catalog.import(&demo_data(), test_time()).await?;
    assert_eq!(report.items_created + report.items_updated, 0);
    assert_eq!(report.bundles_created + report.bundles_updated, 0);
    assert_eq!(
        report.items_unchanged as usize,
        demo_data().catalog.items.len()
    );
    let versions = test
        .store
        .catalog
        .item_versions(&code(BIRTH_CERTIFICATE))
        .await?;
    assert_eq!(versions.len(), 1, "no new version for unchanged content");
    Ok(())
}

#[tokio::test]
async fn an_import_of_changed_content_publishes_a_new_version_and_keeps_the_old() -> TestResult {
    let test = TestStore::with_demo().await?;
    let mut data = demo_data();
    let item = data
        .catalog
        .items
        .iter_mut()
        .find(|i| i.implementation_code.as_str() == BIRTH_CERTIFICATE)
        .expect("the demo has the birth certificate item");
    item.summary.push_str("(已更新)");
    let report = test
        .store
        .catalog
        .import(&data, test_time() + 1.hour())
        .await?;
    assert_eq!(report.items_updated, 1);
    let current = test
        .store
        .catalog
        .item(&code(BIRTH_CERTIFICATE))
        .await?
        .expect("published");
    assert_eq!(current.version.version, 2);
    assert!(current.definition.summary.ends_with("(已更新)"));
    let old = test
        .store
        .catalog
        .item_version(&code(BIRTH_CERTIFICATE), 1)
        .await?
        .expect("kept");
    assert_eq!(old.version.status, VersionStatus::Superseded);
    assert_eq!(old.id, current.id, "the identity is stable across versions");
    Ok(())
}

#[tokio::test]
async fn a_draft_is_invisible_until_published_atomically() -> TestResult {
    let test = TestStore::with_demo().await?;
    let original = test
        .store
        .catalog
        .item(&code(BIRTH_CERTIFICATE))
        .await?
        .expect("published");
    let mut draft = original.definition.clone();
    draft.name = "出生医学证明首次签发(新版)".into();
    let saved = test
        .store
        .catalog
        .save_item_draft(&draft, test_time() + 1.hour())
        .await?;
    assert_eq!((saved.version, saved.status), (2, VersionStatus::Draft));

    let still = test
        .store
        .catalog
        .item(&code(BIRTH_CERTIFICATE))
        .await?
        .expect("published");
    assert_eq!(
        still.definition.name, original.definition.name,
        "drafts are not published"
    );

    // Saving again replaces the draft instead of piling up versions.
    draft.name = "出生医学证明首次签发(第二稿)".into();
    let saved_again = test
        .store
        .catalog
        .save_item_draft(&draft, test_time() + 2.hours())
        .await?;
    assert_eq!(saved_again.version, 2);

    let published = test
        .store
        .catalog
        .publish_item(&code(BIRTH_CERTIFICATE), test_time() + 3.hours())
        .await?;
    assert_eq!(
        (published.version, published.status),
        (2, VersionStatus::Published)
    );
    assert_eq!(published.published_at, Some(test_time() + 3.hours()));
    let now = test
        .store
        .catalog
        .item(&code(BIRTH_CERTIFICATE))
        .await?
        .expect("published");
    assert_eq!(now.definition.name, "出生医学证明首次签发(第二稿)");
    let statuses: Vec<(u32, VersionStatus)> = test
        .store
        .catalog
        .item_versions(&code(BIRTH_CERTIFICATE))
        .await?
        .into_iter()
        .map(|v| (v.version, v.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (2, VersionStatus::Published),
            (1, VersionStatus::Superseded)
        ]
    );
    Ok(())
}

#[tokio::test]
async fn publishing_without_a_draft_is_refused() -> TestResult {
    let test = TestStore::with_demo().await?;
    let result = test
        .store
        .catalog
        .publish_item(&code(BIRTH_CERTIFICATE), test_time())
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    let unknown = test
        .store
        .catalog
        .publish_item(&code("11990100004213675N2099999000000"), test_time())
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { .. })),
        "{unknown:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_item_list_filters_by_every_criterion() -> TestResult {
    let test = TestStore::with_demo().await?;
    let data = demo_data();
    let items = &data.catalog.items;
    let everything = ItemFilter {
        page: PageRequest {
            page: 1,
            per_page: 200,
        },
        ..ItemFilter::default()
    };
    let all = test.store.catalog.list_items(&everything).await?;
    assert_eq!(all.total as usize, items.len());
    let codes: Vec<&str> = all.items.iter().map(|i| i.code.as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "ordered by code");

    let police = DepartmentKey::parse("city-police")?;
    let expected = items.iter().filter(|i| i.department == police).count();
    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            department: Some(police.clone()),
            ..ItemFilter::default()
        })
        .await?;
    assert!(expected > 0);
    assert_eq!(page.total as usize, expected);
    assert!(page.items.iter().all(|i| i.department == police));

    let birth = ThemeKey::parse("birth")?;
    let expected = items.iter().filter(|i| i.themes.contains(&birth)).count();
    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            theme: Some(birth),
            ..ItemFilter::default()
        })
        .await?;
    assert!(expected > 0);
    assert_eq!(page.total as usize, expected);

    let expected = items
        .iter()
        .filter(|i| i.item_type == ItemType::Licensing)
        .count();
    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            item_type: Some(ItemType::Licensing),
            ..ItemFilter::default()
        })
        .await?;
    assert_eq!(page.total as usize, expected);

    let expected = items
        .iter()
        .filter(|i| i.service_objects.contains(&ServiceObject::Enterprise))
        .count();
    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            service_object: Some(ServiceObject::Enterprise),
            ..ItemFilter::default()
        })
        .await?;
    assert_eq!(page.total as usize, expected);

    let expected = items
        .iter()
        .filter(|i| i.level == ExerciseLevel::County)
        .count();
    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            level: Some(ExerciseLevel::County),
            ..ItemFilter::default()
        })
        .await?;
    assert_eq!(page.total as usize, expected);

    let expected = items.iter().filter(|i| !i.online_capable()).count();
    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            online: Some(false),
            ..ItemFilter::default()
        })
        .await?;
    assert_eq!(page.total as usize, expected);

    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            name_contains: Some("驾驶证".into()),
            ..ItemFilter::default()
        })
        .await?;
    assert!(page.total >= 2);
    assert!(page.items.iter().all(|i| i.name.contains("驾驶证")));

    // A literal % in a name search matches nothing rather than everything.
    let page = test
        .store
        .catalog
        .list_items(&ItemFilter {
            name_contains: Some("%".into()),
            ..ItemFilter::default()
        })
        .await?;
    assert_eq!(page.total, 0);
    Ok(())
}

#[tokio::test]
async fn pages_split_the_list_without_overlap() -> TestResult {
    let test = TestStore::with_demo().await?;
    let first = test
        .store
        .catalog
        .list_items(&ItemFilter {
            page: PageRequest {
                page: 1,
                per_page: 10,
            },
            ..ItemFilter::default()
        })
        .await?;
    let second = test
        .store
        .catalog
        .list_items(&ItemFilter {
            page: PageRequest {
                page: 2,
                per_page: 10,
            },
            ..ItemFilter::default()
        })
        .await?;
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.total, second.total);
    assert!(
        first
            .items
            .iter()
            .all(|a| second.items.iter().all(|b| a.code != b.code))
    );
    let beyond = test
        .store
        .catalog
        .list_items(&ItemFilter {
            page: PageRequest {
                page: 1000,
                per_page: 10,
            },
            ..ItemFilter::default()
        })
        .await?;
    assert!(beyond.items.is_empty());
    Ok(())
}

#[tokio::test]
async fn bundles_are_listed_found_and_found_by_member() -> TestResult {
    let test = TestStore::with_demo().await?;
    let bundles = test.store.catalog.list_bundles().await?;
    assert_eq!(bundles.len(), demo_data().catalog.bundles.len());
    let newborn = test
        .store
        .catalog
        .bundle(&BundleCode::parse("newborn")?)
        .await?
        .expect("the newborn bundle");
    assert!(
        newborn
            .definition
            .members
            .iter()
            .any(|m| m.item.as_str() == BIRTH_CERTIFICATE)
    );
    let containing = test
        .store
        .catalog
        .bundles_with_item(&code(BIRTH_CERTIFICATE))
        .await?;
    assert!(containing.iter().any(|b| b.code.as_str() == "newborn"));
    assert!(
        test.store
            .catalog
            .bundle(&BundleCode::parse("no-such-bundle")?)
            .await?
            .is_none()
    );
    Ok(())
}

#[tokio::test]
async fn a_bundle_draft_is_published_as_a_new_version() -> TestResult {
    let test = TestStore::with_demo().await?;
    let newborn_code = BundleCode::parse("newborn")?;
    let mut definition = test
        .store
        .catalog
        .bundle(&newborn_code)
        .await?
        .expect("published")
        .definition;
    definition.summary.push_str("(修订)");
    assert_eq!(
        test.store
            .catalog
            .save_bundle_draft(&definition, test_time())
            .await?
            .version,
        2
    );
    assert!(
        !test
            .store
            .catalog
            .bundle(&newborn_code)
            .await?
            .expect("published")
            .definition
            .summary
            .ends_with("(修订)")
    );
    test.store
        .catalog
        .publish_bundle(&newborn_code, test_time())
        .await?;
    let now = test
        .store
        .catalog
        .bundle(&newborn_code)
        .await?
        .expect("published");
    assert_eq!(now.version.version, 2);
    assert!(now.definition.summary.ends_with("(修订)"));
    Ok(())
}

#[tokio::test]
async fn an_export_imports_into_an_empty_store_unchanged() -> TestResult {
    let source = TestStore::with_demo().await?;
    let exported = source.store.catalog.export().await?;
    assert!(exported.problems().is_empty(), "{:?}", exported.problems());
    let target = TestStore::new().await?;
    target.store.catalog.import(&exported, test_time()).await?;
    let again = target.store.catalog.export().await?;
    assert_eq!(
        serde_json::to_value(&exported)?,
        serde_json::to_value(&again)?
    );
    let demo = demo_data();
    assert_eq!(exported.catalog.items.len(), demo.catalog.items.len());
    assert_eq!(
        exported.organisation.staff.len(),
        demo.organisation.staff.len()
    );
    assert_eq!(
        exported.organisation.persons.len(),
        demo.organisation.persons.len()
    );
    Ok(())
}

#[tokio::test]
async fn the_organisation_reads_back_as_imported() -> TestResult {
    let test = TestStore::with_demo().await?;
    let demo = demo_data().organisation;
    let stored = test.store.catalog.organisation().await?;
    let mut expected_staff = demo.staff.clone();
    expected_staff.sort_by(|a, b| a.account.cmp(&b.account));
    assert_eq!(stored.staff, expected_staff);
    let mut expected_halls = demo.halls.clone();
    expected_halls.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(stored.halls, expected_halls);
    assert_eq!(stored.departments.len(), demo.departments.len());
    assert_eq!(stored.regions.len(), demo.regions.len());
    Ok(())
}

#[tokio::test]
async fn a_failing_import_changes_nothing() -> TestResult {
    let test = TestStore::new().await?;
    let mut data = demo_data();
    // A window in a hall that does not exist breaks a foreign key halfway through the import.
    let mut window = data.organisation.windows[0].clone();
    window.hall = tongban_domain::keys::HallKey::parse("no-such-hall")?;
    data.organisation.windows.push(window);
    let result = test.store.catalog.import(&data, test_time()).await;
    assert!(result.is_err(), "the import must fail");
    assert!(
        test.store.catalog.is_empty().await?,
        "nothing of a failed import is kept"
    );
    assert!(test.store.catalog.list_bundles().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn both_engines_have_the_same_tables_and_columns() -> TestResult {
    let Some(url) = postgres_url() else {
        eprintln!(
            "TONGBAN_TEST_PG_URL is not set: the PostgreSQL half of this check runs in CI's PostgreSQL pass"
        );
        let sqlite = TestStore::sqlite().await?;
        assert!(!sqlite.store.schema().await?.is_empty());
        return Ok(());
    };
    let sqlite = TestStore::sqlite().await?;
    let postgres = TestStore::postgres(&url).await?;
    assert_eq!(sqlite.store.schema().await?, postgres.store.schema().await?);
    Ok(())
}
