//! Verified documents (once-only) on both engines: written with the case change that checked
//! them, replaced by a later check of the same material for the same case, revoked by a
//! correction or by id, never written by a refused change.

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use tongban_domain::cases::verified::{CheckedCopy, Revocation, VerifiedDocument};
use tongban_domain::cases::{Case, CaseState};
use tongban_domain::keys::{AccountName, DepartmentKey, MaterialCode};
use tongban_store::model::CaseWrite;
use tongban_store::testing::{TestStore, test_time};
use tongban_store::{Store, StoreError};

use super::TestResult;
use super::cases::{create, new_case};

const ZHANG_WEI: &str = "990102198803150031";
const WANG_FANG: &str = "990102199006200045";

fn at_minutes(minutes: i64) -> Timestamp {
    test_time() + SignedDuration::from_mins(minutes)
}

fn code(text: &str) -> MaterialCode {
    MaterialCode::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn document(
    case: &Case,
    material: &str,
    minutes: i64,
    until: jiff::civil::Date,
) -> VerifiedDocument {
    VerifiedDocument {
        id: uuid::Uuid::now_v7(),
        holder: case.applicant.identifier.clone(),
        material: code(material),
        name: format!("{material} 名称"),
        source_case: case.id,
        source_number: case.number.clone(),
        department: DepartmentKey::parse("city-hrss").unwrap_or_else(|e| panic!("{e}")),
        hall: None,
        verified_by: AccountName::parse("clerk").unwrap_or_else(|e| panic!("{e}")),
        verified_at: at_minutes(minutes),
        valid_until: until,
        copy: CheckedCopy::Paper,
        revoked: None,
    }
}

/// Stores the next version of `case` with the documents and revocations of the write.
async fn save(
    store: &Store,
    case: &mut Case,
    documents: Vec<VerifiedDocument>,
    revoked: Vec<(MaterialCode, Revocation)>,
) -> Result<(), StoreError> {
    let expected = case.version;
    case.version += 1;
    let write = CaseWrite {
        case: Some(case.clone()),
        documents,
        revoked,
        ..CaseWrite::default()
    };
    store.cases.save_case(write, expected).await.map(|_| ())
}

async fn stored(
    store: &Store,
    birth: &str,
    applicant: &str,
    minutes: i64,
) -> Result<Case, StoreError> {
    let case = new_case(birth, applicant, at_minutes(minutes));
    create(store, case).await
}

fn summary(documents: &[VerifiedDocument]) -> Vec<(&str, String, bool)> {
    documents
        .iter()
        .map(|d| {
            (
                d.material.as_str(),
                d.valid_until.to_string(),
                d.revoked.is_some(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_check_stores_the_holders_documents_and_a_second_check_replaces_them() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let mut case = stored(store, super::BIRTH_CERTIFICATE, ZHANG_WEI, 0).await?;
    let other = stored(store, super::BIRTH_CERTIFICATE, WANG_FANG, 1).await?;
    assert!(store.cases.verified_documents(ZHANG_WEI).await?.is_empty());

    case.state = CaseState::PreReviewed;
    let card = document(&case, "applicant_id_card", 10, date(2027, 3, 2));
    let bank = document(&case, "bank_account_info", 11, date(2027, 3, 2));
    save(store, &mut case, vec![card.clone(), bank], Vec::new()).await?;
    let mine = store.cases.verified_documents(ZHANG_WEI).await?;
    assert_eq!(
        summary(&mine),
        [
            ("bank_account_info", "2027-03-02".to_owned(), false),
            ("applicant_id_card", "2027-03-02".to_owned(), false)
        ],
        "newest check first"
    );
    assert_eq!(
        store.cases.verified_document(card.id).await?,
        Some(card.clone())
    );
    assert!(store.cases.verified_documents(WANG_FANG).await?.is_empty());
    assert!(
        store
            .cases
            .verified_documents(&other.applicant.identifier)
            .await?
            .is_empty()
    );

    // Accepted later: the card is checked again and its document takes the first one's place.
    case.state = CaseState::InProgress { step: 0 };
    let again = document(&case, "applicant_id_card", 30, date(2027, 3, 5));
    save(store, &mut case, vec![again], Vec::new()).await?;
    let mine = store.cases.verified_documents(ZHANG_WEI).await?;
    assert_eq!(mine.len(), 2);
    let card_now = mine
        .iter()
        .find(|d| d.material.as_str() == "applicant_id_card")
        .unwrap_or_else(|| panic!("the card: {mine:?}"));
    assert_eq!(card_now.id, card.id, "the document keeps its id");
    assert_eq!(card_now.valid_until, date(2027, 3, 5));
    assert_eq!(card_now.verified_at, at_minutes(30));
    Ok(())
}

#[tokio::test]
async fn a_correction_or_a_revocation_revokes_once_and_a_refused_write_stores_nothing() -> TestResult
{
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let mut case = stored(store, super::BIRTH_CERTIFICATE, ZHANG_WEI, 0).await?;
    let card = document(&case, "applicant_id_card", 10, date(2027, 3, 2));
    let bank = document(&case, "bank_account_info", 11, date(2027, 3, 2));
    save(
        store,
        &mut case,
        vec![card.clone(), bank.clone()],
        Vec::new(),
    )
    .await?;

    // A correction asks for the card again: the card checked for this case is revoked.
    let correction = Revocation {
        at: at_minutes(60),
        reason: "补正:证件照片模糊".into(),
    };
    save(
        store,
        &mut case,
        Vec::new(),
        vec![(code("applicant_id_card"), correction.clone())],
    )
    .await?;
    let revoked = store.cases.verified_document(card.id).await?;
    assert_eq!(revoked.and_then(|d| d.revoked), Some(correction));

    let by_hand = Revocation {
        at: at_minutes(70),
        reason: "账户已注销".into(),
    };
    assert!(
        store
            .cases
            .revoke_verified_document(bank.id, by_hand.clone())
            .await?
    );
    assert!(
        !store
            .cases
            .revoke_verified_document(bank.id, by_hand.clone())
            .await?,
        "once"
    );
    assert!(
        !store
            .cases
            .revoke_verified_document(uuid::Uuid::now_v7(), by_hand)
            .await?
    );
    assert_eq!(
        summary(&store.cases.verified_documents(ZHANG_WEI).await?),
        [
            ("bank_account_info", "2027-03-02".to_owned(), true),
            ("applicant_id_card", "2027-03-02".to_owned(), true)
        ]
    );

    // A stale write stores none of its documents.
    let late = document(&case, "household_register", 80, date(2027, 3, 2));
    let stale = CaseWrite {
        case: Some(Case {
            version: case.version + 1,
            ..case.clone()
        }),
        documents: vec![late.clone()],
        ..CaseWrite::default()
    };
    let refused = store.cases.save_case(stale, case.version + 5).await;
    assert!(
        matches!(refused, Err(StoreError::StaleVersion { .. })),
        "{refused:?}"
    );
    assert_eq!(store.cases.verified_document(late.id).await?, None);
    Ok(())
}
