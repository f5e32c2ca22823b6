//! Sign-in and "who is asking" (SPEC §2 sign-in contract, §3 security), in one place.
//!
//! Three credentials are accepted, and every handler gets the result as a domain
//! [`Actor`](tongban_domain::cases::Actor) through an extractor:
//!
//! - `Authorization: Bearer <session token>`: from `POST /api/v1/auth/login`, valid for
//!   [`SESSION_HOURS`] hours;
//! - `Authorization: Bearer tbk_…`: a department system's long-lived API token, issued by an
//!   administrator; it acts as a [`System`](tongban_domain::cases::ActorKind::System) actor with
//!   the approver and chief-representative roles of its department;
//! - the page session cookie [`SESSION_COOKIE`] (HttpOnly, SameSite=Lax), set by the `/login`
//!   page.
//!
//! Tokens are 32 random bytes from the operating system, base64url; the store keeps only their
//! SHA-256, so a copy of the database signs nobody in. Passwords are Argon2id PHC strings.
//!
//! CSRF: every session has its own CSRF token. Pages put it in a hidden `csrf` field and check
//! it with [`verify_csrf`]; API requests authenticated by the cookie (not by a Bearer token) that
//! change something must send it in the [`CSRF_HEADER`] header, or they are refused here. The
//! login form itself has no session yet, so it uses a double-submit cookie ([`LOGIN_CSRF_COOKIE`]).
//!
//! Sign-in is throttled per account and per client address
//! ([`SignInThrottle`](tongban_domain::access::SignInThrottle)). Nothing here logs a password,
//! a token, a name or an ID number.
//!
//! ```
//! use tongban_web::auth::{CurrentActor, MaybeActor};
//!
//! // 401 `unauthenticated` before the handler runs when there are no valid credentials.
//! async fn whoami(CurrentActor(actor): CurrentActor) -> String {
//!     actor.account.to_string()
//! }
//! // Anonymous requests get `None`.
//! async fn greeting(MaybeActor(actor): MaybeActor) -> String {
//!     actor.map_or_else(|| "你好".to_owned(), |actor| format!("你好,{}", actor.name))
//! }
//! let _routes: axum::Router<tongban_web::AppState> = axum::Router::new()
//!     .route("/whoami", axum::routing::get(whoami))
//!     .route("/greeting", axum::routing::get(greeting));
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use tongban_domain::access::{Limit, SignInThrottle, department_system_actor};
use tongban_domain::cases::{Actor, ActorKind};
use tongban_domain::keys::AccountName;
use tongban_domain::org::Role;
use tongban_store::model::{AccountProfile, NewAccount, NewSession, SessionRecord};
use tongban_store::{Store, StoreError};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// The page session cookie.
pub const SESSION_COOKIE: &str = "tb_session";
/// The login form's double-submit CSRF cookie (there is no session yet to hold a token).
pub const LOGIN_CSRF_COOKIE: &str = "tb_csrf";
/// The header that carries the session's CSRF token on cookie-authenticated API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// The password of every demo account (`serve --demo`, `catalog import --demo`).
pub const DEMO_PASSWORD: &str = "tongban-demo";
/// API tokens start with this, so that one lookup finds them and secret scanners spot them.
const API_TOKEN_PREFIX: &str = "tbk_";
/// Longer passwords are refused without hashing them (Argon2 of megabytes is a cheap attack).
const MAX_PASSWORD_BYTES: usize = 1024;

/// Sign-in state shared by the handlers: the throttle.
#[derive(Debug, Clone)]
pub struct AuthState {
    throttle: Arc<Mutex<SignInThrottle>>,
}

impl Default for AuthState {
    fn default() -> Self {
        AuthState {
            throttle: Arc::new(Mutex::new(SignInThrottle::new(
                Limit::per_account(),
                Limit::per_client(),
            ))),
        }
    }
}

