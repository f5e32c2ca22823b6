//! Webhook administration (SPEC §2 "Webhooks"), administrators only: subscriptions of
//! department systems under `/api/v1/admin/webhooks`, and deliveries under
//! `/api/v1/admin/webhook-deliveries` (dead ones listed and resent). The dispatcher and the
//! rules live in [`crate::webhooks`].

use std::fmt;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tongban_domain::org::Role;
use tongban_store::model::{Delivery, DeliveryFilter, DeliveryStatus, Subscription};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::auth::json_body;
use crate::api::catalog::query_error;
use crate::auth::{self, CurrentActor};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::webhooks::{self, SubscriptionRequest};

#[derive(OpenApi)]
#[openapi(tags(
    (name = "webhooks", description = "Webhook subscriptions of department systems and their deliveries (administrators)")
))]
struct WebhooksDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(WebhooksDoc::openapi())
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(deactivate_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(resend_delivery))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookRequest {
    /// The department whose outbox messages are sent, e.g. `city-police`.
    pub department: String,
    /// Where deliveries are posted: `https://…` (or `http://…` inside a trusted network).
    pub url: String,
    /// Topic prefixes, e.g. `["case."]` for every case event, `["case.accepted"]` for one.
    pub topics: Vec<String>,
    /// The signing secret (16–200 printable ASCII characters); 32 random bytes (hex) when left
    /// out.
    pub secret: Option<String>,
}

impl fmt::Debug for NewWebhookRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewWebhookRequest")
            .field("department", &self.department)
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

/// A subscription without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: uuid::Uuid,
    pub department: String,
    pub url: String,
    pub topics: Vec<String>,
    pub active: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
}

pub fn webhook_view(subscription: &Subscription) -> WebhookView {
    WebhookView {
        id: subscription.id,
        department: subscription.department.to_string(),
        url: subscription.url.clone(),
        topics: subscription.topics.clone(),
        active: subscription.active,
        created_at: subscription.created_at.to_string(),
    }
}

/// A new subscription with its secret (shown this once).
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// Verifies `X-Tongban-Signature`; it is not shown again.
    pub secret: String,
    #[serde(flatten)]
    pub webhook: WebhookView,
}

impl fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// A delivery of one outbox message to one subscription (without the payload: it may hold
/// personal data).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: uuid::Uuid,
    pub subscription_id: uuid::Uuid,
    /// The outbox message (the body's `id`).
    pub message_id: uuid::Uuid,
    pub topic: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: u32,
    /// RFC 3339 UTC: when a pending delivery is tried next.
    pub next_attempt_at: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The receiver's HTTP status at the last attempt.
    pub last_status: Option<u16>,
    pub delivered_at: Option<String>,
    pub created_at: String,
}

pub fn delivery_view(delivery: &Delivery) -> DeliveryView {
    DeliveryView {
        id: delivery.id,
        subscription_id: delivery.subscription_id,
        message_id: delivery.message_id,
        topic: delivery.topic.clone(),
        status: delivery.status.code().to_owned(),
        attempts: delivery.attempts,
        next_attempt_at: delivery.next_attempt_at.to_string(),
        last_error: delivery.last_error.clone(),
        last_status: delivery.last_status,
        delivered_at: delivery.delivered_at.map(|at| at.to_string()),
        created_at: delivery.created_at.to_string(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

/// Filters of `GET /api/v1/admin/webhook-deliveries`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `dead`; every status when left out.
    pub status: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<String>,
}

impl DeliveriesQuery {
    pub fn into_filter(self) -> Result<DeliveryFilter, ApiError> {
        let status = match self.status.as_deref() {
            None => None,
            Some(text) => Some(DeliveryStatus::parse(text).ok_or_else(|| {
                ApiError::invalid_parameter("status", text, "pending, delivered or dead")
            })?),
        };
        let limit = match self.limit.as_deref() {
            None => 100,
            Some(text) => match text.parse::<u32>() {
                Ok(limit) if (1..=500).contains(&limit) => limit,
                _ => {
                    return Err(ApiError::invalid_parameter(
                        "limit",
                        text,
                        "a whole number from 1 to 500",
                    ));
                }
            },
        };
        Ok(DeliveryFilter { status, limit })
    }
}

fn parse_id(name: &str, text: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text).map_err(|_| ApiError::invalid_parameter(name, text, what))
}

/// Subscribes a department system to outbox topics (administrators only). The answer carries
/// the signing secret, once.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    request_body = NewWebhookRequest,
    responses(
        (status = 201, description = "The subscription with its secret, shown once", body = CreatedWebhook),
        (status = 400, description = "`invalid_body`, or `invalid_key` for an unknown department", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
    ))]
pub async fn create_webhook(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let request: NewWebhookRequest = json_body(&body)?;
    let subscription = webhooks::parse_subscription(
        SubscriptionRequest {
            department: request.department,
            url: request.url,
            topics: request.topics,
            secret: request.secret,
        },
        &state.lookup.get(),
        state.clock.now(),
    )?;
    let created = state
        .store
        .webhooks
        .create_subscription(&subscription)
        .await?;
    tracing::info!(
        webhook.id = %created.id,
        webhook.department = %created.department,
        "webhook subscription created"
    );
    let body = CreatedWebhook {
        secret: created.secret.expose().to_owned(),
        webhook: webhook_view(&created),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Every subscription, inactive ones included, oldest first, without secrets.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Oldest first", body = WebhookList),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
    ))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<WebhookList>, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let subscriptions = state.store.webhooks.list_subscriptions().await?;
    Ok(Json(WebhookList {
        webhooks: subscriptions.iter().map(webhook_view).collect(),
    }))
}

/// Stops a subscription; its pending deliveries become dead.
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 400, description = "`invalid_query`: not a UUID", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no active subscription with this id", body = ErrorBody),
    ))]
pub async fn deactivate_webhook(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let id = parse_id("id", &id, "a webhook subscription id (UUID)")?;
    if !state.store.webhooks.deactivate_subscription(id).await? {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "there is no active webhook subscription with this id",
        ));
    }
    tracing::info!(webhook.id = %id, "webhook subscription deactivated");
    Ok(StatusCode::NO_CONTENT)
}

/// Deliveries, newest first; `?status=dead` lists those that finally failed.
#[utoipa::path(get, path = "/api/v1/admin/webhook-deliveries", tag = "webhooks",
    security(("bearer" = [])),
    params(DeliveriesQuery),
    responses(
        (status = 200, description = "Newest first", body = DeliveryList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
    ))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    query: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Json<DeliveryList>, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let Query(query) = query.map_err(query_error)?;
    let deliveries = state
        .store
        .webhooks
        .list_deliveries(&query.into_filter()?)
        .await?;
    Ok(Json(DeliveryList {
        deliveries: deliveries.iter().map(delivery_view).collect(),
    }))
}

/// Sends a dead delivery again: it becomes pending, due now, with its attempts reset.
#[utoipa::path(post, path = "/api/v1/admin/webhook-deliveries/{id}/resend", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The delivery, pending again", body = DeliveryView),
        (status = 400, description = "`invalid_query`: not a UUID", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict`: the delivery is not dead, or its subscription is inactive", body = ErrorBody),
    ))]
pub async fn resend_delivery(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let id = parse_id("id", &id, "a webhook delivery id (UUID)")?;
    let delivery = state.store.webhooks.resend(id, state.clock.now()).await?;
    tracing::info!(delivery.id = %id, topic = %delivery.topic, "webhook delivery resent");
    Ok(Json(delivery_view(&delivery)))
}
