-- Webhooks: department systems subscribe to outbox topics; the dispatcher fans each outbox
-- message out to one delivery per matching subscription and posts it, signed, with retries
-- (SQLite). Keep tables and columns identical to ../postgres/0004_webhooks.sql (a test checks it).

-- A department system's endpoint. `topics` is a comma-separated list of topic prefixes
-- (e.g. `case.`); the secret signs every delivery (HMAC-SHA256) and is shown once at creation.
CREATE TABLE webhook_subscriptions (
    id BLOB PRIMARY KEY,
    department TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    topics TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_by_department ON webhook_subscriptions (department, active);

-- One outbox message for one subscription. The unique pair makes fan-out idempotent: a repeated
-- fan-out of the same message (after a crash, or by a second dispatcher) inserts nothing.
-- status: pending | delivered | dead.
CREATE TABLE webhook_deliveries (
    id BLOB PRIMARY KEY,
    subscription_id BLOB NOT NULL REFERENCES webhook_subscriptions (id),
    message_id BLOB NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    last_status INTEGER,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (subscription_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- How far the fan-out has read the outbox: the (created_at, id) of the last message it handled.
CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY,
    after_created_at BIGINT NOT NULL,
    after_id BLOB NOT NULL
);
