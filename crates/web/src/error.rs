//! The one table of error codes. Every error a client can see has a stable snake_case code and
//! exactly one HTTP status, defined here and nowhere else. Bodies follow the SPEC format:
//! `{"error": {"code": "…", "message": "…", "details": {…}}}`. A 5xx never echoes internal text.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Stable error codes with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    ItemNotFound,
    ItemVersionNotFound,
    BundleNotFound,
    InvalidQuery,
    InvalidItemCode,
    InvalidKey,
    InvalidAnswer,
    Conflict,
    Unauthenticated,
    InvalidCredentials,
    TooManyAttempts,
    Forbidden,
    CsrfFailed,
    CaseNotFound,
    BundleApplicationNotFound,
    LicenceNotFound,
    InvalidApplication,
    InvalidBody,
    IllegalTransition,
    StaleVersion,
    InvalidAction,
    PayloadTooLarge,
    UnsupportedMediaType,
    CalendarYearNotLoaded,
    HallNotFound,
    WindowNotFound,
    /// No such queue ticket (halls) or hotline ticket.
    TicketNotFound,
    AppointmentNotFound,
    SlotNotFound,
    SlotFull,
    OutOfTime,
    InvalidHallRequest,
    InternalError,
    AlreadyRated,
    RectificationPending,
    NotRateable,
    InvalidRating,
    RectificationNotFound,
    InvalidTicket,
    /// A hotline ticket links a catalog item (办事指南) that is not published;
    /// `details.item` names it.
    UnknownLinkedItem,
    InvalidStatsQuery,
    /// An agent acting for an applicant without a mandate that covers the action (帮办代办);
    /// `details.reason` says why.
    NoValidMandate,
    AgentNotFound,
    MandateNotFound,
    HomeVisitNotFound,
    InvalidAgentRequest,
    /// Delivery (SPEC C5): carriers, tracking numbers and reports, pickup codes.
    UnknownCarrier,
    InvalidTrackingNumber,
    TrackingNumberInUse,
    ShipmentNotFound,
    IllegalShipmentStatus,
    InvalidTrackingEvent,
    WrongPickupCode,
    /// Verified documents (once-only).
    VerifiedDocumentNotFound,
}

