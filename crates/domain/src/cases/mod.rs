//! Cases (办件) and their lifecycle (REFERENCE §2, SPEC C2).
//!
//! A case is a plain value ([`Case`]); every change is a [`Command`] applied by [`apply`], a pure
//! function that checks who may act, returns the new case and the events it appends, or a typed
//! [`CaseError`]. Storage persists the new case, its events and outbox messages in one transaction
//! with an optimistic version check; nothing here reads a clock or a database.
//!
//! ```text
//! submitted ─pre_approve→ pre_reviewed ─accept→ in_progress(step 0 … n) ─decide→ decided
//!    │  ╰────request_correction→ correction ─resubmit→ submitted            │      │
//!    ╰─reject→ rejected          in_progress ⇄ suspended (特别程序)          issue  refused
//!                                 return → earlier step · countersign        ↓
//!                                                                         issued ─deliver→ delivered
//! any state before a decision ─withdraw→ withdrawn
//! ```
//!
//! An issued result reaches the applicant in one of two ways ([`delivery`]): collected at any
//! hall with the pickup code (`collect`), or posted (`ship`, then the carrier's reports —
//! `track` — until it is signed for, which delivers the case, or returned, after which the hall
//! ships it again or the applicant switches to collection with `collect_instead`).

pub mod application;
pub mod bundle_case;
pub mod deadline;
pub mod delivery;
pub mod lifecycle;
pub mod process;
pub mod verified;

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub use deadline::Warning;
pub use lifecycle::{Command, Context, Outcome, apply};
pub use process::{CountersignMode, Step, StepKind, Workflow};

use crate::calendar::Suspension;
use crate::catalog::TimeLimit;
use crate::catalog::codes::CaseType;
use crate::ids::{ImplementationCode, LicenceId};
use crate::keys::{AccountName, DataElementCode, DepartmentKey, HallKey, MaterialCode};
use crate::org::{Role, RoleAssignment};

/// Where a case stands. Public text for citizens comes from [`CaseState::public_text`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum CaseState {
    /// 已提交: waiting for (pre-)review at a window.
    Submitted,
    /// 预审通过: checked online, waiting for acceptance.
    PreReviewed,
    /// 补正: a one-time notice lists every problem; waiting for the applicant.
    Correction,
    /// 不予受理 (final).
    Rejected,
    /// 受理后办理: at step `step` of the workflow.
    InProgress { step: usize },
    /// 特别程序 (hearing, inspection, expert review…): the clock is paused.
    Suspended { step: usize },
    /// 办结: decided; granted cases wait for their result to be issued.
    Decided { granted: bool },
    /// 出件: the result (licence) is issued, waiting for collection or delivery.
    Issued,
    /// 已送达/已领取 (final).
    Delivered,
    /// 撤回 by the applicant (final).
    Withdrawn,
}

