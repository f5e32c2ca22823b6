//! Deadlines of a case (办结时限): 法定 and 承诺 due dates on the working-day calendar, counted
//! from the day after acceptance (the start day is not counted, 《行政许可法》 art. 82), skipping
//! suspended days (补正, 特别程序 — art. 45), extended with a reason (art. 42).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError, Suspension};
use crate::catalog::TimeLimit;
use crate::catalog::codes::TimeUnit;

/// Yellow and red warning states (黄牌预警 / 红牌超期).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// Comfortably within the promised limit.
    Normal,
    /// Little time left on the promised limit.
    Yellow,
    /// The promised limit has passed.
    Red,
}

impl Warning {
    pub fn as_str(&self) -> &'static str {
        match self {
            Warning::Normal => "normal",
            Warning::Yellow => "yellow",
            Warning::Red => "red",
        }
    }
}

/// Computes a due date from an acceptance date and a limit.
pub fn due_date(
    calendar: &Calendar,
    accepted_on: Date,
    limit: &TimeLimit,
    extra_working_days: u32,
    suspensions: &[Suspension],
) -> Result<Date, CalendarError> {
    match limit.unit {
        TimeUnit::WorkingDays => calendar.add_working_days_with_suspensions(
            accepted_on,
            limit.value.saturating_add(extra_working_days),
            suspensions,
        ),
        TimeUnit::NaturalDays => {
            // Calendar days: suspended days push the date out one for one; extensions are granted
            // in working days, so they are added on the working-day calendar afterwards.
            let suspended: i64 = suspensions
                .iter()
                .map(|s| i64::from((s.to - s.from).get_days().max(0)) + 1)
                .sum();
            let days = i64::from(limit.value) + suspended;
            let end = accepted_on
                .checked_add(jiff::Span::new().days(days))
                .map_err(|e| CalendarError::InvalidData {
                    reason: e.to_string(),
                })?;
            let end = calendar.add_working_days(end, extra_working_days)?;
            // A period in calendar days whose last day is a holiday ends on the next working
            // day (《民法典》 art. 203).
            next_working_day_from(calendar, end)
        }
        // Hour limits (immediate items) fall due on the day of acceptance, plus any extension.
        TimeUnit::Hours => calendar.add_working_days(accepted_on, extra_working_days),
    }
}

/// `date` itself when it is a working day, else the next working day.
fn next_working_day_from(calendar: &Calendar, date: Date) -> Result<Date, CalendarError> {
    if calendar.is_workday(date)? {
        return Ok(date);
    }
    calendar.add_working_days(date, 1)
}

/// The warning state of a due date seen from `today`: red after it, yellow when no more than a
/// fifth of the limit (at least one working day) is left.
pub fn warning(
    calendar: &Calendar,
    today: Date,
    due: Date,
    limit_working_days: u32,
) -> Result<Warning, CalendarError> {
    if today > due {
        return Ok(Warning::Red);
    }
    let left = calendar.working_days_between(today, due)?;
    let threshold = i64::from((limit_working_days / 5).max(1));
    Ok(if left <= threshold {
        Warning::Yellow
    } else {
        Warning::Normal
    })
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn official() -> Calendar {
        Calendar::official().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn twenty_working_days_from_acceptance_skip_the_national_day_holiday()
    -> Result<(), CalendarError> {
        let limit = TimeLimit {
            value: 20,
            unit: TimeUnit::WorkingDays,
        };
        // Accepted on Wednesday 2026-09-23: 24/25 are work, 25–27 Mid-Autumn…, 10/1–10/7 off.
        let due = due_date(&official(), date(2026, 9, 23), &limit, 0, &[])?;
        assert_eq!(due, official().add_working_days(date(2026, 9, 23), 20)?);
        assert!(due > date(2026, 10, 15));
        Ok(())
    }

    #[test]
    fn a_suspension_pushes_the_due_date_by_the_working_days_it_covers() -> Result<(), CalendarError>
    {
        let limit = TimeLimit {
            value: 5,
            unit: TimeUnit::WorkingDays,
        };
        let plain = due_date(&official(), date(2026, 3, 2), &limit, 0, &[])?;
        assert_eq!(plain, date(2026, 3, 9));
        let suspension = Suspension {
            from: date(2026, 3, 4),
            to: date(2026, 3, 5),
        };
        let suspended = due_date(&official(), date(2026, 3, 2), &limit, 0, &[suspension])?;
        assert_eq!(suspended, date(2026, 3, 11));
        Ok(())
    }

    #[test]
    fn a_calendar_day_limit_ending_in_the_may_day_holiday_moves_to_the_next_working_day()
    -> Result<(), CalendarError> {
        // 2026-03-02 + 60 days = 2026-05-01, inside 5/1–5/5; the next working day is 5/6.
        let limit = TimeLimit {
            value: 60,
            unit: TimeUnit::NaturalDays,
        };
        assert_eq!(
            due_date(&official(), date(2026, 3, 2), &limit, 0, &[])?,
            date(2026, 5, 6)
        );
        // Ending on an ordinary working day, nothing moves: 2026-03-02 + 30 = 2026-04-01 (Wed).
        let limit = TimeLimit {
            value: 30,
            unit: TimeUnit::NaturalDays,
        };
        assert_eq!(
            due_date(&official(), date(2026, 3, 2), &limit, 0, &[])?,
            date(2026, 4, 1)
        );
        Ok(())
    }

    #[test]
    fn an_extension_adds_working_days() -> Result<(), CalendarError> {
        let limit = TimeLimit {
            value: 20,
            unit: TimeUnit::WorkingDays,
        };
        let due = due_date(&official(), date(2026, 3, 2), &limit, 10, &[])?;
        assert_eq!(due, official().add_working_days(date(2026, 3, 2), 30)?);
        Ok(())
    }

    #[test]
    fn warnings_turn_yellow_near_the_end_and_red_after_it() -> Result<(), CalendarError> {
        let calendar = official();
        let due = date(2026, 3, 20);
        assert_eq!(
            warning(&calendar, date(2026, 3, 2), due, 10)?,
            Warning::Normal
        );
        assert_eq!(
            warning(&calendar, date(2026, 3, 18), due, 10)?,
            Warning::Yellow
        );
        assert_eq!(warning(&calendar, due, due, 10)?, Warning::Yellow);
        assert_eq!(
            warning(&calendar, date(2026, 3, 21), due, 10)?,
            Warning::Red
        );
        Ok(())
    }
}
