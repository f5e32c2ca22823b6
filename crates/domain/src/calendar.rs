//! The official working-day calendar (工作日历).
//!
//! Legal and promised time limits (法定办结时限, 承诺办结时限) are counted in working days. Which days are
//! working days is not a rule that can be computed: every November the State Council General Office
//! (国务院办公厅) publishes the next year's public holidays (放假) and make-up workdays (调休上班, weekend days
//! that become working days). This module therefore treats each year as data, one TOML file per calendar
//! year under `data/calendar/`, validated when it is loaded, and refuses to compute anything about a year it
//! has no data for: a deadline that silently assumes "Monday to Friday" in a year whose holidays are not yet
//! known would be wrong exactly around the holidays that matter.
//!
//! A day is a working day when it is a make-up workday, or when it is Monday to Friday and not a holiday.
//!
//! Counting follows the usual reading of "N working days after D": D itself is not counted, so a case
//! accepted on Thursday with a one-working-day limit is due on Friday. Suspensions (the clock stopped for a
//! correction notice 补正告知 or a special procedure 特别程序) are inclusive date ranges whose days are not
//! counted at all.
//!
//! ```
//! use jiff::civil::date;
//! use tongban_domain::calendar::Calendar;
//!
//! # fn main() -> Result<(), tongban_domain::calendar::CalendarError> {
//! let calendar = Calendar::official()?;
//! // Thursday 2026-09-30 plus one working day skips the National Day break.
//! assert_eq!(calendar.add_working_days(date(2026, 9, 30), 1)?, date(2026, 10, 8));
//! // 2027 has no published notice yet: an explicit error, never a guess.
//! assert!(calendar.is_workday(date(2027, 3, 1)).is_err());
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::Offset;
use serde::Deserialize;

/// Errors from loading calendar data or computing with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A computation needed a day in a year whose official notice has not been loaded.
    #[error(
        "no official calendar data for year {year}; the year's holiday notice must be added before dates in it can be computed"
    )]
    NoDataForYear {
        /// The year that has no data.
        year: i16,
    },
    /// A calendar data file is malformed or contradicts itself.
    #[error("invalid calendar data: {reason}")]
    InvalidData {
        /// What is wrong, naming the year and the offending entry.
        reason: String,
    },
    /// A suspension ends before it starts.
    #[error("invalid suspension: it ends on {to}, before it starts on {from}")]
    InvalidSuspension {
        /// The first suspended day as given.
        from: Date,
        /// The last suspended day as given.
        to: Date,
    },
}

impl CalendarError {
    /// A stable snake_case code for APIs and logs; the message may change, the code does not.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::NoDataForYear { .. } => "calendar_year_not_loaded",
            CalendarError::InvalidData { .. } => "calendar_data_invalid",
            CalendarError::InvalidSuspension { .. } => "calendar_suspension_invalid",
        }
    }
}

/// One holiday break: the days `from..=to` are days off, weekends included.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    name: String,
    from: Date,
    to: Date,
}

impl Holiday {
    /// The holiday's name as the notice gives it, e.g. `春节`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first day off.
    pub fn from(&self) -> Date {
        self.from
    }

    /// The last day off, inclusive.
    pub fn to(&self) -> Date {
        self.to
    }
}

/// The file format, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYearData {
    year: i16,
    source: String,
    #[serde(default)]
    working_days_in_year: Option<u32>,
    #[serde(default)]
    holidays: Vec<Holiday>,
    #[serde(default)]
    makeup_workdays: Vec<Date>,
}

/// One calendar year of official holidays and make-up workdays, validated.
///
/// The only ways to obtain one are [`YearData::parse_toml`] and deserialisation, and both validate: every
/// date lies in `year`, holidays do not overlap, make-up workdays are Saturdays or Sundays that are not
/// holidays, and the number of working days equals `working_days_in_year` when the file states it.
///
/// A file describes a calendar year, not a notice. When a notice reaches into the previous year (the 2019
/// notice made Saturday 2018-12-29 a make-up workday), that day belongs in the previous year's file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawYearData")]
pub struct YearData {
    year: i16,
    source: String,
    working_days_in_year: Option<u32>,
    holidays: Vec<Holiday>,
    makeup_workdays: Vec<Date>,
    /// One flag per day of the year (index = day of year − 1), derived from the fields above.
    workday_flags: Vec<bool>,
}

impl YearData {
    /// Parses and validates one year's TOML file.
    pub fn parse_toml(text: &str) -> Result<YearData, CalendarError> {
        let raw: RawYearData =
            toml::from_str(text).map_err(|error| CalendarError::InvalidData {
                reason: format!("calendar file is not valid: {error}"),
            })?;
        YearData::try_from(raw)
    }

    /// The calendar year.
    pub fn year(&self) -> i16 {
        self.year
    }

    /// The notice the data comes from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The number of working days the notice implies, when the file states it (it always matches the data).
    pub fn working_days_in_year(&self) -> Option<u32> {
        self.working_days_in_year
    }

    /// The holiday breaks, in file order.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The make-up workdays, in file order.
    pub fn makeup_workdays(&self) -> &[Date] {
        &self.makeup_workdays
    }

    /// The number of working days in the year, computed from the data.
    pub fn working_days(&self) -> u32 {
        let mut count = 0;
        for flag in &self.workday_flags {
            if *flag {
                count += 1;
            }
        }
        count
    }
}

impl TryFrom<RawYearData> for YearData {
    type Error = CalendarError;

