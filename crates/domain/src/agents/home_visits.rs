//! Home visits (上门服务) for elderly, disabled and ill people who cannot come to a hall: a request
//! names the person, the address (personal data: kept on the request, never logged), why, and
//! the days that suit; hall staff schedule an agent for a time in those days; the agent records
//! the outcome after the visit. A request can be cancelled until it is done.
//!
//! ```text
//! requested ─schedule→ scheduled ─complete→ done (outcome)
//!     │                 │  ↺ schedule (another agent or time)
//!     ╰──────cancel─────┴──cancel→ cancelled
//! ```

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Agent, AgentError};
use crate::calendar::shanghai_date;
use crate::cases::Applicant;
use crate::ids::ImplementationCode;
use crate::keys::{AccountName, HallKey, HomeVisitId};

/// The longest window of days a request may offer.
pub const MAX_WINDOW_DAYS: i32 = 31;

/// Why someone asks for a visit at home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitReason {
    /// 高龄老人.
    Elderly,
    /// 残疾人.
    Disabled,
    /// 重病、行动不便.
    Illness,
    Other,
}

impl VisitReason {
    pub const ALL: [VisitReason; 4] = [
        VisitReason::Elderly,
        VisitReason::Disabled,
        VisitReason::Illness,
        VisitReason::Other,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            VisitReason::Elderly => "elderly",
            VisitReason::Disabled => "disabled",
            VisitReason::Illness => "illness",
            VisitReason::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<VisitReason> {
        VisitReason::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            VisitReason::Elderly => "高龄老人",
            VisitReason::Disabled => "残疾人",
            VisitReason::Illness => "重病或行动不便",
            VisitReason::Other => "其他",
        }
    }

    pub fn label_en(&self) -> &'static str {
        match self {
            VisitReason::Elderly => "Elderly",
            VisitReason::Disabled => "Disabled",
            VisitReason::Illness => "Ill or unable to move",
            VisitReason::Other => "Other",
        }
    }
}

/// What the visit achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitResult {
    /// Handled on the spot (advice given, a form filled in, a result handed over).
    Served,
    /// An application was taken at home and submitted for the person (by mandate).
    ApplicationTaken,
    /// Nobody was reached at the address.
    NotReached,
    /// Referred to a department or another service.
    Referred,
}

impl VisitResult {
    pub const ALL: [VisitResult; 4] = [
        VisitResult::Served,
        VisitResult::ApplicationTaken,
        VisitResult::NotReached,
        VisitResult::Referred,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            VisitResult::Served => "served",
            VisitResult::ApplicationTaken => "application_taken",
            VisitResult::NotReached => "not_reached",
            VisitResult::Referred => "referred",
        }
    }

    pub fn parse(code: &str) -> Option<VisitResult> {
        VisitResult::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            VisitResult::Served => "已上门办理",
            VisitResult::ApplicationTaken => "已代为提交申请",
            VisitResult::NotReached => "未遇到本人",
            VisitResult::Referred => "已转介",
        }
    }

    pub fn label_en(&self) -> &'static str {
        match self {
            VisitResult::Served => "Served at home",
            VisitResult::ApplicationTaken => "Application taken",
            VisitResult::NotReached => "Nobody reached",
            VisitResult::Referred => "Referred",
        }
    }
}

/// The outcome an agent records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub result: VisitResult,
    pub note: String,
    /// The case opened at home, when an application was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
}

/// Where a request stands; the data of each state lives in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum VisitState {
    Requested,
    Scheduled {
        agent: AccountName,
        agent_name: String,
        at: Timestamp,
    },
    Done {
        agent: AccountName,
        agent_name: String,
        at: Timestamp,
        outcome: Outcome,
        recorded_at: Timestamp,
    },
    Cancelled {
        reason: String,
        by: AccountName,
        at: Timestamp,
    },
}

impl VisitState {
    pub fn name(&self) -> &'static str {
        match self {
            VisitState::Requested => "requested",
            VisitState::Scheduled { .. } => "scheduled",
            VisitState::Done { .. } => "done",
            VisitState::Cancelled { .. } => "cancelled",
        }
    }

    pub const NAMES: [&'static str; 4] = ["requested", "scheduled", "done", "cancelled"];

    pub fn label_zh(&self) -> &'static str {
        match self {
            VisitState::Requested => "待安排",
            VisitState::Scheduled { .. } => "已安排",
            VisitState::Done { .. } => "已完成",
            VisitState::Cancelled { .. } => "已取消",
        }
    }

    pub fn label_en(&self) -> &'static str {
        match self {
            VisitState::Requested => "Requested",
            VisitState::Scheduled { .. } => "Scheduled",
            VisitState::Done { .. } => "Done",
            VisitState::Cancelled { .. } => "Cancelled",
        }
    }

    /// The agent assigned (scheduled or done).
    pub fn agent(&self) -> Option<&AccountName> {
        match self {
            VisitState::Scheduled { agent, .. } | VisitState::Done { agent, .. } => Some(agent),
            _ => None,
        }
    }

    /// When the visit is (or was) planned.
    pub fn planned_at(&self) -> Option<Timestamp> {
        match self {
            VisitState::Scheduled { at, .. } | VisitState::Done { at, .. } => Some(*at),
            _ => None,
        }
    }
}

