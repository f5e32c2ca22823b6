//! Tickets and the queue (取号叫号). A ticket is taken at a kiosk or by checking in an
//! appointment; a window calls the next waiting ticket it is skilled for, may recall it (the
//! person did not come yet), skip it (no-show), transfer it to another skill group or window, and
//! finishes it. Waiting time (taken → first call) and service time (first call → finish) are
//! recorded on the ticket.
//!
//! Ordering ([`next_for`]): transferred tickets addressed to this window first, then by
//! [`PriorityClass`] rank, then first come first served.
//!
//! ```
//! use tongban_domain::halls::PriorityClass;
//! use tongban_domain::halls::queue::{Ticket, TicketStatus, next_for};
//! use tongban_domain::keys::{HallKey, SkillGroupKey, WindowKey};
//! let at = jiff::Timestamp::from_second(1_772_413_200).unwrap();
//! let hall = HallKey::parse("city-centre").unwrap();
//! let skill = SkillGroupKey::parse("personal").unwrap();
//! let walk_in = Ticket::take(uuid::Uuid::nil(), hall.clone(), "A001".into(), PriorityClass::Normal,
//!     skill.clone(), None, at);
//! let elderly = Ticket::take(uuid::Uuid::max(), hall, "G001".into(), PriorityClass::GreenChannel,
//!     skill.clone(), None, at + jiff::SignedDuration::from_mins(5));
//! let window = WindowKey::parse("city-centre-a01").unwrap();
//! let tickets = [walk_in, elderly];
//! let next = next_for(&tickets, &window, &[skill]).unwrap();
//! assert_eq!(next.number, "G001");
//! assert_eq!(next.status, TicketStatus::Waiting);
//! ```

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{AppointmentId, HallError, PriorityClass, TicketId};
use crate::keys::{HallKey, SkillGroupKey, WindowKey};

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Done,
    /// Called and not come (过号).
    Skipped,
}