    fn try_from(raw: RawYearData) -> Result<YearData, CalendarError> {
        let year = raw.year;
        let invalid = |reason: String| CalendarError::InvalidData {
            reason: format!("year {year}: {reason}"),
        };
        let first_day = Date::new(year, 1, 1)
            .map_err(|error| invalid(format!("not a representable year ({error})")))?;
        if raw.source.trim().is_empty() {
            return Err(invalid(
                "`source` must name the notice the data comes from".to_owned(),
            ));
        }

        let mut workday_flags = weekday_flags(first_day)?;
        let mut day_off = vec![false; workday_flags.len()];
        for holiday in &raw.holidays {
            let name = &holiday.name;
            if name.trim().is_empty() {
                return Err(invalid(format!(
                    "the holiday starting {} has no name",
                    holiday.from
                )));
            }
            if holiday.from.year() != year || holiday.to.year() != year {
                return Err(invalid(format!(
                    "holiday {name} ({} to {}) is not inside the year; a break that crosses the new year is split between the two years' files",
                    holiday.from, holiday.to
                )));
            }
            if holiday.to < holiday.from {
                return Err(invalid(format!(
                    "holiday {name} ends on {}, before it starts on {}",
                    holiday.to, holiday.from
                )));
            }
            for index in day_index(holiday.from)..=day_index(holiday.to) {
                let Some(already_off) = day_off.get_mut(index) else {
                    return Err(invalid(format!(
                        "holiday {name} runs past the end of the year"
                    )));
                };
                if *already_off {
                    return Err(invalid(format!(
                        "holiday {name} overlaps another holiday on day {} of the year",
                        index + 1
                    )));
                }
                *already_off = true;
                if let Some(flag) = workday_flags.get_mut(index) {
                    *flag = false;
                }
            }
        }

        let mut seen_makeup = vec![false; workday_flags.len()];
        for makeup in &raw.makeup_workdays {
            if makeup.year() != year {
                return Err(invalid(format!(
                    "make-up workday {makeup} is not inside the year"
                )));
            }
            if !is_weekend(makeup.weekday()) {
                return Err(invalid(format!(
                    "make-up workday {makeup} is a {:?}; make-up workdays are Saturdays or Sundays",
                    makeup.weekday()
                )));
            }
            let index = day_index(*makeup);
            if day_off.get(index).copied().unwrap_or(false) {
                return Err(invalid(format!(
                    "{makeup} is listed both as a make-up workday and inside a holiday"
                )));
            }
            match seen_makeup.get_mut(index) {
                Some(seen) if *seen => {
                    return Err(invalid(format!("make-up workday {makeup} is listed twice")));
                }
                Some(seen) => *seen = true,
                None => {
                    return Err(invalid(format!("make-up workday {makeup} is out of range")));
                }
            }
            if let Some(flag) = workday_flags.get_mut(index) {
                *flag = true;
            }
        }

        let data = YearData {
            year,
            source: raw.source,
            working_days_in_year: raw.working_days_in_year,
            holidays: raw.holidays,
            makeup_workdays: raw.makeup_workdays,
            workday_flags,
        };
        if let Some(stated) = data.working_days_in_year {
            let computed = data.working_days();
            if computed != stated {
                return Err(invalid(format!(
                    "the file states {stated} working days but its holidays and make-up workdays give {computed}"
                )));
            }
        }
        Ok(data)
    }
}

/// The index of `date` in its year's day table: day of year − 1.
fn day_index(date: Date) -> usize {
    // jiff guarantees day_of_year() is in 1..=366, so the subtraction cannot underflow.
    usize::from(date.day_of_year().unsigned_abs() - 1)
}

fn is_weekend(weekday: Weekday) -> bool {
    matches!(weekday, Weekday::Saturday | Weekday::Sunday)
}

/// Monday-to-Friday flags for every day of the year starting at `first_day`.
fn weekday_flags(first_day: Date) -> Result<Vec<bool>, CalendarError> {
    let length = usize::from(first_day.days_in_year().unsigned_abs());
    let mut flags = Vec::with_capacity(length);
    let mut current = first_day;
    for index in 0..length {
        if index > 0 {
            current = current
                .tomorrow()
                .map_err(|error| CalendarError::InvalidData {
                    reason: format!("year {}: {error}", first_day.year()),
                })?;
        }
        flags.push(!is_weekend(current.weekday()));
    }
    Ok(flags)
}

/// One loaded year in the form the computations use.
#[derive(Debug, Clone, PartialEq, Eq)]
struct YearTable {
    /// One flag per day of the year (index = day of year − 1).
    workday: Vec<bool>,
    /// `prefix[i]` is the number of working days among the first `i` days of the year, so the working days in
    /// the index range `a..=b` are `prefix[b + 1] - prefix[a]`.
    prefix: Vec<u32>,
}

impl YearTable {
    fn new(data: &YearData) -> YearTable {
        let mut prefix = Vec::with_capacity(data.workday_flags.len() + 1);
        let mut running = 0;
        prefix.push(running);
        for flag in &data.workday_flags {
            if *flag {
                running += 1;
            }
            prefix.push(running);
        }
        YearTable {
            workday: data.workday_flags.clone(),
            prefix,
        }
    }

    /// Working days among the day indices `first..=last` of this year.
    fn count(&self, first: usize, last: usize) -> i64 {
        let upper = self.prefix.get(last + 1).copied().unwrap_or(0);
        let lower = self.prefix.get(first).copied().unwrap_or(0);
        i64::from(upper) - i64::from(lower)
    }
}

/// A stopped clock: the days `from..=to` are not counted, whether they are working days or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Suspension {
    /// The first suspended day.
    pub from: Date,
    /// The last suspended day, inclusive.
    pub to: Date,
}

/// Validates suspensions, sorts them and merges the overlapping ones.
fn normalise_suspensions(suspensions: &[Suspension]) -> Result<Vec<Suspension>, CalendarError> {
    let mut sorted = Vec::with_capacity(suspensions.len());
    for suspension in suspensions {
        if suspension.to < suspension.from {
            return Err(CalendarError::InvalidSuspension {
                from: suspension.from,
                to: suspension.to,
            });
        }
        sorted.push(*suspension);
    }
    sorted.sort_by_key(|suspension| suspension.from);
    let mut merged: Vec<Suspension> = Vec::with_capacity(sorted.len());
    for suspension in sorted {
        match merged.last_mut() {
            Some(last) if suspension.from <= last.to => {
                if suspension.to > last.to {
                    last.to = suspension.to;
                }
            }
            _ => merged.push(suspension),
        }
    }
    Ok(merged)
}

