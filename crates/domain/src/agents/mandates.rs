//! Mandates (委托): an applicant — a citizen or an enterprise — lets an agent act for them, for
//! every item or for a list of items, from one day until another, until they revoke it. The
//! applicant grants it online, or a clerk records a signed paper mandate (授权委托书).
//!
//! [`authorise`] is the one check behind every action an agent takes for someone (applying,
//! acting on a case, booking): it finds a mandate that covers the agent, the applicant, the item
//! and the day, or says plainly why not ([`Refusal`]).
//!
//! ```
//! use jiff::civil::date;
//! use tongban_domain::agents::mandates::ItemScope;
//! use tongban_domain::ids::ImplementationCode;
//! let birth = ImplementationCode::parse("11990100004213675N2000101000000").unwrap();
//! assert!(ItemScope::All.covers(&birth));
//! assert!(!ItemScope::Listed { items: vec![] }.covers(&birth));
//! ```

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Agent, AgentError};
use crate::calendar::shanghai_date;
use crate::cases::Applicant;
use crate::ids::ImplementationCode;
use crate::keys::{AccountName, MandateId};

/// The longest mandate: three years, after which the applicant grants a new one.
pub const MAX_MANDATE_DAYS: i32 = 3 * 366;

/// Which items a mandate covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "scope")]
pub enum ItemScope {
    /// Every item (全权委托).
    All,
    /// Only these items (by implementation code).
    Listed { items: Vec<ImplementationCode> },
}

impl ItemScope {
    pub fn covers(&self, item: &ImplementationCode) -> bool {
        match self {
            ItemScope::All => true,
            ItemScope::Listed { items } => items.contains(item),
        }
    }
}

/// How the mandate was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MandateSource {
    /// Granted by the applicant themself, signed in.
    Online,
    /// A signed paper mandate (授权委托书) recorded by a window clerk.
    Paper,
}

impl MandateSource {
    pub fn code(&self) -> &'static str {
        match self {
            MandateSource::Online => "online",
            MandateSource::Paper => "paper",
        }
    }
}

/// The end of a mandate before its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at: Timestamp,
    pub by: AccountName,
    #[serde(default)]
    pub reason: String,
}

/// Who acts for whom, for which items, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mandate {
    pub id: MandateId,
    pub agent: AccountName,
    pub agent_name: String,
    /// The applicant the agent acts for (委托人).
    pub principal: Applicant,
    pub items: ItemScope,
    pub valid_from: Date,
    /// The last day the mandate holds.
    pub valid_until: Date,
    pub source: MandateSource,
    /// The applicant's own account (online) or the clerk's (paper).
    pub recorded_by: AccountName,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

/// What a new mandate asks for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: MandateId,
    pub principal: Applicant,
    pub items: ItemScope,
    pub valid_from: Date,
    pub valid_until: Date,
    pub source: MandateSource,
    pub recorded_by: AccountName,
}

/// Where a mandate stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MandateStatus {
    /// Not valid yet.
    Pending,
    Active,
    Expired,
    Revoked,
}

impl MandateStatus {
    pub fn code(&self) -> &'static str {
        match self {
            MandateStatus::Pending => "pending",
            MandateStatus::Active => "active",
            MandateStatus::Expired => "expired",
            MandateStatus::Revoked => "revoked",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            MandateStatus::Pending => "未生效",
            MandateStatus::Active => "有效",
            MandateStatus::Expired => "已到期",
            MandateStatus::Revoked => "已撤销",
        }
    }

    pub fn label_en(&self) -> &'static str {
        match self {
            MandateStatus::Pending => "Not yet valid",
            MandateStatus::Active => "Valid",
            MandateStatus::Expired => "Expired",
            MandateStatus::Revoked => "Revoked",
        }
    }
}

/// Why an agent may not act for an applicant. Each reason has a stable code; the API returns it
/// as `details.reason` of the error `no_valid_mandate`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the account is not a registered agent")]
    NotRegistered,
    #[error("the agent's registration is suspended")]
    AgentInactive,
    #[error("the applicant has given this agent no mandate")]
    NoMandate,
    #[error("the mandate holds only from {from}")]
    NotYetValid { from: Date },
    #[error("the mandate expired after {until}")]
    Expired { until: Date },
    #[error("the mandate was revoked on {on}")]
    Revoked { on: Date },
    #[error("the mandate does not cover item {item}")]
    ItemNotCovered { item: ImplementationCode },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotRegistered => "not_registered",
            Refusal::AgentInactive => "agent_inactive",
            Refusal::NoMandate => "no_mandate",
            Refusal::NotYetValid { .. } => "not_yet_valid",
            Refusal::Expired { .. } => "expired",
            Refusal::Revoked { .. } => "revoked",
            Refusal::ItemNotCovered { .. } => "item_not_covered",
        }
    }

    /// Plain words for pages.
    pub fn text_zh(&self) -> String {
        match self {
            Refusal::NotRegistered => "您不是登记在册的代办员".to_owned(),
            Refusal::AgentInactive => "您的代办员登记已暂停".to_owned(),
            Refusal::NoMandate => "申请人未委托您代为办理".to_owned(),
            Refusal::NotYetValid { from } => format!("委托自 {from} 起生效"),
            Refusal::Expired { until } => format!("委托已于 {until} 到期"),
            Refusal::Revoked { on } => format!("委托已于 {on} 撤销"),
            Refusal::ItemNotCovered { .. } => "委托不包含该事项".to_owned(),
        }
    }
}

