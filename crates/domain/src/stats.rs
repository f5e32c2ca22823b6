//! Supervision figures (电子监察, SPEC C8): what each KPI means and how it is computed from
//! counters that storage keeps in step with events.
//!
//! Nothing here is typed in: a case contributes a [`CaseFact`] derived from the case and the
//! events written with it; ratings, rectifications and hotline tickets contribute their own
//! counters. Storage sums [`Counters`] per month and per region / department / hall / item, and
//! [`kpis`] turns a sum into figures. Every figure's definition is in [`CATALOGUE`] and, longer,
//! in `docs/kpis.md`.
//!
//! Beside them: the hall queue's waiting times and throughput ([`queue`], per period, from the
//! queue tickets), and figures of the catalog as it stands — 网上可办率, 进驻率, windows
//! ([`catalog`]) and the reductions of the 一件事 bundles ([`bundles`]).
//!
//! ```
//! use tongban_domain::stats::{Counters, kpis};
//! let counters = Counters { decided: 4, decided_on_time: 3, ..Counters::default() };
//! let on_time = kpis(&counters, None).into_iter().find(|k| k.code == "on_time_rate").unwrap();
//! assert_eq!(on_time.value, Some(75.0));
//! ```

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, shanghai_date};
use crate::cases::{Case, CaseEvent, CaseState, Channel, Delivery, EventKind};
use crate::catalog::codes::CaseType;

pub mod bundles;
pub mod catalog;
pub mod queue;

/// What one case contributes to the figures, derived from the case after each change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseFact {
    pub submitted_on: Option<Date>,
    pub online: bool,
    /// The day of the decision (办结), for decided cases.
    pub decided_on: Option<Date>,
    /// Decided on or before the promised due date.
    pub on_time: bool,
    pub immediate: bool,
    /// Working days from acceptance to decision, suspensions not counted.
    pub working_days: u32,
    pub promised_days: u32,
    pub statutory_days: u32,
    /// Times the applicant had to come to a hall (跑动次数).
    pub visits: u32,
}

/// The kinds of event ([`EventKind::name`]) that [`visits_in`] counts; the others never cost a
/// visit, so storage loads only these when it recomputes a case's fact from its history.
pub const VISIT_EVENT_KINDS: [&str; 4] =
    ["submitted", "resubmitted", "material_supplied", "delivered"];

/// Visits that these events cost the applicant: a submission at a window or kiosk, materials
/// brought in person for a case submitted at a hall, and collecting the result at a hall.
pub fn visits_in(case: &Case, events: &[CaseEvent]) -> u32 {
    let at_hall = matches!(case.channel, Channel::Window | Channel::Kiosk);
    let mut visits = 0;
    for event in events {
        let counts = match &event.kind {
            EventKind::Submitted { channel } => {
                matches!(channel, Channel::Window | Channel::Kiosk)
            }
            EventKind::Resubmitted | EventKind::MaterialSupplied { .. } => at_hall,
            EventKind::Delivered { .. } => matches!(case.delivery, Delivery::Collect { .. }),
            _ => false,
        };
        if counts {
            visits += 1;
        }
    }
    visits
}

impl CaseFact {
    /// The fact of `case` after a change that appended `events`; `earlier_visits` is what the
    /// stored fact counted before (0 with `events` the case's whole history).
    pub fn derive(
        case: &Case,
        earlier_visits: u32,
        events: &[CaseEvent],
        calendar: &Calendar,
    ) -> CaseFact {
        let decided_on = match (&case.state, &case.decision) {
            (
                CaseState::Decided { .. } | CaseState::Issued | CaseState::Delivered,
                Some(decision),
            ) => Some(shanghai_date(decision.at)),
            _ => None,
        };
        let on_time = match (decided_on, case.promised_due) {
            (Some(decided), Some(due)) => decided <= due,
            (Some(_), None) => true,
            _ => false,
        };
        let working_days = match (case.accepted_on, decided_on) {
            (Some(accepted), Some(decided)) => calendar
                .working_days_between_with_suspensions(accepted, decided, &case.suspensions)
                .ok()
                .and_then(|days| u32::try_from(days.max(0)).ok())
                .unwrap_or(0),
            _ => 0,
        };
        CaseFact {
            submitted_on: Some(shanghai_date(case.submitted_at)),
            online: matches!(case.channel, Channel::Web | Channel::Mobile),
            decided_on,
            on_time,
            immediate: case.case_type == CaseType::Immediate,
            working_days,
            promised_days: case.promised_limit.approximate_working_days(),
            statutory_days: case.statutory_limit.approximate_working_days(),
            visits: earlier_visits + visits_in(case, events),
        }
    }
}

