//! The case state machine: [`apply`] checks a [`Command`] against the case and the actor and
//! returns the new case with its events. Who may act is decided here, in one place.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::deadline::due_date;
use super::delivery::{
    Carrier, DeliveryError, Recorded, Shipment, ShipmentStatus, TrackingNumber, TrackingUpdate,
    pickup_code_matches,
};
use super::process::{CountersignMode, StepKind};
use super::{
    Actor, ActorKind, Case, CaseError, CaseEvent, CaseMaterial, CaseState, CorrectionItem,
    Decision, Delivery, EventKind, Provision,
};
use crate::calendar::{Calendar, Suspension};
use crate::ids::LicenceId;
use crate::keys::{DepartmentKey, HallKey, MaterialCode};
use crate::org::Role;

/// A material accepted under 容缺 with the date it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToleratedMaterial {
    pub material: MaterialCode,
    pub due: Date,
}

/// Everything that can happen to a case (`POST /api/v1/cases/{id}/actions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Command {
    /// 预审通过 (online pre-review).
    PreApprove,
    /// 受理, optionally with 容缺 materials and their due dates.
    Accept {
        #[serde(default)]
        tolerated: Vec<ToleratedMaterial>,
    },
    /// 不予受理 with a reason.
    Reject {
        reason: String,
    },
    /// 一次性补正告知: every problem at once; the clock stops.
    RequestCorrection {
        items: Vec<CorrectionItem>,
    },
    /// The applicant answers a correction notice.
    Resubmit {
        #[serde(default)]
        materials: Vec<CaseMaterial>,
    },
    /// A 容缺 material handed in later.
    SupplyMaterial {
        material: CaseMaterial,
    },
    /// Pass the current review step (承办/审核).
    Approve {
        #[serde(default)]
        opinion: String,
    },
    /// 退回 to an earlier step.
    Return {
        to: String,
        reason: String,
    },
    /// 会签/或签 vote of one department.
    Countersign {
        pass: bool,
        #[serde(default)]
        opinion: String,
        #[serde(default)]
        department: Option<DepartmentKey>,
    },
    /// 特别程序: the clock pauses.
    Suspend {
        procedure: String,
        reason: String,
    },
    Resume,
    /// 延长审批 with a reason given to the applicant.
    Extend {
        days: u32,
        reason: String,
    },
    /// Hand the case to another department.
    Transfer {
        department: DepartmentKey,
        reason: String,
    },
    /// 准予 / 不予.
    Decide {
        granted: bool,
        opinion: String,
    },
    /// 出证: the service supplies the licence identifier it minted.
    Issue {
        #[serde(default)]
        licence: Option<LicenceId>,
    },
    /// Delivered by post without a tracked shipment (e.g. confirmed by the delivery service).
    /// A result waiting at a hall is handed out with `collect`, a tracked one by its carrier's
    /// signature.
    Deliver {
        how: String,
    },
    /// 交寄: the result is posted with a carrier under a tracking number.
    Ship {
        carrier: Carrier,
        tracking_number: String,
    },
    /// A carrier's status report on the current shipment (its system, or a clerk for it).
    /// `signed` delivers the case; a report already recorded changes nothing.
    Track {
        status: ShipmentStatus,
        at: Timestamp,
        place: String,
        #[serde(default)]
        note: String,
    },
    /// 凭取件码领取: handed out at a window of any hall against the applicant's pickup code.
    Collect {
        pickup_code: String,
    },
    /// The applicant collects at a hall instead of waiting for the post (e.g. after a return).
    /// The service mints the new pickup code; one sent by the client is never taken.
    CollectInstead {
        hall: HallKey,
        #[serde(default)]
        pickup_code: String,
    },
    /// The applicant withdraws.
    Withdraw {
        #[serde(default)]
        reason: String,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::PreApprove => "pre_approve",
            Command::Accept { .. } => "accept",
            Command::Reject { .. } => "reject",
            Command::RequestCorrection { .. } => "request_correction",
            Command::Resubmit { .. } => "resubmit",
            Command::SupplyMaterial { .. } => "supply_material",
            Command::Approve { .. } => "approve",
            Command::Return { .. } => "return",
            Command::Countersign { .. } => "countersign",
            Command::Suspend { .. } => "suspend",
            Command::Resume => "resume",
            Command::Extend { .. } => "extend",
            Command::Transfer { .. } => "transfer",
            Command::Decide { .. } => "decide",
            Command::Issue { .. } => "issue",
            Command::Deliver { .. } => "deliver",
            Command::Ship { .. } => "ship",
            Command::Track { .. } => "track",
            Command::Collect { .. } => "collect",
            Command::CollectInstead { .. } => "collect_instead",
            Command::Withdraw { .. } => "withdraw",
        }
    }
}

