//! Hall figures from the queue (取号叫号, SPEC C4 and C8): waiting times and throughput.
//!
//! Each queue ticket contributes a [`QueueFact`], derived from the ticket after each change:
//! the day it was taken, its waiting time once a window called it (taken → first call, the
//! ticket's own [`Ticket::waiting_time`]) and the window that served it once finished. Storage
//! keeps the sums per day × hall × window ([`QueueCounters`]) and a histogram of waits in whole
//! minutes per month × hall, both moved in the ticket's own transaction; [`queue_kpis`] turns a
//! sum into figures. `docs/kpis.md` defines them.
//!
//! ```
//! use tongban_domain::stats::queue::{QueueCounters, queue_kpis};
//! // 4 tickets called after 2, 4, 6 and 12 minutes; 3 served by windows on 2 window-days.
//! let counters = QueueCounters { called: 4, wait_seconds: 24 * 60, served: 3, window_days: 2 };
//! let histogram = [(2, 1), (4, 1), (6, 1), (12, 1)];
//! let figures = queue_kpis(Some((&counters, &histogram[..])));
//! let value = |code: &str| figures.iter().find(|k| k.code == code).and_then(|k| k.value);
//! assert_eq!(value("wait_avg_minutes"), Some(6.0));
//! assert_eq!(value("wait_p90_minutes"), Some(12.0));
//! assert_eq!(value("served_per_window_day"), Some(1.5));
//! ```

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{KpiDefinition, KpiValue, Unit, mean, percentile};
use crate::calendar::shanghai_date;
use crate::halls::queue::{Ticket, TicketStatus};
use crate::keys::{HallKey, WindowKey};

/// What one queue ticket contributes, derived from its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFact {
    /// The day it was taken (China time); its waiting and its service count on that day.
    pub day: Date,
    pub hall: HallKey,
    /// Whole seconds from taking to the first call, once a window has called it (a skipped
    /// ticket waited too; a transferred one waited once, until its first call).
    pub wait_seconds: Option<i64>,
    /// The window that finished it, once served.
    pub served_by: Option<WindowKey>,
}

impl QueueFact {
    pub fn of(ticket: &Ticket) -> QueueFact {
        let wait_seconds = ticket.waiting_time().map(|wait| wait.as_secs().max(0));
        let served_by = match ticket.status {
            TicketStatus::Done => ticket.window.clone(),
            _ => None,
        };
        QueueFact {
            day: shanghai_date(ticket.taken_at),
            hall: ticket.hall.clone(),
            wait_seconds,
            served_by,
        }
    }
}

/// The histogram bucket of a wait: whole minutes, rounded up, so that "90% waited at most N
/// minutes" holds for the percentile read from the histogram (a wait of 0 s is bucket 0).
pub fn wait_bucket(seconds: i64) -> i64 {
    let seconds = seconds.max(0);
    (seconds + 59) / 60
}

/// Queue sums for one group (a hall, region, window or month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueueCounters {
    /// Tickets called at least once (their waiting is over).
    pub called: i64,
    /// Σ whole seconds waited by the called tickets.
    pub wait_seconds: i64,
    /// Tickets served (finished at a window).
    pub served: i64,
    /// Window-days: (window, day) pairs on which that window finished at least one ticket.
    pub window_days: i64,
}

impl QueueCounters {
    pub fn add(&mut self, other: &QueueCounters) {
        self.called += other.called;
        self.wait_seconds += other.wait_seconds;
        self.served += other.served;
        self.window_days += other.window_days;
    }
}

/// The queue figures, computed from [`QueueCounters`] and the histogram of waits.
pub const QUEUE_CATALOGUE: &[KpiDefinition] = &[
    KpiDefinition {
        code: "queue_called",
        name_zh: "叫号量",
        name_en: "Tickets called",
        unit: Unit::Count,
        definition: "queue tickets taken in the period and called by a window at least once",
    },
    KpiDefinition {
        code: "queue_served",
        name_zh: "窗口服务量",
        name_en: "Tickets served",
        unit: Unit::Count,
        definition: "queue tickets taken in the period and finished at a window (no-shows and \
                     tickets still waiting excluded)",
    },
    KpiDefinition {
        code: "wait_avg_minutes",
        name_zh: "平均等候时长",
        name_en: "Average wait",
        unit: Unit::Minutes,
        definition: "Σ time from taking a ticket to its first call / tickets called, in minutes",
    },
    KpiDefinition {
        code: "wait_p90_minutes",
        name_zh: "90%等候时长",
        name_en: "90th percentile wait",
        unit: Unit::Minutes,
        definition: "the smallest whole number of minutes N such that at least 90% of the \
                     called tickets waited at most N minutes until their first call",
    },
    KpiDefinition {
        code: "served_per_window_day",
        name_zh: "窗口日均服务量",
        name_en: "Served per window and day",
        unit: Unit::PerWindowDay,
        definition: "tickets served / window-days, a window-day being a window on a day on \
                     which it served at least one ticket",
    },
];

