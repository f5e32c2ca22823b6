//! Ratings (好差评) and their rectification (整改), after 国办发〔2019〕51号 and GB/T 39734/39735-2020.
//!
//! A rating is given once per service event: per case online (一事一评), per visit on site
//! (一次一评), or per "one thing" bundle. Five levels; the two lowest are a bad rating (差评), which
//! opens a [`Rectification`] for the office that handled the service, due a configurable number of
//! working days later (15 by default). The office rectifies and the rater is called back (回访);
//! an anonymous rater cannot be called, so rectifying closes the task at once. Instead of
//! rectifying, the office may appeal (申诉); a supervisor reviews the appeal: upheld voids the
//! task, rejected puts it back to open. After the task closes the rater may rate a second time.
//!
//! ```
//! use tongban_domain::feedback::RatingLevel;
//! assert!(RatingLevel::parse("dissatisfied").unwrap().is_bad());
//! assert!(!RatingLevel::parse("basic").unwrap().is_bad());
//! ```

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::keys::DepartmentKey;

/// The five levels of REFERENCE §3, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingLevel {
    /// 非常不满意
    VeryDissatisfied,
    /// 不满意
    Dissatisfied,
    /// 基本满意
    Basic,
    /// 满意
    Satisfied,
    /// 非常满意
    VerySatisfied,
}

impl RatingLevel {
    pub const ALL: [RatingLevel; 5] = [
        RatingLevel::VerySatisfied,
        RatingLevel::Satisfied,
        RatingLevel::Basic,
        RatingLevel::Dissatisfied,
        RatingLevel::VeryDissatisfied,
    ];

    pub fn parse(value: &str) -> Result<RatingLevel, FeedbackError> {
        Self::ALL
            .into_iter()
            .find(|level| level.code() == value)
            .ok_or_else(|| FeedbackError::Invalid(format!("unknown rating level {value:?}")))
    }

    pub fn code(self) -> &'static str {
        match self {
            RatingLevel::VerySatisfied => "very_satisfied",
            RatingLevel::Satisfied => "satisfied",
            RatingLevel::Basic => "basic",
            RatingLevel::Dissatisfied => "dissatisfied",
            RatingLevel::VeryDissatisfied => "very_dissatisfied",
        }
    }

    /// The national score, 5 (非常满意) to 1 (非常不满意).
    pub fn score(self) -> u8 {
        match self {
            RatingLevel::VerySatisfied => 5,
            RatingLevel::Satisfied => 4,
            RatingLevel::Basic => 3,
            RatingLevel::Dissatisfied => 2,
            RatingLevel::VeryDissatisfied => 1,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            RatingLevel::VerySatisfied => "非常满意",
            RatingLevel::Satisfied => "满意",
            RatingLevel::Basic => "基本满意",
            RatingLevel::Dissatisfied => "不满意",
            RatingLevel::VeryDissatisfied => "非常不满意",
        }
    }

    /// 差评: the two lowest levels.
    pub fn is_bad(self) -> bool {
        matches!(
            self,
            RatingLevel::Dissatisfied | RatingLevel::VeryDissatisfied
        )
    }

    /// 好评: the two highest levels (the numerator of 好评率).
    pub fn is_good(self) -> bool {
        matches!(self, RatingLevel::Satisfied | RatingLevel::VerySatisfied)
    }
}

/// The rating channels of the provinces' interface (REFERENCE §3), with their national codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingChannel {
    Pc,
    Mobile,
    QrCode,
    HallTablet,
    HallTerminal,
    Phone,
    Sms,
}

impl RatingChannel {
    pub const ALL: [RatingChannel; 7] = [
        RatingChannel::Pc,
        RatingChannel::Mobile,
        RatingChannel::QrCode,
        RatingChannel::HallTablet,
        RatingChannel::HallTerminal,
        RatingChannel::Phone,
        RatingChannel::Sms,
    ];

    /// The national code, 1 to 7.
    pub fn national_code(self) -> u8 {
        match self {
            RatingChannel::Pc => 1,
            RatingChannel::Mobile => 2,
            RatingChannel::QrCode => 3,
            RatingChannel::HallTablet => 4,
            RatingChannel::HallTerminal => 5,
            RatingChannel::Phone => 6,
            RatingChannel::Sms => 7,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            RatingChannel::Pc => "pc",
            RatingChannel::Mobile => "mobile",
            RatingChannel::QrCode => "qr_code",
            RatingChannel::HallTablet => "hall_tablet",
            RatingChannel::HallTerminal => "hall_terminal",
            RatingChannel::Phone => "phone",
            RatingChannel::Sms => "sms",
        }
    }

