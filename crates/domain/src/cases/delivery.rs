//! Delivery of results (物流快递, SPEC C5): who pays the postage, the carriers and their tracking
//! numbers, and the shipment of an issued case with the status events its carrier reports.
//!
//! A shipment is a small state machine. The hall hands the result to a carrier (`shipped`); the
//! carrier then reports, in this order, 已揽收 `picked_up` → 运输中 `in_transit` (any number of
//! scans) → 派送中 `out_for_delivery` (again per attempt) → 已签收 `signed` or 已退回 `returned`:
//!
//! ```text
//! shipped ─picked_up→ picked_up ─in_transit→ in_transit ⟲ ─out_for_delivery→ out_for_delivery ⟲
//!                          │                      │                               │
//!                          ╰──────────────────────┴──────── signed | returned ────╯
//! ```
//!
//! Forward skips are allowed once the parcel is picked up (a same-city parcel may go out for
//! delivery without an in-transit scan); going back, reporting before pick-up, reporting after
//! the end, or reporting events out of time order is refused. A report that was already recorded
//! (same status, time and place) changes nothing, so a carrier can resend safely.
//!
//! ```
//! use tongban_domain::cases::delivery::{Carrier, TrackingNumber};
//! let number = TrackingNumber::parse(Carrier::Ems, "ea 123456785 cn").unwrap();
//! assert_eq!(number.as_str(), "EA123456785CN");
//! assert!(TrackingNumber::parse(Carrier::Ems, "EA123456784CN").is_err()); // wrong check digit
//! ```

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::catalog::ItemDefinition;
use crate::keys::{AccountName, HallKey};

/// Who pays for posting the result (免费寄递 / 邮费到付), from the item's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Postage {
    /// 免费寄递: the government pays.
    // Cases stored before the policy was recorded were all promised free postage by the pages.
    #[default]
    Free,
    /// 邮费到付: the recipient pays the carrier on delivery.
    RecipientPays,
}

impl Postage {
    /// The policy of an item (`supports.free_postage` in its guide).
    pub fn for_item(item: &ItemDefinition) -> Postage {
        if item.supports.free_postage {
            Postage::Free
        } else {
            Postage::RecipientPays
        }
    }

    /// The policy of a bundle application: its results leave together (一窗出件), so the parcel
    /// is posted free when any member posts its result free — that member's department pays for
    /// the parcel, and nobody pays for a parcel that would have been free for one of its results.
    pub fn for_bundle<'a>(members: impl IntoIterator<Item = &'a ItemDefinition>) -> Postage {
        let any_free = members.into_iter().any(|item| item.supports.free_postage);
        if any_free {
            Postage::Free
        } else {
            Postage::RecipientPays
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Postage::Free => "free",
            Postage::RecipientPays => "recipient_pays",
        }
    }

    /// What the applicant reads (zh, en).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Postage::Free => (
                "免费寄递(邮费由政府承担)",
                "Free postage (paid by the government)",
            ),
            Postage::RecipientPays => (
                "邮费到付(收件人支付邮费)",
                "Postage paid by the recipient on delivery",
            ),
        }
    }
}

/// The carriers a hall posts results with (a small code set; others are `other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    /// 中国邮政 EMS (政务专递).
    Ems,
    /// 顺丰速运.
    Sf,
    /// 京东物流.
    Jd,
    /// Any other carrier.
    Other,
}

impl Carrier {
    pub const ALL: [Carrier; 4] = [Carrier::Ems, Carrier::Sf, Carrier::Jd, Carrier::Other];

    pub fn code(self) -> &'static str {
        match self {
            Carrier::Ems => "ems",
            Carrier::Sf => "sf",
            Carrier::Jd => "jd",
            Carrier::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Result<Carrier, DeliveryError> {
        Carrier::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| DeliveryError::UnknownCarrier(code.to_owned()))
    }