impl TicketStatus {
    pub fn code(&self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Done => "done",
            TicketStatus::Skipped => "skipped",
        }
    }

    pub fn parse(code: &str) -> Option<TicketStatus> {
        [
            TicketStatus::Waiting,
            TicketStatus::Called,
            TicketStatus::Done,
            TicketStatus::Skipped,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A queue ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub hall: HallKey,
    /// What the board shows, e.g. `A012` (the letter is the class).
    pub number: String,
    pub class: PriorityClass,
    /// The skill group the matter needs; a window calls only tickets of its skills.
    pub skill: SkillGroupKey,
    /// The applicant's ID number or credit code, when known (check-in, or given at the kiosk).
    pub applicant: Option<String>,
    pub appointment: Option<AppointmentId>,
    pub status: TicketStatus,
    /// The window that called it last (or that it was transferred to).
    pub window: Option<WindowKey>,
    /// Set by a transfer to one window: only that window calls it next.
    pub transferred_to: Option<WindowKey>,
    pub taken_at: Timestamp,
    /// The first call: waiting time ends here.
    pub called_at: Option<Timestamp>,
    /// The latest call or recall (the board shows the newest first).
    pub last_called_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub recalls: u32,
}

impl Ticket {
    /// A new waiting ticket.
    pub fn take(
        id: uuid::Uuid,
        hall: HallKey,
        number: String,
        class: PriorityClass,
        skill: SkillGroupKey,
        applicant: Option<String>,
        at: Timestamp,
    ) -> Ticket {
        Ticket {
            id: TicketId::from_uuid(id),
            hall,
            number,
            class,
            skill,
            applicant,
            appointment: None,
            status: TicketStatus::Waiting,
            window: None,
            transferred_to: None,
            taken_at: at,
            called_at: None,
            last_called_at: None,
            finished_at: None,
            recalls: 0,
        }
    }

    fn refuse(&self, action: &'static str) -> HallError {
        HallError::IllegalTransition {
            what: "ticket",
            action,
            state: self.status.code(),
        }
    }

    /// A window calls this ticket.
    pub fn call(&self, window: &WindowKey, at: Timestamp) -> Result<Ticket, HallError> {
        if self.status != TicketStatus::Waiting {
            return Err(self.refuse("call"));
        }
        if let Some(target) = &self.transferred_to
            && target != window
        {
            return Err(HallError::Invalid(format!(
                "ticket {} was transferred to window {target}",
                self.number
            )));
        }
        let mut next = self.clone();
        next.status = TicketStatus::Called;
        next.window = Some(window.clone());
        next.transferred_to = None;
        next.called_at = Some(self.called_at.unwrap_or(at));
        next.last_called_at = Some(at);
        Ok(next)
    }

    /// Calls the same ticket again (the person has not come to the window yet).
    pub fn recall(&self, window: &WindowKey, at: Timestamp) -> Result<Ticket, HallError> {
        self.at_window(window, "recall")?;
        let mut next = self.clone();
        next.recalls += 1;
        next.last_called_at = Some(at);
        Ok(next)
    }

    /// The person did not come (过号): the ticket leaves the queue.
    pub fn skip(&self, window: &WindowKey, at: Timestamp) -> Result<Ticket, HallError> {
        self.at_window(window, "skip")?;
        let mut next = self.clone();
        next.status = TicketStatus::Skipped;
        next.finished_at = Some(at);
        Ok(next)
    }

    /// Served: the service time ends here.
    pub fn finish(&self, window: &WindowKey, at: Timestamp) -> Result<Ticket, HallError> {
        self.at_window(window, "finish")?;
        let mut next = self.clone();
        next.status = TicketStatus::Done;
        next.finished_at = Some(at);
        Ok(next)
    }

    /// Sends the ticket back to the queue for another skill group, or for one window; it keeps
    /// its place (its original taking time) so that the person does not queue again from the end.
    pub fn transfer(
        &self,
        from: &WindowKey,
        skill: SkillGroupKey,
        to_window: Option<WindowKey>,
    ) -> Result<Ticket, HallError> {
        self.at_window(from, "transfer")?;
        if to_window.as_ref() == Some(from) {
            return Err(HallError::Invalid(
                "a ticket cannot be transferred to the window that has it".into(),
            ));
        }
        let mut next = self.clone();
        next.status = TicketStatus::Waiting;
        next.skill = skill;
        next.transferred_to = to_window;
        Ok(next)
    }

    fn at_window(&self, window: &WindowKey, action: &'static str) -> Result<(), HallError> {
        if self.status != TicketStatus::Called {
            return Err(self.refuse(action));
        }
        if self.window.as_ref() != Some(window) {
            return Err(HallError::Invalid(format!(
                "ticket {} is not at window {window}",
                self.number
            )));
        }
        Ok(())
    }

    /// Taken → first call.
    pub fn waiting_time(&self) -> Option<SignedDuration> {
        self.called_at
            .map(|called| called.duration_since(self.taken_at))
    }

    /// First call → finished (served tickets only).
    pub fn service_time(&self) -> Option<SignedDuration> {
        match (self.status, self.called_at, self.finished_at) {
            (TicketStatus::Done, Some(called), Some(finished)) => {
                Some(finished.duration_since(called))
            }
            _ => None,
        }
    }
}

/// The order of the queue: transferred to a window first, then class, then taking time, then id.
fn queue_key(ticket: &Ticket) -> (bool, u8, Timestamp, TicketId) {
    (
        ticket.transferred_to.is_none(),
        ticket.class.rank(),
        ticket.taken_at,
        ticket.id,
    )
}

/// The next waiting ticket this window may call: transferred to it, or of one of its skills and
/// not transferred to another window.
pub fn next_for<'a>(
    tickets: &'a [Ticket],
    window: &WindowKey,
    skills: &[SkillGroupKey],
) -> Option<&'a Ticket> {
    tickets
        .iter()
        .filter(|t| t.status == TicketStatus::Waiting)
        .filter(|t| match &t.transferred_to {
            Some(target) => target == window,
            None => skills.contains(&t.skill),
        })
        .min_by_key(|t| queue_key(t))
}

