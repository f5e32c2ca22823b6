// Portable SQL for the hall port, compiled once per engine (see sql/catalog.rs for the scheme).
//
// Races are settled by conditions inside the write: a booking counts the slot's live bookings in
// the same transaction as its insert (SQLite has one writer; on PostgreSQL the slot's capacity
// row, created when missing, is locked first so that concurrent bookings of one slot take
// turns), and a ticket changes only if it is still in the status the window saw.

mod hall_sql {
    use std::collections::BTreeMap;

    use jiff::civil::{Date, Time};
    use sqlx::Row;
    use tongban_domain::calendar::shanghai_date;
    use tongban_domain::halls::appointments::{Appointment, AppointmentStatus, Slot};
    use tongban_domain::halls::queue::{Ticket, TicketStatus, ticket_number};
    use tongban_domain::halls::{AppointmentId, PriorityClass, TicketId};
    use tongban_domain::ids::ImplementationCode;
    use tongban_domain::keys::{HallKey, SkillGroupKey};

    use super::{Adapter, Conn, Db};
    use crate::error::StoreError;
    use crate::model::{AppointmentFilter, CheckIn, SlotLoad};
    use crate::ports::HallStore;
    use crate::{from_micros, to_micros};

    const APPOINTMENT_COLUMNS: &str = "id, hall, skill_group, day, starts, ends, extended, \
         applicant, booked_by, item, status, ticket_id, booked_at, updated_at";

    const TICKET_COLUMNS: &str = "id, hall, day, number, class, skill_group, applicant, \
         appointment_id, status, window_key, transferred_to, taken_at, called_at, \
         last_called_at, finished_at, recalls";

    const LIVE: &str = "status IN ('booked', 'checked_in')";

    /// Capacities are INTEGER columns; the domain caps them far below `i32::MAX`.
    fn capacity_column(capacity: u32) -> i32 {
        i32::try_from(capacity).unwrap_or(i32::MAX)
    }

    fn day_text(day: Date) -> String {
        day.to_string()
    }

    fn time_text(time: Time) -> String {
        time.strftime("%H:%M").to_string()
    }

    fn parse_day(text: &str) -> Result<Date, StoreError> {
        text.parse().map_err(StoreError::corrupt)
    }

    fn parse_time(text: &str) -> Result<Time, StoreError> {
        Time::strptime("%H:%M", text).map_err(StoreError::corrupt)
    }

    fn optional_micros(value: Option<i64>) -> Result<Option<jiff::Timestamp>, StoreError> {
        value.map(from_micros).transpose()
    }

    fn decode_appointment(row: &<Db as sqlx::Database>::Row) -> Result<Appointment, StoreError> {
        let hall: String = row.try_get("hall")?;
        let skill: String = row.try_get("skill_group")?;
        let day: String = row.try_get("day")?;
        let starts: String = row.try_get("starts")?;
        let ends: String = row.try_get("ends")?;
        let status: String = row.try_get("status")?;
        let ticket: Option<uuid::Uuid> = row.try_get("ticket_id")?;
        Ok(Appointment {
            id: AppointmentId::from_uuid(row.try_get("id")?),
            hall: HallKey::parse(&hall).map_err(StoreError::corrupt)?,
            skill: SkillGroupKey::parse(&skill).map_err(StoreError::corrupt)?,
            slot: Slot {
                day: parse_day(&day)?,
                starts: parse_time(&starts)?,
                ends: parse_time(&ends)?,
                extended: row.try_get("extended")?,
            },
            applicant: row.try_get("applicant")?,
            booked_by: row.try_get("booked_by")?,
            item: row.try_get("item")?,
            status: AppointmentStatus::parse(&status)
                .ok_or_else(|| StoreError::corrupt(format!("appointment status {status}")))?,
            ticket: ticket.map(TicketId::from_uuid),
            booked_at: from_micros(row.try_get("booked_at")?)?,
            updated_at: from_micros(row.try_get("updated_at")?)?,
        })
    }

