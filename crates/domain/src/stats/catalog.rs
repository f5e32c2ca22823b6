//! Figures of the catalog and the halls as they stand (SPEC C8): 网上可办率 (the share of items
//! that can be handled online), 进驻率 (the share of items handled in a service hall), and the
//! windows of each hall with the share of comprehensive windows (综合窗口).
//!
//! They describe the published catalog and the organisation on the day they are asked, not a
//! period's events: an item counts once whatever its number of cases. Only items that people
//! apply for count (依申请: types 01, 05, 07–10 and 20; enforcement items are not handled at a
//! window). `docs/kpis.md` defines them.
//!
//! ```
//! use tongban_domain::stats::catalog::{CatalogCounts, catalog_kpis};
//! let counts = CatalogCounts { items: 4, online_capable: 3, stationed: 2, stationed_of: 4,
//!     windows: Some(5), comprehensive_windows: Some(4) };
//! let figures = catalog_kpis(&counts);
//! let value = |code: &str| figures.iter().find(|k| k.code == code).and_then(|k| k.value);
//! assert_eq!(value("online_capable_rate"), Some(75.0));
//! assert_eq!(value("stationed_rate"), Some(50.0));
//! assert_eq!(value("comprehensive_window_share"), Some(80.0));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Dimension, KpiDefinition, KpiValue, StatsError, Unit, count, percent};
use crate::catalog::ItemDefinition;
use crate::catalog::codes::ItemType;
use crate::ids::ImplementationCode;
use crate::keys::{DepartmentKey, HallKey};
use crate::org::{Organisation, WindowKind};

/// What the catalog figures need of one published item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFact {
    pub code: ImplementationCode,
    pub department: DepartmentKey,
    pub item_type: ItemType,
    /// 可网办: the online depth reaches 互联网受理 (4).
    pub online_capable: bool,
    /// The halls among the item's places (办理地点).
    pub halls: BTreeSet<HallKey>,
}

impl ItemFact {
    pub fn of(item: &ItemDefinition) -> ItemFact {
        ItemFact {
            code: item.implementation_code.clone(),
            department: item.department.clone(),
            item_type: item.item_type,
            online_capable: item.online_capable(),
            halls: item.places.iter().filter_map(|p| p.hall.clone()).collect(),
        }
    }
}

/// Counts behind the catalog figures of one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CatalogCounts {
    /// Items people apply for (依申请) in the group; for a hall, those handled at it.
    pub items: i64,
    /// Of those, items that can be handled online (可网办).
    pub online_capable: i64,
    /// 进驻率's numerator: items handled at a hall (for a hall: at this hall).
    pub stationed: i64,
    /// 进驻率's denominator: the group's items (for a hall: every item of the catalog).
    pub stationed_of: i64,
    /// Windows of the group's halls (none for a department: windows belong to halls).
    pub windows: Option<i64>,
    pub comprehensive_windows: Option<i64>,
}

/// One group of the catalog figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogRow {
    /// A department key, region code or hall key; `""` for items of an unknown department.
    pub key: String,
    pub counts: CatalogCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogFigures {
    pub total: CatalogCounts,
    pub rows: Vec<CatalogRow>,
}

/// The catalog and hall figures, beside the rollup figures of [`super::CATALOGUE`].
pub const CATALOG_FIGURES: &[KpiDefinition] = &[
    KpiDefinition {
        code: "items",
        name_zh: "依申请事项数",
        name_en: "Items applied for",
        unit: Unit::Count,
        definition: "published items that people apply for (types 01, 05, 07–10, 20); for a \
                     hall, those with a place at that hall",
    },
    KpiDefinition {
        code: "online_capable_rate",
        name_zh: "网上可办率",
        name_en: "Items that can be handled online",
        unit: Unit::Percent,
        definition: "items whose online depth (网办深度) reaches 互联网受理 (4) / items; computed \
                     from the published catalog on the day asked",
    },
    KpiDefinition {
        code: "stationed_rate",
        name_zh: "进驻率",
        name_en: "Items handled in a hall",
        unit: Unit::Percent,
        definition: "items with a place (办理地点) at a service hall / items; for a hall, items with \
                     a place at that hall / every item; computed from the published catalog on \
                     the day asked",
    },
    KpiDefinition {
        code: "windows",
        name_zh: "窗口数",
        name_en: "Windows",
        unit: Unit::Count,
        definition: "windows configured at the halls (per hall, per region of the hall)",
    },
    KpiDefinition {
        code: "comprehensive_window_share",
        name_zh: "综合窗口占比",
        name_en: "Comprehensive windows",
        unit: Unit::Percent,
        definition: "comprehensive windows (综合窗口, 无差别受理) / windows",
    },
];