impl Mandate {
    /// Grants a mandate to an active agent. The validity runs from `valid_from` (today or later)
    /// to `valid_until` (on or after it, at most [`MAX_MANDATE_DAYS`] later); a list of items is
    /// not empty and names each item once.
    pub fn grant(
        grant: Grant,
        agent: &Agent,
        today: Date,
        at: Timestamp,
    ) -> Result<Mandate, AgentError> {
        if !agent.active {
            return Err(AgentError::Invalid(format!(
                "agent {} is not active; choose another agent",
                agent.account
            )));
        }
        if grant.principal.name.trim().is_empty() || grant.principal.identifier.trim().is_empty() {
            return Err(AgentError::Invalid(
                "the applicant's name and identifier are required".into(),
            ));
        }
        if grant.valid_from < today {
            return Err(AgentError::Invalid(format!(
                "a mandate starts today ({today}) or later, not {}",
                grant.valid_from
            )));
        }
        if grant.valid_until < grant.valid_from {
            return Err(AgentError::Invalid(
                "a mandate ends on or after the day it starts".into(),
            ));
        }
        let longest = grant
            .valid_from
            .checked_add(jiff::Span::new().days(MAX_MANDATE_DAYS))
            .unwrap_or(Date::MAX);
        if grant.valid_until > longest {
            return Err(AgentError::Invalid(format!(
                "a mandate holds for at most three years (until {longest})"
            )));
        }
        if let ItemScope::Listed { items } = &grant.items {
            if items.is_empty() {
                return Err(AgentError::Invalid(
                    "name the items of the mandate, or give it for every item".into(),
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for item in items {
                if !seen.insert(item) {
                    return Err(AgentError::Invalid(format!("item {item} is listed twice")));
                }
            }
        }
        Ok(Mandate {
            id: grant.id,
            agent: agent.account.clone(),
            agent_name: agent.name.clone(),
            principal: grant.principal,
            items: grant.items,
            valid_from: grant.valid_from,
            valid_until: grant.valid_until,
            source: grant.source,
            recorded_by: grant.recorded_by,
            created_at: at,
            revoked: None,
        })
    }

    /// Ends the mandate now. A revoked mandate cannot be revoked again.
    pub fn revoke(
        &self,
        by: AccountName,
        reason: &str,
        at: Timestamp,
    ) -> Result<Mandate, AgentError> {
        if self.revoked.is_some() {
            return Err(AgentError::IllegalTransition {
                what: "mandate",
                action: "revoke",
                state: "revoked",
            });
        }
        let mut next = self.clone();
        next.revoked = Some(Revocation {
            at,
            by,
            reason: reason.trim().to_owned(),
        });
        Ok(next)
    }

    pub fn status_on(&self, today: Date) -> MandateStatus {
        if let Some(revocation) = &self.revoked
            && shanghai_date(revocation.at) <= today
        {
            return MandateStatus::Revoked;
        }
        if today < self.valid_from {
            MandateStatus::Pending
        } else if today > self.valid_until {
            MandateStatus::Expired
        } else {
            MandateStatus::Active
        }
    }

    /// Whether this mandate lets its agent act for its applicant on `item` (any item when
    /// `None`, e.g. booking a visit to a hall) on `today`.
    pub fn check(&self, item: Option<&ImplementationCode>, today: Date) -> Result<(), Refusal> {
        match self.status_on(today) {
            MandateStatus::Revoked => {
                let on = self.revoked.as_ref().map_or(today, |r| shanghai_date(r.at));
                return Err(Refusal::Revoked { on });
            }
            MandateStatus::Pending => {
                return Err(Refusal::NotYetValid {
                    from: self.valid_from,
                });
            }
            MandateStatus::Expired => {
                return Err(Refusal::Expired {
                    until: self.valid_until,
                });
            }
            MandateStatus::Active => {}
        }
        if let Some(item) = item
            && !self.items.covers(item)
        {
            return Err(Refusal::ItemNotCovered { item: item.clone() });
        }
        Ok(())
    }
}

/// Whether `agent` (its registration, if any) may act for the applicant `principal` (ID number
/// or credit code) on `item` on `today`, under one of `mandates`. Returns the mandate that covers
/// it; otherwise the reason, from the most recent mandate between the two when there are several
/// (the one the agent most likely relies on).
pub fn authorise<'a>(
    agent: Option<&Agent>,
    mandates: &'a [Mandate],
    principal: &str,
    item: Option<&ImplementationCode>,
    today: Date,
) -> Result<&'a Mandate, Refusal> {
    let Some(agent) = agent else {
        return Err(Refusal::NotRegistered);
    };
    if !agent.active {
        return Err(Refusal::AgentInactive);
    }
    let mut latest_refusal: Option<(Timestamp, Refusal)> = None;
    for mandate in mandates
        .iter()
        .filter(|m| m.agent == agent.account && m.principal.identifier == principal)
    {
        match mandate.check(item, today) {
            Ok(()) => return Ok(mandate),
            Err(refusal) => {
                if latest_refusal
                    .as_ref()
                    .is_none_or(|(at, _)| mandate.created_at > *at)
                {
                    latest_refusal = Some((mandate.created_at, refusal));
                }
            }
        }
    }
    Err(latest_refusal.map_or(Refusal::NoMandate, |(_, refusal)| refusal))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::agents::AgentLevel;
    use crate::cases::ApplicantKind;
    use crate::ids::RegionCode;

    const BIRTH: &str = "11990100004213675N2000101000000";
    const ID_CARD: &str = "11990100004213712W2000109000000";
    const WANG_FANG: &str = "990102199006200045";

    fn item(code: &str) -> ImplementationCode {
        ImplementationCode::parse(code).unwrap()
    }

    fn at() -> Timestamp {
        // 2026-03-02 09:00 in Shanghai.
        Timestamp::from_second(1_772_413_200).unwrap()
    }

    fn today() -> Date {
        date(2026, 3, 2)
    }

    fn agent(active: bool) -> Agent {
        Agent {
            account: AccountName::parse("agent").unwrap(),
            name: "郑芳".into(),
            level: AgentLevel::District,
            region: RegionCode::parse("990102").unwrap(),
            hall: None,
            active,
            registered_at: at(),
            updated_at: at(),
        }
    }

    fn principal() -> Applicant {
        Applicant {
            kind: ApplicantKind::Person,
            name: "王芳".into(),
            identifier: WANG_FANG.into(),
            account: Some(AccountName::parse("citizen2").unwrap()),
        }
    }

    fn grant(items: ItemScope, from: Date, until: Date) -> Grant {
        Grant {
            id: MandateId::from_uuid(uuid::Uuid::from_u128(1)),
            principal: principal(),
            items,
            valid_from: from,
            valid_until: until,
            source: MandateSource::Online,
            recorded_by: AccountName::parse("citizen2").unwrap(),
        }
    }

    fn listed(codes: &[&str]) -> ItemScope {
        ItemScope::Listed {
            items: codes.iter().map(|c| item(c)).collect(),
        }
    }

    fn mandate(items: ItemScope, from: Date, until: Date) -> Mandate {
        Mandate::grant(grant(items, from, until), &agent(true), today(), at()).unwrap()
    }

    #[test]
    fn a_mandate_covers_its_agent_applicant_items_and_days() {
        let mandates = [mandate(listed(&[BIRTH]), today(), date(2026, 12, 31))];
        let found = authorise(
            Some(&agent(true)),
            &mandates,
            WANG_FANG,
            Some(&item(BIRTH)),
            date(2026, 12, 31),
        )
        .unwrap();
        assert_eq!(found.id, mandates[0].id);
    }

    #[test]
    fn each_refusal_names_its_reason() {
        let until = date(2026, 6, 30);
        let mandates = [mandate(listed(&[BIRTH]), date(2026, 3, 10), until)];
        let check = |agent: Option<&Agent>, who: &str, code: &str, day: Date| {
            authorise(agent, &mandates, who, Some(&item(code)), day).unwrap_err()
        };
        let active = agent(true);
        assert_eq!(
            check(None, WANG_FANG, BIRTH, date(2026, 4, 1)),
            Refusal::NotRegistered
        );
        assert_eq!(
            check(Some(&agent(false)), WANG_FANG, BIRTH, date(2026, 4, 1)),
            Refusal::AgentInactive
        );
        assert_eq!(
            check(Some(&active), "990102198803150031", BIRTH, date(2026, 4, 1)),
            Refusal::NoMandate
        );
        assert_eq!(
            check(Some(&active), WANG_FANG, BIRTH, date(2026, 3, 9)),
            Refusal::NotYetValid {
                from: date(2026, 3, 10)
            }
        );
        assert_eq!(
            check(Some(&active), WANG_FANG, BIRTH, date(2026, 7, 1)),
            Refusal::Expired { until }
        );
        let refusal = check(Some(&active), WANG_FANG, ID_CARD, date(2026, 4, 1));
        assert_eq!(refusal.code(), "item_not_covered");
        let revoked = [mandates[0]
            .revoke(
                AccountName::parse("citizen2").unwrap(),
                "",
                jiff::civil::datetime(2026, 4, 2, 10, 0, 0, 0)
                    .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                    .unwrap()
                    .timestamp(),
            )
            .unwrap()];
        assert!(
            authorise(
                Some(&active),
                &revoked,
                WANG_FANG,
                Some(&item(BIRTH)),
                date(2026, 4, 1)
            )
            .is_ok(),
            "a revocation does not reach back"
        );
        assert_eq!(
            authorise(
                Some(&active),
                &revoked,
                WANG_FANG,
                Some(&item(BIRTH)),
                date(2026, 4, 2)
            )
            .unwrap_err(),
            Refusal::Revoked {
                on: date(2026, 4, 2)
            }
        );
    }

    #[test]
    fn another_agents_mandate_does_not_count() {
        let mut theirs = mandate(ItemScope::All, today(), date(2026, 12, 31));
        theirs.agent = AccountName::parse("agent2").unwrap();
        let refusal = authorise(
            Some(&agent(true)),
            &[theirs],
            WANG_FANG,
            Some(&item(BIRTH)),
            today(),
        )
        .unwrap_err();
        assert_eq!(refusal, Refusal::NoMandate);
    }

    #[test]
    fn one_covering_mandate_is_enough_and_the_latest_explains_a_refusal() {
        let old = mandate(listed(&[BIRTH]), today(), date(2026, 3, 31));
        let mut newer = mandate(listed(&[ID_CARD]), today(), date(2026, 12, 31));
        newer.id = MandateId::from_uuid(uuid::Uuid::from_u128(2));
        newer.created_at = at() + jiff::SignedDuration::from_hours(1);
        let mandates = [old, newer];
        let active = agent(true);
        let on_id_card = authorise(
            Some(&active),
            &mandates,
            WANG_FANG,
            Some(&item(ID_CARD)),
            date(2026, 5, 1),
        );
        assert_eq!(on_id_card.unwrap().id, mandates[1].id);
        let refusal = authorise(
            Some(&active),
            &mandates,
            WANG_FANG,
            Some(&item(BIRTH)),
            date(2026, 5, 1),
        )
        .unwrap_err();
        assert_eq!(
            refusal.code(),
            "item_not_covered",
            "the newer mandate explains, not the expired older one"
        );
        assert!(
            authorise(Some(&active), &mandates, WANG_FANG, None, date(2026, 5, 1)).is_ok(),
            "any active mandate lets the agent book a visit for the applicant"
        );
    }

    #[test]
    fn a_grant_is_refused_for_bad_dates_empty_lists_and_inactive_agents() {
        let grant_with = |items, from, until| {
            Mandate::grant(grant(items, from, until), &agent(true), today(), at())
        };
        assert!(
            grant_with(ItemScope::All, date(2026, 3, 1), date(2026, 4, 1)).is_err(),
            "backdated"
        );
        assert!(
            grant_with(ItemScope::All, date(2026, 4, 2), date(2026, 4, 1)).is_err(),
            "ends before it starts"
        );
        assert!(
            grant_with(ItemScope::All, today(), date(2029, 12, 31)).is_err(),
            "longer than three years"
        );
        assert!(
            grant_with(listed(&[]), today(), date(2026, 4, 1)).is_err(),
            "no items"
        );
        assert!(
            grant_with(listed(&[BIRTH, BIRTH]), today(), date(2026, 4, 1)).is_err(),
            "twice"
        );
        assert!(
            grant_with(ItemScope::All, today(), today()).is_ok(),
            "one day"
        );
        let inactive = Mandate::grant(
            grant(ItemScope::All, today(), date(2026, 4, 1)),
            &agent(false),
            today(),
            at(),
        );
        assert_eq!(inactive.unwrap_err().code(), "invalid_agent_request");
    }

    #[test]
    fn a_revoked_mandate_cannot_be_revoked_again() {
        let revoked = mandate(ItemScope::All, today(), date(2026, 4, 1))
            .revoke(AccountName::parse("citizen2").unwrap(), "不再需要", at())
            .unwrap();
        assert_eq!(revoked.status_on(today()), MandateStatus::Revoked);
        let again = revoked.revoke(AccountName::parse("citizen2").unwrap(), "", at());
        assert_eq!(again.unwrap_err().code(), "illegal_transition");
    }
}