/// The ticket number for the `sequence`-th ticket of a class today: the class letter and three
/// digits (`A001` … `A999`, then four digits).
pub fn ticket_number(class: PriorityClass, sequence: u32) -> String {
    format!("{}{sequence:03}", class.prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_772_413_200).unwrap() + SignedDuration::from_mins(minutes)
    }

    fn skill(text: &str) -> SkillGroupKey {
        SkillGroupKey::parse(text).unwrap()
    }

    fn window(text: &str) -> WindowKey {
        WindowKey::parse(text).unwrap()
    }

    fn ticket(n: u128, class: PriorityClass, skill_key: &str, minute: i64) -> Ticket {
        Ticket::take(
            uuid::Uuid::from_u128(n),
            HallKey::parse("city-centre").unwrap(),
            ticket_number(class, u32::try_from(n).unwrap()),
            class,
            skill(skill_key),
            None,
            at(minute),
        )
    }

    #[test]
    fn the_green_channel_goes_before_appointments_agents_and_walk_ins() {
        let tickets = vec![
            ticket(1, PriorityClass::Normal, "personal", 0),
            ticket(2, PriorityClass::Agent, "personal", 1),
            ticket(3, PriorityClass::Appointment, "personal", 2),
            ticket(4, PriorityClass::GreenChannel, "personal", 3),
        ];
        let mut queue = tickets.clone();
        let mut order = Vec::new();
        let a01 = window("a01");
        while let Some(next) = next_for(&queue, &a01, &[skill("personal")]) {
            order.push(next.class);
            let called = next.call(&a01, at(10)).unwrap();
            let index = queue.iter().position(|t| t.id == called.id).unwrap();
            queue[index] = called;
        }
        assert_eq!(
            order,
            vec![
                PriorityClass::GreenChannel,
                PriorityClass::Appointment,
                PriorityClass::Agent,
                PriorityClass::Normal
            ]
        );
    }

    #[test]
    fn inside_a_class_the_first_to_come_is_called_first() {
        let tickets = vec![
            ticket(2, PriorityClass::Normal, "personal", 5),
            ticket(1, PriorityClass::Normal, "personal", 1),
        ];
        let next = next_for(&tickets, &window("a01"), &[skill("personal")]).unwrap();
        assert_eq!(next.taken_at, at(1));
    }

    #[test]
    fn a_window_calls_only_tickets_of_its_skills() {
        let tickets = vec![ticket(1, PriorityClass::GreenChannel, "police", 0)];
        assert!(next_for(&tickets, &window("a01"), &[skill("personal")]).is_none());
        assert!(next_for(&tickets, &window("c01"), &[skill("police")]).is_some());
    }

    #[test]
    fn waiting_and_service_times_are_measured_from_the_first_call() {
        let a01 = window("a01");
        let taken = ticket(1, PriorityClass::Normal, "personal", 0);
        let called = taken.call(&a01, at(12)).unwrap();
        let recalled = called.recall(&a01, at(14)).unwrap();
        assert_eq!(recalled.recalls, 1);
        let done = recalled.finish(&a01, at(20)).unwrap();
        assert_eq!(done.waiting_time(), Some(SignedDuration::from_mins(12)));
        assert_eq!(done.service_time(), Some(SignedDuration::from_mins(8)));
    }

    #[test]
    fn a_transferred_ticket_keeps_its_place_and_goes_only_to_its_window() {
        let a01 = window("a01");
        let c01 = window("c01");
        let early = ticket(1, PriorityClass::Normal, "personal", 0)
            .call(&a01, at(5))
            .unwrap()
            .transfer(&a01, skill("police"), Some(c01.clone()))
            .unwrap();
        let other = ticket(2, PriorityClass::GreenChannel, "police", 1);
        let tickets = vec![early.clone(), other];
        let next = next_for(&tickets, &c01, &[skill("police")]).unwrap();
        assert_eq!(
            next.id, early.id,
            "transferred to this window: served first"
        );
        let c02 = window("c02");
        let next = next_for(&tickets, &c02, &[skill("police")]).unwrap();
        assert_ne!(next.id, early.id, "another window does not take it");
        assert!(early.call(&c02, at(6)).is_err());
        let called = early.call(&c01, at(7)).unwrap();
        assert_eq!(
            called.called_at,
            Some(at(5)),
            "waiting ended at the first call"
        );
    }

    #[test]
    fn illegal_transitions_are_refused_with_a_code() {
        let a01 = window("a01");
        let waiting = ticket(1, PriorityClass::Normal, "personal", 0);
        let error = waiting.finish(&a01, at(1)).unwrap_err();
        assert_eq!(error.code(), "illegal_transition");
        let called = waiting.call(&a01, at(1)).unwrap();
        assert_eq!(
            called.call(&a01, at(2)).unwrap_err().code(),
            "illegal_transition"
        );
        assert_eq!(
            called.skip(&window("a02"), at(2)).unwrap_err().code(),
            "invalid_hall_request",
            "another window cannot skip it"
        );
        let skipped = called.skip(&a01, at(3)).unwrap();
        assert_eq!(skipped.status, TicketStatus::Skipped);
        assert_eq!(
            skipped.service_time(),
            None,
            "a no-show has no service time"
        );
        assert!(skipped.recall(&a01, at(4)).is_err());
    }

    #[test]
    fn ticket_numbers_carry_the_class_letter() {
        assert_eq!(ticket_number(PriorityClass::GreenChannel, 7), "G007");
        assert_eq!(ticket_number(PriorityClass::Normal, 1234), "A1234");
    }
}
