-- Agents (帮办代办): registrations in the 区—街道—社区 network, mandates (委托) and home-visit
-- requests (SQLite). Keep tables and columns identical to ../postgres/0008_agents.sql (a test
-- checks it). `document` holds the whole record; the other columns are what queries filter on.

-- One row per agent account.
CREATE TABLE agents (
    account TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    region TEXT NOT NULL,
    hall TEXT,
    active BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX agents_by_region ON agents (region, level);

-- principal: the applicant's ID number or credit code. Days are ISO 'YYYY-MM-DD' text.
CREATE TABLE mandates (
    id BLOB PRIMARY KEY,
    agent TEXT NOT NULL,
    principal TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX mandates_by_agent ON mandates (agent, principal, created_at);
CREATE INDEX mandates_by_principal ON mandates (principal, created_at);

-- state: requested | scheduled | done | cancelled. The address and phone live in the document
-- only (personal data).
CREATE TABLE home_visits (
    id BLOB PRIMARY KEY,
    version BIGINT NOT NULL,
    hall TEXT NOT NULL,
    state TEXT NOT NULL,
    person TEXT NOT NULL,
    agent TEXT,
    planned_at BIGINT,
    requested_at BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX home_visits_by_hall ON home_visits (hall, state, requested_at);
CREATE INDEX home_visits_by_agent ON home_visits (agent, planned_at);
CREATE INDEX home_visits_by_person ON home_visits (person, requested_at);