impl ErrorCode {
    /// The table: code → (text code, status).
    pub fn describe(self) -> (&'static str, StatusCode) {
        match self {
            ErrorCode::NotFound => ("not_found", StatusCode::NOT_FOUND),
            ErrorCode::ItemNotFound => ("item_not_found", StatusCode::NOT_FOUND),
            ErrorCode::ItemVersionNotFound => ("item_version_not_found", StatusCode::NOT_FOUND),
            ErrorCode::BundleNotFound => ("bundle_not_found", StatusCode::NOT_FOUND),
            ErrorCode::InvalidQuery => ("invalid_query", StatusCode::BAD_REQUEST),
            ErrorCode::InvalidItemCode => ("invalid_item_code", StatusCode::BAD_REQUEST),
            ErrorCode::InvalidKey => ("invalid_key", StatusCode::BAD_REQUEST),
            ErrorCode::InvalidAnswer => ("invalid_answer", StatusCode::BAD_REQUEST),
            ErrorCode::Conflict => ("conflict", StatusCode::CONFLICT),
            ErrorCode::Unauthenticated => ("unauthenticated", StatusCode::UNAUTHORIZED),
            ErrorCode::InvalidCredentials => ("invalid_credentials", StatusCode::UNAUTHORIZED),
            ErrorCode::TooManyAttempts => ("too_many_attempts", StatusCode::TOO_MANY_REQUESTS),
            ErrorCode::Forbidden => ("forbidden", StatusCode::FORBIDDEN),
            ErrorCode::CsrfFailed => ("csrf_failed", StatusCode::FORBIDDEN),
            ErrorCode::CaseNotFound => ("case_not_found", StatusCode::NOT_FOUND),
            ErrorCode::BundleApplicationNotFound => {
                ("bundle_application_not_found", StatusCode::NOT_FOUND)
            }
            ErrorCode::LicenceNotFound => ("licence_not_found", StatusCode::NOT_FOUND),
            ErrorCode::InvalidApplication => ("invalid_application", StatusCode::BAD_REQUEST),
            ErrorCode::InvalidBody => ("invalid_body", StatusCode::BAD_REQUEST),
            ErrorCode::IllegalTransition => ("illegal_transition", StatusCode::CONFLICT),
            ErrorCode::StaleVersion => ("stale_version", StatusCode::CONFLICT),
            ErrorCode::InvalidAction => ("invalid_action", StatusCode::BAD_REQUEST),
            ErrorCode::PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::UnsupportedMediaType => {
                ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            ErrorCode::CalendarYearNotLoaded => {
                ("calendar_year_not_loaded", StatusCode::SERVICE_UNAVAILABLE)
            }
            ErrorCode::HallNotFound => ("hall_not_found", StatusCode::NOT_FOUND),
            ErrorCode::WindowNotFound => ("window_not_found", StatusCode::NOT_FOUND),
            ErrorCode::TicketNotFound => ("ticket_not_found", StatusCode::NOT_FOUND),
            ErrorCode::AppointmentNotFound => ("appointment_not_found", StatusCode::NOT_FOUND),
            ErrorCode::SlotNotFound => ("slot_not_found", StatusCode::NOT_FOUND),
            ErrorCode::SlotFull => ("slot_full", StatusCode::CONFLICT),
            ErrorCode::OutOfTime => ("out_of_time", StatusCode::CONFLICT),
            ErrorCode::InvalidHallRequest => ("invalid_hall_request", StatusCode::BAD_REQUEST),
            ErrorCode::InternalError => ("internal_error", StatusCode::INTERNAL_SERVER_ERROR),
            ErrorCode::AlreadyRated => ("already_rated", StatusCode::CONFLICT),
            ErrorCode::RectificationPending => ("rectification_pending", StatusCode::CONFLICT),
            ErrorCode::NotRateable => ("not_rateable", StatusCode::CONFLICT),
            ErrorCode::InvalidRating => ("invalid_rating", StatusCode::BAD_REQUEST),
            ErrorCode::RectificationNotFound => ("rectification_not_found", StatusCode::NOT_FOUND),
            ErrorCode::InvalidTicket => ("invalid_ticket", StatusCode::BAD_REQUEST),
            ErrorCode::UnknownLinkedItem => ("unknown_linked_item", StatusCode::BAD_REQUEST),
            ErrorCode::InvalidStatsQuery => ("invalid_stats_query", StatusCode::BAD_REQUEST),
            ErrorCode::NoValidMandate => ("no_valid_mandate", StatusCode::FORBIDDEN),
            ErrorCode::AgentNotFound => ("agent_not_found", StatusCode::NOT_FOUND),
            ErrorCode::MandateNotFound => ("mandate_not_found", StatusCode::NOT_FOUND),
            ErrorCode::HomeVisitNotFound => ("home_visit_not_found", StatusCode::NOT_FOUND),
            ErrorCode::InvalidAgentRequest => ("invalid_agent_request", StatusCode::BAD_REQUEST),
            ErrorCode::UnknownCarrier => ("unknown_carrier", StatusCode::BAD_REQUEST),
            ErrorCode::InvalidTrackingNumber => {
                ("invalid_tracking_number", StatusCode::BAD_REQUEST)
            }
            ErrorCode::TrackingNumberInUse => ("tracking_number_in_use", StatusCode::CONFLICT),
            ErrorCode::ShipmentNotFound => ("shipment_not_found", StatusCode::NOT_FOUND),
            ErrorCode::IllegalShipmentStatus => ("illegal_shipment_status", StatusCode::CONFLICT),
            ErrorCode::InvalidTrackingEvent => ("invalid_tracking_event", StatusCode::BAD_REQUEST),
            ErrorCode::WrongPickupCode => ("wrong_pickup_code", StatusCode::UNPROCESSABLE_ENTITY),
            ErrorCode::VerifiedDocumentNotFound => {
                ("verified_document_not_found", StatusCode::NOT_FOUND)
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        self.describe().0
    }

    pub fn status(self) -> StatusCode {
        self.describe().1
    }
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
}

/// The error body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorContent,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorContent {
    /// Stable snake_case code, e.g. `item_not_found`.
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            details: Value::Object(serde_json::Map::new()),
        }
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    /// A query parameter that could not be understood.
    pub fn invalid_parameter(name: &str, value: &str, expected: &str) -> ApiError {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("query parameter {name}={value:?} is not valid: expected {expected}"),
        )
        .with_details(
            serde_json::json!({ "parameter": name, "value": value, "expected": expected }),
        )
    }

    pub fn internal(error: &dyn std::fmt::Display) -> ApiError {
        // The cause goes to the log (it never holds personal data: store errors name tables and
        // codes, not values); the client gets a plain message.
        tracing::error!(error = %error, "internal error");
        ApiError::new(
            ErrorCode::InternalError,
            "an internal error occurred; it has been logged",
        )
    }
}

