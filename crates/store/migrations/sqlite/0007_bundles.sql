-- Bundle applications (一件事): the parent cases. Their children are rows of `cases` whose
-- `parent_id` is the parent's id. Keep identical to ../postgres/0007_bundles.sql.
CREATE TABLE bundle_cases (
    id BLOB PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    bundle_code TEXT NOT NULL,
    applicant_identifier TEXT NOT NULL,
    applicant_account TEXT,
    state TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    promised_due TEXT,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX bundle_cases_by_applicant ON bundle_cases (applicant_identifier, submitted_at);
CREATE INDEX bundle_cases_by_bundle ON bundle_cases (bundle_code, submitted_at);
