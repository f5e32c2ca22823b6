//! The storage ports: what the rest of the platform may ask of storage. Each adapter (SQLite,
//! PostgreSQL) implements every port, and one conformance suite (`tests/conformance.rs`) checks
//! that they behave the same.

use async_trait::async_trait;
use jiff::Timestamp;
use tongban_domain::catalog::{BundleDefinition, ItemDefinition};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::BundleCode;
use tongban_domain::org::Organisation;

use crate::error::StoreError;
use crate::files::DataSet;
use crate::model::{
    BundleRecord, BundleSummary, ImportReport, ItemFilter, ItemRecord, ItemSummary, Page,
    VersionInfo, Vocabulary,
};

/// The catalog and the organisation.
#[async_trait]
pub trait CatalogStore: Send + Sync + std::fmt::Debug {
    /// Whether nothing has been imported yet (for `serve --demo`).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// Imports a whole data set in one transaction: the organisation and vocabulary are upserted;
    /// an item or bundle whose content changed gets a new published version (the old one is kept
    /// as superseded); unchanged entries are left alone, so importing twice changes nothing.
    async fn import(&self, data: &DataSet, at: Timestamp) -> Result<ImportReport, StoreError>;

    /// Everything published, as a data set that `import` reads back.
    async fn export(&self) -> Result<DataSet, StoreError>;

    async fn organisation(&self) -> Result<Organisation, StoreError>;
    async fn vocabulary(&self) -> Result<Vocabulary, StoreError>;

    /// Published items matching the filter, ordered by code.
    async fn list_items(&self, filter: &ItemFilter) -> Result<Page<ItemSummary>, StoreError>;
    /// The published version of an item.
    async fn item(&self, code: &ImplementationCode) -> Result<Option<ItemRecord>, StoreError>;
    /// A given version of an item, whatever its status (cases are pinned to versions).
    async fn item_version(
        &self,
        code: &ImplementationCode,
        version: u32,
    ) -> Result<Option<ItemRecord>, StoreError>;
    /// Every version of an item, newest first.
    async fn item_versions(
        &self,
        code: &ImplementationCode,
    ) -> Result<Vec<VersionInfo>, StoreError>;
    /// Creates or replaces the item's draft (creating the item when it is new).
    async fn save_item_draft(
        &self,
        definition: &ItemDefinition,
        at: Timestamp,
    ) -> Result<VersionInfo, StoreError>;
    /// Publishes the draft atomically: the draft becomes published, the old published version
    /// becomes superseded.
    async fn publish_item(
        &self,
        code: &ImplementationCode,
        at: Timestamp,
    ) -> Result<VersionInfo, StoreError>;

    async fn list_bundles(&self) -> Result<Vec<BundleSummary>, StoreError>;
    async fn bundle(&self, code: &BundleCode) -> Result<Option<BundleRecord>, StoreError>;
    /// Published bundles that have this item as a member.
    async fn bundles_with_item(
        &self,
        code: &ImplementationCode,
    ) -> Result<Vec<BundleSummary>, StoreError>;
    async fn save_bundle_draft(
        &self,
        definition: &BundleDefinition,
        at: Timestamp,
    ) -> Result<VersionInfo, StoreError>;
    async fn publish_bundle(
        &self,
        code: &BundleCode,
        at: Timestamp,
    ) -> Result<VersionInfo, StoreError>;
}

