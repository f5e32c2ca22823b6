//! The 12345 hotline (接诉即办): tickets (工单) and their closed loop
//! 受理 → 派单 → 办理 → 答复 → 督办 → 办结 → 回访 → 评价 (国办发〔2020〕53号, GB/T 33358-2016).
//!
//! An operator registers a ticket; routing rules (category × area, data in
//! `data/demo/hotline.toml`) suggest the department; the dispatcher sends it with a deadline from
//! the [`DeadlinePolicy`] (per type and urgency, in working days on the official calendar). The
//! department may ask to return it (退单, with a reason, the dispatcher decides) or ask for more
//! time (延期, approved by the dispatcher); the dispatcher may remind (催办) and supervise (督办).
//! Co-handling departments (协办单位) see the ticket and give their opinion (协办意见) for the
//! lead department's reply. The reminder job sends one reminder (到期提醒) per deadline once it
//! is within [`DeadlinePolicy::remind_before_days`] working days (or past).
//! The department replies (答复); the callback (回访) records satisfaction and whether the matter
//! was resolved; an unhappy callback reopens the ticket to the same department with a new
//! deadline, a happy one closes it. A consultation can be answered at intake (直接办结). A
//! duplicate is merged into an earlier ticket.
//!
//! ```
//! use tongban_domain::hotline::{TicketType, Urgency, DeadlinePolicy, DueRule};
//! let policy = DeadlinePolicy::default();
//! assert_eq!(policy.rule(TicketType::Complaint, Urgency::Normal), DueRule::WorkingDays(13));
//! assert_eq!(policy.rule(TicketType::Complaint, Urgency::Emergency), DueRule::SameDay);
//! ```

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::keys::DepartmentKey;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => $code:literal, $zh:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            pub fn parse(value: &str) -> Result<$name, HotlineError> {
                match value {
                    $($code => Ok($name::$variant),)+
                    other => Err(HotlineError::Invalid(format!(concat!("unknown ", $what, " {:?}"), other))),
                }
            }
        }
    };
}

code_enum!(
    /// How the matter reached the hotline.
    TicketChannel, "channel", {
        Phone => "phone", "电话",
        Web => "web", "网站",
        App => "app", "移动端",
        Sms => "sms", "短信",
        Wechat => "wechat", "微信",
        Mailbox => "mailbox", "信箱",
    }
);

code_enum!(
    /// The kind of matter (诉求类型).
    TicketType, "ticket type", {
        Consultation => "consultation", "咨询",
        Help => "help", "求助",
        Complaint => "complaint", "投诉",
        Report => "report", "举报",
        Suggestion => "suggestion", "建议",
        Praise => "praise", "表扬",
    }
);

code_enum!(
    /// How fast it must be handled.
    Urgency, "urgency", {
        Normal => "normal", "一般",
        Urgent => "urgent", "紧急",
        Emergency => "emergency", "特急",
    }
);

code_enum!(
    /// The caller's satisfaction at the callback.
    Satisfaction, "satisfaction", {
        Satisfied => "satisfied", "满意",
        Basic => "basic", "基本满意",
        Dissatisfied => "dissatisfied", "不满意",
    }
);

code_enum!(
    /// Where a ticket is in the loop.
    TicketState, "ticket state", {
        Registered => "registered", "已受理",
        Dispatched => "dispatched", "办理中",
        ReturnRequested => "return_requested", "退单审核",
        Replied => "replied", "待回访",
        Closed => "closed", "已办结",
        Merged => "merged", "已合并",
    }
);

/// How a deadline is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "days")]
pub enum DueRule {
    /// The day the ticket is dispatched (emergencies: the same day, or 2 hours in some places).
    SameDay,
    WorkingDays(u32),
}

/// Deadlines per type and urgency (REFERENCE §6: local rules; these are the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadlinePolicy {
    /// 咨询, 求助, 表扬: 3 working days.
    pub consultation_days: u32,
    pub help_days: u32,
    pub praise_days: u32,
    /// 投诉, 举报, 建议: 13 working days.
    pub complaint_days: u32,
    pub report_days: u32,
    pub suggestion_days: u32,
    /// Urgent matters: at most this many working days.
    pub urgent_days: u32,
    /// Reminders (催办提醒) go out this many working days before the deadline.
    pub remind_before_days: u32,
    /// Longest extension the dispatcher may grant at once.
    pub max_extension_days: u32,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            consultation_days: 3,
            help_days: 3,
            praise_days: 3,
            complaint_days: 13,
            report_days: 13,
            suggestion_days: 13,
            urgent_days: 1,
            remind_before_days: 1,
            max_extension_days: 10,
        }
    }
}

impl DeadlinePolicy {
    /// Checks configured values: every deadline 1 to 60 working days, reminders at most 10
    /// working days before, extensions 1 to 60 working days.
    pub fn check(&self) -> Result<(), HotlineError> {
        let deadlines = [
            ("consultation_days", self.consultation_days),
            ("help_days", self.help_days),
            ("praise_days", self.praise_days),
            ("complaint_days", self.complaint_days),
            ("report_days", self.report_days),
            ("suggestion_days", self.suggestion_days),
            ("urgent_days", self.urgent_days),
            ("max_extension_days", self.max_extension_days),
        ];
        for (name, days) in deadlines {
            if !(1..=60).contains(&days) {
                return Err(HotlineError::Invalid(format!(
                    "{name} is {days}; it must be 1 to 60 working days"
                )));
            }
        }
        if self.remind_before_days > 10 {
            return Err(HotlineError::Invalid(format!(
                "remind_before_days is {}; it must be at most 10 working days",
                self.remind_before_days
            )));
        }
        Ok(())
    }