    /// By snake_case name or by national code ("1".."7").
    pub fn parse(value: &str) -> Result<RatingChannel, FeedbackError> {
        Self::ALL
            .into_iter()
            .find(|channel| channel.code() == value || channel.national_code().to_string() == value)
            .ok_or_else(|| FeedbackError::Invalid(format!("unknown rating channel {value:?}")))
    }
}

/// What is rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatedKind {
    /// A case, by its 办件编号 (一事一评).
    Case,
    /// A "one thing" bundle case, by the parent case's number.
    Bundle,
    /// One service event on site (一次一评), e.g. a queue ticket or a window visit.
    Visit,
}

impl RatedKind {
    pub fn code(self) -> &'static str {
        match self {
            RatedKind::Case => "case",
            RatedKind::Bundle => "bundle",
            RatedKind::Visit => "visit",
        }
    }

    pub fn parse(value: &str) -> Result<RatedKind, FeedbackError> {
        match value {
            "case" => Ok(RatedKind::Case),
            "bundle" => Ok(RatedKind::Bundle),
            "visit" => Ok(RatedKind::Visit),
            other => Err(FeedbackError::Invalid(format!(
                "unknown rated kind {other:?}"
            ))),
        }
    }
}

/// First or second rating (评价次数): the second comes after the office's rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingRound {
    First,
    Second,
}

impl RatingRound {
    pub fn number(self) -> u8 {
        match self {
            RatingRound::First => 1,
            RatingRound::Second => 2,
        }
    }

    pub fn from_number(value: i64) -> Result<RatingRound, FeedbackError> {
        match value {
            1 => Ok(RatingRound::First),
            2 => Ok(RatingRound::Second),
            other => Err(FeedbackError::Invalid(format!(
                "unknown rating round {other}"
            ))),
        }
    }
}

/// Longest accepted rating text, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// A rating as given (评价记录): case number, channel, rater, time, round, level, text, region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub id: uuid::Uuid,
    pub kind: RatedKind,
    /// The case number, bundle case number or visit reference.
    pub subject: String,
    pub round: RatingRound,
    pub level: RatingLevel,
    pub channel: RatingChannel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub anonymous: bool,
    /// The rater's account (kept even when anonymous, so that one person rates once; never shown).
    pub rater: String,
    /// Where the service was given; the responsible office is `department`.
    pub department: DepartmentKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    pub region: String,
    pub at: Timestamp,
}

/// What a rater submits; the rest (department, item, region) comes from the rated service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingInput {
    pub level: RatingLevel,
    pub channel: RatingChannel,
    pub text: Option<String>,
    pub anonymous: bool,
}

/// What the store knows about earlier ratings of the same subject by anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriorRatings {
    pub first: bool,
    pub second: bool,
    /// The first rating's rectification is closed or voided (a second rating is then allowed).
    pub rectification_settled: bool,
    /// The first rating was bad (only then is a second rating meaningful).
    pub first_was_bad: bool,
}

/// Which round a new rating is, or why it is refused: one first rating per subject; a second
/// only after a bad first rating whose rectification is settled.
pub fn next_round(prior: PriorRatings) -> Result<RatingRound, FeedbackError> {
    if !prior.first {
        return Ok(RatingRound::First);
    }
    if prior.second {
        return Err(FeedbackError::AlreadyRated);
    }
    if !prior.first_was_bad {
        return Err(FeedbackError::AlreadyRated);
    }
    if !prior.rectification_settled {
        return Err(FeedbackError::RectificationPending);
    }
    Ok(RatingRound::Second)
}

