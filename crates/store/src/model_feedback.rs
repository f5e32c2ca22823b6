//! What the feedback, hotline and stats ports take and return.

use jiff::civil::Date;
use serde::Serialize;
use tongban_domain::feedback::RectificationState;
use tongban_domain::hotline::TicketState;
use tongban_domain::keys::DepartmentKey;
use tongban_domain::stats::{Counters, Dimension, MonthRange};

/// Which rectification tasks to list.
#[derive(Debug, Clone, Default)]
pub struct RectificationFilter {
    /// Only this office's tasks (none: every office, for supervisors).
    pub department: Option<DepartmentKey>,
    pub states: Vec<RectificationState>,
    /// Only open or appealed tasks past their due date on this day.
    pub overdue_on: Option<Date>,
    pub limit: u32,
}

/// Which tickets to list.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    /// Tickets this department leads or co-handles.
    pub department: Option<DepartmentKey>,
    pub states: Vec<TicketState>,
    /// Tickets a citizen filed from their account.
    pub caller_account: Option<String>,
    /// Only tickets still with a department and past their deadline on this day.
    pub overdue_on: Option<Date>,
    pub limit: u32,
}

/// One ticket in a list (no caller details: lists are seen by departments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketSummary {
    pub id: uuid::Uuid,
    pub number: String,
    pub kind: String,
    pub category: String,
    pub area: String,
    pub urgency: String,
    pub state: String,
    pub department: Option<String>,
    pub due_on: Option<Date>,
    pub received_at: jiff::Timestamp,
}

/// A figures query: sums per group of `dimension` over whole months.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    pub range: MonthRange,
    pub dimension: Dimension,
    /// Only rows of this department (drill-down).
    pub department: Option<DepartmentKey>,
}

/// Counters summed for one group (a region, department, hall, item, window or month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsRow {
    pub key: String,
    pub counters: Counters,
}
