//! The history `tongban bench seed` loads: cases of the demo city's items from 2025-01-01 (the
//! first year the official calendar holds) to now, with the ratings and rectification tasks and
//! the hotline tickets around them.
//!
//! Nothing is typed in: every case is opened with the domain's `open_case` and moved on with
//! `cases::apply` by the roles that would act (a window clerk accepts, the department's approver
//! passes its review steps, its chief representative decides), so deadlines come from the
//! calendar and the item's limits exactly as in the live system; ratings, rectification tasks
//! and tickets go through `Rectification::open_for`/`apply` and `Ticket::register`/`apply`
//! with the configured policies and routing. Each change is kept as the [`CaseWrite`] the
//! services would have stored, so a test can replay the same history through the live path.
//!
//! The mix (documented in docs/benchmarks.md): weekday traffic with a little online traffic at
//! weekends and a growing trend; ~55% online; most cases delivered, some rejected, corrected,
//! suspended, extended, transferred, refused or withdrawn, ~7% decided late, the most recent
//! ones still open (some past their promised date); 40% of decided cases rated, ~5% badly, a
//! task for each bad first rating, appeals, callbacks and second ratings; one ticket per five
//! cases with dispatch, returns, extensions, reminders, supervision, replies and callbacks that
//! sometimes reopen. Randomness comes from a seeded generator: the same seed gives the same
//! history.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context as _, bail};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use tongban_domain::calendar::{Calendar, shanghai_date};
use tongban_domain::cases::application::{Application, open_case};
use tongban_domain::cases::{
    Actor, ActorKind, Applicant, ApplicantKind, Case, CaseMaterial, CaseState, Channel, Command,
    Context, CorrectionItem, Delivery, Provision, StepKind, apply,
};
use tongban_domain::catalog::codes::{HandlingForm, ServiceObject};
use tongban_domain::catalog::item::{Deferral, Requirement, SubmissionWay};
use tongban_domain::catalog::{Answers, DataElement, ElementKind, ItemDefinition, LicenceType};
use tongban_domain::feedback::{
    Callback, RatedKind, Rating, RatingChannel, RatingLevel, RatingRound, Rectification,
    RectificationAction, RectificationPolicy, RectificationState,
};
use tongban_domain::hotline::{
    DeadlinePolicy, RoutingTable, Satisfaction, Ticket, TicketAction, TicketCallback,
    TicketChannel, TicketContext, TicketIntake, TicketState, TicketType, Urgency,
};
use tongban_domain::ids::{credit_code_check_char, id_number_check_char};
use tongban_domain::keys::{AccountName, DataElementCode, DepartmentKey, HallKey};
use tongban_domain::licences::Licence;
use tongban_domain::org::{Organisation, Role, RoleAssignment};
use tongban_store::files::DataSet;
use tongban_store::model::CaseWrite;
use tongban_store::seed::{SeedBatch, SeedCase, SeedRating, SeedTicket};
use tongban_web::services::cases::{audit_for, new_id};

/// The first day of the history: the first year the official calendar holds.
pub fn history_start() -> Date {
    jiff::civil::date(2025, 1, 1)
}

/// The end of the history: now, or the last day the official calendar holds when the clock is
/// past it (deadlines cannot be computed beyond it).
pub fn history_end(calendar: &Calendar, now: Timestamp) -> Timestamp {
    let Some(last_year) = calendar.years().into_iter().max() else {
        return now;
    };
    let last_day = jiff::civil::date(last_year, 12, 31);
    now.min(at(last_day, 23 * 60 + 59))
}

/// A small deterministic generator (SplitMix64): the same seed gives the same history.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(usize::try_from(self.below(items.len() as u64)).unwrap_or(0))
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.unit() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.len().saturating_sub(1)
    }
}

/// The configured rules the history follows (the same the server is given).
#[derive(Debug, Clone)]
pub struct Policies {
    pub deadlines: DeadlinePolicy,
    pub rectification: RectificationPolicy,
    pub routing: RoutingTable,
}

/// How much history, until when, from which seed.
#[derive(Debug, Clone, Copy)]
pub struct HistoryOptions {
    pub cases: u64,
    pub tickets: u64,
    pub seed: u64,
    pub now: Timestamp,
}

/// One day of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayPlan {
    pub date: Date,
    pub cases: u64,
    pub tickets: u64,
}

/// What the history holds, by kind, for the report and the tests.
#[derive(Debug, Clone, Default)]
pub struct HistoryStats {
    /// Cases by their state at the end.
    pub states: BTreeMap<&'static str, u64>,
    pub ratings: u64,
    pub bad_ratings: u64,
    pub rectifications: u64,
    pub tickets: u64,
    /// Actions the domain refused, by error code (a calendar year not yet published stops a
    /// case whose deadline would fall in it, as it would stop the live service).
    pub refused: BTreeMap<String, u64>,
    /// Items that could not be applied for with the generated answers, and why.
    pub skipped_items: BTreeMap<String, String>,
}

/// An item the history applies for, prepared once.
#[derive(Debug)]
struct ItemPlan {
    item: ItemDefinition,
    version: u32,
    workflow: tongban_domain::cases::Workflow,
    channels: Vec<(Channel, f64)>,
    halls: Vec<HallKey>,
    persons: bool,
    enterprises: bool,
    licence_type: Option<LicenceType>,
    post: bool,
}

/// The demo city as the history needs it: items, staff by role, halls and their windows.
#[derive(Debug)]
pub struct World {
    items: Vec<ItemPlan>,
    item_weights: Vec<f64>,
    elements: Vec<DataElement>,
    organisation: Organisation,
    clerks: HashMap<HallKey, Actor>,
    staff: HashMap<(Role, DepartmentKey), Actor>,
    windows: HashMap<HallKey, Vec<String>>,
    supervisor: Actor,
    operator: Actor,
    dispatcher: Actor,
    post: Actor,
    areas: Vec<String>,
    city_departments: Vec<DepartmentKey>,
}

fn account(name: &str) -> anyhow::Result<AccountName> {
    AccountName::parse(name).map_err(|e| anyhow::anyhow!("{name}: {e}"))
}

fn staff_actor(name: &str, display: &str, roles: Vec<RoleAssignment>) -> anyhow::Result<Actor> {
    Ok(Actor {
        account: account(name)?,
        name: display.to_owned(),
        kind: ActorKind::Staff,
        roles,
        identifier: None,
        acting_for: None,
    })
}

fn role(role: Role, department: Option<&DepartmentKey>, hall: Option<&HallKey>) -> RoleAssignment {
    RoleAssignment {
        role,
        department: department.cloned(),
        hall: hall.cloned(),
        region: None,
    }
}

