// Portable SQL for verified documents (once-only), compiled once per engine (see sql/catalog.rs
// for the scheme). The writes run inside a case write's transaction; the reads back the case
// port's methods.

mod document_sql {
    use sqlx::Row;
    use sqlx::types::Json;
    use tongban_domain::cases::verified::{Revocation, VerifiedDocument};

    use super::{Conn, Db};
    use crate::error::StoreError;
    use crate::model::CaseWrite;
    use crate::{from_micros, to_micros};

    /// The documents a case write checked or revoked, inside its transaction. A document of the
    /// same material checked for the same case again takes the earlier one's place (and id).
    pub(super) async fn write(conn: &mut Conn, write: &CaseWrite) -> Result<(), StoreError> {
        if !write.documents.is_empty() {
            // One statement for all of them. A row may be named once per statement: of two
            // documents of one material and case, the later one counts, as it would one by one.
            let mut documents: Vec<&VerifiedDocument> = Vec::with_capacity(write.documents.len());
            for document in &write.documents {
                documents.retain(|earlier| {
                    (&earlier.holder, &earlier.material, earlier.source_case)
                        != (&document.holder, &document.material, document.source_case)
                });
                documents.push(document);
            }
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO verified_documents (id, holder, material_code, source_case_id, department, \
                 verified_at, valid_until, revoked_at, revoked_reason, document) ",
            );
            query.push_values(documents, |mut row, document| {
                row.push_bind(document.id)
                    .push_bind(document.holder.clone())
                    .push_bind(document.material.as_str().to_owned())
                    .push_bind(document.source_case)
                    .push_bind(document.department.as_str().to_owned())
                    .push_bind(to_micros(document.verified_at))
                    .push_bind(document.valid_until.to_string())
                    .push("NULL, NULL")
                    .push_bind(Json(document.clone()));
            });
            query.push(
                " ON CONFLICT (holder, material_code, source_case_id) DO UPDATE SET \
                 department = excluded.department, verified_at = excluded.verified_at, \
                 valid_until = excluded.valid_until, revoked_at = NULL, revoked_reason = NULL, \
                 document = excluded.document",
            );
            query.build().execute(&mut *conn).await?;
        }
        let Some(case) = &write.case else {
            return Ok(());
        };
        for (material, revocation) in &write.revoked {
            sqlx::query(
                "UPDATE verified_documents SET revoked_at = $1, revoked_reason = $2 \
                 WHERE source_case_id = $3 AND material_code = $4 AND revoked_at IS NULL",
            )
            .bind(to_micros(revocation.at))
            .bind(&revocation.reason)
            .bind(case.id)
            .bind(material.as_str())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// The document of a row: its id and revocation come from the columns, which a later check
    /// or a revocation changes without rewriting the document.
    fn decode(row: &<Db as sqlx::Database>::Row) -> Result<VerifiedDocument, StoreError> {
        let Json(mut document): Json<VerifiedDocument> = row.try_get("document")?;
        document.id = row.try_get("id")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        document.revoked = match revoked_at {
            Some(at) => Some(Revocation {
                at: from_micros(at)?,
                reason: row
                    .try_get::<Option<String>, _>("revoked_reason")?
                    .unwrap_or_default(),
            }),
            None => None,
        };
        Ok(document)
    }

    pub(super) async fn of_holder(
        read: &sqlx::Pool<Db>,
        holder: &str,
    ) -> Result<Vec<VerifiedDocument>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, revoked_at, revoked_reason, document FROM verified_documents \
             WHERE holder = $1 ORDER BY verified_at DESC, id DESC",
        )
        .bind(holder)
        .fetch_all(read)
        .await?;
        rows.iter().map(decode).collect()
    }

    pub(super) async fn one(
        read: &sqlx::Pool<Db>,
        id: uuid::Uuid,
    ) -> Result<Option<VerifiedDocument>, StoreError> {
        let row = sqlx::query(
            "SELECT id, revoked_at, revoked_reason, document FROM verified_documents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(read)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    pub(super) async fn revoke(
        conn: &mut Conn,
        id: uuid::Uuid,
        revocation: &Revocation,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE verified_documents SET revoked_at = $1, revoked_reason = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(to_micros(revocation.at))
        .bind(&revocation.reason)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
