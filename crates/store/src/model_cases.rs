//! What the case port takes and returns.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tongban_domain::cases::verified::{Revocation, VerifiedDocument};
use tongban_domain::cases::{Case, CaseEvent};
use tongban_domain::keys::{DepartmentKey, HallKey, MaterialCode};
use tongban_domain::licences::Licence;

/// A change to persist in one transaction: the case, the events it appends, the outbox messages
/// announcing them, a licence it issued, the audit and data-access entries it caused, and the
/// verified documents its check created or its correction revoked.
#[derive(Debug, Clone, Default)]
pub struct CaseWrite {
    pub case: Option<Case>,
    pub events: Vec<CaseEvent>,
    pub outbox: Vec<OutboxMessage>,
    pub licence: Option<Licence>,
    pub audit: Vec<AuditEntry>,
    pub access: Vec<DataAccess>,
    /// Copies a clerk checked (pre-review, acceptance): stored, or replacing the document of the
    /// same material checked for the same case before.
    pub documents: Vec<VerifiedDocument>,
    /// Materials of this case found wrong (a correction asks for them): the documents checked
    /// for this case are revoked.
    pub revoked: Vec<(MaterialCode, Revocation)>,
}

/// A message for department systems, delivered by the webhook dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: uuid::Uuid,
    /// e.g. `case.accepted`.
    pub topic: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
}

/// A staff action, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    /// What was acted on, e.g. a case number.
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    pub detail: String,
}

/// A read of a person's data by someone else (数据访问记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataAccess {
    pub id: uuid::Uuid,
    pub at: Timestamp,
    /// Whose data: an ID number or credit code.
    pub subject: String,
    pub actor: String,
    pub actor_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<uuid::Uuid>,
    pub purpose: String,
    pub what: String,
}

/// Which case: its id or its 办件编号.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseKey {
    Id(uuid::Uuid),
    Number(String),
}

/// A case with its stored history and how many trips it counts: what a case page shows and
/// what an action starts from, read in one statement.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub case: tongban_domain::cases::Case,
    pub events: Vec<StoredEvent>,
    pub trips: u32,
}

impl CaseRecord {
    /// A case just stored with `events` and no history before them.
    pub fn new_case(
        case: tongban_domain::cases::Case,
        events: &[tongban_domain::cases::CaseEvent],
        trips: u32,
    ) -> CaseRecord {
        CaseRecord {
            case,
            events: Vec::new(),
            trips: 0,
        }
        .after_write(None, events, trips)
    }

    /// This record after a committed write of `case` (None: the case did not change) with
    /// `events`, when the case counts `trips`: what reading it again would return.
    pub fn after_write(
        mut self,
        case: Option<tongban_domain::cases::Case>,
        events: &[tongban_domain::cases::CaseEvent],
        trips: u32,
    ) -> CaseRecord {
        if let Some(case) = case {
            self.case = case;
        }
        for event in events {
            let seq = u32::try_from(self.events.len() + 1).unwrap_or(u32::MAX);
            self.events.push(StoredEvent {
                seq,
                public: is_public(event),
                event: event.clone(),
            });
        }
        self.trips = trips;
        self
    }
}

/// Whether the applicant's timeline shows an event (stored with it, to filter on).
pub fn is_public(event: &tongban_domain::cases::CaseEvent) -> bool {
    event.kind.public_text().is_some()
}

/// An event as stored, with its position in the case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    pub seq: u32,
    pub public: bool,
    pub event: CaseEvent,
}

/// Which cases a reader may see. Built from the reader's roles by the caller; the store turns it
/// into one SQL predicate, so long lists need no per-row checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseScope {
    /// Sees every case (administrators, supervisors).
    pub everything: bool,
    pub departments: Vec<DepartmentKey>,
    pub halls: Vec<HallKey>,
    /// Applications that no hall has taken yet (online, not accepted): any window may (通办).
    pub unassigned: bool,
    /// A citizen or enterprise sees its own cases.
    pub applicant: Option<String>,
}

impl CaseScope {
    pub fn is_empty(&self) -> bool {
        !self.everything
            && self.departments.is_empty()
            && self.halls.is_empty()
            && !self.unassigned
            && self.applicant.is_none()
    }
}

/// Order of a case list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Least time left first (the approver's inbox); cases without a due date last.
    DueFirst,
}

/// Filters of the case list; keyset pagination with an opaque cursor.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub scope: CaseScope,
    pub states: Vec<String>,
    pub department: Option<DepartmentKey>,
    pub hall: Option<HallKey>,
    pub item_code: Option<String>,
    pub applicant: Option<String>,
    /// Only cases past their promised due date and still being handled (clock running, not yet
    /// decided), as of this date.
    pub overdue_on: Option<Date>,
    pub order: CaseOrder,
    pub limit: u32,
    pub after: Option<String>,
}

/// One case in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    pub id: uuid::Uuid,
    pub number: String,
    pub version: u64,
    pub item_code: String,
    pub item_name: String,
    pub department: DepartmentKey,
    pub applicant_name: String,
    pub state: String,
    pub step: Option<String>,
    pub submitted_at: Timestamp,
    pub promised_due: Option<Date>,
    pub statutory_due: Option<Date>,
    pub hall: Option<HallKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CasePage {
    pub cases: Vec<CaseSummary>,
    /// Pass as `after` for the next page; none at the end.
    pub next: Option<String>,
}

/// A posting of a case's result in the tracking index (see [`crate::ports::CaseStore::shipped_cases`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShippedCase {
    pub case_id: uuid::Uuid,
    /// Its position among the case's postings, from 0.
    pub seq: u32,
    /// The applicant's ID number or credit code.
    pub applicant: String,
    /// The posting's status when it was last written (`shipped`, `picked_up`, …).
    pub status: String,
}
