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
