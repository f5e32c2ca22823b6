//! Tests of the case lifecycle (SPEC C2, REFERENCE §2 and §8): the happy path, every refused
//! transition, who may act, corrections, special procedures, extensions, countersigning, returns,
//! 容缺 acceptance, transfers, refusals, the public timeline, deadlines across holidays, and
//! property tests over random command sequences.

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::lifecycle::ToleratedMaterial;
use super::*;
use crate::calendar::{Calendar, Suspension, shanghai_date};
use crate::catalog::TimeLimit;
use crate::catalog::codes::{CaseType, TimeUnit};
use crate::ids::{ImplementationCode, LicenceId};
use crate::keys::{AccountName, DepartmentKey, HallKey, MaterialCode, QuestionCode};
use crate::org::{Role, RoleAssignment};

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

const MARKET: &str = "city-market";
const FIRE: &str = "city-fire";
const URBAN: &str = "city-urban";
const HALL: &str = "city-centre";
const APPLICANT_ID: &str = "990102198803150031";

const FORM: &str = "application-form";
const ID_CARD: &str = "id-card";
const FIRE_OPINION: &str = "fire-opinion";

const PICKUP_CODE: &str = "483920";
const EMS_NUMBER: &str = "EA123456785CN";

const LICENCE: &str = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S";

fn department(key: &str) -> DepartmentKey {
    DepartmentKey::parse(key).unwrap_or_else(|e| panic!("department key {key}: {e}"))
}

fn material(code: &str) -> MaterialCode {
    MaterialCode::parse(code).unwrap_or_else(|e| panic!("material code {code}: {e}"))
}

fn account(name: &str) -> AccountName {
    AccountName::parse(name).unwrap_or_else(|e| panic!("account {name}: {e}"))
}

fn question(code: &str) -> QuestionCode {
    QuestionCode::parse(code).unwrap_or_else(|e| panic!("step code {code}: {e}"))
}

fn hall(key: &str) -> HallKey {
    HallKey::parse(key).unwrap_or_else(|e| panic!("hall key {key}: {e}"))
}

fn licence() -> LicenceId {
    LicenceId::parse(LICENCE).unwrap_or_else(|e| panic!("licence {LICENCE}: {e}"))
}

/// An instant at `hour`:00 on the given civil date in Shanghai (UTC+8).
fn shanghai(year: i16, month: i8, day: i8, hour: i8) -> Timestamp {
    jiff::tz::offset(8)
        .to_timestamp(date(year, month, day).at(hour, 0, 0, 0))
        .unwrap_or_else(|e| panic!("timestamp {year}-{month}-{day} {hour}h: {e}"))
}

/// 10:00 Shanghai time on a day of 2026.
fn on(month: i8, day: i8) -> Timestamp {
    shanghai(2026, month, day, 10)
}

fn later(at: Timestamp, hours: i64) -> Timestamp {
    at.checked_add(SignedDuration::from_hours(hours))
        .unwrap_or_else(|e| panic!("{at} + {hours}h: {e}"))
}

fn assignment(role: Role, department: Option<&str>, hall_key: Option<&str>) -> RoleAssignment {
    RoleAssignment {
        role,
        department: department.map(self::department),
        hall: hall_key.map(self::hall),
        region: None,
    }
}

fn staff(name: &str, display: &str, roles: Vec<RoleAssignment>) -> Actor {
    Actor {
        account: account(name),
        name: display.to_owned(),
        kind: ActorKind::Staff,
        roles,
        identifier: None,
        acting_for: None,
    }
}

fn person(name: &str, display: &str, identifier: &str) -> Actor {
    Actor {
        account: account(name),
        name: display.to_owned(),
        kind: ActorKind::Person,
        roles: Vec::new(),
        identifier: Some(identifier.to_owned()),
        acting_for: None,
    }
}

#[derive(Debug, Clone)]
struct Actors {
    clerk: Actor,
    approver: Actor,
    fire: Actor,
    urban: Actor,
    chief: Actor,
    applicant: Actor,
    citizen: Actor,
    system: Actor,
}

impl Actors {
    fn new() -> Actors {
        Actors {
            clerk: staff(
                "clerk",
                "窗口 王敏",
                vec![assignment(Role::Clerk, None, Some(HALL))],
            ),
            approver: staff(
                "market-approver",
                "市场监管局 李审",
                vec![assignment(Role::Approver, Some(MARKET), None)],
            ),
            fire: staff(
                "fire-approver",
                "消防救援支队 赵审",
                vec![assignment(Role::Approver, Some(FIRE), None)],
            ),
            urban: staff(
                "urban-approver",
                "城管局 钱审",
                vec![assignment(Role::Approver, Some(URBAN), None)],
            ),
            chief: staff(
                "market-chief",
                "市场监管局首席代表 孙",
                vec![assignment(Role::ChiefRepresentative, Some(MARKET), None)],
            ),
            applicant: person("applicant", "张三", APPLICANT_ID),
            citizen: person("other-citizen", "李四", "11010519491231002X"),
            system: Actor {
                account: account("market-system"),
                name: "市场监管业务系统".to_owned(),
                kind: ActorKind::System,
                roles: Vec::new(),
                identifier: None,
                acting_for: None,
            },
        }
    }

    fn all(&self) -> [&Actor; 8] {
        [
            &self.clerk,
            &self.approver,
            &self.fire,
            &self.urban,
            &self.chief,
            &self.applicant,
            &self.citizen,
            &self.system,
        ]
    }
}

fn workflow(mode: CountersignMode) -> Workflow {
    let step = |code: &str, name: &str, role: Role, kind: StepKind| Step {
        code: question(code),
        name: name.to_owned(),
        role,
        kind,
        sla_days: Some(3),
    };
    Workflow {
        key: question("standard"),
        name: "标准审批流程".to_owned(),
        steps: vec![
            step("undertake", "承办", Role::Approver, StepKind::Review),
            step("review", "审核", Role::Approver, StepKind::Review),
            step(
                "countersign",
                "会签",
                Role::Approver,
                StepKind::Countersign {
                    mode,
                    departments: Vec::new(),
                },
            ),
            step(
                "decide",
                "批准",
                Role::ChiefRepresentative,
                StepKind::Decision,
            ),
        ],
    }
}

fn paper(code: &str) -> CaseMaterial {
    CaseMaterial {
        code: material(code),
        name: format!("{code} (纸质)"),
        provision: Provision::Paper,
    }
}

fn upload(code: &str, sha: &str) -> CaseMaterial {
    CaseMaterial {
        code: material(code),
        name: format!("{code} (电子)"),
        provision: Provision::Upload {
            object_key: format!("materials/{code}/{sha}"),
            sha256: sha.to_owned(),
            size: 1024,
            content_type: "application/pdf".to_owned(),
            file_name: format!("{code}.pdf"),
        },
    }
}

/// Builds the standard fixture case, with knobs for the tests that need a variant.
#[derive(Debug, Clone)]
struct CaseBuilder {
    co_departments: Vec<&'static str>,
    statutory_days: u32,
    promised_days: u32,
    mode: CountersignMode,
    /// Collected at a hall with [`PICKUP_CODE`] instead of posted.
    collect: bool,
}

impl CaseBuilder {
    fn new() -> CaseBuilder {
        CaseBuilder {
            co_departments: vec![FIRE, URBAN],
            statutory_days: 20,
            promised_days: 10,
            mode: CountersignMode::All,
            collect: false,
        }
    }

    fn collected(mut self) -> CaseBuilder {
        self.collect = true;
        self
    }

    fn single_department(mut self) -> CaseBuilder {
        self.co_departments.clear();
        self
    }

    fn any_mode(mut self) -> CaseBuilder {
        self.mode = CountersignMode::Any;
        self
    }

    fn limits(mut self, statutory: u32, promised: u32) -> CaseBuilder {
        self.statutory_days = statutory;
        self.promised_days = promised;
        self
    }

    fn build(self) -> Case {
        let code = "11330105002500287C4330511700001";
        Case {
            id: uuid::Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0001),
            number: format!("{code}202603010001"),
            version: 1,
            item_code: ImplementationCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}")),
            item_version: 1,
            item_name: "食品经营许可".to_owned(),
            case_type: CaseType::Promised,
            department: department(MARKET),
            co_departments: self.co_departments.into_iter().map(department).collect(),
            applicant: Applicant {
                kind: ApplicantKind::Person,
                name: "张三".to_owned(),
                identifier: APPLICANT_ID.to_owned(),
                account: Some(account("applicant")),
            },
            channel: Channel::Web,
            hall: None,
            state: CaseState::Submitted,
            workflow: workflow(self.mode),
            answers: Default::default(),
            form: Default::default(),
            materials: vec![upload(FORM, "aa11"), paper(ID_CARD), paper(FIRE_OPINION)],
            delivery: if self.collect {
                Delivery::Collect {
                    hall: hall(HALL),
                    pickup_code: PICKUP_CODE.to_owned(),
                }
            } else {
                Delivery::Post {
                    recipient: "张三".to_owned(),
                    phone: "13900000001".to_owned(),
                    address: "示范市东湖区人民路1号".to_owned(),
                    postage: delivery::Postage::Free,
                }
            },
            statutory_limit: TimeLimit {
                value: self.statutory_days,
                unit: TimeUnit::WorkingDays,
            },
            promised_limit: TimeLimit {
                value: self.promised_days,
                unit: TimeUnit::WorkingDays,
            },
            submitted_at: shanghai(2026, 3, 1, 15),
            accepted_on: None,
            statutory_due: None,
            promised_due: None,
            suspensions: Vec::new(),
            suspended_since: None,
            extension_days: 0,
            countersign: Default::default(),
            correction: Vec::new(),
            resume_step: None,
            decision: None,
            licence: None,
            closed_at: None,
            parent: None,
            shipments: Vec::new(),
        }
    }
}

fn standard_case() -> Case {
    CaseBuilder::new().build()
}

/// The calendar and the actors; drives cases through [`apply`].
#[derive(Debug, Clone)]
struct World {
    calendar: Calendar,
    actors: Actors,
}

fn world() -> World {
    World {
        calendar: Calendar::official().unwrap_or_else(|e| panic!("official calendar: {e}")),
        actors: Actors::new(),
    }
}

impl World {
    fn try_act(
        &self,
        case: &Case,
        actor: &Actor,
        now: Timestamp,
        command: &Command,
    ) -> Result<Outcome, CaseError> {
        apply(
            case,
            command,
            &Context {
                actor,
                now,
                calendar: &self.calendar,
            },
        )
    }

    /// Applies a command that must succeed; checks the version and the events' stamp.
    fn act(&self, case: &Case, actor: &Actor, now: Timestamp, command: Command) -> Outcome {
        let outcome = self
            .try_act(case, actor, now, &command)
            .unwrap_or_else(|e| {
                panic!(
                    "{} by {} refused in state {}: {e}",
                    command.name(),
                    actor.account,
                    case.state.name()
                )
            });
        assert_eq!(
            outcome.case.version,
            case.version + 1,
            "{} bumps the version by one",
            command.name()
        );
        assert!(
            !outcome.events.is_empty(),
            "{} appends an event",
            command.name()
        );
        for event in &outcome.events {
            assert_eq!(event.at, now);
            assert_eq!(event.actor, actor.account);
            assert_eq!(event.actor_name, actor.name);
        }
        outcome
    }

    fn step(&self, case: &Case, actor: &Actor, now: Timestamp, command: Command) -> Case {
        self.act(case, actor, now, command).case
    }

    fn date_after(&self, from: Date, days: u32) -> Date {
        self.calendar
            .add_working_days(from, days)
            .unwrap_or_else(|e| panic!("{from} + {days}: {e}"))
    }

    fn date_after_with(&self, from: Date, days: u32, suspensions: &[Suspension]) -> Date {
        self.calendar
            .add_working_days_with_suspensions(from, days, suspensions)
            .unwrap_or_else(|e| panic!("{from} + {days} with {suspensions:?}: {e}"))
    }

    fn working_days(&self, from: Date, to: Date) -> i64 {
        self.calendar
            .working_days_between(from, to)
            .unwrap_or_else(|e| panic!("({from}, {to}]: {e}"))
    }

    /// Accepted by the clerk at `now`, at step 0.
    fn accepted_at(&self, case: &Case, now: Timestamp) -> Case {
        self.step(
            case,
            &self.actors.clerk,
            now,
            Command::Accept {
                tolerated: Vec::new(),
            },
        )
    }

    /// The standard case accepted on Monday 2026-03-02.
    fn accepted(&self) -> Case {
        self.accepted_at(&standard_case(), on(3, 2))
    }

    /// Moves an accepted case from step 0 to `target`, one working day per step from 03-03.
    fn advance(&self, mut case: Case, target: usize) -> Case {
        let a = &self.actors;
        let mut day = 3;
        while let Some((index, step)) = case.current_step().map(|(i, s)| (i, s.clone())) {
            if index >= target {
                break;
            }
            case = match step.kind {
                StepKind::Review => self.step(&case, &a.approver, on(3, day), approve("同意")),
                StepKind::Countersign { .. } => {
                    let once = self.step(&case, &a.fire, on(3, day), countersign(true, "同意"));
                    if once.current_step().map(|(i, _)| i) == Some(index) {
                        self.step(&once, &a.urban, on(3, day), countersign(true, "同意"))
                    } else {
                        once
                    }
                }
                StepKind::Decision => panic!("cannot advance past the decision"),
            };
            day += 1;
        }
        case
    }

    /// The standard case at step `step` (0 承办, 1 审核, 2 会签, 3 批准).
    fn at_step(&self, step: usize) -> Case {
        self.advance(self.accepted(), step)
    }

