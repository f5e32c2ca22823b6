//! What the account port stores and returns: sign-in accounts, sessions and the API tokens of
//! department systems.
//!
//! Secrets never leave as text a log could print: password hashes and token hashes are kept out
//! of the `Debug` output, and so are names and ID numbers (personal data stays out of logs).

use std::fmt;

use jiff::Timestamp;
use tongban_domain::cases::ActorKind;
use tongban_domain::keys::{AccountName, DepartmentKey};
use tongban_domain::org::RoleAssignment;

/// An account to create or replace (`AccountStore::upsert_accounts`).
#[derive(Clone)]
pub struct NewAccount {
    pub account: AccountName,
    pub kind: ActorKind,
    pub display_name: String,
    /// ID number (persons) or unified social credit code (enterprises).
    pub identifier: Option<String>,
    /// An Argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("account", &self.account)
            .field("kind", &self.kind)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Who an account is: everything needed to build an `Actor`, with the roles from `staff_roles`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountProfile {
    pub account: AccountName,
    pub kind: ActorKind,
    pub display_name: String,
    pub identifier: Option<String>,
    pub disabled: bool,
    /// In the order of the organisation data; empty for persons and enterprises.
    pub roles: Vec<RoleAssignment>,
}

impl fmt::Debug for AccountProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountProfile")
            .field("account", &self.account)
            .field("kind", &self.kind)
            .field("disabled", &self.disabled)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A stored account with its password hash, for signing in.
#[derive(Clone)]
pub struct AccountRecord {
    pub profile: AccountProfile,
    pub password_hash: String,
    pub created_at: Timestamp,
}

impl fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRecord")
            .field("profile", &self.profile)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A session to store. Only the SHA-256 of the token is kept: a copy of the database does not
/// let anyone sign in.
#[derive(Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub account: AccountName,
    /// The page session's CSRF token (compared with the hidden form field or `X-CSRF-Token`).
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("account", &self.account)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An unexpired session with the profile of its account.
#[derive(Clone)]
pub struct SessionRecord {
    pub profile: AccountProfile,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("profile", &self.profile)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An API token to store for a department system; only the SHA-256 of the token is kept.
#[derive(Clone)]
pub struct NewApiToken {
    pub token_hash: String,
    pub department: DepartmentKey,
    /// What the token is for, e.g. "公安审批系统".
    pub name: String,
    pub created_at: Timestamp,
}

impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken")
            .field("department", &self.department)
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A stored API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: uuid::Uuid,
    pub department: DepartmentKey,
    pub name: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}
