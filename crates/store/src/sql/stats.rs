// Portable SQL for the supervision rollups, compiled once per engine (see sql/catalog.rs for the
// scheme).
//
// Every write that changes a figure (a case change, a rating, a rectification, a ticket) calls
// `apply_change` in its own transaction with what the changed thing contributed before and what
// it contributes now; the difference goes into `stats_monthly` (month × department × hall × item)
// and `stats_daily` (day × department). Dashboard queries then sum a few thousand rows at most,
// whatever the number of cases (docs/kpis.md).

mod stats_sql {
    use jiff::civil::Date;
    use sqlx::{QueryBuilder, Row};
    use tongban_domain::calendar::Calendar;
    use tongban_domain::cases::{Case, CaseEvent};
    use tongban_domain::keys::DepartmentKey;
    use tongban_domain::stats::{CaseFact, Counters, Dimension, Month, MonthRange};

    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::model::{StatsQuery, StatsRow};
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

    async fn stored_fact(
        conn: &mut Conn,
        case_id: uuid::Uuid,
    ) -> Result<Option<StoredFact>, StoreError> {
        let row = sqlx::query(
            "SELECT department, hall, item_code, submitted_on, online, decided_on, on_time, \
             immediate, working_days, promised_days, statutory_days, visits \
             FROM case_facts WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(StoredFact {
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
        }))
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

    /// Keeps the case's fact and the rollups in step with a case change (called by the case
    /// writes inside their transaction).
    pub(crate) async fn record_case(
        conn: &mut Conn,
        case: &Case,
        events: &[CaseEvent],
    ) -> Result<(), StoreError> {
        let calendar = Calendar::official().map_err(StoreError::corrupt)?;
        let old = stored_fact(conn, case.id).await?;
        let earlier_visits = old.as_ref().map_or(0, |o| o.fact.visits);
        let new = StoredFact {
            department: case.department.as_str().to_owned(),
            hall: case
                .hall
                .as_ref()
                .map_or(String::new(), |h| h.as_str().to_owned()),
            item_code: case.item_code.as_str().to_owned(),
            fact: CaseFact::derive(case, earlier_visits, events, &calendar),
        };
        if let Some(old) = &old
            && old.fact == new.fact
            && old.department == new.department
            && old.hall == new.hall
            && old.item_code == new.item_code
        {
            return Ok(());
        }
        let (new_submission, new_decision) = slots(&new);
        let (old_submission, old_decision) = match &old {
            Some(old) => slots(old),
            None => (None, None),
        };
        // One ordered set of row changes (see `Deltas`), then the histogram rows in key order.
        let mut deltas = Deltas::default();
        for (slot, counters) in [old_submission, old_decision].iter().flatten() {
            deltas.add(slot, counters, -1);
        }
        for (slot, counters) in [new_submission, new_decision].iter().flatten() {
            deltas.add(slot, counters, 1);
        }
        deltas.apply(conn).await?;
        let mut histogram = std::collections::BTreeMap::new();
        for (stored, sign) in old.iter().map(|o| (o, -1)).chain([(&new, 1)]) {
            if let Some(decided_on) = stored.fact.decided_on {
                let key = (
                    Month::of(decided_on).key(),
                    stored.department.clone(),
                    i32::try_from(stored.fact.working_days).unwrap_or(i32::MAX),
                );
                *histogram.entry(key).or_insert(0_i64) += sign;
            }
        }
        for ((month, department, days), change) in histogram {
            if change != 0 {
                bump_histogram(conn, &month, &department, days, change).await?;
            }
        }
        let fact = &new.fact;
        sqlx::query(
            "INSERT INTO case_facts (case_id, region, department, hall, item_code, submitted_on, online, \
             decided_on, on_time, immediate, working_days, promised_days, statutory_days, visits) \
             VALUES ($1, COALESCE((SELECT region FROM halls WHERE key = $3), \
             (SELECT region FROM departments WHERE key = $2), ''), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (case_id) DO UPDATE SET region = excluded.region, department = excluded.department, \
             hall = excluded.hall, item_code = excluded.item_code, submitted_on = excluded.submitted_on, \
             online = excluded.online, decided_on = excluded.decided_on, on_time = excluded.on_time, \
             immediate = excluded.immediate, working_days = excluded.working_days, \
             promised_days = excluded.promised_days, statutory_days = excluded.statutory_days, \
             visits = excluded.visits",
        )
        .bind(case.id)
        .bind(&new.department)
        .bind(&new.hall)
        .bind(&new.item_code)
        .bind(fact.submitted_on.map(|d| d.to_string()))
        .bind(fact.online)
        .bind(fact.decided_on.map(|d| d.to_string()))
        .bind(fact.on_time)
        .bind(fact.immediate)
        .bind(i32::try_from(fact.working_days).unwrap_or(i32::MAX))
        .bind(i32::try_from(fact.promised_days).unwrap_or(i32::MAX))
        .bind(i32::try_from(fact.statutory_days).unwrap_or(i32::MAX))
        .bind(i32::try_from(fact.visits).unwrap_or(i32::MAX))
        .execute(&mut *conn)
        .await?;
        Ok(())
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

    impl Adapter {
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
        async fn figures(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
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
    }
}
