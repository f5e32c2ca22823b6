//! Webhook delivery (SPEC §2 "Webhooks"): department systems subscribe to outbox topics, and a
//! background dispatcher started by `tongban serve` posts every message to them, signed,
//! retried with backoff, dead (and visible, and resendable) after [`MAX_ATTEMPTS`].
//!
//! One round of the dispatcher ([`deliver_due_once`]):
//! 1. **fan-out**: the store turns outbox messages older than [`SETTLE_SECONDS`] into one
//!    pending delivery per matching subscription and advances its cursor, in one transaction
//!    (so a crash neither loses nor duplicates a delivery);
//! 2. **send**: it claims the due deliveries (a lease, so that a second server or a crash mid-send
//!    does not lose them) and posts them, at most [`CONCURRENCY`] at a time, each within
//!    [`TIMEOUT`]; a 2xx answer marks the delivery delivered, anything else schedules the next
//!    attempt after [`backoff`] (30 s, 1 min, 2 min, … at most 1 h) or marks it dead.
//!
//! Delivery is at least once: a receiver deduplicates by `X-Tongban-Delivery`. The request:
//!
//! ```text
//! POST <url>
//! Content-Type: application/json
//! X-Tongban-Event: case.accepted
//! X-Tongban-Delivery: <delivery id>
//! X-Tongban-Timestamp: <unix seconds>
//! X-Tongban-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//!
//! {"id": "<message id>", "topic": "case.accepted", "created_at": "2026-03-02T01:00:00Z", "data": {…}}
//! ```
//!
//! A receiver verifies the signature over the exact bytes it received and refuses old
//! timestamps. Logs name the delivery id, topic and status only: never a payload, a secret or a
//! URL (which may carry a token).
//!
//! ```
//! let signature = tongban_web::webhooks::signature("secret", 1_772_413_200, br#"{"id":1}"#);
//! assert!(signature.starts_with("sha256="));
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::Sha256;
use tongban_domain::clock::Clock;
use tongban_domain::keys::DepartmentKey;
use tongban_store::model::{
    DeliveryFailure, DueDelivery, NewSubscription, NextAttempt, WebhookSecret,
};
use tongban_store::{Store, StoreError};

use crate::error::{ApiError, ErrorCode};
use crate::lookup::Lookup;

/// Attempts before a delivery is dead.
pub const MAX_ATTEMPTS: u32 = 8;
/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Outbox messages younger than this are left for the next round. A transaction takes its
/// timestamp before it commits, so a message can appear in the outbox after a later-stamped one
/// was already read; waiting until the stamps have settled keeps the cursor from skipping it.
pub const SETTLE_SECONDS: i64 = 5;
/// Requests in flight at once.
pub const CONCURRENCY: usize = 8;
/// Deliveries claimed per round.
const CLAIM_BATCH: u32 = 64;
/// Outbox messages read per fan-out transaction, and fan-outs per round.
const FAN_OUT_BATCH: u32 = 500;
const FAN_OUT_ROUNDS: u32 = 20;
/// A claimed delivery is due again after this if its outcome was never recorded (a crash, or a
/// second server); longer than a whole claimed batch takes at [`TIMEOUT`] per request.
const LEASE_SECONDS: i64 = 300;
/// The wait between rounds when there was nothing to do.
const IDLE_POLL: Duration = Duration::from_secs(1);
const FIRST_BACKOFF_SECONDS: i64 = 30;
const MAX_BACKOFF_SECONDS: i64 = 3600;
/// Longest stored error text.
const MAX_ERROR_CHARS: usize = 300;

/// What can stop a dispatcher round.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The wait after the `attempts`-th failed attempt: 30 s doubled per attempt, at most 1 h.
pub fn backoff(attempts: u32) -> SignedDuration {
    let doublings = attempts.saturating_sub(1).min(16);
    let seconds = FIRST_BACKOFF_SECONDS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_SECONDS);
    SignedDuration::from_secs(seconds)
}

/// What follows a failed attempt that made the delivery's `attempts` this many.
pub fn next_attempt(attempts: u32, now: Timestamp) -> NextAttempt {
    if attempts >= MAX_ATTEMPTS {
        return NextAttempt::Dead;
    }
    match now.checked_add(backoff(attempts)) {
        Ok(at) => NextAttempt::At(at),
        Err(_) => NextAttempt::Dead,
    }
}

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, the `X-Tongban-Signature` value.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail; an empty MAC would never verify.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The HTTP client of the dispatcher: [`TIMEOUT`] per request, redirects not followed (a
/// redirect is not a 2xx, so it is a failed attempt).
pub fn client() -> Result<reqwest::Client, WebhookError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("tongban-webhooks/1")
        .build()
        .map_err(|error| WebhookError::Client(error.to_string()))
}