    fn decode_ticket(row: &<Db as sqlx::Database>::Row) -> Result<Ticket, StoreError> {
        let hall: String = row.try_get("hall")?;
        let skill: String = row.try_get("skill_group")?;
        let class: String = row.try_get("class")?;
        let status: String = row.try_get("status")?;
        let window: Option<String> = row.try_get("window_key")?;
        let transferred: Option<String> = row.try_get("transferred_to")?;
        let appointment: Option<uuid::Uuid> = row.try_get("appointment_id")?;
        let recalls: i32 = row.try_get("recalls")?;
        let window_key = |text: Option<String>| {
            text.map(|t| tongban_domain::keys::WindowKey::parse(&t))
                .transpose()
                .map_err(StoreError::corrupt)
        };
        Ok(Ticket {
            id: TicketId::from_uuid(row.try_get("id")?),
            hall: HallKey::parse(&hall).map_err(StoreError::corrupt)?,
            number: row.try_get("number")?,
            class: PriorityClass::parse(&class)
                .ok_or_else(|| StoreError::corrupt(format!("ticket class {class}")))?,
            skill: SkillGroupKey::parse(&skill).map_err(StoreError::corrupt)?,
            applicant: row.try_get("applicant")?,
            appointment: appointment.map(AppointmentId::from_uuid),
            status: TicketStatus::parse(&status)
                .ok_or_else(|| StoreError::corrupt(format!("ticket status {status}")))?,
            window: window_key(window)?,
            transferred_to: window_key(transferred)?,
            taken_at: from_micros(row.try_get("taken_at")?)?,
            called_at: optional_micros(row.try_get("called_at")?)?,
            last_called_at: optional_micros(row.try_get("last_called_at")?)?,
            finished_at: optional_micros(row.try_get("finished_at")?)?,
            recalls: u32::try_from(recalls).map_err(StoreError::corrupt)?,
        })
    }

