// Portable SQL for the webhook port, compiled once per engine (see sql/catalog.rs for the scheme).
//
// Fan-out reads the outbox past a cursor kept in `webhook_cursor` and writes the deliveries and
// the new cursor in the same transaction, so a crash either keeps all of it or none of it; the
// unique (subscription_id, message_id) pair makes a repeated fan-out insert nothing. Delivery
// itself is at least once: a receiver deduplicates by the `X-Tongban-Delivery` header.

mod webhook_sql {
    use sqlx::types::Json;
    use sqlx::{QueryBuilder, Row};
    use tongban_domain::keys::DepartmentKey;

    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::model::{
        Delivery, DeliveryFailure, DeliveryFilter, DeliveryStatus, DueDelivery, FanOutReport,
        NewSubscription, NextAttempt, Subscription, WebhookSecret,
    };
    use crate::ports::WebhookStore;
    use crate::{from_micros, new_id, to_micros};

    /// The one fan-out cursor's name (a table, so that more readers of the outbox can be added).
    const CURSOR: &str = "webhooks";

    const SUBSCRIPTION_COLUMNS: &str = "id, department, url, secret, topics, active, created_at";

    const DELIVERY_COLUMNS: &str = "d.id, d.subscription_id, d.message_id, d.topic, d.payload, \
         d.status, d.attempts, d.next_attempt_at, d.last_error, d.last_status, d.delivered_at, \
         d.created_at";

    fn decode_subscription(row: &<Db as sqlx::Database>::Row) -> Result<Subscription, StoreError> {
        let department: String = row.try_get("department")?;
        let topics: String = row.try_get("topics")?;
        Ok(Subscription {
            id: row.try_get("id")?,
            department: department.parse().map_err(StoreError::corrupt)?,
            url: row.try_get("url")?,
            secret: WebhookSecret::new(row.try_get("secret")?),
            topics: topics
                .split(',')
                .filter(|topic| !topic.is_empty())
                .map(str::to_owned)
                .collect(),
            active: row.try_get("active")?,
            created_at: from_micros(row.try_get("created_at")?)?,
        })
    }

    fn decode_delivery(row: &<Db as sqlx::Database>::Row) -> Result<Delivery, StoreError> {
        let status: String = row.try_get("status")?;
        let attempts: i32 = row.try_get("attempts")?;
        let last_status: Option<i32> = row.try_get("last_status")?;
        let delivered_at: Option<i64> = row.try_get("delivered_at")?;
        let Json(payload): Json<serde_json::Value> = row.try_get("payload")?;
        Ok(Delivery {
            id: row.try_get("id")?,
            subscription_id: row.try_get("subscription_id")?,
            message_id: row.try_get("message_id")?,
            topic: row.try_get("topic")?,
            payload,
            status: DeliveryStatus::parse(&status)
                .ok_or_else(|| StoreError::corrupt(format!("unknown delivery status {status}")))?,
            attempts: u32::try_from(attempts).map_err(StoreError::corrupt)?,
            next_attempt_at: from_micros(row.try_get("next_attempt_at")?)?,
            last_error: row.try_get("last_error")?,
            last_status: last_status
                .map(u16::try_from)
                .transpose()
                .map_err(StoreError::corrupt)?,
            delivered_at: delivered_at.map(from_micros).transpose()?,
            created_at: from_micros(row.try_get("created_at")?)?,
        })
    }