/// Sums from which every figure is computed. Storage keeps them per month and dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counters {
    pub submitted: i64,
    pub submitted_online: i64,
    pub decided: i64,
    pub decided_on_time: i64,
    pub decided_immediate: i64,
    pub decided_days_sum: i64,
    pub decided_promised_sum: i64,
    pub decided_statutory_sum: i64,
    pub decided_zero_visit: i64,
    pub decided_one_visit: i64,
    pub ratings: i64,
    pub ratings_good: i64,
    pub ratings_bad: i64,
    pub ratings_very_satisfied: i64,
    pub ratings_very_dissatisfied: i64,
    pub rectifications: i64,
    pub rectifications_closed: i64,
    pub rectifications_on_time: i64,
    /// Bad ratings with a named rater (they must be called back).
    pub callbacks_due: i64,
    pub callbacks_done: i64,
    pub tickets: i64,
    pub tickets_closed: i64,
    pub tickets_replied: i64,
    pub tickets_replied_on_time: i64,
    pub tickets_called_back: i64,
    pub tickets_satisfied: i64,
    pub tickets_resolved: i64,
}

impl Counters {
    /// Adds another sum (field by field).
    pub fn add(&mut self, other: &Counters) {
        self.combine(other, 1);
    }

    /// `self + sign × other`, field by field.
    pub fn combine(&mut self, other: &Counters, sign: i64) {
        let pairs: [(&mut i64, i64); 27] = [
            (&mut self.submitted, other.submitted),
            (&mut self.submitted_online, other.submitted_online),
            (&mut self.decided, other.decided),
            (&mut self.decided_on_time, other.decided_on_time),
            (&mut self.decided_immediate, other.decided_immediate),
            (&mut self.decided_days_sum, other.decided_days_sum),
            (&mut self.decided_promised_sum, other.decided_promised_sum),
            (&mut self.decided_statutory_sum, other.decided_statutory_sum),
            (&mut self.decided_zero_visit, other.decided_zero_visit),
            (&mut self.decided_one_visit, other.decided_one_visit),
            (&mut self.ratings, other.ratings),
            (&mut self.ratings_good, other.ratings_good),
            (&mut self.ratings_bad, other.ratings_bad),
            (
                &mut self.ratings_very_satisfied,
                other.ratings_very_satisfied,
            ),
            (
                &mut self.ratings_very_dissatisfied,
                other.ratings_very_dissatisfied,
            ),
            (&mut self.rectifications, other.rectifications),
            (&mut self.rectifications_closed, other.rectifications_closed),
            (
                &mut self.rectifications_on_time,
                other.rectifications_on_time,
            ),
            (&mut self.callbacks_due, other.callbacks_due),
            (&mut self.callbacks_done, other.callbacks_done),
            (&mut self.tickets, other.tickets),
            (&mut self.tickets_closed, other.tickets_closed),
            (&mut self.tickets_replied, other.tickets_replied),
            (
                &mut self.tickets_replied_on_time,
                other.tickets_replied_on_time,
            ),
            (&mut self.tickets_called_back, other.tickets_called_back),
            (&mut self.tickets_satisfied, other.tickets_satisfied),
            (&mut self.tickets_resolved, other.tickets_resolved),
        ];
        for (field, value) in pairs {
            *field += sign * value;
        }
    }

    /// The field names, in the order of [`Counters::values`] (also the rollup tables' columns).
    pub const FIELDS: [&'static str; 27] = [
        "submitted",
        "submitted_online",
        "decided",
        "decided_on_time",
        "decided_immediate",
        "decided_days_sum",
        "decided_promised_sum",
        "decided_statutory_sum",
        "decided_zero_visit",
        "decided_one_visit",
        "ratings",
        "ratings_good",
        "ratings_bad",
        "ratings_very_satisfied",
        "ratings_very_dissatisfied",
        "rectifications",
        "rectifications_closed",
        "rectifications_on_time",
        "callbacks_due",
        "callbacks_done",
        "tickets",
        "tickets_closed",
        "tickets_replied",
        "tickets_replied_on_time",
        "tickets_called_back",
        "tickets_satisfied",
        "tickets_resolved",
    ];

