-- Verified documents (已核验材料, SPEC C3 once-only), SQLite. Keep tables and columns identical to
-- ../postgres/0010_verified_documents.sql (a test checks it).
--
-- A material a window clerk checked for one case, reusable by reference for the holder's later
-- applications while `valid_until` (ISO date) has not passed and it is not revoked. Written in the
-- same transaction as the case change that checked it (pre-review, acceptance); a check of the
-- same material for the same case again replaces it. `document` is the whole document.
CREATE TABLE verified_documents (
    id BLOB PRIMARY KEY,
    holder TEXT NOT NULL,
    material_code TEXT NOT NULL,
    source_case_id BLOB NOT NULL REFERENCES cases (id),
    department TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    valid_until TEXT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT,
    document TEXT NOT NULL,
    UNIQUE (holder, material_code, source_case_id)
);
CREATE INDEX verified_documents_by_holder ON verified_documents (holder, material_code);
CREATE INDEX verified_documents_by_case ON verified_documents (source_case_id);
