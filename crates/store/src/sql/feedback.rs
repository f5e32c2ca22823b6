// Portable SQL for the feedback port (ratings and rectification), compiled once per engine (see
// sql/catalog.rs for the scheme). A rating, the task it opens and the rollup counters commit
// together; a task change moves its rollup contribution in the same transaction.

mod feedback_sql {
    use sqlx::Row;
    use sqlx::types::Json;
    use tongban_domain::calendar::shanghai_date;
    use tongban_domain::feedback::{
        PriorRatings, RatedKind, Rating, RatingChannel, RatingLevel, RatingRound, Rectification,
    };
    use tongban_domain::stats::Counters;

    use super::stats_sql::{Slot, apply_change};
    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::model::RectificationFilter;
    use crate::ports::FeedbackStore;
    use crate::{from_micros, to_micros};

    const RATING_COLUMNS: &str = "id, kind, subject, round, level, channel, text, anonymous, rater, \
         department, hall, window_key, item_code, region, rated_at";

    fn decode_rating(row: &<Db as sqlx::Database>::Row) -> Result<Rating, StoreError> {
        let kind: String = row.try_get("kind")?;
        let round: i32 = row.try_get("round")?;
        let level: String = row.try_get("level")?;
        let channel: String = row.try_get("channel")?;
        let department: String = row.try_get("department")?;
        Ok(Rating {
            id: row.try_get("id")?,
            kind: RatedKind::parse(&kind).map_err(StoreError::corrupt)?,
            subject: row.try_get("subject")?,
            round: RatingRound::from_number(i64::from(round)).map_err(StoreError::corrupt)?,
            level: RatingLevel::parse(&level).map_err(StoreError::corrupt)?,
            channel: RatingChannel::parse(&channel).map_err(StoreError::corrupt)?,
            text: row.try_get("text")?,
            anonymous: row.try_get("anonymous")?,
            rater: row.try_get("rater")?,
            department: department.parse().map_err(StoreError::corrupt)?,
            hall: row.try_get("hall")?,
            window: row.try_get("window_key")?,
            item_code: row.try_get("item_code")?,
            region: row.try_get("region")?,
            at: from_micros(row.try_get("rated_at")?)?,
        })
    }

    fn decode_task(row: &<Db as sqlx::Database>::Row) -> Result<Rectification, StoreError> {
        let Json(task): Json<Rectification> = row.try_get("document")?;
        Ok(task)
    }

    fn version_i64(version: u64) -> i64 {
        i64::try_from(version).unwrap_or(i64::MAX)
    }

    /// Where a rating's counters go: the day it was given, its department, hall and item.
    fn rating_slot(rating: &Rating) -> Slot {
        Slot {
            day: shanghai_date(rating.at),
            department: rating.department.as_str().to_owned(),
            hall: rating.hall.clone().unwrap_or_default(),
            item_code: rating.item_code.clone().unwrap_or_default(),
        }
    }