    /// Live bookings of a slot, leaving one appointment out (the one being moved).
    async fn live_bookings(
        conn: &mut Conn,
        appointment: &Appointment,
        except: Option<uuid::Uuid>,
    ) -> Result<i64, StoreError> {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM appointments WHERE hall = $1 AND skill_group = $2 \
             AND day = $3 AND starts = $4 AND {LIVE} AND id <> $5"
        )))
        .bind(appointment.hall.as_str())
        .bind(appointment.skill.as_str())
        .bind(day_text(appointment.slot.day))
        .bind(time_text(appointment.slot.starts))
        .bind(except.unwrap_or(uuid::Uuid::nil()))
        .fetch_one(&mut *conn)
        .await?;
        Ok(count)
    }

    /// Locks the slot (on PostgreSQL) by touching its capacity row, creating it when missing
    /// with the capacity the caller decided, so that concurrent bookings of one slot serialise.
    async fn lock_slot(
        conn: &mut Conn,
        appointment: &Appointment,
        capacity: u32,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO hall_slot_capacities (hall, skill_group, day, starts, capacity, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (hall, skill_group, day, starts) \
             DO UPDATE SET capacity = hall_slot_capacities.capacity",
        )
        .bind(appointment.hall.as_str())
        .bind(appointment.skill.as_str())
        .bind(day_text(appointment.slot.day))
        .bind(time_text(appointment.slot.starts))
        .bind(capacity_column(capacity))
        .bind(to_micros(appointment.updated_at))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    #[async_trait::async_trait]
    impl HallStore for Adapter {
        async fn slot_loads(
            &self,
            hall: &HallKey,
            skill: &SkillGroupKey,
            day: Date,
        ) -> Result<Vec<SlotLoad>, StoreError> {
            let capacities = sqlx::query(
                "SELECT starts, capacity FROM hall_slot_capacities \
                 WHERE hall = $1 AND skill_group = $2 AND day = $3",
            )
            .bind(hall.as_str())
            .bind(skill.as_str())
            .bind(day_text(day))
            .fetch_all(&self.read)
            .await?;
            let booked = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT starts, COUNT(*) AS booked FROM appointments \
                 WHERE hall = $1 AND skill_group = $2 AND day = $3 AND {LIVE} GROUP BY starts"
            )))
            .bind(hall.as_str())
            .bind(skill.as_str())
            .bind(day_text(day))
            .fetch_all(&self.read)
            .await?;
            let mut loads: BTreeMap<String, SlotLoad> = BTreeMap::new();
            for row in &capacities {
                let starts: String = row.try_get("starts")?;
                let capacity: i32 = row.try_get("capacity")?;
                loads.insert(
                    starts.clone(),
                    SlotLoad {
                        starts: parse_time(&starts)?,
                        capacity: Some(u32::try_from(capacity).map_err(StoreError::corrupt)?),
                        booked: 0,
                    },
                );
            }
            for row in &booked {
                let starts: String = row.try_get("starts")?;
                let count: i64 = row.try_get("booked")?;
                let count = u32::try_from(count).map_err(StoreError::corrupt)?;
                match loads.get_mut(&starts) {
                    Some(load) => load.booked = count,
                    None => {
                        loads.insert(
                            starts.clone(),
                            SlotLoad {
                                starts: parse_time(&starts)?,
                                capacity: None,
                                booked: count,
                            },
                        );
                    }
                }
            }
            Ok(loads.into_values().collect())
        }

        async fn set_slot_capacity(
            &self,
            hall: &HallKey,
            skill: &SkillGroupKey,
            day: Date,
            starts: Time,
            capacity: u32,
            at: jiff::Timestamp,
        ) -> Result<(), StoreError> {
            let (hall, skill) = (hall.as_str().to_owned(), skill.as_str().to_owned());
            self.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO hall_slot_capacities (hall, skill_group, day, starts, \
                         capacity, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (hall, skill_group, day, starts) \
                         DO UPDATE SET capacity = $7, updated_at = $8",
                    )
                    .bind(&hall)
                    .bind(&skill)
                    .bind(day_text(day))
                    .bind(time_text(starts))
                    .bind(capacity_column(capacity))
                    .bind(to_micros(at))
                    .bind(capacity_column(capacity))
                    .bind(to_micros(at))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        }

        async fn book_appointment(
            &self,
            appointment: &Appointment,
            capacity: u32,
        ) -> Result<bool, StoreError> {
            let appointment = appointment.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    lock_slot(conn, &appointment, capacity).await?;
                    let stored: i32 = sqlx::query_scalar(
                        "SELECT capacity FROM hall_slot_capacities WHERE hall = $1 \
                         AND skill_group = $2 AND day = $3 AND starts = $4",
                    )
                    .bind(appointment.hall.as_str())
                    .bind(appointment.skill.as_str())
                    .bind(day_text(appointment.slot.day))
                    .bind(time_text(appointment.slot.starts))
                    .fetch_one(&mut *conn)
                    .await?;
                    if live_bookings(conn, &appointment, None).await? >= i64::from(stored) {
                        return Ok(false);
                    }
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO appointments ({APPOINTMENT_COLUMNS}) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                    )))
                    .bind(appointment.id.as_uuid())
                    .bind(appointment.hall.as_str())
                    .bind(appointment.skill.as_str())
                    .bind(day_text(appointment.slot.day))
                    .bind(time_text(appointment.slot.starts))
                    .bind(time_text(appointment.slot.ends))
                    .bind(appointment.slot.extended)
                    .bind(&appointment.applicant)
                    .bind(&appointment.booked_by)
                    .bind(&appointment.item)
                    .bind(appointment.status.code())
                    .bind(appointment.ticket.map(|t| t.as_uuid()))
                    .bind(to_micros(appointment.booked_at))
                    .bind(to_micros(appointment.updated_at))
                    .execute(&mut *conn)
                    .await?;
                    Ok(true)
                })
            })
            .await
        }

        async fn save_appointment(
            &self,
            appointment: &Appointment,
            expected: AppointmentStatus,
            capacity: Option<u32>,
        ) -> Result<bool, StoreError> {
            let appointment = appointment.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    if let Some(capacity) = capacity {
                        lock_slot(conn, &appointment, capacity).await?;
                        let stored: i32 = sqlx::query_scalar(
                            "SELECT capacity FROM hall_slot_capacities WHERE hall = $1 \
                             AND skill_group = $2 AND day = $3 AND starts = $4",
                        )
                        .bind(appointment.hall.as_str())
                        .bind(appointment.skill.as_str())
                        .bind(day_text(appointment.slot.day))
                        .bind(time_text(appointment.slot.starts))
                        .fetch_one(&mut *conn)
                        .await?;
                        let others =
                            live_bookings(conn, &appointment, Some(appointment.id.as_uuid()))
                                .await?;
                        if others >= i64::from(stored) {
                            return Ok(false);
                        }
                    }
                    let updated = sqlx::query(
                        "UPDATE appointments SET day = $1, starts = $2, ends = $3, \
                         extended = $4, status = $5, ticket_id = $6, updated_at = $7 \
                         WHERE id = $8 AND status = $9",
                    )
                    .bind(day_text(appointment.slot.day))
                    .bind(time_text(appointment.slot.starts))
                    .bind(time_text(appointment.slot.ends))
                    .bind(appointment.slot.extended)
                    .bind(appointment.status.code())
                    .bind(appointment.ticket.map(|t| t.as_uuid()))
                    .bind(to_micros(appointment.updated_at))
                    .bind(appointment.id.as_uuid())
                    .bind(expected.code())
                    .execute(&mut *conn)
                    .await?;
                    Ok(updated.rows_affected() > 0)
                })
            })
            .await
        }

        async fn appointment(&self, id: AppointmentId) -> Result<Option<Appointment>, StoreError> {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE id = $1"
            )))
            .bind(id.as_uuid())
            .fetch_optional(&self.read)
            .await?;
            row.as_ref().map(decode_appointment).transpose()
        }

        async fn appointments(
            &self,
            filter: &AppointmentFilter,
        ) -> Result<Vec<Appointment>, StoreError> {
            let rows = match filter {
                AppointmentFilter::Applicant(applicant) => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE applicant = $1 \
                         ORDER BY day DESC, starts DESC, id LIMIT 200"
                    )))
                    .bind(applicant)
                    .fetch_all(&self.read)
                    .await?
                }
                AppointmentFilter::HallDay(hall, day) => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE hall = $1 \
                         AND day = $2 ORDER BY starts, skill_group, booked_at, id"
                    )))
                    .bind(hall.as_str())
                    .bind(day_text(*day))
                    .fetch_all(&self.read)
                    .await?
                }
            };
            rows.iter().map(decode_appointment).collect()
        }

        async fn check_in(&self, check_in: CheckIn) -> Result<Ticket, StoreError> {
            self.write(move |conn| {
                Box::pin(async move {
                    let CheckIn {
                        mut ticket,
                        appointment,
                        visit,
                    } = check_in;
                    let day = day_text(shanghai_date(ticket.taken_at));
                    let prefix = ticket.class.prefix().to_string();
                    let sequence: i64 = sqlx::query_scalar(
                        "INSERT INTO ticket_counters (hall, day, prefix, value) \
                         VALUES ($1, $2, $3, 1) ON CONFLICT (hall, day, prefix) \
                         DO UPDATE SET value = ticket_counters.value + 1 RETURNING value",
                    )
                    .bind(ticket.hall.as_str())
                    .bind(&day)
                    .bind(&prefix)
                    .fetch_one(&mut *conn)
                    .await?;
                    let sequence = u32::try_from(sequence).map_err(StoreError::corrupt)?;
                    ticket.number = ticket_number(ticket.class, sequence);
                    if let Some(appointment) = &appointment {
                        let updated = sqlx::query(
                            "UPDATE appointments SET status = $1, ticket_id = $2, \
                             updated_at = $3 WHERE id = $4 AND status = 'booked'",
                        )
                        .bind(appointment.status.code())
                        .bind(ticket.id.as_uuid())
                        .bind(to_micros(appointment.updated_at))
                        .bind(appointment.id.as_uuid())
                        .execute(&mut *conn)
                        .await?;
                        if updated.rows_affected() == 0 {
                            return Err(StoreError::Conflict(
                                "the appointment is no longer booked".into(),
                            ));
                        }
                    }
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
                         $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                    )))
                    .bind(ticket.id.as_uuid())
                    .bind(ticket.hall.as_str())
                    .bind(&day)
                    .bind(&ticket.number)
                    .bind(ticket.class.code())
                    .bind(ticket.skill.as_str())
                    .bind(&ticket.applicant)
                    .bind(ticket.appointment.map(|a| a.as_uuid()))
                    .bind(ticket.status.code())
                    .bind(ticket.window.as_ref().map(|w| w.as_str()))
                    .bind(ticket.transferred_to.as_ref().map(|w| w.as_str()))
                    .bind(to_micros(ticket.taken_at))
                    .bind(ticket.called_at.map(to_micros))
                    .bind(ticket.last_called_at.map(to_micros))
                    .bind(ticket.finished_at.map(to_micros))
                    .bind(i32::try_from(ticket.recalls).map_err(StoreError::corrupt)?)
                    .execute(&mut *conn)
                    .await?;
                    super::stats_sql::move_queue(conn, None, Some(&ticket)).await?;
                    if let Some(visit) = &visit {
                        sqlx::query(
                            "INSERT INTO visits (id, hall, day, applicant, ticket_id, at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(visit.id.as_uuid())
                        .bind(visit.hall.as_str())
                        .bind(&day)
                        .bind(&visit.applicant)
                        .bind(visit.ticket.as_uuid())
                        .bind(to_micros(visit.at))
                        .execute(&mut *conn)
                        .await?;
                        // Every case of the applicant still open: this trip counts for it.
                        sqlx::query(
                            "INSERT INTO case_visits (case_id, visit_id) \
                             SELECT id, $1 FROM cases \
                             WHERE applicant_identifier = $2 AND closed_at IS NULL",
                        )
                        .bind(visit.id.as_uuid())
                        .bind(&visit.applicant)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(ticket)
                })
            })
            .await
        }

        async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"
            )))
            .bind(id.as_uuid())
            .fetch_optional(&self.read)
            .await?;
            row.as_ref().map(decode_ticket).transpose()
        }

        async fn tickets(
            &self,
            hall: &HallKey,
            from: Date,
            to: Date,
        ) -> Result<Vec<Ticket>, StoreError> {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE hall = $1 AND day >= $2 \
                 AND day <= $3 ORDER BY taken_at, id"
            )))
            .bind(hall.as_str())
            .bind(day_text(from))
            .bind(day_text(to))
            .fetch_all(&self.read)
            .await?;
            rows.iter().map(decode_ticket).collect()
        }

        async fn save_ticket(
            &self,
            ticket: &Ticket,
            expected: TicketStatus,
            expected_recalls: u32,
        ) -> Result<bool, StoreError> {
            let ticket = ticket.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    // The stored row, for the queue rollups: what the ticket contributed so far.
                    // On PostgreSQL it is locked until the commit, or, when another write holds
                    // it, that other window changes the ticket first and this change loses, as
                    // it would after waiting (every transition changes the status or recalls).
                    let stored = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1{}",
                        super::SKIP_LOCKED
                    )))
                    .bind(ticket.id.as_uuid())
                    .fetch_optional(&mut *conn)
                    .await?;
                    let Some(stored) = stored.as_ref().map(decode_ticket).transpose()? else {
                        return Ok(false);
                    };
                    let updated = sqlx::query(
                        "UPDATE tickets SET status = $1, skill_group = $2, window_key = $3, \
                         transferred_to = $4, called_at = $5, last_called_at = $6, \
                         finished_at = $7, recalls = $8 \
                         WHERE id = $9 AND status = $10 AND recalls = $11",
                    )
                    .bind(ticket.status.code())
                    .bind(ticket.skill.as_str())
                    .bind(ticket.window.as_ref().map(|w| w.as_str()))
                    .bind(ticket.transferred_to.as_ref().map(|w| w.as_str()))
                    .bind(ticket.called_at.map(to_micros))
                    .bind(ticket.last_called_at.map(to_micros))
                    .bind(ticket.finished_at.map(to_micros))
                    .bind(i32::try_from(ticket.recalls).map_err(StoreError::corrupt)?)
                    .bind(ticket.id.as_uuid())
                    .bind(expected.code())
                    .bind(i32::try_from(expected_recalls).map_err(StoreError::corrupt)?)
                    .execute(&mut *conn)
                    .await?;
                    if updated.rows_affected() == 0 {
                        return Ok(false);
                    }
                    super::stats_sql::move_queue(conn, Some(&stored), Some(&ticket)).await?;
                    Ok(true)
                })
            })
            .await
        }

        async fn link_case_to_visits(
            &self,
            case_id: uuid::Uuid,
            applicant: &str,
            hall: &HallKey,
            day: Date,
        ) -> Result<u32, StoreError> {
            let (applicant, hall) = (applicant.to_owned(), hall.as_str().to_owned());
            // Most window work is for people without a ticket today (or from a kiosk-less
            // hall); looking first on a reader keeps those requests out of the writer's queue.
            let visited: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM visits WHERE applicant = $1 AND day = $2 AND hall = $3 LIMIT 1",
            )
            .bind(&applicant)
            .bind(day_text(day))
            .bind(&hall)
            .fetch_optional(&self.read)
            .await?;
            if visited.is_none() {
                return Ok(0);
            }
            self.write(move |conn| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO case_visits (case_id, visit_id) \
                         SELECT $1, v.id FROM visits v WHERE v.applicant = $2 AND v.hall = $3 \
                         AND v.day = $4 AND NOT EXISTS (SELECT 1 FROM case_visits cv \
                         WHERE cv.case_id = $5 AND cv.visit_id = v.id)",
                    )
                    .bind(case_id)
                    .bind(&applicant)
                    .bind(&hall)
                    .bind(day_text(day))
                    .bind(case_id)
                    .execute(&mut *conn)
                    .await?;
                    u32::try_from(inserted.rows_affected()).map_err(StoreError::corrupt)
                })
            })
            .await
        }

        async fn case_trips(&self, case_id: uuid::Uuid) -> Result<u32, StoreError> {
            let count: i64 = sqlx::query_scalar(super::case_sql::TRIPS_OF_CASE)
                .bind(case_id)
                .fetch_one(&self.read)
                .await?;
            super::case_sql::trips_count(count)
        }

        async fn trip_counts(
            &self,
            item: &ImplementationCode,
        ) -> Result<BTreeMap<u32, u64>, StoreError> {
            let rows = sqlx::query(
                "SELECT trips, COUNT(*) AS cases FROM (SELECT c.id, COUNT(cv.visit_id) AS trips \
                 FROM cases c LEFT JOIN case_visits cv ON cv.case_id = c.id \
                 WHERE c.item_code = $1 GROUP BY c.id) per_case GROUP BY trips ORDER BY trips",
            )
            .bind(item.as_str())
            .fetch_all(&self.read)
            .await?;
            let mut counts = BTreeMap::new();
            for row in &rows {
                let trips: i64 = row.try_get("trips")?;
                let cases: i64 = row.try_get("cases")?;
                counts.insert(
                    u32::try_from(trips).map_err(StoreError::corrupt)?,
                    u64::try_from(cases).map_err(StoreError::corrupt)?,
                );
            }
            Ok(counts)
        }
    }
}