/// Checks a rating's free text: trimmed, at most [`MAX_TEXT_CHARS`]; empty becomes none.
pub fn clean_text(text: Option<&str>) -> Result<Option<String>, FeedbackError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(FeedbackError::Invalid(format!(
            "the text is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(Some(text.to_owned()))
}

/// Rectification settings (configurable; REFERENCE §3 says 15 working days is common, some places
/// use 5 or 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationPolicy {
    pub working_days: u32,
}

impl Default for RectificationPolicy {
    fn default() -> Self {
        RectificationPolicy { working_days: 15 }
    }
}

impl RectificationPolicy {
    /// Checks a configured value: 1 to 60 working days.
    pub fn check(&self) -> Result<(), FeedbackError> {
        if (1..=60).contains(&self.working_days) {
            return Ok(());
        }
        Err(FeedbackError::Invalid(format!(
            "the rectification deadline is {} working days; it must be 1 to 60",
            self.working_days
        )))
    }

    /// The due date of a task opened on `opened_on` (that day not counted).
    pub fn due_on(&self, calendar: &Calendar, opened_on: Date) -> Result<Date, FeedbackError> {
        Ok(calendar.add_working_days(opened_on, self.working_days)?)
    }
}

/// The state of a rectification task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RectificationState {
    /// Waiting for the office (待整改).
    Open,
    /// The office appealed; a supervisor reviews (申诉复核中).
    Appealed,
    /// Rectified, waiting for the callback to the rater (待回访).
    Rectified,
    /// Done: rectified and called back (or anonymous) (已办结).
    Closed,
    /// The appeal was upheld: the bad rating does not count (申诉成立).
    Voided,
}

impl RectificationState {
    pub const ALL: [RectificationState; 5] = [
        RectificationState::Open,
        RectificationState::Appealed,
        RectificationState::Rectified,
        RectificationState::Closed,
        RectificationState::Voided,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RectificationState::Open => "open",
            RectificationState::Appealed => "appealed",
            RectificationState::Rectified => "rectified",
            RectificationState::Closed => "closed",
            RectificationState::Voided => "voided",
        }
    }

    pub fn parse(value: &str) -> Result<RectificationState, FeedbackError> {
        Self::ALL
            .into_iter()
            .find(|state| state.code() == value)
            .ok_or_else(|| FeedbackError::Invalid(format!("unknown rectification state {value:?}")))
    }

    /// Settled: nothing more to do.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            RectificationState::Closed | RectificationState::Voided
        )
    }
}

/// How the callback to the rater went (回访).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// The rater was reached.
    pub reached: bool,
    /// The rater accepts the rectification.
    pub satisfied: bool,
    pub note: String,
}

/// One step in a task's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationEvent {
    pub at: Timestamp,
    pub actor: String,
    /// `opened`, `rectified`, `appealed`, `appeal_upheld`, `appeal_rejected`, `called_back`, `closed`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A rectification task (整改工单) opened by a bad rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    pub id: uuid::Uuid,
    pub rating_id: uuid::Uuid,
    /// The rated subject (case number or visit), for lists.
    pub subject: String,
    pub department: DepartmentKey,
    pub anonymous: bool,
    pub state: RectificationState,
    pub opened_at: Timestamp,
    pub due_on: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectified_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_back_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    pub version: u64,
    pub events: Vec<RectificationEvent>,
}

/// An action on a rectification task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RectificationAction {
    /// The office reports what it changed (整改措施).
    Rectify { measures: String },
    /// The office contests the rating (申诉).
    Appeal { reason: String },
    /// A supervisor decides the appeal (复核).
    Review { upheld: bool, note: String },
    /// The callback to the rater (回访).
    CallBack(Callback),
}

impl RectificationAction {
    pub fn name(&self) -> &'static str {
        match self {
            RectificationAction::Rectify { .. } => "rectify",
            RectificationAction::Appeal { .. } => "appeal",
            RectificationAction::Review { .. } => "review",
            RectificationAction::CallBack(_) => "call_back",
        }
    }
}

impl Rectification {
    /// Opens the task for a bad rating; `None` for a rating that is not bad.
    pub fn open_for(
        rating: &Rating,
        id: uuid::Uuid,
        policy: RectificationPolicy,
        calendar: &Calendar,
        opened_on: Date,
    ) -> Result<Option<Rectification>, FeedbackError> {
        if !rating.level.is_bad() || rating.round == RatingRound::Second {
            return Ok(None);
        }
        Ok(Some(Rectification {
            id,
            rating_id: rating.id,
            subject: rating.subject.clone(),
            department: rating.department.clone(),
            anonymous: rating.anonymous,
            state: RectificationState::Open,
            opened_at: rating.at,
            due_on: policy.due_on(calendar, opened_on)?,
            rectified_at: None,
            measures: None,
            callback: None,
            called_back_at: None,
            closed_at: None,
            version: 1,
            events: vec![RectificationEvent {
                at: rating.at,
                actor: "system".to_owned(),
                kind: "opened".to_owned(),
                note: String::new(),
            }],
        }))
    }