    fn decided(&self, granted: bool) -> Case {
        let opinion = if granted {
            "符合条件,准予许可"
        } else {
            "经营场所不符合要求"
        };
        self.step(
            &self.at_step(3),
            &self.actors.chief,
            on(3, 6),
            Command::Decide {
                granted,
                opinion: opinion.to_owned(),
            },
        )
    }

    fn issued(&self) -> Case {
        self.step(
            &self.decided(true),
            &self.actors.clerk,
            on(3, 9),
            Command::Issue {
                licence: Some(licence()),
            },
        )
    }

    /// One case in every state the lifecycle can reach, each reached through [`apply`].
    fn every_state(&self) -> Vec<Case> {
        let a = &self.actors;
        let submitted = standard_case();
        let pre_reviewed = self.step(&submitted, &a.clerk, on(3, 1), Command::PreApprove);
        let correction_before = self.step(&submitted, &a.clerk, on(3, 2), correction(&[ID_CARD]));
        let correction_during = self.step(
            &self.at_step(1),
            &a.approver,
            on(3, 4),
            correction(&[FIRE_OPINION]),
        );
        let rejected = self.step(
            &submitted,
            &a.clerk,
            on(3, 2),
            reject("不属于本部门受理范围"),
        );
        let suspended = self.step(&self.at_step(1), &a.approver, on(3, 4), suspend());
        let withdrawn = self.step(&self.at_step(1), &a.applicant, on(3, 4), withdraw());
        let issued = self.issued();
        let delivered = self.step(&issued, &a.clerk, on(3, 10), deliver());
        let shipped = self.step(&issued, &a.clerk, on(3, 10), ship(EMS_NUMBER));
        let to_collect = self.step(&issued, &a.applicant, on(3, 10), collect_instead());
        vec![
            submitted,
            pre_reviewed,
            correction_before,
            correction_during,
            rejected,
            self.at_step(0),
            self.at_step(1),
            self.at_step(2),
            self.at_step(3),
            suspended,
            self.decided(true),
            self.decided(false),
            issued,
            delivered,
            withdrawn,
            shipped,
            to_collect,
        ]
    }
}

fn approve(opinion: &str) -> Command {
    Command::Approve {
        opinion: opinion.to_owned(),
    }
}

fn countersign(pass: bool, opinion: &str) -> Command {
    Command::Countersign {
        pass,
        opinion: opinion.to_owned(),
        department: None,
    }
}

fn correction(materials: &[&str]) -> Command {
    Command::RequestCorrection {
        items: materials
            .iter()
            .map(|code| CorrectionItem {
                material: material(code),
                problem: format!("{code} 不清晰或缺失"),
            })
            .collect(),
    }
}

fn reject(reason: &str) -> Command {
    Command::Reject {
        reason: reason.to_owned(),
    }
}

fn suspend() -> Command {
    Command::Suspend {
        procedure: "现场核查".to_owned(),
        reason: "需核查经营场所".to_owned(),
    }
}

fn extend(days: u32) -> Command {
    Command::Extend {
        days,
        reason: "情况复杂,需进一步核实".to_owned(),
    }
}

fn withdraw() -> Command {
    Command::Withdraw {
        reason: "不再需要".to_owned(),
    }
}

fn deliver() -> Command {
    Command::Deliver {
        how: "窗口领取".to_owned(),
    }
}

fn ship(number: &str) -> Command {
    ship_with(delivery::Carrier::Ems, number)
}

fn ship_with(carrier: delivery::Carrier, number: &str) -> Command {
    Command::Ship {
        carrier,
        tracking_number: number.to_owned(),
    }
}

/// A carrier's report at 10:00 + `hours` on 2026-03-10.
fn track(status: delivery::ShipmentStatus, hours: i64) -> Command {
    Command::Track {
        status,
        at: later(on(3, 10), hours),
        place: "示范市东湖区揽投部".to_owned(),
        note: String::new(),
    }
}

fn collect(code: &str) -> Command {
    Command::Collect {
        pickup_code: code.to_owned(),
    }
}

fn collect_instead() -> Command {
    Command::CollectInstead {
        hall: hall(HALL),
        pickup_code: "719304".to_owned(),
    }
}

fn return_to(step: &str) -> Command {
    Command::Return {
        to: step.to_owned(),
        reason: "需重新核查".to_owned(),
    }
}

fn transfer(to: &str) -> Command {
    Command::Transfer {
        department: department(to),
        reason: "职责调整".to_owned(),
    }
}

/// One command of each variant, with plausible arguments.
fn every_command() -> Vec<Command> {
    vec![
        Command::PreApprove,
        Command::Accept {
            tolerated: Vec::new(),
        },
        reject("不属于本部门受理范围"),
        correction(&[ID_CARD]),
        Command::Resubmit {
            materials: vec![paper(ID_CARD), paper(FIRE_OPINION)],
        },
        Command::SupplyMaterial {
            material: paper(FIRE_OPINION),
        },
        approve("同意"),
        return_to("undertake"),
        countersign(true, "同意"),
        suspend(),
        Command::Resume,
        extend(5),
        transfer(URBAN),
        Command::Decide {
            granted: true,
            opinion: "准予许可".to_owned(),
        },
        Command::Issue { licence: None },
        deliver(),
        ship(EMS_NUMBER),
        track(delivery::ShipmentStatus::PickedUp, 1),
        collect(PICKUP_CODE),
        collect_instead(),
        withdraw(),
    ]
}

/// The transitions the lifecycle allows (SPEC C2, the diagram in `cases/mod.rs`), written down
/// independently of `apply`. The match has no wildcard: a new command must be placed here.
fn permitted(command: &Command, case: &Case) -> bool {
    use CaseState as S;
    let state = &case.state;
    if state.is_final() {
        return false;
    }
    match command {
        Command::PreApprove => matches!(state, S::Submitted),
        Command::Accept { .. } | Command::Reject { .. } => {
            matches!(state, S::Submitted | S::PreReviewed)
        }
        Command::RequestCorrection { .. } => {
            matches!(state, S::Submitted | S::PreReviewed | S::InProgress { .. })
        }
        Command::Resubmit { .. } => matches!(state, S::Correction),
        // A 容缺 material can be handed in after acceptance while the case is handled.
        Command::SupplyMaterial { .. } => {
            case.accepted_on.is_some()
                && matches!(
                    state,
                    S::InProgress { .. } | S::Suspended { .. } | S::Correction
                )
        }
        Command::Approve { .. }
        | Command::Return { .. }
        | Command::Countersign { .. }
        | Command::Suspend { .. }
        | Command::Decide { .. } => matches!(state, S::InProgress { .. }),
        Command::Resume => matches!(state, S::Suspended { .. }),
        Command::Extend { .. } => matches!(state, S::InProgress { .. } | S::Suspended { .. }),
        Command::Transfer { .. } => {
            matches!(state, S::Submitted | S::PreReviewed | S::InProgress { .. })
        }
        Command::Issue { .. } => matches!(state, S::Decided { granted: true }),
        Command::Deliver { .. }
        | Command::Ship { .. }
        | Command::Track { .. }
        | Command::Collect { .. }
        | Command::CollectInstead { .. } => matches!(state, S::Issued),
        Command::Withdraw { .. } => matches!(
            state,
            S::Submitted
                | S::PreReviewed
                | S::Correction
                | S::InProgress { .. }
                | S::Suspended { .. }
        ),
    }
}

fn assert_forbidden(result: Result<Outcome, CaseError>, what: &str) {
    match result {
        Err(CaseError::Forbidden(_)) => {}
        other => panic!("{what}: expected Forbidden, got {other:?}"),
    }
}

fn assert_invalid(result: Result<Outcome, CaseError>, what: &str) {
    match result {
        Err(CaseError::Invalid(_)) => {}
        other => panic!("{what}: expected Invalid, got {other:?}"),
    }
}

fn kinds(events: &[CaseEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}

// ---------------------------------------------------------------------------------------------
// Fixture sanity
// ---------------------------------------------------------------------------------------------

#[test]
fn the_fixture_workflow_is_a_valid_process_definition() {
    assert_eq!(workflow(CountersignMode::All).validate(), Ok(()));
    assert_eq!(workflow(CountersignMode::Any).validate(), Ok(()));
    let case = standard_case();
    assert_eq!(case.workflow.step_index("countersign"), Some(2));
    assert_eq!(case.state, CaseState::Submitted);
    assert!(case.accepted_on.is_none() && case.statutory_due.is_none());
}

#[test]
fn every_state_of_the_lifecycle_is_reachable_through_apply() {
    let w = world();
    let reached: std::collections::BTreeSet<&str> =
        w.every_state().iter().map(|c| c.state.name()).collect();
    let all: std::collections::BTreeSet<&str> = CaseState::NAMES.iter().copied().collect();
    assert_eq!(reached, all);
}

#[test]
fn the_command_samples_cover_every_command_variant() {
    let names: std::collections::BTreeSet<&str> =
        every_command().iter().map(Command::name).collect();
    assert_eq!(names.len(), every_command().len());
    assert_eq!(names.len(), 21);
}

// ---------------------------------------------------------------------------------------------
// Happy path
// ---------------------------------------------------------------------------------------------

#[test]
fn the_happy_path_runs_from_submission_to_delivery_with_one_event_per_step() {
    let w = world();
    let a = &w.actors;
    let case = standard_case();
    let market = Some(department(MARKET));

    // 受理 on Monday 2026-03-02.
    let accept_at = on(3, 2);
    let Outcome { case, events } = w.act(
        &case,
        &a.clerk,
        accept_at,
        Command::Accept {
            tolerated: Vec::new(),
        },
    );
    assert_eq!(case.version, 2);
    assert_eq!(case.state, CaseState::InProgress { step: 0 });
    assert_eq!(case.accepted_on, Some(date(2026, 3, 2)));
    assert_eq!(case.statutory_due, Some(w.date_after(date(2026, 3, 2), 20)));
    assert_eq!(case.promised_due, Some(w.date_after(date(2026, 3, 2), 10)));
    assert_eq!(case.statutory_due, Some(date(2026, 3, 30)));
    assert_eq!(case.promised_due, Some(date(2026, 3, 16)));
    assert_eq!(
        case.hall,
        Some(hall(HALL)),
        "the accepting clerk's hall is recorded"
    );
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].kind,
        EventKind::Accepted {
            tolerated: Vec::new()
        }
    );

    // 承办.
    let Outcome { case, events } = w.act(&case, &a.approver, on(3, 3), approve("材料齐全,同意"));
    assert_eq!(case.version, 3);
    assert_eq!(case.state, CaseState::InProgress { step: 1 });
    assert_eq!(
        events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        vec![&EventKind::StepPassed {
            step: "承办".to_owned(),
            opinion: "材料齐全,同意".to_owned()
        }]
    );
    assert_eq!(events[0].department, market);

    // 审核.
    let Outcome { case, events } = w.act(&case, &a.approver, on(3, 4), approve("同意"));
    assert_eq!(case.version, 4);
    assert_eq!(case.state, CaseState::InProgress { step: 2 });
    assert_eq!(
        events[..].iter().map(|e| &e.kind).collect::<Vec<_>>(),
        vec![&EventKind::StepPassed {
            step: "审核".to_owned(),
            opinion: "同意".to_owned()
        }]
    );

    // 会签: both co-departments.
    let Outcome { case, events } = w.act(&case, &a.fire, on(3, 5), countersign(true, "消防无异议"));
    assert_eq!(case.version, 5);
    assert_eq!(
        case.state,
        CaseState::InProgress { step: 2 },
        "one of two votes is not enough"
    );
    assert_eq!(case.countersign.get(&department(FIRE)), Some(&true));
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].kind,
        EventKind::Countersigned {
            step: "会签".to_owned(),
            pass: true,
            opinion: "消防无异议".to_owned()
        }
    );
    assert_eq!(
        events[0].department,
        Some(department(FIRE)),
        "the vote is recorded for the voting department"
    );

    let Outcome { case, events } =
        w.act(&case, &a.urban, on(3, 5), countersign(true, "城管无异议"));
    assert_eq!(case.version, 6);
    assert_eq!(case.state, CaseState::InProgress { step: 3 });
    assert!(
        case.countersign.is_empty(),
        "votes are cleared when the step is done"
    );
    assert_eq!(kinds(&events), vec!["countersigned"]);
    assert_eq!(events[0].department, Some(department(URBAN)));

    // 批准.
    let decide_at = on(3, 6);
    let Outcome { case, events } = w.act(
        &case,
        &a.chief,
        decide_at,
        Command::Decide {
            granted: true,
            opinion: "准予许可".to_owned(),
        },
    );
    assert_eq!(case.version, 7);
    assert_eq!(case.state, CaseState::Decided { granted: true });
    assert!(
        !case.state.is_final(),
        "a granted case still waits for its result"
    );
    assert_eq!(case.closed_at, None);
    assert_eq!(
        case.decision,
        Some(Decision {
            granted: true,
            opinion: "准予许可".to_owned(),
            by: account("market-chief"),
            at: decide_at,
        })
    );
    assert_eq!(
        events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        vec![&EventKind::Decided {
            granted: true,
            opinion: "准予许可".to_owned()
        }]
    );

    // 出证.
    let Outcome { case, events } = w.act(
        &case,
        &a.approver,
        on(3, 9),
        Command::Issue {
            licence: Some(licence()),
        },
    );
    assert_eq!(case.version, 8);
    assert_eq!(case.state, CaseState::Issued);
    assert_eq!(case.licence, Some(licence()));
    assert_eq!(
        events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        vec![&EventKind::Issued {
            licence: Some(licence())
        }]
    );

    // 送达.
    let deliver_at = on(3, 10);
    let Outcome { case, events } = w.act(&case, &a.clerk, deliver_at, deliver());
    assert_eq!(case.version, 9);
    assert_eq!(case.state, CaseState::Delivered);
    assert!(case.state.is_final());
    assert_eq!(case.closed_at, Some(deliver_at));
    assert_eq!(
        events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        vec![&EventKind::Delivered {
            how: "窗口领取".to_owned()
        }]
    );
    // Nothing about the deadlines changed along the way.
    assert_eq!(case.statutory_due, Some(date(2026, 3, 30)));
    assert_eq!(case.promised_due, Some(date(2026, 3, 16)));
}