impl AuthState {
    fn with_throttle<T>(&self, work: impl FnOnce(&mut SignInThrottle) -> T) -> T {
        // A panic while holding the lock leaves counters that are still meaningful.
        let mut throttle = self.throttle.lock().unwrap_or_else(PoisonError::into_inner);
        work(&mut throttle)
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// 32 random bytes from the operating system, base64url without padding (43 characters).
pub fn random_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| ApiError::internal(&error))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
    }
    hex
}

/// A new API token (shown once to the administrator who creates it).
pub fn new_api_token() -> Result<String, ApiError> {
    Ok(format!("{API_TOKEN_PREFIX}{}", random_secret()?))
}

/// Compares two secrets in time that depends on their length only.
pub fn same_secret(sent: &str, expected: &str) -> bool {
    let (sent, expected) = (sent.as_bytes(), expected.as_bytes());
    if sent.len() != expected.len() || expected.is_empty() {
        return false;
    }
    let mut difference = 0u8;
    for (a, b) in sent.iter().zip(expected) {
        difference |= a ^ b;
    }
    difference == 0
}

/// Hashing a password failed (the operating system gave no randomness, or Argon2 refused).
#[derive(Debug, thiserror::Error)]
#[error("cannot hash a password: {0}")]
pub struct PasswordHashError(String);

/// An Argon2id PHC string with default parameters and a random salt. Slow on purpose: call it
/// from a blocking task.
pub fn hash_password(password: &str) -> Result<String, PasswordHashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordHashError(error.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash to verify against when the account does not exist, so that an unknown account takes
/// as long to refuse as a wrong password and does not reveal which accounts exist.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_password("no account has this password").ok());

// ---------------------------------------------------------------------------------------------
// Demo accounts

/// Creating the demo accounts failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoAccountsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] PasswordHashError),
    #[error("the hashing task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Agents(#[from] crate::services::agents::DemoAgentsError),
}

/// Creates (or resets) a sign-in account with the password [`DEMO_PASSWORD`] for every staff
/// member, person and enterprise of the stored organisation that has an account name, and
/// registers the demo agents with their mandates (`data/demo/agents.toml`, see
/// [`crate::services::agents::load_demo`]). Call it after importing the demo data; the generic
/// import creates no accounts. Returns how many accounts were written.
pub async fn create_demo_accounts(store: &Store, at: Timestamp) -> Result<u64, DemoAccountsError> {
    let organisation = store.catalog.organisation().await?;
    // One hash, reused for every demo account. Sharing a salt is acceptable only because every
    // demo account shares the one published demo password anyway; real accounts get their own
    // salt from `hash_password`.
    let password_hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD))
        .await
        .map_err(|error| DemoAccountsError::Task(error.to_string()))??;
    let mut accounts = Vec::new();
    for member in &organisation.staff {
        accounts.push(NewAccount {
            account: member.account.clone(),
            kind: ActorKind::Staff,
            display_name: member.name.clone(),
            identifier: None,
            password_hash: password_hash.clone(),
            disabled: false,
        });
    }
    for person in &organisation.persons {
        if let Some(account) = &person.account {
            accounts.push(NewAccount {
                account: account.clone(),
                kind: ActorKind::Person,
                display_name: person.name.clone(),
                identifier: Some(person.id_number.as_str().to_owned()),
                password_hash: password_hash.clone(),
                disabled: false,
            });
        }
    }
    for enterprise in &organisation.enterprises {
        if let Some(account) = &enterprise.account {
            accounts.push(NewAccount {
                account: account.clone(),
                kind: ActorKind::Enterprise,
                display_name: enterprise.name.clone(),
                identifier: Some(enterprise.credit_code.as_str().to_owned()),
                password_hash: password_hash.clone(),
                disabled: false,
            });
        }
    }
    let written = store.accounts.upsert_accounts(&accounts, at).await?;
    crate::services::agents::load_demo(store, at).await?;
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

/// The client's address, when the server was started with connect info (`tongban serve` is).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
        ))
    }
}

