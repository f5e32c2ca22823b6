-- Posted results (SPEC C5), SQLite. Keep tables and columns identical to
-- ../postgres/0009_delivery.sql (a test checks it).
--
-- A shipment with its carrier's reports lives in its case's document; this table indexes every
-- posting (one row per case and posting, `seq` = its position in the case's shipments from 0),
-- written in the same transaction as the case, so that a carrier's report finds its cases by
-- tracking number. Several cases of one applicant may share a number (their results travel in
-- one parcel, 一窗出件).
CREATE TABLE case_shipments (
    case_id BLOB NOT NULL REFERENCES cases (id),
    seq INTEGER NOT NULL,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    applicant_identifier TEXT NOT NULL,
    status TEXT NOT NULL,
    shipped_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_shipments_by_number ON case_shipments (carrier, tracking_number);
