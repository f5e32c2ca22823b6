//! What the agent port ([`crate::ports::AgentStore`]) takes: filters of mandates and home visits.

use tongban_domain::keys::{AccountName, HallKey};

/// Which mandates to list (every condition given must hold), newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MandateFilter {
    /// The agent's mandates.
    pub agent: Option<AccountName>,
    /// The mandates an applicant (ID number or credit code) gave.
    pub principal: Option<String>,
    pub limit: u32,
}

/// Which home visits to list (every condition given must hold). Ordered by the time planned
/// (unplanned last), then newest request first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HomeVisitFilter {
    pub hall: Option<HallKey>,
    pub agent: Option<AccountName>,
    /// The person visited (ID number).
    pub person: Option<String>,
    /// Only these states (`requested`, `scheduled`, `done`, `cancelled`); all when empty.
    pub states: Vec<String>,
    pub limit: u32,
}