impl ClientAddress {
    fn throttle_key(&self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

/// A successful sign-in: the token (shown once), the session's CSRF token and who signed in.
#[derive(Clone)]
pub struct SignedIn {
    pub token: String,
    pub csrf: String,
    pub expires_at: Timestamp,
    pub profile: AccountProfile,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("profile", &self.profile)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The account name as the throttle counts it: what was typed, trimmed, lowercased, bounded.
fn throttle_account_key(account: &str) -> String {
    account.trim().to_lowercase().chars().take(64).collect()
}

/// Checks the password and opens a session. Unknown account, wrong password and disabled
/// account all give the same `invalid_credentials`; too many failures give `too_many_attempts`
/// before any password is checked.
pub async fn sign_in(
    state: &AppState,
    account: &str,
    password: &str,
    client: ClientAddress,
) -> Result<SignedIn, ApiError> {
    let now = state.clock.now();
    let account_key = throttle_account_key(account);
    let client_key = client.throttle_key();
    let throttled = state
        .auth
        .with_throttle(|throttle| throttle.check(&account_key, &client_key, now));
    if let Err(throttled) = throttled {
        let seconds = throttled.retry_at.duration_since(now).as_secs().max(1);
        tracing::warn!(retry_after_s = seconds, "sign-in throttled");
        return Err(ApiError::new(
            ErrorCode::TooManyAttempts,
            "too many failed sign-in attempts; try again later",
        )
        .with_details(serde_json::json!({ "retry_after_seconds": seconds })));
    }
    let record = match AccountName::parse(&account_key) {
        Ok(name) => state.store.accounts.find_account(&name).await?,
        Err(_) => None,
    };
    let stored_hash = record.as_ref().map(|r| r.password_hash.clone());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        match stored_hash {
            Some(hash) => password_matches(&password, &hash),
            None => {
                if let Some(dummy) = DUMMY_HASH.as_deref() {
                    password_matches(&password, dummy);
                }
                false
            }
        }
    })
    .await
    .map_err(|error| ApiError::internal(&error))?;
    let record = match record {
        Some(record) if matches && !record.profile.disabled => record,
        _ => {
            state
                .auth
                .with_throttle(|throttle| throttle.record_failure(&account_key, &client_key, now));
            tracing::info!("sign-in refused");
            return Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "the account or the password is wrong",
            ));
        }
    };
    state
        .auth
        .with_throttle(|throttle| throttle.record_success(&account_key));
    let token = random_secret()?;
    let csrf = random_secret()?;
    // Whole seconds, so that the RFC 3339 text clients see is exactly what is stored.
    let expires_at = now + SignedDuration::from_hours(SESSION_HOURS);
    let expires_at = Timestamp::from_second(expires_at.as_second()).unwrap_or(expires_at);
    state
        .store
        .accounts
        .create_session(&NewSession {
            token_hash: token_hash(&token),
            account: record.profile.account.clone(),
            csrf_token: csrf.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(account.kind = ?record.profile.kind, "signed in");
    Ok(SignedIn {
        token,
        csrf,
        expires_at,
        profile: record.profile,
    })
}

/// Ends a session (the token or cookie no longer authenticates).
pub async fn sign_out(state: &AppState, session: &Credential) -> Result<(), ApiError> {
    match session {
        Credential::BearerSession { token_hash } | Credential::CookieSession { token_hash, .. } => {
            state.store.accounts.delete_session(token_hash).await?;
            tracing::info!("signed out");
            Ok(())
        }
        Credential::ApiToken { .. } => Err(ApiError::new(
            ErrorCode::Forbidden,
            "an API token is not signed out; an administrator revokes it",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Who is asking

/// How the request authenticated.
#[derive(Clone)]
pub enum Credential {
    /// A session token in `Authorization: Bearer`.
    BearerSession { token_hash: String },
    /// The page session cookie, with the session's CSRF token.
    CookieSession { token_hash: String, csrf: String },
    /// A department system's API token.
    ApiToken { id: uuid::Uuid },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::BearerSession { .. } => f.write_str("BearerSession"),
            Credential::CookieSession { .. } => f.write_str("CookieSession"),
            Credential::ApiToken { id } => f.debug_struct("ApiToken").field("id", id).finish(),
        }
    }
}

/// An authenticated request: the actor and the credential it used. Extracting it requires
/// credentials (401 `unauthenticated` without); `POST /api/v1/auth/logout` uses it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub credential: Credential,
}

/// The signed-in actor; 401 `unauthenticated` without valid credentials. The usual extractor of
/// API handlers: `CurrentActor(actor): CurrentActor`.
#[derive(Debug, Clone)]
pub struct CurrentActor(pub Actor);

/// The actor when there are valid credentials, `None` for anonymous requests. A Bearer token
/// that is unknown, expired or revoked is still refused (401): a client that sends credentials
/// wants to be told they are wrong. A stale page cookie is ignored.
#[derive(Debug, Clone)]
pub struct MaybeActor(pub Option<Actor>);

/// Refuses unless the actor holds the role (for any department); 403 `forbidden`.
pub fn require_role(actor: &Actor, role: Role) -> Result<(), ApiError> {
    if actor.has_role(role, None) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        "your account may not do this",
    ))
}

