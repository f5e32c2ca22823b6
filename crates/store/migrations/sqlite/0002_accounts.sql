-- Sign-in (SQLite): accounts, sessions, and the long-lived API tokens of department systems.
-- Timestamps are Unix microseconds; tokens are stored only as their SHA-256 (hex), passwords as
-- Argon2id PHC strings. Roles are not here: they come from staff_roles.
-- Keep tables and columns identical to ../postgres/0002_accounts.sql (a test checks it).

CREATE TABLE accounts (
    account TEXT PRIMARY KEY,
    -- person | enterprise | staff | system
    kind TEXT NOT NULL CHECK (kind IN ('person', 'enterprise', 'staff', 'system')),
    display_name TEXT NOT NULL,
    -- The ID number or the unified social credit code of a person or an enterprise.
    identifier TEXT,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (account),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    department TEXT NOT NULL REFERENCES departments (key),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
