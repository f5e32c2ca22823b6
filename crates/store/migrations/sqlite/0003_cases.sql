-- Cases, their events, the outbox, licences, the audit log and the data-access log (SQLite).
-- Keep tables and columns identical to ../postgres/0003_cases.sql (a test checks it).
-- Dates (accepted_on, due dates, validity) are ISO 'YYYY-MM-DD' text, which sorts as dates.

-- Process definitions (catalog data, like themes and data elements).
CREATE TABLE workflows (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    definition TEXT NOT NULL
);

-- 办件编号 sequences: prefix = 实施编码 + YYYYMMDD.
CREATE TABLE case_counters (
    prefix TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- One row per case; `document` is the whole case, the other columns are what lists filter on.
CREATE TABLE cases (
    id BLOB PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    parent_id BLOB,
    item_code TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    department TEXT NOT NULL,
    applicant_identifier TEXT NOT NULL,
    applicant_account TEXT,
    hall TEXT,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    step INTEGER,
    submitted_at BIGINT NOT NULL,
    accepted_on TEXT,
    promised_due TEXT,
    statutory_due TEXT,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX cases_inbox ON cases (state, department, promised_due, id);
CREATE INDEX cases_by_applicant ON cases (applicant_identifier, submitted_at);
CREATE INDEX cases_by_hall ON cases (hall, submitted_at);
CREATE INDEX cases_by_item ON cases (item_code, submitted_at);
CREATE INDEX cases_by_submitted ON cases (submitted_at, id);
CREATE INDEX cases_by_parent ON cases (parent_id);

-- Co-implementing departments of a case, so that their approvers find it in lists (会签).
CREATE TABLE case_departments (
    case_id BLOB NOT NULL REFERENCES cases (id),
    department TEXT NOT NULL,
    PRIMARY KEY (case_id, department)
);
CREATE INDEX case_departments_by_department ON case_departments (department, case_id);

CREATE TABLE case_events (
    case_id BLOB NOT NULL REFERENCES cases (id),
    seq INTEGER NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    department TEXT,
    public BOOLEAN NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_events_by_time ON case_events (at);

-- Messages written in the same transaction as the change they announce; delivered by webhooks.
CREATE TABLE outbox (
    id BLOB PRIMARY KEY,
    topic TEXT NOT NULL,
    case_id BLOB,
    department TEXT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_by_created ON outbox (created_at, id);

CREATE TABLE licences (
    id BLOB PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    type_key TEXT NOT NULL,
    holder_identifier TEXT NOT NULL,
    issuer TEXT NOT NULL,
    case_id BLOB,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    issued_at BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX licences_by_holder ON licences (holder_identifier, type_key);

-- Every staff action.
CREATE TABLE audit_log (
    id BLOB PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    department TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, at);
CREATE INDEX audit_log_by_target ON audit_log (target, at);

-- Every read of a person's data by someone else; the person sees their own log.
CREATE TABLE data_access_log (
    id BLOB PRIMARY KEY,
    at BIGINT NOT NULL,
    subject TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    department TEXT,
    case_id BLOB,
    purpose TEXT NOT NULL,
    what TEXT NOT NULL
);
CREATE INDEX data_access_log_by_subject ON data_access_log (subject, at);