impl World {
    /// Prepares the demo data; `versions` gives the published version of each item in the store.
    pub fn new(data: &DataSet, versions: &HashMap<String, u32>) -> anyhow::Result<World> {
        let organisation = data.organisation.clone();
        let catalog = &data.catalog;
        let mut staff: HashMap<(Role, DepartmentKey), Actor> = HashMap::new();
        let mut clerks: HashMap<HallKey, Actor> = HashMap::new();
        let mut supervisor = None;
        let mut operator = None;
        let mut dispatcher = None;
        for member in &organisation.staff {
            let actor = Actor {
                account: member.account.clone(),
                name: member.name.clone(),
                kind: ActorKind::Staff,
                roles: member.roles.clone(),
                identifier: None,
                acting_for: None,
            };
            for assignment in &member.roles {
                match (assignment.role, &assignment.department, &assignment.hall) {
                    (Role::Clerk, _, Some(hall)) => {
                        clerks.entry(hall.clone()).or_insert_with(|| actor.clone());
                    }
                    (Role::Supervisor, _, _) => supervisor = Some(actor.clone()),
                    (Role::HotlineOperator, _, _) => operator = Some(actor.clone()),
                    (Role::Dispatcher, _, _) => dispatcher = Some(actor.clone()),
                    (role, Some(department), _) => {
                        staff
                            .entry((role, department.clone()))
                            .or_insert_with(|| actor.clone());
                    }
                    _ => {}
                }
            }
        }
        // Halls and departments without demo staff get a stand-in with the one role needed.
        for hall in &organisation.halls {
            if !clerks.contains_key(&hall.key) {
                let name = format!("seed-clerk-{}", hall.key);
                clerks.insert(
                    hall.key.clone(),
                    staff_actor(
                        &name,
                        "窗口工作人员",
                        vec![role(Role::Clerk, None, Some(&hall.key))],
                    )?,
                );
            }
        }
        for department in &organisation.departments {
            for (wanted, label) in [
                (Role::Approver, "审批人员"),
                (Role::ChiefRepresentative, "首席代表"),
            ] {
                if let std::collections::hash_map::Entry::Vacant(entry) =
                    staff.entry((wanted, department.key.clone()))
                {
                    let prefix = if wanted == Role::Approver {
                        "approver"
                    } else {
                        "chief"
                    };
                    let name = format!("seed-{prefix}-{}", department.key);
                    entry.insert(staff_actor(
                        &name,
                        label,
                        vec![role(wanted, Some(&department.key), None)],
                    )?);
                }
            }
        }
        let mut windows: HashMap<HallKey, Vec<String>> = HashMap::new();
        for window in &organisation.windows {
            windows
                .entry(window.hall.clone())
                .or_default()
                .push(window.key.to_string());
        }
        let centre = organisation
            .halls
            .first()
            .map(|h| h.key.clone())
            .context("the demo city has no hall")?;
        let mut items = Vec::new();
        for item in &catalog.items {
            if !item.item_type.is_applicable() {
                continue;
            }
            let Some(workflow) = catalog.workflow_for(item) else {
                continue;
            };
            let Some(version) = versions.get(item.implementation_code.as_str()) else {
                continue;
            };
            let forms = &item.handling_forms;
            let mut channels = Vec::new();
            if forms.contains(&HandlingForm::Window) || forms.is_empty() {
                channels.push((Channel::Window, 0.40));
                channels.push((Channel::Kiosk, 0.03));
            }
            if forms.contains(&HandlingForm::OnlinePc) {
                channels.push((Channel::Web, 0.24));
            }
            if forms.contains(&HandlingForm::OnlineMobile) {
                channels.push((Channel::Mobile, 0.33));
            }
            if channels.is_empty() {
                channels.push((Channel::Window, 1.0));
            }
            let mut halls: Vec<HallKey> =
                item.places.iter().filter_map(|p| p.hall.clone()).collect();
            if halls.is_empty() {
                halls.push(centre.clone());
            }
            let persons = item.service_objects.contains(&ServiceObject::NaturalPerson);
            let enterprises = item
                .service_objects
                .iter()
                .any(|o| *o != ServiceObject::NaturalPerson);
            if !persons && !enterprises {
                continue;
            }
            let licence_type = item.result.licence_type.as_ref().and_then(|key| {
                catalog
                    .licence_types
                    .iter()
                    .find(|t| &t.key == key)
                    .cloned()
            });
            items.push(ItemPlan {
                item: item.clone(),
                version: *version,
                workflow: workflow.clone(),
                channels,
                halls,
                persons,
                enterprises,
                licence_type,
                post: item.supports.delivery,
            });
        }
        if items.is_empty() {
            bail!("the demo catalog has no item to apply for");
        }
        // A few items carry most of the traffic (Zipf-like), in a fixed scrambled order so that
        // the busiest ones are not simply the first in the file.
        let mut ranks: Vec<usize> = (0..items.len()).collect();
        ranks.sort_by_key(|index| (index * 37 + 11) % items.len());
        let mut item_weights = vec![0.0; items.len()];
        for (rank, index) in ranks.iter().enumerate() {
            item_weights[*index] = 1.0 / ((rank + 1) as f64).powf(0.9);
        }
        let areas: Vec<String> = organisation
            .regions
            .iter()
            .map(|r| r.code.to_string())
            .filter(|code| code.len() == 6 || code.len() == 12)
            .filter(|code| code != "990000")
            .collect();
        let city_departments: Vec<DepartmentKey> = organisation
            .departments
            .iter()
            .filter(|d| d.key.as_str().starts_with("city-"))
            .map(|d| d.key.clone())
            .collect();
        Ok(World {
            items,
            item_weights,
            elements: catalog.data_elements.clone(),
            clerks,
            staff,
            windows,
            supervisor: supervisor.context("the demo city has no supervisor")?,
            operator: operator.context("the demo city has no hotline operator")?,
            dispatcher: dispatcher.context("the demo city has no dispatcher")?,
            post: Actor {
                account: account("post-service")?,
                name: "邮政寄递".into(),
                kind: ActorKind::System,
                roles: Vec::new(),
                identifier: None,
                acting_for: None,
            },
            areas,
            city_departments,
            organisation,
        })
    }

    fn staff(&self, wanted: Role, department: &DepartmentKey) -> Option<&Actor> {
        self.staff.get(&(wanted, department.clone()))
    }

    fn region_of(&self, department: &DepartmentKey, hall: Option<&str>) -> String {
        if let Some(hall) = hall
            && let Some(found) = self
                .organisation
                .halls
                .iter()
                .find(|h| h.key.as_str() == hall)
        {
            return found.region.to_string();
        }
        self.organisation
            .departments
            .iter()
            .find(|d| &d.key == department)
            .map_or(String::new(), |d| d.region.to_string())
    }
}

/// A case being written: the case as it stands, the writes so far, the time of the last one.
struct Run {
    case: Case,
    writes: Vec<CaseWrite>,
    at: Timestamp,
    alive: bool,
}

/// The generator: day after day, the cases, ratings and tickets of that day.
#[derive(Debug)]
pub struct History<'w> {
    world: &'w World,
    calendar: &'w Calendar,
    policies: &'w Policies,
    elements: BTreeMap<&'w DataElementCode, &'w DataElement>,
    options: HistoryOptions,
    today: Date,
    rng: Rng,
    case_counters: HashMap<String, i64>,
    ticket_counters: HashMap<String, i64>,
    visit_counter: u64,
    recent_tickets: HashMap<String, Vec<String>>,
    disabled_items: Vec<bool>,
    pub stats: HistoryStats,
}

const SHANGHAI_OFFSET_HOURS: i8 = 8;

/// The instant of `minute` minutes after midnight of `date` in China Standard Time.
/// Minutes of the day when applications come in online (07:00–24:00) and at a hall
/// (08:30–17:30).
const ONLINE_HOURS: (i64, i64) = (7 * 60, 24 * 60);
const HALL_HOURS: (i64, i64) = (8 * 60 + 30, 17 * 60 + 30);

fn at(date: Date, minute: i64) -> Timestamp {
    let midnight = date
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(
            SHANGHAI_OFFSET_HOURS,
        )))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    midnight + SignedDuration::from_mins(minute)
}

