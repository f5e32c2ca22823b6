//! The supervision dashboard (`/dashboard`, supervisors and administrators): headline figures,
//! charts drawn by Chart.js (vendored under `static/vendor/`, MIT licence beside it) from the
//! figures embedded in the page, and the overdue alarm list.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;

use super::feedback::{Viewer, viewer};
use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::auth::PageSession;
use crate::services::stats::{self, Alarm, FiguresQuery, FiguresRow};

pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    viewer: Option<Viewer>,
    from: String,
    to: String,
    /// code, label, value text
    tiles: Vec<(String, String, String)>,
    alarms: Vec<Alarm>,
    /// The chart data as JSON, safe inside a script element.
    data: String,
}

#[derive(Serialize)]
struct ChartLabels {
    submitted: &'static str,
    decided: &'static str,
    on_time_rate: &'static str,
    tickets: &'static str,
    levels: [&'static str; 5],
    loop_: [&'static str; 6],
}

#[derive(Serialize)]
struct ChartData<'a> {
    labels: serde_json::Value,
    trend: &'a [FiguresRow],
    departments: &'a [FiguresRow],
    total: &'a FiguresRow,
}

/// JSON that cannot end the script element it sits in.
fn script_json(value: &impl Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".into())
        .replace("</", "<\\/")
        .replace("<!--", "<\\!--")
}

fn tile_text(row: &FiguresRow, code: &str) -> String {
    let Some(kpi) = row.kpis.iter().find(|k| k.code == code) else {
        return "—".into();
    };
    match (kpi.value, kpi.unit) {
        (None, _) => "—".into(),
        (Some(v), tongban_domain::stats::Unit::Percent) => format!("{v:.2}%"),
        (Some(v), tongban_domain::stats::Unit::WorkingDays) => format!("{v:.2}"),
        (Some(v), tongban_domain::stats::Unit::Count) => format!("{v:.0}"),
        (Some(v), tongban_domain::stats::Unit::Minutes) => format!("{v:.2}分钟"),
        (Some(v), tongban_domain::stats::Unit::PerWindowDay) => format!("{v:.2}"),
    }
}

async fn dashboard(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<FiguresQuery>,
) -> Response {
    if let Err(error) = stats::require_supervisor(&session.actor) {
        return page_error(lang, error);
    }
    let query = FiguresQuery {
        dimension: Some("department".into()),
        department: None,
        ..query
    };
    let figures = match stats::figures(&state, &query).await {
        Ok(figures) => figures,
        Err(error) => return page_error(lang, error),
    };
    let trend_query = FiguresQuery {
        from: Some(figures.from.clone()),
        to: Some(figures.to.clone()),
        ..FiguresQuery::default()
    };
    let trend = match stats::trend(&state, &trend_query).await {
        Ok(trend) => trend,
        Err(error) => return page_error(lang, error),
    };
    let alarms = match stats::alarms(&state).await {
        Ok(alarms) => alarms,
        Err(error) => return page_error(lang, error),
    };
    let mut departments: Vec<FiguresRow> = figures
        .rows
        .iter()
        .filter(|r| r.counters.decided > 0 || r.counters.submitted > 0)
        .cloned()
        .collect();
    departments.sort_by_key(|row| std::cmp::Reverse(row.counters.decided));
    departments.truncate(15);
    let labels = ChartLabels {
        submitted: lang.pick("申请量", "Submitted"),
        decided: lang.pick("办结量", "Decided"),
        on_time_rate: lang.pick("按时办结率%", "On time %"),
        tickets: lang.pick("工单", "Tickets"),
        levels: [
            lang.pick("非常满意", "Very satisfied"),
            lang.pick("满意", "Satisfied"),
            lang.pick("基本满意", "Fair"),
            lang.pick("不满意", "Dissatisfied"),
            lang.pick("非常不满意", "Very dissatisfied"),
        ],
        loop_: [
            lang.pick("受理", "Registered"),
            lang.pick("答复", "Replied"),
            lang.pick("按时答复", "On time"),
            lang.pick("回访", "Called back"),
            lang.pick("满意", "Satisfied"),
            lang.pick("办结", "Closed"),
        ],
    };
    let mut labels_json = serde_json::to_value(&labels).unwrap_or_default();
    if let Some(object) = labels_json.as_object_mut()
        && let Some(value) = object.remove("loop_")
    {
        object.insert("loop".into(), value);
    }
    let data = script_json(&ChartData {
        labels: labels_json,
        trend: &trend,
        departments: &departments,
        total: &figures.total,
    });
    let tiles = [
        ("on_time_rate", "按时办结率", "On time"),
        ("online_share", "网上办件率", "Online"),
        (
            "at_most_one_visit_rate",
            "最多跑一次率",
            "At most one visit",
        ),
        ("avg_working_days", "平均办理工作日", "Average working days"),
        ("p90_working_days", "90%办件工作日", "p90 working days"),
        ("good_rate", "好评率", "Good ratings"),
        ("rectification_rate", "差评整改率", "Rectified"),
        ("callback_rate", "差评回访率", "Called back"),
        ("hotline_closed_rate", "热线办结率", "Hotline closed"),
        (
            "hotline_satisfaction_rate",
            "热线满意率",
            "Hotline satisfied",
        ),
    ]
    .into_iter()
    .map(|(code, zh, en)| {
        (
            code.to_owned(),
            lang.pick(zh, en).to_owned(),
            tile_text(&figures.total, code),
        )
    })
    .collect();
    let page = DashboardPage {
        t: lang.labels(),
        lang,
        path: "/dashboard".into(),
        viewer: Some(viewer(lang, &session)),
        from: figures.from.clone(),
        to: figures.to.clone(),
        tiles,
        alarms,
        data,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_json_cannot_close_its_script_element() {
        let text = super::script_json(&serde_json::json!({ "name": "</script><script>alert(1)" }));
        assert!(!text.contains("</script"));
    }
}
