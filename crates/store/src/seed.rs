//! Bulk loading of a generated history for `tongban bench seed`: cases with their events, audit
//! entries and licences, ratings with their rectification tasks, and hotline tickets, written
//! with multi-row `INSERT`s in one transaction per batch, together with what the live write path
//! keeps beside them: the case facts, the supervision rollups (`stats_monthly`, `stats_daily`,
//! `stats_days_histogram`), the countersigning departments and the number counters.
//!
//! The input is what the live path is given: per case the list of [`CaseWrite`]s the services
//! would have stored one by one (the first creates the case, every later one changes it), per
//! rating the task's versions, per ticket its versions. [`EncodedBatch::new`] collapses each
//! history to its final rows and computes the rollup contributions with the same domain
//! functions the rollup folder and the feedback and hotline ports use ([`CaseFact::derive`],
//! [`Counters::of_submission`] …), so the figures are those the live path would produce for the
//! same history; the bench's tests replay a generated history through the live path and compare
//! the tables. Encoding is pure and runs on the caller's thread while the previous batch is
//! being written.
//!
//! Not written: verified documents (the generated histories check no copies at a window),
//! outbox messages (a seeded history was delivered long ago; two years of messages
//! would make the webhook dispatcher fan them all out), data-access entries (reads, not writes)
//! and hall queue tickets and visits.
//!
//! ```no_run
//! # async fn demo(store: tongban_store::Store, batch: tongban_store::seed::SeedBatch)
//! # -> Result<(), tongban_store::StoreError> {
//! let calendar = tongban_domain::calendar::Calendar::official().unwrap();
//! let regions = tongban_store::seed::regions(&store).await?;
//! let encoded = tongban_store::seed::EncodedBatch::new(&batch, &regions, &calendar);
//! tongban_store::seed::write(&store, encoded).await?;
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use tongban_domain::calendar::{Calendar, shanghai_date};
use tongban_domain::cases::{Case, StepKind};
use tongban_domain::feedback::{Rating, Rectification};
use tongban_domain::hotline::Ticket;
use tongban_domain::stats::{CaseFact, Counters, Month};

use crate::model::CaseWrite;
use crate::{Backend, Store, StoreError, new_id, to_micros};

/// One case's history as the services would have written it: `writes[0]` creates the case
/// (version 1), `writes[k]` is the change that made version `k + 1`. Every write carries the
/// case as it was after it.
#[derive(Debug, Clone, Default)]
pub struct SeedCase {
    pub writes: Vec<CaseWrite>,
}

/// A rating and, for a bad first rating, its rectification task's versions (the first as
/// opened, then one per saved change).
#[derive(Debug, Clone)]
pub struct SeedRating {
    pub rating: Rating,
    pub task: Vec<Rectification>,
}

/// A hotline ticket's versions: as registered (numbered), then one per saved change.
#[derive(Debug, Clone, Default)]
pub struct SeedTicket {
    pub versions: Vec<Ticket>,
}

/// What one transaction loads. Counters are the highest number handed out per prefix so far
/// (`case_counters`: item code + day; `hotline_counters`: `RX` + day).
#[derive(Debug, Clone, Default)]
pub struct SeedBatch {
    pub cases: Vec<SeedCase>,
    pub ratings: Vec<SeedRating>,
    pub tickets: Vec<SeedTicket>,
    pub case_counters: BTreeMap<String, i64>,
    pub ticket_counters: BTreeMap<String, i64>,
}

/// The region a rollup row or fact is counted in: the hall's, else the department's, else
/// empty (what the live path's `COALESCE((SELECT region FROM halls …), (SELECT region FROM
/// departments …), '')` gives).
#[derive(Debug, Clone, Default)]
pub struct Regions {
    halls: HashMap<String, String>,
    departments: HashMap<String, String>,
}

impl Regions {
    pub fn of(&self, department: &str, hall: &str) -> String {
        self.halls
            .get(hall)
            .or_else(|| self.departments.get(department))
            .cloned()
            .unwrap_or_default()
    }
}

/// The regions of the halls and departments in the store.
pub async fn regions(store: &Store) -> Result<Regions, StoreError> {
    let (halls, departments) = match &store.backend {
        Backend::Sqlite(sqlite) => sqlite.seed_regions().await?,
        Backend::Postgres(postgres) => postgres.seed_regions().await?,
    };
    Ok(Regions {
        halls: halls.into_iter().collect(),
        departments: departments.into_iter().collect(),
    })
}