/// The actor of an account profile.
pub fn actor_of(profile: AccountProfile) -> Actor {
    Actor {
        account: profile.account,
        name: profile.display_name,
        kind: profile.kind,
        roles: profile.roles,
        identifier: profile.identifier,
        acting_for: None,
    }
}

/// The value of a cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, message)
}

fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, ApiError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let parsed = value
        .to_str()
        .ok()
        .and_then(|text| text.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    Some(parsed.ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`")))
}

/// The unexpired session of a token, if its account is not disabled.
async fn live_session(
    state: &AppState,
    token: &str,
) -> Result<Option<(String, SessionRecord)>, StoreError> {
    let hash = token_hash(token);
    let session = state
        .store
        .accounts
        .find_session(&hash, state.clock.now())
        .await?;
    Ok(session
        .filter(|session| !session.profile.disabled)
        .map(|session| (hash, session)))
}

async fn by_bearer(state: &AppState, token: &str) -> Result<Option<Authenticated>, ApiError> {
    if token.starts_with(API_TOKEN_PREFIX) {
        let Some(record) = state
            .store
            .accounts
            .find_api_token(&token_hash(token))
            .await?
        else {
            return Ok(None);
        };
        let account = AccountName::parse(&format!("api-{}", record.id.simple()))
            .map_err(|error| ApiError::internal(&error))?;
        return Ok(Some(Authenticated {
            actor: department_system_actor(account, record.name, record.department),
            credential: Credential::ApiToken { id: record.id },
        }));
    }
    Ok(live_session(state, token)
        .await?
        .map(|(token_hash, session)| Authenticated {
            actor: actor_of(session.profile),
            credential: Credential::BearerSession { token_hash },
        }))
}

fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The request's credentials, resolved once per request (kept in the request's extensions).
async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<Authenticated>, ApiError> {
    if let Some(resolved) = parts.extensions.get::<Authenticated>() {
        return Ok(Some(resolved.clone()));
    }
    let resolved = resolve(parts, state).await?;
    if let Some(resolved) = &resolved {
        parts.extensions.insert(resolved.clone());
    }
    Ok(resolved)
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Authenticated>, ApiError> {
    if let Some(token) = bearer_token(&parts.headers) {
        let found = by_bearer(state, token?).await?;
        return match found {
            Some(found) => Ok(Some(found)),
            None => Err(unauthenticated(
                "the token is unknown, expired or revoked; sign in again",
            )),
        };
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((token_hash, session)) = live_session(state, token).await? else {
        return Ok(None);
    };
    // A browser sends the cookie with any request, including one a foreign page triggers; an API
    // write on the strength of the cookie alone must prove it comes from our own page.
    if parts.uri.path().starts_with("/api/") && changes_something(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !same_secret(sent, &session.csrf_token) {
            return Err(ApiError::new(
                ErrorCode::CsrfFailed,
                "a request signed in by cookie must carry the session's X-CSRF-Token header",
            ));
        }
    }
    Ok(Some(Authenticated {
        actor: actor_of(session.profile),
        credential: Credential::CookieSession {
            token_hash,
            csrf: session.csrf_token,
        },
    }))
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state)
            .await?
            .ok_or_else(|| unauthenticated("sign in first (POST /api/v1/auth/login)"))
    }
}

impl FromRequestParts<AppState> for CurrentActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authenticated = Authenticated::from_request_parts(parts, state).await?;
        Ok(CurrentActor(authenticated.actor))
    }
}

impl FromRequestParts<AppState> for MaybeActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authenticated = authenticate(parts, state).await?;
        Ok(MaybeActor(authenticated.map(|a| a.actor)))
    }
}

// ---------------------------------------------------------------------------------------------
// Pages

/// A page request's session (from the cookie only): the actor and the CSRF token that the page's
/// forms put in their hidden `csrf` field. Without a session, pages that require one redirect to
/// `/login?next=…`.
#[derive(Clone)]
pub struct PageSession {
    pub actor: Actor,
    pub csrf: String,
    token_hash: String,
}

impl fmt::Debug for PageSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageSession")
            .field("account", &self.actor.account)
            .finish_non_exhaustive()
    }
}

impl PageSession {
    /// The credential, for signing out.
    pub fn credential(&self) -> Credential {
        Credential::CookieSession {
            token_hash: self.token_hash.clone(),
            csrf: self.csrf.clone(),
        }
    }
}

/// The page session when there is one.
#[derive(Debug, Clone)]
pub struct MaybePageSession(pub Option<PageSession>);

async fn page_session(parts: &Parts, state: &AppState) -> Result<Option<PageSession>, ApiError> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(live_session(state, token)
        .await?
        .map(|(token_hash, session)| PageSession {
            csrf: session.csrf_token,
            actor: actor_of(session.profile),
            token_hash,
        }))
}

impl FromRequestParts<AppState> for MaybePageSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match page_session(parts, state).await {
            Ok(session) => Ok(MaybePageSession(session)),
            Err(error) => Err(error.into_response()),
        }
    }
}

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match page_session(parts, state).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                Err(
                    Redirect::to(&format!("/login?next={}", encode_query_value(&here)))
                        .into_response(),
                )
            }
            Err(error) => Err(error.into_response()),
        }
    }
}

/// Checks a form's hidden `csrf` field against the page session; 403 `csrf_failed` otherwise.
pub fn verify_csrf(form_value: &str, session: &PageSession) -> Result<(), ApiError> {
    if same_secret(form_value, &session.csrf) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::CsrfFailed,
        "the form has expired or did not come from this site; reload the page and try again",
    ))
}

/// Only a local path may be a redirect target (`/x`, never `//host` or `https://host`).
pub fn local_target(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/")
        .to_owned()
}

/// Percent-encodes a value for a query string (unreserved characters and `/` stay).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/; `max_age` in seconds (0 deletes).
pub fn set_cookie(name: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_hash_is_the_sha256_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secrets_are_43_url_safe_characters_and_differ() {
        let first = random_secret().unwrap();
        let second = random_secret().unwrap();
        assert_eq!(first.len(), 43);
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(first, second);
    }

    #[test]
    fn secrets_compare_equal_only_when_identical_and_never_when_empty() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("tongban-demo").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("tongban-demo", &hash));
        assert!(!password_matches("tongban-dem0", &hash));
        assert!(!password_matches("tongban-demo", "not a phc string"));
    }

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(local_target(Some("/items?q=1")), "/items?q=1");
        assert_eq!(local_target(Some("//evil.example")), "/");
        assert_eq!(local_target(Some("https://evil.example")), "/");
        assert_eq!(local_target(Some("/\\evil.example")), "/");
        assert_eq!(local_target(None), "/");
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("lang=en; tb_session_old=x; tb_session=abc"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, LOGIN_CSRF_COOKIE), None);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query_value("/items?q=出生"),
            "/items%3Fq%3D%E5%87%BA%E7%94%9F"
        );
    }
}