/// The body of a delivery.
#[derive(Debug, Serialize)]
struct Envelope<'a> {
    /// The outbox message's id (the same for every subscription).
    id: uuid::Uuid,
    topic: &'a str,
    /// RFC 3339 UTC.
    created_at: String,
    data: &'a serde_json::Value,
}

/// One round: fan-out, then one attempt for every due delivery. Returns how many deliveries
/// were attempted; 0 means there was nothing due.
pub async fn deliver_due_once(
    store: &Store,
    clock: &Arc<dyn Clock>,
    client: &reqwest::Client,
) -> Result<usize, WebhookError> {
    let now = clock.now();
    let settled_before = now
        .checked_sub(SignedDuration::from_secs(SETTLE_SECONDS))
        .unwrap_or(now);
    for _ in 0..FAN_OUT_ROUNDS {
        let report = store
            .webhooks
            .fan_out(settled_before, now, FAN_OUT_BATCH)
            .await?;
        if report.deliveries > 0 {
            tracing::debug!(
                messages = report.messages,
                deliveries = report.deliveries,
                "webhook fan-out"
            );
        }
        if report.messages < FAN_OUT_BATCH {
            break;
        }
    }
    let lease_until = now
        .checked_add(SignedDuration::from_secs(LEASE_SECONDS))
        .unwrap_or(now);
    let due = store
        .webhooks
        .claim_due_deliveries(now, lease_until, CLAIM_BATCH)
        .await?;
    let attempted = due.len();
    let outcomes: Vec<Result<(), StoreError>> = futures_util::stream::iter(due)
        .map(|delivery| attempt(store, clock.as_ref(), client, delivery))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for outcome in outcomes {
        outcome?;
    }
    Ok(attempted)
}

/// Posts one delivery and records the outcome.
async fn attempt(
    store: &Store,
    clock: &dyn Clock,
    client: &reqwest::Client,
    due: DueDelivery,
) -> Result<(), StoreError> {
    let delivery = &due.delivery;
    let envelope = Envelope {
        id: delivery.message_id,
        topic: &delivery.topic,
        created_at: due.message_created_at.to_string(),
        data: &delivery.payload,
    };
    let body = match serde_json::to_vec(&envelope) {
        Ok(body) => body,
        Err(error) => {
            // A JSON value always serialises; keep the delivery visible if it ever does not.
            let failure = DeliveryFailure {
                error: format!("cannot serialise the body: {error}"),
                status: None,
                next: NextAttempt::Dead,
            };
            store.webhooks.mark_failed(delivery.id, &failure).await?;
            return Ok(());
        }
    };
    let timestamp = clock.now().as_second();
    let signed = signature(due.secret.expose(), timestamp, &body);
    let sent = client
        .post(&due.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Tongban-Event", &delivery.topic)
        .header("X-Tongban-Delivery", delivery.id.to_string())
        .header("X-Tongban-Timestamp", timestamp.to_string())
        .header("X-Tongban-Signature", signed)
        .body(body)
        .send()
        .await;
    let now = clock.now();
    let attempts = delivery.attempts.saturating_add(1);
    let failure = match sent {
        Ok(response) if response.status().is_success() => {
            let status = response.status().as_u16();
            store
                .webhooks
                .mark_delivered(delivery.id, status, now)
                .await?;
            tracing::info!(
                delivery.id = %delivery.id,
                topic = %delivery.topic,
                status,
                attempts,
                "webhook delivered"
            );
            return Ok(());
        }
        Ok(response) => {
            let status = response.status().as_u16();
            DeliveryFailure {
                error: format!("the receiver answered {status}"),
                status: Some(status),
                next: next_attempt(attempts, now),
            }
        }
        Err(error) => DeliveryFailure {
            error: transport_error(&error),
            status: None,
            next: next_attempt(attempts, now),
        },
    };
    store.webhooks.mark_failed(delivery.id, &failure).await?;
    match failure.next {
        NextAttempt::At(at) => tracing::warn!(
            delivery.id = %delivery.id,
            topic = %delivery.topic,
            status = failure.status,
            attempts,
            next_attempt_at = %at,
            "webhook attempt failed"
        ),
        NextAttempt::Dead => tracing::error!(
            delivery.id = %delivery.id,
            topic = %delivery.topic,
            status = failure.status,
            attempts,
            "webhook delivery is dead"
        ),
    }
    Ok(())
}

/// A transport error as stored and shown to administrators: the kind and cause, without the
/// URL (it may carry a token).
fn transport_error(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// The dispatcher: rounds of [`deliver_due_once`] until `shutdown` completes, waiting
/// [`IDLE_POLL`] after a round with nothing due. A round cut short by the shutdown loses
/// nothing: unrecorded claims are retried when their lease lapses.
pub async fn run(store: Store, clock: Arc<dyn Clock>, shutdown: impl Future<Output = ()> + Send) {
    let client = match client() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = %error, "webhook dispatcher not started");
            return;
        }
    };
    tracing::info!("webhook dispatcher started");
    tokio::pin!(shutdown);
    loop {
        let round = tokio::select! {
            () = &mut shutdown => break,
            round = deliver_due_once(&store, &clock, &client) => round,
        };
        let idle = match round {
            Ok(attempted) => attempted == 0,
            Err(error) => {
                tracing::error!(error = %error, "webhook round failed");
                true
            }
        };
        if idle {
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
    tracing::info!("webhook dispatcher stopped");
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

/// What an administrator asks for (parsed from `POST /api/v1/admin/webhooks`).
#[derive(Debug, Clone)]
pub struct SubscriptionRequest {
    pub department: String,
    pub url: String,
    pub topics: Vec<String>,
    pub secret: Option<String>,
}

const MAX_TOPICS: usize = 20;
const MAX_TOPIC_CHARS: usize = 100;
const MAX_URL_CHARS: usize = 2000;
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 200;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, message)
}