    /// Past its due date on `today` and not yet rectified.
    pub fn is_overdue(&self, today: Date) -> bool {
        matches!(
            self.state,
            RectificationState::Open | RectificationState::Appealed
        ) && today > self.due_on
    }

    /// Applies an action; on error nothing changes.
    pub fn apply(
        &mut self,
        action: RectificationAction,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), FeedbackError> {
        let illegal = |state: RectificationState, action: &RectificationAction| {
            FeedbackError::IllegalTransition {
                action: action.name(),
                state: state.code(),
            }
        };
        let mut events = Vec::new();
        let next = match (&self.state, &action) {
            (RectificationState::Open, RectificationAction::Rectify { measures }) => {
                let measures = required("measures", measures)?;
                self.measures = Some(measures.clone());
                self.rectified_at = Some(at);
                events.push(("rectified", measures));
                if self.anonymous {
                    // Nobody to call back: the task is done once rectified.
                    self.closed_at = Some(at);
                    events.push(("closed", String::new()));
                    RectificationState::Closed
                } else {
                    RectificationState::Rectified
                }
            }
            (RectificationState::Open, RectificationAction::Appeal { reason }) => {
                events.push(("appealed", required("reason", reason)?));
                RectificationState::Appealed
            }
            (RectificationState::Appealed, RectificationAction::Review { upheld, note }) => {
                let note = required("note", note)?;
                if *upheld {
                    self.closed_at = Some(at);
                    events.push(("appeal_upheld", note));
                    RectificationState::Voided
                } else {
                    events.push(("appeal_rejected", note));
                    RectificationState::Open
                }
            }
            (RectificationState::Rectified, RectificationAction::CallBack(callback)) => {
                self.callback = Some(callback.clone());
                self.called_back_at = Some(at);
                events.push(("called_back", callback.note.trim().to_owned()));
                if callback.reached {
                    self.closed_at = Some(at);
                    events.push(("closed", String::new()));
                    RectificationState::Closed
                } else {
                    // Not reached: stays waiting for another attempt.
                    RectificationState::Rectified
                }
            }
            (state, action) => return Err(illegal(*state, action)),
        };
        self.state = next;
        self.version += 1;
        for (kind, note) in events {
            self.events.push(RectificationEvent {
                at,
                actor: actor.to_owned(),
                kind: kind.to_owned(),
                note,
            });
        }
        Ok(())
    }
}

fn required(field: &str, value: &str) -> Result<String, FeedbackError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FeedbackError::Invalid(format!("{field} is required")));
    }
    if value.chars().count() > 2000 {
        return Err(FeedbackError::Invalid(format!(
            "{field} is longer than 2000 characters"
        )));
    }
    Ok(value.to_owned())
}

/// Why a rating or rectification action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    #[error("the action {action} is not allowed while the task is {state}")]
    IllegalTransition {
        action: &'static str,
        state: &'static str,
    },
    #[error("this service has already been rated")]
    AlreadyRated,
    #[error("a second rating waits until the rectification is settled")]
    RectificationPending,
    #[error("the service cannot be rated yet: {0}")]
    NotRateable(String),
    #[error("invalid rating: {0}")]
    Invalid(String),
    #[error("deadline computation failed: {0}")]
    Calendar(#[from] CalendarError),
}