    /// The carrier's name (zh, en).
    pub fn name(self) -> (&'static str, &'static str) {
        match self {
            Carrier::Ems => ("中国邮政EMS", "China Post EMS"),
            Carrier::Sf => ("顺丰速运", "SF Express"),
            Carrier::Jd => ("京东物流", "JD Logistics"),
            Carrier::Other => ("其他快递", "Other carrier"),
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A carrier's tracking number (运单号), normalised (no spaces, upper case) and checked against
/// the carrier's format:
///
/// - EMS: a UPU S10 number (two letters, eight digits, a check digit, two letters, e.g.
///   `EA123456785CN`) with its check digit verified, or a 13-digit domestic number;
/// - SF: `SF` and 13 digits, or 12 digits (older numbers);
/// - JD: `JD` and 11 to 16 letters or digits (e.g. `JDVA00123456789`);
/// - other: 6 to 32 letters, digits or `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingNumber(String);

impl TrackingNumber {
    pub fn parse(carrier: Carrier, text: &str) -> Result<TrackingNumber, DeliveryError> {
        let normalised: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let refuse = |reason: &str| DeliveryError::InvalidTrackingNumber {
            carrier,
            reason: reason.to_owned(),
        };
        if !normalised.is_ascii() {
            return Err(refuse(
                "a tracking number is written in ASCII letters and digits",
            ));
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let upper_alnum = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        };
        match carrier {
            Carrier::Ems => {
                if normalised.len() == 13 && digits(&normalised) {
                    return Ok(TrackingNumber(normalised));
                }
                let bytes = normalised.as_bytes();
                let letters = |range: std::ops::Range<usize>| {
                    bytes
                        .get(range)
                        .is_some_and(|s| s.iter().all(u8::is_ascii_uppercase))
                };
                if bytes.len() != 13
                    || !letters(0..2)
                    || !letters(11..13)
                    || !digits(&normalised[2..11])
                {
                    return Err(refuse(
                        "an EMS number is 13 digits, or two letters, nine digits and two letters (e.g. EA123456785CN)",
                    ));
                }
                let serial = &bytes[2..10];
                let check = bytes[10] - b'0';
                if s10_check_digit(serial) != check {
                    return Err(refuse("the check digit of the EMS number is wrong"));
                }
                Ok(TrackingNumber(normalised))
            }
            Carrier::Sf => {
                let ok = match normalised.strip_prefix("SF") {
                    Some(rest) => rest.len() == 13 && digits(rest),
                    None => normalised.len() == 12 && digits(&normalised),
                };
                if ok {
                    Ok(TrackingNumber(normalised))
                } else {
                    Err(refuse(
                        "an SF number is SF and 13 digits (e.g. SF1234567890123), or 12 digits",
                    ))
                }
            }
            Carrier::Jd => match normalised.strip_prefix("JD") {
                Some(rest) if (11..=16).contains(&rest.len()) && upper_alnum(rest) => {
                    Ok(TrackingNumber(normalised))
                }
                _ => Err(refuse(
                    "a JD number is JD and 11 to 16 letters or digits (e.g. JDVA00123456789)",
                )),
            },
            Carrier::Other => {
                let ok = (6..=32).contains(&normalised.len())
                    && normalised
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
                if ok {
                    Ok(TrackingNumber(normalised))
                } else {
                    Err(refuse(
                        "a tracking number is 6 to 32 letters, digits or dashes",
                    ))
                }
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The UPU S10 check digit of eight serial digits (ASCII): weights 8 6 4 2 3 5 9 7, 11 minus
/// the sum modulo 11, where 10 becomes 0 and 11 becomes 5.
fn s10_check_digit(serial: &[u8]) -> u8 {
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let sum: u32 = serial
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        // `11 - sum % 11` is 1..=11; the two above are the only values that do not fit a digit.
        check => u8::try_from(check).unwrap_or(0),
    }
}

/// Where a shipment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// 已交寄: the hall handed it to the carrier, not scanned yet.
    Shipped,
    /// 已揽收.
    PickedUp,
    /// 运输中.
    InTransit,
    /// 派送中.
    OutForDelivery,
    /// 已签收 (final): the case is delivered.
    Signed,
    /// 已退回 (final): the hall sends it again or the applicant collects it at a hall.
    Returned,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 6] = [
        ShipmentStatus::Shipped,
        ShipmentStatus::PickedUp,
        ShipmentStatus::InTransit,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Signed,
        ShipmentStatus::Returned,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ShipmentStatus::Shipped => "shipped",
            ShipmentStatus::PickedUp => "picked_up",
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::OutForDelivery => "out_for_delivery",
            ShipmentStatus::Signed => "signed",
            ShipmentStatus::Returned => "returned",
        }
    }

    pub fn parse(code: &str) -> Result<ShipmentStatus, DeliveryError> {
        ShipmentStatus::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or_else(|| DeliveryError::UnknownStatus(code.to_owned()))
    }

    /// What the applicant reads (zh, en).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            ShipmentStatus::Shipped => ("已交寄,待揽收", "Handed to the carrier"),
            ShipmentStatus::PickedUp => ("已揽收", "Picked up"),
            ShipmentStatus::InTransit => ("运输中", "In transit"),
            ShipmentStatus::OutForDelivery => ("派送中", "Out for delivery"),
            ShipmentStatus::Signed => ("已签收", "Signed for"),
            ShipmentStatus::Returned => ("已退回", "Returned"),
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, ShipmentStatus::Signed | ShipmentStatus::Returned)
    }

    /// The order of the journey; a report never goes back.
    fn rank(self) -> u8 {
        match self {
            ShipmentStatus::Shipped => 0,
            ShipmentStatus::PickedUp => 1,
            ShipmentStatus::InTransit => 2,
            ShipmentStatus::OutForDelivery => 3,
            ShipmentStatus::Signed | ShipmentStatus::Returned => 4,
        }
    }
}

/// A status report as a carrier (or a clerk for it) sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingUpdate {
    pub status: ShipmentStatus,
    /// When it happened (the carrier's scan time).
    pub at: Timestamp,
    /// Where, e.g. 示范市东湖区揽投部.
    pub place: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A recorded status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub status: ShipmentStatus,
    pub at: Timestamp,
    pub place: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// When the platform recorded it, and who reported it.
    pub recorded_at: Timestamp,
    pub recorded_by: AccountName,
}

