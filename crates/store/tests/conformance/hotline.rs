//! Hotline deadline reminders on both engines: the reminder job's candidates
//! (`tickets_to_remind`) and a ticket change saved with its outbox message in one transaction.

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use tongban_domain::calendar::Calendar;
use tongban_domain::hotline::{
    DeadlinePolicy, RoutingTable, Ticket, TicketAction, TicketChannel, TicketContext, TicketIntake,
    TicketType, Urgency,
};
use tongban_domain::keys::DepartmentKey;
use tongban_store::model::OutboxMessage;
use tongban_store::testing::{TestStore, test_time};
use tongban_store::{Store, StoreError};

use super::TestResult;

fn department(key: &str) -> DepartmentKey {
    DepartmentKey::parse(key).unwrap_or_else(|error| panic!("{key}: {error}"))
}

fn at_hours(hours: i64) -> Timestamp {
    test_time() + SignedDuration::from_hours(hours)
}

fn intake(kind: TicketType, description: &str) -> TicketIntake {
    TicketIntake {
        channel: TicketChannel::Phone,
        kind,
        category: "city-management".into(),
        area: "990102".into(),
        location: "湖滨路".into(),
        urgency: Urgency::Normal,
        description: description.into(),
        attachments: Vec::new(),
        confidential: false,
        caller_name: "王先生".into(),
        caller_phone: "13900000000".into(),
        caller_account: None,
        linked_items: Vec::new(),
    }
}

struct Rules {
    routing: RoutingTable,
    calendar: Calendar,
    policy: DeadlinePolicy,
}

impl Rules {
    fn new() -> Result<Rules, Box<dyn std::error::Error>> {
        Ok(Rules {
            routing: RoutingTable::parse_toml(include_str!("../../../../data/demo/hotline.toml"))?,
            calendar: Calendar::official()?,
            policy: DeadlinePolicy::default(),
        })
    }

    fn on(&self, today: Date) -> TicketContext<'_> {
        TicketContext {
            calendar: &self.calendar,
            policy: &self.policy,
            today,
        }
    }
}

/// Registers a ticket and, when `dispatch`, dispatches it to city-urban on Mon 2026-03-02.
async fn ticket(
    store: &Store,
    rules: &Rules,
    kind: TicketType,
    dispatch: bool,
) -> Result<Ticket, Box<dyn std::error::Error>> {
    let registered = Ticket::register(
        uuid::Uuid::now_v7(),
        intake(kind, "湖滨路垃圾多日无人清运"),
        &rules.routing,
        "operator",
        test_time(),
    )?;
    let mut ticket = store.hotline.create_ticket(registered).await?;
    if dispatch {
        let version = ticket.version;
        ticket.apply(
            TicketAction::Dispatch {
                department: department("city-urban"),
                co_handlers: Vec::new(),
            },
            rules.on(date(2026, 3, 2)),
            "dispatcher",
            at_hours(1),
        )?;
        store.hotline.save_ticket(&ticket, version).await?;
    }
    Ok(ticket)
}

async fn numbers_to_remind(store: &Store, due_by: Date) -> Result<Vec<String>, StoreError> {
    Ok(store
        .hotline
        .tickets_to_remind(due_by, 100)
        .await?
        .into_iter()
        .map(|t| t.number)
        .collect())
}

fn reminder_message(ticket: &Ticket, at: Timestamp) -> OutboxMessage {
    OutboxMessage {
        id: uuid::Uuid::now_v7(),
        topic: "hotline.deadline_reminder".into(),
        case_id: None,
        department: ticket.department.clone(),
        payload: serde_json::json!({ "number": ticket.number }),
        created_at: at,
    }
}

#[tokio::test]
async fn a_reminded_ticket_leaves_the_candidates_until_its_deadline_moves() -> TestResult {
    let test = TestStore::with_demo().await?;
    let store = &test.store;
    let rules = Rules::new()?;
    // Help: due Thu 2026-03-05; complaint: due Thu 2026-03-19; a registered ticket has no
    // deadline yet.
    let mut help = ticket(store, &rules, TicketType::Help, true).await?;
    let complaint = ticket(store, &rules, TicketType::Complaint, true).await?;
    let registered = ticket(store, &rules, TicketType::Help, false).await?;
    assert_eq!(help.due_on, Some(date(2026, 3, 5)));
    assert_eq!(
        numbers_to_remind(store, date(2026, 3, 4)).await?,
        Vec::<String>::new()
    );
    assert_eq!(
        numbers_to_remind(store, date(2026, 3, 5)).await?,
        [help.number.clone()]
    );
    assert_eq!(
        numbers_to_remind(store, date(2026, 3, 31)).await?,
        [help.number.clone(), complaint.number.clone()],
        "earliest deadline first, never the undispatched {}",
        registered.number
    );

    // The reminder and its message commit together; the ticket is no longer a candidate.
    let version = help.version;
    help.apply(
        TicketAction::DeadlineReminder,
        rules.on(date(2026, 3, 4)),
        "system",
        at_hours(48),
    )?;
    let message = reminder_message(&help, at_hours(48));
    store
        .hotline
        .save_ticket_with_outbox(&help, version, vec![message.clone()])
        .await?;
    assert_eq!(
        numbers_to_remind(store, date(2026, 3, 5)).await?,
        Vec::<String>::new()
    );
    let stored = store
        .hotline
        .ticket_by_number(&help.number)
        .await?
        .ok_or("the ticket is stored")?;
    assert_eq!(stored.deadline_reminder_for, Some(date(2026, 3, 5)));
    let outbox = store.cases.outbox_after(None, 100).await?;
    assert_eq!(outbox, std::slice::from_ref(&message));

    // A stale save writes neither the ticket nor its message.
    let mut stale = stored.clone();
    stale.events.clear();
    let refused = store
        .hotline
        .save_ticket_with_outbox(
            &stale,
            version,
            vec![reminder_message(&stale, at_hours(49))],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::StaleVersion { .. })),
        "{refused:?}"
    );
    assert_eq!(store.cases.outbox_after(None, 100).await?, [message]);
    assert_eq!(
        store.hotline.ticket_by_number(&help.number).await?,
        Some(stored)
    );

    // An approved extension moves the deadline (Thu Mar 5 + 2 → Mon Mar 9): a candidate again.
    for action in [
        TicketAction::RequestExtension {
            days: 2,
            reason: "需现场勘查".into(),
        },
        TicketAction::DecideExtension { approved: true },
    ] {
        let version = help.version;
        help.apply(action, rules.on(date(2026, 3, 4)), "someone", at_hours(50))?;
        store.hotline.save_ticket(&help, version).await?;
    }
    assert_eq!(
        numbers_to_remind(store, date(2026, 3, 8)).await?,
        Vec::<String>::new()
    );
    assert_eq!(
        numbers_to_remind(store, date(2026, 3, 9)).await?,
        [help.number.clone()]
    );
    Ok(())
}
