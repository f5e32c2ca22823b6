//! Administration pages, administrators only: `/admin/webhooks` lists the webhook subscriptions
//! and the dead deliveries, each with a resend button (a POST form carrying the session's CSRF
//! token). Without a session the pages redirect to `/login`.

use std::collections::BTreeMap;
use std::fmt;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde::Deserialize;
use tongban_domain::org::Role;
use tongban_store::model::{DeliveryFilter, DeliveryStatus};

use super::i18n::{Labels, Lang};
use super::{page_error, render};
use crate::AppState;
use crate::auth::{self, PageSession};
use crate::error::{ApiError, ErrorCode};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(webhooks_page))
        .route(
            "/admin/webhook-deliveries/{id}/resend",
            post(resend_delivery),
        )
}

/// An instant as Beijing time, the way staff read it.
fn local_time(at: Timestamp) -> String {
    let beijing = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    at.to_zoned(beijing)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

struct SubscriptionRow {
    id: String,
    department: String,
    url: String,
    topics: String,
    active: bool,
    created_at: String,
}

struct DeadRow {
    id: String,
    topic: String,
    /// The department and URL of its subscription.
    subscription: String,
    attempts: u32,
    last_error: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    t: &'static Labels,
    lang: Lang,
    path: String,
    csrf: String,
    resent: bool,
    subscriptions: Vec<SubscriptionRow>,
    dead: Vec<DeadRow>,
}

async fn webhooks_page(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    if let Err(error) = auth::require_role(&session.actor, Role::Administrator) {
        return page_error(lang, error);
    }
    let subscriptions = match state.store.webhooks.list_subscriptions().await {
        Ok(subscriptions) => subscriptions,
        Err(error) => return page_error(lang, error.into()),
    };
    let filter = DeliveryFilter {
        status: Some(DeliveryStatus::Dead),
        limit: 200,
    };
    let dead = match state.store.webhooks.list_deliveries(&filter).await {
        Ok(dead) => dead,
        Err(error) => return page_error(lang, error.into()),
    };
    let lookup = state.lookup.get();
    let mut names = BTreeMap::new();
    for subscription in &subscriptions {
        let department = lookup.department_name(&subscription.department).to_owned();
        names.insert(
            subscription.id,
            format!("{department} · {}", subscription.url),
        );
    }
    let page = WebhooksPage {
        t: lang.labels(),
        lang,
        path: "/admin/webhooks".into(),
        csrf: session.csrf.clone(),
        resent: query.contains_key("resent"),
        subscriptions: subscriptions
            .iter()
            .map(|subscription| SubscriptionRow {
                id: subscription.id.to_string(),
                department: lookup.department_name(&subscription.department).to_owned(),
                url: subscription.url.clone(),
                topics: subscription.topics.join(", "),
                active: subscription.active,
                created_at: local_time(subscription.created_at),
            })
            .collect(),
        dead: dead
            .iter()
            .map(|delivery| DeadRow {
                id: delivery.id.to_string(),
                topic: delivery.topic.clone(),
                subscription: names
                    .get(&delivery.subscription_id)
                    .cloned()
                    .unwrap_or_default(),
                attempts: delivery.attempts,
                last_error: delivery.last_error.clone().unwrap_or_default(),
                created_at: local_time(delivery.created_at),
            })
            .collect(),
    };
    render(&page)
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

impl fmt::Debug for CsrfForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfForm").finish_non_exhaustive()
    }
}

async fn resend_delivery(
    State(state): State<AppState>,
    lang: Lang,
    session: PageSession,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return page_error(
            lang,
            ApiError::new(ErrorCode::InvalidBody, "the form could not be read"),
        );
    };
    if let Err(error) = auth::verify_csrf(&form.csrf, &session) {
        return page_error(lang, error);
    }
    if let Err(error) = auth::require_role(&session.actor, Role::Administrator) {
        return page_error(lang, error);
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return page_error(
            lang,
            ApiError::new(ErrorCode::NotFound, "there is no such delivery"),
        );
    };
    match state.store.webhooks.resend(id, state.clock.now()).await {
        Ok(delivery) => {
            tracing::info!(delivery.id = %id, topic = %delivery.topic, "webhook delivery resent");
            Redirect::to("/admin/webhooks?resent=1").into_response()
        }
        Err(error) => page_error(lang, error.into()),
    }
}
