//! What the webhook port takes and returns: subscriptions of department systems and the
//! deliveries of outbox messages to them.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;
use tongban_domain::keys::DepartmentKey;

/// The shared secret that signs a subscription's deliveries. Its `Debug` hides it, so that a
/// logged subscription never leaks it; [`WebhookSecret::expose`] is the only way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn new(secret: String) -> WebhookSecret {
        WebhookSecret(secret)
    }

    /// The secret itself, for signing and for showing it once to the administrator.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([hidden])")
    }
}

/// A subscription to create.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub department: DepartmentKey,
    /// Where deliveries are posted (`http://` or `https://`).
    pub url: String,
    pub secret: WebhookSecret,
    /// Topic prefixes, e.g. `case.`; none may contain a comma (they are stored comma-separated).
    pub topics: Vec<String>,
    pub created_at: Timestamp,
}

/// A department system's endpoint. It receives the outbox messages of its department whose
/// topic starts with one of its prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: uuid::Uuid,
    pub department: DepartmentKey,
    pub url: String,
    pub secret: WebhookSecret,
    pub topics: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
}

impl Subscription {
    /// Whether a message of this department and topic goes to this subscription.
    pub fn matches(&self, department: Option<&DepartmentKey>, topic: &str) -> bool {
        self.active
            && department == Some(&self.department)
            && self
                .topics
                .iter()
                .any(|prefix| topic.starts_with(prefix.as_str()))
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed (or the subscription was deactivated); an administrator may resend.
    Dead,
}

impl DeliveryStatus {
    pub fn code(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "dead" => Some(DeliveryStatus::Dead),
            _ => None,
        }
    }
}

/// One outbox message for one subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: uuid::Uuid,
    pub subscription_id: uuid::Uuid,
    /// The outbox message's id.
    pub message_id: uuid::Uuid,
    pub topic: String,
    /// The outbox message's payload, copied at fan-out.
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When a pending delivery is due (or, while it is being sent, when its claim lapses).
    pub next_attempt_at: Timestamp,
    /// Why the last attempt failed (the receiver's status or a transport error), never a body.
    pub last_error: Option<String>,
    /// The receiver's HTTP status at the last attempt, when it answered.
    pub last_status: Option<u16>,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A claimed delivery with what the dispatcher needs to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery: Delivery,
    pub url: String,
    pub secret: WebhookSecret,
    /// When the outbox message was written (the `created_at` of the body).
    pub message_created_at: Timestamp,
}

/// What one fan-out did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOutReport {
    /// Outbox messages read past the cursor.
    pub messages: u32,
    /// Deliveries created (a repeated fan-out of the same message creates none).
    pub deliveries: u32,
}

/// What happens after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// Try again at this instant.
    At(Timestamp),
    /// Give up: the delivery is dead.
    Dead,
}

/// A failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The receiver's status or the transport error (no body, no secret).
    pub error: String,
    pub status: Option<u16>,
    pub next: NextAttempt,
}

/// Filters of the delivery list (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    /// 1..=500.
    pub limit: u32,
}
