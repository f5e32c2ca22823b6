//! Appointments (预约): slots per hall × skill group (the item group a window is trained for),
//! generated from the hall's opening sessions, each with a capacity; book, cancel, reschedule,
//! check in, no-show.
//!
//! Regular sessions run on working days (make-up workdays included, holidays excluded, as the
//! official calendar says); an extended session (`appointment_only`, e.g. 周六上午预约延时服务)
//! runs on its own weekdays unless the day is a public holiday. A capacity lowered below what is
//! already booked keeps every booking: the slot then shows as over-booked ("orphaned" bookings
//! stay visible to staff and to their holders) and takes no new ones.
//!
//! ```
//! use tongban_domain::halls::appointments::Availability;
//! let slot = Availability { capacity: 2, booked: 3 };
//! assert_eq!(slot.remaining(), 0);
//! assert_eq!(slot.orphaned(), 1);
//! ```

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{AppointmentId, HallError, TicketId};
use crate::keys::{HallKey, SkillGroupKey};
use crate::org::{Hall, OpeningHours};

/// How long one slot lasts.
pub const SLOT_MINUTES: i64 = 30;
/// Places per slot unless an administrator sets another capacity.
pub const DEFAULT_CAPACITY: u32 = 4;
/// How early before its slot an appointment may be checked in.
pub const CHECK_IN_EARLY_MINUTES: i64 = 30;

const CHINA_STANDARD_TIME: Offset = Offset::constant(8);

/// The instant of a civil time in China (UTC+08:00, no daylight saving time since 1991).
pub fn china_instant(day: Date, time: Time) -> Timestamp {
    CHINA_STANDARD_TIME
        .to_timestamp(DateTime::from_parts(day, time))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// What kind of day it is, from the official calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayKind {
    /// A working day (including make-up workdays on weekends).
    pub workday: bool,
    /// Inside an official holiday.
    pub holiday: bool,
}

/// One bookable slot of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub day: Date,
    pub starts: Time,
    pub ends: Time,
    /// From an extended (appointment-only) session.
    pub extended: bool,
}

impl Slot {
    pub fn starts_at(&self) -> Timestamp {
        china_instant(self.day, self.starts)
    }

    pub fn ends_at(&self) -> Timestamp {
        china_instant(self.day, self.ends)
    }
}

fn parse_time(text: &str) -> Result<Time, HallError> {
    Time::strptime("%H:%M", text)
        .map_err(|_| HallError::Invalid(format!("{text:?} is not a time HH:MM")))
}

fn session_applies(session: &OpeningHours, day: Date, kind: DayKind) -> bool {
    let weekday = u8::try_from(day.weekday().to_monday_one_offset()).unwrap_or(0);
    let weekend = weekday >= 6;
    if session.appointment_only || (weekend && !kind.workday) {
        // Extended sessions and regular weekend sessions: their own weekdays, not on holidays.
        return session.weekdays.contains(&weekday) && !kind.holiday;
    }
    if !kind.workday {
        return false;
    }
    if weekend {
        // A make-up workday (调休上班) opens with the regular Monday–Friday session.
        return session.weekdays.iter().any(|d| *d <= 5);
    }
    session.weekdays.contains(&weekday)
}

/// The slots of a hall on a day, in time order, without duplicates.
pub fn slots_on(hall: &Hall, day: Date, kind: DayKind) -> Result<Vec<Slot>, HallError> {
    let mut slots: Vec<Slot> = Vec::new();
    for session in &hall.hours {
        if !session_applies(session, day, kind) {
            continue;
        }
        let opens = parse_time(&session.opens)?;
        let closes = parse_time(&session.closes)?;
        let mut starts = opens;
        loop {
            let Ok(ends) = starts.checked_add(SignedDuration::from_mins(SLOT_MINUTES)) else {
                break;
            };
            if ends > closes || ends <= starts {
                break;
            }
            if !slots.iter().any(|s| s.starts == starts) {
                slots.push(Slot {
                    day,
                    starts,
                    ends,
                    extended: session.appointment_only,
                });
            }
            starts = ends;
        }
    }
    slots.sort_by_key(|s| s.starts);
    Ok(slots)
}

