//! Bundle applications (一件事申请): one submission opens a parent case and one child case per
//! selected member; children run in parallel in their departments (并联审批), except that a child
//! waits for the members it needs results from (`after`: 出生医学证明 before 出生登记) and, in a
//! staged bundle (一类事), for every member of the earlier stages.
//!
//! The parent is a plain value like [`super::Case`]. [`BundleCase::sync`] takes the children's
//! current states and says which waiting members open now and which can no longer open (a member
//! they wait for was refused); the parent completes when every child has finished. Nothing here
//! reads a clock or a database: the service passes `now` and the children's states in.
//!
//! ```text
//! member A ──ready──▶ member B opens        A refused ──▶ B cancelled
//! every child delivered ──▶ parent completed
//! every child finished, some refused/cancelled ──▶ parent closed
//! ```

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Actor, Applicant, CaseMaterial, Channel, Delivery};
use crate::catalog::{Answers, BundleDefinition, BundleKind, ItemDefinition};
use crate::ids::ImplementationCode;
use crate::keys::{BundleCode, DataElementCode, DepartmentKey, LicenceTypeKey, QuestionCode};

/// Where a bundle application stands as a whole (one status for the applicant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleState {
    /// Some child is still being handled or waiting.
    InProgress,
    /// Every child delivered its result (一窗出件 done).
    Completed,
    /// Every child finished, but at least one was refused, rejected, withdrawn or cancelled.
    Closed,
}

impl BundleState {
    pub fn name(&self) -> &'static str {
        match self {
            BundleState::InProgress => "in_progress",
            BundleState::Completed => "completed",
            BundleState::Closed => "closed",
        }
    }

    pub fn public_text(&self) -> (&'static str, &'static str) {
        match self {
            BundleState::InProgress => ("办理中", "In progress"),
            BundleState::Completed => ("已全部办结", "Every item completed"),
            BundleState::Closed => ("已办结(部分事项未获办理)", "Closed, some items not granted"),
        }
    }
}

/// How far a child case has come, from its state name ([`super::CaseState::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildProgress {
    /// Still being handled.
    Running,
    /// Its result exists (issued), so members waiting for it may open.
    ResultReady,
    /// Delivered: finished with its result.
    Done,
    /// Rejected, refused or withdrawn: finished without a result.
    Failed,
}

impl ChildProgress {
    pub fn of_state(state: &str) -> ChildProgress {
        match state {
            "issued" => ChildProgress::ResultReady,
            "delivered" => ChildProgress::Done,
            "rejected" | "refused" | "withdrawn" => ChildProgress::Failed,
            _ => ChildProgress::Running,
        }
    }

    fn has_result(self) -> bool {
        matches!(self, ChildProgress::ResultReady | ChildProgress::Done)
    }
}

/// Where one member of the parent stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ChildStatus {
    /// Waiting for the results of the members in `waits_for` (no case yet).
    Waiting,
    /// Its case exists; `state` is the case's state name as last seen.
    Open {
        case_id: uuid::Uuid,
        number: String,
        state: String,
    },
    /// Will not open: a member it needs finished without a result.
    Cancelled { reason: String },
}

/// One selected member of a bundle application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleChild {
    pub item: ImplementationCode,
    pub item_name: String,
    pub department: DepartmentKey,
    /// The members whose results this one needs first (the bundle's `after`, restricted to the
    /// selected members, plus every member of earlier stages).
    #[serde(default)]
    pub waits_for: Vec<ImplementationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<QuestionCode>,
    /// The licence this member's result is (e.g. 出生医学证明), for members that need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub produces: Option<LicenceTypeKey>,
    #[serde(flatten)]
    pub status: ChildStatus,
}

impl BundleChild {
    pub fn case_id(&self) -> Option<uuid::Uuid> {
        match &self.status {
            ChildStatus::Open { case_id, .. } => Some(*case_id),
            _ => None,
        }
    }

    fn progress(&self) -> Option<ChildProgress> {
        match &self.status {
            ChildStatus::Open { state, .. } => Some(ChildProgress::of_state(state)),
            ChildStatus::Waiting => None,
            ChildStatus::Cancelled { .. } => Some(ChildProgress::Failed),
        }
    }
}

/// Something that happened to the parent, for its timeline and the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum BundleEventKind {
    Submitted { children: u32, waiting: u32 },
    ChildOpened { item: ImplementationCode },
    ChildCancelled { item: ImplementationCode },
    StageOpened { stage: QuestionCode },
    Completed,
    Closed,
}

