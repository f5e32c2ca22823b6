//! Delivery of results (SPEC C5): how a case's result reaches the applicant, as the case view
//! shows it (postage, the pickup code to the applicant only, the tracking timeline), and the
//! carriers' reports (`POST /api/v1/shipments/{carrier}/{tracking_number}/events`).
//!
//! A report names a parcel by carrier and tracking number; the tracking index finds the cases
//! posted in it (one applicant's results may share a parcel, 一窗出件) and each case records the
//! report through the ordinary `track` command, in its own transaction. A report recorded before
//! changes nothing, so a carrier that did not get an answer simply sends it again.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tongban_domain::cases::delivery::{Carrier, Postage, Shipment, ShipmentStatus, TrackingNumber};
use tongban_domain::cases::lifecycle::{Command, Context};
use tongban_domain::cases::{Actor, ActorKind, Case, Delivery, apply};
use tongban_domain::org::Role;
use tongban_store::StoreError;
use tongban_store::model::CaseWrite;
use utoipa::ToSchema;

use super::cases::{audit_for, outbox_for};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::lookup::Lookup;

/// Who pays for posting the result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostageView {
    /// `free` (免费寄递: the government pays) or `recipient_pays` (邮费到付).
    pub code: String,
    pub text: String,
    pub text_en: String,
}

impl From<Postage> for PostageView {
    fn from(postage: Postage) -> PostageView {
        let (text, text_en) = postage.label();
        PostageView {
            code: postage.code().to_owned(),
            text: text.to_owned(),
            text_en: text_en.to_owned(),
        }
    }
}

/// One status report of a carrier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingEventView {
    /// `picked_up`, `in_transit`, `out_for_delivery`, `signed` or `returned`.
    pub status: String,
    pub status_text: String,
    pub at: String,
    pub place: String,
    pub note: Option<String>,
}

/// One posting of the result with its tracking timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentView {
    /// `ems`, `sf`, `jd` or `other`.
    pub carrier: String,
    pub carrier_name: String,
    pub tracking_number: String,
    /// `shipped` (not scanned yet), `picked_up`, `in_transit`, `out_for_delivery`, `signed` or
    /// `returned`.
    pub status: String,
    pub status_text: String,
    pub status_text_en: String,
    pub postage: PostageView,
    pub shipped_at: String,
    /// The hall that posted it.
    pub hall_name: Option<String>,
    /// Oldest first.
    pub events: Vec<TrackingEventView>,
}

/// How the result reaches the applicant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    /// `collect` (at any hall, with the pickup code) or `post`.
    pub method: String,
    /// Collection: the hall chosen (any hall hands the result out against the code).
    pub hall: Option<String>,
    pub hall_name: Option<String>,
    /// Collection: the pickup code, shown to the applicant only.
    pub pickup_code: Option<String>,
    /// Post: who pays the postage (the item's policy).
    pub postage: Option<PostageView>,
    /// The current posting, if the result was posted.
    pub shipment: Option<ShipmentView>,
    /// Earlier postings that came back, oldest first.
    pub returned: Vec<ShipmentView>,
}

fn shipment_view(lookup: &Lookup, shipment: &Shipment) -> ShipmentView {
    let (status_text, status_text_en) = shipment.status.label();
    ShipmentView {
        carrier: shipment.carrier.code().to_owned(),
        carrier_name: shipment.carrier.name().0.to_owned(),
        tracking_number: shipment.tracking_number.to_string(),
        status: shipment.status.code().to_owned(),
        status_text: status_text.to_owned(),
        status_text_en: status_text_en.to_owned(),
        postage: shipment.postage.into(),
        shipped_at: shipment.shipped_at.to_string(),
        hall_name: shipment
            .hall
            .as_ref()
            .and_then(|h| lookup.hall(h))
            .map(|h| h.name.clone()),
        events: shipment
            .events
            .iter()
            .map(|event| TrackingEventView {
                status: event.status.code().to_owned(),
                status_text: event.status.label().0.to_owned(),
                at: event.at.to_string(),
                place: event.place.clone(),
                note: Some(event.note.clone()).filter(|n| !n.is_empty()),
            })
            .collect(),
    }
}

/// The delivery of a case as `own` (the applicant) or staff may see it.
pub fn delivery_view(lookup: &Lookup, case: &Case, own: bool) -> DeliveryView {
    let (current, earlier) = match case.shipments.split_last() {
        Some((current, earlier)) => (Some(shipment_view(lookup, current)), earlier),
        None => (None, &[][..]),
    };
    let returned = earlier.iter().map(|s| shipment_view(lookup, s)).collect();
    match &case.delivery {
        Delivery::Collect { hall, pickup_code } => DeliveryView {
            method: "collect".to_owned(),
            hall: Some(hall.to_string()),
            hall_name: lookup.hall(hall).map(|h| h.name.clone()),
            pickup_code: own.then(|| pickup_code.clone()),
            postage: None,
            shipment: current,
            returned,
        },
        Delivery::Post { postage, .. } => DeliveryView {
            method: "post".to_owned(),
            hall: None,
            hall_name: None,
            pickup_code: None,
            postage: Some((*postage).into()),
            shipment: current,
            returned,
        },
    }
}

