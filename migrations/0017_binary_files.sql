-- Binary files: their bytes in `data` with a media type, beside text files'
-- `content`. A file holds exactly one of the two; its hash is of its bytes either way.
ALTER TABLE workspace_items
    ADD COLUMN data BYTEA,
    ADD COLUMN media_type TEXT CHECK (media_type IS NULL OR length(media_type) BETWEEN 1 AND 255);

ALTER TABLE workspace_items DROP CONSTRAINT workspace_items_content_check;
ALTER TABLE workspace_items ADD CONSTRAINT workspace_items_content_check CHECK (
    (kind = 'folder' AND content IS NULL AND data IS NULL AND media_type IS NULL
         AND content_hash IS NULL)
    OR (kind = 'file' AND content_hash IS NOT NULL
        AND ((content IS NOT NULL AND data IS NULL AND media_type IS NULL)
             OR (content IS NULL AND data IS NOT NULL AND media_type IS NOT NULL))));

-- Images and archives are compressed already: lz4 gives up on them quickly.
DO $$
BEGIN
    ALTER TABLE workspace_items ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression unavailable (%); binary files keep pglz', SQLERRM;
END
$$;

-- History keeps binary versions as it keeps text: the bytes, once per hash.
CREATE OR REPLACE FUNCTION workspace_items_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> 'file'
       OR (TG_OP = 'UPDATE' AND NEW.content_hash IS NOT DISTINCT FROM OLD.content_hash) THEN
        RETURN NULL;
    END IF;
    INSERT INTO blobs (session_id, hash, size, data)
    VALUES (NEW.session_id, NEW.content_hash, NEW.size_bytes,
            COALESCE(NEW.data, convert_to(NEW.content, 'UTF8')))
    ON CONFLICT (session_id, hash) DO NOTHING;
    INSERT INTO file_versions (session_id, file_key, version, path, hash, size, source, author_id)
    VALUES (NEW.session_id, NEW.file_key, NEW.version, NEW.full_path, NEW.content_hash,
            NEW.size_bytes, NEW.change_source, NEW.changed_by);
    RETURN NULL;
END
$$;