    /// The values in the order of [`Counters::FIELDS`].
    pub fn values(&self) -> [i64; 27] {
        [
            self.submitted,
            self.submitted_online,
            self.decided,
            self.decided_on_time,
            self.decided_immediate,
            self.decided_days_sum,
            self.decided_promised_sum,
            self.decided_statutory_sum,
            self.decided_zero_visit,
            self.decided_one_visit,
            self.ratings,
            self.ratings_good,
            self.ratings_bad,
            self.ratings_very_satisfied,
            self.ratings_very_dissatisfied,
            self.rectifications,
            self.rectifications_closed,
            self.rectifications_on_time,
            self.callbacks_due,
            self.callbacks_done,
            self.tickets,
            self.tickets_closed,
            self.tickets_replied,
            self.tickets_replied_on_time,
            self.tickets_called_back,
            self.tickets_satisfied,
            self.tickets_resolved,
        ]
    }

    /// The inverse of [`Counters::values`].
    pub fn from_values(values: [i64; 27]) -> Counters {
        let [
            submitted,
            submitted_online,
            decided,
            decided_on_time,
            decided_immediate,
            decided_days_sum,
            decided_promised_sum,
            decided_statutory_sum,
            decided_zero_visit,
            decided_one_visit,
            ratings,
            ratings_good,
            ratings_bad,
            ratings_very_satisfied,
            ratings_very_dissatisfied,
            rectifications,
            rectifications_closed,
            rectifications_on_time,
            callbacks_due,
            callbacks_done,
            tickets,
            tickets_closed,
            tickets_replied,
            tickets_replied_on_time,
            tickets_called_back,
            tickets_satisfied,
            tickets_resolved,
        ] = values;
        Counters {
            submitted,
            submitted_online,
            decided,
            decided_on_time,
            decided_immediate,
            decided_days_sum,
            decided_promised_sum,
            decided_statutory_sum,
            decided_zero_visit,
            decided_one_visit,
            ratings,
            ratings_good,
            ratings_bad,
            ratings_very_satisfied,
            ratings_very_dissatisfied,
            rectifications,
            rectifications_closed,
            rectifications_on_time,
            callbacks_due,
            callbacks_done,
            tickets,
            tickets_closed,
            tickets_replied,
            tickets_replied_on_time,
            tickets_called_back,
            tickets_satisfied,
            tickets_resolved,
        }
    }

    /// The five-level distribution, best first (非常满意 … 非常不满意).
    pub fn rating_distribution(&self) -> [i64; 5] {
        let satisfied = self.ratings_good - self.ratings_very_satisfied;
        let dissatisfied = self.ratings_bad - self.ratings_very_dissatisfied;
        let basic = self.ratings - self.ratings_good - self.ratings_bad;
        [
            self.ratings_very_satisfied,
            satisfied,
            basic,
            dissatisfied,
            self.ratings_very_dissatisfied,
        ]
    }

    /// What one rating contributes (counted in the month it was given).
    pub fn of_rating(level: crate::feedback::RatingLevel) -> Counters {
        use crate::feedback::RatingLevel;
        Counters {
            ratings: 1,
            ratings_good: i64::from(level.is_good()),
            ratings_bad: i64::from(level.is_bad()),
            ratings_very_satisfied: i64::from(level == RatingLevel::VerySatisfied),
            ratings_very_dissatisfied: i64::from(level == RatingLevel::VeryDissatisfied),
            ..Counters::default()
        }
    }

    /// What a rectification task contributes (counted in the month it was opened).
    pub fn of_rectification(task: &crate::feedback::Rectification) -> Counters {
        let rectified_on_time = task
            .rectified_at
            .is_some_and(|at| shanghai_date(at) <= task.due_on);
        let voided = task.state == crate::feedback::RectificationState::Voided;
        let reached = task.callback.as_ref().is_some_and(|c| c.reached);
        Counters {
            rectifications: 1,
            rectifications_closed: i64::from(task.state.is_settled()),
            rectifications_on_time: i64::from(rectified_on_time || voided),
            callbacks_due: i64::from(!task.anonymous && !voided),
            callbacks_done: i64::from(!task.anonymous && !voided && reached),
            ..Counters::default()
        }
    }