    /// A task's counters go where its rating's went, on the day the task was opened.
    async fn task_slot(conn: &mut Conn, task: &Rectification) -> Result<Slot, StoreError> {
        let row = sqlx::query("SELECT hall, item_code FROM ratings WHERE id = $1")
            .bind(task.rating_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("rating {}", task.rating_id),
            })?;
        let hall: Option<String> = row.try_get("hall")?;
        let item_code: Option<String> = row.try_get("item_code")?;
        Ok(Slot {
            day: shanghai_date(task.opened_at),
            department: task.department.as_str().to_owned(),
            hall: hall.unwrap_or_default(),
            item_code: item_code.unwrap_or_default(),
        })
    }

    #[async_trait::async_trait]
    impl FeedbackStore for Adapter {
        async fn prior_ratings(
            &self,
            kind: RatedKind,
            subject: &str,
        ) -> Result<PriorRatings, StoreError> {
            let rows = sqlx::query(
                "SELECT r.round, r.score, t.state FROM ratings r \
                 LEFT JOIN rectifications t ON t.rating_id = r.id \
                 WHERE r.kind = $1 AND r.subject = $2",
            )
            .bind(kind.code())
            .bind(subject)
            .fetch_all(&self.read)
            .await?;
            let mut prior = PriorRatings::default();
            for row in &rows {
                let round: i32 = row.try_get("round")?;
                let score: i32 = row.try_get("score")?;
                let state: Option<String> = row.try_get("state")?;
                if round == 1 {
                    prior.first = true;
                    prior.first_was_bad = score <= 2;
                    prior.rectification_settled = state.as_deref().is_some_and(|s| {
                        tongban_domain::feedback::RectificationState::parse(s)
                            .is_ok_and(|state| state.is_settled())
                    });
                } else {
                    prior.second = true;
                }
            }
            Ok(prior)
        }

        async fn save_rating(
            &self,
            rating: &Rating,
            task: Option<&Rectification>,
        ) -> Result<(), StoreError> {
            let rating = rating.clone();
            let task = task.cloned();
            self.write(move |conn| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO ratings (id, kind, subject, round, level, score, channel, text, \
                         anonymous, rater, department, hall, window_key, item_code, region, rated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                         ON CONFLICT (kind, subject, round) DO NOTHING",
                    )
                    .bind(rating.id)
                    .bind(rating.kind.code())
                    .bind(&rating.subject)
                    .bind(i32::from(rating.round.number()))
                    .bind(rating.level.code())
                    .bind(i32::from(rating.level.score()))
                    .bind(rating.channel.code())
                    .bind(&rating.text)
                    .bind(rating.anonymous)
                    .bind(&rating.rater)
                    .bind(rating.department.as_str())
                    .bind(&rating.hall)
                    .bind(&rating.window)
                    .bind(&rating.item_code)
                    .bind(&rating.region)
                    .bind(to_micros(rating.at))
                    .execute(&mut *conn)
                    .await?;
                    if inserted.rows_affected() == 0 {
                        return Err(StoreError::Conflict(format!(
                            "{} {} already has a rating of round {}",
                            rating.kind.code(),
                            rating.subject,
                            rating.round.number()
                        )));
                    }
                    let slot = rating_slot(&rating);
                    apply_change(conn, None, Some((&slot, Counters::of_rating(rating.level))))
                        .await?;
                    if let Some(task) = &task {
                        sqlx::query(
                            "INSERT INTO rectifications (id, rating_id, subject, department, state, due_on, \
                             opened_at, closed_at, version, document) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        )
                        .bind(task.id)
                        .bind(task.rating_id)
                        .bind(&task.subject)
                        .bind(task.department.as_str())
                        .bind(task.state.code())
                        .bind(task.due_on.to_string())
                        .bind(to_micros(task.opened_at))
                        .bind(task.closed_at.map(to_micros))
                        .bind(version_i64(task.version))
                        .bind(Json(task))
                        .execute(&mut *conn)
                        .await?;
                        let slot = task_slot(conn, task).await?;
                        apply_change(conn, None, Some((&slot, Counters::of_rectification(task))))
                            .await?;
                    }
                    Ok(())
                })
            })
            .await
        }

        async fn ratings_of(
            &self,
            kind: RatedKind,
            subject: &str,
        ) -> Result<Vec<Rating>, StoreError> {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RATING_COLUMNS} FROM ratings WHERE kind = $1 AND subject = $2 ORDER BY round"
            )))
            .bind(kind.code())
            .bind(subject)
            .fetch_all(&self.read)
            .await?;
            rows.iter().map(decode_rating).collect()
        }

        async fn rectification(&self, id: uuid::Uuid) -> Result<Option<Rectification>, StoreError> {
            let row = sqlx::query("SELECT document FROM rectifications WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
            row.as_ref().map(decode_task).transpose()
        }

        async fn list_rectifications(
            &self,
            filter: &RectificationFilter,
        ) -> Result<Vec<Rectification>, StoreError> {
            let mut query =
                sqlx::QueryBuilder::<Db>::new("SELECT document FROM rectifications WHERE 1 = 1");
            if let Some(department) = &filter.department {
                query
                    .push(" AND department = ")
                    .push_bind(department.as_str().to_owned());
            }
            if !filter.states.is_empty() {
                query.push(" AND state IN (");
                let mut separated = query.separated(", ");
                for state in &filter.states {
                    separated.push_bind(state.code());
                }
                query.push(")");
            }
            if let Some(today) = filter.overdue_on {
                query
                    .push(" AND state IN ('open', 'appealed') AND due_on < ")
                    .push_bind(today.to_string());
            }
            query
                .push(" ORDER BY due_on, id LIMIT ")
                .push_bind(i64::from(filter.limit.clamp(1, 500)));
            let rows = query.build().fetch_all(&self.read).await?;
            rows.iter().map(decode_task).collect()
        }

        async fn save_rectification(
            &self,
            task: &Rectification,
            expected_version: u64,
        ) -> Result<(), StoreError> {
            let task = task.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    let before = sqlx::query("SELECT version, document FROM rectifications WHERE id = $1")
                        .bind(task.id)
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or_else(|| StoreError::NotFound {
                            what: format!("rectification {}", task.id),
                        })?;
                    let version: i64 = before.try_get("version")?;
                    if version != version_i64(expected_version) {
                        return Err(StoreError::StaleVersion {
                            expected: expected_version,
                            actual: u64::try_from(version).unwrap_or(0),
                        });
                    }
                    let old = decode_task(&before)?;
                    sqlx::query(
                        "UPDATE rectifications SET state = $1, due_on = $2, closed_at = $3, version = $4, \
                         document = $5 WHERE id = $6",
                    )
                    .bind(task.state.code())
                    .bind(task.due_on.to_string())
                    .bind(task.closed_at.map(to_micros))
                    .bind(version_i64(task.version))
                    .bind(Json(&task))
                    .bind(task.id)
                    .execute(&mut *conn)
                    .await?;
                    let slot = task_slot(conn, &task).await?;
                    apply_change(
                        conn,
                        Some((&slot, Counters::of_rectification(&old))),
                        Some((&slot, Counters::of_rectification(&task))),
                    )
                    .await
                })
            })
            .await
        }
    }
}