#[test]
fn pre_review_then_acceptance_also_reaches_the_first_step() {
    let w = world();
    let a = &w.actors;
    let Outcome { case, events } = w.act(&standard_case(), &a.clerk, on(3, 1), Command::PreApprove);
    assert_eq!(case.state, CaseState::PreReviewed);
    assert_eq!(kinds(&events), vec!["pre_approved"]);
    let case = w.accepted_at(&case, on(3, 2));
    assert_eq!(case.state, CaseState::InProgress { step: 0 });
    assert_eq!(case.version, 3);
}

#[test]
fn the_acceptance_date_is_the_shanghai_calendar_day_not_the_utc_day() {
    let w = world();
    // 2026-03-02 01:30 in Shanghai is still 2026-03-01 in UTC.
    let now: Timestamp = "2026-03-01T17:30:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("timestamp: {e}"));
    assert_eq!(shanghai_date(now), date(2026, 3, 2));
    let case = w.accepted_at(&standard_case(), now);
    assert_eq!(case.accepted_on, Some(date(2026, 3, 2)));
    assert_eq!(case.statutory_due, Some(date(2026, 3, 30)));
}

#[test]
fn the_window_clerk_or_the_delivery_service_hands_out_results() {
    let w = world();
    let a = &w.actors;
    let issued = w.issued();
    let by_system = w.step(&issued, &a.system, on(3, 10), deliver());
    assert_eq!(by_system.state, CaseState::Delivered);
    for actor in [&a.applicant, &a.approver, &a.chief] {
        assert_forbidden(
            w.try_act(&issued, actor, on(3, 10), &deliver()),
            "deliver by non-clerk",
        );
    }
    assert_invalid(
        w.try_act(
            &issued,
            &a.clerk,
            on(3, 10),
            &Command::Deliver {
                how: " ".to_owned(),
            },
        ),
        "deliver without saying how",
    );
}

#[test]
fn issuing_is_done_by_the_department_or_a_clerk_but_not_by_a_citizen() {
    let w = world();
    let a = &w.actors;
    let granted = w.decided(true);
    for actor in [&a.clerk, &a.approver, &a.chief] {
        let issued = w.step(&granted, actor, on(3, 9), Command::Issue { licence: None });
        assert_eq!(issued.state, CaseState::Issued);
    }
    for actor in [&a.applicant, &a.citizen, &a.fire, &a.system] {
        assert_forbidden(
            w.try_act(&granted, actor, on(3, 9), &Command::Issue { licence: None }),
            "issue by an outsider",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Refused transitions
// ---------------------------------------------------------------------------------------------

#[test]
fn every_command_outside_its_states_is_an_illegal_transition_for_every_actor() {
    let w = world();
    let mut refused = 0;
    let mut checked_allowed = 0;
    for case in w.every_state() {
        for command in every_command() {
            let expected = CaseError::IllegalTransition {
                action: command.name(),
                state: case.state.name(),
            };
            for actor in w.actors.all() {
                let result = w.try_act(&case, actor, on(3, 20), &command);
                if permitted(&command, &case) {
                    checked_allowed += 1;
                    assert!(
                        !matches!(result, Err(CaseError::IllegalTransition { .. })),
                        "{} should be possible in {:?} (by {}), got {result:?}",
                        command.name(),
                        case.state,
                        actor.account
                    );
                } else {
                    refused += 1;
                    assert_eq!(
                        result,
                        Err(expected.clone()),
                        "{} in {:?} by {}",
                        command.name(),
                        case.state,
                        actor.account
                    );
                }
            }
        }
    }
    // 17 states × 21 commands × 8 actors.
    assert_eq!(refused + checked_allowed, 17 * 21 * 8);
    assert!(
        refused > 1000,
        "the table exercises the refusals ({refused})"
    );
}

#[test]
fn nothing_is_allowed_from_a_final_state_even_for_an_actor_with_every_role() {
    let w = world();
    let all_roles = [
        Role::Clerk,
        Role::Approver,
        Role::ChiefRepresentative,
        Role::Administrator,
    ]
    .into_iter()
    .map(|role| assignment(role, None, Some(HALL)))
    .collect();
    let mighty = staff("superuser", "全能账号", all_roles);
    let finals: Vec<Case> = w
        .every_state()
        .into_iter()
        .filter(|c| c.state.is_final())
        .collect();
    let names: Vec<&str> = finals.iter().map(|c| c.state.name()).collect();
    assert_eq!(names, vec!["rejected", "refused", "delivered", "withdrawn"]);
    for case in &finals {
        assert!(
            case.closed_at.is_some(),
            "a final case ({}) is closed",
            case.state.name()
        );
        for command in every_command() {
            for actor in w.actors.all().into_iter().chain([&mighty]) {
                assert_eq!(
                    w.try_act(case, actor, on(3, 20), &command),
                    Err(CaseError::IllegalTransition {
                        action: command.name(),
                        state: case.state.name(),
                    })
                );
            }
        }
    }
}

#[test]
fn an_illegal_transition_has_a_stable_code_and_names_the_action_and_state() {
    let w = world();
    let error = w
        .try_act(
            &w.decided(false),
            &w.actors.clerk,
            on(3, 9),
            &Command::Issue { licence: None },
        )
        .unwrap_err();
    assert_eq!(error.code(), "illegal_transition");
    assert_eq!(
        error.to_string(),
        "the action issue is not allowed while the case is refused"
    );
}

#[test]
fn approving_or_deciding_at_a_step_of_the_wrong_kind_is_invalid() {
    let w = world();
    let a = &w.actors;
    // A review step is not decided.
    let decide = Command::Decide {
        granted: true,
        opinion: "准予".to_owned(),
    };
    assert_invalid(
        w.try_act(&w.at_step(0), &a.chief, on(3, 9), &decide),
        "decide at 承办",
    );
    // A countersign step is not approved.
    assert_invalid(
        w.try_act(&w.at_step(2), &a.approver, on(3, 9), &approve("同意")),
        "approve at 会签",
    );
    // The decision step is not approved or countersigned.
    assert_invalid(
        w.try_act(&w.at_step(3), &a.chief, on(3, 9), &approve("同意")),
        "approve at 批准",
    );
    assert_invalid(
        w.try_act(&w.at_step(3), &a.fire, on(3, 9), &countersign(true, "同意")),
        "countersign at 批准",
    );
    // A review step is not countersigned.
    assert_invalid(
        w.try_act(&w.at_step(1), &a.fire, on(3, 9), &countersign(true, "同意")),
        "countersign at 审核",
    );
}

// ---------------------------------------------------------------------------------------------
// Authorisation
// ---------------------------------------------------------------------------------------------

#[test]
fn only_a_window_clerk_accepts_pre_reviews_or_rejects_an_application() {
    let w = world();
    let a = &w.actors;
    let case = standard_case();
    let accept = Command::Accept {
        tolerated: Vec::new(),
    };
    for actor in [&a.applicant, &a.citizen, &a.approver, &a.chief, &a.system] {
        for command in [&accept, &Command::PreApprove, &reject("不予受理")] {
            assert_forbidden(
                w.try_act(&case, actor, on(3, 2), command),
                "non-clerk at the window",
            );
        }
    }
    assert_eq!(
        w.accepted_at(&case, on(3, 2)).state,
        CaseState::InProgress { step: 0 }
    );
}

#[test]
fn rejection_needs_a_reason_and_ends_the_case() {
    let w = world();
    let a = &w.actors;
    assert_invalid(
        w.try_act(&standard_case(), &a.clerk, on(3, 2), &reject("  ")),
        "reject without reason",
    );
    let Outcome { case, events } = w.act(
        &standard_case(),
        &a.clerk,
        on(3, 2),
        reject("不属于本部门受理范围"),
    );
    assert_eq!(case.state, CaseState::Rejected);
    assert!(case.state.is_final());
    assert_eq!(case.closed_at, Some(on(3, 2)));
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("不予受理:不属于本部门受理范围"),
        "the applicant is told why"
    );
}

#[test]
fn an_approver_of_another_department_cannot_approve() {
    let w = world();
    let a = &w.actors;
    for step in [0, 1] {
        let case = w.at_step(step);
        for actor in [
            &a.fire,
            &a.urban,
            &a.clerk,
            &a.chief,
            &a.applicant,
            &a.system,
        ] {
            assert_forbidden(
                w.try_act(&case, actor, on(3, 9), &approve("同意")),
                "approve by outsider",
            );
        }
        let passed = w.step(&case, &a.approver, on(3, 9), approve("同意"));
        assert_eq!(passed.state, CaseState::InProgress { step: step + 1 });
    }
}

#[test]
fn only_the_chief_representative_of_the_department_decides() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(3);
    let other_chief = staff(
        "fire-chief",
        "消防首席代表",
        vec![assignment(Role::ChiefRepresentative, Some(FIRE), None)],
    );
    let decide = Command::Decide {
        granted: true,
        opinion: "准予".to_owned(),
    };
    for actor in [
        &a.clerk,
        &a.approver,
        &a.fire,
        &a.applicant,
        &a.system,
        &other_chief,
    ] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 9), &decide),
            "decide by non-chief",
        );
    }
    assert_eq!(
        w.step(&case, &a.chief, on(3, 9), decide).state,
        CaseState::Decided { granted: true }
    );
}

#[test]
fn only_the_chief_representative_extends_the_deadline() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    for actor in [
        &a.clerk,
        &a.approver,
        &a.fire,
        &a.applicant,
        &a.citizen,
        &a.system,
    ] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 9), &extend(5)),
            "extend by non-chief",
        );
    }
    assert_eq!(
        w.step(&case, &a.chief, on(3, 9), extend(5)).extension_days,
        5
    );
}

#[test]
fn only_the_applicant_withdraws_not_another_citizen_or_staff() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    let impostor = Actor {
        kind: ActorKind::Staff,
        identifier: Some(APPLICANT_ID.to_owned()),
        ..a.clerk.clone()
    };
    for actor in [
        &a.citizen,
        &a.clerk,
        &a.approver,
        &a.chief,
        &a.system,
        &impostor,
    ] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 9), &withdraw()),
            "withdraw by someone else",
        );
    }
    let Outcome { case, events } = w.act(&case, &a.applicant, on(3, 9), withdraw());
    assert_eq!(case.state, CaseState::Withdrawn);
    assert!(case.state.is_final());
    assert_eq!(case.closed_at, Some(on(3, 9)));
    assert_eq!(kinds(&events), vec!["withdrawn"]);
}

#[test]
fn the_applicant_can_withdraw_from_every_state_before_the_decision_but_not_after() {
    let w = world();
    for case in w.every_state() {
        let result = w.try_act(&case, &w.actors.applicant, on(3, 20), &withdraw());
        let before_decision = matches!(
            case.state,
            CaseState::Submitted
                | CaseState::PreReviewed
                | CaseState::Correction
                | CaseState::InProgress { .. }
                | CaseState::Suspended { .. }
        );
        assert_eq!(
            result.is_ok(),
            before_decision,
            "withdraw from {:?}: {result:?}",
            case.state
        );
    }
}

#[test]
fn a_department_outside_the_countersigners_cannot_countersign() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(2);
    let tax = staff(
        "tax-approver",
        "税务 周审",
        vec![assignment(Role::Approver, Some("city-tax"), None)],
    );
    for actor in [
        &a.approver,
        &a.chief,
        &a.clerk,
        &a.applicant,
        &a.system,
        &tax,
    ] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 9), &countersign(true, "同意")),
            "countersign by outsider",
        );
    }
    // Naming a department one does not represent does not help either.
    let as_urban = Command::Countersign {
        pass: true,
        opinion: "同意".to_owned(),
        department: Some(department(URBAN)),
    };
    assert_forbidden(
        w.try_act(&case, &a.fire, on(3, 9), &as_urban),
        "fire votes for urban",
    );
    let as_market = Command::Countersign {
        pass: true,
        opinion: "同意".to_owned(),
        department: Some(department(MARKET)),
    };
    assert_forbidden(
        w.try_act(&case, &a.approver, on(3, 9), &as_market),
        "the handling department is not a countersigner here",
    );
}

#[test]
fn a_department_cannot_vote_twice_at_a_countersign_step() {
    let w = world();
    let a = &w.actors;
    let once = w.step(&w.at_step(2), &a.fire, on(3, 9), countersign(true, "同意"));
    assert_forbidden(
        w.try_act(&once, &a.fire, on(3, 9), &countersign(true, "再次同意")),
        "second vote",
    );
    assert_forbidden(
        w.try_act(&once, &a.fire, on(3, 9), &countersign(false, "改为反对")),
        "changing a vote",
    );
    let explicit = Command::Countersign {
        pass: true,
        opinion: "同意".to_owned(),
        department: Some(department(FIRE)),
    };
    assert_forbidden(
        w.try_act(&once, &a.fire, on(3, 9), &explicit),
        "second vote, named",
    );
}

