//! `TestApp`: the real router served on 127.0.0.1:0 over a fresh demo store, with small request
//! helpers. Helpers panic with the request in the message instead of returning errors, so that a
//! failing test names the call that failed.

use std::sync::{Arc, LazyLock};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinHandle;
use tongban_domain::clock::FixedClock;
use tongban_store::files::DataSet;
use tongban_store::testing::{TestStore, demo_data, test_time};
use tongban_web::App;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 出生医学证明首次签发, the item most tests look at.
pub const BIRTH_CERTIFICATE: &str = "11990100004213675N2000101000000";

/// The demo data set, loaded once for the expectations of every test.
pub fn demo() -> &'static DataSet {
    static DEMO: LazyLock<DataSet> = LazyLock::new(demo_data);
    &DEMO
}

/// A running server over its own store; the server stops when the value is dropped.
#[derive(Debug)]
pub struct TestApp {
    base: String,
    client: reqwest::Client,
    server: JoinHandle<()>,
    /// The server's state, for tests that change the catalog behind the API (publishing).
    pub state: tongban_web::AppState,
    // Kept alive for the test: the temporary folder (SQLite) or the fresh database.
    _store: TestStore,
}

impl TestApp {
    /// A fresh demo store, the real router with a fixed clock, served on an ephemeral port.
    pub async fn start() -> Result<TestApp, Box<dyn std::error::Error>> {
        let test_store = TestStore::with_demo().await?;
        let app = App::new(
            test_store.store.clone(),
            Arc::new(FixedClock::at(test_time())),
        )
        .await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let router = app.router();
        let state = app.state().clone();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                eprintln!("the test server stopped: {error}");
            }
        });
        // Redirects are checked by the tests themselves, never followed.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(TestApp {
            base: format!("http://{address}"),
            client,
            server,
            state,
            _store: test_store,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` (path and query, starting with `/`).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// `GET path` with a `Cookie` header.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, Some(cookie)).await
    }

    /// Any method, without a body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// `GET path`, expecting a JSON body whatever the status.
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        json_of(path, self.get(path).await).await
    }

    /// `GET path`, expecting 200 and a JSON body.
    pub async fn ok_json(&self, path: &str) -> Value {
        let (status, body) = self.get_json(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// `GET path`, expecting an HTML page whatever the status.
    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        html_of(path, self.get(path).await).await
    }

    /// `GET path`, expecting the error `code` with `status`; returns the error body.
    pub async fn expect_error(&self, path: &str, status: u16, code: &str) -> Value {
        let (actual, body) = self.get_json(path).await;
        assert_eq!(actual.as_u16(), status, "GET {path}: {body}");
        assert_error_shape(path, &body);
        assert_eq!(body["error"]["code"], code, "GET {path}: {body}");
        body
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Reads a JSON response, checking its content type.
pub async fn json_of(path: &str, response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = content_type(&response);
    assert!(
        content_type.starts_with("application/json"),
        "GET {path}: expected JSON, got {content_type:?} ({status})"
    );
    let body = response
        .json::<Value>()
        .await
        .unwrap_or_else(|error| panic!("GET {path}: the body is not JSON: {error}"));
    (status, body)
}

/// Reads an HTML response, checking its content type.
pub async fn html_of(path: &str, response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let content_type = content_type(&response);
    assert!(
        content_type.starts_with("text/html"),
        "GET {path}: expected HTML, got {content_type:?} ({status})"
    );
    let body = response
        .text()
        .await
        .unwrap_or_else(|error| panic!("GET {path}: cannot read the body: {error}"));
    (status, body)
}

pub fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The SPEC's error format and nothing else:
/// `{"error": {"code": "snake_case", "message": "…", "details": {…}}}`.
pub fn assert_error_shape(path: &str, body: &Value) {
    let outer = body
        .as_object()
        .unwrap_or_else(|| panic!("GET {path}: the error body is not an object: {body}"));
    assert_eq!(
        outer.keys().collect::<Vec<_>>(),
        ["error"],
        "GET {path}: {body}"
    );
    let error = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("GET {path}: `error` is not an object: {body}"));
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "details", "message"], "GET {path}: {body}");
    let code = error["code"].as_str().unwrap_or_default();
    assert!(
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "GET {path}: the code is not snake_case: {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "GET {path}: the message is missing: {body}"
    );
    assert!(
        error["details"].is_object(),
        "GET {path}: details is not an object: {body}"
    );
}

/// The strings of a JSON array of objects at `field`, e.g. the codes of a list.
pub fn strings(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|entry| {
            entry[field]
                .as_str()
                .unwrap_or_else(|| panic!("no string {field} in {entry}"))
                .to_owned()
        })
        .collect()
}
