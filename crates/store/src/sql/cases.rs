// Portable SQL for the case port, compiled once per engine (see sql/catalog.rs for the scheme).

mod case_sql {
    use sqlx::types::Json;
    use sqlx::{QueryBuilder, Row};
    use tongban_domain::calendar::shanghai_date;
    use tongban_domain::cases::verified::{Revocation, VerifiedDocument};
    use tongban_domain::cases::{Case, CaseEvent, EventKind};
    use tongban_domain::licences::Licence;

    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::model::{
        AuditEntry, CaseFilter, CaseKey, CaseOrder, CasePage, CaseRecord, CaseSummary, CaseWrite,
        DataAccess, OutboxMessage, ShippedCase, StoredEvent,
    };
    use crate::ports::CaseStore;
    use crate::{from_micros, new_id, to_micros};

    fn date_text(date: Option<jiff::civil::Date>) -> Option<String> {
        date.map(|d| d.to_string())
    }

    fn step_of(case: &Case) -> Option<i32> {
        case.current_step()
            .and_then(|(index, _)| i32::try_from(index).ok())
    }

    /// Room for the events of one write in the sequence numbers (see `insert_events`).
    const EVENTS_PER_WRITE: i64 = 256;

    fn version_i64(version: u64) -> i64 {
        i64::try_from(version).unwrap_or(i64::MAX)
    }

    const EVENT_COLUMNS: &str =
        "case_events (case_id, seq, at, kind, actor, department, public, document)";
    const OUTBOX_COLUMNS: &str = "outbox (id, topic, case_id, department, payload, created_at)";
    const AUDIT_COLUMNS: &str = "audit_log (id, at, actor, action, target, department, detail)";
    const ACCESS_COLUMNS: &str = "data_access_log (id, at, subject, actor, actor_name, department, \
         case_id, purpose, what)";

    /// `VALUES (…), (…)` of the events of one write. Their sequence numbers come from the case
    /// version the write produces (`version × 256 + index`): every write raises the version by
    /// one, so numbers are unique and ordered per case without reading the last one back first.
    fn push_event_rows(
        query: &mut QueryBuilder<Db>,
        case_id: uuid::Uuid,
        version: u64,
        events: &[CaseEvent],
    ) {
        debug_assert!(events.len() < EVENTS_PER_WRITE as usize);
        let base = version_i64(version).saturating_mul(EVENTS_PER_WRITE);
        query.push_values(events.iter().enumerate(), |mut row, (index, event)| {
            let seq = base.saturating_add(i64::try_from(index).unwrap_or(0));
            row.push_bind(case_id)
                .push_bind(i32::try_from(seq).unwrap_or(i32::MAX))
                .push_bind(to_micros(event.at))
                .push_bind(event.kind.name())
                .push_bind(event.actor.as_str().to_owned())
                .push_bind(event.department.as_ref().map(|d| d.as_str().to_owned()))
                .push_bind(crate::model::is_public(event))
                .push_bind(Json(event.clone()));
        });
    }

    fn push_outbox_rows(query: &mut QueryBuilder<Db>, messages: &[OutboxMessage]) {
        query.push_values(messages, |mut row, message| {
            row.push_bind(message.id)
                .push_bind(message.topic.clone())
                .push_bind(message.case_id)
                .push_bind(message.department.as_ref().map(|d| d.as_str().to_owned()))
                .push_bind(Json(message.payload.clone()))
                .push_bind(to_micros(message.created_at));
        });
    }

    fn push_audit_rows(query: &mut QueryBuilder<Db>, entries: &[AuditEntry]) {
        query.push_values(entries, |mut row, entry| {
            row.push_bind(entry.id)
                .push_bind(to_micros(entry.at))
                .push_bind(entry.actor.clone())
                .push_bind(entry.action.clone())
                .push_bind(entry.target.clone())
                .push_bind(entry.department.as_ref().map(|d| d.as_str().to_owned()))
                .push_bind(entry.detail.clone());
        });
    }

    fn push_access_rows(query: &mut QueryBuilder<Db>, entries: &[DataAccess]) {
        query.push_values(entries, |mut row, entry| {
            row.push_bind(entry.id)
                .push_bind(to_micros(entry.at))
                .push_bind(entry.subject.clone())
                .push_bind(entry.actor.clone())
                .push_bind(entry.actor_name.clone())
                .push_bind(entry.department.as_ref().map(|d| d.as_str().to_owned()))
                .push_bind(entry.case_id)
                .push_bind(entry.purpose.clone())
                .push_bind(entry.what.clone());
        });
    }