/// One step of a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitEvent {
    pub at: Timestamp,
    pub by: AccountName,
    /// `requested`, `scheduled`, `rescheduled`, `done` or `cancelled`.
    pub what: String,
}

/// A home-visit request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeVisit {
    pub id: HomeVisitId,
    /// Grows with every change (optimistic concurrency).
    pub version: u64,
    /// Who is visited.
    pub person: Applicant,
    /// Personal data: shown to the person, the hall's staff and the assigned agent only.
    pub address: String,
    pub phone: String,
    pub reason: VisitReason,
    /// What the person needs, in their words.
    pub needs: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ImplementationCode>,
    /// The hall that schedules the visit.
    pub hall: HallKey,
    /// The days that suit the person, both included.
    pub from: Date,
    pub until: Date,
    pub state: VisitState,
    pub requested_by: AccountName,
    pub requested_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub history: Vec<VisitEvent>,
}

/// What a request asks for.
#[derive(Debug, Clone)]
pub struct VisitRequest {
    pub id: HomeVisitId,
    pub person: Applicant,
    pub address: String,
    pub phone: String,
    pub reason: VisitReason,
    pub needs: String,
    pub item: Option<ImplementationCode>,
    pub hall: HallKey,
    pub from: Date,
    pub until: Date,
    pub requested_by: AccountName,
}

fn required(text: &str, what: &str, max: usize) -> Result<String, AgentError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AgentError::Invalid(format!("{what} is required")));
    }
    if text.chars().count() > max {
        return Err(AgentError::Invalid(format!(
            "{what} is at most {max} characters"
        )));
    }
    Ok(text.to_owned())
}

impl HomeVisit {
    /// A new request. The days that suit start today or later and span at most
    /// [`MAX_WINDOW_DAYS`]; the address, a phone and what is needed are required.
    pub fn request(request: VisitRequest, at: Timestamp) -> Result<HomeVisit, AgentError> {
        let today = shanghai_date(at);
        let address = required(&request.address, "the address", 200)?;
        let phone = required(&request.phone, "a contact phone", 20)?;
        let needs = required(&request.needs, "what is needed", 500)?;
        if request.from < today {
            return Err(AgentError::Invalid(format!(
                "the days that suit start today ({today}) or later"
            )));
        }
        if request.until < request.from {
            return Err(AgentError::Invalid(
                "the last day that suits comes on or after the first".into(),
            ));
        }
        let span = request
            .from
            .until(request.until)
            .map_or(i64::MAX, |s| i64::from(s.get_days()) + 1);
        if span > i64::from(MAX_WINDOW_DAYS) {
            return Err(AgentError::Invalid(format!(
                "offer at most {MAX_WINDOW_DAYS} days"
            )));
        }
        Ok(HomeVisit {
            id: request.id,
            version: 1,
            person: request.person,
            address,
            phone,
            reason: request.reason,
            needs,
            item: request.item,
            hall: request.hall,
            from: request.from,
            until: request.until,
            state: VisitState::Requested,
            history: vec![VisitEvent {
                at,
                by: request.requested_by.clone(),
                what: "requested".into(),
            }],
            requested_by: request.requested_by,
            requested_at: at,
            updated_at: at,
        })
    }

    fn refuse(&self, action: &'static str) -> AgentError {
        AgentError::IllegalTransition {
            what: "home visit",
            action,
            state: self.state.name(),
        }
    }

    fn changed(
        &self,
        state: VisitState,
        by: &AccountName,
        what: &str,
        now: Timestamp,
    ) -> HomeVisit {
        let mut next = self.clone();
        next.state = state;
        next.version = self.version + 1;
        next.updated_at = now;
        next.history.push(VisitEvent {
            at: now,
            by: by.clone(),
            what: what.to_owned(),
        });
        next
    }