/// Rows counted by a load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedCounts {
    pub cases: u64,
    pub events: u64,
    pub audit: u64,
    pub licences: u64,
    pub ratings: u64,
    pub rectifications: u64,
    pub tickets: u64,
    pub rollup_rows: u64,
}

impl SeedCounts {
    pub fn add(&mut self, other: &SeedCounts) {
        self.cases += other.cases;
        self.events += other.events;
        self.audit += other.audit;
        self.licences += other.licences;
        self.ratings += other.ratings;
        self.rectifications += other.rectifications;
        self.tickets += other.tickets;
        self.rollup_rows += other.rollup_rows;
    }

    /// Every row written.
    pub fn rows(&self) -> u64 {
        // A case also writes its fact.
        self.cases * 2
            + self.events
            + self.audit
            + self.licences
            + self.ratings
            + self.rectifications
            + self.tickets
            + self.rollup_rows
    }
}

pub(crate) struct CaseRow {
    pub id: uuid::Uuid,
    pub number: String,
    pub version: i64,
    pub parent: Option<uuid::Uuid>,
    pub item_code: String,
    pub item_version: i32,
    pub department: String,
    pub applicant_identifier: String,
    pub applicant_account: Option<String>,
    pub hall: Option<String>,
    pub channel: Option<String>,
    pub state: &'static str,
    pub step: Option<i32>,
    pub submitted_at: i64,
    pub accepted_on: Option<String>,
    pub promised_due: Option<String>,
    pub statutory_due: Option<String>,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
    pub document: String,
}

pub(crate) struct ShipmentRow {
    pub case_id: uuid::Uuid,
    pub seq: i32,
    pub carrier: &'static str,
    pub tracking_number: String,
    pub applicant_identifier: String,
    pub status: &'static str,
    pub shipped_at: i64,
    pub updated_at: i64,
}

pub(crate) struct EventRow {
    pub case_id: uuid::Uuid,
    pub seq: i32,
    pub at: i64,
    pub kind: &'static str,
    pub actor: String,
    pub department: Option<String>,
    pub public: bool,
    pub document: String,
}

pub(crate) struct FactRow {
    pub case_id: uuid::Uuid,
    pub region: String,
    pub department: String,
    pub hall: String,
    pub item_code: String,
    pub fact: CaseFact,
}

pub(crate) struct LicenceRow {
    pub id: uuid::Uuid,
    pub identifier: String,
    pub type_key: String,
    pub holder_identifier: String,
    pub issuer: String,
    pub case_id: Option<uuid::Uuid>,
    pub version: i32,
    pub status: &'static str,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub issued_at: i64,
    pub document: String,
}

pub(crate) struct AuditRow {
    pub id: uuid::Uuid,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub department: Option<String>,
    pub detail: String,
}

pub(crate) struct RatingRow {
    pub rating: Rating,
}

pub(crate) struct TaskRow {
    pub task: Rectification,
    pub document: String,
}

pub(crate) struct TicketRow {
    pub ticket: Ticket,
    pub updated_at: i64,
    pub document: String,
}

/// The rollup contributions of a batch, keyed as the tables are.
#[derive(Default)]
pub(crate) struct Rollup {
    /// (month, department, hall, item) → (region, counters)
    pub monthly: BTreeMap<(String, String, String, String), (String, Counters)>,
    /// (day, department) → counters
    pub daily: BTreeMap<(String, String), Counters>,
    /// (month, department, days) → cases
    pub histogram: BTreeMap<(String, String, i32), i64>,
}

impl Rollup {
    /// Counts `counters` on `day` for department × hall × item, as the live path's `Slot` does.
    fn add(&mut self, regions: &Regions, day: Date, keys: (&str, &str, &str), counters: &Counters) {
        let (department, hall, item_code) = keys;
        let month = (
            Month::of(day).key(),
            department.to_owned(),
            hall.to_owned(),
            item_code.to_owned(),
        );
        self.monthly
            .entry(month)
            .or_insert_with(|| (regions.of(department, hall), Counters::default()))
            .1
            .add(counters);
        self.daily
            .entry((day.to_string(), department.to_owned()))
            .or_default()
            .add(counters);
    }
}