/// The pickup code proves who collects: only the applicant sees it, staff see the case without.
pub fn without_pickup_code(case: &mut Case) {
    if let Delivery::Collect { pickup_code, .. } = &mut case.delivery {
        pickup_code.clear();
    }
}

/// `POST /api/v1/shipments/{carrier}/{tracking_number}/events`: a carrier's report.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingReportRequest {
    /// `picked_up` (已揽收), `in_transit` (运输中), `out_for_delivery` (派送中), `signed`
    /// (已签收: delivers the case) or `returned` (已退回).
    pub status: String,
    /// When it happened, RFC 3339.
    pub at: String,
    /// Where, e.g. 示范市东湖区揽投部.
    pub place: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a report did to each case posted in the parcel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedCase {
    pub case_id: String,
    pub number: String,
    /// The case's state after the report (`delivered` once signed for).
    pub state: String,
    pub shipment_status: String,
    /// False when the report had been recorded before (nothing changed).
    pub recorded: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingReport {
    pub carrier: String,
    pub tracking_number: String,
    pub cases: Vec<TrackedCase>,
}

/// How often a case is reloaded when another change of it wins the race.
const ATTEMPTS: usize = 4;

/// Records a carrier's report on every case currently posted in the parcel.
pub async fn report(
    state: &AppState,
    actor: &Actor,
    carrier: &str,
    tracking_number: &str,
    request: TrackingReportRequest,
) -> Result<TrackingReport, ApiError> {
    // Only carriers' systems and clerks report; others learn nothing about parcels.
    if actor.kind != ActorKind::System && !actor.has_role(Role::Clerk, None) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "shipment reports come from a carrier's system (an API token) or a window clerk",
        ));
    }
    let carrier = Carrier::parse(carrier)?;
    let number = TrackingNumber::parse(carrier, tracking_number)?;
    let status = ShipmentStatus::parse(&request.status)?;
    let at: Timestamp = request.at.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidTrackingEvent,
            format!("at {:?} is not an RFC 3339 time", request.at),
        )
    })?;
    let command = Command::Track {
        status,
        at,
        place: request.place,
        note: request.note.unwrap_or_default(),
    };
    let shipped = state
        .store
        .cases
        .shipped_cases(carrier.code(), number.as_str())
        .await?;
    let mut cases = Vec::new();
    for posting in shipped {
        if let Some(tracked) =
            record_on(state, actor, posting.case_id, &command, carrier, &number).await?
        {
            cases.push(tracked);
        }
    }
    if cases.is_empty() {
        return Err(ApiError::new(
            ErrorCode::ShipmentNotFound,
            format!("no result is on its way as {carrier} {number}"),
        ));
    }
    Ok(TrackingReport {
        carrier: carrier.code().to_owned(),
        tracking_number: number.to_string(),
        cases,
    })
}

/// Records the report on one case if the parcel is its current posting; `None` when the case
/// was posted again since (an earlier parcel's reports no longer concern it).
async fn record_on(
    state: &AppState,
    actor: &Actor,
    case_id: uuid::Uuid,
    command: &Command,
    carrier: Carrier,
    number: &TrackingNumber,
) -> Result<Option<TrackedCase>, ApiError> {
    for _ in 0..ATTEMPTS {
        let Some(case) = state.store.cases.case(case_id).await? else {
            return Ok(None);
        };
        let current = case
            .shipment()
            .is_some_and(|s| s.carrier == carrier && &s.tracking_number == number);
        if !current {
            return Ok(None);
        }
        let now = state.clock.now();
        let context = Context {
            actor,
            now,
            calendar: &state.calendar,
        };
        let outcome = apply(&case, command, &context)?;
        let recorded = outcome.case.version != case.version;
        if recorded {
            let write = CaseWrite {
                outbox: outbox_for(&outcome.case, &outcome.events),
                audit: audit_for(actor, &outcome.case, command.name(), now),
                access: Vec::new(),
                events: outcome.events,
                licence: None,
                case: Some(outcome.case.clone()),
                documents: Vec::new(),
                revoked: Vec::new(),
            };
            match state.store.cases.save_case(write, case.version).await {
                Ok(_) => {}
                Err(StoreError::StaleVersion { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
            if outcome.case.parent.is_some() {
                super::bundles::after_child_changed(state, &outcome.case).await;
            }
        }
        return Ok(Some(TrackedCase {
            case_id: outcome.case.id.to_string(),
            number: outcome.case.number.clone(),
            state: outcome.case.state.name().to_owned(),
            shipment_status: outcome
                .case
                .shipment()
                .map(|s| s.status.code().to_owned())
                .unwrap_or_default(),
            recorded,
        }));
    }
    Err(ApiError::new(
        ErrorCode::StaleVersion,
        "the case kept changing while the report was recorded; send it again",
    ))
}
