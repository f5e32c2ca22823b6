//! The injected clock: domain code and services never read the system time themselves, so that
//! tests can pin "now" and deadlines are reproducible.

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// A clock for tests: it says what it is told.
#[derive(Debug)]
pub struct FixedClock {
    microseconds: AtomicI64,
}

impl FixedClock {
    pub fn at(instant: Timestamp) -> FixedClock {
        FixedClock {
            microseconds: AtomicI64::new(instant.as_microsecond()),
        }
    }

    /// Moves the clock by a number of seconds (negative moves back).
    pub fn advance_seconds(&self, seconds: i64) {
        self.microseconds
            .fetch_add(seconds.saturating_mul(1_000_000), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        let micros = self.microseconds.load(Ordering::SeqCst);
        Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}