    pub fn rule(&self, kind: TicketType, urgency: Urgency) -> DueRule {
        let days = match kind {
            TicketType::Consultation => self.consultation_days,
            TicketType::Help => self.help_days,
            TicketType::Praise => self.praise_days,
            TicketType::Complaint => self.complaint_days,
            TicketType::Report => self.report_days,
            TicketType::Suggestion => self.suggestion_days,
        };
        match urgency {
            Urgency::Emergency => DueRule::SameDay,
            Urgency::Urgent => DueRule::WorkingDays(days.min(self.urgent_days)),
            Urgency::Normal => DueRule::WorkingDays(days),
        }
    }

    /// The deadline of a ticket dispatched on `from` (that day not counted).
    pub fn due_on(
        &self,
        calendar: &Calendar,
        kind: TicketType,
        urgency: Urgency,
        from: Date,
    ) -> Result<Date, HotlineError> {
        match self.rule(kind, urgency) {
            DueRule::SameDay => Ok(from),
            DueRule::WorkingDays(days) => Ok(calendar.add_working_days(from, days)?),
        }
    }

    /// Whether a ticket due on `due_on` and still being handled should be reminded on `today`:
    /// within `remind_before_days` working days of the deadline, or past it.
    pub fn needs_reminder(
        &self,
        calendar: &Calendar,
        due_on: Date,
        today: Date,
    ) -> Result<bool, HotlineError> {
        if today >= due_on {
            return Ok(true);
        }
        Ok(calendar.working_days_between(today, due_on)? <= i64::from(self.remind_before_days))
    }
}

/// A routing rule: tickets of `category` in an area starting with `area` go to `department`.
/// `area` "*" matches everywhere; the longest matching area wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    pub category: String,
    pub area: String,
    pub department: DepartmentKey,
}

/// The routing table (data, loaded from TOML and validated at load time).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingTable {
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub rules: Vec<RoutingRule>,
}

/// A ticket category (诉求分类), e.g. `road` 道路交通.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name: String,
}

impl RoutingTable {
    /// Parses and checks the table: every rule's category is listed, no rule is given twice.
    pub fn parse_toml(text: &str) -> Result<RoutingTable, HotlineError> {
        let table: RoutingTable =
            toml::from_str(text).map_err(|error| HotlineError::Invalid(error.to_string()))?;
        table.check()?;
        Ok(table)
    }

