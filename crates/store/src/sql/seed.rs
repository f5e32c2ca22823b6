// Portable SQL for bulk loading a generated history (`tongban bench seed`, see crate::seed),
// compiled once per engine (see sql/catalog.rs for the scheme). Multi-row INSERTs of at most
// `MAX_PARAMETERS` parameters each (SQLite allows 32,766, PostgreSQL 65,535), all of a batch in
// one transaction; rollup rows are added to with `ON CONFLICT … DO UPDATE` as the live path does.

mod seed_sql {
    use sqlx::query_builder::Separated;
    use sqlx::{QueryBuilder, Row};
    use tongban_domain::stats::Counters;

    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::seed::EncodedBatch;

    const MAX_PARAMETERS: usize = 30_000;

    /// The tables a seed fills, in the order their rows are written (parents first).
    pub(crate) const TABLES: [&str; 15] = [
        "cases",
        "case_departments",
        "case_shipments",
        "case_events",
        "case_facts",
        "licences",
        "audit_log",
        "ratings",
        "rectifications",
        "hotline_tickets",
        "hotline_ticket_departments",
        "stats_monthly",
        "stats_daily",
        "stats_days_histogram",
        "case_counters",
    ];

    /// A JSON parameter's cast: PostgreSQL's columns are `jsonb`, SQLite's text.
    fn json_cast() -> &'static str {
        if <Db as sqlx::Database>::NAME == "PostgreSQL" {
            "::jsonb"
        } else {
            ""
        }
    }

    /// Inserts `rows` in statements of at most `MAX_PARAMETERS` parameters: `head` names the
    /// table and columns, `push` binds one row's values, `tail` follows the VALUES list.
    async fn insert_rows<T, F>(
        conn: &mut Conn,
        head: &str,
        tail: &str,
        rows: &[T],
        columns: usize,
        mut push: F,
    ) -> Result<(), StoreError>
    where
        F: FnMut(&mut Separated<'_, Db, &'static str>, &T) + Send,
        T: Sync,
    {
        let per_statement = (MAX_PARAMETERS / columns.max(1)).max(1);
        for chunk in rows.chunks(per_statement) {
            let mut query = QueryBuilder::<Db>::new(head);
            query.push_values(chunk, |mut row, item| push(&mut row, item));
            query.push(tail);
            query.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    fn counter_columns() -> String {
        Counters::FIELDS.join(", ")
    }

    fn add_counters(table: &str) -> String {
        Counters::FIELDS
            .iter()
            .map(|f| format!("{f} = {table}.{f} + excluded.{f}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn push_counters(row: &mut Separated<'_, Db, &'static str>, counters: &Counters) {
        for value in counters.values() {
            row.push_bind(value);
        }
    }

    pub(crate) async fn write_batch(
        conn: &mut Conn,
        batch: &EncodedBatch,
    ) -> Result<(), StoreError> {
        let json = json_cast();
        insert_rows(
            conn,
            "INSERT INTO cases (id, number, version, parent_id, item_code, item_version, department, \
             applicant_identifier, applicant_account, hall, channel, state, step, submitted_at, \
             accepted_on, promised_due, statutory_due, closed_at, updated_at, document) ",
            "",
            &batch.cases,
            20,
            |row, case| {
                row.push_bind(case.id)
                    .push_bind(&case.number)
                    .push_bind(case.version)
                    .push_bind(case.parent)
                    .push_bind(&case.item_code)
                    .push_bind(case.item_version)
                    .push_bind(&case.department)
                    .push_bind(&case.applicant_identifier)
                    .push_bind(&case.applicant_account)
                    .push_bind(&case.hall)
                    .push_bind(&case.channel)
                    .push_bind(case.state)
                    .push_bind(case.step)
                    .push_bind(case.submitted_at)
                    .push_bind(&case.accepted_on)
                    .push_bind(&case.promised_due)
                    .push_bind(&case.statutory_due)
                    .push_bind(case.closed_at)
                    .push_bind(case.updated_at)
                    .push_bind(&case.document)
                    .push_unseparated(json);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO case_departments (case_id, department) ",
            "",
            &batch.case_departments,
            2,
            |row, (case_id, department)| {
                row.push_bind(*case_id).push_bind(department);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO case_shipments (case_id, seq, carrier, tracking_number, applicant_identifier, \
             status, shipped_at, updated_at) ",
            "",
            &batch.shipments,
            8,
            |row, shipment| {
                row.push_bind(shipment.case_id)
                    .push_bind(shipment.seq)
                    .push_bind(shipment.carrier)
                    .push_bind(&shipment.tracking_number)
                    .push_bind(&shipment.applicant_identifier)
                    .push_bind(shipment.status)
                    .push_bind(shipment.shipped_at)
                    .push_bind(shipment.updated_at);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO case_events (case_id, seq, at, kind, actor, department, public, document) ",
            "",
            &batch.events,
            8,
            |row, event| {
                row.push_bind(event.case_id)
                    .push_bind(event.seq)
                    .push_bind(event.at)
                    .push_bind(event.kind)
                    .push_bind(&event.actor)
                    .push_bind(&event.department)
                    .push_bind(event.public)
                    .push_bind(&event.document)
                    .push_unseparated(json);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO case_facts (case_id, region, department, hall, item_code, submitted_on, online, \
             decided_on, on_time, immediate, working_days, promised_days, statutory_days, visits) ",
            "",
            &batch.facts,
            14,
            |row, fact| {
                let to_i32 = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
                row.push_bind(fact.case_id)
                    .push_bind(&fact.region)
                    .push_bind(&fact.department)
                    .push_bind(&fact.hall)
                    .push_bind(&fact.item_code)
                    .push_bind(fact.fact.submitted_on.map(|d| d.to_string()))
                    .push_bind(fact.fact.online)
                    .push_bind(fact.fact.decided_on.map(|d| d.to_string()))
                    .push_bind(fact.fact.on_time)
                    .push_bind(fact.fact.immediate)
                    .push_bind(to_i32(fact.fact.working_days))
                    .push_bind(to_i32(fact.fact.promised_days))
                    .push_bind(to_i32(fact.fact.statutory_days))
                    .push_bind(to_i32(fact.fact.visits));
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO licences (id, identifier, type_key, holder_identifier, issuer, case_id, version, \
             status, valid_from, valid_until, issued_at, document) ",
            "",
            &batch.licences,
            12,
            |row, licence| {
                row.push_bind(licence.id)
                    .push_bind(&licence.identifier)
                    .push_bind(&licence.type_key)
                    .push_bind(&licence.holder_identifier)
                    .push_bind(&licence.issuer)
                    .push_bind(licence.case_id)
                    .push_bind(licence.version)
                    .push_bind(licence.status)
                    .push_bind(&licence.valid_from)
                    .push_bind(&licence.valid_until)
                    .push_bind(licence.issued_at)
                    .push_bind(&licence.document)
                    .push_unseparated(json);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO audit_log (id, at, actor, action, target, department, detail) ",
            "",
            &batch.audit,
            7,
            |row, entry| {
                row.push_bind(entry.id)
                    .push_bind(entry.at)
                    .push_bind(&entry.actor)
                    .push_bind(&entry.action)
                    .push_bind(&entry.target)
                    .push_bind(&entry.department)
                    .push_bind(&entry.detail);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO ratings (id, kind, subject, round, level, score, channel, text, \
             anonymous, rater, department, hall, window_key, item_code, region, rated_at) ",
            "",
            &batch.ratings,
            16,
            |row, rating| {
                let rating = &rating.rating;
                row.push_bind(rating.id)
                    .push_bind(rating.kind.code())
                    .push_bind(&rating.subject)
                    .push_bind(i32::from(rating.round.number()))
                    .push_bind(rating.level.code())
                    .push_bind(i32::from(rating.level.score()))
                    .push_bind(rating.channel.code())
                    .push_bind(&rating.text)
                    .push_bind(rating.anonymous)
                    .push_bind(&rating.rater)
                    .push_bind(rating.department.as_str())
                    .push_bind(&rating.hall)
                    .push_bind(&rating.window)
                    .push_bind(&rating.item_code)
                    .push_bind(&rating.region)
                    .push_bind(rating.at.as_microsecond());
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO rectifications (id, rating_id, subject, department, state, due_on, \
             opened_at, closed_at, version, document) ",
            "",
            &batch.tasks,
            10,
            |row, task| {
                let document = &task.document;
                let task = &task.task;
                row.push_bind(task.id)
                    .push_bind(task.rating_id)
                    .push_bind(&task.subject)
                    .push_bind(task.department.as_str())
                    .push_bind(task.state.code())
                    .push_bind(task.due_on.to_string())
                    .push_bind(task.opened_at.as_microsecond())
                    .push_bind(task.closed_at.map(|t| t.as_microsecond()))
                    .push_bind(i64::try_from(task.version).unwrap_or(i64::MAX))
                    .push_bind(document)
                    .push_unseparated(json);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO hotline_tickets (id, number, version, channel, kind, category, area, \
             urgency, state, department, due_on, caller_account, received_at, updated_at, document) ",
            "",
            &batch.tickets,
            15,
            |row, ticket| {
                let (document, updated_at) = (&ticket.document, ticket.updated_at);
                let ticket = &ticket.ticket;
                row.push_bind(ticket.id)
                    .push_bind(&ticket.number)
                    .push_bind(i64::try_from(ticket.version).unwrap_or(i64::MAX))
                    .push_bind(ticket.intake.channel.code())
                    .push_bind(ticket.intake.kind.code())
                    .push_bind(&ticket.intake.category)
                    .push_bind(&ticket.intake.area)
                    .push_bind(ticket.intake.urgency.code())
                    .push_bind(ticket.state.code())
                    .push_bind(ticket.department.as_ref().map(|d| d.as_str()))
                    .push_bind(ticket.due_on.map(|d| d.to_string()))
                    .push_bind(&ticket.intake.caller_account)
                    .push_bind(ticket.received_at.as_microsecond())
                    .push_bind(updated_at)
                    .push_bind(document)
                    .push_unseparated(json);
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO hotline_ticket_departments (ticket_id, department) ",
            "",
            &batch.ticket_departments,
            2,
            |row, (ticket_id, department)| {
                row.push_bind(*ticket_id).push_bind(department);
            },
        )
        .await?;
        write_rollup(conn, batch).await?;
        write_counters(conn, batch).await?;
        // The trigger on `cases` marked every seeded case for the rollup folder, but this batch
        // wrote their facts and rollups itself. A seed only runs on an empty history, so nothing
        // else is pending.
        sqlx::query("DELETE FROM stats_pending")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn write_rollup(conn: &mut Conn, batch: &EncodedBatch) -> Result<(), StoreError> {
        let fields = Counters::FIELDS.len();
        let monthly: Vec<_> = batch
            .rollup
            .monthly
            .iter()
            .filter(|(_, (_, counters))| !counters.is_zero())
            .collect();
        insert_rows(
            conn,
            &format!(
                "INSERT INTO stats_monthly (month, department, hall, item_code, region, {}) ",
                counter_columns()
            ),
            &format!(
                " ON CONFLICT (month, department, hall, item_code) DO UPDATE SET {}",
                add_counters("stats_monthly")
            ),
            &monthly,
            5 + fields,
            |row, ((month, department, hall, item_code), (region, counters))| {
                row.push_bind(month)
                    .push_bind(department)
                    .push_bind(hall)
                    .push_bind(item_code)
                    .push_bind(region);
                push_counters(row, counters);
            },
        )
        .await?;
        let daily: Vec<_> = batch
            .rollup
            .daily
            .iter()
            .filter(|(_, counters)| !counters.is_zero())
            .collect();
        insert_rows(
            conn,
            &format!(
                "INSERT INTO stats_daily (day, department, {}) ",
                counter_columns()
            ),
            &format!(
                " ON CONFLICT (day, department) DO UPDATE SET {}",
                add_counters("stats_daily")
            ),
            &daily,
            2 + fields,
            |row, ((day, department), counters)| {
                row.push_bind(day).push_bind(department);
                push_counters(row, counters);
            },
        )
        .await?;
        let histogram: Vec<_> = batch.rollup.histogram.iter().collect();
        insert_rows(
            conn,
            "INSERT INTO stats_days_histogram (month, department, days, cases) ",
            " ON CONFLICT (month, department, days) DO UPDATE SET \
             cases = stats_days_histogram.cases + excluded.cases",
            &histogram,
            4,
            |row, ((month, department, days), cases)| {
                row.push_bind(month)
                    .push_bind(department)
                    .push_bind(*days)
                    .push_bind(**cases);
            },
        )
        .await
    }

    /// Counters keep the highest number handed out, so that live numbering goes on after it.
    async fn write_counters(conn: &mut Conn, batch: &EncodedBatch) -> Result<(), StoreError> {
        for (table, counters) in [
            ("case_counters", &batch.case_counters),
            ("hotline_counters", &batch.ticket_counters),
        ] {
            let rows: Vec<_> = counters.iter().collect();
            insert_rows(
                conn,
                &format!("INSERT INTO {table} (prefix, value) "),
                &format!(
                    " ON CONFLICT (prefix) DO UPDATE SET value = CASE WHEN excluded.value > \
                     {table}.value THEN excluded.value ELSE {table}.value END"
                ),
                &rows,
                2,
                |row, (prefix, value)| {
                    row.push_bind(*prefix).push_bind(**value);
                },
            )
            .await?;
        }
        Ok(())
    }

    fn counters_text(row: &<Db as sqlx::Database>::Row) -> Result<(String, bool), StoreError> {
        let mut values = Vec::with_capacity(Counters::FIELDS.len());
        let mut zero = true;
        for field in Counters::FIELDS {
            let value: i64 = row.try_get(field)?;
            zero &= value == 0;
            values.push(value.to_string());
        }
        Ok((values.join(","), zero))
    }

    impl Adapter {
        pub(crate) async fn seed_regions(
            &self,
        ) -> Result<(Vec<(String, String)>, Vec<(String, String)>), StoreError> {
            let mut out = Vec::new();
            for table in ["halls", "departments"] {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT key, region FROM {table}"
                )))
                .fetch_all(&self.read)
                .await?;
                let mut pairs = Vec::with_capacity(rows.len());
                for row in &rows {
                    pairs.push((row.try_get("key")?, row.try_get("region")?));
                }
                out.push(pairs);
            }
            let departments = out.pop().unwrap_or_default();
            let halls = out.pop().unwrap_or_default();
            Ok((halls, departments))
        }

        pub(crate) async fn seed_write(&self, batch: EncodedBatch) -> Result<(), StoreError> {
            self.write(move |conn| Box::pin(async move { write_batch(conn, &batch).await }))
                .await
        }

        pub(crate) async fn seed_has_history(&self) -> Result<bool, StoreError> {
            for table in ["cases", "ratings", "hotline_tickets"] {
                let found: Option<i32> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT 1 FROM {table} LIMIT 1"
                )))
                .fetch_optional(&self.read)
                .await?;
                if found.is_some() {
                    return Ok(true);
                }
            }
            Ok(false)
        }

        pub(crate) async fn seed_table_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
            let mut counts = Vec::with_capacity(TABLES.len() + 1);
            for table in TABLES.iter().chain(&["hotline_counters"]) {
                let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {table}"
                )))
                .fetch_one(&self.read)
                .await?;
                counts.push(((*table).to_owned(), count));
            }
            Ok(counts)
        }

        pub(crate) async fn seed_rollup_rows(&self) -> Result<Vec<String>, StoreError> {
            let mut out = Vec::new();
            let fields = counter_columns();
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT month, department, hall, item_code, region, {fields} FROM stats_monthly"
            )))
            .fetch_all(&self.read)
            .await?;
            for row in &rows {
                let (counters, zero) = counters_text(row)?;
                if zero {
                    continue;
                }
                let month: String = row.try_get("month")?;
                let department: String = row.try_get("department")?;
                let hall: String = row.try_get("hall")?;
                let item: String = row.try_get("item_code")?;
                let region: String = row.try_get("region")?;
                out.push(format!(
                    "monthly {month} {department} [{hall}] [{item}] {region}: {counters}"
                ));
            }
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT day, department, {fields} FROM stats_daily"
            )))
            .fetch_all(&self.read)
            .await?;
            for row in &rows {
                let (counters, zero) = counters_text(row)?;
                if zero {
                    continue;
                }
                let day: String = row.try_get("day")?;
                let department: String = row.try_get("department")?;
                out.push(format!("daily {day} [{department}]: {counters}"));
            }
            let rows = sqlx::query(
                "SELECT month, department, days, cases FROM stats_days_histogram WHERE cases <> 0",
            )
            .fetch_all(&self.read)
            .await?;
            for row in &rows {
                let month: String = row.try_get("month")?;
                let department: String = row.try_get("department")?;
                let days: i32 = row.try_get("days")?;
                let cases: i64 = row.try_get("cases")?;
                out.push(format!("histogram {month} {department} {days}: {cases}"));
            }
            let rows = sqlx::query(
                "SELECT case_id, region, department, hall, item_code, submitted_on, online, decided_on, \
                 on_time, immediate, working_days, promised_days, statutory_days, visits FROM case_facts",
            )
            .fetch_all(&self.read)
            .await?;
            for row in &rows {
                let case_id: uuid::Uuid = row.try_get("case_id")?;
                let region: String = row.try_get("region")?;
                let department: String = row.try_get("department")?;
                let hall: String = row.try_get("hall")?;
                let item: String = row.try_get("item_code")?;
                let submitted: Option<String> = row.try_get("submitted_on")?;
                let online: bool = row.try_get("online")?;
                let decided: Option<String> = row.try_get("decided_on")?;
                let on_time: bool = row.try_get("on_time")?;
                let immediate: bool = row.try_get("immediate")?;
                let working_days: i32 = row.try_get("working_days")?;
                let promised: i32 = row.try_get("promised_days")?;
                let statutory: i32 = row.try_get("statutory_days")?;
                let visits: i32 = row.try_get("visits")?;
                out.push(format!(
                    "fact {case_id} {region} {department} [{hall}] {item} {submitted:?} {online} \
                     {decided:?} {on_time} {immediate} {working_days} {promised} {statutory} {visits}"
                ));
            }
            out.sort();
            Ok(out)
        }

        pub(crate) async fn seed_analyse(&self) -> Result<(), StoreError> {
            self.write(|conn| {
                Box::pin(async move {
                    sqlx::query("ANALYZE").execute(&mut *conn).await?;
                    Ok(())
                })
            })
            .await?;
            if let Some(vacuum) = super::SEED_VACUUM {
                sqlx::raw_sql(vacuum).execute(&self.read).await?;
            }
            Ok(())
        }
    }
}