impl CaseState {
    /// A stable name for columns and filters.
    pub fn name(&self) -> &'static str {
        match self {
            CaseState::Submitted => "submitted",
            CaseState::PreReviewed => "pre_reviewed",
            CaseState::Correction => "correction",
            CaseState::Rejected => "rejected",
            CaseState::InProgress { .. } => "in_progress",
            CaseState::Suspended { .. } => "suspended",
            CaseState::Decided { granted: true } => "granted",
            CaseState::Decided { granted: false } => "refused",
            CaseState::Issued => "issued",
            CaseState::Delivered => "delivered",
            CaseState::Withdrawn => "withdrawn",
        }
    }

    pub const NAMES: &'static [&'static str] = &[
        "submitted",
        "pre_reviewed",
        "correction",
        "rejected",
        "in_progress",
        "suspended",
        "granted",
        "refused",
        "issued",
        "delivered",
        "withdrawn",
    ];

    /// What a citizen is told (public status ≠ internal state).
    pub fn public_text(&self) -> (&'static str, &'static str) {
        match self {
            CaseState::Submitted => ("已提交,等待受理", "Submitted, waiting to be accepted"),
            CaseState::PreReviewed => ("预审通过,等待受理", "Checked, waiting to be accepted"),
            CaseState::Correction => ("需补正材料", "Please correct or add materials"),
            CaseState::Rejected => ("不予受理", "Not accepted"),
            CaseState::InProgress { .. } => ("办理中", "In progress"),
            CaseState::Suspended { .. } => (
                "特别程序中(不计入办理时限)",
                "Special procedure (clock paused)",
            ),
            CaseState::Decided { granted: true } => {
                ("已办结(准予),等待出件", "Approved, result being prepared")
            }
            CaseState::Decided { granted: false } => ("已办结(不予许可)", "Refused"),
            CaseState::Issued => (
                "已出证,待领取或寄送",
                "Result issued, ready to collect or on its way",
            ),
            CaseState::Delivered => ("已送达", "Delivered"),
            CaseState::Withdrawn => ("已撤回", "Withdrawn"),
        }
    }

    /// Final states accept no command.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            CaseState::Rejected
                | CaseState::Decided { granted: false }
                | CaseState::Delivered
                | CaseState::Withdrawn
        )
    }

    /// Whether the 办理时限 clock is running.
    pub fn clock_running(&self) -> bool {
        matches!(self, CaseState::InProgress { .. })
    }
}

/// 办理形式 / channel of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Mobile,
    Window,
    Kiosk,
    Post,
    /// 帮办代办: an agent applies under the applicant's mandate.
    Agent,
}

impl Channel {
    /// The GB/T 39046 办理形式 code. The standard has no code for an agent; 9 (其他) it is.
    pub fn handling_form_code(&self) -> &'static str {
        match self {
            Channel::Window | Channel::Kiosk => "1",
            Channel::Web => "2",
            Channel::Mobile => "3",
            Channel::Post => "4",
            Channel::Agent => "9",
        }
    }
}

/// Who applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub kind: ApplicantKind,
    pub name: String,
    /// ID number or credit code.
    pub identifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    Person,
    Enterprise,
}

/// How a material of the case was provided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "provided_as")]
pub enum Provision {
    /// An uploaded file in object storage.
    Upload {
        object_key: String,
        sha256: String,
        size: u64,
        content_type: String,
        file_name: String,
    },
    /// 免提交: a licence the applicant holds replaces the material.
    Licence { licence: LicenceId },
    /// 告知承诺: a signed commitment instead of the material.
    Commitment { text: String },
    /// 容缺: accepted without it; due by the date.
    Tolerated { due: Date },
    /// Handed in on paper at a window and checked by the clerk.
    Paper,
    /// 免提交: a copy of the same material that a clerk checked for an earlier case of the
    /// applicant, still valid ([`verified::VerifiedDocument`]).
    VerifiedDocument {
        document: uuid::Uuid,
        /// The 办件编号 it was checked for.
        source_case: String,
        /// Who checked it (a hall or department), as the applicant and the next office read it.
        verified_by: String,
        valid_until: Date,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMaterial {
    pub code: MaterialCode,
    pub name: String,
    #[serde(flatten)]
    pub provision: Provision,
}

/// Collection at any hall with a pickup code, or delivery by post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Delivery {
    Collect {
        hall: HallKey,
        pickup_code: String,
    },
    Post {
        recipient: String,
        phone: String,
        address: String,
        /// Who pays the postage: the item's policy (the bundle's for a bundle application),
        /// set by the platform, never by the applicant.
        #[serde(default)]
        postage: delivery::Postage,
    },
}

/// One problem of a correction notice: which material, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionItem {
    pub material: MaterialCode,
    pub problem: String,
}

/// Who acts: an account with its roles (staff) or as a party (citizen, enterprise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub account: AccountName,
    pub name: String,
    pub kind: ActorKind,
    #[serde(default)]
    pub roles: Vec<RoleAssignment>,
    /// For citizens and enterprises: their ID number or credit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// An agent acting for an applicant under a mandate the service has checked for this
    /// action (帮办代办); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_for: Option<ActingFor>,
}

