-- One index on the session and the content's trigrams (btree_gin, from PostgreSQL's
-- contrib, beside pg_trgm): the planner takes it for a session's search, whereas
-- with separate indexes it often read the whole copy table, unable to see what
-- reading every TOASTed content costs. Where either extension is missing the
-- indexes of 0010 stay.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS btree_gin;
        CREATE INDEX search_docs_session_trgm_idx ON search_docs
            USING gin (session_id, content gin_trgm_ops);
        DROP INDEX IF EXISTS search_docs_trgm_idx;
        DROP INDEX IF EXISTS search_docs_session_idx;
    END IF;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'btree_gin unavailable (%); the separate indexes stay', SQLERRM;
END
$$;