/// Cases, their events and what they produce (licences, outbox messages, logs).
#[async_trait]
pub trait CaseStore: Send + Sync + std::fmt::Debug {
    /// Stores a new case, assigning its 办件编号 (implementation code + date + sequence) in the
    /// same transaction as its events and outbox messages. The number is also written into each
    /// outbox payload's `number` field and into audit entries with an empty target. Returns the
    /// case with its number.
    async fn create_case(
        &self,
        write: crate::model::CaseWrite,
    ) -> Result<tongban_domain::cases::Case, StoreError>;
    /// Stores a changed case if it is still at `expected_version` (else `StaleVersion`), with its
    /// events, outbox messages, licence and log entries, all in one transaction. Returns the
    /// trips the case counts, read in that transaction (visits are linked to cases without a
    /// new version, so a record kept from before may miss some).
    async fn save_case(
        &self,
        write: crate::model::CaseWrite,
        expected_version: u64,
    ) -> Result<u32, StoreError>;
    async fn case(&self, id: uuid::Uuid)
    -> Result<Option<tongban_domain::cases::Case>, StoreError>;
    async fn case_by_number(
        &self,
        number: &str,
    ) -> Result<Option<tongban_domain::cases::Case>, StoreError>;
    async fn case_events(
        &self,
        id: uuid::Uuid,
    ) -> Result<Vec<crate::model::StoredEvent>, StoreError>;
    /// The case with its events (in order, numbered 1, 2, 3 …) and its trips, in one statement.
    async fn case_record(
        &self,
        key: &crate::model::CaseKey,
    ) -> Result<Option<crate::model::CaseRecord>, StoreError>;
    async fn list_cases(
        &self,
        filter: &crate::model::CaseFilter,
    ) -> Result<crate::model::CasePage, StoreError>;
    /// The cases posted under a carrier's tracking number (any of their postings, the current or
    /// an earlier one), oldest posting first.
    async fn shipped_cases(
        &self,
        carrier: &str,
        tracking_number: &str,
    ) -> Result<Vec<crate::model::ShippedCase>, StoreError>;
    /// Every verified document of a holder (valid, expired and revoked), newest check first.
    async fn verified_documents(
        &self,
        holder: &str,
    ) -> Result<Vec<tongban_domain::cases::verified::VerifiedDocument>, StoreError>;
    async fn verified_document(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<tongban_domain::cases::verified::VerifiedDocument>, StoreError>;
    /// Revokes a verified document; false when there is no unrevoked document with this id.
    async fn revoke_verified_document(
        &self,
        id: uuid::Uuid,
        revocation: tongban_domain::cases::verified::Revocation,
    ) -> Result<bool, StoreError>;
    async fn licence(
        &self,
        identifier: &str,
    ) -> Result<Option<tongban_domain::licences::Licence>, StoreError>;
    /// Every licence version a holder has, newest first.
    async fn licences_of(
        &self,
        holder: &str,
    ) -> Result<Vec<tongban_domain::licences::Licence>, StoreError>;
    /// Appends log entries outside a case change (e.g. reads of a person's data).
    async fn record(
        &self,
        audit: Vec<crate::model::AuditEntry>,
        access: Vec<crate::model::DataAccess>,
    ) -> Result<(), StoreError>;
    /// A person's own data-access log, newest first.
    async fn access_log(
        &self,
        subject: &str,
        limit: u32,
    ) -> Result<Vec<crate::model::DataAccess>, StoreError>;
    /// The audit log of a target (e.g. a case number), oldest first.
    async fn audit_log(&self, target: &str) -> Result<Vec<crate::model::AuditEntry>, StoreError>;
    /// Outbox messages after a position (created_at, id), oldest first, for the dispatcher.
    async fn outbox_after(
        &self,
        after: Option<(jiff::Timestamp, uuid::Uuid)>,
        limit: u32,
    ) -> Result<Vec<crate::model::OutboxMessage>, StoreError>;
}

/// Sign-in accounts, sessions and the API tokens of department systems.
#[async_trait]
pub trait AccountStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces accounts (by account name) in one transaction; returns how many were
    /// written. An existing account keeps its `created_at`.
    async fn upsert_accounts(
        &self,
        accounts: &[crate::model::NewAccount],
        at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// The account with its password hash and its staff roles (one query).
    async fn find_account(
        &self,
        account: &tongban_domain::keys::AccountName,
    ) -> Result<Option<crate::model::AccountRecord>, StoreError>;

    /// Stores a session; the account's expired sessions are removed in the same transaction.
    async fn create_session(&self, session: &crate::model::NewSession) -> Result<(), StoreError>;

    /// The session with this token hash if it has not expired at `at`, with its account's
    /// profile and roles (one query).
    async fn find_session(
        &self,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<Option<crate::model::SessionRecord>, StoreError>;

    /// Removes a session; returns whether there was one.
    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError>;

    /// Stores a new API token and returns it (without its secret).
    async fn create_api_token(
        &self,
        token: &crate::model::NewApiToken,
    ) -> Result<crate::model::ApiTokenRecord, StoreError>;

    /// The unrevoked API token with this hash.
    async fn find_api_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<crate::model::ApiTokenRecord>, StoreError>;

    /// Revokes an API token; returns false when there is no unrevoked token with this id.
    async fn revoke_api_token(&self, id: uuid::Uuid, at: Timestamp) -> Result<bool, StoreError>;

    /// Every API token, revoked ones included, oldest first.
    async fn list_api_tokens(&self) -> Result<Vec<crate::model::ApiTokenRecord>, StoreError>;
}

/// Webhook subscriptions of department systems and the deliveries of outbox messages to them
/// (SPEC §2 "Webhooks"). Fan-out is idempotent: one delivery per (subscription, message).
#[async_trait]
pub trait WebhookStore: Send + Sync + std::fmt::Debug {
    async fn create_subscription(
        &self,
        subscription: &crate::model::NewSubscription,
    ) -> Result<crate::model::Subscription, StoreError>;
    /// Every subscription, inactive ones included, oldest first.
    async fn list_subscriptions(&self) -> Result<Vec<crate::model::Subscription>, StoreError>;
    /// Stops a subscription; its pending deliveries become dead in the same transaction.
    /// Returns false when there is no active subscription with this id.
    async fn deactivate_subscription(&self, id: uuid::Uuid) -> Result<bool, StoreError>;
    /// In one transaction: reads up to `limit` outbox messages past the fan-out cursor (in the
    /// order of [`CaseStore::outbox_after`]) written at or before `settled_before`, creates one
    /// pending delivery due at `at` per matching active subscription, and advances the cursor.
    async fn fan_out(
        &self,
        settled_before: Timestamp,
        at: Timestamp,
        limit: u32,
    ) -> Result<crate::model::FanOutReport, StoreError>;
    /// Claims up to `limit` pending deliveries due at `now` (of active subscriptions), oldest
    /// due first: their `next_attempt_at` moves to `lease_until`, so that another dispatcher
    /// does not send them meanwhile and a crash mid-send retries them when the lease lapses.
    async fn claim_due_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<crate::model::DueDelivery>, StoreError>;
    /// Records a successful attempt; false when the delivery is not pending.
    async fn mark_delivered(
        &self,
        id: uuid::Uuid,
        status: u16,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Records a failed attempt: retry later, or dead; false when the delivery is not pending.
    async fn mark_failed(
        &self,
        id: uuid::Uuid,
        failure: &crate::model::DeliveryFailure,
    ) -> Result<bool, StoreError>;
    /// Deliveries, newest first.
    async fn list_deliveries(
        &self,
        filter: &crate::model::DeliveryFilter,
    ) -> Result<Vec<crate::model::Delivery>, StoreError>;
    async fn delivery(&self, id: uuid::Uuid) -> Result<Option<crate::model::Delivery>, StoreError>;
    /// Makes a dead delivery pending again, due at `at`, with its attempts reset. `NotFound`
    /// without such a delivery; `Conflict` when it is not dead or its subscription is inactive.
    async fn resend(
        &self,
        id: uuid::Uuid,
        at: Timestamp,
    ) -> Result<crate::model::Delivery, StoreError>;
}

/// Bundle applications (一件事): the parent cases; their children are ordinary cases with a
/// `parent_id`, written in the same transaction as the parent change that opens them.
#[async_trait]
pub trait BundleCaseStore: Send + Sync + std::fmt::Debug {
    /// Stores a new parent with the children that open at once; numbers the parent
    /// (`YJS` + date + sequence) and each child, in one transaction. Returns the parent.
    async fn create_bundle_case(
        &self,
        write: crate::model::BundleWrite,
    ) -> Result<tongban_domain::cases::bundle_case::BundleCase, StoreError>;
    /// Stores a changed parent if it is still at `expected_version` (else `StaleVersion`), with
    /// the children it opens now, in one transaction. Returns the parent with their numbers.
    async fn save_bundle_case(
        &self,
        write: crate::model::BundleWrite,
        expected_version: u64,
    ) -> Result<tongban_domain::cases::bundle_case::BundleCase, StoreError>;
    async fn bundle_case(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<tongban_domain::cases::bundle_case::BundleCase>, StoreError>;
    async fn bundle_case_by_number(
        &self,
        number: &str,
    ) -> Result<Option<tongban_domain::cases::bundle_case::BundleCase>, StoreError>;
    /// The child cases of a parent, oldest first.
    async fn bundle_children(
        &self,
        id: uuid::Uuid,
    ) -> Result<Vec<tongban_domain::cases::Case>, StoreError>;
    /// An applicant's bundle applications, newest first.
    async fn bundle_cases_of(
        &self,
        applicant: &str,
        limit: u32,
    ) -> Result<Vec<tongban_domain::cases::bundle_case::BundleCase>, StoreError>;
}

/// Service halls (SPEC C4): appointment capacities and bookings, queue tickets, visits and the
/// trips they count for cases. Writes that could race (a booking against the capacity, two
/// windows calling the same ticket) are conditional and report whether they took effect.
#[async_trait]
pub trait HallStore: Send + Sync + std::fmt::Debug {
    /// Slots of a hall and skill group on a day that have a capacity set or live bookings.
    async fn slot_loads(
        &self,
        hall: &tongban_domain::keys::HallKey,
        skill: &tongban_domain::keys::SkillGroupKey,
        day: jiff::civil::Date,
    ) -> Result<Vec<crate::model::SlotLoad>, StoreError>;
    /// Sets one slot's capacity; bookings beyond it are kept.
    async fn set_slot_capacity(
        &self,
        hall: &tongban_domain::keys::HallKey,
        skill: &tongban_domain::keys::SkillGroupKey,
        day: jiff::civil::Date,
        starts: jiff::civil::Time,
        capacity: u32,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Stores a new booking if its slot holds fewer than `capacity` live bookings (checked in
    /// the same transaction); false when the slot is full.
    async fn book_appointment(
        &self,
        appointment: &tongban_domain::halls::appointments::Appointment,
        capacity: u32,
    ) -> Result<bool, StoreError>;
    /// Stores a changed appointment if it is still in `expected` status and, when `capacity` is
    /// given, its (new) slot holds fewer than that many other live bookings; false otherwise.
    async fn save_appointment(
        &self,
        appointment: &tongban_domain::halls::appointments::Appointment,
        expected: tongban_domain::halls::appointments::AppointmentStatus,
        capacity: Option<u32>,
    ) -> Result<bool, StoreError>;
    async fn appointment(
        &self,
        id: tongban_domain::halls::AppointmentId,
    ) -> Result<Option<tongban_domain::halls::appointments::Appointment>, StoreError>;
    async fn appointments(
        &self,
        filter: &crate::model::AppointmentFilter,
    ) -> Result<Vec<tongban_domain::halls::appointments::Appointment>, StoreError>;
    /// Stores a new ticket with the next number of its class for its hall and day, the
    /// appointment it checks in (`Conflict` if that is no longer booked) and the visit (linked
    /// to every open case of the applicant), in one transaction. Returns the numbered ticket.
    async fn check_in(
        &self,
        check_in: crate::model::CheckIn,
    ) -> Result<tongban_domain::halls::queue::Ticket, StoreError>;
    async fn ticket(
        &self,
        id: tongban_domain::halls::TicketId,
    ) -> Result<Option<tongban_domain::halls::queue::Ticket>, StoreError>;
    /// A hall's tickets taken on days `from..=to` (China time), oldest first.
    async fn tickets(
        &self,
        hall: &tongban_domain::keys::HallKey,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<tongban_domain::halls::queue::Ticket>, StoreError>;
    /// Stores a changed ticket if it is still in `expected` status with `expected_recalls`
    /// recalls; false when another window changed it first.
    async fn save_ticket(
        &self,
        ticket: &tongban_domain::halls::queue::Ticket,
        expected: tongban_domain::halls::queue::TicketStatus,
        expected_recalls: u32,
    ) -> Result<bool, StoreError>;
    /// Links a case to the applicant's visits at the hall on that day (a case accepted at a
    /// window during a visit); returns how many links are new.
    async fn link_case_to_visits(
        &self,
        case_id: uuid::Uuid,
        applicant: &str,
        hall: &tongban_domain::keys::HallKey,
        day: jiff::civil::Date,
    ) -> Result<u32, StoreError>;
    /// How many visits (trips) a case counts.
    async fn case_trips(&self, case_id: uuid::Uuid) -> Result<u32, StoreError>;
    /// For the cases of an item: trips → number of cases.
    async fn trip_counts(
        &self,
        item: &ImplementationCode,
    ) -> Result<std::collections::BTreeMap<u32, u64>, StoreError>;
}

/// Ratings (好差评) and the rectification tasks bad ratings open (SPEC C6). Writes also keep the
/// supervision rollups ([`StatsStore`]) in step, in the same transaction.
#[async_trait]
pub trait FeedbackStore: Send + Sync + std::fmt::Debug {
    /// What earlier ratings of this subject mean for a new one (first / second round).
    async fn prior_ratings(
        &self,
        kind: tongban_domain::feedback::RatedKind,
        subject: &str,
    ) -> Result<tongban_domain::feedback::PriorRatings, StoreError>;
    /// Stores a rating and the task it opens, in one transaction; `Conflict` when the subject
    /// already has a rating of this round.
    async fn save_rating(
        &self,
        rating: &tongban_domain::feedback::Rating,
        task: Option<&tongban_domain::feedback::Rectification>,
    ) -> Result<(), StoreError>;
    /// The ratings of a subject, first round first.
    async fn ratings_of(
        &self,
        kind: tongban_domain::feedback::RatedKind,
        subject: &str,
    ) -> Result<Vec<tongban_domain::feedback::Rating>, StoreError>;
    async fn rectification(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<tongban_domain::feedback::Rectification>, StoreError>;
    /// Tasks, oldest due first.
    async fn list_rectifications(
        &self,
        filter: &crate::model::RectificationFilter,
    ) -> Result<Vec<tongban_domain::feedback::Rectification>, StoreError>;
    /// Stores a changed task if it is still at `expected_version` (else `StaleVersion`).
    async fn save_rectification(
        &self,
        task: &tongban_domain::feedback::Rectification,
        expected_version: u64,
    ) -> Result<(), StoreError>;
}

/// 12345 hotline tickets (SPEC C7).
#[async_trait]
pub trait HotlineStore: Send + Sync + std::fmt::Debug {
    /// Stores a new ticket, assigning its number (`RX` + YYYYMMDD + 4-digit sequence) in the
    /// same transaction; returns it with the number.
    async fn create_ticket(
        &self,
        ticket: tongban_domain::hotline::Ticket,
    ) -> Result<tongban_domain::hotline::Ticket, StoreError>;
    /// Stores a changed ticket if it is still at `expected_version` (else `StaleVersion`).
    async fn save_ticket(
        &self,
        ticket: &tongban_domain::hotline::Ticket,
        expected_version: u64,
    ) -> Result<(), StoreError>;
    /// [`HotlineStore::save_ticket`] with outbox messages (notifications of departments, which
    /// the webhook dispatcher delivers) in the same transaction: both or neither.
    async fn save_ticket_with_outbox(
        &self,
        ticket: &tongban_domain::hotline::Ticket,
        expected_version: u64,
        outbox: Vec<crate::model::OutboxMessage>,
    ) -> Result<(), StoreError>;
    /// Tickets still with a department (dispatched, return requested) due on or before `due_by`
    /// and not reminded of their current deadline yet (`deadline_reminder_for`), earliest
    /// deadline first: the reminder job's candidates.
    async fn tickets_to_remind(
        &self,
        due_by: jiff::civil::Date,
        limit: u32,
    ) -> Result<Vec<tongban_domain::hotline::Ticket>, StoreError>;
    async fn ticket(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<tongban_domain::hotline::Ticket>, StoreError>;
    async fn ticket_by_number(
        &self,
        number: &str,
    ) -> Result<Option<tongban_domain::hotline::Ticket>, StoreError>;
    /// Tickets, most urgent deadline first, then newest.
    async fn list_tickets(
        &self,
        filter: &crate::model::TicketFilter,
    ) -> Result<Vec<crate::model::TicketSummary>, StoreError>;
    /// Open tickets (not closed or merged) of the same category and area received since
    /// `since`, newest first: candidates for duplicate detection.
    async fn open_tickets_like(
        &self,
        category: &str,
        area: &str,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<tongban_domain::hotline::Ticket>, StoreError>;
}

/// The supervision rollups (SPEC C8): sums of [`tongban_domain::stats::Counters`] kept by the
/// feedback and hotline writes in their transactions and, for cases, by folding the changed cases
/// in batches (case writes only mark the case as pending).
#[async_trait]
pub trait StatsStore: Send + Sync + std::fmt::Debug {
    /// Folds the case changes not yet counted (a background task calls this every moment, and
    /// every query below calls it first, so a query sees every change committed before it);
    /// returns how many pending cases it looked at.
    async fn fold_pending(&self) -> Result<usize, StoreError>;
    /// Sums per group of the query's dimension over its months (the window dimension covers
    /// ratings only).
    async fn figures(
        &self,
        query: &crate::model::StatsQuery,
    ) -> Result<Vec<crate::model::StatsRow>, StoreError>;
    /// Sums per month (key `YYYY-MM`), optionally for one department.
    async fn monthly(
        &self,
        range: tongban_domain::stats::MonthRange,
        department: Option<&tongban_domain::keys::DepartmentKey>,
    ) -> Result<Vec<crate::model::StatsRow>, StoreError>;
    /// Sums per day (key `YYYY-MM-DD`) from `from` to `to`, optionally for one department.
    async fn daily(
        &self,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
        department: Option<&tongban_domain::keys::DepartmentKey>,
    ) -> Result<Vec<crate::model::StatsRow>, StoreError>;
    /// Histogram `(working days, cases)` of decided cases, ascending, for percentiles.
    async fn days_histogram(
        &self,
        range: tongban_domain::stats::MonthRange,
        department: Option<&tongban_domain::keys::DepartmentKey>,
    ) -> Result<Vec<(i64, i64)>, StoreError>;
    /// Queue sums of the tickets taken in the months of `range`, per group (kept by the ticket
    /// writes of [`HallStore`] in their transactions), with each group's histogram of waits
    /// (none for [`crate::model::QueueGroup::Window`]).
    async fn queue_figures(
        &self,
        range: tongban_domain::stats::MonthRange,
        group: crate::model::QueueGroup,
    ) -> Result<Vec<crate::model::QueueRow>, StoreError>;
    /// What the catalog figures need of every published item, by code.
    async fn item_facts(&self)
    -> Result<Vec<tongban_domain::stats::catalog::ItemFact>, StoreError>;
    /// Every published bundle with the published versions of its member items.
    async fn bundle_catalog(&self) -> Result<crate::model::BundleCatalog, StoreError>;
}

/// Agents (SPEC C5): registrations, mandates and home-visit requests. A mandate is written once
/// and changes only by its revocation, which takes effect only if it was not revoked already; a
/// home visit changes with an optimistic version check.
#[async_trait]
pub trait AgentStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces the registration of `agent.account`.
    async fn save_agent(&self, agent: &tongban_domain::agents::Agent) -> Result<(), StoreError>;
    async fn agent(
        &self,
        account: &tongban_domain::keys::AccountName,
    ) -> Result<Option<tongban_domain::agents::Agent>, StoreError>;
    /// Every registration, by level, region and account.
    async fn agents(&self) -> Result<Vec<tongban_domain::agents::Agent>, StoreError>;
    /// Stores a new mandate; `Conflict` when its id exists.
    async fn create_mandate(
        &self,
        mandate: &tongban_domain::agents::mandates::Mandate,
    ) -> Result<(), StoreError>;
    /// Stores the revocation of a mandate if it was not revoked yet; false otherwise.
    async fn revoke_mandate(
        &self,
        mandate: &tongban_domain::agents::mandates::Mandate,
    ) -> Result<bool, StoreError>;
    async fn mandate(
        &self,
        id: tongban_domain::keys::MandateId,
    ) -> Result<Option<tongban_domain::agents::mandates::Mandate>, StoreError>;
    /// Mandates matching the filter, newest first.
    async fn mandates(
        &self,
        filter: &crate::model::MandateFilter,
    ) -> Result<Vec<tongban_domain::agents::mandates::Mandate>, StoreError>;
    /// Stores a new home-visit request.
    async fn create_home_visit(
        &self,
        visit: &tongban_domain::agents::home_visits::HomeVisit,
    ) -> Result<(), StoreError>;
    /// Stores a changed request if it is still at `expected_version` (else `StaleVersion`).
    async fn save_home_visit(
        &self,
        visit: &tongban_domain::agents::home_visits::HomeVisit,
        expected_version: u64,
    ) -> Result<(), StoreError>;
    async fn home_visit(
        &self,
        id: tongban_domain::keys::HomeVisitId,
    ) -> Result<Option<tongban_domain::agents::home_visits::HomeVisit>, StoreError>;
    async fn home_visits(
        &self,
        filter: &crate::model::HomeVisitFilter,
    ) -> Result<Vec<tongban_domain::agents::home_visits::HomeVisit>, StoreError>;
}