    /// What a hotline ticket contributes (counted in the month it was registered).
    pub fn of_ticket(ticket: &crate::hotline::Ticket) -> Counters {
        use crate::hotline::{Satisfaction, TicketState};
        let called_back = ticket.callback.as_ref();
        let replied = ticket.replied_at.is_some() || ticket.state == TicketState::Closed;
        Counters {
            tickets: 1,
            tickets_closed: i64::from(matches!(
                ticket.state,
                TicketState::Closed | TicketState::Merged
            )),
            tickets_replied: i64::from(replied && ticket.state != TicketState::Merged),
            tickets_replied_on_time: i64::from(
                ticket.state != TicketState::Merged
                    && (ticket.replied_on_time == Some(true)
                        || (ticket.state == TicketState::Closed
                            && ticket.replied_on_time.is_none())),
            ),
            tickets_called_back: i64::from(called_back.is_some()),
            tickets_satisfied: i64::from(called_back.is_some_and(|c| {
                matches!(
                    c.satisfaction,
                    Satisfaction::Satisfied | Satisfaction::Basic
                )
            })),
            tickets_resolved: i64::from(called_back.is_some_and(|c| c.resolved)),
            ..Counters::default()
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Counters::default()
    }

    /// The submission-side counters of a case fact (counted in the month of submission).
    pub fn of_submission(fact: &CaseFact) -> Counters {
        if fact.submitted_on.is_none() {
            return Counters::default();
        }
        Counters {
            submitted: 1,
            submitted_online: i64::from(fact.online),
            ..Counters::default()
        }
    }

    /// The decision-side counters of a case fact (counted in the month of the decision).
    pub fn of_decision(fact: &CaseFact) -> Counters {
        if fact.decided_on.is_none() {
            return Counters::default();
        }
        Counters {
            decided: 1,
            decided_on_time: i64::from(fact.on_time),
            decided_immediate: i64::from(fact.immediate),
            decided_days_sum: i64::from(fact.working_days),
            decided_promised_sum: i64::from(fact.promised_days),
            decided_statutory_sum: i64::from(fact.statutory_days),
            decided_zero_visit: i64::from(fact.visits == 0),
            decided_one_visit: i64::from(fact.visits <= 1),
            ..Counters::default()
        }
    }
}

/// A figure's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Percent,
    WorkingDays,
    Count,
    /// Minutes of waiting (queue tickets).
    Minutes,
    /// Tickets served per window and day.
    PerWindowDay,
}

/// A figure's name and definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KpiDefinition {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub unit: Unit,
    pub definition: &'static str,
}