impl BundleEventKind {
    pub fn name(&self) -> &'static str {
        match self {
            BundleEventKind::Submitted { .. } => "submitted",
            BundleEventKind::ChildOpened { .. } => "child_opened",
            BundleEventKind::ChildCancelled { .. } => "child_cancelled",
            BundleEventKind::StageOpened { .. } => "stage_opened",
            BundleEventKind::Completed => "completed",
            BundleEventKind::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEvent {
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: BundleEventKind,
}

/// A bundle application: the parent case. `version` increases with every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleCase {
    pub id: uuid::Uuid,
    /// 一件事办件编号: `YJS` + YYYYMMDD + 4-digit sequence, assigned by the store.
    pub number: String,
    pub version: u64,
    pub bundle_code: BundleCode,
    pub bundle_version: u32,
    pub bundle_name: String,
    pub kind: BundleKind,
    pub applicant: Applicant,
    pub channel: Channel,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// The one merged form, each data element once.
    #[serde(default)]
    pub form: BTreeMap<DataElementCode, String>,
    /// The one set of materials, each once; members take the ones they need.
    #[serde(default)]
    pub materials: Vec<CaseMaterial>,
    pub delivery: Delivery,
    /// Who submitted (the applicant, or a clerk for them): members that open later are opened
    /// in their name.
    pub submitted_by: Actor,
    pub state: BundleState,
    pub children: Vec<BundleChild>,
    pub submitted_at: Timestamp,
    /// The bundle's own promised date, from the day of submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_due: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Whether the applicant agreed that earlier data prefill the form (recorded with the case).
    #[serde(default)]
    pub prefill_consent: bool,
    #[serde(default)]
    pub history: Vec<BundleEvent>,
}

/// What [`BundleCase::sync`] decided.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncOutcome {
    /// Waiting members whose every prerequisite has its result: the caller opens their cases
    /// and then calls [`BundleCase::mark_opened`].
    pub to_open: Vec<ImplementationCode>,
    /// Whether the parent changed (states copied, members cancelled, parent finished).
    pub changed: bool,
    /// Events appended to the parent's history by this sync.
    pub events: Vec<BundleEvent>,
}

/// The members an application selects, with their waits, in the bundle's order. `items` holds
/// the selected members' definitions; members missing from it are left out by the caller's
/// validation beforehand.
pub fn plan_children(
    bundle: &BundleDefinition,
    answers: &Answers,
    items: &BTreeMap<ImplementationCode, &ItemDefinition>,
) -> Vec<BundleChild> {
    let selected: Vec<_> = bundle
        .members_for(answers)
        .filter(|m| items.contains_key(&m.item))
        .collect();
    let chosen: BTreeSet<&ImplementationCode> = selected.iter().map(|m| &m.item).collect();
    let stage_index = |stage: Option<&QuestionCode>| {
        stage.and_then(|code| bundle.stages.iter().position(|s| &s.code == code))
    };
    let mut children = Vec::with_capacity(selected.len());
    for member in &selected {
        let mut waits_for: Vec<ImplementationCode> = member
            .after
            .iter()
            .filter(|code| chosen.contains(code))
            .cloned()
            .collect();
        if bundle.kind == BundleKind::OneClass
            && let Some(own) = stage_index(member.stage.as_ref())
        {
            for other in &selected {
                let earlier = stage_index(other.stage.as_ref()).is_some_and(|s| s < own);
                if earlier && !waits_for.contains(&other.item) {
                    waits_for.push(other.item.clone());
                }
            }
        }
        let Some(item) = items.get(&member.item) else {
            continue;
        };
        children.push(BundleChild {
            item: member.item.clone(),
            item_name: item.name.clone(),
            department: item.department.clone(),
            waits_for,
            stage: member.stage.clone(),
            produces: item.result.licence_type.clone(),
            status: ChildStatus::Waiting,
        });
    }
    add_implicit_waits(&mut children, items);
    children
}

