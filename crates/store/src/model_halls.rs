//! Records of the hall port ([`crate::ports::HallStore`]).

use jiff::civil::{Date, Time};
use serde::Serialize;
use tongban_domain::halls::appointments::Appointment;
use tongban_domain::halls::queue::Ticket;
use tongban_domain::halls::visits::Visit;
use tongban_domain::keys::HallKey;

/// One slot's stored state: a capacity set by staff (if any) and its live bookings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotLoad {
    pub starts: Time,
    pub capacity: Option<u32>,
    /// Bookings that hold a place (booked or checked in).
    pub booked: u32,
}

/// Which appointments to list.
#[derive(Debug, Clone)]
pub enum AppointmentFilter {
    /// An applicant's, newest slot first.
    Applicant(String),
    /// A hall's on one day, by slot.
    HallDay(HallKey, Date),
}

/// A ticket taken, in one transaction with what it means: the appointment it checks in (with its
/// new state) and the visit it records (linked to the applicant's open cases).
#[derive(Debug, Clone)]
pub struct CheckIn {
    /// The ticket; its `number` is assigned by the store.
    pub ticket: Ticket,
    pub appointment: Option<Appointment>,
    pub visit: Option<Visit>,
}
