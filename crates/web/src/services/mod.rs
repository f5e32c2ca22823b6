//! Services: what handlers call. They combine the store, the domain and the in-memory lookup
//! into views shared by the API and the pages.

pub mod agents;
pub mod ask;
pub mod bundle_plan;
pub mod bundles;
pub mod cases;
pub mod catalog;
pub mod delivery;
pub mod documents;
pub mod feedback;
pub mod halls;
pub mod home_visits;
pub mod hotline;
pub mod stats;
