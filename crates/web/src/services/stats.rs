//! The stats service (电子监察, SPEC C8): figures per region / department / hall / item / window
//! and month range from the rollups (with the queue's waiting times and throughput per hall,
//! region and window), trends, the overdue alarm list, CSV export; and the figures of the
//! catalog as it stands (网上可办率, 进驻率, windows) and of the bundles (reductions).
//! Definitions in `tongban_domain::stats` (its catalogues) and `docs/kpis.md`.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use tongban_domain::calendar::shanghai_date;
use tongban_domain::cases::Actor;
use tongban_domain::keys::DepartmentKey;
use tongban_domain::org::Role;
use tongban_domain::stats::bundles::{BUNDLE_FIGURES, bundle_kpis, guide_members, sum_of};
use tongban_domain::stats::catalog::{
    CATALOG_FIGURES, CatalogCounts, catalog_figures as compute_catalog_figures, catalog_kpis,
};
use tongban_domain::stats::queue::{QUEUE_CATALOGUE, queue_kpis};
use tongban_domain::stats::{
    CATALOGUE, Counters, Dimension, KpiValue, Month, MonthRange, StatsError, kpis, percentile,
};
use tongban_store::model::{
    CaseFilter, CaseOrder, CaseScope, QueueGroup, QueueRow, RectificationFilter, StatsQuery,
    TicketFilter,
};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::services::catalog::ReductionsView;

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
    /// The rollup figures (`CATALOGUE`), then the queue figures (`QUEUE_CATALOGUE`: `null`
    /// where they do not apply — per department or item, in a department's drill-down and per
    /// day — as queue tickets have no department).
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

fn row(
    key: String,
    name: String,
    counters: Counters,
    p90: Option<i64>,
    queue: Option<&QueueRow>,
) -> FiguresRow {
    let mut values = kpis(&counters, p90);
    values.extend(queue_kpis(
        queue.map(|q| (&q.counters, q.wait_histogram.as_slice())),
    ));
    FiguresRow {
        kpis: values,
        rating_distribution: counters.rating_distribution(),
        key,
        name,
        counters,
    }
}

/// A group without tickets in the period: zero counts, no averages.
fn no_tickets(key: &str) -> QueueRow {
    QueueRow {
        key: key.to_owned(),
        counters: tongban_domain::stats::queue::QueueCounters::default(),
        wait_histogram: Vec::new(),
    }
}

/// The queue grouping that matches a dimension of the rollups; none where the queue has no
/// such grouping (departments, items) or for a department's drill-down.
fn queue_group(dimension: Dimension, department: Option<&DepartmentKey>) -> Option<QueueGroup> {
    if department.is_some() {
        return None;
    }
    match dimension {
        Dimension::Hall => Some(QueueGroup::Hall),
        Dimension::Region => Some(QueueGroup::Region),
        Dimension::Window => Some(QueueGroup::Window),
        Dimension::Department | Dimension::Item => None,
    }
}

/// The queue sums of the whole period (none for a department's drill-down).
async fn queue_total(
    state: &AppState,
    range: MonthRange,
    department: Option<&DepartmentKey>,
) -> Result<Option<QueueRow>, ApiError> {
    if department.is_some() {
        return Ok(None);
    }
    let rows = state
        .store
        .stats
        .queue_figures(range, QueueGroup::Total)
        .await?;
    Ok(Some(
        rows.into_iter().next().unwrap_or_else(|| no_tickets("")),
    ))
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
    let group = queue_group(dimension, department.as_ref());
    let mut queues: std::collections::BTreeMap<String, QueueRow> = match group {
        Some(group) => state
            .store
            .stats
            .queue_figures(range, group)
            .await?
            .into_iter()
            .map(|q| (q.key.clone(), q))
            .collect(),
        None => std::collections::BTreeMap::new(),
    };
    let mut total = Counters::default();
    let mut out = Vec::with_capacity(rows.len());
    for stats in rows {
        total.add(&stats.counters);
        // Online cases have no hall (key ""): no queue there. A hall without tickets has zeros.
        let queue = match (group, stats.key.is_empty()) {
            (Some(_), false) => Some(
                queues
                    .remove(&stats.key)
                    .unwrap_or_else(|| no_tickets(&stats.key)),
            ),
            _ => None,
        };
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
        out.push(row(stats.key, name, stats.counters, p90, queue.as_ref()));
    }
    // Halls, regions and windows with tickets but no case, rating or ticket of the rollups.
    for (key, queue) in queues {
        let name = name_of(state, dimension, &key);
        out.push(row(key, name, Counters::default(), None, Some(&queue)));
    }
    let queue = queue_total(state, range, department.as_ref()).await?;
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
        total: row(
            "total".into(),
            "合计".into(),
            total,
            overall,
            queue.as_ref(),
        ),
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
    let mut queues: std::collections::BTreeMap<String, QueueRow> = if department.is_none() {
        state
            .store
            .stats
            .queue_figures(range, QueueGroup::Month)
            .await?
            .into_iter()
            .map(|q| (q.key.clone(), q))
            .collect()
    } else {
        std::collections::BTreeMap::new()
    };
    let mut out = Vec::new();
    for month in range.months() {
        let counters = by_month.remove(&month.key()).unwrap_or_default();
        let queue = match department {
            Some(_) => None,
            None => Some(
                queues
                    .remove(&month.key())
                    .unwrap_or_else(|| no_tickets(&month.key())),
            ),
        };
        out.push(row(
            month.key(),
            month.key(),
            counters,
            None,
            queue.as_ref(),
        ));
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
        .map(|r| row(r.key.clone(), r.key, r.counters, None, None))
        .collect())
}