/// The catalog figures of one group, in the order of [`CATALOG_FIGURES`].
pub fn catalog_kpis(c: &CatalogCounts) -> Vec<KpiValue> {
    let mut values = Vec::with_capacity(CATALOG_FIGURES.len());
    for definition in CATALOG_FIGURES {
        let ratio = |num: i64, den: i64| (percent(num, den), Some(num), Some(den));
        let (value, numerator, denominator) = match definition.code {
            "items" => (Some(count(c.items)), None, None),
            "online_capable_rate" => ratio(c.online_capable, c.items),
            "stationed_rate" => ratio(c.stationed, c.stationed_of),
            "windows" => (c.windows.map(count), None, None),
            "comprehensive_window_share" => match (c.comprehensive_windows, c.windows) {
                (Some(comprehensive), Some(windows)) => ratio(comprehensive, windows),
                _ => (None, None, None),
            },
            _ => (None, None, None),
        };
        values.push(KpiValue {
            code: definition.code,
            name_zh: definition.name_zh,
            name_en: definition.name_en,
            unit: definition.unit,
            value,
            numerator,
            denominator,
        });
    }
    values
}

/// The catalog figures per department, region or hall, and in total.
///
/// A department's region is the organisation's; a hall's region its own. An item is handled in
/// a hall (进驻) when one of its places names a hall of the organisation.
pub fn catalog_figures(
    items: &[ItemFact],
    organisation: &Organisation,
    dimension: Dimension,
) -> Result<CatalogFigures, StatsError> {
    let halls: BTreeSet<&HallKey> = organisation.halls.iter().map(|h| &h.key).collect();
    let applied: Vec<&ItemFact> = items
        .iter()
        .filter(|i| i.item_type.is_applicable())
        .collect();
    let stationed = |item: &ItemFact| item.halls.iter().any(|h| halls.contains(h));
    let all = i64::try_from(applied.len()).unwrap_or(i64::MAX);

    let mut total = CatalogCounts {
        stationed_of: all,
        windows: Some(0),
        comprehensive_windows: Some(0),
        ..CatalogCounts::default()
    };
    for item in &applied {
        total.items += 1;
        total.online_capable += i64::from(item.online_capable);
        total.stationed += i64::from(stationed(item));
    }
    for window in &organisation.windows {
        add_window(&mut total, window.kind);
    }

    let mut groups: BTreeMap<String, CatalogCounts> = BTreeMap::new();
    match dimension {
        Dimension::Department => {
            for department in &organisation.departments {
                groups.entry(department.key.to_string()).or_default();
            }
            for item in &applied {
                let group = groups.entry(item.department.to_string()).or_default();
                add_item(group, item.online_capable, stationed(item));
            }
        }
        Dimension::Region => {
            let regions: BTreeMap<&DepartmentKey, String> = organisation
                .departments
                .iter()
                .map(|d| (&d.key, d.region.to_string()))
                .collect();
            let hall_regions: BTreeMap<&HallKey, String> = organisation
                .halls
                .iter()
                .map(|h| (&h.key, h.region.to_string()))
                .collect();
            for hall in &organisation.halls {
                with_windows(groups.entry(hall.region.to_string()).or_default());
            }
            for item in &applied {
                let region = regions.get(&item.department).cloned().unwrap_or_default();
                let group = groups.entry(region).or_default();
                add_item(group, item.online_capable, stationed(item));
            }
            for window in &organisation.windows {
                let region = hall_regions.get(&window.hall).cloned().unwrap_or_default();
                let group = groups.entry(region).or_default();
                with_windows(group);
                add_window(group, window.kind);
            }
        }
        Dimension::Hall => {
            for hall in &organisation.halls {
                let group = groups.entry(hall.key.to_string()).or_default();
                with_windows(group);
                group.stationed_of = all;
                for item in applied.iter().filter(|i| i.halls.contains(&hall.key)) {
                    group.items += 1;
                    group.online_capable += i64::from(item.online_capable);
                    group.stationed += 1;
                }
            }
            for window in &organisation.windows {
                if let Some(group) = groups.get_mut(window.hall.as_str()) {
                    add_window(group, window.kind);
                }
            }
        }
        Dimension::Item | Dimension::Window => {
            return Err(StatsError::InvalidPeriod(
                "catalog figures are per department, region or hall".into(),
            ));
        }
    }
    Ok(CatalogFigures {
        total,
        rows: groups
            .into_iter()
            .map(|(key, counts)| CatalogRow { key, counts })
            .collect(),
    })
}

