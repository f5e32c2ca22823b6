//! Catalog pages: home, guide list, guide detail with situational questions, bundles.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use tongban_domain::catalog::Audience;
use tongban_domain::catalog::Theme;
use tongban_domain::org::Department;

use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::api::catalog::{ItemsQuery, parse_bundle_code, parse_item_code};
use crate::error::ApiError;
use crate::services::catalog::{self as service, BundleRef, BundleView, ItemListEntry, ItemView};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    personal: Vec<Theme>,
    enterprise: Vec<Theme>,
    bundles: Vec<BundleRef>,
}

pub async fn home(State(state): State<AppState>, lang: Lang) -> Response {
    let bundles = match state.store.catalog.list_bundles().await {
        Ok(bundles) => bundles,
        Err(error) => return page_error(lang, error.into()),
    };
    let lookup = state.lookup.get();
    let themes = |audience| {
        lookup
            .vocabulary
            .themes
            .iter()
            .filter(|t| t.audience == audience)
            .cloned()
            .collect::<Vec<_>>()
    };
    render(&HomePage {
        t: lang.labels(),
        lang,
        path: "/".into(),
        personal: themes(Audience::Personal),
        enterprise: themes(Audience::Enterprise),
        bundles: bundles
            .iter()
            .map(|b| service::bundle_ref(&lookup, b))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    items: Vec<ItemListEntry>,
    total: u64,
    page: u32,
    pages: u32,
    themes: Vec<Theme>,
    departments: Vec<Department>,
    theme: String,
    department: String,
    q: String,
    title: String,
    query_without_page: String,
}

pub async fn items(
    State(state): State<AppState>,
    lang: Lang,
    Query(raw): Query<BTreeMap<String, String>>,
) -> Response {
    let get = |name: &str| raw.get(name).cloned().filter(|v| !v.is_empty());
    let query = ItemsQuery {
        department: get("department"),
        theme: get("theme"),
        q: get("q"),
        page: get("page"),
        per_page: Some("30".into()),
        ..ItemsQuery::default()
    };
    let filter = match query.into_filter() {
        Ok(filter) => filter,
        Err(error) => return page_error(lang, error),
    };
    let page = match state.store.catalog.list_items(&filter).await {
        Ok(page) => page,
        Err(error) => return page_error(lang, error.into()),
    };
    let lookup = state.lookup.get();
    let theme = get("theme").unwrap_or_default();
    let department = get("department").unwrap_or_default();
    let q = get("q").unwrap_or_default();
    let title = match (
        filter.theme.as_ref().and_then(|k| lookup.theme(k)),
        filter.department.as_ref(),
    ) {
        (Some(theme), _) => lang.pick(&theme.name, &theme.name_en).to_owned(),
        (None, Some(department)) => lookup.department_name(department).to_owned(),
        (None, None) => lang.labels().all_items.to_owned(),
    };
    let mut kept: Vec<String> = Vec::new();
    for (name, value) in [("theme", &theme), ("department", &department), ("q", &q)] {
        if !value.is_empty() {
            kept.push(format!("{name}={}", urlencode(value)));
        }
    }
    let pages = u32::try_from(page.total.div_ceil(u64::from(page.per_page.max(1))))
        .unwrap_or(1)
        .max(1);
    render(&ItemsPage {
        t: lang.labels(),
        lang,
        path: "/items".into(),
        items: page
            .items
            .iter()
            .map(|i| service::list_entry(&lookup, i))
            .collect(),
        total: page.total,
        page: page.page,
        pages,
        themes: lookup.vocabulary.themes.clone(),
        departments: lookup.organisation.departments.clone(),
        theme,
        department,
        q,
        title,
        query_without_page: kept.join("&"),
    })
}

fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    item: ItemView,
}

pub async fn item(
    State(state): State<AppState>,
    lang: Lang,
    Path(code): Path<String>,
    Query(raw): Query<BTreeMap<String, String>>,
) -> Response {
    let result: Result<ItemView, ApiError> = async {
        let code = parse_item_code(&code)?;
        // Empty values are unanswered radio groups of the form.
        let answers = raw
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(q, o)| (q.as_str(), o.as_str()));
        service::item_view(&state, &code, None, answers).await
    }
    .await;
    match result {
        Ok(item) => render(&ItemPage {
            t: lang.labels(),
            lang,
            path: format!("/items/{}", item.code),
            item,
        }),
        Err(error) => page_error(lang, error),
    }
}

#[derive(Template)]
#[template(path = "bundles.html")]
struct BundlesPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    bundles: Vec<BundleRef>,
}

pub async fn bundles(State(state): State<AppState>, lang: Lang) -> Response {
    match state.store.catalog.list_bundles().await {
        Ok(bundles) => {
            let lookup = state.lookup.get();
            render(&BundlesPage {
                t: lang.labels(),
                lang,
                path: "/bundles".into(),
                bundles: bundles
                    .iter()
                    .map(|b| service::bundle_ref(&lookup, b))
                    .collect(),
            })
        }
        Err(error) => page_error(lang, error.into()),
    }
}

#[derive(Template)]
#[template(path = "bundle.html")]
struct BundlePage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    bundle: BundleView,
    names: BTreeMap<String, String>,
}

pub async fn bundle(
    State(state): State<AppState>,
    lang: Lang,
    Path(code): Path<String>,
    Query(raw): Query<BTreeMap<String, String>>,
) -> Response {
    let result: Result<BundleView, ApiError> = async {
        let code = parse_bundle_code(&code)?;
        let answers = raw
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(q, o)| (q.as_str(), o.as_str()));
        service::bundle_view(&state, &code, answers).await
    }
    .await;
    match result {
        Ok(bundle) => {
            let names = bundle
                .members
                .iter()
                .map(|m| (m.code.clone(), m.name.clone()))
                .collect();
            render(&BundlePage {
                t: lang.labels(),
                lang,
                path: format!("/bundles/{}", bundle.code),
                bundle,
                names,
            })
        }
        Err(error) => page_error(lang, error),
    }
}