/// A member that needs a material which another selected member's result replaces (出生医学证明
/// for 预防接种证) waits for that member even when the catalog did not say so: the material then
/// comes by reference from this very application instead of being asked of the applicant
/// (once-only). An edge that would close a cycle is left out.
fn add_implicit_waits(
    children: &mut [BundleChild],
    items: &BTreeMap<ImplementationCode, &ItemDefinition>,
) {
    for index in 0..children.len() {
        let Some(item) = items.get(&children[index].item) else {
            continue;
        };
        for material in &item.materials {
            let Some(key) = &material.replaced_by_licence else {
                continue;
            };
            let producers: Vec<ImplementationCode> = children
                .iter()
                .filter(|c| c.item != children[index].item && c.produces.as_ref() == Some(key))
                .map(|c| c.item.clone())
                .collect();
            for producer in producers {
                let own = children[index].item.clone();
                if children[index].waits_for.contains(&producer)
                    || waits_transitively(children, &producer, &own)
                {
                    continue;
                }
                children[index].waits_for.push(producer);
            }
        }
    }
}

/// Whether `from` waits, directly or through others, for `target`.
fn waits_transitively(
    children: &[BundleChild],
    from: &ImplementationCode,
    target: &ImplementationCode,
) -> bool {
    let mut stack = vec![from];
    let mut seen: BTreeSet<&ImplementationCode> = BTreeSet::new();
    while let Some(code) = stack.pop() {
        if code == target {
            return true;
        }
        if !seen.insert(code) {
            continue;
        }
        if let Some(child) = children.iter().find(|c| &c.item == code) {
            stack.extend(child.waits_for.iter());
        }
    }
    false
}

/// Licence types that the members `item` waits for (directly or through others) produce.
pub fn prerequisite_licences(
    children: &[BundleChild],
    item: &ImplementationCode,
) -> Vec<LicenceTypeKey> {
    let find = |code: &ImplementationCode| children.iter().find(|c| &c.item == code);
    let Some(child) = find(item) else {
        return Vec::new();
    };
    let mut all: Vec<LicenceTypeKey> = Vec::new();
    let mut stack: Vec<&ImplementationCode> = child.waits_for.iter().collect();
    let mut seen: BTreeSet<&ImplementationCode> = BTreeSet::new();
    while let Some(code) = stack.pop() {
        if !seen.insert(code) {
            continue;
        }
        if let Some(before) = find(code) {
            if let Some(key) = &before.produces
                && !all.contains(key)
            {
                all.push(key.clone());
            }
            stack.extend(before.waits_for.iter());
        }
    }
    all
}

impl BundleCase {
    /// The children that open at once (nothing to wait for).
    pub fn ready_at_submission(&self) -> Vec<ImplementationCode> {
        self.children
            .iter()
            .filter(|c| c.waits_for.is_empty() && c.status == ChildStatus::Waiting)
            .map(|c| c.item.clone())
            .collect()
    }

    pub fn child(&self, item: &ImplementationCode) -> Option<&BundleChild> {
        self.children.iter().find(|c| &c.item == item)
    }

    /// Licence types that earlier members of this application produce for `item` (its
    /// prerequisites' results): their materials are attached by reference once issued.
    pub fn licences_from_prerequisites(&self, item: &ImplementationCode) -> Vec<LicenceTypeKey> {
        prerequisite_licences(&self.children, item)
    }

    /// Records that `item`'s case was created.
    pub fn mark_opened(
        &mut self,
        item: &ImplementationCode,
        case_id: uuid::Uuid,
        number: &str,
        state: &str,
        at: Timestamp,
    ) {
        let stage_before = self.open_stage();
        if let Some(child) = self.children.iter_mut().find(|c| &c.item == item) {
            child.status = ChildStatus::Open {
                case_id,
                number: number.to_owned(),
                state: state.to_owned(),
            };
            self.history.push(BundleEvent {
                at,
                kind: BundleEventKind::ChildOpened { item: item.clone() },
            });
        }
        let stage_after = self.open_stage();
        if self.kind == BundleKind::OneClass
            && stage_after != stage_before
            && let Some(stage) = stage_after
        {
            self.history.push(BundleEvent {
                at,
                kind: BundleEventKind::StageOpened { stage },
            });
        }
    }

    /// The latest stage that has an opened child (一类事), if any.
    pub fn open_stage(&self) -> Option<QuestionCode> {
        self.children
            .iter()
            .rev()
            .find(|c| matches!(c.status, ChildStatus::Open { .. }))
            .and_then(|c| c.stage.clone())
    }

