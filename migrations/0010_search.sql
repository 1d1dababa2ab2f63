-- Workspace search. A trigram index narrows a search to the files that can match
-- (LIKE and ILIKE on the literals a query must contain); the server then matches
-- lines itself, in Rust's regex syntax. The index is kept on a copy of the files
-- that the server brings up to date in the background (a trigram index on the
-- files themselves made every save of a large file several times slower); files
-- changed since the copy was last brought up to date are searched directly.
CREATE TABLE search_docs (
    item_id    BIGINT PRIMARY KEY REFERENCES workspace_items (id) ON DELETE CASCADE,
    session_id BIGINT NOT NULL,
    hash       TEXT   NOT NULL,
    content    TEXT   NOT NULL
);
CREATE INDEX search_docs_session_idx ON search_docs (session_id);

-- Files whose content changed since the copy was made of them: the server takes
-- them from here (a queue, so a change committed late is never skipped).
CREATE TABLE search_queue (
    id         BIGSERIAL PRIMARY KEY,
    session_id BIGINT NOT NULL,
    file_key   BIGINT NOT NULL
);

CREATE FUNCTION workspace_items_queue_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'file'
       AND (TG_OP = 'INSERT' OR NEW.content_hash IS DISTINCT FROM OLD.content_hash) THEN
        INSERT INTO search_queue (session_id, file_key) VALUES (NEW.session_id, NEW.file_key);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER workspace_items_search
    AFTER INSERT OR UPDATE OF content_hash ON workspace_items
    FOR EACH ROW EXECUTE FUNCTION workspace_items_queue_search();

INSERT INTO search_queue (session_id, file_key)
SELECT session_id, file_key FROM workspace_items WHERE kind = 'file';

DO $$
BEGIN
    ALTER TABLE search_docs ALTER COLUMN content SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression unavailable (%)', SQLERRM;
END
$$;

-- Without pg_trgm (PostgreSQL's contrib) searches still work, reading every file.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX search_docs_trgm_idx ON search_docs USING gin (content gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%); searches read every file', SQLERRM;
END
$$;
