//! What the bundle-application port takes and returns.

use tongban_domain::cases::bundle_case::BundleCase;

use crate::model_cases::{CaseWrite, DataAccess, OutboxMessage};

/// A change to a bundle application, persisted in one transaction: the parent, the child cases
/// it opens now (each with its events and messages), its own outbox messages and log entries.
#[derive(Debug, Clone)]
pub struct BundleWrite {
    pub parent: BundleCase,
    /// New child cases; each `case.parent` is the parent's id. The store numbers them and
    /// writes their numbers into the parent's children.
    pub children: Vec<CaseWrite>,
    pub outbox: Vec<OutboxMessage>,
    pub access: Vec<DataAccess>,
}
