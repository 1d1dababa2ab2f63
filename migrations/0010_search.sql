-- Workspace search: a trigram index on file contents narrows a search to the files
-- that can match (LIKE and ILIKE on the literals a query must contain); the server
-- then matches lines itself, with Rust's regex syntax. A server without pg_trgm
-- (PostgreSQL's contrib) still searches, reading every file.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX workspace_items_content_trgm ON workspace_items USING gin (content gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%); searches read every file', SQLERRM;
END
$$;