/// One posting of a case's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: Carrier,
    pub tracking_number: TrackingNumber,
    pub postage: Postage,
    pub status: ShipmentStatus,
    pub shipped_at: Timestamp,
    pub shipped_by: AccountName,
    /// The hall that posted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<HallKey>,
    #[serde(default)]
    pub events: Vec<TrackingEvent>,
}

/// What a status report did to a shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The same report was recorded before: nothing changes.
    AlreadyRecorded,
    /// The shipment with the report appended.
    Changed(Shipment),
}

/// The longest a report may lie in the future (the carrier's clock may run a little ahead).
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);
/// The longest place and note texts.
pub const MAX_PLACE_CHARS: usize = 100;
pub const MAX_NOTE_CHARS: usize = 200;

impl Shipment {
    /// Whether the parcel is still on its way (neither signed for nor returned).
    pub fn in_flight(&self) -> bool {
        !self.status.is_final()
    }

    /// Records a carrier's report, or says why it cannot be. Pure.
    pub fn record(
        &self,
        update: &TrackingUpdate,
        by: &AccountName,
        now: Timestamp,
    ) -> Result<Recorded, DeliveryError> {
        let place = update.place.trim();
        let note = update.note.trim();
        let duplicate = self.events.iter().any(|event| {
            event.status == update.status && event.at == update.at && event.place == place
        });
        if duplicate {
            return Ok(Recorded::AlreadyRecorded);
        }
        let refuse = |reason: String| DeliveryError::IllegalStatus {
            from: self.status,
            to: update.status,
            reason,
        };
        if self.status.is_final() {
            return Err(refuse(format!(
                "the shipment is {} already; nothing follows",
                self.status.code()
            )));
        }
        match update.status {
            ShipmentStatus::Shipped => {
                return Err(refuse(
                    "shipped is recorded by the hall when it posts the result".into(),
                ));
            }
            ShipmentStatus::PickedUp if self.status != ShipmentStatus::Shipped => {
                return Err(refuse("the parcel was picked up already".into()));
            }
            _ if self.status == ShipmentStatus::Shipped
                && update.status != ShipmentStatus::PickedUp =>
            {
                return Err(refuse(
                    "the carrier reports the pick-up (已揽收) first".into(),
                ));
            }
            status if status.rank() < self.status.rank() => {
                return Err(refuse(format!(
                    "a parcel that is {} does not go back to {}",
                    self.status.code(),
                    status.code()
                )));
            }
            _ => {}
        }
        if place.is_empty() {
            return Err(DeliveryError::InvalidEvent("the place is empty".into()));
        }
        if place.chars().count() > MAX_PLACE_CHARS || note.chars().count() > MAX_NOTE_CHARS {
            return Err(DeliveryError::InvalidEvent(format!(
                "the place is at most {MAX_PLACE_CHARS} characters and the note at most {MAX_NOTE_CHARS}"
            )));
        }
        if update.at > now.saturating_add(CLOCK_SKEW).unwrap_or(now) {
            return Err(DeliveryError::InvalidEvent(format!(
                "the event at {} lies in the future",
                update.at
            )));
        }
        if let Some(last) = self.events.last()
            && update.at < last.at
        {
            return Err(DeliveryError::InvalidEvent(format!(
                "the event at {} is older than the last one recorded ({}); report events in order",
                update.at, last.at
            )));
        }
        let mut next = self.clone();
        next.status = update.status;
        next.events.push(TrackingEvent {
            status: update.status,
            at: update.at,
            place: place.to_owned(),
            note: note.to_owned(),
            recorded_at: now,
            recorded_by: by.clone(),
        });
        Ok(Recorded::Changed(next))
    }
}

