-- The organisation and the versioned catalog (SQLite).
-- Timestamps are Unix microseconds (BIGINT) on both engines; ids are UUIDv7.
-- Keep tables and columns identical to ../postgres/0001_catalog.sql (a test checks it).

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent TEXT
);

CREATE TABLE departments (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    phone TEXT
);

CREATE TABLE halls (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    region TEXT NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE skill_groups (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE windows (
    key TEXT PRIMARY KEY,
    hall TEXT NOT NULL REFERENCES halls (key),
    number TEXT NOT NULL,
    kind TEXT NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE staff (
    account TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE staff_roles (
    id BLOB PRIMARY KEY,
    account TEXT NOT NULL REFERENCES staff (account),
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    department TEXT,
    hall TEXT,
    region TEXT
);
CREATE INDEX staff_roles_by_account ON staff_roles (account);

-- Citizens and enterprises (kind = 'person' | 'enterprise'); identifier is the ID number or credit code.
CREATE TABLE parties (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    account TEXT UNIQUE,
    identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE themes (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    audience TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE data_elements (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE licence_types (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type_code TEXT NOT NULL,
    definition TEXT NOT NULL
);

-- An item's stable identity; its content lives in item_versions.
CREATE TABLE items (
    id BLOB PRIMARY KEY,
    implementation_code TEXT NOT NULL UNIQUE,
    basic_code TEXT NOT NULL,
    published_version INTEGER,
    created_at BIGINT NOT NULL
);

CREATE TABLE item_versions (
    item_id BLOB NOT NULL REFERENCES items (id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    item_type TEXT NOT NULL,
    level TEXT NOT NULL,
    department TEXT NOT NULL,
    case_type TEXT NOT NULL,
    visits INTEGER NOT NULL,
    online_capable BOOLEAN NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_at BIGINT,
    PRIMARY KEY (item_id, version)
);
CREATE UNIQUE INDEX item_versions_one_draft ON item_versions (item_id) WHERE status = 'draft';
CREATE UNIQUE INDEX item_versions_one_published ON item_versions (item_id) WHERE status = 'published';
CREATE INDEX item_versions_published_by_department ON item_versions (department) WHERE status = 'published';

CREATE TABLE item_version_themes (
    item_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    theme TEXT NOT NULL,
    PRIMARY KEY (item_id, version, theme)
);
CREATE INDEX item_version_themes_by_theme ON item_version_themes (theme);

CREATE TABLE item_version_objects (
    item_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    service_object TEXT NOT NULL,
    PRIMARY KEY (item_id, version, service_object)
);

CREATE TABLE bundles (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    published_version INTEGER,
    created_at BIGINT NOT NULL
);

CREATE TABLE bundle_versions (
    bundle_id BLOB NOT NULL REFERENCES bundles (id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    lead_department TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_at BIGINT,
    PRIMARY KEY (bundle_id, version)
);
CREATE UNIQUE INDEX bundle_versions_one_draft ON bundle_versions (bundle_id) WHERE status = 'draft';
CREATE UNIQUE INDEX bundle_versions_one_published ON bundle_versions (bundle_id) WHERE status = 'published';

CREATE TABLE bundle_version_members (
    bundle_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    item_code TEXT NOT NULL,
    PRIMARY KEY (bundle_id, version, item_code)
);
CREATE INDEX bundle_version_members_by_item ON bundle_version_members (item_code);