    /// Checks a table however it was read (a file, the configuration): at least one category,
    /// categories given once, every rule's category listed and its area `*` or a region-code
    /// prefix, no rule given twice.
    pub fn check(&self) -> Result<(), HotlineError> {
        let table = self;
        if table.categories.is_empty() {
            return Err(HotlineError::Invalid(
                "the routing table lists no category".into(),
            ));
        }
        let mut codes = std::collections::BTreeSet::new();
        for category in &table.categories {
            if category.code.trim().is_empty() || !codes.insert(category.code.as_str()) {
                return Err(HotlineError::Invalid(format!(
                    "routing category {:?} is empty or given twice",
                    category.code
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for rule in &table.rules {
            if !table.categories.iter().any(|c| c.code == rule.category) {
                return Err(HotlineError::Invalid(format!(
                    "routing rule for unknown category {:?}",
                    rule.category
                )));
            }
            if rule.area != "*" && !rule.area.chars().all(|c| c.is_ascii_digit()) {
                return Err(HotlineError::Invalid(format!(
                    "routing area {:?} is neither \"*\" nor a region code prefix",
                    rule.area
                )));
            }
            if !seen.insert((rule.category.clone(), rule.area.clone())) {
                return Err(HotlineError::Invalid(format!(
                    "routing rule {} × {} is given twice",
                    rule.category, rule.area
                )));
            }
        }
        Ok(())
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The department for a category in an area (a region code), by the most specific rule.
    pub fn route(&self, category: &str, area: &str) -> Option<&DepartmentKey> {
        let mut best: Option<(&RoutingRule, usize)> = None;
        for rule in &self.rules {
            if rule.category != category {
                continue;
            }
            let specificity = if rule.area == "*" {
                0
            } else if area.starts_with(rule.area.as_str()) {
                rule.area.len()
            } else {
                continue;
            };
            if best.is_none_or(|(_, current)| specificity > current) {
                best = Some((rule, specificity));
            }
        }
        best.map(|(rule, _)| &rule.department)
    }
}

/// The most catalog items (办事指南) one consultation links to.
pub const MAX_LINKED_ITEMS: usize = 10;

/// What an operator registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketIntake {
    pub channel: TicketChannel,
    pub kind: TicketType,
    pub category: String,
    /// Region code of the place concerned (GB/T 2260, 6 or 12 digits).
    pub area: String,
    #[serde(default)]
    pub location: String,
    pub urgency: Urgency,
    pub description: String,
    #[serde(default)]
    pub attachments: Vec<String>,
    /// 保密: the caller's contact is hidden from the handling department.
    pub confidential: bool,
    #[serde(default)]
    pub caller_name: String,
    #[serde(default)]
    pub caller_phone: String,
    /// The citizen's account when they filed it themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_account: Option<String>,
    /// Catalog items linked to a consultation (办事指南).
    #[serde(default)]
    pub linked_items: Vec<String>,
}

impl TicketIntake {
    /// Checks the intake against the routing table's categories.
    pub fn check(&self, routing: &RoutingTable) -> Result<(), HotlineError> {
        if routing.category(&self.category).is_none() {
            return Err(HotlineError::Invalid(format!(
                "unknown category {:?}",
                self.category
            )));
        }
        let area_ok = (self.area.len() == 6 || self.area.len() == 12)
            && self.area.chars().all(|c| c.is_ascii_digit());
        if !area_ok {
            return Err(HotlineError::Invalid(
                "area must be a 6- or 12-digit region code".into(),
            ));
        }
        let description = self.description.trim();
        if description.is_empty() {
            return Err(HotlineError::Invalid("description is required".into()));
        }
        if description.chars().count() > 4000 {
            return Err(HotlineError::Invalid(
                "description is longer than 4000 characters".into(),
            ));
        }
        if self.attachments.len() > 10 {
            return Err(HotlineError::Invalid("at most 10 attachments".into()));
        }
        if self.linked_items.len() > MAX_LINKED_ITEMS {
            return Err(HotlineError::Invalid(format!(
                "at most {MAX_LINKED_ITEMS} linked catalog items"
            )));
        }
        Ok(())
    }
}

/// A request for more time, pending the dispatcher's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub days: u32,
    pub reason: String,
}

/// The callback's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketCallback {
    pub satisfaction: Satisfaction,
    pub resolved: bool,
    #[serde(default)]
    pub note: String,
}

impl TicketCallback {
    /// An unhappy callback (不满意 or unresolved) reopens the ticket.
    pub fn is_unhappy(&self) -> bool {
        self.satisfaction == Satisfaction::Dissatisfied || !self.resolved
    }
}

/// One step of a ticket's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEvent {
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A hotline ticket (工单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: uuid::Uuid,
    /// Assigned by the store: `RX` + YYYYMMDD + sequence.
    pub number: String,
    pub version: u64,
    pub intake: TicketIntake,
    pub state: TicketState,
    pub received_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    #[serde(default)]
    pub co_handlers: Vec<DepartmentKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatched_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_extension: Option<ExtensionRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<String>,
    #[serde(default)]
    pub reminders: u32,
    /// The deadline the automatic reminder (到期提醒) was last sent for: one reminder per
    /// deadline, so an approved extension or a reopen (which move the deadline) earns a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_reminder_for: Option<Date>,
    #[serde(default)]
    pub supervised: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_at: Option<Timestamp>,
    /// Replied on or before the deadline (fixed at the reply, for 按时办结率).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_on_time: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<TicketCallback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    #[serde(default)]
    pub reopened: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    pub events: Vec<TicketEvent>,
}

/// An action on a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketAction {
    /// 派单 (dispatcher): to a department, with co-handlers (协办).
    Dispatch {
        department: DepartmentKey,
        co_handlers: Vec<DepartmentKey>,
    },
    /// 直接办结 (operator): a consultation answered at intake.
    AnswerAtIntake { answer: String },
    /// 退单申请 (department).
    RequestReturn { reason: String },
    /// 退单审核 (dispatcher): approved → back to registered for re-dispatch.
    DecideReturn { approved: bool, note: String },
    /// 延期申请 (department).
    RequestExtension { days: u32, reason: String },
    /// 延期审批 (dispatcher).
    DecideExtension { approved: bool },
    /// 催办 (dispatcher).
    Remind { note: String },
    /// 到期提醒 (the reminder job): the deadline is within the policy's reminder window (or
    /// past), and no reminder was sent for this deadline yet.
    DeadlineReminder,
    /// 协办意见 (a co-handling department): its contribution, for the lead department's reply.
    Assist {
        department: DepartmentKey,
        note: String,
    },
    /// 督办 (supervisor).
    Supervise { note: String },
    /// 答复 (department).
    Reply { text: String },
    /// 回访 (operator): unhappy → reopened to the same department.
    CallBack(TicketCallback),
    /// 合并 (dispatcher): a duplicate of an earlier ticket.
    MergeInto { number: String },
}

impl TicketAction {
    pub fn name(&self) -> &'static str {
        match self {
            TicketAction::Dispatch { .. } => "dispatch",
            TicketAction::AnswerAtIntake { .. } => "answer_at_intake",
            TicketAction::RequestReturn { .. } => "request_return",
            TicketAction::DecideReturn { .. } => "decide_return",
            TicketAction::RequestExtension { .. } => "request_extension",
            TicketAction::DecideExtension { .. } => "decide_extension",
            TicketAction::Remind { .. } => "remind",
            TicketAction::DeadlineReminder => "deadline_reminder",
            TicketAction::Assist { .. } => "assist",
            TicketAction::Supervise { .. } => "supervise",
            TicketAction::Reply { .. } => "reply",
            TicketAction::CallBack(_) => "call_back",
            TicketAction::MergeInto { .. } => "merge",
        }
    }
}

/// The context an action needs: the calendar, the policy and today's date (from the clock).
#[derive(Debug, Clone, Copy)]
pub struct TicketContext<'a> {
    pub calendar: &'a Calendar,
    pub policy: &'a DeadlinePolicy,
    pub today: Date,
}

impl Ticket {
    pub fn register(
        id: uuid::Uuid,
        intake: TicketIntake,
        routing: &RoutingTable,
        actor: &str,
        at: Timestamp,
    ) -> Result<Ticket, HotlineError> {
        intake.check(routing)?;
        Ok(Ticket {
            id,
            number: String::new(),
            version: 1,
            intake,
            state: TicketState::Registered,
            received_at: at,
            department: None,
            co_handlers: Vec::new(),
            dispatched_at: None,
            due_on: None,
            pending_extension: None,
            return_reason: None,
            reminders: 0,
            deadline_reminder_for: None,
            supervised: false,
            reply: None,
            replied_at: None,
            replied_on_time: None,
            callback: None,
            closed_at: None,
            reopened: 0,
            merged_into: None,
            events: vec![TicketEvent {
                at,
                actor: actor.to_owned(),
                kind: "registered".into(),
                department: None,
                note: String::new(),
            }],
        })
    }

    /// Still with a department and past its deadline on `today`.
    pub fn is_overdue(&self, today: Date) -> bool {
        matches!(
            self.state,
            TicketState::Dispatched | TicketState::ReturnRequested
        ) && self.due_on.is_some_and(|due| today > due)
    }

    /// Whether `department` handles the ticket (lead or co-handler).
    pub fn is_handled_by(&self, department: &DepartmentKey) -> bool {
        self.department.as_ref() == Some(department) || self.co_handlers.contains(department)
    }

