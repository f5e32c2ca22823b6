//! Service halls (一门集中, 一窗受理): appointments (预约), tickets and the queue (取号叫号),
//! physical visits counted per case (real trips against the promised 到现场次数), and a
//! discrete-event simulation for window planning.
//!
//! Everything here is a pure state machine: a transition takes the current record and the
//! instant (passed in, never read) and returns the new record or a typed [`HallError`].
//!
//! ```
//! use tongban_domain::halls::PriorityClass;
//! assert!(PriorityClass::GreenChannel.rank() < PriorityClass::Normal.rank());
//! assert_eq!(PriorityClass::parse("green_channel"), Some(PriorityClass::GreenChannel));
//! ```

pub mod appointments;
pub mod queue;
pub mod simulation;
pub mod visits;

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! hall_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

hall_id!(
    /// A queue ticket (取号).
    TicketId
);
hall_id!(
    /// An appointment (预约).
    AppointmentId
);
hall_id!(
    /// A physical visit to a hall (one check-in).
    VisitId
);

/// Who goes first. Lower rank is served earlier; inside a class, first come first served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityClass {
    /// 绿色通道: elderly, pregnant and disabled people.
    GreenChannel,
    /// Checked in with an appointment (预约).
    Appointment,
    /// An agent (帮办代办员) acting for someone.
    Agent,
    /// A walk-in.
    Normal,
}

impl PriorityClass {
    pub const ALL: [PriorityClass; 4] = [
        PriorityClass::GreenChannel,
        PriorityClass::Appointment,
        PriorityClass::Agent,
        PriorityClass::Normal,
    ];

    pub fn rank(&self) -> u8 {
        match self {
            PriorityClass::GreenChannel => 0,
            PriorityClass::Appointment => 1,
            PriorityClass::Agent => 2,
            PriorityClass::Normal => 3,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            PriorityClass::GreenChannel => "green_channel",
            PriorityClass::Appointment => "appointment",
            PriorityClass::Agent => "agent",
            PriorityClass::Normal => "normal",
        }
    }

    pub fn parse(code: &str) -> Option<PriorityClass> {
        PriorityClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The letter that starts the ticket number, so that the board shows the class.
    pub fn prefix(&self) -> char {
        match self {
            PriorityClass::GreenChannel => 'G',
            PriorityClass::Appointment => 'Y',
            PriorityClass::Agent => 'D',
            PriorityClass::Normal => 'A',
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            PriorityClass::GreenChannel => "绿色通道",
            PriorityClass::Appointment => "预约",
            PriorityClass::Agent => "帮办代办",
            PriorityClass::Normal => "普通",
        }
    }
}

/// Why a hall operation is refused. Each variant has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HallError {
    /// The operation is not allowed in the record's current state.
    #[error("cannot {action} a {what} that is {state}")]
    IllegalTransition {
        what: &'static str,
        action: &'static str,
        state: &'static str,
    },
    /// The appointment slot has no room left.
    #[error("the slot is fully booked ({capacity} places)")]
    SlotFull { capacity: u32 },
    /// There is no such slot in the hall's sessions on that day.
    #[error("{0}")]
    NoSuchSlot(String),
    /// Too early or too late for this operation.
    #[error("{0}")]
    OutOfTime(String),
    /// Malformed input.
    #[error("{0}")]
    Invalid(String),
}

impl HallError {
    pub fn code(&self) -> &'static str {
        match self {
            HallError::IllegalTransition { .. } => "illegal_transition",
            HallError::SlotFull { .. } => "slot_full",
            HallError::NoSuchSlot(_) => "slot_not_found",
            HallError::OutOfTime(_) => "out_of_time",
            HallError::Invalid(_) => "invalid_hall_request",
        }
    }
}