    /// One multi-row insert of `rows` into `table` (nothing for none).
    async fn insert_rows<T>(
        conn: &mut Conn,
        table: &str,
        rows: &[T],
        push: impl FnOnce(&mut QueryBuilder<Db>, &[T]),
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut query = QueryBuilder::<Db>::new("INSERT INTO ");
        query.push(table).push(" ");
        push(&mut query, rows);
        query.build().execute(&mut *conn).await?;
        Ok(())
    }

    /// Events of one write, in one statement.
    async fn insert_events(
        conn: &mut Conn,
        case_id: uuid::Uuid,
        version: u64,
        events: &[CaseEvent],
    ) -> Result<(), StoreError> {
        insert_rows(conn, EVENT_COLUMNS, events, |query, events| {
            push_event_rows(query, case_id, version, events);
        })
        .await
    }

    /// Keeps `case_departments` equal to the departments that countersign the case in its
    /// workflow (listed on the step, else the item's co-implementing departments). A new case
    /// has no rows to replace.
    async fn write_co_departments(
        conn: &mut Conn,
        case: &Case,
        new_case: bool,
    ) -> Result<(), StoreError> {
        if !new_case {
            sqlx::query("DELETE FROM case_departments WHERE case_id = $1")
                .bind(case.id)
                .execute(&mut *conn)
                .await?;
        }
        let mut countersigners = std::collections::BTreeSet::new();
        for step in &case.workflow.steps {
            if let tongban_domain::cases::StepKind::Countersign { departments, .. } = &step.kind {
                let listed = if departments.is_empty() {
                    &case.co_departments
                } else {
                    departments
                };
                countersigners.extend(listed.iter().filter(|d| **d != case.department));
            }
        }
        for department in countersigners {
            sqlx::query(
                "INSERT INTO case_departments (case_id, department) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(case.id)
            .bind(department.as_str())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Keeps the tracking index (`case_shipments`) in step with the case's current shipment:
    /// earlier postings keep the row they got while they were current.
    async fn write_shipment(conn: &mut Conn, case: &Case) -> Result<(), StoreError> {
        let Some(shipment) = case.shipment() else {
            return Ok(());
        };
        let seq = i32::try_from(case.shipments.len() - 1).unwrap_or(i32::MAX);
        let updated_at = shipment
            .events
            .last()
            .map_or(shipment.shipped_at, |e| e.recorded_at);
        sqlx::query(
            "INSERT INTO case_shipments (case_id, seq, carrier, tracking_number, applicant_identifier, \
             status, shipped_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (case_id, seq) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(case.id)
        .bind(seq)
        .bind(shipment.carrier.code())
        .bind(shipment.tracking_number.as_str())
        .bind(&case.applicant.identifier)
        .bind(shipment.status.code())
        .bind(to_micros(shipment.shipped_at))
        .bind(to_micros(updated_at))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_side_effects(conn: &mut Conn, write: &CaseWrite) -> Result<(), StoreError> {
        insert_rows(conn, OUTBOX_COLUMNS, &write.outbox, push_outbox_rows).await?;
        insert_documents(conn, write).await?;
        insert_logs(conn, &write.audit, &write.access).await
    }

    /// The licence and the verified documents of a write.
    async fn insert_documents(conn: &mut Conn, write: &CaseWrite) -> Result<(), StoreError> {
        if let Some(licence) = &write.licence {
            insert_licence(conn, licence).await?;
        }
        super::document_sql::write(conn, write).await
    }

    async fn insert_licence(conn: &mut Conn, licence: &Licence) -> Result<(), StoreError> {
        let issued_at = licence.history.first().map_or(0, |h| to_micros(h.at));
        sqlx::query(
            "INSERT INTO licences (id, identifier, type_key, holder_identifier, issuer, case_id, version, \
             status, valid_from, valid_until, issued_at, document) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(new_id(issued_at))
        .bind(licence.identifier.as_str())
        .bind(licence.type_key.as_str())
        .bind(&licence.holder.identifier)
        .bind(licence.issuer.as_str())
        .bind(licence.case_id)
        .bind(i32::from(licence.identifier.version()))
        .bind(licence.status.code())
        .bind(licence.valid_from.to_string())
        .bind(date_text(licence.valid_until))
        .bind(issued_at)
        .bind(Json(licence))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_logs(
        conn: &mut Conn,
        audit: &[AuditEntry],
        access: &[DataAccess],
    ) -> Result<(), StoreError> {
        insert_rows(conn, AUDIT_COLUMNS, audit, push_audit_rows).await?;
        insert_rows(conn, ACCESS_COLUMNS, access, push_access_rows).await
    }

    fn decode_case(row: &<Db as sqlx::Database>::Row) -> Result<Case, StoreError> {
        let Json(case): Json<Case> = row.try_get("document")?;
        Ok(case)
    }

    fn summary(case: Case) -> CaseSummary {
        let step = case.current_step().map(|(_, step)| step.name.clone());
        CaseSummary {
            id: case.id,
            number: case.number,
            version: case.version,
            item_code: case.item_code.to_string(),
            item_name: case.item_name,
            department: case.department,
            applicant_name: case.applicant.name,
            state: case.state.name().to_owned(),
            step,
            submitted_at: case.submitted_at,
            promised_due: case.promised_due,
            statutory_due: case.statutory_due,
            hall: case.hall,
        }
    }

    /// Far-future stand-in so that cases without a due date sort last on both engines.
    const NO_DUE: &str = "9999-12-31";

    fn push_filters(query: &mut QueryBuilder<Db>, filter: &CaseFilter) -> Result<(), StoreError> {
        let scope = &filter.scope;
        if !scope.everything {
            query.push(" AND (1 = 0");
            if !scope.departments.is_empty() {
                query.push(" OR department IN (");
                let mut list = query.separated(", ");
                for department in &scope.departments {
                    list.push_bind(department.to_string());
                }
                // Cases these departments co-handle (会签) are theirs to see too.
                query
                    .push(") OR id IN (SELECT case_id FROM case_departments WHERE department IN (");
                let mut list = query.separated(", ");
                for department in &scope.departments {
                    list.push_bind(department.to_string());
                }
                query.push("))");
            }
            if !scope.halls.is_empty() {
                query.push(" OR hall IN (");
                let mut list = query.separated(", ");
                for hall in &scope.halls {
                    list.push_bind(hall.to_string());
                }
                query.push(")");
            }
            if scope.unassigned {
                query.push(
                    " OR (hall IS NULL AND state IN ('submitted', 'pre_reviewed', 'correction'))",
                );
            }
            if let Some(applicant) = &scope.applicant {
                query
                    .push(" OR applicant_identifier = ")
                    .push_bind(applicant.clone());
            }
            query.push(")");
        }
        if !filter.states.is_empty() {
            query.push(" AND state IN (");
            let mut list = query.separated(", ");
            for state in &filter.states {
                list.push_bind(state.clone());
            }
            query.push(")");
        }
        if let Some(department) = &filter.department {
            query
                .push(" AND department = ")
                .push_bind(department.to_string());
        }
        if let Some(hall) = &filter.hall {
            query.push(" AND hall = ").push_bind(hall.to_string());
        }
        if let Some(item) = &filter.item_code {
            query.push(" AND item_code = ").push_bind(item.clone());
        }
        if let Some(applicant) = &filter.applicant {
            query
                .push(" AND applicant_identifier = ")
                .push_bind(applicant.clone());
        }
        if let Some(today) = filter.overdue_on {
            // Decided cases met or missed their date for good; a stopped clock (补正, 特别程序)
            // is not late.
            query
                .push(" AND state = 'in_progress' AND promised_due < ")
                .push_bind(today.to_string());
        }
        if let Some(cursor) = &filter.after {
            let (kind, rest) = cursor
                .split_once(':')
                .ok_or_else(|| StoreError::corrupt("malformed cursor"))?;
            let (key, id) = rest
                .rsplit_once(':')
                .ok_or_else(|| StoreError::corrupt("malformed cursor"))?;
            let id = uuid::Uuid::parse_str(id).map_err(StoreError::corrupt)?;
            match (kind, filter.order) {
                ("n", CaseOrder::Newest) => {
                    let at: i64 = key.parse().map_err(StoreError::corrupt)?;
                    query
                        .push(" AND (submitted_at < ")
                        .push_bind(at)
                        .push(" OR (submitted_at = ")
                        .push_bind(at)
                        .push(" AND id < ")
                        .push_bind(id)
                        .push("))");
                }
                ("d", CaseOrder::DueFirst) => {
                    query
                        .push(" AND (COALESCE(promised_due, '9999-12-31') > ")
                        .push_bind(key.to_owned())
                        .push(" OR (COALESCE(promised_due, '9999-12-31') = ")
                        .push_bind(key.to_owned())
                        .push(" AND id > ")
                        .push_bind(id)
                        .push("))");
                }
                _ => {
                    return Err(StoreError::corrupt(
                        "the cursor belongs to another ordering",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Updates the case row if it is still at `expected_version`, and stores the write's events,
    /// outbox messages and log entries with it; returns the trips the case counts (its linked
    /// visits, which change without a new version), or None if the row was not at that version
    /// (then nothing is written). With [`super::CASE_WRITE_IN_ONE_STATEMENT`] all of it is one
    /// statement (one round trip), whose inserts read the update's result; otherwise one
    /// statement per table. A new case is written the same way (`insert_new_case`).
    async fn update_case(
        conn: &mut Conn,
        case: &Case,
        write: &CaseWrite,
        expected_version: u64,
    ) -> Result<Option<u32>, StoreError> {
        let one_statement = super::CASE_WRITE_IN_ONE_STATEMENT;
        let updated_at = write
            .events
            .last()
            .map_or(to_micros(case.submitted_at), |e| to_micros(e.at));
        let mut query = QueryBuilder::<Db>::new(if one_statement { "WITH u AS (" } else { "" });
        query.push("UPDATE cases SET version = ");
        query.push_bind(version_i64(case.version));
        query
            .push(", department = ")
            .push_bind(case.department.as_str().to_owned());
        query
            .push(", hall = ")
            .push_bind(case.hall.as_ref().map(|h| h.as_str().to_owned()));
        query.push(", state = ").push_bind(case.state.name());
        query.push(", step = ").push_bind(step_of(case));
        query
            .push(", accepted_on = ")
            .push_bind(date_text(case.accepted_on));
        query
            .push(", promised_due = ")
            .push_bind(date_text(case.promised_due));
        query
            .push(", statutory_due = ")
            .push_bind(date_text(case.statutory_due));
        query
            .push(", closed_at = ")
            .push_bind(case.closed_at.map(to_micros));
        query.push(", updated_at = ").push_bind(updated_at);
        query.push(", document = ").push_bind(Json(case.clone()));
        query.push(" WHERE id = ").push_bind(case.id);
        query
            .push(" AND version = ")
            .push_bind(version_i64(expected_version));
        if !one_statement {
            if query.build().execute(&mut *conn).await?.rows_affected() == 0 {
                return Ok(None);
            }
            insert_events(conn, case.id, case.version, &write.events).await?;
            insert_rows(conn, OUTBOX_COLUMNS, &write.outbox, push_outbox_rows).await?;
            insert_logs(conn, &write.audit, &write.access).await?;
            let trips: i64 = sqlx::query_scalar(TRIPS_OF_CASE)
                .bind(case.id)
                .fetch_one(&mut *conn)
                .await?;
            return trips_count(trips).map(Some);
        }
        query.push(" RETURNING id)");
        push_dependent_rows(&mut query, case, write);
        query
            .push(" SELECT (SELECT COUNT(*) FROM u) AS updated, (SELECT COUNT(*) FROM case_visits WHERE case_id = ")
            .push_bind(case.id)
            .push(") AS trips");
        let (updated, trips): (i64, i64) = query.build_query_as().fetch_one(&mut *conn).await?;
        if updated == 0 {
            return Ok(None);
        }
        trips_count(trips).map(Some)
    }

    /// The trips a case counts: its linked visits.
    pub(super) const TRIPS_OF_CASE: &str = "SELECT COUNT(*) FROM case_visits WHERE case_id = $1";

    pub(super) fn trips_count(count: i64) -> Result<u32, StoreError> {
        u32::try_from(count).map_err(StoreError::corrupt)
    }

    /// After `WITH u AS (… RETURNING id)`: the write's events, outbox messages and log entries
    /// as further `WITH` clauses, inserted only if `u` wrote the case row.
    fn push_dependent_rows(query: &mut QueryBuilder<Db>, case: &Case, write: &CaseWrite) {
        if !write.events.is_empty() {
            push_guarded_insert(query, "e", EVENT_COLUMNS, |query| {
                push_event_rows(query, case.id, case.version, &write.events);
            });
        }
        if !write.outbox.is_empty() {
            push_guarded_insert(query, "o", OUTBOX_COLUMNS, |query| {
                push_outbox_rows(query, &write.outbox);
            });
        }
        if !write.audit.is_empty() {
            push_guarded_insert(query, "a", AUDIT_COLUMNS, |query| {
                push_audit_rows(query, &write.audit);
            });
        }
        if !write.access.is_empty() {
            push_guarded_insert(query, "r", ACCESS_COLUMNS, |query| {
                push_access_rows(query, &write.access);
            });
        }
    }

    /// `, alias AS (INSERT INTO table SELECT * FROM (VALUES …) AS v WHERE the case row was
    /// written)`.
    fn push_guarded_insert(
        query: &mut QueryBuilder<Db>,
        alias: &str,
        table: &str,
        push_rows: impl FnOnce(&mut QueryBuilder<Db>),
    ) {
        query
            .push(", ")
            .push(alias)
            .push(" AS (INSERT INTO ")
            .push(table);
        query.push(" SELECT * FROM (");
        push_rows(query);
        query.push(") AS v WHERE EXISTS (SELECT 1 FROM u))");
    }

    /// Inserts a new case inside the caller's transaction: numbers it (item code, China date and
    /// a counter per both), stores it with its `parent_id` (set for the children of a bundle
    /// application, whose port writes the parent and its children together), its countersigning
    /// departments, events and side effects.
    pub(super) async fn insert_new_case(
        conn: &mut Conn,
        mut write: CaseWrite,
    ) -> Result<Case, StoreError> {
        let Some(mut case) = write.case.clone() else {
            return Err(StoreError::corrupt("a new case write needs a case"));
        };
        let day = shanghai_date(case.submitted_at)
            .strftime("%Y%m%d")
            .to_string();
        let prefix = format!("{}{day}", case.item_code);
        let sequence: i64 = sqlx::query_scalar(
            "INSERT INTO case_counters (prefix, value) VALUES ($1, 1) \
             ON CONFLICT (prefix) DO UPDATE SET value = case_counters.value + 1 RETURNING value",
        )
        .bind(&prefix)
        .fetch_one(&mut *conn)
        .await?;
        case.number = format!("{prefix}{sequence:04}");
        for message in &mut write.outbox {
            if let Some(number) = message.payload.get_mut("number") {
                *number = serde_json::Value::String(case.number.clone());
            }
        }
        for entry in &mut write.audit {
            if entry.target.is_empty() {
                entry.target = case.number.clone();
            }
        }
        let one_statement = super::CASE_WRITE_IN_ONE_STATEMENT;
        let mut query = QueryBuilder::<Db>::new(if one_statement { "WITH u AS (" } else { "" });
        query.push(
            "INSERT INTO cases (id, number, version, parent_id, item_code, item_version, department, \
             applicant_identifier, applicant_account, hall, channel, state, step, submitted_at, \
             accepted_on, promised_due, statutory_due, closed_at, updated_at, document) ",
        );
        query.push_values([&case], |mut row, case| {
            row.push_bind(case.id)
                .push_bind(case.number.clone())
                .push_bind(version_i64(case.version))
                .push_bind(case.parent)
                .push_bind(case.item_code.as_str().to_owned())
                .push_bind(i32::try_from(case.item_version).unwrap_or(i32::MAX))
                .push_bind(case.department.as_str().to_owned())
                .push_bind(case.applicant.identifier.clone())
                .push_bind(
                    case.applicant
                        .account
                        .as_ref()
                        .map(|a| a.as_str().to_owned()),
                )
                .push_bind(case.hall.as_ref().map(|h| h.as_str().to_owned()))
                .push_bind(
                    serde_json::to_value(case.channel)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned)),
                )
                .push_bind(case.state.name())
                .push_bind(step_of(case))
                .push_bind(to_micros(case.submitted_at))
                .push_bind(date_text(case.accepted_on))
                .push_bind(date_text(case.promised_due))
                .push_bind(date_text(case.statutory_due))
                .push_bind(case.closed_at.map(to_micros))
                .push_bind(to_micros(case.submitted_at))
                .push_bind(Json(case.clone()));
        });
        if one_statement {
            query.push(" RETURNING id)");
            push_dependent_rows(&mut query, &case, &write);
            query.push(" SELECT COUNT(*) FROM u");
            query.build().execute(&mut *conn).await?;
            write_co_departments(conn, &case, true).await?;
            insert_documents(conn, &write).await?;
        } else {
            query.build().execute(&mut *conn).await?;
            write_co_departments(conn, &case, true).await?;
            insert_events(conn, case.id, case.version, &write.events).await?;
            insert_side_effects(conn, &write).await?;
        }
        Ok(case)
    }

    /// The outbox messages, licence and log entries of a write, inside the caller's transaction
    /// (for the bundle port's own messages).
    pub(super) async fn insert_side_effects_of(
        conn: &mut Conn,
        write: &CaseWrite,
    ) -> Result<(), StoreError> {
        insert_side_effects(conn, write).await
    }

    /// The cases whose parent is this bundle application, in submission order.
    pub(super) async fn children_documents(
        read: &sqlx::Pool<Db>,
        parent: uuid::Uuid,
    ) -> Result<Vec<Case>, StoreError> {
        let rows = sqlx::query(
            "SELECT document FROM cases WHERE parent_id = $1 ORDER BY submitted_at, id",
        )
        .bind(parent)
        .fetch_all(read)
        .await?;
        rows.iter().map(decode_case).collect()
    }

    impl Adapter {
        async fn find_case(
            &self,
            column: &'static str,
            value: CaseKey,
        ) -> Result<Option<Case>, StoreError> {
            let mut query = QueryBuilder::<Db>::new("SELECT document FROM cases WHERE ");
            query.push(column).push(" = ");
            match value {
                CaseKey::Id(id) => query.push_bind(id),
                CaseKey::Number(number) => query.push_bind(number),
            };
            let row = query.build().fetch_optional(&self.read).await?;
            row.as_ref().map(decode_case).transpose()
        }
    }

    /// One statement for a case, its events and its trips: part 0 is the case, part 1 its
    /// events by sequence, part 2 the count of its visits (always one row).
    macro_rules! case_record_by {
        ($key:literal) => {
            concat!(
                "WITH c AS (SELECT id, document FROM cases WHERE ",
                $key,
                " = $1) \
                 SELECT 0 AS part, CAST(0 AS BIGINT) AS n, FALSE AS public, c.document AS document FROM c \
                 UNION ALL SELECT 1, CAST(e.seq AS BIGINT), e.public, e.document \
                 FROM c JOIN case_events e ON e.case_id = c.id \
                 UNION ALL SELECT 2, CAST(COUNT(v.visit_id) AS BIGINT), FALSE, NULL \
                 FROM c JOIN case_visits v ON v.case_id = c.id \
                 ORDER BY part, n"
            )
        };
    }

    /// Decodes the rows of [`case_record_by`].
    fn decode_record(
        rows: &[<Db as sqlx::Database>::Row],
    ) -> Result<Option<CaseRecord>, StoreError> {
        let mut case = None;
        let mut events = Vec::new();
        let mut trips = 0;
        for row in rows {
            let part: i32 = row.try_get("part")?;
            match part {
                0 => case = Some(decode_case(row)?),
                1 => {
                    let Json(event): Json<CaseEvent> = row.try_get("document")?;
                    // The stored numbers only order the events (see `insert_events`); the
                    // history numbers them 1, 2, 3 … in that order.
                    let seq = u32::try_from(events.len() + 1).map_err(StoreError::corrupt)?;
                    events.push(StoredEvent {
                        seq,
                        public: row.try_get("public")?,
                        event,
                    });
                }
                _ => {
                    trips =
                        u32::try_from(row.try_get::<i64, _>("n")?).map_err(StoreError::corrupt)?
                }
            }
        }
        Ok(case.map(|case| CaseRecord {
            case,
            events,
            trips,
        }))
    }

    #[async_trait::async_trait]
    impl CaseStore for Adapter {
        async fn create_case(&self, write: CaseWrite) -> Result<Case, StoreError> {
            // Repeatable: each run numbers and inserts its own copy of the write.
            self.write_repeatable(move |conn| Box::pin(insert_new_case(conn, write.clone())))
                .await
        }

        async fn save_case(
            &self,
            write: CaseWrite,
            expected_version: u64,
        ) -> Result<u32, StoreError> {
            let Some(case) = write.case.clone() else {
                return Err(StoreError::corrupt("save_case needs a case"));
            };
            self.write_case_repeatable(case.id, move |conn| {
                let (case, write) = (case.clone(), write.clone());
                Box::pin(async move {
                    let Some(trips) = update_case(conn, &case, &write, expected_version).await?
                    else {
                        let actual: Option<i64> =
                            sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
                                .bind(case.id)
                                .fetch_optional(&mut *conn)
                                .await?;
                        return Err(match actual {
                            None => StoreError::NotFound {
                                what: format!("case {}", case.id),
                            },
                            Some(actual) => StoreError::StaleVersion {
                                expected: expected_version,
                                actual: u64::try_from(actual).unwrap_or(0),
                            },
                        });
                    };
                    // The countersigning departments follow from the pinned workflow and the
                    // lead department; only a transfer changes the latter.
                    let transferred = write
                        .events
                        .iter()
                        .any(|event| matches!(event.kind, EventKind::Transferred { .. }));
                    if transferred {
                        write_co_departments(conn, &case, false).await?;
                    }
                    write_shipment(conn, &case).await?;
                    insert_documents(conn, &write).await?;
                    Ok(trips)
                })
            })
            .await
        }

        async fn case(&self, id: uuid::Uuid) -> Result<Option<Case>, StoreError> {
            self.find_case("id", CaseKey::Id(id)).await
        }

        async fn case_by_number(&self, number: &str) -> Result<Option<Case>, StoreError> {
            self.find_case("number", CaseKey::Number(number.to_owned()))
                .await
        }

        async fn case_events(&self, id: uuid::Uuid) -> Result<Vec<StoredEvent>, StoreError> {
            let rows = sqlx::query(
                "SELECT public, document FROM case_events WHERE case_id = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(&self.read)
            .await?;
            let mut events = Vec::with_capacity(rows.len());
            // The stored numbers only order the events (see `insert_events`); the history
            // numbers them 1, 2, 3 … in that order.
            for (position, row) in (1_u32..).zip(rows) {
                let Json(event): Json<CaseEvent> = row.try_get("document")?;
                events.push(StoredEvent {
                    seq: position,
                    public: row.try_get("public")?,
                    event,
                });
            }
            Ok(events)
        }

        async fn case_record(&self, key: &CaseKey) -> Result<Option<CaseRecord>, StoreError> {
            let rows = match key {
                CaseKey::Id(id) => {
                    sqlx::query(case_record_by!("id"))
                        .bind(*id)
                        .fetch_all(&self.read)
                        .await?
                }
                CaseKey::Number(number) => {
                    sqlx::query(case_record_by!("number"))
                        .bind(number.as_str())
                        .fetch_all(&self.read)
                        .await?
                }
            };
            decode_record(&rows)
        }

        async fn list_cases(&self, filter: &CaseFilter) -> Result<CasePage, StoreError> {
            if filter.scope.is_empty() {
                return Ok(CasePage {
                    cases: Vec::new(),
                    next: None,
                });
            }
            let limit = filter.limit.clamp(1, 500);
            let mut query = QueryBuilder::<Db>::new(
                "SELECT submitted_at, COALESCE(promised_due, '9999-12-31') AS sort_due, document FROM cases WHERE 1 = 1",
            );
            push_filters(&mut query, filter)?;
            match filter.order {
                CaseOrder::Newest => query.push(" ORDER BY submitted_at DESC, id DESC"),
                CaseOrder::DueFirst => query.push(" ORDER BY sort_due ASC, id ASC"),
            };
            query.push(" LIMIT ").push_bind(i64::from(limit) + 1);
            let rows = query.build().fetch_all(&self.read).await?;
            let more = rows.len() > limit as usize;
            let mut cases = Vec::with_capacity(rows.len().min(limit as usize));
            let mut next = None;
            for row in rows.iter().take(limit as usize) {
                let case = decode_case(row)?;
                next = Some(match filter.order {
                    CaseOrder::Newest => {
                        format!("n:{}:{}", row.try_get::<i64, _>("submitted_at")?, case.id)
                    }
                    CaseOrder::DueFirst => {
                        format!("d:{}:{}", row.try_get::<String, _>("sort_due")?, case.id)
                    }
                });
                cases.push(summary(case));
            }
            debug_assert!(
                NO_DUE == "9999-12-31",
                "the SQL above spells the same stand-in"
            );
            Ok(CasePage {
                cases,
                next: if more { next } else { None },
            })
        }

        async fn shipped_cases(
            &self,
            carrier: &str,
            tracking_number: &str,
        ) -> Result<Vec<ShippedCase>, StoreError> {
            let rows = sqlx::query(
                "SELECT case_id, seq, applicant_identifier, status FROM case_shipments \
                 WHERE carrier = $1 AND tracking_number = $2 ORDER BY shipped_at, case_id",
            )
            .bind(carrier)
            .bind(tracking_number)
            .fetch_all(&self.read)
            .await?;
            let mut cases = Vec::with_capacity(rows.len());
            for row in rows {
                let seq: i32 = row.try_get("seq")?;
                cases.push(ShippedCase {
                    case_id: row.try_get("case_id")?,
                    seq: u32::try_from(seq).map_err(StoreError::corrupt)?,
                    applicant: row.try_get("applicant_identifier")?,
                    status: row.try_get("status")?,
                });
            }
            Ok(cases)
        }

        async fn verified_documents(
            &self,
            holder: &str,
        ) -> Result<Vec<VerifiedDocument>, StoreError> {
            super::document_sql::of_holder(&self.read, holder).await
        }

        async fn verified_document(
            &self,
            id: uuid::Uuid,
        ) -> Result<Option<VerifiedDocument>, StoreError> {
            super::document_sql::one(&self.read, id).await
        }

        async fn revoke_verified_document(
            &self,
            id: uuid::Uuid,
            revocation: Revocation,
        ) -> Result<bool, StoreError> {
            self.write(move |conn| {
                Box::pin(async move { super::document_sql::revoke(conn, id, &revocation).await })
            })
            .await
        }

        async fn licence(&self, identifier: &str) -> Result<Option<Licence>, StoreError> {
            let row = sqlx::query("SELECT document FROM licences WHERE identifier = $1")
                .bind(identifier)
                .fetch_optional(&self.read)
                .await?;
            match row {
                Some(row) => {
                    let Json(licence): Json<Licence> = row.try_get("document")?;
                    Ok(Some(licence))
                }
                None => Ok(None),
            }
        }

        async fn licences_of(&self, holder: &str) -> Result<Vec<Licence>, StoreError> {
            let rows = sqlx::query(
                "SELECT document FROM licences WHERE holder_identifier = $1 ORDER BY issued_at DESC, identifier",
            )
            .bind(holder)
            .fetch_all(&self.read)
            .await?;
            let mut licences = Vec::with_capacity(rows.len());
            for row in rows {
                let Json(licence): Json<Licence> = row.try_get("document")?;
                licences.push(licence);
            }
            Ok(licences)
        }

        async fn record(
            &self,
            audit: Vec<AuditEntry>,
            access: Vec<DataAccess>,
        ) -> Result<(), StoreError> {
            if audit.is_empty() && access.is_empty() {
                return Ok(());
            }
            self.write(move |conn| {
                Box::pin(async move { insert_logs(conn, &audit, &access).await })
            })
            .await
        }

        async fn access_log(
            &self,
            subject: &str,
            limit: u32,
        ) -> Result<Vec<DataAccess>, StoreError> {
            let rows = sqlx::query(
                "SELECT id, at, subject, actor, actor_name, department, case_id, purpose, what \
                 FROM data_access_log WHERE subject = $1 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(subject)
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                let department: Option<String> = row.try_get("department")?;
                entries.push(DataAccess {
                    id: row.try_get("id")?,
                    at: from_micros(row.try_get("at")?)?,
                    subject: row.try_get("subject")?,
                    actor: row.try_get("actor")?,
                    actor_name: row.try_get("actor_name")?,
                    department: department
                        .map(|d| d.parse())
                        .transpose()
                        .map_err(StoreError::corrupt)?,
                    case_id: row.try_get("case_id")?,
                    purpose: row.try_get("purpose")?,
                    what: row.try_get("what")?,
                });
            }
            Ok(entries)
        }

        async fn audit_log(&self, target: &str) -> Result<Vec<AuditEntry>, StoreError> {
            let rows = sqlx::query(
                "SELECT id, at, actor, action, target, department, detail FROM audit_log \
                 WHERE target = $1 ORDER BY at, id",
            )
            .bind(target)
            .fetch_all(&self.read)
            .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                let department: Option<String> = row.try_get("department")?;
                entries.push(AuditEntry {
                    id: row.try_get("id")?,
                    at: from_micros(row.try_get("at")?)?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    department: department
                        .map(|d| d.parse())
                        .transpose()
                        .map_err(StoreError::corrupt)?,
                    detail: row.try_get("detail")?,
                });
            }
            Ok(entries)
        }

        async fn outbox_after(
            &self,
            after: Option<(jiff::Timestamp, uuid::Uuid)>,
            limit: u32,
        ) -> Result<Vec<OutboxMessage>, StoreError> {
            let mut query = QueryBuilder::<Db>::new(
                "SELECT id, topic, case_id, department, payload, created_at FROM outbox WHERE 1 = 1",
            );
            if let Some((at, id)) = after {
                let at = to_micros(at);
                query
                    .push(" AND (created_at > ")
                    .push_bind(at)
                    .push(" OR (created_at = ")
                    .push_bind(at)
                    .push(" AND id > ")
                    .push_bind(id)
                    .push("))");
            }
            query
                .push(" ORDER BY created_at, id LIMIT ")
                .push_bind(i64::from(limit.clamp(1, 1000)));
            let rows = query.build().fetch_all(&self.read).await?;
            let mut messages = Vec::with_capacity(rows.len());
            for row in rows {
                let department: Option<String> = row.try_get("department")?;
                let Json(payload): Json<serde_json::Value> = row.try_get("payload")?;
                messages.push(OutboxMessage {
                    id: row.try_get("id")?,
                    topic: row.try_get("topic")?,
                    case_id: row.try_get("case_id")?,
                    department: department
                        .map(|d| d.parse())
                        .transpose()
                        .map_err(StoreError::corrupt)?,
                    payload,
                    created_at: from_micros(row.try_get("created_at")?)?,
                });
            }
            Ok(messages)
        }
    }
}
