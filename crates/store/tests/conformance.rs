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

/// Sign-in accounts, sessions and API tokens (the `AccountStore` port).
mod accounts {
    use jiff::SignedDuration;
    use tongban_domain::cases::ActorKind;
    use tongban_domain::keys::{AccountName, DepartmentKey, HallKey};
    use tongban_domain::org::Role;
    use tongban_store::model::{NewAccount, NewApiToken, NewSession};
    use tongban_store::testing::{TestStore, test_time};

    use super::TestResult;

    fn name(text: &str) -> AccountName {
        AccountName::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    fn account(account: &str, kind: ActorKind, display_name: &str) -> NewAccount {
        NewAccount {
            account: name(account),
            kind,
            display_name: display_name.to_owned(),
            identifier: None,
            password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt${account}"),
            disabled: false,
        }
    }

    fn session(token_hash: &str, account: &str, at: jiff::Timestamp, hours: i64) -> NewSession {
        NewSession {
            token_hash: token_hash.to_owned(),
            account: name(account),
            csrf_token: format!("csrf-{token_hash}"),
            created_at: at,
            expires_at: at + SignedDuration::from_hours(hours),
        }
    }

    /// The demo organisation (for staff roles and departments) and accounts for clerk and citizen.
    async fn store_with_accounts() -> Result<TestStore, Box<dyn std::error::Error>> {
        let test = TestStore::with_demo().await?;
        let mut citizen = account("citizen", ActorKind::Person, "张伟");
        citizen.identifier = Some("990102198803150031".into());
        let written = test
            .store
            .accounts
            .upsert_accounts(
                &[account("clerk", ActorKind::Staff, "陈静"), citizen],
                test_time(),
            )
            .await?;
        assert_eq!(written, 2);
        Ok(test)
    }

    #[tokio::test]
    async fn accounts_are_upserted_and_found_with_their_staff_roles() -> TestResult {
        let test = store_with_accounts().await?;
        let clerk = test
            .store
            .accounts
            .find_account(&name("clerk"))
            .await?
            .expect("the clerk was stored");
        assert_eq!(clerk.profile.kind, ActorKind::Staff);
        assert_eq!(clerk.profile.display_name, "陈静");
        assert_eq!(
            clerk.password_hash,
            "$argon2id$v=19$m=19456,t=2,p=1$salt$clerk"
        );
        assert!(!clerk.profile.disabled);
        assert_eq!(clerk.created_at, test_time());
        assert_eq!(clerk.profile.roles.len(), 1);
        assert_eq!(clerk.profile.roles[0].role, Role::Clerk);
        assert_eq!(
            clerk.profile.roles[0].hall,
            Some(HallKey::parse("city-centre")?)
        );

        let citizen = test
            .store
            .accounts
            .find_account(&name("citizen"))
            .await?
            .expect("the citizen was stored");
        assert_eq!(citizen.profile.kind, ActorKind::Person);
        assert_eq!(
            citizen.profile.identifier.as_deref(),
            Some("990102198803150031")
        );
        assert!(
            citizen.profile.roles.is_empty(),
            "persons have no staff roles"
        );

        // The approver has many roles, read back in the order of the organisation data.
        test.store
            .accounts
            .upsert_accounts(
                &[account("approver", ActorKind::Staff, "李娜")],
                test_time(),
            )
            .await?;
        let approver = test
            .store
            .accounts
            .find_account(&name("approver"))
            .await?
            .expect("stored");
        let departments: Vec<String> = approver
            .profile
            .roles
            .iter()
            .filter_map(|r| r.department.as_ref().map(ToString::to_string))
            .collect();
        assert!(departments.len() > 10);
        assert_eq!(departments[0], "city-health");
        assert_eq!(departments[1], "city-police");

        assert!(
            test.store
                .accounts
                .find_account(&name("nobody"))
                .await?
                .is_none()
        );
        Ok(())
    }

    #[tokio::test]
    async fn an_upsert_replaces_the_account_but_keeps_its_creation_time() -> TestResult {
        let test = store_with_accounts().await?;
        let mut changed = account("clerk", ActorKind::Staff, "陈静(窗口)");
        changed.password_hash = "$argon2id$new".into();
        changed.disabled = true;
        let later = test_time() + SignedDuration::from_hours(1);
        test.store
            .accounts
            .upsert_accounts(&[changed], later)
            .await?;
        let clerk = test
            .store
            .accounts
            .find_account(&name("clerk"))
            .await?
            .expect("still there");
        assert_eq!(clerk.profile.display_name, "陈静(窗口)");
        assert_eq!(clerk.password_hash, "$argon2id$new");
        assert!(clerk.profile.disabled);
        assert_eq!(clerk.created_at, test_time());
        Ok(())
    }

    #[tokio::test]
    async fn a_session_is_found_until_it_expires_or_is_deleted() -> TestResult {
        let test = store_with_accounts().await?;
        let accounts = &test.store.accounts;
        accounts
            .create_session(&session("hash-1", "clerk", test_time(), 12))
            .await?;
        let found = accounts
            .find_session("hash-1", test_time() + SignedDuration::from_hours(11))
            .await?
            .expect("unexpired");
        assert_eq!(found.profile.account, name("clerk"));
        assert_eq!(found.profile.roles[0].role, Role::Clerk);
        assert_eq!(found.csrf_token, "csrf-hash-1");
        assert_eq!(
            found.expires_at,
            test_time() + SignedDuration::from_hours(12)
        );
        assert!(
            accounts
                .find_session("hash-1", test_time() + SignedDuration::from_hours(12))
                .await?
                .is_none(),
            "a session is gone at its expiry instant"
        );
        assert!(
            accounts
                .find_session("hash-2", test_time())
                .await?
                .is_none()
        );

        assert!(accounts.delete_session("hash-1").await?);
        assert!(
            accounts
                .find_session("hash-1", test_time())
                .await?
                .is_none()
        );
        assert!(!accounts.delete_session("hash-1").await?, "already deleted");
        Ok(())
    }

    #[tokio::test]
    async fn a_new_session_removes_the_accounts_expired_sessions_only() -> TestResult {
        let test = store_with_accounts().await?;
        let accounts = &test.store.accounts;
        accounts
            .create_session(&session("old", "clerk", test_time(), 1))
            .await?;
        accounts
            .create_session(&session("citizen-old", "citizen", test_time(), 1))
            .await?;
        accounts
            .create_session(&session(
                "new",
                "clerk",
                test_time() + SignedDuration::from_hours(2),
                12,
            ))
            .await?;
        // Asked at a time when it was still valid: the row itself is gone.
        assert!(accounts.find_session("old", test_time()).await?.is_none());
        assert!(
            accounts
                .find_session("citizen-old", test_time())
                .await?
                .is_some(),
            "another account's sessions are left alone"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_session_for_an_unknown_account_is_refused() -> TestResult {
        let test = store_with_accounts().await?;
        let result = test
            .store
            .accounts
            .create_session(&session("x", "nobody", test_time(), 12))
            .await;
        assert!(result.is_err(), "sessions reference accounts");
        Ok(())
    }

    #[tokio::test]
    async fn an_api_token_works_until_it_is_revoked() -> TestResult {
        let test = TestStore::with_demo().await?;
        let accounts = &test.store.accounts;
        let police = DepartmentKey::parse("city-police")?;
        let created = accounts
            .create_api_token(&NewApiToken {
                token_hash: "token-hash".into(),
                department: police.clone(),
                name: "公安审批系统".into(),
                created_at: test_time(),
            })
            .await?;
        assert_eq!(created.department, police);
        assert_eq!(created.name, "公安审批系统");
        assert_eq!(created.created_at, test_time());
        assert_eq!(created.revoked_at, None);
        assert_eq!(
            accounts.find_api_token("token-hash").await?,
            Some(created.clone())
        );
        assert_eq!(accounts.find_api_token("other-hash").await?, None);
        assert_eq!(accounts.list_api_tokens().await?, vec![created.clone()]);

        let revoked_at = test_time() + SignedDuration::from_hours(1);
        assert!(accounts.revoke_api_token(created.id, revoked_at).await?);
        assert_eq!(accounts.find_api_token("token-hash").await?, None);
        let listed = accounts.list_api_tokens().await?;
        assert_eq!(listed.len(), 1, "revoked tokens stay listed");
        assert_eq!(listed[0].revoked_at, Some(revoked_at));
        assert!(
            !accounts.revoke_api_token(created.id, revoked_at).await?,
            "revoking twice reports nothing revoked"
        );
        assert!(
            !accounts.revoke_api_token(uuid_of(7), revoked_at).await?,
            "an unknown id revokes nothing"
        );
        Ok(())
    }

    #[tokio::test]
    async fn an_api_token_needs_a_known_department_and_a_unique_hash() -> TestResult {
        let test = TestStore::with_demo().await?;
        let accounts = &test.store.accounts;
        let token = |hash: &str, department: &str| NewApiToken {
            token_hash: hash.into(),
            department: DepartmentKey::parse(department).unwrap_or_else(|e| panic!("{e}")),
            name: "系统".into(),
            created_at: test_time(),
        };
        assert!(
            accounts
                .create_api_token(&token("a", "no-such-department"))
                .await
                .is_err()
        );
        accounts.create_api_token(&token("b", "city-tax")).await?;
        assert!(
            accounts
                .create_api_token(&token("b", "city-tax"))
                .await
                .is_err()
        );
        assert_eq!(accounts.list_api_tokens().await?.len(), 1);
        Ok(())
    }

    fn uuid_of(n: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Webhooks

mod webhooks {
    use tongban_domain::keys::DepartmentKey;
    use tongban_store::model::{
        DeliveryFailure, DeliveryFilter, DeliveryStatus, NewSubscription, NextAttempt,
        OutboxMessage, WebhookSecret,
    };
    use tongban_store::testing::{TestStore, insert_outbox, test_time};
    use tongban_store::{Store, StoreError};

    use super::TestResult;

    fn department(key: &str) -> DepartmentKey {
        DepartmentKey::parse(key).unwrap_or_else(|error| panic!("{key}: {error}"))
    }

    fn message(department_key: Option<&str>, topic: &str, seconds: i64) -> OutboxMessage {
        let at = test_time() + jiff::SignedDuration::from_secs(seconds);
        OutboxMessage {
            id: uuid::Uuid::now_v7(),
            topic: topic.to_owned(),
            case_id: Some(uuid::Uuid::now_v7()),
            department: department_key.map(department),
            payload: serde_json::json!({ "number": format!("N{seconds}") }),
            created_at: at,
        }
    }

    async fn subscribe(
        store: &Store,
        department_key: &str,
        topics: &[&str],
    ) -> Result<uuid::Uuid, StoreError> {
        let subscription = store
            .webhooks
            .create_subscription(&NewSubscription {
                department: department(department_key),
                url: "http://127.0.0.1:9/hook".into(),
                secret: WebhookSecret::new("s3cret".into()),
                topics: topics.iter().map(|t| (*t).to_owned()).collect(),
                created_at: test_time(),
            })
            .await?;
        Ok(subscription.id)
    }

    fn later(seconds: i64) -> jiff::Timestamp {
        test_time() + jiff::SignedDuration::from_secs(seconds)
    }

    fn all(status: Option<DeliveryStatus>) -> DeliveryFilter {
        DeliveryFilter { status, limit: 500 }
    }

    #[tokio::test]
    async fn fan_out_creates_one_delivery_per_matching_subscription_once() -> TestResult {
        let test = TestStore::new().await?;
        let store = &test.store;
        let police_cases = subscribe(store, "city-police", &["case."]).await?;
        let police_all = subscribe(store, "city-police", &["licence.", "case.accepted"]).await?;
        let _health = subscribe(store, "city-health", &["case."]).await?;
        let accepted = message(Some("city-police"), "case.accepted", 1);
        let decided = message(Some("city-police"), "case.decided", 2);
        insert_outbox(store, vec![accepted.clone(), decided.clone()]).await?;

        let report = store.webhooks.fan_out(later(10), later(10), 100).await?;
        assert_eq!((report.messages, report.deliveries), (2, 3));
        // Regression guard: a second fan-out (as after a crash or on a second server) must not
        // deliver anything twice.
        let again = store.webhooks.fan_out(later(10), later(10), 100).await?;
        assert_eq!((again.messages, again.deliveries), (0, 0));

        let deliveries = store.webhooks.list_deliveries(&all(None)).await?;
        let mut pairs: Vec<(uuid::Uuid, uuid::Uuid)> = deliveries
            .iter()
            .map(|d| (d.subscription_id, d.message_id))
            .collect();
        pairs.sort();
        let mut expected = vec![
            (police_cases, accepted.id),
            (police_cases, decided.id),
            (police_all, accepted.id),
        ];
        expected.sort();
        assert_eq!(pairs, expected);
        for delivery in &deliveries {
            assert_eq!(delivery.status, DeliveryStatus::Pending);
            assert_eq!(delivery.attempts, 0);
            assert_eq!(delivery.next_attempt_at, later(10));
        }
        let first = deliveries
            .iter()
            .find(|d| d.message_id == accepted.id)
            .ok_or("no delivery of the accepted message")?;
        assert_eq!(first.payload, accepted.payload);
        assert_eq!(first.topic, "case.accepted");
        Ok(())
    }

    #[tokio::test]
    async fn another_department_a_foreign_topic_or_no_department_gets_no_delivery() -> TestResult {
        let test = TestStore::new().await?;
        let store = &test.store;
        subscribe(store, "city-police", &["case."]).await?;
        insert_outbox(
            store,
            vec![
                message(Some("city-health"), "case.accepted", 1),
                message(Some("city-police"), "licence.issued", 2),
                message(None, "case.accepted", 3),
                // `cases.` is not `case.`: a prefix is matched as written.
                message(Some("city-police"), "cases.accepted", 4),
            ],
        )
        .await?;
        let report = store.webhooks.fan_out(later(10), later(10), 100).await?;
        assert_eq!((report.messages, report.deliveries), (4, 0));
        assert!(store.webhooks.list_deliveries(&all(None)).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn fan_out_waits_for_messages_to_settle_and_reads_in_batches() -> TestResult {
        let test = TestStore::new().await?;
        let store = &test.store;
        subscribe(store, "city-police", &["case."]).await?;
        let messages: Vec<OutboxMessage> = (1..=5)
            .map(|i| message(Some("city-police"), "case.accepted", i))
            .collect();
        insert_outbox(store, messages).await?;
        // Only messages written at or before `settled_before` are read.
        let early = store.webhooks.fan_out(later(2), later(20), 100).await?;
        assert_eq!((early.messages, early.deliveries), (2, 2));
        let batch = store.webhooks.fan_out(later(20), later(20), 2).await?;
        assert_eq!((batch.messages, batch.deliveries), (2, 2));
        let rest = store.webhooks.fan_out(later(20), later(20), 2).await?;
        assert_eq!((rest.messages, rest.deliveries), (1, 1));
        assert_eq!(store.webhooks.list_deliveries(&all(None)).await?.len(), 5);
        Ok(())
    }

    #[tokio::test]
    async fn a_claimed_delivery_is_not_due_until_its_lease_lapses_or_it_is_marked() -> TestResult {
        let test = TestStore::new().await?;
        let store = &test.store;
        subscribe(store, "city-police", &["case."]).await?;
        let accepted = message(Some("city-police"), "case.accepted", 1);
        insert_outbox(store, vec![accepted.clone()]).await?;
        store.webhooks.fan_out(later(10), later(10), 100).await?;

        let claimed = store
            .webhooks
            .claim_due_deliveries(later(10), later(70), 10)
            .await?;
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].url, "http://127.0.0.1:9/hook");
        assert_eq!(claimed[0].secret.expose(), "s3cret");
        assert_eq!(claimed[0].message_created_at, accepted.created_at);
        assert!(
            store
                .webhooks
                .claim_due_deliveries(later(11), later(71), 10)
                .await?
                .is_empty()
        );
        // The lease lapsed (the dispatcher died mid-send): it is due again.
        let again = store
            .webhooks
            .claim_due_deliveries(later(70), later(130), 10)
            .await?;
        assert_eq!(again.len(), 1);

        let id = again[0].delivery.id;
        let failure = DeliveryFailure {
            error: "status 500".into(),
            status: Some(500),
            next: NextAttempt::At(later(100)),
        };
        assert!(store.webhooks.mark_failed(id, &failure).await?);
        let failed = store
            .webhooks
            .delivery(id)
            .await?
            .ok_or("the delivery is gone")?;
        assert_eq!(
            (
                failed.status,
                failed.attempts,
                failed.next_attempt_at,
                failed.last_status
            ),
            (DeliveryStatus::Pending, 1, later(100), Some(500))
        );
        assert!(
            store
                .webhooks
                .claim_due_deliveries(later(99), later(159), 10)
                .await?
                .is_empty()
        );
        assert_eq!(
            store
                .webhooks
                .claim_due_deliveries(later(100), later(160), 10)
                .await?
                .len(),
            1
        );
        assert!(store.webhooks.mark_delivered(id, 204, later(101)).await?);
        let delivered = store
            .webhooks
            .delivery(id)
            .await?
            .ok_or("the delivery is gone")?;
        assert_eq!(delivered.status, DeliveryStatus::Delivered);
        assert_eq!(delivered.attempts, 2);
        assert_eq!(delivered.delivered_at, Some(later(101)));
        assert_eq!(delivered.last_error, None);
        // A delivered delivery is never marked again.
        assert!(!store.webhooks.mark_failed(id, &failure).await?);
        assert!(
            store
                .webhooks
                .claim_due_deliveries(later(9999), later(9999), 10)
                .await?
                .is_empty()
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_dead_delivery_is_listed_and_resent_with_its_attempts_reset() -> TestResult {
        let test = TestStore::new().await?;
        let store = &test.store;
        subscribe(store, "city-police", &["case."]).await?;
        insert_outbox(
            store,
            vec![message(Some("city-police"), "case.accepted", 1)],
        )
        .await?;
        store.webhooks.fan_out(later(10), later(10), 100).await?;
        let claimed = store
            .webhooks
            .claim_due_deliveries(later(10), later(70), 10)
            .await?;
        let id = claimed.first().ok_or("nothing was due")?.delivery.id;

        // Only a dead delivery can be resent.
        let refused = store.webhooks.resend(id, later(20)).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        let dead = DeliveryFailure {
            error: "connection refused".into(),
            status: None,
            next: NextAttempt::Dead,
        };
        assert!(store.webhooks.mark_failed(id, &dead).await?);
        let listed = store
            .webhooks
            .list_deliveries(&all(Some(DeliveryStatus::Dead)))
            .await?;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, id);
        assert_eq!(listed[0].last_error.as_deref(), Some("connection refused"));
        assert!(
            store
                .webhooks
                .list_deliveries(&all(Some(DeliveryStatus::Pending)))
                .await?
                .is_empty()
        );
        assert!(
            store
                .webhooks
                .claim_due_deliveries(later(9999), later(9999), 10)
                .await?
                .is_empty()
        );

        let resent = store.webhooks.resend(id, later(30)).await?;
        assert_eq!(
            (resent.status, resent.attempts, resent.next_attempt_at),
            (DeliveryStatus::Pending, 0, later(30))
        );
        assert_eq!(
            store
                .webhooks
                .claim_due_deliveries(later(30), later(90), 10)
                .await?
                .len(),
            1
        );
        let missing = store.webhooks.resend(uuid::Uuid::now_v7(), later(30)).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { .. })),
            "{missing:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_deactivated_subscription_gets_nothing_more_and_its_pending_deliveries_die()
    -> TestResult {
        let test = TestStore::new().await?;
        let store = &test.store;
        let id = subscribe(store, "city-police", &["case."]).await?;
        insert_outbox(
            store,
            vec![message(Some("city-police"), "case.accepted", 1)],
        )
        .await?;
        store.webhooks.fan_out(later(10), later(10), 100).await?;
        assert!(store.webhooks.deactivate_subscription(id).await?);
        assert!(!store.webhooks.deactivate_subscription(id).await?);
        let subscriptions = store.webhooks.list_subscriptions().await?;
        assert_eq!(subscriptions.len(), 1);
        assert!(!subscriptions[0].active);
        let dead = store
            .webhooks
            .list_deliveries(&all(Some(DeliveryStatus::Dead)))
            .await?;
        assert_eq!(dead.len(), 1);
        let refused = store.webhooks.resend(dead[0].id, later(20)).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        insert_outbox(
            store,
            vec![message(Some("city-police"), "case.decided", 11)],
        )
        .await?;
        let report = store.webhooks.fan_out(later(20), later(20), 100).await?;
        assert_eq!((report.messages, report.deliveries), (1, 0));
        Ok(())
    }

    #[tokio::test]
    async fn a_subscription_reads_back_with_its_topics_and_a_hidden_secret() -> TestResult {
        let test = TestStore::new().await?;
        let id = subscribe(&test.store, "city-police", &["case.", "licence."]).await?;
        let subscriptions = test.store.webhooks.list_subscriptions().await?;
        assert_eq!(subscriptions.len(), 1);
        let subscription = &subscriptions[0];
        assert_eq!(subscription.id, id);
        assert_eq!(subscription.topics, ["case.", "licence."]);
        assert_eq!(subscription.department.as_str(), "city-police");
        assert_eq!(subscription.created_at, test_time());
        assert!(subscription.active);
        assert_eq!(subscription.secret.expose(), "s3cret");
        assert!(!format!("{subscription:?}").contains("s3cret"));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Cases (the `CaseStore` port)

mod cases {
    use std::collections::BTreeMap;

    use jiff::civil::{Date, date};
    use jiff::{SignedDuration, Timestamp};
    use serde_json::json;
    use tongban_domain::cases::{
        Applicant, ApplicantKind, Case, CaseEvent, CaseState, Channel, Delivery, EventKind,
    };
    use tongban_domain::catalog::ItemDefinition;
    use tongban_domain::keys::{AccountName, DepartmentKey, HallKey};
    use tongban_domain::licences::Licence;
    use tongban_store::model::{
        AuditEntry, CaseFilter, CaseKey, CaseOrder, CaseRecord, CaseScope, CaseWrite, DataAccess,
        OutboxMessage,
    };
    use tongban_store::testing::{TestStore, demo_data, test_time};
    use tongban_store::{Store, StoreError};

    use super::{BIRTH_CERTIFICATE, TestResult};

    /// 居民身份证申领 (city-police).
    pub(super) const ID_CARD: &str = "11990100004213712W2000109000000";
    const ZHANG_WEI: &str = "990102198803150031";
    const WANG_FANG: &str = "990102199006200045";

    fn department(key: &str) -> DepartmentKey {
        DepartmentKey::parse(key).unwrap_or_else(|error| panic!("{key}: {error}"))
    }

    /// An id whose order has nothing to do with when it was made (ties in lists are broken by
    /// id, and the tests must not pass by accident of insertion order).
    fn random_id() -> uuid::Uuid {
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        let high = u128::from(state.hash_one(1_u8));
        let low = u128::from(state.hash_one(2_u8));
        uuid::Uuid::from_u128((high << 64) | low)
    }

    fn hall(key: &str) -> HallKey {
        HallKey::parse(key).unwrap_or_else(|error| panic!("{key}: {error}"))
    }

    fn account(name: &str) -> AccountName {
        AccountName::parse(name).unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    fn item(code: &str) -> ItemDefinition {
        demo_data()
            .catalog
            .items
            .into_iter()
            .find(|i| i.implementation_code.as_str() == code)
            .unwrap_or_else(|| panic!("no demo item {code}"))
    }

    fn at_seconds(seconds: i64) -> Timestamp {
        test_time() + SignedDuration::from_secs(seconds)
    }

    /// A just-submitted case of the item by the applicant at `at`, with a random id.
    pub(super) fn new_case(code: &str, applicant: &str, at: Timestamp) -> Case {
        let item = item(code);
        let workflow = demo_data()
            .catalog
            .workflows
            .into_iter()
            .find(|w| w.key.as_str() == "standard")
            .unwrap_or_else(|| panic!("the demo has no standard workflow"));
        Case {
            id: random_id(),
            number: String::new(),
            version: 1,
            item_code: item.implementation_code.clone(),
            item_version: 1,
            item_name: item.name.clone(),
            case_type: item.case_type,
            department: item.department.clone(),
            co_departments: item.co_departments.clone(),
            applicant: Applicant {
                kind: ApplicantKind::Person,
                name: "申请人".into(),
                identifier: applicant.to_owned(),
                account: None,
            },
            channel: Channel::Web,
            hall: None,
            state: CaseState::Submitted,
            workflow,
            answers: BTreeMap::new(),
            form: BTreeMap::new(),
            materials: Vec::new(),
            delivery: Delivery::Collect {
                hall: hall("city-centre"),
                pickup_code: "123456".into(),
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
            parent: None,
            shipments: Vec::new(),
        }
    }

    fn event(kind: EventKind, at: Timestamp) -> CaseEvent {
        CaseEvent {
            at,
            actor: account("clerk"),
            actor_name: "陈静".into(),
            department: None,
            on_behalf: None,
            kind,
        }
    }

    /// The write of a change: its events, one outbox message each (with a `number` field to
    /// fill in), an audit entry without target and one with, and a data-access entry.
    pub(super) fn write_of(case: &Case, events: Vec<CaseEvent>) -> CaseWrite {
        let at = events.first().map_or(case.submitted_at, |e| e.at);
        let outbox = events
            .iter()
            .map(|e| OutboxMessage {
                id: uuid::Uuid::now_v7(),
                topic: format!("case.{}", e.kind.name()),
                case_id: Some(case.id),
                department: Some(case.department.clone()),
                payload: json!({ "number": case.number, "state": case.state.name() }),
                created_at: e.at,
            })
            .collect();
        CaseWrite {
            case: Some(case.clone()),
            events,
            outbox,
            licence: None,
            documents: Vec::new(),
            revoked: Vec::new(),
            audit: vec![AuditEntry {
                id: uuid::Uuid::now_v7(),
                at,
                actor: "clerk".into(),
                action: "submit".into(),
                target: String::new(),
                department: Some(case.department.clone()),
                detail: case.state.name().into(),
            }],
            access: vec![DataAccess {
                id: uuid::Uuid::now_v7(),
                at,
                subject: case.applicant.identifier.clone(),
                actor: "clerk".into(),
                actor_name: "陈静".into(),
                department: Some(case.department.clone()),
                case_id: Some(case.id),
                purpose: "受理".into(),
                what: "办件信息".into(),
            }],
        }
    }

    pub(super) async fn create(store: &Store, case: Case) -> Result<Case, StoreError> {
        let submitted = event(
            EventKind::Submitted {
                channel: Channel::Web,
            },
            case.submitted_at,
        );
        store
            .cases
            .create_case(write_of(&case, vec![submitted]))
            .await
    }

    /// Every outbox message, oldest first.
    async fn outbox(store: &Store) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = store.cases.outbox_after(after, 50).await?;
            let Some(last) = page.last() else {
                return Ok(all);
            };
            after = Some((last.created_at, last.id));
            all.extend(page);
        }
    }

    #[tokio::test]
    async fn case_numbers_count_per_item_and_shanghai_day() -> TestResult {
        let test = TestStore::with_demo().await?;
        let store = &test.store;
        let mut numbers = Vec::new();
        for second in 0..3 {
            numbers.push(
                create(
                    store,
                    new_case(BIRTH_CERTIFICATE, ZHANG_WEI, at_seconds(second)),
                )
                .await?
                .number,
            );
        }
        let id_card = create(store, new_case(ID_CARD, WANG_FANG, at_seconds(5))).await?;
        // 23:59:59 and 00:00:01 in Shanghai (15:59:59 and 16:00:01 UTC).
        let late = create(
            store,
            new_case(
                BIRTH_CERTIFICATE,
                ZHANG_WEI,
                "2026-03-02T15:59:59Z".parse()?,
            ),
        )
        .await?;
        let next_day = create(
            store,
            new_case(
                BIRTH_CERTIFICATE,
                ZHANG_WEI,
                "2026-03-02T16:00:01Z".parse()?,
            ),
        )
        .await?;
        assert_eq!(
            numbers,
            (1..=3)
                .map(|n| format!("{BIRTH_CERTIFICATE}20260302{n:04}"))
                .collect::<Vec<_>>()
        );
        assert_eq!(id_card.number, format!("{ID_CARD}202603020001"));
        assert_eq!(late.number, format!("{BIRTH_CERTIFICATE}202603020004"));
        assert_eq!(next_day.number, format!("{BIRTH_CERTIFICATE}202603030001"));

        // The number reads back, by id and by number, in the document and in the messages.
        let stored = store.cases.case(late.id).await?.expect("stored");
        assert_eq!(stored, late);
        let by_number = store
            .cases
            .case_by_number(&late.number)
            .await?
            .expect("by number");
        assert_eq!(by_number.id, late.id);
        assert!(store.cases.case_by_number("nothing").await?.is_none());
        assert!(store.cases.case(random_id()).await?.is_none());
        let messages = outbox(store).await?;
        assert_eq!(messages.len(), 6);
        for message in &messages {
            let case = store
                .cases
                .case(message.case_id.expect("a case"))
                .await?
                .expect("stored");
            assert_eq!(
                message.payload["number"],
                case.number.as_str(),
                "{message:?}"
            );
            assert_eq!(message.topic, "case.submitted");
        }
        // Audit entries without a target get the number.
        let audit = store.cases.audit_log(&late.number).await?;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "submit");
        let events = store.cases.case_events(late.id).await?;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].seq, 1);
        assert!(events[0].public);
        Ok(())
    }

    #[tokio::test]
    async fn a_payload_without_a_number_and_an_audit_target_are_kept() -> TestResult {
        let test = TestStore::with_demo().await?;
        let case = new_case(BIRTH_CERTIFICATE, ZHANG_WEI, test_time());
        let mut write = write_of(
            &case,
            vec![event(
                EventKind::Submitted {
                    channel: Channel::Web,
                },
                test_time(),
            )],
        );
        write.outbox[0].payload = json!({ "other": 1 });
        write.audit[0].target = "elsewhere".into();
        let created = test.store.cases.create_case(write).await?;
        let messages = outbox(&test.store).await?;
        assert_eq!(messages[0].payload, json!({ "other": 1 }));
        assert_eq!(test.store.cases.audit_log("elsewhere").await?.len(), 1);
        assert!(
            test.store
                .cases
                .audit_log(&created.number)
                .await?
                .is_empty()
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_stale_save_changes_nothing() -> TestResult {
        let test = TestStore::with_demo().await?;
        let store = &test.store;
        let created = create(store, new_case(BIRTH_CERTIFICATE, ZHANG_WEI, test_time())).await?;

        let mut accepted = created.clone();
        accepted.version = 2;
        accepted.state = CaseState::InProgress { step: 0 };
        accepted.hall = Some(hall("city-centre"));
        accepted.accepted_on = Some(date(2026, 3, 2));
        accepted.promised_due = Some(date(2026, 3, 3));
        let events = vec![
            event(
                EventKind::Accepted {
                    tolerated: Vec::new(),
                },
                at_seconds(60),
            ),
            event(
                EventKind::Returned {
                    from: "审核".into(),
                    to: "承办".into(),
                    reason: "内部意见".into(),
                },
                at_seconds(60),
            ),
        ];
        store
            .cases
            .save_case(write_of(&accepted, events), 1)
            .await?;
        let seqs: Vec<u32> = store
            .cases
            .case_events(created.id)
            .await?
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
        let stored = store.cases.case_events(created.id).await?;
        assert!(stored[1].public);
        assert!(!stored[2].public, "a return is internal");
        assert_eq!(stored[2].event.kind.name(), "returned");

        let before_outbox = outbox(store).await?.len();
        let before_audit = store.cases.audit_log(&created.number).await?.len();
        let before_access = store.cases.access_log(ZHANG_WEI, 100).await?.len();
        // Someone else saw version 1 and saves a rejection with a licence and logs.
        let mut stale = created.clone();
        stale.version = 2;
        stale.state = CaseState::Rejected;
        let mut write = write_of(
            &stale,
            vec![event(
                EventKind::Rejected { reason: "r".into() },
                at_seconds(120),
            )],
        );
        let licence = licence_for(&accepted, at_seconds(120));
        let identifier = licence.identifier.to_string();
        write.licence = Some(licence);
        write.audit[0].target = created.number.clone();
        let refused = store.cases.save_case(write, 1).await;
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
        let now = store.cases.case(created.id).await?.expect("stored");
        assert_eq!(now, accepted, "the case is unchanged");
        assert_eq!(store.cases.case_events(created.id).await?.len(), 3);
        assert_eq!(outbox(store).await?.len(), before_outbox);
        assert_eq!(
            store.cases.audit_log(&created.number).await?.len(),
            before_audit
        );
        assert_eq!(
            store.cases.access_log(ZHANG_WEI, 100).await?.len(),
            before_access
        );
        assert!(store.cases.licence(&identifier).await?.is_none());

        // A case that does not exist is not found.
        let ghost = new_case(BIRTH_CERTIFICATE, ZHANG_WEI, test_time());
        let missing = store.cases.save_case(write_of(&ghost, Vec::new()), 1).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { .. })),
            "{missing:?}"
        );

        // The right version goes through, and its events continue the sequence.
        let mut decided = accepted.clone();
        decided.version = 3;
        decided.state = CaseState::Decided { granted: true };
        store
            .cases
            .save_case(
                write_of(
                    &decided,
                    vec![event(
                        EventKind::Decided {
                            granted: true,
                            opinion: "准予".into(),
                        },
                        at_seconds(180),
                    )],
                ),
                2,
            )
            .await?;
        let seqs: Vec<u32> = store
            .cases
            .case_events(created.id)
            .await?
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        assert_eq!(
            store.cases.case(created.id).await?.expect("stored").version,
            3
        );
        // The record reads the same case and history in one statement, by id or by number, and
        // equals the record before the write with the write's events appended.
        let record = store
            .cases
            .case_record(&CaseKey::Number(created.number.clone()))
            .await?
            .expect("stored");
        assert_eq!(record.case, decided);
        assert_eq!(record.events, store.cases.case_events(created.id).await?);
        assert_eq!(record.trips, 0);
        let before = CaseRecord {
            case: accepted.clone(),
            events: record.events[..3].to_vec(),
            trips: 0,
        };
        let after = before.after_write(Some(decided.clone()), &[record.events[3].event.clone()], 0);
        assert_eq!(after.trips, 0);
        assert_eq!(after.events, record.events);
        assert!(
            store
                .cases
                .case_record(&CaseKey::Id(uuid::Uuid::from_u128(1)))
                .await?
                .is_none()
        );
        Ok(())
    }

    fn licence_for(case: &Case, at: Timestamp) -> Licence {
        let data = demo_data();
        let licence_type = data
            .catalog
            .licence_types
            .iter()
            .find(|t| t.key.as_str() == "birth_medical_certificate")
            .unwrap_or_else(|| panic!("no birth certificate licence type"));
        let issuer = data
            .organisation
            .departments
            .iter()
            .find(|d| d.key == case.department)
            .unwrap_or_else(|| panic!("no department {}", case.department));
        Licence::for_case(
            case,
            licence_type,
            &issuer.credit_code,
            &issuer.name,
            tongban_domain::calendar::shanghai_date(at),
            at,
        )
        .unwrap_or_else(|error| panic!("a licence: {error}"))
    }

    #[tokio::test]
    async fn licences_read_back_by_identifier_and_holder_newest_first() -> TestResult {
        let test = TestStore::with_demo().await?;
        let store = &test.store;
        let mut identifiers = Vec::new();
        for (index, holder) in [ZHANG_WEI, ZHANG_WEI, WANG_FANG].into_iter().enumerate() {
            let seconds = i64::try_from(index)? * 3600;
            let created = create(
                store,
                new_case(BIRTH_CERTIFICATE, holder, at_seconds(seconds)),
            )
            .await?;
            let mut issued = created.clone();
            issued.version = 2;
            issued.state = CaseState::Issued;
            let licence = licence_for(&issued, at_seconds(seconds + 60));
            issued.licence = Some(licence.identifier.clone());
            let mut write = write_of(
                &issued,
                vec![event(
                    EventKind::Issued {
                        licence: issued.licence.clone(),
                    },
                    at_seconds(seconds + 60),
                )],
            );
            write.licence = Some(licence.clone());
            store.cases.save_case(write, 1).await?;
            let stored = store
                .cases
                .licence(licence.identifier.as_str())
                .await?
                .expect("stored");
            assert_eq!(stored, licence);
            identifiers.push(licence.identifier.to_string());
        }
        let held: Vec<String> = store
            .cases
            .licences_of(ZHANG_WEI)
            .await?
            .iter()
            .map(|l| l.identifier.to_string())
            .collect();
        assert_eq!(
            held,
            [identifiers[1].clone(), identifiers[0].clone()],
            "newest first"
        );
        assert_eq!(store.cases.licences_of(WANG_FANG).await?.len(), 1);
        assert!(
            store
                .cases
                .licences_of("110102199101010078")
                .await?
                .is_empty()
        );
        assert!(
            store
                .cases
                .licence("1.2.156.3005.2.nothing")
                .await?
                .is_none()
        );
        Ok(())
    }

    #[tokio::test]
    async fn audit_and_access_logs_round_trip() -> TestResult {
        let test = TestStore::new().await?;
        let store = &test.store;
        store.cases.record(Vec::new(), Vec::new()).await?;
        let audit: Vec<AuditEntry> = (0..3)
            .map(|n| AuditEntry {
                id: uuid::Uuid::now_v7(),
                at: at_seconds(100 - n * 10),
                actor: format!("staff{n}"),
                action: "approve".into(),
                target: "CASE-1".into(),
                department: if n == 0 {
                    None
                } else {
                    Some(department("city-health"))
                },
                detail: format!("detail {n}"),
            })
            .collect();
        let access: Vec<DataAccess> = (0..4)
            .map(|n| DataAccess {
                id: uuid::Uuid::now_v7(),
                at: at_seconds(n * 10),
                subject: if n == 3 {
                    WANG_FANG.into()
                } else {
                    ZHANG_WEI.into()
                },
                actor: "clerk".into(),
                actor_name: "陈静".into(),
                department: if n == 0 {
                    None
                } else {
                    Some(department("city-police"))
                },
                case_id: if n == 1 { Some(random_id()) } else { None },
                purpose: "查看办件".into(),
                what: format!("what {n}"),
            })
            .collect();
        store.cases.record(audit.clone(), access.clone()).await?;
        let mut oldest_first = audit.clone();
        oldest_first.reverse();
        assert_eq!(store.cases.audit_log("CASE-1").await?, oldest_first);
        assert!(store.cases.audit_log("CASE-2").await?.is_empty());
        let newest_first: Vec<DataAccess> = access[..3].iter().rev().cloned().collect();
        assert_eq!(store.cases.access_log(ZHANG_WEI, 100).await?, newest_first);
        assert_eq!(
            store.cases.access_log(ZHANG_WEI, 2).await?,
            newest_first[..2]
        );
        assert_eq!(store.cases.access_log(WANG_FANG, 100).await?, access[3..]);
        Ok(())
    }

    /// Sets the columns that lists filter on.
    fn shaped(
        mut case: Case,
        state: CaseState,
        hall_key: Option<&str>,
        promised_due: Option<Date>,
    ) -> Case {
        case.state = state;
        case.hall = hall_key.map(hall);
        case.promised_due = promised_due;
        case.statutory_due = promised_due;
        case.accepted_on = promised_due.map(|_| date(2026, 3, 2));
        case
    }

    fn scope(f: impl FnOnce(&mut CaseScope)) -> CaseFilter {
        let mut filter = CaseFilter {
            limit: 100,
            ..CaseFilter::default()
        };
        f(&mut filter.scope);
        filter
    }

    async fn numbers(store: &Store, filter: &CaseFilter) -> Result<Vec<String>, StoreError> {
        let page = store.cases.list_cases(filter).await?;
        let mut numbers: Vec<String> = page.cases.into_iter().map(|c| c.number).collect();
        numbers.sort();
        Ok(numbers)
    }

    #[tokio::test]
    async fn case_lists_are_scoped_and_filtered() -> TestResult {
        let test = TestStore::with_demo().await?;
        let store = &test.store;
        let in_progress = CaseState::InProgress { step: 0 };
        let specs = [
            // item, applicant, state, hall, promised due
            (
                BIRTH_CERTIFICATE,
                ZHANG_WEI,
                CaseState::Submitted,
                None,
                None,
            ),
            (
                BIRTH_CERTIFICATE,
                ZHANG_WEI,
                in_progress.clone(),
                Some("city-centre"),
                Some(date(2026, 3, 3)),
            ),
            (
                BIRTH_CERTIFICATE,
                WANG_FANG,
                in_progress.clone(),
                Some("east-centre"),
                Some(date(2026, 3, 10)),
            ),
            (
                ID_CARD,
                WANG_FANG,
                in_progress.clone(),
                Some("city-centre"),
                Some(date(2026, 3, 2)),
            ),
            (
                ID_CARD,
                ZHANG_WEI,
                CaseState::Decided { granted: true },
                Some("east-centre"),
                Some(date(2026, 3, 1)),
            ),
            (ID_CARD, WANG_FANG, CaseState::Rejected, None, None),
        ];
        let mut all = Vec::new();
        for (index, (code, applicant, state, hall_key, due)) in specs.into_iter().enumerate() {
            let seconds = i64::try_from(index)? * 60;
            let case = shaped(
                new_case(code, applicant, at_seconds(seconds)),
                state,
                hall_key,
                due,
            );
            all.push(create(store, case).await?.number);
        }
        let pick = |indexes: &[usize]| -> Vec<String> {
            let mut picked: Vec<String> = indexes.iter().map(|i| all[*i].clone()).collect();
            picked.sort();
            picked
        };

        assert!(
            numbers(store, &scope(|_| {})).await?.is_empty(),
            "an empty scope sees nothing"
        );
        assert_eq!(
            numbers(store, &scope(|s| s.everything = true)).await?,
            pick(&[0, 1, 2, 3, 4, 5])
        );
        assert_eq!(
            numbers(store, &scope(|s| s.applicant = Some(ZHANG_WEI.into()))).await?,
            pick(&[0, 1, 4])
        );
        assert_eq!(
            numbers(
                store,
                &scope(|s| s.departments = vec![department("city-police")])
            )
            .await?,
            pick(&[3, 4, 5])
        );
        assert_eq!(
            numbers(
                store,
                &scope(
                    |s| s.departments = vec![department("city-police"), department("city-health")]
                )
            )
            .await?,
            pick(&[0, 1, 2, 3, 4, 5])
        );
        assert_eq!(
            numbers(store, &scope(|s| s.halls = vec![hall("city-centre")])).await?,
            pick(&[1, 3])
        );
        assert_eq!(
            numbers(store, &scope(|s| s.unassigned = true)).await?,
            pick(&[0]),
            "not yet taken by a hall, and still open"
        );
        assert_eq!(
            numbers(
                store,
                &scope(|s| {
                    s.halls = vec![hall("east-centre")];
                    s.applicant = Some(ZHANG_WEI.into());
                })
            )
            .await?,
            pick(&[0, 1, 2, 4]),
            "scopes add up"
        );

        let everything = |f: &dyn Fn(&mut CaseFilter)| {
            let mut filter = scope(|s| s.everything = true);
            f(&mut filter);
            filter
        };
        assert_eq!(
            numbers(
                store,
                &everything(&|f| f.states = vec!["in_progress".into()])
            )
            .await?,
            pick(&[1, 2, 3])
        );
        assert_eq!(
            numbers(
                store,
                &everything(&|f| f.states = vec!["granted".into(), "rejected".into()])
            )
            .await?,
            pick(&[4, 5])
        );
        assert_eq!(
            numbers(
                store,
                &everything(&|f| f.department = Some(department("city-health")))
            )
            .await?,
            pick(&[0, 1, 2])
        );
        assert_eq!(
            numbers(store, &everything(&|f| f.hall = Some(hall("east-centre")))).await?,
            pick(&[2, 4])
        );
        assert_eq!(
            numbers(store, &everything(&|f| f.item_code = Some(ID_CARD.into()))).await?,
            pick(&[3, 4, 5])
        );
        assert_eq!(
            numbers(
                store,
                &everything(&|f| f.applicant = Some(WANG_FANG.into()))
            )
            .await?,
            pick(&[2, 3, 5])
        );
        assert_eq!(
            numbers(
                store,
                &everything(&|f| f.overdue_on = Some(date(2026, 3, 3)))
            )
            .await?,
            pick(&[3]),
            "past the promised date and still being handled"
        );
        assert_eq!(
            numbers(
                store,
                &everything(&|f| f.overdue_on = Some(date(2026, 3, 4)))
            )
            .await?,
            pick(&[1, 3])
        );
        assert_eq!(
            numbers(
                store,
                &everything(&|f| {
                    f.applicant = Some(WANG_FANG.into());
                    f.states = vec!["in_progress".into()];
                    f.item_code = Some(BIRTH_CERTIFICATE.into());
                })
            )
            .await?,
            pick(&[2])
        );
        // A filter narrows the scope, never widens it.
        let mut narrowed = scope(|s| s.applicant = Some(ZHANG_WEI.into()));
        narrowed.applicant = Some(WANG_FANG.into());
        assert!(numbers(store, &narrowed).await?.is_empty());

        // The summary carries what an inbox shows.
        let page = store
            .cases
            .list_cases(&everything(&|f| f.states = vec!["in_progress".into()]))
            .await?;
        let summary = page
            .cases
            .iter()
            .find(|c| c.number == all[1])
            .expect("listed");
        assert_eq!(summary.state, "in_progress");
        assert_eq!(summary.step.as_deref(), Some("承办"));
        assert_eq!(summary.promised_due, Some(date(2026, 3, 3)));
        assert_eq!(
            summary.hall.as_ref().map(|h| h.as_str()),
            Some("city-centre")
        );
        assert_eq!(summary.department.as_str(), "city-health");
        assert_eq!(summary.version, 1);
        Ok(())
    }

    #[tokio::test]
    async fn pages_of_60_cases_never_repeat_or_skip_in_either_order() -> TestResult {
        let test = TestStore::with_demo().await?;
        let store = &test.store;
        let mut cases = Vec::new();
        for index in 0..60_i64 {
            // Many share their submission instant and their due date, so ties decide.
            let at = at_seconds(index / 4);
            let due = match index % 5 {
                0 => None,
                n => Some(date(2026, 3, 2 + i8::try_from(n % 3)?)),
            };
            let state = if due.is_some() {
                CaseState::InProgress { step: 0 }
            } else {
                CaseState::Submitted
            };
            let code = if index % 2 == 0 {
                BIRTH_CERTIFICATE
            } else {
                ID_CARD
            };
            let case = shaped(
                new_case(code, ZHANG_WEI, at),
                state,
                Some("city-centre"),
                due,
            );
            cases.push(create(store, case).await?);
        }
        let mut newest = cases.clone();
        newest.sort_by_key(|c| std::cmp::Reverse((c.submitted_at, c.id)));
        let mut due_first = cases.clone();
        due_first.sort_by_key(|c| (c.promised_due.unwrap_or(date(9999, 12, 31)), c.id));
        for (order, expected) in [
            (CaseOrder::Newest, newest),
            (CaseOrder::DueFirst, due_first),
        ] {
            let mut seen = Vec::new();
            let mut after = None;
            let mut pages = 0;
            loop {
                let filter = CaseFilter {
                    scope: CaseScope {
                        applicant: Some(ZHANG_WEI.into()),
                        ..CaseScope::default()
                    },
                    order,
                    limit: 7,
                    after: after.clone(),
                    ..CaseFilter::default()
                };
                let page = store.cases.list_cases(&filter).await?;
                assert!(page.cases.len() <= 7);
                pages += 1;
                seen.extend(page.cases.iter().map(|c| c.id));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(pages, 9, "{order:?}: 60 cases in pages of 7");
            assert_eq!(
                seen,
                expected.iter().map(|c| c.id).collect::<Vec<_>>(),
                "{order:?}"
            );
        }
        // A cursor of one order is refused in the other.
        let first = store
            .cases
            .list_cases(&CaseFilter {
                scope: CaseScope {
                    everything: true,
                    ..CaseScope::default()
                },
                limit: 7,
                ..CaseFilter::default()
            })
            .await?;
        let refused = store
            .cases
            .list_cases(&CaseFilter {
                scope: CaseScope {
                    everything: true,
                    ..CaseScope::default()
                },
                order: CaseOrder::DueFirst,
                limit: 7,
                after: first.next,
                ..CaseFilter::default()
            })
            .await;
        assert!(refused.is_err(), "{refused:?}");
        // An exact last page has no next cursor.
        let all = store
            .cases
            .list_cases(&CaseFilter {
                scope: CaseScope {
                    everything: true,
                    ..CaseScope::default()
                },
                limit: 60,
                ..CaseFilter::default()
            })
            .await?;
        assert_eq!(all.cases.len(), 60);
        assert!(all.next.is_none());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Service halls (the `HallStore` port)

mod halls {
    use jiff::SignedDuration;
    use jiff::civil::{Date, date, time};
    use tongban_domain::calendar::shanghai_date;
    use tongban_domain::halls::appointments::{
        Appointment, AppointmentStatus, Availability, Booking, Slot,
    };
    use tongban_domain::halls::queue::{Ticket, TicketStatus};
    use tongban_domain::halls::visits::Visit;
    use tongban_domain::halls::{PriorityClass, TicketId, VisitId};
    use tongban_domain::keys::{HallKey, SkillGroupKey, WindowKey};
    use tongban_store::model::{AppointmentFilter, CaseKey, CheckIn};
    use tongban_store::testing::{TestStore, test_time};

    use super::TestResult;
    use super::cases::{ID_CARD, create, new_case, write_of};

    const ZHANG_WEI: &str = "990102198803150031";

    fn hall() -> HallKey {
        HallKey::parse("city-centre").unwrap_or_else(|error| panic!("hall: {error}"))
    }

    fn skill(text: &str) -> SkillGroupKey {
        SkillGroupKey::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    fn slot(day: Date, hour: i8) -> Slot {
        Slot {
            day,
            starts: time(hour, 0, 0, 0),
            ends: time(hour, 30, 0, 0),
            extended: false,
        }
    }

    fn appointment(n: u128, slot: Slot) -> Appointment {
        Appointment::book(
            Booking {
                id: uuid::Uuid::from_u128(n),
                hall: hall(),
                skill: skill("personal"),
                slot,
                applicant: format!("applicant-{n}"),
                booked_by: "citizen".into(),
                item: None,
            },
            Availability {
                capacity: 100,
                booked: 0,
            },
            test_time(),
        )
        .unwrap_or_else(|error| panic!("booking {n}: {error}"))
    }

    fn ticket(n: u128, class: PriorityClass, applicant: Option<&str>) -> Ticket {
        Ticket::take(
            uuid::Uuid::from_u128(n),
            hall(),
            String::new(),
            class,
            skill("personal"),
            applicant.map(str::to_owned),
            test_time() + SignedDuration::from_secs(i64::try_from(n).unwrap_or(0)),
        )
    }

    #[tokio::test]
    async fn a_slot_takes_bookings_up_to_its_capacity_and_keeps_them_when_it_shrinks() -> TestResult
    {
        let test = TestStore::with_demo().await?;
        let halls = &test.store.halls;
        let day = date(2026, 3, 3);
        for n in 1..=2 {
            assert!(
                halls
                    .book_appointment(&appointment(n, slot(day, 9)), 2)
                    .await?
            );
        }
        assert!(
            !halls
                .book_appointment(&appointment(3, slot(day, 9)), 2)
                .await?,
            "the third booking of a two-place slot is refused"
        );
        halls
            .set_slot_capacity(
                &hall(),
                &skill("personal"),
                day,
                time(9, 0, 0, 0),
                1,
                test_time(),
            )
            .await?;
        let loads = halls.slot_loads(&hall(), &skill("personal"), day).await?;
        assert_eq!(loads.len(), 1);
        assert_eq!((loads[0].capacity, loads[0].booked), (Some(1), 2));
        let listed = halls
            .appointments(&AppointmentFilter::HallDay(hall(), day))
            .await?;
        assert_eq!(
            listed.len(),
            2,
            "bookings over the new capacity stay visible"
        );
        assert!(listed.iter().all(|a| a.status == AppointmentStatus::Booked));
        // Cancelling one leaves one booking for one place: still full.
        let cancelled = listed[0].cancel(test_time())?;
        assert!(
            halls
                .save_appointment(&cancelled, AppointmentStatus::Booked, None)
                .await?
        );
        assert!(
            !halls
                .book_appointment(&appointment(4, slot(day, 9)), 4)
                .await?
        );
        let stored = halls.appointment(cancelled.id).await?.unwrap();
        assert_eq!(stored, cancelled);
        Ok(())
    }

    #[tokio::test]
    async fn a_reschedule_needs_room_in_the_new_slot_and_a_stale_status_changes_nothing()
    -> TestResult {
        let test = TestStore::with_demo().await?;
        let halls = &test.store.halls;
        let day = date(2026, 3, 3);
        let mine = appointment(1, slot(day, 9));
        assert!(halls.book_appointment(&mine, 4).await?);
        assert!(
            halls
                .book_appointment(&appointment(2, slot(day, 10)), 1)
                .await?
        );
        let full = Availability {
            capacity: 4,
            booked: 0,
        };
        let moved = mine.reschedule(slot(day, 10), full, test_time())?;
        assert!(
            !halls
                .save_appointment(&moved, AppointmentStatus::Booked, Some(1))
                .await?,
            "the store counts the other booking in the one-place slot"
        );
        let moved = mine.reschedule(slot(day, 11), full, test_time())?;
        assert!(
            halls
                .save_appointment(&moved, AppointmentStatus::Booked, Some(4))
                .await?
        );
        let stored = halls.appointment(mine.id).await?.unwrap();
        assert_eq!(stored.slot.starts, time(11, 0, 0, 0));
        assert!(
            !halls
                .save_appointment(&moved, AppointmentStatus::CheckedIn, None)
                .await?,
            "a save against a status it no longer has is refused"
        );
        let mine_listed = halls
            .appointments(&AppointmentFilter::Applicant("applicant-1".into()))
            .await?;
        assert_eq!(mine_listed.len(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn tickets_are_numbered_per_class_and_day_and_a_check_in_is_one_transaction() -> TestResult
    {
        let test = TestStore::with_demo().await?;
        let halls = &test.store.halls;
        let mut numbers = Vec::new();
        for (n, class) in [
            (1, PriorityClass::Normal),
            (2, PriorityClass::Normal),
            (3, PriorityClass::GreenChannel),
        ] {
            let taken = halls
                .check_in(CheckIn {
                    ticket: ticket(n, class, None),
                    appointment: None,
                    visit: None,
                })
                .await?;
            numbers.push(taken.number);
        }
        assert_eq!(numbers, vec!["A001", "A002", "G001"]);
        // Checking in an appointment that is no longer booked stores no ticket either.
        let day = shanghai_date(test_time());
        let booked = appointment(9, slot(day, 10));
        assert!(halls.book_appointment(&booked, 4).await?);
        let mut cancelled = booked.clone();
        cancelled.status = AppointmentStatus::Cancelled;
        assert!(
            halls
                .save_appointment(&cancelled, AppointmentStatus::Booked, None)
                .await?
        );
        let mut checked_in = booked.clone();
        checked_in.status = AppointmentStatus::CheckedIn;
        let refused = halls
            .check_in(CheckIn {
                ticket: ticket(4, PriorityClass::Appointment, None),
                appointment: Some(checked_in),
                visit: None,
            })
            .await;
        assert!(matches!(
            refused,
            Err(tongban_store::StoreError::Conflict(_))
        ));
        assert!(
            halls
                .ticket(TicketId::from_uuid(uuid::Uuid::from_u128(4)))
                .await?
                .is_none()
        );
        let today = halls.tickets(&hall(), day, day).await?;
        assert_eq!(today.len(), 3);
        Ok(())
    }

    #[tokio::test]
    async fn two_windows_cannot_both_call_one_ticket() -> TestResult {
        let test = TestStore::with_demo().await?;
        let halls = &test.store.halls;
        let taken = halls
            .check_in(CheckIn {
                ticket: ticket(1, PriorityClass::Normal, None),
                appointment: None,
                visit: None,
            })
            .await?;
        let a01 = WindowKey::parse("city-centre-a01")?;
        let a02 = WindowKey::parse("city-centre-a02")?;
        let first = taken.call(&a01, test_time())?;
        let second = taken.call(&a02, test_time())?;
        assert!(halls.save_ticket(&first, TicketStatus::Waiting, 0).await?);
        assert!(!halls.save_ticket(&second, TicketStatus::Waiting, 0).await?);
        let stored = halls.ticket(taken.id).await?.unwrap();
        assert_eq!(stored.window, Some(a01.clone()));
        let done = stored.finish(&a01, test_time() + SignedDuration::from_mins(7))?;
        assert!(halls.save_ticket(&done, TicketStatus::Called, 0).await?);
        let stored = halls.ticket(taken.id).await?.unwrap();
        assert_eq!(stored.service_time(), Some(SignedDuration::from_mins(7)));
        Ok(())
    }

    #[tokio::test]
    async fn a_visit_counts_as_a_trip_for_open_cases_and_for_a_case_accepted_during_it()
    -> TestResult {
        let test = TestStore::with_demo().await?;
        let store = &test.store;
        let open = create(store, new_case(ID_CARD, ZHANG_WEI, test_time())).await?;
        let other = create(store, new_case(ID_CARD, "990102199006200045", test_time())).await?;
        let visit_at = test_time() + SignedDuration::from_hours(1);
        let mut taken = ticket(1, PriorityClass::Normal, Some(ZHANG_WEI));
        taken.taken_at = visit_at;
        store
            .halls
            .check_in(CheckIn {
                visit: Some(Visit {
                    id: VisitId::from_uuid(uuid::Uuid::from_u128(77)),
                    hall: hall(),
                    applicant: ZHANG_WEI.into(),
                    ticket: taken.id,
                    at: visit_at,
                }),
                ticket: taken,
                appointment: None,
            })
            .await?;
        assert_eq!(store.halls.case_trips(open.id).await?, 1);
        assert_eq!(
            store.halls.case_trips(other.id).await?,
            0,
            "another applicant's case"
        );
        // A case created during the visit (accepted at the window) is linked once.
        let accepted = create(store, new_case(ID_CARD, ZHANG_WEI, visit_at)).await?;
        let day = shanghai_date(visit_at);
        assert_eq!(
            store
                .halls
                .link_case_to_visits(accepted.id, ZHANG_WEI, &hall(), day)
                .await?,
            1
        );
        assert_eq!(
            store
                .halls
                .link_case_to_visits(accepted.id, ZHANG_WEI, &hall(), day)
                .await?,
            0,
            "linking twice adds nothing"
        );
        assert_eq!(store.halls.case_trips(accepted.id).await?, 1);
        // A write of a case answers the trips it counts now, visits linked since its last
        // version included.
        for (case, trips) in [(&open, 1), (&other, 0)] {
            let mut changed = case.clone();
            changed.version += 1;
            let saved = store
                .cases
                .save_case(write_of(&changed, Vec::new()), case.version)
                .await?;
            assert_eq!(saved, trips, "trips of {}", case.number);
        }
        // The case record counts the same trips, by id and by number.
        for key in [
            CaseKey::Id(accepted.id),
            CaseKey::Number(accepted.number.clone()),
        ] {
            let record = store.cases.case_record(&key).await?.expect("stored");
            assert_eq!(record.case, accepted);
            assert_eq!(record.trips, 1);
        }
        let record = store
            .cases
            .case_record(&CaseKey::Id(other.id))
            .await?
            .expect("stored");
        assert_eq!(record.trips, 0);
        let counts = store
            .halls
            .trip_counts(&tongban_domain::ids::ImplementationCode::parse(ID_CARD)?)
            .await?;
        assert_eq!(counts.get(&1), Some(&2));
        assert_eq!(counts.get(&0), Some(&1));
        Ok(())
    }
}
#[path = "conformance/agents.rs"]
mod agents;
#[path = "conformance/delivery.rs"]
mod delivery;
#[path = "conformance/feedback.rs"]
mod feedback;
#[path = "conformance/hotline.rs"]
mod hotline;
#[path = "conformance/ratings.rs"]
mod ratings;
#[path = "conformance/stats.rs"]
mod stats;
#[path = "conformance/verified.rs"]
mod verified;