/// 32 random bytes from the operating system, hex (64 characters).
pub fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| ApiError::internal(&error))?;
    Ok(hex::encode(bytes))
}

/// Checks a request and turns it into a subscription (with a generated secret when none was
/// given). Errors: `invalid_key` for an unknown department, `invalid_body` otherwise.
pub fn parse_subscription(
    request: SubscriptionRequest,
    lookup: &Lookup,
    at: Timestamp,
) -> Result<NewSubscription, ApiError> {
    let department = DepartmentKey::parse(&request.department)
        .ok()
        .filter(|key| lookup.department(key).is_some())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidKey,
                format!("{:?} is not a department", request.department),
            )
        })?;
    let url = request.url.trim().to_owned();
    let parsed = reqwest::Url::parse(&url)
        .map_err(|_| invalid("url must be an absolute http:// or https:// URL"))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none_or(str::is_empty)
        || url.chars().count() > MAX_URL_CHARS
    {
        return Err(invalid(format!(
            "url must be an absolute http:// or https:// URL of at most {MAX_URL_CHARS} characters"
        )));
    }
    if request.topics.is_empty() || request.topics.len() > MAX_TOPICS {
        return Err(invalid(format!(
            "topics must list 1 to {MAX_TOPICS} topic prefixes, e.g. [\"case.\"]"
        )));
    }
    let mut topics = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        let valid = !topic.is_empty()
            && topic.chars().count() <= MAX_TOPIC_CHARS
            && topic.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if !valid {
            return Err(invalid(format!(
                "topic prefix {topic:?} must be 1 to {MAX_TOPIC_CHARS} of a-z, 0-9, '.', '_', '-'"
            )));
        }
        if !topics.contains(&topic) {
            topics.push(topic);
        }
    }
    let secret = match request.secret {
        Some(secret) => {
            let length = secret.chars().count();
            let printable = secret.chars().all(|c| c.is_ascii_graphic());
            if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&length) || !printable {
                return Err(invalid(format!(
                    "secret must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} printable ASCII \
                     characters without spaces (or left out to have one generated)"
                )));
            }
            secret
        }
        None => new_secret()?,
    };
    Ok(NewSubscription {
        department,
        url,
        secret: WebhookSecret::new(secret),
        topics,
        created_at: at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_30_seconds_and_stops_at_an_hour() {
        let seconds: Vec<i64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(seconds, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(u32::MAX).as_secs(), 3600);
    }

    #[test]
    fn the_eighth_failed_attempt_is_the_last() {
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(
            next_attempt(7, now),
            NextAttempt::At(now + SignedDuration::from_secs(1920))
        );
        assert_eq!(next_attempt(MAX_ATTEMPTS, now), NextAttempt::Dead);
    }

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature("key", 1_700_000_000, br#"{"a":1}"#),
            "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
    }

    #[test]
    fn a_generated_secret_is_64_hex_characters() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 64);
        assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