/// The day after `date`; past the last representable day there is, by definition, no data.
fn next_day(date: Date) -> Result<Date, CalendarError> {
    date.tomorrow().map_err(|_| CalendarError::NoDataForYear {
        year: date.year().saturating_add(1),
    })
}

/// The embedded official data, parsed once. Kept as a `Result` so that bad data is an error, not a panic;
/// a unit test proves the embedded files parse.
static OFFICIAL: LazyLock<Result<Calendar, CalendarError>> = LazyLock::new(|| {
    let texts = [
        include_str!("../../../data/calendar/2025.toml"),
        include_str!("../../../data/calendar/2026.toml"),
    ];
    let mut years = Vec::with_capacity(texts.len());
    for text in texts {
        years.push(YearData::parse_toml(text)?);
    }
    Calendar::from_years(years)
});

/// A working-day calendar over a set of loaded years.
///
/// Every date a computation looks at must lie in a loaded year, otherwise the computation fails with
/// [`CalendarError::NoDataForYear`]. The start date of a count is not counted and so not looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    tables: BTreeMap<i16, YearTable>,
}

impl Calendar {
    /// The official calendar built from the data files embedded at compile time (`data/calendar/*.toml`).
    ///
    /// Fails only if the embedded data is invalid, which a unit test rules out.
    pub fn official() -> Result<Calendar, CalendarError> {
        OFFICIAL.clone()
    }

    /// A calendar over the given years; each year may appear only once.
    pub fn from_years(years: Vec<YearData>) -> Result<Calendar, CalendarError> {
        let mut tables = BTreeMap::new();
        for data in &years {
            if tables.insert(data.year, YearTable::new(data)).is_some() {
                return Err(CalendarError::InvalidData {
                    reason: format!("year {} is given more than once", data.year),
                });
            }
        }
        Ok(Calendar { tables })
    }

    /// This calendar with further years added, e.g. a new year's notice loaded by a deployment
    /// before the next release embeds it. A year given here replaces the same year loaded
    /// before (a corrected file wins over the embedded one); a year given twice is an error.
    pub fn with_years(mut self, years: Vec<YearData>) -> Result<Calendar, CalendarError> {
        let mut given = std::collections::BTreeSet::new();
        for data in &years {
            if !given.insert(data.year) {
                return Err(CalendarError::InvalidData {
                    reason: format!("year {} is given more than once", data.year),
                });
            }
            self.tables.insert(data.year, YearTable::new(data));
        }
        Ok(self)
    }

    /// Whether `year` has data.
    pub fn has_year(&self, year: i16) -> bool {
        self.tables.contains_key(&year)
    }

    /// The loaded years, ascending.
    pub fn years(&self) -> Vec<i16> {
        self.tables.keys().copied().collect()
    }

    fn table(&self, year: i16) -> Result<&YearTable, CalendarError> {
        self.tables
            .get(&year)
            .ok_or(CalendarError::NoDataForYear { year })
    }

    /// Whether `date` is a working day: a make-up workday always is, a holiday never is, otherwise Monday to
    /// Friday are.
    pub fn is_workday(&self, date: Date) -> Result<bool, CalendarError> {
        let table = self.table(date.year())?;
        table
            .workday
            .get(day_index(date))
            .copied()
            .ok_or(CalendarError::NoDataForYear { year: date.year() })
    }

    /// The date `days` working days after `from`, `from` itself not counted; `days == 0` gives `from`.
    pub fn add_working_days(&self, from: Date, days: u32) -> Result<Date, CalendarError> {
        self.add_working_days_with_suspensions(from, days, &[])
    }

    /// The number of working days in `(from, to]`; negative when `to` is before `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<i64, CalendarError> {
        if to < from {
            return Ok(-self.count_after_until(to, from)?);
        }
        self.count_after_until(from, to)
    }

    /// Like [`Calendar::add_working_days`], but suspended days do not count, so the deadline moves later by
    /// the working days the suspensions cover.
    pub fn add_working_days_with_suspensions(
        &self,
        from: Date,
        days: u32,
        suspensions: &[Suspension],
    ) -> Result<Date, CalendarError> {
        let merged = normalise_suspensions(suspensions)?;
        if days == 0 {
            return Ok(from);
        }
        let mut remaining = days;
        let mut current = from;
        let mut next_suspension = 0;
        loop {
            current = next_day(current)?;
            while merged
                .get(next_suspension)
                .is_some_and(|suspension| suspension.to < current)
            {
                next_suspension += 1;
            }
            if let Some(suspension) = merged.get(next_suspension)
                && suspension.from <= current
            {
                // Jump over the whole suspension instead of stepping through it: a long suspension must not
                // cost a day-by-day walk, and its days need no calendar data.
                current = suspension.to;
                continue;
            }
            if self.is_workday(current)? {
                remaining -= 1;
                if remaining == 0 {
                    return Ok(current);
                }
            }
        }
    }

    /// Like [`Calendar::working_days_between`], but suspended days do not count.
    pub fn working_days_between_with_suspensions(
        &self,
        from: Date,
        to: Date,
        suspensions: &[Suspension],
    ) -> Result<i64, CalendarError> {
        let merged = normalise_suspensions(suspensions)?;
        if to < from {
            return Ok(-self.count_unsuspended(to, from, &merged)?);
        }
        self.count_unsuspended(from, to, &merged)
    }

    /// Working days in `(from, to]` outside the merged, sorted suspensions; requires `from <= to`.
    fn count_unsuspended(
        &self,
        from: Date,
        to: Date,
        merged: &[Suspension],
    ) -> Result<i64, CalendarError> {
        let mut total = 0;
        // Everything up to and including `cursor` has been counted or skipped.
        let mut cursor = from;
        for suspension in merged {
            if suspension.to <= cursor {
                continue;
            }
            if suspension.from > to {
                break;
            }
            if suspension.from > cursor {
                // suspension.from > cursor, so it has a representable day before it.
                let before_suspension =
                    suspension
                        .from
                        .yesterday()
                        .map_err(|_| CalendarError::NoDataForYear {
                            year: suspension.from.year(),
                        })?;
                total += self.count_after_until(cursor, before_suspension)?;
            }
            if suspension.to >= to {
                return Ok(total);
            }
            cursor = suspension.to;
        }
        total += self.count_after_until(cursor, to)?;
        Ok(total)
    }

    /// Working days in `(from, to]`; requires `from <= to`.
    fn count_after_until(&self, from: Date, to: Date) -> Result<i64, CalendarError> {
        debug_assert!(from <= to, "count_after_until needs an ordered interval");
        if to <= from {
            return Ok(0);
        }
        let first = next_day(from)?;
        let mut total = 0;
        for year in first.year()..=to.year() {
            let table = self.table(year)?;
            let first_index = if year == first.year() {
                day_index(first)
            } else {
                0
            };
            let last_index = if year == to.year() {
                day_index(to)
            } else {
                table.workday.len().saturating_sub(1)
            };
            total += table.count(first_index, last_index);
        }
        Ok(total)
    }
}

