//! `tongban serve` and `tongban migrate`.

use clap::Args;
use serde::Serialize;

use crate::config::{Settings, StorageArgs};

#[derive(Debug, Args, Serialize)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    #[serde(flatten)]
    pub storage: StorageArgs,
    /// Load the demo city, catalog and accounts when the database is empty.
    #[arg(long)]
    #[serde(skip)]
    pub demo: bool,
    /// Start the clock at this instant (training environments, tests), e.g.
    /// 2026-06-01T09:00:00+08:00 [default: the real time].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_start: Option<jiff::Timestamp>,
}

pub async fn run(args: ServeArgs, settings: Settings) -> anyhow::Result<()> {
    let settings = settings.with_flags(&args)?;
    let store = tongban_store::open(&settings.storage()).await?;
    tracing::info!(engine = store.engine.name(), "storage ready");
    if args.demo {
        if store.catalog.is_empty().await? {
            let data = crate::catalog_cmd::demo_data()?;
            let now = jiff::Timestamp::now();
            let report = store.catalog.import(&data, now).await?;
            let accounts = tongban_web::auth::create_demo_accounts(&store, now).await?;
            tracing::info!(
                items = report.items_created,
                bundles = report.bundles_created,
                accounts,
                "demo content loaded"
            );
        } else {
            tracing::info!("the database is not empty; the demo content was not loaded again");
        }
    }
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let address = listener.local_addr()?;
    let clock = settings.clock();
    if let Some(start) = settings.clock_start {
        tracing::warn!(%start, "the clock was set to start at another instant than now");
    }
    let calendar = settings.calendar()?;
    warn_of_missing_years(&calendar, clock.now());
    // Uploaded materials live beside the SQLite file, under the data folder (also with PostgreSQL).
    let objects_folder = settings.data.join("objects");
    std::fs::create_dir_all(&objects_folder)?;
    let objects = std::sync::Arc::new(object_store::local::LocalFileSystem::new_with_prefix(
        &objects_folder,
    )?);
    let app = tongban_web::App::with_objects(store.clone(), clock.clone(), objects)
        .await?
        .with_policies(settings.policies()?)
        .with_calendar(calendar);
    // Webhook deliveries, the rollup folder and the hotline deadline reminders run beside the
    // server and stop with it (or when `run` returns early and drops the sender).
    let (stop_background, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let rollups = tokio::spawn(tongban_web::rollups::run(
        store.clone(),
        until_stopped(stopped.clone()),
    ));
    // With the app's state: its clock, calendar and configured reminder lead time.
    let reminders = tokio::spawn(tongban_web::reminders::run(
        app.state().clone(),
        until_stopped(stopped.clone()),
    ));
    let webhooks = tokio::spawn(tongban_web::webhooks::run(
        store,
        clock,
        until_stopped(stopped),
    ));
    println!("tongban is running at http://{address}/");
    if args.demo {
        println!(
            "demo accounts (password: tongban-demo): citizen, citizen2, citizen3, enterprise, clerk, approver, chief, agent, agent2, agent3, operator, dispatcher, handler, admin, supervisor"
        );
    }
    // Connect info gives handlers the client address (the sign-in throttle counts per address).
    let service = app
        .router()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = stop_background.send(true);
    let _ = webhooks.await;
    let _ = rollups.await;
    let _ = reminders.await;
    Ok(())
}

/// Deadlines that reach into a year without calendar data cannot be computed (REFERENCE §8: an
/// explicit error, never a guess), so say so at start-up: for this year, and from November
/// (when the State Council's notice for the next year usually appears) for the next one.
fn warn_of_missing_years(calendar: &tongban_domain::calendar::Calendar, now: jiff::Timestamp) {
    let today = tongban_domain::calendar::shanghai_date(now);
    let mut missing = vec![today.year()];
    if today.month() >= 11 {
        missing.push(today.year() + 1);
    }
    for year in missing.into_iter().filter(|year| !calendar.has_year(*year)) {
        tracing::warn!(
            year,
            "the working-day calendar has no data for this year: deadlines that reach into it cannot be computed until its holiday notice is added as calendar/{year}.toml in the data folder"
        );
    }
}

pub async fn migrate(args: StorageArgs, settings: Settings) -> anyhow::Result<()> {
    let settings = settings.with_flags(&args)?;
    let store = tongban_store::open(&settings.storage()).await?;
    println!("migrated ({})", store.engine.name());
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
