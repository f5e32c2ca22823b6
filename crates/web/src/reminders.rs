//! The deadline reminder job (到期提醒, REFERENCE §6 "reminders before expiry"): a background task
//! of `tongban serve` that tells a department about the 12345 tickets it must answer soon.
//!
//! Every [`ROUND`] it asks the store for the tickets still with a department whose deadline is at
//! most [`DeadlinePolicy::remind_before_days`] working days away (`[hotline.deadlines]` in
//! `tongban.toml`, default 1) or already past, and not reminded of that deadline yet. For each it
//! applies [`TicketAction::DeadlineReminder`] (a `deadline_reminder` event in the ticket's history,
//! by [`ACTOR`]) and writes an outbox message [`TOPIC`] for the lead department, in one
//! transaction; the webhook dispatcher ([`crate::webhooks`]) delivers it to the department's
//! systems. Time comes from the injected clock, so tests move it by hand and call
//! [`remind_due_once`].
//!
//! Once per ticket per deadline: the ticket remembers the deadline it was reminded of, so later
//! rounds skip it, and an approved extension or a reopen (a new deadline) earns a new reminder. Two
//! servers racing on one ticket cannot both remind it: the second save fails the version check and
//! the ticket is left for the next round, which finds it reminded.
//!
//! The message (no caller details, no description: those may name people):
//!
//! ```text
//! topic: hotline.deadline_reminder   department: <lead department>
//! {"ticket_id": "…", "number": "RX…", "kind": "help", "category": "…", "area": "990102",
//!  "urgency": "normal", "state": "dispatched", "department": "city-urban",
//!  "co_handlers": [], "due_on": "2026-03-05", "overdue": false, "version": 3}
//! ```
//!
//! [`DeadlinePolicy::remind_before_days`]: tongban_domain::hotline::DeadlinePolicy::remind_before_days

use std::future::Future;
use std::time::Duration;

use tongban_domain::calendar::shanghai_date;
use tongban_domain::hotline::{Ticket, TicketAction, TicketContext};
use tongban_store::StoreError;
use tongban_store::model::OutboxMessage;

use crate::AppState;
use crate::services::cases::new_id;

/// Time between rounds: reminders are about days, a minute late is on time.
pub const ROUND: Duration = Duration::from_secs(60);
/// The outbox topic of a reminder (webhook subscriptions match it with `hotline.`).
pub const TOPIC: &str = "hotline.deadline_reminder";
/// Who the reminder event names.
pub const ACTOR: &str = "system";
/// Tickets read per batch, and batches per round at most.
const BATCH: u32 = 200;
const BATCHES: u32 = 20;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Tickets reminded (an event and a message each).
    pub reminded: usize,
    /// Candidates left for a later round: changed meanwhile, or not in the window after all.
    pub skipped: usize,
}

/// Runs a round every [`ROUND`] until `shutdown` completes.
pub async fn run(state: AppState, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    loop {
        match remind_due_once(&state).await {
            Ok(report) if report.reminded > 0 => {
                tracing::info!(
                    reminded = report.reminded,
                    skipped = report.skipped,
                    "hotline deadline reminders sent"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "the hotline reminder round failed"),
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(ROUND) => {}
        }
    }
}

/// One round: reminds every ticket due for a reminder on the clock's day.
pub async fn remind_due_once(state: &AppState) -> Result<ReminderReport, StoreError> {
    let now = state.clock.now();
    let today = shanghai_date(now);
    let policy = &state.policies.deadlines;
    let calendar = state.calendar.as_ref();
    // The latest deadline inside the window. Without calendar data for the days ahead, the
    // tickets due today or overdue are still reminded (they need no calendar).
    let due_by = match calendar.add_working_days(today, policy.remind_before_days) {
        Ok(date) => date,
        Err(error) => {
            tracing::warn!(error = %error, "reminding only tickets due today or overdue");
            today
        }
    };
    let context = TicketContext {
        calendar,
        policy,
        today,
    };
    let mut report = ReminderReport::default();
    for _ in 0..BATCHES {
        let candidates = state.store.hotline.tickets_to_remind(due_by, BATCH).await?;
        let fetched = candidates.len();
        let mut reminded_now = 0;
        for mut ticket in candidates {
            let expected = ticket.version;
            if let Err(error) = ticket.apply(TicketAction::DeadlineReminder, context, ACTOR, now) {
                tracing::debug!(ticket.number = %ticket.number, error = %error, "no reminder");
                report.skipped += 1;
                continue;
            }
            let message = message(&ticket, today, now);
            match state
                .store
                .hotline
                .save_ticket_with_outbox(&ticket, expected, vec![message])
                .await
            {
                Ok(()) => {
                    tracing::debug!(ticket.number = %ticket.number, "deadline reminder sent");
                    reminded_now += 1;
                }
                Err(StoreError::StaleVersion { .. }) => report.skipped += 1,
                Err(error) => return Err(error),
            }
        }
        report.reminded += reminded_now;
        // A short batch was the last; a batch of skips only would be read again unchanged.
        if u32::try_from(fetched).unwrap_or(u32::MAX) < BATCH || reminded_now == 0 {
            break;
        }
    }
    Ok(report)
}

fn message(ticket: &Ticket, today: jiff::civil::Date, now: jiff::Timestamp) -> OutboxMessage {
    OutboxMessage {
        id: new_id(now),
        topic: TOPIC.to_owned(),
        case_id: None,
        department: ticket.department.clone(),
        payload: serde_json::json!({
            "ticket_id": ticket.id,
            "number": ticket.number,
            "kind": ticket.intake.kind.code(),
            "category": ticket.intake.category,
            "area": ticket.intake.area,
            "urgency": ticket.intake.urgency.code(),
            "state": ticket.state.code(),
            "department": ticket.department,
            "co_handlers": ticket.co_handlers,
            "due_on": ticket.due_on,
            "overdue": ticket.is_overdue(today),
            "version": ticket.version,
        }),
        created_at: now,
    }
}