fn add_item(group: &mut CatalogCounts, online_capable: bool, stationed: bool) {
    group.items += 1;
    group.stationed_of += 1;
    group.online_capable += i64::from(online_capable);
    group.stationed += i64::from(stationed);
}

fn with_windows(group: &mut CatalogCounts) {
    group.windows.get_or_insert(0);
    group.comprehensive_windows.get_or_insert(0);
}

fn add_window(group: &mut CatalogCounts, kind: WindowKind) {
    *group.windows.get_or_insert(0) += 1;
    *group.comprehensive_windows.get_or_insert(0) += i64::from(kind == WindowKind::Comprehensive);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CreditCode, RegionCode};
    use crate::keys::WindowKey;
    use crate::org::{Department, Hall, HallLevel, Window};

    fn department(key: &str, region: &str) -> Department {
        Department {
            key: DepartmentKey::parse(key).unwrap(),
            name: key.into(),
            sector: key.into(),
            // Any valid credit code: the figures never read it.
            credit_code: CreditCode::parse("11990100004213675N").unwrap(),
            region: RegionCode::parse(region).unwrap(),
            phone: None,
        }
    }

    fn hall(key: &str, region: &str) -> Hall {
        Hall {
            key: HallKey::parse(key).unwrap(),
            name: key.into(),
            level: HallLevel::District,
            region: RegionCode::parse(region).unwrap(),
            address: String::new(),
            phone: String::new(),
            hours: Vec::new(),
            self_service_24h: false,
        }
    }

    fn window(key: &str, hall: &str, kind: WindowKind) -> Window {
        Window {
            key: WindowKey::parse(key).unwrap(),
            hall: HallKey::parse(hall).unwrap(),
            number: key.into(),
            kind,
            skills: Vec::new(),
            department: None,
        }
    }

    fn item(
        n: u32,
        department: &str,
        item_type: ItemType,
        online: bool,
        halls: &[&str],
    ) -> ItemFact {
        ItemFact {
            code: ImplementationCode::parse(&format!("11990100004213675N2000101{n:06}")).unwrap(),
            department: DepartmentKey::parse(department).unwrap(),
            item_type,
            online_capable: online,
            halls: halls.iter().map(|h| HallKey::parse(h).unwrap()).collect(),
        }
    }

    /// Two departments (police in the city 990100, civil affairs in the district 990102), a city
    /// hall with 3 windows (2 comprehensive) and a district hall with 1 comprehensive window.
    fn organisation() -> Organisation {
        Organisation {
            departments: vec![
                department("police", "990100"),
                department("civil", "990102"),
            ],
            halls: vec![hall("city", "990100"), hall("east", "990102")],
            windows: vec![
                window("city-a01", "city", WindowKind::Comprehensive),
                window("city-a02", "city", WindowKind::Comprehensive),
                window("city-c01", "city", WindowKind::Specialised),
                window("east-a01", "east", WindowKind::Comprehensive),
            ],
            ..Organisation::default()
        }
    }

    /// Police: 1 online at city+east, 2 online at city, 3 not online at no hall (an office),
    /// 4 a penalty (not applied for: left out). Civil: 5 not online at east, 6 online at a hall
    /// the organisation does not have (not stationed).
    fn items() -> Vec<ItemFact> {
        vec![
            item(1, "police", ItemType::Licensing, true, &["city", "east"]),
            item(2, "police", ItemType::PublicService, true, &["city"]),
            item(3, "police", ItemType::Confirmation, false, &[]),
            item(4, "police", ItemType::Penalty, true, &["city"]),
            item(5, "civil", ItemType::Benefit, false, &["east"]),
            item(6, "civil", ItemType::PublicService, true, &["gone"]),
        ]
    }

    fn kpi(counts: &CatalogCounts, code: &str) -> Option<f64> {
        catalog_kpis(counts)
            .into_iter()
            .find(|k| k.code == code)
            .and_then(|k| k.value)
    }

    fn row<'a>(figures: &'a CatalogFigures, key: &str) -> &'a CatalogCounts {
        &figures
            .rows
            .iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no row {key}"))
            .counts
    }

    #[test]
    fn catalog_figures_on_a_small_hand_computed_catalog() {
        let figures = catalog_figures(&items(), &organisation(), Dimension::Department).unwrap();
        // Total: 5 items applied for (4 is a penalty); online 1, 2, 6 → 3/5 = 60%; in a hall
        // of the organisation 1, 2, 5 → 3/5 = 60%; 4 windows, 3 comprehensive → 75%.
        let total = &figures.total;
        assert_eq!(kpi(total, "items"), Some(5.0));
        assert_eq!(kpi(total, "online_capable_rate"), Some(60.0));
        assert_eq!(kpi(total, "stationed_rate"), Some(60.0));
        assert_eq!(kpi(total, "windows"), Some(4.0));
        assert_eq!(kpi(total, "comprehensive_window_share"), Some(75.0));
        // Police: 1, 2, 3 → online 2/3 = 66.67%, in a hall 2/3 = 66.67%; no windows figure.
        let police = row(&figures, "police");
        assert_eq!(kpi(police, "items"), Some(3.0));
        assert_eq!(kpi(police, "online_capable_rate"), Some(66.67));
        assert_eq!(kpi(police, "stationed_rate"), Some(66.67));
        assert_eq!(kpi(police, "windows"), None);
        // Civil: 5, 6 → online 1/2 = 50%, in a hall 1/2 = 50%.
        let civil = row(&figures, "civil");
        assert_eq!(kpi(civil, "online_capable_rate"), Some(50.0));
        assert_eq!(kpi(civil, "stationed_rate"), Some(50.0));
    }

    #[test]
    fn per_hall_the_stationed_rate_is_the_share_of_every_item_handled_there() {
        let figures = catalog_figures(&items(), &organisation(), Dimension::Hall).unwrap();
        // City hall: items 1, 2 (4 is a penalty) of 5 → 40%, both online → 100%; 3 windows,
        // 2 comprehensive → 66.67%.
        let city = row(&figures, "city");
        assert_eq!(kpi(city, "items"), Some(2.0));
        assert_eq!(kpi(city, "stationed_rate"), Some(40.0));
        assert_eq!(kpi(city, "online_capable_rate"), Some(100.0));
        assert_eq!(kpi(city, "windows"), Some(3.0));
        assert_eq!(kpi(city, "comprehensive_window_share"), Some(66.67));
        // East hall: items 1, 5 of 5 → 40%, online 1 of 2 → 50%; 1 window, comprehensive.
        let east = row(&figures, "east");
        assert_eq!(kpi(east, "stationed_rate"), Some(40.0));
        assert_eq!(kpi(east, "online_capable_rate"), Some(50.0));
        assert_eq!(kpi(east, "comprehensive_window_share"), Some(100.0));
        assert_eq!(figures.rows.len(), 2, "only the organisation's halls");
    }

    #[test]
    fn per_region_items_count_by_department_and_windows_by_hall() {
        let figures = catalog_figures(&items(), &organisation(), Dimension::Region).unwrap();
        // 990100: police items 1, 2, 3 and the city hall's 3 windows.
        let city = row(&figures, "990100");
        assert_eq!(kpi(city, "items"), Some(3.0));
        assert_eq!(kpi(city, "online_capable_rate"), Some(66.67));
        assert_eq!(kpi(city, "windows"), Some(3.0));
        // 990102: civil items 5, 6 and the east hall's window.
        let east = row(&figures, "990102");
        assert_eq!(kpi(east, "stationed_rate"), Some(50.0));
        assert_eq!(kpi(east, "windows"), Some(1.0));
        assert!(catalog_figures(&items(), &organisation(), Dimension::Item).is_err());
    }

    #[test]
    fn an_empty_group_has_no_rates() {
        let counts = CatalogCounts::default();
        assert_eq!(kpi(&counts, "items"), Some(0.0));
        assert_eq!(kpi(&counts, "online_capable_rate"), None);
        assert_eq!(kpi(&counts, "comprehensive_window_share"), None);
    }
}
