//! Agents (帮办代办, SPEC C5): people who act for citizens and enterprises under a recorded
//! mandate (委托), and visit elderly and disabled people at home (上门服务).
//!
//! - [`Agent`]: an agent's registration in the network of the district (区), street (街道) and
//!   community (社区/村) levels, with the area they serve, the hall they work from and whether
//!   they are active. [`coverage`] measures how much of the network has an active agent.
//! - [`mandates`]: who acts for whom, for which items, until when; [`mandates::authorise`] is
//!   the one pure check run before every action an agent takes for someone.
//! - [`home_visits`]: home-visit requests as a small state machine (requested → scheduled →
//!   done with an outcome, or cancelled).
//!
//! Nothing here reads a clock or a database: instants and dates are passed in.
//!
//! ```
//! use tongban_domain::agents::AgentLevel;
//! use tongban_domain::ids::RegionCode;
//! let community = RegionCode::parse("990102001001").unwrap();
//! assert!(AgentLevel::Community.serves(&community));
//! assert!(!AgentLevel::Street.serves(&community));
//! ```

pub mod home_visits;
pub mod mandates;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{RegionCode, RegionLevel};
use crate::keys::{AccountName, HallKey};
use crate::org::{Organisation, Region};

/// 代办网络层级: where in the 区—街道—社区 network an agent is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentLevel {
    /// 区级代办中心.
    District,
    /// 街道/镇 代办站.
    Street,
    /// 社区/村 代办员.
    Community,
}

impl AgentLevel {
    pub const ALL: [AgentLevel; 3] = [
        AgentLevel::District,
        AgentLevel::Street,
        AgentLevel::Community,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            AgentLevel::District => "district",
            AgentLevel::Street => "street",
            AgentLevel::Community => "community",
        }
    }

    pub fn parse(code: &str) -> Option<AgentLevel> {
        AgentLevel::ALL.into_iter().find(|l| l.code() == code)
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            AgentLevel::District => "区级",
            AgentLevel::Street => "街道级",
            AgentLevel::Community => "社区级",
        }
    }

    pub fn label_en(&self) -> &'static str {
        match self {
            AgentLevel::District => "District",
            AgentLevel::Street => "Street",
            AgentLevel::Community => "Community",
        }
    }

    /// The level of GB/T 2260 region an agent of this level serves.
    pub fn region_level(&self) -> RegionLevel {
        match self {
            AgentLevel::District => RegionLevel::County,
            AgentLevel::Street => RegionLevel::Township,
            AgentLevel::Community => RegionLevel::Village,
        }
    }

    /// Whether a region is of the kind this level serves (a district, a street, a community).
    pub fn serves(&self, region: &RegionCode) -> bool {
        region.level() == self.region_level()
    }
}

/// A registered agent. The account is a staff account with the agent role; registration adds
/// the agent's place in the network, and `active: false` suspends every mandate they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub account: AccountName,
    pub name: String,
    pub level: AgentLevel,
    /// The area served: a district, street or community code matching the level.
    pub region: RegionCode,
    /// The hall or station the agent works from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<HallKey>,
    pub active: bool,
    pub registered_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a registration (or a change of one) asks for.
#[derive(Debug, Clone)]
pub struct Registration {
    pub account: AccountName,
    pub name: String,
    pub level: AgentLevel,
    pub region: RegionCode,
    pub hall: Option<HallKey>,
    pub active: bool,
}

/// Why a registration, a mandate or a home visit is refused. Each variant has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// Malformed or inconsistent input.
    #[error("{0}")]
    Invalid(String),
    /// The operation is not allowed in the record's current state.
    #[error("cannot {action} a {what} that is {state}")]
    IllegalTransition {
        what: &'static str,
        action: &'static str,
        state: &'static str,
    },
    /// This actor may not do it.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// Too early or too late.
    #[error("{0}")]
    OutOfTime(String),
}