#[test]
fn an_approver_of_several_countersigning_departments_votes_for_the_one_named() {
    let w = world();
    let both = staff(
        "joint-approver",
        "联合审批",
        vec![
            assignment(Role::Approver, Some(FIRE), None),
            assignment(Role::Approver, Some(URBAN), None),
        ],
    );
    let as_urban = Command::Countersign {
        pass: true,
        opinion: "同意".to_owned(),
        department: Some(department(URBAN)),
    };
    let Outcome { case, events } = w.act(&w.at_step(2), &both, on(3, 9), as_urban);
    assert_eq!(
        case.countersign.keys().collect::<Vec<_>>(),
        vec![&department(URBAN)]
    );
    assert_eq!(events[0].department, Some(department(URBAN)));
    let case = w.step(&case, &both, on(3, 9), countersign(true, "同意"));
    assert_eq!(case.state, CaseState::InProgress { step: 3 });
}

// ---------------------------------------------------------------------------------------------
// Correction (补正)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_correction_notice_lists_every_problem_at_once_before_acceptance() {
    let w = world();
    let a = &w.actors;
    let case = standard_case();

    assert_invalid(
        w.try_act(
            &case,
            &a.clerk,
            on(3, 2),
            &Command::RequestCorrection { items: Vec::new() },
        ),
        "empty notice",
    );
    let twice = Command::RequestCorrection {
        items: vec![
            CorrectionItem {
                material: material(ID_CARD),
                problem: "复印件不清晰".to_owned(),
            },
            CorrectionItem {
                material: material(ID_CARD),
                problem: "已过有效期".to_owned(),
            },
        ],
    };
    assert_invalid(
        w.try_act(&case, &a.clerk, on(3, 2), &twice),
        "same material twice",
    );
    let blank = Command::RequestCorrection {
        items: vec![CorrectionItem {
            material: material(ID_CARD),
            problem: " \t".to_owned(),
        }],
    };
    assert_invalid(
        w.try_act(&case, &a.clerk, on(3, 2), &blank),
        "blank problem",
    );
    for actor in [&a.applicant, &a.approver, &a.system] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 2), &correction(&[ID_CARD])),
            "correction before acceptance by non-clerk",
        );
    }

    let command = correction(&[FORM, ID_CARD, FIRE_OPINION]);
    let Command::RequestCorrection { items } = &command else {
        unreachable!()
    };
    let Outcome { case, events } = w.act(&case, &a.clerk, on(3, 2), command.clone());
    assert_eq!(case.state, CaseState::Correction);
    assert_eq!(&case.correction, items);
    assert_eq!(
        case.suspended_since, None,
        "no clock runs before acceptance"
    );
    assert_eq!(case.resume_step, None);
    assert_eq!(case.accepted_on, None);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].kind,
        EventKind::CorrectionRequested {
            items: items.clone()
        }
    );
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("请一次性补正以下 3 项材料(补正期间不计时)")
    );
}

#[test]
fn resubmission_must_answer_every_listed_material_and_returns_to_submitted() {
    let w = world();
    let a = &w.actors;
    let case = w.step(
        &standard_case(),
        &a.clerk,
        on(3, 2),
        correction(&[ID_CARD, FIRE_OPINION]),
    );

    let partial = Command::Resubmit {
        materials: vec![upload(ID_CARD, "bb22")],
    };
    assert_invalid(
        w.try_act(&case, &a.applicant, on(3, 3), &partial),
        "resubmit missing a material",
    );
    assert_invalid(
        w.try_act(
            &case,
            &a.applicant,
            on(3, 3),
            &Command::Resubmit {
                materials: Vec::new(),
            },
        ),
        "resubmit nothing",
    );
    let full = Command::Resubmit {
        materials: vec![upload(ID_CARD, "bb22"), upload(FIRE_OPINION, "cc33")],
    };
    for actor in [&a.citizen, &a.approver, &a.system] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 3), &full),
            "resubmit by someone else",
        );
    }

    let Outcome { case, events } = w.act(&case, &a.applicant, on(3, 3), full);
    assert_eq!(case.state, CaseState::Submitted);
    assert!(case.correction.is_empty());
    assert_eq!(case.accepted_on, None);
    assert_eq!(kinds(&events), vec!["resubmitted"]);
    let id_card = case.materials.iter().find(|m| m.code == material(ID_CARD));
    assert_eq!(
        id_card,
        Some(&upload(ID_CARD, "bb22")),
        "the new material replaces the old one"
    );
    assert_eq!(case.materials.len(), 3, "replaced, not duplicated");

    // A clerk may answer for the applicant at the window.
    let again = w.step(&standard_case(), &a.clerk, on(3, 2), correction(&[ID_CARD]));
    let by_clerk = w.step(
        &again,
        &a.clerk,
        on(3, 3),
        Command::Resubmit {
            materials: vec![paper(ID_CARD)],
        },
    );
    assert_eq!(by_clerk.state, CaseState::Submitted);
}

#[test]
fn a_correction_during_handling_stops_the_clock_and_resumes_at_the_same_step_across_a_holiday() {
    let w = world();
    let a = &w.actors;
    // Accepted Monday 2026-03-30; 承办 passed on 03-31.
    let case = w.accepted_at(&standard_case(), on(3, 30));
    let case = w.step(&case, &a.approver, on(3, 31), approve("同意"));
    assert_eq!(case.state, CaseState::InProgress { step: 1 });
    let statutory_before = case.statutory_due.unwrap();
    let promised_before = case.promised_due.unwrap();
    assert_eq!(statutory_before, date(2026, 4, 28));
    assert_eq!(promised_before, date(2026, 4, 14));

    // Only the handler of the current step asks for a correction.
    for actor in [&a.fire, &a.clerk, &a.chief, &a.applicant] {
        assert_forbidden(
            w.try_act(&case, actor, on(4, 2), &correction(&[FIRE_OPINION])),
            "correction during handling by non-handler",
        );
    }

    // Thursday 2026-04-02: the clock stops.
    let case = w.step(&case, &a.approver, on(4, 2), correction(&[FIRE_OPINION]));
    assert_eq!(case.state, CaseState::Correction);
    assert_eq!(case.suspended_since, Some(date(2026, 4, 2)));
    assert_eq!(case.resume_step, Some(1));
    assert_eq!(
        case.statutory_due,
        Some(statutory_before),
        "due dates move only when the clock restarts"
    );
    assert!(!case.state.clock_running());

    // Tuesday 2026-04-07, after Qingming (04-04..04-06): back at 审核.
    let resubmit = Command::Resubmit {
        materials: vec![upload(FIRE_OPINION, "dd44")],
    };
    let case = w.step(&case, &a.applicant, on(4, 7), resubmit);
    assert_eq!(
        case.state,
        CaseState::InProgress { step: 1 },
        "resubmit does not restart the process"
    );
    assert_eq!(case.suspended_since, None);
    assert_eq!(case.resume_step, None);
    let suspended = Suspension {
        from: date(2026, 4, 2),
        to: date(2026, 4, 6),
    };
    assert_eq!(case.suspensions, vec![suspended]);

    // Suspended working days: Thursday 04-02 and Friday 04-03 only.
    let suspended_days = w.working_days(date(2026, 4, 1), date(2026, 4, 6));
    assert_eq!(suspended_days, 2);
    let statutory_after = case.statutory_due.unwrap();
    let promised_after = case.promised_due.unwrap();
    assert_eq!(
        statutory_after,
        w.date_after_with(date(2026, 3, 30), 20, &[suspended])
    );
    assert_eq!(
        w.working_days(statutory_before, statutory_after),
        suspended_days
    );
    assert_eq!(
        w.working_days(promised_before, promised_after),
        suspended_days
    );
    assert_eq!(statutory_after, date(2026, 4, 30));
    assert_eq!(promised_after, date(2026, 4, 16));
}

#[test]
fn a_correction_over_a_weekend_moves_the_due_dates_by_the_working_days_only() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    let (statutory, promised) = (case.statutory_due.unwrap(), case.promised_due.unwrap());
    // Friday 03-13 to Tuesday 03-17: Friday and Monday are suspended working days.
    let case = w.step(&case, &a.approver, on(3, 13), correction(&[ID_CARD]));
    let case = w.step(
        &case,
        &a.clerk,
        on(3, 17),
        Command::Resubmit {
            materials: vec![paper(ID_CARD)],
        },
    );
    assert_eq!(case.state, CaseState::InProgress { step: 1 });
    assert_eq!(w.working_days(statutory, case.statutory_due.unwrap()), 2);
    assert_eq!(w.working_days(promised, case.promised_due.unwrap()), 2);
    assert_eq!(case.promised_due, Some(date(2026, 3, 18)));
}

#[test]
fn a_correction_answered_the_same_day_moves_nothing() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    let stopped = w.step(
        &case,
        &a.approver,
        shanghai(2026, 3, 10, 9),
        correction(&[ID_CARD]),
    );
    let resumed = w.step(
        &stopped,
        &a.applicant,
        shanghai(2026, 3, 10, 16),
        Command::Resubmit {
            materials: vec![paper(ID_CARD)],
        },
    );
    assert!(resumed.suspensions.is_empty());
    assert_eq!(resumed.statutory_due, case.statutory_due);
    assert_eq!(resumed.promised_due, case.promised_due);
}

// ---------------------------------------------------------------------------------------------
// 特别程序 (suspension)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_special_procedure_pauses_the_clock_and_moves_the_dues_by_the_suspended_working_days() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    let (statutory, promised) = (case.statutory_due.unwrap(), case.promised_due.unwrap());

    for actor in [&a.clerk, &a.fire, &a.applicant, &a.system] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 10), &suspend()),
            "suspend by outsider",
        );
    }
    assert_invalid(
        w.try_act(
            &case,
            &a.approver,
            on(3, 10),
            &Command::Suspend {
                procedure: "".to_owned(),
                reason: "x".to_owned(),
            },
        ),
        "suspend without a procedure",
    );

    // Tuesday 03-10 to Friday 03-13: 10, 11, 12 are not counted.
    let Outcome { case, events } = w.act(&case, &a.approver, on(3, 10), suspend());
    assert_eq!(case.state, CaseState::Suspended { step: 1 });
    assert_eq!(case.suspended_since, Some(date(2026, 3, 10)));
    assert_eq!(
        events[0].kind,
        EventKind::Suspended {
            procedure: "现场核查".to_owned(),
            reason: "需核查经营场所".to_owned()
        }
    );
    assert_forbidden(
        w.try_act(&case, &a.fire, on(3, 13), &Command::Resume),
        "resume by outsider",
    );

    let Outcome { case, events } = w.act(&case, &a.chief, on(3, 13), Command::Resume);
    assert_eq!(kinds(&events), vec!["resumed"]);
    assert_eq!(case.state, CaseState::InProgress { step: 1 });
    assert_eq!(case.suspended_since, None);
    assert_eq!(
        case.suspensions,
        vec![Suspension {
            from: date(2026, 3, 10),
            to: date(2026, 3, 12)
        }]
    );
    assert_eq!(w.working_days(statutory, case.statutory_due.unwrap()), 3);
    assert_eq!(w.working_days(promised, case.promised_due.unwrap()), 3);
    assert_eq!(case.statutory_due, Some(date(2026, 4, 2)));
    assert_eq!(case.promised_due, Some(date(2026, 3, 19)));
}

#[test]
fn suspending_and_resuming_on_the_same_day_changes_nothing() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    let suspended = w.step(&case, &a.approver, shanghai(2026, 3, 10, 9), suspend());
    let resumed = w.step(
        &suspended,
        &a.approver,
        shanghai(2026, 3, 10, 17),
        Command::Resume,
    );
    assert_eq!(resumed.state, case.state);
    assert!(resumed.suspensions.is_empty());
    assert_eq!(resumed.suspended_since, None);
    assert_eq!(resumed.statutory_due, case.statutory_due);
    assert_eq!(resumed.promised_due, case.promised_due);
    assert_eq!(resumed.version, case.version + 2);
}

#[test]
fn two_special_procedures_add_up() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    let statutory = case.statutory_due.unwrap();
    let case = w.step(&case, &a.approver, on(3, 10), suspend());
    let case = w.step(&case, &a.approver, on(3, 11), Command::Resume); // 03-10: 1 day
    let case = w.step(&case, &a.approver, on(3, 13), suspend());
    let case = w.step(&case, &a.approver, on(3, 17), Command::Resume); // 03-13, 03-16: 2 days
    assert_eq!(case.suspensions.len(), 2);
    assert_eq!(w.working_days(statutory, case.statutory_due.unwrap()), 3);
}

// ---------------------------------------------------------------------------------------------
// Extension
// ---------------------------------------------------------------------------------------------

#[test]
fn a_single_department_case_extends_by_at_most_ten_working_days() {
    let w = world();
    let a = &w.actors;
    let case = w.accepted_at(&CaseBuilder::new().single_department().build(), on(3, 2));
    let statutory = case.statutory_due.unwrap();
    let promised = case.promised_due.unwrap();

    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 5), &extend(11)),
        "11 days on a single-department case",
    );
    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 5), &extend(0)),
        "zero days",
    );
    assert_invalid(
        w.try_act(
            &case,
            &a.chief,
            on(3, 5),
            &Command::Extend {
                days: 3,
                reason: " ".to_owned(),
            },
        ),
        "extension without reason",
    );

    let Outcome { case, events } = w.act(&case, &a.chief, on(3, 5), extend(10));
    assert_eq!(case.extension_days, 10);
    assert_eq!(case.statutory_due, Some(w.date_after(statutory, 10)));
    assert_eq!(case.statutory_due, Some(w.date_after(date(2026, 3, 2), 30)));
    assert_eq!(w.working_days(statutory, case.statutory_due.unwrap()), 10);
    assert!(case.promised_due >= Some(promised));
    assert_eq!(
        events[0].kind,
        EventKind::Extended {
            days: 10,
            reason: "情况复杂,需进一步核实".to_owned()
        }
    );
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("经批准延长办理期限 10 个工作日:情况复杂,需进一步核实"),
        "the applicant is told the reason"
    );
    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 6), &extend(1)),
        "beyond ten in all",
    );
}