/// Every figure computed from counters (SPEC C8); `docs/kpis.md` repeats and explains them.
pub const CATALOGUE: &[KpiDefinition] = &[
    KpiDefinition {
        code: "submitted",
        name_zh: "申请量",
        name_en: "Applications",
        unit: Unit::Count,
        definition: "cases submitted in the period",
    },
    KpiDefinition {
        code: "decided",
        name_zh: "办结量",
        name_en: "Decided cases",
        unit: Unit::Count,
        definition: "cases decided (办结) in the period",
    },
    KpiDefinition {
        code: "on_time_rate",
        name_zh: "按时办结率",
        name_en: "Decided on time",
        unit: Unit::Percent,
        definition: "decided on or before the promised due date / decided",
    },
    KpiDefinition {
        code: "online_share",
        name_zh: "网上办件率",
        name_en: "Submitted online",
        unit: Unit::Percent,
        definition: "cases submitted on the web or mobile / cases submitted",
    },
    KpiDefinition {
        code: "immediate_share",
        name_zh: "即办件比例",
        name_en: "Immediate cases",
        unit: Unit::Percent,
        definition: "decided cases of immediate items (即办件) / decided",
    },
    KpiDefinition {
        code: "at_most_one_visit_rate",
        name_zh: "最多跑一次率",
        name_en: "At most one visit",
        unit: Unit::Percent,
        definition: "decided cases whose applicant came to a hall at most once / decided",
    },
    KpiDefinition {
        code: "zero_visit_rate",
        name_zh: "零跑动率",
        name_en: "No visit",
        unit: Unit::Percent,
        definition: "decided cases whose applicant never came to a hall / decided",
    },
    KpiDefinition {
        code: "avg_working_days",
        name_zh: "平均办理时长",
        name_en: "Average working days",
        unit: Unit::WorkingDays,
        definition: "sum of working days from acceptance to decision (suspensions excluded) / decided",
    },
    KpiDefinition {
        code: "p90_working_days",
        name_zh: "90%办件时长",
        name_en: "90th percentile working days",
        unit: Unit::WorkingDays,
        definition: "the smallest d such that at least 90% of decided cases took at most d working days",
    },
    KpiDefinition {
        code: "avg_promised_days",
        name_zh: "平均承诺时限",
        name_en: "Average promised limit",
        unit: Unit::WorkingDays,
        definition: "sum of the promised limits of decided cases / decided",
    },
    KpiDefinition {
        code: "avg_statutory_days",
        name_zh: "平均法定时限",
        name_en: "Average statutory limit",
        unit: Unit::WorkingDays,
        definition: "sum of the statutory limits of decided cases / decided",
    },
    KpiDefinition {
        code: "compression_rate",
        name_zh: "时限压缩率",
        name_en: "Time-limit compression",
        unit: Unit::Percent,
        definition: "1 − (sum of promised limits / sum of statutory limits), over decided cases",
    },
    KpiDefinition {
        code: "good_rate",
        name_zh: "好评率",
        name_en: "Good ratings",
        unit: Unit::Percent,
        definition: "ratings 满意 or 非常满意 / ratings",
    },
    KpiDefinition {
        code: "bad_ratings",
        name_zh: "差评数",
        name_en: "Bad ratings",
        unit: Unit::Count,
        definition: "ratings 不满意 or 非常不满意 given in the period",
    },
    KpiDefinition {
        code: "rectification_rate",
        name_zh: "差评整改率",
        name_en: "Bad ratings rectified",
        unit: Unit::Percent,
        definition: "rectification tasks closed or voided / rectification tasks opened (by month opened)",
    },
    KpiDefinition {
        code: "rectification_on_time_rate",
        name_zh: "差评按期整改率",
        name_en: "Rectified on time",
        unit: Unit::Percent,
        definition: "tasks rectified on or before their due date / tasks opened",
    },
    KpiDefinition {
        code: "callback_rate",
        name_zh: "差评回访率",
        name_en: "Bad ratings called back",
        unit: Unit::Percent,
        definition: "named bad ratings whose rater was reached / named bad ratings (target 100%)",
    },
    KpiDefinition {
        code: "hotline_tickets",
        name_zh: "工单量",
        name_en: "Hotline tickets",
        unit: Unit::Count,
        definition: "tickets registered in the period (merged duplicates included)",
    },
    KpiDefinition {
        code: "hotline_closed_rate",
        name_zh: "办结率",
        name_en: "Tickets closed",
        unit: Unit::Percent,
        definition: "tickets closed or merged / tickets registered (by month registered)",
    },
    KpiDefinition {
        code: "hotline_on_time_rate",
        name_zh: "按时办结率(热线)",
        name_en: "Tickets answered on time",
        unit: Unit::Percent,
        definition: "tickets whose last reply came on or before the deadline / tickets replied",
    },
    KpiDefinition {
        code: "hotline_callback_rate",
        name_zh: "回访率",
        name_en: "Tickets called back",
        unit: Unit::Percent,
        definition: "tickets called back at least once / tickets replied",
    },
    KpiDefinition {
        code: "hotline_satisfaction_rate",
        name_zh: "满意率",
        name_en: "Callers satisfied",
        unit: Unit::Percent,
        definition: "callbacks 满意 or 基本满意 / callbacks (latest callback per ticket)",
    },
    KpiDefinition {
        code: "hotline_resolution_rate",
        name_zh: "解决率",
        name_en: "Matters resolved",
        unit: Unit::Percent,
        definition: "callbacks saying resolved / callbacks (latest callback per ticket)",
    },
];

/// One computed figure; `value` is none when its denominator is zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiValue {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub unit: Unit,
    pub value: Option<f64>,
    /// For ratios: the numerator and denominator behind the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numerator: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<i64>,
}

