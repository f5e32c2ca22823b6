// Portable SQL for the supervision rollups, compiled once per engine (see sql/catalog.rs for the
// scheme).
//
// Every write that changes a figure (a case change, a rating, a rectification, a ticket) calls
// `apply_change` in its own transaction with what the changed thing contributed before and what
// it contributes now; the difference goes into `stats_monthly` (month × department × hall × item)
// and `stats_daily` (day × department). Dashboard queries then sum a few thousand rows at most,
// whatever the number of cases (docs/kpis.md).

mod stats_sql {
    use std::collections::HashMap;

    use jiff::civil::Date;
    use sqlx::{QueryBuilder, Row};
    use tongban_domain::calendar::Calendar;
    use tongban_domain::cases::{Case, CaseEvent};
    use tongban_domain::catalog::codes::ItemType;
    use tongban_domain::catalog::{BundleDefinition, ItemDefinition};
    use tongban_domain::halls::queue::Ticket;
    use tongban_domain::ids::ImplementationCode;
    use tongban_domain::keys::{DepartmentKey, HallKey};
    use tongban_domain::stats::catalog::ItemFact;
    use tongban_domain::stats::queue::{QueueCounters, QueueFact, wait_bucket};
    use tongban_domain::stats::{
        CaseFact, Counters, Dimension, Month, MonthRange, VISIT_EVENT_KINDS,
    };

    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::model::{BundleCatalog, QueueGroup, QueueRow, StatsQuery, StatsRow};
    use crate::ports::StatsStore;