/// The figures as CSV: one line per group, one column per figure — the rollup figures, then the
/// queue figures (UTF-8 with BOM for Excel).
pub fn to_csv(figures: &Figures) -> String {
    let mut out = String::from("\u{feff}key,name");
    for definition in CATALOGUE.iter().chain(QUEUE_CATALOGUE) {
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

/// A query of the catalog figures.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogFiguresQuery {
    /// `department`, `region` or `hall` (default `department`).
    pub dimension: Option<String>,
}

/// The catalog figures of one group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogFiguresRow {
    /// A department key, region code or hall key.
    pub key: String,
    pub name: String,
    /// `CATALOG_FIGURES`: items, 网上可办率, 进驻率, windows, 综合窗口占比.
    #[schema(value_type = Vec<Object>)]
    pub kpis: Vec<KpiValue>,
    #[schema(value_type = Object)]
    pub counts: CatalogCounts,
}

/// The figures of the published catalog and the halls on the day asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogFiguresView {
    pub dimension: String,
    pub total: CatalogFiguresRow,
    pub rows: Vec<CatalogFiguresRow>,
}

/// 网上可办率, 进驻率 and the windows, per department, region or hall, from the published
/// catalog and the organisation.
pub async fn catalog_figures(
    state: &AppState,
    query: &CatalogFiguresQuery,
) -> Result<CatalogFiguresView, ApiError> {
    let dimension = Dimension::parse(query.dimension.as_deref().unwrap_or("department"))?;
    let items = state.store.stats.item_facts().await?;
    let lookup = state.lookup.get();
    let figures = compute_catalog_figures(&items, &lookup.organisation, dimension)?;
    let view = |key: String, name: String, counts: CatalogCounts| CatalogFiguresRow {
        kpis: catalog_kpis(&counts),
        key,
        name,
        counts,
    };
    let rows = figures
        .rows
        .into_iter()
        .map(|r| {
            let name = name_of(state, dimension, &r.key);
            view(r.key, name, r.counts)
        })
        .collect();
    Ok(CatalogFiguresView {
        dimension: dimension.code().into(),
        total: view("total".into(), "合计".into(), figures.total),
        rows,
    })
}

/// The reductions of one bundle (or of all, summed).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleFiguresRow {
    /// The bundle's code (`total` for the sum).
    pub code: String,
    pub name: String,
    /// The lead department (empty for the sum).
    pub lead_department: String,
    /// Member items counted (those the guide lists before any answer, optional ones left out).
    pub members: u32,
    /// `BUNDLE_FIGURES`: fields, materials, trips and days saved, in percent.
    #[schema(value_type = Vec<Object>)]
    pub kpis: Vec<KpiValue>,
    /// Each member alone → the bundle.
    pub reductions: ReductionsView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleFiguresView {
    pub total: BundleFiguresRow,
    pub rows: Vec<BundleFiguresRow>,
}

/// What every published bundle saves against its members applied for one by one, computed from
/// the published catalog as its guide (`GET /api/v1/bundles/{code}`) computes it.
pub async fn bundle_figures(state: &AppState) -> Result<BundleFiguresView, ApiError> {
    let catalog = state.store.stats.bundle_catalog().await?;
    let mut rows = Vec::with_capacity(catalog.bundles.len());
    let mut all = Vec::with_capacity(catalog.bundles.len());
    let mut members_total: u32 = 0;
    for bundle in &catalog.bundles {
        let members = guide_members(bundle, &catalog.items);
        let reductions = bundle.reductions(&members, &tongban_domain::catalog::Answers::new());
        let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
        members_total = members_total.saturating_add(count);
        all.push(reductions);
        rows.push(BundleFiguresRow {
            code: bundle.code.to_string(),
            name: bundle.name.clone(),
            lead_department: bundle.lead_department.to_string(),
            members: count,
            kpis: bundle_kpis(&reductions),
            reductions: reductions.into(),
        });
    }
    let total = sum_of(&all);
    Ok(BundleFiguresView {
        total: BundleFiguresRow {
            code: "total".into(),
            name: "合计".into(),
            lead_department: String::new(),
            members: members_total,
            kpis: bundle_kpis(&total),
            reductions: total.into(),
        },
        rows,
    })
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

/// Every figure's definition: those computed from the rollups and the queue
/// (`GET /api/v1/stats/kpis`), the catalog and hall figures (`GET /api/v1/stats/catalog`), the
/// bundle reductions (`GET /api/v1/stats/bundles`), and agent coverage, computed from the agent
/// register (`GET /api/v1/stats/agent-coverage`).
pub fn definitions() -> Vec<DefinitionView> {
    CATALOGUE
        .iter()
        .chain(QUEUE_CATALOGUE)
        .chain(CATALOG_FIGURES)
        .chain(BUNDLE_FIGURES)
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