    /// Applies an action; on error nothing changes.
    pub fn apply(
        &mut self,
        action: TicketAction,
        context: TicketContext<'_>,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), HotlineError> {
        let mut next = self.clone();
        let mut kind = action.name().to_owned();
        let mut note = String::new();
        // The department the event is about, when it is not the lead (a co-handler's opinion).
        let mut event_department = None;
        use TicketState as S;
        match (self.state, action) {
            (
                S::Registered,
                TicketAction::Dispatch {
                    department,
                    co_handlers,
                },
            ) => {
                if co_handlers.contains(&department) {
                    return Err(HotlineError::Invalid(
                        "the lead department cannot also be a co-handler".into(),
                    ));
                }
                next.due_on = Some(context.policy.due_on(
                    context.calendar,
                    self.intake.kind,
                    self.intake.urgency,
                    context.today,
                )?);
                note = department.to_string();
                next.department = Some(department);
                next.co_handlers = co_handlers;
                next.dispatched_at = Some(at);
                next.return_reason = None;
                next.state = S::Dispatched;
            }
            (S::Registered, TicketAction::AnswerAtIntake { answer }) => {
                if self.intake.kind != TicketType::Consultation {
                    return Err(HotlineError::Invalid(
                        "only a consultation can be answered at intake".into(),
                    ));
                }
                let answer = required("answer", &answer)?;
                next.reply = Some(answer);
                next.replied_at = Some(at);
                next.replied_on_time = Some(true);
                next.state = S::Replied;
            }
            (S::Dispatched, TicketAction::RequestReturn { reason }) => {
                note = required("reason", &reason)?;
                next.return_reason = Some(note.clone());
                next.state = S::ReturnRequested;
            }
            (
                S::ReturnRequested,
                TicketAction::DecideReturn {
                    approved,
                    note: text,
                },
            ) => {
                note = text.trim().to_owned();
                if approved {
                    kind = "return_approved".into();
                    next.department = None;
                    next.co_handlers = Vec::new();
                    next.due_on = None;
                    next.pending_extension = None;
                    next.state = S::Registered;
                } else {
                    kind = "return_rejected".into();
                    next.state = S::Dispatched;
                }
            }
            (S::Dispatched, TicketAction::RequestExtension { days, reason }) => {
                if self.pending_extension.is_some() {
                    return Err(HotlineError::Invalid(
                        "an extension request is already pending".into(),
                    ));
                }
                if days == 0 || days > context.policy.max_extension_days {
                    return Err(HotlineError::Invalid(format!(
                        "an extension is 1 to {} working days",
                        context.policy.max_extension_days
                    )));
                }
                let reason = required("reason", &reason)?;
                note = format!("{days}: {reason}");
                next.pending_extension = Some(ExtensionRequest { days, reason });
            }
            (S::Dispatched | S::ReturnRequested, TicketAction::DecideExtension { approved }) => {
                let Some(request) = self.pending_extension.clone() else {
                    return Err(HotlineError::Invalid(
                        "no extension request is pending".into(),
                    ));
                };
                if approved {
                    kind = "extension_approved".into();
                    let due = self.due_on.unwrap_or(context.today);
                    let new_due = context.calendar.add_working_days(due, request.days)?;
                    note = new_due.to_string();
                    next.due_on = Some(new_due);
                } else {
                    kind = "extension_rejected".into();
                }
                next.pending_extension = None;
            }
            (S::Dispatched | S::ReturnRequested, TicketAction::Remind { note: text }) => {
                note = text.trim().to_owned();
                next.reminders += 1;
            }
            (S::Dispatched | S::ReturnRequested, TicketAction::DeadlineReminder) => {
                let Some(due) = self.due_on else {
                    return Err(HotlineError::Invalid("the ticket has no deadline".into()));
                };
                if self.deadline_reminder_for == Some(due) {
                    return Err(HotlineError::Invalid(format!(
                        "a reminder for the deadline {due} was already sent"
                    )));
                }
                if !context
                    .policy
                    .needs_reminder(context.calendar, due, context.today)?
                {
                    return Err(HotlineError::Invalid(format!(
                        "the deadline {due} is not within the reminder window yet"
                    )));
                }
                note = due.to_string();
                next.deadline_reminder_for = Some(due);
            }
            (
                S::Dispatched | S::ReturnRequested,
                TicketAction::Assist {
                    department,
                    note: text,
                },
            ) => {
                if !self.co_handlers.contains(&department) {
                    return Err(HotlineError::Invalid(format!(
                        "{department} is not a co-handler of this ticket"
                    )));
                }
                note = required("note", &text)?;
                event_department = Some(department);
            }
            (
                S::Dispatched | S::ReturnRequested | S::Replied,
                TicketAction::Supervise { note: text },
            ) => {
                note = required("note", &text)?;
                next.supervised = true;
            }
            (S::Dispatched, TicketAction::Reply { text }) => {
                let text = required("reply", &text)?;
                next.reply = Some(text);
                next.replied_at = Some(at);
                next.replied_on_time = Some(self.due_on.is_none_or(|due| context.today <= due));
                next.pending_extension = None;
                next.state = S::Replied;
            }
            (S::Replied, TicketAction::CallBack(callback)) => {
                note = format!(
                    "{} {}",
                    callback.satisfaction.code(),
                    if callback.resolved {
                        "resolved"
                    } else {
                        "unresolved"
                    }
                );
                let unhappy = callback.is_unhappy();
                next.callback = Some(callback);
                if unhappy && self.department.is_some() {
                    // 重办: back to the same department with a fresh deadline.
                    kind = "reopened".into();
                    next.reopened += 1;
                    next.reply = None;
                    next.replied_at = None;
                    next.replied_on_time = None;
                    next.due_on = Some(context.policy.due_on(
                        context.calendar,
                        self.intake.kind,
                        self.intake.urgency,
                        context.today,
                    )?);
                    next.state = S::Dispatched;
                } else {
                    kind = "closed".into();
                    next.closed_at = Some(at);
                    next.state = S::Closed;
                }
            }
            (S::Registered | S::Dispatched, TicketAction::MergeInto { number }) => {
                let number = required("number", &number)?;
                if number == self.number {
                    return Err(HotlineError::Invalid(
                        "a ticket cannot be merged into itself".into(),
                    ));
                }
                note = number.clone();
                next.merged_into = Some(number);
                next.closed_at = Some(at);
                next.state = S::Merged;
            }
            (state, action) => {
                return Err(HotlineError::IllegalTransition {
                    action: action.name(),
                    state: state.code(),
                });
            }
        }
        next.version += 1;
        next.events.push(TicketEvent {
            at,
            actor: actor.to_owned(),
            kind,
            department: event_department.or_else(|| next.department.clone()),
            note,
        });
        *self = next;
        Ok(())
    }
}

