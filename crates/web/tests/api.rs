//! The web crate's one integration-test binary. Every test starts the real router on
//! 127.0.0.1:0 over a fresh store loaded with the demo data: a temporary SQLite file by default,
//! a fresh PostgreSQL database when `TONGBAN_TEST_PG_URL` is set (CI runs this binary twice, so
//! the same tests — snapshots included — pass on both engines).

// The modules live in `tests/api/`; a crate root looks beside itself, hence the paths.
#[path = "api/support.rs"]
mod support;

#[path = "api/agents.rs"]
mod agents;
#[path = "api/ask.rs"]
mod ask;
#[path = "api/auth_flow.rs"]
mod auth_flow;
#[path = "api/bundle_applications.rs"]
mod bundle_applications;
#[path = "api/bundles.rs"]
mod bundles;
#[path = "api/cases.rs"]
mod cases;
#[path = "api/delivery.rs"]
mod delivery;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/feedback.rs"]
mod feedback;
#[path = "api/halls.rs"]
mod halls;
#[path = "api/hotline.rs"]
mod hotline;
#[path = "api/items.rs"]
mod items;
#[path = "api/openapi.rs"]
mod openapi;
#[path = "api/pages.rs"]
mod pages;
#[path = "api/ratings.rs"]
mod ratings;
#[path = "api/snapshots.rs"]
mod snapshots;
#[path = "api/stats.rs"]
mod stats;
#[path = "api/verified_documents.rs"]
mod verified_documents;
#[path = "api/webhooks.rs"]
mod webhooks;
