//! Visits counted for real (seed 003: "逻辑上的跑一次" against real trips). Each check-in at a
//! hall is one visit of the applicant; a visit is linked to the applicant's open cases and to the
//! case a window accepts during it, so that every case knows how many times its applicant
//! actually came. [`TripDistribution`] sets that against the promised 到现场次数.
//!
//! ```
//! use tongban_domain::halls::visits::TripDistribution;
//! let distribution = TripDistribution::from_trips(1, [1, 1, 2, 0]);
//! assert_eq!(distribution.cases, 4);
//! assert_eq!(distribution.within_promise, 3);
//! assert_eq!(distribution.counts, vec![(0, 1), (1, 2), (2, 1)]);
//! ```

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{TicketId, VisitId};
use crate::keys::HallKey;

/// One physical visit: the applicant checked in at a hall (took a ticket naming them, or checked
/// in an appointment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: VisitId,
    pub hall: HallKey,
    /// ID number or credit code.
    pub applicant: String,
    pub ticket: TicketId,
    pub at: Timestamp,
}

/// How many cases needed how many trips, against the promise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TripDistribution {
    /// The promised 到现场次数 (0 = 零跑动, 1 = 最多跑一次).
    pub promised: u32,
    pub cases: u64,
    /// `(trips, cases)`, by trips ascending.
    pub counts: Vec<(u32, u64)>,
    /// Cases with at most the promised number of trips.
    pub within_promise: u64,
    /// Mean trips per case (0 without cases).
    pub mean: f64,
}

impl TripDistribution {
    /// From the trip count of each case.
    pub fn from_trips(promised: u32, trips: impl IntoIterator<Item = u32>) -> TripDistribution {
        let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
        for count in trips {
            *counts.entry(count).or_default() += 1;
        }
        TripDistribution::from_counts(promised, counts)
    }

    /// From `trips → number of cases`.
    pub fn from_counts(promised: u32, counts: BTreeMap<u32, u64>) -> TripDistribution {
        let cases: u64 = counts.values().sum();
        let total: u64 = counts.iter().map(|(trips, n)| u64::from(*trips) * n).sum();
        let within_promise = counts
            .iter()
            .filter(|(trips, _)| **trips <= promised)
            .map(|(_, n)| n)
            .sum();
        let mean = if cases == 0 {
            0.0
        } else {
            total as f64 / cases as f64
        };
        TripDistribution {
            promised,
            cases,
            counts: counts.into_iter().collect(),
            within_promise,
            mean,
        }
    }

    /// The share of cases kept within the promise (1.0 without cases: nothing broke it).
    pub fn kept_share(&self) -> f64 {
        if self.cases == 0 {
            1.0
        } else {
            self.within_promise as f64 / self.cases as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_with_more_trips_than_promised_breaks_the_promise() {
        let distribution = TripDistribution::from_trips(0, [0, 0, 1, 3]);
        assert_eq!(distribution.within_promise, 2);
        assert!((distribution.kept_share() - 0.5).abs() < 1e-9);
        assert!((distribution.mean - 1.0).abs() < 1e-9);
    }

    #[test]
    fn no_cases_means_nothing_broke_the_promise() {
        let distribution = TripDistribution::from_trips(1, []);
        assert_eq!(distribution.cases, 0);
        assert!((distribution.kept_share() - 1.0).abs() < 1e-9);
    }
}
