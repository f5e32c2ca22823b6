// Portable SQL for the catalog port, compiled once per engine.
//
// This file is `include!`d by `sqlite.rs` and `postgres.rs`, each of which defines `Db` (the
// sqlx database type) and `Adapter` (its store type with `write` and `read` pools) before the
// include. The SQL here is the subset both engines run unchanged: `$n` placeholders, `ON
// CONFLICT … DO UPDATE`, partial unique indexes. Where the engines differ, the adapter module
// supplies the piece. Keeping one text means the conformance suite tests one logic twice, not
// two logics that drift apart.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use tongban_domain::catalog::{
    BundleDefinition, CatalogDocument, DataElement, ItemDefinition, LicenceType, Theme,
    VersionStatus, codes::CodeSet,
};
use tongban_domain::ids::{ImplementationCode, RegionCode};
use tongban_domain::keys::{BundleCode, BundleId, ItemId};
use tongban_domain::org::{
    Department, Enterprise, Hall, Organisation, Person, Region, SkillGroup, StaffMember, Window,
};

use crate::error::StoreError;
use crate::files::{DataSet, EXPORT_FORMAT};
use crate::model::{
    BundleRecord, BundleSummary, ImportReport, ItemFilter, ItemRecord, ItemSummary, Page,
    VersionInfo, Vocabulary,
};
use crate::ports::CatalogStore;
use crate::{from_micros, new_id, to_micros};

type Conn = <Db as sqlx::Database>::Connection;

fn version_info(row: &<Db as sqlx::Database>::Row) -> Result<VersionInfo, StoreError> {
    let status: String = row.try_get("status")?;
    let version: i32 = row.try_get("version")?;
    let created_at: i64 = row.try_get("created_at")?;
    let published_at: Option<i64> = row.try_get("published_at")?;
    Ok(VersionInfo {
        version: u32::try_from(version).map_err(StoreError::corrupt)?,
        status: VersionStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("unknown version status {status}")))?,
        created_at: from_micros(created_at)?,
        published_at: published_at.map(from_micros).transpose()?,
    })
}

fn summary_of(id: uuid::Uuid, version: u32, definition: ItemDefinition) -> ItemSummary {
    ItemSummary {
        id: ItemId::from_uuid(id),
        online_capable: definition.online_capable(),
        code: definition.implementation_code,
        name: definition.name,
        item_type: definition.item_type,
        level: definition.level,
        department: definition.department,
        case_type: definition.case_type,
        visits: definition.visits,
        promised_limit: definition.promised_limit,
        statutory_limit: definition.statutory_limit,
        themes: definition.themes,
        version,
    }
}

fn push_item_filters(query: &mut QueryBuilder<Db>, filter: &ItemFilter) {
    if let Some(department) = &filter.department {
        query
            .push(" AND v.department = ")
            .push_bind(department.to_string());
    }
    if let Some(item_type) = &filter.item_type {
        query
            .push(" AND v.item_type = ")
            .push_bind(item_type.code());
    }
    if let Some(level) = &filter.level {
        query.push(" AND v.level = ").push_bind(level.code());
    }
    if let Some(online) = filter.online {
        query.push(" AND v.online_capable = ").push_bind(online);
    }
    if let Some(theme) = &filter.theme {
        query
            .push(
                " AND EXISTS (SELECT 1 FROM item_version_themes t \
                 WHERE t.item_id = v.item_id AND t.version = v.version AND t.theme = ",
            )
            .push_bind(theme.to_string())
            .push(")");
    }
    if let Some(object) = &filter.service_object {
        query
            .push(
                " AND EXISTS (SELECT 1 FROM item_version_objects o \
                 WHERE o.item_id = v.item_id AND o.version = v.version AND o.service_object = ",
            )
            .push_bind(object.code())
            .push(")");
    }
    if let Some(fragment) = &filter.name_contains {
        let escaped = fragment
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query
            .push(" AND v.name LIKE ")
            .push_bind(format!("%{escaped}%"))
            .push(" ESCAPE '\\'");
    }
}