/// The slot of a hall starting at `starts` on `day`.
pub fn find_slot(hall: &Hall, day: Date, kind: DayKind, starts: Time) -> Result<Slot, HallError> {
    slots_on(hall, day, kind)?
        .into_iter()
        .find(|s| s.starts == starts)
        .ok_or_else(|| {
            HallError::NoSuchSlot(format!(
                "hall {} has no appointment slot at {day} {}",
                hall.key,
                starts.strftime("%H:%M")
            ))
        })
}

/// A slot's capacity and how many live bookings (booked or checked in) it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub capacity: u32,
    pub booked: u32,
}

impl Availability {
    pub fn remaining(&self) -> u32 {
        self.capacity.saturating_sub(self.booked)
    }

    /// Bookings beyond the capacity, after the capacity was lowered.
    pub fn orphaned(&self) -> u32 {
        self.booked.saturating_sub(self.capacity)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    CheckedIn,
    Cancelled,
    NoShow,
}

impl AppointmentStatus {
    pub fn code(&self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::CheckedIn => "checked_in",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::NoShow => "no_show",
        }
    }

    pub fn parse(code: &str) -> Option<AppointmentStatus> {
        [
            AppointmentStatus::Booked,
            AppointmentStatus::CheckedIn,
            AppointmentStatus::Cancelled,
            AppointmentStatus::NoShow,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// Whether the booking holds a place in its slot.
    pub fn holds_place(&self) -> bool {
        matches!(
            self,
            AppointmentStatus::Booked | AppointmentStatus::CheckedIn
        )
    }
}

/// A booking of one slot by one applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub hall: HallKey,
    pub skill: SkillGroupKey,
    pub slot: Slot,
    /// ID number or credit code.
    pub applicant: String,
    /// The account that booked (the applicant, or an agent or clerk for them).
    pub booked_by: String,
    /// The item the applicant comes for, when known (implementation code).
    pub item: Option<String>,
    pub status: AppointmentStatus,
    pub ticket: Option<TicketId>,
    pub booked_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a booking asks for.
#[derive(Debug, Clone)]
pub struct Booking {
    pub id: uuid::Uuid,
    pub hall: HallKey,
    pub skill: SkillGroupKey,
    pub slot: Slot,
    pub applicant: String,
    pub booked_by: String,
    pub item: Option<String>,
}

impl Appointment {
    /// Books a slot that starts in the future and has room.
    pub fn book(
        booking: Booking,
        availability: Availability,
        at: Timestamp,
    ) -> Result<Appointment, HallError> {
        if booking.slot.starts_at() <= at {
            return Err(HallError::OutOfTime(
                "a slot can be booked only before it starts".into(),
            ));
        }
        if availability.remaining() == 0 {
            return Err(HallError::SlotFull {
                capacity: availability.capacity,
            });
        }
        Ok(Appointment {
            id: AppointmentId::from_uuid(booking.id),
            hall: booking.hall,
            skill: booking.skill,
            slot: booking.slot,
            applicant: booking.applicant,
            booked_by: booking.booked_by,
            item: booking.item,
            status: AppointmentStatus::Booked,
            ticket: None,
            booked_at: at,
            updated_at: at,
        })
    }

    fn refuse(&self, action: &'static str) -> HallError {
        HallError::IllegalTransition {
            what: "appointment",
            action,
            state: self.status.code(),
        }
    }

    /// Cancels a booking before its slot starts; the place is free again.
    pub fn cancel(&self, at: Timestamp) -> Result<Appointment, HallError> {
        if self.status != AppointmentStatus::Booked {
            return Err(self.refuse("cancel"));
        }
        if self.slot.starts_at() <= at {
            return Err(HallError::OutOfTime(
                "an appointment can be cancelled only before its slot starts".into(),
            ));
        }
        let mut next = self.clone();
        next.status = AppointmentStatus::Cancelled;
        next.updated_at = at;
        Ok(next)
    }

    /// Moves a booking to another slot (of the same hall and skill group) with room.
    pub fn reschedule(
        &self,
        slot: Slot,
        availability: Availability,
        at: Timestamp,
    ) -> Result<Appointment, HallError> {
        if self.status != AppointmentStatus::Booked {
            return Err(self.refuse("reschedule"));
        }
        if self.slot.starts_at() <= at || slot.starts_at() <= at {
            return Err(HallError::OutOfTime(
                "both the old and the new slot must still be ahead".into(),
            ));
        }
        if slot == self.slot {
            return Err(HallError::Invalid(
                "the appointment is already in that slot".into(),
            ));
        }
        if availability.remaining() == 0 {
            return Err(HallError::SlotFull {
                capacity: availability.capacity,
            });
        }
        let mut next = self.clone();
        next.slot = slot;
        next.updated_at = at;
        Ok(next)
    }

    /// Checks in at the hall, from half an hour before the slot until its end; the ticket that
    /// check-in gives is recorded.
    pub fn check_in(&self, ticket: TicketId, at: Timestamp) -> Result<Appointment, HallError> {
        if self.status != AppointmentStatus::Booked {
            return Err(self.refuse("check in"));
        }
        let opens = self.slot.starts_at() - SignedDuration::from_mins(CHECK_IN_EARLY_MINUTES);
        if at < opens || at >= self.slot.ends_at() {
            return Err(HallError::OutOfTime(format!(
                "check-in is open from {CHECK_IN_EARLY_MINUTES} minutes before the slot until its end"
            )));
        }
        let mut next = self.clone();
        next.status = AppointmentStatus::CheckedIn;
        next.ticket = Some(ticket);
        next.updated_at = at;
        Ok(next)
    }

    /// Marks a booking not honoured once its slot has ended (爽约).
    pub fn no_show(&self, at: Timestamp) -> Result<Appointment, HallError> {
        if self.status != AppointmentStatus::Booked {
            return Err(self.refuse("mark as no-show"));
        }
        if at < self.slot.ends_at() {
            return Err(HallError::OutOfTime(
                "a no-show can be recorded only after the slot has ended".into(),
            ));
        }
        let mut next = self.clone();
        next.status = AppointmentStatus::NoShow;
        next.updated_at = at;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};

    use super::*;
    use crate::org::HallLevel;

    fn hall() -> Hall {
        Hall {
            key: HallKey::parse("city-centre").unwrap(),
            name: "示范市政务服务中心".into(),
            level: HallLevel::City,
            region: crate::ids::RegionCode::parse("990100").unwrap(),
            address: String::new(),
            phone: String::new(),
            hours: vec![
                OpeningHours {
                    weekdays: vec![1, 2, 3, 4, 5],
                    opens: "09:00".into(),
                    closes: "17:00".into(),
                    appointment_only: false,
                    note: None,
                },
                OpeningHours {
                    weekdays: vec![6],
                    opens: "09:00".into(),
                    closes: "12:00".into(),
                    appointment_only: true,
                    note: Some("周六上午预约延时服务".into()),
                },
            ],
            self_service_24h: true,
        }
    }

    const WORKDAY: DayKind = DayKind {
        workday: true,
        holiday: false,
    };
    const WEEKEND: DayKind = DayKind {
        workday: false,
        holiday: false,
    };
    const HOLIDAY: DayKind = DayKind {
        workday: false,
        holiday: true,
    };

    fn booking(slot: Slot) -> Booking {
        Booking {
            id: uuid::Uuid::from_u128(1),
            hall: HallKey::parse("city-centre").unwrap(),
            skill: SkillGroupKey::parse("personal").unwrap(),
            slot,
            applicant: "990102198803150031".into(),
            booked_by: "citizen".into(),
            item: None,
        }
    }

    fn before(day: Date) -> Timestamp {
        china_instant(day, time(8, 0, 0, 0)) - SignedDuration::from_hours(24)
    }

    #[test]
    fn a_working_day_has_sixteen_half_hour_slots_and_saturday_morning_six_extended() {
        let monday = date(2026, 3, 2);
        let slots = slots_on(&hall(), monday, WORKDAY).unwrap();
        assert_eq!(slots.len(), 16);
        assert_eq!(slots[0].starts, time(9, 0, 0, 0));
        assert_eq!(slots[15].ends, time(17, 0, 0, 0));
        assert!(slots.iter().all(|s| !s.extended));
        let saturday = date(2026, 3, 7);
        let slots = slots_on(&hall(), saturday, WEEKEND).unwrap();
        assert_eq!(slots.len(), 6);
        assert!(slots.iter().all(|s| s.extended));
        assert!(
            slots_on(&hall(), date(2026, 3, 8), WEEKEND)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_holiday_has_no_slots_and_a_make_up_saturday_opens_the_regular_session() {
        // 2026-10-01 is a Thursday inside the National Day holiday.
        assert!(
            slots_on(&hall(), date(2026, 10, 1), HOLIDAY)
                .unwrap()
                .is_empty()
        );
        let makeup = slots_on(&hall(), date(2026, 3, 7), WORKDAY).unwrap();
        assert_eq!(
            makeup.len(),
            16,
            "the regular day; the extended morning merges into it"
        );
    }

    #[test]
    fn a_full_slot_refuses_a_booking_and_a_cancellation_frees_it() {
        let day = date(2026, 3, 3);
        let slot = find_slot(&hall(), day, WORKDAY, time(9, 30, 0, 0)).unwrap();
        let full = Availability {
            capacity: 1,
            booked: 1,
        };
        let error = Appointment::book(booking(slot.clone()), full, before(day)).unwrap_err();
        assert_eq!(error.code(), "slot_full");
        let free = Availability {
            capacity: 1,
            booked: 0,
        };
        let booked = Appointment::book(booking(slot), free, before(day)).unwrap();
        let cancelled = booked.cancel(before(day)).unwrap();
        assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
        assert!(!cancelled.status.holds_place());
        assert_eq!(
            cancelled.cancel(before(day)).unwrap_err().code(),
            "illegal_transition"
        );
    }

    #[test]
    fn a_slot_that_does_not_exist_or_has_started_cannot_be_booked() {
        let day = date(2026, 3, 3);
        assert_eq!(
            find_slot(&hall(), day, WORKDAY, time(9, 15, 0, 0))
                .unwrap_err()
                .code(),
            "slot_not_found"
        );
        let slot = find_slot(&hall(), day, WORKDAY, time(9, 0, 0, 0)).unwrap();
        let room = Availability {
            capacity: 4,
            booked: 0,
        };
        let late = china_instant(day, time(9, 0, 0, 0));
        assert_eq!(
            Appointment::book(booking(slot), room, late)
                .unwrap_err()
                .code(),
            "out_of_time"
        );
    }

    #[test]
    fn rescheduling_moves_the_booking_to_a_slot_with_room() {
        let day = date(2026, 3, 3);
        let first = find_slot(&hall(), day, WORKDAY, time(9, 0, 0, 0)).unwrap();
        let second = find_slot(&hall(), day, WORKDAY, time(10, 0, 0, 0)).unwrap();
        let room = Availability {
            capacity: 4,
            booked: 0,
        };
        let booked = Appointment::book(booking(first.clone()), room, before(day)).unwrap();
        let full = Availability {
            capacity: 4,
            booked: 4,
        };
        assert_eq!(
            booked
                .reschedule(second.clone(), full, before(day))
                .unwrap_err()
                .code(),
            "slot_full"
        );
        let moved = booked
            .reschedule(second.clone(), room, before(day))
            .unwrap();
        assert_eq!(moved.slot, second);
        assert_eq!(moved.status, AppointmentStatus::Booked);
    }

    #[test]
    fn check_in_opens_half_an_hour_early_and_a_no_show_comes_after_the_slot() {
        let day = date(2026, 3, 3);
        let slot = find_slot(&hall(), day, WORKDAY, time(10, 0, 0, 0)).unwrap();
        let room = Availability {
            capacity: 4,
            booked: 0,
        };
        let booked = Appointment::book(booking(slot), room, before(day)).unwrap();
        let ticket = TicketId::from_uuid(uuid::Uuid::from_u128(9));
        let too_early = china_instant(day, time(9, 29, 0, 0));
        assert_eq!(
            booked.check_in(ticket, too_early).unwrap_err().code(),
            "out_of_time"
        );
        let on_time = china_instant(day, time(9, 45, 0, 0));
        let checked_in = booked.check_in(ticket, on_time).unwrap();
        assert_eq!(checked_in.ticket, Some(ticket));
        assert!(checked_in.no_show(on_time).is_err());
        assert_eq!(
            booked.no_show(on_time).unwrap_err().code(),
            "out_of_time",
            "not before the slot ends"
        );
        let after = china_instant(day, time(10, 30, 0, 0));
        assert_eq!(
            booked.no_show(after).unwrap().status,
            AppointmentStatus::NoShow
        );
    }

    #[test]
    fn a_lowered_capacity_keeps_the_bookings_and_takes_no_new_ones() {
        let over = Availability {
            capacity: 1,
            booked: 3,
        };
        assert_eq!(over.remaining(), 0);
        assert_eq!(over.orphaned(), 2);
    }
}