/// Whom an agent acts for, and under which mandate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActingFor {
    /// The applicant's ID number or credit code.
    pub identifier: String,
    pub name: String,
    pub mandate: crate::keys::MandateId,
}

/// On an event: the actor was an agent acting for the applicant (shown on the timeline as
/// "由代办员 X 代 Y 办理").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnBehalf {
    pub applicant_name: String,
    pub mandate: crate::keys::MandateId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Person,
    Enterprise,
    Staff,
    /// A department's own system, acting through an API token.
    System,
}

impl Actor {
    /// Whether the actor holds `role`, for `department` when given.
    pub fn has_role(&self, role: Role, department: Option<&DepartmentKey>) -> bool {
        self.roles.iter().any(|assignment| {
            assignment.role == role
                && department
                    .is_none_or(|wanted| assignment.department.as_ref().is_none_or(|d| d == wanted))
        })
    }

    /// The hall where the actor works as a clerk, if any.
    pub fn clerk_hall(&self) -> Option<&HallKey> {
        self.roles
            .iter()
            .find(|a| a.role == Role::Clerk)
            .and_then(|a| a.hall.as_ref())
    }

    /// Whether the actor is the applicant of the case, in person. Ratings and surveys ask this:
    /// they belong to the applicant, never to an agent acting for them.
    pub fn is_applicant(&self, applicant: &Applicant) -> bool {
        matches!(self.kind, ActorKind::Person | ActorKind::Enterprise)
            && self.identifier.as_deref() == Some(applicant.identifier.as_str())
    }

    /// Whether the actor is an agent acting for this applicant under a checked mandate.
    pub fn is_agent_for(&self, applicant: &Applicant) -> bool {
        self.has_role(Role::Agent, None)
            && self
                .acting_for
                .as_ref()
                .is_some_and(|a| a.identifier == applicant.identifier)
    }

    /// Whether the actor may take the applicant's own steps (apply, answer a correction, hand
    /// in a material, withdraw): the applicant, or an agent acting for them.
    pub fn acts_for_applicant(&self, applicant: &Applicant) -> bool {
        self.is_applicant(applicant) || self.is_agent_for(applicant)
    }

    /// What an event by this actor on a case of `applicant` records about an agent.
    pub fn on_behalf_of(&self, applicant: &Applicant) -> Option<OnBehalf> {
        if !self.is_agent_for(applicant) {
            return None;
        }
        self.acting_for.as_ref().map(|a| OnBehalf {
            applicant_name: applicant.name.clone(),
            mandate: a.mandate,
        })
    }
}

/// A decision with its opinion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub granted: bool,
    pub opinion: String,
    pub by: AccountName,
    pub at: Timestamp,
}

/// A case. `version` increases with every change (optimistic concurrency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: uuid::Uuid,
    /// 办件编号: 实施编码 + YYYYMMDD + 4-digit sequence.
    pub number: String,
    pub version: u64,
    pub item_code: ImplementationCode,
    pub item_version: u32,
    pub item_name: String,
    pub case_type: CaseType,
    /// The department handling the case now (transfers change it).
    pub department: DepartmentKey,
    #[serde(default)]
    pub co_departments: Vec<DepartmentKey>,
    pub applicant: Applicant,
    pub channel: Channel,
    /// The hall where it was submitted or accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<HallKey>,
    pub state: CaseState,
    pub workflow: Workflow,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    #[serde(default)]
    pub form: BTreeMap<DataElementCode, String>,
    #[serde(default)]
    pub materials: Vec<CaseMaterial>,
    pub delivery: Delivery,
    pub statutory_limit: TimeLimit,
    pub promised_limit: TimeLimit,
    pub submitted_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statutory_due: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_due: Option<Date>,
    /// Closed suspensions (补正 after acceptance, 特别程序).
    #[serde(default)]
    pub suspensions: Vec<Suspension>,
    /// An open suspension's first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_since: Option<Date>,
    #[serde(default)]
    pub extension_days: u32,
    /// Countersign votes at the current countersign step.
    #[serde(default)]
    pub countersign: BTreeMap<DepartmentKey, bool>,
    #[serde(default)]
    pub correction: Vec<CorrectionItem>,
    /// The step to go back to when a correction during handling is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_step: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<LicenceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// The bundle application (一件事) this case is a child of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<uuid::Uuid>,
    /// The postings of the result, oldest first; the last one is the current one (an earlier one
    /// was returned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<delivery::Shipment>,
}