impl AgentError {
    pub fn code(&self) -> &'static str {
        match self {
            AgentError::Invalid(_) => "invalid_agent_request",
            AgentError::IllegalTransition { .. } => "illegal_transition",
            AgentError::Forbidden(_) => "forbidden",
            AgentError::OutOfTime(_) => "out_of_time",
        }
    }
}

impl Agent {
    /// Registers an agent, or changes a registration (`existing`, whose registration time is
    /// kept). The region must be a known region of the level's kind; the hall, when given, must be
    /// known and lie in the region or in one that encloses it (a community agent may work from
    /// the street's centre).
    pub fn register(
        registration: Registration,
        existing: Option<&Agent>,
        organisation: &Organisation,
        at: Timestamp,
    ) -> Result<Agent, AgentError> {
        let name = registration.name.trim();
        if name.is_empty() {
            return Err(AgentError::Invalid("the agent's name is required".into()));
        }
        if !organisation
            .regions
            .iter()
            .any(|r| r.code == registration.region)
        {
            return Err(AgentError::Invalid(format!(
                "there is no region {}",
                registration.region
            )));
        }
        if !registration.level.serves(&registration.region) {
            return Err(AgentError::Invalid(format!(
                "a {} agent serves a {} region; {} is not one",
                registration.level.code(),
                match registration.level {
                    AgentLevel::District => "district (6-digit or county-level)",
                    AgentLevel::Street => "street or town",
                    AgentLevel::Community => "community or village",
                },
                registration.region
            )));
        }
        if let Some(key) = &registration.hall {
            let Some(hall) = organisation.halls.iter().find(|h| &h.key == key) else {
                return Err(AgentError::Invalid(format!("there is no hall {key}")));
            };
            if !hall.region.contains(&registration.region) {
                return Err(AgentError::Invalid(format!(
                    "hall {key} lies outside the region {} the agent serves",
                    registration.region
                )));
            }
        }
        if let Some(existing) = existing {
            debug_assert_eq!(existing.account, registration.account);
        }
        Ok(Agent {
            account: registration.account,
            name: name.to_owned(),
            level: registration.level,
            region: registration.region,
            hall: registration.hall,
            active: registration.active,
            registered_at: existing.map_or(at, |e| e.registered_at),
            updated_at: at,
        })
    }
}

/// 代办覆盖率 at one level: the areas of that level (inside the area asked about) and how many of
/// them have at least one active agent registered for exactly that area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCoverage {
    pub level: AgentLevel,
    pub areas: u32,
    pub covered: u32,
    /// The areas without an active agent, by code.
    pub uncovered: Vec<RegionCode>,
}

impl LevelCoverage {
    /// Covered areas as a percentage with one decimal; `None` when there are no areas.
    pub fn percent(&self) -> Option<f64> {
        if self.areas == 0 {
            return None;
        }
        let share = f64::from(self.covered) / f64::from(self.areas) * 100.0;
        Some((share * 10.0).round() / 10.0)
    }
}

/// The definition of the headline figure, beside the rollup figures of
/// [`crate::stats::CATALOGUE`] (`docs/kpis.md` explains it).
pub const COVERAGE_DEFINITION: crate::stats::KpiDefinition = crate::stats::KpiDefinition {
    code: "agent_coverage",
    name_zh: "代办覆盖率",
    name_en: "Agent coverage",
    unit: crate::stats::Unit::Percent,
    definition: "communities (社区/村) with at least one active agent registered for that \
                 community / communities; computed from the agent register on the day asked, \
                 also per district and street level",
};

