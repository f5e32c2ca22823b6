// Portable SQL for the hotline port, compiled once per engine (see sql/catalog.rs for the
// scheme). A ticket change, its department rows, its outbox messages and its rollup contribution
// commit together.

mod hotline_sql {
    use sqlx::Row;
    use sqlx::types::Json;
    use tongban_domain::calendar::shanghai_date;
    use tongban_domain::hotline::{Ticket, TicketState};
    use tongban_domain::stats::Counters;

    use super::stats_sql::{Slot, apply_change};
    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::model::{OutboxMessage, TicketFilter, TicketSummary};
    use crate::ports::HotlineStore;
    use crate::{from_micros, to_micros};

    fn version_i64(version: u64) -> i64 {
        i64::try_from(version).unwrap_or(i64::MAX)
    }

    fn decode_ticket(row: &<Db as sqlx::Database>::Row) -> Result<Ticket, StoreError> {
        let Json(ticket): Json<Ticket> = row.try_get("document")?;
        Ok(ticket)
    }

    /// A ticket counts on the day it was received, for the department handling it (empty while
    /// it waits for dispatch).
    fn slot(ticket: &Ticket) -> Slot {
        Slot {
            day: shanghai_date(ticket.received_at),
            department: ticket
                .department
                .as_ref()
                .map_or(String::new(), |d| d.as_str().to_owned()),
            hall: String::new(),
            item_code: String::new(),
        }
    }

    fn reminded_due_on(ticket: &Ticket) -> Option<String> {
        ticket.deadline_reminder_for.map(|d| d.to_string())
    }

    fn updated_at(ticket: &Ticket) -> i64 {
        ticket
            .events
            .last()
            .map_or(to_micros(ticket.received_at), |e| to_micros(e.at))
    }

