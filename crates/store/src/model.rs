//! What the store returns: summaries for lists, records for single entries, filters and pages.

use jiff::Timestamp;
use serde::Serialize;
use tongban_domain::catalog::codes::{CaseType, ExerciseLevel, ItemType, ServiceObject};
use tongban_domain::catalog::{
    BundleDefinition, BundleKind, DataElement, ItemDefinition, LicenceType, Theme, TimeLimit,
    VersionStatus,
};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::{BundleCode, BundleId, DepartmentKey, ItemId, ThemeKey};

/// Filters of the published item list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub department: Option<DepartmentKey>,
    pub item_type: Option<ItemType>,
    pub theme: Option<ThemeKey>,
    pub service_object: Option<ServiceObject>,
    pub level: Option<ExerciseLevel>,
    pub online: Option<bool>,
    /// A fragment of the name.
    pub name_contains: Option<String>,
    pub page: PageRequest,
}

/// 1-based page number and page size (1..=200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: 20,
        }
    }
}

impl PageRequest {
    pub const MAX_PER_PAGE: u32 = 200;

    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// One published item in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ItemSummary {
    pub id: ItemId,
    pub code: ImplementationCode,
    pub name: String,
    pub item_type: ItemType,
    pub level: ExerciseLevel,
    pub department: DepartmentKey,
    pub case_type: CaseType,
    pub visits: u8,
    pub online_capable: bool,
    pub promised_limit: TimeLimit,
    pub statutory_limit: TimeLimit,
    pub themes: Vec<ThemeKey>,
    pub version: u32,
}

/// Where a version stands and when.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub version: u32,
    pub status: VersionStatus,
    pub created_at: Timestamp,
    pub published_at: Option<Timestamp>,
}

/// One version of an item with its identity.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRecord {
    pub id: ItemId,
    pub version: VersionInfo,
    pub definition: ItemDefinition,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleSummary {
    pub id: BundleId,
    pub code: BundleCode,
    pub name: String,
    pub kind: BundleKind,
    pub lead_department: DepartmentKey,
    pub members: u32,
    pub version: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleRecord {
    pub id: BundleId,
    pub version: VersionInfo,
    pub definition: BundleDefinition,
}

/// The shared vocabulary, small enough to hold in memory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Vocabulary {
    pub themes: Vec<Theme>,
    pub data_elements: Vec<DataElement>,
    pub licence_types: Vec<LicenceType>,
    pub workflows: Vec<tongban_domain::cases::Workflow>,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub items_created: u32,
    pub items_updated: u32,
    pub items_unchanged: u32,
    pub bundles_created: u32,
    pub bundles_updated: u32,
    pub bundles_unchanged: u32,
}

pub use crate::model_accounts::*;
pub use crate::model_agents::*;
pub use crate::model_bundles::*;
pub use crate::model_cases::*;
pub use crate::model_feedback::*;
pub use crate::model_halls::*;
pub use crate::model_stats::*;
pub use crate::model_webhooks::*;
