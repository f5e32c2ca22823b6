//! Catalog API: items (guides) and bundles.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use tongban_domain::catalog::codes::{ExerciseLevel, ItemType, ServiceObject};
use tongban_domain::ids::ImplementationCode;
use tongban_domain::keys::{BundleCode, DepartmentKey, ThemeKey};
use tongban_store::model::{ItemFilter, PageRequest};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::services::catalog::{self as service, BundleList, BundleView, ItemList, ItemView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items))
        .routes(routes!(get_item))
        .routes(routes!(list_bundles))
        .routes(routes!(get_bundle))
}

/// Filters of `GET /api/v1/items`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// Department key, e.g. `city-police`.
    pub department: Option<String>,
    /// 事项类型 code: 01–10 or 20.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub item_type: Option<String>,
    /// Theme key, e.g. `birth`.
    pub theme: Option<String>,
    /// 服务对象 code: 1 自然人 … 6 其他组织.
    pub service_object: Option<String>,
    /// 行使层级 code: 1–7.
    pub level: Option<String>,
    /// `true` for items that can be handled online (网办深度 ≥ 4).
    pub online: Option<String>,
    /// A fragment of the item name.
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
    /// Page size, 1–200 (default 20).
    pub per_page: Option<String>,
}

fn parse_u32(
    name: &str,
    value: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    let expected = format!("a whole number from {} to {}", range.start(), range.end());
    match value.parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_parameter(name, value, &expected)),
    }
}

impl ItemsQuery {
    /// Turns the raw parameters into a filter, refusing any value it cannot understand.
    pub fn into_filter(self) -> Result<ItemFilter, ApiError> {
        let mut filter = ItemFilter::default();
        if let Some(value) = self.department.as_deref() {
            filter.department = Some(DepartmentKey::parse(value).map_err(|_| {
                ApiError::invalid_parameter(
                    "department",
                    value,
                    "a department key such as city-police",
                )
            })?);
        }
        if let Some(value) = self.item_type.as_deref() {
            filter.item_type = Some(ItemType::from_code(value).ok_or_else(|| {
                ApiError::invalid_parameter("type", value, "an item type code 01–10 or 20")
            })?);
        }
        if let Some(value) = self.theme.as_deref() {
            filter.theme = Some(ThemeKey::parse(value).map_err(|_| {
                ApiError::invalid_parameter("theme", value, "a theme key such as birth")
            })?);
        }
        if let Some(value) = self.service_object.as_deref() {
            filter.service_object = Some(ServiceObject::from_code(value).ok_or_else(|| {
                ApiError::invalid_parameter("service_object", value, "a service object code 1–6")
            })?);
        }
        if let Some(value) = self.level.as_deref() {
            filter.level =
                Some(ExerciseLevel::from_code(value).ok_or_else(|| {
                    ApiError::invalid_parameter("level", value, "a level code 1–7")
                })?);
        }
        if let Some(value) = self.online.as_deref() {
            filter.online = Some(match value {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ApiError::invalid_parameter(
                        "online",
                        value,
                        "true or false",
                    ));
                }
            });
        }
        if let Some(value) = self.q.as_deref() {
            let trimmed = value.trim();
            if trimmed.chars().count() > 50 {
                return Err(ApiError::invalid_parameter(
                    "q",
                    value,
                    "at most 50 characters",
                ));
            }
            if !trimmed.is_empty() {
                filter.name_contains = Some(trimmed.to_owned());
            }
        }
        let mut page = PageRequest::default();
        if let Some(value) = self.page.as_deref() {
            page.page = parse_u32("page", value, 1..=1_000_000)?;
        }
        if let Some(value) = self.per_page.as_deref() {
            page.per_page = parse_u32("per_page", value, 1..=PageRequest::MAX_PER_PAGE)?;
        }
        filter.page = page;
        Ok(filter)
    }
}

/// Maps axum's query rejection (e.g. an unknown parameter) to our error format.
pub fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, rejection.body_text())
}

/// Published service items, filtered and paginated.
#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(ItemsQuery),
    responses(
        (status = 200, description = "A page of published items ordered by code", body = ItemList),
        (status = 400, description = "A malformed or unknown query parameter", body = ErrorBody),
    ))]