/// How alike two ticket descriptions are: the Jaccard index of their character bigrams (0 to 1),
/// which works for Chinese without segmentation.
pub fn similarity(a: &str, b: &str) -> f64 {
    fn bigrams(text: &str) -> std::collections::BTreeSet<(char, char)> {
        let chars: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation())
            .collect();
        chars.windows(2).map(|pair| (pair[0], pair[1])).collect()
    }
    let left = bigrams(a);
    let right = bigrams(b);
    if left.is_empty() || right.is_empty() {
        return 0.0;
    }
    let shared = left.intersection(&right).count();
    let union = left.union(&right).count();
    #[expect(clippy::cast_precision_loss, reason = "bigram counts are small")]
    let index = shared as f64 / union as f64;
    index
}

/// A duplicate suggestion: same category and area and a description at least this similar.
pub const DUPLICATE_THRESHOLD: f64 = 0.5;

/// Whether `candidate` looks like a duplicate of `ticket` (same category, same area, similar text).
pub fn is_probable_duplicate(ticket: &TicketIntake, candidate: &TicketIntake) -> bool {
    ticket.category == candidate.category
        && ticket.area == candidate.area
        && similarity(&ticket.description, &candidate.description) >= DUPLICATE_THRESHOLD
}

fn required(field: &str, value: &str) -> Result<String, HotlineError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(HotlineError::Invalid(format!("{field} is required")));
    }
    if value.chars().count() > 4000 {
        return Err(HotlineError::Invalid(format!(
            "{field} is longer than 4000 characters"
        )));
    }
    Ok(value.to_owned())
}

/// Why a hotline action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HotlineError {
    #[error("the action {action} is not allowed while the ticket is {state}")]
    IllegalTransition {
        action: &'static str,
        state: &'static str,
    },
    #[error("invalid ticket: {0}")]
    Invalid(String),
    #[error("deadline computation failed: {0}")]
    Calendar(#[from] CalendarError),
}