/// A percentage rounded to two decimals, or none when `den` is zero.
pub fn percent(num: i64, den: i64) -> Option<f64> {
    if den <= 0 {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts stay far below 2^52")]
    let ratio = num as f64 * 100.0 / den as f64;
    Some((ratio * 100.0).round() / 100.0)
}

/// A mean rounded to two decimals, or none when `count` is zero.
pub fn mean(sum: i64, count: i64) -> Option<f64> {
    if count <= 0 {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts stay far below 2^52")]
    let value = sum as f64 / count as f64;
    Some((value * 100.0).round() / 100.0)
}

/// The nearest-rank percentile of a histogram `(value, count)` sorted by value: the smallest
/// value with at least `p`% of the observations at or below it.
pub fn percentile(histogram: &[(i64, i64)], p: u32) -> Option<i64> {
    let total: i64 = histogram.iter().map(|(_, count)| count).sum();
    if total <= 0 {
        return None;
    }
    // rank = ceil(p/100 × total), at least 1
    let rank = (i64::from(p) * total + 99) / 100;
    let rank = rank.max(1);
    let mut seen = 0;
    for (value, count) in histogram {
        seen += count;
        if seen >= rank {
            return Some(*value);
        }
    }
    histogram.last().map(|(value, _)| *value)
}

/// Every figure of [`CATALOGUE`] from a sum of counters; `p90` comes from a histogram query.
pub fn kpis(c: &Counters, p90: Option<i64>) -> Vec<KpiValue> {
    let mut values = Vec::with_capacity(CATALOGUE.len());
    for definition in CATALOGUE {
        let ratio = |num: i64, den: i64| (percent(num, den), Some(num), Some(den));
        let (value, numerator, denominator) = match definition.code {
            "submitted" => (Some(count(c.submitted)), None, None),
            "decided" => (Some(count(c.decided)), None, None),
            "on_time_rate" => ratio(c.decided_on_time, c.decided),
            "online_share" => ratio(c.submitted_online, c.submitted),
            "immediate_share" => ratio(c.decided_immediate, c.decided),
            "at_most_one_visit_rate" => ratio(c.decided_one_visit, c.decided),
            "zero_visit_rate" => ratio(c.decided_zero_visit, c.decided),
            "avg_working_days" => (mean(c.decided_days_sum, c.decided), None, None),
            "p90_working_days" => (p90.map(count), None, None),
            "avg_promised_days" => (mean(c.decided_promised_sum, c.decided), None, None),
            "avg_statutory_days" => (mean(c.decided_statutory_sum, c.decided), None, None),
            "compression_rate" => (
                percent(
                    c.decided_statutory_sum - c.decided_promised_sum,
                    c.decided_statutory_sum,
                ),
                Some(c.decided_statutory_sum - c.decided_promised_sum),
                Some(c.decided_statutory_sum),
            ),
            "good_rate" => ratio(c.ratings_good, c.ratings),
            "bad_ratings" => (Some(count(c.ratings_bad)), None, None),
            "rectification_rate" => ratio(c.rectifications_closed, c.rectifications),
            "rectification_on_time_rate" => ratio(c.rectifications_on_time, c.rectifications),
            "callback_rate" => ratio(c.callbacks_done, c.callbacks_due),
            "hotline_tickets" => (Some(count(c.tickets)), None, None),
            "hotline_closed_rate" => ratio(c.tickets_closed, c.tickets),
            "hotline_on_time_rate" => ratio(c.tickets_replied_on_time, c.tickets_replied),
            "hotline_callback_rate" => ratio(c.tickets_called_back, c.tickets_replied),
            "hotline_satisfaction_rate" => ratio(c.tickets_satisfied, c.tickets_called_back),
            "hotline_resolution_rate" => ratio(c.tickets_resolved, c.tickets_called_back),
            _ => (None, None, None),
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

fn count(value: i64) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "counts stay far below 2^52")]
    let value = value as f64;
    value
}

/// A period of whole months, `from` and `to` included ("2026-01" … "2026-06").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthRange {
    pub from: Month,
    pub to: Month,
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Month {
    pub year: i16,
    pub month: i8,
}

impl Month {
    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Month, StatsError> {
        let bad = || StatsError::InvalidPeriod(format!("{text:?} is not a month (YYYY-MM)"));
        let (year, month) = text.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i16 = year.parse().map_err(|_| bad())?;
        let month: i8 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    /// `YYYY-MM`, which sorts as months.
    pub fn key(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    pub fn next(&self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
}

impl MonthRange {
    /// At most 36 months, `from` not after `to`.
    pub fn new(from: Month, to: Month) -> Result<MonthRange, StatsError> {
        if from > to {
            return Err(StatsError::InvalidPeriod(
                "the period ends before it starts".into(),
            ));
        }
        let months =
            (i32::from(to.year) - i32::from(from.year)) * 12 + i32::from(to.month - from.month) + 1;
        if months > 36 {
            return Err(StatsError::InvalidPeriod(
                "a period is at most 36 months".into(),
            ));
        }
        Ok(MonthRange { from, to })
    }

    /// Every month of the range, in order.
    pub fn months(&self) -> Vec<Month> {
        let mut months = Vec::new();
        let mut month = self.from;
        while month <= self.to {
            months.push(month);
            month = month.next();
        }
        months
    }
}

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Region,
    Department,
    Hall,
    Item,
    Window,
}

impl Dimension {
    pub fn parse(text: &str) -> Result<Dimension, StatsError> {
        match text {
            "region" => Ok(Dimension::Region),
            "department" => Ok(Dimension::Department),
            "hall" => Ok(Dimension::Hall),
            "item" => Ok(Dimension::Item),
            "window" => Ok(Dimension::Window),
            other => Err(StatsError::InvalidPeriod(format!(
                "unknown dimension {other:?} (region, department, hall, item, window)"
            ))),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Dimension::Region => "region",
            Dimension::Department => "department",
            Dimension::Hall => "hall",
            Dimension::Item => "item",
            Dimension::Window => "window",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    #[error("invalid query: {0}")]
    InvalidPeriod(String),
}

impl StatsError {
    pub fn code(&self) -> &'static str {
        "invalid_stats_query"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visit_event_kinds_are_the_kinds_that_can_cost_a_visit() {
        use crate::keys::MaterialCode;
        let material = MaterialCode::parse("id-card").unwrap_or_else(|e| panic!("{e}"));
        let costing = [
            EventKind::Submitted {
                channel: Channel::Window,
            },
            EventKind::Resubmitted,
            EventKind::MaterialSupplied { material },
            EventKind::Delivered {
                how: "窗口领取".into(),
            },
        ];
        let names: Vec<&str> = costing.iter().map(EventKind::name).collect();
        assert_eq!(names, VISIT_EVENT_KINDS);
    }

    fn value(values: &[KpiValue], code: &str) -> Option<f64> {
        values.iter().find(|v| v.code == code).and_then(|v| v.value)
    }

    #[test]
    fn every_catalogue_entry_is_computed() {
        let counters = Counters {
            submitted: 1,
            decided: 1,
            decided_statutory_sum: 1,
            ratings: 1,
            rectifications: 1,
            callbacks_due: 1,
            tickets: 1,
            tickets_replied: 1,
            tickets_called_back: 1,
            ..Counters::default()
        };
        let values = kpis(&counters, Some(3));
        assert_eq!(values.len(), CATALOGUE.len());
        for v in &values {
            assert!(v.value.is_some(), "{} has a value", v.code);
        }
    }

    #[test]
    fn figures_on_a_small_hand_computed_history() {
        // 10 submitted, 4 online → 40%. 8 decided, 6 on time → 75%; 2 immediate → 25%;
        // days 0+0+2+3+5+5+8+13 = 36 → 4.5 average; promised sum 40, statutory sum 100 →
        // compression 60%; zero-visit 3 → 37.5%, at most one visit 7 → 87.5%.
        // Ratings 5, good 3 → 60% (1 very satisfied, 1 very dissatisfied); rectifications 2, 1
        // closed → 50%, 1 rectified by its due date → 50%; callbacks 1 of 2 → 50%.
        // Tickets 4, closed 3 → 75%; replied 3, on time 2 → 66.67%; called back 3 of the 3
        // replied → 100%; of the callbacks, satisfied 2 → 66.67%, resolved 3 → 100%.
        let counters = Counters {
            submitted: 10,
            submitted_online: 4,
            decided: 8,
            decided_on_time: 6,
            decided_immediate: 2,
            decided_days_sum: 36,
            decided_promised_sum: 40,
            decided_statutory_sum: 100,
            decided_zero_visit: 3,
            decided_one_visit: 7,
            ratings: 5,
            ratings_good: 3,
            ratings_bad: 2,
            ratings_very_satisfied: 1,
            ratings_very_dissatisfied: 1,
            rectifications: 2,
            rectifications_closed: 1,
            rectifications_on_time: 1,
            callbacks_due: 2,
            callbacks_done: 1,
            tickets: 4,
            tickets_closed: 3,
            tickets_replied: 3,
            tickets_replied_on_time: 2,
            tickets_called_back: 3,
            tickets_satisfied: 2,
            tickets_resolved: 3,
        };
        let histogram = [(0, 2), (2, 1), (3, 1), (5, 2), (8, 1), (13, 1)];
        // 8 observations, rank ceil(0.9 × 8) = 8 → the largest, 13.
        let values = kpis(&counters, percentile(&histogram, 90));
        let expected = [
            ("submitted", 10.0),
            ("decided", 8.0),
            ("online_share", 40.0),
            ("on_time_rate", 75.0),
            ("immediate_share", 25.0),
            ("avg_working_days", 4.5),
            ("p90_working_days", 13.0),
            ("avg_promised_days", 5.0),
            ("avg_statutory_days", 12.5),
            ("compression_rate", 60.0),
            ("zero_visit_rate", 37.5),
            ("at_most_one_visit_rate", 87.5),
            ("good_rate", 60.0),
            ("bad_ratings", 2.0),
            ("rectification_rate", 50.0),
            ("rectification_on_time_rate", 50.0),
            ("callback_rate", 50.0),
            ("hotline_tickets", 4.0),
            ("hotline_closed_rate", 75.0),
            ("hotline_on_time_rate", 66.67),
            ("hotline_callback_rate", 100.0),
            ("hotline_satisfaction_rate", 66.67),
            ("hotline_resolution_rate", 100.0),
        ];
        for (code, number) in expected {
            assert_eq!(value(&values, code), Some(number), "{code}");
        }
        // 5 ratings: 3 good of which 1 非常满意, 2 bad of which 1 非常不满意, none 基本满意.
        assert_eq!(counters.rating_distribution(), [1, 2, 0, 1, 1]);
        assert_eq!(Counters::from_values(counters.values()), counters);
    }

    #[test]
    fn a_zero_denominator_gives_no_value() {
        let values = kpis(&Counters::default(), None);
        assert_eq!(value(&values, "on_time_rate"), None);
        assert_eq!(value(&values, "submitted"), Some(0.0));
    }

    #[test]
    fn percentile_is_nearest_rank() {
        // 10 observations 1..=10: p90 rank 9 → 9; p50 rank 5 → 5.
        let histogram: Vec<(i64, i64)> = (1..=10).map(|v| (v, 1)).collect();
        assert_eq!(percentile(&histogram, 90), Some(9));
        assert_eq!(percentile(&histogram, 50), Some(5));
        assert_eq!(percentile(&[], 90), None);
    }

    #[test]
    fn combine_subtracts_and_adds() {
        let mut sum = Counters {
            decided: 3,
            decided_on_time: 2,
            ..Counters::default()
        };
        sum.combine(
            &Counters {
                decided: 1,
                decided_on_time: 1,
                ..Counters::default()
            },
            -1,
        );
        assert_eq!(sum.decided, 2);
        assert_eq!(sum.decided_on_time, 1);
    }

    #[test]
    fn months_parse_and_ranges_are_bounded() {
        assert_eq!(Month::parse("2026-03").unwrap().key(), "2026-03");
        assert!(Month::parse("2026-13").is_err());
        assert!(Month::parse("26-03").is_err());
        let range = MonthRange::new(
            Month::parse("2025-11").unwrap(),
            Month::parse("2026-02").unwrap(),
        )
        .unwrap();
        let keys: Vec<String> = range.months().iter().map(Month::key).collect();
        assert_eq!(keys, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert!(
            MonthRange::new(
                Month::parse("2026-02").unwrap(),
                Month::parse("2026-01").unwrap()
            )
            .is_err()
        );
        assert!(
            MonthRange::new(
                Month::parse("2020-01").unwrap(),
                Month::parse("2026-01").unwrap()
            )
            .is_err()
        );
    }
}