/// What a command needs besides the case: who acts, when, and the calendar.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub actor: &'a Actor,
    pub now: Timestamp,
    pub calendar: &'a Calendar,
}

impl Context<'_> {
    pub fn today(&self) -> Date {
        crate::calendar::shanghai_date(self.now)
    }
}

/// The new case and the events to append. A command that changes nothing (a carrier's report
/// recorded before) returns the case as it was, at the same version, with no events: there is
/// nothing to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub case: Case,
    pub events: Vec<CaseEvent>,
}

/// The longest extension: 10 working days, 15 for joint handling (《行政许可法》 art. 42).
fn max_extension(case: &Case) -> u32 {
    if case.co_departments.is_empty() {
        10
    } else {
        15
    }
}

fn illegal(command: &Command, case: &Case) -> CaseError {
    CaseError::IllegalTransition {
        action: command.name(),
        state: case.state.name(),
    }
}

fn require(condition: bool, message: impl FnOnce() -> String) -> Result<(), CaseError> {
    if condition {
        Ok(())
    } else {
        Err(CaseError::Forbidden(message()))
    }
}

fn require_text(text: &str, what: &str) -> Result<(), CaseError> {
    if text.trim().is_empty() {
        return Err(CaseError::Invalid(format!("{what} must not be empty")));
    }
    Ok(())
}

fn is_clerk(actor: &Actor) -> bool {
    actor.has_role(Role::Clerk, None)
}

/// Recomputes both due dates from acceptance, limits, extensions and closed suspensions.
fn recompute_dues(case: &mut Case, calendar: &Calendar) -> Result<(), CaseError> {
    let Some(accepted_on) = case.accepted_on else {
        return Ok(());
    };
    case.statutory_due = Some(due_date(
        calendar,
        accepted_on,
        &case.statutory_limit,
        case.extension_days,
        &case.suspensions,
    )?);
    case.promised_due = Some(due_date(
        calendar,
        accepted_on,
        &case.promised_limit,
        case.extension_days,
        &case.suspensions,
    )?);
    Ok(())
}

/// Starts a suspension today (the clock stops from today on).
fn stop_clock(case: &mut Case, today: Date) {
    if case.suspended_since.is_none() && case.accepted_on.is_some() {
        case.suspended_since = Some(today);
    }
}

/// Ends an open suspension: the suspended days run up to yesterday.
fn restart_clock(case: &mut Case, today: Date, calendar: &Calendar) -> Result<(), CaseError> {
    if let Some(since) = case.suspended_since.take()
        && let Ok(yesterday) = today.checked_sub(1.day())
        && yesterday >= since
    {
        case.suspensions.push(Suspension {
            from: since,
            to: yesterday,
        });
    }
    recompute_dues(case, calendar)
}