impl HotlineError {
    pub fn code(&self) -> &'static str {
        match self {
            HotlineError::IllegalTransition { .. } => "illegal_transition",
            HotlineError::Invalid(_) => "invalid_ticket",
            HotlineError::Calendar(error) => error.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTING: &str = r#"
categories = [
  { code = "road", name = "道路交通" },
  { code = "noise", name = "噪声扰民" },
]
[[rules]]
category = "road"
area = "*"
department = "city-transport"
[[rules]]
category = "road"
area = "9901"
department = "district-transport"
[[rules]]
category = "noise"
area = "990102"
department = "district-environment"
"#;

    fn dept(key: &str) -> DepartmentKey {
        DepartmentKey::parse(key).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn intake(kind: TicketType, urgency: Urgency) -> TicketIntake {
        TicketIntake {
            channel: TicketChannel::Phone,
            kind,
            category: "road".into(),
            area: "990102".into(),
            location: "人民路".into(),
            urgency,
            description: "人民路井盖缺失，存在安全隐患".into(),
            attachments: Vec::new(),
            confidential: false,
            caller_name: "张三".into(),
            caller_phone: "13800000000".into(),
            caller_account: None,
            linked_items: Vec::new(),
        }
    }

    #[test]
    fn routing_prefers_the_most_specific_area() {
        let routing = RoutingTable::parse_toml(ROUTING).unwrap();
        assert_eq!(
            routing.route("road", "990102"),
            Some(&dept("district-transport"))
        );
        assert_eq!(
            routing.route("road", "980000"),
            Some(&dept("city-transport"))
        );
        assert_eq!(
            routing.route("noise", "990102"),
            Some(&dept("district-environment"))
        );
        assert_eq!(routing.route("noise", "990103"), None);
        assert_eq!(routing.route("water", "990102"), None);
    }

    #[test]
    fn routing_data_is_checked_at_load_time() {
        let unknown =
            "categories = []\n[[rules]]\ncategory = \"x\"\narea = \"*\"\ndepartment = \"d\"\n";
        assert!(RoutingTable::parse_toml(unknown).is_err());
        let twice = format!(
            "{ROUTING}\n[[rules]]\ncategory = \"road\"\narea = \"*\"\ndepartment = \"x\"\n"
        );
        assert!(RoutingTable::parse_toml(&twice).is_err());
        let bad_area = "categories = [{ code = \"x\", name = \"x\" }]\n[[rules]]\ncategory = \"x\"\narea = \"99*\"\ndepartment = \"d\"\n";
        assert!(RoutingTable::parse_toml(bad_area).is_err());
    }

    #[test]
    fn a_table_without_categories_or_with_a_category_twice_is_refused() {
        let table = RoutingTable::default();
        assert!(table.check().is_err());
        let twice = RoutingTable {
            categories: vec![
                Category {
                    code: "road".into(),
                    name: "道路".into(),
                },
                Category {
                    code: "road".into(),
                    name: "道路交通".into(),
                },
            ],
            rules: Vec::new(),
        };
        assert!(twice.check().is_err());
    }

    #[test]
    fn a_configured_deadline_changes_the_due_date_and_bad_values_are_refused() {
        let calendar = Calendar::official().unwrap();
        let monday = jiff::civil::date(2026, 3, 2);
        let default = DeadlinePolicy::default();
        // 13 working days after Mon 2026-03-02: Thu 2026-03-19; with 7 configured: Wed 03-11.
        assert_eq!(
            default
                .due_on(&calendar, TicketType::Complaint, Urgency::Normal, monday)
                .unwrap(),
            jiff::civil::date(2026, 3, 19)
        );
        let local = DeadlinePolicy {
            complaint_days: 7,
            ..DeadlinePolicy::default()
        };
        assert!(local.check().is_ok());
        assert_eq!(
            local
                .due_on(&calendar, TicketType::Complaint, Urgency::Normal, monday)
                .unwrap(),
            jiff::civil::date(2026, 3, 11)
        );
        for bad in [
            DeadlinePolicy {
                help_days: 0,
                ..DeadlinePolicy::default()
            },
            DeadlinePolicy {
                report_days: 61,
                ..DeadlinePolicy::default()
            },
            DeadlinePolicy {
                remind_before_days: 11,
                ..DeadlinePolicy::default()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_embedded_demo_routing_parses() {
        let routing =
            RoutingTable::parse_toml(include_str!("../../../data/demo/hotline.toml")).unwrap();
        assert!(routing.categories.len() >= 8);
        for category in &routing.categories {
            assert!(
                routing.route(&category.code, "990102").is_some(),
                "every demo category routes somewhere: {}",
                category.code
            );
        }
    }

    #[test]
    fn deadlines_per_type_and_urgency_follow_the_defaults() {
        let policy = DeadlinePolicy::default();
        let table = [
            (
                TicketType::Consultation,
                Urgency::Normal,
                DueRule::WorkingDays(3),
            ),
            (TicketType::Help, Urgency::Normal, DueRule::WorkingDays(3)),
            (
                TicketType::Complaint,
                Urgency::Normal,
                DueRule::WorkingDays(13),
            ),
            (
                TicketType::Report,
                Urgency::Normal,
                DueRule::WorkingDays(13),
            ),
            (
                TicketType::Suggestion,
                Urgency::Normal,
                DueRule::WorkingDays(13),
            ),
            (
                TicketType::Complaint,
                Urgency::Urgent,
                DueRule::WorkingDays(1),
            ),
            (TicketType::Help, Urgency::Emergency, DueRule::SameDay),
        ];
        for (kind, urgency, rule) in table {
            assert_eq!(policy.rule(kind, urgency), rule, "{kind:?} {urgency:?}");
        }
        let calendar = Calendar::official().unwrap();
        // Dispatched Wed 2026-09-30: Oct 1–7 is the National Day holiday, Oct 10 (Saturday) a
        // make-up workday. 3 working days after: Oct 8, 9, 10.
        assert_eq!(
            policy
                .due_on(
                    &calendar,
                    TicketType::Help,
                    Urgency::Normal,
                    jiff::civil::date(2026, 9, 30)
                )
                .unwrap(),
            jiff::civil::date(2026, 10, 10)
        );
    }

    #[test]
    fn reminders_start_one_working_day_before_the_deadline() {
        let policy = DeadlinePolicy::default();
        let calendar = Calendar::official().unwrap();
        let due = jiff::civil::date(2026, 3, 13); // Friday
        assert!(
            !policy
                .needs_reminder(&calendar, due, jiff::civil::date(2026, 3, 11))
                .unwrap()
        );
        assert!(
            policy
                .needs_reminder(&calendar, due, jiff::civil::date(2026, 3, 12))
                .unwrap()
        );
        assert!(
            policy
                .needs_reminder(&calendar, due, jiff::civil::date(2026, 3, 16))
                .unwrap()
        );
    }

    fn run(kind: TicketType, actions: Vec<TicketAction>) -> (Ticket, Result<(), HotlineError>) {
        let routing = RoutingTable::parse_toml(ROUTING).unwrap();
        let calendar = Calendar::official().unwrap();
        let policy = DeadlinePolicy::default();
        let mut ticket = Ticket::register(
            uuid::Uuid::from_u128(1),
            intake(kind, Urgency::Normal),
            &routing,
            "operator",
            at("2026-03-02T01:00:00Z"),
        )
        .unwrap();
        ticket.number = "RX202603020001".into();
        let context = TicketContext {
            calendar: &calendar,
            policy: &policy,
            today: jiff::civil::date(2026, 3, 2),
        };
        for action in actions {
            let before = ticket.clone();
            let outcome = ticket.apply(action, context, "someone", at("2026-03-02T02:00:00Z"));
            if outcome.is_err() {
                assert_eq!(ticket, before, "a refused action changes nothing");
                return (ticket, outcome);
            }
        }
        (ticket, Ok(()))
    }

    fn dispatch() -> TicketAction {
        TicketAction::Dispatch {
            department: dept("district-transport"),
            co_handlers: vec![dept("city-police")],
        }
    }

    fn reply() -> TicketAction {
        TicketAction::Reply {
            text: "已补装井盖".into(),
        }
    }

    fn callback(satisfaction: Satisfaction, resolved: bool) -> TicketAction {
        TicketAction::CallBack(TicketCallback {
            satisfaction,
            resolved,
            note: String::new(),
        })
    }

    #[test]
    fn the_loop_dispatch_reply_unhappy_callback_reopens_then_closes() {
        let (ticket, outcome) = run(
            TicketType::Complaint,
            vec![
                dispatch(),
                reply(),
                callback(Satisfaction::Dissatisfied, false),
                reply(),
                callback(Satisfaction::Satisfied, true),
            ],
        );
        outcome.unwrap();
        assert_eq!(ticket.state, TicketState::Closed);
        assert_eq!(ticket.reopened, 1);
        assert_eq!(ticket.department, Some(dept("district-transport")));
        assert!(ticket.is_handled_by(&dept("city-police")));
        // Complaint, 13 working days from Mon 2026-03-02: Mar 3–6 (4), 9–13 (9), 16–19 (13).
        assert_eq!(ticket.due_on, Some(jiff::civil::date(2026, 3, 19)));
        let kinds: Vec<&str> = ticket.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "registered",
                "dispatch",
                "reply",
                "reopened",
                "reply",
                "closed"
            ]
        );
        assert_eq!(ticket.replied_on_time, Some(true));
    }

    #[test]
    fn the_transition_table() {
        use TicketState as S;
        let table: Vec<(TicketType, Vec<TicketAction>, Result<TicketState, &str>)> = vec![
            (TicketType::Complaint, vec![dispatch()], Ok(S::Dispatched)),
            (
                TicketType::Complaint,
                vec![
                    dispatch(),
                    TicketAction::RequestReturn {
                        reason: "不属本单位职责".into(),
                    },
                    TicketAction::DecideReturn {
                        approved: true,
                        note: String::new(),
                    },
                ],
                Ok(S::Registered),
            ),
            (
                TicketType::Complaint,
                vec![
                    dispatch(),
                    TicketAction::RequestReturn { reason: "r".into() },
                    TicketAction::DecideReturn {
                        approved: false,
                        note: "属职责".into(),
                    },
                    reply(),
                ],
                Ok(S::Replied),
            ),
            (
                TicketType::Complaint,
                vec![
                    dispatch(),
                    TicketAction::RequestReturn { reason: " ".into() },
                ],
                Err("invalid_ticket"),
            ),
            (
                TicketType::Consultation,
                vec![TicketAction::AnswerAtIntake {
                    answer: "见办事指南".into(),
                }],
                Ok(S::Replied),
            ),
            (
                TicketType::Complaint,
                vec![TicketAction::AnswerAtIntake { answer: "a".into() }],
                Err("invalid_ticket"),
            ),
            (
                TicketType::Consultation,
                vec![
                    TicketAction::AnswerAtIntake { answer: "a".into() },
                    callback(Satisfaction::Dissatisfied, true),
                ],
                // Nobody to reopen to when the operator answered: the ticket closes.
                Ok(S::Closed),
            ),
            (
                TicketType::Complaint,
                vec![reply()],
                Err("illegal_transition"),
            ),
            (
                TicketType::Complaint,
                vec![dispatch(), callback(Satisfaction::Satisfied, true)],
                Err("illegal_transition"),
            ),
            (
                TicketType::Complaint,
                vec![dispatch(), reply(), callback(Satisfaction::Basic, true)],
                Ok(S::Closed),
            ),
            (
                TicketType::Complaint,
                vec![
                    dispatch(),
                    reply(),
                    callback(Satisfaction::Satisfied, false),
                ],
                Ok(S::Dispatched),
            ),
            (
                TicketType::Complaint,
                vec![TicketAction::MergeInto {
                    number: "RX202603010001".into(),
                }],
                Ok(S::Merged),
            ),
            (
                TicketType::Complaint,
                vec![TicketAction::MergeInto {
                    number: "RX202603020001".into(),
                }],
                Err("invalid_ticket"),
            ),
            (
                TicketType::Complaint,
                vec![
                    TicketAction::MergeInto {
                        number: "RX1".into(),
                    },
                    dispatch(),
                ],
                Err("illegal_transition"),
            ),
            (
                TicketType::Complaint,
                vec![TicketAction::Dispatch {
                    department: dept("a"),
                    co_handlers: vec![dept("a")],
                }],
                Err("invalid_ticket"),
            ),
            (
                TicketType::Complaint,
                vec![dispatch(), TicketAction::DecideExtension { approved: true }],
                Err("invalid_ticket"),
            ),
            (
                TicketType::Complaint,
                vec![
                    dispatch(),
                    TicketAction::RequestExtension {
                        days: 11,
                        reason: "r".into(),
                    },
                ],
                Err("invalid_ticket"),
            ),
        ];
        for (kind, actions, expected) in table {
            let (ticket, outcome) = run(kind, actions.clone());
            match expected {
                Ok(state) => {
                    assert!(outcome.is_ok(), "{actions:?}: {outcome:?}");
                    assert_eq!(ticket.state, state, "{actions:?}");
                }
                Err(code) => assert_eq!(outcome.map_err(|e| e.code()), Err(code), "{actions:?}"),
            }
        }
    }

    #[test]
    fn an_approved_extension_moves_the_deadline_and_reminders_count() {
        let (ticket, outcome) = run(
            TicketType::Help,
            vec![
                dispatch(),
                TicketAction::RequestExtension {
                    days: 2,
                    reason: "需现场勘查".into(),
                },
                TicketAction::DecideExtension { approved: true },
                TicketAction::Remind {
                    note: "请尽快".into(),
                },
                TicketAction::Supervise {
                    note: "督办".into(),
                },
            ],
        );
        outcome.unwrap();
        // Help: 3 working days from Mon Mar 2 → Thu Mar 5; +2 → Mon Mar 9.
        assert_eq!(ticket.due_on, Some(jiff::civil::date(2026, 3, 9)));
        assert_eq!(ticket.reminders, 1);
        assert!(ticket.supervised);
        assert!(ticket.pending_extension.is_none());
        assert!(!ticket.is_overdue(jiff::civil::date(2026, 3, 9)));
        assert!(ticket.is_overdue(jiff::civil::date(2026, 3, 10)));
    }

    #[test]
    fn a_deadline_reminder_is_sent_once_per_deadline_and_again_after_an_extension() {
        let routing = RoutingTable::parse_toml(ROUTING).unwrap();
        let calendar = Calendar::official().unwrap();
        let policy = DeadlinePolicy::default();
        let mut ticket = Ticket::register(
            uuid::Uuid::from_u128(7),
            intake(TicketType::Help, Urgency::Normal),
            &routing,
            "operator",
            at("2026-03-02T01:00:00Z"),
        )
        .unwrap();
        ticket.number = "RX202603020007".into();
        let on = |day: i8| TicketContext {
            calendar: &calendar,
            policy: &policy,
            today: jiff::civil::date(2026, 3, day),
        };
        ticket
            .apply(dispatch(), on(2), "dispatcher", at("2026-03-02T02:00:00Z"))
            .unwrap();
        // Help: 3 working days from Mon Mar 2 → Thu Mar 5; the window opens Wed Mar 4.
        assert_eq!(ticket.due_on, Some(jiff::civil::date(2026, 3, 5)));
        let early = ticket.clone();
        let refused = ticket.apply(
            TicketAction::DeadlineReminder,
            on(3),
            "system",
            at("2026-03-03T01:00:00Z"),
        );
        assert_eq!(refused.map_err(|e| e.code()), Err("invalid_ticket"));
        assert_eq!(ticket, early, "a refused reminder changes nothing");
        ticket
            .apply(
                TicketAction::DeadlineReminder,
                on(4),
                "system",
                at("2026-03-04T01:00:00Z"),
            )
            .unwrap();
        assert_eq!(
            ticket.deadline_reminder_for,
            Some(jiff::civil::date(2026, 3, 5))
        );
        assert_eq!(ticket.reminders, 0, "the automatic reminder is not a 催办");
        let last = ticket.events.last().unwrap();
        assert_eq!(
            (last.kind.as_str(), last.note.as_str()),
            ("deadline_reminder", "2026-03-05")
        );
        assert_eq!(last.department, Some(dept("district-transport")));
        let twice = ticket.apply(
            TicketAction::DeadlineReminder,
            on(5),
            "system",
            at("2026-03-05T01:00:00Z"),
        );
        assert_eq!(twice.map_err(|e| e.code()), Err("invalid_ticket"));
        // An approved extension moves the deadline: Thu Mar 5 + 2 → Mon Mar 9, reminded Fri Mar 6.
        for action in [
            TicketAction::RequestExtension {
                days: 2,
                reason: "需现场勘查".into(),
            },
            TicketAction::DecideExtension { approved: true },
        ] {
            ticket
                .apply(action, on(5), "someone", at("2026-03-05T02:00:00Z"))
                .unwrap();
        }
        assert!(
            ticket
                .clone()
                .apply(
                    TicketAction::DeadlineReminder,
                    on(5),
                    "system",
                    at("2026-03-05T03:00:00Z")
                )
                .is_err()
        );
        ticket
            .apply(
                TicketAction::DeadlineReminder,
                on(6),
                "system",
                at("2026-03-06T01:00:00Z"),
            )
            .unwrap();
        assert_eq!(
            ticket.deadline_reminder_for,
            Some(jiff::civil::date(2026, 3, 9))
        );
        ticket
            .apply(reply(), on(6), "handler", at("2026-03-06T02:00:00Z"))
            .unwrap();
        assert_eq!(
            ticket
                .apply(
                    TicketAction::DeadlineReminder,
                    on(9),
                    "system",
                    at("2026-03-09T01:00:00Z")
                )
                .map_err(|e| e.code()),
            Err("illegal_transition"),
            "a replied ticket is not reminded"
        );
    }

    #[test]
    fn only_a_co_handler_gives_a_co_handling_opinion() {
        let assist = |department: &str, note: &str| TicketAction::Assist {
            department: dept(department),
            note: note.into(),
        };
        let (ticket, outcome) = run(
            TicketType::Complaint,
            vec![dispatch(), assist("city-police", "已安排民警巡查")],
        );
        outcome.unwrap();
        let last = ticket.events.last().unwrap();
        assert_eq!(last.kind, "assist");
        assert_eq!(last.department, Some(dept("city-police")));
        assert_eq!(ticket.state, TicketState::Dispatched);
        for (actions, code) in [
            (
                vec![dispatch(), assist("district-transport", "主办不是协办")],
                "invalid_ticket",
            ),
            (
                vec![dispatch(), assist("city-police", " ")],
                "invalid_ticket",
            ),
            (vec![assist("city-police", "未派单")], "illegal_transition"),
            (
                vec![dispatch(), reply(), assist("city-police", "已答复")],
                "illegal_transition",
            ),
        ] {
            let (_, outcome) = run(TicketType::Complaint, actions.clone());
            assert_eq!(outcome.map_err(|e| e.code()), Err(code), "{actions:?}");
        }
    }

    #[test]
    fn similar_descriptions_are_suggested_as_duplicates() {
        let first = intake(TicketType::Complaint, Urgency::Normal);
        let mut second = first.clone();
        second.description = "人民路有井盖缺失，有安全隐患".into();
        assert!(is_probable_duplicate(&first, &second));
        let mut other = first.clone();
        other.description = "小区夜间施工噪音很大".into();
        assert!(!is_probable_duplicate(&first, &other));
        let mut elsewhere = second.clone();
        elsewhere.area = "990103".into();
        assert!(!is_probable_duplicate(&first, &elsewhere));
    }

    #[test]
    fn intake_is_checked() {
        let routing = RoutingTable::parse_toml(ROUTING).unwrap();
        let mut bad = intake(TicketType::Help, Urgency::Normal);
        bad.category = "water".into();
        assert_eq!(
            bad.check(&routing).map_err(|e| e.code()),
            Err("invalid_ticket")
        );
        let mut bad_area = intake(TicketType::Help, Urgency::Normal);
        bad_area.area = "99".into();
        assert!(bad_area.check(&routing).is_err());
        let mut empty = intake(TicketType::Help, Urgency::Normal);
        empty.description = "  ".into();
        assert!(empty.check(&routing).is_err());
    }
}