    async fn write_departments(conn: &mut Conn, ticket: &Ticket) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM hotline_ticket_departments WHERE ticket_id = $1")
            .bind(ticket.id)
            .execute(&mut *conn)
            .await?;
        let mut departments: Vec<&str> = ticket.co_handlers.iter().map(|d| d.as_str()).collect();
        if let Some(lead) = &ticket.department {
            departments.push(lead.as_str());
        }
        for department in departments {
            sqlx::query(
                "INSERT INTO hotline_ticket_departments (ticket_id, department) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(ticket.id)
            .bind(department)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    #[async_trait::async_trait]
    impl HotlineStore for Adapter {
        async fn create_ticket(&self, ticket: Ticket) -> Result<Ticket, StoreError> {
            let mut ticket = ticket;
            self.write(move |conn| {
                Box::pin(async move {
                    let day = shanghai_date(ticket.received_at).strftime("%Y%m%d").to_string();
                    let prefix = format!("RX{day}");
                    let sequence: i64 = sqlx::query_scalar(
                        "INSERT INTO hotline_counters (prefix, value) VALUES ($1, 1) \
                         ON CONFLICT (prefix) DO UPDATE SET value = hotline_counters.value + 1 RETURNING value",
                    )
                    .bind(&prefix)
                    .fetch_one(&mut *conn)
                    .await?;
                    ticket.number = format!("{prefix}{sequence:04}");
                    sqlx::query(
                        "INSERT INTO hotline_tickets (id, number, version, channel, kind, category, area, \
                         urgency, state, department, due_on, caller_account, received_at, updated_at, document, \
                         reminded_due_on) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    )
                    .bind(ticket.id)
                    .bind(&ticket.number)
                    .bind(version_i64(ticket.version))
                    .bind(ticket.intake.channel.code())
                    .bind(ticket.intake.kind.code())
                    .bind(&ticket.intake.category)
                    .bind(&ticket.intake.area)
                    .bind(ticket.intake.urgency.code())
                    .bind(ticket.state.code())
                    .bind(ticket.department.as_ref().map(|d| d.as_str()))
                    .bind(ticket.due_on.map(|d| d.to_string()))
                    .bind(&ticket.intake.caller_account)
                    .bind(to_micros(ticket.received_at))
                    .bind(updated_at(&ticket))
                    .bind(Json(&ticket))
                    .bind(reminded_due_on(&ticket))
                    .execute(&mut *conn)
                    .await?;
                    write_departments(conn, &ticket).await?;
                    let slot = slot(&ticket);
                    apply_change(conn, None, Some((&slot, Counters::of_ticket(&ticket)))).await?;
                    Ok(ticket)
                })
            })
            .await
        }

        async fn save_ticket(
            &self,
            ticket: &Ticket,
            expected_version: u64,
        ) -> Result<(), StoreError> {
            self.save_ticket_with_outbox(ticket, expected_version, Vec::new())
                .await
        }

        async fn save_ticket_with_outbox(
            &self,
            ticket: &Ticket,
            expected_version: u64,
            outbox: Vec<OutboxMessage>,
        ) -> Result<(), StoreError> {
            let ticket = ticket.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    let before = sqlx::query("SELECT version, document FROM hotline_tickets WHERE id = $1")
                        .bind(ticket.id)
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or_else(|| StoreError::NotFound {
                            what: format!("ticket {}", ticket.id),
                        })?;
                    let version: i64 = before.try_get("version")?;
                    if version != version_i64(expected_version) {
                        return Err(StoreError::StaleVersion {
                            expected: expected_version,
                            actual: u64::try_from(version).unwrap_or(0),
                        });
                    }
                    let old = decode_ticket(&before)?;
                    sqlx::query(
                        "UPDATE hotline_tickets SET version = $1, state = $2, department = $3, due_on = $4, \
                         updated_at = $5, document = $6, reminded_due_on = $7 WHERE id = $8",
                    )
                    .bind(version_i64(ticket.version))
                    .bind(ticket.state.code())
                    .bind(ticket.department.as_ref().map(|d| d.as_str()))
                    .bind(ticket.due_on.map(|d| d.to_string()))
                    .bind(updated_at(&ticket))
                    .bind(Json(&ticket))
                    .bind(reminded_due_on(&ticket))
                    .bind(ticket.id)
                    .execute(&mut *conn)
                    .await?;
                    write_departments(conn, &ticket).await?;
                    for message in &outbox {
                        sqlx::query(
                            "INSERT INTO outbox (id, topic, case_id, department, payload, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
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
                    let old_slot = slot(&old);
                    let new_slot = slot(&ticket);
                    apply_change(
                        conn,
                        Some((&old_slot, Counters::of_ticket(&old))),
                        Some((&new_slot, Counters::of_ticket(&ticket))),
                    )
                    .await
                })
            })
            .await
        }

        async fn tickets_to_remind(
            &self,
            due_by: jiff::civil::Date,
            limit: u32,
        ) -> Result<Vec<Ticket>, StoreError> {
            // ISO dates compare as text, on both engines.
            let rows = sqlx::query(
                "SELECT document FROM hotline_tickets WHERE state IN ($1, $2) AND due_on <= $3 \
                 AND (reminded_due_on IS NULL OR reminded_due_on <> due_on) \
                 ORDER BY due_on, id LIMIT $4",
            )
            .bind(TicketState::Dispatched.code())
            .bind(TicketState::ReturnRequested.code())
            .bind(due_by.to_string())
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await?;
            rows.iter().map(decode_ticket).collect()
        }

        async fn ticket(&self, id: uuid::Uuid) -> Result<Option<Ticket>, StoreError> {
            let row = sqlx::query("SELECT document FROM hotline_tickets WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
            row.as_ref().map(decode_ticket).transpose()
        }

        async fn ticket_by_number(&self, number: &str) -> Result<Option<Ticket>, StoreError> {
            let row = sqlx::query("SELECT document FROM hotline_tickets WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.read)
                .await?;
            row.as_ref().map(decode_ticket).transpose()
        }

        async fn list_tickets(
            &self,
            filter: &TicketFilter,
        ) -> Result<Vec<TicketSummary>, StoreError> {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "SELECT id, number, kind, category, area, urgency, state, department, due_on, received_at \
                 FROM hotline_tickets WHERE 1 = 1",
            );
            if let Some(department) = &filter.department {
                query
                    .push(" AND id IN (SELECT ticket_id FROM hotline_ticket_departments WHERE department = ")
                    .push_bind(department.as_str().to_owned())
                    .push(")");
            }
            if let Some(account) = &filter.caller_account {
                query
                    .push(" AND caller_account = ")
                    .push_bind(account.clone());
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
                    .push(" AND state IN ('dispatched', 'return_requested') AND due_on < ")
                    .push_bind(today.to_string());
            }
            query
                .push(" ORDER BY CASE WHEN due_on IS NULL THEN 1 ELSE 0 END, due_on, received_at DESC, id LIMIT ")
                .push_bind(i64::from(filter.limit.clamp(1, 500)));
            let rows = query.build().fetch_all(&self.read).await?;
            let mut tickets = Vec::with_capacity(rows.len());
            for row in &rows {
                let due_on: Option<String> = row.try_get("due_on")?;
                tickets.push(TicketSummary {
                    id: row.try_get("id")?,
                    number: row.try_get("number")?,
                    kind: row.try_get("kind")?,
                    category: row.try_get("category")?,
                    area: row.try_get("area")?,
                    urgency: row.try_get("urgency")?,
                    state: row.try_get("state")?,
                    department: row.try_get("department")?,
                    due_on: due_on
                        .map(|d| d.parse().map_err(StoreError::corrupt))
                        .transpose()?,
                    received_at: from_micros(row.try_get("received_at")?)?,
                });
            }
            Ok(tickets)
        }

        async fn open_tickets_like(
            &self,
            category: &str,
            area: &str,
            since: jiff::Timestamp,
            limit: u32,
        ) -> Result<Vec<Ticket>, StoreError> {
            let rows = sqlx::query(
                "SELECT document FROM hotline_tickets WHERE category = $1 AND area = $2 \
                 AND received_at >= $3 AND state NOT IN ($4, $5) ORDER BY received_at DESC LIMIT $6",
            )
            .bind(category)
            .bind(area)
            .bind(to_micros(since))
            .bind(TicketState::Closed.code())
            .bind(TicketState::Merged.code())
            .bind(i64::from(limit.clamp(1, 100)))
            .fetch_all(&self.read)
            .await?;
            rows.iter().map(decode_ticket).collect()
        }
    }
}
