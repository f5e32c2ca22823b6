-- Documents compressed with lz4 instead of pglz (PostgreSQL only; SQLite does not compress). A
-- case document (about 3 KB of JSON) is compressed again on every update of the case row, and
-- pglz was the largest single cost of the server in `tongban bench lifecycle`; lz4 takes a
-- fraction of its CPU for a little less compression. Only values written from now on are
-- compressed with it. A server built without lz4 (or older than 14) keeps pglz.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type IN ('jsonb', 'text')
          AND table_name NOT LIKE '\_sqlx\_%'
        ORDER BY table_name, column_name
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET COMPRESSION lz4',
                       col.table_name, col.column_name);
    END LOOP;
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    RAISE NOTICE 'lz4 compression is not available on this server; documents stay compressed with pglz';
END
$$;
