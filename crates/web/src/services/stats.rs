//! The stats service (电子监察, SPEC C8): figures per region / department / hall / item / window
//! and month range from the rollups, trends, the overdue alarm list, CSV export. Definitions in
//! `tongban_domain::stats::CATALOGUE` and `docs/kpis.md`.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::Actor;
use tongban_domain::keys::DepartmentKey;
use tongban_domain::org::Role;
use tongban_domain::stats::{
    CATALOGUE, Counters, Dimension, KpiValue, Month, MonthRange, StatsError, kpis, percentile,
};
use tongban_store::model::{
    CaseFilter, CaseOrder, CaseScope, RectificationFilter, StatsQuery, TicketFilter,
};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

impl From<StatsError> for ApiError {
    fn from(error: StatsError) -> ApiError {
        ApiError::new(ErrorCode::InvalidStatsQuery, error.to_string())
    }
}

/// Supervisors and administrators read the internal figures.
pub fn require_supervisor(actor: &Actor) -> Result<(), ApiError> {
    if actor.has_role(Role::Supervisor, None) || actor.has_role(Role::Administrator, None) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        "only supervisors read these figures",
    ))
}

/// A figures query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiguresQuery {
    /// First month, `YYYY-MM` (default: twelve months before `to`).
    pub from: Option<String>,
    /// Last month, `YYYY-MM` (default: the current month).
    pub to: Option<String>,
    /// `region`, `department`, `hall`, `item` or `window` (default `department`).
    pub dimension: Option<String>,
    /// Only one department's rows.
    pub department: Option<String>,
}

/// The figures of one group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FiguresRow {
    /// The group's key (a region code, department, hall or window key, an item code, a month
    /// or a day); empty for "none" (e.g. online cases have no hall).
    pub key: String,
    /// The group's name where one is known.
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub kpis: Vec<KpiValue>,
    /// 非常满意, 满意, 基本满意, 不满意, 非常不满意 counts.
    pub rating_distribution: [i64; 5],
    #[schema(value_type = Object)]
    pub counters: Counters,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    pub from: String,
    pub to: String,
    pub dimension: String,
    pub total: FiguresRow,
    pub rows: Vec<FiguresRow>,
}

pub fn range_of(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<MonthRange, ApiError> {
    let to = match to {
        Some(text) => Month::parse(text)?,
        None => Month::of(shanghai_date(state.clock.now())),
    };
    let from = match from {
        Some(text) => Month::parse(text)?,
        None => {
            let mut month = to;
            for _ in 0..11 {
                month = previous(month);
            }
            month
        }
    };
    Ok(MonthRange::new(from, to)?)
}

fn previous(month: Month) -> Month {
    if month.month == 1 {
        Month {
            year: month.year - 1,
            month: 12,
        }
    } else {
        Month {
            year: month.year,
            month: month.month - 1,
        }
    }
}

fn department_of(text: Option<&str>) -> Result<Option<DepartmentKey>, ApiError> {
    text.map(|d| {
        DepartmentKey::parse(d)
            .map_err(|_| ApiError::invalid_parameter("department", d, "a department key"))
    })
    .transpose()
}

fn name_of(state: &AppState, dimension: Dimension, key: &str) -> String {
    let lookup = state.lookup.get();
    match dimension {
        Dimension::Department => DepartmentKey::parse(key)
            .ok()
            .and_then(|k| lookup.department(&k).map(|d| d.name.clone()))
            .unwrap_or_default(),
        Dimension::Hall => tongban_domain::keys::HallKey::parse(key)
            .ok()
            .and_then(|k| lookup.hall(&k).map(|h| h.name.clone()))
            .unwrap_or_default(),
        Dimension::Region => lookup
            .organisation
            .regions
            .iter()
            .find(|r| r.code.as_str() == key)
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        Dimension::Item | Dimension::Window => String::new(),
    }
}

fn row(key: String, name: String, counters: Counters, p90: Option<i64>) -> FiguresRow {
    FiguresRow {
        kpis: kpis(&counters, p90),
        rating_distribution: counters.rating_distribution(),
        key,
        name,
        counters,
    }
}

/// Every figure per group of `dimension`, with the total (p90 per department and overall).
pub async fn figures(state: &AppState, query: &FiguresQuery) -> Result<Figures, ApiError> {
    let range = range_of(state, query.from.as_deref(), query.to.as_deref())?;
    let dimension = Dimension::parse(query.dimension.as_deref().unwrap_or("department"))?;
    let department = department_of(query.department.as_deref())?;
    let rows = state
        .store
        .stats
        .figures(&StatsQuery {
            range,
            dimension,
            department: department.clone(),
        })
        .await?;
    let mut total = Counters::default();
    let mut out = Vec::with_capacity(rows.len());
    for stats in rows {
        total.add(&stats.counters);
        let p90 = if dimension == Dimension::Department {
            match DepartmentKey::parse(&stats.key) {
                Ok(key) => percentile(
                    &state.store.stats.days_histogram(range, Some(&key)).await?,
                    90,
                ),
                Err(_) => None,
            }
        } else {
            None
        };
        let name = name_of(state, dimension, &stats.key);
        out.push(row(stats.key, name, stats.counters, p90));
    }
    let overall = percentile(
        &state
            .store
            .stats
            .days_histogram(range, department.as_ref())
            .await?,
        90,
    );
    Ok(Figures {
        from: range.from.key(),
        to: range.to.key(),
        dimension: dimension.code().into(),
        total: row("total".into(), "合计".into(), total, overall),
        rows: out,
    })
}

/// Figures per month (trend lines).
pub async fn trend(state: &AppState, query: &FiguresQuery) -> Result<Vec<FiguresRow>, ApiError> {
    let range = range_of(state, query.from.as_deref(), query.to.as_deref())?;
    let department = department_of(query.department.as_deref())?;
    let rows = state
        .store
        .stats
        .monthly(range, department.as_ref())
        .await?;
    let mut by_month: std::collections::BTreeMap<String, Counters> =
        rows.into_iter().map(|r| (r.key, r.counters)).collect();
    let mut out = Vec::new();
    for month in range.months() {
        let counters = by_month.remove(&month.key()).unwrap_or_default();
        out.push(row(month.key(), month.key(), counters, None));
    }
    Ok(out)
}

/// A day range query (default: the last 30 days).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// `YYYY-MM-DD`.
    pub from: Option<String>,
    /// `YYYY-MM-DD`.
    pub to: Option<String>,
    pub department: Option<String>,
}