/// Applies a command. Pure: the same case, command and context always give the same outcome.
pub fn apply(case: &Case, command: &Command, context: &Context<'_>) -> Result<Outcome, CaseError> {
    if let Command::Track { .. } = command
        && already_tracked(case, command, context.actor)
    {
        // A carrier resending a report (also after its signature delivered the case).
        return Ok(Outcome {
            case: case.clone(),
            events: Vec::new(),
        });
    }
    if case.state.is_final() {
        return Err(illegal(command, case));
    }
    let actor = context.actor;
    let today = context.today();
    let mut next = case.clone();
    let mut events = Vec::new();
    let on_behalf = actor.on_behalf_of(&case.applicant);
    let mut event = |kind: EventKind, department: Option<DepartmentKey>| {
        events.push(CaseEvent {
            at: context.now,
            actor: actor.account.clone(),
            actor_name: actor.name.clone(),
            department,
            on_behalf: on_behalf.clone(),
            kind,
        });
    };
    let department = Some(case.department.clone());
    match command {
        Command::PreApprove => {
            if case.state != CaseState::Submitted {
                return Err(illegal(command, case));
            }
            require(is_clerk(actor), || {
                "only a window clerk pre-reviews applications".into()
            })?;
            next.state = CaseState::PreReviewed;
            event(EventKind::PreApproved, None);
        }
        Command::Accept { tolerated } => {
            if !matches!(case.state, CaseState::Submitted | CaseState::PreReviewed) {
                return Err(illegal(command, case));
            }
            require(is_clerk(actor), || {
                "only a window clerk accepts applications".into()
            })?;
            for item in tolerated {
                if item.due <= today {
                    return Err(CaseError::Invalid(format!(
                        "the due date of tolerated material {} must be after today",
                        item.material
                    )));
                }
                let Some(material) = next.materials.iter_mut().find(|m| m.code == item.material)
                else {
                    return Err(CaseError::Invalid(format!(
                        "material {} is not part of this application",
                        item.material
                    )));
                };
                material.provision = Provision::Tolerated { due: item.due };
            }
            next.accepted_on = Some(today);
            if let Some(hall) = actor.clerk_hall() {
                next.hall = Some(hall.clone());
            }
            next.state = CaseState::InProgress { step: 0 };
            recompute_dues(&mut next, context.calendar)?;
            event(
                EventKind::Accepted {
                    tolerated: tolerated.iter().map(|t| t.material.clone()).collect(),
                },
                None,
            );
        }
        Command::Reject { reason } => {
            if !matches!(case.state, CaseState::Submitted | CaseState::PreReviewed) {
                return Err(illegal(command, case));
            }
            require(is_clerk(actor), || {
                "only a window clerk refuses to accept".into()
            })?;
            require_text(reason, "the reason")?;
            next.state = CaseState::Rejected;
            next.closed_at = Some(context.now);
            event(
                EventKind::Rejected {
                    reason: reason.clone(),
                },
                None,
            );
        }
        Command::RequestCorrection { items } => {
            let allowed = match &case.state {
                CaseState::Submitted | CaseState::PreReviewed => is_clerk(actor),
                CaseState::InProgress { .. } => case
                    .current_step()
                    .is_some_and(|(_, step)| actor.has_role(step.role, Some(&case.department))),
                _ => return Err(illegal(command, case)),
            };
            require(allowed, || {
                "this actor cannot ask for a correction now".into()
            })?;
            if items.is_empty() {
                return Err(CaseError::Invalid(
                    "a correction notice lists at least one problem".into(),
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for item in items {
                require_text(&item.problem, "each problem")?;
                if !seen.insert(&item.material) {
                    return Err(CaseError::Invalid(format!(
                        "material {} is listed twice: say everything about it at once",
                        item.material
                    )));
                }
            }
            stop_clock(&mut next, today);
            next.resume_step = match case.state {
                CaseState::InProgress { step } => Some(step),
                _ => None,
            };
            next.correction = items.clone();
            next.state = CaseState::Correction;
            event(
                EventKind::CorrectionRequested {
                    items: items.clone(),
                },
                department,
            );
        }
        Command::Resubmit { materials } => {
            if case.state != CaseState::Correction {
                return Err(illegal(command, case));
            }
            require(
                actor.acts_for_applicant(&case.applicant) || is_clerk(actor),
                || {
                    "only the applicant (or a clerk or an agent for them) answers a correction notice"
                        .into()
                },
            )?;
            for item in &case.correction {
                if !materials.iter().any(|m| m.code == item.material) {
                    return Err(CaseError::Invalid(format!(
                        "the correction notice asks for {}; it is missing",
                        item.material
                    )));
                }
            }
            for material in materials {
                match next.materials.iter_mut().find(|m| m.code == material.code) {
                    Some(existing) => *existing = material.clone(),
                    None => next.materials.push(material.clone()),
                }
            }
            next.correction.clear();
            next.resume_step = None;
            next.state = match (case.accepted_on, case.resume_step) {
                (Some(_), Some(step)) => {
                    restart_clock(&mut next, today, context.calendar)?;
                    CaseState::InProgress { step }
                }
                _ => CaseState::Submitted,
            };
            event(EventKind::Resubmitted, None);
        }
        Command::SupplyMaterial { material } => {
            // A 容缺 material completes the file while it is handled, not after the decision.
            if case.accepted_on.is_none()
                || !matches!(
                    case.state,
                    CaseState::InProgress { .. }
                        | CaseState::Suspended { .. }
                        | CaseState::Correction
                )
            {
                return Err(illegal(command, case));
            }
            require(
                actor.acts_for_applicant(&case.applicant) || is_clerk(actor),
                || "only the applicant (or a clerk or an agent for them) supplies materials".into(),
            )?;
            let Some(existing) = next.materials.iter_mut().find(|m| {
                m.code == material.code && matches!(m.provision, Provision::Tolerated { .. })
            }) else {
                return Err(CaseError::Invalid(format!(
                    "material {} is not waiting to be supplied",
                    material.code
                )));
            };
            if matches!(material.provision, Provision::Tolerated { .. }) {
                return Err(CaseError::Invalid(
                    "supply the material itself, not another promise".into(),
                ));
            }
            *existing = material.clone();
            event(
                EventKind::MaterialSupplied {
                    material: material.code.clone(),
                },
                None,
            );
        }
        Command::Approve { opinion } => {
            let Some((index, step)) = in_progress_step(case) else {
                return Err(illegal(command, case));
            };
            if step.kind != StepKind::Review {
                return Err(CaseError::Invalid(format!(
                    "step {} is not a review step; use {}",
                    step.name,
                    if step.kind == StepKind::Decision {
                        "decide"
                    } else {
                        "countersign"
                    }
                )));
            }
            require(actor.has_role(step.role, Some(&case.department)), || {
                format!(
                    "step {} is taken by the department's {:?}",
                    step.name, step.role
                )
            })?;
            next.state = CaseState::InProgress { step: index + 1 };
            next.countersign.clear();
            event(
                EventKind::StepPassed {
                    step: step.name.clone(),
                    opinion: opinion.clone(),
                },
                department,
            );
        }
        Command::Return { to, reason } => {
            let Some((index, step)) = in_progress_step(case) else {
                return Err(illegal(command, case));
            };
            require(
                actor.has_role(step.role, Some(&case.department))
                    || actor.has_role(Role::ChiefRepresentative, Some(&case.department)),
                || "only the step's handler or the chief representative returns a case".into(),
            )?;
            require_text(reason, "the reason")?;
            let Some(target) = case.workflow.step_index(to).filter(|t| *t < index) else {
                return Err(CaseError::Invalid(format!(
                    "{to} is not an earlier step of this case"
                )));
            };
            next.state = CaseState::InProgress { step: target };
            next.countersign.clear();
            event(
                EventKind::Returned {
                    from: step.name.clone(),
                    to: case.workflow.steps[target].name.clone(),
                    reason: reason.clone(),
                },
                department,
            );
        }
        Command::Countersign {
            pass,
            opinion,
            department: chosen,
        } => {
            let Some((index, step)) = in_progress_step(case) else {
                return Err(illegal(command, case));
            };
            let StepKind::Countersign { mode, departments } = &step.kind else {
                return Err(CaseError::Invalid(format!(
                    "step {} is not a countersign step",
                    step.name
                )));
            };
            let signers = countersigners(case, departments);
            let voting = signers
                .iter()
                .filter(|d| chosen.as_ref().is_none_or(|c| c == *d))
                .find(|d| !case.countersign.contains_key(*d) && actor.has_role(step.role, Some(d)));
            let Some(voting) = voting.cloned() else {
                return Err(CaseError::Forbidden(
                    "this actor represents no countersigning department that has not voted yet"
                        .into(),
                ));
            };
            if !pass {
                require_text(opinion, "the opinion of a negative vote")?;
            }
            next.countersign.insert(voting.clone(), *pass);
            let passes = next.countersign.values().filter(|v| **v).count();
            let votes = next.countersign.len();
            let (done, failed) = match mode {
                CountersignMode::All => (passes == signers.len(), !pass),
                CountersignMode::Any => (*pass, votes == signers.len() && passes == 0),
            };
            event(
                EventKind::Countersigned {
                    step: step.name.clone(),
                    pass: *pass,
                    opinion: opinion.clone(),
                },
                Some(voting),
            );
            if done {
                next.state = CaseState::InProgress { step: index + 1 };
                next.countersign.clear();
            } else if failed {
                let back = index.saturating_sub(1);
                next.state = CaseState::InProgress { step: back };
                next.countersign.clear();
                event(
                    EventKind::Returned {
                        from: step.name.clone(),
                        to: case.workflow.steps[back].name.clone(),
                        reason: opinion.clone(),
                    },
                    department,
                );
            }
        }
        Command::Suspend { procedure, reason } => {
            let Some((index, _)) = in_progress_step(case) else {
                return Err(illegal(command, case));
            };
            require(
                actor.has_role(Role::Approver, Some(&case.department))
                    || actor.has_role(Role::ChiefRepresentative, Some(&case.department)),
                || "only the department's approvers start a special procedure".into(),
            )?;
            require_text(procedure, "the procedure")?;
            require_text(reason, "the reason")?;
            stop_clock(&mut next, today);
            next.state = CaseState::Suspended { step: index };
            event(
                EventKind::Suspended {
                    procedure: procedure.clone(),
                    reason: reason.clone(),
                },
                department,
            );
        }
        Command::Resume => {
            let CaseState::Suspended { step } = case.state else {
                return Err(illegal(command, case));
            };
            require(
                actor.has_role(Role::Approver, Some(&case.department))
                    || actor.has_role(Role::ChiefRepresentative, Some(&case.department)),
                || "only the department's approvers end a special procedure".into(),
            )?;
            restart_clock(&mut next, today, context.calendar)?;
            next.state = CaseState::InProgress { step };
            event(EventKind::Resumed, department);
        }
        Command::Extend { days, reason } => {
            if !matches!(
                case.state,
                CaseState::InProgress { .. } | CaseState::Suspended { .. }
            ) {
                return Err(illegal(command, case));
            }
            require(
                actor.has_role(Role::ChiefRepresentative, Some(&case.department)),
                || "an extension is approved by the department's chief representative".into(),
            )?;
            require_text(reason, "the reason")?;
            let limit = max_extension(case);
            // Fix: `extension_days + days` overflowed (a panic in debug builds) for a huge `days`
            // after an earlier extension; compare without overflowing.
            if *days == 0 || case.extension_days.saturating_add(*days) > limit {
                return Err(CaseError::Invalid(format!(
                    "an extension is 1 to {limit} working days in all (already {})",
                    case.extension_days
                )));
            }
            next.extension_days += days;
            recompute_dues(&mut next, context.calendar)?;
            event(
                EventKind::Extended {
                    days: *days,
                    reason: reason.clone(),
                },
                department,
            );
        }
        Command::Transfer {
            department: target,
            reason,
        } => {
            if !matches!(
                case.state,
                CaseState::Submitted | CaseState::PreReviewed | CaseState::InProgress { .. }
            ) {
                return Err(illegal(command, case));
            }
            require(
                actor.has_role(Role::ChiefRepresentative, Some(&case.department))
                    || actor.has_role(Role::Approver, Some(&case.department)),
                || "only the handling department transfers a case".into(),
            )?;
            require_text(reason, "the reason")?;
            if *target == case.department {
                return Err(CaseError::Invalid(
                    "the case is already with that department".into(),
                ));
            }
            next.department = target.clone();
            if let CaseState::InProgress { .. } = case.state {
                next.state = CaseState::InProgress { step: 0 };
            }
            next.countersign.clear();
            event(
                EventKind::Transferred {
                    to: target.clone(),
                    reason: reason.clone(),
                },
                department,
            );
        }
        Command::Decide { granted, opinion } => {
            let Some((_, step)) = in_progress_step(case) else {
                return Err(illegal(command, case));
            };
            if step.kind != StepKind::Decision {
                return Err(CaseError::Invalid(format!(
                    "the case is at step {}, not at the decision",
                    step.name
                )));
            }
            require(actor.has_role(step.role, Some(&case.department)), || {
                format!("the decision is signed by the department's {:?}", step.role)
            })?;
            if !granted {
                require_text(opinion, "the reason for refusing")?;
            }
            next.state = CaseState::Decided { granted: *granted };
            next.decision = Some(Decision {
                granted: *granted,
                opinion: opinion.clone(),
                by: actor.account.clone(),
                at: context.now,
            });
            if !granted {
                next.closed_at = Some(context.now);
            }
            event(
                EventKind::Decided {
                    granted: *granted,
                    opinion: opinion.clone(),
                },
                department,
            );
        }
        Command::Issue { licence } => {
            if case.state != (CaseState::Decided { granted: true }) {
                return Err(illegal(command, case));
            }
            require(
                is_clerk(actor)
                    || actor.has_role(Role::Approver, Some(&case.department))
                    || actor.has_role(Role::ChiefRepresentative, Some(&case.department)),
                || "results are issued by the department or a window clerk".into(),
            )?;
            next.licence = licence.clone();
            next.state = CaseState::Issued;
            event(
                EventKind::Issued {
                    licence: licence.clone(),
                },
                department,
            );
        }
        Command::Deliver { how } => {
            if case.state != CaseState::Issued {
                return Err(illegal(command, case));
            }
            require(is_clerk(actor) || actor.kind == ActorKind::System, || {
                "results are handed out by a window clerk (any hall) or the delivery service".into()
            })?;
            require_text(how, "how it was delivered")?;
            if let Delivery::Collect { .. } = case.delivery {
                return Err(CaseError::Invalid(
                    "a result waiting at a hall is handed out against the applicant's pickup code: use collect".into(),
                ));
            }
            if let Some(shipment) = case.shipment().filter(|s| s.in_flight()) {
                return Err(CaseError::Invalid(format!(
                    "the result is on its way ({} {}); the carrier's signature delivers it",
                    shipment.carrier, shipment.tracking_number
                )));
            }
            next.state = CaseState::Delivered;
            next.closed_at = Some(context.now);
            event(EventKind::Delivered { how: how.clone() }, None);
        }
        Command::Ship {
            carrier,
            tracking_number,
        } => {
            if case.state != CaseState::Issued {
                return Err(illegal(command, case));
            }
            require(
                is_clerk(actor)
                    || actor.has_role(Role::Approver, Some(&case.department))
                    || actor.has_role(Role::ChiefRepresentative, Some(&case.department)),
                || "results are posted by a window clerk or the handling department".into(),
            )?;
            let Delivery::Post { postage, .. } = &case.delivery else {
                return Err(CaseError::Invalid(
                    "the applicant collects this result at a hall; it is not posted".into(),
                ));
            };
            if let Some(shipment) = case.shipment().filter(|s| s.in_flight()) {
                return Err(CaseError::Invalid(format!(
                    "the result is already on its way ({} {})",
                    shipment.carrier, shipment.tracking_number
                )));
            }
            let tracking_number = TrackingNumber::parse(*carrier, tracking_number)?;
            next.shipments.push(Shipment {
                carrier: *carrier,
                tracking_number: tracking_number.clone(),
                postage: *postage,
                status: ShipmentStatus::Shipped,
                shipped_at: context.now,
                shipped_by: actor.account.clone(),
                hall: actor.clerk_hall().cloned(),
                events: Vec::new(),
            });
            event(
                EventKind::Shipped {
                    carrier: *carrier,
                    tracking_number,
                },
                None,
            );
        }
        Command::Track {
            status,
            at,
            place,
            note,
        } => {
            if case.state != CaseState::Issued {
                return Err(illegal(command, case));
            }
            require(may_track(actor), || {
                "shipment reports come from a carrier's system or a window clerk".into()
            })?;
            let Some(shipment) = case.shipment() else {
                return Err(CaseError::Invalid("the result has not been posted".into()));
            };
            let update = TrackingUpdate {
                status: *status,
                at: *at,
                place: place.clone(),
                note: note.clone(),
            };
            let recorded = match shipment.record(&update, &actor.account, context.now)? {
                Recorded::AlreadyRecorded => {
                    return Ok(Outcome {
                        case: case.clone(),
                        events: Vec::new(),
                    });
                }
                Recorded::Changed(recorded) => recorded,
            };
            let (carrier, tracking_number) = (recorded.carrier, recorded.tracking_number.clone());
            if let Some(last) = next.shipments.last_mut() {
                *last = recorded;
            }
            // The carrier reports on the department's result: the timeline names the department,
            // not a window.
            match status {
                ShipmentStatus::Signed => {
                    next.state = CaseState::Delivered;
                    next.closed_at = Some(context.now);
                    event(
                        EventKind::Delivered {
                            how: "签收(邮寄送达)".to_owned(),
                        },
                        department,
                    );
                }
                ShipmentStatus::Returned => event(
                    EventKind::ShipmentReturned {
                        carrier,
                        tracking_number,
                        reason: note.trim().to_owned(),
                    },
                    department,
                ),
                _ => {}
            }
        }
        Command::Collect { pickup_code } => {
            if case.state != CaseState::Issued {
                return Err(illegal(command, case));
            }
            require(is_clerk(actor), || {
                "results are handed out at a window of a hall".into()
            })?;
            let Delivery::Collect {
                pickup_code: expected,
                ..
            } = &case.delivery
            else {
                return Err(CaseError::Invalid(
                    "this result is posted; to collect it at a hall, switch to collection first"
                        .into(),
                ));
            };
            if !pickup_code_matches(expected, pickup_code) {
                return Err(DeliveryError::WrongPickupCode.into());
            }
            next.state = CaseState::Delivered;
            next.closed_at = Some(context.now);
            event(
                EventKind::Delivered {
                    how: "领取".to_owned(),
                },
                None,
            );
        }
        Command::CollectInstead { hall, pickup_code } => {
            if case.state != CaseState::Issued {
                return Err(illegal(command, case));
            }
            require(
                is_clerk(actor) || actor.is_applicant(&case.applicant),
                || "the applicant, or a window clerk for them, chooses collection".into(),
            )?;
            if let Delivery::Collect { .. } = case.delivery {
                return Err(CaseError::Invalid(
                    "the result already waits at a hall for collection".into(),
                ));
            }
            if let Some(shipment) = case.shipment().filter(|s| s.in_flight()) {
                return Err(CaseError::Invalid(format!(
                    "the result is on its way ({} {}); it can be collected if it is returned",
                    shipment.carrier, shipment.tracking_number
                )));
            }
            if pickup_code.trim().len() < 6 {
                return Err(CaseError::Invalid(
                    "a pickup code has at least 6 characters".into(),
                ));
            }
            next.delivery = Delivery::Collect {
                hall: hall.clone(),
                pickup_code: pickup_code.trim().to_owned(),
            };
            event(EventKind::SwitchedToCollection { hall: hall.clone() }, None);
        }
        Command::Withdraw { reason } => {
            if !matches!(
                case.state,
                CaseState::Submitted
                    | CaseState::PreReviewed
                    | CaseState::Correction
                    | CaseState::InProgress { .. }
                    | CaseState::Suspended { .. }
            ) {
                return Err(illegal(command, case));
            }
            require(actor.acts_for_applicant(&case.applicant), || {
                "only the applicant (or an agent for them) withdraws".into()
            })?;
            if let Some(since) = next.suspended_since.take() {
                next.suspensions.push(Suspension {
                    from: since,
                    to: today,
                });
            }
            next.state = CaseState::Withdrawn;
            next.closed_at = Some(context.now);
            event(
                EventKind::Withdrawn {
                    reason: reason.clone(),
                },
                None,
            );
        }
    }
    next.version = case.version + 1;
    Ok(Outcome { case: next, events })
}

/// Who reports on a shipment: a department system (the carrier's gateway acts through an API
/// token, like every department system) or a window clerk typing the carrier's report.
fn may_track(actor: &Actor) -> bool {
    actor.kind == ActorKind::System || is_clerk(actor)
}

/// Whether a `track` command repeats a report the current shipment holds already.
fn already_tracked(case: &Case, command: &Command, actor: &Actor) -> bool {
    let Command::Track {
        status, at, place, ..
    } = command
    else {
        return false;
    };
    may_track(actor)
        && case.shipment().is_some_and(|shipment| {
            shipment.events.iter().any(|event| {
                event.status == *status && event.at == *at && event.place == place.trim()
            })
        })
}

fn in_progress_step(case: &Case) -> Option<(usize, &super::Step)> {
    match case.state {
        CaseState::InProgress { step } => case.workflow.steps.get(step).map(|s| (step, s)),
        _ => None,
    }
}

/// The departments that countersign: those listed on the step, else the item's co-departments,
/// else the handling department itself.
fn countersigners(case: &Case, listed: &[DepartmentKey]) -> Vec<DepartmentKey> {
    if !listed.is_empty() {
        return listed.to_vec();
    }
    if !case.co_departments.is_empty() {
        return case.co_departments.clone();
    }
    vec![case.department.clone()]
}