    /// Hall staff (`by`) send an active agent at `at`: a time still ahead, on one of the days
    /// that suit. A scheduled visit may be scheduled again (another agent or time).
    pub fn schedule(
        &self,
        agent: &Agent,
        at: Timestamp,
        by: &AccountName,
        now: Timestamp,
    ) -> Result<HomeVisit, AgentError> {
        let what = match self.state {
            VisitState::Requested => "scheduled",
            VisitState::Scheduled { .. } => "rescheduled",
            _ => return Err(self.refuse("schedule")),
        };
        if !agent.active {
            return Err(AgentError::Invalid(format!(
                "agent {} is not active",
                agent.account
            )));
        }
        if at <= now {
            return Err(AgentError::OutOfTime(
                "a visit is scheduled for a time still ahead".into(),
            ));
        }
        let day = shanghai_date(at);
        if day < self.from || day > self.until {
            return Err(AgentError::OutOfTime(format!(
                "the person asked for a day from {} to {}; {day} is outside",
                self.from, self.until
            )));
        }
        let state = VisitState::Scheduled {
            agent: agent.account.clone(),
            agent_name: agent.name.clone(),
            at,
        };
        Ok(self.changed(state, by, what, now))
    }

    /// The assigned agent records the outcome, from the day of the visit on.
    pub fn complete(
        &self,
        by: &AccountName,
        result: VisitResult,
        note: &str,
        case_number: Option<String>,
        now: Timestamp,
    ) -> Result<HomeVisit, AgentError> {
        let VisitState::Scheduled {
            agent,
            agent_name,
            at,
        } = &self.state
        else {
            return Err(self.refuse("complete"));
        };
        if agent != by {
            return Err(AgentError::Forbidden(
                "the outcome is recorded by the agent who was sent".into(),
            ));
        }
        if shanghai_date(now) < shanghai_date(*at) {
            return Err(AgentError::OutOfTime(format!(
                "the visit is planned for {}; record its outcome from that day on",
                shanghai_date(*at)
            )));
        }
        let note = required(note, "a note on the outcome", 500)?;
        let case_number = case_number
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if result == VisitResult::ApplicationTaken && case_number.is_none() {
            return Err(AgentError::Invalid(
                "give the number of the case submitted for the person".into(),
            ));
        }
        let state = VisitState::Done {
            agent: agent.clone(),
            agent_name: agent_name.clone(),
            at: *at,
            outcome: Outcome {
                result,
                note,
                case_number,
            },
            recorded_at: now,
        };
        Ok(self.changed(state, by, "done", now))
    }