/// Agent coverage per level, for the areas inside `within` (every area when `None`). An area is
/// covered when an *active* agent is registered at that level for that very area: a district
/// agent does not cover the communities below it (the network is meant to reach every
/// community). The headline figure (`agent_coverage`, see `docs/kpis.md`) is the community level.
pub fn coverage(
    regions: &[Region],
    agents: &[Agent],
    within: Option<&RegionCode>,
) -> Vec<LevelCoverage> {
    let mut levels = Vec::with_capacity(AgentLevel::ALL.len());
    for level in AgentLevel::ALL {
        let mut areas: Vec<&RegionCode> = regions
            .iter()
            .map(|r| &r.code)
            .filter(|code| level.serves(code))
            .filter(|code| within.is_none_or(|w| w.contains(code)))
            .collect();
        areas.sort();
        areas.dedup();
        let mut covered = 0;
        let mut uncovered = Vec::new();
        for area in &areas {
            let has_agent = agents
                .iter()
                .any(|a| a.active && a.level == level && &a.region == *area);
            if has_agent {
                covered += 1;
            } else {
                uncovered.push((*area).clone());
            }
        }
        levels.push(LevelCoverage {
            level,
            areas: u32::try_from(areas.len()).unwrap_or(u32::MAX),
            covered,
            uncovered,
        });
    }
    levels
}

/// Agents and mandates as data: the demo city's network (`data/demo/agents.toml`), loaded with
/// the demo accounts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentNetwork {
    #[serde(default)]
    pub agents: Vec<NetworkAgent>,
    #[serde(default)]
    pub mandates: Vec<NetworkMandate>,
}

/// A registration of the network data (the name comes from the staff list).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkAgent {
    pub account: AccountName,
    pub level: AgentLevel,
    pub region: RegionCode,
    #[serde(default)]
    pub hall: Option<HallKey>,
}

/// A mandate of the network data, granted online by a party with an account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkMandate {
    pub id: uuid::Uuid,
    pub agent: AccountName,
    /// The ID number or credit code of a person or enterprise of the organisation.
    pub principal: String,
    /// Every item when empty.
    #[serde(default)]
    pub items: Vec<crate::ids::ImplementationCode>,
    pub valid_from: jiff::civil::Date,
    pub valid_until: jiff::civil::Date,
}

impl AgentNetwork {
    pub fn parse_toml(text: &str) -> Result<AgentNetwork, AgentError> {
        toml::from_str(text).map_err(|e| AgentError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{Hall, HallLevel};

    #[test]
    fn the_demo_network_parses_and_names_a_community_agent() {
        let network =
            AgentNetwork::parse_toml(include_str!("../../../../data/demo/agents.toml")).unwrap();
        assert!(
            network
                .agents
                .iter()
                .any(|a| a.level == AgentLevel::Community)
        );
        assert!(!network.mandates.is_empty());
    }

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).unwrap()
    }

    fn region(text: &str) -> Region {
        Region {
            code: code(text),
            name: text.into(),
            parent: code(text).parent(),
        }
    }

    fn at() -> Timestamp {
        Timestamp::from_second(1_772_413_200).unwrap()
    }

    fn organisation() -> Organisation {
        Organisation {
            regions: [
                "990100",
                "990102",
                "990102001000",
                "990102001001",
                "990102001002",
                "990103",
            ]
            .iter()
            .map(|c| region(c))
            .collect(),
            halls: vec![Hall {
                key: HallKey::parse("hubin-centre").unwrap(),
                name: "湖滨街道便民服务中心".into(),
                level: HallLevel::Street,
                region: code("990102001000"),
                address: String::new(),
                phone: String::new(),
                hours: Vec::new(),
                self_service_24h: false,
            }],
            ..Organisation::default()
        }
    }

    fn registration(level: AgentLevel, region: &str, hall: Option<&str>) -> Registration {
        Registration {
            account: AccountName::parse("agent").unwrap(),
            name: "郑芳".into(),
            level,
            region: code(region),
            hall: hall.map(|h| HallKey::parse(h).unwrap()),
            active: true,
        }
    }

    fn agent(account: &str, level: AgentLevel, region: &str, active: bool) -> Agent {
        Agent {
            account: AccountName::parse(account).unwrap(),
            name: account.into(),
            level,
            region: code(region),
            hall: None,
            active,
            registered_at: at(),
            updated_at: at(),
        }
    }