#[test]
fn two_extensions_of_a_single_department_case_may_not_exceed_ten_in_total() {
    let w = world();
    let a = &w.actors;
    let case = w.accepted_at(&CaseBuilder::new().single_department().build(), on(3, 2));
    let case = w.step(&case, &a.chief, on(3, 5), extend(5));
    assert_invalid(w.try_act(&case, &a.chief, on(3, 6), &extend(6)), "5 + 6");
    let case = w.step(&case, &a.chief, on(3, 6), extend(5));
    assert_eq!(case.extension_days, 10);
}

#[test]
fn a_joint_case_extends_by_fifteen_working_days_in_total_across_two_extensions() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    assert!(!case.co_departments.is_empty());
    let statutory = case.statutory_due.unwrap();
    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 5), &extend(16)),
        "16 at once",
    );

    let case = w.step(&case, &a.chief, on(3, 5), extend(8));
    assert_eq!(w.working_days(statutory, case.statutory_due.unwrap()), 8);
    let case = w.step(&case, &a.chief, on(3, 6), extend(7));
    assert_eq!(case.extension_days, 15);
    assert_eq!(case.statutory_due, Some(w.date_after(statutory, 15)));
    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 9), &extend(1)),
        "16 in total",
    );
}

#[test]
fn an_absurdly_long_extension_after_a_first_one_is_refused_not_overflowed() {
    let w = world();
    let a = &w.actors;
    let case = w.step(&w.at_step(1), &a.chief, on(3, 5), extend(1));
    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 6), &extend(u32::MAX)),
        "u32::MAX days",
    );
    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 6), &extend(u32::MAX - 1)),
        "u32::MAX - 1 days",
    );
}

#[test]
fn an_extension_may_be_granted_during_a_special_procedure() {
    let w = world();
    let a = &w.actors;
    let case = w.step(&w.at_step(1), &a.approver, on(3, 10), suspend());
    let extended = w.step(&case, &a.chief, on(3, 11), extend(5));
    assert_eq!(extended.state, CaseState::Suspended { step: 1 });
    assert_eq!(
        extended.suspended_since,
        Some(date(2026, 3, 10)),
        "the clock stays stopped"
    );
    let resumed = w.step(&extended, &a.approver, on(3, 13), Command::Resume);
    // 20 + 5 working days, plus the three suspended ones.
    assert_eq!(
        resumed.statutory_due,
        Some(w.date_after(date(2026, 3, 2), 28))
    );
}

// ---------------------------------------------------------------------------------------------
// Countersign
// ---------------------------------------------------------------------------------------------

#[test]
fn one_negative_vote_at_a_countersign_all_step_returns_the_case_to_the_previous_step() {
    let w = world();
    let a = &w.actors;
    let case = w.step(&w.at_step(2), &a.fire, on(3, 9), countersign(true, "同意"));

    assert_invalid(
        w.try_act(&case, &a.urban, on(3, 9), &countersign(false, "  ")),
        "negative vote without opinion",
    );

    let Outcome { case, events } = w.act(
        &case,
        &a.urban,
        on(3, 9),
        countersign(false, "占用道路,不同意"),
    );
    assert_eq!(case.state, CaseState::InProgress { step: 1 });
    assert!(case.countersign.is_empty(), "votes are cleared on return");
    assert_eq!(kinds(&events), vec!["countersigned", "returned"]);
    assert_eq!(
        events[1].kind,
        EventKind::Returned {
            from: "会签".to_owned(),
            to: "审核".to_owned(),
            reason: "占用道路,不同意".to_owned()
        }
    );
    assert_eq!(events[1].department, Some(department(MARKET)));

    // Resubmitted without restarting: 审核 again, then a fresh round of votes.
    let case = w.step(&case, &a.approver, on(3, 10), approve("已协调"));
    assert_eq!(case.state, CaseState::InProgress { step: 2 });
    let case = w.step(&case, &a.fire, on(3, 11), countersign(true, "同意"));
    assert_eq!(
        case.state,
        CaseState::InProgress { step: 2 },
        "the earlier pass does not carry over"
    );
    let case = w.step(&case, &a.urban, on(3, 11), countersign(true, "同意"));
    assert_eq!(case.state, CaseState::InProgress { step: 3 });
}

#[test]
fn the_first_vote_being_negative_also_returns_a_countersign_all_case() {
    let w = world();
    let case = w.step(
        &w.at_step(2),
        &w.actors.urban,
        on(3, 9),
        countersign(false, "不同意"),
    );
    assert_eq!(case.state, CaseState::InProgress { step: 1 });
}

#[test]
fn one_pass_moves_a_countersign_any_case_on() {
    let w = world();
    let a = &w.actors;
    let case = w.advance(
        w.accepted_at(&CaseBuilder::new().any_mode().build(), on(3, 2)),
        2,
    );
    assert_eq!(case.state, CaseState::InProgress { step: 2 });
    let Outcome { case, events } = w.act(&case, &a.urban, on(3, 9), countersign(true, "同意"));
    assert_eq!(case.state, CaseState::InProgress { step: 3 });
    assert!(case.countersign.is_empty());
    assert_eq!(kinds(&events), vec!["countersigned"]);
}

#[test]
fn a_countersign_any_case_returns_only_when_every_department_says_no() {
    let w = world();
    let a = &w.actors;
    let case = w.advance(
        w.accepted_at(&CaseBuilder::new().any_mode().build(), on(3, 2)),
        2,
    );
    assert_invalid(
        w.try_act(&case, &a.fire, on(3, 9), &countersign(false, "")),
        "negative without opinion",
    );
    let case = w.step(&case, &a.fire, on(3, 9), countersign(false, "不同意"));
    assert_eq!(
        case.state,
        CaseState::InProgress { step: 2 },
        "another department may still pass"
    );
    let Outcome { case, events } = w.act(&case, &a.urban, on(3, 9), countersign(false, "也不同意"));
    assert_eq!(case.state, CaseState::InProgress { step: 1 });
    assert_eq!(kinds(&events), vec!["countersigned", "returned"]);
}

#[test]
fn a_case_without_co_departments_is_countersigned_by_its_own_department() {
    let w = world();
    let a = &w.actors;
    let case = w.accepted_at(&CaseBuilder::new().single_department().build(), on(3, 2));
    let case = w.step(&case, &a.approver, on(3, 3), approve("同意"));
    let case = w.step(&case, &a.approver, on(3, 4), approve("同意"));
    assert_forbidden(
        w.try_act(&case, &a.fire, on(3, 5), &countersign(true, "同意")),
        "fire is no signer",
    );
    let case = w.step(&case, &a.approver, on(3, 5), countersign(true, "同意"));
    assert_eq!(case.state, CaseState::InProgress { step: 3 });
}

// ---------------------------------------------------------------------------------------------
// Return (退回)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_case_returns_to_an_earlier_step_by_its_code() {
    let w = world();
    let a = &w.actors;
    let case = w.step(&w.at_step(2), &a.fire, on(3, 9), countersign(true, "同意"));
    let Outcome { case, events } = w.act(&case, &a.approver, on(3, 9), return_to("undertake"));
    assert_eq!(case.state, CaseState::InProgress { step: 0 });
    assert!(case.countersign.is_empty());
    assert_eq!(
        events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        vec![&EventKind::Returned {
            from: "会签".to_owned(),
            to: "承办".to_owned(),
            reason: "需重新核查".to_owned()
        }]
    );
    // The chief representative may return from the decision.
    let at_decision = w.at_step(3);
    let back = w.step(&at_decision, &a.chief, on(3, 9), return_to("review"));
    assert_eq!(back.state, CaseState::InProgress { step: 1 });
}

#[test]
fn returning_to_the_same_a_later_or_an_unknown_step_is_refused() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(1);
    for to in ["review", "countersign", "decide", "nowhere", ""] {
        assert_invalid(w.try_act(&case, &a.approver, on(3, 9), &return_to(to)), to);
    }
    assert_invalid(
        w.try_act(
            &w.at_step(0),
            &a.approver,
            on(3, 9),
            &return_to("undertake"),
        ),
        "nothing before the first step",
    );
    assert_invalid(
        w.try_act(
            &case,
            &a.approver,
            on(3, 9),
            &Command::Return {
                to: "undertake".to_owned(),
                reason: "".to_owned(),
            },
        ),
        "return without reason",
    );
    for actor in [&a.fire, &a.clerk, &a.applicant, &a.system] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 9), &return_to("undertake")),
            "return by outsider",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 容缺受理
// ---------------------------------------------------------------------------------------------

fn tolerate(code: &str, due: Date) -> Command {
    Command::Accept {
        tolerated: vec![ToleratedMaterial {
            material: material(code),
            due,
        }],
    }
}

#[test]
fn tolerated_acceptance_needs_a_future_due_date_and_a_material_of_the_application() {
    let w = world();
    let a = &w.actors;
    let case = standard_case();
    assert_invalid(
        w.try_act(
            &case,
            &a.clerk,
            on(3, 2),
            &tolerate(FIRE_OPINION, date(2026, 3, 1)),
        ),
        "due yesterday",
    );
    assert_invalid(
        w.try_act(
            &case,
            &a.clerk,
            on(3, 2),
            &tolerate(FIRE_OPINION, date(2026, 3, 2)),
        ),
        "due today",
    );
    assert_invalid(
        w.try_act(
            &case,
            &a.clerk,
            on(3, 2),
            &tolerate("lease-contract", date(2026, 3, 16)),
        ),
        "unknown material",
    );

    let Outcome { case, events } = w.act(
        &case,
        &a.clerk,
        on(3, 2),
        tolerate(FIRE_OPINION, date(2026, 3, 16)),
    );
    assert_eq!(case.state, CaseState::InProgress { step: 0 });
    let fire_opinion = case
        .materials
        .iter()
        .find(|m| m.code == material(FIRE_OPINION));
    assert_eq!(
        fire_opinion.map(|m| &m.provision),
        Some(&Provision::Tolerated {
            due: date(2026, 3, 16)
        })
    );
    assert_eq!(
        events[0].kind,
        EventKind::Accepted {
            tolerated: vec![material(FIRE_OPINION)]
        }
    );
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("申请已容缺受理,请在期限内补交 1 份材料")
    );
}

#[test]
fn a_tolerated_material_is_supplied_later_and_only_once() {
    let w = world();
    let a = &w.actors;
    let case = w.step(
        &standard_case(),
        &a.clerk,
        on(3, 2),
        tolerate(FIRE_OPINION, date(2026, 3, 16)),
    );

    let not_tolerated = Command::SupplyMaterial {
        material: paper(ID_CARD),
    };
    assert_invalid(
        w.try_act(&case, &a.applicant, on(3, 5), &not_tolerated),
        "supply a non-tolerated material",
    );
    let another_promise = Command::SupplyMaterial {
        material: CaseMaterial {
            code: material(FIRE_OPINION),
            name: "消防意见".to_owned(),
            provision: Provision::Tolerated {
                due: date(2026, 3, 30),
            },
        },
    };
    assert_invalid(
        w.try_act(&case, &a.applicant, on(3, 5), &another_promise),
        "a promise is no material",
    );
    let supply = Command::SupplyMaterial {
        material: upload(FIRE_OPINION, "ee55"),
    };
    for actor in [&a.citizen, &a.approver, &a.system] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 5), &supply),
            "supply by someone else",
        );
    }

    let Outcome {
        case: supplied,
        events,
    } = w.act(&case, &a.applicant, on(3, 5), supply.clone());
    assert_eq!(
        supplied.state, case.state,
        "supplying does not move the case"
    );
    assert_eq!(supplied.statutory_due, case.statutory_due);
    let fire_opinion = supplied
        .materials
        .iter()
        .find(|m| m.code == material(FIRE_OPINION));
    assert_eq!(fire_opinion, Some(&upload(FIRE_OPINION, "ee55")));
    assert_eq!(
        events[0].kind,
        EventKind::MaterialSupplied {
            material: material(FIRE_OPINION)
        }
    );
    assert_invalid(
        w.try_act(&supplied, &a.applicant, on(3, 6), &supply),
        "supplied twice",
    );

    // A clerk may take it at a window.
    let by_clerk = w.step(&case, &a.clerk, on(3, 5), supply);
    assert_eq!(by_clerk.materials, supplied.materials);
}

#[test]
fn nothing_can_be_supplied_after_the_decision() {
    let w = world();
    let decided = w.decided(true);
    let supply = Command::SupplyMaterial {
        material: paper(FIRE_OPINION),
    };
    assert!(matches!(
        w.try_act(&decided, &w.actors.applicant, on(3, 20), &supply),
        Err(CaseError::IllegalTransition { .. })
    ));
}