    /// Takes the children's current states (case id → state name), cancels members that can no
    /// longer open, lists members that open now, and finishes the parent when every child has.
    pub fn sync(&mut self, states: &BTreeMap<uuid::Uuid, String>, now: Timestamp) -> SyncOutcome {
        let mut outcome = SyncOutcome::default();
        for child in &mut self.children {
            if let ChildStatus::Open { case_id, state, .. } = &mut child.status
                && let Some(current) = states.get(case_id)
                && current != state
            {
                state.clone_from(current);
                outcome.changed = true;
            }
        }
        // Cancellation spreads: a member waiting for a cancelled member is cancelled too.
        loop {
            let progress: BTreeMap<ImplementationCode, Option<ChildProgress>> = self
                .children
                .iter()
                .map(|c| (c.item.clone(), c.progress()))
                .collect();
            let mut cancelled_now = false;
            for child in &mut self.children {
                if child.status != ChildStatus::Waiting {
                    continue;
                }
                let failed = child
                    .waits_for
                    .iter()
                    .find(|code| progress.get(*code) == Some(&Some(ChildProgress::Failed)));
                if let Some(failed) = failed {
                    child.status = ChildStatus::Cancelled {
                        reason: format!("{failed} finished without a result"),
                    };
                    let event = BundleEvent {
                        at: now,
                        kind: BundleEventKind::ChildCancelled {
                            item: child.item.clone(),
                        },
                    };
                    outcome.events.push(event.clone());
                    self.history.push(event);
                    cancelled_now = true;
                    outcome.changed = true;
                }
            }
            if !cancelled_now {
                break;
            }
        }
        let progress: BTreeMap<&ImplementationCode, Option<ChildProgress>> = self
            .children
            .iter()
            .map(|c| (&c.item, c.progress()))
            .collect();
        for child in &self.children {
            let ready = child.status == ChildStatus::Waiting
                && child.waits_for.iter().all(|code| {
                    progress
                        .get(code)
                        .is_some_and(|p| p.is_some_and(ChildProgress::has_result))
                });
            if ready {
                outcome.to_open.push(child.item.clone());
            }
        }
        if self.state == BundleState::InProgress && outcome.to_open.is_empty() {
            let finished = self.children.iter().all(|c| {
                matches!(
                    c.progress(),
                    Some(ChildProgress::Done) | Some(ChildProgress::Failed)
                )
            });
            if finished {
                let all_done = self
                    .children
                    .iter()
                    .all(|c| c.progress() == Some(ChildProgress::Done));
                self.state = if all_done {
                    BundleState::Completed
                } else {
                    BundleState::Closed
                };
                self.closed_at = Some(now);
                let event = BundleEvent {
                    at: now,
                    kind: if all_done {
                        BundleEventKind::Completed
                    } else {
                        BundleEventKind::Closed
                    },
                };
                outcome.events.push(event.clone());
                self.history.push(event);
                outcome.changed = true;
            }
        }
        outcome
    }

    /// The cooperating departments that have no member in this application: once it completes,
    /// they receive its data as a push (e.g. 企业信息变更 → tax, social insurance, housing fund
    /// records) instead of further applications.
    pub fn push_targets(&self, cooperating: &[DepartmentKey]) -> Vec<DepartmentKey> {
        let mut targets: Vec<DepartmentKey> = Vec::new();
        for department in cooperating {
            let has_member = self.children.iter().any(|c| &c.department == department);
            if !has_member && !targets.contains(department) {
                targets.push(department.clone());
            }
        }
        targets
    }