/// Items and bundles share one versioning scheme (identity row + version rows); this names the
/// tables of each, as static SQL, so one function publishes both.
#[derive(Debug, Clone, Copy)]
enum Versioned {
    Item,
    Bundle,
}

impl Versioned {
    fn noun(self) -> &'static str {
        match self {
            Versioned::Item => "item",
            Versioned::Bundle => "bundle",
        }
    }

    fn find_id(self) -> &'static str {
        match self {
            Versioned::Item => "SELECT id FROM items WHERE implementation_code = $1",
            Versioned::Bundle => "SELECT id FROM bundles WHERE code = $1",
        }
    }

    fn find_draft(self) -> &'static str {
        match self {
            Versioned::Item => {
                "SELECT version FROM item_versions WHERE item_id = $1 AND status = 'draft'"
            }
            Versioned::Bundle => {
                "SELECT version FROM bundle_versions WHERE bundle_id = $1 AND status = 'draft'"
            }
        }
    }

    fn supersede(self) -> &'static str {
        match self {
            Versioned::Item => {
                "UPDATE item_versions SET status = 'superseded' WHERE item_id = $1 AND status = 'published'"
            }
            Versioned::Bundle => {
                "UPDATE bundle_versions SET status = 'superseded' WHERE bundle_id = $1 AND status = 'published'"
            }
        }
    }

    fn publish(self) -> &'static str {
        match self {
            Versioned::Item => {
                "UPDATE item_versions SET status = 'published', published_at = $1 \
                 WHERE item_id = $2 AND version = $3 RETURNING version, status, created_at, published_at"
            }
            Versioned::Bundle => {
                "UPDATE bundle_versions SET status = 'published', published_at = $1 \
                 WHERE bundle_id = $2 AND version = $3 RETURNING version, status, created_at, published_at"
            }
        }
    }

    fn point_to_published(self) -> &'static str {
        match self {
            Versioned::Item => "UPDATE items SET published_version = $1 WHERE id = $2",
            Versioned::Bundle => "UPDATE bundles SET published_version = $1 WHERE id = $2",
        }
    }
}

/// The identity of an item (by implementation code) or a bundle (by code).
async fn identity(
    conn: &mut Conn,
    kind: Versioned,
    code: &str,
) -> Result<Option<uuid::Uuid>, StoreError> {
    let row = sqlx::query(kind.find_id())
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("id")?),
        None => None,
    })
}

/// Publishes the draft of an item or bundle: the published version becomes superseded first
/// (the partial unique index allows one published version), then the draft is published and the
/// identity row points at it.
async fn publish_draft(
    conn: &mut Conn,
    kind: Versioned,
    id: uuid::Uuid,
    code: &str,
    at: i64,
) -> Result<VersionInfo, StoreError> {
    let draft: Option<i32> = sqlx::query_scalar(kind.find_draft())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(version) = draft else {
        return Err(StoreError::NotFound {
            what: format!("a draft of {} {code}", kind.noun()),
        });
    };
    sqlx::query(kind.supersede())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(kind.publish())
        .bind(at)
        .bind(id)
        .bind(version)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(kind.point_to_published())
        .bind(version)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    version_info(&row)
}