/// Why a command was refused. Each variant has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the action {action} is not allowed while the case is {state}")]
    IllegalTransition {
        action: &'static str,
        state: &'static str,
    },
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("invalid action: {0}")]
    Invalid(String),
    #[error("the application has {} problem(s): {}", .0.len(), .0.join("; "))]
    InvalidApplication(Vec<String>),
    #[error(
        "the case was changed by someone else (version {actual}, expected {expected}); reload it"
    )]
    StaleVersion { expected: u64, actual: u64 },
    #[error("deadline computation failed: {0}")]
    Calendar(#[from] crate::calendar::CalendarError),
    #[error("{0}")]
    Delivery(#[from] delivery::DeliveryError),
}

impl CaseError {
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::IllegalTransition { .. } => "illegal_transition",
            CaseError::Forbidden(_) => "forbidden",
            CaseError::Invalid(_) => "invalid_action",
            CaseError::InvalidApplication(_) => "invalid_application",
            CaseError::StaleVersion { .. } => "stale_version",
            CaseError::Calendar(error) => error.code(),
            CaseError::Delivery(error) => error.code(),
        }
    }
}

/// An event appended to the case's history; the timeline and the audit trail come from events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub at: Timestamp,
    pub actor: AccountName,
    pub actor_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    /// Set when an agent acted for the applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf: Option<OnBehalf>,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum EventKind {
    Submitted {
        channel: Channel,
    },
    PreApproved,
    Accepted {
        tolerated: Vec<MaterialCode>,
    },
    Rejected {
        reason: String,
    },
    CorrectionRequested {
        items: Vec<CorrectionItem>,
    },
    Resubmitted,
    MaterialSupplied {
        material: MaterialCode,
    },
    StepPassed {
        step: String,
        opinion: String,
    },
    Returned {
        from: String,
        to: String,
        reason: String,
    },
    Countersigned {
        step: String,
        pass: bool,
        opinion: String,
    },
    Suspended {
        procedure: String,
        reason: String,
    },
    Resumed,
    Extended {
        days: u32,
        reason: String,
    },
    Transferred {
        to: DepartmentKey,
        reason: String,
    },
    Decided {
        granted: bool,
        opinion: String,
    },
    Issued {
        licence: Option<LicenceId>,
    },
    Delivered {
        how: String,
    },
    /// The result is posted (交寄).
    Shipped {
        carrier: delivery::Carrier,
        tracking_number: delivery::TrackingNumber,
    },
    /// The carrier brought the parcel back (退回).
    ShipmentReturned {
        carrier: delivery::Carrier,
        tracking_number: delivery::TrackingNumber,
        #[serde(default)]
        reason: String,
    },
    /// After a return: the result waits at a hall for collection with a new pickup code.
    SwitchedToCollection {
        hall: HallKey,
    },
    Withdrawn {
        reason: String,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Submitted { .. } => "submitted",
            EventKind::PreApproved => "pre_approved",
            EventKind::Accepted { .. } => "accepted",
            EventKind::Rejected { .. } => "rejected",
            EventKind::CorrectionRequested { .. } => "correction_requested",
            EventKind::Resubmitted => "resubmitted",
            EventKind::MaterialSupplied { .. } => "material_supplied",
            EventKind::StepPassed { .. } => "step_passed",
            EventKind::Returned { .. } => "returned",
            EventKind::Countersigned { .. } => "countersigned",
            EventKind::Suspended { .. } => "suspended",
            EventKind::Resumed => "resumed",
            EventKind::Extended { .. } => "extended",
            EventKind::Transferred { .. } => "transferred",
            EventKind::Decided { .. } => "decided",
            EventKind::Issued { .. } => "issued",
            EventKind::Delivered { .. } => "delivered",
            EventKind::Shipped { .. } => "shipped",
            EventKind::ShipmentReturned { .. } => "shipment_returned",
            EventKind::SwitchedToCollection { .. } => "switched_to_collection",
            EventKind::Withdrawn { .. } => "withdrawn",
        }
    }

    /// The plain words a citizen sees on the timeline, or `None` for internal events. Internal
    /// opinions never appear here.
    pub fn public_text(&self) -> Option<String> {
        Some(match self {
            EventKind::Submitted { .. } => "申请已提交".to_owned(),
            EventKind::PreApproved => "网上预审通过".to_owned(),
            EventKind::Accepted { tolerated } if tolerated.is_empty() => "申请已受理".to_owned(),
            EventKind::Accepted { tolerated } => {
                format!("申请已容缺受理,请在期限内补交 {} 份材料", tolerated.len())
            }
            EventKind::Rejected { reason } => format!("不予受理:{reason}"),
            EventKind::CorrectionRequested { items } => {
                format!("请一次性补正以下 {} 项材料(补正期间不计时)", items.len())
            }
            EventKind::Resubmitted => "补正材料已提交".to_owned(),
            EventKind::MaterialSupplied { .. } => "容缺材料已补交".to_owned(),
            EventKind::StepPassed { step, .. } => format!("{step}环节已完成"),
            EventKind::Returned { .. } => return None,
            EventKind::Countersigned { .. } => return None,
            EventKind::Suspended { procedure, .. } => {
                format!("进入特别程序:{procedure}(不计入办理时限)")
            }
            EventKind::Resumed => "特别程序结束,恢复办理".to_owned(),
            EventKind::Extended { days, reason } => {
                format!("经批准延长办理期限 {days} 个工作日:{reason}")
            }
            EventKind::Transferred { .. } => "已转交承办部门办理".to_owned(),
            EventKind::Decided { granted: true, .. } => "审批通过,准予许可".to_owned(),
            EventKind::Decided {
                granted: false,
                opinion,
            } => format!("不予许可:{opinion}"),
            EventKind::Issued { .. } => "办理结果已出证".to_owned(),
            EventKind::Delivered { how } => format!("办理结果已{how}"),
            EventKind::Shipped {
                carrier,
                tracking_number,
            } => format!(
                "办理结果已交寄{},运单号 {tracking_number}",
                carrier.name().0
            ),
            EventKind::ShipmentReturned { reason, .. } if reason.trim().is_empty() => {
                "邮件被退回,将重新寄送或改为窗口领取".to_owned()
            }
            EventKind::ShipmentReturned { reason, .. } => {
                format!("邮件被退回({reason}),将重新寄送或改为窗口领取")
            }
            EventKind::SwitchedToCollection { .. } => {
                "改为窗口领取:请凭取件码到任一政务服务大厅领取".to_owned()
            }
            EventKind::Withdrawn { .. } => "申请已撤回".to_owned(),
        })
    }
}

impl Case {
    /// Every suspension, including an open one counted up to `today`.
    pub fn suspensions_until(&self, today: Date) -> Vec<Suspension> {
        let mut all = self.suspensions.clone();
        if let Some(since) = self.suspended_since
            && since <= today
        {
            all.push(Suspension {
                from: since,
                to: today,
            });
        }
        all
    }

    /// The current shipment of the result, if it was posted.
    pub fn shipment(&self) -> Option<&delivery::Shipment> {
        self.shipments.last()
    }

    /// Whether the result is on its way by post (shipped, neither signed for nor returned).
    pub fn shipment_in_flight(&self) -> bool {
        self.shipment().is_some_and(delivery::Shipment::in_flight)
    }

    /// The step the case is at, if it is being handled.
    pub fn current_step(&self) -> Option<(usize, &Step)> {
        match self.state {
            CaseState::InProgress { step } | CaseState::Suspended { step } => {
                self.workflow.steps.get(step).map(|s| (step, s))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
