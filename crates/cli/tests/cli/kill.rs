//! No acknowledged write is lost (SPEC §3 "Reliability"): the server is started, applications
//! are submitted from concurrent clients, the server is killed with SIGKILL while they are in
//! flight (`std::process::Child::kill` sends SIGKILL on Unix), restarted on the same data, and
//! every application that was answered 2xx must be there.
//!
//! SQLite by default; on a fresh PostgreSQL database when `TONGBAN_TEST_PG_URL` is set.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The citizen applies for a birth certificate (the demo item the benchmarks use too).
const ITEM: &str = "11990100004213675N2000101000000";
/// Concurrent clients, and how long they submit before the kill.
const CLIENTS: usize = 16;
const LOAD: Duration = Duration::from_secs(2);

/// A running `tongban serve`; killed (SIGKILL) when dropped, so a failing test leaves nothing.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> TestResult<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Starts the server and waits until it says it is running (at most 60 s: a debug build
/// importing the demo data on a busy machine).
fn start(data: &Path, database: Option<&str>, demo: bool, log_name: &str) -> TestResult<Server> {
    let port = free_port()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_tongban"));
    command
        .arg("serve")
        .arg("--data")
        .arg(data)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    if demo {
        command.arg("--demo");
    }
    if let Some(url) = database {
        command.arg("--database").arg(url);
    }
    // Only the flags configure this server: no tongban.toml, no TONGBAN_* from the caller.
    for (name, _) in std::env::vars() {
        if name.starts_with("TONGBAN_") {
            command.env_remove(name);
        }
    }
    let log = std::fs::File::create(data.join(log_name))?;
    command
        .current_dir(data)
        .env("TONGBAN_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    let mut child = command.spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (ready, is_ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading so that the pipe never fills.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("tongban is running at") {
                let _ = ready.send(());
            }
        }
    });
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    if is_ready.recv_timeout(Duration::from_secs(60)).is_err() {
        let log = std::fs::read_to_string(data.join(log_name)).unwrap_or_default();
        return Err(format!("the server did not start within 60 s; its log:\n{log}").into());
    }
    Ok(server)
}

async fn sign_in(client: &reqwest::Client, base: &str) -> TestResult<String> {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "account": "citizen", "password": "tongban-demo" }))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("sign-in: {}", response.status()).into());
    }
    let body: serde_json::Value = response.json().await?;
    Ok(body["token"].as_str().ok_or("no token")?.to_owned())
}

fn application(upload: &str) -> serde_json::Value {
    serde_json::json!({
        "item": ITEM,
        "answers": { "entrusted": "parent", "father_known": "no" },
        "form": {
            "child_name": "张小明",
            "child_sex": "男",
            "child_birth_date": "2026-03-01",
            "child_birth_place": "示范市妇幼保健院",
            "child_weight_grams": "3350",
            "mother_name": "王芳",
            "mother_id_number": "990102199006200045",
            "applicant_phone": "13900000001"
        },
        "materials": [
            { "code": "mother_id_card", "provided_as": "upload", "upload": upload },
            { "code": "birth_certificate_registration_form", "provided_as": "upload", "upload": upload },
            { "code": "delivery_record", "provided_as": "upload", "upload": upload }
        ],
        "delivery": { "method": "collect", "hall": "city-centre" }
    })
}

/// On PostgreSQL: the server URL, and a fresh database's URL and name.
struct Postgres {
    server: String,
    url: String,
    name: String,
}

async fn postgres() -> TestResult<Option<Postgres>> {
    let Some(server) = std::env::var("TONGBAN_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        return Ok(None);
    };
    // `tongban_t_…` like every test database (CI drops leftovers).
    let (url, name) = tongban_store::bench::create_postgres_database(&server, "tongban_t").await?;
    Ok(Some(Postgres {
        server,
        url: secrecy::ExposeSecret::expose_secret(&url).to_owned(),
        name,
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_application_is_lost_when_the_server_is_killed() -> TestResult {
    tokio::time::timeout(Duration::from_secs(120), scenario())
        .await
        .map_err(|_| "the kill test took more than 120 s")?
}

async fn scenario() -> TestResult {
    let folder = tempfile::tempdir()?;
    let postgres = postgres().await?;
    let database = postgres.as_ref().map(|p| p.url.clone());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()?;

    let mut server = start(folder.path(), database.as_deref(), true, "first.log")?;
    let token = sign_in(&client, &server.base).await?;
    let mut pdf = b"%PDF-1.4\n% kill test\n".to_vec();
    pdf.resize(16 * 1024, b' ');
    let upload: serde_json::Value = client
        .post(format!("{}/api/v1/uploads", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await?
        .json()
        .await?;
    let body = Arc::new(application(
        upload["upload"].as_str().ok_or("no upload key")?,
    ));

    // Clients submit until the kill; each keeps the case id and number of every 2xx answer.
    let acknowledged_so_far = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let client = client.clone();
        let url = format!("{}/api/v1/applications", server.base);
        let token = token.clone();
        let body = body.clone();
        let acknowledged_so_far = acknowledged_so_far.clone();
        let refused = refused.clone();
        let failed = failed.clone();
        let stop = stop.clone();
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&*body)
                    .send()
                    .await;
                let Ok(response) = answer else {
                    // Cut off by the kill: not acknowledged, so it may or may not be there.
                    // The server is gone; this client is done.
                    failed.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                if !response.status().is_success() {
                    refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let Ok(case) = response.json::<serde_json::Value>().await else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                let id = case["id"].as_str().unwrap_or_default().to_owned();
                let number = case["number"].as_str().unwrap_or_default().to_owned();
                acknowledged.push((id, number));
                acknowledged_so_far.fetch_add(1, Ordering::Relaxed);
            }
            acknowledged
        }));
    }
    tokio::time::sleep(LOAD).await;
    let during_load = acknowledged_so_far.load(Ordering::Relaxed);
    // SIGKILL while the clients are still sending.
    server.child.kill()?;
    server.child.wait()?;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await?);
    }
    drop(server);
    assert_eq!(
        refused.load(Ordering::Relaxed),
        0,
        "no application is refused under load"
    );
    assert!(
        during_load > 0 && acknowledged.len() >= 20,
        "only {} applications were acknowledged in {LOAD:?}",
        acknowledged.len()
    );

    // The same data, without --demo: nothing is loaded again.
    let server = start(folder.path(), database.as_deref(), false, "second.log")?;
    let token = sign_in(&client, &server.base).await?;
    let mut missing = Vec::new();
    for (id, number) in &acknowledged {
        let response = client
            .get(format!("{}/api/v1/cases/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await?;
        if !response.status().is_success() {
            missing.push(format!("{number} ({id}): {}", response.status()));
            continue;
        }
        let case: serde_json::Value = response.json().await?;
        assert_eq!(case["number"].as_str(), Some(number.as_str()));
    }
    println!(
        "{} applications acknowledged (2xx) before SIGKILL, {} requests cut off by it; {} missing after the restart",
        acknowledged.len(),
        failed.load(Ordering::Relaxed),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "acknowledged applications lost: {missing:?}"
    );
    drop(server);
    if let Some(postgres) = postgres {
        tongban_store::bench::drop_postgres_database(&postgres.server, &postgres.name).await?;
    }
    Ok(())
}
