// Portable SQL for the bundle-application port, compiled once per engine (see sql/catalog.rs
// for the scheme). A parent and the children it opens commit together; children are written
// by the case module's `insert_new_case`, so that they are numbered like any case.

mod bundle_sql {
    use sqlx::Row;
    use sqlx::types::Json;
    use tongban_domain::calendar::shanghai_date;
    use tongban_domain::cases::Case;
    use tongban_domain::cases::bundle_case::{BundleCase, ChildStatus};

    use super::{Adapter, Conn};
    use crate::error::StoreError;
    use crate::model::BundleWrite;
    use crate::ports::BundleCaseStore;
    use crate::to_micros;

    fn decode(row: &<super::Db as sqlx::Database>::Row) -> Result<BundleCase, StoreError> {
        let Json(parent): Json<BundleCase> = row.try_get("document")?;
        Ok(parent)
    }

    fn version_i64(version: u64) -> i64 {
        i64::try_from(version).unwrap_or(i64::MAX)
    }

    /// Writes the new children and their numbers into the parent, then the outbox and logs.
    async fn write_children(
        conn: &mut Conn,
        parent: &mut BundleCase,
        write: &BundleWrite,
    ) -> Result<(), StoreError> {
        for child in &write.children {
            let case = super::case_sql::insert_new_case(conn, child.clone()).await?;
            for entry in &mut parent.children {
                if let ChildStatus::Open {
                    case_id, number, ..
                } = &mut entry.status
                    && *case_id == case.id
                {
                    number.clone_from(&case.number);
                }
            }
        }
        let side_effects = crate::model::CaseWrite {
            outbox: write.outbox.clone(),
            access: write.access.clone(),
            ..crate::model::CaseWrite::default()
        };
        super::case_sql::insert_side_effects_of(conn, &side_effects).await?;
        Ok(())
    }

    /// Puts the parent's number into its outbox payloads (built before the number existed).
    fn number_messages(write: &mut BundleWrite, number: &str) {
        for message in &mut write.outbox {
            if let Some(slot) = message.payload.get_mut("number") {
                *slot = serde_json::Value::String(number.to_owned());
            }
        }
    }

    impl Adapter {
        async fn find_bundle_case(
            &self,
            sql: &'static str,
            key: BundleKey,
        ) -> Result<Option<BundleCase>, StoreError> {
            let query = sqlx::query(sql);
            let query = match key {
                BundleKey::Id(id) => query.bind(id),
                BundleKey::Number(number) => query.bind(number),
            };
            let row = query.fetch_optional(&self.read).await?;
            row.as_ref().map(decode).transpose()
        }
    }

    enum BundleKey {
        Id(uuid::Uuid),
        Number(String),
    }

    #[async_trait::async_trait]
    impl BundleCaseStore for Adapter {
        async fn create_bundle_case(&self, write: BundleWrite) -> Result<BundleCase, StoreError> {
            let mut write = write;
            self.write(move |conn| {
                Box::pin(async move {
                    let mut parent = write.parent.clone();
                    let day = shanghai_date(parent.submitted_at).strftime("%Y%m%d").to_string();
                    let prefix = format!("YJS{day}");
                    let sequence: i64 = sqlx::query_scalar(
                        "INSERT INTO case_counters (prefix, value) VALUES ($1, 1) \
                         ON CONFLICT (prefix) DO UPDATE SET value = case_counters.value + 1 RETURNING value",
                    )
                    .bind(&prefix)
                    .fetch_one(&mut *conn)
                    .await?;
                    parent.number = format!("{prefix}{sequence:04}");
                    number_messages(&mut write, &parent.number);
                    write_children(conn, &mut parent, &write).await?;
                    sqlx::query(
                        "INSERT INTO bundle_cases (id, number, version, bundle_code, applicant_identifier, \
                         applicant_account, state, submitted_at, promised_due, closed_at, updated_at, document) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(parent.id)
                    .bind(&parent.number)
                    .bind(version_i64(parent.version))
                    .bind(parent.bundle_code.as_str())
                    .bind(&parent.applicant.identifier)
                    .bind(parent.applicant.account.as_ref().map(|a| a.as_str()))
                    .bind(parent.state.name())
                    .bind(to_micros(parent.submitted_at))
                    .bind(parent.promised_due.map(|d| d.to_string()))
                    .bind(parent.closed_at.map(to_micros))
                    .bind(to_micros(parent.submitted_at))
                    .bind(Json(&parent))
                    .execute(&mut *conn)
                    .await?;
                    Ok(parent)
                })
            })
            .await
        }

        async fn save_bundle_case(
            &self,
            write: BundleWrite,
            expected_version: u64,
        ) -> Result<BundleCase, StoreError> {
            let mut write = write;
            self.write(move |conn| {
                Box::pin(async move {
                    let mut parent = write.parent.clone();
                    let number = parent.number.clone();
                    number_messages(&mut write, &number);
                    write_children(conn, &mut parent, &write).await?;
                    let updated_at = parent
                        .history
                        .last()
                        .map_or(to_micros(parent.submitted_at), |e| to_micros(e.at));
                    let result = sqlx::query(
                        "UPDATE bundle_cases SET version = $1, state = $2, closed_at = $3, updated_at = $4, \
                         document = $5 WHERE id = $6 AND version = $7",
                    )
                    .bind(version_i64(parent.version))
                    .bind(parent.state.name())
                    .bind(parent.closed_at.map(to_micros))
                    .bind(updated_at)
                    .bind(Json(&parent))
                    .bind(parent.id)
                    .bind(version_i64(expected_version))
                    .execute(&mut *conn)
                    .await?;
                    if result.rows_affected() == 0 {
                        let actual: Option<i64> =
                            sqlx::query_scalar("SELECT version FROM bundle_cases WHERE id = $1")
                                .bind(parent.id)
                                .fetch_optional(&mut *conn)
                                .await?;
                        return Err(match actual {
                            None => StoreError::NotFound {
                                what: format!("bundle application {}", parent.id),
                            },
                            Some(actual) => StoreError::StaleVersion {
                                expected: expected_version,
                                actual: u64::try_from(actual).unwrap_or(0),
                            },
                        });
                    }
                    Ok(parent)
                })
            })
            .await
        }

        async fn bundle_case(&self, id: uuid::Uuid) -> Result<Option<BundleCase>, StoreError> {
            self.find_bundle_case(
                "SELECT document FROM bundle_cases WHERE id = $1",
                BundleKey::Id(id),
            )
            .await
        }

        async fn bundle_case_by_number(
            &self,
            number: &str,
        ) -> Result<Option<BundleCase>, StoreError> {
            self.find_bundle_case(
                "SELECT document FROM bundle_cases WHERE number = $1",
                BundleKey::Number(number.to_owned()),
            )
            .await
        }

        async fn bundle_children(&self, id: uuid::Uuid) -> Result<Vec<Case>, StoreError> {
            super::case_sql::children_documents(&self.read, id).await
        }

        async fn bundle_cases_of(
            &self,
            applicant: &str,
            limit: u32,
        ) -> Result<Vec<BundleCase>, StoreError> {
            let rows = sqlx::query(
                "SELECT document FROM bundle_cases WHERE applicant_identifier = $1 \
                 ORDER BY submitted_at DESC, id DESC LIMIT $2",
            )
            .bind(applicant)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
            rows.iter().map(decode).collect()
        }
    }
}