pub async fn daily(state: &AppState, query: &DailyQuery) -> Result<Vec<FiguresRow>, ApiError> {
    let parse = |name: &str, text: &str| {
        text.parse::<Date>()
            .map_err(|_| ApiError::invalid_parameter(name, text, "a date YYYY-MM-DD"))
    };
    let to = match &query.to {
        Some(text) => parse("to", text)?,
        None => shanghai_date(state.clock.now()),
    };
    let from = match &query.from {
        Some(text) => parse("from", text)?,
        None => to
            .checked_sub(jiff::Span::new().days(29))
            .map_err(|e| ApiError::internal(&e))?,
    };
    if from > to || (to - from).get_days() > 366 {
        return Err(ApiError::new(
            ErrorCode::InvalidStatsQuery,
            "a day range is at most 366 days, from not after to",
        ));
    }
    let department = department_of(query.department.as_deref())?;
    let rows = state
        .store
        .stats
        .daily(from, to, department.as_ref())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| row(r.key.clone(), r.key, r.counters, None))
        .collect())
}

/// The figures as CSV: one line per group, one column per figure (UTF-8 with BOM for Excel).
pub fn to_csv(figures: &Figures) -> String {
    let mut out = String::from("\u{feff}key,name");
    for definition in CATALOGUE {
        out.push(',');
        out.push_str(definition.code);
    }
    out.push('\n');
    for row in figures.rows.iter().chain(std::iter::once(&figures.total)) {
        out.push_str(&csv_field(&row.key));
        out.push(',');
        out.push_str(&csv_field(&row.name));
        for value in &row.kpis {
            out.push(',');
            if let Some(number) = value.value {
                out.push_str(&number.to_string());
            }
        }
        out.push('\n');
    }
    out
}

fn csv_field(text: &str) -> String {
    // Quote everything that could break a field, and defuse spreadsheet formulas.
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// One overdue item on the alarm list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alarm {
    /// `case`, `ticket` or `rectification`.
    pub kind: String,
    /// The case number, ticket number or task id.
    pub reference: String,
    pub department: String,
    #[schema(value_type = Option<String>)]
    pub due_on: Option<Date>,
    /// Working days past the due date.
    pub days_overdue: i64,
}

/// Everything past its deadline today: cases (promised due date), hotline tickets and
/// rectification tasks, most overdue first.
pub async fn alarms(state: &AppState) -> Result<Vec<Alarm>, ApiError> {
    let today = shanghai_date(state.clock.now());
    let days_over = |due: Option<Date>| {
        due.and_then(|d| state.calendar.working_days_between(d, today).ok())
            .unwrap_or(0)
    };
    let mut alarms = Vec::new();
    let cases = state
        .store
        .cases
        .list_cases(&CaseFilter {
            scope: CaseScope {
                everything: true,
                ..CaseScope::default()
            },
            overdue_on: Some(today),
            order: CaseOrder::DueFirst,
            limit: 200,
            ..CaseFilter::default()
        })
        .await?;
    for case in cases.cases {
        alarms.push(Alarm {
            kind: "case".into(),
            reference: case.number,
            department: case.department.to_string(),
            due_on: case.promised_due,
            days_overdue: days_over(case.promised_due),
        });
    }
    let tickets = state
        .store
        .hotline
        .list_tickets(&TicketFilter {
            overdue_on: Some(today),
            limit: 200,
            ..TicketFilter::default()
        })
        .await?;
    for ticket in tickets {
        alarms.push(Alarm {
            kind: "ticket".into(),
            reference: ticket.number,
            department: ticket.department.unwrap_or_default(),
            due_on: ticket.due_on,
            days_overdue: days_over(ticket.due_on),
        });
    }
    let tasks = state
        .store
        .feedback
        .list_rectifications(&RectificationFilter {
            overdue_on: Some(today),
            limit: 200,
            ..RectificationFilter::default()
        })
        .await?;
    for task in tasks {
        alarms.push(Alarm {
            kind: "rectification".into(),
            reference: task.id.to_string(),
            department: task.department.to_string(),
            due_on: Some(task.due_on),
            days_overdue: days_over(Some(task.due_on)),
        });
    }
    alarms.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then(a.reference.cmp(&b.reference))
    });
    Ok(alarms)
}

/// A figure's definition, for the public list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DefinitionView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub definition: String,
}

/// Every figure's definition: those computed from the rollups, and agent coverage, computed
/// from the agent register (`GET /api/v1/stats/agent-coverage`).
pub fn definitions() -> Vec<DefinitionView> {
    CATALOGUE
        .iter()
        .chain(std::iter::once(
            &tongban_domain::agents::COVERAGE_DEFINITION,
        ))
        .map(|d| DefinitionView {
            code: d.code.into(),
            name_zh: d.name_zh.into(),
            name_en: d.name_en.into(),
            unit: serde_json::to_value(d.unit)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            definition: d.definition.into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("东湖区"), "东湖区");
    }
}