    /// Counts of children by progress, for lists and pages: (done, running, waiting, stopped).
    pub fn counts(&self) -> (u32, u32, u32, u32) {
        let mut counts = (0, 0, 0, 0);
        for child in &self.children {
            match child.progress() {
                Some(ChildProgress::Done) => counts.0 += 1,
                Some(ChildProgress::Running | ChildProgress::ResultReady) => counts.1 += 1,
                None => counts.2 += 1,
                Some(ChildProgress::Failed) => counts.3 += 1,
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(n: u32) -> ImplementationCode {
        ImplementationCode::parse(&format!("11990100004213675N20001{n:02}000000")).unwrap()
    }

    fn child(n: u32, waits: &[u32]) -> BundleChild {
        BundleChild {
            item: code(n),
            item_name: format!("item {n}"),
            department: DepartmentKey::parse("city-health").unwrap(),
            waits_for: waits.iter().map(|w| code(*w)).collect(),
            stage: None,
            produces: None,
            status: ChildStatus::Waiting,
        }
    }

    fn parent(children: Vec<BundleChild>) -> BundleCase {
        BundleCase {
            id: uuid::Uuid::nil(),
            number: String::new(),
            version: 1,
            bundle_code: BundleCode::parse("newborn").unwrap(),
            bundle_version: 1,
            bundle_name: "新生儿出生一件事".into(),
            kind: BundleKind::OneThing,
            applicant: Applicant {
                kind: super::super::ApplicantKind::Person,
                name: "张伟".into(),
                identifier: "x".into(),
                account: None,
            },
            channel: Channel::Web,
            answers: BTreeMap::new(),
            form: BTreeMap::new(),
            materials: Vec::new(),
            submitted_by: Actor {
                account: crate::keys::AccountName::parse("citizen").unwrap(),
                name: "张伟".into(),
                kind: super::super::ActorKind::Person,
                roles: Vec::new(),
                identifier: Some("x".into()),
                acting_for: None,
            },
            delivery: Delivery::Post {
                recipient: "张伟".into(),
                phone: "13800000000".into(),
                address: "示范市".into(),
                postage: Default::default(),
            },
            state: BundleState::InProgress,
            children,
            submitted_at: Timestamp::UNIX_EPOCH,
            promised_due: None,
            closed_at: None,
            prefill_consent: false,
            history: Vec::new(),
        }
    }

    fn open(parent: &mut BundleCase, n: u32, id: u128) {
        parent.mark_opened(
            &code(n),
            uuid::Uuid::from_u128(id),
            "N",
            "submitted",
            Timestamp::UNIX_EPOCH,
        );
    }

    fn states(pairs: &[(u128, &str)]) -> BTreeMap<uuid::Uuid, String> {
        pairs
            .iter()
            .map(|(id, s)| (uuid::Uuid::from_u128(*id), (*s).to_owned()))
            .collect()
    }

    #[test]
    fn a_member_opens_only_once_the_result_it_needs_is_issued() {
        let mut case = parent(vec![child(1, &[]), child(2, &[1])]);
        assert_eq!(case.ready_at_submission(), vec![code(1)]);
        open(&mut case, 1, 1);
        let running = case.sync(&states(&[(1, "in_progress")]), Timestamp::UNIX_EPOCH);
        assert!(running.to_open.is_empty());
        let issued = case.sync(&states(&[(1, "issued")]), Timestamp::UNIX_EPOCH);
        assert_eq!(issued.to_open, vec![code(2)]);
        assert_eq!(case.state, BundleState::InProgress);
    }

    #[test]
    fn the_parent_completes_when_every_child_is_delivered() {
        let mut case = parent(vec![child(1, &[]), child(2, &[])]);
        open(&mut case, 1, 1);
        open(&mut case, 2, 2);
        case.sync(
            &states(&[(1, "delivered"), (2, "issued")]),
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(case.state, BundleState::InProgress);
        let done = case.sync(&states(&[(2, "delivered")]), Timestamp::UNIX_EPOCH);
        assert_eq!(case.state, BundleState::Completed);
        assert!(case.closed_at.is_some());
        assert_eq!(done.events.len(), 1);
    }

    #[test]
    fn a_refused_prerequisite_cancels_its_dependants_and_closes_the_parent() {
        let mut case = parent(vec![child(1, &[]), child(2, &[1]), child(3, &[2])]);
        open(&mut case, 1, 1);
        case.sync(&states(&[(1, "refused")]), Timestamp::UNIX_EPOCH);
        assert!(matches!(
            case.children[1].status,
            ChildStatus::Cancelled { .. }
        ));
        assert!(matches!(
            case.children[2].status,
            ChildStatus::Cancelled { .. }
        ));
        assert_eq!(case.state, BundleState::Closed);
    }

    #[test]
    fn data_is_pushed_to_cooperating_departments_without_a_member() {
        let case = parent(vec![child(1, &[])]);
        let key = |k: &str| DepartmentKey::parse(k).unwrap();
        assert_eq!(
            case.push_targets(&[key("city-tax"), key("city-health"), key("city-tax")]),
            vec![key("city-tax")]
        );
    }

    #[test]
    fn licences_of_prerequisites_are_found_through_the_chain() {
        let mut first = child(1, &[]);
        first.produces = Some(LicenceTypeKey::parse("birth-certificate").unwrap());
        let case = parent(vec![first, child(2, &[1]), child(3, &[2])]);
        assert_eq!(
            case.licences_from_prerequisites(&code(3)),
            vec![LicenceTypeKey::parse("birth-certificate").unwrap()]
        );
        assert!(case.licences_from_prerequisites(&code(1)).is_empty());
    }
}