    async fn active_subscriptions(conn: &mut Conn) -> Result<Vec<Subscription>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE active = TRUE \
             ORDER BY created_at, id"
        )))
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(decode_subscription).collect()
    }

    async fn delivery_on(conn: &mut Conn, id: uuid::Uuid) -> Result<Option<Delivery>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.as_ref().map(decode_delivery).transpose()
    }

    #[cfg(feature = "testing")]
    impl Adapter {
        /// Writes outbox messages without a case change (tests only).
        pub(crate) async fn insert_outbox_for_tests(
            &self,
            messages: Vec<crate::model::OutboxMessage>,
        ) -> Result<(), StoreError> {
            self.write(move |conn| {
                Box::pin(async move {
                    for message in &messages {
                        sqlx::query(
                            "INSERT INTO outbox (id, topic, case_id, department, payload, \
                             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(message.id)
                        .bind(&message.topic)
                        .bind(message.case_id)
                        .bind(message.department.as_ref().map(|d| d.as_str()))
                        .bind(Json(&message.payload))
                        .bind(to_micros(message.created_at))
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .await
        }
    }

    #[async_trait::async_trait]
    impl WebhookStore for Adapter {
        async fn create_subscription(
            &self,
            subscription: &NewSubscription,
        ) -> Result<Subscription, StoreError> {
            if subscription.topics.iter().any(|topic| topic.contains(',')) {
                return Err(StoreError::Conflict(
                    "a topic prefix cannot contain a comma".into(),
                ));
            }
            let created = Subscription {
                id: new_id(to_micros(subscription.created_at)),
                department: subscription.department.clone(),
                url: subscription.url.clone(),
                secret: subscription.secret.clone(),
                topics: subscription.topics.clone(),
                active: true,
                // As stored (microseconds), so that the answer equals what a list reads back.
                created_at: from_micros(to_micros(subscription.created_at))?,
            };
            let row = created.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO webhook_subscriptions (id, department, url, secret, topics, \
                         active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(row.id)
                    .bind(row.department.as_str())
                    .bind(&row.url)
                    .bind(row.secret.expose())
                    .bind(row.topics.join(","))
                    .bind(row.active)
                    .bind(to_micros(row.created_at))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
            Ok(created)
        }

        async fn list_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions ORDER BY created_at, id"
            )))
            .fetch_all(&self.read)
            .await?;
            rows.iter().map(decode_subscription).collect()
        }

        async fn deactivate_subscription(&self, id: uuid::Uuid) -> Result<bool, StoreError> {
            self.write(move |conn| {
                Box::pin(async move {
                    let stopped = sqlx::query(
                        "UPDATE webhook_subscriptions SET active = FALSE \
                         WHERE id = $1 AND active = TRUE",
                    )
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    if stopped.rows_affected() == 0 {
                        return Ok(false);
                    }
                    // Nothing will send them any more; dead makes that visible (and resendable
                    // if the subscription is ever needed again through a new one).
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'dead', \
                         last_error = 'the subscription was deactivated' \
                         WHERE subscription_id = $1 AND status = 'pending'",
                    )
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(true)
                })
            })
            .await
        }

        async fn fan_out(
            &self,
            settled_before: jiff::Timestamp,
            at: jiff::Timestamp,
            limit: u32,
        ) -> Result<FanOutReport, StoreError> {
            let settled_before = to_micros(settled_before);
            let at = to_micros(at);
            let limit = i64::from(limit.clamp(1, 1000));
            self.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO webhook_cursor (name, after_created_at, after_id) \
                         VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(CURSOR)
                    .bind(i64::MIN)
                    .bind(uuid::Uuid::nil())
                    .execute(&mut *conn)
                    .await?;
                    // A no-op update that returns the cursor: on PostgreSQL it also locks the row
                    // until commit, so concurrent fan-outs (several servers) take turns instead
                    // of reading the same messages. SQLite has one writer anyway.
                    let cursor = sqlx::query(
                        "UPDATE webhook_cursor SET after_created_at = after_created_at \
                         WHERE name = $1 RETURNING after_created_at, after_id",
                    )
                    .bind(CURSOR)
                    .fetch_one(&mut *conn)
                    .await?;
                    let after_at: i64 = cursor.try_get("after_created_at")?;
                    let after_id: uuid::Uuid = cursor.try_get("after_id")?;
                    // The same order as `CaseStore::outbox_after`.
                    let messages = sqlx::query(
                        "SELECT id, topic, department, payload, created_at FROM outbox \
                         WHERE (created_at > $1 OR (created_at = $2 AND id > $3)) \
                         AND created_at <= $4 ORDER BY created_at, id LIMIT $5",
                    )
                    .bind(after_at)
                    .bind(after_at)
                    .bind(after_id)
                    .bind(settled_before)
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await?;
                    let mut report = FanOutReport::default();
                    if messages.is_empty() {
                        return Ok(report);
                    }
                    let subscriptions = active_subscriptions(conn).await?;
                    let mut last = (after_at, after_id);
                    for message in &messages {
                        let id: uuid::Uuid = message.try_get("id")?;
                        let topic: String = message.try_get("topic")?;
                        let department: Option<String> = message.try_get("department")?;
                        let created_at: i64 = message.try_get("created_at")?;
                        // A department that does not parse matches no subscription; failing
                        // here would stop the fan-out at this message for ever.
                        let department =
                            department.and_then(|text| DepartmentKey::parse(&text).ok());
                        let mut payload: Option<Json<serde_json::Value>> = None;
                        for subscription in &subscriptions {
                            if !subscription.matches(department.as_ref(), &topic) {
                                continue;
                            }
                            if payload.is_none() {
                                payload = Some(message.try_get("payload")?);
                            }
                            let inserted = sqlx::query(
                                "INSERT INTO webhook_deliveries (id, subscription_id, message_id, \
                                 topic, payload, status, attempts, next_attempt_at, last_error, \
                                 last_status, delivered_at, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, NULL, NULL, NULL, \
                                 $7) ON CONFLICT (subscription_id, message_id) DO NOTHING",
                            )
                            .bind(new_id(at))
                            .bind(subscription.id)
                            .bind(id)
                            .bind(&topic)
                            .bind(&payload)
                            .bind(at)
                            .bind(at)
                            .execute(&mut *conn)
                            .await?;
                            let created = u32::try_from(inserted.rows_affected()).unwrap_or(0);
                            report.deliveries += created;
                        }
                        report.messages += 1;
                        last = (created_at, id);
                    }
                    sqlx::query(
                        "UPDATE webhook_cursor SET after_created_at = $1, after_id = $2 \
                         WHERE name = $3",
                    )
                    .bind(last.0)
                    .bind(last.1)
                    .bind(CURSOR)
                    .execute(&mut *conn)
                    .await?;
                    Ok(report)
                })
            })
            .await
        }

        async fn claim_due_deliveries(
            &self,
            now: jiff::Timestamp,
            lease_until: jiff::Timestamp,
            limit: u32,
        ) -> Result<Vec<DueDelivery>, StoreError> {
            let now = to_micros(now);
            let lease_until = to_micros(lease_until);
            let limit = i64::from(limit.clamp(1, 500));
            self.write(move |conn| {
                Box::pin(async move {
                    // The outer conditions repeat the inner ones: on PostgreSQL a row claimed by
                    // a concurrent dispatcher is re-checked after its lock and skipped.
                    let claimed: Vec<uuid::Uuid> = sqlx::query_scalar(
                        "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                         WHERE status = 'pending' AND next_attempt_at <= $2 AND id IN (\
                         SELECT d.id FROM webhook_deliveries d \
                         JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                         WHERE d.status = 'pending' AND d.next_attempt_at <= $3 \
                         AND s.active = TRUE ORDER BY d.next_attempt_at, d.id LIMIT $4) \
                         RETURNING id",
                    )
                    .bind(lease_until)
                    .bind(now)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await?;
                    if claimed.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut query = QueryBuilder::<Db>::new("SELECT ");
                    query.push(DELIVERY_COLUMNS).push(
                        ", s.url, s.secret, o.created_at AS message_created_at \
                         FROM webhook_deliveries d \
                         JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                         LEFT JOIN outbox o ON o.id = d.message_id WHERE d.id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in &claimed {
                        list.push_bind(*id);
                    }
                    query.push(") ORDER BY d.created_at, d.id");
                    let rows = query.build().fetch_all(&mut *conn).await?;
                    let mut due = Vec::with_capacity(rows.len());
                    for row in rows {
                        let delivery = decode_delivery(&row)?;
                        let message_created_at: Option<i64> = row.try_get("message_created_at")?;
                        due.push(DueDelivery {
                            message_created_at: match message_created_at {
                                Some(micros) => from_micros(micros)?,
                                None => delivery.created_at,
                            },
                            url: row.try_get("url")?,
                            secret: WebhookSecret::new(row.try_get("secret")?),
                            delivery,
                        });
                    }
                    Ok(due)
                })
            })
            .await
        }

        async fn mark_delivered(
            &self,
            id: uuid::Uuid,
            status: u16,
            at: jiff::Timestamp,
        ) -> Result<bool, StoreError> {
            let at = to_micros(at);
            self.write(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'delivered', \
                         attempts = attempts + 1, last_status = $1, last_error = NULL, \
                         delivered_at = $2, next_attempt_at = $3 \
                         WHERE id = $4 AND status = 'pending'",
                    )
                    .bind(i32::from(status))
                    .bind(at)
                    .bind(at)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(updated.rows_affected() > 0)
                })
            })
            .await
        }

        async fn mark_failed(
            &self,
            id: uuid::Uuid,
            failure: &DeliveryFailure,
        ) -> Result<bool, StoreError> {
            let (status, next) = match failure.next {
                NextAttempt::At(at) => (DeliveryStatus::Pending, Some(to_micros(at))),
                NextAttempt::Dead => (DeliveryStatus::Dead, None),
            };
            let error = failure.error.clone();
            let last_status = failure.status.map(i32::from);
            self.write(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, \
                         last_error = $2, last_status = $3, \
                         next_attempt_at = COALESCE($4, next_attempt_at) \
                         WHERE id = $5 AND status = 'pending'",
                    )
                    .bind(status.code())
                    .bind(&error)
                    .bind(last_status)
                    .bind(next)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(updated.rows_affected() > 0)
                })
            })
            .await
        }

        async fn list_deliveries(
            &self,
            filter: &DeliveryFilter,
        ) -> Result<Vec<Delivery>, StoreError> {
            let mut query = QueryBuilder::<Db>::new("SELECT ");
            query
                .push(DELIVERY_COLUMNS)
                .push(" FROM webhook_deliveries d WHERE 1 = 1");
            if let Some(status) = filter.status {
                query.push(" AND d.status = ").push_bind(status.code());
            }
            query
                .push(" ORDER BY d.created_at DESC, d.id DESC LIMIT ")
                .push_bind(i64::from(filter.limit.clamp(1, 500)));
            let rows = query.build().fetch_all(&self.read).await?;
            rows.iter().map(decode_delivery).collect()
        }

        async fn delivery(&self, id: uuid::Uuid) -> Result<Option<Delivery>, StoreError> {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.id = $1"
            )))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
            row.as_ref().map(decode_delivery).transpose()
        }

        async fn resend(
            &self,
            id: uuid::Uuid,
            at: jiff::Timestamp,
        ) -> Result<Delivery, StoreError> {
            let at = to_micros(at);
            self.write(move |conn| {
                Box::pin(async move {
                    let found = sqlx::query(
                        "SELECT d.status, s.active FROM webhook_deliveries d \
                         JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                    let Some(found) = found else {
                        return Err(StoreError::NotFound {
                            what: format!("webhook delivery {id}"),
                        });
                    };
                    let status: String = found.try_get("status")?;
                    let active: bool = found.try_get("active")?;
                    if status != DeliveryStatus::Dead.code() {
                        return Err(StoreError::Conflict(format!(
                            "only a dead delivery can be resent; this one is {status}"
                        )));
                    }
                    if !active {
                        return Err(StoreError::Conflict(
                            "the subscription of this delivery is inactive".into(),
                        ));
                    }
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, \
                         next_attempt_at = $1 WHERE id = $2 AND status = 'dead'",
                    )
                    .bind(at)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    delivery_on(conn, id)
                        .await?
                        .ok_or_else(|| StoreError::NotFound {
                            what: format!("webhook delivery {id}"),
                        })
                })
            })
            .await
        }
    }
}