impl FeedbackError {
    pub fn code(&self) -> &'static str {
        match self {
            FeedbackError::IllegalTransition { .. } => "illegal_transition",
            FeedbackError::AlreadyRated => "already_rated",
            FeedbackError::RectificationPending => "rectification_pending",
            FeedbackError::NotRateable(_) => "not_rateable",
            FeedbackError::Invalid(_) => "invalid_rating",
            FeedbackError::Calendar(error) => error.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn rating(level: RatingLevel, anonymous: bool) -> Rating {
        Rating {
            id: uuid::Uuid::from_u128(1),
            kind: RatedKind::Case,
            subject: "N1".into(),
            round: RatingRound::First,
            level,
            channel: RatingChannel::Mobile,
            text: None,
            anonymous,
            rater: "citizen".into(),
            department: DepartmentKey::parse("city-police").unwrap(),
            hall: None,
            window: None,
            item_code: None,
            region: "990100".into(),
            at: at("2026-03-02T02:00:00Z"),
        }
    }

    fn open(anonymous: bool) -> Rectification {
        let calendar = Calendar::official().unwrap();
        Rectification::open_for(
            &rating(RatingLevel::Dissatisfied, anonymous),
            uuid::Uuid::from_u128(2),
            RectificationPolicy::default(),
            &calendar,
            jiff::civil::date(2026, 3, 2),
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn only_the_two_lowest_levels_are_bad() {
        let bad: Vec<_> = RatingLevel::ALL
            .into_iter()
            .filter(|l| l.is_bad())
            .collect();
        assert_eq!(
            bad,
            [RatingLevel::Dissatisfied, RatingLevel::VeryDissatisfied]
        );
        let scores: Vec<u8> = RatingLevel::ALL
            .into_iter()
            .map(RatingLevel::score)
            .collect();
        assert_eq!(scores, [5, 4, 3, 2, 1]);
    }

    #[test]
    fn channels_parse_by_name_and_by_national_code() {
        for channel in RatingChannel::ALL {
            assert_eq!(RatingChannel::parse(channel.code()), Ok(channel));
            assert_eq!(
                RatingChannel::parse(&channel.national_code().to_string()),
                Ok(channel)
            );
        }
        assert!(RatingChannel::parse("8").is_err());
    }

    #[test]
    fn a_good_rating_opens_no_task() {
        let calendar = Calendar::official().unwrap();
        for level in [
            RatingLevel::VerySatisfied,
            RatingLevel::Satisfied,
            RatingLevel::Basic,
        ] {
            let task = Rectification::open_for(
                &rating(level, false),
                uuid::Uuid::from_u128(2),
                RectificationPolicy::default(),
                &calendar,
                jiff::civil::date(2026, 3, 2),
            )
            .unwrap();
            assert!(task.is_none(), "{level:?}");
        }
    }

    #[test]
    fn a_bad_rating_is_due_fifteen_working_days_later_skipping_the_may_day_holiday() {
        let calendar = Calendar::official().unwrap();
        // Opened Thu 2026-04-23. Working days after it: Apr 24, 27, 28, 29, 30 (5); May 1–5 is
        // the Labour Day holiday; May 6, 7, 8 (8); May 9 (Saturday) is a make-up workday (9);
        // May 11–15 (14); May 18 (15).
        let task = Rectification::open_for(
            &rating(RatingLevel::VeryDissatisfied, false),
            uuid::Uuid::from_u128(2),
            RectificationPolicy::default(),
            &calendar,
            jiff::civil::date(2026, 4, 23),
        )
        .unwrap()
        .unwrap();
        assert_eq!(task.due_on, jiff::civil::date(2026, 5, 18));
        let short = RectificationPolicy { working_days: 5 }
            .due_on(&calendar, jiff::civil::date(2026, 3, 2))
            .unwrap();
        assert_eq!(short, jiff::civil::date(2026, 3, 9));
    }

    #[test]
    fn a_configured_rectification_deadline_is_checked() {
        assert!(RectificationPolicy { working_days: 7 }.check().is_ok());
        assert!(RectificationPolicy { working_days: 0 }.check().is_err());
        assert!(RectificationPolicy { working_days: 61 }.check().is_err());
    }

    #[test]
    fn rectify_then_call_back_closes_the_task() {
        let mut task = open(false);
        task.apply(
            RectificationAction::Rectify {
                measures: "窗口增加引导".into(),
            },
            "clerk",
            at("2026-03-03T02:00:00Z"),
        )
        .unwrap();
        assert_eq!(task.state, RectificationState::Rectified);
        task.apply(
            RectificationAction::CallBack(Callback {
                reached: false,
                satisfied: false,
                note: "无人接听".into(),
            }),
            "supervisor",
            at("2026-03-04T02:00:00Z"),
        )
        .unwrap();
        assert_eq!(task.state, RectificationState::Rectified);
        task.apply(
            RectificationAction::CallBack(Callback {
                reached: true,
                satisfied: true,
                note: "认可".into(),
            }),
            "supervisor",
            at("2026-03-05T02:00:00Z"),
        )
        .unwrap();
        assert_eq!(task.state, RectificationState::Closed);
        assert_eq!(task.closed_at, Some(at("2026-03-05T02:00:00Z")));
        let kinds: Vec<&str> = task.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "opened",
                "rectified",
                "called_back",
                "called_back",
                "closed"
            ]
        );
        assert_eq!(task.version, 4);
    }

    #[test]
    fn an_anonymous_rating_closes_when_rectified() {
        let mut task = open(true);
        task.apply(
            RectificationAction::Rectify {
                measures: "整改".into(),
            },
            "clerk",
            at("2026-03-03T02:00:00Z"),
        )
        .unwrap();
        assert_eq!(task.state, RectificationState::Closed);
    }

    #[test]
    fn the_transition_table_refuses_what_it_does_not_list() {
        let rectify = || RectificationAction::Rectify {
            measures: "m".into(),
        };
        let appeal = || RectificationAction::Appeal { reason: "r".into() };
        let review = |upheld| RectificationAction::Review {
            upheld,
            note: "n".into(),
        };
        let call = || {
            RectificationAction::CallBack(Callback {
                reached: true,
                satisfied: true,
                note: String::new(),
            })
        };
        // (path of actions, expected final state or the code of the error of the last action)
        let table: Vec<(Vec<RectificationAction>, Result<RectificationState, &str>)> = vec![
            (vec![rectify()], Ok(RectificationState::Rectified)),
            (vec![appeal()], Ok(RectificationState::Appealed)),
            (vec![appeal(), review(true)], Ok(RectificationState::Voided)),
            (vec![appeal(), review(false)], Ok(RectificationState::Open)),
            (
                vec![appeal(), review(false), rectify(), call()],
                Ok(RectificationState::Closed),
            ),
            (vec![call()], Err("illegal_transition")),
            (vec![review(true)], Err("illegal_transition")),
            (vec![appeal(), rectify()], Err("illegal_transition")),
            (vec![rectify(), appeal()], Err("illegal_transition")),
            (
                vec![rectify(), call(), rectify()],
                Err("illegal_transition"),
            ),
            (
                vec![appeal(), review(true), appeal()],
                Err("illegal_transition"),
            ),
            (
                vec![RectificationAction::Rectify {
                    measures: "  ".into(),
                }],
                Err("invalid_rating"),
            ),
        ];
        for (actions, expected) in table {
            let mut task = open(false);
            let mut outcome = Ok(());
            for action in actions.clone() {
                let before = task.clone();
                outcome = task.apply(action, "x", at("2026-03-03T02:00:00Z"));
                if outcome.is_err() {
                    assert_eq!(task, before, "a refused action changes nothing");
                    break;
                }
            }
            match expected {
                Ok(state) => {
                    assert!(outcome.is_ok(), "{actions:?}");
                    assert_eq!(task.state, state, "{actions:?}");
                }
                Err(code) => assert_eq!(outcome.map_err(|e| e.code()), Err(code), "{actions:?}"),
            }
        }
    }

    #[test]
    fn an_open_task_is_overdue_after_its_due_date_only() {
        let task = open(false);
        assert!(!task.is_overdue(task.due_on));
        assert!(task.is_overdue(task.due_on.tomorrow().unwrap()));
    }

    #[test]
    fn rounds_one_first_then_a_second_only_after_a_settled_bad_rating() {
        let table = [
            (PriorRatings::default(), Ok(RatingRound::First)),
            (
                PriorRatings {
                    first: true,
                    ..PriorRatings::default()
                },
                Err(FeedbackError::AlreadyRated),
            ),
            (
                PriorRatings {
                    first: true,
                    first_was_bad: true,
                    ..PriorRatings::default()
                },
                Err(FeedbackError::RectificationPending),
            ),
            (
                PriorRatings {
                    first: true,
                    first_was_bad: true,
                    rectification_settled: true,
                    second: false,
                },
                Ok(RatingRound::Second),
            ),
            (
                PriorRatings {
                    first: true,
                    first_was_bad: true,
                    rectification_settled: true,
                    second: true,
                },
                Err(FeedbackError::AlreadyRated),
            ),
        ];
        for (prior, expected) in table {
            assert_eq!(next_round(prior), expected, "{prior:?}");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(clean_text(Some("  ")), Ok(None));
        assert_eq!(clean_text(Some(" 好 ")), Ok(Some("好".into())));
        let long = "字".repeat(MAX_TEXT_CHARS + 1);
        assert!(clean_text(Some(&long)).is_err());
    }
}