    /// Where a contribution is counted: the day, and the department × hall × item it belongs to
    /// (hall and item empty when not applicable).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Slot {
        pub day: Date,
        pub department: String,
        pub hall: String,
        pub item_code: String,
    }

    fn upsert_sql(table: &str, keys: &[&str], region: bool) -> String {
        let fields = Counters::FIELDS;
        let mut columns: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        if region {
            columns.push("region".into());
        }
        columns.extend(fields.iter().map(|f| (*f).to_owned()));
        let mut values: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
        if region {
            // The hall's region, else the department's ($2 department, $3 hall).
            values.push(
                "COALESCE((SELECT region FROM halls WHERE key = $3), \
                 (SELECT region FROM departments WHERE key = $2), '')"
                    .into(),
            );
        }
        values.extend((0..fields.len()).map(|i| format!("${}", keys.len() + 1 + i)));
        let updates: Vec<String> = fields
            .iter()
            .map(|f| format!("{f} = {table}.{f} + excluded.{f}"))
            .collect();
        format!(
            "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
            columns.join(", "),
            values.join(", "),
            keys.join(", "),
            updates.join(", ")
        )
    }

    /// The rollup rows a write changes, with what each gains or loses. Rows are written in one
    /// global order (monthly rows by key, then daily rows by key), whatever order the changes
    /// came in: two concurrent writes that touch the same rows then lock them in the same order,
    /// so they wait for each other instead of deadlocking (PostgreSQL; SQLite has one writer).
    #[derive(Debug, Default)]
    pub(crate) struct Deltas {
        monthly: std::collections::BTreeMap<(String, String, String, String), Counters>,
        daily: std::collections::BTreeMap<(String, String), Counters>,
    }

    impl Deltas {
        /// Adds `sign × counters` at `slot`.
        pub(crate) fn add(&mut self, slot: &Slot, counters: &Counters, sign: i64) {
            let month = (
                Month::of(slot.day).key(),
                slot.department.clone(),
                slot.hall.clone(),
                slot.item_code.clone(),
            );
            self.monthly
                .entry(month)
                .or_default()
                .combine(counters, sign);
            let day = (slot.day.to_string(), slot.department.clone());
            self.daily.entry(day).or_default().combine(counters, sign);
        }

        /// Writes the non-zero deltas, in key order.
        pub(crate) async fn apply(self, conn: &mut Conn) -> Result<(), StoreError> {
            let monthly = upsert_sql(
                "stats_monthly",
                &["month", "department", "hall", "item_code"],
                true,
            );
            for ((month, department, hall, item_code), counters) in &self.monthly {
                if counters.is_zero() {
                    continue;
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(monthly.clone()))
                    .bind(month)
                    .bind(department)
                    .bind(hall)
                    .bind(item_code);
                for value in counters.values() {
                    query = query.bind(value);
                }
                query.execute(&mut *conn).await?;
            }
            let daily = upsert_sql("stats_daily", &["day", "department"], false);
            for ((day, department), counters) in &self.daily {
                if counters.is_zero() {
                    continue;
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(daily.clone()))
                    .bind(day)
                    .bind(department);
                for value in counters.values() {
                    query = query.bind(value);
                }
                query.execute(&mut *conn).await?;
            }
            Ok(())
        }
    }

    /// Moves a contribution: subtracts what was counted before (if anything) and adds the new.
    pub(crate) async fn apply_change(
        conn: &mut Conn,
        before: Option<(&Slot, Counters)>,
        after: Option<(&Slot, Counters)>,
    ) -> Result<(), StoreError> {
        let mut deltas = Deltas::default();
        if let Some((slot, counters)) = before {
            deltas.add(slot, &counters, -1);
        }
        if let Some((slot, counters)) = after {
            deltas.add(slot, &counters, 1);
        }
        deltas.apply(conn).await
    }

    #[derive(PartialEq)]
    struct StoredFact {
        department: String,
        hall: String,
        item_code: String,
        fact: CaseFact,
    }

    fn parse_date(text: Option<String>) -> Result<Option<Date>, StoreError> {
        text.map(|t| t.parse::<Date>().map_err(StoreError::corrupt))
            .transpose()
    }

    fn to_u32(value: i32) -> u32 {
        u32::try_from(value).unwrap_or(0)
    }

    fn decode_fact(row: &<Db as sqlx::Database>::Row) -> Result<StoredFact, StoreError> {
        Ok(StoredFact {
            department: row.try_get("department")?,
            hall: row.try_get("hall")?,
            item_code: row.try_get("item_code")?,
            fact: CaseFact {
                submitted_on: parse_date(row.try_get("submitted_on")?)?,
                online: row.try_get("online")?,
                decided_on: parse_date(row.try_get("decided_on")?)?,
                on_time: row.try_get("on_time")?,
                immediate: row.try_get("immediate")?,
                working_days: to_u32(row.try_get("working_days")?),
                promised_days: to_u32(row.try_get("promised_days")?),
                statutory_days: to_u32(row.try_get("statutory_days")?),
                visits: to_u32(row.try_get("visits")?),
            },
        })
    }

    async fn bump_histogram(
        conn: &mut Conn,
        month: &str,
        department: &str,
        days: i32,
        change: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO stats_days_histogram (month, department, days, cases) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (month, department, days) DO UPDATE SET cases = stats_days_histogram.cases + excluded.cases",
        )
        .bind(month)
        .bind(department)
        .bind(days)
        .bind(change)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The queue rollup rows a ticket write changes (see migration 0013), with what each gains
    /// or loses, written in key order like [`Deltas`].
    #[derive(Debug, Default)]
    struct QueueDeltas {
        /// (day, hall, window or "") → (called, wait seconds, served).
        daily: std::collections::BTreeMap<(String, String, String), [i64; 3]>,
        /// (month, hall, minutes) → tickets.
        histogram: std::collections::BTreeMap<(String, String, i64), i64>,
    }

    impl QueueDeltas {
        fn add(&mut self, fact: &QueueFact, sign: i64) {
            let day = fact.day.to_string();
            let hall = fact.hall.as_str().to_owned();
            if let Some(seconds) = fact.wait_seconds {
                let row = self
                    .daily
                    .entry((day.clone(), hall.clone(), String::new()))
                    .or_default();
                row[0] += sign;
                row[1] += sign * seconds;
                *self
                    .histogram
                    .entry((Month::of(fact.day).key(), hall.clone(), wait_bucket(seconds)))
                    .or_default() += sign;
            }
            if let Some(window) = &fact.served_by {
                let row = self
                    .daily
                    .entry((day, hall, window.as_str().to_owned()))
                    .or_default();
                row[2] += sign;
            }
        }

        async fn apply(self, conn: &mut Conn) -> Result<(), StoreError> {
            for ((day, hall, window), [called, wait, served]) in &self.daily {
                if [*called, *wait, *served] == [0, 0, 0] {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO stats_queue_daily (day, hall, window_key, tickets_called, \
                     wait_seconds, tickets_served) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (day, hall, window_key) DO UPDATE SET \
                     tickets_called = stats_queue_daily.tickets_called + excluded.tickets_called, \
                     wait_seconds = stats_queue_daily.wait_seconds + excluded.wait_seconds, \
                     tickets_served = stats_queue_daily.tickets_served + excluded.tickets_served",
                )
                .bind(day)
                .bind(hall)
                .bind(window)
                .bind(called)
                .bind(wait)
                .bind(served)
                .execute(&mut *conn)
                .await?;
            }
            for ((month, hall, minutes), tickets) in &self.histogram {
                if *tickets == 0 {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO stats_wait_histogram (month, hall, minutes, tickets) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (month, hall, minutes) DO UPDATE SET \
                     tickets = stats_wait_histogram.tickets + excluded.tickets",
                )
                .bind(month)
                .bind(hall)
                .bind(minutes)
                .bind(tickets)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        }
    }

    /// The ticket as the `tickets` table holds it (whole microseconds), so that what a write
    /// adds is exactly what a later write, reading the stored row, takes away again.
    fn as_stored(ticket: &Ticket) -> Result<Ticket, StoreError> {
        let round = |at: jiff::Timestamp| crate::from_micros(crate::to_micros(at));
        let mut stored = ticket.clone();
        stored.taken_at = round(ticket.taken_at)?;
        stored.called_at = ticket.called_at.map(round).transpose()?;
        Ok(stored)
    }

    /// Moves a ticket's contribution to the queue rollups, inside the ticket write's
    /// transaction: subtracts what it contributed `before` (the stored row) and adds what it
    /// contributes `after`.
    pub(crate) async fn move_queue(
        conn: &mut Conn,
        before: Option<&Ticket>,
        after: Option<&Ticket>,
    ) -> Result<(), StoreError> {
        let mut deltas = QueueDeltas::default();
        if let Some(ticket) = before {
            deltas.add(&QueueFact::of(&as_stored(ticket)?), -1);
        }
        if let Some(ticket) = after {
            deltas.add(&QueueFact::of(&as_stored(ticket)?), 1);
        }
        deltas.apply(conn).await
    }

    /// The first day of a month, `YYYY-MM-DD`, for comparisons with the text days of the rollups.
    fn first_day(month: Month) -> String {
        format!("{}-01", month.key())
    }

    /// Only the places of an item's definition: the catalog figures need no more of it.
    #[derive(serde::Deserialize)]
    struct PlacesOnly {
        #[serde(default)]
        places: Vec<PlaceHall>,
    }

    #[derive(serde::Deserialize)]
    struct PlaceHall {
        #[serde(default)]
        hall: Option<HallKey>,
    }

    /// A contribution: where it counts and what.
    type Contribution = Option<(Slot, Counters)>;

    /// The submission and the decision contribution of a stored fact.
    fn slots(stored: &StoredFact) -> (Contribution, Contribution) {
        let slot = |day: Date| Slot {
            day,
            department: stored.department.clone(),
            hall: stored.hall.clone(),
            item_code: stored.item_code.clone(),
        };
        (
            stored
                .fact
                .submitted_on
                .map(|day| (slot(day), Counters::of_submission(&stored.fact))),
            stored
                .fact
                .decided_on
                .map(|day| (slot(day), Counters::of_decision(&stored.fact))),
        )
    }

    /// How many pending cases one fold takes at most (a few thousand bound values per statement,
    /// well under both engines' limits).
    pub(crate) const FOLD_BATCH: usize = 400;

    /// Pushes `(a, b, …)` of binds for `values`.
    fn push_ids(builder: &mut QueryBuilder<Db>, ids: &[uuid::Uuid]) {
        builder.push("(");
        let mut list = builder.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
    }

    /// Folds up to [`FOLD_BATCH`] pending cases (see migration 0012) into `case_facts` and the
    /// rollups, inside the caller's transaction, which must be the only fold running (the
    /// SQLite writer runs one request at a time; PostgreSQL takes an advisory lock first). On
    /// PostgreSQL the fold waits for no case write: it reads the committed marks without locking
    /// them and deletes only those no write holds.
    /// Returns how many pending cases it looked at.
    ///
    /// Each case's fact is derived again from the case and the events that can cost a visit;
    /// the rollup rows move by the difference from the stored fact, summed over the batch and
    /// written in key order, so a busy month costs one row change per batch, not one per case
    /// action.
    pub(crate) async fn fold_pending(conn: &mut Conn) -> Result<usize, StoreError> {
        if let Some(lock) = super::FOLD_LOCK {
            sqlx::query(lock).execute(&mut *conn).await?;
        }
        let pending = sqlx::query("SELECT case_id, version FROM stats_pending LIMIT $1")
            .bind(i64::try_from(FOLD_BATCH).unwrap_or(i64::MAX))
            .fetch_all(&mut *conn)
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(pending.len());
        let mut versions = Vec::with_capacity(pending.len());
        for row in &pending {
            ids.push(row.try_get::<uuid::Uuid, _>("case_id")?);
            versions.push(row.try_get::<i64, _>("version")?);
        }

        let mut builder: QueryBuilder<Db> =
            QueryBuilder::new("SELECT document FROM cases WHERE id IN ");
        push_ids(&mut builder, &ids);
        let mut cases = Vec::with_capacity(ids.len());
        for row in builder.build().fetch_all(&mut *conn).await? {
            let sqlx::types::Json(case): sqlx::types::Json<Case> = row.try_get("document")?;
            cases.push(case);
        }

        let mut builder: QueryBuilder<Db> =
            QueryBuilder::new("SELECT case_id, document FROM case_events WHERE kind IN ");
        builder.push("(");
        let mut kinds = builder.separated(", ");
        for kind in VISIT_EVENT_KINDS {
            kinds.push_bind(kind);
        }
        kinds.push_unseparated(") AND case_id IN ");
        push_ids(&mut builder, &ids);
        builder.push(" ORDER BY case_id, seq");
        let mut events: HashMap<uuid::Uuid, Vec<CaseEvent>> = HashMap::new();
        for row in builder.build().fetch_all(&mut *conn).await? {
            let sqlx::types::Json(event): sqlx::types::Json<CaseEvent> = row.try_get("document")?;
            events
                .entry(row.try_get("case_id")?)
                .or_default()
                .push(event);
        }

        let mut builder: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT case_id, department, hall, item_code, submitted_on, online, decided_on, \
             on_time, immediate, working_days, promised_days, statutory_days, visits \
             FROM case_facts WHERE case_id IN ",
        );
        push_ids(&mut builder, &ids);
        let mut stored = HashMap::new();
        for row in builder.build().fetch_all(&mut *conn).await? {
            stored.insert(row.try_get::<uuid::Uuid, _>("case_id")?, decode_fact(&row)?);
        }

        let calendar = Calendar::official().map_err(StoreError::corrupt)?;
        let mut deltas = Deltas::default();
        let mut histogram = std::collections::BTreeMap::new();
        let mut changed = Vec::new();
        for case in &cases {
            let new = StoredFact {
                department: case.department.as_str().to_owned(),
                hall: case
                    .hall
                    .as_ref()
                    .map_or(String::new(), |h| h.as_str().to_owned()),
                item_code: case.item_code.as_str().to_owned(),
                fact: CaseFact::derive(
                    case,
                    0,
                    events.get(&case.id).map_or(&[], Vec::as_slice),
                    &calendar,
                ),
            };
            let old = stored.get(&case.id);
            if old.is_some_and(|old| *old == new) {
                continue;
            }
            let (new_submission, new_decision) = slots(&new);
            let (old_submission, old_decision) = old.map_or((None, None), slots);
            for (slot, counters) in [old_submission, old_decision].iter().flatten() {
                deltas.add(slot, counters, -1);
            }
            for (slot, counters) in [new_submission, new_decision].iter().flatten() {
                deltas.add(slot, counters, 1);
            }
            for (fact, sign) in old.into_iter().map(|o| (o, -1)).chain([(&new, 1)]) {
                if let Some(decided_on) = fact.fact.decided_on {
                    let key = (
                        Month::of(decided_on).key(),
                        fact.department.clone(),
                        i32::try_from(fact.fact.working_days).unwrap_or(i32::MAX),
                    );
                    *histogram.entry(key).or_insert(0_i64) += sign;
                }
            }
            changed.push((case.id, new));
        }

        // One ordered set of row changes (see `Deltas`), the histogram rows in key order, the
        // facts, then the pending rows that did not change again meanwhile.
        deltas.apply(conn).await?;
        for ((month, department, days), change) in histogram {
            if change != 0 {
                bump_histogram(conn, &month, &department, days, change).await?;
            }
        }
        if !changed.is_empty() {
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO case_facts (case_id, region, department, hall, item_code, submitted_on, \
                 online, decided_on, on_time, immediate, working_days, promised_days, \
                 statutory_days, visits) ",
            );
            builder.push_values(&changed, |mut row, (id, new)| {
                let fact = &new.fact;
                row.push_bind(*id)
                    .push("COALESCE((SELECT region FROM halls WHERE key = ")
                    .push_bind_unseparated(new.hall.clone())
                    .push_unseparated("), (SELECT region FROM departments WHERE key = ")
                    .push_bind_unseparated(new.department.clone())
                    .push_unseparated("), '')")
                    .push_bind(new.department.clone())
                    .push_bind(new.hall.clone())
                    .push_bind(new.item_code.clone())
                    .push_bind(fact.submitted_on.map(|d| d.to_string()))
                    .push_bind(fact.online)
                    .push_bind(fact.decided_on.map(|d| d.to_string()))
                    .push_bind(fact.on_time)
                    .push_bind(fact.immediate)
                    .push_bind(i32::try_from(fact.working_days).unwrap_or(i32::MAX))
                    .push_bind(i32::try_from(fact.promised_days).unwrap_or(i32::MAX))
                    .push_bind(i32::try_from(fact.statutory_days).unwrap_or(i32::MAX))
                    .push_bind(i32::try_from(fact.visits).unwrap_or(i32::MAX));
            });
            builder.push(
                " ON CONFLICT (case_id) DO UPDATE SET region = excluded.region, \
                 department = excluded.department, hall = excluded.hall, \
                 item_code = excluded.item_code, submitted_on = excluded.submitted_on, \
                 online = excluded.online, decided_on = excluded.decided_on, \
                 on_time = excluded.on_time, immediate = excluded.immediate, \
                 working_days = excluded.working_days, promised_days = excluded.promised_days, \
                 statutory_days = excluded.statutory_days, visits = excluded.visits",
            );
            builder.build().execute(&mut *conn).await?;
        }
        // A mark whose case is being written again right now stays (its row is locked, and
        // its version will differ): folding it once more later changes nothing.
        let mut builder: QueryBuilder<Db> = QueryBuilder::new(
            "DELETE FROM stats_pending WHERE case_id IN (SELECT case_id FROM stats_pending WHERE ",
        );
        for (index, (id, version)) in ids.iter().zip(&versions).enumerate() {
            if index > 0 {
                builder.push(" OR ");
            }
            builder.push("(case_id = ");
            builder.push_bind(*id);
            builder.push(" AND version = ");
            builder.push_bind(*version);
            builder.push(")");
        }
        builder.push(super::SKIP_LOCKED).push(")");
        builder.build().execute(&mut *conn).await?;
        Ok(ids.len())
    }

    fn sums() -> String {
        Counters::FIELDS
            .iter()
            .map(|f| format!("CAST(SUM({f}) AS BIGINT) AS {f}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn decode_row(row: &<Db as sqlx::Database>::Row) -> Result<StatsRow, StoreError> {
        let mut values = [0_i64; 27];
        for (index, field) in Counters::FIELDS.iter().enumerate() {
            let value: Option<i64> = row.try_get(*field)?;
            values[index] = value.unwrap_or(0);
        }
        Ok(StatsRow {
            key: row.try_get("key")?,
            counters: Counters::from_values(values),
        })
    }

    /// The first instant of a month in China Standard Time, as Unix microseconds.
    fn month_start_micros(month: Month) -> Result<i64, StoreError> {
        let date =
            jiff::civil::Date::new(month.year, month.month, 1).map_err(StoreError::corrupt)?;
        let zoned = date
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .map_err(StoreError::corrupt)?;
        Ok(zoned.timestamp().as_microsecond())
    }

    /// Rounds of [`FOLD_BATCH`] one catch-up takes at most, so that a query under a storm of
    /// writes still answers (the background folder takes the rest).
    const CATCH_UP_ROUNDS: usize = 32;

    impl Adapter {
        /// Folds what is pending, so that a query sees every change committed before it.
        async fn catch_up(&self) -> Result<usize, StoreError> {
            let mut folded = 0;
            for _ in 0..CATCH_UP_ROUNDS {
                let waiting: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM stats_pending LIMIT 1")
                        .fetch_optional(&self.read)
                        .await?;
                if waiting.is_none() {
                    break;
                }
                let round = self.fold_round().await?;
                folded += round;
                if round < FOLD_BATCH {
                    break;
                }
            }
            Ok(folded)
        }

        async fn window_figures(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
            let from = month_start_micros(query.range.from)?;
            let until = month_start_micros(query.range.to.next())?;
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT window_key AS key, COUNT(*) AS ratings, \
                 CAST(SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS ratings_good, \
                 CAST(SUM(CASE WHEN score <= 2 THEN 1 ELSE 0 END) AS BIGINT) AS ratings_bad, \
                 CAST(SUM(CASE WHEN score = 5 THEN 1 ELSE 0 END) AS BIGINT) AS ratings_very_satisfied, \
                 CAST(SUM(CASE WHEN score = 1 THEN 1 ELSE 0 END) AS BIGINT) AS ratings_very_dissatisfied \
                 FROM ratings WHERE window_key IS NOT NULL AND rated_at >= ",
            );
            builder.push_bind(from);
            builder.push(" AND rated_at < ");
            builder.push_bind(until);
            if let Some(department) = &query.department {
                builder.push(" AND department = ");
                builder.push_bind(department.as_str().to_owned());
            }
            builder.push(" GROUP BY window_key ORDER BY window_key");
            let rows = builder.build().fetch_all(&self.read).await?;
            let mut figures = Vec::with_capacity(rows.len());
            for row in &rows {
                let ratings: i64 = row.try_get("ratings")?;
                let good: Option<i64> = row.try_get("ratings_good")?;
                let bad: Option<i64> = row.try_get("ratings_bad")?;
                let very_good: Option<i64> = row.try_get("ratings_very_satisfied")?;
                let very_bad: Option<i64> = row.try_get("ratings_very_dissatisfied")?;
                figures.push(StatsRow {
                    key: row.try_get("key")?,
                    counters: Counters {
                        ratings,
                        ratings_good: good.unwrap_or(0),
                        ratings_bad: bad.unwrap_or(0),
                        ratings_very_satisfied: very_good.unwrap_or(0),
                        ratings_very_dissatisfied: very_bad.unwrap_or(0),
                        ..Counters::default()
                    },
                });
            }
            Ok(figures)
        }
    }

    #[async_trait::async_trait]
    impl StatsStore for Adapter {
        async fn fold_pending(&self) -> Result<usize, StoreError> {
            self.catch_up().await
        }

        async fn figures(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
            self.catch_up().await?;
            let column = match query.dimension {
                Dimension::Region => "region",
                Dimension::Department => "department",
                Dimension::Hall => "hall",
                Dimension::Item => "item_code",
                Dimension::Window => return self.window_figures(query).await,
            };
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {column} AS key, {} FROM stats_monthly WHERE month >= ",
                sums()
            ));
            builder.push_bind(query.range.from.key());
            builder.push(" AND month <= ");
            builder.push_bind(query.range.to.key());
            if let Some(department) = &query.department {
                builder.push(" AND department = ");
                builder.push_bind(department.as_str().to_owned());
            }
            builder.push(format!(" GROUP BY {column} ORDER BY {column}"));
            let rows = builder.build().fetch_all(&self.read).await?;
            rows.iter().map(decode_row).collect()
        }

        async fn monthly(
            &self,
            range: MonthRange,
            department: Option<&DepartmentKey>,
        ) -> Result<Vec<StatsRow>, StoreError> {
            self.catch_up().await?;
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT month AS key, {} FROM stats_monthly WHERE month >= ",
                sums()
            ));
            builder.push_bind(range.from.key());
            builder.push(" AND month <= ");
            builder.push_bind(range.to.key());
            if let Some(department) = department {
                builder.push(" AND department = ");
                builder.push_bind(department.as_str().to_owned());
            }
            builder.push(" GROUP BY month ORDER BY month");
            let rows = builder.build().fetch_all(&self.read).await?;
            rows.iter().map(decode_row).collect()
        }

        async fn daily(
            &self,
            from: Date,
            to: Date,
            department: Option<&DepartmentKey>,
        ) -> Result<Vec<StatsRow>, StoreError> {
            self.catch_up().await?;
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT day AS key, {} FROM stats_daily WHERE day >= ",
                sums()
            ));
            builder.push_bind(from.to_string());
            builder.push(" AND day <= ");
            builder.push_bind(to.to_string());
            if let Some(department) = department {
                builder.push(" AND department = ");
                builder.push_bind(department.as_str().to_owned());
            }
            builder.push(" GROUP BY day ORDER BY day");
            let rows = builder.build().fetch_all(&self.read).await?;
            rows.iter().map(decode_row).collect()
        }

        async fn days_histogram(
            &self,
            range: MonthRange,
            department: Option<&DepartmentKey>,
        ) -> Result<Vec<(i64, i64)>, StoreError> {
            self.catch_up().await?;
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT CAST(days AS BIGINT) AS days, CAST(SUM(cases) AS BIGINT) AS cases \
                 FROM stats_days_histogram WHERE month >= ",
            );
            builder.push_bind(range.from.key());
            builder.push(" AND month <= ");
            builder.push_bind(range.to.key());
            if let Some(department) = department {
                builder.push(" AND department = ");
                builder.push_bind(department.as_str().to_owned());
            }
            builder.push(" GROUP BY days HAVING SUM(cases) > 0 ORDER BY days");
            let rows = builder.build().fetch_all(&self.read).await?;
            let mut histogram = Vec::with_capacity(rows.len());
            for row in &rows {
                histogram.push((row.try_get("days")?, row.try_get("cases")?));
            }
            Ok(histogram)
        }
        async fn queue_figures(
            &self,
            range: MonthRange,
            group: QueueGroup,
        ) -> Result<Vec<QueueRow>, StoreError> {
            let (key, histogram_key) = match group {
                QueueGroup::Hall => ("q.hall", Some("w.hall")),
                QueueGroup::Region => ("COALESCE(h.region, '')", Some("COALESCE(h.region, '')")),
                QueueGroup::Window => ("q.window_key", None),
                QueueGroup::Month => ("substr(q.day, 1, 7)", Some("w.month")),
                QueueGroup::Total => ("''", Some("''")),
            };
            // A window-day is a row of a window (not the hall's own row of waits) that served.
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT CAST({key} AS TEXT) AS key, \
                 CAST(SUM(q.tickets_called) AS BIGINT) AS tickets_called, \
                 CAST(SUM(q.wait_seconds) AS BIGINT) AS wait_seconds, \
                 CAST(SUM(q.tickets_served) AS BIGINT) AS tickets_served, \
                 CAST(SUM(CASE WHEN q.window_key <> '' AND q.tickets_served > 0 THEN 1 ELSE 0 END) \
                 AS BIGINT) AS window_days \
                 FROM stats_queue_daily q LEFT JOIN halls h ON h.key = q.hall WHERE q.day >= "
            ));
            builder.push_bind(first_day(range.from));
            builder.push(" AND q.day < ");
            builder.push_bind(first_day(range.to.next()));
            if group == QueueGroup::Window {
                builder.push(" AND q.window_key <> ''");
            }
            builder.push(" GROUP BY 1 ORDER BY 1");
            let mut rows = Vec::new();
            let mut index = HashMap::new();
            for row in builder.build().fetch_all(&self.read).await? {
                let key: String = row.try_get("key")?;
                let value = |column: &str| -> Result<i64, StoreError> {
                    Ok(row.try_get::<Option<i64>, _>(column)?.unwrap_or(0))
                };
                let counters = QueueCounters {
                    called: value("tickets_called")?,
                    wait_seconds: value("wait_seconds")?,
                    served: value("tickets_served")?,
                    window_days: value("window_days")?,
                };
                index.insert(key.clone(), rows.len());
                rows.push(QueueRow {
                    key,
                    counters,
                    wait_histogram: Vec::new(),
                });
            }
            let Some(histogram_key) = histogram_key else {
                return Ok(rows);
            };
            let mut builder: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT CAST({histogram_key} AS TEXT) AS key, w.minutes AS minutes, \
                 CAST(SUM(w.tickets) AS BIGINT) AS tickets \
                 FROM stats_wait_histogram w LEFT JOIN halls h ON h.key = w.hall WHERE w.month >= "
            ));
            builder.push_bind(range.from.key());
            builder.push(" AND w.month <= ");
            builder.push_bind(range.to.key());
            builder.push(" GROUP BY 1, 2 HAVING SUM(w.tickets) > 0 ORDER BY 1, 2");
            for row in builder.build().fetch_all(&self.read).await? {
                let key: String = row.try_get("key")?;
                let bucket: (i64, i64) = (row.try_get("minutes")?, row.try_get("tickets")?);
                match index.get(&key) {
                    Some(&position) => rows[position].wait_histogram.push(bucket),
                    None => {
                        index.insert(key.clone(), rows.len());
                        rows.push(QueueRow {
                            key,
                            counters: QueueCounters::default(),
                            wait_histogram: vec![bucket],
                        });
                    }
                }
            }
            Ok(rows)
        }

        async fn item_facts(&self) -> Result<Vec<ItemFact>, StoreError> {
            let rows = sqlx::query(
                "SELECT i.implementation_code, v.item_type, v.department, v.online_capable, \
                 v.definition FROM items i JOIN item_versions v \
                 ON v.item_id = i.id AND v.status = 'published'",
            )
            .fetch_all(&self.read)
            .await?;
            let mut facts = Vec::with_capacity(rows.len());
            for row in &rows {
                let code: String = row.try_get("implementation_code")?;
                let item_type: String = row.try_get("item_type")?;
                let department: String = row.try_get("department")?;
                let sqlx::types::Json(places): sqlx::types::Json<PlacesOnly> =
                    row.try_get("definition")?;
                facts.push(ItemFact {
                    code: ImplementationCode::parse(&code).map_err(StoreError::corrupt)?,
                    department: DepartmentKey::parse(&department).map_err(StoreError::corrupt)?,
                    item_type: ItemType::from_code(&item_type)
                        .ok_or_else(|| StoreError::corrupt(format!("item type {item_type}")))?,
                    online_capable: row.try_get("online_capable")?,
                    halls: places.places.into_iter().filter_map(|p| p.hall).collect(),
                });
            }
            facts.sort_by(|a, b| a.code.cmp(&b.code));
            Ok(facts)
        }

        async fn bundle_catalog(&self) -> Result<BundleCatalog, StoreError> {
            let rows = sqlx::query(
                "SELECT v.definition FROM bundles b JOIN bundle_versions v \
                 ON v.bundle_id = b.id AND v.status = 'published'",
            )
            .fetch_all(&self.read)
            .await?;
            let mut bundles = Vec::with_capacity(rows.len());
            for row in &rows {
                let sqlx::types::Json(bundle): sqlx::types::Json<BundleDefinition> =
                    row.try_get("definition")?;
                bundles.push(bundle);
            }
            bundles.sort_by(|a, b| a.code.cmp(&b.code));
            let mut codes: Vec<String> = bundles
                .iter()
                .flat_map(|b| b.members.iter().map(|m| m.item.as_str().to_owned()))
                .collect();
            codes.sort();
            codes.dedup();
            let mut items = std::collections::BTreeMap::new();
            if !codes.is_empty() {
                let mut builder: QueryBuilder<Db> = QueryBuilder::new(
                    "SELECT v.definition FROM items i JOIN item_versions v \
                     ON v.item_id = i.id AND v.status = 'published' \
                     WHERE i.implementation_code IN (",
                );
                let mut list = builder.separated(", ");
                for code in &codes {
                    list.push_bind(code.clone());
                }
                list.push_unseparated(")");
                for row in builder.build().fetch_all(&self.read).await? {
                    let sqlx::types::Json(item): sqlx::types::Json<ItemDefinition> =
                        row.try_get("definition")?;
                    items.insert(item.implementation_code.clone(), item);
                }
            }
            Ok(BundleCatalog { bundles, items })
        }
    }
}
