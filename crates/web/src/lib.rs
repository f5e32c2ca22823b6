//! The web layer of tongban: the JSON API under `/api/v1` (with its OpenAPI document) and the
//! server-rendered pages (askama templates, Chinese first with English available).
//! [`webhooks`] delivers the outbox to department systems, [`rollups`] folds changed cases into
//! the supervision figures and [`reminders`] reminds departments of hotline deadlines (background
//! tasks of `tongban serve`).
//!
//! Handlers are short: extract, check, call the store or the domain, map to a response. Errors go
//! through the one table in [`error`]. The router is built by [`App::router`]; tests start it on
//! 127.0.0.1:0 exactly as `tongban serve` does.
//!
//! ```no_run
//! # async fn demo(store: tongban_store::Store) -> Result<(), Box<dyn std::error::Error>> {
//! let app = tongban_web::App::new(store, std::sync::Arc::new(tongban_web::SystemClock)).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app.router()).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod assistant;
pub mod auth;
pub mod error;
pub mod lookup;
pub mod pages;
pub mod reminders;
pub mod rollups;
pub mod services;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::Request;
use tongban_domain::clock::Clock;
use tongban_store::{Store, StoreError};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::lookup::{Lookup, SharedLookup};

/// The real clock, for the server. Tests inject a fixed one.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// The real clock moved to start at a chosen instant, for training and demonstration
/// environments and for tests of the whole binary: time runs on from `start` at the real pace.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: jiff::SignedDuration,
}

impl ShiftedClock {
    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: jiff::Timestamp) -> ShiftedClock {
        ShiftedClock {
            offset: start.duration_since(jiff::Timestamp::now()),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> jiff::Timestamp {
        let now = jiff::Timestamp::now();
        now.checked_add(self.offset).unwrap_or(now)
    }
}

/// Everything a handler may use.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub lookup: SharedLookup,
    /// Uploaded materials (a local folder in production, memory in tests).
    pub objects: Arc<dyn object_store::ObjectStore>,
    /// The official working-day calendar, for deadlines.
    pub calendar: Arc<tongban_domain::calendar::Calendar>,
    /// Sign-in state (the throttle); see [`auth`].
    pub auth: auth::AuthState,
    /// Item versions that cases are pinned to (immutable once published).
    pub pinned_items: Arc<services::cases::PinnedItems>,
    /// The cases this process wrote last, for the next action on them.
    pub recent_cases: Arc<services::cases::RecentCases>,
    /// The one-sentence assistant over the published catalog; see [`assistant`].
    pub assistant: assistant::SharedAssistant,
    /// Configured rules: hotline deadlines and routing, the rectification deadline.
    pub policies: Arc<Policies>,
}

/// Rules a place sets in its configuration (`tongban.toml`, README "Configuration"): the hotline
/// deadlines per type and urgency and its routing table (REFERENCE §6), and the working days a
/// bad rating's rectification is due in (REFERENCE §3). The defaults are the national ones and
/// the demo city's routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Policies {
    pub deadlines: tongban_domain::hotline::DeadlinePolicy,
    pub rectification: tongban_domain::feedback::RectificationPolicy,
    pub routing: Arc<tongban_domain::hotline::RoutingTable>,
}

impl Policies {
    /// The demo city's routing table, shipped in `data/demo/hotline.toml`.
    pub fn demo_routing() -> Result<tongban_domain::hotline::RoutingTable, StoreError> {
        tongban_domain::hotline::RoutingTable::parse_toml(include_str!(
            "../../../data/demo/hotline.toml"
        ))
        .map_err(|e| StoreError::Corrupt(format!("the demo routing table is broken: {e}")))
    }

    /// The national defaults with the demo city's routing.
    pub fn defaults() -> Result<Policies, StoreError> {
        Ok(Policies {
            deadlines: tongban_domain::hotline::DeadlinePolicy::default(),
            rectification: tongban_domain::feedback::RectificationPolicy::default(),
            routing: Arc::new(Policies::demo_routing()?),
        })
    }
}

impl AppState {
    /// Reloads the in-memory lookup and rebuilds the assistant after the catalog changed.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        self.lookup.replace(Lookup::load(&self.store).await?);
        self.assistant.replace(assistant::load(&self.store).await?);
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct App {
    state: AppState,
}

impl App {
    /// An app whose uploads are kept in memory (tests, previews).
    pub async fn new(store: Store, clock: Arc<dyn Clock>) -> Result<App, StoreError> {
        App::with_objects(
            store,
            clock,
            Arc::new(object_store::memory::InMemory::new()),
        )
        .await
    }

    /// An app whose uploads go to `objects` (a local folder under `--data` for `tongban serve`).
    pub async fn with_objects(
        store: Store,
        clock: Arc<dyn Clock>,
        objects: Arc<dyn object_store::ObjectStore>,
    ) -> Result<App, StoreError> {
        let lookup = SharedLookup::new(Lookup::load(&store).await?);
        let assistant = assistant::SharedAssistant::new(assistant::load(&store).await?);
        let calendar = tongban_domain::calendar::Calendar::official().map_err(|e| {
            StoreError::Corrupt(format!("the official calendar data is broken: {e}"))
        })?;
        let recent_cases = Arc::new(services::cases::RecentCases::for_engine(store.engine));
        Ok(App {
            state: AppState {
                store,
                clock,
                lookup,
                objects,
                calendar: Arc::new(calendar),
                auth: auth::AuthState::default(),
                pinned_items: Arc::default(),
                recent_cases,
                assistant,
                policies: Arc::new(Policies::defaults()?),
            },
        })
    }

    /// The same app with configured rules instead of the defaults.
    pub fn with_policies(mut self, policies: Policies) -> App {
        self.state.policies = Arc::new(policies);
        self
    }

    /// Replaces the working-day calendar (the embedded years plus those a deployment loads).
    pub fn with_calendar(mut self, calendar: tongban_domain::calendar::Calendar) -> App {
        self.state.calendar = Arc::new(calendar);
        self
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The whole application: API, OpenAPI document, pages and static assets.
    pub fn router(&self) -> Router {
        let (api, _) = api::router().split_for_parts();
        Router::new()
            .merge(api)
            .merge(pages::router())
            .fallback(pages::not_found)
            .with_state(self.state.clone())
            .layer(CompressionLayer::new())
            .layer(
                // Spans carry the route pattern, never the concrete path or query: those can hold
                // ID numbers or names.
                TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str);
                    tracing::info_span!("http", method = %request.method(), route)
                }),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_it_is_told_and_runs_on() {
        let start: jiff::Timestamp = "2026-06-01T01:00:00Z".parse().unwrap();
        let clock = ShiftedClock::starting_at(start);
        let first = clock.now();
        assert!(first >= start, "{first} is before {start}");
        assert!(first.duration_since(start) < jiff::SignedDuration::from_secs(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first, "the clock runs on");
    }
}