pub async fn list_items(
    State(state): State<AppState>,
    query: Result<Query<ItemsQuery>, QueryRejection>,
) -> Result<Json<ItemList>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let page = state
        .store
        .catalog
        .list_items(&query.into_filter()?)
        .await?;
    let lookup = state.lookup.get();
    Ok(Json(ItemList {
        items: page
            .items
            .iter()
            .map(|item| service::list_entry(&lookup, item))
            .collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Situational answers as `(question, option)` pairs.
type AnswerPairs<'a> = Vec<(&'a str, &'a str)>;

/// Splits `version` from situational answers (`question=option`).
fn version_and_answers(
    params: &BTreeMap<String, String>,
) -> Result<(Option<u32>, AnswerPairs<'_>), ApiError> {
    let mut version = None;
    let mut answers = Vec::new();
    for (name, value) in params {
        if name == "version" {
            version = Some(parse_u32("version", value, 1..=1_000_000)?);
        } else {
            answers.push((name.as_str(), value.as_str()));
        }
    }
    Ok((version, answers))
}

pub fn parse_item_code(code: &str) -> Result<ImplementationCode, ApiError> {
    ImplementationCode::parse(code).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidItemCode,
            format!("{code:?} is not an item code: {error}"),
        )
    })
}

/// The whole guide of one item. Extra query parameters are situational answers
/// (`question=option`), which narrow the form and the material list; `version` picks a version.
#[utoipa::path(get, path = "/api/v1/items/{code}", tag = "catalog",
    params(
        ("code" = String, Path, description = "实施编码 (implementation code)"),
        ("version" = Option<u32>, Query, description = "A specific version instead of the published one"),
    ),
    responses(
        (status = 200, description = "The item's whole guide", body = ItemView),
        (status = 400, description = "Malformed code, version or answer", body = ErrorBody),
        (status = 404, description = "No such item or version", body = ErrorBody),
    ))]
pub async fn get_item(
    State(state): State<AppState>,
    Path(code): Path<String>,
    params: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<ItemView>, ApiError> {
    let code = parse_item_code(&code)?;
    let Query(params) = params.map_err(query_error)?;
    let (version, answers) = version_and_answers(&params)?;
    Ok(Json(
        service::item_view(&state, &code, version, answers).await?,
    ))
}

/// Published "one thing" bundles (一件事 and 一类事).
#[utoipa::path(get, path = "/api/v1/bundles", tag = "catalog",
    responses((status = 200, description = "Every published bundle", body = BundleList)))]
pub async fn list_bundles(State(state): State<AppState>) -> Result<Json<BundleList>, ApiError> {
    let bundles = state.store.catalog.list_bundles().await?;
    let lookup = state.lookup.get();
    Ok(Json(BundleList {
        bundles: bundles
            .iter()
            .map(|b| service::bundle_ref(&lookup, b))
            .collect(),
    }))
}

pub fn parse_bundle_code(code: &str) -> Result<BundleCode, ApiError> {
    BundleCode::parse(code).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidKey,
            format!("{code:?} is not a bundle code: {error}"),
        )
    })
}

/// One bundle: members, merged form, merged materials and reductions. Query parameters are
/// situational answers (`question=option`) that select members.
#[utoipa::path(get, path = "/api/v1/bundles/{code}", tag = "catalog",
    params(("code" = String, Path, description = "Bundle code, e.g. newborn")),
    responses(
        (status = 200, description = "The bundle", body = BundleView),
        (status = 400, description = "Malformed code or answer", body = ErrorBody),
        (status = 404, description = "No such bundle", body = ErrorBody),
    ))]
pub async fn get_bundle(
    State(state): State<AppState>,
    Path(code): Path<String>,
    params: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<BundleView>, ApiError> {
    let code = parse_bundle_code(&code)?;
    let Query(params) = params.map_err(query_error)?;
    let answers = params.iter().map(|(q, o)| (q.as_str(), o.as_str()));
    Ok(Json(service::bundle_view(&state, &code, answers).await?))
}