/// Writes a draft version of an item; returns (item id, version).
async fn write_item_draft(
    conn: &mut Conn,
    definition: &ItemDefinition,
    at: i64,
) -> Result<(uuid::Uuid, i32), StoreError> {
    let code = definition.implementation_code.as_str();
    let id = match identity(conn, Versioned::Item, code).await? {
        Some(id) => id,
        None => {
            let id = new_id(at);
            sqlx::query(
                "INSERT INTO items (id, implementation_code, basic_code, published_version, created_at) \
                 VALUES ($1, $2, $3, NULL, $4)",
            )
            .bind(id)
            .bind(code)
            .bind(definition.basic_code.as_str())
            .bind(at)
            .execute(&mut *conn)
            .await?;
            id
        }
    };
    let draft: Option<i32> = sqlx::query_scalar(
        "SELECT version FROM item_versions WHERE item_id = $1 AND status = 'draft'",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let version = match draft {
        Some(version) => {
            sqlx::query("DELETE FROM item_version_themes WHERE item_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM item_version_objects WHERE item_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM item_versions WHERE item_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .execute(&mut *conn)
                .await?;
            version
        }
        None => {
            let latest: Option<i32> =
                sqlx::query_scalar("SELECT MAX(version) FROM item_versions WHERE item_id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
            latest.unwrap_or(0) + 1
        }
    };
    sqlx::query(
        "INSERT INTO item_versions (item_id, version, status, name, item_type, level, department, \
         case_type, visits, online_capable, definition, created_at, published_at) \
         VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)",
    )
    .bind(id)
    .bind(version)
    .bind(&definition.name)
    .bind(definition.item_type.code())
    .bind(definition.level.code())
    .bind(definition.department.as_str())
    .bind(definition.case_type.code())
    .bind(i32::from(definition.visits))
    .bind(definition.online_capable())
    .bind(Json(definition))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    for theme in &definition.themes {
        sqlx::query(
            "INSERT INTO item_version_themes (item_id, version, theme) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(version)
        .bind(theme.as_str())
        .execute(&mut *conn)
        .await?;
    }
    for object in &definition.service_objects {
        sqlx::query(
            "INSERT INTO item_version_objects (item_id, version, service_object) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(version)
        .bind(object.code())
        .execute(&mut *conn)
        .await?;
    }
    Ok((id, version))
}

async fn write_bundle_draft(
    conn: &mut Conn,
    definition: &BundleDefinition,
    at: i64,
) -> Result<(uuid::Uuid, i32), StoreError> {
    let code = definition.code.as_str();
    let id = match identity(conn, Versioned::Bundle, code).await? {
        Some(id) => id,
        None => {
            let id = new_id(at);
            sqlx::query(
                "INSERT INTO bundles (id, code, published_version, created_at) VALUES ($1, $2, NULL, $3)",
            )
            .bind(id)
            .bind(code)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            id
        }
    };
    let draft: Option<i32> = sqlx::query_scalar(
        "SELECT version FROM bundle_versions WHERE bundle_id = $1 AND status = 'draft'",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let version = match draft {
        Some(version) => {
            sqlx::query("DELETE FROM bundle_version_members WHERE bundle_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM bundle_versions WHERE bundle_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .execute(&mut *conn)
                .await?;
            version
        }
        None => {
            let latest: Option<i32> =
                sqlx::query_scalar("SELECT MAX(version) FROM bundle_versions WHERE bundle_id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
            latest.unwrap_or(0) + 1
        }
    };
    let kind = match definition.kind {
        tongban_domain::catalog::BundleKind::OneThing => "one_thing",
        tongban_domain::catalog::BundleKind::OneClass => "one_class",
    };
    sqlx::query(
        "INSERT INTO bundle_versions (bundle_id, version, status, name, kind, lead_department, \
         definition, created_at, published_at) VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, NULL)",
    )
    .bind(id)
    .bind(version)
    .bind(&definition.name)
    .bind(kind)
    .bind(definition.lead_department.as_str())
    .bind(Json(definition))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    for member in &definition.members {
        sqlx::query(
            "INSERT INTO bundle_version_members (bundle_id, version, item_code) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(version)
        .bind(member.item.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok((id, version))
}

async fn write_organisation(
    conn: &mut Conn,
    org: &Organisation,
    at: i64,
) -> Result<(), StoreError> {
    for region in &org.regions {
        sqlx::query(
            "INSERT INTO regions (code, name, parent) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent",
        )
        .bind(region.code.as_str())
        .bind(&region.name)
        .bind(region.parent.as_ref().map(RegionCode::as_str))
        .execute(&mut *conn)
        .await?;
    }
    for department in &org.departments {
        sqlx::query(
            "INSERT INTO departments (key, name, sector, credit_code, region, phone) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE SET name = excluded.name, \
             sector = excluded.sector, credit_code = excluded.credit_code, region = excluded.region, \
             phone = excluded.phone",
        )
        .bind(department.key.as_str())
        .bind(&department.name)
        .bind(&department.sector)
        .bind(department.credit_code.as_str())
        .bind(department.region.as_str())
        .bind(&department.phone)
        .execute(&mut *conn)
        .await?;
    }
    for hall in &org.halls {
        let level = serde_json::to_value(hall.level).map_err(StoreError::corrupt)?;
        sqlx::query(
            "INSERT INTO halls (key, name, level, region, definition) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, level = excluded.level, \
             region = excluded.region, definition = excluded.definition",
        )
        .bind(hall.key.as_str())
        .bind(&hall.name)
        .bind(level.as_str().unwrap_or_default())
        .bind(hall.region.as_str())
        .bind(Json(hall))
        .execute(&mut *conn)
        .await?;
    }
    for group in &org.skill_groups {
        sqlx::query(
            "INSERT INTO skill_groups (key, name, definition) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, definition = excluded.definition",
        )
        .bind(group.key.as_str())
        .bind(&group.name)
        .bind(Json(group))
        .execute(&mut *conn)
        .await?;
    }
    for window in &org.windows {
        let kind = serde_json::to_value(window.kind).map_err(StoreError::corrupt)?;
        sqlx::query(
            "INSERT INTO windows (key, hall, number, kind, definition) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key) DO UPDATE SET hall = excluded.hall, number = excluded.number, \
             kind = excluded.kind, definition = excluded.definition",
        )
        .bind(window.key.as_str())
        .bind(window.hall.as_str())
        .bind(&window.number)
        .bind(kind.as_str().unwrap_or_default())
        .bind(Json(window))
        .execute(&mut *conn)
        .await?;
    }
    for member in &org.staff {
        sqlx::query(
            "INSERT INTO staff (account, name) VALUES ($1, $2) \
             ON CONFLICT (account) DO UPDATE SET name = excluded.name",
        )
        .bind(member.account.as_str())
        .bind(&member.name)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM staff_roles WHERE account = $1")
            .bind(member.account.as_str())
            .execute(&mut *conn)
            .await?;
        for (position, assignment) in member.roles.iter().enumerate() {
            let role = serde_json::to_value(assignment.role).map_err(StoreError::corrupt)?;
            sqlx::query(
                "INSERT INTO staff_roles (id, account, position, role, department, hall, region) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id(at))
            .bind(member.account.as_str())
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .bind(role.as_str().unwrap_or_default())
            .bind(assignment.department.as_ref().map(|d| d.as_str()))
            .bind(assignment.hall.as_ref().map(|h| h.as_str()))
            .bind(assignment.region.as_ref().map(RegionCode::as_str))
            .execute(&mut *conn)
            .await?;
        }
    }
    for person in &org.persons {
        write_party(
            conn,
            "person",
            person.account.as_ref().map(|a| a.as_str()),
            person.id_number.as_str(),
            &person.name,
            &Json(person),
            at,
        )
        .await?;
    }
    for enterprise in &org.enterprises {
        write_party(
            conn,
            "enterprise",
            enterprise.account.as_ref().map(|a| a.as_str()),
            enterprise.credit_code.as_str(),
            &enterprise.name,
            &Json(enterprise),
            at,
        )
        .await?;
    }
    Ok(())
}

async fn write_party<T: serde::Serialize + Sync>(
    conn: &mut Conn,
    kind: &str,
    account: Option<&str>,
    identifier: &str,
    name: &str,
    definition: &Json<&T>,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO parties (id, kind, account, identifier, name, definition) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (identifier) DO UPDATE SET kind = excluded.kind, account = excluded.account, \
         name = excluded.name, definition = excluded.definition",
    )
    .bind(new_id(at))
    .bind(kind)
    .bind(account)
    .bind(identifier)
    .bind(name)
    .bind(definition)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn write_vocabulary(conn: &mut Conn, catalog: &CatalogDocument) -> Result<(), StoreError> {
    for theme in &catalog.themes {
        let audience = serde_json::to_value(theme.audience).map_err(StoreError::corrupt)?;
        sqlx::query(
            "INSERT INTO themes (key, name, audience, sort_order, definition) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, audience = excluded.audience, \
             sort_order = excluded.sort_order, definition = excluded.definition",
        )
        .bind(theme.key.as_str())
        .bind(&theme.name)
        .bind(audience.as_str().unwrap_or_default())
        .bind(i32::try_from(theme.order).unwrap_or(i32::MAX))
        .bind(Json(theme))
        .execute(&mut *conn)
        .await?;
    }
    for element in &catalog.data_elements {
        sqlx::query(
            "INSERT INTO data_elements (code, name, definition) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, definition = excluded.definition",
        )
        .bind(element.code.as_str())
        .bind(&element.name)
        .bind(Json(element))
        .execute(&mut *conn)
        .await?;
    }
    for workflow in &catalog.workflows {
        sqlx::query(
            "INSERT INTO workflows (key, name, definition) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, definition = excluded.definition",
        )
        .bind(workflow.key.as_str())
        .bind(&workflow.name)
        .bind(Json(workflow))
        .execute(&mut *conn)
        .await?;
    }
    for licence_type in &catalog.licence_types {
        sqlx::query(
            "INSERT INTO licence_types (key, name, type_code, definition) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, type_code = excluded.type_code, \
             definition = excluded.definition",
        )
        .bind(licence_type.key.as_str())
        .bind(&licence_type.name)
        .bind(&licence_type.type_code)
        .bind(Json(licence_type))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Decodes every `definition` column of a query into `T`.
async fn definitions<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
    pool: &sqlx::Pool<Db>,
    sql: &'static str,
) -> Result<Vec<T>, StoreError> {
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Json(value): Json<T> = row.try_get("definition")?;
        out.push(value);
    }
    Ok(out)
}

impl Adapter {
    async fn published_items(&self) -> Result<BTreeMap<String, ItemDefinition>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.definition FROM items i JOIN item_versions v \
             ON v.item_id = i.id AND v.status = 'published'",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = BTreeMap::new();
        for row in rows {
            let Json(definition): Json<ItemDefinition> = row.try_get("definition")?;
            out.insert(definition.implementation_code.to_string(), definition);
        }
        Ok(out)
    }

    async fn published_bundles(&self) -> Result<BTreeMap<String, BundleDefinition>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.definition FROM bundles b JOIN bundle_versions v \
             ON v.bundle_id = b.id AND v.status = 'published'",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = BTreeMap::new();
        for row in rows {
            let Json(definition): Json<BundleDefinition> = row.try_get("definition")?;
            out.insert(definition.code.to_string(), definition);
        }
        Ok(out)
    }

    async fn bundle_summaries(
        &self,
        member: Option<&str>,
    ) -> Result<Vec<BundleSummary>, StoreError> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT b.id, v.version, v.definition FROM bundles b JOIN bundle_versions v \
             ON v.bundle_id = b.id AND v.status = 'published'",
        );
        if let Some(code) = member {
            query
                .push(
                    " WHERE EXISTS (SELECT 1 FROM bundle_version_members m WHERE m.bundle_id = v.bundle_id \
                     AND m.version = v.version AND m.item_code = ",
                )
                .push_bind(code.to_owned())
                .push(")");
        }
        query.push(" ORDER BY b.code");
        let rows = query.build().fetch_all(&self.read).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: uuid::Uuid = row.try_get("id")?;
            let version: i32 = row.try_get("version")?;
            let Json(definition): Json<BundleDefinition> = row.try_get("definition")?;
            out.push(BundleSummary {
                id: BundleId::from_uuid(id),
                members: u32::try_from(definition.members.len()).unwrap_or(u32::MAX),
                code: definition.code,
                name: definition.name,
                kind: definition.kind,
                lead_department: definition.lead_department,
                version: u32::try_from(version).map_err(StoreError::corrupt)?,
            });
        }
        Ok(out)
    }

    async fn item_record(
        &self,
        code: &ImplementationCode,
        version: Option<u32>,
    ) -> Result<Option<ItemRecord>, StoreError> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT i.id, v.version, v.status, v.created_at, v.published_at, v.definition \
             FROM items i JOIN item_versions v ON v.item_id = i.id WHERE i.implementation_code = ",
        );
        query.push_bind(code.to_string());
        match version {
            Some(version) => {
                query
                    .push(" AND v.version = ")
                    .push_bind(i32::try_from(version).unwrap_or(i32::MAX));
            }
            None => {
                query.push(" AND v.status = 'published'");
            }
        }
        let Some(row) = query.build().fetch_optional(&self.read).await? else {
            return Ok(None);
        };
        let id: uuid::Uuid = row.try_get("id")?;
        let Json(definition): Json<ItemDefinition> = row.try_get("definition")?;
        Ok(Some(ItemRecord {
            id: ItemId::from_uuid(id),
            version: version_info(&row)?,
            definition,
        }))
    }
}

#[async_trait::async_trait]
impl CatalogStore for Adapter {
    async fn is_empty(&self) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM departments")
            .fetch_one(&self.read)
            .await?;
        Ok(count == 0)
    }

    async fn import(
        &self,
        data: &DataSet,
        at: jiff::Timestamp,
    ) -> Result<ImportReport, StoreError> {
        let at = to_micros(at);
        let published_items = self.published_items().await?;
        let published_bundles = self.published_bundles().await?;
        let data = data.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let mut report = ImportReport::default();
                write_organisation(conn, &data.organisation, at).await?;
                write_vocabulary(conn, &data.catalog).await?;
                for item in &data.catalog.items {
                    let code = item.implementation_code.as_str();
                    match published_items.get(code) {
                        Some(current) if current == item => {
                            report.items_unchanged += 1;
                            continue;
                        }
                        Some(_) => report.items_updated += 1,
                        None => report.items_created += 1,
                    }
                    let (id, _) = write_item_draft(conn, item, at).await?;
                    publish_draft(conn, Versioned::Item, id, code, at).await?;
                }
                for bundle in &data.catalog.bundles {
                    let code = bundle.code.as_str();
                    match published_bundles.get(code) {
                        Some(current) if current == bundle => {
                            report.bundles_unchanged += 1;
                            continue;
                        }
                        Some(_) => report.bundles_updated += 1,
                        None => report.bundles_created += 1,
                    }
                    let (id, _) = write_bundle_draft(conn, bundle, at).await?;
                    publish_draft(conn, Versioned::Bundle, id, code, at).await?;
                }
                Ok(report)
            })
        })
        .await
    }

    async fn export(&self) -> Result<DataSet, StoreError> {
        let vocabulary = self.vocabulary().await?;
        Ok(DataSet {
            format: EXPORT_FORMAT,
            organisation: self.organisation().await?,
            catalog: CatalogDocument {
                themes: vocabulary.themes,
                data_elements: vocabulary.data_elements,
                licence_types: vocabulary.licence_types,
                workflows: vocabulary.workflows,
                items: self.published_items().await?.into_values().collect(),
                bundles: self.published_bundles().await?.into_values().collect(),
            },
        })
    }

    async fn organisation(&self) -> Result<Organisation, StoreError> {
        let mut regions = Vec::new();
        for row in sqlx::query("SELECT code, name, parent FROM regions ORDER BY code")
            .fetch_all(&self.read)
            .await?
        {
            let code: String = row.try_get("code")?;
            let parent: Option<String> = row.try_get("parent")?;
            regions.push(Region {
                code: RegionCode::parse(&code).map_err(StoreError::corrupt)?,
                name: row.try_get("name")?,
                parent: parent
                    .map(|p| RegionCode::parse(&p).map_err(StoreError::corrupt))
                    .transpose()?,
            });
        }
        let mut departments = Vec::new();
        for row in sqlx::query(
            "SELECT key, name, sector, credit_code, region, phone FROM departments ORDER BY key",
        )
        .fetch_all(&self.read)
        .await?
        {
            let key: String = row.try_get("key")?;
            let credit_code: String = row.try_get("credit_code")?;
            let region: String = row.try_get("region")?;
            departments.push(Department {
                key: key.parse().map_err(StoreError::corrupt)?,
                name: row.try_get("name")?,
                sector: row.try_get("sector")?,
                credit_code: credit_code.parse().map_err(StoreError::corrupt)?,
                region: region.parse().map_err(StoreError::corrupt)?,
                phone: row.try_get("phone")?,
            });
        }
        let mut staff: Vec<StaffMember> = Vec::new();
        for row in sqlx::query("SELECT account, name FROM staff ORDER BY account")
            .fetch_all(&self.read)
            .await?
        {
            let account: String = row.try_get("account")?;
            staff.push(StaffMember {
                account: account.parse().map_err(StoreError::corrupt)?,
                name: row.try_get("name")?,
                roles: Vec::new(),
            });
        }
        for row in sqlx::query(
            "SELECT account, role, department, hall, region FROM staff_roles ORDER BY account, position",
        )
        .fetch_all(&self.read)
        .await?
        {
            let account: String = row.try_get("account")?;
            let role: String = row.try_get("role")?;
            let department: Option<String> = row.try_get("department")?;
            let hall: Option<String> = row.try_get("hall")?;
            let region: Option<String> = row.try_get("region")?;
            let assignment = tongban_domain::org::RoleAssignment {
                role: serde_json::from_value(serde_json::Value::String(role)).map_err(StoreError::corrupt)?,
                department: department.map(|d| d.parse()).transpose().map_err(StoreError::corrupt)?,
                hall: hall.map(|h| h.parse()).transpose().map_err(StoreError::corrupt)?,
                region: region.map(|r| r.parse()).transpose().map_err(StoreError::corrupt)?,
            };
            if let Some(member) = staff.iter_mut().find(|m| m.account.as_str() == account) {
                member.roles.push(assignment);
            }
        }
        Ok(Organisation {
            regions,
            departments,
            halls: definitions::<Hall>(&self.read, "SELECT definition FROM halls ORDER BY key")
                .await?,
            skill_groups: definitions::<SkillGroup>(
                &self.read,
                "SELECT definition FROM skill_groups ORDER BY key",
            )
            .await?,
            windows: definitions::<Window>(
                &self.read,
                "SELECT definition FROM windows ORDER BY key",
            )
            .await?,
            staff,
            persons: definitions::<Person>(
                &self.read,
                "SELECT definition FROM parties WHERE kind = 'person' ORDER BY identifier",
            )
            .await?,
            enterprises: definitions::<Enterprise>(
                &self.read,
                "SELECT definition FROM parties WHERE kind = 'enterprise' ORDER BY identifier",
            )
            .await?,
        })
    }

    async fn vocabulary(&self) -> Result<Vocabulary, StoreError> {
        Ok(Vocabulary {
            themes: definitions::<Theme>(
                &self.read,
                "SELECT definition FROM themes ORDER BY sort_order, key",
            )
            .await?,
            data_elements: definitions::<DataElement>(
                &self.read,
                "SELECT definition FROM data_elements ORDER BY code",
            )
            .await?,
            licence_types: definitions::<LicenceType>(
                &self.read,
                "SELECT definition FROM licence_types ORDER BY key",
            )
            .await?,
            workflows: definitions::<tongban_domain::cases::Workflow>(
                &self.read,
                "SELECT definition FROM workflows ORDER BY key",
            )
            .await?,
        })
    }

    async fn list_items(&self, filter: &ItemFilter) -> Result<Page<ItemSummary>, StoreError> {
        let from = "FROM items i JOIN item_versions v ON v.item_id = i.id AND v.status = 'published' WHERE 1 = 1";
        let mut count = QueryBuilder::<Db>::new(format!("SELECT COUNT(*) {from}"));
        push_item_filters(&mut count, filter);
        let total: i64 = count.build_query_scalar().fetch_one(&self.read).await?;
        let mut query =
            QueryBuilder::<Db>::new(format!("SELECT i.id, v.version, v.definition {from}"));
        push_item_filters(&mut query, filter);
        query
            .push(" ORDER BY i.implementation_code LIMIT ")
            .push_bind(i64::from(filter.page.per_page))
            .push(" OFFSET ")
            .push_bind(filter.page.offset());
        let rows = query.build().fetch_all(&self.read).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let id: uuid::Uuid = row.try_get("id")?;
            let version: i32 = row.try_get("version")?;
            let Json(definition): Json<ItemDefinition> = row.try_get("definition")?;
            items.push(summary_of(
                id,
                u32::try_from(version).map_err(StoreError::corrupt)?,
                definition,
            ));
        }
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            page: filter.page.page,
            per_page: filter.page.per_page,
        })
    }

    async fn item(&self, code: &ImplementationCode) -> Result<Option<ItemRecord>, StoreError> {
        self.item_record(code, None).await
    }

    async fn item_version(
        &self,
        code: &ImplementationCode,
        version: u32,
    ) -> Result<Option<ItemRecord>, StoreError> {
        self.item_record(code, Some(version)).await
    }

    async fn item_versions(
        &self,
        code: &ImplementationCode,
    ) -> Result<Vec<VersionInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.version, v.status, v.created_at, v.published_at FROM items i \
             JOIN item_versions v ON v.item_id = i.id WHERE i.implementation_code = $1 \
             ORDER BY v.version DESC",
        )
        .bind(code.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(version_info).collect()
    }

    async fn save_item_draft(
        &self,
        definition: &ItemDefinition,
        at: jiff::Timestamp,
    ) -> Result<VersionInfo, StoreError> {
        let at = to_micros(at);
        let definition = definition.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let (id, version) = write_item_draft(conn, &definition, at).await?;
                let row = sqlx::query(
                    "SELECT version, status, created_at, published_at FROM item_versions \
                     WHERE item_id = $1 AND version = $2",
                )
                .bind(id)
                .bind(version)
                .fetch_one(&mut *conn)
                .await?;
                version_info(&row)
            })
        })
        .await
    }

    async fn publish_item(
        &self,
        code: &ImplementationCode,
        at: jiff::Timestamp,
    ) -> Result<VersionInfo, StoreError> {
        let code = code.clone();
        let at = to_micros(at);
        self.write(move |conn| {
            Box::pin(async move {
                let Some(id) = identity(conn, Versioned::Item, code.as_str()).await? else {
                    return Err(StoreError::NotFound {
                        what: format!("item {code}"),
                    });
                };
                publish_draft(conn, Versioned::Item, id, code.as_str(), at).await
            })
        })
        .await
    }

    async fn list_bundles(&self) -> Result<Vec<BundleSummary>, StoreError> {
        self.bundle_summaries(None).await
    }

    async fn bundle(&self, code: &BundleCode) -> Result<Option<BundleRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT b.id, v.version, v.status, v.created_at, v.published_at, v.definition \
             FROM bundles b JOIN bundle_versions v ON v.bundle_id = b.id AND v.status = 'published' \
             WHERE b.code = $1",
        )
        .bind(code.as_str())
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: uuid::Uuid = row.try_get("id")?;
        let Json(definition): Json<BundleDefinition> = row.try_get("definition")?;
        Ok(Some(BundleRecord {
            id: BundleId::from_uuid(id),
            version: version_info(&row)?,
            definition,
        }))
    }

    async fn bundles_with_item(
        &self,
        code: &ImplementationCode,
    ) -> Result<Vec<BundleSummary>, StoreError> {
        self.bundle_summaries(Some(code.as_str())).await
    }

    async fn save_bundle_draft(
        &self,
        definition: &BundleDefinition,
        at: jiff::Timestamp,
    ) -> Result<VersionInfo, StoreError> {
        let at = to_micros(at);
        let definition = definition.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let (id, version) = write_bundle_draft(conn, &definition, at).await?;
                let row = sqlx::query(
                    "SELECT version, status, created_at, published_at FROM bundle_versions \
                     WHERE bundle_id = $1 AND version = $2",
                )
                .bind(id)
                .bind(version)
                .fetch_one(&mut *conn)
                .await?;
                version_info(&row)
            })
        })
        .await
    }

    async fn publish_bundle(
        &self,
        code: &BundleCode,
        at: jiff::Timestamp,
    ) -> Result<VersionInfo, StoreError> {
        let code = code.clone();
        let at = to_micros(at);
        self.write(move |conn| {
            Box::pin(async move {
                let Some(id) = identity(conn, Versioned::Bundle, code.as_str()).await? else {
                    return Err(StoreError::NotFound {
                        what: format!("bundle {code}"),
                    });
                };
                publish_draft(conn, Versioned::Bundle, id, code.as_str(), at).await
            })
        })
        .await
    }
}
