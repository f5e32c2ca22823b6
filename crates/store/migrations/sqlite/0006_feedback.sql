-- Ratings (好差评) and rectification, the 12345 hotline, and the supervision rollups (SQLite).
-- Keep tables and columns identical to ../postgres/0006_feedback.sql (a test checks it).
-- Dates are ISO 'YYYY-MM-DD' text, months 'YYYY-MM'; times are Unix microseconds.

-- One row per rating. One first and at most one second rating per rated subject.
CREATE TABLE ratings (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    round INTEGER NOT NULL,
    level TEXT NOT NULL,
    score INTEGER NOT NULL,
    channel TEXT NOT NULL,
    text TEXT,
    anonymous BOOLEAN NOT NULL,
    rater TEXT NOT NULL,
    department TEXT NOT NULL,
    hall TEXT,
    window_key TEXT,
    item_code TEXT,
    region TEXT NOT NULL,
    rated_at BIGINT NOT NULL,
    UNIQUE (kind, subject, round)
);
CREATE INDEX ratings_by_rater ON ratings (rater, rated_at);
CREATE INDEX ratings_by_window ON ratings (window_key, rated_at);

-- 整改 tasks opened by bad ratings; `document` holds the whole task with its history.
CREATE TABLE rectifications (
    id BLOB PRIMARY KEY,
    rating_id BLOB NOT NULL UNIQUE REFERENCES ratings (id),
    subject TEXT NOT NULL,
    department TEXT NOT NULL,
    state TEXT NOT NULL,
    due_on TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    version BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX rectifications_by_department ON rectifications (department, state, due_on);
CREATE INDEX rectifications_by_state ON rectifications (state, due_on);

-- Ticket numbers: prefix = 'RX' + YYYYMMDD.
CREATE TABLE hotline_counters (
    prefix TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- 12345 tickets (工单); `document` is the whole ticket, the other columns are what lists filter on.
CREATE TABLE hotline_tickets (
    id BLOB PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    area TEXT NOT NULL,
    urgency TEXT NOT NULL,
    state TEXT NOT NULL,
    department TEXT,
    due_on TEXT,
    caller_account TEXT,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX hotline_tickets_by_state ON hotline_tickets (state, due_on);
CREATE INDEX hotline_tickets_by_department ON hotline_tickets (department, state, due_on);
CREATE INDEX hotline_tickets_by_caller ON hotline_tickets (caller_account, received_at);
CREATE INDEX hotline_tickets_by_category ON hotline_tickets (category, area, received_at);

-- Lead and co-handling departments of a ticket (协办), so that each finds it in its list.
CREATE TABLE hotline_ticket_departments (
    ticket_id BLOB NOT NULL REFERENCES hotline_tickets (id),
    department TEXT NOT NULL,
    PRIMARY KEY (ticket_id, department)
);
CREATE INDEX hotline_ticket_departments_by_department ON hotline_ticket_departments (department, ticket_id);

-- What each case contributes to the figures (tongban_domain::stats::CaseFact), kept in the same
-- transaction as the case's events; the rollups below change by the difference old → new.
CREATE TABLE case_facts (
    case_id BLOB PRIMARY KEY REFERENCES cases (id),
    region TEXT NOT NULL,
    department TEXT NOT NULL,
    hall TEXT NOT NULL,
    item_code TEXT NOT NULL,
    submitted_on TEXT,
    online BOOLEAN NOT NULL,
    decided_on TEXT,
    on_time BOOLEAN NOT NULL,
    immediate BOOLEAN NOT NULL,
    working_days INTEGER NOT NULL,
    promised_days INTEGER NOT NULL,
    statutory_days INTEGER NOT NULL,
    visits INTEGER NOT NULL
);

-- Monthly sums per department × hall × item (hall and item '' when not applicable); region is the
-- hall's region, else the department's. Every dashboard figure reads these few rows.
CREATE TABLE stats_monthly (
    month TEXT NOT NULL,
    department TEXT NOT NULL,
    hall TEXT NOT NULL,
    item_code TEXT NOT NULL,
    region TEXT NOT NULL,
    submitted BIGINT NOT NULL DEFAULT 0,
    submitted_online BIGINT NOT NULL DEFAULT 0,
    decided BIGINT NOT NULL DEFAULT 0,
    decided_on_time BIGINT NOT NULL DEFAULT 0,
    decided_immediate BIGINT NOT NULL DEFAULT 0,
    decided_days_sum BIGINT NOT NULL DEFAULT 0,
    decided_promised_sum BIGINT NOT NULL DEFAULT 0,
    decided_statutory_sum BIGINT NOT NULL DEFAULT 0,
    decided_zero_visit BIGINT NOT NULL DEFAULT 0,
    decided_one_visit BIGINT NOT NULL DEFAULT 0,
    ratings BIGINT NOT NULL DEFAULT 0,
    ratings_good BIGINT NOT NULL DEFAULT 0,
    ratings_bad BIGINT NOT NULL DEFAULT 0,
    ratings_very_satisfied BIGINT NOT NULL DEFAULT 0,
    ratings_very_dissatisfied BIGINT NOT NULL DEFAULT 0,
    rectifications BIGINT NOT NULL DEFAULT 0,
    rectifications_closed BIGINT NOT NULL DEFAULT 0,
    rectifications_on_time BIGINT NOT NULL DEFAULT 0,
    callbacks_due BIGINT NOT NULL DEFAULT 0,
    callbacks_done BIGINT NOT NULL DEFAULT 0,
    tickets BIGINT NOT NULL DEFAULT 0,
    tickets_closed BIGINT NOT NULL DEFAULT 0,
    tickets_replied BIGINT NOT NULL DEFAULT 0,
    tickets_replied_on_time BIGINT NOT NULL DEFAULT 0,
    tickets_called_back BIGINT NOT NULL DEFAULT 0,
    tickets_satisfied BIGINT NOT NULL DEFAULT 0,
    tickets_resolved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, department, hall, item_code)
);

-- Daily sums per department, for trend lines.
CREATE TABLE stats_daily (
    day TEXT NOT NULL,
    department TEXT NOT NULL,
    submitted BIGINT NOT NULL DEFAULT 0,
    submitted_online BIGINT NOT NULL DEFAULT 0,
    decided BIGINT NOT NULL DEFAULT 0,
    decided_on_time BIGINT NOT NULL DEFAULT 0,
    decided_immediate BIGINT NOT NULL DEFAULT 0,
    decided_days_sum BIGINT NOT NULL DEFAULT 0,
    decided_promised_sum BIGINT NOT NULL DEFAULT 0,
    decided_statutory_sum BIGINT NOT NULL DEFAULT 0,
    decided_zero_visit BIGINT NOT NULL DEFAULT 0,
    decided_one_visit BIGINT NOT NULL DEFAULT 0,
    ratings BIGINT NOT NULL DEFAULT 0,
    ratings_good BIGINT NOT NULL DEFAULT 0,
    ratings_bad BIGINT NOT NULL DEFAULT 0,
    ratings_very_satisfied BIGINT NOT NULL DEFAULT 0,
    ratings_very_dissatisfied BIGINT NOT NULL DEFAULT 0,
    rectifications BIGINT NOT NULL DEFAULT 0,
    rectifications_closed BIGINT NOT NULL DEFAULT 0,
    rectifications_on_time BIGINT NOT NULL DEFAULT 0,
    callbacks_due BIGINT NOT NULL DEFAULT 0,
    callbacks_done BIGINT NOT NULL DEFAULT 0,
    tickets BIGINT NOT NULL DEFAULT 0,
    tickets_closed BIGINT NOT NULL DEFAULT 0,
    tickets_replied BIGINT NOT NULL DEFAULT 0,
    tickets_replied_on_time BIGINT NOT NULL DEFAULT 0,
    tickets_called_back BIGINT NOT NULL DEFAULT 0,
    tickets_satisfied BIGINT NOT NULL DEFAULT 0,
    tickets_resolved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, department)
);

-- Histogram of working days from acceptance to decision per month and department (for p90).
CREATE TABLE stats_days_histogram (
    month TEXT NOT NULL,
    department TEXT NOT NULL,
    days INTEGER NOT NULL,
    cases BIGINT NOT NULL,
    PRIMARY KEY (month, department, days)
);