#[test]
fn nothing_can_be_supplied_before_acceptance() {
    let w = world();
    let supply = Command::SupplyMaterial {
        material: paper(FIRE_OPINION),
    };
    assert_eq!(
        w.try_act(&standard_case(), &w.actors.applicant, on(3, 2), &supply),
        Err(CaseError::IllegalTransition {
            action: "supply_material",
            state: "submitted"
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Transfer
// ---------------------------------------------------------------------------------------------

#[test]
fn a_transfer_changes_the_department_and_restarts_at_the_first_step() {
    let w = world();
    let a = &w.actors;
    let case = w.step(&w.at_step(2), &a.fire, on(3, 9), countersign(true, "同意"));
    assert_invalid(
        w.try_act(&case, &a.approver, on(3, 9), &transfer(MARKET)),
        "same department",
    );
    for actor in [&a.fire, &a.clerk, &a.applicant, &a.system] {
        assert_forbidden(
            w.try_act(&case, actor, on(3, 9), &transfer(URBAN)),
            "transfer by outsider",
        );
    }

    let Outcome { case, events } = w.act(&case, &a.approver, on(3, 9), transfer(URBAN));
    assert_eq!(case.department, department(URBAN));
    assert_eq!(case.state, CaseState::InProgress { step: 0 });
    assert!(case.countersign.is_empty());
    assert_eq!(
        events[0].kind,
        EventKind::Transferred {
            to: department(URBAN),
            reason: "职责调整".to_owned()
        }
    );
    assert_eq!(
        events[0].department,
        Some(department(MARKET)),
        "recorded for the handing-over department"
    );
    // The new department handles it now; the old one no longer can.
    assert_forbidden(
        w.try_act(&case, &a.approver, on(3, 10), &approve("同意")),
        "old department",
    );
    let passed = w.step(&case, &a.urban, on(3, 10), approve("同意"));
    assert_eq!(passed.state, CaseState::InProgress { step: 1 });
}

#[test]
fn a_transfer_before_acceptance_keeps_the_state() {
    let w = world();
    let case = w.step(&standard_case(), &w.actors.chief, on(3, 2), transfer(FIRE));
    assert_eq!(case.state, CaseState::Submitted);
    assert_eq!(case.department, department(FIRE));
    assert_eq!(case.accepted_on, None);
}

// ---------------------------------------------------------------------------------------------
// Refusal (不予许可)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_refusal_needs_an_opinion_and_ends_the_case() {
    let w = world();
    let a = &w.actors;
    let case = w.at_step(3);
    let silent = Command::Decide {
        granted: false,
        opinion: " ".to_owned(),
    };
    assert_invalid(
        w.try_act(&case, &a.chief, on(3, 9), &silent),
        "refusal without opinion",
    );

    let Outcome { case, events } = w.act(
        &case,
        &a.chief,
        on(3, 9),
        Command::Decide {
            granted: false,
            opinion: "经营场所不符合要求".to_owned(),
        },
    );
    assert_eq!(case.state, CaseState::Decided { granted: false });
    assert_eq!(case.state.name(), "refused");
    assert!(case.state.is_final());
    assert_eq!(case.closed_at, Some(on(3, 9)));
    assert_eq!(case.decision.as_ref().map(|d| d.granted), Some(false));
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("不予许可:经营场所不符合要求"),
        "the reason for a refusal is told to the applicant"
    );
    assert_eq!(
        w.try_act(
            &case,
            &a.clerk,
            on(3, 10),
            &Command::Issue { licence: None }
        ),
        Err(CaseError::IllegalTransition {
            action: "issue",
            state: "refused"
        })
    );
}

#[test]
fn a_grant_needs_no_opinion() {
    let w = world();
    let case = w.step(
        &w.at_step(3),
        &w.actors.chief,
        on(3, 9),
        Command::Decide {
            granted: true,
            opinion: String::new(),
        },
    );
    assert_eq!(case.state, CaseState::Decided { granted: true });
    assert_eq!(case.closed_at, None);
}

// ---------------------------------------------------------------------------------------------
// Public timeline
// ---------------------------------------------------------------------------------------------

#[test]
fn internal_events_have_no_public_text_and_opinions_never_leak_into_step_texts() {
    let w = world();
    let a = &w.actors;
    let secret = "内部意见:申请人系某领导亲属";
    let mut events = Vec::new();
    let mut record = |outcome: Outcome| {
        events.extend(outcome.events);
        outcome.case
    };
    let case = record(w.act(
        &standard_case(),
        &a.clerk,
        on(3, 2),
        Command::Accept {
            tolerated: Vec::new(),
        },
    ));
    let case = record(w.act(&case, &a.approver, on(3, 3), approve(secret)));
    let case = record(w.act(&case, &a.approver, on(3, 4), approve(secret)));
    let case = record(w.act(&case, &a.fire, on(3, 5), countersign(true, secret)));
    let case = record(w.act(&case, &a.urban, on(3, 5), countersign(false, secret)));
    let case = record(w.act(&case, &a.approver, on(3, 6), approve(secret)));
    let case = record(w.act(&case, &a.approver, on(3, 6), return_to("undertake")));
    let case = record(w.act(&case, &a.approver, on(3, 9), approve(secret)));
    let case = record(w.act(&case, &a.approver, on(3, 9), approve(secret)));
    let case = record(w.act(&case, &a.fire, on(3, 10), countersign(true, secret)));
    let case = record(w.act(&case, &a.urban, on(3, 10), countersign(true, secret)));
    let case = record(w.act(
        &case,
        &a.chief,
        on(3, 11),
        Command::Decide {
            granted: true,
            opinion: secret.to_owned(),
        },
    ));
    let case = record(w.act(&case, &a.clerk, on(3, 12), Command::Issue { licence: None }));
    let case = record(w.act(&case, &a.clerk, on(3, 13), deliver()));
    assert_eq!(case.state, CaseState::Delivered);

    let mut internal = 0;
    for event in &events {
        let text = event.kind.public_text();
        match &event.kind {
            EventKind::Returned { .. } | EventKind::Countersigned { .. } => {
                internal += 1;
                assert_eq!(text, None, "{} is internal", event.kind.name());
            }
            EventKind::StepPassed { step, opinion } => {
                assert_eq!(opinion, secret, "the opinion is kept in the audit trail");
                assert_eq!(text, Some(format!("{step}环节已完成")));
            }
            _ => {
                let text = text.unwrap_or_else(|| panic!("{} is public", event.kind.name()));
                assert!(!text.contains(secret), "{text}");
            }
        }
    }
    assert_eq!(internal, 6, "four votes and two returns are internal");
    assert!(
        events
            .iter()
            .filter_map(|e| e.kind.public_text())
            .all(|text| !text.contains(secret)),
        "no public text of the whole timeline carries an internal opinion"
    );
}

#[test]
fn every_state_has_plain_public_text_in_both_languages() {
    let w = world();
    for case in w.every_state() {
        let (zh, en) = case.state.public_text();
        assert!(!zh.is_empty() && !en.is_empty());
        assert!(!zh.contains('_'), "{zh} is not an internal name");
    }
}

// ---------------------------------------------------------------------------------------------
// Deadlines across holidays and warnings
// ---------------------------------------------------------------------------------------------

#[test]
fn fifteen_working_days_from_the_last_day_of_september_fall_due_on_the_twenty_seventh_of_october() {
    let w = world();
    let case = CaseBuilder::new().limits(15, 10).build();
    let case = w.accepted_at(&case, shanghai(2026, 9, 30, 9));
    assert_eq!(case.accepted_on, Some(date(2026, 9, 30)));
    // REFERENCE §8: 2026-09-30 +15 → 2026-10-27.
    assert_eq!(case.statutory_due, Some(date(2026, 10, 27)));
    // 10-10 is a Saturday make-up workday.
    assert_eq!(case.promised_due, Some(w.date_after(date(2026, 9, 30), 10)));
    assert_eq!(case.promised_due, Some(date(2026, 10, 20)));
}

#[test]
fn a_case_accepted_late_in_the_evening_utc_but_on_the_first_of_october_in_shanghai_waits_for_the_holiday()
 {
    let w = world();
    let case = CaseBuilder::new().limits(1, 1).build();
    // 2026-09-30T16:30Z is 2026-10-01 00:30 in Shanghai, a holiday.
    let now: Timestamp = "2026-09-30T16:30:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("timestamp: {e}"));
    let case = w.accepted_at(&case, now);
    assert_eq!(case.accepted_on, Some(date(2026, 10, 1)));
    assert_eq!(case.statutory_due, Some(date(2026, 10, 8)));
}

#[test]
fn warnings_turn_yellow_near_the_promised_date_and_red_after_it() {
    use super::deadline::warning;
    let w = world();
    let case = w.at_step(0);
    let due = case.promised_due.unwrap();
    assert_eq!(due, date(2026, 3, 16));
    let limit = case.promised_limit.value;
    let at =
        |today: Date| warning(&w.calendar, today, due, limit).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(at(date(2026, 3, 2)), Warning::Normal);
    assert_eq!(
        at(date(2026, 3, 11)),
        Warning::Normal,
        "three working days left"
    );
    assert_eq!(
        at(date(2026, 3, 12)),
        Warning::Yellow,
        "two working days left (a fifth of ten)"
    );
    assert_eq!(
        at(date(2026, 3, 14)),
        Warning::Yellow,
        "a Saturday before the due Monday"
    );
    assert_eq!(at(due), Warning::Yellow, "the due day itself");
    assert_eq!(at(date(2026, 3, 17)), Warning::Red);
    assert_eq!(Warning::Red.as_str(), "red");
    assert!(Warning::Normal < Warning::Yellow && Warning::Yellow < Warning::Red);
}

#[test]
fn a_long_holiday_does_not_count_as_time_left() {
    use super::deadline::warning;
    let w = world();
    // Eight calendar days but one working day between 09-30 and 10-08.
    let yellow = warning(&w.calendar, date(2026, 9, 30), date(2026, 10, 8), 10).unwrap();
    assert_eq!(yellow, Warning::Yellow);
    // The statutory limit of 20 warns with four working days left.
    let case = w.at_step(0);
    let due = case.statutory_due.unwrap();
    assert_eq!(
        warning(&w.calendar, date(2026, 3, 24), due, 20).unwrap(),
        Warning::Yellow
    );
    assert_eq!(
        warning(&w.calendar, date(2026, 3, 23), due, 20).unwrap(),
        Warning::Normal
    );
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    // Mostly meaningful text, so that random commands succeed often enough to go deep.
    prop_oneof![1 => Just(""), 1 => Just("  "), 6 => Just("材料需补充说明")].prop_map(str::to_owned)
}

fn material_code() -> impl Strategy<Value = MaterialCode> {
    prop_oneof![
        Just(FORM),
        Just(ID_CARD),
        Just(FIRE_OPINION),
        Just("unknown-material")
    ]
    .prop_map(material)
}

fn department_key() -> impl Strategy<Value = DepartmentKey> {
    prop_oneof![Just(MARKET), Just(FIRE), Just(URBAN), Just("city-tax")].prop_map(department)
}

fn some_date() -> impl Strategy<Value = Date> {
    prop_oneof![
        Just(date(2026, 3, 1)),
        Just(date(2026, 3, 25)),
        Just(date(2026, 4, 30)),
        Just(date(2026, 6, 30)),
    ]
}

fn case_material() -> impl Strategy<Value = CaseMaterial> {
    let provision = prop_oneof![
        Just(Provision::Paper),
        some_date().prop_map(|due| Provision::Tolerated { due }),
        Just(Provision::Commitment {
            text: "本人承诺材料真实".to_owned()
        }),
    ];
    (material_code(), provision).prop_map(|(code, provision)| CaseMaterial {
        name: code.to_string(),
        code,
        provision,
    })
}

fn arb_command() -> impl Strategy<Value = Command> {
    // Small counts, and counts at the top of the type (a uniform u32 almost never gets there).
    let days = prop_oneof![6 => 0u32..20, 1 => (u32::MAX - 20)..=u32::MAX, 1 => any::<u32>()];
    let step_code = prop_oneof![
        Just("undertake"),
        Just("review"),
        Just("countersign"),
        Just("decide"),
        Just("x")
    ];
    prop_oneof![
        2 => Just(Command::PreApprove),
        4 => prop::collection::vec(
            (material_code(), some_date())
                .prop_map(|(material, due)| ToleratedMaterial { material, due }),
            0..3
        )
        .prop_map(|tolerated| Command::Accept { tolerated }),
        1 => text().prop_map(|reason| Command::Reject { reason }),
        3 => prop::collection::vec(
            (material_code(), text())
                .prop_map(|(material, problem)| CorrectionItem { material, problem }),
            0..4
        )
        .prop_map(|items| Command::RequestCorrection { items }),
        4 => prop::collection::vec(case_material(), 0..4)
            .prop_map(|materials| Command::Resubmit { materials }),
        3 => case_material().prop_map(|material| Command::SupplyMaterial { material }),
        6 => text().prop_map(|opinion| Command::Approve { opinion }),
        3 => (step_code, text()).prop_map(|(to, reason)| Command::Return {
            to: to.to_owned(),
            reason
        }),
        6 => (any::<bool>(), text(), prop::option::of(department_key())).prop_map(
            |(pass, opinion, department)| {
                Command::Countersign {
                    pass,
                    opinion,
                    department,
                }
            }
        ),
        3 => (text(), text()).prop_map(|(procedure, reason)| Command::Suspend { procedure, reason }),
        3 => Just(Command::Resume),
        4 => (days, text()).prop_map(|(days, reason)| Command::Extend { days, reason }),
        1 => (department_key(), text())
            .prop_map(|(department, reason)| Command::Transfer { department, reason }),
        4 => (any::<bool>(), text()).prop_map(|(granted, opinion)| Command::Decide { granted, opinion }),
        3 => prop::option::of(Just(LICENCE).prop_map(|_| licence()))
            .prop_map(|licence| Command::Issue { licence }),
        3 => text().prop_map(|how| Command::Deliver { how }),
        2 => (
            prop::sample::select(delivery::Carrier::ALL.to_vec()),
            prop::sample::select(vec![EMS_NUMBER, "SF1234567890123", "EA123456784CN", ""])
        )
            .prop_map(|(carrier, number)| ship_with(carrier, number)),
        4 => (prop::sample::select(delivery::ShipmentStatus::ALL.to_vec()), 0i64..200)
            .prop_map(|(status, hours)| track(status, hours)),
        2 => prop::sample::select(vec![PICKUP_CODE, "000000", ""]).prop_map(collect),
        1 => Just(collect_instead()),
        1 => text().prop_map(|reason| Command::Withdraw { reason }),
    ]
}

/// A move: who acts first (index into the actors), what, and how many hours later.
fn arb_move() -> impl Strategy<Value = (usize, Command, i64)> {
    (0usize..8, arb_command(), 0i64..60)
}

/// Facts that hold for every case the lifecycle produces.
fn check_invariants(case: &Case) -> Result<(), TestCaseError> {
    let state = &case.state;
    prop_assert_eq!(
        case.closed_at.is_some(),
        state.is_final(),
        "closed_at iff final: {:?}",
        state
    );
    prop_assert_eq!(case.statutory_due.is_some(), case.accepted_on.is_some());
    prop_assert_eq!(case.promised_due.is_some(), case.accepted_on.is_some());
    if let (Some(accepted), Some(statutory), Some(promised)) =
        (case.accepted_on, case.statutory_due, case.promised_due)
    {
        prop_assert!(statutory > accepted && promised > accepted);
        if case.extension_days == 0 {
            prop_assert!(
                promised <= statutory,
                "promised {} after statutory {}",
                promised,
                statutory
            );
        }
    }
    let max_extension = if case.co_departments.is_empty() {
        10
    } else {
        15
    };
    prop_assert!(case.extension_days <= max_extension);
    for suspension in &case.suspensions {
        prop_assert!(suspension.from <= suspension.to);
    }
    // Only the last shipment may still be on its way; every earlier one came back.
    if let Some((_, earlier)) = case.shipments.split_last() {
        for shipment in earlier {
            prop_assert_eq!(shipment.status, delivery::ShipmentStatus::Returned);
        }
    }
    if case.shipment_in_flight() {
        prop_assert_eq!(state, &CaseState::Issued);
        let posted = matches!(case.delivery, Delivery::Post { .. });
        prop_assert!(posted, "a parcel on its way is a posted result");
    }
    if case
        .shipment()
        .is_some_and(|s| s.status == delivery::ShipmentStatus::Signed)
    {
        prop_assert_eq!(state, &CaseState::Delivered);
    }
    if matches!(
        state,
        CaseState::InProgress { .. } | CaseState::Suspended { .. }
    ) {
        prop_assert!(
            case.current_step().is_some(),
            "the step exists: {:?}",
            state
        );
        prop_assert!(case.accepted_on.is_some());
    }
    if !state.is_final() {
        let clock_stopped = matches!(state, CaseState::Suspended { .. })
            || (*state == CaseState::Correction && case.accepted_on.is_some());
        prop_assert_eq!(
            case.suspended_since.is_some(),
            clock_stopped,
            "open suspension in {:?}",
            state
        );
    }
    if *state == CaseState::Correction {
        prop_assert!(!case.correction.is_empty());
        prop_assert_eq!(case.resume_step.is_some(), case.accepted_on.is_some());
    }
    if let CaseState::InProgress { step } = state {
        match &case.workflow.steps[*step].kind {
            StepKind::Countersign {
                mode: CountersignMode::All,
                ..
            } => prop_assert!(
                case.countersign.values().all(|pass| *pass),
                "all: only passes wait"
            ),
            StepKind::Countersign {
                mode: CountersignMode::Any,
                ..
            } => prop_assert!(
                case.countersign.values().all(|pass| !*pass),
                "any: only refusals wait"
            ),
            _ => prop_assert!(
                case.countersign.is_empty(),
                "no votes outside a countersign step"
            ),
        }
    }
    Ok(())
}

/// Applies one command and checks what must hold around a single `apply`.
fn checked_apply(
    world: &World,
    case: &Case,
    actor: &Actor,
    now: Timestamp,
    command: &Command,
) -> Result<Option<Case>, TestCaseError> {
    let before = case.clone();
    let result = world.try_act(case, actor, now, command);
    prop_assert_eq!(case, &before, "apply never changes its input");
    prop_assert_eq!(
        &result,
        &world.try_act(case, actor, now, command),
        "apply is deterministic"
    );
    match result {
        Ok(outcome) if outcome.case.version == before.version => {
            // Only a carrier's report recorded before changes nothing.
            let tracking = matches!(command, Command::Track { .. });
            prop_assert!(tracking, "{} changed nothing", command.name());
            prop_assert_eq!(&outcome.case, &before);
            prop_assert!(outcome.events.is_empty());
            Ok(None)
        }
        Ok(outcome) => {
            prop_assert!(!before.state.is_final(), "a final state is never left");
            prop_assert_eq!(outcome.case.version, before.version + 1);
            // Carriers' reports on the way are kept on the shipment, not the case's timeline.
            prop_assert!(
                !outcome.events.is_empty() || matches!(command, Command::Track { .. }),
                "{} appends an event",
                command.name()
            );
            prop_assert!(outcome.events.len() <= 2);
            for event in &outcome.events {
                prop_assert_eq!(event.at, now);
                prop_assert_eq!(&event.actor, &actor.account);
            }
            prop_assert_eq!(outcome.case.id, before.id);
            prop_assert_eq!(&outcome.case.applicant, &before.applicant);
            Ok(Some(outcome.case))
        }
        Err(error) => {
            if before.state.is_final() {
                prop_assert_eq!(
                    error,
                    CaseError::IllegalTransition {
                        action: command.name(),
                        state: before.state.name(),
                    }
                );
            }
            Ok(None)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Random actors issue random commands from any starting state.
    #[test]
    fn random_commands_by_random_actors_never_panic_and_keep_the_case_consistent(
        start in 0usize..17,
        moves in prop::collection::vec(arb_move(), 1..40),
    ) {
        let world = world();
        let mut case = world.every_state().swap_remove(start);
        check_invariants(&case)?;
        let mut now = on(3, 20);
        for (actor, command, hours) in moves {
            now = later(now, hours);
            let actor = world.actors.all()[actor];
            if let Some(next) = checked_apply(&world, &case, actor, now, &command)? {
                case = next;
            }
            check_invariants(&case)?;
        }
    }

    /// Each random command is tried by every actor in turn and the first one allowed acts, so
    /// that the walk goes deep into the lifecycle (extensions, countersigning, returns…).
    #[test]
    fn the_first_allowed_actor_walks_deep_without_breaking_the_invariants(
        start in 0usize..17,
        moves in prop::collection::vec(arb_move(), 1..60),
    ) {
        let world = world();
        let mut case = world.every_state().swap_remove(start);
        let mut now = on(3, 20);
        let mut final_seen = case.state.is_final();
        for (first, command, hours) in moves {
            now = later(now, hours);
            let actors = world.actors.all();
            for offset in 0..actors.len() {
                let actor = actors[(first + offset) % actors.len()];
                if let Some(next) = checked_apply(&world, &case, actor, now, &command)? {
                    case = next;
                    break;
                }
            }
            check_invariants(&case)?;
            if final_seen {
                prop_assert!(case.state.is_final());
            }
            final_seen |= case.state.is_final();
        }
    }
}

#[test]
fn a_suspension_open_when_the_applicant_withdraws_is_closed() {
    let w = world();
    let a = &w.actors;
    let case = w.step(&w.at_step(1), &a.approver, on(3, 10), suspend());
    let withdrawn = w.step(&case, &a.applicant, on(3, 12), withdraw());
    assert_eq!(withdrawn.suspended_since, None);
    assert_eq!(withdrawn.suspensions.len(), 1);
    assert_eq!(withdrawn.suspensions[0].from, date(2026, 3, 10));
}

// ---------------------------------------------------------------------------------------------
// Agents (帮办代办)

/// The agent 郑芳; acting for `identifier` when the service has checked a mandate for it.
fn agent_acting_for(identifier: Option<&str>) -> Actor {
    let mut agent = staff("agent", "郑芳", vec![assignment(Role::Agent, None, None)]);
    agent.acting_for = identifier.map(|identifier| ActingFor {
        identifier: identifier.to_owned(),
        name: "张三".to_owned(),
        mandate: crate::keys::MandateId::from_uuid(uuid::Uuid::from_u128(5)),
    });
    agent
}

#[test]
fn an_agent_under_a_mandate_answers_a_correction_and_withdraws_and_the_events_say_for_whom() {
    let w = world();
    let case = standard_case();
    let agent = agent_acting_for(Some(APPLICANT_ID));
    let in_correction = w.step(&case, &w.actors.clerk, on(3, 2), correction(&[ID_CARD]));
    let answered = w.act(
        &in_correction,
        &agent,
        on(3, 3),
        Command::Resubmit {
            materials: vec![upload(ID_CARD, "bb22")],
        },
    );
    let expected = Some(OnBehalf {
        applicant_name: "张三".to_owned(),
        mandate: crate::keys::MandateId::from_uuid(uuid::Uuid::from_u128(5)),
    });
    assert_eq!(answered.events[0].on_behalf, expected);
    let withdrawn = w.act(&answered.case, &agent, on(3, 4), withdraw());
    assert_eq!(withdrawn.case.state, CaseState::Withdrawn);
    assert_eq!(withdrawn.events[0].on_behalf, expected);
    // The clerk's own events say nothing about an agent.
    let by_clerk = w.act(&case, &w.actors.clerk, on(3, 2), correction(&[ID_CARD]));
    assert_eq!(by_clerk.events[0].on_behalf, None);
}

#[test]
fn an_agent_without_a_checked_mandate_for_this_applicant_takes_no_applicant_step() {
    let w = world();
    let in_correction = w.step(
        &standard_case(),
        &w.actors.clerk,
        on(3, 2),
        correction(&[ID_CARD]),
    );
    let resubmit = Command::Resubmit {
        materials: vec![upload(ID_CARD, "bb22")],
    };
    for agent in [
        agent_acting_for(None),
        agent_acting_for(Some("11010519491231002X")),
    ] {
        let refused = w.try_act(&in_correction, &agent, on(3, 3), &resubmit);
        assert!(
            matches!(refused, Err(CaseError::Forbidden(_))),
            "{refused:?}"
        );
        let refused = w.try_act(&in_correction, &agent, on(3, 3), &withdraw());
        assert!(
            matches!(refused, Err(CaseError::Forbidden(_))),
            "{refused:?}"
        );
    }
    // Someone who merely claims to act for the applicant without the agent role is refused too.
    let mut pretender = agent_acting_for(Some(APPLICANT_ID));
    pretender.roles = Vec::new();
    let refused = w.try_act(&in_correction, &pretender, on(3, 3), &resubmit);
    assert!(matches!(refused, Err(CaseError::Forbidden(_))));
}

#[test]
fn a_mandate_gives_an_agent_no_staff_powers() {
    let w = world();
    let agent = agent_acting_for(Some(APPLICANT_ID));
    let case = standard_case();
    let accept = Command::Accept {
        tolerated: Vec::new(),
    };
    assert!(matches!(
        w.try_act(&case, &agent, on(3, 2), &accept),
        Err(CaseError::Forbidden(_))
    ));
    let accepted = w.accepted_at(&case, on(3, 2));
    assert!(matches!(
        w.try_act(&accepted, &agent, on(3, 3), &approve("同意")),
        Err(CaseError::Forbidden(_))
    ));
    assert!(
        !agent.is_applicant(&case.applicant),
        "an agent is never the applicant in person (ratings belong to the applicant)"
    );
}
// Delivery: posting with tracking, collection with the pickup code (SPEC C5)
// ---------------------------------------------------------------------------------------------

/// Applies a carrier's report that must be recorded (it may append no case event).
fn tracked(w: &World, case: &Case, command: Command) -> Outcome {
    let outcome = w
        .try_act(case, &w.actors.system, on(3, 20), &command)
        .unwrap_or_else(|e| panic!("track refused in {}: {e}", case.state.name()));
    assert_eq!(outcome.case.version, case.version + 1);
    outcome
}

#[test]
fn a_posted_result_is_tracked_until_its_signature_delivers_the_case() {
    use delivery::ShipmentStatus as S;
    let w = world();
    let a = &w.actors;
    let Outcome { case, events } = w.act(&w.issued(), &a.clerk, on(3, 10), ship(" ea123456785cn "));
    assert_eq!(kinds(&events), ["shipped"]);
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("办理结果已交寄中国邮政EMS,运单号 EA123456785CN")
    );
    assert_eq!(case.state, CaseState::Issued);
    let shipment = case
        .shipment()
        .cloned()
        .unwrap_or_else(|| panic!("shipped"));
    assert_eq!(shipment.tracking_number.as_str(), EMS_NUMBER);
    assert_eq!(shipment.status, S::Shipped);
    assert_eq!(shipment.postage, delivery::Postage::Free);
    assert_eq!(shipment.hall, Some(hall(HALL)));

    let mut case = case;
    for (status, hours) in [(S::PickedUp, 1), (S::InTransit, 5), (S::OutForDelivery, 20)] {
        let outcome = tracked(&w, &case, track(status, hours));
        assert!(
            outcome.events.is_empty(),
            "{status:?} stays on the shipment"
        );
        case = outcome.case;
        assert_eq!(case.shipment().map(|s| s.status), Some(status));
        assert_eq!(case.state, CaseState::Issued);
    }
    let Outcome { case, events } = tracked(&w, &case, track(S::Signed, 24));
    assert_eq!(case.state, CaseState::Delivered);
    assert_eq!(case.closed_at, Some(on(3, 20)));
    assert_eq!(kinds(&events), ["delivered"]);
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("办理结果已签收(邮寄送达)")
    );
    let events_kept = case.shipment().map(|s| s.events.len());
    assert_eq!(events_kept, Some(4));
}

#[test]
fn a_carriers_repeated_report_changes_nothing_also_after_delivery() {
    use delivery::ShipmentStatus as S;
    let w = world();
    let a = &w.actors;
    let shipped = w.step(&w.issued(), &a.clerk, on(3, 10), ship(EMS_NUMBER));
    let picked = tracked(&w, &shipped, track(S::PickedUp, 1)).case;
    let again = w.try_act(&picked, &a.system, on(3, 21), &track(S::PickedUp, 1));
    assert_eq!(
        again,
        Ok(Outcome {
            case: picked.clone(),
            events: Vec::new()
        })
    );
    let signed = tracked(&w, &picked, track(S::Signed, 3)).case;
    assert_eq!(signed.state, CaseState::Delivered);
    let resent = w.try_act(&signed, &a.system, on(3, 22), &track(S::Signed, 3));
    assert_eq!(resent.map(|o| o.case), Ok(signed.clone()));
    // A new report after the signature is refused like any action on a final case.
    let late = w.try_act(&signed, &a.system, on(3, 22), &track(S::Returned, 4));
    assert!(matches!(late, Err(CaseError::IllegalTransition { .. })));
}

#[test]
fn refused_shipment_reports_change_nothing() {
    use delivery::ShipmentStatus as S;
    let w = world();
    let a = &w.actors;
    let issued = w.issued();
    assert_invalid(
        w.try_act(&issued, &a.system, on(3, 20), &track(S::PickedUp, 1)),
        "a report before the result is posted",
    );
    let shipped = w.step(&issued, &a.clerk, on(3, 10), ship(EMS_NUMBER));
    for status in [S::Signed, S::InTransit, S::Returned, S::Shipped] {
        match w.try_act(&shipped, &a.system, on(3, 20), &track(status, 1)) {
            Err(CaseError::Delivery(error)) => {
                assert_eq!(error.code(), "illegal_shipment_status", "{status:?}")
            }
            other => panic!("{status:?} before the pick-up: {other:?}"),
        }
    }
    let out = tracked(
        &w,
        &tracked(&w, &shipped, track(S::PickedUp, 1)).case,
        track(S::OutForDelivery, 2),
    )
    .case;
    let back = w.try_act(&out, &a.system, on(3, 20), &track(S::InTransit, 3));
    assert_eq!(
        back.map_err(|e| e.code()),
        Err("illegal_shipment_status"),
        "a parcel out for delivery does not go back in transit"
    );
    let older = w.try_act(&out, &a.system, on(3, 20), &track(S::Signed, 1));
    assert_eq!(older.map_err(|e| e.code()), Err("invalid_tracking_event"));
    let future = w.try_act(&out, &a.system, on(3, 10), &track(S::Signed, 48));
    assert_eq!(future.map_err(|e| e.code()), Err("invalid_tracking_event"));
    // Who reports: the carrier's system or a clerk, nobody else.
    for actor in [&a.applicant, &a.approver, &a.chief, &a.citizen] {
        assert_forbidden(
            w.try_act(&out, actor, on(3, 20), &track(S::Signed, 3)),
            "a report by someone who is not a carrier or a clerk",
        );
    }
    let by_clerk = w.try_act(&out, &a.clerk, on(3, 20), &track(S::Signed, 3));
    assert_eq!(by_clerk.map(|o| o.case.state), Ok(CaseState::Delivered));
}

#[test]
fn a_result_is_posted_once_at_a_time_by_a_clerk_or_its_department() {
    let w = world();
    let a = &w.actors;
    let issued = w.issued();
    for actor in [&a.applicant, &a.citizen, &a.fire, &a.system] {
        assert_forbidden(
            w.try_act(&issued, actor, on(3, 10), &ship(EMS_NUMBER)),
            "posting by an outsider",
        );
    }
    let by_chief = w.try_act(&issued, &a.chief, on(3, 10), &ship(EMS_NUMBER));
    assert!(by_chief.is_ok(), "{by_chief:?}");
    let wrong = w.try_act(&issued, &a.clerk, on(3, 10), &ship("EA123456784CN"));
    assert_eq!(wrong.map_err(|e| e.code()), Err("invalid_tracking_number"));
    let shipped = w.step(&issued, &a.clerk, on(3, 10), ship(EMS_NUMBER));
    assert_invalid(
        w.try_act(
            &shipped,
            &a.clerk,
            on(3, 11),
            &ship_with(delivery::Carrier::Sf, "SF1234567890123"),
        ),
        "a second parcel while the first is on its way",
    );
    assert_invalid(
        w.try_act(&shipped, &a.clerk, on(3, 11), &deliver()),
        "a manual delivery while the parcel is on its way",
    );
    assert_invalid(
        w.try_act(&shipped, &a.applicant, on(3, 11), &collect_instead()),
        "collection while the parcel is on its way",
    );
    let to_collect = w.issued_to_collect();
    assert_invalid(
        w.try_act(&to_collect, &a.clerk, on(3, 10), &ship(EMS_NUMBER)),
        "posting a result that waits at a hall",
    );
}

#[test]
fn a_returned_parcel_is_posted_again_or_collected_at_a_hall() {
    use delivery::ShipmentStatus as S;
    let w = world();
    let a = &w.actors;
    let shipped = w.step(&w.issued(), &a.clerk, on(3, 10), ship(EMS_NUMBER));
    let picked = tracked(&w, &shipped, track(S::PickedUp, 1)).case;
    let mut returning = track(S::Returned, 30);
    if let Command::Track { note, .. } = &mut returning {
        *note = "收件人地址不详".to_owned();
    }
    let Outcome {
        case: returned,
        events,
    } = tracked(&w, &picked, returning);
    assert_eq!(returned.state, CaseState::Issued);
    assert_eq!(kinds(&events), ["shipment_returned"]);
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("邮件被退回(收件人地址不详),将重新寄送或改为窗口领取")
    );
    assert!(!returned.shipment_in_flight());

    // Posted again, with another number: the first shipment stays in the history.
    let again = w.step(
        &returned,
        &a.clerk,
        on(3, 21),
        ship_with(delivery::Carrier::Sf, "SF1234567890123"),
    );
    assert_eq!(again.shipments.len(), 2);
    assert_eq!(again.shipments[0].status, S::Returned);
    assert_eq!(
        again.shipment().map(|s| s.carrier),
        Some(delivery::Carrier::Sf)
    );

    // Or collected: the applicant switches, then a clerk hands it out against the new code.
    let Outcome {
        case: waiting,
        events,
    } = w.act(&returned, &a.applicant, on(3, 21), collect_instead());
    assert_eq!(kinds(&events), ["switched_to_collection"]);
    assert!(matches!(
        &waiting.delivery,
        Delivery::Collect { pickup_code, .. } if pickup_code == "719304"
    ));
    let delivered = w.step(&waiting, &a.clerk, on(3, 22), collect("719304"));
    assert_eq!(delivered.state, CaseState::Delivered);
}

#[test]
fn a_result_waiting_at_a_hall_is_handed_out_only_against_its_pickup_code() {
    let w = world();
    let a = &w.actors;
    let waiting = w.issued_to_collect();
    for code in ["000000", "48392", "", "4839200"] {
        let result = w.try_act(&waiting, &a.clerk, on(3, 10), &collect(code));
        assert_eq!(
            result,
            Err(CaseError::Delivery(
                delivery::DeliveryError::WrongPickupCode
            )),
            "{code:?}"
        );
    }
    assert_invalid(
        w.try_act(&waiting, &a.clerk, on(3, 10), &deliver()),
        "handing out without the pickup code",
    );
    for actor in [&a.applicant, &a.approver, &a.system] {
        assert_forbidden(
            w.try_act(&waiting, actor, on(3, 10), &collect(PICKUP_CODE)),
            "collection away from a window",
        );
    }
    let Outcome { case, events } = w.act(&waiting, &a.clerk, on(3, 10), collect(PICKUP_CODE));
    assert_eq!(case.state, CaseState::Delivered);
    assert_eq!(
        events[0].kind.public_text().as_deref(),
        Some("办理结果已领取")
    );
    // A posted result is not collected without switching first.
    assert_invalid(
        w.try_act(&w.issued(), &a.clerk, on(3, 10), &collect(PICKUP_CODE)),
        "collecting a posted result",
    );
}

impl World {
    /// The standard case to be collected at a hall, issued.
    fn issued_to_collect(&self) -> Case {
        let a = &self.actors;
        let mut case = self.accepted_at(&CaseBuilder::new().collected().build(), on(3, 2));
        case = self.advance(case, 3);
        case = self.step(
            &case,
            &a.chief,
            on(3, 6),
            Command::Decide {
                granted: true,
                opinion: "准予".to_owned(),
            },
        );
        self.step(&case, &a.clerk, on(3, 9), Command::Issue { licence: None })
    }
}

// ---------------------------------------------------------------------------------------------
// Verified documents (once-only, SPEC C3)
// ---------------------------------------------------------------------------------------------

/// A demo item whose materials are the standard case's: the form (a blank template), the ID
/// card (default validity) and the fire opinion (6 months).
fn item_of_standard_case() -> crate::catalog::ItemDefinition {
    let mut item: crate::catalog::ItemDefinition = toml::from_str(include_str!(
        "../../../../data/demo/catalog/items/funeral-subsidy.toml"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let template = item.materials[0].clone();
    let with = |code: &str, blank: Option<&str>, months: Option<u32>| {
        let mut material = template.clone();
        material.code = self::material(code);
        material.name = format!("{code} 名称");
        material.template = blank.map(str::to_owned);
        material.verified_for_months = months;
        material
    };
    item.materials = vec![
        with(FORM, Some("申请表.docx"), None),
        with(ID_CARD, None, None),
        with(FIRE_OPINION, None, Some(6)),
    ];
    item
}

#[test]
fn a_clerks_check_makes_the_handed_in_copies_verified_documents() {
    let w = world();
    let case = standard_case();
    let item = item_of_standard_case();
    let now = on(3, 2);
    let mut n = 0;
    let documents = verified::checked_by_clerk(&case, &item, &w.actors.clerk, now, |_| {
        n += 1;
        uuid::Uuid::from_u128(n)
    });
    let found: Vec<(&str, Date)> = documents
        .iter()
        .map(|d| (d.material.as_str(), d.valid_until))
        .collect();
    // The filled-in form is not reused; the ID card for a year, the fire opinion for 6 months.
    assert_eq!(
        found,
        [
            (ID_CARD, date(2027, 3, 2)),
            (FIRE_OPINION, date(2026, 9, 2))
        ]
    );
    let card = &documents[0];
    assert_eq!(card.holder, APPLICANT_ID);
    assert_eq!(card.source_case, case.id);
    assert_eq!(card.department, department(MARKET));
    assert_eq!(card.hall, Some(hall(HALL)));
    assert_eq!(card.verified_by, account("clerk"));
    assert_eq!(card.copy, verified::CheckedCopy::Paper);
    assert_eq!(
        card.status_on(date(2027, 3, 2)),
        verified::DocumentStatus::Valid
    );
    assert_eq!(
        card.status_on(date(2027, 3, 3)),
        verified::DocumentStatus::Expired
    );
    // Nobody but a clerk checks copies.
    for actor in [&w.actors.approver, &w.actors.applicant, &w.actors.system] {
        assert!(
            verified::checked_by_clerk(&case, &item, actor, now, |_| uuid::Uuid::nil()).is_empty()
        );
    }
}

#[test]
fn licences_commitments_promises_and_references_are_not_checked_copies() {
    let w = world();
    let mut case = standard_case();
    let item = item_of_standard_case();
    case.materials = vec![
        CaseMaterial {
            code: material(ID_CARD),
            name: String::new(),
            provision: Provision::Licence { licence: licence() },
        },
        CaseMaterial {
            code: material(FIRE_OPINION),
            name: String::new(),
            provision: Provision::VerifiedDocument {
                document: uuid::Uuid::nil(),
                source_case: "earlier".to_owned(),
                verified_by: "示范市政务服务中心".to_owned(),
                valid_until: date(2026, 9, 1),
            },
        },
    ];
    let documents = verified::checked_by_clerk(&case, &item, &w.actors.clerk, on(3, 2), |_| {
        uuid::Uuid::nil()
    });
    assert_eq!(documents, []);
}

#[test]
fn the_newest_valid_unrevoked_document_of_the_holder_replaces_the_material() {
    let w = world();
    let item = item_of_standard_case();
    let mut n = 0;
    let mut id = |_: &MaterialCode| {
        n += 1;
        uuid::Uuid::from_u128(n)
    };
    let older =
        verified::checked_by_clerk(&standard_case(), &item, &w.actors.clerk, on(3, 2), &mut id);
    let newer =
        verified::checked_by_clerk(&standard_case(), &item, &w.actors.clerk, on(3, 5), &mut id);
    let mut all: Vec<_> = older.into_iter().chain(newer).collect();
    let card = material(ID_CARD);
    let best = verified::best_for(&all, &card, APPLICANT_ID, date(2026, 4, 1));
    assert_eq!(best.map(|d| d.verified_at), Some(on(3, 5)));
    assert!(verified::best_for(&all, &card, "11010519491231002X", date(2026, 4, 1)).is_none());
    // Revoked: the older one is offered again; after its end, nothing.
    for document in all.iter_mut().filter(|d| d.verified_at == on(3, 5)) {
        document.revoked = Some(verified::Revocation {
            at: on(3, 6),
            reason: "补正".to_owned(),
        });
    }
    let best = verified::best_for(&all, &card, APPLICANT_ID, date(2026, 4, 1));
    assert_eq!(best.map(|d| d.verified_at), Some(on(3, 2)));
    assert!(verified::best_for(&all, &card, APPLICANT_ID, date(2027, 3, 3)).is_none());
    let provision = best.map(|d| d.as_provision("示范市政务服务中心"));
    assert!(matches!(
        provision,
        Some(Provision::VerifiedDocument { valid_until, ref verified_by, .. })
            if valid_until == date(2027, 3, 2) && verified_by == "示范市政务服务中心"
    ));
}
