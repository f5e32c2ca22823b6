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
}

pub async fn run(args: ServeArgs, settings: Settings) -> anyhow::Result<()> {
    let settings = settings.with_flags(&args)?;
    let store = tongban_store::open(&settings.storage()).await?;
    tracing::info!(engine = store.engine.name(), "storage ready");
    if args.demo {
        if store.catalog.is_empty().await? {
            let data = crate::catalog_cmd::demo_data()?;
            let report = store.catalog.import(&data, jiff::Timestamp::now()).await?;
            tracing::info!(
                items = report.items_created,
                bundles = report.bundles_created,
                "demo content loaded"
            );
        } else {
            tracing::info!("the database is not empty; the demo content was not loaded again");
        }
    }
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let address = listener.local_addr()?;
    let app = tongban_web::App::new(store, std::sync::Arc::new(tongban_web::SystemClock)).await?;
    println!("tongban is running at http://{address}/");
    if args.demo {
        println!(
            "demo accounts (password: tongban-demo): citizen, citizen2, enterprise, clerk, approver, chief, agent, operator, dispatcher, handler, admin"
        );
    }
    axum::serve(listener, app.router())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
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