/// The queue figures of one group: `None` where they do not apply (e.g. per department, as
/// tickets have no department), every value then being `null`.
pub fn queue_kpis(sums: Option<(&QueueCounters, &[(i64, i64)])>) -> Vec<KpiValue> {
    let mut values = Vec::with_capacity(QUEUE_CATALOGUE.len());
    for definition in QUEUE_CATALOGUE {
        let (value, numerator, denominator) = match sums {
            None => (None, None, None),
            Some((c, histogram)) => match definition.code {
                "queue_called" => (Some(super::count(c.called)), None, None),
                "queue_served" => (Some(super::count(c.served)), None, None),
                "wait_avg_minutes" => (
                    mean(c.wait_seconds, c.called.saturating_mul(60)),
                    None,
                    None,
                ),
                "wait_p90_minutes" => (percentile(histogram, 90).map(super::count), None, None),
                "served_per_window_day" => (
                    mean(c.served, c.window_days),
                    Some(c.served),
                    Some(c.window_days),
                ),
                _ => (None, None, None),
            },
        };
        values.push(KpiValue {
            code: definition.code,
            name_zh: definition.name_zh,
            name_en: definition.name_en,
            unit: definition.unit,
            value,
            numerator,
            denominator,
        });
    }
    values
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::*;
    use crate::halls::PriorityClass;
    use crate::keys::SkillGroupKey;

    fn at(seconds: i64) -> Timestamp {
        // 2026-03-02 09:00 in Shanghai.
        Timestamp::from_second(1_772_413_200).unwrap() + SignedDuration::from_secs(seconds)
    }

    fn window(key: &str) -> WindowKey {
        WindowKey::parse(key).unwrap()
    }

    fn taken(n: u128, second: i64) -> Ticket {
        Ticket::take(
            uuid::Uuid::from_u128(n),
            HallKey::parse("city-centre").unwrap(),
            format!("A{n:03}"),
            PriorityClass::Normal,
            SkillGroupKey::parse("personal").unwrap(),
            None,
            at(second),
        )
    }

    fn value(values: &[KpiValue], code: &str) -> Option<f64> {
        values.iter().find(|v| v.code == code).and_then(|v| v.value)
    }

    #[test]
    fn a_ticket_waits_until_its_first_call_and_counts_as_served_by_the_window_that_finished_it() {
        let a01 = window("city-centre-a01");
        let c01 = window("city-centre-c01");
        let waiting = taken(1, 0);
        let fact = QueueFact::of(&waiting);
        assert_eq!(fact.day, jiff::civil::date(2026, 3, 2));
        assert_eq!((fact.wait_seconds, fact.served_by.clone()), (None, None));
        // Called after 7 min 30 s, transferred, called again later and finished at C01: the
        // wait ends at the first call, the service counts for C01.
        let called = waiting.call(&a01, at(450)).unwrap();
        assert_eq!(QueueFact::of(&called).wait_seconds, Some(450));
        assert_eq!(QueueFact::of(&called).served_by, None);
        let transferred = called
            .transfer(&a01, SkillGroupKey::parse("police").unwrap(), None)
            .unwrap();
        let again = transferred.call(&c01, at(900)).unwrap();
        let done = again.finish(&c01, at(1200)).unwrap();
        let fact = QueueFact::of(&done);
        assert_eq!(fact.wait_seconds, Some(450));
        assert_eq!(fact.served_by, Some(c01.clone()));
        // A no-show waited, and was not served.
        let skipped = taken(2, 60)
            .call(&a01, at(180))
            .unwrap()
            .skip(&a01, at(300))
            .unwrap();
        let fact = QueueFact::of(&skipped);
        assert_eq!((fact.wait_seconds, fact.served_by), (Some(120), None));
    }

    #[test]
    fn waits_are_bucketed_in_whole_minutes_rounded_up() {
        assert_eq!(wait_bucket(0), 0);
        assert_eq!(wait_bucket(1), 1);
        assert_eq!(wait_bucket(60), 1);
        assert_eq!(wait_bucket(61), 2);
        assert_eq!(wait_bucket(450), 8);
        assert_eq!(
            wait_bucket(-5),
            0,
            "a clock skew never makes a negative wait"
        );
    }

    #[test]
    fn queue_figures_on_a_small_hand_computed_day() {
        // Five tickets called after 1:00, 3:30, 4:00, 7:30 and 20:00 (seconds 60 + 210 + 240 +
        // 450 + 1200 = 2160) → mean 2160 / 5 / 60 = 7.2 minutes. Buckets (minutes, rounded
        // up) 1, 4, 4, 8, 20: p90 rank ⌈0.9 × 5⌉ = 5 → 20 minutes. Four were served: three by
        // A01 on Monday, one by A02 on Monday and none on Tuesday → 2 window-days → 2.0 per
        // window and day.
        let counters = QueueCounters {
            called: 5,
            wait_seconds: 2160,
            served: 4,
            window_days: 2,
        };
        let histogram = [(1, 1), (4, 2), (8, 1), (20, 1)];
        let values = queue_kpis(Some((&counters, &histogram[..])));
        assert_eq!(values.len(), QUEUE_CATALOGUE.len());
        assert_eq!(value(&values, "queue_called"), Some(5.0));
        assert_eq!(value(&values, "queue_served"), Some(4.0));
        assert_eq!(value(&values, "wait_avg_minutes"), Some(7.2));
        assert_eq!(value(&values, "wait_p90_minutes"), Some(20.0));
        assert_eq!(value(&values, "served_per_window_day"), Some(2.0));
        // Nine of ten at most 4 minutes: p90 rank 9 → 4.
        let mostly_short = [(1, 5), (4, 4), (30, 1)];
        let values = queue_kpis(Some((&counters, &mostly_short[..])));
        assert_eq!(value(&values, "wait_p90_minutes"), Some(4.0));
    }

    #[test]
    fn no_tickets_give_counts_of_zero_and_no_averages_and_not_applicable_gives_nothing() {
        let values = queue_kpis(Some((&QueueCounters::default(), &[][..])));
        assert_eq!(value(&values, "queue_called"), Some(0.0));
        assert_eq!(value(&values, "wait_avg_minutes"), None);
        assert_eq!(value(&values, "wait_p90_minutes"), None);
        assert_eq!(value(&values, "served_per_window_day"), None);
        let values = queue_kpis(None);
        assert!(values.iter().all(|v| v.value.is_none()));
    }
}