/// A batch ready to be written: every row encoded, the rollup contributions summed.
pub struct EncodedBatch {
    pub(crate) cases: Vec<CaseRow>,
    pub(crate) case_departments: Vec<(uuid::Uuid, String)>,
    pub(crate) shipments: Vec<ShipmentRow>,
    pub(crate) events: Vec<EventRow>,
    pub(crate) facts: Vec<FactRow>,
    pub(crate) licences: Vec<LicenceRow>,
    pub(crate) audit: Vec<AuditRow>,
    pub(crate) ratings: Vec<RatingRow>,
    pub(crate) tasks: Vec<TaskRow>,
    pub(crate) tickets: Vec<TicketRow>,
    pub(crate) ticket_departments: Vec<(uuid::Uuid, String)>,
    pub(crate) case_counters: BTreeMap<String, i64>,
    pub(crate) ticket_counters: BTreeMap<String, i64>,
    pub(crate) rollup: Rollup,
    pub counts: SeedCounts,
}

impl std::fmt::Debug for EncodedBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedBatch")
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

/// Room for the events of one write in the sequence numbers, as the live path numbers them
/// (`version × 256 + index`).
const EVENTS_PER_WRITE: i64 = 256;

fn json(value: &impl serde::Serialize) -> String {
    // Serialising these plain data types cannot fail (string keys, no non-finite floats).
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn date_text(date: Option<Date>) -> Option<String> {
    date.map(|d| d.to_string())
}

fn channel_text(case: &Case) -> Option<String> {
    serde_json::to_value(case.channel)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// The departments that countersign the case in its workflow (as the live path's
/// `write_co_departments` keeps them).
fn countersigners(case: &Case) -> std::collections::BTreeSet<String> {
    let mut countersigners = std::collections::BTreeSet::new();
    for step in &case.workflow.steps {
        if let StepKind::Countersign { departments, .. } = &step.kind {
            let listed = if departments.is_empty() {
                &case.co_departments
            } else {
                departments
            };
            countersigners.extend(
                listed
                    .iter()
                    .filter(|d| **d != case.department)
                    .map(|d| d.as_str().to_owned()),
            );
        }
    }
    countersigners
}

impl EncodedBatch {
    /// Encodes a batch. Cases without writes and tickets without versions are skipped.
    pub fn new(batch: &SeedBatch, regions: &Regions, calendar: &Calendar) -> EncodedBatch {
        let mut encoded = EncodedBatch {
            cases: Vec::with_capacity(batch.cases.len()),
            case_departments: Vec::new(),
            shipments: Vec::new(),
            events: Vec::new(),
            facts: Vec::with_capacity(batch.cases.len()),
            licences: Vec::new(),
            audit: Vec::new(),
            ratings: Vec::with_capacity(batch.ratings.len()),
            tasks: Vec::new(),
            tickets: Vec::with_capacity(batch.tickets.len()),
            ticket_departments: Vec::new(),
            case_counters: batch.case_counters.clone(),
            ticket_counters: batch.ticket_counters.clone(),
            rollup: Rollup::default(),
            counts: SeedCounts::default(),
        };
        for seed in &batch.cases {
            encoded.add_case(seed, regions, calendar);
        }
        for seed in &batch.ratings {
            encoded.add_rating(seed, regions);
        }
        for seed in &batch.tickets {
            encoded.add_ticket(seed, regions);
        }
        encoded.counts.rollup_rows = (encoded.rollup.monthly.len()
            + encoded.rollup.daily.len()
            + encoded.rollup.histogram.len()) as u64;
        encoded
    }

    fn add_case(&mut self, seed: &SeedCase, regions: &Regions, calendar: &Calendar) {
        let Some(last) = seed.writes.last().and_then(|w| w.case.as_ref()) else {
            return;
        };
        // The fact as the rollup folder derives it: from the case after the last write and
        // every event of its history.
        let mut history = Vec::new();
        for (index, write) in seed.writes.iter().enumerate() {
            let Some(case) = &write.case else { continue };
            history.extend(write.events.iter().cloned());
            let version = i64::try_from(index).unwrap_or(0) + 1;
            for (position, event) in write.events.iter().enumerate() {
                let seq = version
                    .saturating_mul(EVENTS_PER_WRITE)
                    .saturating_add(i64::try_from(position).unwrap_or(0));
                self.events.push(EventRow {
                    case_id: case.id,
                    seq: i32::try_from(seq).unwrap_or(i32::MAX),
                    at: to_micros(event.at),
                    kind: event.kind.name(),
                    actor: event.actor.as_str().to_owned(),
                    department: event.department.as_ref().map(|d| d.as_str().to_owned()),
                    public: crate::model::is_public(event),
                    document: json(event),
                });
            }
            for entry in &write.audit {
                self.audit.push(AuditRow {
                    id: entry.id,
                    at: to_micros(entry.at),
                    actor: entry.actor.clone(),
                    action: entry.action.clone(),
                    target: if entry.target.is_empty() {
                        case.number.clone()
                    } else {
                        entry.target.clone()
                    },
                    department: entry.department.as_ref().map(|d| d.as_str().to_owned()),
                    detail: entry.detail.clone(),
                });
            }
            if let Some(licence) = &write.licence {
                let issued_at = licence.history.first().map_or(0, |h| to_micros(h.at));
                self.licences.push(LicenceRow {
                    id: new_id(issued_at),
                    identifier: licence.identifier.as_str().to_owned(),
                    type_key: licence.type_key.as_str().to_owned(),
                    holder_identifier: licence.holder.identifier.clone(),
                    issuer: licence.issuer.as_str().to_owned(),
                    case_id: licence.case_id,
                    version: i32::from(licence.identifier.version()),
                    status: licence.status.code(),
                    valid_from: licence.valid_from.to_string(),
                    valid_until: date_text(licence.valid_until),
                    issued_at,
                    document: json(licence),
                });
            }
        }
        let case = last;
        let fact = CaseFact::derive(case, 0, &history, calendar);
        let department = case.department.as_str();
        let hall = case.hall.as_ref().map_or("", |h| h.as_str());
        let item_code = case.item_code.as_str();
        if let Some(day) = fact.submitted_on {
            self.rollup.add(
                regions,
                day,
                (department, hall, item_code),
                &Counters::of_submission(&fact),
            );
        }
        if let Some(day) = fact.decided_on {
            self.rollup.add(
                regions,
                day,
                (department, hall, item_code),
                &Counters::of_decision(&fact),
            );
            let days = i32::try_from(fact.working_days).unwrap_or(i32::MAX);
            *self
                .rollup
                .histogram
                .entry((Month::of(day).key(), department.to_owned(), days))
                .or_insert(0) += 1;
        }
        let updated_at = seed
            .writes
            .iter()
            .rev()
            .find_map(|w| w.events.last())
            .map_or(to_micros(case.submitted_at), |e| to_micros(e.at));
        self.cases.push(CaseRow {
            id: case.id,
            number: case.number.clone(),
            version: i64::try_from(case.version).unwrap_or(i64::MAX),
            parent: case.parent,
            item_code: item_code.to_owned(),
            item_version: i32::try_from(case.item_version).unwrap_or(i32::MAX),
            department: department.to_owned(),
            applicant_identifier: case.applicant.identifier.clone(),
            applicant_account: case
                .applicant
                .account
                .as_ref()
                .map(|a| a.as_str().to_owned()),
            hall: case.hall.as_ref().map(|h| h.as_str().to_owned()),
            channel: channel_text(case),
            state: case.state.name(),
            step: case
                .current_step()
                .and_then(|(index, _)| i32::try_from(index).ok()),
            submitted_at: to_micros(case.submitted_at),
            accepted_on: date_text(case.accepted_on),
            promised_due: date_text(case.promised_due),
            statutory_due: date_text(case.statutory_due),
            closed_at: case.closed_at.map(to_micros),
            updated_at,
            document: json(case),
        });
        for department in countersigners(case) {
            self.case_departments.push((case.id, department));
        }
        // Every posting, with the status its carrier last reported (as `write_shipment` leaves
        // them).
        for (seq, shipment) in (0_i32..).zip(&case.shipments) {
            let updated_at = shipment
                .events
                .last()
                .map_or(shipment.shipped_at, |e| e.recorded_at);
            self.shipments.push(ShipmentRow {
                case_id: case.id,
                seq,
                carrier: shipment.carrier.code(),
                tracking_number: shipment.tracking_number.as_str().to_owned(),
                applicant_identifier: case.applicant.identifier.clone(),
                status: shipment.status.code(),
                shipped_at: to_micros(shipment.shipped_at),
                updated_at: to_micros(updated_at),
            });
        }
        self.facts.push(FactRow {
            case_id: case.id,
            region: regions.of(department, hall),
            department: department.to_owned(),
            hall: hall.to_owned(),
            item_code: item_code.to_owned(),
            fact,
        });
        self.counts.cases += 1;
        self.counts.events = self.events.len() as u64;
        self.counts.audit = self.audit.len() as u64;
        self.counts.licences = self.licences.len() as u64;
    }

    fn add_rating(&mut self, seed: &SeedRating, regions: &Regions) {
        let rating = &seed.rating;
        let hall = rating.hall.clone().unwrap_or_default();
        let item_code = rating.item_code.clone().unwrap_or_default();
        self.rollup.add(
            regions,
            shanghai_date(rating.at),
            (rating.department.as_str(), &hall, &item_code),
            &Counters::of_rating(rating.level),
        );
        if let Some(task) = seed.task.last() {
            // A task counts where its rating did, on the day it was opened, with what its
            // latest version contributes.
            self.rollup.add(
                regions,
                shanghai_date(task.opened_at),
                (task.department.as_str(), &hall, &item_code),
                &Counters::of_rectification(task),
            );
            self.tasks.push(TaskRow {
                document: json(task),
                task: task.clone(),
            });
            self.counts.rectifications += 1;
        }
        self.ratings.push(RatingRow {
            rating: rating.clone(),
        });
        self.counts.ratings += 1;
    }

    fn add_ticket(&mut self, seed: &SeedTicket, regions: &Regions) {
        let Some(ticket) = seed.versions.last() else {
            return;
        };
        let department = ticket.department.as_ref().map_or("", |d| d.as_str());
        self.rollup.add(
            regions,
            shanghai_date(ticket.received_at),
            (department, "", ""),
            &Counters::of_ticket(ticket),
        );
        let mut departments: Vec<String> = ticket
            .co_handlers
            .iter()
            .map(|d| d.as_str().to_owned())
            .collect();
        if let Some(lead) = &ticket.department {
            departments.push(lead.as_str().to_owned());
        }
        departments.sort();
        departments.dedup();
        for department in departments {
            self.ticket_departments.push((ticket.id, department));
        }
        let updated_at = ticket
            .events
            .last()
            .map_or(to_micros(ticket.received_at), |e| to_micros(e.at));
        self.tickets.push(TicketRow {
            document: json(ticket),
            ticket: ticket.clone(),
            updated_at,
        });
        self.counts.tickets += 1;
    }
}

/// Writes an encoded batch in one transaction (on SQLite through the one writer).
pub async fn write(store: &Store, batch: EncodedBatch) -> Result<(), StoreError> {
    match &store.backend {
        Backend::Sqlite(sqlite) => sqlite.seed_write(batch).await,
        Backend::Postgres(postgres) => postgres.seed_write(batch).await,
    }
}

/// Whether the store already holds cases, ratings or tickets (a seed needs an empty history).
pub async fn has_history(store: &Store) -> Result<bool, StoreError> {
    match &store.backend {
        Backend::Sqlite(sqlite) => sqlite.seed_has_history().await,
        Backend::Postgres(postgres) => postgres.seed_has_history().await,
    }
}

/// Row counts of the tables a seed fills, by table name (for reports and tests).
pub async fn table_counts(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    match &store.backend {
        Backend::Sqlite(sqlite) => sqlite.seed_table_counts().await,
        Backend::Postgres(postgres) => postgres.seed_table_counts().await,
    }
}

/// The rollup tables' non-zero rows as text, sorted (for comparing two stores in tests: the
/// live path may leave rows whose counters went back to zero, which no figure sees).
pub async fn rollup_rows(store: &Store) -> Result<Vec<String>, StoreError> {
    match &store.backend {
        Backend::Sqlite(sqlite) => sqlite.seed_rollup_rows().await,
        Backend::Postgres(postgres) => postgres.seed_rollup_rows().await,
    }
}

/// Analyses the tables after a bulk load so that the query planner knows their sizes.
pub async fn analyse(store: &Store) -> Result<(), StoreError> {
    match &store.backend {
        Backend::Sqlite(sqlite) => sqlite.seed_analyse().await,
        Backend::Postgres(postgres) => postgres.seed_analyse().await,
    }
}