/// The civil date in China (Asia/Shanghai) at the instant `ts`.
///
/// Uses the fixed offset UTC+08:00 rather than the tz database: China has observed no daylight saving time
/// since 1991, so the fixed offset is exact for every date this platform handles, and it keeps this crate
/// free of tz-database reads.
pub fn shanghai_date(ts: Timestamp) -> Date {
    const CHINA_STANDARD_TIME: Offset = Offset::constant(8);
    CHINA_STANDARD_TIME.to_datetime(ts).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::ToSpan;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn official() -> Calendar {
        Calendar::official().unwrap()
    }

    /// Checks "`days` working days after `from`" both ways: adding, and counting back.
    fn assert_after(from: Date, days: u32, expected: Date) {
        let calendar = official();
        let actual = calendar.add_working_days(from, days).unwrap();
        assert_eq!(actual, expected, "{from} + {days} working days");
        assert_eq!(
            calendar.working_days_between(from, expected).unwrap(),
            i64::from(days),
            "working days in ({from}, {expected}]"
        );
    }

    fn every_day_of(year: i16) -> Vec<Date> {
        let mut days = Vec::new();
        let mut current = date(year, 1, 1);
        while current.year() == year {
            days.push(current);
            current = current.tomorrow().unwrap();
        }
        days
    }

    fn parse_error(text: &str) -> String {
        match YearData::parse_toml(text) {
            Ok(data) => panic!("expected an error, parsed {data:?}"),
            Err(error) => {
                assert_eq!(error.code(), "calendar_data_invalid");
                error.to_string()
            }
        }
    }

    // ---- the embedded data ----

    #[test]
    fn the_embedded_official_data_parses_and_covers_2025_and_2026() {
        let calendar = Calendar::official().unwrap();
        assert_eq!(calendar.years(), vec![2025, 2026]);
    }

    #[test]
    fn each_embedded_year_file_states_its_year_source_and_entries() {
        let data_2025 =
            YearData::parse_toml(include_str!("../../../data/calendar/2025.toml")).unwrap();
        let data_2026 =
            YearData::parse_toml(include_str!("../../../data/calendar/2026.toml")).unwrap();
        assert_eq!(data_2025.year(), 2025);
        assert_eq!(data_2026.year(), 2026);
        assert!(data_2025.source().contains("2025"));
        assert!(data_2026.source().contains("2026"));
        assert_eq!(data_2025.holidays().len(), 6);
        assert_eq!(data_2026.holidays().len(), 7);
        assert_eq!(data_2025.makeup_workdays().len(), 5);
        assert_eq!(data_2026.makeup_workdays().len(), 6);
        assert_eq!(data_2025.working_days_in_year(), Some(248));
        assert_eq!(data_2026.working_days_in_year(), Some(248));
    }

    #[test]
    fn there_are_248_working_days_in_2025() {
        let calendar = official();
        let mut count = 0;
        for day in every_day_of(2025) {
            if calendar.is_workday(day).unwrap() {
                count += 1;
            }
        }
        assert_eq!(count, 248);
        // The start of a count is not looked at, so counting from the last day of unloaded 2024 works.
        assert_eq!(
            calendar
                .working_days_between(date(2024, 12, 31), date(2025, 12, 31))
                .unwrap(),
            248
        );
    }

    #[test]
    fn there_are_248_working_days_in_2026() {
        let calendar = official();
        let mut count = 0;
        for day in every_day_of(2026) {
            if calendar.is_workday(day).unwrap() {
                count += 1;
            }
        }
        assert_eq!(count, 248);
        assert_eq!(
            calendar
                .working_days_between(date(2025, 12, 31), date(2026, 12, 31))
                .unwrap(),
            248
        );
    }

    #[test]
    fn every_make_up_workday_is_a_working_day_although_it_falls_on_a_weekend() {
        let calendar = official();
        let makeup_days = [
            date(2025, 1, 26),
            date(2025, 2, 8),
            date(2025, 4, 27),
            date(2025, 9, 28),
            date(2025, 10, 11),
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10),
        ];
        for day in makeup_days {
            assert!(is_weekend(day.weekday()), "{day} is a weekend day");
            assert!(
                calendar.is_workday(day).unwrap(),
                "{day} is a make-up workday"
            );
        }
    }

    #[test]
    fn saturday_2026_02_14_is_a_working_day() {
        assert_eq!(date(2026, 2, 14).weekday(), Weekday::Saturday);
        assert!(official().is_workday(date(2026, 2, 14)).unwrap());
    }

    #[test]
    fn no_day_of_any_official_holiday_is_a_working_day() {
        let calendar = official();
        let breaks = [
            (date(2025, 1, 1), date(2025, 1, 1)),
            (date(2025, 1, 28), date(2025, 2, 4)),
            (date(2025, 4, 4), date(2025, 4, 6)),
            (date(2025, 5, 1), date(2025, 5, 5)),
            (date(2025, 5, 31), date(2025, 6, 2)),
            (date(2025, 10, 1), date(2025, 10, 8)),
            (date(2026, 1, 1), date(2026, 1, 3)),
            (date(2026, 2, 15), date(2026, 2, 23)),
            (date(2026, 4, 4), date(2026, 4, 6)),
            (date(2026, 5, 1), date(2026, 5, 5)),
            (date(2026, 6, 19), date(2026, 6, 21)),
            (date(2026, 9, 25), date(2026, 9, 27)),
            (date(2026, 10, 1), date(2026, 10, 7)),
        ];
        let mut weekdays_off = 0;
        for (first, last) in breaks {
            let mut day = first;
            while day <= last {
                assert!(!calendar.is_workday(day).unwrap(), "{day} is a holiday");
                if !is_weekend(day.weekday()) {
                    weekdays_off += 1;
                }
                day = day.tomorrow().unwrap();
            }
        }
        // 18 weekdays off in 2025 and 19 in 2026, as the notices imply.
        assert_eq!(weekdays_off, 18 + 19);
    }

    #[test]
    fn an_ordinary_weekend_is_not_a_working_day_and_an_ordinary_weekday_is() {
        let calendar = official();
        assert!(!calendar.is_workday(date(2026, 3, 7)).unwrap());
        assert!(!calendar.is_workday(date(2026, 3, 8)).unwrap());
        assert!(calendar.is_workday(date(2026, 3, 9)).unwrap());
    }

    // ---- "N working days after D", every vector of REFERENCE §8 ----

    #[test]
    fn one_working_day_after_thursday_2026_02_12_is_friday_2026_02_13() {
        assert_after(date(2026, 2, 12), 1, date(2026, 2, 13));
    }

    #[test]
    fn one_working_day_after_2026_02_13_is_the_saturday_make_up_workday() {
        assert_after(date(2026, 2, 13), 1, date(2026, 2, 14));
    }

    #[test]
    fn five_working_days_after_2026_02_13_skip_the_spring_festival() {
        assert_after(date(2026, 2, 13), 5, date(2026, 2, 27));
    }

    #[test]
    fn three_working_days_after_2026_02_12_end_the_day_after_the_spring_festival() {
        assert_after(date(2026, 2, 12), 3, date(2026, 2, 24));
    }

    #[test]
    fn one_working_day_after_2026_04_30_skips_labour_day() {
        assert_after(date(2026, 4, 30), 1, date(2026, 5, 6));
    }

    #[test]
    fn two_working_days_after_2026_06_18_skip_the_dragon_boat_festival() {
        assert_after(date(2026, 6, 18), 2, date(2026, 6, 23));
    }

    #[test]
    fn three_working_days_after_2026_09_18_count_the_sunday_make_up_workday() {
        assert_after(date(2026, 9, 18), 3, date(2026, 9, 22));
    }

    #[test]
    fn one_working_day_after_2026_09_30_skips_national_day() {
        assert_after(date(2026, 9, 30), 1, date(2026, 10, 8));
    }

    #[test]
    fn fifteen_working_days_after_2026_09_30_count_the_saturday_make_up_workday() {
        assert_after(date(2026, 9, 30), 15, date(2026, 10, 27));
    }

    #[test]
    fn five_working_days_after_2025_09_26_skip_the_combined_national_day_break() {
        assert_after(date(2025, 9, 26), 5, date(2025, 10, 10));
    }

    #[test]
    fn one_working_day_after_2025_09_30_is_2025_10_09() {
        assert_after(date(2025, 9, 30), 1, date(2025, 10, 9));
    }

    #[test]
    fn five_working_days_after_2025_09_30_count_the_saturday_make_up_workday() {
        assert_after(date(2025, 9, 30), 5, date(2025, 10, 14));
    }

    #[test]
    fn three_working_days_after_new_years_eve_2025_cross_into_2026() {
        assert_after(date(2025, 12, 31), 3, date(2026, 1, 6));
    }

    // ---- other counting rules ----

    #[test]
    fn zero_working_days_after_a_date_is_that_date_even_on_a_holiday() {
        let calendar = official();
        assert_eq!(
            calendar.add_working_days(date(2026, 2, 17), 0).unwrap(),
            date(2026, 2, 17)
        );
        assert_eq!(
            calendar
                .working_days_between(date(2026, 2, 17), date(2026, 2, 17))
                .unwrap(),
            0
        );
    }

    #[test]
    fn counting_backwards_gives_a_negative_number() {
        let calendar = official();
        assert_eq!(
            calendar
                .working_days_between(date(2026, 2, 27), date(2026, 2, 13))
                .unwrap(),
            -5
        );
    }

    #[test]
    fn a_count_starting_on_the_last_day_of_an_unloaded_year_needs_no_data_for_it() {
        // Regression guard: the start date is not counted, so it must not be looked up either.
        assert_eq!(
            official().add_working_days(date(2024, 12, 31), 1).unwrap(),
            date(2025, 1, 2)
        );
    }

    #[test]
    fn a_long_count_over_both_loaded_years_is_exact() {
        let calendar = official();
        let last = calendar.add_working_days(date(2024, 12, 31), 496).unwrap();
        assert_eq!(last, date(2026, 12, 31));
        assert_eq!(
            calendar.add_working_days(date(2024, 12, 31), 248).unwrap(),
            date(2025, 12, 31)
        );
    }

    // ---- years without data ----

    #[test]
    fn a_date_in_2027_is_an_explicit_error_until_its_notice_is_loaded() {
        let error = official().is_workday(date(2027, 3, 1)).unwrap_err();
        assert_eq!(error, CalendarError::NoDataForYear { year: 2027 });
        assert_eq!(error.code(), "calendar_year_not_loaded");
        assert_eq!(
            error.to_string(),
            "no official calendar data for year 2027; the year's holiday notice must be added before dates in it can be computed"
        );
    }

    #[test]
    fn a_year_added_later_is_used_and_a_corrected_year_replaces_the_embedded_one() {
        // Test data, not a notice: 2027 with one holiday on Friday 2027-01-01.
        let extra = YearData::parse_toml(
            "year = 2027\nsource = \"test\"\n[[holidays]]\nname = \"元旦\"\nfrom = \"2027-01-01\"\nto = \"2027-01-01\"\n",
        )
        .unwrap();
        let calendar = official().with_years(vec![extra]).unwrap();
        assert_eq!(calendar.years(), vec![2025, 2026, 2027]);
        assert!(calendar.has_year(2027));
        // Thursday 2026-12-31 + 1 skips the holiday and the weekend.
        assert_eq!(
            calendar.add_working_days(date(2026, 12, 31), 1).unwrap(),
            date(2027, 1, 4)
        );
        // A 2026 file without holidays replaces the embedded 2026: 2026-10-01 becomes a
        // working day.
        let plain_2026 = YearData::parse_toml("year = 2026\nsource = \"test\"\n").unwrap();
        let replaced = official().with_years(vec![plain_2026.clone()]).unwrap();
        assert!(replaced.is_workday(date(2026, 10, 1)).unwrap());
        assert!(!official().is_workday(date(2026, 10, 1)).unwrap());
        assert!(matches!(
            official().with_years(vec![plain_2026.clone(), plain_2026]),
            Err(CalendarError::InvalidData { .. })
        ));
    }

    #[test]
    fn a_date_in_2024_is_an_explicit_error() {
        assert_eq!(
            official().is_workday(date(2024, 6, 3)).unwrap_err(),
            CalendarError::NoDataForYear { year: 2024 }
        );
    }

    #[test]
    fn a_deadline_that_walks_past_the_end_of_2026_is_an_explicit_error() {
        let calendar = official();
        // 2026-12-31 is a Thursday and the last working day with data.
        assert_eq!(
            calendar.add_working_days(date(2026, 12, 30), 1).unwrap(),
            date(2026, 12, 31)
        );
        assert_eq!(
            calendar
                .add_working_days(date(2026, 12, 30), 2)
                .unwrap_err(),
            CalendarError::NoDataForYear { year: 2027 }
        );
        assert_eq!(
            calendar
                .add_working_days(date(2026, 6, 1), 400)
                .unwrap_err(),
            CalendarError::NoDataForYear { year: 2027 }
        );
    }

    #[test]
    fn counting_into_2027_is_an_explicit_error() {
        assert_eq!(
            official()
                .working_days_between(date(2026, 12, 1), date(2027, 1, 5))
                .unwrap_err(),
            CalendarError::NoDataForYear { year: 2027 }
        );
    }

    #[test]
    fn a_gap_between_loaded_years_is_an_explicit_error() {
        let data_2025 =
            YearData::parse_toml(include_str!("../../../data/calendar/2025.toml")).unwrap();
        let data_2027 = YearData::parse_toml("year = 2027\nsource = \"test\"\n").unwrap();
        let calendar = Calendar::from_years(vec![data_2027, data_2025]).unwrap();
        assert_eq!(calendar.years(), vec![2025, 2027]);
        assert_eq!(
            calendar
                .working_days_between(date(2025, 12, 1), date(2027, 1, 5))
                .unwrap_err(),
            CalendarError::NoDataForYear { year: 2026 }
        );
        assert_eq!(
            calendar
                .add_working_days(date(2025, 12, 30), 5)
                .unwrap_err(),
            CalendarError::NoDataForYear { year: 2026 }
        );
    }

    // ---- suspensions ----

    #[test]
    fn a_suspension_moves_the_deadline_by_the_working_days_it_covers() {
        let calendar = official();
        let start = date(2026, 3, 2);
        assert_eq!(
            calendar.add_working_days(start, 5).unwrap(),
            date(2026, 3, 9)
        );
        let correction_notice = Suspension {
            from: date(2026, 3, 4),
            to: date(2026, 3, 5),
        };
        assert_eq!(
            calendar
                .add_working_days_with_suspensions(start, 5, &[correction_notice])
                .unwrap(),
            date(2026, 3, 11)
        );
        assert_eq!(
            calendar
                .working_days_between_with_suspensions(
                    start,
                    date(2026, 3, 11),
                    &[correction_notice]
                )
                .unwrap(),
            5
        );
    }

    #[test]
    fn a_suspension_over_a_weekend_does_not_move_the_deadline() {
        let calendar = official();
        let weekend = Suspension {
            from: date(2026, 3, 7),
            to: date(2026, 3, 8),
        };
        assert_eq!(
            calendar
                .add_working_days_with_suspensions(date(2026, 3, 5), 2, &[weekend])
                .unwrap(),
            date(2026, 3, 9)
        );
    }

    #[test]
    fn a_suspension_on_a_make_up_workday_moves_the_deadline_past_the_spring_festival() {
        let suspension = Suspension {
            from: date(2026, 2, 14),
            to: date(2026, 2, 14),
        };
        assert_eq!(
            official()
                .add_working_days_with_suspensions(date(2026, 2, 13), 1, &[suspension])
                .unwrap(),
            date(2026, 2, 24)
        );
    }

    #[test]
    fn overlapping_suspensions_are_counted_once() {
        let calendar = official();
        let suspensions = [
            Suspension {
                from: date(2026, 3, 5),
                to: date(2026, 3, 6),
            },
            Suspension {
                from: date(2026, 3, 4),
                to: date(2026, 3, 5),
            },
        ];
        let deadline = calendar
            .add_working_days_with_suspensions(date(2026, 3, 2), 5, &suspensions)
            .unwrap();
        assert_eq!(deadline, date(2026, 3, 12));
        assert_eq!(
            calendar
                .working_days_between_with_suspensions(date(2026, 3, 2), deadline, &suspensions)
                .unwrap(),
            5
        );
    }

    #[test]
    fn a_suspension_before_the_start_changes_nothing() {
        let earlier = Suspension {
            from: date(2026, 1, 5),
            to: date(2026, 1, 30),
        };
        assert_eq!(
            official()
                .add_working_days_with_suspensions(date(2026, 3, 2), 5, &[earlier])
                .unwrap(),
            date(2026, 3, 9)
        );
    }

    #[test]
    fn a_count_that_ends_inside_a_suspension_stops_at_the_suspension() {
        let suspension = Suspension {
            from: date(2026, 3, 4),
            to: date(2026, 3, 20),
        };
        assert_eq!(
            official()
                .working_days_between_with_suspensions(
                    date(2026, 3, 2),
                    date(2026, 3, 10),
                    &[suspension]
                )
                .unwrap(),
            1
        );
        assert_eq!(
            official()
                .working_days_between_with_suspensions(
                    date(2026, 3, 10),
                    date(2026, 3, 2),
                    &[suspension]
                )
                .unwrap(),
            -1
        );
    }

    #[test]
    fn a_suspension_that_ends_before_it_starts_is_rejected() {
        let inverted = Suspension {
            from: date(2026, 3, 5),
            to: date(2026, 3, 4),
        };
        let error = official()
            .add_working_days_with_suspensions(date(2026, 3, 2), 5, &[inverted])
            .unwrap_err();
        assert_eq!(error.code(), "calendar_suspension_invalid");
        assert!(
            official()
                .working_days_between_with_suspensions(
                    date(2026, 3, 2),
                    date(2026, 3, 9),
                    &[inverted]
                )
                .is_err()
        );
    }

    #[test]
    fn a_suspension_that_runs_past_the_loaded_years_still_ends_in_an_explicit_error() {
        let suspension = Suspension {
            from: date(2026, 12, 1),
            to: date(2027, 6, 30),
        };
        assert_eq!(
            official()
                .add_working_days_with_suspensions(date(2026, 11, 30), 1, &[suspension])
                .unwrap_err(),
            CalendarError::NoDataForYear { year: 2027 }
        );
    }

    // ---- validation at load ----

    #[test]
    fn a_year_without_holidays_has_every_weekday_as_working_day() {
        let data = YearData::parse_toml("year = 2027\nsource = \"test\"\n").unwrap();
        assert_eq!(data.working_days(), 261);
        assert!(data.holidays().is_empty());
        assert_eq!(data.working_days_in_year(), None);
    }

    #[test]
    fn deserialising_year_data_validates_it_too() {
        let result: Result<YearData, _> =
            toml::from_str("year = 2026\nsource = \"test\"\nmakeup_workdays = [\"2026-03-04\"]\n");
        let error = result.unwrap_err().to_string();
        assert!(error.contains("Saturdays or Sundays"), "{error}");
    }

    #[test]
    fn a_holiday_outside_the_stated_year_is_rejected() {
        let error = parse_error(
            "year = 2026\nsource = \"test\"\n[[holidays]]\nname = \"元旦\"\nfrom = \"2025-12-31\"\nto = \"2026-01-01\"\n",
        );
        assert!(error.contains("not inside the year"), "{error}");
    }

    #[test]
    fn a_make_up_workday_outside_the_stated_year_is_rejected() {
        let error =
            parse_error("year = 2026\nsource = \"test\"\nmakeup_workdays = [\"2025-12-27\"]\n");
        assert!(error.contains("not inside the year"), "{error}");
    }

    #[test]
    fn a_make_up_workday_inside_a_holiday_is_rejected() {
        let error = parse_error(
            "year = 2026\nsource = \"test\"\nmakeup_workdays = [\"2026-02-15\"]\n[[holidays]]\nname = \"春节\"\nfrom = \"2026-02-15\"\nto = \"2026-02-23\"\n",
        );
        assert!(
            error.contains("both as a make-up workday and inside a holiday"),
            "{error}"
        );
    }

    #[test]
    fn a_make_up_workday_on_a_weekday_is_rejected() {
        let error =
            parse_error("year = 2026\nsource = \"test\"\nmakeup_workdays = [\"2026-03-04\"]\n");
        assert!(error.contains("Saturdays or Sundays"), "{error}");
    }

    #[test]
    fn a_make_up_workday_listed_twice_is_rejected() {
        let error = parse_error(
            "year = 2026\nsource = \"test\"\nmakeup_workdays = [\"2026-03-07\", \"2026-03-07\"]\n",
        );
        assert!(error.contains("listed twice"), "{error}");
    }

    #[test]
    fn a_stated_working_day_count_that_disagrees_with_the_data_is_rejected() {
        let text = include_str!("../../../data/calendar/2026.toml")
            .replace("working_days_in_year = 248", "working_days_in_year = 249");
        let error = parse_error(&text);
        assert!(error.contains("states 249 working days"), "{error}");
        assert!(error.contains("give 248"), "{error}");
    }

    #[test]
    fn overlapping_holidays_are_rejected() {
        let error = parse_error(
            "year = 2026\nsource = \"test\"\n[[holidays]]\nname = \"a\"\nfrom = \"2026-10-01\"\nto = \"2026-10-03\"\n[[holidays]]\nname = \"b\"\nfrom = \"2026-10-03\"\nto = \"2026-10-04\"\n",
        );
        assert!(error.contains("overlaps"), "{error}");
    }

    #[test]
    fn a_holiday_that_ends_before_it_starts_is_rejected() {
        let error = parse_error(
            "year = 2026\nsource = \"test\"\n[[holidays]]\nname = \"a\"\nfrom = \"2026-10-03\"\nto = \"2026-10-01\"\n",
        );
        assert!(error.contains("before it starts"), "{error}");
    }

    #[test]
    fn a_top_level_key_written_after_a_holiday_table_is_rejected_not_ignored() {
        // Regression guard: TOML puts keys after `[[holidays]]` inside that table, which would silently drop
        // the make-up workdays if unknown fields were ignored.
        let error = parse_error(
            "year = 2026\nsource = \"test\"\n[[holidays]]\nname = \"a\"\nfrom = \"2026-10-01\"\nto = \"2026-10-03\"\nmakeup_workdays = [\"2026-10-10\"]\n",
        );
        assert!(error.contains("makeup_workdays"), "{error}");
    }

    #[test]
    fn a_missing_source_is_rejected() {
        let error = parse_error("year = 2026\nsource = \" \"\n");
        assert!(error.contains("source"), "{error}");
    }

    #[test]
    fn a_year_given_twice_is_rejected() {
        let first = YearData::parse_toml("year = 2027\nsource = \"a\"\n").unwrap();
        let second = YearData::parse_toml("year = 2027\nsource = \"b\"\n").unwrap();
        let error = Calendar::from_years(vec![first, second]).unwrap_err();
        assert_eq!(error.code(), "calendar_data_invalid");
    }

    // ---- time zone ----

    #[test]
    fn the_shanghai_date_turns_over_at_16_00_utc() {
        let before: Timestamp = "2025-12-31T15:59:59Z".parse().unwrap();
        let after: Timestamp = "2025-12-31T16:00:00Z".parse().unwrap();
        assert_eq!(shanghai_date(before), date(2025, 12, 31));
        assert_eq!(shanghai_date(after), date(2026, 1, 1));
    }

    // ---- properties ----

    /// Any date of the two loaded years.
    fn loaded_date() -> impl Strategy<Value = Date> {
        (0_i32..730).prop_map(|offset| date(2025, 1, 1).checked_add(offset.days()).unwrap())
    }

    fn suspension_in_loaded_years() -> impl Strategy<Value = Suspension> {
        (loaded_date(), 0_i32..60).prop_map(|(from, length)| Suspension {
            from,
            to: from.checked_add(length.days()).unwrap(),
        })
    }

    proptest! {
        #[test]
        fn a_deadline_is_a_later_working_day_and_counting_back_gives_n(
            from in loaded_date(),
            days in 1_u32..300,
        ) {
            let calendar = official();
            match calendar.add_working_days(from, days) {
                Ok(deadline) => {
                    prop_assert!(deadline > from);
                    prop_assert!(calendar.is_workday(deadline).unwrap());
                    prop_assert_eq!(
                        calendar.working_days_between(from, deadline).unwrap(),
                        i64::from(days)
                    );
                    prop_assert_eq!(
                        calendar.working_days_between(deadline, from).unwrap(),
                        -i64::from(days)
                    );
                }
                Err(error) => prop_assert_eq!(error, CalendarError::NoDataForYear { year: 2027 }),
            }
        }

        #[test]
        fn adding_more_working_days_never_gives_an_earlier_date(
            from in loaded_date(),
            days in 0_u32..300,
        ) {
            let calendar = official();
            if let Ok(later) = calendar.add_working_days(from, days + 1) {
                let earlier = calendar.add_working_days(from, days).unwrap();
                prop_assert!(earlier < later);
            }
        }

        #[test]
        fn counting_is_additive_over_a_middle_date(
            first in loaded_date(),
            second in loaded_date(),
            third in loaded_date(),
        ) {
            let calendar = official();
            let whole = calendar.working_days_between(first, third).unwrap();
            let parts = calendar.working_days_between(first, second).unwrap()
                + calendar.working_days_between(second, third).unwrap();
            prop_assert_eq!(whole, parts);
        }

        #[test]
        fn suspensions_never_make_a_deadline_earlier(
            from in loaded_date(),
            days in 0_u32..200,
            suspensions in proptest::collection::vec(suspension_in_loaded_years(), 0..4),
        ) {
            let calendar = official();
            let suspended = calendar.add_working_days_with_suspensions(from, days, &suspensions);
            if let Ok(suspended_deadline) = suspended {
                let plain_deadline = calendar.add_working_days(from, days).unwrap();
                prop_assert!(suspended_deadline >= plain_deadline);
                prop_assert_eq!(
                    calendar
                        .working_days_between_with_suspensions(from, suspended_deadline, &suspensions)
                        .unwrap(),
                    i64::from(days)
                );
            }
        }

        #[test]
        fn suspended_days_are_never_counted(
            from in loaded_date(),
            to in loaded_date(),
            suspensions in proptest::collection::vec(suspension_in_loaded_years(), 0..4),
        ) {
            let calendar = official();
            let (low, high) = if from <= to { (from, to) } else { (to, from) };
            let mut expected = 0_i64;
            let mut day = low;
            while day < high {
                day = day.tomorrow().unwrap();
                let suspended = suspensions.iter().any(|s| s.from <= day && day <= s.to);
                if !suspended && calendar.is_workday(day).unwrap() {
                    expected += 1;
                }
            }
            if to < from {
                expected = -expected;
            }
            prop_assert_eq!(
                calendar.working_days_between_with_suspensions(from, to, &suspensions).unwrap(),
                expected
            );
        }
    }
}
