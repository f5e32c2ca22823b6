//! Sign-in API (SPEC §2): `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`,
//! `GET /api/v1/auth/me`, and the administrator's API tokens for department systems under
//! `/api/v1/admin/api-tokens`. The rules live in [`crate::auth`]; these handlers only translate.

use std::fmt;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tongban_domain::cases::{Actor, ActorKind};
use tongban_domain::keys::DepartmentKey;
use tongban_domain::org::{Role, RoleAssignment};
use tongban_store::model::{ApiTokenRecord, NewApiToken};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, Authenticated, ClientAddress, CurrentActor};
use crate::error::{ApiError, ErrorBody, ErrorCode};

/// Adds the `bearer` security scheme (session tokens and API tokens) to the document.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token from POST /api/v1/auth/login, or a department \
                         system's API token (tbk_…) issued by an administrator.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Sign-in and sessions"),
        (name = "admin", description = "Administration: API tokens of department systems")
    )
)]
struct AuthDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(AuthDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_api_token, list_api_tokens))
        .routes(routes!(revoke_api_token))
}

/// Parses a JSON body into `T`; anything else is 400 `invalid_body` in the SPEC's error format.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidBody,
            format!("the body is not the expected JSON: {error}"),
        )
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account name, e.g. `citizen`.
    pub account: String,
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest").finish_non_exhaustive()
    }
}

/// A role with its scope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleView {
    /// `clerk`, `approver`, `chief_representative`, `agent`, `hotline_operator`, `dispatcher`,
    /// `handler`, `administrator` or `supervisor`.
    pub role: String,
    pub department: Option<String>,
    pub hall: Option<String>,
    pub region: Option<String>,
}

/// Who is signed in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    pub account: String,
    pub name: String,
    /// `person`, `enterprise`, `staff` or `system`.
    pub kind: String,
    pub roles: Vec<RoleView>,
}

fn kind_name(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::Person => "person",
        ActorKind::Enterprise => "enterprise",
        ActorKind::Staff => "staff",
        ActorKind::System => "system",
    }
}

fn role_name(role: Role) -> String {
    match serde_json::to_value(role) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{role:?}"),
    }
}

fn role_view(assignment: &RoleAssignment) -> RoleView {
    RoleView {
        role: role_name(assignment.role),
        department: assignment.department.as_ref().map(ToString::to_string),
        hall: assignment.hall.as_ref().map(ToString::to_string),
        region: assignment.region.as_ref().map(|r| r.as_str().to_owned()),
    }
}

/// The public view of an actor (no ID number).
pub fn account_view(actor: &Actor) -> AccountView {
    AccountView {
        account: actor.account.to_string(),
        name: actor.name.clone(),
        kind: kind_name(actor.kind).to_owned(),
        roles: actor.roles.iter().map(role_view).collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// RFC 3339 UTC; the session lasts 12 hours.
    pub expires_at: String,
    pub account: AccountView,
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("expires_at", &self.expires_at)
            .field("account", &self.account.account)
            .finish_non_exhaustive()
    }
}

/// Signs in with an account and password and returns a session token. Five failed attempts for
/// one account in five minutes (or thirty from one address) lock further attempts for the rest
/// of the five minutes.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "The body is not `{account, password}`", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`: unknown account, wrong password or disabled account", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    body: Bytes,
) -> Result<Json<LoginResponse>, ApiError> {
    let request: LoginRequest = json_body(&body)?;
    let signed_in = auth::sign_in(&state, &request.account, &request.password, client).await?;
    let actor = auth::actor_of(signed_in.profile);
    Ok(Json(LoginResponse {
        token: signed_in.token,
        expires_at: signed_in.expires_at.to_string(),
        account: account_view(&actor),
    }))
}

/// Ends the session of the token (or of the page cookie, with `X-CSRF-Token`).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out; the token no longer works"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` for an API token, `csrf_failed` for a cookie without the header", body = ErrorBody),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    authenticated: Authenticated,
) -> Result<StatusCode, ApiError> {
    auth::sign_out(&state, &authenticated.credential).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the credentials belong to, with roles and their scopes.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in account", body = AccountView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    ))]
pub async fn me(CurrentActor(actor): CurrentActor) -> Json<AccountView> {
    Json(account_view(&actor))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiTokenRequest {
    /// The department whose system uses the token, e.g. `city-police`.
    pub department: String,
    /// What the token is for, e.g. "公安审批系统" (1–100 characters).
    pub name: String,
}

/// An API token without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTokenView {
    pub id: uuid::Uuid,
    pub department: String,
    pub name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC; null while the token works.
    pub revoked_at: Option<String>,
}

fn token_view(record: &ApiTokenRecord) -> ApiTokenView {
    ApiTokenView {
        id: record.id,
        department: record.department.to_string(),
        name: record.name.clone(),
        created_at: record.created_at.to_string(),
        revoked_at: record.revoked_at.map(|t| t.to_string()),
    }
}

/// A new API token, with its secret (shown this once).
#[derive(Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// Send it as `Authorization: Bearer <token>`; it is not shown again.
    pub token: String,
    #[serde(flatten)]
    pub api_token: ApiTokenView,
}

impl fmt::Debug for CreatedApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedApiToken")
            .field("api_token", &self.api_token)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenList {
    pub api_tokens: Vec<ApiTokenView>,
}

/// Issues an API token for a department system (administrators only). The system then acts as
/// an approver and chief representative of that department.
#[utoipa::path(post, path = "/api/v1/admin/api-tokens", tag = "admin",
    security(("bearer" = [])),
    request_body = NewApiTokenRequest,
    responses(
        (status = 201, description = "The token, shown once", body = CreatedApiToken),
        (status = 400, description = "`invalid_body` or unknown department (`invalid_key`)", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
    ))]
pub async fn create_api_token(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let request: NewApiTokenRequest = json_body(&body)?;
    let department = DepartmentKey::parse(&request.department)
        .ok()
        .filter(|key| state.lookup.get().department(key).is_some())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidKey,
                format!("{:?} is not a department", request.department),
            )
        })?;
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "name must be 1 to 100 characters",
        ));
    }
    let token = auth::new_api_token()?;
    let record = state
        .store
        .accounts
        .create_api_token(&NewApiToken {
            token_hash: auth::token_hash(&token),
            department,
            name,
            created_at: state.clock.now(),
        })
        .await?;
    tracing::info!(api_token.id = %record.id, api_token.department = %record.department, "api token issued");
    let body = CreatedApiToken {
        token,
        api_token: token_view(&record),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Every API token, revoked ones included, without secrets (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/api-tokens", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Oldest first", body = ApiTokenList),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
    ))]
pub async fn list_api_tokens(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<ApiTokenList>, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let tokens = state.store.accounts.list_api_tokens().await?;
    Ok(Json(ApiTokenList {
        api_tokens: tokens.iter().map(token_view).collect(),
    }))
}

/// Revokes an API token at once (administrators only).
#[utoipa::path(delete, path = "/api/v1/admin/api-tokens/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "`invalid_query`: not a UUID", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such token, or already revoked", body = ErrorBody),
    ))]
pub async fn revoke_api_token(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth::require_role(&actor, Role::Administrator)?;
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| ApiError::invalid_parameter("id", &id, "an API token id (UUID)"))?;
    if !state
        .store
        .accounts
        .revoke_api_token(id, state.clock.now())
        .await?
    {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "there is no working API token with this id",
        ));
    }
    tracing::info!(api_token.id = %id, "api token revoked");
    Ok(StatusCode::NO_CONTENT)
}