/// Why a delivery request was refused. Each variant has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0:?} is not a carrier (ems, sf, jd or other)")]
    UnknownCarrier(String),
    #[error("{0:?} is not a shipment status")]
    UnknownStatus(String),
    #[error("invalid {carrier} tracking number: {reason}")]
    InvalidTrackingNumber { carrier: Carrier, reason: String },
    #[error("a shipment that is {} cannot become {}: {reason}", .from.code(), .to.code())]
    IllegalStatus {
        from: ShipmentStatus,
        to: ShipmentStatus,
        reason: String,
    },
    #[error("invalid tracking event: {0}")]
    InvalidEvent(String),
    #[error("the pickup code is wrong")]
    WrongPickupCode,
}

impl DeliveryError {
    pub fn code(&self) -> &'static str {
        match self {
            DeliveryError::UnknownCarrier(_) => "unknown_carrier",
            DeliveryError::UnknownStatus(_) | DeliveryError::InvalidEvent(_) => {
                "invalid_tracking_event"
            }
            DeliveryError::InvalidTrackingNumber { .. } => "invalid_tracking_number",
            DeliveryError::IllegalStatus { .. } => "illegal_shipment_status",
            DeliveryError::WrongPickupCode => "wrong_pickup_code",
        }
    }
}

/// Compares a pickup code typed at a window with the case's, in time independent of where they
/// differ.
pub fn pickup_code_matches(expected: &str, given: &str) -> bool {
    let given = given.trim();
    if expected.len() != given.len() {
        return false;
    }
    expected
        .bytes()
        .zip(given.bytes())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> AccountName {
        AccountName::parse(name).unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_772_413_200 + second).unwrap_or_else(|e| panic!("{e}"))
    }

    fn shipment() -> Shipment {
        Shipment {
            carrier: Carrier::Ems,
            tracking_number: TrackingNumber::parse(Carrier::Ems, "EA123456785CN")
                .unwrap_or_else(|e| panic!("{e}")),
            postage: Postage::Free,
            status: ShipmentStatus::Shipped,
            shipped_at: at(0),
            shipped_by: account("clerk"),
            hall: None,
            events: Vec::new(),
        }
    }

    fn update(status: ShipmentStatus, second: i64) -> TrackingUpdate {
        TrackingUpdate {
            status,
            at: at(second),
            place: "示范市东湖区揽投部".to_owned(),
            note: String::new(),
        }
    }

    fn report(shipment: &Shipment, status: ShipmentStatus, second: i64) -> Shipment {
        match shipment.record(&update(status, second), &account("ems"), at(second)) {
            Ok(Recorded::Changed(next)) => next,
            other => panic!("{status:?} at {second}: {other:?}"),
        }
    }

    fn refused(shipment: &Shipment, status: ShipmentStatus, second: i64) -> DeliveryError {
        match shipment.record(&update(status, second), &account("ems"), at(second)) {
            Err(error) => error,
            Ok(other) => panic!("{status:?} at {second} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn a_parcel_goes_from_pick_up_to_signed() {
        use ShipmentStatus as S;
        let mut parcel = shipment();
        for (status, second) in [
            (S::PickedUp, 60),
            (S::InTransit, 120),
            (S::InTransit, 180),
            (S::OutForDelivery, 240),
            (S::OutForDelivery, 300),
            (S::Signed, 360),
        ] {
            parcel = report(&parcel, status, second);
            assert_eq!(parcel.status, status);
        }
        assert_eq!(parcel.events.len(), 6);
        assert!(!parcel.in_flight());
    }

    #[test]
    fn a_same_city_parcel_may_skip_the_transit_scan() {
        let picked = report(&shipment(), ShipmentStatus::PickedUp, 60);
        let signed = report(&picked, ShipmentStatus::Signed, 120);
        assert_eq!(signed.status, ShipmentStatus::Signed);
    }

    #[test]
    fn nothing_but_the_pick_up_comes_first() {
        use ShipmentStatus as S;
        for status in [S::InTransit, S::OutForDelivery, S::Signed, S::Returned] {
            let error = refused(&shipment(), status, 60);
            assert_eq!(error.code(), "illegal_shipment_status", "{status:?}");
        }
        assert_eq!(
            refused(&shipment(), S::Shipped, 60).code(),
            "illegal_shipment_status"
        );
    }

    #[test]
    fn a_parcel_never_goes_back_nor_is_picked_up_twice() {
        use ShipmentStatus as S;
        let out = report(
            &report(&report(&shipment(), S::PickedUp, 60), S::InTransit, 120),
            S::OutForDelivery,
            180,
        );
        assert_eq!(
            refused(&out, S::InTransit, 240).code(),
            "illegal_shipment_status"
        );
        assert_eq!(
            refused(&out, S::PickedUp, 240).code(),
            "illegal_shipment_status"
        );
    }

    #[test]
    fn nothing_follows_a_signature_or_a_return() {
        use ShipmentStatus as S;
        let picked = report(&shipment(), S::PickedUp, 60);
        for end in [S::Signed, S::Returned] {
            let done = report(&picked, end, 120);
            for next in [S::InTransit, S::OutForDelivery, S::Signed, S::Returned] {
                assert_eq!(
                    refused(&done, next, 180).code(),
                    "illegal_shipment_status",
                    "{end:?} then {next:?}"
                );
            }
        }
    }

    #[test]
    fn a_repeated_report_changes_nothing() {
        let picked = report(&shipment(), ShipmentStatus::PickedUp, 60);
        let again = picked.record(
            &update(ShipmentStatus::PickedUp, 60),
            &account("ems"),
            at(600),
        );
        assert_eq!(again, Ok(Recorded::AlreadyRecorded));
        // Also after the end: a carrier resending its signature is not an error.
        let signed = report(&picked, ShipmentStatus::Signed, 120);
        let resent = signed.record(
            &update(ShipmentStatus::Signed, 120),
            &account("ems"),
            at(900),
        );
        assert_eq!(resent, Ok(Recorded::AlreadyRecorded));
    }

    #[test]
    fn reports_out_of_order_in_the_future_or_without_a_place_are_refused() {
        let transit = report(
            &report(&shipment(), ShipmentStatus::PickedUp, 600),
            ShipmentStatus::InTransit,
            700,
        );
        let older = transit.record(
            &update(ShipmentStatus::OutForDelivery, 650),
            &account("ems"),
            at(800),
        );
        assert!(matches!(older, Err(DeliveryError::InvalidEvent(_))));
        let future = transit.record(
            &update(ShipmentStatus::OutForDelivery, 800 + 3600),
            &account("ems"),
            at(800),
        );
        assert!(matches!(future, Err(DeliveryError::InvalidEvent(_))));
        let mut nowhere = update(ShipmentStatus::OutForDelivery, 750);
        nowhere.place = "  ".into();
        let result = transit.record(&nowhere, &account("ems"), at(800));
        assert!(matches!(result, Err(DeliveryError::InvalidEvent(_))));
    }

    #[test]
    fn tracking_numbers_follow_their_carrier() {
        let ok = [
            (Carrier::Ems, "EA123456785CN"),
            (Carrier::Ems, "1100123456789"),
            (Carrier::Sf, "SF1234567890123"),
            (Carrier::Sf, "123456789012"),
            (Carrier::Jd, "JDVA00123456789"),
            (Carrier::Other, "YT-8800123456"),
        ];
        for (carrier, text) in ok {
            assert!(
                TrackingNumber::parse(carrier, text).is_ok(),
                "{carrier} {text}"
            );
        }
        let bad = [
            (Carrier::Ems, "EA123456784CN"),
            // A full-width digit: refused, not a panic on a character boundary.
            (Carrier::Ems, "EA12345６785CN"),
            (Carrier::Ems, "EA12345678CN"),
            (Carrier::Sf, "SF12345"),
            (Carrier::Sf, "EA123456785CN"),
            (Carrier::Jd, "JD12"),
            (Carrier::Other, "a/b"),
            (Carrier::Other, ""),
        ];
        for (carrier, text) in bad {
            let error = TrackingNumber::parse(carrier, text).err();
            assert_eq!(
                error.map(|e| e.code()),
                Some("invalid_tracking_number"),
                "{carrier} {text}"
            );
        }
    }

    #[test]
    fn the_s10_check_digit_maps_ten_to_zero_and_eleven_to_five() {
        // 1·8+2·6+3·4+4·2+5·3+6·5+7·9+8·7 = 204, 204 mod 11 = 6, 11 − 6 = 5.
        assert_eq!(s10_check_digit(b"12345678"), 5);
        // All zeros: 11 − 0 = 11 → 5.
        assert_eq!(s10_check_digit(b"00000000"), 5);
        // 0·… + 1·7 = 7 → 11 − 7 = 4.
        assert_eq!(s10_check_digit(b"00000001"), 4);
    }

    /// A real demo item (free postage), as a template.
    fn item(free_postage: bool) -> ItemDefinition {
        let mut item: ItemDefinition = toml::from_str(include_str!(
            "../../../../data/demo/catalog/items/birth-medical-certificate.toml"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        item.supports.free_postage = free_postage;
        item
    }

    #[test]
    fn postage_follows_the_items_policy() {
        assert_eq!(Postage::for_item(&item(true)), Postage::Free);
        assert_eq!(Postage::for_item(&item(false)), Postage::RecipientPays);
    }

    #[test]
    fn a_bundles_parcel_is_free_when_any_member_posts_free() {
        let (free, paid) = (item(true), item(false));
        assert_eq!(Postage::for_bundle([&paid, &free, &paid]), Postage::Free);
        assert_eq!(Postage::for_bundle([&paid, &paid]), Postage::RecipientPays);
        assert_eq!(Postage::for_bundle([]), Postage::RecipientPays);
    }

    #[test]
    fn a_pickup_code_matches_only_itself() {
        assert!(pickup_code_matches("483920", "483920"));
        assert!(pickup_code_matches("483920", " 483920 "));
        assert!(!pickup_code_matches("483920", "483921"));
        assert!(!pickup_code_matches("483920", "48392"));
        assert!(!pickup_code_matches("483920", ""));
    }
}