    #[test]
    fn a_community_agent_may_work_from_the_street_centre_that_encloses_the_community() {
        let registered = Agent::register(
            registration(AgentLevel::Community, "990102001001", Some("hubin-centre")),
            None,
            &organisation(),
            at(),
        )
        .unwrap();
        assert_eq!(registered.level, AgentLevel::Community);
        assert_eq!(registered.registered_at, at());
    }

    #[test]
    fn a_registration_whose_region_does_not_match_its_level_is_refused() {
        let error = Agent::register(
            registration(AgentLevel::Street, "990102001001", None),
            None,
            &organisation(),
            at(),
        )
        .unwrap_err();
        assert_eq!(error.code(), "invalid_agent_request");
        assert!(error.to_string().contains("990102001001"), "{error}");
    }

    #[test]
    fn a_registration_in_an_unknown_region_or_a_hall_outside_it_is_refused() {
        let unknown = Agent::register(
            registration(AgentLevel::Community, "990102001009", None),
            None,
            &organisation(),
            at(),
        );
        assert!(unknown.unwrap_err().to_string().contains("no region"));
        let outside = Agent::register(
            registration(AgentLevel::District, "990103", Some("hubin-centre")),
            None,
            &organisation(),
            at(),
        );
        assert!(outside.unwrap_err().to_string().contains("outside"));
    }

    #[test]
    fn changing_a_registration_keeps_when_it_was_first_made() {
        let first = Agent::register(
            registration(AgentLevel::District, "990102", None),
            None,
            &organisation(),
            at(),
        )
        .unwrap();
        let later = at() + jiff::SignedDuration::from_hours(5);
        let mut change = registration(AgentLevel::District, "990102", None);
        change.active = false;
        let changed = Agent::register(change, Some(&first), &organisation(), later).unwrap();
        assert_eq!(changed.registered_at, at());
        assert_eq!(changed.updated_at, later);
        assert!(!changed.active);
    }

    /// Hand-computed: communities 990102001001 and 990102001002 and 990103001001 (3); an active
    /// community agent in the first, an inactive one in the second, a street agent above both →
    /// 1 of 3 communities covered = 33.3 %. Streets: 990102001000 has the street agent → 1 of 1.
    /// Districts 990102 and 990103: none → 0 of 2 = 0 %.
    #[test]
    fn coverage_counts_areas_with_an_active_agent_of_their_own_level() {
        let regions: Vec<Region> = [
            "990100",
            "990102",
            "990103",
            "990102001000",
            "990102001001",
            "990102001002",
            "990103001001",
        ]
        .iter()
        .map(|c| region(c))
        .collect();
        let agents = vec![
            agent("a1", AgentLevel::Community, "990102001001", true),
            agent("a2", AgentLevel::Community, "990102001002", false),
            agent("a3", AgentLevel::Street, "990102001000", true),
        ];
        let levels = coverage(&regions, &agents, None);
        let community = &levels[2];
        assert_eq!(community.level, AgentLevel::Community);
        assert_eq!((community.covered, community.areas), (1, 3));
        assert_eq!(community.percent(), Some(33.3));
        assert_eq!(
            community.uncovered,
            vec![code("990102001002"), code("990103001001")]
        );
        assert_eq!((levels[1].covered, levels[1].areas), (1, 1));
        assert_eq!(levels[1].percent(), Some(100.0));
        assert_eq!((levels[0].covered, levels[0].areas), (0, 2));
        assert_eq!(levels[0].percent(), Some(0.0));

        let west = coverage(&regions, &agents, Some(&code("990103")));
        assert_eq!((west[2].covered, west[2].areas), (0, 1));
        assert_eq!(west[1].areas, 0);
        assert_eq!(west[1].percent(), None, "no streets: no figure, not 0 %");
    }
}
