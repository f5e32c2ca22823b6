//! What the stats port takes and returns beside the rollup rows of [`crate::model::StatsRow`]:
//! the queue sums of the hall figures and the catalog as the catalog figures read it.

use std::collections::BTreeMap;

use serde::Serialize;
use tongban_domain::catalog::{BundleDefinition, ItemDefinition};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::stats::queue::QueueCounters;

/// How queue sums are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueGroup {
    /// Key: the hall.
    Hall,
    /// Key: the hall's region.
    Region,
    /// Key: the window that served (served tickets only; waits are a hall's, not a window's).
    Window,
    /// Key: `YYYY-MM`.
    Month,
    /// One row with the key `""`.
    Total,
}

/// Queue sums of one group, with its histogram of waits `(whole minutes, tickets)`, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueRow {
    pub key: String,
    pub counters: QueueCounters,
    pub wait_histogram: Vec<(i64, i64)>,
}

/// Every published bundle with the published definitions of the member items it names.
#[derive(Debug, Clone, Default)]
pub struct BundleCatalog {
    /// By bundle code.
    pub bundles: Vec<BundleDefinition>,
    pub items: BTreeMap<ImplementationCode, ItemDefinition>,
}
