-- Cases whose contribution to the supervision rollups has not been folded in yet (SQLite).
-- Keep tables and columns identical to ../postgres/0012_stats_pending.sql (a test checks it).
--
-- Every insert into `cases` and every change of a case's version leaves a row here, written by
-- the triggers below inside the case's own transaction, so no committed change is missed. A
-- folder (`StatsStore::fold_pending`, run in the background and before every rollup query)
-- recomputes each pending case's fact, moves the rollup rows by the difference in one batch,
-- and deletes the rows it folded, unless the case changed again meanwhile (the version differs).
CREATE TABLE stats_pending (
    case_id BLOB PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE TRIGGER cases_pending_on_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO stats_pending (case_id, version) VALUES (NEW.id, NEW.version)
    ON CONFLICT (case_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER cases_pending_on_update AFTER UPDATE OF version ON cases
BEGIN
    INSERT INTO stats_pending (case_id, version) VALUES (NEW.id, NEW.version)
    ON CONFLICT (case_id) DO UPDATE SET version = excluded.version;
END;