impl From<tongban_domain::cases::CaseError> for ApiError {
    fn from(error: tongban_domain::cases::CaseError) -> ApiError {
        use tongban_domain::cases::CaseError;
        let code = match &error {
            CaseError::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            CaseError::Forbidden(_) => ErrorCode::Forbidden,
            CaseError::Invalid(_) => ErrorCode::InvalidAction,
            CaseError::StaleVersion { .. } => ErrorCode::StaleVersion,
            CaseError::Calendar(_) => ErrorCode::CalendarYearNotLoaded,
            CaseError::Delivery(delivery) => return delivery.clone().into(),
            CaseError::InvalidApplication(problems) => {
                return ApiError::new(ErrorCode::InvalidApplication, error.to_string())
                    .with_details(serde_json::json!({ "problems": problems }));
            }
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<tongban_domain::cases::delivery::DeliveryError> for ApiError {
    fn from(error: tongban_domain::cases::delivery::DeliveryError) -> ApiError {
        use tongban_domain::cases::delivery::DeliveryError;
        let code = match &error {
            DeliveryError::UnknownCarrier(_) => ErrorCode::UnknownCarrier,
            DeliveryError::InvalidTrackingNumber { .. } => ErrorCode::InvalidTrackingNumber,
            DeliveryError::IllegalStatus { .. } => ErrorCode::IllegalShipmentStatus,
            DeliveryError::UnknownStatus(_) | DeliveryError::InvalidEvent(_) => {
                ErrorCode::InvalidTrackingEvent
            }
            DeliveryError::WrongPickupCode => ErrorCode::WrongPickupCode,
        };
        debug_assert_eq!(code.as_str(), error.code(), "one code in both tables");
        ApiError::new(code, error.to_string())
    }
}

impl From<tongban_store::StoreError> for ApiError {
    fn from(error: tongban_store::StoreError) -> ApiError {
        match &error {
            tongban_store::StoreError::NotFound { what } => {
                ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
            }
            tongban_store::StoreError::StaleVersion { .. } => {
                ApiError::new(ErrorCode::StaleVersion, error.to_string())
            }
            tongban_store::StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::Conflict, message.clone())
            }
            _ => ApiError::internal(&error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, status) = self.code.describe();
        let body = ErrorBody {
            error: ErrorContent {
                code: code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_and_unique() {
        let all = [
            ErrorCode::NotFound,
            ErrorCode::ItemNotFound,
            ErrorCode::ItemVersionNotFound,
            ErrorCode::BundleNotFound,
            ErrorCode::InvalidQuery,
            ErrorCode::InvalidItemCode,
            ErrorCode::InvalidKey,
            ErrorCode::InvalidAnswer,
            ErrorCode::Conflict,
            ErrorCode::Unauthenticated,
            ErrorCode::InvalidCredentials,
            ErrorCode::TooManyAttempts,
            ErrorCode::Forbidden,
            ErrorCode::CsrfFailed,
            ErrorCode::CaseNotFound,
            ErrorCode::LicenceNotFound,
            ErrorCode::InvalidApplication,
            ErrorCode::InvalidBody,
            ErrorCode::IllegalTransition,
            ErrorCode::StaleVersion,
            ErrorCode::InvalidAction,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::CalendarYearNotLoaded,
            ErrorCode::HallNotFound,
            ErrorCode::WindowNotFound,
            ErrorCode::TicketNotFound,
            ErrorCode::AppointmentNotFound,
            ErrorCode::SlotNotFound,
            ErrorCode::SlotFull,
            ErrorCode::OutOfTime,
            ErrorCode::InvalidHallRequest,
            ErrorCode::InternalError,
            ErrorCode::AlreadyRated,
            ErrorCode::RectificationPending,
            ErrorCode::NotRateable,
            ErrorCode::InvalidRating,
            ErrorCode::RectificationNotFound,
            ErrorCode::InvalidTicket,
            ErrorCode::UnknownLinkedItem,
            ErrorCode::InvalidStatsQuery,
            ErrorCode::NoValidMandate,
            ErrorCode::AgentNotFound,
            ErrorCode::MandateNotFound,
            ErrorCode::HomeVisitNotFound,
            ErrorCode::InvalidAgentRequest,
            ErrorCode::UnknownCarrier,
            ErrorCode::InvalidTrackingNumber,
            ErrorCode::TrackingNumberInUse,
            ErrorCode::ShipmentNotFound,
            ErrorCode::IllegalShipmentStatus,
            ErrorCode::InvalidTrackingEvent,
            ErrorCode::WrongPickupCode,
            ErrorCode::VerifiedDocumentNotFound,
        ];
        let mut seen = std::collections::BTreeSet::new();
        for code in all {
            let text = code.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
            assert!(seen.insert(text), "{text} is used twice");
        }
    }

    #[test]
    fn a_server_error_never_echoes_its_cause() {
        let error = ApiError::internal(&"disk /var/secret full");
        assert!(!error.message.contains("secret"));
        assert_eq!(error.code.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