impl<'w> History<'w> {
    pub fn new(
        world: &'w World,
        calendar: &'w Calendar,
        policies: &'w Policies,
        options: HistoryOptions,
    ) -> History<'w> {
        History {
            world,
            calendar,
            policies,
            elements: world.elements.iter().map(|e| (&e.code, e)).collect(),
            today: shanghai_date(options.now),
            rng: Rng::new(options.seed),
            case_counters: HashMap::new(),
            ticket_counters: HashMap::new(),
            visit_counter: 0,
            recent_tickets: HashMap::new(),
            disabled_items: vec![false; world.items.len()],
            options,
            stats: HistoryStats::default(),
        }
    }

    /// How many cases and tickets each day from [`history_start`] to today gets: weekdays more
    /// than weekends and holidays (the hotline less so), growing over the period; today only
    /// up to now. The totals are exactly the options' numbers.
    pub fn plan(&self) -> anyhow::Result<Vec<DayPlan>> {
        let start = history_start();
        if self.today < start {
            bail!(
                "the history starts on {start}; the clock says {}",
                self.today
            );
        }
        let mut days = Vec::new();
        let mut date = start;
        while date <= self.today {
            days.push(date);
            date = date.tomorrow()?;
        }
        let span = days.len().max(1) as f64;
        let now_minute = {
            let since = self.options.now.duration_since(at(self.today, 0));
            (since.as_secs() as f64 / 60.0).clamp(0.0, 1440.0)
        };
        let mut case_weights = Vec::with_capacity(days.len());
        let mut ticket_weights = Vec::with_capacity(days.len());
        for (index, day) in days.iter().enumerate() {
            let workday = self.calendar.is_workday(*day)?;
            let trend = 0.8 + 0.4 * index as f64 / span;
            let (case_part, ticket_part) = if *day == self.today {
                // The part of today's application hours (online from 07:00) gone by.
                let (open, close) = ONLINE_HOURS;
                let online = ((now_minute - open as f64) / (close - open) as f64).clamp(0.0, 1.0);
                (online, now_minute / 1440.0)
            } else {
                (1.0, 1.0)
            };
            case_weights.push(if workday { 1.0 } else { 0.08 } * trend * case_part);
            ticket_weights.push(if workday { 1.0 } else { 0.7 } * trend * ticket_part);
        }
        let cases = spread(self.options.cases, &case_weights);
        let tickets = spread(self.options.tickets, &ticket_weights);
        Ok(days
            .into_iter()
            .zip(cases.into_iter().zip(tickets))
            .map(|(date, (cases, tickets))| DayPlan {
                date,
                cases,
                tickets,
            })
            .collect())
    }

    /// Generates one day into `batch` and records the number counters it moved.
    pub fn day(&mut self, plan: DayPlan, batch: &mut SeedBatch) {
        for _ in 0..plan.cases {
            self.case(plan.date, batch);
        }
        for _ in 0..plan.tickets {
            self.ticket(plan.date, batch);
        }
        let day = plan.date.strftime("%Y%m%d").to_string();
        for (prefix, value) in &self.case_counters {
            if prefix.ends_with(&day) {
                batch.case_counters.insert(prefix.clone(), *value);
            }
        }
        for (prefix, value) in &self.ticket_counters {
            if prefix.ends_with(&day) {
                batch.ticket_counters.insert(prefix.clone(), *value);
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Time

    /// Uniform in `0..n`, as a day count.
    fn below_u32(&mut self, n: u64) -> u32 {
        u32::try_from(self.rng.below(n)).unwrap_or(0)
    }

    /// A time in office hours (09:00–17:00) on `date`.
    fn office_time(&mut self, date: Date) -> Timestamp {
        let minute = 9 * 60 + i64::try_from(self.rng.below(8 * 60)).unwrap_or(0);
        at(date, minute)
    }

    /// `working_days` working days after `from` (in office hours), or a little later the same
    /// day for 0; none when the calendar does not reach that far.
    fn after(&mut self, from: Timestamp, working_days: u32) -> Option<Timestamp> {
        if working_days == 0 {
            let minutes = 10 + i64::try_from(self.rng.below(110)).unwrap_or(0);
            return Some(from + SignedDuration::from_mins(minutes));
        }
        let date = self
            .calendar
            .add_working_days(shanghai_date(from), working_days)
            .ok()?;
        Some(self.office_time(date))
    }

    /// Natural days later, at a random time of day between 08:00 and 22:00.
    fn days_later(&mut self, from: Timestamp, days: i64) -> Timestamp {
        let date = shanghai_date(from)
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(shanghai_date(from));
        let minute = 8 * 60 + i64::try_from(self.rng.below(14 * 60)).unwrap_or(0);
        at(date, minute).max(from + SignedDuration::from_mins(5))
    }

    fn working_days_until(&self, from: Date, to: Date) -> u32 {
        self.calendar
            .working_days_between(from, to)
            .ok()
            .and_then(|days| u32::try_from(days.max(0)).ok())
            .unwrap_or(0)
    }

    // -----------------------------------------------------------------------------------------
    // People

    fn population(&self) -> u64 {
        (self.options.cases / 4).max(500)
    }

    fn person(&mut self) -> anyhow::Result<Applicant> {
        if self.rng.chance(0.001) {
            let persons: Vec<_> = self
                .world
                .organisation
                .persons
                .iter()
                .filter(|p| p.account.is_some())
                .collect();
            if let Some(person) = self.rng.pick(&persons) {
                return Ok(Applicant {
                    kind: ApplicantKind::Person,
                    name: person.name.clone(),
                    identifier: person.id_number.to_string(),
                    account: person.account.clone(),
                });
            }
        }
        let number = self.rng.below(self.population());
        Ok(Applicant {
            kind: ApplicantKind::Person,
            name: person_name(number),
            identifier: id_number(number)?,
            account: Some(account(&format!("seed-p{number}"))?),
        })
    }

    fn enterprise(&mut self) -> anyhow::Result<Applicant> {
        if self.rng.chance(0.001) {
            let enterprises: Vec<_> = self
                .world
                .organisation
                .enterprises
                .iter()
                .filter(|e| e.account.is_some())
                .collect();
            if let Some(enterprise) = self.rng.pick(&enterprises) {
                return Ok(Applicant {
                    kind: ApplicantKind::Enterprise,
                    name: enterprise.name.clone(),
                    identifier: enterprise.credit_code.to_string(),
                    account: enterprise.account.clone(),
                });
            }
        }
        let number = self.rng.below(self.population() / 8 + 1);
        Ok(Applicant {
            kind: ApplicantKind::Enterprise,
            name: format!("示范{}有限公司", SHOP_NAMES[(number % 16) as usize]),
            identifier: credit_code(number)?,
            account: Some(account(&format!("seed-e{number}"))?),
        })
    }

    fn applicant_actor(applicant: &Applicant) -> Option<Actor> {
        Some(Actor {
            account: applicant.account.clone()?,
            name: applicant.name.clone(),
            kind: match applicant.kind {
                ApplicantKind::Person => ActorKind::Person,
                ApplicantKind::Enterprise => ActorKind::Enterprise,
            },
            roles: Vec::new(),
            identifier: Some(applicant.identifier.clone()),
            acting_for: None,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Cases

    fn pick_item(&mut self) -> Option<usize> {
        for _ in 0..64 {
            let index = self.rng.weighted(&self.world.item_weights);
            if !self.disabled_items[index] {
                return Some(index);
            }
        }
        self.disabled_items.iter().position(|disabled| !disabled)
    }

    fn answers(&mut self, item: &ItemDefinition) -> Answers {
        let mut answers = Answers::new();
        // Follow-up questions depend on earlier answers: ask in order until nothing changes.
        for _ in 0..4 {
            for question in &item.questions {
                if answers.contains_key(&question.code) {
                    continue;
                }
                if question.when.as_ref().is_some_and(|c| !c.holds(&answers)) {
                    continue;
                }
                if let Some(option) = self.rng.pick(&question.options) {
                    answers.insert(question.code.clone(), option.code.clone());
                }
            }
        }
        answers
    }

    fn value(
        &mut self,
        element: &DataElement,
        applicant: &Applicant,
        day: Date,
    ) -> anyhow::Result<String> {
        let code = element.code.as_str();
        let text = match element.kind {
            ElementKind::Text | ElementKind::LongText => {
                if code.ends_with("name") {
                    applicant.name.clone()
                } else {
                    format!("示范{}", element.name)
                }
            }
            ElementKind::Address => "示范市东湖区市民大道100号".to_owned(),
            ElementKind::IdNumber => match applicant.kind {
                ApplicantKind::Person => applicant.identifier.clone(),
                ApplicantKind::Enterprise => id_number(self.rng.below(self.population()))?,
            },
            ElementKind::CreditCode => match applicant.kind {
                ApplicantKind::Enterprise => applicant.identifier.clone(),
                ApplicantKind::Person => credit_code(self.rng.below(1000))?,
            },
            ElementKind::Date => day
                .checked_sub(
                    jiff::Span::new().days(i64::try_from(self.rng.below(300)).unwrap_or(0)),
                )
                .unwrap_or(day)
                .to_string(),
            ElementKind::Phone => format!("139{:08}", self.rng.below(100_000_000)),
            ElementKind::RegionCode => "990102".to_owned(),
            ElementKind::Integer => (1 + self.rng.below(100)).to_string(),
            ElementKind::Money => format!("{}.00", 100 + self.rng.below(10_000)),
            ElementKind::Area => format!("{}.5", 20 + self.rng.below(200)),
            ElementKind::Choice => self.rng.pick(&element.options).cloned().unwrap_or_default(),
            ElementKind::Boolean => if self.rng.chance(0.5) {
                "true"
            } else {
                "false"
            }
            .to_owned(),
            ElementKind::Email => "applicant@example.com".to_owned(),
            ElementKind::PostalCode => "999001".to_owned(),
        };
        Ok(match element.max_length {
            Some(max) => text.chars().take(max as usize).collect(),
            None => text,
        })
    }

    fn material(
        code: &tongban_domain::keys::MaterialCode,
        name: &str,
        online: bool,
        id: uuid::Uuid,
    ) -> CaseMaterial {
        let provision = if online {
            Provision::Upload {
                object_key: format!("seed/{}/{code}.pdf", id.simple()),
                sha256: "0".repeat(64),
                size: 65_536,
                content_type: "application/pdf".into(),
                file_name: format!("{name}.pdf"),
            }
        } else {
            Provision::Paper
        };
        CaseMaterial {
            code: code.clone(),
            name: name.to_owned(),
            provision,
        }
    }

    /// Applies a command at `when` (not before the last action, never after now); on refusal
    /// the case stops where it is.
    fn act(&mut self, run: &mut Run, actor: &Actor, command: Command, when: Timestamp) -> bool {
        if !run.alive {
            return false;
        }
        let when = when.max(run.at + SignedDuration::from_secs(30));
        if when > self.options.now {
            run.alive = false;
            return false;
        }
        let mut command = command;
        let mut licence = None;
        if let Command::Issue { licence: minted } = &mut command
            && let Some(plan) = self
                .world
                .items
                .iter()
                .find(|p| p.item.implementation_code == run.case.item_code)
            && let Some(licence_type) = &plan.licence_type
            && let Some(issuer) = self
                .world
                .organisation
                .departments
                .iter()
                .find(|d| d.key == run.case.department)
        {
            match Licence::for_case(
                &run.case,
                licence_type,
                &issuer.credit_code,
                &issuer.name,
                shanghai_date(when),
                when,
            ) {
                Ok(new_licence) => {
                    *minted = Some(new_licence.identifier.clone());
                    licence = Some(new_licence);
                }
                Err(error) => {
                    *self.stats.refused.entry(error.to_string()).or_insert(0) += 1;
                    run.alive = false;
                    return false;
                }
            }
        }
        let context = Context {
            actor,
            now: when,
            calendar: self.calendar,
        };
        match apply(&run.case, &command, &context) {
            Ok(outcome) => {
                run.writes.push(CaseWrite {
                    audit: audit_for(actor, &outcome.case, command.name(), when),
                    case: Some(outcome.case.clone()),
                    events: outcome.events,
                    licence,
                    ..CaseWrite::default()
                });
                run.case = outcome.case;
                run.at = when;
                true
            }
            Err(error) => {
                let key = format!("{} {}", command.name(), error.code());
                *self.stats.refused.entry(key).or_insert(0) += 1;
                run.alive = false;
                false
            }
        }
    }

    /// One case submitted on `day`. An item that cannot take an application that day (a hall
    /// item at a weekend) or a time after now gives way to another draw.
    fn case(&mut self, day: Date, batch: &mut SeedBatch) {
        for _ in 0..32 {
            let Some(index) = self.pick_item() else {
                return;
            };
            match self.open(index, day) {
                Ok(Some(mut run)) => {
                    self.handle(index, &mut run);
                    let state = run.case.state.name();
                    *self.stats.states.entry(state).or_insert(0) += 1;
                    let ratings = self.rate_case(&run);
                    batch.ratings.extend(ratings);
                    batch.cases.push(SeedCase { writes: run.writes });
                    return;
                }
                Ok(None) => {}
                Err(error) => {
                    let code = self.world.items[index].item.implementation_code.to_string();
                    self.stats.skipped_items.insert(code, format!("{error:#}"));
                    self.disabled_items[index] = true;
                }
            }
        }
    }

    /// Opens a case of item `index` submitted on `day`; none when the submission would be
    /// after now.
    fn open(&mut self, index: usize, day: Date) -> anyhow::Result<Option<Run>> {
        let world = self.world;
        let plan = &world.items[index];
        let item = &plan.item;
        let workday = self.calendar.is_workday(day)?;
        let mut channels: Vec<(Channel, f64)> = plan.channels.clone();
        if !workday {
            // Halls are closed; only online applications come in.
            channels.retain(|(c, _)| matches!(c, Channel::Web | Channel::Mobile));
            if channels.is_empty() {
                return Ok(None);
            }
        }
        let weights: Vec<f64> = channels.iter().map(|(_, w)| *w).collect();
        let channel = channels[self.rng.weighted(&weights)].0;
        let at_hall = matches!(channel, Channel::Window | Channel::Kiosk);
        let (open, mut close) = if at_hall { HALL_HOURS } else { ONLINE_HOURS };
        if day == self.today {
            // Today only up to now (a time after now would be in the future).
            let since = self.options.now.duration_since(at(day, 0));
            close = close.min(since.as_secs().div_euclid(60));
        }
        if close <= open {
            return Ok(None);
        }
        let minute = open + i64::try_from(self.rng.below(u64::try_from(close - open)?))?;
        let submitted_at = at(day, minute);
        let applicant = match (plan.persons, plan.enterprises) {
            (true, true) if self.rng.chance(0.2) => self.enterprise()?,
            (true, _) => self.person()?,
            _ => self.enterprise()?,
        };
        let hall = self
            .rng
            .pick(&plan.halls)
            .cloned()
            .context("an item without a hall")?;
        let clerk = world
            .clerks
            .get(&hall)
            .context("a hall without a clerk")?
            .clone();
        let submitter = match channel {
            Channel::Window => clerk.clone(),
            _ => History::applicant_actor(&applicant).context("an applicant without an account")?,
        };
        let answers = self.answers(item);
        let id = new_id(submitted_at);
        let mut form = BTreeMap::new();
        for field in item.form_for(&answers) {
            if !field.required && self.rng.chance(0.5) {
                continue;
            }
            let Some(element) = self.elements.get(&field.element).copied() else {
                continue;
            };
            form.insert(field.element.clone(), self.value(element, &applicant, day)?);
        }
        let online = !matches!(channel, Channel::Window);
        let mut materials = Vec::new();
        for material in item.materials_for(&answers) {
            let needed = matches!(
                material.requirement,
                Requirement::Required | Requirement::Conditional
            );
            let fetched_by_office = !material.submission.is_empty()
                && material
                    .submission
                    .iter()
                    .all(|way| *way == SubmissionWay::SharedVerification);
            if !needed || fetched_by_office {
                continue;
            }
            let _ = Deferral::Tolerated;
            materials.push(History::material(
                &material.code,
                &material.name,
                online,
                id,
            ));
        }
        let delivery = if plan.post && self.rng.chance(0.3) {
            Delivery::Post {
                recipient: applicant.name.clone(),
                phone: format!("139{:08}", self.rng.below(100_000_000)),
                address: "示范市东湖区市民大道100号".into(),
                postage: tongban_domain::cases::delivery::Postage::for_item(item),
            }
        } else {
            Delivery::Collect {
                hall: hall.clone(),
                pickup_code: format!("{:06}", self.rng.below(1_000_000)),
            }
        };
        let application = Application {
            id,
            item,
            item_version: plan.version,
            workflow: &plan.workflow,
            elements: &self.elements,
            applicant,
            channel,
            hall: submitter.clerk_hall().cloned(),
            answers,
            form,
            materials,
            delivery,
        };
        let context = Context {
            actor: &submitter,
            now: submitted_at,
            calendar: self.calendar,
        };
        let outcome = open_case(application, &context).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut case = outcome.case;
        let prefix = format!("{}{}", case.item_code, day.strftime("%Y%m%d"));
        let counter = self.case_counters.entry(prefix.clone()).or_insert(0);
        *counter += 1;
        case.number = format!("{prefix}{:04}", *counter);
        let write = CaseWrite {
            audit: audit_for(&submitter, &case, "submit", submitted_at),
            case: Some(case.clone()),
            events: outcome.events,
            ..CaseWrite::default()
        };
        Ok(Some(Run {
            case,
            writes: vec![write],
            at: submitted_at,
            alive: true,
        }))
    }

    /// Moves a submitted case along until it ends or its next step would be after now.
    fn handle(&mut self, index: usize, run: &mut Run) {
        let world = self.world;
        let plan = &world.items[index];
        let hall = match &run.case.delivery {
            Delivery::Collect { hall, .. } => hall.clone(),
            Delivery::Post { .. } => run
                .case
                .hall
                .clone()
                .unwrap_or_else(|| plan.halls[0].clone()),
        };
        let Some(clerk) = world
            .clerks
            .get(&run.case.hall.clone().unwrap_or(hall.clone()))
            .cloned()
        else {
            return;
        };
        let online = !matches!(run.case.channel, Channel::Window | Channel::Kiosk);
        let applicant_actor = History::applicant_actor(&run.case.applicant);
        // Before acceptance: online pre-review, a correction notice, a refusal, a withdrawal.
        let mut when = if online {
            {
                let days = u32::from(self.rng.chance(0.6));
                self.after(run.at, days)
            }
        } else {
            Some(
                run.at
                    + SignedDuration::from_mins(5 + i64::try_from(self.rng.below(20)).unwrap_or(0)),
            )
        };
        if online && self.rng.chance(0.5) {
            let Some(t) = when else { return };
            self.act(run, &clerk, Command::PreApprove, t);
            when = self.after(run.at, 0);
        }
        let roll = self.rng.unit();
        if roll < 0.015 {
            let Some(t) = when else { return };
            let reason = "申请事项不属于本机关职权范围".to_owned();
            self.act(run, &clerk, Command::Reject { reason }, t);
            return;
        }
        if roll < 0.025 {
            if let (Some(t), Some(applicant)) = (when, &applicant_actor) {
                let t = self.days_later(t, 1);
                self.act(
                    run,
                    applicant,
                    Command::Withdraw {
                        reason: "不再办理".into(),
                    },
                    t,
                );
            }
            return;
        }
        if roll < 0.085 {
            let Some(t) = when else { return };
            if !self.correct(run, &clerk, &clerk, applicant_actor.as_ref(), t, online) {
                return;
            }
            when = self.after(run.at, 0);
        }
        let Some(t) = when else { return };
        let accepted = self.act(
            run,
            &clerk,
            Command::Accept {
                tolerated: Vec::new(),
            },
            t,
        );
        if !accepted {
            return;
        }
        self.work(run, &clerk, applicant_actor.as_ref(), online);
        if !run.alive {
            return;
        }
        // After a grant: the result is issued, then collected or posted.
        if run.case.state == (CaseState::Decided { granted: true }) {
            let department = run.case.department.clone();
            let issuer = world
                .staff(Role::ChiefRepresentative, &department)
                .cloned()
                .unwrap_or_else(|| clerk.clone());
            let days = u32::from(self.rng.chance(0.3));
            let Some(t) = self.after(run.at, days) else {
                return;
            };
            if !self.act(run, &issuer, Command::Issue { licence: None }, t) {
                return;
            }
            match run.case.delivery.clone() {
                // Handed out at a window against the applicant's pickup code, within a week.
                Delivery::Collect { hall, pickup_code } => {
                    let deliverer = world.clerks.get(&hall).cloned().unwrap_or(clerk);
                    let days = u32::try_from(self.rng.below(8)).unwrap_or(0);
                    if let Some(t) = self.after(run.at, days) {
                        self.act(run, &deliverer, Command::Collect { pickup_code }, t);
                    }
                }
                // Posted the same day or the next, signed for a day or two later.
                Delivery::Post { .. } => {
                    let tracking_number = format!("SF{:013}", self.rng.below(10_000_000_000_000));
                    let ship = Command::Ship {
                        carrier: tongban_domain::cases::delivery::Carrier::Sf,
                        tracking_number,
                    };
                    let days = u32::from(self.rng.chance(0.5));
                    let shipped = self
                        .after(run.at, days)
                        .is_some_and(|t| self.act(run, &clerk, ship, t));
                    let days = 1 + u32::from(self.rng.chance(0.5));
                    if shipped && let Some(t) = self.after(run.at, days) {
                        let signed = Command::Track {
                            status: tongban_domain::cases::delivery::ShipmentStatus::Signed,
                            at: t,
                            place: "示范市".into(),
                            note: String::new(),
                        };
                        self.act(run, &world.post.clone(), signed, t);
                    }
                }
            }
        }
    }

    /// A correction notice (补正), answered (mostly) a few days later: online by the applicant,
    /// at a hall through a clerk.
    fn correct(
        &mut self,
        run: &mut Run,
        requester: &Actor,
        clerk: &Actor,
        applicant: Option<&Actor>,
        when: Timestamp,
        online: bool,
    ) -> bool {
        let Some(first) = run.case.materials.first() else {
            return true;
        };
        let material = first.clone();
        let items = vec![CorrectionItem {
            material: material.code.clone(),
            problem: "材料不清晰,请重新提交".into(),
        }];
        if !self.act(run, requester, Command::RequestCorrection { items }, when) {
            return false;
        }
        if self.rng.chance(0.08) {
            if let Some(applicant) = applicant {
                let t = self.days_later(run.at, 3);
                self.act(
                    run,
                    applicant,
                    Command::Withdraw {
                        reason: "材料无法补齐".into(),
                    },
                    t,
                );
            }
            run.alive = false;
            return false;
        }
        let days = 1 + u32::try_from(self.rng.below(5)).unwrap_or(0);
        let Some(t) = self.after(run.at, days) else {
            run.alive = false;
            return false;
        };
        // Online applicants answer online; at a hall a clerk takes the new papers.
        let resubmitter = match (online, applicant) {
            (true, Some(applicant)) => applicant.clone(),
            _ => clerk.clone(),
        };
        let replacement = History::material(&material.code, &material.name, online, run.case.id);
        self.act(
            run,
            &resubmitter,
            Command::Resubmit {
                materials: vec![replacement],
            },
            t,
        )
    }

    /// After acceptance: the workflow's steps up to the decision, with the odd correction,
    /// special procedure, extension, transfer or withdrawal; mostly on time.
    fn work(&mut self, run: &mut Run, clerk: &Actor, applicant: Option<&Actor>, online: bool) {
        let world = self.world;
        let department = run.case.department.clone();
        let Some(approver) = world.staff(Role::Approver, &department).cloned() else {
            run.alive = false;
            return;
        };
        let Some(chief) = world.staff(Role::ChiefRepresentative, &department).cloned() else {
            run.alive = false;
            return;
        };
        let immediate =
            run.case.workflow.steps.len() == 1 && run.case.workflow.steps[0].role == Role::Clerk;
        if !immediate {
            let roll = self.rng.unit();
            if roll < 0.03 {
                // A correction during handling: the clock stops until the answer.
                if let Some((_, step)) = run.case.current_step()
                    && step.kind == StepKind::Review
                {
                    let actor = world
                        .staff(step.role, &department)
                        .cloned()
                        .unwrap_or(approver.clone());
                    if let Some(t) = self.after(run.at, 1)
                        && !self.correct(run, &actor, clerk, applicant, t, online)
                    {
                        return;
                    }
                }
            } else if roll < 0.05 {
                // 特别程序 (an expert review, a site inspection): the clock pauses.
                if let Some(t) = self.after(run.at, 1) {
                    let procedure = if self.rng.chance(0.5) {
                        "专家评审"
                    } else {
                        "现场勘验"
                    };
                    let command = Command::Suspend {
                        procedure: procedure.into(),
                        reason: "需组织专家评审或现场核查".into(),
                    };
                    if self.act(run, &approver, command, t) {
                        let days = 3 + u32::try_from(self.rng.below(12)).unwrap_or(0);
                        match self.after(run.at, days) {
                            Some(t) => {
                                self.act(run, &approver, Command::Resume, t);
                            }
                            None => run.alive = false,
                        }
                    }
                }
            } else if roll < 0.06 {
                if let Some(t) = self.after(run.at, 1) {
                    let days = 5 + u32::try_from(self.rng.below(6)).unwrap_or(0);
                    let command = Command::Extend {
                        days,
                        reason: "情况复杂,需延长办理期限".into(),
                    };
                    self.act(run, &chief, command, t);
                }
            } else if roll < 0.063 {
                if let Some(target) = self.rng.pick(&world.city_departments).cloned()
                    && target != department
                    && let Some(t) = self.after(run.at, 0)
                {
                    let command = Command::Transfer {
                        department: target,
                        reason: "属其他部门职责".into(),
                    };
                    self.act(run, &chief, command, t);
                }
            } else if roll < 0.068
                && let Some(applicant) = applicant
                && let Some(t) = self.after(run.at, 1)
            {
                self.act(
                    run,
                    applicant,
                    Command::Withdraw {
                        reason: "不再需要".into(),
                    },
                    t,
                );
                return;
            }
        }
        if !run.alive {
            return;
        }
        // The decision day: within the promised date for most, a little or much later for some.
        let department = run.case.department.clone();
        let started = shanghai_date(run.at);
        let due = run.case.promised_due.unwrap_or(started);
        let room = self.working_days_until(started, due);
        let roll = self.rng.unit();
        let total = if immediate {
            0
        } else if roll < 0.93 {
            u32::try_from(self.rng.below(u64::from(room) + 1)).unwrap_or(0)
        } else if roll < 0.99 {
            room + 1 + u32::try_from(self.rng.below(5)).unwrap_or(0)
        } else {
            room + 6 + u32::try_from(self.rng.below(15)).unwrap_or(0)
        };
        let steps = run.case.workflow.steps.len().max(1);
        let from = run.at;
        let mut done = 0_u32;
        let mut guard = 0;
        while let Some((index, step)) = run.case.current_step() {
            guard += 1;
            if guard > 32 || !run.alive {
                return;
            }
            let step = step.clone();
            let share = u32::try_from((index + 1) * total as usize / steps).unwrap_or(total);
            let days = share.saturating_sub(done);
            let when = if days == 0 {
                self.after(run.at, 0)
            } else {
                self.after(from, share)
            };
            done = share.max(done);
            let Some(when) = when else {
                run.alive = false;
                return;
            };
            let actor = if step.role == Role::Clerk {
                clerk.clone()
            } else {
                match world.staff(step.role, &department) {
                    Some(actor) => actor.clone(),
                    None => {
                        run.alive = false;
                        return;
                    }
                }
            };
            match &step.kind {
                StepKind::Review => {
                    let opinion = "同意".to_owned();
                    self.act(run, &actor, Command::Approve { opinion }, when);
                }
                StepKind::Countersign { departments, .. } => {
                    let signers = if !departments.is_empty() {
                        departments.clone()
                    } else if !run.case.co_departments.is_empty() {
                        run.case.co_departments.clone()
                    } else {
                        vec![department.clone()]
                    };
                    for signer in signers {
                        if !matches!(run.case.state, CaseState::InProgress { step } if step == index)
                        {
                            break;
                        }
                        let Some(voter) = world.staff(step.role, &signer).cloned() else {
                            run.alive = false;
                            return;
                        };
                        let command = Command::Countersign {
                            pass: true,
                            opinion: "无意见".into(),
                            department: Some(signer.clone()),
                        };
                        if !self.act(run, &voter, command, when) {
                            return;
                        }
                    }
                }
                StepKind::Decision => {
                    let granted = !self.rng.chance(0.04);
                    let opinion = if granted {
                        "材料齐全,符合法定条件,准予许可".to_owned()
                    } else {
                        "不符合法定条件,不予许可".to_owned()
                    };
                    self.act(run, &actor, Command::Decide { granted, opinion }, when);
                    return;
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Ratings

    fn level(&mut self, late: bool, refused: bool) -> RatingLevel {
        let weights: [f64; 5] = if refused {
            [0.30, 0.25, 0.20, 0.15, 0.10]
        } else if late {
            [0.35, 0.30, 0.17, 0.11, 0.07]
        } else {
            [0.66, 0.25, 0.055, 0.022, 0.013]
        };
        RatingLevel::ALL[self.rng.weighted(&weights)]
    }

    fn rating_channel(&mut self, online: bool) -> RatingChannel {
        if online {
            if self.rng.chance(0.4) {
                RatingChannel::Pc
            } else {
                RatingChannel::Mobile
            }
        } else {
            let options = [
                RatingChannel::HallTablet,
                RatingChannel::QrCode,
                RatingChannel::HallTerminal,
                RatingChannel::Sms,
                RatingChannel::Phone,
            ];
            options[self.rng.weighted(&[0.5, 0.25, 0.1, 0.1, 0.05])]
        }
    }

    /// The ratings of a case: a visit rating at the window (一次一评) for some window
    /// applications, a case rating (一事一评) after the decision for 40% of decided cases.
    fn rate_case(&mut self, run: &Run) -> Vec<SeedRating> {
        let mut out = Vec::new();
        let case = &run.case;
        let world = self.world;
        let online = !matches!(case.channel, Channel::Window | Channel::Kiosk);
        let rater = case.applicant.account.as_ref().map_or_else(
            || format!("seed-{}", &case.applicant.identifier[..6]),
            ToString::to_string,
        );
        if !online
            && self.rng.chance(0.3)
            && let Some(hall) = &case.hall
            && let Some(windows) = world.windows.get(hall)
            && let Some(window) = self.rng.pick(windows).cloned()
        {
            self.visit_counter += 1;
            let rated_at = case.submitted_at + SignedDuration::from_mins(20);
            if rated_at <= self.options.now {
                let level = self.level(false, false);
                let rating = Rating {
                    id: new_id(rated_at),
                    kind: RatedKind::Visit,
                    subject: format!("{hall}/V{}", self.visit_counter),
                    round: RatingRound::First,
                    level,
                    channel: RatingChannel::HallTablet,
                    text: None,
                    anonymous: self.rng.chance(0.3),
                    rater: rater.clone(),
                    department: case.department.clone(),
                    region: world.region_of(&case.department, Some(hall.as_str())),
                    hall: Some(hall.to_string()),
                    window: Some(window),
                    item_code: None,
                    at: rated_at,
                };
                out.extend(self.with_task(rating));
            }
        }
        let decided_at = case.decision.as_ref().map(|d| d.at);
        let rateable_at = match (&case.state, decided_at) {
            (CaseState::Rejected, _) => case.closed_at,
            (CaseState::Decided { .. } | CaseState::Issued | CaseState::Delivered, Some(at)) => {
                Some(at)
            }
            _ => None,
        };
        let Some(rateable_at) = rateable_at else {
            return out;
        };
        if !self.rng.chance(0.4) {
            return out;
        }
        let rated_at = {
            let days = i64::from(self.below_u32(4));
            self.days_later(rateable_at, days)
        };
        if rated_at > self.options.now {
            return out;
        }
        let late = match (decided_at, case.promised_due) {
            (Some(at), Some(due)) => shanghai_date(at) > due,
            _ => false,
        };
        let refused = matches!(
            case.state,
            CaseState::Rejected | CaseState::Decided { granted: false }
        );
        let level = self.level(late, refused);
        let hall = case.hall.as_ref().map(|h| h.as_str().to_owned());
        let rating = Rating {
            id: new_id(rated_at),
            kind: RatedKind::Case,
            subject: case.number.clone(),
            round: RatingRound::First,
            level,
            channel: self.rating_channel(online),
            text: level
                .is_bad()
                .then(|| "办理时间太长,窗口解释不清楚".to_owned()),
            anonymous: self.rng.chance(0.2),
            rater,
            department: case.department.clone(),
            region: world.region_of(&case.department, hall.as_deref()),
            hall,
            window: None,
            item_code: Some(case.item_code.to_string()),
            at: rated_at,
        };
        out.extend(self.with_task(rating));
        out
    }

    /// The rating, the task a bad first rating opens with what happened to it, and a second
    /// rating after some settled tasks.
    fn with_task(&mut self, rating: Rating) -> Vec<SeedRating> {
        self.stats.ratings += 1;
        if rating.level.is_bad() {
            self.stats.bad_ratings += 1;
        }
        let opened = Rectification::open_for(
            &rating,
            new_id(rating.at),
            self.policies.rectification,
            self.calendar,
            shanghai_date(rating.at),
        );
        let task = match opened {
            Ok(task) => task,
            Err(error) => {
                // The live service refuses such a rating; so does the history.
                *self
                    .stats
                    .refused
                    .entry(error.code().to_owned())
                    .or_insert(0) += 1;
                self.stats.ratings -= 1;
                return Vec::new();
            }
        };
        let Some(task) = task else {
            return vec![SeedRating {
                rating,
                task: Vec::new(),
            }];
        };
        self.stats.rectifications += 1;
        let versions = self.rectify(task);
        let settled_at = versions
            .last()
            .filter(|t| t.state == RectificationState::Closed)
            .and_then(|t| t.closed_at);
        let mut out = vec![SeedRating {
            rating: rating.clone(),
            task: versions,
        }];
        if let Some(settled_at) = settled_at
            && !rating.anonymous
            && self.rng.chance(0.3)
        {
            let at = {
                let days = 1 + i64::from(self.below_u32(5));
                self.days_later(settled_at, days)
            };
            if at <= self.options.now {
                let level = RatingLevel::ALL[self.rng.weighted(&[0.35, 0.35, 0.2, 0.06, 0.04])];
                self.stats.ratings += 1;
                if level.is_bad() {
                    self.stats.bad_ratings += 1;
                }
                out.push(SeedRating {
                    rating: Rating {
                        id: new_id(at),
                        round: RatingRound::Second,
                        level,
                        text: None,
                        at,
                        ..rating
                    },
                    task: Vec::new(),
                });
            }
        }
        out
    }

    /// What the office does with a task: rectify (mostly in time), or appeal; then the
    /// callback to a named rater. Every saved version is kept.
    fn rectify(&mut self, task: Rectification) -> Vec<Rectification> {
        let mut versions = vec![task.clone()];
        let mut task = task;
        let world = self.world;
        let office = world
            .staff(Role::ChiefRepresentative, &task.department)
            .map_or_else(|| "office".to_owned(), |a| a.account.to_string());
        let supervisor = world.supervisor.account.to_string();
        let mut step = |history: &mut History<'_>,
                        task: &mut Rectification,
                        action: RectificationAction,
                        actor: &str,
                        when: Option<Timestamp>|
         -> bool {
            let Some(when) = when else { return false };
            if when > history.options.now {
                return false;
            }
            match task.apply(action, actor, when) {
                Ok(()) => {
                    versions.push(task.clone());
                    true
                }
                Err(error) => {
                    *history
                        .stats
                        .refused
                        .entry(error.code().to_owned())
                        .or_insert(0) += 1;
                    false
                }
            }
        };
        let mut last = task.opened_at;
        if self.rng.chance(0.06) {
            let when = {
                let days = 1 + self.below_u32(3);
                self.after(last, days)
            };
            let appeal = RectificationAction::Appeal {
                reason: "评价内容与事实不符,申请复核".into(),
            };
            if !step(self, &mut task, appeal, &office, when) {
                return versions;
            }
            last = when.unwrap_or(last);
            let when = {
                let days = 2 + self.below_u32(4);
                self.after(last, days)
            };
            let upheld = self.rng.chance(0.5);
            let review = RectificationAction::Review {
                upheld,
                note: if upheld {
                    "申诉成立"
                } else {
                    "申诉不成立,请整改"
                }
                .into(),
            };
            if !step(self, &mut task, review, &supervisor, when) {
                return versions;
            }
            last = when.unwrap_or(last);
            if upheld {
                return versions;
            }
        }
        let room = self
            .working_days_until(shanghai_date(last), task.due_on)
            .max(1);
        let days = if self.rng.chance(0.9) {
            1 + u32::try_from(self.rng.below(u64::from(room))).unwrap_or(0)
        } else {
            room + 1 + u32::try_from(self.rng.below(10)).unwrap_or(0)
        };
        let when = self.after(last, days);
        let rectify = RectificationAction::Rectify {
            measures: "已约谈窗口人员并优化办理流程".into(),
        };
        if !step(self, &mut task, rectify, &office, when) {
            return versions;
        }
        last = when.unwrap_or(last);
        if task.state != RectificationState::Rectified {
            return versions;
        }
        if self.rng.chance(0.08) {
            let when = self.after(last, 1);
            let missed = RectificationAction::CallBack(Callback {
                reached: false,
                satisfied: false,
                note: "无人接听".into(),
            });
            if !step(self, &mut task, missed, &supervisor, when) {
                return versions;
            }
            last = when.unwrap_or(last);
        }
        let when = {
            let days = 1 + self.below_u32(2);
            self.after(last, days)
        };
        let satisfied = self.rng.chance(0.85);
        let callback = RectificationAction::CallBack(Callback {
            reached: true,
            satisfied,
            note: if satisfied {
                "认可整改结果"
            } else {
                "对整改结果仍有意见"
            }
            .into(),
        });
        step(self, &mut task, callback, &supervisor, when);
        versions
    }

    // -----------------------------------------------------------------------------------------
    // Tickets

    fn ticket(&mut self, day: Date, batch: &mut SeedBatch) {
        let world = self.world;
        let policies = self.policies;
        let minute = i64::try_from(self.rng.below(24 * 60)).unwrap_or(0);
        // Most calls come in the daytime.
        let minute = if minute < 7 * 60 && self.rng.chance(0.7) {
            minute + 9 * 60
        } else {
            minute
        };
        let received_at = at(day, minute);
        if received_at > self.options.now {
            return;
        }
        let kind = TicketType::ALL[self.rng.weighted(&[0.35, 0.15, 0.25, 0.05, 0.15, 0.05])];
        let urgency = Urgency::ALL[self.rng.weighted(&[0.9, 0.08, 0.02])];
        let channel = TicketChannel::ALL[self.rng.weighted(&[0.6, 0.12, 0.15, 0.02, 0.1, 0.01])];
        let categories = &policies.routing.categories;
        let Some(category) = self.rng.pick(categories).map(|c| c.code.clone()) else {
            return;
        };
        let Some(area) = self.rng.pick(&world.areas).cloned() else {
            return;
        };
        let citizen = matches!(channel, TicketChannel::Web | TicketChannel::App);
        let caller = self.rng.below(self.population());
        let intake = TicketIntake {
            channel,
            kind,
            category: category.clone(),
            area: area.clone(),
            location: "示范市东湖区".into(),
            urgency,
            description: format!("{}:关于{}的诉求", kind.label_zh(), category),
            attachments: Vec::new(),
            confidential: self.rng.chance(0.1),
            caller_name: person_name(caller),
            caller_phone: format!("139{:08}", self.rng.below(100_000_000)),
            caller_account: citizen.then(|| format!("seed-p{caller}")),
            linked_items: Vec::new(),
        };
        let registrar = if citizen {
            format!("seed-p{caller}")
        } else {
            world.operator.account.to_string()
        };
        let ticket = match Ticket::register(
            new_id(received_at),
            intake,
            &policies.routing,
            &registrar,
            received_at,
        ) {
            Ok(ticket) => ticket,
            Err(error) => {
                *self
                    .stats
                    .refused
                    .entry(error.code().to_owned())
                    .or_insert(0) += 1;
                return;
            }
        };
        let mut ticket = ticket;
        let prefix = format!("RX{}", day.strftime("%Y%m%d"));
        let counter = self.ticket_counters.entry(prefix.clone()).or_insert(0);
        *counter += 1;
        ticket.number = format!("{prefix}{:04}", *counter);
        let versions = self.ticket_story(ticket, &category);
        self.stats.tickets += 1;
        let recent = self.recent_tickets.entry(category).or_default();
        if let Some(first) = versions.first() {
            recent.push(first.number.clone());
            if recent.len() > 32 {
                recent.remove(0);
            }
        }
        batch.tickets.push(SeedTicket { versions });
    }

    fn ticket_story(&mut self, ticket: Ticket, category: &str) -> Vec<Ticket> {
        let world = self.world;
        let policies = self.policies;
        let calendar = self.calendar;
        let now = self.options.now;
        let mut versions = vec![ticket.clone()];
        let mut ticket = ticket;
        let dispatcher = world.dispatcher.account.to_string();
        let operator = world.operator.account.to_string();
        let supervisor = world.supervisor.account.to_string();
        let mut last = ticket.received_at;
        let mut step = |history: &mut History<'_>,
                        ticket: &mut Ticket,
                        action: TicketAction,
                        actor: &str,
                        when: Option<Timestamp>,
                        last: &mut Timestamp|
         -> bool {
            let Some(when) = when else { return false };
            let when = when.max(*last + SignedDuration::from_secs(30));
            if when > now {
                return false;
            }
            let context = TicketContext {
                calendar,
                policy: &policies.deadlines,
                today: shanghai_date(when),
            };
            match ticket.apply(action, context, actor, when) {
                Ok(()) => {
                    versions.push(ticket.clone());
                    *last = when;
                    true
                }
                Err(error) => {
                    *history
                        .stats
                        .refused
                        .entry(error.code().to_owned())
                        .or_insert(0) += 1;
                    false
                }
            }
        };
        // A duplicate of a recent ticket is merged into it.
        if self.rng.chance(0.01)
            && let Some(earlier) = self
                .recent_tickets
                .get(category)
                .and_then(|numbers| numbers.last())
                .cloned()
        {
            let when = Some(last + SignedDuration::from_mins(20));
            step(
                self,
                &mut ticket,
                TicketAction::MergeInto { number: earlier },
                &dispatcher,
                when,
                &mut last,
            );
            return versions;
        }
        let handler_of = |department: &DepartmentKey| {
            world
                .staff(Role::Approver, department)
                .map_or_else(|| department.to_string(), |a| a.account.to_string())
        };
        if ticket.intake.kind == TicketType::Consultation && self.rng.chance(0.3) {
            let when = Some(
                last + SignedDuration::from_mins(
                    3 + i64::try_from(self.rng.below(20)).unwrap_or(0),
                ),
            );
            let answer = TicketAction::AnswerAtIntake {
                answer: "已按办事指南当场解答".into(),
            };
            if !step(self, &mut ticket, answer, &operator, when, &mut last) {
                return versions;
            }
        } else {
            let routed = policies
                .routing
                .route(&ticket.intake.category, &ticket.intake.area)
                .cloned();
            let Some(mut department) =
                routed.or_else(|| self.rng.pick(&world.city_departments).cloned())
            else {
                return versions;
            };
            let delay = if ticket.intake.urgency == Urgency::Emergency {
                10
            } else {
                30 + i64::try_from(self.rng.below(150)).unwrap_or(0)
            };
            let mut when = Some(last + SignedDuration::from_mins(delay));
            let co_handlers = if self.rng.chance(0.05) {
                self.rng
                    .pick(&world.city_departments)
                    .filter(|d| **d != department)
                    .cloned()
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            let dispatch = TicketAction::Dispatch {
                department: department.clone(),
                co_handlers,
            };
            if !step(self, &mut ticket, dispatch, &dispatcher, when, &mut last) {
                return versions;
            }
            if self.rng.chance(0.03) {
                // 退单: the department says it is not theirs.
                when = self.after(last, 1);
                let request = TicketAction::RequestReturn {
                    reason: "不属于本单位职责范围".into(),
                };
                if !step(
                    self,
                    &mut ticket,
                    request,
                    &handler_of(&department),
                    when,
                    &mut last,
                ) {
                    return versions;
                }
                when = self.after(last, 0);
                let approved = self.rng.chance(0.6);
                let decide = TicketAction::DecideReturn {
                    approved,
                    note: if approved {
                        "同意退回,改派"
                    } else {
                        "请继续办理"
                    }
                    .into(),
                };
                if !step(self, &mut ticket, decide, &dispatcher, when, &mut last) {
                    return versions;
                }
                if approved {
                    let Some(other) = self
                        .rng
                        .pick(&world.city_departments)
                        .filter(|d| **d != department)
                        .cloned()
                    else {
                        return versions;
                    };
                    department = other;
                    when = self.after(last, 0);
                    let dispatch = TicketAction::Dispatch {
                        department: department.clone(),
                        co_handlers: Vec::new(),
                    };
                    if !step(self, &mut ticket, dispatch, &dispatcher, when, &mut last) {
                        return versions;
                    }
                }
            }
            let handler = handler_of(&department);
            if self.rng.chance(0.04) {
                when = self.after(last, 1);
                let days = 3 + u32::try_from(self.rng.below(5)).unwrap_or(0);
                let request = TicketAction::RequestExtension {
                    days: days.min(policies.deadlines.max_extension_days.max(1)),
                    reason: "需协调多个部门".into(),
                };
                if step(self, &mut ticket, request, &handler, when, &mut last) {
                    when = self.after(last, 0);
                    let approved = self.rng.chance(0.8);
                    step(
                        self,
                        &mut ticket,
                        TicketAction::DecideExtension { approved },
                        &dispatcher,
                        when,
                        &mut last,
                    );
                }
            }
            // The reply: mostly before the deadline.
            let due = ticket.due_on.unwrap_or(shanghai_date(last));
            let room = self.working_days_until(shanghai_date(last), due);
            let on_time = self.rng.chance(0.9);
            let days = if on_time {
                u32::try_from(self.rng.below(u64::from(room) + 1)).unwrap_or(0)
            } else {
                room + 1 + u32::try_from(self.rng.below(5)).unwrap_or(0)
            };
            if days > 1 && self.rng.chance(0.1) {
                let remind = TicketAction::Remind {
                    note: "请抓紧办理".into(),
                };
                let when = self.after(last, days - 1);
                step(self, &mut ticket, remind, &dispatcher, when, &mut last);
            }
            if !on_time && self.rng.chance(0.3) {
                let supervise = TicketAction::Supervise {
                    note: "超期督办".into(),
                };
                let when = self.after(last, 0);
                step(self, &mut ticket, supervise, &supervisor, when, &mut last);
            }
            let when = if days == 0 {
                self.after(last, 0)
            } else {
                self.after(ticket.dispatched_at.unwrap_or(last), days)
            };
            let reply = TicketAction::Reply {
                text: "已现场核实并处理,处理结果已告知来电人".into(),
            };
            if !step(self, &mut ticket, reply, &handler, when, &mut last) {
                return versions;
            }
        }
        // Callbacks: the next day; an unhappy one reopens the ticket once or twice.
        for round in 0..3 {
            if ticket.state != TicketState::Replied || self.rng.chance(0.05) {
                break;
            }
            let when = Some(self.days_later(last, 1));
            let satisfaction = Satisfaction::ALL[self.rng.weighted(&if round == 0 {
                [0.78, 0.14, 0.08]
            } else {
                [0.6, 0.3, 0.1]
            })];
            let resolved = self.rng.chance(if round == 0 { 0.93 } else { 0.97 });
            let callback = TicketAction::CallBack(TicketCallback {
                satisfaction,
                resolved,
                note: String::new(),
            });
            if !step(self, &mut ticket, callback, &operator, when, &mut last) {
                break;
            }
            if ticket.state == TicketState::Dispatched {
                let department = ticket.department.clone();
                let Some(department) = department else { break };
                let due = ticket.due_on.unwrap_or(shanghai_date(last));
                let room = self.working_days_until(shanghai_date(last), due);
                let days = u32::try_from(self.rng.below(u64::from(room) + 1)).unwrap_or(0);
                let when = self.after(last, days);
                let reply = TicketAction::Reply {
                    text: "已重新办理并答复".into(),
                };
                if !step(
                    self,
                    &mut ticket,
                    reply,
                    &handler_of(&department),
                    when,
                    &mut last,
                ) {
                    break;
                }
            }
        }
        versions
    }
}

/// `total` spread over days in proportion to `weights`, exactly (largest remainders by
/// running sums).
fn spread(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut out = Vec::with_capacity(weights.len());
    let mut running = 0.0;
    let mut given = 0_u64;
    for weight in weights {
        running += weight;
        let target = ((running / sum) * total as f64).round() as u64;
        let target = target.min(total);
        out.push(target.saturating_sub(given));
        given = given.max(target);
    }
    if let Some(last) = out.last_mut() {
        *last += total.saturating_sub(given);
    }
    out
}

const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN_NAMES: [&str; 16] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
];
const SHOP_NAMES: [&str; 16] = [
    "东湖", "西山", "青石", "云溪", "松林", "湖滨", "山前", "柳岸", "石桥", "溪口", "湖心", "新城",
    "海岸", "南山", "北湖", "中心",
];

fn person_name(number: u64) -> String {
    let surname = SURNAMES[(number % 16) as usize];
    let given = GIVEN_NAMES[((number / 16) % 16) as usize];
    let second = GIVEN_NAMES[((number / 256) % 16) as usize];
    format!("{surname}{given}{second}")
}

/// A fictional but valid resident ID number (region 99…, which names no real place).
fn id_number(number: u64) -> anyhow::Result<String> {
    let regions = ["990102", "990103", "990100"];
    let region = regions[(number % 3) as usize];
    let birth = jiff::civil::date(1950, 1, 1)
        .checked_add(jiff::Span::new().days(i64::try_from(number % 25_000).unwrap_or(0)))?;
    let first17 = format!(
        "{region}{}{:03}",
        birth.strftime("%Y%m%d"),
        (number / 25_000) % 1000
    );
    let check = id_number_check_char(&first17).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!("{first17}{check}"))
}

/// A fictional but valid unified social credit code (region 990100).
fn credit_code(number: u64) -> anyhow::Result<String> {
    let first17 = format!("91990100{:09}", 100_000_000 + number % 900_000_000);
    let check = credit_code_check_char(&first17).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!("{first17}{check}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_hands_out_exactly_the_total_in_proportion() {
        let days = spread(10, &[1.0, 1.0, 0.0, 2.0]);
        assert_eq!(days.iter().sum::<u64>(), 10);
        assert_eq!(days[2], 0);
        assert!(days[3] >= 4, "{days:?}");
        assert_eq!(spread(0, &[1.0]), vec![0]);
    }

    #[test]
    fn generated_identifiers_are_valid() {
        for number in [0, 1, 4_999, 123_456, 999_999] {
            let id = id_number(number).unwrap();
            assert!(tongban_domain::ids::IdNumber::parse(&id).is_ok(), "{id}");
            let code = credit_code(number).unwrap();
            assert!(
                tongban_domain::ids::CreditCode::parse(&code).is_ok(),
                "{code}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let draws_a: Vec<u64> = (0..5).map(|_| a.below(1000)).collect();
        let draws_b: Vec<u64> = (0..5).map(|_| b.below(1000)).collect();
        assert_eq!(draws_a, draws_b);
        assert_ne!(Rng::new(8).next_u64(), Rng::new(7).next_u64());
    }
}
