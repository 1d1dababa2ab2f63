-- Files and folders of a session's workspace. Postgres is the source of truth;
-- sandboxes hold copies.
CREATE TABLE workspace_items (
    id           BIGSERIAL PRIMARY KEY,
    session_id   BIGINT      NOT NULL,
    -- NULL for items at the workspace root.
    parent_id    BIGINT      REFERENCES workspace_items (id) ON DELETE CASCADE,
    -- Denormalised for lookups by the public id (sync, sockets) without a join.
    session_uuid UUID        NOT NULL,
    name         TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 255
                                             AND position('/' IN name) = 0),
    kind         TEXT        NOT NULL CHECK (kind IN ('file', 'folder')),
    content      TEXT,
    -- Relative to the workspace root, without a leading slash: "src/main.py".
    full_path    TEXT        NOT NULL CHECK (length(full_path) BETWEEN 1 AND 4096),
    size_bytes   BIGINT      NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    -- Hex SHA-256 of content; the base every save is checked against.
    content_hash TEXT        CHECK (content_hash IS NULL OR length(content_hash) = 64),
    version      INTEGER     NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT workspace_items_session_fkey FOREIGN KEY (session_id, session_uuid)
        REFERENCES code_sessions (id, uuid) ON DELETE CASCADE,
    -- Folders carry no content; files always do (possibly empty) with its hash.
    CONSTRAINT workspace_items_content_check CHECK (
        (kind = 'folder' AND content IS NULL AND content_hash IS NULL)
        OR (kind = 'file' AND content IS NOT NULL AND content_hash IS NOT NULL)),
    CONSTRAINT workspace_items_path_key UNIQUE (session_id, full_path)
);

-- Names are unique per folder; root items (parent_id NULL) count as one folder.
CREATE UNIQUE INDEX workspace_items_name_key
    ON workspace_items (session_id, COALESCE(parent_id, 0), name);
CREATE INDEX workspace_items_parent_idx ON workspace_items (session_id, parent_id);
CREATE INDEX workspace_items_uuid_idx ON workspace_items (session_uuid);