    /// Cancels a request that is not done yet, with a reason.
    pub fn cancel(
        &self,
        by: &AccountName,
        reason: &str,
        now: Timestamp,
    ) -> Result<HomeVisit, AgentError> {
        if !matches!(
            self.state,
            VisitState::Requested | VisitState::Scheduled { .. }
        ) {
            return Err(self.refuse("cancel"));
        }
        let reason = required(reason, "the reason", 200)?;
        let state = VisitState::Cancelled {
            reason,
            by: by.clone(),
            at: now,
        };
        Ok(self.changed(state, by, "cancelled", now))
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use jiff::civil::date;

    use super::*;
    use crate::agents::AgentLevel;
    use crate::cases::ApplicantKind;
    use crate::ids::RegionCode;

    /// 2026-03-02 09:00 in Shanghai.
    fn now() -> Timestamp {
        Timestamp::from_second(1_772_413_200).unwrap()
    }

    fn hours(n: i64) -> Timestamp {
        now() + SignedDuration::from_hours(n)
    }

    fn account(name: &str) -> AccountName {
        AccountName::parse(name).unwrap()
    }

    fn agent(name: &str, active: bool) -> Agent {
        Agent {
            account: account(name),
            name: format!("{name}的名字"),
            level: AgentLevel::Community,
            region: RegionCode::parse("990103001001").unwrap(),
            hall: None,
            active,
            registered_at: now(),
            updated_at: now(),
        }
    }

    fn request() -> VisitRequest {
        VisitRequest {
            id: HomeVisitId::from_uuid(uuid::Uuid::from_u128(7)),
            person: Applicant {
                kind: ApplicantKind::Person,
                name: "李秀英".into(),
                identifier: "990103195204110022".into(),
                account: Some(account("citizen3")),
            },
            address: "西山区山前街道山前社区山前大街3号".into(),
            phone: "13900000003".into(),
            reason: VisitReason::Elderly,
            needs: "申领高龄津贴,行动不便".into(),
            item: None,
            hall: HallKey::parse("shanqian-station").unwrap(),
            from: date(2026, 3, 3),
            until: date(2026, 3, 6),
            requested_by: account("citizen3"),
        }
    }

    fn requested() -> HomeVisit {
        HomeVisit::request(request(), now()).unwrap()
    }

    /// Scheduled for 2026-03-03 10:00 (25 hours after `now`).
    fn scheduled() -> HomeVisit {
        requested()
            .schedule(&agent("agent3", true), hours(25), &account("clerk"), now())
            .unwrap()
    }

    fn done() -> HomeVisit {
        scheduled()
            .complete(
                &account("agent3"),
                VisitResult::Served,
                "已上门协助填表",
                None,
                hours(26),
            )
            .unwrap()
    }

    fn cancelled() -> HomeVisit {
        requested()
            .cancel(&account("citizen3"), "已由家属代办", now())
            .unwrap()
    }

    #[test]
    fn a_request_is_scheduled_done_and_keeps_its_history() {
        let visit = done();
        assert_eq!(visit.state.name(), "done");
        assert_eq!(visit.version, 3);
        let steps: Vec<&str> = visit.history.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(steps, ["requested", "scheduled", "done"]);
        let VisitState::Done { outcome, at, .. } = &visit.state else {
            panic!("done")
        };
        assert_eq!(outcome.result, VisitResult::Served);
        assert_eq!(*at, hours(25));
    }

    #[test]
    fn a_scheduled_visit_can_be_given_another_agent_or_time() {
        let again = scheduled()
            .schedule(&agent("agent2", true), hours(49), &account("clerk"), now())
            .unwrap();
        assert_eq!(again.state.agent(), Some(&account("agent2")));
        assert_eq!(again.history.last().unwrap().what, "rescheduled");
    }

    #[test]
    fn every_refused_transition_is_refused() {
        let agent = agent("agent3", true);
        let clerk = account("clerk");
        for visit in [done(), cancelled()] {
            let state = visit.state.name();
            assert_eq!(
                visit
                    .schedule(&agent, hours(25), &clerk, now())
                    .unwrap_err()
                    .code(),
                "illegal_transition",
                "schedule a {state} visit"
            );
            assert_eq!(
                visit.cancel(&clerk, "x", now()).unwrap_err().code(),
                "illegal_transition",
                "cancel a {state} visit"
            );
        }
        for visit in [requested(), done(), cancelled()] {
            let state = visit.state.name();
            assert_eq!(
                visit
                    .complete(
                        &account("agent3"),
                        VisitResult::Served,
                        "x",
                        None,
                        hours(26)
                    )
                    .unwrap_err()
                    .code(),
                "illegal_transition",
                "complete a {state} visit"
            );
        }
    }

    #[test]
    fn a_schedule_outside_the_days_that_suit_or_in_the_past_is_refused() {
        let visit = requested();
        let agent = agent("agent3", true);
        let clerk = account("clerk");
        let past = visit.schedule(&agent, now() - SignedDuration::from_hours(1), &clerk, now());
        assert_eq!(past.unwrap_err().code(), "out_of_time");
        let too_late = visit.schedule(&agent, hours(24 * 6), &clerk, now());
        assert!(too_late.unwrap_err().to_string().contains("outside"));
        let inactive = visit.schedule(&agent_inactive(), hours(25), &clerk, now());
        assert_eq!(inactive.unwrap_err().code(), "invalid_agent_request");
    }

    fn agent_inactive() -> Agent {
        agent("agent9", false)
    }

    #[test]
    fn only_the_agent_sent_records_the_outcome_and_not_before_the_day() {
        let visit = scheduled();
        let other = visit.complete(
            &account("agent2"),
            VisitResult::Served,
            "x",
            None,
            hours(26),
        );
        assert_eq!(other.unwrap_err().code(), "forbidden");
        let early = visit.complete(&account("agent3"), VisitResult::Served, "x", None, now());
        assert_eq!(early.unwrap_err().code(), "out_of_time");
        let no_note = visit.complete(
            &account("agent3"),
            VisitResult::Served,
            " ",
            None,
            hours(26),
        );
        assert_eq!(no_note.unwrap_err().code(), "invalid_agent_request");
        let no_case = visit.complete(
            &account("agent3"),
            VisitResult::ApplicationTaken,
            "代为申请",
            None,
            hours(26),
        );
        assert!(no_case.unwrap_err().to_string().contains("number"));
    }

    #[test]
    fn a_request_needs_an_address_a_phone_and_days_ahead() {
        let mut no_address = request();
        no_address.address = "  ".into();
        assert!(HomeVisit::request(no_address, now()).is_err());
        let mut past = request();
        past.from = date(2026, 3, 1);
        assert!(HomeVisit::request(past, now()).is_err());
        let mut reversed = request();
        reversed.until = date(2026, 3, 2);
        assert!(HomeVisit::request(reversed, now()).is_err());
        let mut long = request();
        long.until = date(2026, 4, 30);
        assert!(HomeVisit::request(long, now()).is_err());
    }

    #[test]
    fn a_cancellation_needs_a_reason() {
        let error = requested()
            .cancel(&account("clerk"), "", now())
            .unwrap_err();
        assert_eq!(error.code(), "invalid_agent_request");
        assert_eq!(
            scheduled()
                .cancel(&account("clerk"), "本人已住院", now())
                .unwrap()
                .state
                .name(),
            "cancelled"
        );
    }
}
